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
    required(POSTGRES_ENV, "PostgreSQL", "postgres://postgres@127.0.0.1:5432/postgres")
}

/// The Redis server URL.
///
/// # Panics
/// When [`REDIS_ENV`] is not set.
pub fn redis_url() -> String {
    required(REDIS_ENV, "Redis", "redis://127.0.0.1:6379")
}
