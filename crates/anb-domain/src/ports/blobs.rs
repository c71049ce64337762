use std::ops::Range;
use std::time::Duration;

use async_trait::async_trait;

use crate::blob::{BlobKey, BlobMeta, BlobObject, ByteStream, DownloadUrl};

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No object under this key.
    #[error("no object under this key")]
    NotFound,
    /// The requested range starts at or beyond the end of the object, or is empty.
    #[error("range not satisfiable (object size {size})")]
    InvalidRange {
        /// The object's size, for a `Content-Range: bytes */size` answer.
        size: u64,
    },
    /// The stream being stored yielded an error; nothing was stored.
    #[error("the source stream failed: {0}")]
    Source(std::io::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores media.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `body` under `key` as it arrives (large bodies in multipart chunks; never the whole
    /// body in memory), replacing any object there. Returns the stored size. The object appears
    /// whole or not at all.
    ///
    /// # Errors
    /// [`BlobError::Source`] when `body` yields an error (the upload is aborted and nothing is
    /// left under `key`); [`BlobError::Unexpected`] for backend faults.
    async fn put(&self, key: &BlobKey, body: ByteStream) -> Result<u64, BlobError>;

    /// Reads the object, or the byte `range` of it (clamped to its end).
    ///
    /// # Errors
    /// [`BlobError::NotFound`]; [`BlobError::InvalidRange`] when the range is empty or starts at
    /// or past the end.
    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobObject, BlobError>;

    /// The object's metadata.
    ///
    /// # Errors
    /// [`BlobError::NotFound`].
    async fn head(&self, key: &BlobKey) -> Result<BlobMeta, BlobError>;

    /// Deletes the object. Deleting a missing object succeeds (idempotent).
    ///
    /// # Errors
    /// Only backend faults.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// Deletes every object under `prefix`: each whose key is `prefix`, a `/`, and more. The
    /// boundary is a whole segment: `streams/abc` covers `streams/abc/x` and
    /// `streams/abc/x/y`, never `streams/abcd/x` nor an object named exactly `streams/abc`.
    /// Returns how many objects were deleted; nothing under the prefix is `Ok(0)`, so a repeated
    /// call succeeds with 0 (idempotent).
    ///
    /// # Errors
    /// Only backend faults (some objects may then be deleted and others not; calling again
    /// finishes the job).
    async fn delete_prefix(&self, prefix: &BlobKey) -> Result<u64, BlobError>;

    /// How a client can download the object for the next `ttl`.
    ///
    /// # Errors
    /// Backend faults (e.g. signing credentials missing).
    async fn download_url(&self, key: &BlobKey, ttl: Duration) -> Result<DownloadUrl, BlobError>;
}
