//! Cast-vote throughput and rankings-page latency with 100,000 players and 1,000,000 votes,
//! on SQLite (a file) and PostgreSQL (ANB_TEST_POSTGRES_URL, a fresh database dropped after).
//!
//! Run: `ANB_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench votes_rankings`
//! (`scripts/bench-votes` sets the URL up the way `scripts/test` does).
//! Smaller data for a quick look: `ANB_BENCH_PLAYERS=10000 ANB_BENCH_VOTES_PER_PLAYER=10`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anb::adapters::postgres::PostgresStore;
use anb::adapters::sqlite::SqliteStore;
use anb::adapters::testkit::seed::{seed_postgres, seed_sqlite, Seed};
use anb::domain::ports::{UserRepository, VoteRepository};
use anb::domain::user::NewUser;
use anb::{City, Country, Email, PageRequest, PasswordHash, PersonName, RankingQuery, UserId};
use chrono::Utc;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use uuid::Uuid;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The seeded world: players, their videos, and the votes between them.
/// Fresh voters (not in the seed), so every measured vote is a new, valid pair.
async fn fresh_voters(users: &dyn UserRepository, n: usize) -> Vec<UserId> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let user = users
            .create(NewUser {
                id: UserId::new(),
                first_name: PersonName::parse("first_name", "Fan").unwrap(),
                last_name: PersonName::parse("last_name", &format!("{i}")).unwrap(),
                email: Email::parse(&format!("fan{i}-{}@example.com", Uuid::new_v4().simple()))
                    .unwrap(),
                password_hash: PasswordHash::from_phc("$argon2id$x"),
                city: City::parse("Fan City").unwrap(),
                country: Country::parse("Colombia").unwrap(),
                created_at: Utc::now(),
            })
            .await
            .unwrap();
        out.push(user.id);
    }
    out
}

/// The next never-cast (fresh voter, video) pair; consecutive pairs hit different videos, so
/// concurrent votes do not queue on one row.
fn fresh_pair(counter: &AtomicU64, voters: &[UserId], seed: &Seed) -> (UserId, anb::VideoId) {
    let i = counter.fetch_add(1, Ordering::Relaxed) as usize;
    let video = seed.videos[(i * 7_919) % seed.videos.len()];
    let voter = voters[(i / seed.videos.len()) % voters.len()];
    (voter, anb::VideoId::from_uuid(video))
}

struct Backend {
    name: &'static str,
    votes: Arc<dyn VoteRepository>,
    users: Arc<dyn UserRepository>,
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, backend: &Backend, seed: &Seed) {
    let mut group = c.benchmark_group(format!("rankings/{}", backend.name));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    let city = City::parse("City 7").unwrap();
    let cases = [
        ("first_page", None, 1),
        ("city_first_page", Some(city), 1),
        ("page_100", None, 100),
    ];
    for (label, city, page) in cases {
        let query = RankingQuery {
            city,
            country: None,
            page: PageRequest::new(Some(page), Some(20)).unwrap(),
        };
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.to_async(rt).iter(|| async {
                let page = backend.votes.rankings(&query).await.unwrap();
                assert_eq!(page.items.len(), 20);
            })
        });
    }
    group.finish();

    let voters = rt.block_on(fresh_voters(&*backend.users, 2_000));
    let counter = AtomicU64::new(0);
    let mut group = c.benchmark_group(format!("cast_vote/{}", backend.name));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential", |b| {
        b.to_async(rt).iter(|| async {
            let (voter, video) = fresh_pair(&counter, &voters, seed);
            backend.votes.cast(voter, video, Utc::now()).await.unwrap();
        })
    });
    // Sixteen votes in flight at once (different voters, different videos): what a busy
    // service sees; the databases overlap the commits.
    group.throughput(Throughput::Elements(16));
    group.bench_function("concurrent_16", |b| {
        b.to_async(rt).iter(|| async {
            let casts = (0..16).map(|_| {
                let (voter, video) = fresh_pair(&counter, &voters, seed);
                backend.votes.cast(voter, video, Utc::now())
            });
            for cast in futures::future::join_all(casts).await {
                cast.unwrap();
            }
        })
    });
    group.finish();
}

fn votes_rankings(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let players = env_usize("ANB_BENCH_PLAYERS", 100_000);
    let per_player = env_usize("ANB_BENCH_VOTES_PER_PLAYER", 10);
    let started = Instant::now();
    let seed = Seed::new(players, per_player);
    eprintln!(
        "seed: {players} players, {} votes, computed in {:.1?}",
        seed.votes.len(),
        started.elapsed()
    );

    // SQLite, in a file.
    let dir = std::env::temp_dir().join(format!("anb-bench-{}", Uuid::new_v4().simple()));
    let sqlite = rt.block_on(async {
        let db = anb::adapters::sqlite::connect(
            &format!("sqlite://{}", dir.join("bench.db").display()),
            8,
        )
        .await
        .unwrap();
        anb::adapters::sqlite::migrate(&db).await.unwrap();
        let t = Instant::now();
        seed_sqlite(&db, &seed).await.expect("seeding SQLite");
        eprintln!("sqlite: seeded in {:.1?}", t.elapsed());
        Arc::new(SqliteStore::new(db))
    });
    bench_backend(
        c,
        &rt,
        &Backend {
            name: "sqlite",
            votes: sqlite.clone(),
            users: sqlite,
        },
        &seed,
    );
    let _ = std::fs::remove_dir_all(&dir);

    // PostgreSQL, in a fresh database.
    let admin_url = std::env::var("ANB_TEST_POSTGRES_URL").expect(
        "set ANB_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) or run scripts/bench-votes",
    );
    let name = format!("anb_bench_{}", Uuid::new_v4().simple());
    let (admin, postgres) = rt.block_on(async {
        let admin = anb::adapters::postgres::connect(&admin_url, 2)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        let options: sqlx::postgres::PgConnectOptions = admin_url.parse().unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options.database(&name))
            .await
            .unwrap();
        anb::adapters::postgres::migrate(&pool).await.unwrap();
        let t = Instant::now();
        seed_postgres(&pool, &seed)
            .await
            .expect("seeding PostgreSQL");
        eprintln!("postgres: seeded in {:.1?}", t.elapsed());
        (admin, Arc::new(PostgresStore::new(pool)))
    });
    bench_backend(
        c,
        &rt,
        &Backend {
            name: "postgres",
            votes: postgres.clone(),
            users: postgres.clone(),
        },
        &seed,
    );
    rt.block_on(async {
        postgres.pools().close().await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&admin)
            .await
            .unwrap();
    });
}

criterion_group!(benches, votes_rankings);
criterion_main!(benches);
