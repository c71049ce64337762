//! The job that makes a rendition ([`JobPayload::ConvertRendition`]): the rendition goes
//! `pending` → `processing` → `ready`, or `failed` with a reason once the retry policy gives up;
//! the video is never changed by it.

use std::future::Future;

use tracing::{info, instrument};

use super::{JobOutcome, Showcase};
use crate::blob::BlobKey;
use crate::ids::{RenditionId, VideoId};
use crate::job::{JobFailure, JobPayload, LeasedJob};
use crate::ports::{QueueError, RenditionTransitionError};
use crate::rendition::{Rendition, RenditionChange};
use crate::video::{Video, VideoStatus};

impl Showcase {
    /// Runs one leased conversion job: marks the rendition `processing`, calls `convert` (the
    /// I/O: fetch the original, transcode with the rendition's profile, store; the worker
    /// supplies it and returns where the result is stored), marks it `ready` and acks the job.
    /// Idempotent: a rendition already made, failed or deleted (with its video) is acked
    /// without running `convert`. Failures follow the retry policy as processing does
    /// ([`handle_job`](Self::handle_job)); when the job gives up, the rendition is `failed`
    /// with the reason, and asking for it again tries again.
    ///
    /// # Errors
    /// Only faults that leave the job for its lease to expire (storage or queue down while
    /// settling).
    #[instrument(skip_all, fields(job = %job.id, attempt = job.attempt))]
    pub async fn handle_conversion<F, Fut>(
        &self,
        job: &LeasedJob,
        convert: F,
    ) -> anyhow::Result<JobOutcome>
    where
        F: FnOnce(Video, Rendition) -> Fut + Send,
        Fut: Future<Output = Result<BlobKey, JobFailure>> + Send,
    {
        let JobPayload::ConvertRendition {
            video_id,
            rendition_id,
        } = job.payload
        else {
            let reason = "only a conversion job is handled as a conversion".to_owned();
            return self.give_up(job, reason).await;
        };
        if let Err(reason) = self.config.retry.admit(job.attempt) {
            return self.give_up(job, reason).await;
        }
        let video = match self.ports.videos.get(video_id).await {
            Ok(Some(video)) if video.status == VideoStatus::Processed => video,
            Ok(Some(video)) => {
                let reason = format!("the video is {}, not processed", video.status);
                return self.give_up(job, reason).await;
            }
            Ok(None) => return self.settle_skip(job, "the video was deleted").await,
            Err(e) => return self.settle_failure(job, JobFailure::Transient(e)).await,
        };
        let rendition = match self
            .change_rendition(rendition_id, RenditionChange::Start)
            .await
        {
            Ok(rendition) => rendition,
            Err(RenditionTransitionError::NotFound) => {
                return self.settle_skip(job, "the rendition was deleted").await;
            }
            Err(RenditionTransitionError::NotAllowed { current }) => {
                let why = format!("the rendition is already {current}");
                return self.settle_skip(job, &why).await;
            }
            Err(RenditionTransitionError::Unexpected(e)) => {
                return self.settle_failure(job, JobFailure::Transient(e)).await;
            }
        };
        let output = match convert(video, rendition).await {
            Ok(output) => output,
            Err(failure) => return self.settle_failure(job, failure).await,
        };
        let finish = RenditionChange::Finish { output };
        match self.change_rendition(rendition_id, finish).await {
            Ok(rendition) => match self.ports.jobs.ack(job.id, job.lease).await {
                Ok(()) => {
                    info!(rendition = %rendition_id, format = %rendition.format, "rendition made");
                    Ok(JobOutcome::Converted(Box::new(rendition)))
                }
                Err(QueueError::LeaseLost) => Ok(JobOutcome::LeaseLost),
                Err(QueueError::Unexpected(e)) => Err(e.context("acknowledging the job")),
            },
            Err(RenditionTransitionError::NotFound) => {
                // The video was deleted while we worked, with its renditions.
                self.discard_blobs_under(&BlobKey::rendition(video_id, rendition_id))
                    .await;
                self.settle_skip(job, "the video was deleted while converting")
                    .await
            }
            Err(RenditionTransitionError::NotAllowed { current }) => {
                let why = format!("the rendition is {current} now");
                self.settle_skip(job, &why).await
            }
            Err(RenditionTransitionError::Unexpected(e)) => {
                self.settle_failure(job, JobFailure::Transient(e)).await
            }
        }
    }

    /// Applies `change` to a rendition now.
    async fn change_rendition(
        &self,
        id: RenditionId,
        change: RenditionChange,
    ) -> Result<Rendition, RenditionTransitionError> {
        self.ports
            .renditions
            .transition(id, &change, self.ports.clock.now())
            .await
    }

    /// Marks a conversion `failed` with `reason` (one already finished, or deleted, is left
    /// as it is).
    pub(super) async fn fail_rendition(
        &self,
        video_id: VideoId,
        rendition_id: RenditionId,
        reason: &str,
    ) -> anyhow::Result<()> {
        let change = RenditionChange::Fail {
            reason: reason.to_owned(),
        };
        match self.change_rendition(rendition_id, change).await {
            Ok(_)
            | Err(
                RenditionTransitionError::NotFound | RenditionTransitionError::NotAllowed { .. },
            ) => {
                tracing::warn!(video = %video_id, rendition = %rendition_id, %reason, "conversion failed");
                Ok(())
            }
            Err(RenditionTransitionError::Unexpected(e)) => Err(e.context("recording the failure")),
        }
    }
}
