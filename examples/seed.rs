//! Writes a large world into a database for load tests: `--players` players (one processed
//! public video each, in 50 cities) and `--votes-per-player` votes each, in bulk, with the
//! counters rebuilt from the vote rows. Every seeded player logs in as
//! `player{i}@example.com` with the password `s3cret-pass`; ids are predictable
//! (`anb_adapters::testkit::seed::Seed`).
//!
//! ```sh
//! ANB_DATABASE_URL=sqlite://data/anb.db cargo run --release --example seed -- 10000 10
//! ```
//! (`scripts/bench-http` runs it before the load test.) The database is migrated first; use an
//! empty one.

use anb::adapters::argon2::Argon2Hasher;
use anb::adapters::testkit::seed::{seed_postgres, seed_sqlite, Seed};
use anb::domain::ports::PasswordHasher as _;
use anb::Password;
use anyhow::Context as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let players: usize = args.next().unwrap_or_else(|| "10000".into()).parse()?;
    let per_player: usize = args.next().unwrap_or_else(|| "10".into()).parse()?;
    let url = std::env::var("ANB_DATABASE_URL").unwrap_or_else(|_| "sqlite://data/anb.db".into());

    let started = std::time::Instant::now();
    let hash = Argon2Hasher::default()
        .hash(&Password::new("s3cret-pass")?)
        .await?;
    let seed = Seed::new(players, per_player).with_password_hash(hash.as_str());
    if url.starts_with("postgres") {
        let pool = anb::adapters::postgres::connect(&url, 4).await?;
        anb::adapters::postgres::migrate(&pool).await?;
        seed_postgres(&pool, &seed)
            .await
            .context("seeding PostgreSQL")?;
    } else {
        let db = anb::adapters::sqlite::connect(&url, 2).await?;
        anb::adapters::sqlite::migrate(&db).await?;
        seed_sqlite(&db, &seed).await.context("seeding SQLite")?;
    }
    println!(
        "seeded {players} players, {players} videos, {} votes into {url} in {:.1} s",
        seed.votes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
