//! Every request body bounded in bytes and in time, whatever its media type.
//!
//! - A multipart body (an upload) streams through to its handler, cut off past the upload
//!   limit plus [`MULTIPART_OVERHEAD`]; its framing is followed on the way so the preamble, a
//!   part's headers and the epilogue stay small ([`framing`]).
//! - Any other body is read here, before routing, up to [`EdgeLimits::body_limit_bytes`]
//!   (413 past it; a declared `Content-Length` over it is refused before reading).
//! - Time: a body's deadline starts at [`EdgeLimits::body_timeout`] and each byte received
//!   moves it on by what that byte earns at [`EdgeLimits::min_body_bytes_per_second`]; a
//!   client still owing bytes at the deadline is answered 408. Only time spent waiting on the
//!   client counts.
//!
//! A refusal found while a handler streams the body (an upload) replaces the handler's answer,
//! so the client is told the real reason whatever layer noticed the broken stream.

pub mod framing;

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::limits::EdgeLimits;
use bytes::Bytes;
use futures::Stream;
use poem::http::{header, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use tokio::time::{Instant, Sleep};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use framing::Framing;

/// What a multipart body may carry besides its file: the other fields, part headers, framing.
pub const MULTIPART_OVERHEAD: u64 = 1024 * 1024;

/// Why a body was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyRefusal {
    /// A non-multipart body over the limit (413 `payload_too_large`).
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A multipart body over the upload limit (400 `file_too_large`, the contract's code).
    UploadTooLarge {
        /// The upload limit in bytes.
        limit: u64,
    },
    /// The body arrived slower than the minimum rate (408 `request_timeout`).
    TooSlow,
    /// The body is not what its media type says (400 `validation_error`).
    Malformed(String),
}

impl BodyRefusal {
    fn into_error(self) -> poem::Error {
        let (status, code, detail) = match self {
            Self::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("Request bodies are limited to {limit} bytes."),
            ),
            Self::UploadTooLarge { limit } => (
                StatusCode::BAD_REQUEST,
                ErrorCode::FileTooLarge,
                format!(
                    "The file is larger than the limit of {} MB.",
                    limit / (1024 * 1024)
                ),
            ),
            Self::TooSlow => (
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                "The request body did not arrive in time.".to_owned(),
            ),
            Self::Malformed(detail) => {
                (StatusCode::BAD_REQUEST, ErrorCode::ValidationError, detail)
            }
        };
        ApiError::new(status, code, detail).closing().into()
    }
}

/// How long a body may take: a grace period plus its bytes at the minimum rate.
#[derive(Clone, Copy, Debug)]
struct Pace {
    grace: Duration,
    min_bytes_per_second: u64,
}

impl Pace {
    fn of(limits: &EdgeLimits) -> Self {
        Self {
            grace: limits.body_timeout,
            min_bytes_per_second: limits.min_body_bytes_per_second.max(1),
        }
    }

    /// How long `bytes` may take to arrive.
    fn allowance(&self, bytes: u64) -> Duration {
        self.grace + Duration::from_secs_f64(bytes as f64 / self.min_bytes_per_second as f64)
    }
}

/// The middleware: bounds the body of every request (see the module's documentation).
pub async fn bound_bodies<E: Endpoint>(next: E, mut request: Request) -> poem::Result<Response> {
    let (limits, upload_limit) = {
        let state = request
            .data::<AppState>()
            .expect("bound_bodies runs inside the application's state");
        (
            state.config.edge.clone(),
            state.showcase.config().max_upload_bytes,
        )
    };
    let pace = Pace::of(&limits);
    let (cap, over_cap, framing) = match multipart_boundary(&request) {
        Err(detail) => return Err(BodyRefusal::Malformed(detail).into_error()),
        Ok(Some(boundary)) => (
            upload_limit.saturating_add(MULTIPART_OVERHEAD),
            BodyRefusal::UploadTooLarge {
                limit: upload_limit,
            },
            Some(Framing::new(&boundary)),
        ),
        Ok(None) => {
            let limit = limits.body_limit_bytes;
            let declared = request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if declared.is_some_and(|length| length > limit) {
                return Err(BodyRefusal::TooLarge { limit }.into_error());
            }
            (limit, BodyRefusal::TooLarge { limit }, None)
        }
    };
    let body = request.take_body();
    if body.is_empty() {
        request.set_body(body);
        return next.call(request).await.map(IntoResponse::into_response);
    }
    let verdict = Arc::new(OnceLock::new());
    let streaming = framing.is_some();
    let guarded = Body::from_bytes_stream(Guarded {
        inner: Box::pin(body.into_bytes_stream()),
        received: 0,
        cap,
        over_cap,
        pace,
        started: Instant::now(),
        deadline: Box::pin(tokio::time::sleep(pace.allowance(0))),
        framing,
        verdict: verdict.clone(),
        done: false,
    });
    let refused =
        |verdict: &OnceLock<BodyRefusal>| verdict.get().cloned().map(BodyRefusal::into_error);
    if streaming {
        // The handler streams it (an upload); a refusal replaces whatever it answered.
        request.set_body(guarded);
        let answer = next.call(request).await;
        return match refused(&verdict) {
            Some(error) => Err(error),
            None => answer.map(IntoResponse::into_response),
        };
    }
    // Read whole here, so nothing past routing ever holds more than the limit.
    match guarded.into_bytes().await {
        Ok(bytes) => request.set_body(Body::from_bytes(bytes)),
        Err(error) => {
            return Err(refused(&verdict).unwrap_or_else(|| {
                BodyRefusal::Malformed(format!("the request body could not be read ({error})"))
                    .into_error()
            }))
        }
    }
    next.call(request).await.map(IntoResponse::into_response)
}

/// The boundary of a `multipart/*` body (`None` for other media types).
///
/// # Errors
/// A multipart media type without a boundary, or one longer than RFC 2046's 70 characters.
fn multipart_boundary(request: &Request) -> Result<Option<String>, String> {
    let Some(raw) = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Ok(media_type) = raw.parse::<mime::Mime>() else {
        return Ok(None);
    };
    if media_type.type_() != mime::MULTIPART {
        return Ok(None);
    }
    match media_type.get_param(mime::BOUNDARY) {
        Some(boundary) if (1..=70).contains(&boundary.as_str().len()) => {
            Ok(Some(boundary.as_str().to_owned()))
        }
        _ => Err("the multipart body has no valid boundary (1 to 70 characters)".to_owned()),
    }
}

/// A body under its byte cap, its pace and (multipart) its framing limits; the first refusal is
/// kept in `verdict` and ends the stream with an error.
struct Guarded {
    inner: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    received: u64,
    cap: u64,
    /// The refusal past `cap`.
    over_cap: BodyRefusal,
    pace: Pace,
    started: Instant,
    deadline: Pin<Box<Sleep>>,
    framing: Option<Framing>,
    verdict: Arc<OnceLock<BodyRefusal>>,
    done: bool,
}

impl Guarded {
    fn refuse(&mut self, refusal: BodyRefusal) -> Poll<Option<std::io::Result<Bytes>>> {
        let message = format!("{refusal:?}");
        let _ = self.verdict.set(refusal);
        self.done = true;
        Poll::Ready(Some(Err(std::io::Error::other(message))))
    }
}

impl Stream for Guarded {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                if self.received > self.cap {
                    let refusal = self.over_cap.clone();
                    return self.refuse(refusal);
                }
                if let Some(Err(detail)) = self.framing.as_mut().map(|f| f.scan(&chunk)) {
                    return self.refuse(BodyRefusal::Malformed(detail));
                }
                let deadline = self.started + self.pace.allowance(self.received);
                self.deadline.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            // Only time spent waiting on the client counts against it.
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => self.refuse(BodyRefusal::TooSlow),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }
}
