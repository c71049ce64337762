//! What lets one body of SQL code run on either database. sqlx's own methods need bounds such
//! as "`Uuid` encodes for this database" or "`&mut Connection` is an executor", and Rust does
//! not carry those from one generic function to the next. Here each is turned into a trait the
//! *database type* implements (blanket implementations do it for every sqlx database that can),
//! so [`Dialect::Db`](super::Dialect::Db) lists them once and every generic function has them.
//!
//! - [`Arg::arg`] binds a value ([`Binds`]);
//! - [`execute`] runs a statement on a connection ([`Runs`]); [`fetch_all`],
//!   [`fetch_optional`] and [`fetch_one`] run a query and decode its rows into
//!   [`sqlx::FromRow`] records or tuples of columns ([`Reads`]).

use async_trait::async_trait;
use sqlx::query::Query;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

/// A query on `DB` with its arguments.
pub(crate) type Q<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// `V` binds as a query argument on this database.
pub trait Binds<V>: Database {
    /// `q` with `v` as its next argument.
    fn bind_value<'q>(q: Q<'q, Self>, v: V) -> Q<'q, Self>
    where
        V: 'q;
}

impl<DB: Database, V> Binds<V> for DB
where
    V: for<'q> Encode<'q, DB> + Type<DB> + Send,
{
    fn bind_value<'q>(q: Q<'q, DB>, v: V) -> Q<'q, DB>
    where
        V: 'q,
    {
        q.bind(v)
    }
}

/// Binding on any database whose [`Binds`] covers the value.
pub(crate) trait Arg<'q, DB: Database>: Sized {
    /// The query with `v` as its next argument (`$1`, `$2`, … in order).
    fn arg<V: 'q>(self, v: V) -> Self
    where
        DB: Binds<V>;
}

impl<'q, DB: Database> Arg<'q, DB> for Q<'q, DB> {
    fn arg<V: 'q>(self, v: V) -> Self
    where
        DB: Binds<V>,
    {
        DB::bind_value(self, v)
    }
}

/// Rows of this database decode into `T`.
pub trait Reads<T>: Database {
    /// `row` as a `T`.
    fn read_row(row: &Self::Row) -> sqlx::Result<T>;
}

impl<DB: Database, T> Reads<T> for DB
where
    T: for<'r> FromRow<'r, DB::Row>,
{
    fn read_row(row: &DB::Row) -> sqlx::Result<T> {
        T::from_row(row)
    }
}

/// How many rows a statement changed: the one thing a query's result says that sqlx has no
/// common trait for.
pub trait Counts: Database {
    /// Rows the statement inserted, updated or deleted.
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

#[cfg(feature = "postgres")]
impl Counts for sqlx::Postgres {
    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

#[cfg(feature = "sqlite")]
impl Counts for sqlx::Sqlite {
    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Queries run on a connection of this database (a pooled one, or a transaction's).
#[async_trait]
pub trait Runs: Database {
    /// Runs `q`; how many rows it changed.
    async fn run_execute<'q>(q: Q<'q, Self>, conn: &mut Self::Connection) -> sqlx::Result<u64>;
    /// Runs `q`; every row.
    async fn run_fetch_all<'q>(
        q: Q<'q, Self>,
        conn: &mut Self::Connection,
    ) -> sqlx::Result<Vec<Self::Row>>;
    /// Runs `q`; the first row, if any.
    async fn run_fetch_optional<'q>(
        q: Q<'q, Self>,
        conn: &mut Self::Connection,
    ) -> sqlx::Result<Option<Self::Row>>;
}

#[async_trait]
impl<DB: Database + Counts> Runs for DB
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
{
    async fn run_execute<'q>(q: Q<'q, Self>, conn: &mut Self::Connection) -> sqlx::Result<u64> {
        Ok(DB::rows_affected(&q.execute(conn).await?))
    }

    async fn run_fetch_all<'q>(
        q: Q<'q, Self>,
        conn: &mut Self::Connection,
    ) -> sqlx::Result<Vec<Self::Row>> {
        q.fetch_all(conn).await
    }

    async fn run_fetch_optional<'q>(
        q: Q<'q, Self>,
        conn: &mut Self::Connection,
    ) -> sqlx::Result<Option<Self::Row>> {
        q.fetch_optional(conn).await
    }
}

/// Runs `q` on `conn`; how many rows it changed.
pub(crate) async fn execute<DB: Runs>(
    q: Q<'_, DB>,
    conn: &mut DB::Connection,
) -> sqlx::Result<u64> {
    DB::run_execute(q, conn).await
}

/// Runs `q` on `conn`; every row, as `R` (a record, or a tuple of columns).
pub(crate) async fn fetch_all<DB: Runs + Reads<R>, R>(
    q: Q<'_, DB>,
    conn: &mut DB::Connection,
) -> sqlx::Result<Vec<R>> {
    DB::run_fetch_all(q, conn)
        .await?
        .iter()
        .map(DB::read_row)
        .collect()
}

/// Runs `q` on `conn`; the first row as `R`, if any.
pub(crate) async fn fetch_optional<DB: Runs + Reads<R>, R>(
    q: Q<'_, DB>,
    conn: &mut DB::Connection,
) -> sqlx::Result<Option<R>> {
    DB::run_fetch_optional(q, conn)
        .await?
        .map(|row| DB::read_row(&row))
        .transpose()
}

/// Runs `q` on `conn`; the first row as `R` (an error when there is none).
pub(crate) async fn fetch_one<DB: Runs + Reads<R>, R>(
    q: Q<'_, DB>,
    conn: &mut DB::Connection,
) -> sqlx::Result<R> {
    fetch_optional(q, conn)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}
