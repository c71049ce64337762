use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{RenditionId, VideoId};
use crate::rendition::{Rendition, RenditionChange, RenditionStatus};
use crate::video::ProcessingProgress;

/// What [`RenditionRepository::request`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Requested {
    /// A new rendition, pending: queue its job.
    New(Rendition),
    /// The same rendition had failed; it is pending again: queue its job.
    Again(Rendition),
    /// The same rendition is already pending, being made or ready: nothing to queue.
    Existing(Rendition),
}

/// Why a rendition was not requested.
#[derive(Debug, thiserror::Error)]
pub enum RequestRenditionError {
    /// Its owner already has this many renditions pending or being made.
    #[error("{limit} conversions are already waiting")]
    TooManyPending {
        /// The limit.
        limit: u32,
    },
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a rendition's status was not changed.
#[derive(Debug, thiserror::Error)]
pub enum RenditionTransitionError {
    /// No such rendition (its video was deleted, with its renditions).
    #[error("rendition not found")]
    NotFound,
    /// The change is not allowed from the rendition's current status.
    #[error("not allowed while the rendition is {current}")]
    NotAllowed {
        /// The status it has.
        current: RenditionStatus,
    },
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores renditions (conversions on demand). A video's renditions go with it when it is
/// deleted.
#[async_trait]
pub trait RenditionRepository: Send + Sync + 'static {
    /// Asks for `rendition` atomically, one of each kind per video
    /// ([`Rendition::same_as`]): when the same one exists and has not failed, it is returned
    /// as it is ([`Requested::Existing`]); when it failed, it becomes pending again
    /// ([`RenditionChange::AskAgain`] at `rendition.requested_at`, [`Requested::Again`]);
    /// otherwise `rendition` is stored ([`Requested::New`]). A rendition becomes pending only
    /// while its owner has fewer than `max_pending` pending or being made: concurrent
    /// requests by one owner never pass the limit together.
    ///
    /// # Errors
    /// [`RequestRenditionError::TooManyPending`] when the limit is reached; backend faults.
    /// The video exists (the caller checked it).
    async fn request(
        &self,
        rendition: &Rendition,
        max_pending: u32,
    ) -> Result<Requested, RequestRenditionError>;

    /// The rendition with this id, or `None`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn get(&self, id: RenditionId) -> anyhow::Result<Option<Rendition>>;

    /// A video's renditions, first asked first (ties by id). There are few: one of each kind.
    ///
    /// # Errors
    /// Only backend faults.
    async fn list_for_video(&self, video: VideoId) -> anyhow::Result<Vec<Rendition>>;

    /// Applies a change atomically, only if [`RenditionChange::allowed_from`] holds for the
    /// status stored at that moment, with the effects of [`Rendition::apply`]. Returns the
    /// rendition as now stored.
    ///
    /// # Errors
    /// [`RenditionTransitionError::NotFound`]; [`RenditionTransitionError::NotAllowed`] with
    /// the stored status.
    async fn transition(
        &self,
        id: RenditionId,
        change: &RenditionChange,
        at: DateTime<Utc>,
    ) -> Result<Rendition, RenditionTransitionError>;

    /// Up to `limit` renditions waiting or being made (`pending` or `processing`) asked for
    /// before `requested_before`, by id ascending, after `after` (exclusive) when given: how
    /// [`Showcase::restore_lost_jobs`](crate::Showcase::restore_lost_jobs) finds the
    /// conversions whose job a queue lost.
    ///
    /// # Errors
    /// Only backend faults.
    async fn unfinished(
        &self,
        requested_before: DateTime<Utc>,
        after: Option<RenditionId>,
        limit: u32,
    ) -> anyhow::Result<Vec<Rendition>>;

    /// Records how far the worker has got, only while the rendition is `processing`. Returns
    /// whether it was recorded.
    ///
    /// # Errors
    /// Only backend faults.
    async fn record_progress(
        &self,
        id: RenditionId,
        progress: ProcessingProgress,
    ) -> anyhow::Result<bool>;
}
