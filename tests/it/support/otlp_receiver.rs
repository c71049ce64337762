//! A tiny OpenTelemetry collector of the test's own: OTLP over HTTP (protobuf bodies POSTed to
//! `/v1/traces`, what `ANB_OTLP_ENDPOINT` sends) on 127.0.0.1, keeping every span it receives.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use prost::Message as _;

/// One span as received, with the ids as lowercase hex (`""`: no parent).
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    /// The span's name (a tracing span's name: `request`, `job`, `handle_job`, …).
    pub name: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, or empty for a root span.
    pub parent_span_id: String,
    /// The span's string attributes (a tracing span's fields).
    pub attributes: HashMap<String, String>,
    /// The resource's string attributes (`service.name`, `service.instance.id`, `anb.role`).
    pub resource: HashMap<String, String>,
}

/// The running receiver; stops when dropped.
pub struct OtlpReceiver {
    endpoint: String,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    task: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the OTLP receiver");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let spans = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let spans = spans.clone();
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let spans = spans.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            receive(request, spans.clone())
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        });
        Self {
            endpoint,
            spans,
            task,
        }
    }

    /// The base URL to give `ANB_OTLP_ENDPOINT` (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap().clone()
    }

    /// Waits (up to `limit`) until the spans received satisfy `found`, and returns what it
    /// returned; panics naming `what` and listing the spans otherwise.
    pub async fn wait_for<T>(
        &self,
        limit: Duration,
        what: &str,
        mut found: impl FnMut(&[ReceivedSpan]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            let spans = self.spans();
            if let Some(result) = found(&spans) {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "the OTLP receiver got no {what} within {limit:?}; it got:\n{}",
                spans
                    .iter()
                    .map(|s| format!(
                        "  {} trace={} span={} parent={} {:?}",
                        s.name, s.trace_id, s.span_id, s.parent_span_id, s.attributes
                    ))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one request: an export of spans on `POST /v1/traces`, 404 for anything else.
async fn receive(
    request: Request<hyper::body::Incoming>,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, body: Vec<u8>| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert("content-type", "application/x-protobuf".parse().unwrap());
        Ok(response)
    };
    if request.method() == hyper::Method::POST && request.uri().path() == "/hook" {
        // A webhook receiver beside the collector: every message taken.
        return reply(StatusCode::NO_CONTENT, Vec::new());
    }
    if request.method() != hyper::Method::POST || request.uri().path() != "/v1/traces" {
        return reply(StatusCode::NOT_FOUND, Vec::new());
    }
    let Ok(body) = request.into_body().collect().await else {
        return reply(StatusCode::BAD_REQUEST, Vec::new());
    };
    let Ok(export) = ExportTraceServiceRequest::decode(body.to_bytes()) else {
        return reply(StatusCode::BAD_REQUEST, Vec::new());
    };
    let mut received = Vec::new();
    for resource_spans in export.resource_spans {
        let resource = strings(
            &resource_spans
                .resource
                .map(|r| r.attributes)
                .unwrap_or_default(),
        );
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                received.push(ReceivedSpan {
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: strings(&span.attributes),
                    resource: resource.clone(),
                });
            }
        }
    }
    spans.lock().unwrap().extend(received);
    reply(
        StatusCode::OK,
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

/// The string-valued attributes (others as their debug text).
fn strings(attributes: &[KeyValue]) -> HashMap<String, String> {
    attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
