//! Players (users).

use chrono::{DateTime, Utc};

use crate::ids::UserId;
use crate::values::{City, Country, Email, PasswordHash, PersonName};

/// A registered player.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// First name.
    pub first_name: PersonName,
    /// Last name.
    pub last_name: PersonName,
    /// Login, unique ignoring case.
    pub email: Email,
    /// Argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// City the player represents.
    pub city: City,
    /// Country the player represents.
    pub country: Country,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// Votes received on all the player's videos (a counter kept in step with each vote).
    pub votes_received: u64,
    /// When the player proved the email is theirs (a verification link); `None`: not yet.
    pub email_verified_at: Option<DateTime<Utc>>,
}

impl User {
    /// The public name shown in rankings and the gallery: first name and last name.
    pub fn username(&self) -> String {
        display_name(&self.first_name, &self.last_name)
    }
}

impl NewUser {
    /// What the player directory searches: `first last`, lower-cased.
    pub fn name_key(&self) -> String {
        display_name(&self.first_name, &self.last_name).to_lowercase()
    }
}

/// `first last`, the contract's `username`.
pub fn display_name(first: &PersonName, last: &PersonName) -> String {
    format!("{} {}", first.as_str(), last.as_str())
}

/// What a [`UserRepository`](crate::ports::UserRepository) needs to create an account.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    /// Identity, chosen by the domain.
    pub id: UserId,
    /// First name.
    pub first_name: PersonName,
    /// Last name.
    pub last_name: PersonName,
    /// Login.
    pub email: Email,
    /// Hash of the password.
    pub password_hash: PasswordHash,
    /// City.
    pub city: City,
    /// Country.
    pub country: Country,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl NewUser {
    /// The user as stored, with no votes yet.
    pub fn into_user(self) -> User {
        User {
            id: self.id,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            password_hash: self.password_hash,
            city: self.city,
            country: self.country,
            created_at: self.created_at,
            votes_received: 0,
            email_verified_at: None,
        }
    }
}

/// A player as others see them: no email, no hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerSummary {
    /// Identity.
    pub user_id: UserId,
    /// `first last`.
    pub username: String,
    /// City.
    pub city: City,
    /// Country.
    pub country: Country,
}

impl From<&User> for PlayerSummary {
    fn from(user: &User) -> Self {
        Self {
            user_id: user.id,
            username: user.username(),
            city: user.city.clone(),
            country: user.country.clone(),
        }
    }
}

/// What a one-time email token (a link mailed to the player) is good for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmailPurpose {
    /// Proves the account's email is the player's.
    VerifyEmail,
    /// Lets the player choose a new password.
    ResetPassword,
}

impl EmailPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}
