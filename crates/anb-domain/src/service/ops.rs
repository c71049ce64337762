//! The operator's summary, and the workers' reports it shows.

use super::{QueryError, Showcase};
use crate::ops::{percentile, OpsSummary, WorkerBeat};

/// A worker that has not reported for this long is not shown as alive.
pub const WORKER_SILENCE: chrono::Duration = chrono::Duration::seconds(60);

impl Showcase {
    /// The queue by state, the workers alive, the last hour's processed and failed videos with
    /// the median and 95th percentile processing times, and the webhook backlog.
    ///
    /// # Errors
    /// Backend faults.
    pub async fn ops_summary(&self) -> Result<OpsSummary, QueryError> {
        let at = self.ports.clock.now();
        let queue = self
            .ports
            .jobs
            .depth()
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        let workers = self
            .ports
            .ops
            .workers_seen_since(at - WORKER_SILENCE)
            .await?;
        let last_hour = self
            .ports
            .ops
            .activity_since(at - chrono::Duration::hours(1))
            .await?;
        let (webhook_pending, webhook_dead) = self.ports.events.backlog().await?;
        Ok(OpsSummary {
            at,
            queue,
            workers,
            p50_seconds: percentile(&last_hour.durations, 50.0),
            p95_seconds: percentile(&last_hour.durations, 95.0),
            last_hour,
            webhook_pending,
            webhook_dead,
        })
    }

    /// Records a worker's report of itself.
    ///
    /// # Errors
    /// Backend faults.
    pub async fn report_worker(&self, beat: &WorkerBeat) -> anyhow::Result<()> {
        self.ports.ops.beat(beat).await
    }
}
