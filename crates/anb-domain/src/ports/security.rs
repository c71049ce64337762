use async_trait::async_trait;

use crate::ids::{UserId, VideoId};
use crate::session::{MintedSecret, SecretDigest};
use crate::sharing::Viewer;
use crate::values::{Password, PasswordHash};

/// Hashes and checks passwords (argon2id in production). Slow by design: implementations run
/// the work off the async runtime's threads.
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes with a fresh random salt, as a PHC string.
    ///
    /// # Errors
    /// Only internal faults.
    async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash>;

    /// Whether `password` matches `hash`. A malformed hash is an error, not a mismatch.
    ///
    /// # Errors
    /// When `hash` cannot be parsed.
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> anyhow::Result<bool>;
}

/// A signed access token.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The token text (a JWT).
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"***")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Malformed, tampered, signed with another key, or from another issuer.
    #[error("invalid token")]
    Invalid,
}

/// A signed, expiring grant to play one video, carried in playback URLs (no bearer header: a
/// player or a CDN fetches them as they are).
#[derive(Clone, PartialEq, Eq)]
pub struct PlaybackToken {
    /// The token text (URL-safe).
    pub token: String,
    /// When it stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl std::fmt::Debug for PlaybackToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaybackToken")
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a valid playback token says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaybackClaims {
    /// The video it plays.
    pub video: VideoId,
    /// On whose behalf.
    pub viewer: Viewer,
    /// When it stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Issues and verifies signed tokens: access tokens naming a user, and playback tokens naming
/// a video and a viewer. Neither kind passes for the other. Also mints the opaque secrets
/// stored only as digests (refresh tokens).
pub trait TokenIssuer: Send + Sync + 'static {
    /// A token naming `user`.
    ///
    /// # Errors
    /// Only internal faults.
    fn issue(&self, user: UserId) -> anyhow::Result<AccessToken>;

    /// The user a valid token names.
    ///
    /// # Errors
    /// [`TokenError::Expired`] past its expiry; [`TokenError::Invalid`] for anything else wrong.
    fn verify(&self, token: &str) -> Result<UserId, TokenError>;

    /// A playback token for `video` on behalf of `viewer`, valid for `ttl`.
    ///
    /// # Errors
    /// Only internal faults.
    fn issue_playback(
        &self,
        video: VideoId,
        viewer: Viewer,
        ttl: std::time::Duration,
    ) -> anyhow::Result<PlaybackToken>;

    /// What a valid playback token says.
    ///
    /// # Errors
    /// [`TokenError::Expired`] past its expiry; [`TokenError::Invalid`] for anything else wrong
    /// (altered, another key, an access token).
    fn verify_playback(&self, token: &str) -> Result<PlaybackClaims, TokenError>;

    /// A new random secret (at least 256 bits, URL-safe) and its digest.
    fn mint_secret(&self) -> MintedSecret;

    /// The digest of a presented secret (the same as [`TokenIssuer::mint_secret`] gave for it).
    fn digest(&self, secret: &str) -> SecretDigest;

    /// A signed, expiring note carrying `payload` for `purpose` (state a client keeps for the
    /// service between two requests, such as a login in progress at an OpenID provider). A
    /// note passes only for its own purpose, and never as an access or playback token.
    ///
    /// # Errors
    /// Only internal faults.
    fn sign_note(
        &self,
        purpose: &str,
        payload: &str,
        ttl: std::time::Duration,
    ) -> anyhow::Result<String>;

    /// The payload of a valid note signed for `purpose`.
    ///
    /// # Errors
    /// [`TokenError::Expired`] past its expiry; [`TokenError::Invalid`] for anything else wrong
    /// (altered, another purpose, another kind of token).
    fn open_note(&self, purpose: &str, note: &str) -> Result<String, TokenError>;
}
