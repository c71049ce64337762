//! # anb-adapters
//!
//! Adapters for the ports of `anb-domain`, one module per technology, each behind a cargo feature:
//!
//! | feature   | module       | implements |
//! |-----------|--------------|------------|
//! | `memory`  | [`memory`]   | every repository, the job queue, the blob store, the page store, the mailer (in process) |
//! | `mail`    | `mail`       | `Mailer`: each email an `.eml` file in a directory |
//! | `smtp`    | `mail`       | `Mailer` on an SMTP server (lettre) |
//! | `blob`    | [`blob`]     | `BlobStore` on `object_store` |
//! | `ffmpeg`  | `ffmpeg`     | `Transcoder`: media probing and the one-pass transcode |
//! | `postgres`| `postgres`   | every repository and the job queue on PostgreSQL (sqlx) |
//! | `sqlite`  | `sqlite`     | every repository and the job queue on SQLite (sqlx) |
//! | `argon2`  | [`argon2`]   | `PasswordHasher` (argon2id) |
//! | `jwt`     | [`jwt`]      | `TokenIssuer` (HS256) |
//! | `redis`   | `redis`      | `JobQueue` on Redis (sorted sets, Lua scripts, server-clock leases); `PageStore`: the public pages shared by HTTP instances |
//! | `oidc`    | `oidc`       | `IdentityProvider`: OpenID Connect logins (`openidconnect`; Google as a preset) |
//! | `webhooks`| [`webhooks`] | `WebhookSender`: Standard Webhooks messages over reqwest, public addresses only unless allowed |
//! | `testkit` | `testkit`    | the conformance suite every adapter passes, and test helpers |
//!
//! Every adapter maps its driver's errors to the domain's (a unique violation becomes
//! `AlreadyVoted`, a missing object `BlobError::NotFound`, a backend that is down
//! `Unavailable`) and passes the same conformance suite. Which adapters run is decided by the
//! composition root, `anb::app`, from the settings.

#[cfg(feature = "argon2")]
pub mod argon2;
#[cfg(feature = "blob")]
pub mod blob;
#[cfg(feature = "ffmpeg")]
pub mod ffmpeg;
#[cfg(feature = "jwt")]
pub mod jwt;
#[cfg(feature = "mail")]
pub mod mail;
#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "oidc")]
pub mod oidc;
#[cfg(any(
    feature = "blob",
    feature = "postgres",
    feature = "redis",
    feature = "sqlite"
))]
mod outage;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "testkit")]
pub mod testkit;
#[cfg(any(feature = "memory", feature = "postgres", feature = "sqlite"))]
mod tracer;
#[cfg(feature = "webhooks")]
pub mod webhooks;
