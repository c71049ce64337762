//! Logging in with an OpenID provider: the browser goes to the provider with a pending login
//! kept in a signed note, comes back with a code, and the verified identity signs in the
//! account linked to it; or links to the account with the same verified email; or, for a new
//! player, waits (in another signed note) for the city and country the provider does not know.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::{Showcase, SignedIn};
use crate::ids::UserId;
use crate::ports::{CreateUserError, ExternalIdentity, IdentityError, PendingLogin, TokenError};
use crate::user::NewUser;
use crate::values::{City, Country, Email, PasswordHash, PersonName, ValidationError};

/// How long a login may stay at the provider, and a new player on the profile form.
const NOTE_TTL: Duration = Duration::from_secs(15 * 60);
/// The note purpose of a login in progress.
const LOGIN_NOTE: &str = "oidc-login";
/// The note purpose of a verified identity waiting for its profile.
const SIGNUP_NOTE: &str = "oidc-signup";

/// A login sent to the provider.
#[derive(Clone, Debug)]
pub struct OidcStart {
    /// Where to send the browser.
    pub authorize_url: String,
    /// What the browser keeps until it comes back (signed, expiring).
    pub note: String,
}

/// What coming back from the provider led to.
#[derive(Clone, Debug)]
pub enum OidcOutcome {
    /// An account is linked to the identity (now or before): signed in.
    SignedIn(SignedIn),
    /// A new player: the profile form must be filled in; the note carries the verified
    /// identity until then.
    NeedsProfile {
        /// The signed identity (for [`Showcase::oidc_complete`]).
        note: String,
    },
}

/// Why a login with the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// No OpenID provider is configured.
    #[error("no OpenID provider is configured")]
    NotConfigured,
    /// The login could not be verified: the note is missing, expired or altered, the state
    /// does not match, or the provider refused (reason for the logs).
    #[error("the login could not be verified: {0}")]
    Refused(String),
    /// The provider did not vouch for the email: an account needs a verified one.
    #[error("the provider did not verify the email")]
    EmailNotVerified,
    /// The provider cannot be reached.
    #[error("the identity provider is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A field of the profile form is wrong.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The email has an account already (made meanwhile).
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<IdentityError> for OidcError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::StateMismatch => Self::Refused("state mismatch".into()),
            IdentityError::Refused(reason) => Self::Refused(reason),
            IdentityError::Unavailable(e) => Self::Unavailable(e),
            IdentityError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// The profile form of a new player: names default to the provider's.
#[derive(Clone, Debug, Default)]
pub struct OidcProfile {
    /// First name (the provider's `given_name` when absent).
    pub first_name: Option<String>,
    /// Last name (the provider's `family_name` when absent).
    pub last_name: Option<String>,
    /// City.
    pub city: String,
    /// Country.
    pub country: String,
}

/// A verified identity waiting for its profile, as its note carries it.
#[derive(Serialize, Deserialize)]
struct WaitingIdentity {
    issuer: String,
    subject: String,
    email: String,
    given_name: Option<String>,
    family_name: Option<String>,
}

impl Showcase {
    /// The configured provider's display name (`None`: password logins only).
    pub fn identity_provider_name(&self) -> Option<&str> {
        self.ports.identity.as_deref().map(|p| p.name())
    }

    /// Starts a login at the provider, coming back to `redirect_uri`.
    ///
    /// # Errors
    /// [`OidcError::NotConfigured`], [`OidcError::Unavailable`].
    #[instrument(skip(self))]
    pub async fn oidc_start(&self, redirect_uri: &str) -> Result<OidcStart, OidcError> {
        let provider = self
            .ports
            .identity
            .as_ref()
            .ok_or(OidcError::NotConfigured)?;
        let start = provider.start(redirect_uri).await?;
        let pending = serde_json::to_string(&start.pending).map_err(anyhow::Error::from)?;
        let note = self
            .ports
            .tokens
            .sign_note(LOGIN_NOTE, &pending, NOTE_TTL)?;
        Ok(OidcStart {
            authorize_url: start.authorize_url,
            note,
        })
    }

    /// Finishes a login the provider sent back (`state`, `code`), with the note the browser
    /// kept: signs in the linked account, or links the identity to the account with the same
    /// email when the provider verified it, or asks a new player for a profile.
    ///
    /// # Errors
    /// [`OidcError::NotConfigured`], [`OidcError::Refused`], [`OidcError::EmailNotVerified`],
    /// [`OidcError::Unavailable`].
    #[instrument(skip_all)]
    pub async fn oidc_finish(
        &self,
        note: &str,
        state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<OidcOutcome, OidcError> {
        let provider = self
            .ports
            .identity
            .as_ref()
            .ok_or(OidcError::NotConfigured)?;
        let pending: PendingLogin = serde_json::from_str(&self.open(LOGIN_NOTE, note)?)
            .map_err(|_| OidcError::Refused("a malformed login note".into()))?;
        let identity = provider.finish(&pending, state, code, redirect_uri).await?;
        let users = &self.ports.users;
        if let Some(user) = users
            .find_by_identity(&identity.issuer, &identity.subject)
            .await?
        {
            return Ok(OidcOutcome::SignedIn(self.start_session(user.id).await?));
        }
        let email = verified_email(&identity)?;
        if let Some(user) = users.find_by_email(&email).await? {
            let now = self.ports.clock.now();
            if user.email_verified_at.is_none() {
                // Whoever made this account never proved the email was theirs; the provider
                // says it is this person's. A password set by someone else (an account made
                // ahead to hijack it) must not outlive the link: it is dropped, with its
                // sessions (the owner may set one again by password reset).
                users
                    .set_password_hash(user.id, &PasswordHash::unusable())
                    .await?;
                self.ports
                    .sessions
                    .end_all(user.id, crate::session::SessionEnd::PasswordChanged, now)
                    .await?;
                users.mark_email_verified(user.id, now).await?;
            }
            let linked = users
                .link_identity(user.id, &identity.issuer, &identity.subject, now)
                .await?;
            info!(user = %linked, issuer = %identity.issuer, "an OpenID identity was linked by its verified email");
            return Ok(OidcOutcome::SignedIn(self.start_session(linked).await?));
        }
        let waiting = WaitingIdentity {
            issuer: identity.issuer,
            subject: identity.subject,
            email: email.as_str().to_owned(),
            given_name: identity.given_name,
            family_name: identity.family_name,
        };
        let payload = serde_json::to_string(&waiting).map_err(anyhow::Error::from)?;
        Ok(OidcOutcome::NeedsProfile {
            note: self
                .ports
                .tokens
                .sign_note(SIGNUP_NOTE, &payload, NOTE_TTL)?,
        })
    }

    /// Creates the account of a new player who came through the provider (the note from
    /// [`OidcOutcome::NeedsProfile`]), with the profile they filled in, and signs them in. The
    /// account has no password; its email is the one the provider verified.
    ///
    /// # Errors
    /// [`OidcError::Refused`] (the note is missing, expired or altered),
    /// [`OidcError::Invalid`] naming the field, [`OidcError::EmailTaken`].
    #[instrument(skip_all)]
    pub async fn oidc_complete(
        &self,
        note: &str,
        profile: OidcProfile,
    ) -> Result<SignedIn, OidcError> {
        let waiting: WaitingIdentity = serde_json::from_str(&self.open(SIGNUP_NOTE, note)?)
            .map_err(|_| OidcError::Refused("a malformed sign-up note".into()))?;
        let first = profile
            .first_name
            .or(waiting.given_name)
            .unwrap_or_default();
        let last = profile
            .last_name
            .or(waiting.family_name)
            .unwrap_or_default();
        let new_user = NewUser {
            id: UserId::new(),
            first_name: PersonName::parse("first_name", &first)?,
            last_name: PersonName::parse("last_name", &last)?,
            email: Email::parse(&waiting.email)?,
            password_hash: PasswordHash::unusable(),
            city: City::parse(&profile.city)?,
            country: Country::parse(&profile.country)?,
            created_at: self.ports.clock.now(),
        };
        let user = match self.ports.users.create(new_user).await {
            Ok(user) => user,
            Err(CreateUserError::EmailTaken) => return Err(OidcError::EmailTaken),
            Err(CreateUserError::Unexpected(e)) => return Err(e.into()),
        };
        // The provider verified the email.
        self.ports
            .users
            .mark_email_verified(user.id, user.created_at)
            .await?;
        let linked = self
            .ports
            .users
            .link_identity(user.id, &waiting.issuer, &waiting.subject, user.created_at)
            .await?;
        Ok(self.start_session(linked).await?)
    }

    fn open(&self, purpose: &str, note: &str) -> Result<String, OidcError> {
        self.ports
            .tokens
            .open_note(purpose, note)
            .map_err(|e| match e {
                TokenError::Expired => OidcError::Refused("the login took too long".into()),
                TokenError::Invalid => OidcError::Refused("an altered or foreign note".into()),
            })
    }
}

/// The identity's email, when the provider verified it.
fn verified_email(identity: &ExternalIdentity) -> Result<Email, OidcError> {
    match &identity.email {
        Some(email) if identity.email_verified => Ok(email.clone()),
        _ => Err(OidcError::EmailNotVerified),
    }
}
