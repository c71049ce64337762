//! WAL checkpoints off the writer's path.
//!
//! In WAL mode every commit appends its changed pages to the write-ahead log, and a checkpoint
//! copies them back into the database file. SQLite's own (automatic) checkpoint runs inside the
//! committing connection every 1,000 pages: on the single writer, under a surge of votes (each
//! vote changes about ten pages: the vote, its index, the video's row and index entry, the
//! player's row and three rankings entries), that was a checkpoint every hundred votes or so,
//! each copying nearly every page again while the votes waited. Measured with
//! `scripts/bench-http` (64 connections, 2 cores): about 2,300 votes/s with it, 3,800/s with
//! no checkpoint at all.
//!
//! So the writer does not checkpoint by itself (unless the log grows past a safety bound).
//! A task does, every [`PERIOD`]:
//! 1. on a connection of its own, passive checkpoints (they run beside the writer and never
//!    block it) copy what the log holds, the pages changed many times once each, pass after
//!    pass until a pass finds little new;
//! 2. once the log holds [`RESTART_BYTES`] (under a surge, about once a second), it then
//!    takes the writer's connection for one more passive checkpoint, of the few pages
//!    committed since: with nothing left to copy, the writer's next transaction starts the log
//!    again from its beginning. The writer waits only for that last, small copy.
//!
//! A reader holding an old snapshot can keep a round from finishing: the log then restarts at
//! a later round. The task ends when the last clone of its [`SqliteDatabase`] is dropped.

use std::sync::Weak;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::{ConnectOptions as _, Connection as _, Executor, Sqlite, SqliteConnection};
use tracing::{debug, warn};

/// How often the log is copied back (and, once long, restarted).
const PERIOD: Duration = Duration::from_millis(500);

/// The log's length (bytes of pages) from which a round ends on the writer, so that the log
/// restarts. Below it, a round only copies beside the writer: the log then restarts on its own
/// whenever a write finds everything copied (between writes, when votes do not come back to
/// back). Under a surge of votes on 2 cores that is about once a second, each time the writer
/// waiting 20–40 ms for the last copy. (Twice as long a log, 128 MiB, was worse: p99 of votes
/// 71–80 ms against 36–48 ms.)
const RESTART_BYTES: i64 = 64 << 20;

/// Passive rounds beside the writer stop once one of them copied fewer new pages than this.
const SMALL: i64 = 128;

/// Passive rounds beside the writer before taking it, at most.
const MAX_PASSES: usize = 6;

/// One checkpoint's answer: whether it was kept from finishing by a lock, and the pages in the
/// log (`-1` when the database is not in WAL mode).
#[derive(Debug, Clone, Copy)]
struct Checkpointed {
    busy: i64,
    log: i64,
}

/// A passive checkpoint on `connection`.
async fn passive<'c, E: Executor<'c, Database = Sqlite>>(
    connection: E,
) -> sqlx::Result<Checkpointed> {
    sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(connection)
        .await
        .map(|(busy, log, _copied)| Checkpointed { busy, log })
}

/// Starts the checkpoint task of the database file `options` opens, whose single writer is
/// `writer`; it ends once `alive` can no longer be upgraded.
pub(crate) fn start(options: SqliteConnectOptions, writer: SqlitePool, alive: Weak<()>) {
    tokio::spawn(async move {
        let mut own: Option<SqliteConnection> = None;
        let mut last_log = 0;
        let mut restart_pages = 0;
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if alive.upgrade().is_none() || writer.is_closed() {
                break;
            }
            if own.is_none() {
                match open(&options).await {
                    Ok((connection, pages)) => (own, restart_pages) = (Some(connection), pages),
                    Err(e) => {
                        warn!(error = %e, "opening the checkpoint connection");
                        continue;
                    }
                }
            }
            let Some(connection) = own.as_mut() else {
                continue;
            };
            if let Err(e) = round(connection, &writer, restart_pages, &mut last_log).await {
                warn!(error = %e, "checkpointing the SQLite log");
                own = None;
            }
        }
        if let Some(connection) = own {
            let _ = connection.close().await;
        }
    });
}

/// The task's own connection to the file, and how many of its pages make [`RESTART_BYTES`].
async fn open(options: &SqliteConnectOptions) -> sqlx::Result<(SqliteConnection, i64)> {
    let mut connection = options.connect().await?;
    let (page_size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(&mut connection)
        .await?;
    Ok((connection, RESTART_BYTES / page_size.max(512)))
}

/// One round: passive checkpoints beside the writer, then, once the log is `restart_pages`
/// long, the last one on it. `last_log` is the log's length the round before: when it has not
/// changed, nothing was committed since.
async fn round(
    connection: &mut SqliteConnection,
    writer: &SqlitePool,
    restart_pages: i64,
    last_log: &mut i64,
) -> sqlx::Result<()> {
    let started = std::time::Instant::now();
    let Some(copied) = copy_beside(connection, *last_log).await? else {
        return Ok(());
    };
    *last_log = copied.log;
    if copied.log < restart_pages {
        return Ok(());
    }
    let beside = started.elapsed();
    let last = finish_on(writer).await?;
    *last_log = last.log;
    debug!(
        beside_ms = beside.as_millis() as u64,
        on_writer_ms = (started.elapsed() - beside).as_millis() as u64,
        log_pages = last.log,
        residue_pages = last.log - copied.log,
        busy = last.busy,
        "checkpointed the SQLite log"
    );
    Ok(())
}

/// Passive checkpoints on `connection`, beside the writer, each copying what was committed
/// during the one before, until one finds little new. `None` when the log has not changed
/// since it was `last_log` pages long (or is empty).
async fn copy_beside(
    connection: &mut SqliteConnection,
    last_log: i64,
) -> sqlx::Result<Option<Checkpointed>> {
    let mut copied = passive(&mut *connection).await?;
    if copied.log <= 0 || copied.log == last_log {
        return Ok(None);
    }
    for _ in 1..MAX_PASSES {
        let before = copied.log;
        copied = passive(&mut *connection).await?;
        if copied.busy != 0 || copied.log - before < SMALL {
            break;
        }
    }
    Ok(Some(copied))
}

/// The last passive checkpoint, on the writer's connection (waiting for it): with nothing
/// committed during it, the writer's next transaction restarts the log.
async fn finish_on(writer: &SqlitePool) -> sqlx::Result<Checkpointed> {
    let mut the_writer = writer.acquire().await?;
    passive(&mut *the_writer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log's length, in pages.
    async fn log_pages(connection: &mut SqliteConnection) -> i64 {
        passive(connection).await.unwrap().log
    }

    /// Commits `rows` rows of 900 bytes (a page each) in one transaction.
    async fn write(writer: &SqlitePool, rows: i64) {
        let mut tx = writer.begin().await.unwrap();
        write_in(&mut tx, rows).await;
        tx.commit().await.unwrap();
    }

    async fn write_in(tx: &mut sqlx::Transaction<'static, Sqlite>, rows: i64) {
        for id in 0..rows {
            sqlx::query("INSERT OR REPLACE INTO t (id, body) VALUES ($1, randomblob(900))")
                .bind(id)
                .execute(&mut **tx)
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn the_log_restarts_after_the_last_copy_on_the_writer_though_the_writer_never_paused() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("busy.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .page_size(1024);
        // A writer like `connect`'s, without its checkpoint task: this test plays the task.
        let writer = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .execute(&writer)
            .await
            .unwrap();
        let mut beside = options.connect().await.unwrap();

        // The writer mid-transaction while the copies beside it run, then straight into the
        // next one: the copies alone leave the log growing.
        write(&writer, 500).await;
        let mut busy = writer.begin().await.unwrap();
        write_in(&mut busy, 100).await;
        copy_beside(&mut beside, 0).await.unwrap().unwrap();
        busy.commit().await.unwrap();
        write(&writer, 10).await;
        let grown = log_pages(&mut beside).await;
        assert!(grown > 600, "the log holds {grown} pages");

        // The same, with the last copy on the writer between its transactions: the next one
        // starts the log again.
        let mut busy = writer.begin().await.unwrap();
        write_in(&mut busy, 100).await;
        copy_beside(&mut beside, 0).await.unwrap().unwrap();
        busy.commit().await.unwrap();
        finish_on(&writer).await.unwrap();
        write(&writer, 10).await;
        let restarted = log_pages(&mut beside).await;
        assert!(restarted < 50, "the log holds {restarted} pages");
    }
}
