//! The use cases, as one service that embedders call.

mod account;
mod auth;
mod conversion_jobs;
mod conversions;
mod direct_playlists;
mod media_downloads;
mod oidc;
mod ops;
mod processing;
mod public_pages;
mod rendition_files;
mod reprocess;
mod restore;
mod sessions;
mod sharing;
mod streaming;
mod sweeper;
mod upload_stream;
mod uploads;
mod videos;
mod voting;
mod webhooks;

use std::sync::{Arc, OnceLock};

pub use account::{
    ResetPasswordError, SendVerificationError, VerifyEmailError, RESET_TTL, VERIFICATION_TTL,
};
pub use auth::{LoginError, ProfileError, SignupError, SignupForm};
pub use conversions::{ConversionAccepted, ConversionError, RenditionList};
pub use media_downloads::{ByteRange, MediaDownload, MediaError, MediaKind};
pub use oidc::{OidcError, OidcOutcome, OidcProfile, OidcStart};
pub use ops::WORKER_SILENCE;
pub use processing::JobOutcome;
pub use public_pages::{PlayerPage, PublicPageError, MAX_RANKED_CITIES};
pub use rendition_files::RenditionFile;
pub use reprocess::{ReprocessError, ReprocessTarget};
pub use restore::{JobRestore, RestoreReport};
pub use sessions::{RefreshError, SignedIn};
pub use sharing::{
    ShareLinkGrant, SharedPlayback, SharingError, MAX_LINKS_PER_VIDEO, MAX_SHARES_PER_VIDEO,
    MAX_SHARE_LINK_TTL, MIN_SHARE_LINK_TTL,
};
pub use streaming::{Playback, PlaybackGrant, StreamDownload, StreamFile};
pub use uploads::{ReceivedFile, UploadForm, UploadReceipt, UploadVideoError};
pub use videos::{DeleteVideoError, PublishError, VideoAccessError};
pub use webhooks::{DeliveryRound, WebhookError, DELIVERY_LEASE};

use crate::job::RetryPolicy;
use crate::media::MediaLimits;
use crate::ports::{
    BlobStore, Clock, EventLog, IdentityProvider, JobQueue, Mailer, OpsRecords, PasswordHasher,
    RenditionRepository, SessionRepository, ShareRepository, TokenIssuer, TraceContext, Transcoder,
    UserRepository, VideoRepository, VoteRepository, WebhookSender,
};
use crate::values::PasswordHash;

/// The failure of a read-only query, whose only failure is a backend fault.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct QueryError(#[from] pub anyhow::Error);

/// Every port the service uses. Build it from adapters (`anb::app::compose` does it from
/// configuration), then hand it to [`Showcase::new`].
#[derive(Clone)]
pub struct Ports {
    /// Players.
    pub users: Arc<dyn UserRepository>,
    /// Videos.
    pub videos: Arc<dyn VideoRepository>,
    /// Votes and rankings.
    pub votes: Arc<dyn VoteRepository>,
    /// Conversions on demand.
    pub renditions: Arc<dyn RenditionRepository>,
    /// Sign-in sessions and their refresh tokens.
    pub sessions: Arc<dyn SessionRepository>,
    /// Private shares and share links.
    pub shares: Arc<dyn ShareRepository>,
    /// Video events (the audit trail), webhooks and their outbox.
    pub events: Arc<dyn EventLog>,
    /// Sends webhook messages.
    pub webhook_sender: Arc<dyn WebhookSender>,
    /// Workers' reports and processing activity, for the operator's summary.
    pub ops: Arc<dyn OpsRecords>,
    /// Background jobs.
    pub jobs: Arc<dyn JobQueue>,
    /// Media storage.
    pub blobs: Arc<dyn BlobStore>,
    /// Media probing and processing.
    pub transcoder: Arc<dyn Transcoder>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access tokens.
    pub tokens: Arc<dyn TokenIssuer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Outgoing email (verification, password reset).
    pub mailer: Arc<dyn Mailer>,
    /// The OpenID provider players may log in with (`None`: password logins only).
    pub identity: Option<Arc<dyn IdentityProvider>>,
    /// The trace context jobs carry to the worker ([`NoTraceContext`](crate::ports::NoTraceContext):
    /// none).
    pub trace: Arc<dyn TraceContext>,
}

/// Tunables of the use cases.
#[derive(Clone, Debug, PartialEq)]
pub struct ShowcaseConfig {
    /// Largest upload accepted, in bytes (default 100 MiB). Enforced while streaming.
    pub max_upload_bytes: u64,
    /// Retry policy of processing jobs; its `max_attempts` is also the ceiling on deliveries
    /// of a job whose worker died (see [`Showcase::handle_job`]).
    pub retry: RetryPolicy,
    /// What uploaded media may be: checked on the upload's probe and again by the worker.
    pub media_limits: MediaLimits,
    /// How long a playback grant (signed playback URLs) lasts (default 4 hours).
    pub playback_ttl: std::time::Duration,
    /// How many conversions on demand one player may have waiting or being made (default 3).
    pub max_pending_conversions: u32,
    /// How long a refresh token lasts unused (default 30 days); each refresh replaces it with
    /// one as long-lived, so a session lasts while it is used.
    pub refresh_ttl: std::time::Duration,
    /// The address players open the web app at (no trailing slash), for links in emails
    /// (default `http://127.0.0.1:8080`).
    pub public_url: String,
    /// Whether only players who verified their email may vote (default off).
    pub vote_requires_verified_email: bool,
    /// This process's name in the audit trail's processing attempts (default `anb`; the
    /// binary uses `host:pid`).
    pub instance: String,
    /// When failed webhook deliveries are tried again, and when they give up.
    pub webhook_retry: crate::webhook::WebhookRetry,
    /// How many webhooks one player may have (default 10).
    pub max_webhooks_per_player: u32,
}

impl Default for ShowcaseConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 100 * 1024 * 1024,
            retry: RetryPolicy::default(),
            media_limits: MediaLimits::default(),
            playback_ttl: std::time::Duration::from_secs(4 * 3600),
            max_pending_conversions: 3,
            refresh_ttl: std::time::Duration::from_secs(30 * 24 * 3600),
            public_url: "http://127.0.0.1:8080".to_owned(),
            vote_requires_verified_email: false,
            instance: "anb".to_owned(),
            webhook_retry: crate::webhook::WebhookRetry::default(),
            max_webhooks_per_player: 10,
        }
    }
}

/// ANB Showcase's use cases: sign up, log in, upload, list, publish, delete, vote, rank, and
/// the processing job. Cheap to clone (it holds `Arc`s); share one per process.
///
/// # Example
/// The whole flow on the in-memory adapters (`anb_adapters::memory`):
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// use anb_adapters::memory::MemoryBackend;
/// use anb_adapters::testkit::{marker_video, MarkerTranscoder};
/// use anb_domain::{PageRequest, ProcessedMedia, RankingQuery, Showcase, SignupForm, UploadForm};
///
/// let ports = MemoryBackend::new().ports(std::sync::Arc::new(MarkerTranscoder));
/// let showcase = Showcase::new(ports, Default::default());
///
/// let signup = |first: &str, email: &str| SignupForm {
///     first_name: first.into(), last_name: "Pérez".into(), email: email.into(),
///     password1: "s3cret-pass".into(), password2: "s3cret-pass".into(),
///     city: "Bogotá".into(), country: "Colombia".into(),
/// };
/// let ana = showcase.signup(signup("Ana", "ana@example.com")).await?;
/// let ben = showcase.signup(signup("Ben", "ben@example.com")).await?;
///
/// // Ana uploads a clip; a job is queued to process it.
/// let form = UploadForm { title: "Crossover".into(), ..UploadForm::default() };
/// let receipt = showcase.upload_video(ana.id, form, marker_video(4096)).await?;
///
/// // A worker takes the job (here the processing itself is a stand-in).
/// let job = showcase.next_job(std::time::Duration::from_secs(60)).await?.expect("queued");
/// showcase.handle_job(&job, |video| async move {
///     Ok(ProcessedMedia {
///         processed: anb_domain::BlobKey::processed(video.id),
///         thumbnail: anb_domain::BlobKey::thumbnail(video.id),
///         stream: None,
///         storyboard: None,
///         duration_seconds: 20.0,
///     })
/// }).await?;
///
/// // Ben votes; Ana leads the rankings.
/// assert_eq!(showcase.cast_vote(ben.id, receipt.video.id).await?, 1);
/// let rankings = showcase.rankings(&RankingQuery { city: None, country: None, page: PageRequest::default() }).await?;
/// assert_eq!(rankings.items[0].username, "Ana Pérez");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Showcase {
    ports: Ports,
    config: ShowcaseConfig,
    /// A hash verified when a login names an unknown email, so both failures take as long.
    decoy_hash: Arc<OnceLock<PasswordHash>>,
}

impl Showcase {
    /// The service over `ports`.
    pub fn new(ports: Ports, config: ShowcaseConfig) -> Self {
        Self {
            ports,
            config,
            decoy_hash: Arc::new(OnceLock::new()),
        }
    }

    /// The ports, for callers composing their own flows (workers, health checks).
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The trace context a job enqueued now carries ([`Ports::trace`]).
    fn trace_context(&self) -> Option<String> {
        self.ports.trace.current()
    }

    /// The configuration.
    pub fn config(&self) -> &ShowcaseConfig {
        &self.config
    }
}
