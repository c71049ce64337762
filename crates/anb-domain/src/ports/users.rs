use async_trait::async_trait;

use chrono::{DateTime, Utc};

use crate::ids::UserId;
use crate::session::SecretDigest;
use crate::user::{EmailPurpose, NewUser, PlayerSummary, User};
use crate::values::{Email, Page, PageRequest, PasswordHash};

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// Another account has this email (emails arrive lower-cased; the check must be a unique
    /// constraint, not a look-up before the insert).
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores players.
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Creates an account and returns it as stored (`votes_received` 0).
    ///
    /// # Errors
    /// [`CreateUserError::EmailTaken`] when the email is already used, also when two creations
    /// race; [`CreateUserError::Unexpected`] for backend faults.
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError>;

    /// The account with this id, or `None`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn get(&self, id: UserId) -> anyhow::Result<Option<User>>;

    /// The account with this (normalised) email, or `None`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn find_by_email(&self, email: &Email) -> anyhow::Result<Option<User>>;

    /// Players whose name (first and last, lower-cased) contains `name_part` (lower-cased by the
    /// caller; empty: everyone), ordered by name then id. Never their emails.
    ///
    /// # Errors
    /// Only backend faults.
    async fn directory(
        &self,
        name_part: &str,
        page: PageRequest,
    ) -> anyhow::Result<Page<PlayerSummary>>;

    /// The account an external identity (`subject` at the OpenID `issuer`) is linked to, or
    /// `None`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn find_by_identity(&self, issuer: &str, subject: &str) -> anyhow::Result<Option<User>>;

    /// Links an external identity to `user`; linking it again to the same account changes
    /// nothing. Returns the account it is linked to (another one when it was linked before:
    /// an identity belongs to one account, by a unique constraint).
    ///
    /// # Errors
    /// Backend faults, and a `user` that does not exist.
    async fn link_identity(
        &self,
        user: UserId,
        issuer: &str,
        subject: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<UserId>;

    /// Records that `user`'s email was verified at `at` (a second verification keeps the
    /// first time); whether the account exists.
    ///
    /// # Errors
    /// Only backend faults.
    async fn mark_email_verified(&self, user: UserId, at: DateTime<Utc>) -> anyhow::Result<bool>;

    /// Replaces `user`'s password hash; whether the account exists.
    ///
    /// # Errors
    /// Only backend faults.
    async fn set_password_hash(&self, user: UserId, hash: &PasswordHash) -> anyhow::Result<bool>;

    /// Stores a one-time email token (its digest) for `user`, good for `purpose` until
    /// `expires_at`. Tokens are deleted with their account.
    ///
    /// # Errors
    /// Only backend faults (a missing user is one).
    async fn store_email_token(
        &self,
        digest: &SecretDigest,
        user: UserId,
        purpose: EmailPurpose,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()>;

    /// Uses up the token `digest` if it is known, for `purpose`, unused and not expired at
    /// `now`, and returns whose it is; `None` otherwise. Atomic: of concurrent consumptions
    /// of one token exactly one gets the user.
    ///
    /// # Errors
    /// Only backend faults.
    async fn consume_email_token(
        &self,
        digest: &SecretDigest,
        purpose: EmailPurpose,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<UserId>>;
}
