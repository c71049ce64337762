//! `anb worker` as a child process beside an `anb serve` started with `app::Launch`: in the
//! same working directory (so both use the same embedded `data/`: the SQLite database and its
//! jobs table, the blob files, the generated JWT secret), with only the environment the test
//! sets. Its log (stderr) goes to `worker-<pid>.log` there and is printed when a test panics
//! while it runs. Killed (SIGKILL) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running `anb worker`.
pub struct WorkerProcess {
    child: Child,
    log_path: PathBuf,
}

impl WorkerProcess {
    /// Starts `anb worker` in `dir` with `env` (and one job at a time, `RUST_LOG=info`);
    /// nothing `ANB_*`, `AWS_*` or `RUST_LOG` is inherited from the test.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        let log_path = dir.join(format!("worker-{}.log", uuid::Uuid::new_v4().simple()));
        let log = std::fs::File::create(&log_path).expect("the worker's log file");
        let mut command = super::app::anb_command(dir);
        command
            .arg("worker")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = command.spawn().expect("starting `anb worker`");
        Self { child, log_path }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills it with SIGKILL (no chance to clean up or settle anything) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits (up to `limit`) until `ready` holds, checking every 20 ms; panics with its log
    /// when it does not, or when the process exits first.
    pub async fn wait_until(
        &mut self,
        limit: Duration,
        what: &str,
        mut ready: impl FnMut() -> bool,
    ) {
        let deadline = Instant::now() + limit;
        while !ready() {
            assert!(
                self.is_running(),
                "the worker exited before {what}. Its log:\n{}",
                self.log()
            );
            assert!(
                Instant::now() < deadline,
                "not {what} within {limit:?}. The worker's log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let running = self.is_running();
        self.kill();
        if running && std::thread::panicking() {
            eprintln!(
                "---- the anb worker's log ({}) ----\n{}\n---- end of the worker's log ----",
                self.log_path.display(),
                self.log()
            );
        }
    }
}
