//! Cross-cutting middleware: CORS, security headers, text compression.

use poem::http::{header, HeaderValue, Method};
use poem::middleware::Cors;
use poem::web::{Compress, CompressionAlgo};
use poem::{Endpoint, IntoResponse, Request, Response};

/// CORS for the configured origins. Only installed when some are configured: poem's `Cors`
/// with an empty list allows every origin, and an unlisted origin must never be granted.
pub fn cors(origins: &[String]) -> Cors {
    let cors = Cors::new()
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::RANGE])
        .expose_headers([
            header::HeaderName::from_static("x-total-count"),
            header::LINK,
            header::CONTENT_RANGE,
            header::HeaderName::from_static("x-request-id"),
        ]);
    cors.allow_origins(origins.iter().cloned())
}

/// `nosniff`, no framing, no referrer to other sites.
pub async fn security_headers<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let mut response = next.call(request).await?.into_response();
    let headers = response.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "referrer-policy",
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    Ok(response)
}

/// Compresses text responses (JSON, the web app's HTML, CSS, JavaScript and SVG) with brotli,
/// else gzip, when the client accepts it. Media is never compressed (it is compressed already,
/// and ranges address its bytes): nor is any file served by range (`Accept-Ranges`: HLS
/// playlists, storyboard cues), whose `Content-Length` and ranges are the file's.
pub async fn compress_text<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let accepts = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let algo = if accepts.split(',').any(|c| c.trim().starts_with("br")) {
        Some(CompressionAlgo::BR)
    } else if accepts.split(',').any(|c| c.trim().starts_with("gzip")) {
        Some(CompressionAlgo::GZIP)
    } else {
        None
    };
    let response = next.call(request).await?.into_response();
    let is_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            [
                "application/json",
                "text/",
                "application/javascript",
                "image/svg+xml",
            ]
            .iter()
            .any(|kind| ct.starts_with(kind))
        });
    let ranged = response.headers().contains_key(header::ACCEPT_RANGES);
    match algo {
        Some(algo) if is_text && !ranged => Ok(Compress::new(response, algo).into_response()),
        _ => Ok(response),
    }
}
