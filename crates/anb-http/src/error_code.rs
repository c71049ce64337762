//! Every `code` the API answers with, as one type: handlers cannot misspell one, and the
//! OpenAPI document lists them all (`ErrorCode`, the `code` of every error body).

use poem_openapi::Enum;

/// What went wrong, for programs: the stable `code` of every error body (`API.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a field, parameter or body is missing or malformed; the detail names it.
    ValidationError,
    /// 400: sign-up with an email that already has an account.
    EmailTaken,
    /// 400: sign-up whose two passwords differ.
    PasswordMismatch,
    /// 400: sign-up with a password too short, too long or too common.
    WeakPassword,
    /// 401: login with a wrong email or password.
    InvalidCredentials,
    /// 401: no bearer token, or a malformed, tampered or expired one.
    Unauthorized,
    /// 403: the video belongs to another player.
    Forbidden,
    /// 403: a playback link past its expiry; ask `GET /api/videos/{video_id}/playback` again.
    SignatureExpired,
    /// 403: a playback link that was altered or is not a playback link.
    SignatureInvalid,
    /// 403: a share or a share link that its owner has revoked since the link was made.
    AccessRevoked,
    /// 404: no such resource (a malformed id included).
    NotFound,
    /// 405: the path does not serve this method (`Allow` names those it does).
    MethodNotAllowed,
    /// 408: the request body arrived too slowly.
    RequestTimeout,
    /// 413: a body over the body limit.
    PayloadTooLarge,
    /// 416: a `Range` outside the file.
    RangeNotSatisfiable,
    /// 429: an abuse limit (sign-ups, votes, uploads); `Retry-After` says when to try again.
    TooManyRequests,
    /// 429: too many logins from one address, or for one account from one address.
    TooManyAttempts,
    /// 429: the player already has the most conversions waiting or being made; ask again
    /// once one is done.
    TooManyConversions,
    /// 400: an upload larger than the upload limit.
    FileTooLarge,
    /// 400: an upload that is not an MP4/MOV video within the media limits.
    InvalidFile,
    /// 400: an upload whose body broke off before its end.
    UploadInterrupted,
    /// 400: a second vote by the same player for the same video.
    AlreadyVoted,
    /// 400: a vote for one's own video.
    SelfVote,
    /// 400: sharing a video with its own owner.
    SelfShare,
    /// 409: the video already has the most shares (200) or live share links (20) it may
    /// have; unshare or revoke one first.
    TooManyShares,
    /// 400: a webhook URL that leads to a loopback, private or internal address (unless the
    /// deployment allows them), or whose host does not resolve.
    WebhookUrlRefused,
    /// 409: the player already has the most webhooks allowed (10); delete one first.
    TooManyWebhooks,
    /// 400: a vote for a video that is not published.
    NotVotable,
    /// 400: publishing or unpublishing a video that is not processed.
    NotProcessed,
    /// 400: deleting a video that has votes.
    VideoHasVotes,
    /// 400: deleting a video that is published; unpublish it first.
    VideoPublished,
    /// 403: a vote by a player who has not verified their email, where the showcase requires
    /// it (`ANB_VOTE_REQUIRES_VERIFIED_EMAIL`); verify it with the emailed link first.
    EmailNotVerified,
    /// 400: an email link's token (verification, password reset) that is unknown, already
    /// used or expired; ask for a new email.
    InvalidToken,
    /// 400: the mail server refused the account's email address for good: no verification
    /// email can reach it.
    EmailUndeliverable,
    /// 503: a backend is down or the server is saturated; `Retry-After` says when to try again.
    ServiceUnavailable,
    /// 500: a fault on the server's side (details only in its logs).
    InternalError,
}
