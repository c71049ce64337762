use std::collections::HashMap;
use std::time::{Duration, Instant};

use anb_domain::ports::{PageStore, StoredPage};
use async_trait::async_trait;
use parking_lot::Mutex;

/// Past this many pages, a put first drops the expired ones.
const PRUNE_ABOVE: usize = 1024;

/// A [`PageStore`] in process memory: pages shared by everything in one process that holds
/// the same store (two HTTP states in a test, an embedding application). Expired pages are
/// never returned, and are dropped once the store holds more than 1,024 pages, so it stays as
/// small as the pages put within one time-to-live.
#[derive(Debug, Default)]
pub struct MemoryPageStore {
    pages: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
}

impl MemoryPageStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl PageStore for MemoryPageStore {
    async fn get(&self, key: &str) -> anyhow::Result<Option<StoredPage>> {
        let now = Instant::now();
        Ok(self
            .pages
            .lock()
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(bytes, until)| StoredPage {
                bytes: bytes.clone(),
                expires_in: *until - now,
            }))
    }

    async fn put(&self, key: &str, bytes: &[u8], ttl: Duration) -> anyhow::Result<()> {
        let ttl = Duration::from_millis(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        if ttl.is_zero() {
            return Ok(());
        }
        let now = Instant::now();
        let until = now
            .checked_add(ttl)
            .unwrap_or(now + Duration::from_secs(86_400 * 365));
        let mut pages = self.pages.lock();
        if pages.len() >= PRUNE_ABOVE {
            pages.retain(|_, (_, until)| *until > now);
        }
        pages.insert(key.to_owned(), (bytes.to_vec(), until));
        Ok(())
    }
}
