//! `anb-worker`: the processing worker on its own. Reads the settings (defaults, `anb.toml`,
//! `ANB_*`), connects the backends they name (running migrations), and processes videos until
//! SIGTERM or Ctrl-C, then stops gracefully.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use anb_adapters::compose;
use anb_adapters::settings::{LogFormat, Settings};
use anb_worker::{Worker, WorkerConfig};
use tracing::{error, info};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("anb-worker: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(settings.log_format);
    match run(&settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = format!("{e:#}"), "anb-worker stopped on an error");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: &Settings) -> anyhow::Result<()> {
    info!(backends = %settings.describe(), "anb-worker starting");
    let app = compose::connect(settings).await?;
    let defaults = WorkerConfig::default();
    let config = WorkerConfig {
        profile: app.profile.clone(),
        ..WorkerConfig::with_lease(
            Duration::from_secs(settings.worker_lease_seconds),
            settings.worker_concurrency.unwrap_or(defaults.concurrency),
        )
    };
    let worker = Worker::new(app.showcase.clone(), config)?;
    let summary = worker.run(stop_signal()).await;
    info!(
        processed = summary.processed,
        failed = summary.failed,
        released = summary.released,
        "anb-worker stopped"
    );
    app.close().await;
    Ok(())
}

/// Logs to stderr: JSON lines or compact text; the level from `RUST_LOG` (default `info`).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.compact().init(),
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
async fn stop_signal() {
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
