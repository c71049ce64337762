use std::time::Duration;

use crate::sql::OrFault as _;
use anb_domain::ports::{JobQueue, QueueError};
use anb_domain::{JobId, JobPayload, LeaseToken, LeasedJob, QueueDepth};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;
use sqlx::Row;

use uuid::Uuid;

use crate::sql::{distinct_payloads, in_given_order, lease_outcome};

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
        .fault("enqueueing a job")?;
        Ok(id)
    }

    async fn enqueue_missing(
        &self,
        payloads: &[JobPayload],
        delay: Duration,
    ) -> Result<Vec<JobPayload>, QueueError> {
        if payloads.is_empty() {
            return Ok(Vec::new());
        }
        let (payloads, json) = distinct_payloads(payloads);
        let ids: Vec<Uuid> = json.iter().map(|_| JobId::new().as_uuid()).collect();
        let mut tx = self.pool.begin().await.fault("starting a restore")?;
        // Restores of one queue take turns (the lock ends with the transaction), so each sees
        // what the one before it added.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('anb.jobs.restore:' || $1, 0))")
            .bind(&self.queue)
            .execute(&mut *tx)
            .await
            .fault("waiting for other restores")?;
        let added: Vec<String> = sqlx::query_scalar(
            "INSERT INTO jobs (id, queue, payload, state, due_at, created_at) \
             SELECT w.id, $1, w.payload, 'waiting', \
                    now() + make_interval(secs => $4::float8 / 1000), now() \
             FROM unnest($2::uuid[], $3::text[]) AS w(id, payload) \
             WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.queue = $1 \
                               AND j.payload = w.payload AND j.state IN ('waiting', 'leased')) \
             RETURNING payload",
        )
        .bind(&self.queue)
        .bind(&ids)
        .bind(&json)
        .bind(millis(delay))
        .fetch_all(&mut *tx)
        .await
        .fault("enqueueing the missing jobs")?;
        tx.commit().await.fault("committing a restore")?;
        Ok(in_given_order(payloads, &added))
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
        .fault("leasing a job")?;
        let Some(row) = row else { return Ok(None) };
        let payload: String = row.try_get("payload").fault("payload")?;
        Ok(Some(LeasedJob {
            id: JobId::from_uuid(row.try_get("id").fault("id")?),
            payload: JobPayload::from_json(&payload).context("decoding a job payload")?,
            attempt: row.try_get::<i32, _>("attempts").fault("attempts")? as u32,
            lease: token,
            leased_until: row.try_get("due_at").fault("due_at")?,
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
        .fault("extending a lease")?;
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
        .fault("measuring the queue")?;
        let n = |i: usize| -> Result<u64, QueueError> {
            Ok(row.try_get::<i64, _>(i).fault("a count")? as u64)
        };
        Ok(QueueDepth {
            ready: n(0)?,
            scheduled: n(1)?,
            leased: n(2)?,
            failed: n(3)?,
        })
    }
}
