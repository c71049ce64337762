//! The real differences between the two SQL databases, and nothing else: how writes take
//! turns, how a row is locked, how an email is compared, and which pools read and write. The
//! time codec is [`SqlTime`](super::SqlTime)'s; everything else the repositories write once.

use std::fmt::Debug;

use sqlx::{Database, Pool};
use uuid::Uuid;

use super::driver::{Binds, Reads, Runs};
use super::events::{DeliveryRecord, DueRecord, EventRecord, WebhookRecord};
use super::records::{GalleryRecord, RankingRecord, UserRecord, VideoRecord};
use super::renditions::RenditionRecord;
use super::sessions::TokenRecord;
use super::shares::{ShareLinkRecord, ShareRecord, SharedVideoRecord};
use super::SqlTime;

/// A SQL database the generic store ([`Store`](super::Store)) runs on.
pub trait Dialect: Send + Sync + 'static {
    /// The sqlx database, with every capability the store's code uses.
    #[doc(hidden)]
    type Db: Database
        + Runs
        + Binds<Uuid>
        + Binds<Option<Uuid>>
        + Binds<String>
        + Binds<Option<String>>
        + Binds<i64>
        + Binds<Option<i64>>
        + Binds<bool>
        + Binds<Option<f64>>
        + Binds<SqlTime>
        + Binds<Option<SqlTime>>
        + Reads<VideoRecord>
        + Reads<UserRecord>
        + Reads<RankingRecord>
        + Reads<GalleryRecord>
        + Reads<RenditionRecord>
        + Reads<TokenRecord>
        + Reads<ShareRecord>
        + Reads<SharedVideoRecord>
        + Reads<ShareLinkRecord>
        + Reads<EventRecord>
        + Reads<WebhookRecord>
        + Reads<DeliveryRecord>
        + Reads<DueRecord>
        + Reads<(String, SqlTime, SqlTime, String)>
        + Reads<(Uuid, String, SqlTime)>
        + Reads<(i64,)>
        + Reads<(bool,)>
        + Reads<(Uuid,)>
        + Reads<(Uuid, String)>
        + Reads<(i64, Uuid)>
        + Reads<(i64, String, String)>
        + Reads<(String,)>
        + Reads<(SqlTime,)>
        + Reads<(Uuid, String, i64, SqlTime, Option<String>)>
        + Reads<(i64, i64, i64, i64)>
        + Reads<(String, i64, i64)>
        + Reads<(Uuid, Uuid)>
        + Reads<(Uuid, i64)>
        + Reads<(i64, String, String, Uuid)>;

    /// The connections: what the store reads through and writes through.
    type Pools: Clone + Debug + Send + Sync;

    /// How a write transaction starts (`BEGIN`, or SQLite's `BEGIN IMMEDIATE`, which takes the
    /// write lock at once so that a transaction never fails midway on a busy database).
    const BEGIN_WRITE: &'static str;

    /// Appended to a `SELECT` of one row inside a write transaction: locks it until the
    /// transaction ends (PostgreSQL's ` FOR UPDATE`; nothing on SQLite, whose write
    /// transaction already excludes every other writer).
    const LOCK_ROW: &'static str;

    /// Appended to the subquery that claims rows many callers claim at once: each takes rows
    /// no other holds (PostgreSQL's ` FOR UPDATE SKIP LOCKED`; nothing on SQLite, where one
    /// statement on the single writer is atomic).
    const CLAIM_ROWS: &'static str;

    /// The condition finding a user by email ignoring case, with the email as `$1`, so that the
    /// index serving it is used (PostgreSQL's on `lower(email)`, SQLite's `COLLATE NOCASE`).
    const EMAIL_EQUALS: &'static str;

    /// Run first in a recount's write transaction: holds off every other writer of the vote
    /// tables, plain reads going on. None where the write transaction already does (SQLite).
    const HOLD_OFF_VOTES: Option<&'static str>;

    /// The database's clock, as `due_at` and the other times are stored.
    const NOW: &'static str;

    /// Before a restore of lost jobs adds them, in its write transaction: a statement that makes
    /// restores of one queue (named by `$1`) take turns. None where write transactions already
    /// do (SQLite).
    const RESTORE_TURN: Option<&'static str>;

    /// The database's clock plus the whole milliseconds in the parameter `param` (`$4`).
    fn now_plus(param: &str) -> String;

    /// The pool reads go through.
    fn reader(pools: &Self::Pools) -> &Pool<Self::Db>;

    /// The pool writes go through.
    fn writer(pools: &Self::Pools) -> &Pool<Self::Db>;
}

/// PostgreSQL: one pool for reads and writes; rows locked with `FOR UPDATE`.
#[cfg(feature = "postgres")]
#[derive(Clone, Copy, Debug)]
pub enum Pg {}

#[cfg(feature = "postgres")]
impl Dialect for Pg {
    type Db = sqlx::Postgres;
    type Pools = sqlx::PgPool;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const LOCK_ROW: &'static str = " FOR UPDATE";
    const CLAIM_ROWS: &'static str = " FOR UPDATE SKIP LOCKED";
    const EMAIL_EQUALS: &'static str = "lower(u.email) = lower($1)";
    // EXCLUSIVE: plain reads go on, every writer waits, including `SELECT … FOR UPDATE`, whose
    // ROW SHARE a weaker mode would let in (and then deadlock on the row the recount updates).
    // In the order every transaction takes them (video, vote, player, totals).
    const HOLD_OFF_VOTES: Option<&'static str> =
        Some("LOCK TABLE videos, votes, users, ranked_players IN EXCLUSIVE MODE");
    const NOW: &'static str = "now()";
    const RESTORE_TURN: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(hashtextextended('anb.jobs.restore:' || $1, 0))");

    fn now_plus(param: &str) -> String {
        format!("now() + make_interval(secs => {param}::float8 / 1000)")
    }

    fn reader(pools: &sqlx::PgPool) -> &sqlx::PgPool {
        pools
    }

    fn writer(pools: &sqlx::PgPool) -> &sqlx::PgPool {
        pools
    }
}

/// SQLite: a pool of readers and one writer connection every write goes through
/// ([`SqliteDatabase`](crate::sqlite::SqliteDatabase)).
#[cfg(feature = "sqlite")]
#[derive(Clone, Copy, Debug)]
pub enum Lite {}

#[cfg(feature = "sqlite")]
impl Dialect for Lite {
    type Db = sqlx::Sqlite;
    type Pools = crate::sqlite::SqliteDatabase;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const LOCK_ROW: &'static str = "";
    const CLAIM_ROWS: &'static str = "";
    // The column's NOCASE collation makes the comparison case-insensitive, through its index.
    const EMAIL_EQUALS: &'static str = "u.email = $1";
    // BEGIN IMMEDIATE holds off every other writer.
    const HOLD_OFF_VOTES: Option<&'static str> = None;
    // Microseconds since the epoch (julianday has millisecond precision).
    const NOW: &'static str = "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";
    // BEGIN IMMEDIATE already makes every write transaction wait for the last.
    const RESTORE_TURN: Option<&'static str> = None;

    fn now_plus(param: &str) -> String {
        format!("({} + {param} * 1000)", Self::NOW)
    }

    fn reader(pools: &crate::sqlite::SqliteDatabase) -> &sqlx::SqlitePool {
        pools.reader()
    }

    fn writer(pools: &crate::sqlite::SqliteDatabase) -> &sqlx::SqlitePool {
        pools.writer()
    }
}
