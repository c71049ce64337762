//! Readiness: can this process reach each backend right now?

use std::time::Duration;

use anb_domain::ports::{BlobError, Readiness};
use anb_domain::BlobKey;
use anyhow::Context as _;
use async_trait::async_trait;

use super::{Composed, Database};

/// How long one backend may take to answer a readiness check: a probe must answer within a
/// load balancer's timeout, and a database that is down holds a connection attempt (sqlx
/// retries it) for longer than that.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// A backend a readiness check covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    /// The database behind the repositories.
    Database,
    /// The job queue.
    Queue,
    /// The blob store.
    Blobs,
}

impl Component {
    /// The name a readiness answer uses: `database`, `queue`, `blobs`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Queue => "queue",
            Self::Blobs => "blobs",
        }
    }
}

impl Composed {
    /// Asks every backend for a trivial answer (a `SELECT 1`, the queue's depth, the metadata
    /// of an object that need not exist), each within 2 s, concurrently. Returns each
    /// component's outcome; the service is ready when all are `Ok`.
    pub async fn readiness(&self) -> Vec<(Component, anyhow::Result<()>)> {
        let (database, queue, blobs) = futures::join!(
            within(self.database_ready()),
            within(async { self.ports.jobs.depth().await.map(drop).map_err(Into::into) }),
            within(self.blobs_ready()),
        );
        vec![
            (Component::Database, database),
            (Component::Queue, queue),
            (Component::Blobs, blobs),
        ]
    }

    async fn database_ready(&self) -> anyhow::Result<()> {
        match &self.database {
            Database::Sqlite(db) => {
                sqlx::query("SELECT 1").execute(db.reader()).await?;
            }
            Database::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Database::Memory => {}
        }
        Ok(())
    }

    async fn blobs_ready(&self) -> anyhow::Result<()> {
        let probe = BlobKey::new("health/readiness-probe").context("the probe key")?;
        match self.ports.blobs.head(&probe).await {
            Ok(_) | Err(BlobError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl Readiness for Composed {
    async fn check(&self) -> Vec<(&'static str, anyhow::Result<()>)> {
        self.readiness()
            .await
            .into_iter()
            .map(|(component, result)| (component.as_str(), result))
            .collect()
    }
}

async fn within(
    check: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {CHECK_TIMEOUT:?}"))?
}
