use std::time::Duration;

use anyhow::Context as _;
use tracing::{info, instrument, warn};

use super::Showcase;
use crate::job::JobPayload;

impl Showcase {
    /// Re-enqueues processing for videos left `uploaded` or `processing` for longer than
    /// `stuck_after` (at most `limit` per call, oldest first): an enqueue lost after the upload
    /// was recorded, a queue that lost its jobs, a job dead-lettered while the video's failure
    /// could not be recorded. Returns how many were re-enqueued.
    ///
    /// Every worker may run it at once: each stuck video is claimed by one caller, once per
    /// deadline ([`VideoRepository::claim_stuck`](crate::ports::VideoRepository::claim_stuck)).
    ///
    /// A video whose job is in fact alive gets a duplicate job. That is safe, because
    /// [`Showcase::handle_job`] is idempotent (once the video is processed or failed, the other
    /// job is acked and skipped), but it is wasted work when both run at once, so `stuck_after`
    /// must exceed the longest a live job keeps a video without a status change: the worker's
    /// lease (a dead worker's job comes back by itself when its lease expires), plus the
    /// transcoder's time limit, plus the longest retry delay (`RetryPolicy::max_delay`), plus
    /// the wait of an upload behind a backlog in the queue.
    ///
    /// # Errors
    /// Storage or queue faults. Videos claimed but not enqueued because the queue failed are
    /// claimed again after the next deadline.
    #[instrument(skip_all, fields(stuck_after = ?stuck_after))]
    pub async fn requeue_stuck(&self, stuck_after: Duration, limit: u32) -> anyhow::Result<usize> {
        let now = self.ports.clock.now();
        let deadline = chrono::Duration::from_std(stuck_after)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .context("stuck_after is out of range")?;
        let stuck = self
            .ports
            .videos
            .claim_stuck(deadline, now, limit)
            .await
            .context("claiming stuck videos")?;
        let trace = self.trace_context();
        for (done, &video_id) in stuck.iter().enumerate() {
            let payload = JobPayload::ProcessVideo { video_id };
            if let Err(e) = self
                .ports
                .jobs
                .enqueue(&payload, trace.as_deref(), Duration::ZERO)
                .await
            {
                warn!(
                    requeued = done,
                    claimed = stuck.len(),
                    "re-enqueueing stuck videos stopped"
                );
                return Err(anyhow::Error::new(e).context(format!(
                    "re-enqueueing stuck video {video_id} ({done} of {} done)",
                    stuck.len()
                )));
            }
            info!(video = %video_id, "re-enqueued a stuck video");
        }
        Ok(stuck.len())
    }
}
