//! SQLite adapters (sqlx): the repositories ([`SqliteStore`]) and the durable job queue
//! ([`SqliteQueue`]) in one database file — the embedded default. Write transactions start
//! with `BEGIN IMMEDIATE` (SQLite has one writer; taking the lock up front avoids upgrade
//! deadlocks), and the file runs in WAL mode so readers never wait for the writer.

mod queue;
mod rows;
mod users;
mod videos;
mod votes;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use queue::SqliteQueue;

/// Users, videos and votes in SQLite.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// The store over an existing pool.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The pool underneath.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Opens (creating if missing, with its directory) the database at `url`
/// (`sqlite://data/anb.db`, `sqlite:///abs/path.db`).
///
/// # Errors
/// When the URL is malformed or the file cannot be opened.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .context("parsing the SQLite URL")?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database directory {}", dir.display()))?;
        }
    }
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await
        .context("opening the SQLite database")
}

/// Recomputes every vote counter (videos, players, the rankings' totals) from the vote rows, in
/// one transaction that holds off concurrent votes: the repair after counters were changed by
/// hand or votes were imported in bulk.
///
/// # Errors
/// Database faults (nothing is changed then).
pub async fn recount_votes(pool: &SqlitePool) -> anyhow::Result<()> {
    let mut tx = begin_write(pool).await?;
    for statement in crate::sql::RECOUNT_VOTES {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .context("recounting votes")?;
    }
    tx.commit().await.context("committing the recount")
}

/// Applies the schema migrations under `migrations/sqlite` (idempotent).
///
/// # Errors
/// When a migration fails or the database holds migrations this build does not know.
pub async fn migrate(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::migrate!("../../migrations/sqlite")
        .run(pool)
        .await
        .context("running SQLite migrations")
}

/// Starts a write transaction holding SQLite's write lock.
async fn begin_write(
    pool: &SqlitePool,
) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE")
        .await
        .context("starting a write transaction")
}
