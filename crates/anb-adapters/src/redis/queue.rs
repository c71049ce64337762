use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::{RedisError, Script};
use anb_domain::ports::{JobQueue, QueueError};
use anb_domain::{JobId, JobPayload, LeaseToken, LeasedJob, QueueDepth};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The longest delay or lease the queue stores (1000 years), so every time stays an integer
/// number of milliseconds that Lua numbers (doubles, printed with 14 significant digits) and
/// sorted-set scores hold exactly. Longer durations are cut to it, as the in-memory queue
/// saturates at the end of time.
const MAX_MILLIS: u64 = 1000 * 365 * 24 * 60 * 60 * 1000;

/// The Lua scripts, one per operation (see the module documentation).
struct Scripts {
    enqueue: Script,
    enqueue_missing: Script,
    lease: Script,
    heartbeat: Script,
    ack: Script,
    retry: Script,
    fail: Script,
    depth: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    enqueue: Script::new(include_str!("lua/enqueue.lua")),
    enqueue_missing: Script::new(include_str!("lua/enqueue_missing.lua")),
    lease: Script::new(include_str!("lua/lease.lua")),
    heartbeat: Script::new(include_str!("lua/heartbeat.lua")),
    ack: Script::new(include_str!("lua/ack.lua")),
    retry: Script::new(include_str!("lua/retry.lua")),
    fail: Script::new(include_str!("lua/fail.lua")),
    depth: Script::new(include_str!("lua/depth.lua")),
});

/// The names of one queue's keys.
#[derive(Clone, Debug)]
struct Keys {
    /// `{prefix}:job:`, followed by the job id.
    job_prefix: String,
    due: String,
    leased: String,
    failed: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        Self {
            job_prefix: format!("{prefix}:job:"),
            due: format!("{prefix}:due"),
            leased: format!("{prefix}:leased"),
            failed: format!("{prefix}:failed"),
        }
    }

    fn job(&self, id: JobId) -> String {
        format!("{}{id}", self.job_prefix)
    }
}

/// A durable [`JobQueue`] on Redis: sorted sets for waiting and leased jobs, one atomic Lua
/// script per operation, leases timed by the Redis server's clock (see the
/// [module documentation](super) for the layout and the reasoning).
///
/// Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    prefix: String,
    keys: Keys,
}

impl fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    /// Connects to the Redis server at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` for TLS when the `redis` crate is built with TLS support) and uses the keys
    /// starting with `prefix:`.
    ///
    /// The prefix namespaces the queue: queues with different prefixes on one server never see
    /// each other's jobs, and queues with the same prefix are the same queue (that is how several
    /// workers share it). A lost connection is re-established in the background.
    ///
    /// # Errors
    /// When `prefix` is empty or contains whitespace, `url` is not a Redis URL, or the server
    /// cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(!prefix.is_empty(), "the Redis queue's key prefix is empty");
        anyhow::ensure!(
            !prefix.chars().any(char::is_whitespace),
            "the Redis queue's key prefix {prefix:?} contains whitespace"
        );
        let client = ::redis::Client::open(url).context("reading the Redis URL")?;
        let conn = ConnectionManager::new(client)
            .await
            .context("connecting to Redis")?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            keys: Keys::new(prefix),
        })
    }

    /// The prefix of every key this queue uses.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// A duration in whole milliseconds, capped at [`MAX_MILLIS`].
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).map_or(MAX_MILLIS, |ms| ms.min(MAX_MILLIS))
}

/// A time the scripts returned (ms since the epoch).
fn timestamp(ms: i64) -> Result<DateTime<Utc>, QueueError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        unexpected(anyhow::anyhow!(
            "Redis returned the time {ms} ms, out of range"
        ))
    })
}

fn unexpected(error: anyhow::Error) -> QueueError {
    QueueError::Unexpected(error)
}

/// Wraps a Redis error, saying what the queue was doing (an outage as
/// [`Unavailable`](anb_domain::ports::Unavailable), see [`super::fault`]).
fn redis_error(doing: &'static str) -> impl FnOnce(RedisError) -> QueueError {
    move |e| unexpected(super::fault::fault(e, doing))
}

/// `Ok` when a fenced script (ack, retry, fail) went through, [`QueueError::LeaseLost`] when
/// it refused.
fn held(done: bool) -> Result<(), QueueError> {
    if done {
        Ok(())
    } else {
        Err(QueueError::LeaseLost)
    }
}

#[async_trait]
impl JobQueue for RedisQueue {
    async fn enqueue(
        &self,
        payload: &JobPayload,
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<JobId, QueueError> {
        let id = JobId::new();
        let mut conn = self.conn.clone();
        let _due: i64 = SCRIPTS
            .enqueue
            .key(self.keys.job(id))
            .key(&self.keys.due)
            .arg(id.to_string())
            .arg(payload.to_json())
            .arg(millis(delay))
            .arg(trace_context.unwrap_or_default())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("enqueueing a job"))?;
        Ok(id)
    }

    async fn enqueue_missing(
        &self,
        payloads: &[JobPayload],
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<Vec<JobPayload>, QueueError> {
        if payloads.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let mut script = SCRIPTS.enqueue_missing.key(&self.keys.due);
        script
            .key(&self.keys.leased)
            .arg(&self.keys.job_prefix)
            .arg(millis(delay))
            .arg(trace_context.unwrap_or_default());
        for payload in payloads {
            script.arg(JobId::new().to_string()).arg(payload.to_json());
        }
        let added: Vec<String> = script
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("enqueueing the missing jobs"))?;
        added
            .iter()
            .map(|json| {
                JobPayload::from_json(json)
                    .with_context(|| format!("reading a payload the queue added ({json:?})"))
                    .map_err(unexpected)
            })
            .collect()
    }

    async fn lease(&self, lease_for: Duration) -> Result<Option<LeasedJob>, QueueError> {
        let token = LeaseToken::new();
        let mut conn = self.conn.clone();
        let leased: Option<(String, String, u32, i64, String)> = SCRIPTS
            .lease
            .key(&self.keys.due)
            .key(&self.keys.leased)
            .arg(&self.keys.job_prefix)
            .arg(millis(lease_for))
            .arg(token.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("leasing a job"))?;
        let Some((id, payload, attempt, expires, trace)) = leased else {
            return Ok(None);
        };
        let id = JobId::from_str(&id)
            .with_context(|| format!("reading the id of a leased job ({id:?})"))
            .map_err(unexpected)?;
        let payload = JobPayload::from_json(&payload)
            .with_context(|| format!("reading the payload of leased job {id}"))
            .map_err(unexpected)?;
        Ok(Some(LeasedJob {
            id,
            payload,
            attempt,
            lease: token,
            leased_until: timestamp(expires)?,
            trace_context: Some(trace).filter(|t| !t.is_empty()),
        }))
    }

    async fn heartbeat(
        &self,
        job: JobId,
        lease: LeaseToken,
        extend_by: Duration,
    ) -> Result<DateTime<Utc>, QueueError> {
        let mut conn = self.conn.clone();
        let expires: Option<i64> = SCRIPTS
            .heartbeat
            .key(self.keys.job(job))
            .key(&self.keys.leased)
            .arg(job.to_string())
            .arg(lease.to_string())
            .arg(millis(extend_by))
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("extending a job's lease"))?;
        timestamp(expires.ok_or(QueueError::LeaseLost)?)
    }

    async fn ack(&self, job: JobId, lease: LeaseToken) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let done: bool = SCRIPTS
            .ack
            .key(self.keys.job(job))
            .key(&self.keys.leased)
            .arg(job.to_string())
            .arg(lease.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("acknowledging a job"))?;
        held(done)
    }

    async fn retry(
        &self,
        job: JobId,
        lease: LeaseToken,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let done: bool = SCRIPTS
            .retry
            .key(self.keys.job(job))
            .key(&self.keys.leased)
            .key(&self.keys.due)
            .arg(job.to_string())
            .arg(lease.to_string())
            .arg(millis(delay))
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("releasing a job for a retry"))?;
        held(done)
    }

    async fn fail(&self, job: JobId, lease: LeaseToken, reason: &str) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let done: bool = SCRIPTS
            .fail
            .key(self.keys.job(job))
            .key(&self.keys.leased)
            .key(&self.keys.failed)
            .arg(job.to_string())
            .arg(lease.to_string())
            .arg(reason)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("dead-lettering a job"))?;
        if done {
            tracing::debug!(job = %job, reason, "job dead-lettered");
        }
        held(done)
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let mut conn = self.conn.clone();
        let (ready, scheduled, leased, failed): (u64, u64, u64, u64) = SCRIPTS
            .depth
            .key(&self.keys.due)
            .key(&self.keys.leased)
            .key(&self.keys.failed)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("counting the queue's jobs"))?;
        Ok(QueueDepth {
            ready,
            scheduled,
            leased,
            failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_whole_milliseconds_capped_at_a_thousand_years() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_micros(1_999)), 1);
        assert_eq!(millis(Duration::from_secs(2)), 2_000);
        assert_eq!(millis(Duration::MAX), MAX_MILLIS);
        // Far-future times still fit chrono, and Lua prints them exactly (14 digits).
        let latest = Utc::now().timestamp_millis() + i64::try_from(MAX_MILLIS).unwrap();
        assert!(timestamp(latest).is_ok());
        assert!(latest < 100_000_000_000_000);
    }

    #[test]
    fn keys_are_namespaced_by_the_prefix() {
        let keys = Keys::new("anb");
        let id = JobId::new();
        assert_eq!(keys.job(id), format!("anb:job:{id}"));
        assert_eq!(
            (
                keys.due.as_str(),
                keys.leased.as_str(),
                keys.failed.as_str()
            ),
            ("anb:due", "anb:leased", "anb:failed")
        );
    }

    #[tokio::test]
    async fn an_empty_or_blank_prefix_is_refused_before_connecting() {
        // Nothing listens on port 1: reaching the server would fail differently.
        for prefix in ["", "has space", "tab\there", "line\n"] {
            let error = RedisQueue::connect("redis://127.0.0.1:1", prefix)
                .await
                .expect_err(prefix);
            assert!(error.to_string().contains("prefix"), "{error}");
        }
    }
}
