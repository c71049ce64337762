//! Every domain error as the contract answers it, converted once: a refusal (its status, its
//! `code`, its detail) or a fault ([`ApiError::unexpected`]: 503 when a backend cannot serve,
//! 500 otherwise). Handlers turn a refusal into their operation's response with
//! [`refusals!`](crate::refusals), which names the variant for each status the operation
//! documents.

use anb_domain::{
    CastVoteError, ConversionError, DeleteVideoError, LoginError, MediaError, ProfileError,
    PublishError, SharingError, SignupError, UploadVideoError, VideoAccessError, WebhookError,
};

use crate::error::{body, ApiError, ErrorCode, ErrorJson};

/// The statuses a refusal may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 400.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409.
    Conflict,
    /// 429.
    TooManyRequests,
}

/// What a domain error becomes.
pub enum Answer {
    /// A refusal the contract names.
    Refuse(Status, ErrorJson),
    /// A fault (the error is already logged and rendered).
    Fault(poem::Error),
}

impl Answer {
    fn refuse(status: Status, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Refuse(status, body(code, detail))
    }

    fn fault(error: &anyhow::Error) -> Self {
        Self::Fault(ApiError::unexpected(error))
    }
}

/// The answer to "no such video" on every video operation.
fn video_not_found() -> Answer {
    Answer::refuse(Status::NotFound, ErrorCode::NotFound, "Video not found.")
}

/// The answer to "another player's video" on every owner operation.
fn not_yours() -> Answer {
    Answer::refuse(
        Status::Forbidden,
        ErrorCode::Forbidden,
        "This video belongs to another player.",
    )
}

impl From<VideoAccessError> for Answer {
    fn from(e: VideoAccessError) -> Self {
        match e {
            VideoAccessError::NotFound => video_not_found(),
            VideoAccessError::Forbidden => not_yours(),
            VideoAccessError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<DeleteVideoError> for Answer {
    fn from(e: DeleteVideoError) -> Self {
        match e {
            DeleteVideoError::HasVotes => Self::refuse(
                Status::BadRequest,
                ErrorCode::VideoHasVotes,
                "The video has votes and cannot be deleted.",
            ),
            DeleteVideoError::Published => Self::refuse(
                Status::BadRequest,
                ErrorCode::VideoPublished,
                "The video is published for voting; unpublish it first.",
            ),
            DeleteVideoError::NotFound => video_not_found(),
            DeleteVideoError::Forbidden => not_yours(),
            DeleteVideoError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<PublishError> for Answer {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::NotProcessed => Self::refuse(
                Status::BadRequest,
                ErrorCode::NotProcessed,
                "El video aún no ha sido procesado.",
            ),
            PublishError::NotFound => video_not_found(),
            PublishError::Forbidden => not_yours(),
            PublishError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<MediaError> for Answer {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::NotProcessed => Self::refuse(
                Status::BadRequest,
                ErrorCode::NotProcessed,
                "El video aún no ha sido procesado.",
            ),
            MediaError::Forbidden => not_yours(),
            MediaError::SignatureExpired => Self::refuse(
                Status::Forbidden,
                ErrorCode::SignatureExpired,
                "The playback link has expired.",
            ),
            MediaError::SignatureInvalid => Self::refuse(
                Status::Forbidden,
                ErrorCode::SignatureInvalid,
                "The playback link is not valid.",
            ),
            MediaError::Revoked => Self::refuse(
                Status::Forbidden,
                ErrorCode::AccessRevoked,
                "The owner no longer shares this video through this link.",
            ),
            MediaError::NotFound | MediaError::InvalidRange { .. } => video_not_found(),
            MediaError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<ConversionError> for Answer {
    fn from(e: ConversionError) -> Self {
        match e {
            ConversionError::NotProcessed => Self::refuse(
                Status::BadRequest,
                ErrorCode::NotProcessed,
                "El video aún no ha sido procesado.",
            ),
            ConversionError::TooManyPending { limit } => Self::refuse(
                Status::TooManyRequests,
                ErrorCode::TooManyConversions,
                format!(
                    "You already have {limit} conversions waiting or in progress; ask again \
                     once one is done."
                ),
            ),
            ConversionError::NotFound => video_not_found(),
            ConversionError::Forbidden => not_yours(),
            ConversionError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<SharingError> for Answer {
    fn from(e: SharingError) -> Self {
        match e {
            SharingError::Invalid(e) => Self::refuse(
                Status::BadRequest,
                ErrorCode::ValidationError,
                e.to_string(),
            ),
            SharingError::NotProcessed => Self::refuse(
                Status::BadRequest,
                ErrorCode::NotProcessed,
                "El video aún no ha sido procesado.",
            ),
            SharingError::SelfShare => Self::refuse(
                Status::BadRequest,
                ErrorCode::SelfShare,
                "You cannot share a video with yourself.",
            ),
            SharingError::NoSuchPlayer => {
                Self::refuse(Status::NotFound, ErrorCode::NotFound, "No such player.")
            }
            SharingError::TooMany { what, limit } => Self::refuse(
                Status::Conflict,
                ErrorCode::TooManyShares,
                format!("A video can have at most {limit} {what}; remove one first."),
            ),
            SharingError::NotFound => {
                Self::refuse(Status::NotFound, ErrorCode::NotFound, "Not found.")
            }
            SharingError::Forbidden => not_yours(),
            SharingError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<WebhookError> for Answer {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Invalid(e) => Self::refuse(
                Status::BadRequest,
                ErrorCode::ValidationError,
                e.to_string(),
            ),
            WebhookError::TargetRefused(why) => Self::refuse(
                Status::BadRequest,
                ErrorCode::WebhookUrlRefused,
                format!("Webhooks cannot go to this URL: {why}."),
            ),
            WebhookError::TooMany => Self::refuse(
                Status::Conflict,
                ErrorCode::TooManyWebhooks,
                "A player can have at most 10 webhooks; delete one first.",
            ),
            WebhookError::NotFound => {
                Self::refuse(Status::NotFound, ErrorCode::NotFound, "Webhook not found.")
            }
            WebhookError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<CastVoteError> for Answer {
    fn from(e: CastVoteError) -> Self {
        let bad = |code, detail: &str| Self::refuse(Status::BadRequest, code, detail);
        match e {
            CastVoteError::AlreadyVoted => {
                bad(ErrorCode::AlreadyVoted, "Ya has votado por este video.")
            }
            CastVoteError::SelfVote => {
                bad(ErrorCode::SelfVote, "No puedes votar por tu propio video.")
            }
            CastVoteError::NotVotable => bad(
                ErrorCode::NotVotable,
                "Este video no está abierto a votación (no procesado o no público).",
            ),
            CastVoteError::NotFound => video_not_found(),
            CastVoteError::EmailNotVerified => Self::refuse(
                Status::Forbidden,
                ErrorCode::EmailNotVerified,
                "Verifica tu correo antes de votar.",
            ),
            CastVoteError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<SignupError> for Answer {
    fn from(e: SignupError) -> Self {
        let bad = |code, detail: String| Self::refuse(Status::BadRequest, code, detail);
        match e {
            SignupError::EmailTaken => bad(
                ErrorCode::EmailTaken,
                "A user with this email already exists.".into(),
            ),
            SignupError::PasswordMismatch => bad(
                ErrorCode::PasswordMismatch,
                "The passwords do not match.".into(),
            ),
            SignupError::WeakPassword(e) => bad(ErrorCode::WeakPassword, e.to_string()),
            SignupError::Invalid(e) => bad(ErrorCode::ValidationError, e.to_string()),
            SignupError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<LoginError> for Answer {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => Self::refuse(
                Status::Unauthorized,
                ErrorCode::InvalidCredentials,
                "Invalid email or password.",
            ),
            LoginError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<ProfileError> for Answer {
    fn from(e: ProfileError) -> Self {
        match e {
            // The token names a player who is gone: as if there were no token.
            ProfileError::NotFound => Self::Fault(
                ApiError::new(
                    poem::http::StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthorized,
                    "Not authenticated.",
                )
                .into(),
            ),
            ProfileError::Unexpected(e) => Self::fault(&e),
        }
    }
}

impl From<UploadVideoError> for Answer {
    fn from(e: UploadVideoError) -> Self {
        let bad = |code, detail: String| Self::refuse(Status::BadRequest, code, detail);
        match e {
            UploadVideoError::Invalid(e) => bad(ErrorCode::ValidationError, e.to_string()),
            UploadVideoError::FileTooLarge { limit_bytes } => bad(
                ErrorCode::FileTooLarge,
                format!(
                    "The file is larger than the limit of {} MB.",
                    limit_bytes / (1024 * 1024)
                ),
            ),
            UploadVideoError::InvalidFile(reason) => bad(
                ErrorCode::InvalidFile,
                format!("The file cannot be accepted: {reason}."),
            ),
            UploadVideoError::Interrupted(_) => bad(
                ErrorCode::UploadInterrupted,
                "The upload was interrupted before the file was complete.".into(),
            ),
            UploadVideoError::Unexpected(e) => Self::fault(&e),
        }
    }
}

/// Gives an operation's response enum `refused(error)`: the domain error's [`Answer`], as the
/// variant documented for its status (a status the operation does not document is a fault).
#[macro_export]
#[doc(hidden)]
macro_rules! refusals {
    ($response:ident { $($status:ident => $variant:ident),* $(,)? }) => {
        impl $response {
            /// `error` as this operation answers it.
            fn refused<M>(
                error: impl Into<$crate::api::refusals::Answer>,
            ) -> Result<Self, $crate::error::Refused<M>> {
                #[allow(unused_imports)]
                use $crate::api::refusals::{Answer, Status};
                match error.into() {
                    $(Answer::Refuse(Status::$status, body) => Ok(Self::$variant(body)),)*
                    Answer::Refuse(status, body) => Err($crate::error::ApiError::internal(
                        format!("a refusal with an undocumented status {status:?}: {}", body.0.detail),
                    )
                    .into()),
                    Answer::Fault(fault) => Err(fault.into()),
                }
            }
        }
    };
}
