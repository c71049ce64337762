//! Names and shapes of stored media.

use std::fmt;
use std::ops::Range;
use std::pin::Pin;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::ids::{RenditionId, UserId, VideoId};

/// A stream of bytes moving to or from a blob store. Errors are `std::io::Error`, the common
/// currency of HTTP bodies, files and object stores.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// The path of an object in a blob store: relative, `/`-separated, ASCII letters, digits and
/// `-_.` only, no empty or dot segments. Every backend (file system, S3, memory) can hold it as is.
///
/// ```
/// use anb_domain::{BlobKey, VideoId};
/// let id = VideoId::new();
/// assert_eq!(BlobKey::processed(id).as_str(), format!("processed/{id}.mp4"));
/// assert!(BlobKey::new("../etc/passwd").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

/// Why a string is not a [`BlobKey`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid blob key {key:?}: {reason}")]
pub struct InvalidBlobKey {
    /// The refused key.
    pub key: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl BlobKey {
    /// Longest key accepted.
    pub const MAX_LEN: usize = 1024;

    /// Validates a key.
    ///
    /// # Errors
    /// [`InvalidBlobKey`] when empty, too long, absolute, with empty/`.`/`..` segments, or with
    /// characters outside `[A-Za-z0-9/_.-]`.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidBlobKey> {
        let key = key.into();
        let reason = if key.is_empty() {
            Some("empty")
        } else if key.len() > Self::MAX_LEN {
            Some("too long")
        } else if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-'))
        {
            Some("characters outside [A-Za-z0-9/_.-]")
        } else if key
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..")
        {
            Some("empty, '.' or '..' segment")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidBlobKey { key, reason }),
            None => Ok(Self(key)),
        }
    }

    /// `uploads/{owner}/{video}.mp4`: the original upload.
    pub fn original(owner: UserId, video: VideoId) -> Self {
        Self(format!("uploads/{owner}/{video}.mp4"))
    }

    /// `processed/{video}.mp4`: the web-ready output.
    pub fn processed(video: VideoId) -> Self {
        Self(format!("processed/{video}.mp4"))
    }

    /// `thumbnails/{video}.jpg`: the thumbnail.
    pub fn thumbnail(video: VideoId) -> Self {
        Self(format!("thumbnails/{video}.jpg"))
    }

    /// `streams/{video}`: the prefix under which a video's streaming outputs live: HLS playlists
    /// and segments, storyboard (see [`BlobStore::delete_prefix`](crate::ports::BlobStore::delete_prefix)).
    pub fn streams(video: VideoId) -> Self {
        Self(format!("streams/{video}"))
    }

    /// `streams/{video}/hls/master.m3u8`: the HLS master playlist, at a fixed place (the
    /// rungs it lists live under a new generation for each processing run).
    pub fn stream_master(video: VideoId) -> Self {
        Self(format!("streams/{video}/hls/master.m3u8"))
    }

    /// `renditions/{video}`: the prefix under which a video's conversions on demand live.
    pub fn renditions(video: VideoId) -> Self {
        Self(format!("renditions/{video}"))
    }

    /// `renditions/{video}/{rendition}`: one conversion's files (`video.mp4`, `audio.mp3` or an
    /// HLS tree under `hls/`).
    pub fn rendition(video: VideoId, rendition: RenditionId) -> Self {
        Self(format!("renditions/{video}/{rendition}"))
    }

    /// This key, a `/`, and `rest`: a key under this one (`rest` may hold several segments).
    ///
    /// ```
    /// use anb_domain::{BlobKey, VideoId};
    /// let id = VideoId::new();
    /// let playlist = BlobKey::streams(id).join("720p/index.m3u8").unwrap();
    /// assert_eq!(playlist.as_str(), format!("streams/{id}/720p/index.m3u8"));
    /// assert!(BlobKey::streams(id).join("../escape").is_err());
    /// ```
    ///
    /// # Errors
    /// [`InvalidBlobKey`] when the joined key is not valid (see [`BlobKey::new`]): `rest` empty,
    /// starting or ending with `/`, with `.`/`..` segments or foreign characters, or too long.
    pub fn join(&self, rest: &str) -> Result<Self, InvalidBlobKey> {
        Self::new(format!("{}/{rest}", self.0))
    }

    /// The key beside this one named `name`: this key with its last segment replaced.
    ///
    /// ```
    /// use anb_domain::BlobKey;
    /// let playlist = BlobKey::new("streams/v/hls/ab12/720p/index.m3u8").unwrap();
    /// let segment = playlist.sibling("seg_00000.m4s").unwrap();
    /// assert_eq!(segment.as_str(), "streams/v/hls/ab12/720p/seg_00000.m4s");
    /// assert!(playlist.sibling("../index.m3u8").is_err());
    /// ```
    ///
    /// # Errors
    /// [`InvalidBlobKey`] when the result is not a valid key (see [`BlobKey::new`]).
    pub fn sibling(&self, name: &str) -> Result<Self, InvalidBlobKey> {
        match self.0.rsplit_once('/') {
            Some((parent, _)) => Self::new(format!("{parent}/{name}")),
            None => Self::new(name),
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BlobKey {
    type Error = InvalidBlobKey;
    fn try_from(key: String) -> Result<Self, Self::Error> {
        Self::new(key)
    }
}

impl From<BlobKey> for String {
    fn from(key: BlobKey) -> Self {
        key.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a blob store knows about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    /// Size in bytes.
    pub size: u64,
    /// Last write, when the backend records it.
    pub last_modified: Option<DateTime<Utc>>,
}

/// An object (or a range of it) being read.
pub struct BlobObject {
    /// The whole object's metadata.
    pub meta: BlobMeta,
    /// The byte range this stream carries (`0..size` for a whole read).
    pub range: Range<u64>,
    /// The bytes.
    pub body: ByteStream,
}

impl fmt::Debug for BlobObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobObject")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// How a client downloads an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownloadUrl {
    /// A time-limited URL the client fetches directly from the store (S3 presigned GET).
    Presigned {
        /// The URL.
        url: String,
        /// When it stops working.
        expires_at: DateTime<Utc>,
    },
    /// The store has no URL of its own: the HTTP service streams the object through its own route.
    ServedByApi,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn derived_keys_are_valid_keys() {
        let (u, v) = (UserId::new(), VideoId::new());
        for key in [
            BlobKey::original(u, v),
            BlobKey::processed(v),
            BlobKey::thumbnail(v),
            BlobKey::streams(v),
        ] {
            assert_eq!(BlobKey::new(key.as_str()).unwrap(), key);
        }
    }

    #[test]
    fn a_video_streams_live_under_one_prefix_named_after_the_video() {
        let v = VideoId::new();
        assert_eq!(BlobKey::streams(v).as_str(), format!("streams/{v}"));
        assert_ne!(BlobKey::streams(v), BlobKey::streams(VideoId::new()));
    }

    #[test]
    fn joining_appends_a_slash_and_the_rest() {
        let v = VideoId::new();
        let streams = BlobKey::streams(v);
        assert_eq!(
            streams.join("storyboard.jpg").unwrap().as_str(),
            format!("streams/{v}/storyboard.jpg")
        );
        assert_eq!(
            streams.join("720p/seg-00001.m4s").unwrap().as_str(),
            format!("streams/{v}/720p/seg-00001.m4s")
        );
        assert_eq!(
            BlobKey::new("a")
                .unwrap()
                .join("b")
                .unwrap()
                .join("c")
                .unwrap(),
            BlobKey::new("a/b/c").unwrap()
        );
    }

    #[test]
    fn joining_refuses_what_would_not_be_a_valid_key() {
        let streams = BlobKey::streams(VideoId::new());
        for rest in [
            "",
            "/",
            "/abs",
            "trailing/",
            "a//b",
            ".",
            "..",
            "../escape",
            "a/../b",
            "sp ace",
            "é",
            "a\\b",
        ] {
            let refused = streams.join(rest).unwrap_err();
            assert_eq!(refused.key, format!("{streams}/{rest}"), "{rest:?}");
        }
        assert!(streams.join(&"x".repeat(BlobKey::MAX_LEN)).is_err());
    }

    proptest! {
        #[test]
        fn a_valid_key_never_escapes_its_root(raw in "[a-z./_-]{0,40}") {
            if let Ok(key) = BlobKey::new(raw) {
                prop_assert!(!key.as_str().starts_with('/'));
                prop_assert!(key.as_str().split('/').all(|s| !s.is_empty() && s != ".." && s != "."));
            }
        }
    }
}
