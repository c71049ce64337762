//! The real `anb` binary as a child process: started in a fresh temporary directory (so its
//! `data/` is private) on a free port, found through the `listening on http://…` line it prints
//! on stdout, and killed when dropped. Its log (stderr) goes to `anb.log` in that directory and
//! is printed when a test panics while the process is alive.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the binary may take to connect its backends and start listening.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// Lines of the log shown when a test fails.
const LOG_TAIL_LINES: usize = 80;

/// What to start: a command of the binary and its environment.
#[derive(Clone, Debug)]
pub struct Launch {
    command: Option<&'static str>,
    env: Vec<(String, String)>,
}

impl Launch {
    /// `anb` with no command: the API and the worker in one process.
    pub fn all() -> Self {
        Self {
            command: None,
            env: Vec::new(),
        }
    }

    /// `anb serve`: the API alone, no worker (uploads stay `uploaded`).
    pub fn serve() -> Self {
        Self {
            command: Some("serve"),
            env: Vec::new(),
        }
    }

    /// Sets an environment variable of the process.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Starts the process and waits until it listens.
    ///
    /// # Panics
    /// When it cannot be started, exits, or does not report its address in time (with its log).
    pub fn start(self) -> Anb {
        let dir = tempfile::Builder::new()
            .prefix("anb-test-e2e-")
            .tempdir()
            .expect("a temporary working directory");
        let log_path = dir.path().join("anb.log");
        let log = std::fs::File::create(&log_path).expect("the log file");
        let mut command = anb_command(dir.path());
        command
            .args(self.command)
            .env("ANB_HTTP_ADDR", "127.0.0.1:0")
            .envs(self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = command.spawn().expect("starting the anb binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let (address_tx, address_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { return };
                if let Some(rest) = line.strip_prefix("listening on ") {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = address_tx.send(url.trim_end_matches('/').to_owned());
                    break;
                }
            }
            // Keep reading so the process never blocks on a full pipe.
            for _ in lines {}
        });
        let base_url = match address_rx.recv_timeout(STARTUP_DEADLINE) {
            Ok(url) => url,
            Err(reason) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "anb did not report `listening on http://…` ({reason:?}; exit: {status:?}). \
                     Its log:\n{}",
                    log_tail(&log_path)
                );
            }
        };
        assert!(
            base_url.starts_with("http://127.0.0.1:"),
            "unexpected address line: {base_url}"
        );
        Anb {
            child,
            base_url,
            dir,
            log_path,
        }
    }
}

/// The `anb` binary to run in `dir`, with one job at a time and `RUST_LOG=info`, and nothing
/// `ANB_*`, `AWS_*` or `RUST_LOG` inherited from the test (nothing may pick other backends or
/// credentials behind its back). `ANB_TEST_BINARY` runs another build instead (an older one,
/// to see a test fail without the fix it checks).
pub fn anb_command(dir: &Path) -> Command {
    let binary =
        std::env::var_os("ANB_TEST_BINARY").unwrap_or_else(|| env!("CARGO_BIN_EXE_anb").into());
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("ANB_") || name.starts_with("AWS_") || name == "RUST_LOG" {
            command.env_remove(&key);
        }
    }
    command
        .current_dir(dir)
        .env("ANB_WORKER_CONCURRENCY", "1")
        .env("RUST_LOG", "info");
    command
}

/// Every file below `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// The last lines of a log file.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes; `None` when the process or
/// the field is gone.
pub fn process_memory(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kib * 1024)
    })
}

/// A running `anb` process.
pub struct Anb {
    child: Child,
    base_url: String,
    dir: tempfile::TempDir,
    log_path: PathBuf,
}

impl Anb {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's working directory.
    pub fn workdir(&self) -> &Path {
        self.dir.path()
    }

    /// `data/` under the working directory (the embedded backends' default home).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Every file in its blob store on the embedded defaults (`data/blobs`).
    pub fn blob_files(&self) -> Vec<PathBuf> {
        files_under(&self.data_dir().join("blobs"))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A `kB` field of the process's `/proc/PID/status` (`VmRSS`, `VmHWM`), in bytes.
    pub fn memory_bytes(&self, field: &str) -> u64 {
        process_memory(self.pid(), field)
            .unwrap_or_else(|| panic!("no {field} in /proc/{}/status", self.pid()))
    }

    /// Resets the process's peak resident set size (`VmHWM`) to its current size (Linux
    /// `clear_refs` 5); `false` when the kernel does not allow it.
    pub fn reset_peak_memory(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// Runs `work` and returns its output with how far the process's resident memory rose
    /// above its size before, at the highest: sampled every 10 ms, and the kernel's peak
    /// counter when it could be reset (or when it rose).
    pub async fn memory_growth_during<F: std::future::Future>(&self, work: F) -> (F::Output, u64) {
        let peak_was_reset = self.reset_peak_memory();
        let baseline = self.memory_bytes("VmRSS");
        let peak_before = self.memory_bytes("VmHWM");
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let pid = self.pid();
        let sampler = tokio::spawn(async move {
            let mut highest = 0_u64;
            loop {
                highest = highest.max(process_memory(pid, "VmRSS").unwrap_or(0));
                tokio::select! {
                    _ = stopped.changed() => return highest,
                    () = tokio::time::sleep(Duration::from_millis(10)) => {}
                }
            }
        });
        let output = work.await;
        stop.send(true).unwrap();
        let sampled_peak = sampler.await.unwrap();
        let peak_after = self.memory_bytes("VmHWM");
        let counted_peak = if peak_was_reset || peak_after > peak_before {
            peak_after
        } else {
            0
        };
        let growth = sampled_peak.max(counted_peak).saturating_sub(baseline);
        (output, growth)
    }
}

impl Drop for Anb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- the last lines of the anb log ({}) ----\n{}\n---- end of the anb log ----",
                self.base_url,
                log_tail(&self.log_path)
            );
        }
    }
}
