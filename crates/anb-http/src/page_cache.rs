//! Public pages (rankings, gallery) kept for a few seconds, so that reading them is cheap while
//! a vote or a newly published video still shows up within the TTL.
//!
//! Two layers: each process keeps pages in memory ([moka], bounded, with single-flight loads),
//! and, when configured, the instances share them on Redis ([`SharedPages`]). A request for a
//! page this process does not have runs one load per key, however many requests wait for it:
//! Redis first, else the database, whose page then goes to Redis for the others.
//!
//! [moka]: https://docs.rs/moka

mod shared;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anb_domain::ports::PageStore;
use moka::future::Cache;
use moka::Expiry;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use shared::SharedPages;

/// Most pages one cache keeps in process; past that the least used go first. Keys are
/// filters × pages, so only abuse comes near it.
const CAPACITY: u64 = 1_000;

/// A page of rows, and the total across all pages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// This page's rows.
    pub rows: Vec<T>,
    /// Rows on all pages.
    pub total: u64,
}

/// A page held in process, and the moment it must be read again.
struct Fresh<T> {
    page: Page<T>,
    until: Instant,
}

/// Each page in process expires at its own `until`.
struct UntilItsDeadline;

impl<T> Expiry<String, Arc<Fresh<T>>> for UntilItsDeadline {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<Fresh<T>>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.until.saturating_duration_since(created_at))
    }
}

/// Pages of one kind (rankings, gallery) by query key.
///
/// **Freshness bound:** a page is served at most `ttl` after it was read from the database
/// (plus the milliseconds of one Redis round trip when shared): its in-process copy expires
/// `ttl` after that read, a copy taken from Redis expires when the Redis key does (its
/// remaining `PTTL`, never a fresh `ttl`), and the Redis key is written with what is left of
/// `ttl`. The two layers never add up, so a vote shows on every instance within `ttl`.
///
/// **Single flight:** concurrent requests for a key this process lacks wait for one load.
pub struct PageCache<T> {
    kind: String,
    ttl: Duration,
    pages: Cache<String, Arc<Fresh<T>>>,
    shared: Option<SharedPages>,
}

impl<T> PageCache<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// A cache of `kind` pages (`rankings`, `gallery`: it names the shared keys), each living
    /// `ttl` (zero: nothing is cached, every request loads).
    pub fn new(kind: &str, ttl: Duration) -> Self {
        let pages = Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(ttl.max(Duration::from_millis(1)))
            .expire_after(UntilItsDeadline)
            .build();
        Self {
            // The version keeps instances of different releases (different rows) apart.
            kind: format!("{kind}@{}", env!("CARGO_PKG_VERSION")),
            ttl,
            pages,
            shared: None,
        }
    }

    /// The same cache, sharing its pages with other instances through `store`.
    pub fn with_shared(self, store: Arc<dyn PageStore>) -> Self {
        Self {
            shared: Some(SharedPages::new(store)),
            ..self
        }
    }

    /// The page for `key`: kept in process, else (one load per key at a time) from Redis when
    /// shared, else from `load` (the database). Redis failures are logged and skipped.
    ///
    /// # Errors
    /// What `load` failed with (shared by the requests that waited for it).
    pub async fn get_or_load<F, Fut>(
        &self,
        key: &str,
        load: F,
    ) -> Result<Page<T>, Arc<anyhow::Error>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Page<T>>>,
    {
        if self.ttl.is_zero() {
            return load().await.map_err(Arc::new);
        }
        let fresh = self
            .pages
            .try_get_with_by_ref(key, self.load_once(key, load))
            .await?;
        Ok(fresh.page.clone())
    }

    /// What one load does: Redis, else `load` and then Redis.
    async fn load_once<F, Fut>(&self, key: &str, load: F) -> anyhow::Result<Arc<Fresh<T>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Page<T>>>,
    {
        let shared_key = format!("{}:{key}", self.kind);
        if let Some(shared) = &self.shared {
            let asked = Instant::now();
            if let Some((page, left)) = shared.get(&shared_key).await {
                let until = asked + left.min(self.ttl);
                return Ok(Arc::new(Fresh { page, until }));
            }
        }
        let read_at = Instant::now();
        let page = load().await?;
        let until = read_at + self.ttl;
        if let Some(shared) = &self.shared {
            let left = until.saturating_duration_since(Instant::now());
            shared.put(&shared_key, &page, left).await;
        }
        Ok(Arc::new(Fresh { page, until }))
    }
}
