use std::sync::Arc;
use std::time::Duration;

use crate::sql::OrFault as _;
use anb_domain::ports::{Clock, JobQueue, QueueError, SystemClock};
use anb_domain::{JobId, JobPayload, LeaseToken, LeasedJob, QueueDepth};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::rows::micros;
use super::{begin_write, SqliteDatabase};
use crate::sql::{distinct_payloads, in_given_order, lease_outcome};

/// The durable job queue in SQLite's `jobs` table (`db://` on the embedded default). Each
/// operation is one statement, atomic under SQLite's single writer; jobs survive restarts.
#[derive(Clone)]
pub struct SqliteQueue {
    db: SqliteDatabase,
    queue: String,
    clock: Arc<dyn Clock>,
}

impl SqliteQueue {
    /// The queue called `queue` in `db`, on the system clock.
    pub fn new(db: SqliteDatabase, queue: impl Into<String>) -> Self {
        Self {
            db,
            queue: queue.into(),
            clock: Arc::new(SystemClock),
        }
    }

    fn now_plus(&self, d: Duration) -> i64 {
        let now = micros(self.clock.now());
        now.saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }
}

#[async_trait]
impl JobQueue for SqliteQueue {
    async fn enqueue(&self, payload: &JobPayload, delay: Duration) -> Result<JobId, QueueError> {
        let id = JobId::new();
        sqlx::query(
            "INSERT INTO jobs (id, queue, payload, state, due_at, created_at) \
             VALUES (?, ?, ?, 'waiting', ?, ?)",
        )
        .bind(id.as_uuid())
        .bind(&self.queue)
        .bind(payload.to_json())
        .bind(self.now_plus(delay))
        .bind(self.now_plus(Duration::ZERO))
        .execute(self.db.writer())
        .await
        .fault("enqueueing a job")?;
        Ok(id)
    }

    async fn enqueue_missing(
        &self,
        payloads: &[JobPayload],
        delay: Duration,
    ) -> Result<Vec<JobPayload>, QueueError> {
        let (payloads, json) = distinct_payloads(payloads);
        let (due_at, now) = (self.now_plus(delay), self.now_plus(Duration::ZERO));
        // One transaction on the single writer: restores take turns, each seeing the last.
        let mut tx = begin_write(&self.db).await?;
        let mut added = Vec::new();
        for payload in json {
            let inserted: Option<String> = sqlx::query_scalar(
                "INSERT INTO jobs (id, queue, payload, state, due_at, created_at) \
                 SELECT ?1, ?2, ?3, 'waiting', ?4, ?5 WHERE NOT EXISTS (\
                     SELECT 1 FROM jobs WHERE queue = ?2 AND payload = ?3 \
                     AND state IN ('waiting', 'leased')) \
                 RETURNING payload",
            )
            .bind(JobId::new().as_uuid())
            .bind(&self.queue)
            .bind(payload)
            .bind(due_at)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .fault("enqueueing a missing job")?;
            added.extend(inserted);
        }
        tx.commit().await.fault("committing a restore")?;
        Ok(in_given_order(payloads, &added))
    }

    async fn lease(&self, lease_for: Duration) -> Result<Option<LeasedJob>, QueueError> {
        let token = LeaseToken::new();
        let now = self.now_plus(Duration::ZERO);
        let row = sqlx::query(
            "UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_token = ?1, due_at = ?2 \
             WHERE id = (SELECT id FROM jobs WHERE queue = ?3 AND state IN ('waiting', 'leased') \
                         AND due_at <= ?4 ORDER BY due_at, id LIMIT 1) \
             RETURNING id, payload, attempts, due_at",
        )
        .bind(token.as_uuid())
        .bind(self.now_plus(lease_for))
        .bind(&self.queue)
        .bind(now)
        .fetch_optional(self.db.writer())
        .await
        .fault("leasing a job")?;
        let Some(row) = row else { return Ok(None) };
        let payload: String = row.try_get("payload").fault("payload")?;
        let until: i64 = row.try_get("due_at").fault("due_at")?;
        Ok(Some(LeasedJob {
            id: JobId::from_uuid(row.try_get("id").fault("id")?),
            payload: JobPayload::from_json(&payload).context("decoding a job payload")?,
            attempt: row.try_get::<i64, _>("attempts").fault("attempts")? as u32,
            lease: token,
            leased_until: DateTime::from_timestamp_micros(until).context("lease expiry")?,
        }))
    }

    async fn heartbeat(
        &self,
        job: JobId,
        lease: LeaseToken,
        extend_by: Duration,
    ) -> Result<DateTime<Utc>, QueueError> {
        let until: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET due_at = ?1 WHERE id = ?2 AND queue = ?3 AND state = 'leased' \
             AND lease_token = ?4 AND due_at > ?5 RETURNING due_at",
        )
        .bind(self.now_plus(extend_by))
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .bind(self.now_plus(Duration::ZERO))
        .fetch_optional(self.db.writer())
        .await
        .fault("extending a lease")?;
        let until = until.ok_or(QueueError::LeaseLost)?;
        Ok(DateTime::from_timestamp_micros(until).context("lease expiry")?)
    }

    async fn ack(&self, job: JobId, lease: LeaseToken) -> Result<(), QueueError> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE id = ? AND queue = ? AND state = 'leased' AND lease_token = ?",
        )
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .execute(self.db.writer())
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
            "UPDATE jobs SET state = 'waiting', lease_token = NULL, due_at = ? \
             WHERE id = ? AND queue = ? AND state = 'leased' AND lease_token = ?",
        )
        .bind(self.now_plus(delay))
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .execute(self.db.writer())
        .await
        .map(|r| r.rows_affected());
        lease_outcome(done, "scheduling a retry")
    }

    async fn fail(&self, job: JobId, lease: LeaseToken, reason: &str) -> Result<(), QueueError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_token = NULL, last_error = ? \
             WHERE id = ? AND queue = ? AND state = 'leased' AND lease_token = ?",
        )
        .bind(reason)
        .bind(job.as_uuid())
        .bind(&self.queue)
        .bind(lease.as_uuid())
        .execute(self.db.writer())
        .await
        .map(|r| r.rows_affected());
        lease_outcome(done, "failing a job")
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let row = sqlx::query(
            "SELECT \
               count(*) FILTER (WHERE state IN ('waiting', 'leased') AND due_at <= ?1), \
               count(*) FILTER (WHERE state = 'waiting' AND due_at > ?1), \
               count(*) FILTER (WHERE state = 'leased' AND due_at > ?1), \
               count(*) FILTER (WHERE state = 'failed') \
             FROM jobs WHERE queue = ?2",
        )
        .bind(self.now_plus(Duration::ZERO))
        .bind(&self.queue)
        .fetch_one(self.db.reader())
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
