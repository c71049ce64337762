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

impl Store<Pg> {
    /// The store over an existing pool.
    pub fn new(pool: PgPool) -> Self {
        Self::on(pool)
    }

    /// The pool underneath.
    pub fn pool(&self) -> &PgPool {
        self.pools()
    }
}

/// The durable job queue in PostgreSQL's `jobs` table (`db://`): the one SQL queue ([`Queue`])
/// on PostgreSQL's dialect. Workers claim jobs with `FOR UPDATE SKIP LOCKED`, so concurrent
/// consumers never block on or share a job; times come from the database's clock.
pub type PostgresQueue = Queue<Pg>;

impl Queue<Pg> {
    /// The queue called `queue` in the database behind `pool`.
    pub fn new(pool: PgPool, queue: impl Into<String>) -> Self {
        Self::on(pool, queue)
    }
}

/// Opens a connection pool (`postgres://user:password@host:port/database`).
///
/// # Errors
/// When the URL is malformed or the server cannot be reached.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse().fault("parsing the PostgreSQL URL")?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .fault("connecting to PostgreSQL")
}

/// Recomputes every vote counter (videos, players, the rankings' totals) from the vote rows, in
/// one transaction that holds off concurrent votes: the repair after counters were changed by
/// hand or votes were imported in bulk.
///
/// # Errors
/// Database faults (nothing is changed then).
pub async fn recount_votes(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.fault("starting the recount")?;
    // EXCLUSIVE: plain reads go on, every writer waits, including `SELECT … FOR UPDATE`, whose
    // ROW SHARE a weaker mode would let in (and then deadlock on the row the recount updates).
    // In the order every transaction takes them (video, vote, player, totals).
    sqlx::query("LOCK TABLE videos, votes, users, ranked_players IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .fault("locking the vote tables")?;
    for statement in crate::sql::RECOUNT_VOTES {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .fault("recounting votes")?;
    }
    tx.commit().await.fault("committing the recount")
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
