use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ops::{Activity, WorkerBeat};

/// What operators read: workers' reports and the processing activity.
#[async_trait]
pub trait OpsRecords: Send + Sync + 'static {
    /// Records a worker's report (replacing its previous one).
    ///
    /// # Errors
    /// Only backend faults.
    async fn beat(&self, beat: &WorkerBeat) -> anyhow::Result<()>;

    /// The workers that reported at or after `since`, most recent first.
    ///
    /// # Errors
    /// Only backend faults.
    async fn workers_seen_since(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<WorkerBeat>>;

    /// Videos processed and failed at or after `since`, and each processed one's processing
    /// time (from its last `video.processing` event to its `video.processed` one).
    ///
    /// # Errors
    /// Only backend faults.
    async fn activity_since(&self, since: DateTime<Utc>) -> anyhow::Result<Activity>;
}
