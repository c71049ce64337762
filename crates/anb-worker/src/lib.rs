//! # anb-worker
//!
//! The ANB Showcase processing worker: the job loop over the `JobQueue` port. It leases
//! `ProcessVideo` jobs, fetches each original from the blob store to a temporary directory,
//! transcodes it with the configured profile (every output from one decode), stores
//! `processed/{id}.mp4`, `thumbnails/{id}.jpg` and the HLS ladder and storyboard under
//! `streams/{id}/`, and lets [`Showcase::handle_job`](anb_domain::Showcase::handle_job)
//! record the outcome and settle the job (ack, retry with backoff, or give up).
//!
//! - **Heartbeats** extend a job's lease while it is processed; if another worker takes the
//!   job over (the lease expired), the work is dropped, transcode included, without settling.
//! - **Progress**: percent done and an ETA are written to the video every second while it is
//!   transcoded.
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
mod processing;
mod progress;
mod run_summary;
mod scratch;
mod worker;

pub use config::WorkerConfig;
pub use run_summary::RunSummary;
pub use worker::Worker;
