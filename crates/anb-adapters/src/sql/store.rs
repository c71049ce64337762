//! [`Store`]: users, videos and votes on a SQL database, written once for both.

use sqlx::pool::PoolConnection;
use sqlx::Transaction;

use std::sync::{Arc, OnceLock};

use super::dialect::Dialect;
use super::driver;
use super::fault::OrFault as _;
use super::vote_batch::{self, BallotBox};
use crate::tracer::Tracer;
use anb_domain::ports::TraceContext;

/// Users, videos and votes in a SQL database: [`PostgresStore`](crate::postgres::PostgresStore)
/// is `Store<Pg>`, [`SqliteStore`](crate::sqlite::SqliteStore) is `Store<Lite>`. The rules live
/// in constraints and in one transaction per change; the repositories' code is the same on
/// both, and the [`Dialect`] carries what differs.
#[derive(Clone, Debug)]
pub struct Store<D: Dialect> {
    pools: D::Pools,
    /// The way into this store's vote batches (group commit), opened by the first vote.
    ballots: Arc<OnceLock<BallotBox>>,
    /// Where the events it records get their trace context.
    trace: Tracer,
}

impl<D: Dialect> Store<D> {
    /// The store on `pools` (PostgreSQL: a `PgPool`; SQLite: a
    /// [`SqliteDatabase`](crate::sqlite::SqliteDatabase)).
    pub fn new(pools: D::Pools) -> Self {
        Self {
            pools,
            ballots: Arc::default(),
            trace: Tracer::default(),
        }
    }

    /// The same store, its events stamped with `trace`'s context (their webhook deliveries
    /// then continue the trace of the change that made them).
    #[must_use]
    pub fn with_trace_context(self, trace: Arc<dyn TraceContext>) -> Self {
        Self {
            trace: Tracer::new(trace),
            ..self
        }
    }

    /// The current operation's trace context, for the events it records.
    pub(crate) fn trace_context(&self) -> Option<String> {
        self.trace.current()
    }

    /// The vote batches, started on first use (in the runtime of the first vote).
    pub(crate) fn ballots(&self) -> &BallotBox {
        self.ballots.get_or_init(|| vote_batch::open(self))
    }

    /// A store on the same pools without this one's vote batches (what the batches cast
    /// with: holding the batches' way in would keep them running forever).
    pub(crate) fn detached(&self) -> Self {
        Self::new(self.pools.clone())
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
