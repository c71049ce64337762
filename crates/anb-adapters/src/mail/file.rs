use std::path::{Path, PathBuf};

use anb_domain::mail::MailMessage;
use anb_domain::ports::{MailError, Mailer};
use anyhow::Context as _;
use async_trait::async_trait;
use lettre::message::Mailbox;
use tokio::io::AsyncWriteExt as _;

/// Writes each message as a complete RFC 5322 file (`.eml`, what a mail client opens) into a
/// directory: the embedded default, where no mail server is configured (`<data_dir>/mail`).
///
/// A file appears whole or not at all (written to a hidden temporary name, synced, renamed).
/// Names start with the UTC time to the microsecond and end with a UUIDv7, so they sort in the
/// order the messages were sent and never collide: `20261201T211503.123456Z-<uuid>.eml`.
#[derive(Clone, Debug)]
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    /// A mailer writing into `dir` (created if missing), every message from `from`.
    ///
    /// # Errors
    /// When `dir` cannot be created.
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox) -> anyhow::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the mail directory {}", dir.display()))?;
        Ok(Self { dir, from })
    }

    /// The directory the messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn write(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let temporary = self.dir.join(format!(".{name}.tmp"));
        let written = async {
            let mut file = tokio::fs::File::create(&temporary).await?;
            file.write_all(bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&temporary, self.dir.join(name)).await
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        written.with_context(|| format!("writing {name} into {}", self.dir.display()))
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), MailError> {
        let bytes = super::build(&self.from, message)?.formatted();
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::now_v7().simple()
        );
        self.write(&name, &bytes)
            .await
            .map_err(MailError::Unavailable)
    }
}
