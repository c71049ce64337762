//! The contract's error body, `{"detail", "code"}`, for every error the service returns.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::Object;

/// Every error body: a human-readable `detail` (FastAPI-compatible) and a stable `code`.
#[derive(Clone, Debug, PartialEq, Eq, Object)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub detail: String,
    /// What went wrong, for programs (`snake_case`, stable).
    pub code: String,
}

/// An error body as a JSON payload.
pub type ErrorJson = Json<ErrorBody>;

/// Builds the JSON error payload.
pub fn body(code: &str, detail: impl Into<String>) -> ErrorJson {
    Json(ErrorBody {
        detail: detail.into(),
        code: code.to_owned(),
    })
}

/// An error raised outside the per-operation response enums: unauthorized requests, faults.
/// It renders as the contract's JSON body.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl ApiError {
    /// An error with this status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
        }
    }

    /// A fault on our side: logged in full, reported to the client without internals.
    pub fn internal(error: impl std::fmt::Display) -> poem::Error {
        tracing::error!(error = %error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
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
        body(self.code, self.detail.clone())
            .with_status(self.status)
            .into_response()
    }
}

/// Turns any error that reached the edge (poem's and poem-openapi's own: unparsable bodies,
/// bad parameters, missing tokens, unknown routes) into the contract's body and status.
/// Validation problems are 400 (never 422); a malformed id in a path is 404.
pub async fn render(error: poem::Error) -> Response {
    if error.is::<ApiError>() {
        return error.into_response();
    }
    if let Some(param) = error.downcast_ref::<poem_openapi::error::ParseParamError>() {
        if param.name.ends_with("_id") {
            return body("not_found", "Not found.")
                .with_status(StatusCode::NOT_FOUND)
                .into_response();
        }
    }
    let status = error.status();
    let (status, code, detail) = match status {
        StatusCode::UNAUTHORIZED => (status, "unauthorized", "Not authenticated.".to_owned()),
        StatusCode::NOT_FOUND => (status, "not_found", "Not found.".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            status,
            "method_not_allowed",
            "Method not allowed.".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            status,
            "payload_too_large",
            "The request body is too large.".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("Unsupported content type: {error}"),
        ),
        s if s.is_client_error() => (
            StatusCode::BAD_REQUEST,
            "validation_error",
            error.to_string(),
        ),
        _ => {
            tracing::error!(error = %error, "request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error.".to_owned(),
            )
        }
    };
    body(code, detail).with_status(status).into_response()
}
