//! [`JobQueue`] in the database's `jobs` table (`db://`), written once for both databases.
//!
//! Every time is the database's own clock, so every worker agrees on lease expiry however far
//! their clocks drift. Concurrent consumers never share a job: on PostgreSQL the claiming
//! subquery skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`); on SQLite each
//! operation is one statement on the single writer. Several named queues can share the table.

use std::time::Duration;

use anb_domain::ports::{JobQueue, QueueError};
use anb_domain::{JobId, JobPayload, LeaseToken, LeasedJob, QueueDepth};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::records::{distinct_payloads, in_given_order, lease_outcome};
use super::{SqlTime, Store};

/// The longest delay or lease the queue stores (1000 years, as the Redis queue), so that every
/// due time stays within both databases' range.
const MAX_MILLIS: i64 = 1000 * 365 * 24 * 60 * 60 * 1000;

/// A duration in whole milliseconds, capped at [`MAX_MILLIS`].
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).map_or(MAX_MILLIS, |ms| ms.min(MAX_MILLIS))
}

/// The durable job queue called `queue` in the `jobs` table of a SQL database:
/// [`PostgresQueue`](crate::postgres::PostgresQueue) and [`SqliteQueue`](crate::sqlite::SqliteQueue).
#[derive(Clone, Debug)]
pub struct Queue<D: Dialect> {
    store: Store<D>,
    queue: String,
}

impl<D: Dialect> Queue<D> {
    /// The queue called `queue` on `pools` (as [`Store::new`](super::Store::new)'s).
    pub fn new(pools: D::Pools, queue: impl Into<String>) -> Self {
        Self {
            store: Store::new(pools),
            queue: queue.into(),
        }
    }

    /// Runs a write guarded by the lease (`$1` job, `$2` queue, `$3` token, then `extra`'s).
    async fn fenced(
        &self,
        sql: &str,
        job: JobId,
        lease: LeaseToken,
        extra: Option<ExtraArg>,
        doing: &'static str,
    ) -> Result<(), QueueError> {
        let query = sqlx::query::<D::Db>(sql)
            .arg(job.as_uuid())
            .arg(self.queue.clone())
            .arg(lease.as_uuid());
        let query = match extra {
            None => query,
            Some(ExtraArg::Millis(ms)) => query.arg(ms),
            Some(ExtraArg::Text(text)) => query.arg(text),
        };
        let mut conn = self.store.write().await?;
        lease_outcome(driver::execute(query, &mut conn).await, doing)
    }
}

/// The fourth argument of a fenced write.
enum ExtraArg {
    Millis(i64),
    Text(String),
}

#[async_trait]
impl<D: Dialect> JobQueue for Queue<D> {
    async fn enqueue(
        &self,
        payload: &JobPayload,
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<JobId, QueueError> {
        let id = JobId::new();
        let sql = format!(
            "INSERT INTO jobs (id, queue, payload, trace_context, state, due_at, created_at) \
             VALUES ($1, $2, $3, $5, 'waiting', {}, {})",
            D::now_plus("$4"),
            D::NOW
        );
        let query = sqlx::query::<D::Db>(&sql)
            .arg(id.as_uuid())
            .arg(self.queue.clone())
            .arg(payload.to_json())
            .arg(millis(delay))
            .arg(trace_context.map(str::to_owned));
        let mut conn = self.store.write().await?;
        driver::execute(query, &mut conn)
            .await
            .fault("enqueueing a job")?;
        Ok(id)
    }

    async fn enqueue_missing(
        &self,
        payloads: &[JobPayload],
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<Vec<JobPayload>, QueueError> {
        let (payloads, json) = distinct_payloads(payloads);
        if payloads.is_empty() {
            return Ok(Vec::new());
        }
        // One statement: the given jobs (`$4`, `$5`, … in pairs of id and payload) that no live
        // job of the queue carries already, each with the trace context `$3`.
        let rows = (0..json.len())
            .map(|i| format!("(${}, ${})", 4 + 2 * i, 5 + 2 * i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO jobs (id, queue, payload, trace_context, state, due_at, created_at) \
             SELECT w.column1, $1, w.column2, $3, 'waiting', {}, {} FROM (VALUES {rows}) AS w \
             WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.queue = $1 \
                               AND j.payload = w.column2 AND j.state IN ('waiting', 'leased')) \
             RETURNING payload",
            D::now_plus("$2"),
            D::NOW
        );
        let mut query = sqlx::query::<D::Db>(&sql)
            .arg(self.queue.clone())
            .arg(millis(delay))
            .arg(trace_context.map(str::to_owned));
        for payload in json {
            query = query.arg(JobId::new().as_uuid()).arg(payload);
        }
        let mut tx = self.store.begin_write().await?;
        if let Some(turn) = D::RESTORE_TURN {
            // Restores of one queue take turns, so each sees what the one before it added.
            let wait = sqlx::query::<D::Db>(turn).arg(self.queue.clone());
            driver::execute(wait, &mut tx)
                .await
                .fault("waiting for other restores")?;
        }
        let added: Vec<(String,)> = driver::fetch_all(query, &mut tx)
            .await
            .fault("enqueueing the missing jobs")?;
        let added: Vec<String> = added.into_iter().map(|(payload,)| payload).collect();
        tx.commit().await.fault("committing a restore")?;
        Ok(in_given_order(payloads, &added))
    }

    async fn lease(&self, lease_for: Duration) -> Result<Option<LeasedJob>, QueueError> {
        let token = LeaseToken::new();
        let sql = format!(
            "UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_token = $2, \
             due_at = {} \
             WHERE id = (SELECT id FROM jobs WHERE queue = $1 AND state IN ('waiting', 'leased') \
                         AND due_at <= {} ORDER BY due_at, id LIMIT 1{}) \
             RETURNING id, payload, CAST(attempts AS BIGINT), due_at, trace_context",
            D::now_plus("$3"),
            D::NOW,
            D::CLAIM_ROWS
        );
        let query = sqlx::query::<D::Db>(&sql)
            .arg(self.queue.clone())
            .arg(token.as_uuid())
            .arg(millis(lease_for));
        let leased: Option<(Uuid, String, i64, SqlTime, Option<String>)> =
            driver::fetch_optional(query, &mut *self.store.write().await?)
                .await
                .fault("leasing a job")?;
        let Some((id, payload, attempts, until, trace_context)) = leased else {
            return Ok(None);
        };
        Ok(Some(LeasedJob {
            id: JobId::from_uuid(id),
            payload: JobPayload::from_json(&payload).context("decoding a job payload")?,
            attempt: u32::try_from(attempts).context("attempts")?,
            lease: token,
            leased_until: until.into(),
            trace_context,
        }))
    }

    async fn heartbeat(
        &self,
        job: JobId,
        lease: LeaseToken,
        extend_by: Duration,
    ) -> Result<DateTime<Utc>, QueueError> {
        let sql = format!(
            "UPDATE jobs SET due_at = {} WHERE id = $1 AND queue = $2 AND state = 'leased' \
             AND lease_token = $3 AND due_at > {} RETURNING due_at",
            D::now_plus("$4"),
            D::NOW
        );
        let query = sqlx::query::<D::Db>(&sql)
            .arg(job.as_uuid())
            .arg(self.queue.clone())
            .arg(lease.as_uuid())
            .arg(millis(extend_by));
        let extended: Option<(SqlTime,)> =
            driver::fetch_optional(query, &mut *self.store.write().await?)
                .await
                .fault("extending a lease")?;
        let (until,) = extended.ok_or(QueueError::LeaseLost)?;
        Ok(until.into())
    }

    async fn ack(&self, job: JobId, lease: LeaseToken) -> Result<(), QueueError> {
        let sql = "DELETE FROM jobs WHERE id = $1 AND queue = $2 AND state = 'leased' \
                   AND lease_token = $3";
        self.fenced(sql, job, lease, None, "acknowledging a job")
            .await
    }

    async fn retry(
        &self,
        job: JobId,
        lease: LeaseToken,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let sql = format!(
            "UPDATE jobs SET state = 'waiting', lease_token = NULL, due_at = {} \
             WHERE id = $1 AND queue = $2 AND state = 'leased' AND lease_token = $3",
            D::now_plus("$4")
        );
        let extra = Some(ExtraArg::Millis(millis(delay)));
        self.fenced(&sql, job, lease, extra, "scheduling a retry")
            .await
    }

    async fn fail(&self, job: JobId, lease: LeaseToken, reason: &str) -> Result<(), QueueError> {
        let sql = "UPDATE jobs SET state = 'failed', lease_token = NULL, last_error = $4 \
                   WHERE id = $1 AND queue = $2 AND state = 'leased' AND lease_token = $3";
        let extra = Some(ExtraArg::Text(reason.to_owned()));
        self.fenced(sql, job, lease, extra, "failing a job").await
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let now = D::NOW;
        let sql = format!(
            "SELECT \
               count(*) FILTER (WHERE state IN ('waiting', 'leased') AND due_at <= {now}), \
               count(*) FILTER (WHERE state = 'waiting' AND due_at > {now}), \
               count(*) FILTER (WHERE state = 'leased' AND due_at > {now}), \
               count(*) FILTER (WHERE state = 'failed') \
             FROM jobs WHERE queue = $1"
        );
        let query = sqlx::query::<D::Db>(&sql).arg(self.queue.clone());
        let (ready, scheduled, leased, failed): (i64, i64, i64, i64) =
            driver::fetch_one(query, &mut *self.store.read().await?)
                .await
                .fault("measuring the queue")?;
        let n = |count: i64| u64::try_from(count).unwrap_or_default();
        Ok(QueueDepth {
            ready: n(ready),
            scheduled: n(scheduled),
            leased: n(leased),
            failed: n(failed),
        })
    }
}
