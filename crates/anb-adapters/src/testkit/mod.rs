//! Test support: the adapter conformance suite and small helpers.
//!
//! Run the suite on an adapter with one line per port family, in a test file (`crates/anb-adapters/tests/conformance.rs`
//! does this for every adapter):
//! ```text
//! mod sqlite {
//!     anb_adapters::repository_conformance!(my_sqlite_repositories());
//! }
//! ```
//! Each check becomes its own `#[tokio::test]` on a multi-threaded runtime, named after the
//! behaviour it proves. The subject is built fresh for every check.

pub mod clips;
pub mod conformance;
mod marker_transcoder;
#[cfg(feature = "testkit-oidc")]
pub mod oidc_provider;
#[cfg(feature = "testkit-s3")]
pub mod s3_server;
#[cfg(all(feature = "postgres", feature = "sqlite"))]
pub mod seed;
pub mod services;
#[cfg(feature = "smtp")]
pub mod smtp_server;

use std::sync::{Arc, Mutex};

use anb_domain::ports::Clock;
use chrono::{DateTime, Duration, SubsecRound, Utc};

pub use marker_transcoder::{marker_video, MarkerTranscoder, MARKER_AUDIO, MARKER_VIDEO};

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock stopped at the current time.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            now: Mutex::new(Utc::now().trunc_subsecs(6)),
        })
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.now.lock().expect("clock lock");
        *now += Duration::from_std(by).expect("a test-sized duration");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }
}

/// Deterministic pseudo-random bytes (xorshift), for test payloads that must not compress or repeat.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A unique suffix for names shared across tests (emails, cities, key prefixes).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
