//! The one place that knows every adapter: turns [`Settings`] into the ports the binaries run
//! on. The database URL picks the repositories (migrated on connect), the queue URL the job
//! queue, the blob URL the store, the cache URL (if any) the page store the HTTP instances
//! share; FFmpeg transcodes, argon2id hashes, JWTs sign; email goes to the SMTP server the
//! SMTP URL names, or without one into `.eml` files under the data directory.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let settings = anb::app::settings::Settings::load()?;
//! let app = anb::app::compose::connect(&settings).await?;
//! tracing::info!(backends = %settings.describe(), "connected");
//! let showcase = app.showcase.clone();
//! # Ok(()) }
//! ```

mod health;
mod process;
mod traces;

use std::sync::Arc;

use anb_domain::ports::{
    Clock, EventLog, JobQueue, Mailer, NoPageStore, OpsRecords, PageStore, RenditionRepository,
    SessionRepository, ShareRepository, SystemClock, TraceContext, UserRepository, VideoRepository,
    VoteRepository,
};
use anb_domain::{Ports, Profile, RetryPolicy, Showcase, ShowcaseConfig};
use anyhow::Context as _;

pub use health::Component;
pub use process::{init_logging, shutdown_signal, Telemetry};
pub use traces::W3cTraceContext;

use super::settings::{mask_url, DatabaseBackend, QueueBackend, Settings};
use anb_adapters::blob::ObjectStoreBlobs;
use anb_adapters::ffmpeg::{FfmpegConfig, FfmpegTranscoder, InputPolicy};
use anb_adapters::jwt::{JwtConfig, JwtIssuer};
use anb_adapters::mail::{FileMailer, SmtpMailer};
use anb_adapters::memory::{MemoryPageStore, MemoryQueue, MemoryStore};
use anb_adapters::postgres::{PostgresQueue, PostgresStore};
use anb_adapters::redis::{RedisPageStore, RedisQueue, DEFAULT_PAGE_PREFIX};
use anb_adapters::sqlite::{SqliteDatabase, SqliteQueue, SqliteStore};
use anb_adapters::webhooks::HttpWebhookSender;

/// The connected application: its ports, the service over them, and what health checks and
/// shutdown need.
pub struct Composed {
    /// Every port, on the adapters the settings chose.
    pub ports: Ports,
    /// The use cases over `ports`, with the settings' upload limit, media limits and attempt
    /// ceiling.
    pub showcase: Showcase,
    /// The processing profile workers use.
    pub profile: Profile,
    /// Where the HTTP instances share cached public pages (`cache_url`): Redis (keys under
    /// [`DEFAULT_PAGE_PREFIX`]), this process's memory (`memory://`), or nowhere
    /// ([`NoPageStore`], when unset).
    pub page_store: Arc<dyn PageStore>,
    database: Database,
}

impl std::fmt::Debug for Composed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composed")
            .field("profile", &self.profile.name)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// The database connection, kept for health checks and closing.
#[derive(Clone, Debug)]
enum Database {
    Sqlite(SqliteDatabase),
    Postgres(sqlx::PgPool),
    Memory,
}

/// Connects every backend the settings name and runs the database migrations (idempotent: any
/// number of processes may connect).
///
/// The page store is only a cache: one that does not answer is logged (`warn`) and kept (it
/// connects when the server comes back; meanwhile pages come from the database), never an error.
///
/// # Errors
/// When the JWT secret is missing or weak ([`Settings::resolve_jwt_secret`]), a backend cannot
/// be reached or opened, or a migration fails; the error names the backend, credentials masked.
pub async fn connect(settings: &Settings) -> anyhow::Result<Composed> {
    let secret = settings.resolve_jwt_secret()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let database = open_database(settings)
        .await
        .with_context(|| format!("database {}", mask_url(&settings.database_url)))?;
    let jobs = open_queue(settings, &database, &clock)
        .await
        .with_context(|| format!("queue {}", mask_url(&settings.queue_url)))?;
    let blobs = ObjectStoreBlobs::from_url(&settings.blob_url)
        .with_context(|| format!("blob store {}", mask_url(&settings.blob_url)))?;
    let tokens = JwtIssuer::new(
        secret.expose().as_bytes(),
        JwtConfig {
            ttl: std::time::Duration::from_secs(settings.access_token_ttl_seconds),
            ..JwtConfig::default()
        },
    )?;
    let page_store = open_page_store(settings).await?;
    let mailer = open_mailer(settings)?;
    // Without an exporter no span is traced: jobs and events would carry nothing anyway.
    let trace: Arc<dyn TraceContext> = match settings.otlp_endpoint {
        Some(_) => Arc::new(W3cTraceContext),
        None => Arc::new(anb_domain::ports::NoTraceContext),
    };
    let Repositories {
        users,
        videos,
        votes,
        renditions,
        sessions,
        shares,
        events,
        ops,
    } = repositories(&database, trace.clone());
    let ports = Ports {
        users,
        videos,
        votes,
        renditions,
        sessions,
        shares,
        events,
        ops,
        webhook_sender: Arc::new(
            HttpWebhookSender::new(settings.webhooks.allow_private)
                .context("building the webhook sender")?,
        ),
        jobs,
        blobs: Arc::new(blobs),
        transcoder: Arc::new(FfmpegTranscoder::new(FfmpegConfig {
            input: InputPolicy::with_limits(settings.media_limits.clone()),
            ..FfmpegConfig::default()
        })),
        hasher: Arc::new(
            anb_adapters::argon2::Argon2Hasher::default().with_concurrency(
                settings
                    .edge
                    .password_hash_concurrency
                    .unwrap_or_else(anb_adapters::argon2::default_concurrency),
                settings.edge.password_hash_wait,
            ),
        ),
        tokens: Arc::new(tokens),
        clock,
        mailer,
        identity: match &settings.oidc {
            Some(oidc) => Some(Arc::new(
                anb_adapters::oidc::OpenIdProvider::new(oidc.config())
                    .context("configuring the OpenID provider")?,
            )
                as Arc<dyn anb_domain::ports::IdentityProvider>),
            None => None,
        },
        trace,
    };
    let config = ShowcaseConfig {
        max_upload_bytes: settings.max_upload_bytes(),
        retry: RetryPolicy {
            max_attempts: settings.worker_max_attempts,
            ..RetryPolicy::default()
        },
        media_limits: settings.media_limits.clone(),
        playback_ttl: std::time::Duration::from_secs(settings.playback_ttl_seconds),
        refresh_ttl: std::time::Duration::from_secs(settings.refresh_token_ttl_seconds),
        max_pending_conversions: settings.max_pending_conversions,
        public_url: settings.public_url.clone(),
        vote_requires_verified_email: settings.vote_requires_verified_email,
        instance: instance_name(),
        webhook_retry: settings.webhooks.retry,
        ..ShowcaseConfig::default()
    };
    let showcase = Showcase::new(ports.clone(), config);
    let deployment_webhook = settings.webhooks.deployment.as_ref();
    showcase
        .set_deployment_webhook(
            deployment_webhook.map(|(url, secret)| (url.as_str(), secret.expose())),
        )
        .await
        .context("setting the deployment's webhook")?;
    Ok(Composed {
        showcase,
        ports,
        profile: settings.profile.clone(),
        page_store,
        database,
    })
}

/// This process's name in the audit trail: `host:pid` (the host from `HOSTNAME` or
/// `/etc/hostname`).
fn instance_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "anb".to_owned());
    format!("{host}:{}", std::process::id())
}

/// The mailer: the SMTP server `smtp_url` names (connected on the first email), or `.eml`
/// files under [`Settings::mail_dir`]; every email from `mail_from`.
fn open_mailer(settings: &Settings) -> anyhow::Result<Arc<dyn Mailer>> {
    let from = anb_adapters::mail::parse_from(&settings.mail_from).context("mail_from")?;
    Ok(match &settings.smtp_url {
        Some(url) => Arc::new(
            SmtpMailer::from_url(url.expose(), from)
                .with_context(|| format!("SMTP server {}", mask_url(url.expose())))?,
        ),
        None => Arc::new(FileMailer::new(settings.mail_dir(), from)?),
    })
}

/// The shared page store `cache_url` names (Redis checked with a `PING` that only warns), or
/// none.
async fn open_page_store(settings: &Settings) -> anyhow::Result<Arc<dyn PageStore>> {
    let Some(url) = &settings.cache_url else {
        return Ok(Arc::new(NoPageStore));
    };
    if url == "memory://" {
        return Ok(Arc::new(MemoryPageStore::new()));
    }
    let store = RedisPageStore::new(url, DEFAULT_PAGE_PREFIX)
        .with_context(|| format!("page cache {}", mask_url(url)))?;
    if let Err(e) = store.ping().await {
        tracing::warn!(
            cache = %mask_url(url),
            error = format!("{e:#}"),
            "the shared page cache does not answer; pages come from the database until it does"
        );
    }
    Ok(Arc::new(store))
}

async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let (url, connections) = (&settings.database_url, settings.database_max_connections);
    Ok(match settings.database()? {
        DatabaseBackend::Sqlite => {
            let db = anb_adapters::sqlite::connect(url, connections).await?;
            anb_adapters::sqlite::migrate(&db).await?;
            Database::Sqlite(db)
        }
        DatabaseBackend::Postgres => {
            let pool = anb_adapters::postgres::connect(url, connections).await?;
            anb_adapters::postgres::migrate(&pool).await?;
            Database::Postgres(pool)
        }
        DatabaseBackend::Memory => Database::Memory,
    })
}

/// The repositories of one store.
struct Repositories {
    users: Arc<dyn UserRepository>,
    videos: Arc<dyn VideoRepository>,
    votes: Arc<dyn VoteRepository>,
    renditions: Arc<dyn RenditionRepository>,
    sessions: Arc<dyn SessionRepository>,
    shares: Arc<dyn ShareRepository>,
    events: Arc<dyn EventLog>,
    ops: Arc<dyn OpsRecords>,
}

impl Repositories {
    /// Every repository on `store`.
    fn on<S>(store: Arc<S>) -> Self
    where
        S: UserRepository
            + VideoRepository
            + VoteRepository
            + RenditionRepository
            + SessionRepository
            + ShareRepository
            + EventLog
            + OpsRecords,
    {
        Self {
            users: store.clone(),
            videos: store.clone(),
            votes: store.clone(),
            renditions: store.clone(),
            sessions: store.clone(),
            events: store.clone(),
            ops: store.clone(),
            shares: store,
        }
    }
}

/// The repositories on `database`, their events stamped with `trace`'s context; a
/// `memory://` database is one store for all of them.
fn repositories(database: &Database, trace: Arc<dyn TraceContext>) -> Repositories {
    match database {
        Database::Sqlite(db) => Repositories::on(Arc::new(
            SqliteStore::new(db.clone()).with_trace_context(trace),
        )),
        Database::Postgres(pool) => Repositories::on(Arc::new(
            PostgresStore::new(pool.clone()).with_trace_context(trace),
        )),
        Database::Memory => Repositories::on(Arc::new(MemoryStore::with_trace_context(trace))),
    }
}

async fn open_queue(
    settings: &Settings,
    database: &Database,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<Arc<dyn JobQueue>> {
    let name = settings.queue_name.as_str();
    Ok(match (settings.queue()?, database) {
        (QueueBackend::Database, Database::Sqlite(db)) => {
            Arc::new(SqliteQueue::new(db.clone(), name))
        }
        (QueueBackend::Database, Database::Postgres(pool)) => {
            Arc::new(PostgresQueue::new(pool.clone(), name))
        }
        (QueueBackend::Database | QueueBackend::Memory, _) => {
            Arc::new(MemoryQueue::new(clock.clone()))
        }
        (QueueBackend::Redis, _) => Arc::new(RedisQueue::connect(&settings.queue_url, name).await?),
    })
}

impl Composed {
    /// Closes the database connections (waiting for those in use). Call it last, at shutdown.
    pub async fn close(&self) {
        match &self.database {
            Database::Sqlite(db) => db.close().await,
            Database::Postgres(pool) => pool.close().await,
            Database::Memory => {}
        }
    }
}
