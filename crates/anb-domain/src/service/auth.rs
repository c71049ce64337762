use tracing::instrument;

use super::{Showcase, SignedIn};
use crate::ids::UserId;
use crate::ports::{CreateUserError, TokenError};
use crate::user::{NewUser, User};
use crate::values::{City, Country, Email, Password, PersonName, ValidationError};

/// The sign-up form, as raw text from the edge.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SignupForm {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email (login).
    pub email: String,
    /// Password.
    pub password1: String,
    /// Password again.
    pub password2: String,
    /// City.
    pub city: String,
    /// Country.
    pub country: String,
}

impl std::fmt::Debug for SignupForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupForm")
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("email", &self.email)
            .field("city", &self.city)
            .field("country", &self.country)
            .finish_non_exhaustive()
    }
}

/// Why sign-up failed.
#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// A field is missing or malformed.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// `password1` and `password2` differ.
    #[error("the passwords do not match")]
    PasswordMismatch,
    /// The password breaks the policy (fewer than 8 characters).
    #[error("{0}")]
    WeakPassword(ValidationError),
    /// The email is taken (ignoring case).
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

/// Why login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password: one answer for both, so accounts cannot be discovered.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why the caller's profile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The token names an account that does not exist (any more).
    #[error("account not found")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Showcase {
    /// Creates a player account. Its email is unverified: mail it a link with
    /// [`Showcase::send_verification`] (the REST service does, after answering).
    ///
    /// # Errors
    /// [`SignupError::Invalid`] naming the first bad field (in form order),
    /// [`SignupError::PasswordMismatch`], [`SignupError::WeakPassword`], [`SignupError::EmailTaken`].
    #[instrument(skip_all, fields(email = %form.email))]
    pub async fn signup(&self, form: SignupForm) -> Result<User, SignupError> {
        let first_name = PersonName::parse("first_name", &form.first_name)?;
        let last_name = PersonName::parse("last_name", &form.last_name)?;
        let email = Email::parse(&form.email)?;
        if form.password1 != form.password2 {
            return Err(SignupError::PasswordMismatch);
        }
        let password = Password::new(&form.password1).map_err(SignupError::WeakPassword)?;
        let city = City::parse(&form.city)?;
        let country = Country::parse(&form.country)?;

        let password_hash = self
            .ports
            .hasher
            .hash(&password)
            .await
            .map_err(SignupError::Unexpected)?;
        let new_user = NewUser {
            id: UserId::new(),
            first_name,
            last_name,
            email,
            password_hash,
            city,
            country,
            created_at: self.ports.clock.now(),
        };
        let user = self
            .ports
            .users
            .create(new_user)
            .await
            .map_err(|e| match e {
                CreateUserError::EmailTaken => SignupError::EmailTaken,
                CreateUserError::Unexpected(e) => SignupError::Unexpected(e),
            })?;
        Ok(user)
    }

    /// Checks credentials and starts a session: an access token and a refresh token.
    ///
    /// # Errors
    /// [`LoginError::InvalidCredentials`] for a malformed or unknown email or a wrong password
    /// (an unknown email still costs one hash verification, so timing does not tell them apart).
    #[instrument(skip_all)]
    pub async fn login(&self, email: &str, password: &str) -> Result<SignedIn, LoginError> {
        let password = Password::for_login(password);
        let user = match Email::parse(email) {
            Ok(email) => self.ports.users.find_by_email(&email).await?,
            Err(_) => None,
        };
        // An account made through an OpenID provider has no password: refused like an
        // unknown email (and as slowly).
        let Some(user) = user.filter(|u| u.password_hash.is_usable()) else {
            let decoy = self.decoy_hash().await?;
            let _ = self.ports.hasher.verify(&password, &decoy).await?;
            return Err(LoginError::InvalidCredentials);
        };
        if !self
            .ports
            .hasher
            .verify(&password, &user.password_hash)
            .await?
        {
            return Err(LoginError::InvalidCredentials);
        }
        Ok(self.start_session(user.id).await?)
    }

    /// The user an access token names. Checks the signature and expiry only (no storage read).
    ///
    /// # Errors
    /// [`TokenError`] for an expired or invalid token.
    pub fn authenticate(&self, token: &str) -> Result<UserId, TokenError> {
        self.ports.tokens.verify(token)
    }

    /// The caller's own account.
    ///
    /// # Errors
    /// [`ProfileError::NotFound`] when the account does not exist.
    pub async fn profile(&self, user: UserId) -> Result<User, ProfileError> {
        self.ports
            .users
            .get(user)
            .await?
            .ok_or(ProfileError::NotFound)
    }

    async fn decoy_hash(&self) -> anyhow::Result<crate::values::PasswordHash> {
        if let Some(hash) = self.decoy_hash.get() {
            return Ok(hash.clone());
        }
        let decoy = Password::for_login("decoy password for unknown accounts");
        let hash = self.ports.hasher.hash(&decoy).await?;
        Ok(self.decoy_hash.get_or_init(|| hash).clone())
    }
}
