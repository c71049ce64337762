//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use anb_domain::ports::{PageStore, Readiness};
use anb_domain::Showcase;
use tracing::Instrument as _;

use crate::abuse_limits::AbuseLimits;
use crate::api::models::PublicVideoItem;
use crate::api::public_models::RankedPlayer;
use crate::limits::EdgeLimits;
use crate::page_cache::PageCache;

/// The most password-reset emails sent after their answer at once (more are refused with 503).
const MAX_BACKGROUND_MAILS: usize = 32;

/// The kind of the cached rankings pages (part of their shared keys).
const RANKINGS: &str = "rankings";
/// The kind of the cached gallery pages (part of their shared keys).
const GALLERY: &str = "gallery";

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Origins allowed by CORS (empty: same origin only, no CORS headers at all).
    pub cors_origins: Vec<String>,
    /// Limits on connections, time, bodies and abuse (README: "Security").
    pub edge: EdgeLimits,
    /// How long public pages (rankings, gallery) are cached (0: not cached): the longest a
    /// vote or a newly published video takes to show, in process and shared alike.
    pub public_cache_ttl: Duration,
    /// The thumbnails' size, as the processing profile makes them (the shared pages'
    /// `og:image:width` and `og:image:height`).
    pub thumbnail_size: (u32, u32),
    /// The processed MP4's size (the shared pages' `og:video:width` and `og:video:height`).
    pub video_size: (u32, u32),
    /// The operators' token for `GET /api/ops/summary` (`None`: the summary is refused).
    pub ops_token: Option<String>,
    /// The origin of the blob store's own signed URLs (S3's presigned links, e.g.
    /// `https://media.example.com`), which the web app's pages may fetch media from: the
    /// owner's HLS segments come from there. `None`: this origin only.
    pub media_origin: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            edge: EdgeLimits::default(),
            public_cache_ttl: Duration::from_secs(2),
            thumbnail_size: (640, 360),
            video_size: (1280, 720),
            ops_token: None,
            media_origin: None,
        }
    }
}

/// The shared state: the use cases, readiness, and the edge's own state.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub showcase: Showcase,
    /// Backend checks for `/health/ready`.
    pub readiness: Arc<dyn Readiness>,
    /// HTTP settings.
    pub config: Arc<HttpConfig>,
    /// Sign-ups, logins, votes and uploads per address and per account.
    pub limits: Arc<AbuseLimits>,
    /// Short-lived rankings pages (see [`AppState::with_shared_pages`]).
    pub rankings_cache: Arc<PageCache<RankedPlayer>>,
    /// Short-lived gallery pages (see [`AppState::with_shared_pages`]).
    pub gallery_cache: Arc<PageCache<PublicVideoItem>>,
    /// Room for the emails sent after their answer (password resets): a permit per email.
    pub background_mails: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// The state for `showcase`, with `readiness` answering `/health/ready`.
    pub fn new(showcase: Showcase, readiness: Arc<dyn Readiness>, config: HttpConfig) -> Self {
        Self {
            limits: Arc::new(AbuseLimits::new(&config.edge.rates)),
            rankings_cache: Arc::new(PageCache::new(RANKINGS, config.public_cache_ttl)),
            gallery_cache: Arc::new(PageCache::new(GALLERY, config.public_cache_ttl)),
            background_mails: Arc::new(tokio::sync::Semaphore::new(MAX_BACKGROUND_MAILS)),
            showcase,
            readiness,
            config: Arc::new(config),
        }
    }

    /// Runs `send` (an email) after the answer, so that a slow mail server neither holds the
    /// request nor tells by its timing what `send` found. At most `MAX_BACKGROUND_MAILS` (32)
    /// run at once: `false`, running nothing, when there is no room.
    pub fn mail_after_answer(
        &self,
        send: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> bool {
        let Ok(permit) = self.background_mails.clone().try_acquire_owned() else {
            return false;
        };
        tokio::spawn(
            async move {
                send.await;
                drop(permit);
            }
            .in_current_span(),
        );
        true
    }

    /// The same state, with the public pages also shared through `store` by every instance
    /// given the same store (the `anb` binaries do this when `ANB_CACHE_URL` is set). A page
    /// is then read from the database about once per TTL across the instances (those missing
    /// it at the same moment may each read it), and still shows a vote within
    /// [`HttpConfig::public_cache_ttl`]. When the store fails, requests are answered from the
    /// database (and a warning is logged). Replaces the pages cached so far.
    pub fn with_shared_pages(self, store: Arc<dyn PageStore>) -> Self {
        let ttl = self.config.public_cache_ttl;
        Self {
            rankings_cache: Arc::new(PageCache::new(RANKINGS, ttl).with_shared(store.clone())),
            gallery_cache: Arc::new(PageCache::new(GALLERY, ttl).with_shared(store)),
            ..self
        }
    }
}
