//! Sign up, log in, sessions (refresh, log out), profile.

use anb_domain::{RefreshError, SignedIn};
use poem::web::Data;
use poem_openapi::param::Cookie;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::models::{
    LoginRequest, ProfileResponse, SignupCreated, SignupRequest, TokenResponse, TokenType,
};
use super::{answering_405, ApiTags};
use crate::client_address::ClientAddress;
use crate::error::{
    body, ErrorCode, ErrorJson, JsonBody, Limited, LimitedJsonBody, Protected, Refused,
};
use crate::security::Caller;
use crate::state::AppState;

/// `POST /api/auth/signup` responses.
#[derive(ApiResponse)]
pub enum SignupResponse {
    /// The account was created.
    #[oai(status = 201)]
    Created(Json<SignupCreated>),
    /// `email_taken`, `password_mismatch`, `weak_password`, or `validation_error` naming the
    /// field (missing, not a string, or not as the schema says).
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// The cookie holding the refresh token: sent back only to `/api/auth` (refresh and log
/// out), never readable by scripts, never sent by another site.
pub const REFRESH_COOKIE: &str = "anb_refresh";

/// The `Set-Cookie` value storing `signed_in`'s refresh token until it expires.
pub(crate) fn refresh_cookie(signed_in: &SignedIn, now: chrono::DateTime<chrono::Utc>) -> String {
    let max_age = (signed_in.refresh.expires_at - now).num_seconds().max(0);
    format!(
        "{REFRESH_COOKIE}={}; Max-Age={max_age}; Path=/api/auth; HttpOnly; Secure; SameSite=Strict",
        signed_in.refresh.token
    )
}

/// The `Set-Cookie` value removing the refresh token.
fn cleared_cookie() -> String {
    format!("{REFRESH_COOKIE}=; Max-Age=0; Path=/api/auth; HttpOnly; Secure; SameSite=Strict")
}

/// The token body of a login or a refresh.
pub(crate) fn token_body(signed_in: &SignedIn) -> Json<TokenResponse> {
    Json(TokenResponse {
        access_token: signed_in.access.token.clone(),
        token_type: TokenType::Bearer,
        expires_in: signed_in.access.expires_in,
    })
}

/// `POST /api/auth/login` responses.
#[derive(ApiResponse)]
pub enum LoginResponse {
    /// An access token; the session's refresh token is set as an `HttpOnly` cookie
    /// (`anb_refresh`, path `/api/auth`) for `POST /api/auth/refresh`.
    #[oai(status = 200)]
    Ok(
        Json<TokenResponse>,
        /// The refresh token's cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
    /// `validation_error`: a field is missing or not a string, or the body is not a JSON
    /// object.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `invalid_credentials` (the same for an unknown email and a wrong password).
    #[oai(status = 401)]
    InvalidCredentials(ErrorJson),
    /// `too_many_attempts`: too many logins from this address, or for this email from this
    /// address; try again after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyAttempts(
        ErrorJson,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        u64,
    ),
}

/// `POST /api/auth/refresh` responses.
#[derive(ApiResponse)]
pub enum RefreshResponse {
    /// A new access token; the refresh cookie is replaced by the next refresh token (each
    /// works once).
    #[oai(status = 200)]
    Ok(
        Json<TokenResponse>,
        /// The next refresh token's cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
    /// `unauthorized`: no refresh cookie, or one that is unknown, expired, of an ended session,
    /// or already used (which ends its whole session: someone kept a copy). The cookie is
    /// cleared; log in again.
    #[oai(status = 401)]
    Unauthorized(
        ErrorJson,
        /// Clears the refresh cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
}

/// `POST /api/auth/logout` and `POST /api/auth/logout-all` responses.
#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Done (also when there was nothing to end); the refresh cookie is cleared. Access
    /// tokens already handed out work until they expire (`expires_in`, minutes).
    #[oai(status = 204)]
    Done(
        /// Clears the refresh cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
}

/// `GET /api/auth/me` responses.
#[derive(ApiResponse)]
pub enum MeResponse {
    /// The caller's profile.
    #[oai(status = 200)]
    Ok(Json<ProfileResponse>),
}

crate::refusals!(SignupResponse { BadRequest => BadRequest });
crate::refusals!(LoginResponse { Unauthorized => InvalidCredentials });
crate::refusals!(MeResponse {});

answering_405! {
    /// Accounts and tokens.
    pub struct AuthApi(AuthOperations);
}

/// The operations of [`AuthApi`].
pub struct AuthOperations;

#[OpenApi(prefix_path = "/api/auth", tag = "ApiTags::Auth")]
impl AuthOperations {
    /// Creates a player account.
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&AppState>,
        client: Data<&ClientAddress>,
        form: Json<SignupRequest>,
    ) -> Result<SignupResponse, Refused<LimitedJsonBody>> {
        state.limits.signup(**client)?;
        let form = match form.0.try_into_domain() {
            Ok(form) => form,
            Err(detail) => {
                return Ok(SignupResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    detail,
                )))
            }
        };
        let created = state.showcase.signup(form).await;
        match created {
            Ok(user) => {
                let (showcase, id) = (state.showcase.clone(), user.id);
                // Best effort: the account exists either way, and the player can ask again.
                let queued = state.mail_after_answer(async move {
                    if let Err(e) = showcase.send_verification(id).await {
                        tracing::warn!(user = %id, error = format!("{e:#}"), "the verification email was not sent");
                    }
                });
                if !queued {
                    tracing::warn!(user = %id, "the verification email was not sent: too many emails in flight");
                }
                Ok(SignupResponse::Created(Json(SignupCreated {
                    message: "Usuario creado exitosamente.".into(),
                    user_id: user.id.as_uuid(),
                })))
            }
            Err(e) => SignupResponse::refused(e),
        }
    }

    /// Exchanges an email and password for an access token, and starts a session whose
    /// refresh token comes as a cookie.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        client: Data<&ClientAddress>,
        form: Json<LoginRequest>,
    ) -> Result<LoginResponse, Refused<JsonBody>> {
        let (email, password) = match form.0.try_into_domain() {
            Ok(credentials) => credentials,
            Err(detail) => {
                return Ok(LoginResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    detail,
                )))
            }
        };
        if let Err(limited) = state.limits.login(**client, &email) {
            return Ok(LoginResponse::TooManyAttempts(
                body(
                    ErrorCode::TooManyAttempts,
                    "Too many login attempts. Try again later.",
                ),
                limited.retry_after_seconds(),
            ));
        }
        match state.showcase.login(&email, &password).await {
            Ok(signed_in) => Ok(LoginResponse::Ok(
                token_body(&signed_in),
                refresh_cookie(&signed_in, state.showcase.ports().clock.now()),
            )),
            Err(e) => LoginResponse::refused(e),
        }
    }

    /// Exchanges the refresh cookie for a new access token and the next refresh token. A
    /// refresh token works once: presenting a used one ends its session.
    #[oai(path = "/refresh", method = "post", operation_id = "refresh_session")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        client: Data<&ClientAddress>,
        /// The refresh token (set by login and by each refresh).
        #[oai(name = "anb_refresh")]
        refresh: Cookie<Option<String>>,
    ) -> Result<RefreshResponse, Refused<Limited>> {
        let refused = || {
            RefreshResponse::Unauthorized(
                body(
                    ErrorCode::Unauthorized,
                    "The session has ended. Log in again.",
                ),
                cleared_cookie(),
            )
        };
        // A visitor without a session (every page load of the web app asks) costs nothing and
        // counts against no limit.
        let Some(presented) = refresh.0 else {
            return Ok(refused());
        };
        state.limits.refresh(**client)?;
        match state.showcase.refresh(&presented).await {
            Ok(signed_in) => Ok(RefreshResponse::Ok(
                token_body(&signed_in),
                refresh_cookie(&signed_in, state.showcase.ports().clock.now()),
            )),
            Err(RefreshError::Refused) => Ok(refused()),
            Err(RefreshError::Unexpected(e)) => Err(crate::error::ApiError::unexpected(&e).into()),
        }
    }

    /// Ends the session of the refresh cookie (logging out on this device) and clears it.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        /// The refresh token.
        #[oai(name = "anb_refresh")]
        refresh: Cookie<Option<String>>,
    ) -> Result<LogoutResponse, Refused<crate::error::NeedsBackend>> {
        if let Some(presented) = refresh.0 {
            state
                .showcase
                .logout(&presented)
                .await
                .map_err(|e| crate::error::ApiError::unexpected(&e))?;
        }
        Ok(LogoutResponse::Done(cleared_cookie()))
    }

    /// Ends every session of the caller (logging out everywhere) and clears this device's
    /// refresh cookie.
    #[oai(
        path = "/logout-all",
        method = "post",
        operation_id = "logout_everywhere"
    )]
    async fn logout_all(
        &self,
        state: Data<&AppState>,
        caller: Caller,
    ) -> Result<LogoutResponse, Refused<Protected>> {
        state
            .showcase
            .logout_everywhere(caller.0)
            .await
            .map_err(|e| crate::error::ApiError::unexpected(&e))?;
        Ok(LogoutResponse::Done(cleared_cookie()))
    }

    /// The caller's profile.
    #[oai(path = "/me", method = "get", operation_id = "get_profile")]
    async fn me(
        &self,
        state: Data<&AppState>,
        caller: Caller,
    ) -> Result<MeResponse, Refused<Protected>> {
        match state.showcase.profile(caller.0).await {
            Ok(user) => Ok(MeResponse::Ok(Json(user.into()))),
            Err(e) => MeResponse::refused(e),
        }
    }
}
