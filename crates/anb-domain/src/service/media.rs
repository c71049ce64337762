use std::ops::Range;

use super::{Showcase, VideoAccessError};
use crate::blob::{BlobKey, BlobObject};
use crate::ids::{UserId, VideoId};
use crate::ports::BlobError;
use crate::video::Video;

/// Which file of a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// The upload as received (owner only).
    Original,
    /// The processed MP4.
    Processed,
    /// The JPEG thumbnail.
    Thumbnail,
}

impl MediaKind {
    /// The MIME type served for it.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Original | Self::Processed => "video/mp4",
            Self::Thumbnail => "image/jpeg",
        }
    }

    fn key(self, video: &Video) -> Option<&BlobKey> {
        match self {
            Self::Original => Some(&video.original),
            Self::Processed => video.processed.as_ref(),
            Self::Thumbnail => video.thumbnail.as_ref(),
        }
    }
}

/// A media file being read, with what a response needs to describe it.
#[derive(Debug)]
pub struct MediaDownload {
    /// The bytes and their range.
    pub object: BlobObject,
    /// The MIME type.
    pub content_type: &'static str,
}

/// Why a media file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// No such video (or, publicly, not published; or its file is missing).
    #[error("video not found")]
    NotFound,
    /// It belongs to another player.
    #[error("this video belongs to another player")]
    Forbidden,
    /// The processed file or thumbnail does not exist yet.
    #[error("the video has not been processed yet")]
    NotProcessed,
    /// The requested range is outside the file.
    #[error("range not satisfiable")]
    InvalidRange {
        /// The file's size.
        size: u64,
    },
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Showcase {
    /// One of the caller's media files, or a byte range of it.
    ///
    /// # Errors
    /// [`MediaError::NotFound`], [`MediaError::Forbidden`], [`MediaError::NotProcessed`] (no
    /// processed file or thumbnail yet), [`MediaError::InvalidRange`].
    pub async fn open_own_media(
        &self,
        caller: UserId,
        id: VideoId,
        kind: MediaKind,
        range: Option<Range<u64>>,
    ) -> Result<MediaDownload, MediaError> {
        let video = self.own_video(caller, id).await.map_err(|e| match e {
            VideoAccessError::NotFound => MediaError::NotFound,
            VideoAccessError::Forbidden => MediaError::Forbidden,
            VideoAccessError::Unexpected(e) => MediaError::Unexpected(e),
        })?;
        let key = kind.key(&video).ok_or(MediaError::NotProcessed)?;
        self.open_blob(key, kind, range).await
    }

    /// The processed file or thumbnail of a published video, for anyone.
    ///
    /// # Errors
    /// [`MediaError::NotFound`] unless the video is published (an unpublished video is not
    /// revealed to exist) or when asked for the original; [`MediaError::InvalidRange`].
    pub async fn open_public_media(
        &self,
        id: VideoId,
        kind: MediaKind,
        range: Option<Range<u64>>,
    ) -> Result<MediaDownload, MediaError> {
        let video = self
            .ports
            .videos
            .get(id)
            .await?
            .filter(Video::is_published)
            .ok_or(MediaError::NotFound)?;
        let key = match kind {
            MediaKind::Original => None,
            _ => kind.key(&video),
        }
        .ok_or(MediaError::NotFound)?;
        self.open_blob(key, kind, range).await
    }

    async fn open_blob(
        &self,
        key: &BlobKey,
        kind: MediaKind,
        range: Option<Range<u64>>,
    ) -> Result<MediaDownload, MediaError> {
        let object = self
            .ports
            .blobs
            .get(key, range)
            .await
            .map_err(|e| match e {
                BlobError::NotFound => MediaError::NotFound,
                BlobError::InvalidRange { size } => MediaError::InvalidRange { size },
                other => MediaError::Unexpected(anyhow::Error::new(other).context("reading media")),
            })?;
        Ok(MediaDownload {
            object,
            content_type: kind.content_type(),
        })
    }
}
