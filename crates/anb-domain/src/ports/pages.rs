use std::time::Duration;

use async_trait::async_trait;

/// A page read back from a [`PageStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPage {
    /// The bytes that were put.
    pub bytes: Vec<u8>,
    /// How much longer the page lives in the store.
    pub expires_in: Duration,
}

/// Short-lived pages (any bytes, usually serialized JSON) that every instance of the service
/// shares, each kept for the time it was put with and then gone: one instance reads a public
/// page (the rankings, the gallery) from the database, the others are served it.
///
/// A cache: a page may be lost at any time, and callers treat an error as a miss. Adapters:
/// Redis (shared by every process), memory (shared within one process: tests, embedding), and
/// [`NoPageStore`] (nothing shared).
#[async_trait]
pub trait PageStore: Send + Sync + 'static {
    /// The page kept under `key` and how much longer it lives, or `None` when there is none
    /// (never put, or expired).
    ///
    /// # Errors
    /// When the store cannot answer.
    async fn get(&self, key: &str) -> anyhow::Result<Option<StoredPage>>;

    /// Keeps `bytes` under `key` for `ttl` (whole milliseconds), replacing what was there. A
    /// `ttl` under 1 ms stores nothing.
    ///
    /// # Errors
    /// When the store cannot answer.
    async fn put(&self, key: &str, bytes: &[u8], ttl: Duration) -> anyhow::Result<()>;
}

/// The page store that keeps nothing: every page is a miss, and putting one does nothing.
/// What a single instance, or one configured without a shared cache, uses.
///
/// ```
/// use anb_domain::ports::{NoPageStore, PageStore};
/// use std::time::Duration;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// NoPageStore.put("rankings:1", b"[]", Duration::from_secs(2)).await.unwrap();
/// assert!(NoPageStore.get("rankings:1").await.unwrap().is_none());
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPageStore;

#[async_trait]
impl PageStore for NoPageStore {
    async fn get(&self, _key: &str) -> anyhow::Result<Option<StoredPage>> {
        Ok(None)
    }

    async fn put(&self, _key: &str, _bytes: &[u8], _ttl: Duration) -> anyhow::Result<()> {
        Ok(())
    }
}
