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
    let app = compose::connect(settings).await?;
    let summary = work_composed(settings, &app, shutdown).await;
    app.close().await;
    summary
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
