//! A PostgreSQL cluster of the test's own, made with `initdb` and run with `pg_ctl` in a
//! temporary directory (as the `postgres` user when the test runs as root, which `initdb`
//! refuses), on a free port of 127.0.0.1 with trust authentication: a server the test may stop
//! and start again. Stopped (immediately) when dropped.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A PostgreSQL cluster in a temporary directory.
pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    running: bool,
}

/// The directory of `initdb` and `pg_ctl`: `ANB_TEST_PG_BINDIR`, or the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout).
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ANB_TEST_PG_BINDIR") {
        return dir.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect(
            "PostgreSQL's server binaries under /usr/lib/postgresql (scripts/test installs them)",
        )
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl").1
}

/// Whether the test runs as root (`/proc/self` belongs to the process's effective user).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl PgCluster {
    /// Makes a cluster and starts it.
    ///
    /// # Panics
    /// When `initdb` or `pg_ctl` fails (with its output).
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("anb-test-pg-")
            .tempdir()
            .expect("a directory for the cluster");
        if is_root() {
            run(
                Command::new("chown").arg("postgres:").arg(dir.path()),
                "chown",
            );
        }
        let port = super::free_port();
        let mut cluster = Self {
            bin: bin_dir(),
            dir,
            port,
            running: false,
        };
        let data = cluster.data();
        let mut initdb = cluster.command("initdb");
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(&mut initdb, "initdb");
        cluster.start_again();
        cluster
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are ended, nothing is lost) and waits.
    pub fn stop(&mut self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w"]);
        self.running = false;
    }

    /// Starts the stopped server again and waits until it accepts connections.
    pub fn start_again(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-o",
            &options,
            "-l",
            &log.to_string_lossy(),
        ]);
        self.running = true;
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl(&self, args: &[&str]) {
        let mut command = self.command("pg_ctl");
        command.arg("-D").arg(self.data()).args(args);
        run(&mut command, "pg_ctl");
    }

    /// `program` from the server's binaries, as `postgres` when the test is root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let mut command = self.command("pg_ctl");
            command
                .arg("-D")
                .arg(self.data())
                .args(["stop", "-m", "immediate", "-w"]);
            let _ = command.stdin(Stdio::null()).output();
        }
    }
}
