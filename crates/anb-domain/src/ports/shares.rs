use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{ShareLinkId, UserId, VideoId};
use crate::sharing::{Share, ShareLink, SharedVideo};
use crate::values::{Page, PageRequest};

/// Why a video could not be shared.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// The recipient has no account.
    #[error("no such player")]
    NoSuchRecipient,
    /// The video does not exist (any more).
    #[error("no such video")]
    NoSuchVideo,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores who a video is shared with, and its share links. Both go with their video (and a
/// share with its recipient's account).
#[async_trait]
pub trait ShareRepository: Send + Sync + 'static {
    /// Shares `video` with `recipient`; sharing again changes nothing. Returns the share and
    /// whether it is new.
    ///
    /// # Errors
    /// [`ShareError::NoSuchRecipient`], [`ShareError::NoSuchVideo`] (also when either is
    /// deleted concurrently: a constraint, not a look-up before the insert).
    async fn share(
        &self,
        video: VideoId,
        recipient: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Share, bool), ShareError>;

    /// Stops sharing `video` with `recipient`; whether it was shared.
    ///
    /// # Errors
    /// Only backend faults.
    async fn unshare(&self, video: VideoId, recipient: UserId) -> anyhow::Result<bool>;

    /// Who `video` is shared with, most recent first, then by recipient id.
    ///
    /// # Errors
    /// Only backend faults.
    async fn shares_of(&self, video: VideoId, page: PageRequest) -> anyhow::Result<Page<Share>>;

    /// Since when `video` is shared with `user`, or `None` when it is not.
    ///
    /// # Errors
    /// Only backend faults.
    async fn shared_since(
        &self,
        video: VideoId,
        user: UserId,
    ) -> anyhow::Result<Option<DateTime<Utc>>>;

    /// The videos shared with `user`, most recently shared first, then by video id.
    ///
    /// # Errors
    /// Only backend faults.
    async fn shared_with(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> anyhow::Result<Page<SharedVideo>>;

    /// Stores a new share link.
    ///
    /// # Errors
    /// Backend faults, and a link whose video does not exist.
    async fn create_link(&self, link: &ShareLink) -> anyhow::Result<()>;

    /// The share link with `id`, or `None`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn link(&self, id: ShareLinkId) -> anyhow::Result<Option<ShareLink>>;

    /// The share links of `video` that are not revoked, newest first.
    ///
    /// # Errors
    /// Only backend faults.
    async fn links_of(&self, video: VideoId) -> anyhow::Result<Vec<ShareLink>>;

    /// Revokes the link `id` of `video`; whether it was live (not already revoked).
    ///
    /// # Errors
    /// Only backend faults.
    async fn revoke_link(
        &self,
        video: VideoId,
        id: ShareLinkId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool>;
}
