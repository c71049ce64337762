use std::fmt;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use anb_domain::ports::{PageStore, StoredPage};
use anyhow::Context as _;
use async_trait::async_trait;

/// The key prefix the composition root (`anb::app::compose`) gives the pages: `anb:page:{key}`.
pub const DEFAULT_PAGE_PREFIX: &str = "anb:page";

/// How long connecting to the server, and then each answer, may take. A page store is a cache:
/// a slow one is worth less than going to the database, so it gives up early.
const TIMEOUT: Duration = Duration::from_millis(250);

/// Pages (any bytes, usually serialized JSON) shared by every process on one Redis server,
/// each kept for the time it was put with (`SET key value PX ms`) and then gone: what
/// several instances of the HTTP service use so that one of them reads a public page from the
/// database and the others are served it.
///
/// Keys are `{prefix}:{key}`. Deployments sharing a server keep apart by prefix or by database
/// number (`redis://host/1`).
///
/// The connection is made on first use, not by [`RedisPageStore::new`], so a process starts
/// even while the server is down; each connection attempt and each answer times out after
/// 250 ms, with no retries, and a dropped connection is re-established on a later call.
/// Errors are returned, for the caller to treat as a miss.
///
/// Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisPageStore {
    conn: ConnectionManager,
    prefix: String,
}

impl fmt::Debug for RedisPageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPageStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisPageStore {
    /// A store on the Redis server at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://`), using the keys starting with `prefix:`. Connects on first use. Must be
    /// called within a Tokio runtime.
    ///
    /// # Errors
    /// When `prefix` is empty or contains whitespace, or `url` is not a Redis URL.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(!prefix.is_empty(), "the page store's key prefix is empty");
        anyhow::ensure!(
            !prefix.chars().any(char::is_whitespace),
            "the page store's key prefix {prefix:?} contains whitespace"
        );
        let client = ::redis::Client::open(url).context("reading the Redis URL")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(0);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .context("setting up the Redis connection")?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// The prefix of every key this store uses.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// Checks that the server answers (`PING`).
    ///
    /// # Errors
    /// When it cannot be reached or does not answer in time.
    pub async fn ping(&self) -> anyhow::Result<()> {
        ::redis::cmd("PING")
            .query_async::<()>(&mut self.conn.clone())
            .await
            .context("pinging Redis")
    }
}

#[async_trait]
impl PageStore for RedisPageStore {
    /// The page kept under `key` and how much longer it lives, or `None` when there is none
    /// (never put, or expired). Both are read in one `MULTI` (`GET`, `PTTL`), so they agree.
    ///
    /// # Errors
    /// When the server cannot be reached or does not answer in time.
    async fn get(&self, key: &str) -> anyhow::Result<Option<StoredPage>> {
        let key = self.key(key);
        let (bytes, pttl): (Option<Vec<u8>>, i64) = ::redis::pipe()
            .atomic()
            .get(&key)
            .pttl(&key)
            .query_async(&mut self.conn.clone())
            .await
            .context("reading a page from Redis")?;
        // PTTL is -2 for a missing key and -1 for one without expiry (which this store never
        // writes: such a key is someone else's, and not trusted to be fresh).
        Ok(match (bytes, u64::try_from(pttl)) {
            (Some(bytes), Ok(ms)) => Some(StoredPage {
                bytes,
                expires_in: Duration::from_millis(ms),
            }),
            _ => None,
        })
    }

    /// Keeps `bytes` under `key` for `ttl` (`SET key value PX ms`, rounded down to whole
    /// milliseconds), replacing what was there. A `ttl` under 1 ms stores nothing.
    ///
    /// # Errors
    /// When the server cannot be reached or does not answer in time.
    async fn put(&self, key: &str, bytes: &[u8], ttl: Duration) -> anyhow::Result<()> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return Ok(());
        }
        ::redis::cmd("SET")
            .arg(self.key(key))
            .arg(bytes)
            .arg("PX")
            .arg(ms)
            .query_async::<()>(&mut self.conn.clone())
            .await
            .context("writing a page to Redis")
    }
}
