//! [`IdentityProvider`] on the `openidconnect` crate: any OpenID Connect provider (Google as a
//! preset) by its issuer URL, with the authorization code flow, PKCE (S256), `state` and
//! `nonce`.
//!
//! The provider's metadata and keys come from its discovery document
//! (`<issuer>/.well-known/openid-configuration` and its `jwks_uri`), fetched on the first login
//! rather than at start-up (a provider that is down does not stop the service), kept for
//! [`OpenIdConfig::metadata_ttl`], and fetched again after that or after a failure. An ID token
//! whose signature does not verify against cached keys is checked once more against freshly
//! fetched ones (the provider may have rotated its keys since; at most every
//! [`OpenIdConfig::key_refresh_interval`]). Every request has a timeout
//! and no redirect is followed.

mod http;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anb_domain::ports::{
    ExternalIdentity, IdentityError, IdentityProvider, LoginStart, PendingLogin, Unavailable,
};
use anb_domain::Email;
use async_trait::async_trait;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, DiscoveryError,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse,
};

use self::http::{HttpClient, HttpError};

/// How long a caller should wait before trying a provider that was unavailable.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Which provider, and this service's client registration with it.
#[derive(Clone)]
pub struct OpenIdConfig {
    /// The issuer identifier, exactly as the provider's discovery document states it (e.g.
    /// `https://accounts.google.com`).
    pub issuer: String,
    /// The client id the provider issued to this service.
    pub client_id: String,
    /// The client secret the provider issued (sent with HTTP Basic to the token endpoint).
    pub client_secret: String,
    /// The display name ("Google").
    pub name: String,
    /// The scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The time limit of each request to the provider (connecting: at most 5 s of it).
    pub timeout: Duration,
    /// How long discovered metadata and keys are used before they are fetched again.
    pub metadata_ttl: Duration,
    /// An ID token signed with a key the cached ones lack makes the adapter fetch the keys again
    /// (the provider rotated them), at most this often (so forged tokens cannot make it hammer
    /// the provider).
    pub key_refresh_interval: Duration,
}

impl std::fmt::Debug for OpenIdConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("timeout", &self.timeout)
            .field("metadata_ttl", &self.metadata_ttl)
            .field("key_refresh_interval", &self.key_refresh_interval)
            .finish()
    }
}

impl OpenIdConfig {
    /// Google's issuer identifier.
    pub const GOOGLE_ISSUER: &'static str = "https://accounts.google.com";

    /// A provider by its issuer, with the scopes `openid email profile`, 10 s requests,
    /// metadata kept for an hour, keys fetched again on an unknown one at most every minute, and
    /// [`default_name`](Self::default_name) as its name.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let issuer = issuer.into();
        Self {
            name: Self::default_name(&issuer),
            issuer,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: vec!["email".into(), "profile".into()],
            timeout: Duration::from_secs(10),
            metadata_ttl: Duration::from_secs(3600),
            key_refresh_interval: Duration::from_secs(60),
        }
    }

    /// The Google preset: issuer `https://accounts.google.com`, scopes `openid email profile`,
    /// named "Google".
    pub fn google(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::new(Self::GOOGLE_ISSUER, client_id, client_secret)
    }

    /// "Google" for Google's issuer, else the issuer's host (the whole issuer when it has none).
    ///
    /// ```
    /// use anb_adapters::oidc::OpenIdConfig;
    /// assert_eq!(OpenIdConfig::default_name("https://accounts.google.com"), "Google");
    /// assert_eq!(OpenIdConfig::default_name("https://login.example.org/realms/anb"), "login.example.org");
    /// ```
    pub fn default_name(issuer: &str) -> String {
        if issuer.trim_end_matches('/') == Self::GOOGLE_ISSUER {
            return "Google".into();
        }
        url::Url::parse(issuer)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_else(|| issuer.to_owned())
    }
}

/// Metadata and keys, and when they were fetched.
struct Discovered {
    metadata: Arc<CoreProviderMetadata>,
    fetched: Instant,
}

/// An OpenID Connect provider players log in with. Cheap to share (`Arc`); one per provider.
pub struct OpenIdProvider {
    config: OpenIdConfig,
    issuer: IssuerUrl,
    http: HttpClient,
    /// Held while fetching, so concurrent first logins fetch once.
    discovered: tokio::sync::Mutex<Option<Discovered>>,
}

impl std::fmt::Debug for OpenIdProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OpenIdProvider {
    /// The provider `config` describes. Nothing is fetched until the first login.
    ///
    /// # Errors
    /// When the issuer is not a URL or the HTTP client cannot be built.
    pub fn new(config: OpenIdConfig) -> anyhow::Result<Self> {
        let issuer = IssuerUrl::new(config.issuer.clone()).map_err(|e| {
            anyhow::anyhow!("the OpenID issuer {:?} is not a URL: {e}", config.issuer)
        })?;
        Ok(Self {
            http: HttpClient::new(config.timeout)?,
            issuer,
            config,
            discovered: tokio::sync::Mutex::new(None),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OpenIdConfig {
        &self.config
    }

    /// The provider's metadata and keys: the cached ones while fresh (and `!refresh`), else
    /// fetched. A failed fetch with stale ones cached falls back to them.
    async fn metadata(&self, refresh: bool) -> Result<Arc<CoreProviderMetadata>, IdentityError> {
        let mut cached = self.discovered.lock().await;
        if let Some(found) = cached.as_ref() {
            if !refresh && found.fetched.elapsed() < self.config.metadata_ttl {
                return Ok(found.metadata.clone());
            }
        }
        match CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http).await {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                *cached = Some(Discovered {
                    metadata: metadata.clone(),
                    fetched: Instant::now(),
                });
                Ok(metadata)
            }
            Err(error) => {
                let error = discovery_error(&self.config.issuer, error);
                match cached.as_ref() {
                    Some(stale) => {
                        tracing::warn!(error = %format!("{error:#}"), "OpenID discovery failed; using the metadata fetched before");
                        Ok(stale.metadata.clone())
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// Whether the cached metadata is older than `age` (or missing).
    async fn older_than(&self, age: Duration) -> bool {
        self.discovered
            .lock()
            .await
            .as_ref()
            .is_none_or(|found| found.fetched.elapsed() >= age)
    }

    fn client(
        &self,
        metadata: &CoreProviderMetadata,
        redirect_uri: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        IdentityError,
    > {
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| {
            IdentityError::Unexpected(anyhow::anyhow!(
                "the redirect URI {redirect_uri:?} is not a URL: {e}"
            ))
        })?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The ID token's claims, verified against `metadata`'s keys.
    fn verify<'t>(
        &self,
        metadata: &CoreProviderMetadata,
        id_token: &'t CoreIdToken,
        nonce: &Nonce,
    ) -> Result<&'t CoreIdTokenClaims, ClaimsVerificationError> {
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        );
        let verifier = client.id_token_verifier();
        id_token.claims(&verifier, nonce)
    }
}

#[async_trait]
impl IdentityProvider for OpenIdProvider {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn start(&self, redirect_uri: &str) -> Result<LoginStart, IdentityError> {
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(LoginStart {
            authorize_url: url.into(),
            pending: PendingLogin {
                state: state.into_secret(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.into_secret(),
            },
        })
    }

    async fn finish(
        &self,
        pending: &PendingLogin,
        returned_state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<ExternalIdentity, IdentityError> {
        pending.check_state(returned_state)?;
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata, redirect_uri)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| {
                IdentityError::Unexpected(
                    anyhow::Error::new(e).context("the provider's metadata has no token endpoint"),
                )
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let id_token = response.id_token().ok_or_else(|| {
            IdentityError::Refused("the token response carries no ID token".into())
        })?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify(&metadata, id_token, &nonce) {
            // The keys may have rotated since they were fetched: once, with fresh ones (not
            // more often than `key_refresh_interval`).
            Err(ClaimsVerificationError::SignatureVerification(_))
                if self.older_than(self.config.key_refresh_interval).await =>
            {
                let fresh = self.metadata(true).await?;
                self.verify(&fresh, id_token, &nonce)
            }
            verified => verified,
        }
        .map_err(|e| IdentityError::Refused(format!("the ID token does not verify: {e}")))?;

        let mut identity = identity_from(claims);
        if identity.email.is_none() && self.config.scopes.iter().any(|s| s == "email") {
            // Providers that follow the specification to the letter put the scopes' claims in
            // the userinfo answer only, when an access token is issued.
            if let Ok(request) = client.user_info(
                response.access_token().clone(),
                Some(claims.subject().clone()),
            ) {
                let info: CoreUserInfoClaims = request
                    .request_async(&self.http)
                    .await
                    .map_err(|e| userinfo_error(&e))?;
                merge_userinfo(&mut identity, &info);
            }
        }
        Ok(identity)
    }
}

/// The identity a verified ID token names.
fn identity_from(claims: &CoreIdTokenClaims) -> ExternalIdentity {
    let email = claims.email().and_then(|e| parse_email(e.as_str()));
    ExternalIdentity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email_verified: email.is_some() && claims.email_verified().unwrap_or(false),
        email,
        given_name: claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
        family_name: claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
    }
}

/// Fills what the ID token lacked from the userinfo answer (its `sub` was checked to be the
/// ID token's).
fn merge_userinfo(identity: &mut ExternalIdentity, info: &CoreUserInfoClaims) {
    if identity.email.is_none() {
        identity.email = info.email().and_then(|e| parse_email(e.as_str()));
        identity.email_verified =
            identity.email.is_some() && info.email_verified().unwrap_or(false);
    }
    if identity.given_name.is_none() {
        identity.given_name = info
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string());
    }
    if identity.family_name.is_none() {
        identity.family_name = info
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string());
    }
}

fn parse_email(raw: &str) -> Option<Email> {
    match Email::parse(raw) {
        Ok(email) => Some(email),
        Err(error) => {
            tracing::info!(%error, "the identity provider's email claim is not an address we take");
            None
        }
    }
}

fn unavailable(what: String, cause: anyhow::Error) -> IdentityError {
    IdentityError::Unavailable(anyhow::Error::new(Unavailable::because(
        what,
        RETRY_AFTER,
        cause,
    )))
}

fn discovery_error(issuer: &str, error: DiscoveryError<HttpError>) -> IdentityError {
    unavailable(
        format!("the OpenID provider {issuer} (discovery)"),
        anyhow::Error::new(error),
    )
}

fn token_error(
    error: RequestTokenError<
        HttpError,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> IdentityError {
    match error {
        RequestTokenError::ServerResponse(refusal) => {
            IdentityError::Refused(format!("the token endpoint refused the code: {refusal}"))
        }
        RequestTokenError::Request(cause) => {
            unavailable("the OpenID provider's token endpoint".into(), cause.into())
        }
        // A 200 (or 4xx) that is not a token response: a provider that is broken or tampered
        // with, not one that is down.
        RequestTokenError::Parse(cause, _) => IdentityError::Refused(format!(
            "the token endpoint's answer is not a token response: {cause}"
        )),
        RequestTokenError::Other(what) => {
            IdentityError::Refused(format!("the token endpoint's answer is unusable: {what}"))
        }
    }
}

fn userinfo_error(error: &openidconnect::UserInfoError<HttpError>) -> IdentityError {
    match error {
        openidconnect::UserInfoError::Request(_) => unavailable(
            "the OpenID provider's userinfo endpoint".into(),
            anyhow::anyhow!("{error}"),
        ),
        other => IdentityError::Refused(format!("the userinfo answer is unusable: {other}")),
    }
}
