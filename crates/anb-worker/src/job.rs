//! One leased job: its span, the heartbeats that keep its lease while the video is processed,
//! panics caught, and the hand-back of unfinished work at shutdown.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use anb_domain::ports::QueueError;
use anb_domain::{JobFailure, JobOutcome, JobPayload, LeasedJob};
use futures::FutureExt as _;
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, info_span, warn, Instrument as _};

use crate::processing;
use crate::run_summary::JobEnd;
use crate::Worker;

impl Worker {
    /// Handles one leased job to its end. With `abandon`, the job is handed back to the queue
    /// unfinished when that token fires (shutdown past its grace period).
    pub(crate) async fn run_job(
        &self,
        job: LeasedJob,
        abandon: Option<&CancellationToken>,
    ) -> JobEnd {
        let video_id = job.payload.video_id();
        let span = info_span!("job", job = %job.id, video = %video_id, attempt = job.attempt);
        if let Some(traceparent) = &job.trace_context {
            continue_trace(&span, traceparent);
        }
        async {
            let started = Instant::now();
            let held = format!(
                "{} {video_id} (attempt {})",
                job.payload.kind(),
                job.attempt
            );
            self.hold(job.id, Some(held));
            let end = self.run_job_to_end(&job, abandon).await;
            self.hold(job.id, None);
            metrics::counter!("anb_jobs_total", "outcome" => outcome_label(&end)).increment(1);
            info!(
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "job ended: {}",
                describe(&end)
            );
            end
        }
        .instrument(span)
        .await
    }

    /// Records that this worker holds `job` (described), or no longer does.
    fn hold(&self, job: anb_domain::JobId, what: Option<String>) {
        let mut held = self.held.lock().expect("the held jobs' lock");
        match what {
            Some(what) => held.insert(job, what),
            None => held.remove(&job),
        };
    }

    async fn run_job_to_end(&self, job: &LeasedJob, abandon: Option<&CancellationToken>) -> JobEnd {
        let handled = AssertUnwindSafe(self.handle_with_heartbeats(job)).catch_unwind();
        let ended = match abandon {
            None => Some(handled.await),
            Some(token) => tokio::select! {
                biased;
                ended = handled => Some(ended),
                () = token.cancelled() => None,
            },
        };
        // The handling future is dropped by now: a transcode in flight is cancelled.
        match ended {
            None => {
                self.release(job).await;
                JobEnd::Released
            }
            Some(Ok(Ok(outcome))) => JobEnd::Handled(outcome),
            Some(Ok(Err(e))) => {
                error!(
                    error = format!("{e:#}"),
                    "settling the job failed; it comes back when its lease expires"
                );
                JobEnd::Faulted
            }
            Some(Err(panic)) => {
                error!(panic = panic_message(&*panic), "handling the job panicked");
                self.settle_after_panic(job).await;
                JobEnd::Faulted
            }
        }
    }

    /// `handle_job` with the worker's I/O, and heartbeats while the video is processed. A lost
    /// lease (another worker holds the job now) abandons the work without settling anything.
    async fn handle_with_heartbeats(&self, job: &LeasedJob) -> anyhow::Result<JobOutcome> {
        let (ports, config) = (self.showcase.ports(), &*self.config);
        let limits = &self.showcase.config().media_limits;
        // Dropped when processing ends, or with the closure if the job is skipped: the
        // heartbeats stop then, so they never race the job's settling.
        let (processing, processing_ended) = oneshot::channel::<()>();
        let (profile, temp_root) = (&config.profile, config.temp_dir.as_deref());
        let work = async move {
            if let JobPayload::ConvertRendition { .. } = job.payload {
                self.showcase
                    .handle_conversion(job, move |video, rendition| {
                        let convert = processing::convert(
                            ports, profile, limits, temp_root, video, rendition,
                        );
                        guarded(convert, processing)
                    })
                    .await
            } else {
                self.showcase
                    .handle_job(job, move |video| {
                        let process = processing::process(ports, profile, limits, temp_root, video);
                        guarded(process, processing)
                    })
                    .await
            }
        };
        let keep_lease = async {
            tokio::select! {
                _ = processing_ended => std::future::pending::<()>().await,
                () = self.heartbeats(job) => {}
            }
        };
        tokio::select! {
            biased;
            outcome = work => outcome,
            () = keep_lease => {
                warn!("the lease was lost to another worker; abandoning the job");
                Ok(JobOutcome::LeaseLost)
            }
        }
    }

    /// Extends the lease every `heartbeat_every`; returns once it is lost. A failed heartbeat
    /// (queue unreachable) is retried at the next beat: the lease may well still be ours.
    async fn heartbeats(&self, job: &LeasedJob) {
        let every = self.config.heartbeat_every;
        let mut beats = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        beats.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            beats.tick().await;
            let extended = self
                .showcase
                .ports()
                .jobs
                .heartbeat(job.id, job.lease, self.config.lease_for)
                .await;
            match extended {
                Ok(until) => debug!(%until, "lease extended"),
                Err(QueueError::LeaseLost) => return,
                Err(QueueError::Unexpected(e)) => warn!(
                    error = format!("{e:#}"),
                    "could not extend the lease; trying again at the next heartbeat"
                ),
            }
        }
    }

    /// Hands an unfinished job back for immediate delivery to another worker.
    async fn release(&self, job: &LeasedJob) {
        match self
            .showcase
            .ports()
            .jobs
            .retry(job.id, job.lease, Duration::ZERO)
            .await
        {
            Ok(()) => info!("stopping: the unfinished job was handed back to the queue"),
            Err(QueueError::LeaseLost) => info!("stopping: another worker already holds the job"),
            Err(QueueError::Unexpected(e)) => warn!(
                error = format!("{e:#}"),
                "stopping: could not hand the job back; it comes back when its lease expires"
            ),
        }
    }

    /// After a panic outside the processing itself: retry with the usual backoff, or give up
    /// (job failed, video failed) past the last attempt, so a job that always panics ends.
    async fn settle_after_panic(&self, job: &LeasedJob) {
        let failure = JobFailure::Transient(anyhow::anyhow!("handling the job panicked"));
        if let Err(e) = self.showcase.settle_failed_attempt(job, failure).await {
            warn!(
                error = format!("{e:#}"),
                "could not settle the job after the panic"
            );
        }
    }
}

/// Runs a job's I/O with its panics caught (as transient failures), then drops `ended` so the
/// heartbeats stop before the job is settled.
async fn guarded<T>(
    work: impl Future<Output = Result<T, JobFailure>>,
    ended: oneshot::Sender<()>,
) -> Result<T, JobFailure> {
    let result = AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            Err(JobFailure::Transient(anyhow::anyhow!(
                "processing panicked: {}",
                panic_message(&*panic)
            )))
        });
    drop(ended);
    result
}

/// Makes `span` a child of the span `traceparent` names (the W3C trace context a job or an
/// event carries): one trace then spans the upload request, the processing and the webhooks.
/// Nothing happens unless spans are exported, or when the text is not a trace context.
pub(crate) fn continue_trace(span: &tracing::Span, traceparent: &str) {
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    let carrier =
        std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        // An error only says spans are not exported (no OpenTelemetry layer).
        let _ = span.set_parent(parent);
    }
}

/// The metrics label of how a job ended.
fn outcome_label(end: &JobEnd) -> &'static str {
    match end {
        JobEnd::Handled(JobOutcome::Processed(_)) => "processed",
        JobEnd::Handled(JobOutcome::Converted(_)) => "converted",
        JobEnd::Handled(JobOutcome::Skipped(_)) => "skipped",
        JobEnd::Handled(JobOutcome::Retrying(_)) => "retrying",
        JobEnd::Handled(JobOutcome::GaveUp(_)) => "failed",
        JobEnd::Handled(JobOutcome::LeaseLost) => "lease_lost",
        JobEnd::Released => "released",
        JobEnd::Faulted => "faulted",
    }
}

fn describe(end: &JobEnd) -> String {
    match end {
        JobEnd::Handled(JobOutcome::Processed(video)) => format!(
            "processed ({} s)",
            video.duration_seconds.unwrap_or_default()
        ),
        JobEnd::Handled(JobOutcome::Converted(rendition)) => {
            format!("converted to {}", rendition.format)
        }
        JobEnd::Handled(JobOutcome::Skipped(why)) => format!("skipped: {why}"),
        JobEnd::Handled(JobOutcome::Retrying(delay)) => format!("retrying in {delay:?}"),
        JobEnd::Handled(JobOutcome::GaveUp(reason)) => format!("failed: {reason}"),
        JobEnd::Handled(JobOutcome::LeaseLost) => "lease lost".to_owned(),
        JobEnd::Released => "handed back unfinished".to_owned(),
        JobEnd::Faulted => "faulted".to_owned(),
    }
}

/// The text a panic carried, when it carried text.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
