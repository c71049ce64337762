use std::future::Future;
use std::time::Duration;

use tracing::{info, instrument, warn};

use super::Showcase;
use crate::blob::BlobKey;
use crate::event::{Attempt, EventDetail, EventType, VideoEvent};
use crate::ids::VideoId;
use crate::job::{JobDecision, JobFailure, JobPayload, LeasedJob};
use crate::ports::{QueueError, TransitionError};
use crate::video::{ProcessedMedia, StatusChange, Video, VideoStatus};

/// How handling one leased job ended. In every case but `LeaseLost` the queue has been told
/// (acked, retried or failed).
#[derive(Clone, Debug, PartialEq)]
pub enum JobOutcome {
    /// The video is processed.
    Processed(Box<Video>),
    /// The rendition is made ([`Showcase::handle_conversion`]).
    Converted(Box<crate::rendition::Rendition>),
    /// Nothing to do (already processed or failed, or deleted); acked.
    Skipped(String),
    /// The attempt failed transiently; the job comes back after this delay.
    Retrying(Duration),
    /// The job gave up; the video is `failed` with this reason.
    GaveUp(String),
    /// Another worker holds the job now (this lease expired); nothing was changed in the queue.
    LeaseLost,
}

impl Showcase {
    /// Leases the next job for `lease_for`, or `None` when the queue is empty.
    ///
    /// # Errors
    /// Queue faults.
    pub async fn next_job(&self, lease_for: Duration) -> Result<Option<LeasedJob>, QueueError> {
        self.ports.jobs.lease(lease_for).await
    }

    /// Runs one leased job: marks the video `processing`, calls `process` (the I/O: fetch,
    /// transcode, store — the worker supplies it), records the outcome and settles the job in
    /// the queue. Idempotent: a job for a video already processed, failed or deleted is acked
    /// without running `process`.
    ///
    /// A delivery past the retry policy's ceiling ([`RetryPolicy::admit`](crate::RetryPolicy::admit):
    /// the job's earlier workers died on it without settling it) is not run: the video is
    /// marked `failed` ("processing crashed repeatedly") and the job is failed in the queue.
    ///
    /// `process` classifies its failures ([`JobFailure::BadInput`]: give up now;
    /// [`JobFailure::Transient`]: retry with the configured backoff, then give up).
    ///
    /// A [`JobPayload::ReprocessVideo`] job runs `process` on a `processed` video without
    /// changing its status: the new outputs replace the old ones
    /// ([`StatusChange::Reprocessed`]); when it gives up, the video keeps its outputs and only
    /// the job fails.
    ///
    /// # Errors
    /// Only faults that leave the job for its lease to expire (storage or queue down while
    /// settling); it will be delivered again.
    #[instrument(skip_all, fields(job = %job.id, attempt = job.attempt))]
    pub async fn handle_job<F, Fut>(
        &self,
        job: &LeasedJob,
        process: F,
    ) -> anyhow::Result<JobOutcome>
    where
        F: FnOnce(Video) -> Fut + Send,
        Fut: Future<Output = Result<ProcessedMedia, JobFailure>> + Send,
    {
        let video_id = match job.payload {
            JobPayload::ProcessVideo { video_id } => video_id,
            JobPayload::ReprocessVideo { video_id } => {
                return self.handle_reprocess(job, video_id, process).await;
            }
            JobPayload::ConvertRendition { .. } => {
                let reason = "a conversion job is handled by handle_conversion".to_owned();
                return self.give_up(job, reason).await;
            }
        };
        if let Err(reason) = self.config.retry.admit(job.attempt) {
            return self.give_up_exhausted(job, video_id, reason).await;
        }
        let videos = &self.ports.videos;
        let started = videos
            .transition(
                video_id,
                &StatusChange::StartProcessing(self.attempt(job)),
                self.ports.clock.now(),
            )
            .await;
        let video = match started {
            Ok(video) => video,
            Err(TransitionError::NotFound) => {
                return self.settle_skip(job, "the video was deleted").await;
            }
            Err(TransitionError::NotAllowed { current }) => {
                return self
                    .settle_skip(job, &format!("the video is already {current}"))
                    .await;
            }
            Err(TransitionError::Unexpected(e)) => {
                return self.settle_failure(job, JobFailure::Transient(e)).await;
            }
        };

        let media = match process(video).await {
            Ok(media) => media,
            Err(failure) => return self.settle_failure(job, failure).await,
        };
        let completed = videos
            .transition(
                video_id,
                &StatusChange::Complete(media.clone()),
                self.ports.clock.now(),
            )
            .await;
        match completed {
            Ok(video) => match self.ports.jobs.ack(job.id, job.lease).await {
                Ok(()) => {
                    info!(video = %video_id, "video processed");
                    Ok(JobOutcome::Processed(Box::new(video)))
                }
                Err(QueueError::LeaseLost) => Ok(JobOutcome::LeaseLost),
                Err(QueueError::Unexpected(e)) => Err(e.context("acknowledging the job")),
            },
            Err(TransitionError::NotFound) => {
                // Deleted while we worked: our outputs belong to nobody.
                self.discard_blob(&media.processed).await;
                self.discard_blob(&media.thumbnail).await;
                self.discard_blobs_under(&BlobKey::streams(video_id)).await;
                self.settle_skip(job, "the video was deleted while processing")
                    .await
            }
            Err(TransitionError::NotAllowed {
                current: VideoStatus::Processed,
            }) => {
                // Another delivery of the same job finished first; its outputs are the same keys.
                self.settle_skip(job, "the video was processed by another delivery")
                    .await
            }
            Err(TransitionError::NotAllowed { current }) => {
                self.settle_skip(job, &format!("the video is already {current}"))
                    .await
            }
            Err(TransitionError::Unexpected(e)) => {
                self.settle_failure(job, JobFailure::Transient(e)).await
            }
        }
    }

    /// Settles a leased job whose attempt failed outside [`handle_job`](Self::handle_job)'s
    /// own flow (a worker caught a panic): retry after the policy's backoff, or, past the last
    /// attempt, mark the video `failed` and fail the job. The same decision `handle_job` makes.
    ///
    /// # Errors
    /// Storage or queue faults; the job then comes back when its lease expires.
    pub async fn settle_failed_attempt(
        &self,
        job: &LeasedJob,
        failure: JobFailure,
    ) -> anyhow::Result<JobOutcome> {
        self.settle_failure(job, failure).await
    }

    /// A [`JobPayload::ReprocessVideo`] job: see [`handle_job`](Self::handle_job).
    async fn handle_reprocess<F, Fut>(
        &self,
        job: &LeasedJob,
        video_id: VideoId,
        process: F,
    ) -> anyhow::Result<JobOutcome>
    where
        F: FnOnce(Video) -> Fut + Send,
        Fut: Future<Output = Result<ProcessedMedia, JobFailure>> + Send,
    {
        if let Err(reason) = self.config.retry.admit(job.attempt) {
            return self.give_up(job, reason).await;
        }
        let video = match self.ports.videos.get(video_id).await {
            Ok(Some(video)) if video.status == VideoStatus::Processed => video,
            Ok(Some(video)) => {
                let why = format!(
                    "only a processed video is processed again (it is {})",
                    video.status
                );
                return self.settle_skip(job, &why).await;
            }
            Ok(None) => return self.settle_skip(job, "the video was deleted").await,
            Err(e) => return self.settle_failure(job, JobFailure::Transient(e)).await,
        };
        let media = match process(video).await {
            Ok(media) => media,
            Err(failure) => return self.settle_failure(job, failure).await,
        };
        let change = StatusChange::Reprocessed(media.clone());
        match self
            .ports
            .videos
            .transition(video_id, &change, self.ports.clock.now())
            .await
        {
            Ok(video) => match self.ports.jobs.ack(job.id, job.lease).await {
                Ok(()) => {
                    info!(video = %video_id, "video processed again");
                    Ok(JobOutcome::Processed(Box::new(video)))
                }
                Err(QueueError::LeaseLost) => Ok(JobOutcome::LeaseLost),
                Err(QueueError::Unexpected(e)) => Err(e.context("acknowledging the job")),
            },
            Err(TransitionError::NotFound) => {
                self.discard_blob(&media.processed).await;
                self.discard_blob(&media.thumbnail).await;
                self.discard_blobs_under(&BlobKey::streams(video_id)).await;
                self.settle_skip(job, "the video was deleted while processing")
                    .await
            }
            Err(TransitionError::NotAllowed { current }) => {
                self.settle_skip(job, &format!("the video is {current} now"))
                    .await
            }
            Err(TransitionError::Unexpected(e)) => {
                self.settle_failure(job, JobFailure::Transient(e)).await
            }
        }
    }

    /// Ends a job delivered past the ceiling without running it: the video fails with
    /// `reason`, the job is dead-lettered. A video that is no longer waiting (processed,
    /// failed, deleted) is left alone and the job acked.
    async fn give_up_exhausted(
        &self,
        job: &LeasedJob,
        video_id: crate::ids::VideoId,
        reason: String,
    ) -> anyhow::Result<JobOutcome> {
        let change = StatusChange::Fail {
            reason: reason.clone(),
        };
        let failed = self
            .ports
            .videos
            .transition(video_id, &change, self.ports.clock.now())
            .await;
        match failed {
            Ok(_) => {}
            Err(TransitionError::NotFound) => {
                return self.settle_skip(job, "the video was deleted").await;
            }
            Err(TransitionError::NotAllowed { current }) => {
                return self
                    .settle_skip(job, &format!("the video is already {current}"))
                    .await;
            }
            Err(TransitionError::Unexpected(e)) => {
                return Err(e.context("recording the failure"));
            }
        }
        warn!(video = %video_id, attempt = job.attempt, %reason, "processing gave up");
        self.fail_job(job, reason).await
    }

    pub(super) async fn settle_skip(
        &self,
        job: &LeasedJob,
        why: &str,
    ) -> anyhow::Result<JobOutcome> {
        match self.ports.jobs.ack(job.id, job.lease).await {
            Ok(()) => Ok(JobOutcome::Skipped(why.to_owned())),
            Err(QueueError::LeaseLost) => Ok(JobOutcome::LeaseLost),
            Err(QueueError::Unexpected(e)) => Err(e.context("acknowledging a skipped job")),
        }
    }

    /// Retries a job after the policy's backoff, or past the last attempt gives it up
    /// ([`give_up`](Self::give_up)).
    pub(super) async fn settle_failure(
        &self,
        job: &LeasedJob,
        failure: JobFailure,
    ) -> anyhow::Result<JobOutcome> {
        match self.config.retry.decide(job.attempt, &failure) {
            JobDecision::RetryAfter(delay) => {
                if let JobFailure::Transient(e) = &failure {
                    warn!(
                        error = format!("{e:#}"),
                        ?delay,
                        "processing attempt failed; will retry"
                    );
                    self.note_failed_attempt(job, &format!("{e:#}")).await;
                }
                match self.ports.jobs.retry(job.id, job.lease, delay).await {
                    Ok(()) => Ok(JobOutcome::Retrying(delay)),
                    Err(QueueError::LeaseLost) => Ok(JobOutcome::LeaseLost),
                    Err(QueueError::Unexpected(e)) => Err(e.context("scheduling a retry")),
                }
            }
            JobDecision::GiveUp(reason) => self.give_up(job, reason).await,
        }
    }

    /// Fails a job in the queue. A first processing marks its video `failed` with `reason`
    /// first (a video no longer waiting, or deleted, is left as it is); a video processed
    /// again keeps its outputs; a conversion marks its rendition `failed`.
    pub(super) async fn give_up(
        &self,
        job: &LeasedJob,
        reason: String,
    ) -> anyhow::Result<JobOutcome> {
        match job.payload {
            JobPayload::ProcessVideo { video_id } => {
                let change = StatusChange::Fail {
                    reason: reason.clone(),
                };
                match self
                    .ports
                    .videos
                    .transition(video_id, &change, self.ports.clock.now())
                    .await
                {
                    Ok(_) | Err(TransitionError::NotFound | TransitionError::NotAllowed { .. }) => {
                    }
                    Err(TransitionError::Unexpected(e)) => {
                        return Err(e.context("recording the failure"));
                    }
                }
                warn!(video = %video_id, %reason, "processing gave up");
            }
            JobPayload::ReprocessVideo { video_id } => {
                warn!(video = %video_id, %reason, "processing again gave up; the video keeps its outputs");
            }
            JobPayload::ConvertRendition {
                video_id,
                rendition_id,
            } => self.fail_rendition(video_id, rendition_id, &reason).await?,
        }
        self.fail_job(job, reason).await
    }

    /// This process's attempt at `job`, for the audit trail.
    fn attempt(&self, job: &LeasedJob) -> Attempt {
        Attempt {
            worker: self.config.instance.clone(),
            number: job.attempt,
        }
    }

    /// Puts a processing attempt that failed and will be tried again in its video's audit
    /// trail. Only the trail misses it if that fails: the job's retry goes on.
    async fn note_failed_attempt(&self, job: &LeasedJob, error: &str) {
        let JobPayload::ProcessVideo { video_id } = job.payload else {
            return;
        };
        let detail = EventDetail {
            attempt: Some(self.attempt(job)),
            error: Some(error.to_owned()),
            rendition: None,
        };
        let noted = match self.ports.videos.get(video_id).await {
            Ok(Some(video)) => {
                let event = VideoEvent::new(
                    &video,
                    EventType::AttemptFailed,
                    self.ports.clock.now(),
                    detail,
                );
                self.ports.events.note(&event).await
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = noted {
            warn!(video = %video_id, error = format!("{e:#}"), "the failed attempt is not in the audit trail");
        }
    }

    /// Fails (dead-letters) the job with `reason`.
    async fn fail_job(&self, job: &LeasedJob, reason: String) -> anyhow::Result<JobOutcome> {
        match self.ports.jobs.fail(job.id, job.lease, &reason).await {
            Ok(()) => Ok(JobOutcome::GaveUp(reason)),
            Err(QueueError::LeaseLost) => Ok(JobOutcome::LeaseLost),
            Err(QueueError::Unexpected(e)) => Err(e.context("failing the job")),
        }
    }
}
