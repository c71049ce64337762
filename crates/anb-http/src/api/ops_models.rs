//! The JSON body of the operator's summary.

use anb_domain::ops::{OpsSummary, WorkerBeat};
use chrono::{DateTime, Utc};
use poem_openapi::Object;

/// The operator's summary.
#[derive(Debug, Object)]
pub struct OpsSummaryView {
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// Jobs by state.
    pub queue: QueueView,
    /// Jobs held by workers now (the queue's `leased`).
    pub jobs_in_flight: u64,
    /// Workers that reported in the last minute, most recent first.
    pub workers: Vec<WorkerView>,
    /// The last hour's processing.
    pub last_hour: LastHourView,
    /// Webhook deliveries.
    pub webhooks: WebhookBacklogView,
}

/// Jobs by state.
#[derive(Debug, Object)]
pub struct QueueView {
    /// Deliverable now.
    pub ready: u64,
    /// Waiting for a later time (a retry's backoff).
    pub scheduled: u64,
    /// Held by a worker.
    pub leased: u64,
    /// Given up (dead letters of the queue).
    pub failed: u64,
}

/// A worker, as it last reported.
#[derive(Debug, Object)]
pub struct WorkerView {
    /// Its name (`host:pid`).
    pub name: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last report (every 5 s while it runs).
    pub last_seen_at: DateTime<Utc>,
    /// The jobs it held then (`process <video id> (attempt n)`, …).
    pub jobs: Vec<String>,
}

/// The last hour's processing.
#[derive(Debug, Object)]
pub struct LastHourView {
    /// Videos processed.
    pub processed: u64,
    /// Videos that failed.
    pub failed: u64,
    /// The median processing time, in seconds; `null` when none was processed.
    #[oai(nullable)]
    pub p50_seconds: Option<f64>,
    /// The 95th percentile processing time, in seconds; `null` when none was processed.
    #[oai(nullable)]
    pub p95_seconds: Option<f64>,
}

/// The webhook backlog.
#[derive(Debug, Object)]
pub struct WebhookBacklogView {
    /// Deliveries waiting for an attempt.
    pub pending: u64,
    /// Deliveries given up (dead letters).
    pub dead: u64,
}

impl From<WorkerBeat> for WorkerView {
    fn from(beat: WorkerBeat) -> Self {
        Self {
            name: beat.name,
            started_at: beat.started_at,
            last_seen_at: beat.seen_at,
            jobs: beat.jobs,
        }
    }
}

impl From<OpsSummary> for OpsSummaryView {
    fn from(s: OpsSummary) -> Self {
        Self {
            at: s.at,
            jobs_in_flight: s.queue.leased,
            queue: QueueView {
                ready: s.queue.ready,
                scheduled: s.queue.scheduled,
                leased: s.queue.leased,
                failed: s.queue.failed,
            },
            workers: s.workers.into_iter().map(WorkerView::from).collect(),
            last_hour: LastHourView {
                processed: s.last_hour.processed,
                failed: s.last_hour.failed,
                p50_seconds: s.p50_seconds,
                p95_seconds: s.p95_seconds,
            },
            webhooks: WebhookBacklogView {
                pending: s.webhook_pending,
                dead: s.webhook_dead,
            },
        }
    }
}
