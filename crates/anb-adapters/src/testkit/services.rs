//! Where the tests find the real services they talk to.
//!
//! An explicit URL in the environment wins (`ANB_TEST_POSTGRES_URL`, `ANB_TEST_REDIS_URL`;
//! `scripts/test` and CI set them after making sure the services run). Without one, a test
//! FAILS with instructions: a backend is never skipped silently.

/// Environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "ANB_TEST_POSTGRES_URL";
/// Environment variable naming the Redis server for tests.
pub const REDIS_ENV: &str = "ANB_TEST_REDIS_URL";

fn required(var: &str, service: &str, example: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{service} tests need a running {service}. Set {var} (for example {var}={example}), \
             or run scripts/test, which starts or installs {service} on Debian/Ubuntu and sets it."
        ),
    }
}

/// The PostgreSQL server URL (a database with rights to create databases).
///
/// # Panics
/// When [`POSTGRES_ENV`] is not set.
pub fn postgres_url() -> String {
    required(
        POSTGRES_ENV,
        "PostgreSQL",
        "postgres://postgres@127.0.0.1:5432/postgres",
    )
}

/// The Redis server URL.
///
/// # Panics
/// When [`REDIS_ENV`] is not set.
pub fn redis_url() -> String {
    required(REDIS_ENV, "Redis", "redis://127.0.0.1:6379")
}

/// A fresh PostgreSQL database for this test process: created once (random name
/// `anb_test_…`, migrated) on the server named by [`POSTGRES_ENV`]; each call returns a new
/// pool on it (pools cannot cross the per-test runtimes). `scripts/test` drops the test
/// databases when the run ends.
///
/// # Panics
/// When [`POSTGRES_ENV`] is not set or the server refuses.
#[cfg(feature = "postgres")]
pub async fn postgres_pool() -> sqlx::PgPool {
    use std::sync::OnceLock;

    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    static DATABASE: OnceLock<String> = OnceLock::new();
    let admin: PgConnectOptions = postgres_url()
        .parse()
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is not a PostgreSQL URL: {e}"));
    let name = DATABASE.get_or_init(|| {
        let admin = admin.clone();
        // Created on a runtime of its own: the calling test's runtime ends with the test.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let name = format!("anb_test_{}", uuid::Uuid::new_v4().simple());
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(admin.clone())
                    .await
                    .unwrap_or_else(|e| {
                        panic!("cannot reach PostgreSQL named by {POSTGRES_ENV}: {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("creating the test database");
                pool.close().await;
                let db = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(admin.database(&name))
                    .await
                    .expect("connecting to the test database");
                crate::postgres::migrate(&db)
                    .await
                    .expect("migrating the test database");
                db.close().await;
                name
            })
        })
        .join()
        .expect("the database set-up thread panicked")
    });
    PgPoolOptions::new()
        .max_connections(20)
        .connect_with(admin.database(name))
        .await
        .expect("connecting to the test database")
}

/// A fresh, migrated SQLite database file (in a temporary directory kept for the process;
/// `scripts/test` removes it).
///
/// # Panics
/// When the file cannot be created.
#[cfg(feature = "sqlite")]
pub async fn sqlite_pool() -> sqlx::SqlitePool {
    use std::sync::OnceLock;

    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        make_temp_dir().expect("creating a temporary directory for SQLite test databases")
    });
    let file = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
    let pool = crate::sqlite::connect(&format!("sqlite://{}", file.display()), 8)
        .await
        .expect("opening a SQLite test database");
    crate::sqlite::migrate(&pool)
        .await
        .expect("migrating a SQLite test database");
    pool
}

#[cfg(feature = "sqlite")]
fn make_temp_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("anb-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
