//! [`Store`]: users, videos and votes on a SQL database, written once for both.

use sqlx::pool::PoolConnection;
use sqlx::Transaction;

use super::dialect::Dialect;
use super::driver;
use super::fault::OrFault as _;

/// Users, videos and votes in a SQL database: [`PostgresStore`](crate::postgres::PostgresStore)
/// is `Store<Pg>`, [`SqliteStore`](crate::sqlite::SqliteStore) is `Store<Lite>`. The rules live
/// in constraints and in one transaction per change; the repositories' code is the same on
/// both, and the [`Dialect`] carries what differs.
#[derive(Clone, Debug)]
pub struct Store<D: Dialect> {
    pools: D::Pools,
}

impl<D: Dialect> Store<D> {
    /// The store on `pools` (PostgreSQL: a `PgPool`; SQLite: a
    /// [`SqliteDatabase`](crate::sqlite::SqliteDatabase)).
    pub fn new(pools: D::Pools) -> Self {
        Self { pools }
    }

    /// The connections underneath.
    pub fn pools(&self) -> &D::Pools {
        &self.pools
    }

    /// A connection to read with.
    pub(crate) async fn read(&self) -> anyhow::Result<PoolConnection<D::Db>> {
        D::reader(&self.pools)
            .acquire()
            .await
            .fault("taking a connection")
    }

    /// A connection to write one statement with.
    pub(crate) async fn write(&self) -> anyhow::Result<PoolConnection<D::Db>> {
        D::writer(&self.pools)
            .acquire()
            .await
            .fault("taking a connection")
    }

    /// Recomputes every vote counter (videos, players, the rankings' totals) from the vote
    /// rows, in one write transaction that holds off concurrent votes
    /// ([`Dialect::HOLD_OFF_VOTES`]): the repair after counters were changed by hand or votes
    /// were imported in bulk.
    ///
    /// # Errors
    /// Database faults (nothing is changed then).
    pub async fn recount_votes(&self) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(hold) = D::HOLD_OFF_VOTES {
            driver::execute(sqlx::query::<D::Db>(hold), &mut tx)
                .await
                .fault("locking the vote tables")?;
        }
        for statement in super::RECOUNT_VOTES {
            driver::execute(sqlx::query::<D::Db>(statement), &mut tx)
                .await
                .fault("recounting votes")?;
        }
        tx.commit().await.fault("committing the recount")
    }

    /// A write transaction ([`Dialect::BEGIN_WRITE`]).
    pub(crate) async fn begin_write(&self) -> anyhow::Result<Transaction<'static, D::Db>> {
        D::writer(&self.pools)
            .begin_with(D::BEGIN_WRITE)
            .await
            .fault("starting a write transaction")
    }
}
