//! # anb-worker
//!
//! The ANB Showcase processing worker: the job loop over the `JobQueue` port. It leases
//! `ProcessVideo` jobs, fetches each original from the blob store to a temporary directory,
//! transcodes it with the configured profile, stores `processed/{id}.mp4` and
//! `thumbnails/{id}.jpg`, and lets [`Showcase::handle_job`](anb_domain::Showcase::handle_job)
//! record the outcome and settle the job (ack, retry with backoff, or give up).
//!
//! - **Heartbeats** extend a job's lease while it is processed; if another worker takes the
//!   job over (the lease expired), the work is dropped, transcode included, without settling.
//! - **Failures** are classified: bad media (outside the media limits, or over the time limit)
//!   or a missing original give up at once with a reason for the player; anything else
//!   (storage, queue, a panic) is retried with backoff. A job whose workers died on it
//!   (killed, out of memory) `max_attempts` times is failed without being run again.
//! - **Temporary directories**: one per job (`anb-job-<pid>-…`, locked while in use); a
//!   starting worker removes those that dead workers left.
//! - **Graceful stop**: no new job is leased; jobs in progress get a grace period, then are
//!   handed back to the queue for another worker. Nothing is left stuck.
//! - **Sweeper**: re-enqueues videos left `uploaded` or `processing` past a deadline.
//! - [`Worker::run_once`] drains the queue deterministically, for tests.
//!
//! ```no_run
//! # async fn run(showcase: anb_domain::Showcase) -> anyhow::Result<()> {
//! use anb_worker::{Worker, WorkerConfig};
//!
//! let worker = Worker::new(showcase, WorkerConfig::default())?;
//! let summary = worker.run(async { tokio::signal::ctrl_c().await.ok(); }).await;
//! println!("processed {} videos", summary.processed);
//! # Ok(()) }
//! ```

mod config;
mod job;
mod media;
mod scratch;
mod summary;
mod worker;

pub use config::WorkerConfig;
pub use summary::RunSummary;
pub use worker::Worker;

/// Connects the backends `settings` name (running migrations) and processes videos until
/// `shutdown`, then stops gracefully (what the `anb-worker` binary and `anb worker` do).
///
/// # Errors
/// When the backends cannot be reached or the settings are inconsistent.
pub async fn run_from_settings(
    settings: &anb_adapters::settings::Settings,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    tracing::info!(backends = %settings.describe(), "worker starting");
    let app = anb_adapters::compose::connect(settings).await?;
    let summary = run_composed(settings, &app, shutdown).await;
    app.close().await;
    summary
}

/// Runs a worker over an already composed app until `shutdown`.
///
/// # Errors
/// When the worker settings are inconsistent.
pub async fn run_composed(
    settings: &anb_adapters::settings::Settings,
    app: &anb_adapters::compose::Composed,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    let config = WorkerConfig::from_settings(settings, &app.profile);
    let worker = Worker::new(app.showcase.clone(), config)?;
    let summary = worker.run(shutdown).await;
    tracing::info!(
        processed = summary.processed,
        failed = summary.failed,
        released = summary.released,
        "worker stopped"
    );
    Ok(summary)
}
