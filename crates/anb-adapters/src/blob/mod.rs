//! [`BlobStore`] on the `object_store` crate: one adapter for every backend it speaks —
//! in memory, local files, S3 and S3-compatible servers — chosen by URL ([`BlobLocation`]).

mod location;

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use anb_domain::blob::{BlobKey, BlobMeta, BlobObject, ByteStream, DownloadUrl};
use anb_domain::ports::{BlobError, BlobStore};
use anyhow::Context as _;
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    Attribute, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMultipartOptions,
    WriteMultipart,
};

pub use location::{BlobLocation, S3Settings};

/// Size of each multipart part, and so the most bytes one upload holds in memory per part in
/// flight (pict-rs uses the same).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently per object.
const PARTS_IN_FLIGHT: usize = 2;

/// What signs download URLs: S3's signer, or (built without S3) nothing that can exist.
#[cfg(feature = "s3")]
type Presigner = Arc<dyn object_store::signer::Signer>;
#[cfg(not(feature = "s3"))]
type Presigner = std::convert::Infallible;

/// A [`BlobStore`] over any [`ObjectStore`].
#[derive(Clone)]
pub struct ObjectStoreBlobs {
    store: Arc<dyn ObjectStore>,
    /// Signs download URLs, for stores that can (S3).
    signer: Option<Presigner>,
}

impl std::fmt::Debug for ObjectStoreBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreBlobs")
            .field("store", &self.store.to_string())
            .field("presigns", &self.signer.is_some())
            .finish()
    }
}

impl ObjectStoreBlobs {
    /// Wraps an object store whose objects are downloaded through the API.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            signer: None,
        }
    }

    /// Opens the store a URL names (see [`BlobLocation::parse`]).
    ///
    /// # Errors
    /// As [`BlobLocation::parse`] and [`ObjectStoreBlobs::open`].
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        Self::open(&BlobLocation::parse(url)?)
    }

    /// Opens the store at `location`; a file directory is created if missing.
    ///
    /// # Errors
    /// When the directory cannot be created, the S3 settings are incomplete, or this build
    /// lacks the `s3` feature for an S3 location.
    pub fn open(location: &BlobLocation) -> anyhow::Result<Self> {
        match location {
            BlobLocation::Memory => Ok(Self::in_memory()),
            BlobLocation::File(dir) => Self::local(dir),
            #[cfg(feature = "s3")]
            BlobLocation::S3(settings) => Self::s3(settings),
            #[cfg(not(feature = "s3"))]
            BlobLocation::S3(_) => {
                anyhow::bail!("this build has no S3 support (cargo feature `s3`)")
            }
        }
    }

    /// Objects as files under `dir` (created if missing). Writes go to a temporary file renamed
    /// into place when complete, so readers never see half an object.
    ///
    /// # Errors
    /// When the directory cannot be created or resolved.
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the blob directory {}", dir.display()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening the blob directory {}", dir.display()))?;
        Ok(Self::new(Arc::new(store)))
    }

    /// An S3 bucket; downloads use presigned GET URLs.
    ///
    /// # Errors
    /// When the settings are incomplete (no credentials in them or in the environment is only
    /// found out on first use).
    #[cfg(feature = "s3")]
    pub fn s3(settings: &S3Settings) -> anyhow::Result<Self> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_allow_http(settings.allow_http)
            .with_virtual_hosted_style_request(!settings.path_style)
            // A store that is down answers within seconds, not after object_store's default
            // three minutes of retries: the upload gets its 503 while the client still waits.
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(10),
                ..object_store::RetryConfig::default()
            });
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let s3 = Arc::new(builder.build().context("configuring the S3 store")?);
        Ok(Self {
            store: s3.clone(),
            signer: Some(s3),
        })
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
        other => BlobError::Unexpected(fault(other, doing)),
    }
}

/// An object store error as the adapters return it ([`crate::outage`]): one a connection
/// failure caused (the store is down or unreachable) as an outage, anything else as a fault.
fn fault(e: object_store::Error, doing: &'static str) -> anyhow::Error {
    use std::io::ErrorKind as K;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut outage = false;
    while let Some(error) = cause {
        outage |= error.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                K::ConnectionRefused
                    | K::ConnectionReset
                    | K::ConnectionAborted
                    | K::NotConnected
                    | K::TimedOut
                    | K::BrokenPipe
                    | K::UnexpectedEof
            )
        });
        cause = error.source();
    }
    crate::outage::fault(
        e,
        doing,
        outage.then_some("the object store cannot serve now"),
    )
}

#[async_trait]
impl BlobStore for ObjectStoreBlobs {
    async fn put(&self, key: &BlobKey, mut body: ByteStream) -> Result<u64, BlobError> {
        let location = path(key);
        let mut options = PutMultipartOptions::default();
        if self.signer.is_some() {
            // Clients fetch these objects from the store itself (presigned URLs): the store
            // answers with the media type recorded here.
            options.attributes.insert(
                Attribute::ContentType,
                anb_domain::media::media_type(key.as_str()).into(),
            );
        }
        let upload = self
            .store
            .put_multipart_opts(&location, options)
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
            Err(e) => Err(BlobError::Unexpected(fault(e, "deleting an object"))),
        }
    }

    async fn delete_prefix(&self, prefix: &BlobKey) -> Result<u64, BlobError> {
        let prefix = path(prefix);
        let under = prefix.clone();
        // `list` matches whole segments already; the filter keeps the object named exactly like
        // the prefix out on every backend, whatever its listing does.
        let locations = self
            .store
            .list(Some(&prefix))
            .try_filter(move |meta| {
                let below = meta
                    .location
                    .prefix_match(&under)
                    .is_some_and(|mut rest| rest.next().is_some());
                std::future::ready(below)
            })
            .map_ok(|meta| meta.location)
            .boxed();
        // One request per 1000 objects on S3 (DeleteObjects), one file at a time locally.
        let mut deleted = self.store.delete_stream(locations);
        let mut count = 0;
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) => count += 1,
                // Gone since it was listed (a concurrent delete): not ours to count.
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    return Err(BlobError::Unexpected(fault(
                        e,
                        "deleting the objects under a prefix",
                    )))
                }
            }
        }
        Ok(count)
    }

    async fn download_url(&self, key: &BlobKey, ttl: Duration) -> Result<DownloadUrl, BlobError> {
        match &self.signer {
            None => Ok(DownloadUrl::ServedByApi),
            Some(signer) => presign(signer, key, ttl).await,
        }
    }
}

/// A presigned GET URL for `key`, valid for `ttl`.
#[cfg(feature = "s3")]
async fn presign(
    signer: &Presigner,
    key: &BlobKey,
    ttl: Duration,
) -> Result<DownloadUrl, BlobError> {
    let expires_at =
        chrono::Utc::now() + chrono::Duration::from_std(ttl).context("a download URL lifetime")?;
    let url = signer
        .signed_url(object_store::signer::Method::GET, &path(key), ttl)
        .await
        .map_err(|e| unexpected(e, "signing a download URL"))?;
    Ok(DownloadUrl::Presigned {
        url: url.to_string(),
        expires_at,
    })
}

/// Built without S3 there is no signer to call.
#[cfg(not(feature = "s3"))]
async fn presign(signer: &Presigner, _: &BlobKey, _: Duration) -> Result<DownloadUrl, BlobError> {
    match *signer {}
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
