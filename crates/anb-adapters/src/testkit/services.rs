//! Where the tests find the real services they talk to.
//!
//! An explicit URL in the environment wins (`ANB_TEST_POSTGRES_URL`, `ANB_TEST_REDIS_URL`;
//! `scripts/test` and CI set them after making sure the services run). Without one, and with
//! the `testcontainers` feature, a container is started (Docker needed). Otherwise a test FAILS
//! with instructions: a backend is never skipped silently.

/// Environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "ANB_TEST_POSTGRES_URL";
/// Environment variable naming the Redis server for tests.
pub const REDIS_ENV: &str = "ANB_TEST_REDIS_URL";

fn from_env_or_container(
    var: &str,
    service: &str,
    example: &str,
    container: fn() -> Option<Result<String, String>>,
) -> String {
    if let Ok(url) = std::env::var(var) {
        if !url.trim().is_empty() {
            return url;
        }
    }
    match container() {
        Some(Ok(url)) => url,
        Some(Err(e)) => panic!(
            "{service} tests need a running {service}. {var} is not set, and starting a \
             {service} container failed: {e}. Set {var} (for example {var}={example}), or run \
             scripts/test, which starts or installs {service} on Debian/Ubuntu and sets it."
        ),
        None => panic!(
            "{service} tests need a running {service}. Set {var} (for example {var}={example}), \
             or run scripts/test, which starts or installs {service} on Debian/Ubuntu and sets \
             it, or (with Docker) enable the `testcontainers` feature of anb-adapters \
             (cargo test --features anb-adapters/testcontainers) to start one in a container."
        ),
    }
}

/// The PostgreSQL server URL (a database with rights to create databases): [`POSTGRES_ENV`],
/// else (feature `testcontainers`) a container started for this test process.
///
/// # Panics
/// When neither is available, with instructions.
pub fn postgres_url() -> String {
    from_env_or_container(
        POSTGRES_ENV,
        "PostgreSQL",
        "postgres://postgres@127.0.0.1:5432/postgres",
        containers::postgres,
    )
}

/// The Redis server URL: [`REDIS_ENV`], else (feature `testcontainers`) a container started
/// for this test process.
///
/// # Panics
/// When neither is available, with instructions.
pub fn redis_url() -> String {
    from_env_or_container(
        REDIS_ENV,
        "Redis",
        "redis://127.0.0.1:6379",
        containers::redis,
    )
}

#[cfg(not(feature = "testcontainers"))]
mod containers {
    pub fn postgres() -> Option<Result<String, String>> {
        None
    }

    pub fn redis() -> Option<Result<String, String>> {
        None
    }
}

/// Containers started once per test process, for machines with Docker but no local services.
/// They carry the label `org.anb-showcase.test=true` and outlive the process (the test harness
/// ends without running destructors); remove them with
/// `docker rm -f $(docker ps -q --filter label=org.anb-showcase.test=true)`.
#[cfg(feature = "testcontainers")]
mod containers {
    use std::sync::OnceLock;

    use testcontainers_modules::postgres::Postgres;
    use testcontainers_modules::redis::Redis;
    use testcontainers_modules::testcontainers::runners::SyncRunner;
    use testcontainers_modules::testcontainers::{Image, ImageExt};

    const LABEL: (&str, &str) = ("org.anb-showcase.test", "true");

    /// Starts `image` on a thread of its own (the blocking runner brings its own runtime, which
    /// cannot nest in a test's) and returns the URL for its mapped `port`.
    fn start<I: Image + 'static>(
        image: I,
        port: u16,
        url: fn(u16) -> String,
    ) -> Result<String, String> {
        std::thread::spawn(move || {
            let container = image
                .with_label(LABEL.0, LABEL.1)
                .start()
                .map_err(|e| e.to_string())?;
            let mapped = container
                .get_host_port_ipv4(port)
                .map_err(|e| e.to_string())?;
            // Kept for the whole process: every test of the run shares it.
            std::mem::forget(container);
            Ok(url(mapped))
        })
        .join()
        .map_err(|_| "the container start-up thread panicked".to_owned())?
    }

    pub fn postgres() -> Option<Result<String, String>> {
        static URL: OnceLock<Result<String, String>> = OnceLock::new();
        Some(
            URL.get_or_init(|| {
                start(Postgres::default().with_host_auth(), 5432, |port| {
                    format!("postgres://postgres@127.0.0.1:{port}/postgres")
                })
            })
            .clone(),
        )
    }

    pub fn redis() -> Option<Result<String, String>> {
        static URL: OnceLock<Result<String, String>> = OnceLock::new();
        Some(
            URL.get_or_init(|| {
                start(Redis::default(), 6379, |port| {
                    format!("redis://127.0.0.1:{port}")
                })
            })
            .clone(),
        )
    }
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

/// The URL of a new, empty (unmigrated) database on the test server (`anb_test_…`, dropped
/// by `scripts/test`): for tests that start an application which migrates it itself.
///
/// # Panics
/// When [`POSTGRES_ENV`] is not set or the server refuses.
#[cfg(feature = "postgres")]
pub async fn empty_postgres_database_url() -> String {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    let server = postgres_url();
    let admin: PgConnectOptions = server
        .parse()
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is not a PostgreSQL URL: {e}"));
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL named by {POSTGRES_ENV}: {e}"));
    let name = format!("anb_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("creating the test database");
    pool.close().await;
    let mut url = url::Url::parse(&server).expect("a URL");
    url.set_path(&name);
    url.to_string()
}

/// A fresh, migrated SQLite database file (in a temporary directory kept for the process;
/// `scripts/test` removes it).
///
/// # Panics
/// When the file cannot be created.
#[cfg(feature = "sqlite")]
pub async fn sqlite_database() -> crate::sqlite::SqliteDatabase {
    use std::sync::OnceLock;

    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        make_temp_dir().expect("creating a temporary directory for SQLite test databases")
    });
    let file = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
    let db = crate::sqlite::connect(&format!("sqlite://{}", file.display()), 8)
        .await
        .expect("opening a SQLite test database");
    crate::sqlite::migrate(&db)
        .await
        .expect("migrating a SQLite test database");
    db
}

#[cfg(feature = "sqlite")]
fn make_temp_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("anb-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
