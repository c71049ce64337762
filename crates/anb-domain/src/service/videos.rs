use tracing::instrument;

use super::{QueryError, Showcase};
use crate::blob::BlobKey;
use crate::ids::{UserId, VideoId};
use crate::ports::{DeleteVideoRecordError, PublicVideoQuery, VisibilityError};
use crate::values::{Page, PageRequest};
use crate::video::{PublicVideo, Video};

/// Why a player could not read one of their videos.
#[derive(Debug, thiserror::Error)]
pub enum VideoAccessError {
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// It belongs to another player.
    #[error("this video belongs to another player")]
    Forbidden,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a video was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteVideoError {
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// It belongs to another player.
    #[error("this video belongs to another player")]
    Forbidden,
    /// It has votes: votes are never thrown away.
    #[error("the video has votes and cannot be deleted")]
    HasVotes,
    /// It is published for voting; unpublish it first.
    #[error("the video is published for voting; unpublish it first")]
    Published,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a video was not published or unpublished.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// It belongs to another player.
    #[error("this video belongs to another player")]
    Forbidden,
    /// It is not processed yet (or failed).
    #[error("the video has not been processed")]
    NotProcessed,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<VideoAccessError> for DeleteVideoError {
    fn from(e: VideoAccessError) -> Self {
        match e {
            VideoAccessError::NotFound => Self::NotFound,
            VideoAccessError::Forbidden => Self::Forbidden,
            VideoAccessError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<DeleteVideoRecordError> for DeleteVideoError {
    fn from(e: DeleteVideoRecordError) -> Self {
        match e {
            DeleteVideoRecordError::NotFound => Self::NotFound,
            DeleteVideoRecordError::HasVotes => Self::HasVotes,
            DeleteVideoRecordError::Published => Self::Published,
            DeleteVideoRecordError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<VideoAccessError> for PublishError {
    fn from(e: VideoAccessError) -> Self {
        match e {
            VideoAccessError::NotFound => Self::NotFound,
            VideoAccessError::Forbidden => Self::Forbidden,
            VideoAccessError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<VisibilityError> for PublishError {
    fn from(e: VisibilityError) -> Self {
        match e {
            VisibilityError::NotFound => Self::NotFound,
            VisibilityError::NotProcessed => Self::NotProcessed,
            VisibilityError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl Showcase {
    /// The caller's videos, newest first.
    ///
    /// # Errors
    /// Only backend faults.
    pub async fn list_own_videos(
        &self,
        owner: UserId,
        page: PageRequest,
    ) -> Result<Page<Video>, QueryError> {
        Ok(self.ports.videos.list_by_owner(owner, page).await?)
    }

    /// One of the caller's videos.
    ///
    /// # Errors
    /// [`VideoAccessError::NotFound`]; [`VideoAccessError::Forbidden`] when another player owns it.
    pub async fn own_video(&self, caller: UserId, id: VideoId) -> Result<Video, VideoAccessError> {
        let video = self
            .ports
            .videos
            .get(id)
            .await?
            .ok_or(VideoAccessError::NotFound)?;
        if video.owner_id != caller {
            return Err(VideoAccessError::Forbidden);
        }
        Ok(video)
    }

    /// Deletes one of the caller's videos and its media, unless it has votes or is published.
    ///
    /// # Errors
    /// [`DeleteVideoError::NotFound`], [`DeleteVideoError::Forbidden`],
    /// [`DeleteVideoError::HasVotes`], [`DeleteVideoError::Published`].
    #[instrument(skip(self))]
    pub async fn delete_video(
        &self,
        caller: UserId,
        id: VideoId,
    ) -> Result<Video, DeleteVideoError> {
        self.own_video(caller, id).await?;
        let deleted = self.ports.videos.delete(id, self.ports.clock.now()).await?;
        for key in [
            Some(&deleted.original),
            deleted.processed.as_ref(),
            deleted.thumbnail.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            self.discard_blob(key).await;
        }
        // Its renditions' records went with it; their files go now.
        for prefix in [
            BlobKey::streams(deleted.id),
            BlobKey::renditions(deleted.id),
        ] {
            self.discard_blobs_under(&prefix).await;
        }
        Ok(deleted)
    }

    /// Opens (`public = true`) or closes one of the caller's processed videos to the gallery and voting.
    ///
    /// # Errors
    /// [`PublishError::NotFound`], [`PublishError::Forbidden`], [`PublishError::NotProcessed`].
    #[instrument(skip(self))]
    pub async fn set_public(
        &self,
        caller: UserId,
        id: VideoId,
        public: bool,
    ) -> Result<Video, PublishError> {
        self.own_video(caller, id).await?;
        Ok(self
            .ports
            .videos
            .set_visibility(id, public, self.ports.clock.now())
            .await?)
    }

    /// The public gallery: published videos with their players.
    ///
    /// # Errors
    /// Only backend faults.
    pub async fn list_public_videos(
        &self,
        query: &PublicVideoQuery,
    ) -> Result<Page<PublicVideo>, QueryError> {
        Ok(self.ports.videos.list_public(query).await?)
    }
}
