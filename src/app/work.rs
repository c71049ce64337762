//! Running the worker from settings (what `anb worker`, `anb` and `anb-worker` do).

use std::time::Duration;

use anb_domain::Profile;
use anb_worker::{RunSummary, Worker, WorkerConfig};

use super::compose::{self, Composed};
use super::settings::Settings;

/// The worker settings of `settings` (lease, concurrency) with `profile`; the rest defaults.
pub fn worker_config(settings: &Settings, profile: &Profile) -> WorkerConfig {
    let defaults = WorkerConfig::default();
    WorkerConfig {
        profile: profile.clone(),
        ..WorkerConfig::with_lease(
            Duration::from_secs(settings.worker_lease_seconds),
            settings.worker_concurrency.unwrap_or(defaults.concurrency),
        )
    }
}

/// Connects the backends `settings` name (running migrations) and processes videos until
/// `shutdown`, then stops gracefully.
///
/// # Errors
/// When the backends cannot be reached or the settings are inconsistent.
pub async fn work_from_settings(
    settings: &Settings,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    tracing::info!(backends = %settings.describe(), "worker starting");
    let metrics = match settings.worker_metrics_addr {
        Some(addr) => Some(serve_metrics(addr).await?),
        None => None,
    };
    let app = compose::connect(settings).await?;
    let summary = work_composed(settings, &app, shutdown).await;
    app.close().await;
    if let Some(server) = metrics {
        server.abort();
    }
    summary
}

/// Serves the worker's `/metrics` and `/health` on `addr` (port 0 picks one), printing
/// `metrics on http://…/metrics` on stdout; the task ends when aborted.
async fn serve_metrics(addr: std::net::SocketAddr) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for metrics: {e}"))?;
    let bound = listener.local_addr()?;
    println!("metrics on http://{bound}/metrics");
    tracing::info!(addr = %bound, "serving the worker's metrics");
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener)?;
    Ok(tokio::spawn(async move {
        let endpoint = anb_http::telemetry::metrics_endpoint();
        if let Err(e) = poem::Server::new_with_acceptor(acceptor)
            .run(endpoint)
            .await
        {
            tracing::warn!(error = %e, "the worker's metrics server stopped");
        }
    }))
}

/// Runs a worker over an already composed app until `shutdown`.
///
/// # Errors
/// When the worker settings are inconsistent.
pub async fn work_composed(
    settings: &Settings,
    app: &Composed,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    let worker = Worker::new(app.showcase.clone(), worker_config(settings, &app.profile))?;
    let summary = worker.run(shutdown).await;
    tracing::info!(
        processed = summary.processed,
        failed = summary.failed,
        released = summary.released,
        "worker stopped"
    );
    Ok(summary)
}
