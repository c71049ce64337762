//! SQLite adapters (sqlx): the repositories ([`SqliteStore`]) and the durable job queue
//! ([`SqliteQueue`]) in one database file — the embedded default.
//!
//! SQLite has one writer at a time. A [`SqliteDatabase`] therefore holds two pools on the file:
//! readers (several connections; WAL mode, so they never wait for the writer) and a writer of
//! exactly one connection, which every write goes through. Concurrent writes queue fairly on
//! that pool instead of colliding inside SQLite, whose busy handler would make them sleep and
//! retry (16 votes at once fell to ~200 votes/s that way, against ~1,000/s one at a time).
//! Write transactions start with `BEGIN IMMEDIATE`.

mod checkpoints;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::sql::OrFault as _;
use anyhow::Context as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::sql::{Lite, Queue, Store};

/// The page size of a new database file (an existing file keeps its own). Each vote changes
/// about ten pages in different places, and each changed page is written whole to the log and
/// copied back by a checkpoint: 1 KiB pages write a quarter of the 4 KiB default's bytes for a
/// vote (measured with `scripts/bench-http`: about 4,800 votes/s against 4,100/s, p99 42 ms
/// against 63 ms; reads the same within the noise).
const PAGE_SIZE: u32 = 1024;

/// The log's length (pages) past which the writer checkpoints by itself: only if the
/// checkpoint task (`checkpoints`) cannot keep up, or cannot restart the log.
const WAL_SAFETY_PAGES: u32 = 1 << 18;

/// The writer's page cache (KiB): the pages a surge of votes keeps changing stay in memory.
const WRITER_CACHE_KIB: u32 = 32 << 10;

/// Prepared statements the writer keeps: a batch of votes has a statement of its own size for
/// each step (up to 64 sizes each), and re-preparing them costs the single writer's time.
const WRITER_STATEMENTS: usize = 1024;

/// The log file is cut back to this many bytes when it restarts: more than the checkpoint task
/// lets it grow to under a surge (`checkpoints::RESTART_BYTES` and a little), so a surge
/// reuses the file instead of growing it again each time.
const JOURNAL_SIZE_LIMIT: u64 = 96 << 20;

/// A SQLite database file: a pool of readers and a single writer connection.
#[derive(Clone, Debug)]
pub struct SqliteDatabase {
    read: SqlitePool,
    write: SqlitePool,
    /// The file, for the migrations' lock (none in memory).
    file: Option<PathBuf>,
    /// Held by every clone: the checkpoint task ends when the last one is dropped.
    _alive: Arc<()>,
}

impl SqliteDatabase {
    /// The pool for reads.
    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// The one-connection pool every write goes through.
    pub fn writer(&self) -> &SqlitePool {
        &self.write
    }

    /// Closes both pools (waiting for connections in use).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Users, videos and votes in SQLite: the one SQL store ([`Store`]) on SQLite's dialect
/// ([`Lite`]).
pub type SqliteStore = Store<Lite>;

/// The durable job queue in SQLite's `jobs` table (`db://` on the embedded default): the one SQL
/// queue ([`Queue`]) on SQLite's dialect. Each operation is one statement on the single writer;
/// jobs survive restarts.
pub type SqliteQueue = Queue<Lite>;

/// Opens (creating if missing, with its directory) the database at `url`
/// (`sqlite://data/anb.db`, `sqlite:///abs/path.db`) with up to `max_readers` reading
/// connections and one writing connection.
///
/// # Errors
/// When the URL is malformed or the file cannot be opened.
pub async fn connect(url: &str, max_readers: u32) -> anyhow::Result<SqliteDatabase> {
    let options = SqliteConnectOptions::from_str(url)
        .fault("parsing the SQLite URL")?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true)
        .page_size(PAGE_SIZE);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let file = (!in_memory).then(|| options.get_filename().to_path_buf());
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database directory {}", dir.display()))?;
        }
    }
    // The writer first: it creates the file and switches it to WAL before readers open it.
    // The writer leaves checkpoints to a task beside it (`checkpoints`), unless the log grows
    // past WAL_SAFETY_PAGES.
    let writer_options = options
        .clone()
        .pragma("wal_autocheckpoint", WAL_SAFETY_PAGES.to_string())
        .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string())
        .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
        .statement_cache_capacity(WRITER_STATEMENTS);
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(60))
        .connect_with(writer_options)
        .await
        .fault("opening the SQLite database for writing")?;
    let read = SqlitePoolOptions::new()
        .max_connections(max_readers.max(1))
        .connect_with(options.clone())
        .await
        .fault("opening the SQLite database for reading")?;
    let alive = Arc::new(());
    if file.is_some() {
        checkpoints::start(options, write.clone(), Arc::downgrade(&alive));
    }
    Ok(SqliteDatabase {
        read,
        write,
        file,
        _alive: alive,
    })
}

/// Applies the schema migrations under `migrations/sqlite` (idempotent).
///
/// # Errors
/// When a migration fails or the database holds migrations this build does not know.
///
/// Processes that open one file at the same time (`anb serve` and `anb worker` starting
/// together) take turns: sqlx locks nothing on SQLite, so each migration would otherwise be
/// applied twice. The turn is an exclusive lock on `<file>.migrate-lock`, beside the database.
pub async fn migrate(db: &SqliteDatabase) -> anyhow::Result<()> {
    let _turn = match &db.file {
        Some(file) => Some(migration_turn(file).await?),
        None => None,
    };
    sqlx::migrate!("../../migrations/sqlite")
        .run(db.writer())
        .await
        .context("running SQLite migrations")
}

/// Waits for, then holds (until dropped), the exclusive lock on `<file>.migrate-lock`.
async fn migration_turn(file: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut path = file.as_os_str().to_owned();
    path.push(".migrate-lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", PathBuf::from(&path).display()))?;
    tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
        .await
        .context("waiting for the migrations' lock")?
        .context("locking the migrations")
}
