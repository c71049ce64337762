//! Processing again: after a profile change (a new ladder, another preset), processed videos
//! are queued to be made again from their kept originals, through the same queue and workers.
//! They stay processed, and published if they were, until the new outputs replace the old.

use anyhow::Context as _;
use tracing::{info, instrument};

use super::Showcase;
use crate::ids::VideoId;
use crate::job::JobPayload;
use crate::video::VideoStatus;

/// How many videos a page of `--all` reads at a time.
const PAGE: u32 = 500;

/// Which videos to process again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReprocessTarget {
    /// One video.
    Video(VideoId),
    /// Every processed video.
    AllProcessed,
}

/// Why a video was not queued to be processed again.
#[derive(Debug, thiserror::Error)]
pub enum ReprocessError {
    /// No such video.
    #[error("no video {0}")]
    NotFound(VideoId),
    /// It is not processed (waiting, processing or failed): there is nothing to make again.
    #[error("the video {0} is {1}, not processed")]
    NotProcessed(VideoId, VideoStatus),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Showcase {
    /// Queues processed videos to be processed again with the current profile
    /// ([`JobPayload::ReprocessVideo`]). A video that already has a live job of that kind is
    /// not queued twice. Returns how many jobs were queued.
    ///
    /// # Errors
    /// [`ReprocessError::NotFound`] and [`ReprocessError::NotProcessed`] for one video;
    /// storage or queue faults.
    #[instrument(skip(self))]
    pub async fn reprocess(&self, target: ReprocessTarget) -> Result<usize, ReprocessError> {
        match target {
            ReprocessTarget::Video(id) => {
                let video = self
                    .ports
                    .videos
                    .get(id)
                    .await?
                    .ok_or(ReprocessError::NotFound(id))?;
                if video.status != VideoStatus::Processed {
                    return Err(ReprocessError::NotProcessed(id, video.status));
                }
                Ok(self.queue_again(&[id]).await?)
            }
            ReprocessTarget::AllProcessed => {
                let (mut queued, mut after) = (0, None);
                loop {
                    let ids = self.ports.videos.processed_ids(after, PAGE).await?;
                    let Some(last) = ids.last().copied() else {
                        return Ok(queued);
                    };
                    queued += self.queue_again(&ids).await?;
                    after = Some(last);
                }
            }
        }
    }

    async fn queue_again(&self, ids: &[VideoId]) -> anyhow::Result<usize> {
        let payloads: Vec<JobPayload> = ids
            .iter()
            .map(|&video_id| JobPayload::ReprocessVideo { video_id })
            .collect();
        let queued = self
            .ports
            .jobs
            .enqueue_missing(
                &payloads,
                self.trace_context().as_deref(),
                std::time::Duration::ZERO,
            )
            .await
            .context("queueing videos to be processed again")?;
        for payload in &queued {
            info!(video = %payload.video_id(), "queued to be processed again");
        }
        Ok(queued.len())
    }
}
