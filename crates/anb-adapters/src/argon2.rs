//! Argon2id password hashing (RustCrypto `argon2`) on a few threads of its own, a bounded
//! number at a time.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use anb_domain::ports::{PasswordHasher, Unavailable};
use anb_domain::{Password, PasswordHash};
use anyhow::Context as _;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use tokio::sync::Semaphore;

/// How long a hash waits for its turn by default before it is refused as [`Unavailable`].
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(5);

/// Argon2id with OWASP's recommended parameters by default (19 MiB, 2 passes, 1 lane).
///
/// Each hash takes its memory and a core for tens of milliseconds, so at most
/// [`Argon2Hasher::with_concurrency`] hashes run at once (by default one per core): a storm of
/// logins queues instead of taking every thread and gigabytes of memory. A hash that waits
/// longer than its limit is refused with [`Unavailable`] (the edge answers 503).
///
/// Hashes run on as many threads of the hasher's own as it runs hashes at once, not on Tokio's
/// blocking pool: the allocator keeps a freed 19 MiB block in the arena of the thread that used
/// it, so hashes spread over a pool of hundreds of threads would keep hundreds of blocks, and
/// file I/O would wait behind them.
#[derive(Clone, Debug)]
pub struct Argon2Hasher {
    params: Params,
    turns: Arc<Semaphore>,
    threads: HashingThreads,
    max_wait: Duration,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        let at_once = default_concurrency();
        Self {
            params: Params::default(),
            turns: Arc::new(Semaphore::new(at_once)),
            threads: HashingThreads::start(at_once),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads that run hashing jobs; they end when the last hasher holding them is dropped.
#[derive(Clone, Debug)]
struct HashingThreads {
    jobs: mpsc::Sender<Job>,
}

impl HashingThreads {
    fn start(count: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..count.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("anb-argon2-{n}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking job drops its answer (its caller sees an error); the
                        // thread lives on.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                })
                .expect("starting a password hashing thread");
        }
        Self { jobs }
    }

    /// Runs `work` on one of the threads.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))?;
        result.await.context("a password hashing job failed")
    }
}

/// One hash per core.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl Argon2Hasher {
    /// Argon2id with explicit cost parameters (memory in KiB, passes, lanes).
    ///
    /// # Errors
    /// When the parameters are out of Argon2's bounds.
    pub fn with_params(memory_kib: u32, passes: u32, lanes: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, passes, lanes, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        Ok(Self {
            params,
            ..Self::default()
        })
    }

    /// The same hasher running at most `at_once` hashes at a time (at least 1); a hash waits
    /// at most `max_wait` for its turn, then fails with [`Unavailable`].
    pub fn with_concurrency(self, at_once: usize, max_wait: Duration) -> Self {
        Self {
            turns: Arc::new(Semaphore::new(at_once.max(1))),
            threads: HashingThreads::start(at_once),
            max_wait,
            ..self
        }
    }

    /// Runs `work` on a hashing thread once a turn is free.
    async fn in_turn<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let turn = tokio::time::timeout(self.max_wait, self.turns.clone().acquire_owned())
            .await
            .map_err(|_| {
                Unavailable::new(
                    "every password hashing slot stayed busy",
                    self.max_wait.max(Duration::from_secs(1)),
                )
            })?
            .context("the hashing semaphore was closed")?;
        self.threads
            .run(move || {
                let _turn = turn;
                work()
            })
            .await?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let secret = password.expose().to_owned();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        self.in_turn(move || {
            let salt = SaltString::generate(&mut OsRng);
            in_reused_memory(
                &argon2,
                Algorithm::Argon2id,
                secret.as_bytes(),
                salt.as_salt(),
            )
            .map(|hash| PasswordHash::from_phc(hash.to_string()))
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
        })
        .await
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> anyhow::Result<bool> {
        let secret = password.expose().to_owned();
        let phc = hash.as_str().to_owned();
        self.in_turn(move || {
            let parsed = argon2::PasswordHash::new(&phc)
                .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
            // The parameters come from the stored hash, so old hashes verify after a cost change.
            let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
                anyhow::bail!("stored password hash has no salt or no output");
            };
            let algorithm = Algorithm::try_from(parsed.algorithm)
                .map_err(|e| anyhow::anyhow!("stored password hash: {e}"))?;
            let stored = Argon2::new(
                algorithm,
                parsed
                    .version
                    .map(Version::try_from)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("stored password hash: {e}"))?
                    .unwrap_or_default(),
                Params::try_from(&parsed)
                    .map_err(|e| anyhow::anyhow!("stored password hash: {e}"))?,
            );
            let computed = in_reused_memory(&stored, algorithm, secret.as_bytes(), salt)
                .map_err(|e| anyhow::anyhow!("verifying a password: {e}"))?;
            // `Output`'s equality is constant-time.
            Ok(computed.hash == Some(expected))
        })
        .await
    }
}

thread_local! {
    /// Each hashing thread's working memory, kept between hashes: allocating 19 MiB per hash
    /// leaves freed blocks in the allocator (a storm of 40 logins kept 160 MB), and faulting
    /// the pages in again costs time on every hash.
    static WORKING_MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `password` hashed with `salt` by `argon2` (whose algorithm is `algorithm`, at version
/// 0x13) into a PHC hash, in this thread's reused memory: what
/// `argon2::PasswordHasher::hash_password` computes, without its allocation.
fn in_reused_memory<'a>(
    argon2: &Argon2<'_>,
    algorithm: Algorithm,
    password: &[u8],
    salt: Salt<'a>,
) -> argon2::password_hash::Result<argon2::PasswordHash<'a>> {
    let mut salt_bytes = [0_u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let params = argon2.params();
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = WORKING_MEMORY.with_borrow_mut(|blocks| {
        blocks.resize(params.block_count(), Block::default());
        Output::init_with(output_len, |out| {
            argon2
                .hash_password_into_with_memory(password, salt_bytes, out, &mut blocks[..])
                .map_err(Into::into)
        })
    })?;
    Ok(argon2::PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Argon2Hasher {
        Argon2Hasher::with_params(1024, 1, 1).unwrap()
    }

    #[tokio::test]
    async fn a_hash_is_an_argon2id_phc_string_that_verifies_only_its_password() {
        let hasher = fast();
        let pw = Password::new("correct horse").unwrap();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$"));
        assert!(hasher.verify(&pw, &hash).await.unwrap());
        assert!(!hasher
            .verify(&Password::for_login("correct horsf"), &hash)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let hasher = fast();
        let pw = Password::new("correct horse").unwrap();
        assert_ne!(
            hasher.hash(&pw).await.unwrap(),
            hasher.hash(&pw).await.unwrap()
        );
    }

    #[tokio::test]
    async fn a_hash_made_with_other_costs_still_verifies() {
        let pw = Password::new("correct horse").unwrap();
        let hash = fast().hash(&pw).await.unwrap();
        let stronger = Argon2Hasher::with_params(2048, 2, 1).unwrap();
        assert!(stronger.verify(&pw, &hash).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_past_the_concurrency_wait_their_turn_then_are_refused_as_unavailable() {
        let hasher = Argon2Hasher::with_params(64 * 1024, 3, 1)
            .unwrap()
            .with_concurrency(1, Duration::from_millis(1));
        let pw = Password::new("correct horse").unwrap();
        let results = futures::future::join_all((0..4).map(|_| hasher.hash(&pw))).await;
        let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(results.iter().any(Result::is_ok));
        assert!(
            !refused.is_empty(),
            "4 slow hashes on one slot with 1 ms of patience"
        );
        for error in refused {
            assert!(Unavailable::find_in(error).is_some(), "{error:#}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn patient_hashes_all_run_one_at_a_time() {
        let hasher = fast().with_concurrency(1, Duration::from_secs(30));
        let pw = Password::new("correct horse").unwrap();
        let results = futures::future::join_all((0..8).map(|_| hasher.hash(&pw))).await;
        assert!(results.iter().all(Result::is_ok));
    }

    #[tokio::test]
    async fn a_malformed_hash_is_an_error_not_a_mismatch() {
        let pw = Password::new("correct horse").unwrap();
        assert!(fast()
            .verify(&pw, &PasswordHash::from_phc("not-a-hash"))
            .await
            .is_err());
    }
}
