//! Account upkeep by email: verifying the address and resetting a forgotten password, each
//! through a one-time link mailed to the player.

use anb_domain::{Email, ResetPasswordError, SendVerificationError, VerifyEmailError};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::strict_text::{AnyText, EmailRule, PasswordRule, Text};
use super::{answering_405, ApiTags};
use crate::client_address::ClientAddress;
use crate::error::{
    body, ApiError, ErrorCode, ErrorJson, JsonBody, LimitedJsonBody, ProtectedLimited, Refused,
};
use crate::security::Caller;
use crate::state::AppState;

/// When to ask again when the emails being sent fill their room
/// ([`AppState::mail_after_answer`]).
const MAIL_QUEUE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// What an account operation did, in Spanish for the player.
#[derive(Debug, Object)]
pub struct AccountMessage {
    /// What happened.
    pub message: String,
}

fn message(text: &str) -> Json<AccountMessage> {
    Json(AccountMessage {
        message: text.to_owned(),
    })
}

/// A token from an emailed link.
#[derive(Debug, Object)]
pub struct VerifyEmailRequest {
    /// The `token` of the verification link.
    pub token: Text<AnyText>,
}

/// Whose password to reset.
#[derive(Debug, Object)]
pub struct PasswordResetRequest {
    /// The account's email, `name@domain.tld`.
    pub email: Text<EmailRule>,
}

/// A new password, with the token of the reset link.
#[derive(Debug, Object)]
pub struct PasswordResetConfirm {
    /// The `token` of the reset link.
    pub token: Text<AnyText>,
    /// The new password, 8 to 256 characters (`weak_password` otherwise).
    pub password1: Text<PasswordRule>,
    /// The same password again (`password_mismatch` otherwise).
    pub password2: Text<PasswordRule>,
}

/// `POST /api/auth/verify-email/send` responses.
#[derive(ApiResponse)]
pub enum SendVerificationResponse {
    /// The email is on its way (or, said in `message`, it is already verified and nothing is
    /// sent).
    #[oai(status = 202)]
    Accepted(Json<AccountMessage>),
    /// `email_undeliverable`: the mail server refused the account's address.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `POST /api/auth/verify-email` responses.
#[derive(ApiResponse)]
pub enum VerifyEmailResponse {
    /// The email is verified.
    #[oai(status = 200)]
    Ok(Json<AccountMessage>),
    /// `invalid_token` (unknown, already used or expired: ask for a new email), or
    /// `validation_error` naming the field.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `POST /api/auth/password-reset` responses.
#[derive(ApiResponse)]
pub enum PasswordResetResponse {
    /// The same answer whether or not an account has this email; if one has, a link to
    /// choose a new password (valid 1 hour) is mailed to it.
    #[oai(status = 202)]
    Accepted(Json<AccountMessage>),
    /// `validation_error`: the email is missing, not a string, or not an email address.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `POST /api/auth/password-reset/confirm` responses.
#[derive(ApiResponse)]
pub enum PasswordResetConfirmResponse {
    /// The password is changed and every session of the account is ended (log in again).
    #[oai(status = 200)]
    Ok(Json<AccountMessage>),
    /// `invalid_token` (unknown, already used or expired), `password_mismatch`,
    /// `weak_password`, or `validation_error` naming the field.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

fn invalid_token() -> ErrorJson {
    body(
        ErrorCode::InvalidToken,
        "The link is invalid, already used or expired. Ask for a new email.",
    )
}

answering_405! {
    /// Verifying the email and resetting the password.
    pub struct AccountApi(AccountOperations);
}

/// The operations of [`AccountApi`].
pub struct AccountOperations;

#[OpenApi(prefix_path = "/api/auth", tag = "ApiTags::Auth")]
impl AccountOperations {
    /// Mails the caller a link verifying their email (valid 24 hours).
    #[oai(
        path = "/verify-email/send",
        method = "post",
        operation_id = "send_email_verification"
    )]
    async fn send_verification(
        &self,
        state: Data<&AppState>,
        caller: Caller,
    ) -> Result<SendVerificationResponse, Refused<ProtectedLimited>> {
        state.limits.verification(caller.0)?;
        match state.showcase.send_verification(caller.0).await {
            Ok(true) => Ok(SendVerificationResponse::Accepted(message(
                "Te enviamos un correo con el enlace de verificación.",
            ))),
            Ok(false) => Ok(SendVerificationResponse::Accepted(message(
                "Tu correo ya está verificado.",
            ))),
            // The token names a player who is gone: as if there were no token.
            Err(SendVerificationError::NotFound) => Err(ApiError::new(
                poem::http::StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "Not authenticated.",
            )
            .into()),
            Err(SendVerificationError::Undeliverable(_)) => {
                Ok(SendVerificationResponse::BadRequest(body(
                    ErrorCode::EmailUndeliverable,
                    "The mail server refused your email address; no email can reach it.",
                )))
            }
            Err(SendVerificationError::Unexpected(e)) => Err(ApiError::unexpected(&e).into()),
        }
    }

    /// Verifies the email with the token of the emailed link; a token works once.
    #[oai(path = "/verify-email", method = "post", operation_id = "verify_email")]
    async fn verify_email(
        &self,
        state: Data<&AppState>,
        form: Json<VerifyEmailRequest>,
    ) -> Result<VerifyEmailResponse, Refused<JsonBody>> {
        let token = match form.0.token.into_string("token") {
            Ok(token) => token,
            Err(detail) => {
                return Ok(VerifyEmailResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    detail,
                )))
            }
        };
        match state.showcase.verify_email(&token).await {
            Ok(_) => Ok(VerifyEmailResponse::Ok(message(
                "Correo verificado exitosamente.",
            ))),
            Err(VerifyEmailError::InvalidToken) => {
                Ok(VerifyEmailResponse::BadRequest(invalid_token()))
            }
            Err(VerifyEmailError::Unexpected(e)) => Err(ApiError::unexpected(&e).into()),
        }
    }

    /// Asks for a password-reset link. The answer is the same whether or not an account has
    /// this email.
    #[oai(
        path = "/password-reset",
        method = "post",
        operation_id = "request_password_reset"
    )]
    async fn password_reset(
        &self,
        state: Data<&AppState>,
        client: Data<&ClientAddress>,
        form: Json<PasswordResetRequest>,
    ) -> Result<PasswordResetResponse, Refused<LimitedJsonBody>> {
        let email = match form
            .0
            .email
            .into_string("email")
            .and_then(|raw| Email::parse(&raw).map_err(|e| e.to_string()))
        {
            Ok(email) => email,
            Err(detail) => {
                return Ok(PasswordResetResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    detail,
                )))
            }
        };
        state.limits.password_reset(**client, email.as_str())?;
        // Looked up and mailed after the answer, so that its timing cannot tell whether the
        // account exists (nor wait on the mail server).
        let showcase = state.showcase.clone();
        let mailed = state.mail_after_answer(async move {
            if let Err(e) = showcase.request_password_reset(email.as_str()).await {
                tracing::warn!(error = format!("{e:#}"), "a password reset was not mailed");
            }
        });
        if !mailed {
            return Err(ApiError::new(
                poem::http::StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ServiceUnavailable,
                "The service is busy or a backend is unavailable. Try again shortly.",
            )
            .retry_after(MAIL_QUEUE_RETRY_AFTER)
            .into());
        }
        Ok(PasswordResetResponse::Accepted(message(
            "Si existe una cuenta con ese correo, te enviamos un enlace para restablecer la \
             contraseña.",
        )))
    }

    /// Sets a new password with the token of the reset link (a token works once) and ends
    /// every session of the account.
    #[oai(
        path = "/password-reset/confirm",
        method = "post",
        operation_id = "confirm_password_reset"
    )]
    async fn password_reset_confirm(
        &self,
        state: Data<&AppState>,
        client: Data<&ClientAddress>,
        form: Json<PasswordResetConfirm>,
    ) -> Result<PasswordResetConfirmResponse, Refused<LimitedJsonBody>> {
        let fields = (|| {
            let form = form.0;
            Ok::<_, String>((
                form.token.into_string("token")?,
                form.password1.into_string("password1")?,
                form.password2.into_string("password2")?,
            ))
        })();
        let (token, password1, password2) = match fields {
            Ok(fields) => fields,
            Err(detail) => {
                return Ok(PasswordResetConfirmResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    detail,
                )))
            }
        };
        state.limits.password_reset_confirm(**client)?;
        let bad =
            |code, detail: String| Ok(PasswordResetConfirmResponse::BadRequest(body(code, detail)));
        match state
            .showcase
            .reset_password(&token, &password1, &password2)
            .await
        {
            Ok(_) => Ok(PasswordResetConfirmResponse::Ok(message(
                "Contraseña actualizada. Inicia sesión con la nueva contraseña.",
            ))),
            Err(ResetPasswordError::InvalidToken) => {
                Ok(PasswordResetConfirmResponse::BadRequest(invalid_token()))
            }
            Err(ResetPasswordError::PasswordMismatch) => bad(
                ErrorCode::PasswordMismatch,
                "The passwords do not match.".into(),
            ),
            Err(ResetPasswordError::WeakPassword(e)) => bad(ErrorCode::WeakPassword, e.to_string()),
            Err(ResetPasswordError::Unexpected(e)) => Err(ApiError::unexpected(&e).into()),
        }
    }
}
