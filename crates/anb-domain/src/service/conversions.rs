//! Conversions on demand: an owner asks for a rendition of a processed video (an MP4 at a
//! height, the sound as MP3, an HLS ladder), which a worker makes from the kept original
//! through the same queue ([`JobPayload::ConvertRendition`]); the owner lists them, with a
//! signed link to each finished one.

use std::time::Duration;

use anyhow::Context as _;
use tracing::{info, instrument, warn};

use super::{Showcase, VideoAccessError};
use crate::ids::{UserId, VideoId};
use crate::job::JobPayload;
use crate::ports::{PlaybackToken, RequestRenditionError, Requested};
use crate::rendition::{Rendition, RenditionRequest};
use crate::sharing::Viewer;
use crate::video::VideoStatus;

/// Why a conversion was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// It belongs to another player.
    #[error("this video belongs to another player")]
    Forbidden,
    /// It is not processed: conversions are made once the video is.
    #[error("the video has not been processed")]
    NotProcessed,
    /// The owner already has this many conversions waiting or being made.
    #[error("{limit} conversions are already waiting")]
    TooManyPending {
        /// The limit ([`ShowcaseConfig::max_pending_conversions`](super::ShowcaseConfig::max_pending_conversions)).
        limit: u32,
    },
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<VideoAccessError> for ConversionError {
    fn from(e: VideoAccessError) -> Self {
        match e {
            VideoAccessError::NotFound => Self::NotFound,
            VideoAccessError::Forbidden => Self::Forbidden,
            VideoAccessError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// The answer to a conversion request.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversionAccepted {
    /// The rendition as it stands.
    pub rendition: Rendition,
    /// Whether this request queued work (a new rendition, or one that had failed); `false`
    /// when the same rendition was already waiting, being made or ready.
    pub queued: bool,
    /// Signs the download link of a rendition already made.
    pub token: PlaybackToken,
}

/// A video's renditions, with a playback token for the links to the finished ones.
#[derive(Debug)]
pub struct RenditionList {
    /// The renditions, first asked first.
    pub renditions: Vec<Rendition>,
    /// Signs the download links (the HTTP service builds them).
    pub token: PlaybackToken,
}

impl Showcase {
    /// Asks for a rendition of one of the caller's processed videos. One of each kind is kept
    /// per video: asking for one that is waiting, being made or ready returns it as it is
    /// (and queues its job again if the queue lost it); one that failed is tried again. New
    /// work is accepted only while the caller has fewer than
    /// [`max_pending_conversions`](super::ShowcaseConfig::max_pending_conversions) waiting
    /// or being made.
    ///
    /// # Errors
    /// [`ConversionError::NotFound`], [`ConversionError::Forbidden`],
    /// [`ConversionError::NotProcessed`], [`ConversionError::TooManyPending`].
    #[instrument(skip(self))]
    pub async fn request_conversion(
        &self,
        caller: UserId,
        video_id: VideoId,
        request: RenditionRequest,
    ) -> Result<ConversionAccepted, ConversionError> {
        let video = self.own_video(caller, video_id).await?;
        if video.status != VideoStatus::Processed {
            return Err(ConversionError::NotProcessed);
        }
        let asked = Rendition::requested(video.id, caller, request, self.ports.clock.now());
        let limit = self.config.max_pending_conversions;
        let requested =
            self.ports
                .renditions
                .request(&asked, limit)
                .await
                .map_err(|e| match e {
                    RequestRenditionError::TooManyPending { limit } => {
                        ConversionError::TooManyPending { limit }
                    }
                    RequestRenditionError::Unexpected(e) => ConversionError::Unexpected(e),
                })?;
        let (rendition, queued) = match requested {
            Requested::New(r) | Requested::Again(r) => (r, true),
            Requested::Existing(r) => (r, false),
        };
        let payload = JobPayload::ConvertRendition {
            video_id,
            rendition_id: rendition.id,
        };
        let trace = self.trace_context();
        if queued {
            if let Err(e) = self
                .ports
                .jobs
                .enqueue(&payload, trace.as_deref(), Duration::ZERO)
                .await
            {
                self.fail_unqueued(&rendition).await;
                return Err(anyhow::Error::new(e)
                    .context("queueing the conversion")
                    .into());
            }
            info!(rendition = %rendition.id, format = %rendition.format, "conversion queued");
        } else if rendition.status.is_unfinished() {
            // Asking again for one still waiting restores its job if the queue lost it.
            self.ports
                .jobs
                .enqueue_missing(&[payload], trace.as_deref(), Duration::ZERO)
                .await
                .context("checking the conversion's job")?;
        }
        let token =
            self.ports
                .tokens
                .issue_playback(video_id, Viewer::Owner, self.config.playback_ttl)?;
        Ok(ConversionAccepted {
            rendition,
            queued,
            token,
        })
    }

    /// The renditions of one of the caller's videos, with a playback token (valid for the
    /// configured playback lifetime) that signs the links to the finished ones.
    ///
    /// # Errors
    /// [`VideoAccessError::NotFound`], [`VideoAccessError::Forbidden`].
    pub async fn renditions(
        &self,
        caller: UserId,
        video_id: VideoId,
    ) -> Result<RenditionList, VideoAccessError> {
        let video = self.own_video(caller, video_id).await?;
        let renditions = self.ports.renditions.list_for_video(video.id).await?;
        let token =
            self.ports
                .tokens
                .issue_playback(video.id, Viewer::Owner, self.config.playback_ttl)?;
        Ok(RenditionList { renditions, token })
    }

    /// A rendition whose job could not be queued fails at once, so that asking again retries
    /// it (and it does not count against the limit meanwhile).
    async fn fail_unqueued(&self, rendition: &Rendition) {
        let reason = "the conversion could not be queued; ask for it again";
        if let Err(e) = self
            .fail_rendition(rendition.video_id, rendition.id, reason)
            .await
        {
            warn!(error = format!("{e:#}"), rendition = %rendition.id, "could not fail an unqueued conversion");
        }
    }
}
