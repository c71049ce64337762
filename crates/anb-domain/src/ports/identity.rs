//! Logging in with an external OpenID provider (Google, or any OpenID Connect issuer): the
//! authorization code flow with PKCE, split into its two halves around the browser's visit to
//! the provider.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::values::Email;

/// What the caller keeps between [`IdentityProvider::start`] and
/// [`IdentityProvider::finish`] (the HTTP layer: in a signed, HttpOnly, short-lived cookie):
/// the values that tie the provider's answer to this browser's login. Plain strings, so any
/// serializer can carry it. Its `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The OAuth 2.0 `state` sent with the authorization request; the callback must bring the
    /// same one back (it binds the callback to this browser: no login forced on a victim).
    pub state: String,
    /// The OpenID `nonce` sent with the authorization request; the ID token must carry it
    /// (no ID token replayed from another login).
    pub nonce: String,
    /// The PKCE code verifier whose S256 challenge went with the authorization request; the
    /// provider checks it when the code is redeemed (a stolen code is useless without it).
    pub pkce_verifier: String,
}

impl PendingLogin {
    /// Whether the `state` the callback brought back is this login's, compared in constant time.
    ///
    /// # Errors
    /// [`IdentityError::StateMismatch`] when it is not.
    ///
    /// ```
    /// use anb_domain::ports::{IdentityError, PendingLogin};
    /// let pending = PendingLogin { state: "s1".into(), nonce: "n1".into(), pkce_verifier: "v1".into() };
    /// assert!(pending.check_state("s1").is_ok());
    /// assert!(matches!(pending.check_state("s2"), Err(IdentityError::StateMismatch)));
    /// ```
    pub fn check_state(&self, returned_state: &str) -> Result<(), IdentityError> {
        let (expected, returned) = (self.state.as_bytes(), returned_state.as_bytes());
        let differs = expected.len() != returned.len()
            || expected
                .iter()
                .zip(returned)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                != 0;
        if differs || expected.is_empty() {
            return Err(IdentityError::StateMismatch);
        }
        Ok(())
    }
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &"***")
            .field("nonce", &"***")
            .field("pkce_verifier", &"***")
            .finish()
    }
}

/// A login started: where to send the browser, and what to keep until it comes back.
#[derive(Clone, Debug)]
pub struct LoginStart {
    /// The provider's authorization URL (with the client id, redirect URI, scopes, `state`,
    /// `nonce` and the PKCE challenge): answer the browser with a redirect to it.
    pub authorize_url: String,
    /// What [`IdentityProvider::finish`] needs back.
    pub pending: PendingLogin,
}

/// Who the provider says logged in, from a verified ID token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The provider's issuer identifier (`iss`), e.g. `https://accounts.google.com`.
    pub issuer: String,
    /// The account's identifier at that issuer (`sub`): stable, never reassigned. With the
    /// issuer, what an account link should key on.
    pub subject: String,
    /// The account's email, when the provider shared one that is a valid address (a claim
    /// that [`Email::parse`] refuses comes back `None`).
    pub email: Option<Email>,
    /// Whether the provider vouches that the account controls `email`. Always `false` without
    /// an email. Link accounts by email only when it is `true`.
    pub email_verified: bool,
    /// The given name, when shared.
    pub given_name: Option<String>,
    /// The family name, when shared.
    pub family_name: Option<String>,
}

/// Why a login with an external provider did not complete.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The callback's `state` is not the pending login's: a forged or crossed callback (or a
    /// login started in another browser tab). Nothing was sent to the provider.
    #[error("the login's state does not match")]
    StateMismatch,
    /// The provider refused the code (unknown, expired, already used, another client's, the
    /// PKCE verifier or redirect URI wrong), or its answer did not verify: the ID token's
    /// signature, issuer, audience, expiry or nonce is wrong, or the token is missing or
    /// malformed. The reason is for logs, not for the user.
    #[error("the identity provider refused the login: {0}")]
    Refused(String),
    /// The provider could not be reached or answered with a server error (discovery, keys or
    /// token endpoint): the user may try again later. The chain holds the cause, and an
    /// [`Unavailable`](crate::ports::Unavailable) with a retry delay.
    #[error("the identity provider is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A fault on our side: the redirect URI is not a URL, the provider's metadata lacks an
    /// endpoint the flow needs.
    #[error("the login with the identity provider failed")]
    Unexpected(#[source] anyhow::Error),
}

/// An OpenID Connect provider that players log in with: the authorization code flow with
/// PKCE (S256), `state` and `nonce`. The adapter discovers the provider's endpoints and keys,
/// builds the authorization URL, redeems the code and verifies the ID token; the caller (the
/// HTTP layer) redirects the browser, keeps the [`PendingLogin`] until the callback, and links
/// the [`ExternalIdentity`] to an account.
#[async_trait]
pub trait IdentityProvider: Send + Sync + 'static {
    /// The provider's display name ("Google"), for a "Log in with …" button.
    fn name(&self) -> &str;

    /// Starts a login whose callback will be `redirect_uri` (registered with the provider):
    /// fresh random `state`, `nonce` and PKCE verifier, and the authorization URL carrying
    /// them (the verifier as its S256 challenge).
    ///
    /// # Errors
    /// [`IdentityError::Unavailable`] when the provider's discovery document cannot be
    /// fetched (a later call tries again); [`IdentityError::Unexpected`] when `redirect_uri`
    /// is not an absolute URL.
    async fn start(&self, redirect_uri: &str) -> Result<LoginStart, IdentityError>;

    /// Finishes the login the provider redirected back to `redirect_uri` (the same as given
    /// to [`start`](Self::start)) with `returned_state` and `code`: checks the state, redeems
    /// the code with the PKCE verifier, verifies the ID token (signature with the provider's
    /// keys, issuer, audience, expiry, nonce) and returns the identity it names.
    ///
    /// # Errors
    /// [`IdentityError::StateMismatch`] when `returned_state` is not `pending.state` (checked
    /// before anything is sent); [`IdentityError::Refused`] when the provider refuses the code
    /// or verifier (wrong, expired, used twice) or the ID token does not verify (tampered,
    /// another nonce, issuer or audience, expired); [`IdentityError::Unavailable`] when the
    /// provider cannot be reached or answers with a server error;
    /// [`IdentityError::Unexpected`] for faults on our side.
    async fn finish(
        &self,
        pending: &PendingLogin,
        returned_state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<ExternalIdentity, IdentityError>;
}
