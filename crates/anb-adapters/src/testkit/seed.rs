//! A large, realistic world written straight into a database: for benchmarks and load tests
//! (tens of thousands of players, hundreds of thousands of votes in seconds, where the API
//! would take minutes of password hashing).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Sqlite};
use uuid::Uuid;

/// Cities the seeded players live in (`City 0` … `City 49`).
pub const CITIES: usize = 50;

/// A seeded world: players, one processed public video each, and the votes between them.
pub struct Seed {
    /// Player ids.
    pub users: Vec<Uuid>,
    /// Video ids (`videos[i]` belongs to `users[i]`).
    pub videos: Vec<Uuid>,
    /// (voter index, video index, cast time in µs).
    pub votes: Vec<(u32, u32, i64)>,
    /// When the world began.
    pub start: DateTime<Utc>,
    /// The password hash every seeded player gets.
    pub password_hash: String,
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

impl Seed {
    /// Every player has one processed public video and votes for `per_player` others,
    /// popular players (low indexes) far more often than the rest. Player `i` is
    /// `player{i}@example.com` in `City {i % 50}`; ids are predictable:
    /// [`Seed::user_id`] and [`Seed::video_id`].
    pub fn new(players: usize, per_player: usize) -> Self {
        let users: Vec<Uuid> = (0..players).map(|i| Self::user_id(i as u64)).collect();
        let videos: Vec<Uuid> = (0..players).map(|i| Self::video_id(i as u64)).collect();
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
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        }
    }

    /// Gives every seeded player this password hash (so they can log in).
    pub fn with_password_hash(mut self, hash: impl Into<String>) -> Self {
        self.password_hash = hash.into();
        self
    }

    /// The id of player `i`: `00000000-0000-7000-8000-` and `i` in 12 decimal digits.
    pub fn user_id(i: u64) -> Uuid {
        Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0000 | u128::from(decimal(i)))
    }

    /// The id of player `i`'s video: `00000000-0000-7000-9000-` and `i` in 12 decimal digits
    /// (so a load tool can pick one with the pattern `00000000-0000-7000-9000-[0-9]{12}`).
    pub fn video_id(i: u64) -> Uuid {
        Uuid::from_u128(0x0000_0000_0000_7000_9000_0000_0000_0000 | u128::from(decimal(i)))
    }
}

/// `i`'s decimal digits read as hexadecimal digits (12 of them), so the UUID shows `i`.
fn decimal(i: u64) -> u64 {
    u64::from_str_radix(&format!("{:012}", i % 1_000_000_000_000), 16).expect("decimal digits")
}

/// Rows per INSERT on PostgreSQL (at most 65,535 bound values per statement).
const BATCH: usize = 2_000;

/// Writes `seed` into a migrated PostgreSQL database in bulk, then rebuilds the counters.
///
/// # Errors
/// Database faults.
pub async fn seed_postgres(pool: &sqlx::PgPool, seed: &Seed) -> anyhow::Result<()> {
    let micros = |us: i64| DateTime::from_timestamp_micros(us).unwrap_or(seed.start);
    let mut tx = pool.begin().await?;
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
                .push_bind(seed.password_hash.as_str())
                .push_bind(city.clone())
                .push_bind(city.to_lowercase())
                .push_bind("Colombia")
                .push_bind("colombia")
                .push_bind(seed.start);
        });
        q.build().execute(&mut *tx).await?;
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
        q.build().execute(&mut *tx).await?;
    }
    for chunk in seed.votes.chunks(BATCH * 10) {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("INSERT INTO votes (user_id, video_id, cast_at) ");
        q.push_values(chunk, |mut b, &(voter, video, at)| {
            b.push_bind(seed.users[voter as usize])
                .push_bind(seed.videos[video as usize])
                .push_bind(micros(at));
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    // The counters come from the vote rows, as the repair tool computes them.
    crate::postgres::PostgresStore::new(pool.clone())
        .recount_votes()
        .await?;
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    Ok(())
}

/// Writes `seed` into a migrated SQLite database in bulk, then rebuilds the counters.
///
/// # Errors
/// Database faults.
pub async fn seed_sqlite(db: &crate::sqlite::SqliteDatabase, seed: &Seed) -> anyhow::Result<()> {
    let mut tx = db.writer().begin().await?;
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
                .push_bind(seed.password_hash.as_str())
                .push_bind(city.clone())
                .push_bind(city.to_lowercase())
                .push_bind("Colombia")
                .push_bind("colombia")
                .push_bind(seed.start.timestamp_micros());
        });
        q.build().execute(&mut *tx).await?;
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
        q.build().execute(&mut *tx).await?;
    }
    for chunk in seed.votes.chunks(10_000) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO votes (user_id, video_id, cast_at) ");
        q.push_values(chunk, |mut b, &(voter, video, at)| {
            b.push_bind(seed.users[voter as usize])
                .push_bind(seed.videos[video as usize])
                .push_bind(at);
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    crate::sqlite::SqliteStore::new(db.clone())
        .recount_votes()
        .await?;
    sqlx::query("ANALYZE").execute(db.writer()).await?;
    Ok(())
}
