//! The shared page cache outside the HTTP crate: the Redis page store on a real Redis, and two
//! HTTP instances over one PostgreSQL database serving each other's public pages through it.
//! (The cache's own rules, single flight and the TTL bound, are unit-tested in
//! `crates/anb-http/src/page_cache/tests.rs`.)

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anb::app::compose;
use anb::app::settings::Settings;
use anb_adapters::redis::RedisPageStore;
use anb_adapters::testkit::seed::{seed_postgres, Seed};
use anb_adapters::testkit::{services, unique};
use anb_domain::ports::PageStore;
use anb_domain::{UserId, VideoId};
use anb_http::{AppState, HttpConfig};
use figment::Figment;

/// A store under a prefix of its own, so tests and runs never see each other's pages.
fn store() -> RedisPageStore {
    RedisPageStore::new(&services::redis_url(), &unique("anb-test-pages")).unwrap()
}

/// Serves `state` on a free port until the test process ends; its base URL.
async fn serve(state: AppState) -> String {
    let acceptor = anb_http::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = anb_http::local_addr(&acceptor).unwrap();
    tokio::spawn(anb_http::serve(acceptor, state, std::future::pending()));
    format!("http://{addr}")
}

/// A page as a client sees it: status, total, links, body.
async fn fetch(base: &str, path: &str) -> (u16, String, String, String) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (total, link) = (header("x-total-count"), header("link"));
    (
        response.status().as_u16(),
        total,
        link,
        response.text().await.unwrap(),
    )
}

/// (What every page store does is checked by the conformance suite.)
#[tokio::test]
async fn redis_page_stores_under_different_prefixes_keep_apart() {
    let (store, other) = (store(), store());
    store
        .put("top", b"[1,2,3]", Duration::from_secs(30))
        .await
        .unwrap();
    assert!(store.get("top").await.unwrap().is_some());
    assert_eq!(other.get("top").await.unwrap(), None, "another prefix");
}

#[tokio::test]
async fn a_redis_page_store_on_a_closed_port_is_made_but_each_call_fails() {
    let store = RedisPageStore::new("redis://127.0.0.1:1", "anb-test-pages").unwrap();
    assert!(store.ping().await.is_err());
    assert!(store.get("top").await.is_err());
    assert!(store
        .put("top", b"[]", Duration::from_secs(1))
        .await
        .is_err());
    assert!(RedisPageStore::new("http://127.0.0.1:6379", "anb-test-pages").is_err());
    assert!(RedisPageStore::new("redis://127.0.0.1:6379", "").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_a_cache_server_serve_one_databases_pages_read_once() {
    let database = services::empty_postgres_database_url().await;
    let settings = Settings::from_figment(
        &Figment::new()
            .merge(("database_url", database.as_str()))
            .merge(("queue_url", "memory://"))
            .merge(("blob_url", "memory://"))
            .merge(("jwt_secret", "a-test-secret-of-more-than-thirty-two-bytes")),
    )
    .unwrap();
    let app = Arc::new(compose::connect(&settings).await.unwrap());
    let seed = Seed::new(30, 4);
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    seed_postgres(&pool, &seed).await.unwrap();
    pool.close().await;

    // The TTL is long, so a page taken from Redis is still the one cached before the vote.
    let config = HttpConfig {
        public_cache_ttl: Duration::from_secs(30),
        ..HttpConfig::default()
    };
    let instance = |shared: Option<&Arc<dyn PageStore>>| {
        let state = AppState::new(app.showcase.clone(), app.clone(), config.clone());
        match shared {
            Some(store) => state.with_shared_pages(store.clone()),
            None => state,
        }
    };
    let shared: Arc<dyn PageStore> = Arc::new(store());
    let first = serve(instance(Some(&shared))).await;
    let second = serve(instance(Some(&shared))).await;
    let not_sharing = serve(instance(None)).await;

    let pages = [
        "/api/public/rankings",
        "/api/public/rankings?city=City%201&page_size=3",
        "/api/public/videos",
        "/api/public/videos?sort=recent&page=2&page_size=5",
    ];
    let mut before = Vec::new();
    for page in pages {
        let fetched = fetch(&first, page).await;
        assert_eq!(fetched.0, 200, "{page}: {}", fetched.3);
        before.push(fetched);
    }

    // A vote for the most voted video, after the first instance cached its pages.
    let voted: HashSet<(u32, u32)> = seed.votes.iter().map(|&(u, v, _)| (u, v)).collect();
    let voter = (1..30)
        .find(|&u| !voted.contains(&(u, 0)))
        .expect("a player yet to vote");
    app.showcase
        .cast_vote(
            UserId::from(seed.users[voter as usize]),
            VideoId::from(seed.videos[0]),
        )
        .await
        .unwrap();

    for (page, cached) in pages.iter().zip(&before) {
        assert_eq!(
            &fetch(&second, page).await,
            cached,
            "{page}: the second instance serves the first one's page, as it was"
        );
    }
    let fresh = fetch(&not_sharing, pages[0]).await;
    assert_ne!(fresh.3, before[0].3, "the database has the vote");
}
