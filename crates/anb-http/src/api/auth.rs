//! Sign up, log in, profile.

use anb_domain::{LoginError, ProfileError, SignupError, SignupForm};
use poem::web::{Data, RemoteAddr};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::models::{
    required, LoginRequest, ProfileResponse, SignupCreated, SignupRequest, TokenResponse,
};
use super::ApiTags;
use crate::error::{body, ApiError, ErrorJson};
use crate::security::Caller;
use crate::state::AppState;

/// `POST /api/auth/signup` responses.
#[derive(ApiResponse)]
pub enum SignupResponse {
    /// The account was created.
    #[oai(status = 201)]
    Created(Json<SignupCreated>),
    /// `email_taken`, `password_mismatch`, `weak_password` or `validation_error`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `POST /api/auth/login` responses.
#[derive(ApiResponse)]
pub enum LoginResponse {
    /// A token.
    #[oai(status = 200)]
    Ok(Json<TokenResponse>),
    /// `validation_error`: a field is missing.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `invalid_credentials` (the same for an unknown email and a wrong password).
    #[oai(status = 401)]
    InvalidCredentials(ErrorJson),
    /// `too_many_attempts`: wait a minute.
    #[oai(status = 429)]
    TooManyAttempts(ErrorJson, #[oai(header = "Retry-After")] u64),
}

/// `GET /api/auth/me` responses.
#[derive(ApiResponse)]
pub enum MeResponse {
    /// The caller's profile.
    #[oai(status = 200)]
    Ok(Json<ProfileResponse>),
}

/// Accounts and tokens.
pub struct AuthApi;

#[OpenApi(prefix_path = "/api/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Creates a player account.
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&AppState>,
        form: Json<SignupRequest>,
    ) -> poem::Result<SignupResponse> {
        let form = form.0;
        let bad = |code, detail: String| Ok(SignupResponse::BadRequest(body(code, detail)));
        let complete = (|| {
            Ok::<_, String>(SignupForm {
                first_name: required("first_name", form.first_name)?,
                last_name: required("last_name", form.last_name)?,
                email: required("email", form.email)?,
                password1: required("password1", form.password1)?,
                password2: required("password2", form.password2)?,
                city: required("city", form.city)?,
                country: required("country", form.country)?,
            })
        })();
        let form = match complete {
            Ok(form) => form,
            Err(detail) => return bad("validation_error", detail),
        };
        let created = state.showcase.signup(form).await;
        match created {
            Ok(user) => Ok(SignupResponse::Created(Json(SignupCreated {
                message: "Usuario creado exitosamente.".into(),
                user_id: user.id.as_uuid(),
            }))),
            Err(SignupError::EmailTaken) => bad(
                "email_taken",
                "A user with this email already exists.".into(),
            ),
            Err(SignupError::PasswordMismatch) => {
                bad("password_mismatch", "The passwords do not match.".into())
            }
            Err(SignupError::WeakPassword(e)) => bad("weak_password", e.to_string()),
            Err(SignupError::Invalid(e)) => bad("validation_error", e.to_string()),
            Err(SignupError::Unexpected(e)) => Err(ApiError::internal(format!("{e:#}"))),
        }
    }

    /// Exchanges an email and password for an access token.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        remote: &RemoteAddr,
        form: Json<LoginRequest>,
    ) -> poem::Result<LoginResponse> {
        let (email, password) = match (
            required("email", form.0.email),
            required("password", form.0.password),
        ) {
            (Ok(email), Ok(password)) => (email, password),
            (Err(detail), _) | (_, Err(detail)) => {
                return Ok(LoginResponse::BadRequest(body("validation_error", detail)))
            }
        };
        let from = remote
            .as_socket_addr()
            .map(std::net::SocketAddr::ip)
            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        if !state.throttle.attempt(&email, from) {
            return Ok(LoginResponse::TooManyAttempts(
                body(
                    "too_many_attempts",
                    "Too many login attempts. Try again in a minute.",
                ),
                60,
            ));
        }
        match state.showcase.login(&email, &password).await {
            Ok(token) => Ok(LoginResponse::Ok(Json(TokenResponse {
                access_token: token.token,
                token_type: "Bearer".into(),
                expires_in: token.expires_in,
            }))),
            Err(LoginError::InvalidCredentials) => Ok(LoginResponse::InvalidCredentials(body(
                "invalid_credentials",
                "Invalid email or password.",
            ))),
            Err(LoginError::Unexpected(e)) => Err(ApiError::internal(format!("{e:#}"))),
        }
    }

    /// The caller's profile.
    #[oai(path = "/me", method = "get", operation_id = "get_profile")]
    async fn me(&self, state: Data<&AppState>, caller: Caller) -> poem::Result<MeResponse> {
        match state.showcase.profile(caller.0).await {
            Ok(user) => Ok(MeResponse::Ok(Json(user.into()))),
            Err(ProfileError::NotFound) => Err(ApiError::new(
                poem::http::StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Not authenticated.",
            )
            .into()),
            Err(ProfileError::Unexpected(e)) => Err(ApiError::internal(format!("{e:#}"))),
        }
    }
}
