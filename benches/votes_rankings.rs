//! Cast-vote throughput and rankings-page latency with 100,000 players and 1,000,000 votes,
//! on SQLite (a file) and PostgreSQL (ANB_TEST_POSTGRES_URL, a fresh database dropped after).
//!
//! Run: `ANB_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench votes_rankings`
//! (`scripts/bench-votes` sets the URL up the way `scripts/test` does).
//! Smaller data for a quick look: `ANB_BENCH_PLAYERS=10000 ANB_BENCH_VOTES_PER_PLAYER=10`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anb::adapters::postgres::PostgresStore;
use anb::adapters::sqlite::SqliteStore;
use anb::domain::ports::{UserRepository, VoteRepository};
use anb::domain::user::NewUser;
use anb::{City, Country, Email, PageRequest, PasswordHash, PersonName, RankingQuery, UserId};
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sqlx::{Postgres, QueryBuilder, Sqlite};
use uuid::Uuid;

const CITIES: usize = 50;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The seeded world: players, their videos, and the votes between them.
struct Seed {
    users: Vec<Uuid>,
    videos: Vec<Uuid>,
    /// (voter index, video index, cast time in µs).
    votes: Vec<(u32, u32, i64)>,
    start: DateTime<Utc>,
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

impl Seed {
    /// Every player has one processed public video and votes for `per_player` others,
    /// popular players (low indexes) far more often than the rest.
    fn new(players: usize, per_player: usize) -> Self {
        let users: Vec<Uuid> = (0..players).map(|_| Uuid::now_v7()).collect();
        let videos: Vec<Uuid> = (0..players).map(|_| Uuid::now_v7()).collect();
        let start = Utc::now() - chrono::Duration::days(30);
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut votes = Vec::with_capacity(players * per_player);
        let mut t = start.timestamp_micros();
        for voter in 0..players {
            let mut chosen = HashSet::with_capacity(per_player);
            while chosen.len() < per_player.min(players - 1) {
                // Skewed: square a uniform number so low indexes win more often.
                let u = (xorshift(&mut rng) % 1_000_000) as f64 / 1_000_000.0;
                let video = ((u * u) * players as f64) as usize;
                if video != voter && chosen.insert(video) {
                    t += 1_000;
                    votes.push((voter as u32, video as u32, t));
                }
            }
        }
        Self {
            users,
            videos,
            votes,
            start,
        }
    }
}

/// Rows per INSERT on PostgreSQL (at most 65,535 bound values per statement).
const BATCH: usize = 2_000;

async fn seed_postgres(pool: &sqlx::PgPool, seed: &Seed) {
    let micros = |us: i64| DateTime::from_timestamp_micros(us).unwrap();
    let mut tx = pool.begin().await.unwrap();
    for chunk in (0..seed.users.len()).collect::<Vec<_>>().chunks(BATCH) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO users (id, first_name, last_name, email, password_hash, city, city_key, \
             country, country_key, created_at) ",
        );
        q.push_values(chunk, |mut b, &i| {
            let city = format!("City {}", i % CITIES);
            b.push_bind(seed.users[i])
                .push_bind("Player")
                .push_bind(format!("{i:06}"))
                .push_bind(format!("player{i}@example.com"))
                .push_bind("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
                .push_bind(city.clone())
                .push_bind(city.to_lowercase())
                .push_bind("Colombia")
                .push_bind("colombia")
                .push_bind(seed.start);
        });
        q.build().execute(&mut *tx).await.unwrap();
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO videos (id, owner_id, title, tags, search_text, status, is_public, \
             size_bytes, original_key, processed_key, thumbnail_key, duration_seconds, \
             uploaded_at, processed_at, published_at) ",
        );
        q.push_values(chunk, |mut b, &i| {
            let (v, u) = (seed.videos[i], seed.users[i]);
            b.push_bind(v)
                .push_bind(u)
                .push_bind(format!("Clip {i}"))
                .push_bind("[\"dunk\"]")
                .push_bind(format!("clip {i}\ndunk"))
                .push_bind("processed")
                .push_bind(true)
                .push_bind(1_000_000i64)
                .push_bind(format!("uploads/{u}/{v}.mp4"))
                .push_bind(format!("processed/{v}.mp4"))
                .push_bind(format!("thumbnails/{v}.jpg"))
                .push_bind(20.0f64)
                .push_bind(seed.start)
                .push_bind(seed.start)
                .push_bind(seed.start);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    for chunk in seed.votes.chunks(BATCH * 10) {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("INSERT INTO votes (user_id, video_id, cast_at) ");
        q.push_values(chunk, |mut b, &(voter, video, at)| {
            b.push_bind(seed.users[voter as usize])
                .push_bind(seed.videos[video as usize])
                .push_bind(micros(at));
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    // The counters come from the vote rows, as the repair tool computes them.
    anb::adapters::postgres::recount_votes(pool).await.unwrap();
    sqlx::query("VACUUM ANALYZE").execute(pool).await.unwrap();
}

async fn seed_sqlite(db: &anb::adapters::sqlite::SqliteDatabase, seed: &Seed) {
    let mut tx = db.writer().begin().await.unwrap();
    // SQLite allows 32,766 bound values per statement.
    for chunk in (0..seed.users.len()).collect::<Vec<_>>().chunks(1_000) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO users (id, first_name, last_name, email, password_hash, city, city_key, \
             country, country_key, created_at) ",
        );
        q.push_values(chunk, |mut b, &i| {
            let city = format!("City {}", i % CITIES);
            b.push_bind(seed.users[i])
                .push_bind("Player")
                .push_bind(format!("{i:06}"))
                .push_bind(format!("player{i}@example.com"))
                .push_bind("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
                .push_bind(city.clone())
                .push_bind(city.to_lowercase())
                .push_bind("Colombia")
                .push_bind("colombia")
                .push_bind(seed.start.timestamp_micros());
        });
        q.build().execute(&mut *tx).await.unwrap();
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO videos (id, owner_id, title, tags, search_text, status, is_public, \
             size_bytes, original_key, processed_key, thumbnail_key, duration_seconds, \
             uploaded_at, processed_at, published_at) ",
        );
        let at = seed.start.timestamp_micros();
        q.push_values(chunk, |mut b, &i| {
            let (v, u) = (seed.videos[i], seed.users[i]);
            b.push_bind(v)
                .push_bind(u)
                .push_bind(format!("Clip {i}"))
                .push_bind("[\"dunk\"]")
                .push_bind(format!("clip {i}\ndunk"))
                .push_bind("processed")
                .push_bind(true)
                .push_bind(1_000_000i64)
                .push_bind(format!("uploads/{u}/{v}.mp4"))
                .push_bind(format!("processed/{v}.mp4"))
                .push_bind(format!("thumbnails/{v}.jpg"))
                .push_bind(20.0f64)
                .push_bind(at)
                .push_bind(at)
                .push_bind(at);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    for chunk in seed.votes.chunks(10_000) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO votes (user_id, video_id, cast_at) ");
        q.push_values(chunk, |mut b, &(voter, video, at)| {
            b.push_bind(seed.users[voter as usize])
                .push_bind(seed.videos[video as usize])
                .push_bind(at);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    anb::adapters::sqlite::recount_votes(db).await.unwrap();
    sqlx::query("ANALYZE").execute(db.writer()).await.unwrap();
}

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
        seed_sqlite(&db, &seed).await;
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
        seed_postgres(&pool, &seed).await;
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
        postgres.pool().close().await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&admin)
            .await
            .unwrap();
    });
}

criterion_group!(benches, votes_rankings);
criterion_main!(benches);
