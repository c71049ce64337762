//! The page cache against a real Redis (`ANB_TEST_REDIS_URL`; `scripts/test` sets it). The
//! "database" is a counter of votes and a count of loads.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anb_adapters::redis::RedisPageStore;
use anb_domain::ports::PageStore;

use super::{Page, PageCache};

/// The Redis server the tests use. There is no container fallback in this crate (the root
/// package's tests have one): without the variable the tests fail, they are never skipped.
fn redis_url() -> String {
    match std::env::var("ANB_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "the page cache tests need a running Redis. Set ANB_TEST_REDIS_URL (for example \
             ANB_TEST_REDIS_URL=redis://127.0.0.1:6379), or run scripts/test, which starts or \
             installs Redis on Debian/Ubuntu and sets it."
        ),
    }
}

/// A store under a prefix of its own, so runs never see each other's pages.
fn store() -> Arc<dyn PageStore> {
    let prefix = format!("anb-test-pages-{}", uuid::Uuid::new_v4().simple());
    Arc::new(RedisPageStore::new(&redis_url(), &prefix).unwrap())
}

/// A database of one player's votes that counts how often it is read.
#[derive(Default)]
struct Database {
    votes: AtomicU64,
    loads: AtomicUsize,
}

impl Database {
    /// The rankings page: one row, the player's votes.
    async fn load(&self) -> anyhow::Result<Page<u64>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        // A query takes a while, so that concurrent requests really overlap.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(Page {
            rows: vec![self.votes.load(Ordering::SeqCst)],
            total: 1,
        })
    }

    fn vote(&self) {
        self.votes.fetch_add(1, Ordering::SeqCst);
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

async fn votes_shown(cache: &PageCache<u64>, db: &Database) -> u64 {
    cache.get_or_load("top", || db.load()).await.unwrap().rows[0]
}

#[tokio::test]
async fn a_page_loaded_through_one_instance_is_served_to_another_from_redis_without_its_loader() {
    let store = store();
    let ttl = Duration::from_secs(30);
    let first = PageCache::new("rankings", ttl).with_shared(store.clone());
    let second = PageCache::new("rankings", ttl).with_shared(store);
    let (first_db, second_db) = (Database::default(), Database::default());
    first_db.votes.store(7, Ordering::SeqCst);

    assert_eq!(votes_shown(&first, &first_db).await, 7);
    assert_eq!(votes_shown(&second, &second_db).await, 7);
    assert_eq!(first_db.loads(), 1);
    assert_eq!(
        second_db.loads(),
        0,
        "the second instance read Redis, not its database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_misses_on_one_key_call_the_loader_once() {
    let cache = Arc::new(PageCache::new("rankings", Duration::from_secs(30)).with_shared(store()));
    let db = Arc::new(Database::default());
    let requests: Vec<_> = (0..50)
        .map(|_| {
            let (cache, db) = (cache.clone(), db.clone());
            tokio::spawn(async move { votes_shown(&cache, &db).await })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 0);
    }
    assert_eq!(db.loads(), 1);
}

#[tokio::test]
async fn fifty_concurrent_misses_on_one_key_call_the_loader_once_without_redis_too() {
    let cache = PageCache::new("gallery", Duration::from_secs(30));
    let db = Database::default();
    let pages = futures::future::join_all((0..50).map(|_| votes_shown(&cache, &db))).await;
    assert_eq!(pages, vec![0; 50]);
    assert_eq!(db.loads(), 1);
}

#[tokio::test]
async fn a_vote_shows_on_every_instance_within_the_ttl_as_the_layers_do_not_add_up() {
    let ttl = Duration::from_millis(200);
    let store = store();
    let first = PageCache::new("rankings", ttl).with_shared(store.clone());
    let second = PageCache::new("rankings", ttl).with_shared(store);
    let db = Database::default();

    assert_eq!(votes_shown(&first, &db).await, 0);
    db.vote();
    let voted = Instant::now();
    // Midway through the TTL the second instance takes the page from Redis: it must keep it
    // only for what is left of the TTL, not for a TTL of its own.
    tokio::time::sleep(ttl / 2).await;
    votes_shown(&second, &db).await;

    tokio::time::sleep_until((voted + ttl + Duration::from_millis(30)).into()).await;
    assert_eq!(
        votes_shown(&first, &db).await,
        1,
        "the first instance shows the vote"
    );
    assert_eq!(
        votes_shown(&second, &db).await,
        1,
        "the second instance shows the vote"
    );
}

#[tokio::test]
async fn requests_are_answered_from_the_database_while_redis_is_down() {
    let closed_port =
        Arc::new(RedisPageStore::new("redis://127.0.0.1:1", "anb-test-pages").unwrap());
    let cache = PageCache::new("rankings", Duration::from_secs(30)).with_shared(closed_port);
    let db = Database::default();
    db.vote();

    assert_eq!(votes_shown(&cache, &db).await, 1);
    assert_eq!(votes_shown(&cache, &db).await, 1);
    assert_eq!(db.loads(), 1, "the page is still kept in process");
}

#[tokio::test]
async fn a_failed_load_is_an_error_and_is_not_cached() {
    let cache: PageCache<u64> = PageCache::new("rankings", Duration::from_secs(30));
    let err = cache
        .get_or_load("top", || async { anyhow::bail!("the database is down") })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("database is down"), "{err:#}");
    let db = Database::default();
    assert_eq!(votes_shown(&cache, &db).await, 0);
    assert_eq!(db.loads(), 1);
}

#[tokio::test]
async fn a_zero_ttl_caches_nothing() {
    let cache = PageCache::new("rankings", Duration::ZERO).with_shared(store());
    let db = Database::default();
    assert_eq!(votes_shown(&cache, &db).await, 0);
    db.vote();
    assert_eq!(votes_shown(&cache, &db).await, 1);
    assert_eq!(db.loads(), 2);
}
