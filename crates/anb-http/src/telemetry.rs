//! Request ids, spans (continuing the client's trace), HTTP metrics, and the process's
//! Prometheus recorder.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use poem::http::HeaderValue;
use poem::{Endpoint, EndpointExt as _, Request, Response};
use tracing::Instrument as _;

/// The process-wide Prometheus recorder (installed on first use).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                60.0,
            ])
            .expect("static buckets")
            .install_recorder()
            .unwrap_or_else(|_| {
                // Another recorder is installed (an embedding application's): render nothing of ours.
                PrometheusBuilder::new().build_recorder().handle()
            })
    })
}

/// Installs the recorder (call at start so early metrics are kept).
pub fn install_metrics() {
    let _ = handle();
}

/// The metrics in Prometheus' text format.
pub fn render_metrics() -> String {
    handle().render()
}

/// What a process without the API serves (`anb worker` with `ANB_WORKER_METRICS_ADDR`): its
/// metrics at `/metrics` (Prometheus' text format; installs the recorder) and `/health`.
pub fn metrics_endpoint() -> impl Endpoint {
    install_metrics();
    poem::Route::new()
        .at(
            "/metrics",
            poem::get(poem::endpoint::make_sync(|_| {
                Response::builder()
                    .content_type("text/plain; version=0.0.4")
                    .body(render_metrics())
            })),
        )
        .at(
            "/health",
            poem::get(poem::endpoint::make_sync(|_| {
                Response::builder()
                    .content_type("application/json")
                    .body(r#"{"status":"healthy"}"#)
            })),
        )
}

/// Wraps every request: an id (`X-Request-Id`, kept from the client when it sends a sane one),
/// a span with method, route and id (a child of the client's span when it sends a W3C
/// `traceparent`, when traces are exported), and the request count and latency by route and
/// status.
pub async fn observe<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = method_label(request.method());
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %loggable_path(&path),
        request_id = %id,
        client = tracing::field::Empty
    );
    continue_trace(&span, request.headers());
    let next = next.map_to_response();
    let started = Instant::now();
    async move {
        let result = next.call(request).await;
        let operation = match &result {
            Ok(response) => response.data::<poem_openapi::OperationId>().copied(),
            Err(error) => error.data::<poem_openapi::OperationId>().copied(),
        };
        let mut response = match result {
            Ok(response) => response,
            Err(error) => crate::error::render(error).await,
        };
        let route = operation.map_or_else(|| route_label(&path), |op| op.0.to_owned());
        let status = response.status().as_u16();
        let seconds = started.elapsed().as_secs_f64();
        metrics::counter!("anb_http_requests_total", "method" => method, "route" => route.clone(), "status" => status.to_string()).increment(1);
        metrics::histogram!("anb_http_request_duration_seconds", "method" => method, "route" => route).record(seconds);
        tracing::info!(status, elapsed_ms = (seconds * 1000.0) as u64, "request served");
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-request-id", value);
        }
        Ok(response)
    }
    .instrument(span)
    .await
}

/// Makes `span` a child of the span the client names in its `traceparent` header (W3C Trace
/// Context; a malformed one is ignored). Nothing happens unless spans are exported.
fn continue_trace(span: &tracing::Span, headers: &poem::http::HeaderMap) {
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&HeaderCarrier(headers));
    if parent.span().span_context().is_valid() {
        // An error only says spans are not exported (no OpenTelemetry layer).
        let _ = span.set_parent(parent);
    }
}

/// Request headers as OpenTelemetry reads a carrier.
struct HeaderCarrier<'a>(&'a poem::http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(poem::http::HeaderName::as_str).collect()
    }
}

/// The method as a metric label: the standard methods by name, anything else `OTHER` (the
/// method is the client's text: as a raw label, made-up methods would each add a series).
fn method_label(method: &poem::http::Method) -> &'static str {
    crate::api::STANDARD_METHODS
        .iter()
        .find(|known| *known == method)
        .map_or("OTHER", poem::http::Method::as_str)
}

/// Path prefixes whose next segment is a bearer credential (a playback token, a share link's
/// token): logs show `***` in its place.
const SECRET_SEGMENT_AFTER: &[&str] = &["/api/playback/", "/api/share-links/"];

/// `path` as logs show it: the credential a playback or share-link path carries replaced by
/// `***` (whoever reads the logs must not be able to watch through them).
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in SECRET_SEGMENT_AFTER {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}***{tail}").into();
        }
    }
    path.into()
}

/// A bounded label for paths outside the API (static files, unknown routes).
fn route_label(path: &str) -> String {
    match path {
        "/" | "/docs" | "/openapi.json" => path.to_owned(),
        p if p.starts_with("/docs") => "/docs".to_owned(),
        _ => "other".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn logs_never_show_the_token_of_a_playback_or_share_link_path() {
        assert_eq!(
            loggable_path("/api/playback/eyJhbGci.eyJzdWIi.c2ln/hls/0a1b/720p/seg_00001.m4s"),
            "/api/playback/***/hls/0a1b/720p/seg_00001.m4s"
        );
        assert_eq!(
            loggable_path("/api/share-links/eyJhbGci.eyJzdWIi.c2ln"),
            "/api/share-links/***"
        );
        assert_eq!(loggable_path("/api/videos/42"), "/api/videos/42");
    }
}
