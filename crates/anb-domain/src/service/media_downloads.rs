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

/// The bytes of a file a client asks for (an HTTP `Range` header's single range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// From `start` to `end` inclusive (`bytes=10-19`); an `end` past the file is cut to it.
    Bounded {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// From `start` to the end of the file (`bytes=10-`).
    From {
        /// First byte.
        start: u64,
    },
    /// The last `length` bytes (`bytes=-500`).
    Suffix {
        /// How many bytes.
        length: u64,
    },
}

impl ByteRange {
    /// The byte positions in a file of `size` bytes, or `None` when the range is outside it
    /// (HTTP 416).
    pub fn resolve(self, size: u64) -> Option<Range<u64>> {
        let range = match self {
            Self::Bounded { start, end } if start <= end => start..end.saturating_add(1).min(size),
            Self::Bounded { .. } => return None,
            Self::From { start } => start..size,
            Self::Suffix { length } => size.saturating_sub(length)..size,
        };
        (range.start < range.end).then_some(range)
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
    /// A playback token past its expiry.
    #[error("the playback link has expired")]
    SignatureExpired,
    /// A playback token that is altered, foreign or not a playback token.
    #[error("the playback link is not valid")]
    SignatureInvalid,
    /// A playback token of a share or a share link that its owner has revoked since.
    #[error("the video is no longer shared through this link")]
    Revoked,
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
        range: Option<ByteRange>,
    ) -> Result<MediaDownload, MediaError> {
        let video = self.own_video(caller, id).await.map_err(|e| match e {
            VideoAccessError::NotFound => MediaError::NotFound,
            VideoAccessError::Forbidden => MediaError::Forbidden,
            VideoAccessError::Unexpected(e) => MediaError::Unexpected(e),
        })?;
        let key = kind.key(&video).ok_or(MediaError::NotProcessed)?;
        self.open_blob(key, kind.content_type(), range).await
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
        range: Option<ByteRange>,
    ) -> Result<MediaDownload, MediaError> {
        let video = self.published_video(id).await?;
        let key = match kind {
            MediaKind::Original => None,
            _ => kind.key(&video),
        }
        .ok_or(MediaError::NotFound)?;
        self.open_blob(key, kind.content_type(), range).await
    }

    /// A published video, for anyone; any other is not found (not revealed to exist).
    pub(super) async fn published_video(&self, id: VideoId) -> Result<Video, MediaError> {
        self.ports
            .videos
            .get(id)
            .await?
            .filter(Video::is_published)
            .ok_or(MediaError::NotFound)
    }

    /// The object at `key`, whole or by range, served as `content_type`.
    pub(super) async fn open_blob(
        &self,
        key: &BlobKey,
        content_type: &'static str,
        range: Option<ByteRange>,
    ) -> Result<MediaDownload, MediaError> {
        let blob_error = |e| match e {
            BlobError::NotFound => MediaError::NotFound,
            BlobError::InvalidRange { size } => MediaError::InvalidRange { size },
            other => MediaError::Unexpected(anyhow::Error::new(other).context("reading media")),
        };
        let range = match range {
            None => None,
            // A bounded range goes straight to the store, which knows the size.
            Some(ByteRange::Bounded { start, end }) if start <= end => {
                Some(start..end.saturating_add(1))
            }
            // The others need the size first.
            Some(open) => {
                let size = self.ports.blobs.head(key).await.map_err(blob_error)?.size;
                Some(
                    open.resolve(size)
                        .ok_or(MediaError::InvalidRange { size })?,
                )
            }
        };
        let object = self.ports.blobs.get(key, range).await.map_err(blob_error)?;
        Ok(MediaDownload {
            object,
            content_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ByteRange;

    #[test]
    fn byte_ranges_resolve_like_http_says() {
        let size = 1000;
        assert_eq!(
            ByteRange::Bounded { start: 0, end: 99 }.resolve(size),
            Some(0..100)
        );
        assert_eq!(
            ByteRange::Bounded {
                start: 900,
                end: 5000
            }
            .resolve(size),
            Some(900..1000)
        );
        assert_eq!(
            ByteRange::From { start: 990 }.resolve(size),
            Some(990..1000)
        );
        assert_eq!(
            ByteRange::Suffix { length: 10 }.resolve(size),
            Some(990..1000)
        );
        assert_eq!(
            ByteRange::Suffix { length: 5000 }.resolve(size),
            Some(0..1000)
        );
        assert_eq!(ByteRange::From { start: 1000 }.resolve(size), None);
        assert_eq!(ByteRange::Bounded { start: 5, end: 4 }.resolve(size), None);
        assert_eq!(ByteRange::Suffix { length: 0 }.resolve(size), None);
    }
}
