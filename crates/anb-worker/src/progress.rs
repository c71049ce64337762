//! Processing progress: the transcoder's reports, kept as they come (from its own thread), and
//! written to the video (or the rendition) about every second while the run lasts, with an ETA
//! from the pace so far. A failed write is logged and the run goes on: progress is for
//! watching, not for deciding.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anb_domain::media::{ProgressSink, TranscodeProgress};
use anb_domain::video::ProcessingProgress;
use anb_domain::{Ports, RenditionId, VideoId};
use tracing::debug;

/// How often progress is written while a run lasts.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// What a run's progress is written to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ProgressOf {
    /// A video being processed.
    Video(VideoId),
    /// A rendition being made.
    Rendition(RenditionId),
}

impl ProgressOf {
    /// Writes `progress`; whether it was recorded (only while processing).
    async fn record(self, ports: &Ports, progress: ProcessingProgress) -> anyhow::Result<bool> {
        match self {
            Self::Video(id) => ports.videos.record_progress(id, progress).await,
            Self::Rendition(id) => ports.renditions.record_progress(id, progress).await,
        }
    }

    /// The metrics label of the job: `process` or `convert`.
    pub(crate) fn job_kind(self) -> &'static str {
        match self {
            Self::Video(_) => "process",
            Self::Rendition(_) => "convert",
        }
    }
}

/// The latest report of one run.
pub(crate) struct ProgressReporter {
    latest: Arc<Mutex<Option<TranscodeProgress>>>,
    started: Instant,
}

impl ProgressReporter {
    /// A reporter for a run starting now.
    pub(crate) fn start() -> Self {
        Self {
            latest: Arc::new(Mutex::new(None)),
            started: Instant::now(),
        }
    }

    /// Where the transcoder reports: keeps the latest report.
    pub(crate) fn sink(&self) -> ProgressSink {
        let latest = Arc::clone(&self.latest);
        Arc::new(move |report| {
            if let Ok(mut slot) = latest.lock() {
                *slot = Some(report);
            }
        })
    }

    /// Runs `work`, writing its progress to `of` every [`PROGRESS_EVERY`] until it ends.
    pub(crate) async fn while_running<T>(
        &self,
        ports: &Ports,
        of: ProgressOf,
        work: impl Future<Output = T>,
    ) -> T {
        let write = async {
            let mut tick = tokio::time::interval(PROGRESS_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut written = None;
            loop {
                tick.tick().await;
                let Some(progress) = self.current() else {
                    continue;
                };
                if written == Some(progress) {
                    continue;
                }
                match of.record(ports, progress).await {
                    Ok(_) => written = Some(progress),
                    Err(e) => debug!(error = format!("{e:#}"), "recording progress failed"),
                }
            }
        };
        tokio::pin!(work);
        tokio::select! {
            done = &mut work => done,
            never = write => never,
        }
    }

    /// The progress now, from the latest report and the time since the start.
    fn current(&self) -> Option<ProcessingProgress> {
        let report = (*self.latest.lock().ok()?)?;
        Some(ProcessingProgress::estimate(
            report.output_seconds,
            report.expected_seconds,
            self.started.elapsed().as_secs_f64(),
        ))
    }
}
