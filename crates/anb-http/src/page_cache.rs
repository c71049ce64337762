//! Public pages (rankings, gallery) kept for a few seconds: a vote or a newly published video
//! shows up within the TTL.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// A cached page: when it was read, its rows, the total.
type Entry<T> = (Instant, Vec<T>, u64);

/// Pages by query key, each kept for `ttl`. Bounded: past 1,000 keys the map is cleared
/// (keys are filters × pages, so this only triggers under abuse).
pub struct PageCache<T> {
    ttl: Duration,
    pages: Mutex<HashMap<String, Entry<T>>>,
}

impl<T: Clone> PageCache<T> {
    /// A cache whose pages live `ttl` (zero: nothing is cached).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pages: Mutex::new(HashMap::new()),
        }
    }

    /// The page for `key` if it is fresh: rows and total.
    pub fn get(&self, key: &str) -> Option<(Vec<T>, u64)> {
        let pages = self.pages.lock();
        pages
            .get(key)
            .filter(|(at, _, _)| at.elapsed() < self.ttl)
            .map(|(_, rows, total)| (rows.clone(), *total))
    }

    /// Keeps a page.
    pub fn put(&self, key: String, rows: Vec<T>, total: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut pages = self.pages.lock();
        if pages.len() >= 1_000 {
            pages.clear();
        }
        pages.insert(key, (Instant::now(), rows, total));
    }
}
