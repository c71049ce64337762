//! PostgreSQL adapters (sqlx): the repositories ([`PostgresStore`]) and the durable job queue
//! ([`PostgresQueue`]). Rules live in constraints: the votes primary key is "one vote per user
//! per video", foreign keys with `RESTRICT` keep voted videos, a unique index on `lower(email)`
//! keeps emails unique ignoring case.

use std::time::Duration;

use crate::sql::OrFault as _;
use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::sql::{Pg, Queue, Store};

/// Users, videos and votes in PostgreSQL: the one SQL store ([`Store`]) on PostgreSQL's
/// dialect ([`Pg`]).
pub type PostgresStore = Store<Pg>;

/// The durable job queue in PostgreSQL's `jobs` table (`db://`): the one SQL queue ([`Queue`])
/// on PostgreSQL's dialect. Workers claim jobs with `FOR UPDATE SKIP LOCKED`, so concurrent
/// consumers never block on or share a job; times come from the database's clock.
pub type PostgresQueue = Queue<Pg>;

/// Prepared statements each connection keeps: a batch of votes has a statement of its own size
/// for each step (up to 64 sizes each); re-preparing them costs a round trip and a plan.
const STATEMENTS: usize = 1024;

/// Opens a connection pool (`postgres://user:password@host:port/database`).
///
/// # Errors
/// When the URL is malformed or the server cannot be reached.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options = url
        .parse::<PgConnectOptions>()
        .fault("parsing the PostgreSQL URL")?
        .statement_cache_capacity(STATEMENTS);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .fault("connecting to PostgreSQL")
}

/// Applies the schema migrations under `migrations/postgres` (idempotent).
///
/// # Errors
/// When a migration fails or the database holds migrations this build does not know.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("../../migrations/postgres")
        .run(pool)
        .await
        .context("running PostgreSQL migrations")
}
