use async_trait::async_trait;

use crate::ids::UserId;
use crate::user::{NewUser, PlayerSummary, User};
use crate::values::{Email, Page, PageRequest};

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
}
