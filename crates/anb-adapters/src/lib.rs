//! # anb-adapters
//!
//! Adapters for the ports of `anb-domain`, one module per technology, each behind a cargo feature:
//!
//! | feature   | module       | implements |
//! |-----------|--------------|------------|
//! | `memory`  | [`memory`]   | every repository, the job queue, the blob store (in process) |
//! | `blob`    | [`blob`]     | `BlobStore` on `object_store` |
//! | `ffmpeg`  | `ffmpeg`     | media probing (processing not built yet) |
//! | `argon2`  | [`argon2`]   | `PasswordHasher` (argon2id) |
//! | `jwt`     | [`jwt`]      | `TokenIssuer` (HS256) |
//! | `redis`   | `redis`      | `JobQueue` on Redis (sorted sets, Lua scripts, server-clock leases); the public pages shared by HTTP instances |
//! | `settings`| `settings`   | settings: defaults → `anb.toml` → `ANB_*` environment |
//! | `compose` | `compose`    | every adapter, chosen by the settings' URLs: the ports the binaries run on |
//! | `testkit` | `testkit`    | the conformance suite every adapter passes, and test helpers |
//!
//! Every adapter maps its driver's errors to the domain's (a unique violation becomes
//! `AlreadyVoted`, a missing object `BlobError::NotFound`) and passes the same conformance suite.

#[cfg(feature = "argon2")]
pub mod argon2;
#[cfg(feature = "blob")]
pub mod blob;
#[cfg(feature = "compose")]
pub mod compose;
#[cfg(feature = "ffmpeg")]
pub mod ffmpeg;
#[cfg(feature = "jwt")]
pub mod jwt;
#[cfg(feature = "memory")]
pub mod memory;
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
#[cfg(feature = "settings")]
pub mod settings;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "testkit")]
pub mod testkit;
