use std::time::Duration;

use async_trait::async_trait;

use crate::ids::{JobId, LeaseToken};
use crate::job::{JobPayload, LeasedJob, QueueDepth};

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The lease is no longer held: it expired (and the job may have been leased again), or the
    /// job was already acked, retried or failed under it.
    #[error("the job's lease was lost")]
    LeaseLost,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A durable, at-least-once job queue with leases.
///
/// A leased job is invisible to other consumers until its lease expires; then it is delivered
/// again (attempt + 1) under a new [`LeaseToken`]. Ack, retry, fail and heartbeat must present the
/// current token, so a worker that lost its lease cannot disturb the new holder.
///
/// **Delivery count.** [`LeasedJob::attempt`] counts every delivery of the job, durably: each
/// `lease` adds one, whether the job was new, retried, or taken back from a worker whose lease
/// expired (it died: crashed, ran out of memory, was killed), and the count never resets
/// while the job exists. That count is how a poison job ends: the domain refuses to run a
/// delivery past its retry policy's ceiling ([`RetryPolicy::admit`](crate::RetryPolicy::admit))
/// and fails the job instead. Adapters apply no ceiling themselves; they must only count
/// faithfully (checked by the conformance suite's
/// `a_job_whose_workers_keep_dying_is_delivered_with_a_growing_attempt_count_until_failed`).
///
/// **Trace context.** A job may carry an opaque text beside its payload, the trace context of
/// whoever enqueued it ([`TraceContext`](crate::ports::TraceContext)). The queue stores it as
/// given and hands it back on every lease ([`LeasedJob::trace_context`]). It is no part of the
/// job's identity: [`JobQueue::enqueue_missing`] compares payloads alone.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Adds a job carrying `trace_context`, deliverable after `delay` (zero: now).
    ///
    /// # Errors
    /// Only backend faults ([`QueueError::Unexpected`]).
    async fn enqueue(
        &self,
        payload: &JobPayload,
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<JobId, QueueError>;

    /// Enqueues, carrying `trace_context` and deliverable after `delay`, each of `payloads` that
    /// has no live job in the queue (none waiting, scheduled or leased, an expired lease
    /// included: it will be delivered again), and returns those it enqueued, in the order
    /// given. Calls at once never both enqueue one payload, so every process may restore at
    /// once.
    ///
    /// How jobs a queue lost (a restart without persistence, a flush, a failover to an empty
    /// replica) come back without duplicates: see
    /// [`Showcase::restore_lost_jobs`](crate::Showcase::restore_lost_jobs). A queue may scan
    /// its live jobs to answer; callers pass a bounded batch.
    ///
    /// # Errors
    /// Only backend faults (then some of the payloads may have been enqueued).
    async fn enqueue_missing(
        &self,
        payloads: &[JobPayload],
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<Vec<JobPayload>, QueueError>;

    /// Leases the oldest deliverable job (ready, or whose lease expired) for `lease_for`, or
    /// returns `None` when there is none. Concurrent callers never receive the same delivery.
    /// The job's attempt count goes up by one (see the trait's "Delivery count").
    ///
    /// # Errors
    /// Only backend faults.
    async fn lease(&self, lease_for: Duration) -> Result<Option<LeasedJob>, QueueError>;

    /// Extends a live lease to `extend_by` from now. Returns the new expiry.
    ///
    /// # Errors
    /// [`QueueError::LeaseLost`] when `lease` is not the job's current, unexpired lease.
    async fn heartbeat(
        &self,
        job: JobId,
        lease: LeaseToken,
        extend_by: Duration,
    ) -> Result<chrono::DateTime<chrono::Utc>, QueueError>;

    /// Completes the job: it is never delivered again.
    ///
    /// # Errors
    /// [`QueueError::LeaseLost`] when `lease` is not the job's current lease. An expired lease
    /// whose job nobody has leased since is still current: a slow worker may finish.
    async fn ack(&self, job: JobId, lease: LeaseToken) -> Result<(), QueueError>;

    /// Releases the job to be delivered again after `delay` (keeping its attempt count).
    ///
    /// # Errors
    /// As [`JobQueue::ack`].
    async fn retry(&self, job: JobId, lease: LeaseToken, delay: Duration)
        -> Result<(), QueueError>;

    /// Gives up on the job (dead letter): it is never delivered again and counts as failed.
    ///
    /// # Errors
    /// As [`JobQueue::ack`].
    async fn fail(&self, job: JobId, lease: LeaseToken, reason: &str) -> Result<(), QueueError>;

    /// Jobs by state.
    ///
    /// # Errors
    /// Only backend faults.
    async fn depth(&self) -> Result<QueueDepth, QueueError>;
}
