//! The worker: job loops, the sweeper, and the graceful stop.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use std::time::Duration;

use anb_domain::ops::WorkerBeat;
use anb_domain::{JobId, RestoreReport, Showcase};
use anyhow::Context as _;
use futures::FutureExt as _;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::{RunSummary, WorkerConfig};

/// Processes videos: leases `ProcessVideo` jobs, fetches each original, transcodes it, stores
/// the outputs and lets [`Showcase::handle_job`] record the outcome and settle the job. Cheap
/// to clone.
#[derive(Clone)]
pub struct Worker {
    pub(crate) showcase: Showcase,
    pub(crate) config: Arc<WorkerConfig>,
    /// When it was made (its reports say so).
    started_at: chrono::DateTime<chrono::Utc>,
    /// The jobs it holds now, described for its reports.
    pub(crate) held: Arc<std::sync::Mutex<std::collections::BTreeMap<JobId, String>>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker running `showcase`'s processing use cases.
    ///
    /// # Errors
    /// When `config` is inconsistent ([`WorkerConfig::validate`]).
    pub fn new(showcase: Showcase, config: WorkerConfig) -> anyhow::Result<Self> {
        config.validate().context("invalid worker settings")?;
        Ok(Self {
            started_at: showcase.ports().clock.now(),
            showcase,
            config: Arc::new(config),
            held: Arc::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Removes the job directories that workers which died (killed, out of memory) left in
    /// the temporary root (`temp_dir`, or the system's): those no live worker holds, on this
    /// machine or any other process sharing the directory. [`Worker::run`] does it first.
    /// Returns how many it removed.
    pub async fn remove_stale_temp_dirs(&self) -> usize {
        let root = crate::scratch::root_or_default(self.config.temp_dir.as_deref());
        let removed = tokio::task::spawn_blocking(move || crate::scratch::remove_stale(&root))
            .await
            .unwrap_or_else(|e| {
                warn!(error = %e, "removing stale temporary directories panicked");
                0
            });
        if removed > 0 {
            info!(
                removed,
                "removed the temporary directories of workers that died"
            );
        }
        removed
    }

    /// Handles jobs one after another until none is ready, and says how they ended. For tests
    /// and batch runs: the queue is drained deterministically, with no sleeping.
    ///
    /// # Errors
    /// When leasing a job fails (the queue is unreachable).
    pub async fn run_once(&self) -> anyhow::Result<RunSummary> {
        let mut summary = RunSummary::default();
        while let Some(job) = self
            .showcase
            .next_job(self.config.lease_for)
            .await
            .context("leasing a job")?
        {
            summary.record(&self.run_job(job, None).await);
        }
        Ok(summary)
    }

    /// One sweep: re-enqueues videos stuck `uploaded` or `processing` for longer than
    /// `stuck_after` (see [`Showcase::requeue_stuck`]). Returns how many.
    ///
    /// # Errors
    /// Storage or queue faults.
    pub async fn sweep(&self) -> anyhow::Result<usize> {
        self.showcase
            .requeue_stuck(self.config.stuck_after, self.config.sweep_limit)
            .await
    }

    /// One restore: queues again the jobs the queue lost (see [`Showcase::restore_lost_jobs`]).
    ///
    /// # Errors
    /// Storage or queue faults.
    pub async fn restore_lost_jobs(&self) -> anyhow::Result<RestoreReport> {
        self.showcase.restore_lost_jobs(&self.config.restore).await
    }

    /// Removes the temporary directories dead workers left ([`Worker::remove_stale_temp_dirs`]),
    /// then runs `concurrency` job loops, the restorer of lost jobs, the sweeper and the webhook
    /// deliverer until
    /// `shutdown` completes, then stops:
    /// no new job is leased; jobs in progress get `shutdown_grace` to finish, and those still
    /// running after it are handed back to the queue for another worker. Faults never stop
    /// it: queue errors are logged and retried with backoff, a panicking job is settled and its
    /// loop goes on. Returns how the jobs it handled ended.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> RunSummary {
        self.remove_stale_temp_dirs().await;
        let stop = CancellationToken::new();
        let abandon = CancellationToken::new();
        info!(
            concurrency = self.config.concurrency,
            lease_for = ?self.config.lease_for,
            profile = %self.config.profile.name,
            "worker started"
        );
        let mut loops = JoinSet::new();
        for _ in 0..self.config.concurrency {
            loops.spawn(self.clone().job_loop(stop.clone(), abandon.clone()));
        }
        let mut chores = JoinSet::new();
        let (sweeper, restorer) = (self.clone(), self.clone());
        chores.spawn(periodically(
            stop.clone(),
            self.config.sweep_every,
            "sweeping for stuck videos",
            move || {
                let sweeper = sweeper.clone();
                async move {
                    let requeued = sweeper.sweep().await?;
                    if requeued > 0 {
                        info!(requeued, "re-enqueued stuck videos");
                    }
                    Ok(())
                }
            },
        ));
        chores.spawn(periodically(
            stop.clone(),
            self.config.restore_every,
            "restoring lost jobs",
            move || {
                let restorer = restorer.clone();
                async move {
                    let report = restorer.restore_lost_jobs().await?;
                    if report.restored > 0 {
                        warn!(
                            restored = report.restored,
                            unfinished = report.unfinished,
                            "the queue had lost jobs; queued them again"
                        );
                    }
                    Ok(())
                }
            },
        ));

        let reporter = self.clone();
        chores.spawn(periodically(
            stop.clone(),
            self.config.report_every,
            "reporting to the operators",
            move || {
                let reporter = reporter.clone();
                async move { reporter.report().await }
            },
        ));
        let deliverer = self.clone();
        chores.spawn(periodically(
            stop.clone(),
            self.config.webhook_poll,
            "delivering webhooks",
            move || {
                let deliverer = deliverer.clone();
                async move { deliverer.deliver_webhooks().await }
            },
        ));

        let mut summary = RunSummary::default();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(ended) = loops.join_next() => {
                    // Loops end only when stopped; one that ended early panicked outside a job
                    // (in an adapter while leasing): start another after a pause.
                    if let Some(loop_summary) = joined(ended) {
                        summary += loop_summary;
                    }
                    let (worker, stop, abandon) = (self.clone(), stop.clone(), abandon.clone());
                    let pause = self.config.idle_poll_max;
                    loops.spawn(async move {
                        tokio::select! {
                            () = stop.cancelled() => return RunSummary::default(),
                            () = tokio::time::sleep(pause) => {}
                        }
                        worker.job_loop(stop, abandon).await
                    });
                }
            }
        }

        stop.cancel();
        info!(grace = ?self.config.shutdown_grace, "stopping: no new jobs; waiting for jobs in progress");
        let finished = tokio::time::timeout(
            self.config.shutdown_grace,
            join_all(&mut loops, &mut summary),
        )
        .await;
        if finished.is_err() {
            info!("stopping: the grace period is over; handing unfinished jobs back");
            abandon.cancel();
            join_all(&mut loops, &mut summary).await;
        }
        while let Some(ended) = chores.join_next().await {
            if let Err(e) = ended {
                error!(error = %e, "a periodic chore ended abnormally");
            }
        }
        info!(?summary, "worker stopped");
        summary
    }

    /// Reports this worker (its name, start, the jobs it holds) for the operator's summary.
    ///
    /// # Errors
    /// Storage faults.
    pub async fn report(&self) -> anyhow::Result<()> {
        let jobs = self
            .held
            .lock()
            .expect("the held jobs' lock")
            .values()
            .cloned()
            .collect();
        let beat = WorkerBeat {
            name: self.showcase.config().instance.clone(),
            started_at: self.started_at,
            seen_at: self.showcase.ports().clock.now(),
            jobs,
        };
        self.showcase.report_worker(&beat).await
    }

    /// Delivers the webhook messages that are due, round after round while rounds come back
    /// full ([`Showcase::deliver_webhooks`](anb_domain::Showcase::deliver_webhooks)).
    async fn deliver_webhooks(&self) -> anyhow::Result<()> {
        const ROUND: u32 = 32;
        loop {
            let round = self
                .showcase
                .deliver_webhooks(ROUND, &delivery_span)
                .await?;
            for (outcome, n) in [
                ("delivered", round.delivered),
                ("retrying", round.retrying),
                ("dead", round.dead),
            ] {
                metrics::counter!("anb_webhook_attempts_total", "outcome" => outcome)
                    .increment(n as u64);
            }
            metrics::counter!("anb_webhook_dead_letters_total").increment(round.dead as u64);
            if round.attempts() < ROUND as usize {
                return Ok(());
            }
        }
    }

    /// Leases and handles jobs until `stop`; backs off while the queue is empty or failing.
    async fn job_loop(self, stop: CancellationToken, abandon: CancellationToken) -> RunSummary {
        let mut summary = RunSummary::default();
        let mut idle = self.config.idle_poll;
        while !stop.is_cancelled() {
            match self.showcase.next_job(self.config.lease_for).await {
                Ok(Some(job)) => {
                    idle = self.config.idle_poll;
                    summary.record(&self.run_job(job, Some(&abandon)).await);
                    continue;
                }
                Ok(None) => {}
                Err(e) => warn!(error = %e, retry_in = ?idle, "leasing a job failed"),
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(idle) => {}
            }
            idle = (idle * 2).min(self.config.idle_poll_max);
        }
        summary
    }
}

/// The span of one webhook delivery attempt: a child of the change that made its event (the
/// event's trace context), so the delivery is in that change's trace.
fn delivery_span(delivery: &anb_domain::webhook::DueDelivery) -> tracing::Span {
    let span = tracing::info_span!(
        "webhook_delivery",
        event = %delivery.event_id,
        webhook = %delivery.webhook_id,
        attempt = delivery.attempts + 1
    );
    if let Some(traceparent) = &delivery.trace_context {
        crate::job::continue_trace(&span, traceparent);
    }
    span
}

/// Runs `chore` at start and every `every` until `stop`; a failure or a panic is logged
/// (`what` failed) and the chore runs again at the next tick.
async fn periodically<F, Fut>(
    stop: CancellationToken,
    every: Duration,
    what: &'static str,
    chore: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match AssertUnwindSafe(chore()).catch_unwind().await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(
                error = format!("{e:#}"),
                "{what} failed; trying again next time"
            ),
            Err(_) => error!("{what} panicked; trying again next time"),
        }
    }
}

/// Waits for every loop, adding up what they handled.
async fn join_all(loops: &mut JoinSet<RunSummary>, summary: &mut RunSummary) {
    while let Some(ended) = loops.join_next().await {
        if let Some(loop_summary) = joined(ended) {
            *summary += loop_summary;
        }
    }
}

fn joined(ended: Result<RunSummary, tokio::task::JoinError>) -> Option<RunSummary> {
    match ended {
        Ok(summary) => Some(summary),
        Err(e) => {
            error!(error = %e, "a job loop panicked");
            None
        }
    }
}
