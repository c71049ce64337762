use std::time::Duration;

use anb_domain::ports::{JobQueue, QueueError};
use anb_domain::{JobId, JobPayload, LeaseToken, LeasedJob, QueueDepth};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;
use sqlx::Row;

use crate::sql::lease_outcome;

/// The durable job queue in PostgreSQL's `jobs` table (`db://`). Workers claim jobs with
/// `FOR UPDATE SKIP LOCKED`, so concurrent consumers never block on or share a job; times come
/// from the database's clock, so every worker agrees on lease expiry. Several named queues can
/// share one table.
#[derive(Clone, Debug)]
pub struct PostgresQueue {
    pool: PgPool,
    queue: String,
}

impl PostgresQueue {
    /// The queue called `queue` in the database behind `pool`.
    pub fn new(pool: PgPool, queue: impl Into<String>) -> Self {
        Self {
            pool,
            queue: queue.into(),
        }
    }
}

/// Milliseconds in a duration, for `make_interval`.
fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[async_trait]
impl JobQueue for PostgresQueue {
    async fn enqueue(&self, payload: &JobPayload, delay: Duration) -> Result<JobId, QueueError> {
        let id = JobId::new();
        sqlx::query(
            "INSERT INTO jobs (id, queue, payload, state, due_at, created_at) \
             VALUES ($1, $2, $3, 'waiting', now() + make_interval(secs => $4::float8 / 1000), now())",
        )
        .bind(id.as_uuid())
        .bind(&self.queue)
        .bind(payload.to_json())
        .bind(millis(delay))
        .execute(&self.pool)
        .await
        .context("enqueueing a job")?;
        Ok(id)
    }

    async fn lease(&self, lease_for: Duration) -> Result<Option<LeasedJob>, QueueError> {
        let token = LeaseToken::new();
        let row = sqlx::query(
            "UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_token = $2, \
             due_at = now() + make_interval(secs => $3::float8 / 1000) \
             WHERE id = (SELECT id FROM jobs WHERE queue = $1 AND state IN ('waiting', 'leased') \
                         AND due_at <= now() ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, payload, attempts, due_at",
        )
        .bind(&self.queue)
        .bind(token.as_uuid())
        .bind(millis(lease_for))
        .fetch_optional(&self.pool)
        .await
        .context("leasing a job")?;
        let Some(row) = row else { return Ok(None) };
        let payload: String = row.try_get("payload").context("payload")?;
        Ok(Some(LeasedJob {
            id: JobId::from_uuid(row.try_get("id").context("id")?),
            payload: JobPayload::from_json(&payload).context("decoding a job payload")?,
            attempt: row.try_get::<i32, _>("attempts").context("attempts")? as u32,
            lease: token,
            leased_until: row.try_get("due_at").context("due_at")?,
        }))
    }

    async fn heartbeat(
        &self,
        job: JobId,
        lease: LeaseToken,
        extend_by: Duration,
    ) -> Result<DateTime<Utc>, QueueError> {
        let until: Option<DateTime<Utc>> = sqlx::query_scalar(
            "UPDATE jobs SET due_at = now() + make_interval(secs => $4::float8 / 1000) \
             WHERE id = $1 AND queue = $2 AND state = 'leased' AND lease_token = $3 \
             AND due_at > now() RETURNING due_at",
        )
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .bind(millis(extend_by))
        .fetch_optional(&self.pool)
        .await
        .context("extending a lease")?;
        until.ok_or(QueueError::LeaseLost)
    }

    async fn ack(&self, job: JobId, lease: LeaseToken) -> Result<(), QueueError> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE id = $1 AND queue = $2 AND state = 'leased' AND lease_token = $3",
        )
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected());
        lease_outcome(done, "acknowledging a job")
    }

    async fn retry(
        &self,
        job: JobId,
        lease: LeaseToken,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'waiting', lease_token = NULL, \
             due_at = now() + make_interval(secs => $4::float8 / 1000) \
             WHERE id = $1 AND queue = $2 AND state = 'leased' AND lease_token = $3",
        )
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .bind(millis(delay))
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected());
        lease_outcome(done, "scheduling a retry")
    }

    async fn fail(&self, job: JobId, lease: LeaseToken, reason: &str) -> Result<(), QueueError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_token = NULL, last_error = $4 \
             WHERE id = $1 AND queue = $2 AND state = 'leased' AND lease_token = $3",
        )
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .bind(reason)
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected());
        lease_outcome(done, "failing a job")
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let row = sqlx::query(
            "SELECT \
               count(*) FILTER (WHERE state IN ('waiting', 'leased') AND due_at <= now()), \
               count(*) FILTER (WHERE state = 'waiting' AND due_at > now()), \
               count(*) FILTER (WHERE state = 'leased' AND due_at > now()), \
               count(*) FILTER (WHERE state = 'failed') \
             FROM jobs WHERE queue = $1",
        )
        .bind(&self.queue)
        .fetch_one(&self.pool)
        .await
        .context("measuring the queue")?;
        let n = |i: usize| -> Result<u64, QueueError> {
            Ok(row.try_get::<i64, _>(i).context("a count")? as u64)
        };
        Ok(QueueDepth {
            ready: n(0)?,
            scheduled: n(1)?,
            leased: n(2)?,
            failed: n(3)?,
        })
    }
}
