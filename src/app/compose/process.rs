//! What every binary does around the composed app: logging, traces and the stop signal.

use std::io::IsTerminal as _;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{error, info};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::app::settings::LogFormat;

/// Logs to stderr: JSON lines (`ANB_LOG_FORMAT=json`, for production) or compact text; the
/// level from `RUST_LOG` (default `info`). With `otlp_endpoint` (`ANB_OTLP_ENDPOINT`), the
/// spans also go to that OpenTelemetry collector over OTLP/HTTP, as the process `role`
/// (`serve`, `worker`, `all`, …); without it no exporter exists. Call once, at start, and keep
/// what it returns until the process ends: dropping it sends the last spans.
pub fn init_logging(
    format: LogFormat,
    otlp_endpoint: Option<&str>,
    role: &'static str,
) -> Telemetry {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (provider, failed) = match otlp_endpoint.map(|url| super::traces::otlp_provider(url, role))
    {
        None => (None, None),
        Some(Ok(provider)) => (Some(provider), None),
        Some(Err(e)) => (None, Some(e)),
    };
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(provider.as_ref().map(super::traces::layer));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => registry.with(fmt.json()).try_init(),
        LogFormat::Text => registry.with(fmt.compact()).try_init(),
    };
    if let Some(e) = failed {
        error!(
            error = format!("{e:#}"),
            "traces are off: the OTLP exporter cannot start"
        );
    }
    Telemetry { provider }
}

/// The trace exporter [`init_logging`] started, if any. Dropping it flushes the spans still
/// waiting and stops the exporter (it waits for the collector, at most a few seconds).
#[must_use = "dropping it stops the trace exporter"]
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("anb: the last spans may be lost: {e}");
            }
        }
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => info!("Ctrl-C: stopping"),
        () = terminate => info!("SIGTERM: stopping"),
    }
}
