//! A real SMTP server for tests: aiosmtpd (PyPI, hash-pinned; `need_aiosmtpd` in
//! `scripts/lib/prepare.sh` installs it and sets [`AIOSMTPD_ENV`]) on a free port of
//! 127.0.0.1, storing what it accepts in a Maildir of its own (its stock
//! `aiosmtpd.handlers.Mailbox` handler), killed when dropped. Its Maildir is the conformance
//! suite's [`Mailbox`].
//!
//! Without [`AIOSMTPD_ENV`] a test that needs the server FAILS, saying how to install it: the
//! SMTP adapter is never skipped silently.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::conformance::mail::{Mailbox, ReceivedMail};

/// Environment variable naming the `aiosmtpd` executable.
pub const AIOSMTPD_ENV: &str = "ANB_AIOSMTPD";

/// How long a starting server may take to accept connections.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A handler module for [`SmtpServer::start_refusing`]: the stock Maildir handler, refusing
/// every recipient whose local part starts with `refused` with 550 (as a server refuses a
/// mailbox it does not have).
const REFUSING_HANDLER: &str = r#"
from aiosmtpd.handlers import Mailbox


class RefusingMailbox(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"
"#;

/// A running aiosmtpd.
pub struct SmtpServer {
    port: u16,
    maildir: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts aiosmtpd with the stock Maildir handler and waits until it accepts connections.
    ///
    /// # Panics
    /// When [`AIOSMTPD_ENV`] is not set, or the server does not start.
    pub async fn start() -> Self {
        Self::spawn("aiosmtpd.handlers.Mailbox", None).await
    }

    /// Like [`SmtpServer::start`], but the server refuses (550) every recipient whose local
    /// part starts with `refused`.
    ///
    /// # Panics
    /// As [`SmtpServer::start`].
    pub async fn start_refusing() -> Self {
        Self::spawn(
            "anb_refusing_mailbox.RefusingMailbox",
            Some(REFUSING_HANDLER),
        )
        .await
    }

    /// `smtp://127.0.0.1:<port>` (plain SMTP, no authentication).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The Maildir the server delivers into.
    pub fn maildir(&self) -> &Path {
        &self.maildir
    }

    async fn spawn(handler: &str, module: Option<&str>) -> Self {
        let executable = std::env::var(AIOSMTPD_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "the SMTP tests need aiosmtpd, and {AIOSMTPD_ENV} is not set. Run \
                     `source scripts/lib/prepare.sh; need_aiosmtpd` in the repository's root \
                     (it installs the hash-pinned aiosmtpd into target/tools/aiosmtpd and sets \
                     {AIOSMTPD_ENV}), or run scripts/test, which does it."
                )
            });
        let dir = tempfile::tempdir().expect("a directory for the SMTP server");
        if let Some(module) = module {
            std::fs::write(dir.path().join("anb_refusing_mailbox.py"), module)
                .expect("writing the handler module");
        }
        let maildir = dir.path().join("maildir");
        let log = dir.path().join("aiosmtpd.log");
        // A port another process takes between our probe and the server's bind makes the
        // server exit: try another.
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&executable)
                .args(["-n", "-l", &format!("127.0.0.1:{port}"), "-c", handler])
                .arg(&maildir)
                .env("PYTHONPATH", dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("the server's log"))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {executable} ({AIOSMTPD_ENV}): {e}"));
            match wait_until_accepting(&mut child, port).await {
                Ok(()) => {
                    return Self {
                        port,
                        maildir,
                        child,
                        _dir: dir,
                    }
                }
                Err(Exited) => {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    assert!(log.contains("in use"), "aiosmtpd exited at start:\n{log}");
                }
                Err(Late) => {
                    let _ = (child.kill(), child.wait());
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    panic!("aiosmtpd did not accept connections within {START_DEADLINE:?}:\n{log}");
                }
            }
        }
        panic!("aiosmtpd found no free port in three tries")
    }
}

/// Why a server is not accepting connections.
enum NotAccepting {
    /// Its process exited.
    Exited,
    /// It still does not accept past [`START_DEADLINE`].
    Late,
}
use NotAccepting::{Exited, Late};

async fn wait_until_accepting(child: &mut Child, port: u16) -> Result<(), NotAccepting> {
    let started = Instant::now();
    while started.elapsed() < START_DEADLINE {
        if child.try_wait().ok().flatten().is_some() {
            return Err(Exited);
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Late)
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[async_trait]
impl Mailbox for SmtpServer {
    /// Every message in the Maildir (`new/` and `cur/`). The server stores a message before it
    /// answers `250` to the data, so what a send was accepted for is there.
    async fn messages(&self) -> Vec<ReceivedMail> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            files.extend(entries.map(|e| e.expect("a Maildir entry").path()));
        }
        files.sort();
        files
            .iter()
            .map(|f| ReceivedMail::parse(&std::fs::read(f).expect("a Maildir message")))
            .collect()
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
