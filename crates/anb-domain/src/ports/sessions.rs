use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{SessionId, UserId};
use crate::session::{Rotation, SecretDigest, SessionEnd};

/// Stores sign-in sessions and the digests of their refresh tokens.
#[async_trait]
pub trait SessionRepository: Send + Sync + 'static {
    /// Starts `session` for `user` with its first refresh token (`first`, valid until
    /// `expires_at`).
    ///
    /// # Errors
    /// Only backend faults.
    async fn open(
        &self,
        session: SessionId,
        user: UserId,
        first: &SecretDigest,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()>;

    /// Replaces the refresh token `presented` with `next` (valid until `expires_at`), in one
    /// atomic step: of two concurrent rotations of one token exactly one is
    /// [`Rotation::Rotated`], and the other is [`Rotation::Reused`] (which ends the session).
    ///
    /// # Errors
    /// Only backend faults.
    async fn rotate(
        &self,
        presented: &SecretDigest,
        next: &SecretDigest,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<Rotation>;

    /// Ends the session any of whose tokens (current or replaced) is `presented`, if it is
    /// live; returns it.
    ///
    /// # Errors
    /// Only backend faults.
    async fn end(
        &self,
        presented: &SecretDigest,
        why: SessionEnd,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionId>>;

    /// Ends every live session of `user`; returns how many.
    ///
    /// # Errors
    /// Only backend faults.
    async fn end_all(
        &self,
        user: UserId,
        why: SessionEnd,
        now: DateTime<Utc>,
    ) -> anyhow::Result<u64>;
}
