//! The contract's error body, `{"detail", "code"}`, for every error the service returns.

use std::marker::PhantomData;

use anb_domain::ports::Unavailable;

pub use crate::error_code::ErrorCode;
use poem::http::{header, HeaderValue, StatusCode};
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaHeader, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type as _;
use poem_openapi::{ApiResponse, Object, ResponseContent};

/// Every error body: a human-readable `detail` (FastAPI-compatible) and a stable `code`.
#[derive(Clone, Debug, PartialEq, Eq, Object)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub detail: String,
    /// What went wrong, for programs (`snake_case`, stable).
    pub code: ErrorCode,
}

/// An error body as a JSON payload.
pub type ErrorJson = Json<ErrorBody>;

/// Builds the JSON error payload.
pub fn body(code: ErrorCode, detail: impl Into<String>) -> ErrorJson {
    Json(ErrorBody {
        detail: detail.into(),
        code,
    })
}

/// An error raised outside the per-operation response enums: unauthorized requests, faults.
/// It renders as the contract's JSON body.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    retry_after: Option<std::time::Duration>,
    closing: bool,
}

impl ApiError {
    /// An error with this status, code and detail.
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            closing: false,
        }
    }

    /// The same error telling the client when to try again (`Retry-After`, in whole seconds,
    /// at least 1).
    pub fn retry_after(self, wait: std::time::Duration) -> Self {
        Self {
            retry_after: Some(wait),
            ..self
        }
    }

    /// The same error closing the connection after it (`Connection: close`): for a request
    /// whose body was not read to its end.
    pub fn closing(self) -> Self {
        Self {
            closing: true,
            ..self
        }
    }

    /// 503 `service_unavailable` when `error` carries [`Unavailable`] (a saturated resource or
    /// a backend that is down), with its `Retry-After`; otherwise a fault
    /// ([`ApiError::internal`]).
    pub fn unexpected(error: &anyhow::Error) -> poem::Error {
        match Unavailable::find_in(error) {
            Some(unavailable) => {
                tracing::warn!(error = format!("{error:#}"), "refused: unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ServiceUnavailable,
                    "The service is busy or a backend is unavailable. Try again shortly.",
                )
                .retry_after(unavailable.retry_after())
                .into()
            }
            None => Self::internal(format!("{error:#}")),
        }
    }

    /// A fault on our side: logged in full, reported to the client without internals.
    pub fn internal(error: impl std::fmt::Display) -> poem::Error {
        tracing::error!(error = %error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "Internal server error.",
        )
        .into()
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        let mut response = body(self.code, self.detail.clone())
            .with_status(self.status)
            .into_response();
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if self.closing {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A refusal that reaches many operations from outside their own handlers (the edge's
/// middleware, the security scheme, a backend that is down). Each operation documents the ones
/// it can meet through [`Refused`], so the document lists every status it can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    /// 401 `unauthorized`: a bearer operation without a valid token.
    Unauthorized,
    /// 408 `request_timeout`: a request body that did not arrive in time.
    RequestTimeout,
    /// 413 `payload_too_large`: a request body over the limit.
    PayloadTooLarge,
    /// 429 `too_many_requests`, with `Retry-After`: an abuse limit.
    TooManyRequests,
    /// 503 `service_unavailable`, with `Retry-After`: a backend is down or saturated.
    ServiceUnavailable,
}

impl Shared {
    /// The documented response.
    fn response(self) -> MetaResponse {
        let (status, description, retry_after) = match self {
            Self::Unauthorized => (
                401,
                "`unauthorized`: no bearer token, or a malformed, tampered or expired one.",
                false,
            ),
            Self::RequestTimeout => (
                408,
                "`request_timeout`: the request body arrived too slowly (the connection is \
                 closed).",
                false,
            ),
            Self::PayloadTooLarge => (
                413,
                "`payload_too_large`: a request body (other than an upload's multipart form) \
                 over the body limit, 64 KiB by default, whatever its media type.",
                false,
            ),
            Self::TooManyRequests => (
                429,
                "`too_many_requests`: an abuse limit, per client address or per account; try \
                 again after `Retry-After` seconds.",
                true,
            ),
            Self::ServiceUnavailable => (
                503,
                "`service_unavailable`: a backend (database, job queue, blob store) is down, \
                 or the server is saturated; try again after `Retry-After` seconds.",
                true,
            ),
        };
        let headers = if retry_after {
            vec![MetaHeader {
                name: "Retry-After".to_owned(),
                description: Some("Seconds to wait before trying again.".to_owned()),
                required: true,
                deprecated: false,
                schema: u64::schema_ref(),
            }]
        } else {
            Vec::new()
        };
        MetaResponse {
            description,
            status: Some(status),
            status_range: None,
            content: <ErrorJson as ResponseContent>::media_types(),
            headers,
        }
    }
}

/// Which [`Shared`] refusals an operation can meet.
pub trait EdgeStatuses: Send + Sync + 'static {
    /// Those refusals, by status.
    const STATUSES: &'static [Shared];
}

/// A public operation that reads the database or the blob store: 503.
pub struct NeedsBackend;

impl EdgeStatuses for NeedsBackend {
    const STATUSES: &'static [Shared] = &[Shared::ServiceUnavailable];
}

/// A bearer operation: 401, 503.
pub struct Protected;

impl EdgeStatuses for Protected {
    const STATUSES: &'static [Shared] = &[Shared::Unauthorized, Shared::ServiceUnavailable];
}

/// A public operation under an abuse limit, without a bearer token (the session refresh):
/// 429, 503.
pub struct Limited;

impl EdgeStatuses for Limited {
    const STATUSES: &'static [Shared] = &[Shared::TooManyRequests, Shared::ServiceUnavailable];
}

/// A bearer operation under an abuse limit, without a body (the vote): 401, 429, 503.
pub struct ProtectedLimited;

impl EdgeStatuses for ProtectedLimited {
    const STATUSES: &'static [Shared] = &[
        Shared::Unauthorized,
        Shared::TooManyRequests,
        Shared::ServiceUnavailable,
    ];
}

/// The upload: 401, 408, 413 (a body that is not multipart), 429, 503.
pub struct UploadLimits;

impl EdgeStatuses for UploadLimits {
    const STATUSES: &'static [Shared] = &[
        Shared::Unauthorized,
        Shared::RequestTimeout,
        Shared::PayloadTooLarge,
        Shared::TooManyRequests,
        Shared::ServiceUnavailable,
    ];
}

/// An operation with a JSON body (login, whose 429 is its own `too_many_attempts`): 408, 413,
/// 503.
pub struct JsonBody;

impl EdgeStatuses for JsonBody {
    const STATUSES: &'static [Shared] = &[
        Shared::RequestTimeout,
        Shared::PayloadTooLarge,
        Shared::ServiceUnavailable,
    ];
}

/// An operation with a JSON body under an abuse limit (sign-up): 408, 413, 429, 503.
pub struct LimitedJsonBody;

impl EdgeStatuses for LimitedJsonBody {
    const STATUSES: &'static [Shared] = &[
        Shared::RequestTimeout,
        Shared::PayloadTooLarge,
        Shared::TooManyRequests,
        Shared::ServiceUnavailable,
    ];
}

/// The error side of an operation: any `poem::Error` (an [`ApiError`] from the handler, a
/// refusal of the edge), rendered as usual. Its `ApiResponse` adds `M`'s [`Shared`] statuses
/// to the operation's documented responses: handlers return
/// `Result<TheirResponse, Refused<M>>`.
pub struct Refused<M>(poem::Error, PhantomData<fn() -> M>);

impl<M> From<poem::Error> for Refused<M> {
    fn from(error: poem::Error) -> Self {
        Self(error, PhantomData)
    }
}

impl<M> From<ApiError> for Refused<M> {
    fn from(error: ApiError) -> Self {
        Self(error.into(), PhantomData)
    }
}

/// A read that failed: a fault ([`ApiError::unexpected`]: 503 when a backend cannot serve).
impl<M> From<anb_domain::QueryError> for Refused<M> {
    fn from(error: anb_domain::QueryError) -> Self {
        ApiError::unexpected(&error.0).into()
    }
}

/// A cached page whose load failed (shared by the requests that waited for it): as
/// [`ApiError::unexpected`].
impl<M> From<std::sync::Arc<anyhow::Error>> for Refused<M> {
    fn from(error: std::sync::Arc<anyhow::Error>) -> Self {
        ApiError::unexpected(&error).into()
    }
}

impl<M> From<Refused<M>> for poem::Error {
    fn from(refused: Refused<M>) -> Self {
        refused.0
    }
}

impl<M> std::fmt::Debug for Refused<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Refused").field(&self.0).finish()
    }
}

impl<M: EdgeStatuses> ApiResponse for Refused<M> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: M::STATUSES.iter().map(|s| s.response()).collect(),
        }
    }

    fn register(registry: &mut Registry) {
        <ErrorJson as ResponseContent>::register(registry);
    }
}

/// 405 `method_not_allowed` with `Allow` naming the methods the path serves.
pub fn method_not_allowed(allow: &str) -> Response {
    let mut response = body(ErrorCode::MethodNotAllowed, "Method not allowed.")
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
        .into_response();
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// A parse or validation failure of poem-openapi, in the contract's words: the prefix naming
/// the Rust type dropped, validator names turned into sentences.
fn plain_reason(reason: &str) -> String {
    let reason = reason.trim();
    let reason = match reason.rsplit_once(" (occurred while parsing ") {
        Some((reason, _)) => reason,
        None => reason,
    };
    let reason = match reason.strip_prefix("failed to parse \"") {
        Some(rest) => match rest.split_once("\": ") {
            Some((ty, _)) if ty.starts_with("integer") => return "must be an integer".to_owned(),
            Some((_, rest)) => rest,
            None => reason,
        },
        None => reason,
    };
    let reason = reason
        .strip_prefix("verification failed. ")
        .unwrap_or(reason);
    let bound = |name: &str| {
        reason
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('('))
            .and_then(|rest| rest.split([',', ')']).next())
            .map(str::to_owned)
    };
    if let Some(n) = bound("minimum") {
        format!("must be at least {n}")
    } else if let Some(n) = bound("maximum") {
        format!("must be at most {n}")
    } else if let Some(n) = bound("minLength") {
        format!("must be at least {n} characters")
    } else if let Some(n) = bound("maxLength") {
        format!("must be at most {n} characters")
    } else {
        reason.to_owned()
    }
}

/// Turns any error that reached the edge (poem's and poem-openapi's own: unparsable bodies,
/// bad parameters, missing tokens, unknown routes) into the contract's body and status.
/// Validation problems are 400 (never 422); a malformed id in a path is 404.
pub async fn render(error: poem::Error) -> Response {
    if error.is::<ApiError>() {
        return error.into_response();
    }
    // Every path parameter is an id (`format: uuid`): anything else in its place is not found.
    if error.is::<poem_openapi::error::ParsePathError>() {
        return body(ErrorCode::NotFound, "Not found.")
            .with_status(StatusCode::NOT_FOUND)
            .into_response();
    }
    if let Some(param) = error.downcast_ref::<poem_openapi::error::ParseParamError>() {
        let detail = format!("{}: {}", param.name, plain_reason(&param.reason));
        return body(ErrorCode::ValidationError, detail)
            .with_status(StatusCode::BAD_REQUEST)
            .into_response();
    }
    let status = error.status();
    let (status, code, detail) = match status {
        StatusCode::UNAUTHORIZED => (
            status,
            ErrorCode::Unauthorized,
            "Not authenticated.".to_owned(),
        ),
        StatusCode::NOT_FOUND => (status, ErrorCode::NotFound, "Not found.".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            status,
            ErrorCode::MethodNotAllowed,
            "Method not allowed.".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            status,
            ErrorCode::PayloadTooLarge,
            "The request body is too large.".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationError,
            format!("Unsupported content type: {error}"),
        ),
        s if s.is_client_error() => (
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationError,
            error.to_string(),
        ),
        _ => {
            tracing::error!(error = %error, "request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "Internal server error.".to_owned(),
            )
        }
    };
    body(code, detail).with_status(status).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poem_openapi_reasons_read_as_the_contracts_sentences() {
        for (reason, plain) in [
            (
                "verification failed. minimum(1, exclusive: false)",
                "must be at least 1",
            ),
            (
                "verification failed. maximum(100, exclusive: false)",
                "must be at most 100",
            ),
            (
                "failed to parse \"integer_int64\": invalid digit found in string",
                "must be an integer",
            ),
            (
                "failed to parse \"string\": must be at most 100 characters (occurred while \
                 parsing \"optional_string\")",
                "must be at most 100 characters",
            ),
            (
                "Expect a valid enumeration value.",
                "Expect a valid enumeration value.",
            ),
        ] {
            assert_eq!(plain_reason(reason), plain, "{reason}");
        }
    }

    #[test]
    fn a_refusal_documents_its_statuses_with_retry_after_where_it_is_sent() {
        let responses = <Refused<UploadLimits> as ApiResponse>::meta().responses;
        let statuses: Vec<_> = responses.iter().filter_map(|r| r.status).collect();
        assert_eq!(statuses, [401, 408, 413, 429, 503]);
        for response in responses {
            let retry_after = response.headers.iter().any(|h| h.name == "Retry-After");
            assert_eq!(
                retry_after,
                matches!(response.status, Some(429 | 503)),
                "{:?}",
                response.status
            );
        }
    }
}
