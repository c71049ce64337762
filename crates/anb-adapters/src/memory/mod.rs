//! In-memory adapters: every repository, the job queue, the blob store and the mailer, held in
//! process.
//! They behave exactly like the durable ones (the conformance suite proves it) and lose
//! everything when the process ends: for tests, demos and embedding without storage.

mod events;
mod mail;
mod ops;
mod pages;
mod queue;
mod renditions;
mod sessions;
mod shares;
mod store;

use std::sync::Arc;

use anb_domain::ports::{Clock, SystemClock};

pub use mail::MemoryMailer;
pub use pages::MemoryPageStore;
pub use queue::MemoryQueue;
pub use store::MemoryStore;

use crate::blob::ObjectStoreBlobs;

/// The in-memory repositories, queue and blob store, sharing one clock.
#[derive(Clone)]
pub struct MemoryBackend {
    /// Users, videos, votes and renditions.
    pub store: Arc<MemoryStore>,
    /// Jobs.
    pub queue: Arc<MemoryQueue>,
    /// Media (object_store's `InMemory`).
    pub blobs: Arc<ObjectStoreBlobs>,
    /// The clock the queue uses for leases.
    pub clock: Arc<dyn Clock>,
    /// Email: every message sent, kept.
    pub mailer: Arc<MemoryMailer>,
}

impl MemoryBackend {
    /// Empty stores on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// Empty stores on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
            queue: Arc::new(MemoryQueue::new(clock.clone())),
            blobs: Arc::new(ObjectStoreBlobs::in_memory()),
            clock,
            mailer: Arc::new(MemoryMailer::new()),
        }
    }

    /// All the service's ports on these stores and this mailer, with argon2id hashing and JWTs signed by a
    /// random per-backend secret, and the given transcoder.
    #[cfg(all(feature = "argon2", feature = "jwt", feature = "webhooks"))]
    pub fn ports(&self, transcoder: Arc<dyn anb_domain::ports::Transcoder>) -> anb_domain::Ports {
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        anb_domain::Ports {
            users: self.store.clone(),
            videos: self.store.clone(),
            votes: self.store.clone(),
            renditions: self.store.clone(),
            sessions: self.store.clone(),
            shares: self.store.clone(),
            events: self.store.clone(),
            ops: self.store.clone(),
            webhook_sender: Arc::new(
                crate::webhooks::HttpWebhookSender::new(true).expect("an HTTP client"),
            ),
            jobs: self.queue.clone(),
            blobs: self.blobs.clone(),
            transcoder,
            hasher: Arc::new(crate::argon2::Argon2Hasher::default()),
            tokens: Arc::new(
                crate::jwt::JwtIssuer::new(secret.as_bytes(), crate::jwt::JwtConfig::default())
                    .expect("a 64-character secret is strong enough"),
            ),
            clock: self.clock.clone(),
            mailer: self.mailer.clone(),
            identity: None,
            trace: Arc::new(anb_domain::ports::NoTraceContext),
        }
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}
