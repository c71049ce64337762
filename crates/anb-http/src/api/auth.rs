//! Sign up, log in, profile.

use anb_domain::{LoginError, ProfileError, SignupError, SignupForm};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::models::{
    LoginRequest, ProfileResponse, SignupCreated, SignupRequest, TokenResponse, TokenType,
};
use super::{answering_405, ApiTags};
use crate::client_address::ClientAddress;
use crate::error::{
    body, ApiError, ErrorCode, ErrorJson, JsonBody, LimitedJsonBody, Protected, Refused,
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
        let form = form.0;
        let bad = |code, detail: String| Ok(SignupResponse::BadRequest(body(code, detail)));
        let complete = (|| {
            Ok::<_, String>(SignupForm {
                first_name: form.first_name.into_string("first_name")?,
                last_name: form.last_name.into_string("last_name")?,
                email: form.email.into_string("email")?,
                password1: form.password1.into_string("password1")?,
                password2: form.password2.into_string("password2")?,
                city: form.city.into_string("city")?,
                country: form.country.into_string("country")?,
            })
        })();
        let form = match complete {
            Ok(form) => form,
            Err(detail) => return bad(ErrorCode::ValidationError, detail),
        };
        let created = state.showcase.signup(form).await;
        match created {
            Ok(user) => Ok(SignupResponse::Created(Json(SignupCreated {
                message: "Usuario creado exitosamente.".into(),
                user_id: user.id.as_uuid(),
            }))),
            Err(SignupError::EmailTaken) => bad(
                ErrorCode::EmailTaken,
                "A user with this email already exists.".into(),
            ),
            Err(SignupError::PasswordMismatch) => bad(
                ErrorCode::PasswordMismatch,
                "The passwords do not match.".into(),
            ),
            Err(SignupError::WeakPassword(e)) => bad(ErrorCode::WeakPassword, e.to_string()),
            Err(SignupError::Invalid(e)) => bad(ErrorCode::ValidationError, e.to_string()),
            Err(SignupError::Unexpected(e)) => Err(ApiError::unexpected(&e).into()),
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
        let (email, password) = match (
            form.0.email.into_string("email"),
            form.0.password.into_string("password"),
        ) {
            (Ok(email), Ok(password)) => (email, password),
            (Err(detail), _) | (_, Err(detail)) => {
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
            Err(LoginError::InvalidCredentials) => Ok(LoginResponse::InvalidCredentials(body(
                ErrorCode::InvalidCredentials,
                "Invalid email or password.",
            ))),
            Err(LoginError::Unexpected(e)) => Err(ApiError::unexpected(&e).into()),
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
            Err(ProfileError::NotFound) => Err(ApiError::new(
                poem::http::StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "Not authenticated.",
            )
            .into()),
            Err(ProfileError::Unexpected(e)) => Err(ApiError::unexpected(&e).into()),
        }
    }
}
