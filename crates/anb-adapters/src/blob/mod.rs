//! [`BlobStore`] on the `object_store` crate: one adapter for every backend it speaks
//! (in-memory now; local files and S3 reuse it unchanged).

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use anb_domain::blob::{BlobKey, BlobMeta, BlobObject, ByteStream, DownloadUrl};
use anb_domain::ports::{BlobError, BlobStore};
use anyhow::Context as _;
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};

/// Size of each multipart part, and so the most bytes one upload holds in memory per part in
/// flight (pict-rs uses the same).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently per object.
const PARTS_IN_FLIGHT: usize = 2;

/// A [`BlobStore`] over any [`ObjectStore`].
#[derive(Clone, Debug)]
pub struct ObjectStoreBlobs {
    store: Arc<dyn ObjectStore>,
}

impl ObjectStoreBlobs {
    /// Wraps an object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// The object store underneath (to list or inspect objects).
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// A fresh, empty in-memory store (tests, demos).
    pub fn in_memory() -> Self {
        Self::new(Arc::new(object_store::memory::InMemory::new()))
    }
}

fn path(key: &BlobKey) -> Path {
    // BlobKey's alphabet and segment rules are a subset of object_store's: no encoding needed.
    Path::from(key.as_str())
}

fn unexpected(e: object_store::Error, doing: &'static str) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        other => BlobError::Unexpected(anyhow::Error::new(other).context(doing)),
    }
}

#[async_trait]
impl BlobStore for ObjectStoreBlobs {
    async fn put(&self, key: &BlobKey, mut body: ByteStream) -> Result<u64, BlobError> {
        let location = path(key);
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(|e| unexpected(e, "starting a multipart upload"))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                        let _ = writer.abort().await;
                        return Err(unexpected(e, "uploading a part"));
                    }
                    size += bytes.len() as u64;
                    writer.put(bytes);
                }
                Err(source) => {
                    let _ = writer.abort().await;
                    return Err(BlobError::Source(source));
                }
            }
        }
        writer
            .finish()
            .await
            .map_err(|e| unexpected(e, "completing a multipart upload"))?;
        Ok(size)
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobObject, BlobError> {
        let location = path(key);
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = match self.store.get_opts(&location, options).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
            Err(e) => {
                // A refused range surfaces as a backend-specific error: classify it by size.
                if let Some(range) = range {
                    let meta = self.head(key).await?;
                    if range.start >= range.end || range.start >= meta.size {
                        return Err(BlobError::InvalidRange { size: meta.size });
                    }
                }
                return Err(unexpected(e, "reading an object"));
            }
        };
        let meta = BlobMeta {
            size: result.meta.size,
            last_modified: Some(result.meta.last_modified),
        };
        let range = result.range.clone();
        let body = result.into_stream().map_err(std::io::Error::other).boxed();
        Ok(BlobObject { meta, range, body })
    }

    async fn head(&self, key: &BlobKey) -> Result<BlobMeta, BlobError> {
        let meta = self
            .store
            .head(&path(key))
            .await
            .map_err(|e| unexpected(e, "reading object metadata"))?;
        Ok(BlobMeta {
            size: meta.size,
            last_modified: Some(meta.last_modified),
        })
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self.store.delete(&path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(BlobError::Unexpected(
                anyhow::Error::new(e).context("deleting an object"),
            )),
        }
    }

    async fn download_url(&self, key: &BlobKey, _ttl: Duration) -> Result<DownloadUrl, BlobError> {
        // Stores with signing (S3) get their own answer when that backend lands; the rest are
        // streamed through the API. Either way the object must exist.
        self.head(key).await.map(|_| DownloadUrl::ServedByApi)
    }
}

/// Reads a whole object into memory (tests and small objects only).
///
/// # Errors
/// As [`BlobStore::get`], or when the stream fails.
pub async fn read_all(blobs: &dyn BlobStore, key: &BlobKey) -> anyhow::Result<Vec<u8>> {
    let object = blobs.get(key, None).await?;
    let chunks: Vec<bytes::Bytes> = object.body.try_collect().await.context("reading a blob")?;
    Ok(chunks.concat())
}
