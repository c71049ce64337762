//! Sign up, log in, profile.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::models::{
    LoginRequest, ProfileResponse, SignupCreated, SignupRequest, TokenResponse, TokenType,
};
use super::{answering_405, ApiTags};
use crate::client_address::ClientAddress;
use crate::error::{body, ErrorCode, ErrorJson, JsonBody, LimitedJsonBody, Protected, Refused};
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

/// `POST /api/auth/login` responses.
#[derive(ApiResponse)]
pub enum LoginResponse {
    /// A token.
    #[oai(status = 200)]
    Ok(Json<TokenResponse>),
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
            Ok(user) => Ok(SignupResponse::Created(Json(SignupCreated {
                message: "Usuario creado exitosamente.".into(),
                user_id: user.id.as_uuid(),
            }))),
            Err(e) => SignupResponse::refused(e),
        }
    }

    /// Exchanges an email and password for an access token.
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
            Ok(token) => Ok(LoginResponse::Ok(Json(TokenResponse {
                access_token: token.token,
                token_type: TokenType::Bearer,
                expires_in: token.expires_in,
            }))),
            Err(e) => LoginResponse::refused(e),
        }
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
