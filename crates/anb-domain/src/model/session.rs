//! Sign-in sessions: a login starts a session, a family of refresh tokens in which each refresh
//! replaces the token it was given. Only digests of the tokens are stored; a token presented
//! again after it was replaced means it was copied, and ends its whole session.

use chrono::{DateTime, Utc};

use crate::ids::{SessionId, UserId};

/// The stored form of an opaque secret (a refresh token): a one-way digest, so a copy of the
/// database grants nothing. Secrets are random (256 bits), so a plain digest suffices.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretDigest(String);

impl SecretDigest {
    /// Wraps a digest as an adapter computed it (lower-case hex) or read it back.
    pub fn new(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    /// The digest as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A prefix is enough to tell two apart in a log.
        write!(f, "SecretDigest({}…)", self.0.get(..8).unwrap_or(""))
    }
}

/// A new opaque secret, as handed to its holder once, and its digest, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct MintedSecret {
    /// The secret (URL-safe text).
    pub secret: String,
    /// Its digest.
    pub digest: SecretDigest,
}

impl std::fmt::Debug for MintedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedSecret")
            .field("secret", &"***")
            .field("digest", &self.digest)
            .finish()
    }
}

/// A refresh token to hand to its holder (the web app keeps it in an `HttpOnly` cookie).
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The token.
    pub token: String,
    /// The session it belongs to.
    pub session: SessionId,
    /// When it stops working (unless it is used or its session ends first).
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("token", &"***")
            .field("session", &self.session)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a [`SessionRepository`](crate::ports::SessionRepository) made of a presented refresh
/// token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// It was the session's current token: it is used up now and the next one replaces it.
    Rotated {
        /// The session.
        session: SessionId,
        /// Whose it is.
        user: UserId,
    },
    /// It had already been replaced: someone kept a copy. The session is ended (every token
    /// of it refused from now on).
    Reused {
        /// The session, now ended.
        session: SessionId,
        /// Whose it was.
        user: UserId,
    },
    /// Unknown, expired, or of a session that has ended.
    Refused,
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// Its holder logged out.
    Logout,
    /// Its user logged out everywhere.
    LogoutAll,
    /// A replaced refresh token was presented again.
    Reuse,
    /// The password was changed.
    PasswordChanged,
}

impl SessionEnd {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::Reuse => "reuse",
            Self::PasswordChanged => "password_changed",
        }
    }
}
