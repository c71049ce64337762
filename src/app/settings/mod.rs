//! Settings of the binaries: defaults, then a TOML file (`anb.toml`, or the file `ANB_CONFIG`
//! names), then `ANB_*` environment variables (`ANB_DATABASE_URL` sets `database_url`).
//!
//! URLs choose the adapters (see [`compose`](crate::app::compose)):
//! - `database_url`: `sqlite://data/anb.db` (default, under `data_dir`) | `postgres://…` | `memory://`
//! - `queue_url`: `db://` (default: the database's jobs table) | `redis://…` | `memory://`
//! - `blob_url`: `file://data/blobs` (default, under `data_dir`) | `s3://bucket?…` | `memory://`
//! - `cache_url`: none (default: public pages cached in each process only) | `redis://…` | `memory://`
//! - `smtp_url`: none (default: each email an `.eml` file under `{data_dir}/mail`) | `smtp://…` | `smtps://…`
//! - `otlp_endpoint`: none (default: no traces exported) | `http://…` | `https://…` (OTLP/HTTP)
//!
//! ```
//! use anb::app::settings::Settings;
//! use figment::Figment;
//!
//! let settings = Settings::from_figment(&Figment::new().merge(("data_dir", "/srv/anb"))).unwrap();
//! assert_eq!(settings.database_url, "sqlite:///srv/anb/anb.db");
//! assert_eq!(settings.blob_url, "file:///srv/anb/blobs");
//! assert_eq!(settings.queue_url, "db://");
//! ```

mod describe;
mod jwt_secret;
mod media_limits;
mod oidc;
mod secret;
mod webhooks;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anb_domain::media::MediaLimits;
use anb_domain::values::Rate;
use anb_domain::Profile;
use anyhow::{bail, ensure, Context as _};
use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

pub use anb_http::{EdgeLimits, RateLimits};
pub use describe::mask_url;
pub use jwt_secret::JWT_SECRET_FILE;
pub use oidc::OidcSettings;
pub use secret::Secret;
pub use webhooks::WebhookSettings;

/// Environment variable naming the settings file (default [`DEFAULT_CONFIG_FILE`]).
pub const CONFIG_ENV: &str = "ANB_CONFIG";
/// The settings file read when [`CONFIG_ENV`] is not set; it may be absent.
pub const DEFAULT_CONFIG_FILE: &str = "anb.toml";
/// Prefix of the environment variables: `ANB_` + the key in upper case.
pub const ENV_PREFIX: &str = "ANB_";
/// Where players open the web app unless `ANB_PUBLIC_URL` says otherwise (what `scripts/run`
/// serves).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";
/// The sender of every email unless `ANB_MAIL_FROM` names another.
pub const DEFAULT_MAIL_FROM: &str = "ANB Showcase <no-reply@localhost>";

/// Keys whose environment variables are taken verbatim (never parsed as a number, a list or
/// a table): secrets, and the sender, whose `Name <address>` figment would not leave alone.
const VERBATIM: &[&str] = &[
    "jwt_secret",
    "smtp_url",
    "mail_from",
    "oidc_client_id",
    "oidc_client_secret",
    "webhook_secret",
    "ops_token",
];

/// Every key a file or the environment may set.
const KEYS: &[&str] = &[
    "http_addr",
    "database_url",
    "database_max_connections",
    "queue_url",
    "queue_name",
    "blob_url",
    "data_dir",
    "jwt_secret",
    "profile",
    "max_upload_mb",
    "worker_concurrency",
    "worker_lease_seconds",
    "playback_ttl_seconds",
    "access_token_ttl_seconds",
    "refresh_token_ttl_seconds",
    "max_pending_conversions",
    "log_format",
    "otlp_endpoint",
    "cors_origins",
    "cache_url",
    "smtp_url",
    "mail_from",
    "public_url",
    "vote_requires_verified_email",
    "webhook_url",
    "webhook_secret",
    "webhook_allow_private",
    "webhook_retry_first_ms",
    "webhook_give_up_after_seconds",
    "ops_token",
    "worker_metrics_addr",
    // The HTTP edge's limits (`anb_http::EdgeLimits`).
    "http_header_timeout_seconds",
    "http_idle_timeout_seconds",
    "http_body_timeout_seconds",
    "http_min_body_rate_kib",
    "http_body_limit_kib",
    "http_max_connections",
    "http2_max_streams",
    "trusted_proxies",
    "rate_signup_per_address",
    "rate_login_per_address",
    "rate_login_per_account",
    "rate_vote_per_address",
    "rate_vote_per_account",
    "rate_upload_per_address",
    "rate_upload_per_account",
    "rate_refresh_per_address",
    "rate_directory_per_account",
    "rate_sharing_per_account",
    "rate_verification_per_account",
    "rate_password_reset_per_address",
    "rate_password_reset_per_email",
    "password_hash_concurrency",
    "password_hash_wait_seconds",
    // What uploaded media may be (`MediaLimits`) and the worker's attempt ceiling.
    "media_max_side",
    "media_max_pixels",
    "media_max_fps",
    "media_max_seconds",
    "media_max_streams",
    "media_max_pixel_aspect",
    "media_video_codecs",
    "worker_max_attempts",
    // The OpenID provider players may log in with.
    "oidc_provider",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_name",
];

/// How the binaries write logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Compact human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Which repositories `database_url` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseBackend {
    /// `sqlite://PATH`: one file, the embedded default.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
    /// `memory://`: in process, lost at exit.
    Memory,
}

/// Which job queue `queue_url` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueBackend {
    /// `db://`: the jobs table of the configured database (in memory with a `memory://` one).
    Database,
    /// `redis://…` or `rediss://…`.
    Redis,
    /// `memory://`: in process, lost at exit.
    Memory,
}

/// Which blob store `blob_url` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobBackend {
    /// `file://DIR`.
    File,
    /// `s3://BUCKET?…`.
    S3,
    /// `memory://`.
    Memory,
}

/// The settings, loaded and checked.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the HTTP service listens (`ANB_HTTP_ADDR`, default `127.0.0.1:8080`).
    pub http_addr: SocketAddr,
    /// The database (`ANB_DATABASE_URL`, default `sqlite://{data_dir}/anb.db`).
    pub database_url: String,
    /// Most connections to the database per process (`ANB_DATABASE_MAX_CONNECTIONS`, default 10;
    /// SQLite's readers, besides its single writer).
    pub database_max_connections: u32,
    /// The job queue (`ANB_QUEUE_URL`, default `db://`).
    pub queue_url: String,
    /// The processing queue's name (`ANB_QUEUE_NAME`, default `video-processing`): its rows in
    /// the database's jobs table, or the prefix of its Redis keys. Deployments sharing a
    /// database or a Redis server keep apart by name.
    pub queue_name: String,
    /// The blob store (`ANB_BLOB_URL`, default `file://{data_dir}/blobs`).
    pub blob_url: String,
    /// Where the embedded defaults keep their files (`ANB_DATA_DIR`, default `data`).
    pub data_dir: PathBuf,
    /// The key signing access tokens (`ANB_JWT_SECRET`); see [`Settings::resolve_jwt_secret`].
    pub jwt_secret: Option<Secret>,
    /// The processing profile (`ANB_PROFILE`, a built-in name, default `showcase`).
    pub profile: Profile,
    /// Largest upload in MiB (`ANB_MAX_UPLOAD_MB`, default 100).
    pub max_upload_mb: u64,
    /// Jobs a worker runs at once (`ANB_WORKER_CONCURRENCY`; `None`: the worker's default).
    pub worker_concurrency: Option<usize>,
    /// Seconds a worker's lease on a job lasts between heartbeats (`ANB_WORKER_LEASE_SECONDS`,
    /// default 60).
    pub worker_lease_seconds: u64,
    /// How long signed playback links last, in seconds (`ANB_PLAYBACK_TTL_SECONDS`, default
    /// 14400: 4 hours).
    pub playback_ttl_seconds: u64,
    /// How long an access token lasts, in seconds (`ANB_ACCESS_TOKEN_TTL_SECONDS`, default
    /// 900: 15 minutes; the web app refreshes it).
    pub access_token_ttl_seconds: u64,
    /// How long an unused refresh token lasts, in seconds (`ANB_REFRESH_TOKEN_TTL_SECONDS`,
    /// default 2592000: 30 days); each refresh replaces it with one as long-lived.
    pub refresh_token_ttl_seconds: u64,
    /// How many conversions on demand one player may have waiting or being made
    /// (`ANB_MAX_PENDING_CONVERSIONS`, default 3).
    pub max_pending_conversions: u32,
    /// Log format (`ANB_LOG_FORMAT`: `text` or `json`).
    pub log_format: LogFormat,
    /// Where traces go (`ANB_OTLP_ENDPOINT`: an OpenTelemetry collector's OTLP/HTTP base URL,
    /// `http://…` or `https://…`; spans are posted to `{endpoint}/v1/traces`; a trailing `/`
    /// is dropped). Default none: no exporter, and jobs carry no trace context. Blank is none.
    pub otlp_endpoint: Option<String>,
    /// Origins allowed by CORS (`ANB_CORS_ORIGINS`, comma-separated or a TOML list; default none).
    pub cors_origins: Vec<String>,
    /// Where the HTTP instances share their cached public pages (`ANB_CACHE_URL`: a Redis
    /// server, `redis://…` or `rediss://…`; `memory://`, this process only; default none: each
    /// process caches its own). Blank is none.
    pub cache_url: Option<String>,
    /// The SMTP server email goes through (`ANB_SMTP_URL`: `smtp://user:pass@host:port`,
    /// `smtp://…?tls=required` for STARTTLS, `smtps://…`; default none: each email is written
    /// as an `.eml` file under [`Settings::mail_dir`]). A secret (it may hold a password):
    /// described and logged masked. Blank is none.
    pub smtp_url: Option<Secret>,
    /// The sender of every email (`ANB_MAIL_FROM`, a mailbox: `Name <user@host>` or a bare
    /// address; default [`DEFAULT_MAIL_FROM`]). Checked at start-up.
    pub mail_from: String,
    /// The address players open the web app at, for links in emails (`ANB_PUBLIC_URL`,
    /// `http://…` or `https://…`, default `http://127.0.0.1:8080`, what `scripts/run` serves;
    /// a trailing `/` is dropped).
    pub public_url: String,
    /// Whether only players who verified their email may vote
    /// (`ANB_VOTE_REQUIRES_VERIFIED_EMAIL`; default on when `ANB_SMTP_URL` is set, off
    /// otherwise: with email written to files nobody could verify).
    pub vote_requires_verified_email: bool,
    /// The HTTP edge's limits (README: "Security").
    pub edge: EdgeLimits,
    /// What uploaded media may be, checked at upload and again by the worker
    /// (`ANB_MEDIA_MAX_SIDE` 4096, `ANB_MEDIA_MAX_PIXELS` 8912896, `ANB_MEDIA_MAX_FPS` 240,
    /// `ANB_MEDIA_MAX_SECONDS` 600, `ANB_MEDIA_MAX_STREAMS` 8, `ANB_MEDIA_MAX_PIXEL_ASPECT` 4,
    /// `ANB_MEDIA_VIDEO_CODECS` comma-separated, default
    /// [`MediaLimits::DEFAULT_VIDEO_CODECS`]).
    pub media_limits: MediaLimits,
    /// Deliveries of a processing job before it gives up, failed attempts and crashed workers
    /// alike (`ANB_WORKER_MAX_ATTEMPTS`, default 5).
    pub worker_max_attempts: u32,
    /// The OpenID provider players may log in with (`ANB_OIDC_ISSUER`, `ANB_OIDC_CLIENT_ID`,
    /// `ANB_OIDC_CLIENT_SECRET`, all or none; `ANB_OIDC_PROVIDER=google` for Google's issuer;
    /// `ANB_OIDC_NAME`): `None`, password logins only.
    pub oidc: Option<OidcSettings>,
    /// Webhooks: the deployment's, private addresses, retries ([`WebhookSettings`]).
    pub webhooks: WebhookSettings,
    /// The operators' token for `GET /api/ops/summary` and the web app's operator page
    /// (`ANB_OPS_TOKEN`, at least 16 characters; default none: the summary is refused).
    pub ops_token: Option<Secret>,
    /// Where `anb worker` serves its `/metrics` and `/health` (`ANB_WORKER_METRICS_ADDR`, e.g.
    /// `0.0.0.0:9100`; default none: a worker alone serves no HTTP).
    pub worker_metrics_addr: Option<SocketAddr>,
}

/// The settings as read, before defaults that depend on other settings are filled in.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Raw {
    http_addr: SocketAddr,
    database_url: Option<String>,
    database_max_connections: u32,
    queue_url: String,
    queue_name: String,
    blob_url: Option<String>,
    data_dir: PathBuf,
    jwt_secret: Option<Secret>,
    profile: String,
    max_upload_mb: u64,
    worker_concurrency: Option<usize>,
    worker_lease_seconds: u64,
    playback_ttl_seconds: u64,
    access_token_ttl_seconds: u64,
    refresh_token_ttl_seconds: u64,
    max_pending_conversions: u32,
    log_format: LogFormat,
    otlp_endpoint: Option<String>,
    #[serde(deserialize_with = "list_or_comma_separated")]
    cors_origins: Vec<String>,
    cache_url: Option<String>,
    smtp_url: Option<Secret>,
    mail_from: String,
    public_url: String,
    vote_requires_verified_email: Option<bool>,
    http_header_timeout_seconds: u64,
    http_idle_timeout_seconds: u64,
    http_body_timeout_seconds: u64,
    http_min_body_rate_kib: u64,
    http_body_limit_kib: u64,
    http_max_connections: usize,
    http2_max_streams: u32,
    #[serde(deserialize_with = "list_or_comma_separated")]
    trusted_proxies: Vec<String>,
    rate_signup_per_address: Rate,
    rate_login_per_address: Rate,
    rate_login_per_account: Rate,
    rate_vote_per_address: Rate,
    rate_vote_per_account: Rate,
    rate_upload_per_address: Rate,
    rate_upload_per_account: Rate,
    rate_refresh_per_address: Rate,
    rate_directory_per_account: Rate,
    rate_sharing_per_account: Rate,
    rate_verification_per_account: Rate,
    rate_password_reset_per_address: Rate,
    rate_password_reset_per_email: Rate,
    password_hash_concurrency: Option<usize>,
    password_hash_wait_seconds: u64,
    media_max_side: u32,
    media_max_pixels: u64,
    media_max_fps: f64,
    media_max_seconds: f64,
    media_max_streams: u32,
    media_max_pixel_aspect: f64,
    #[serde(deserialize_with = "list_or_comma_separated")]
    media_video_codecs: Vec<String>,
    worker_max_attempts: u32,
    oidc_provider: Option<String>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<Secret>,
    oidc_name: Option<String>,
    webhook_url: Option<String>,
    webhook_secret: Option<Secret>,
    webhook_allow_private: bool,
    webhook_retry_first_ms: u64,
    webhook_give_up_after_seconds: u64,
    ops_token: Option<Secret>,
    worker_metrics_addr: Option<SocketAddr>,
}

impl Default for Raw {
    fn default() -> Self {
        let edge = EdgeLimits::default();
        let media = media_limits::MediaDefaults::default();
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            database_max_connections: 10,
            queue_url: "db://".into(),
            queue_name: "video-processing".into(),
            blob_url: None,
            data_dir: PathBuf::from("data"),
            jwt_secret: None,
            profile: "showcase".into(),
            max_upload_mb: 100,
            worker_concurrency: None,
            worker_lease_seconds: 60,
            playback_ttl_seconds: 4 * 3600,
            access_token_ttl_seconds: 15 * 60,
            refresh_token_ttl_seconds: 30 * 24 * 3600,
            max_pending_conversions: 3,
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            cors_origins: Vec::new(),
            cache_url: None,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            public_url: DEFAULT_PUBLIC_URL.into(),
            vote_requires_verified_email: None,
            http_header_timeout_seconds: edge.header_timeout.as_secs(),
            http_idle_timeout_seconds: edge.idle_timeout.as_secs(),
            http_body_timeout_seconds: edge.body_timeout.as_secs(),
            http_min_body_rate_kib: edge.min_body_bytes_per_second / 1024,
            http_body_limit_kib: edge.body_limit_bytes / 1024,
            http_max_connections: edge.max_connections,
            http2_max_streams: edge.http2_max_streams,
            trusted_proxies: Vec::new(),
            rate_signup_per_address: edge.rates.signup_per_address,
            rate_login_per_address: edge.rates.login_per_address,
            rate_login_per_account: edge.rates.login_per_account,
            rate_vote_per_address: edge.rates.vote_per_address,
            rate_vote_per_account: edge.rates.vote_per_account,
            rate_upload_per_address: edge.rates.upload_per_address,
            rate_upload_per_account: edge.rates.upload_per_account,
            rate_refresh_per_address: edge.rates.refresh_per_address,
            rate_directory_per_account: edge.rates.directory_per_account,
            rate_sharing_per_account: edge.rates.sharing_per_account,
            rate_verification_per_account: edge.rates.verification_per_account,
            rate_password_reset_per_address: edge.rates.password_reset_per_address,
            rate_password_reset_per_email: edge.rates.password_reset_per_email,
            password_hash_concurrency: edge.password_hash_concurrency,
            password_hash_wait_seconds: edge.password_hash_wait.as_secs(),
            media_max_side: media.limits.max_side,
            media_max_pixels: media.limits.max_pixels,
            media_max_fps: media.limits.max_frame_rate,
            media_max_seconds: media.limits.max_duration_seconds,
            media_max_streams: media.limits.max_streams,
            media_max_pixel_aspect: media.limits.max_pixel_aspect,
            media_video_codecs: media.limits.video_codecs,
            worker_max_attempts: media.max_attempts,
            oidc_provider: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_name: None,
            webhook_url: None,
            webhook_secret: None,
            webhook_allow_private: false,
            webhook_retry_first_ms: 5000,
            webhook_give_up_after_seconds: 24 * 3600,
            ops_token: None,
            worker_metrics_addr: None,
        }
    }
}

impl Raw {
    /// The edge's limits, checked.
    fn edge(&self) -> anyhow::Result<EdgeLimits> {
        let seconds = |name: &str, value: u64| {
            ensure!(value > 0, "{name} must be at least 1");
            Ok(Duration::from_secs(value))
        };
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|raw| {
                raw.parse::<IpNet>()
                    .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
                    .with_context(|| format!("trusted_proxies: {raw:?} is not an address or CIDR"))
            })
            .collect::<anyhow::Result<_>>()?;
        ensure!(
            self.http_max_connections > 0,
            "http_max_connections must be at least 1"
        );
        ensure!(
            self.http2_max_streams > 0,
            "http2_max_streams must be at least 1"
        );
        ensure!(
            self.http_body_limit_kib > 0,
            "http_body_limit_kib must be at least 1"
        );
        ensure!(
            self.http_min_body_rate_kib > 0,
            "http_min_body_rate_kib must be at least 1"
        );
        ensure!(
            self.password_hash_concurrency != Some(0),
            "password_hash_concurrency must be at least 1"
        );
        Ok(EdgeLimits {
            header_timeout: seconds(
                "http_header_timeout_seconds",
                self.http_header_timeout_seconds,
            )?,
            idle_timeout: seconds("http_idle_timeout_seconds", self.http_idle_timeout_seconds)?,
            body_timeout: seconds("http_body_timeout_seconds", self.http_body_timeout_seconds)?,
            min_body_bytes_per_second: self.http_min_body_rate_kib * 1024,
            body_limit_bytes: self.http_body_limit_kib * 1024,
            max_connections: self.http_max_connections,
            http2_max_streams: self.http2_max_streams,
            trusted_proxies,
            rates: RateLimits {
                signup_per_address: self.rate_signup_per_address,
                login_per_address: self.rate_login_per_address,
                login_per_account: self.rate_login_per_account,
                vote_per_address: self.rate_vote_per_address,
                vote_per_account: self.rate_vote_per_account,
                upload_per_address: self.rate_upload_per_address,
                upload_per_account: self.rate_upload_per_account,
                refresh_per_address: self.rate_refresh_per_address,
                directory_per_account: self.rate_directory_per_account,
                sharing_per_account: self.rate_sharing_per_account,
                verification_per_account: self.rate_verification_per_account,
                password_reset_per_address: self.rate_password_reset_per_address,
                password_reset_per_email: self.rate_password_reset_per_email,
            },
            password_hash_concurrency: self.password_hash_concurrency,
            password_hash_wait: seconds(
                "password_hash_wait_seconds",
                self.password_hash_wait_seconds,
            )?,
        })
    }
}

/// A list, or one string of comma-separated items (as an environment variable gives it).
fn list_or_comma_separated<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items {
        List(Vec<String>),
        Text(String),
    }
    let items = match Items::deserialize(d)? {
        Items::List(items) => items,
        Items::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}

impl Settings {
    /// Loads the settings: defaults, then the settings file, then the environment.
    ///
    /// # Errors
    /// When [`CONFIG_ENV`] names a missing file, the file or a variable is malformed (an
    /// unknown key in the file too), or a value is invalid (see [`Settings::from_figment`]).
    pub fn load() -> anyhow::Result<Self> {
        Self::from_figment(&Self::figment()?)
    }

    /// The layered sources [`Settings::load`] reads: the settings file (the one [`CONFIG_ENV`]
    /// names, which must exist, else `./anb.toml` if present), then the `ANB_*` variables.
    /// `ANB_JWT_SECRET`, `ANB_SMTP_URL`, `ANB_MAIL_FROM`, `ANB_OIDC_CLIENT_ID` and
    /// `ANB_OIDC_CLIENT_SECRET` are taken verbatim (never parsed as a number or a list).
    ///
    /// # Errors
    /// When [`CONFIG_ENV`] names a file that does not exist.
    pub fn figment() -> anyhow::Result<Figment> {
        let file = match std::env::var_os(CONFIG_ENV) {
            Some(path) => {
                let path = PathBuf::from(path);
                ensure!(
                    path.is_file(),
                    "{CONFIG_ENV} names {}, which is not a file",
                    path.display()
                );
                Some(path)
            }
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let variables: Vec<&str> = KEYS
            .iter()
            .copied()
            .filter(|k| !VERBATIM.contains(k))
            .collect();
        figment = figment.merge(Env::prefixed(ENV_PREFIX).only(&variables));
        for key in VERBATIM {
            let variable = format!("{ENV_PREFIX}{}", key.to_ascii_uppercase());
            if let Ok(value) = std::env::var(variable) {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        Ok(figment)
    }

    /// Reads and checks settings from any figment; keys it lacks take their defaults. Tests
    /// pass values this way: `Figment::new().merge(("queue_url", "memory://"))`.
    ///
    /// # Errors
    /// A malformed value or an unknown key; an unknown profile; a URL of no known backend (a
    /// cache URL that is not Redis' too); a zero upload limit, lease, concurrency or
    /// connection count; OpenID settings that are incomplete (see [`OidcSettings`]).
    pub fn from_figment(figment: &Figment) -> anyhow::Result<Self> {
        let raw: Raw = figment.extract().context("reading the settings")?;
        let edge = raw.edge()?;
        let (media_limits, worker_max_attempts) = (raw.media_limits()?, raw.worker_max_attempts()?);
        let oidc = raw.oidc()?;
        let webhooks = raw.webhooks()?;
        let profile = Profile::by_name(&raw.profile).with_context(|| {
            format!(
                "unknown processing profile {:?} (known: showcase, anb-course)",
                raw.profile
            )
        })?;
        let smtp_configured = raw
            .smtp_url
            .as_ref()
            .is_some_and(|url| !url.expose().trim().is_empty());
        let settings = Self {
            database_url: raw
                .database_url
                .unwrap_or_else(|| format!("sqlite://{}", raw.data_dir.join("anb.db").display())),
            blob_url: raw
                .blob_url
                .unwrap_or_else(|| format!("file://{}", raw.data_dir.join("blobs").display())),
            http_addr: raw.http_addr,
            database_max_connections: raw.database_max_connections,
            queue_url: raw.queue_url,
            queue_name: raw.queue_name,
            data_dir: raw.data_dir,
            jwt_secret: raw.jwt_secret,
            profile,
            max_upload_mb: raw.max_upload_mb,
            worker_concurrency: raw.worker_concurrency,
            worker_lease_seconds: raw.worker_lease_seconds,
            playback_ttl_seconds: raw.playback_ttl_seconds,
            access_token_ttl_seconds: raw.access_token_ttl_seconds,
            refresh_token_ttl_seconds: raw.refresh_token_ttl_seconds,
            max_pending_conversions: raw.max_pending_conversions,
            log_format: raw.log_format,
            otlp_endpoint: raw
                .otlp_endpoint
                .map(|url| url.trim().trim_end_matches('/').to_owned())
                .filter(|url| !url.is_empty()),
            cors_origins: raw.cors_origins,
            cache_url: raw
                .cache_url
                .map(|url| url.trim().to_owned())
                .filter(|url| !url.is_empty()),
            smtp_url: raw
                .smtp_url
                .map(|url| Secret::new(url.expose().trim()))
                .filter(|url| !url.expose().is_empty()),
            mail_from: raw.mail_from.trim().to_owned(),
            public_url: raw.public_url.trim().trim_end_matches('/').to_owned(),
            vote_requires_verified_email: raw
                .vote_requires_verified_email
                .unwrap_or(smtp_configured),
            edge,
            media_limits,
            worker_max_attempts,
            oidc,
            webhooks,
            worker_metrics_addr: raw.worker_metrics_addr,
            ops_token: raw
                .ops_token
                .map(|t| Secret::new(t.expose().trim()))
                .filter(|t| !t.expose().is_empty()),
        };
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.database()?;
        self.queue()?;
        self.blobs()?;
        if let Some(url) = &self.cache_url {
            ensure!(
                url.starts_with("redis://") || url.starts_with("rediss://") || url == "memory://",
                "unsupported cache URL {:?} (expected redis://…, rediss://… or memory://)",
                mask_url(url)
            );
        }
        if let Some(url) = &self.smtp_url {
            let url = url.expose();
            ensure!(
                url.starts_with("smtp://") || url.starts_with("smtps://"),
                "unsupported SMTP URL {:?} (expected smtp://… or smtps://…)",
                mask_url(url)
            );
        }
        if let Some(url) = &self.otlp_endpoint {
            let parsed = url::Url::parse(url).ok();
            ensure!(
                parsed.is_some_and(|u| {
                    matches!(u.scheme(), "http" | "https") && u.host_str().is_some()
                }),
                "otlp_endpoint must be an http:// or https:// address, not {:?}",
                mask_url(url)
            );
        }
        anb_adapters::mail::parse_from(&self.mail_from).context("mail_from")?;
        ensure!(
            (self.public_url.starts_with("http://") || self.public_url.starts_with("https://"))
                && self.public_url.len() > "https://".len(),
            "public_url must be an http:// or https:// address, not {:?}",
            self.public_url
        );
        ensure!(
            !self.queue_name.is_empty() && !self.queue_name.chars().any(char::is_whitespace),
            "queue_name must be a non-empty name without spaces"
        );
        ensure!(self.max_upload_mb > 0, "max_upload_mb must be at least 1");
        if let Some(token) = &self.ops_token {
            ensure!(
                token.expose().chars().count() >= 16,
                "ops_token must be at least 16 characters"
            );
        }
        ensure!(
            self.worker_lease_seconds > 0,
            "worker_lease_seconds must be at least 1"
        );
        ensure!(
            self.playback_ttl_seconds > 0,
            "playback_ttl_seconds must be at least 1"
        );
        ensure!(
            (1..=24 * 3600).contains(&self.access_token_ttl_seconds),
            "access_token_ttl_seconds must be between 1 and 86400"
        );
        ensure!(
            self.refresh_token_ttl_seconds >= self.access_token_ttl_seconds
                && self.refresh_token_ttl_seconds <= 365 * 24 * 3600,
            "refresh_token_ttl_seconds must be between access_token_ttl_seconds and a year"
        );
        ensure!(
            self.max_pending_conversions > 0,
            "max_pending_conversions must be at least 1"
        );
        ensure!(
            self.worker_concurrency != Some(0),
            "worker_concurrency must be at least 1"
        );
        ensure!(
            self.database_max_connections > 0,
            "database_max_connections must be at least 1"
        );
        Ok(())
    }

    /// The database backend `database_url` names.
    ///
    /// # Errors
    /// When it names none.
    pub fn database(&self) -> anyhow::Result<DatabaseBackend> {
        let url = self.database_url.as_str();
        Ok(if url.starts_with("sqlite:") {
            DatabaseBackend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseBackend::Postgres
        } else if url == "memory://" {
            DatabaseBackend::Memory
        } else {
            bail!(
                "unsupported database URL {:?} (expected sqlite://PATH, postgres://… or memory://)",
                mask_url(url)
            )
        })
    }

    /// The queue backend `queue_url` names.
    ///
    /// # Errors
    /// When it names none.
    pub fn queue(&self) -> anyhow::Result<QueueBackend> {
        let url = self.queue_url.as_str();
        Ok(if url == "db://" {
            QueueBackend::Database
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            QueueBackend::Redis
        } else if url == "memory://" {
            QueueBackend::Memory
        } else {
            bail!(
                "unsupported queue URL {:?} (expected db://, redis://… or memory://)",
                mask_url(url)
            )
        })
    }

    /// The blob backend `blob_url` names (its details are checked when it is opened).
    ///
    /// # Errors
    /// When it names none.
    pub fn blobs(&self) -> anyhow::Result<BlobBackend> {
        let url = self.blob_url.as_str();
        Ok(if url.starts_with("file://") {
            BlobBackend::File
        } else if url.starts_with("s3://") {
            BlobBackend::S3
        } else if url == "memory://" {
            BlobBackend::Memory
        } else {
            bail!(
                "unsupported blob store URL {:?} (expected file://DIR, s3://BUCKET or memory://)",
                mask_url(url)
            )
        })
    }

    /// Whether every backend lives in this process or on this machine's disk (SQLite or
    /// memory, with the database's or an in-memory queue, and file or memory blobs): no other
    /// process can share them, so a JWT secret may be generated and kept locally.
    ///
    /// # Errors
    /// When a URL names no backend.
    pub fn is_embedded(&self) -> anyhow::Result<bool> {
        Ok(matches!(
            self.database()?,
            DatabaseBackend::Sqlite | DatabaseBackend::Memory
        ) && matches!(self.queue()?, QueueBackend::Database | QueueBackend::Memory)
            && matches!(self.blobs()?, BlobBackend::File | BlobBackend::Memory))
    }

    /// The upload limit in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb.saturating_mul(1024 * 1024)
    }

    /// Where email is written when no SMTP server is configured: `{data_dir}/mail`.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }

    /// Where a generated JWT secret is kept.
    pub fn jwt_secret_file(&self) -> PathBuf {
        self.data_dir.join(JWT_SECRET_FILE)
    }
}

#[cfg(test)]
mod tests;
