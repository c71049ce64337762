//! Logging in with the configured OpenID provider (Google, or any OpenID Connect issuer): the
//! browser is sent to the provider with a signed note of the login in a cookie, comes back to
//! the callback, and lands in the web app signed in (the refresh cookie set) or on the profile
//! form of a new player, which completes the account.

use anb_domain::{OidcError, OidcOutcome, OidcProfile};
use poem::http::header::SET_COOKIE;
use poem::http::{HeaderValue, StatusCode};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, Request, Response};
use poem_openapi::param::{Cookie, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{refresh_cookie, token_body};
use super::models::TokenResponse;
use super::strict_text::{NameRule, Text};
use super::{answering_405, ApiTags};
use crate::error::{body, ApiError, ErrorCode, ErrorJson, JsonBody, NeedsBackend, Refused};
use crate::state::AppState;

/// The cookie holding a login in progress at the provider (sent back only to the callback).
const LOGIN_COOKIE: &str = "anb_oidc";
/// The cookie holding a new player's verified identity until the profile form is sent.
const SIGNUP_COOKIE: &str = "anb_oidc_signup";
/// Where both cookies are sent back.
const COOKIE_PATH: &str = "/api/auth/oidc";
/// The callback's path (the redirect URI registered at the provider).
const CALLBACK_PATH: &str = "/api/auth/oidc/callback";
/// How long the cookies last (the notes inside expire then too).
const COOKIE_SECONDS: u32 = 15 * 60;
/// Longest `Host` taken for the redirect URI.
const MAX_HOST_LEN: usize = 255;

/// A way to log in other than a password.
#[derive(Debug, Object)]
pub struct LoginProvider {
    /// `oidc`.
    pub id: String,
    /// Its name, for the button ("Entrar con Google").
    pub name: String,
    /// Where the button sends the browser.
    pub login_url: String,
}

/// A new player's profile, after the provider vouched for their email.
#[derive(Debug, Object)]
pub struct CompleteProfileRequest {
    /// First name (the provider's when absent): 1 to 100 characters.
    pub first_name: Option<Text<NameRule>>,
    /// Last name (the provider's when absent): 1 to 100 characters.
    pub last_name: Option<Text<NameRule>>,
    /// City: 1 to 100 characters, not blank.
    pub city: Text<NameRule>,
    /// Country: 1 to 100 characters, not blank.
    pub country: Text<NameRule>,
}

impl CompleteProfileRequest {
    fn try_into_domain(self) -> Result<OidcProfile, String> {
        Ok(OidcProfile {
            first_name: self
                .first_name
                .map(|t| t.into_string("first_name"))
                .transpose()?,
            last_name: self
                .last_name
                .map(|t| t.into_string("last_name"))
                .transpose()?,
            city: self.city.into_string("city")?,
            country: self.country.into_string("country")?,
        })
    }
}

/// `GET /api/auth/oidc/start` responses.
#[derive(ApiResponse)]
pub enum StartResponse {
    /// To the provider; the login in progress is kept in a cookie (`anb_oidc`, 15 minutes).
    #[oai(status = 302)]
    Redirect(
        /// The provider's authorization URL.
        #[oai(header = "Location")]
        String,
        /// The login's cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
    /// `validation_error`: no valid `Host` to come back to.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `not_found`: no OpenID provider is configured.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/auth/oidc/callback` responses.
#[derive(ApiResponse)]
pub enum CallbackResponse {
    /// To the web app: signed in (`/?signed_in=1`, the refresh cookie set), or to the profile form of a
    /// new player (`/complete-profile`, the `anb_oidc_signup` cookie set).
    #[oai(status = 302)]
    Redirect(
        /// The web app's page.
        #[oai(header = "Location")]
        String,
        /// The refresh cookie, or the new player's sign-up cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
    /// To the web app's login page with `oidc_error` = `refused` (the state, the code or the
    /// ID token did not verify, or the login took too long), `email_not_verified` (the
    /// provider did not vouch for the email), `unavailable` (try again later) or `cancelled`
    /// (the provider reported an error, such as the user saying no).
    #[oai(status = 303)]
    Failed(
        /// `/entrar?oidc_error=…`.
        #[oai(header = "Location")]
        String,
    ),
    /// `validation_error`: a parameter longer than its limit, or no valid `Host`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `not_found`: no OpenID provider is configured.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `POST /api/auth/oidc/complete` responses.
#[derive(ApiResponse)]
pub enum CompleteResponse {
    /// The account was created and signed in (the refresh cookie set, the sign-up cookie
    /// ended).
    #[oai(status = 201)]
    Created(
        Json<TokenResponse>,
        /// The refresh token's cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
    /// `validation_error` naming the field, or `email_taken`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `unauthorized`: no sign-up cookie, or an expired or altered one: log in again.
    #[oai(status = 401)]
    Unauthorized(ErrorJson),
    /// `not_found`: no OpenID provider is configured.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

answering_405! {
    /// Logging in with the configured OpenID provider.
    pub struct OidcApi(OidcOperations);
}

/// The operations of [`OidcApi`].
pub struct OidcOperations;

fn not_configured() -> ErrorJson {
    body(ErrorCode::NotFound, "No OpenID provider is configured.")
}

/// `name=value` for the OpenID cookies (`SameSite=Lax` for the login's: it must come back
/// with the provider's redirect, a top-level navigation from another site).
fn oidc_cookie(name: &str, value: &str, same_site: &str) -> String {
    format!(
        "{name}={value}; Max-Age={COOKIE_SECONDS}; Path={COOKIE_PATH}; HttpOnly; Secure; \
         SameSite={same_site}"
    )
}

/// Ends the sign-up cookie once the account exists: a second `Set-Cookie` beside the refresh
/// cookie, which a response type cannot carry (its headers are one value per name).
fn ending_signup_cookie(ep: impl Endpoint) -> impl Endpoint {
    ep.map_to_response().map(|mut reply: Response| async move {
        if reply.status() == StatusCode::CREATED {
            let cleared = format!(
                "{SIGNUP_COOKIE}=; Max-Age=0; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict"
            );
            if let Ok(value) = HeaderValue::from_str(&cleared) {
                reply.headers_mut().append(SET_COOKIE, value);
            }
        }
        reply
    })
}

/// The callback URL the provider sends the browser back to: on this request's host, `http`
/// only on the loopback (`https` otherwise, as behind a TLS proxy).
fn redirect_uri(request: &Request) -> Result<String, poem::Error> {
    let host = request
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() <= MAX_HOST_LEN)
        .and_then(|h| h.parse::<poem::http::uri::Authority>().ok())
        .ok_or_else(|| {
            ApiError::new(
                poem::http::StatusCode::BAD_REQUEST,
                ErrorCode::ValidationError,
                "Host: a valid host is required",
            )
        })?;
    let loopback = matches!(host.host(), "127.0.0.1" | "localhost" | "[::1]");
    let scheme = if loopback { "http" } else { "https" };
    Ok(format!("{scheme}://{host}{CALLBACK_PATH}"))
}

#[OpenApi(prefix_path = "/api/auth", tag = "ApiTags::Auth")]
impl OidcOperations {
    /// The ways to log in besides a password (the configured OpenID provider, if any).
    #[oai(
        path = "/providers",
        method = "get",
        operation_id = "list_login_providers"
    )]
    async fn providers(&self, state: Data<&AppState>) -> Json<Vec<LoginProvider>> {
        Json(
            state
                .showcase
                .identity_provider_name()
                .map(|name| LoginProvider {
                    id: "oidc".into(),
                    name: name.to_owned(),
                    login_url: "/api/auth/oidc/start".into(),
                })
                .into_iter()
                .collect(),
        )
    }

    /// Sends the browser to the OpenID provider (authorization code flow with PKCE, `state`
    /// and `nonce`).
    #[oai(
        path = "/oidc/start",
        method = "get",
        operation_id = "start_oidc_login"
    )]
    async fn start(
        &self,
        state: Data<&AppState>,
        request: &Request,
    ) -> Result<StartResponse, Refused<NeedsBackend>> {
        let redirect = redirect_uri(request)?;
        match state.showcase.oidc_start(&redirect).await {
            Ok(started) => Ok(StartResponse::Redirect(
                started.authorize_url,
                oidc_cookie(LOGIN_COOKIE, &started.note, "Lax"),
            )),
            Err(OidcError::NotConfigured) => Ok(StartResponse::NotFound(not_configured())),
            Err(OidcError::Unavailable(e)) | Err(OidcError::Unexpected(e)) => {
                Err(ApiError::unexpected(&e).into())
            }
            Err(e) => Err(ApiError::unexpected(&anyhow::anyhow!("{e}")).into()),
        }
    }

    /// Where the provider sends the browser back: finishes the login and sends the browser
    /// on to the web app.
    #[oai(
        path = "/oidc/callback",
        method = "get",
        operation_id = "finish_oidc_login"
    )]
    async fn callback(
        &self,
        state: Data<&AppState>,
        request: &Request,
        /// The authorization code.
        #[oai(validator(max_length = 2048))]
        code: Query<Option<String>>,
        /// The login's `state`.
        #[oai(name = "state", validator(max_length = 512))]
        login_state: Query<Option<String>>,
        /// The provider's error, when it did not authorize.
        #[oai(validator(max_length = 256))]
        error: Query<Option<String>>,
        /// The login in progress (set by `GET /api/auth/oidc/start`).
        #[oai(name = "anb_oidc")]
        note: Cookie<Option<String>>,
    ) -> Result<CallbackResponse, Refused<NeedsBackend>> {
        let failed = |why: &str| {
            Ok(CallbackResponse::Failed(format!(
                "/entrar?oidc_error={why}"
            )))
        };
        if state.showcase.identity_provider_name().is_none() {
            return Ok(CallbackResponse::NotFound(not_configured()));
        }
        if error.0.is_some() {
            return failed("cancelled");
        }
        let (Some(code), Some(returned), Some(note)) = (code.0, login_state.0, note.0) else {
            return failed("refused");
        };
        let redirect = redirect_uri(request)?;
        let now = state.showcase.ports().clock.now();
        match state
            .showcase
            .oidc_finish(&note, &returned, &code, &redirect)
            .await
        {
            Ok(OidcOutcome::SignedIn(signed_in)) => Ok(CallbackResponse::Redirect(
                "/?signed_in=1".into(),
                refresh_cookie(&signed_in, now),
            )),
            Ok(OidcOutcome::NeedsProfile { note }) => Ok(CallbackResponse::Redirect(
                "/complete-profile".into(),
                oidc_cookie(SIGNUP_COOKIE, &note, "Strict"),
            )),
            Err(OidcError::EmailNotVerified) => failed("email_not_verified"),
            Err(OidcError::Unavailable(e)) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the OpenID provider is unavailable"
                );
                failed("unavailable")
            }
            Err(OidcError::Refused(reason)) => {
                tracing::warn!(%reason, "an OpenID login was refused");
                failed("refused")
            }
            Err(OidcError::NotConfigured) => Ok(CallbackResponse::NotFound(not_configured())),
            Err(e) => Err(ApiError::unexpected(&anyhow::anyhow!("{e}")).into()),
        }
    }

    /// Creates the account of a new player who came through the provider, with their city
    /// and country, and signs them in.
    #[oai(
        path = "/oidc/complete",
        method = "post",
        operation_id = "complete_oidc_signup",
        transform = "ending_signup_cookie"
    )]
    async fn complete(
        &self,
        state: Data<&AppState>,
        /// The new player's verified identity (set by the callback).
        #[oai(name = "anb_oidc_signup")]
        note: Cookie<Option<String>>,
        form: Json<CompleteProfileRequest>,
    ) -> Result<CompleteResponse, Refused<JsonBody>> {
        if state.showcase.identity_provider_name().is_none() {
            return Ok(CompleteResponse::NotFound(not_configured()));
        }
        let profile = match form.0.try_into_domain() {
            Ok(profile) => profile,
            Err(detail) => {
                return Ok(CompleteResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    detail,
                )))
            }
        };
        let unauthorized = || {
            CompleteResponse::Unauthorized(body(
                ErrorCode::Unauthorized,
                "The sign-up expired. Log in with the provider again.",
            ))
        };
        let Some(note) = note.0 else {
            return Ok(unauthorized());
        };
        let now = state.showcase.ports().clock.now();
        match state.showcase.oidc_complete(&note, profile).await {
            Ok(signed_in) => Ok(CompleteResponse::Created(
                token_body(&signed_in),
                refresh_cookie(&signed_in, now),
            )),
            Err(OidcError::Refused(_)) => Ok(unauthorized()),
            Err(OidcError::Invalid(e)) => Ok(CompleteResponse::BadRequest(body(
                ErrorCode::ValidationError,
                e.to_string(),
            ))),
            Err(OidcError::EmailTaken) => Ok(CompleteResponse::BadRequest(body(
                ErrorCode::EmailTaken,
                "An account with this email already exists.",
            ))),
            Err(OidcError::NotConfigured) => Ok(CompleteResponse::NotFound(not_configured())),
            Err(e) => Err(ApiError::unexpected(&anyhow::anyhow!("{e}")).into()),
        }
    }
}
