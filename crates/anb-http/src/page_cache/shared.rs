//! The shared layer of a page cache (a [`PageStore`]): pages as JSON, and failures that never
//! reach a request.

use std::time::{Duration, Instant};

use std::sync::Arc;

use anb_domain::ports::PageStore;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Page;

/// How long the store is left alone after it failed: meanwhile pages come from the database,
/// and a store that is down costs requests nothing and logs one warning per pause.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Pages shared through a [`PageStore`]. Errors (unreachable, too slow, a page that does
/// not parse) are logged with `warn` and read as a miss, never returned.
pub struct SharedPages {
    store: Arc<dyn PageStore>,
    paused_until: Mutex<Option<Instant>>,
}

impl SharedPages {
    /// Pages on `store`.
    pub fn new(store: Arc<dyn PageStore>) -> Self {
        Self {
            store,
            paused_until: Mutex::new(None),
        }
    }

    /// The page under `key` and how much longer Redis keeps it, if it has it (and answers).
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<(Page<T>, Duration)> {
        if self.paused() {
            return None;
        }
        let stored = match self.store.get(key).await {
            Ok(stored) => stored?,
            Err(e) => {
                self.failed(&e);
                return None;
            }
        };
        match serde_json::from_slice(&stored.bytes) {
            Ok(page) => Some((page, stored.expires_in)),
            Err(e) => {
                tracing::warn!(key, error = %e, "a shared page does not parse; reloading it");
                None
            }
        }
    }

    /// Keeps `page` under `key` for `ttl`, when Redis answers.
    pub async fn put<T: Serialize>(&self, key: &str, page: &Page<T>, ttl: Duration) {
        if self.paused() {
            return;
        }
        let bytes = match serde_json::to_vec(page) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(key, error = %e, "a page to share does not serialize");
                return;
            }
        };
        if let Err(e) = self.store.put(key, &bytes, ttl).await {
            self.failed(&e);
        }
    }

    fn paused(&self) -> bool {
        let mut paused = self.paused_until.lock();
        match *paused {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                *paused = None;
                false
            }
            None => false,
        }
    }

    fn failed(&self, error: &anyhow::Error) {
        *self.paused_until.lock() = Some(Instant::now() + PAUSE_AFTER_FAILURE);
        tracing::warn!(
            error = format!("{error:#}"),
            pause = ?PAUSE_AFTER_FAILURE,
            "the shared page cache failed; serving pages from the database meanwhile"
        );
    }
}
