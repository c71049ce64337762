//! Sessions: a login gives a short-lived access token and a refresh token; a refresh replaces
//! the refresh token (rotation); a replaced token presented again ends its session (it was
//! copied: whoever holds the family's current token is refused too, and must log in again).

use tracing::{instrument, warn};

use super::Showcase;
use crate::ids::{SessionId, UserId};
use crate::ports::AccessToken;
use crate::session::{RefreshToken, Rotation, SessionEnd};

/// What signing in (a login or a refresh) gives.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// Whose session it is.
    pub user: UserId,
    /// The short-lived bearer token.
    pub access: AccessToken,
    /// The refresh token that gets the next one.
    pub refresh: RefreshToken,
}

/// Why a refresh was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, replaced (which ended its session), or of an ended session.
    #[error("the session has ended; log in again")]
    Refused,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Showcase {
    /// Starts a session for `user`: its first refresh token and an access token.
    ///
    /// # Errors
    /// Only backend faults.
    pub async fn start_session(&self, user: UserId) -> anyhow::Result<SignedIn> {
        let session = SessionId::new();
        let now = self.ports.clock.now();
        let minted = self.ports.tokens.mint_secret();
        let expires_at = now + chrono::Duration::from_std(self.config.refresh_ttl)?;
        self.ports
            .sessions
            .open(session, user, &minted.digest, now, expires_at)
            .await?;
        Ok(SignedIn {
            user,
            access: self.ports.tokens.issue(user)?,
            refresh: RefreshToken {
                token: minted.secret,
                session,
                expires_at,
            },
        })
    }

    /// Exchanges a refresh token for a new access token and the refresh token that replaces it.
    ///
    /// # Errors
    /// [`RefreshError::Refused`]; a replaced token presented again also ends its session (and
    /// is logged as a warning: it was copied).
    #[instrument(skip_all)]
    pub async fn refresh(&self, presented: &str) -> Result<SignedIn, RefreshError> {
        // A token longer than any we mint is refused before it is digested.
        if presented.is_empty() || presented.len() > 128 {
            return Err(RefreshError::Refused);
        }
        let now = self.ports.clock.now();
        let next = self.ports.tokens.mint_secret();
        let expires_at = now
            + chrono::Duration::from_std(self.config.refresh_ttl).map_err(anyhow::Error::from)?;
        let digest = self.ports.tokens.digest(presented);
        match self
            .ports
            .sessions
            .rotate(&digest, &next.digest, now, expires_at)
            .await?
        {
            Rotation::Rotated { session, user } => Ok(SignedIn {
                user,
                access: self.ports.tokens.issue(user)?,
                refresh: RefreshToken {
                    token: next.secret,
                    session,
                    expires_at,
                },
            }),
            Rotation::Reused { session, user } => {
                warn!(%session, %user, "a replaced refresh token was presented again: the session is ended");
                Err(RefreshError::Refused)
            }
            Rotation::Refused => Err(RefreshError::Refused),
        }
    }

    /// Ends the session a refresh token belongs to (logging out on this device). Unknown or
    /// already ended: nothing to do.
    ///
    /// # Errors
    /// Only backend faults.
    #[instrument(skip_all)]
    pub async fn logout(&self, presented: &str) -> anyhow::Result<()> {
        if presented.is_empty() || presented.len() > 128 {
            return Ok(());
        }
        let digest = self.ports.tokens.digest(presented);
        self.ports
            .sessions
            .end(&digest, SessionEnd::Logout, self.ports.clock.now())
            .await?;
        Ok(())
    }

    /// Ends every session of `user` (logging out everywhere); returns how many. Access tokens
    /// already handed out live on until they expire (minutes).
    ///
    /// # Errors
    /// Only backend faults.
    #[instrument(skip(self))]
    pub async fn logout_everywhere(&self, user: UserId) -> anyhow::Result<u64> {
        self.ports
            .sessions
            .end_all(user, SessionEnd::LogoutAll, self.ports.clock.now())
            .await
    }
}
