//! Restoring the jobs a queue lost: the database is the record of what must be processed; the
//! queue only delivers it.

use std::time::Duration;

use anyhow::Context as _;
use tracing::{info, instrument};

use super::Showcase;
use crate::ids::VideoId;
use crate::job::JobPayload;
use crate::rendition::{Rendition, RenditionStatus};
use crate::video::VideoStatus;

/// How [`Showcase::restore_lost_jobs`] compares the database with the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobRestore {
    /// A video whose status changed this recently is left alone: an upload is recorded a
    /// moment before its job is queued, and that moment must not look like a lost job.
    pub settle_for: Duration,
    /// A `processing` video's job comes back after this delay, not at once: a worker may still
    /// be running it under a lease the queue forgot. That worker sees its lease gone at its
    /// next heartbeat and stops, so this must exceed the workers' heartbeat interval; then
    /// one worker at a time processes the video.
    pub processing_delay: Duration,
    /// Videos per read and per queue call.
    pub batch: u32,
}

impl Default for JobRestore {
    fn default() -> Self {
        Self {
            settle_for: Duration::from_secs(10),
            processing_delay: Duration::from_secs(30),
            batch: 500,
        }
    }
}

/// What one [`Showcase::restore_lost_jobs`] pass found and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Videos waiting for processing, and conversions waiting or being made, that it looked at.
    pub unfinished: usize,
    /// Of those, the ones whose job the queue had lost, now queued again.
    pub restored: usize,
}

impl Showcase {
    /// Queues again the processing of every video still `uploaded` or `processing` (for longer
    /// than [`JobRestore::settle_for`]) that has no live job in the queue: the jobs a queue
    /// lost in a restart without persistence, a flush or a failover to an empty replica, and
    /// those an upload recorded but could not queue (its process died in between).
    ///
    /// Each video gets at most one live job: [`JobQueue::enqueue_missing`](crate::ports::JobQueue::enqueue_missing)
    /// adds only what is missing, atomically, so every worker may run this at once, and a
    /// video that still has its job is left alone. A `processing` video's job comes back
    /// after [`JobRestore::processing_delay`], once any worker still running it has stopped.
    /// Whatever is delivered twice anyway is still processed once: [`Showcase::handle_job`]
    /// skips a video that is no longer waiting.
    ///
    /// Conversions on demand (`pending` or `processing`, asked for before the same moment) are
    /// restored the same way, a `processing` one after the same delay
    /// ([`Showcase::handle_conversion`] skips one already made).
    ///
    /// Reads every unfinished video, in batches: the backlog, not the history.
    ///
    /// # Errors
    /// Storage or queue faults; what was restored before stays restored, and the next pass
    /// restores the rest.
    #[instrument(skip_all)]
    pub async fn restore_lost_jobs(&self, restore: &JobRestore) -> anyhow::Result<RestoreReport> {
        let settled = chrono::Duration::from_std(restore.settle_for)
            .ok()
            .and_then(|d| self.ports.clock.now().checked_sub_signed(d))
            .context("settle_for is out of range")?;
        let batch = restore.batch.max(1);
        let mut report = RestoreReport::default();
        let mut after = None;
        loop {
            let page = self
                .ports
                .videos
                .unfinished(settled, after, batch)
                .await
                .context("reading the videos waiting for processing")?;
            let Some(&(last, _)) = page.last() else { break };
            after = Some(last);
            report.unfinished += page.len();
            let (uploaded, processing): (Vec<_>, Vec<_>) = page
                .iter()
                .partition(|(_, status)| *status == VideoStatus::Uploaded);
            report.restored += self.restore(&uploaded, Duration::ZERO).await?;
            report.restored += self.restore(&processing, restore.processing_delay).await?;
            if page.len() < batch as usize {
                break;
            }
        }
        self.restore_conversions(settled, restore, &mut report)
            .await?;
        Ok(report)
    }

    /// The conversions on demand waiting or being made whose job the queue lost, likewise.
    async fn restore_conversions(
        &self,
        settled: chrono::DateTime<chrono::Utc>,
        restore: &JobRestore,
        report: &mut RestoreReport,
    ) -> anyhow::Result<()> {
        let batch = restore.batch.max(1);
        let mut after = None;
        loop {
            let page = self
                .ports
                .renditions
                .unfinished(settled, after, batch)
                .await
                .context("reading the conversions waiting")?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            report.unfinished += page.len();
            let job = |r: &Rendition| JobPayload::ConvertRendition {
                video_id: r.video_id,
                rendition_id: r.id,
            };
            let (pending, processing): (Vec<_>, Vec<_>) = page
                .iter()
                .partition(|r| r.status == RenditionStatus::Pending);
            let pending: Vec<JobPayload> = pending.into_iter().map(job).collect();
            let processing: Vec<JobPayload> = processing.into_iter().map(job).collect();
            report.restored += self.enqueue_lost(&pending, Duration::ZERO).await?;
            report.restored += self
                .enqueue_lost(&processing, restore.processing_delay)
                .await?;
            if page.len() < batch as usize {
                break;
            }
        }
        Ok(())
    }

    async fn restore(
        &self,
        videos: &[&(VideoId, VideoStatus)],
        delay: Duration,
    ) -> anyhow::Result<usize> {
        let payloads: Vec<JobPayload> = videos
            .iter()
            .map(|&&(video_id, _)| JobPayload::ProcessVideo { video_id })
            .collect();
        self.enqueue_lost(&payloads, delay).await
    }

    /// Queues the payloads that have no live job, after `delay`.
    async fn enqueue_lost(
        &self,
        payloads: &[JobPayload],
        delay: Duration,
    ) -> anyhow::Result<usize> {
        if payloads.is_empty() {
            return Ok(0);
        }
        let restored = self
            .ports
            .jobs
            .enqueue_missing(payloads, self.trace_context().as_deref(), delay)
            .await
            .context("queueing the lost jobs again")?;
        for payload in &restored {
            info!(video = %payload.video_id(), ?delay, "queued a lost job again");
        }
        Ok(restored.len())
    }
}
