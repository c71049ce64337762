//! Which key signs access tokens: the configured one, or (on the embedded defaults only) one
//! generated once and kept under the data directory.

use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _};

use super::{Secret, Settings};
use anb_adapters::jwt::MIN_SECRET_LEN;

/// The file, under `data_dir`, holding the generated secret.
pub const JWT_SECRET_FILE: &str = "jwt-secret";

impl Settings {
    /// The JWT signing secret.
    ///
    /// - Configured (`ANB_JWT_SECRET`): used if at least 32 bytes long.
    /// - Not configured, on embedded backends ([`Settings::is_embedded`]): read from
    ///   `data_dir/jwt-secret`, generated there (random, mode 0600) on the first start, so
    ///   tokens survive restarts.
    /// - Not configured, on shared backends: an error. Every instance must sign with the same
    ///   key, which only the operator can hand them.
    ///
    /// # Errors
    /// A configured secret shorter than 32 bytes; no secret with shared backends; a kept
    /// secret that cannot be read or written, or is too short.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<Secret> {
        match &self.jwt_secret {
            Some(secret) if secret.expose().len() >= MIN_SECRET_LEN => Ok(secret.clone()),
            Some(secret) => bail!(
                "ANB_JWT_SECRET is {} bytes long; it must be at least {MIN_SECRET_LEN} \
                 (e.g. the output of `openssl rand -hex 32`)",
                secret.expose().len()
            ),
            None if self.is_embedded()? => load_or_generate(&self.jwt_secret_file()),
            None => bail!(
                "ANB_JWT_SECRET is not set: with shared backends (PostgreSQL, Redis or S3) every \
                 instance must sign tokens with the same key. Set it to a random string of at \
                 least {MIN_SECRET_LEN} bytes (e.g. the output of `openssl rand -hex 32`)"
            ),
        }
    }
}

/// Reads the secret kept at `path`, creating it first if there is none. Creation is atomic (a
/// complete temporary file hard-linked into place), so processes starting together agree on
/// one secret and never read half of one.
fn load_or_generate(path: &Path) -> anyhow::Result<Secret> {
    if !path.exists() {
        generate(path)?;
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the JWT secret in {}", path.display()))?;
    let secret = text.trim();
    if secret.len() < MIN_SECRET_LEN {
        bail!(
            "the JWT secret in {} is {} bytes long; at least {MIN_SECRET_LEN} are required \
             (delete the file to have a new one generated: existing tokens stop working)",
            path.display(),
            secret.len()
        );
    }
    Ok(Secret::new(secret))
}

fn generate(path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the data directory {}", dir.display()))?;
    // 96 hex digits from three v4 UUIDs: 366 random bits from the OS's generator.
    let secret: String = (0..3)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    let mut temporary = tempfile::Builder::new()
        .prefix(".jwt-secret-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    // tempfile creates the file with mode 0600 on Unix.
    temporary
        .write_all(secret.as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .context("writing the JWT secret")?;
    match std::fs::hard_link(temporary.path(), path) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a JWT secret");
            Ok(())
        }
        // Another process got there first: use its secret.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("storing the JWT secret in {}", path.display())),
    }
}
