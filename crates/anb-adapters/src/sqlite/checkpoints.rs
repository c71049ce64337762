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
//! So the writer does not checkpoint by itself (unless the log grows past a safety bound). A task does, every [`PERIOD`]:
//! 1. on a connection of its own, passive checkpoints (they run beside the writer and never
//!    block it) copy what the log holds, the pages changed many times once each, until what is
//!    left is small;
//! 2. then it takes the writer's connection for one more passive checkpoint, of the few pages
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

/// How often the log is copied back and restarted.
pub(crate) const PERIOD: Duration = Duration::from_millis(500);

/// Passive rounds beside the writer stop once one of them copied fewer new pages than this.
const SMALL: i64 = 128;

/// Passive rounds beside the writer before taking it, at most.
const MAX_PASSES: usize = 6;

/// One checkpoint's answer: whether it was kept from finishing by a lock, the pages in the
/// log, and those copied back (both `-1` when the database is not in WAL mode).
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
struct Checkpointed {
    busy: i64,
    log: i64,
    checkpointed: i64,
}

/// A passive checkpoint on `connection`.
async fn passive<'c, E: Executor<'c, Database = Sqlite>>(
    connection: E,
) -> sqlx::Result<Checkpointed> {
    sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(connection)
        .await
        .map(|(busy, log, checkpointed)| Checkpointed {
            busy,
            log,
            checkpointed,
        })
}

/// Starts the checkpoint task of the database file `options` opens, whose single writer is
/// `writer`; it ends once `alive` can no longer be upgraded.
pub(crate) fn start(options: SqliteConnectOptions, writer: SqlitePool, alive: Weak<()>) {
    tokio::spawn(async move {
        let mut own: Option<SqliteConnection> = None;
        let mut last_log = 0;
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if alive.upgrade().is_none() || writer.is_closed() {
                break;
            }
            if own.is_none() {
                match options.connect().await {
                    Ok(connection) => own = Some(connection),
                    Err(e) => {
                        warn!(error = %e, "opening the checkpoint connection");
                        continue;
                    }
                }
            }
            let Some(connection) = own.as_mut() else {
                continue;
            };
            if let Err(e) = round(connection, &writer, &mut last_log).await {
                warn!(error = %e, "checkpointing the SQLite log");
                own = None;
            }
        }
        if let Some(connection) = own {
            let _ = connection.close().await;
        }
    });
}

/// One round: passive checkpoints beside the writer, then the last one on it. `last_log` is
/// the log's length the round before: when it has not changed, nothing was committed since.
async fn round(
    connection: &mut SqliteConnection,
    writer: &SqlitePool,
    last_log: &mut i64,
) -> sqlx::Result<()> {
    let started = std::time::Instant::now();
    let mut copied = passive(&mut *connection).await?;
    if copied.log <= 0 || copied.log == *last_log {
        return Ok(());
    }
    // Each pass copies what was committed during the one before: few pages, soon.
    for _ in 1..MAX_PASSES {
        let before = copied.log;
        copied = passive(&mut *connection).await?;
        if copied.busy != 0 || copied.log - before < SMALL {
            break;
        }
    }
    let beside = started.elapsed();
    let mut the_writer = writer.acquire().await?;
    let waited = started.elapsed() - beside;
    let last = passive(&mut *the_writer).await?;
    drop(the_writer);
    *last_log = last.log;
    debug!(
        beside_ms = beside.as_millis() as u64,
        waited_ms = waited.as_millis() as u64,
        on_writer_ms = (started.elapsed() - beside - waited).as_millis() as u64,
        beside_log_pages = copied.log,
        log_pages = last.log,
        copied = last.checkpointed,
        busy = last.busy,
        "checkpointed the SQLite log"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_log_stays_small_while_the_writer_never_stops() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("busy.db");
        let db = crate::sqlite::connect(&format!("sqlite://{}", file.display()), 2)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .execute(db.writer())
            .await
            .unwrap();
        // Rewrite 2,000 rows of 1 KiB over and over: about 2 MiB of pages, changed again and
        // again, written to the log for 6 periods with the writer never idle.
        let started = std::time::Instant::now();
        let mut written = 0u64;
        while started.elapsed() < PERIOD * 6 {
            let mut tx = db.writer().begin().await.unwrap();
            for _ in 0..50 {
                let id = written % 2000;
                sqlx::query("INSERT OR REPLACE INTO t (id, body) VALUES ($1, randomblob(1024))")
                    .bind(id as i64)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                written += 1;
            }
            tx.commit().await.unwrap();
        }
        let mut log = file.as_os_str().to_owned();
        log.push("-wal");
        let log_bytes = std::fs::metadata(&log).unwrap().len();
        let written_bytes = written * 1024;
        assert!(
            log_bytes < written_bytes / 2,
            "the log holds {log_bytes} bytes after {written_bytes} bytes of rows were written"
        );
        db.close().await;
    }
}
