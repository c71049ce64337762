//! Account upkeep by email: verifying the address, resetting a forgotten password. Both mail a
//! link carrying a one-time token (256 random bits) of which only the digest is stored; a
//! token works once and for a while (a verification 24 hours, a reset 1 hour).

use chrono::{DateTime, Utc};
use tracing::{instrument, warn};

use super::Showcase;
use crate::ids::UserId;
use crate::mail::MailMessage;
use crate::ports::{MailError, Unavailable};
use crate::session::SessionEnd;
use crate::user::{EmailPurpose, User};
use crate::values::{Email, Password, ValidationError};

/// How long a verification link works.
pub const VERIFICATION_TTL: chrono::Duration = chrono::Duration::hours(24);

/// How long a password-reset link works.
pub const RESET_TTL: chrono::Duration = chrono::Duration::hours(1);

/// The longest token accepted: longer than any minted, refused before it is digested.
const MAX_TOKEN_CHARS: usize = 128;

/// How long to wait before asking again when the mail server cannot take a message.
const MAIL_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// Why a verification email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendVerificationError {
    /// The account does not exist (any more).
    #[error("account not found")]
    NotFound,
    /// The mail server refused the account's address: it cannot receive mail.
    #[error("the mail server refused the address {0}")]
    Undeliverable(Email),
    /// Anything else (a mail server that cannot take the message carries an
    /// [`Unavailable`]).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why an email token was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyEmailError {
    /// Unknown, already used, expired, or minted for something else.
    #[error("the link is invalid or has expired")]
    InvalidToken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a password reset was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResetPasswordError {
    /// `password1` and `password2` differ (the token is not used up).
    #[error("the passwords do not match")]
    PasswordMismatch,
    /// The new password breaks the sign-up policy (the token is not used up).
    #[error("{0}")]
    WeakPassword(ValidationError),
    /// Unknown, already used, expired, or minted for something else.
    #[error("the link is invalid or has expired")]
    InvalidToken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Showcase {
    /// Mails `user` a link verifying their email, valid for 24 hours. Returns `false`, sending
    /// nothing, when the email is already verified.
    ///
    /// # Errors
    /// [`SendVerificationError::NotFound`]; [`SendVerificationError::Undeliverable`] when the
    /// mail server refuses the address; a mail server that cannot take the message is
    /// [`SendVerificationError::Unexpected`] carrying an [`Unavailable`].
    #[instrument(skip(self))]
    pub async fn send_verification(&self, user: UserId) -> Result<bool, SendVerificationError> {
        let found = self
            .ports
            .users
            .get(user)
            .await?
            .ok_or(SendVerificationError::NotFound)?;
        if found.email_verified_at.is_some() {
            return Ok(false);
        }
        self.mail_token(&found, EmailPurpose::VerifyEmail).await?;
        Ok(true)
    }

    /// Marks the email of the token's account verified; the token works once.
    ///
    /// # Errors
    /// [`VerifyEmailError::InvalidToken`].
    #[instrument(skip_all)]
    pub async fn verify_email(&self, token: &str) -> Result<UserId, VerifyEmailError> {
        let now = self.ports.clock.now();
        let user = self
            .consume(token, EmailPurpose::VerifyEmail, now)
            .await?
            .ok_or(VerifyEmailError::InvalidToken)?;
        self.ports.users.mark_email_verified(user, now).await?;
        Ok(user)
    }

    /// Mails a password-reset link (valid 1 hour) to the account with `email`, if there is
    /// one. The caller cannot tell: an unknown or malformed email is `Ok` too, and sends
    /// nothing.
    ///
    /// # Errors
    /// Only storage faults (a mail failure is logged, not returned).
    #[instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str) -> anyhow::Result<()> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let Some(user) = self.ports.users.find_by_email(&email).await? else {
            return Ok(());
        };
        // A mail failure is logged, not answered: an answer would tell the account exists.
        if let Err(e) = self.mail_token(&user, EmailPurpose::ResetPassword).await {
            warn!(user = %user.id, error = format!("{e:#}"), "the password-reset email was not sent");
        }
        Ok(())
    }

    /// Sets a new password with a reset token (the sign-up policy applies), then ends every
    /// session of the account. The token works once; a refused password does not use it up.
    ///
    /// # Errors
    /// [`ResetPasswordError::PasswordMismatch`], [`ResetPasswordError::WeakPassword`],
    /// [`ResetPasswordError::InvalidToken`].
    #[instrument(skip_all)]
    pub async fn reset_password(
        &self,
        token: &str,
        password1: &str,
        password2: &str,
    ) -> Result<UserId, ResetPasswordError> {
        if password1 != password2 {
            return Err(ResetPasswordError::PasswordMismatch);
        }
        let password = Password::new(password1).map_err(ResetPasswordError::WeakPassword)?;
        // Hashed before the token is used, so that a saturated hasher leaves it usable.
        let hash = self.ports.hasher.hash(&password).await?;
        let now = self.ports.clock.now();
        let user = self
            .consume(token, EmailPurpose::ResetPassword, now)
            .await?
            .ok_or(ResetPasswordError::InvalidToken)?;
        self.ports.users.set_password_hash(user, &hash).await?;
        self.ports
            .sessions
            .end_all(user, SessionEnd::PasswordChanged, now)
            .await?;
        Ok(user)
    }

    /// Uses up `token` for `purpose`: whose it was, or `None`.
    async fn consume(
        &self,
        token: &str,
        purpose: EmailPurpose,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<UserId>> {
        if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
            return Ok(None);
        }
        let digest = self.ports.tokens.digest(token);
        self.ports
            .users
            .consume_email_token(&digest, purpose, now)
            .await
    }

    /// Mints a token for `purpose`, stores its digest and mails the link to `user`.
    async fn mail_token(
        &self,
        user: &User,
        purpose: EmailPurpose,
    ) -> Result<(), SendVerificationError> {
        let now = self.ports.clock.now();
        let (ttl, route) = match purpose {
            EmailPurpose::VerifyEmail => (VERIFICATION_TTL, "verify-email"),
            EmailPurpose::ResetPassword => (RESET_TTL, "reset-password"),
        };
        let minted = self.ports.tokens.mint_secret();
        self.ports
            .users
            .store_email_token(&minted.digest, user.id, purpose, now, now + ttl)
            .await?;
        let link = format!(
            "{}/{route}?token={}",
            self.config.public_url.trim_end_matches('/'),
            minted.secret
        );
        let message = account_message(user, purpose, &link);
        self.ports.mailer.send(&message).await.map_err(|e| match e {
            MailError::RecipientRefused(to) => SendVerificationError::Undeliverable(to),
            MailError::Unavailable(cause) => {
                SendVerificationError::Unexpected(anyhow::Error::new(Unavailable::because(
                    "the mail server cannot take the message",
                    MAIL_RETRY_AFTER,
                    cause,
                )))
            }
        })
    }
}

/// The email for `purpose`, in Spanish, with `link`.
fn account_message(user: &User, purpose: EmailPurpose, link: &str) -> MailMessage {
    let name = user.first_name.as_str();
    let (subject, text) = match purpose {
        EmailPurpose::VerifyEmail => (
            "Verifica tu correo en ANB Showcase",
            format!(
                "Hola, {name}:\n\nGracias por registrarte en ANB Showcase. Para verificar tu \
                 correo y poder votar, abre este enlace (vale 24 horas):\n\n{link}\n\nSi no \
                 creaste esta cuenta, ignora este mensaje.\n"
            ),
        ),
        EmailPurpose::ResetPassword => (
            "Restablece tu contraseña de ANB Showcase",
            format!(
                "Hola, {name}:\n\nRecibimos una solicitud para restablecer tu contraseña. Para \
                 elegir una nueva, abre este enlace (vale 1 hora y funciona una sola vez):\n\n\
                 {link}\n\nAl cambiarla se cerrarán todas tus sesiones. Si no lo pediste, \
                 ignora este mensaje: tu contraseña no cambia.\n"
            ),
        ),
    };
    MailMessage::new(user.email.clone(), subject, text)
}
