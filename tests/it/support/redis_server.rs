//! A Redis server of the test's own, as these machines and many small deployments run it:
//! nothing kept on disk (`--save ""`, no append-only file), so a restart loses every key, as a
//! crash, a flush or a failover to an empty replica does. On a free port of 127.0.0.1, killed
//! when dropped.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer `PING`.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A running (or stopped) `redis-server`.
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` (from `PATH`) without persistence and waits until it answers.
    ///
    /// # Panics
    /// When it cannot be started or does not answer in time.
    pub fn start() -> Self {
        let port = super::free_port();
        let mut server = Self {
            port,
            dir: tempfile::tempdir().expect("a directory for Redis"),
            child: None,
        };
        server.start_again();
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: nothing is saved, clients see their connections drop).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty, and waits until it answers.
    ///
    /// # Panics
    /// As [`RedisServer::start`].
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "Redis is already running");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting redis-server (is it installed? scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + START_DEADLINE;
        while !self.answers() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server and starts it again, empty: every job it held is gone.
    pub fn restart_empty(&mut self) {
        self.kill();
        self.start_again();
    }

    /// Runs one command given as an inline command line (`DBSIZE`) and returns the raw reply.
    pub fn command(&self, line: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("Redis answers");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a read timeout");
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("sending to Redis");
        let mut reply = [0u8; 512];
        let n = stream.read(&mut reply).expect("Redis replies");
        String::from_utf8_lossy(&reply[..n]).trim_end().to_owned()
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 16];
        stream.write_all(b"PING\r\n").is_ok()
            && stream
                .read(&mut reply)
                .is_ok_and(|n| reply[..n].starts_with(b"+PONG"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
