//! Traces over OTLP (`ANB_OTLP_ENDPOINT`), and the W3C trace context jobs carry from the request
//! that enqueued them to the worker that runs them.

use std::collections::HashMap;

use anb_domain::ports::TraceContext;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// A tracer provider exporting spans over OTLP/HTTP (protobuf) to `{endpoint}/v1/traces`, in
/// batches from its own thread, with the resource `service.name=anb`, a fresh
/// `service.instance.id` and `anb.role` (`serve`, `worker`, `all`, …).
///
/// # Errors
/// When the exporter cannot be built (an unusable endpoint).
pub(super) fn otlp_provider(
    endpoint: &str,
    role: &'static str,
) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{Protocol, WithExportConfig as _};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("anb")
        .with_attributes([
            KeyValue::new("service.instance.id", uuid::Uuid::now_v7().to_string()),
            KeyValue::new("anb.role", role),
        ])
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The tracing layer that turns spans into OpenTelemetry spans of `provider`.
pub(super) fn layer<S>(
    provider: &SdkTracerProvider,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer("anb"))
}

/// The current span's context as a W3C `traceparent` (what a job carries to the worker): `None`
/// when the span is not traced (no `ANB_OTLP_ENDPOINT`, or outside any span).
#[derive(Clone, Copy, Debug, Default)]
pub struct W3cTraceContext;

impl TraceContext for W3cTraceContext {
    fn current(&self) -> Option<String> {
        let context = tracing::Span::current().context();
        if !context.span().span_context().is_valid() {
            return None;
        }
        let mut carrier = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        carrier.remove("traceparent")
    }
}
