//! The adapter conformance suite, run on every adapter. A new adapter is a new module here with
//! one line per port family it implements.

use std::sync::Arc;

use anb_adapters::testkit::conformance::repositories::Repositories;

mod memory {
    use super::*;
    use anb_adapters::memory::{MemoryBackend, MemoryQueue, MemoryStore};
    use anb_domain::ports::{JobQueue, SystemClock};

    async fn repositories() -> Repositories {
        let store = Arc::new(MemoryStore::new());
        Repositories {
            users: store.clone(),
            videos: store.clone(),
            votes: store,
        }
    }

    async fn queue() -> Arc<dyn JobQueue> {
        Arc::new(MemoryQueue::new(Arc::new(SystemClock)))
    }

    anb_adapters::repository_conformance!(repositories());
    anb_adapters::queue_conformance!(queue());
    anb_adapters::blob_conformance!(async {
        MemoryBackend::new().blobs as Arc<dyn anb_domain::ports::BlobStore>
    });
}

mod postgres {
    use super::*;
    use anb_adapters::postgres::{PostgresQueue, PostgresStore};
    use anb_adapters::testkit::{services::postgres_pool, unique};
    use anb_domain::ports::JobQueue;

    async fn repositories() -> Repositories {
        let store = Arc::new(PostgresStore::new(postgres_pool().await));
        Repositories {
            users: store.clone(),
            videos: store.clone(),
            votes: store,
        }
    }

    async fn queue() -> Arc<dyn JobQueue> {
        Arc::new(PostgresQueue::new(postgres_pool().await, unique("queue")))
    }

    anb_adapters::repository_conformance!(repositories());
    anb_adapters::queue_conformance!(queue());
}

mod sqlite {
    use super::*;
    use anb_adapters::sqlite::{SqliteQueue, SqliteStore};
    use anb_adapters::testkit::{services::sqlite_pool, unique};
    use anb_domain::ports::JobQueue;

    async fn repositories() -> Repositories {
        let store = Arc::new(SqliteStore::new(sqlite_pool().await));
        Repositories {
            users: store.clone(),
            videos: store.clone(),
            votes: store,
        }
    }

    async fn queue() -> Arc<dyn JobQueue> {
        Arc::new(SqliteQueue::new(sqlite_pool().await, unique("queue")))
    }

    anb_adapters::repository_conformance!(repositories());
    anb_adapters::queue_conformance!(queue());
}
