//! The worker's settings.

use std::path::PathBuf;
use std::time::Duration;

use anb_domain::{JobRestore, Profile};
use anyhow::ensure;

/// How a [`Worker`](crate::Worker) runs.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerConfig {
    /// Jobs processed at once (default: one per two cores, at least one: a transcode keeps
    /// about two cores busy).
    pub concurrency: usize,
    /// How long a lease lasts without a heartbeat (default 60 s). A worker that dies holding a
    /// job delays it by at most this much.
    pub lease_for: Duration,
    /// How often a busy job's lease is extended (default a third of `lease_for`, so two
    /// heartbeats may fail before the lease runs out).
    pub heartbeat_every: Duration,
    /// The first wait after finding the queue empty (default 250 ms); it doubles on each
    /// empty poll, up to `idle_poll_max`.
    pub idle_poll: Duration,
    /// The longest wait between polls of an empty queue (default 2 s).
    pub idle_poll_max: Duration,
    /// The processing profile (default `showcase`).
    pub profile: Profile,
    /// Where each job's temporary directory (`anb-job-<pid>-…`) is made (default: the
    /// system's). A starting worker removes those that dead workers left there.
    pub temp_dir: Option<PathBuf>,
    /// How often the sweeper looks for stuck videos (default 60 s; the first look is at start).
    pub sweep_every: Duration,
    /// How long a video may stay `uploaded` or `processing` before the sweeper re-enqueues it
    /// (default 30 min). It must exceed `lease_for`, and should exceed everything a live job
    /// may take without a status change: the transcoder's time limit (10 min by default), the
    /// longest retry delay (5 min by default) and the wait behind a backlog. A shorter one only
    /// costs duplicate work: handling a job is idempotent.
    pub stuck_after: Duration,
    /// Most videos re-enqueued per sweep (default 100).
    pub sweep_limit: u32,
    /// How often the database is compared with the queue to restore the jobs the queue lost
    /// ([`Showcase::restore_lost_jobs`](anb_domain::Showcase::restore_lost_jobs); default 10 s,
    /// the first look at start).
    pub restore_every: Duration,
    /// How lost jobs are restored (default: a video settles for 10 s first; a `processing`
    /// video's job comes back after one and a half heartbeats, so the worker that may still
    /// run it has seen its lease gone and stopped).
    pub restore: JobRestore,
    /// How often due webhook deliveries are looked for (default 500 ms).
    pub webhook_poll: Duration,
    /// How often the worker reports itself for the operator's summary (default 5 s).
    pub report_every: Duration,
    /// How long, after a stop is asked, jobs in progress may take to finish before they are
    /// released to the queue for another worker (default 30 s).
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_lease(Duration::from_secs(60), (cores / 2).max(1))
    }
}

impl WorkerConfig {
    /// The defaults, with a lease of `lease_for` (heartbeats at a third of it, a lost
    /// `processing` job restored after half of it) and `concurrency` jobs at once.
    pub fn with_lease(lease_for: Duration, concurrency: usize) -> Self {
        Self {
            concurrency,
            lease_for,
            heartbeat_every: lease_for / 3,
            idle_poll: Duration::from_millis(250),
            idle_poll_max: Duration::from_secs(2),
            profile: Profile::showcase(),
            temp_dir: None,
            sweep_every: Duration::from_secs(60),
            stuck_after: Duration::from_secs(30 * 60),
            sweep_limit: 100,
            restore_every: Duration::from_secs(10),
            restore: JobRestore {
                processing_delay: lease_for / 2,
                ..JobRestore::default()
            },
            shutdown_grace: Duration::from_secs(30),
            webhook_poll: Duration::from_millis(500),
            report_every: Duration::from_secs(5),
        }
    }

    /// Checks the settings against each other.
    ///
    /// # Errors
    /// A zero concurrency, lease, heartbeat, poll or sweep interval; a heartbeat not shorter
    /// than the lease; `idle_poll_max` below `idle_poll`; `stuck_after` not longer than the lease;
    /// a zero restore interval; a restore delay of `processing` jobs not longer than a heartbeat.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(self.concurrency > 0, "concurrency must be at least 1");
        ensure!(!self.lease_for.is_zero(), "lease_for must be positive");
        ensure!(
            !self.heartbeat_every.is_zero() && self.heartbeat_every < self.lease_for,
            "heartbeat_every ({:?}) must be positive and shorter than lease_for ({:?})",
            self.heartbeat_every,
            self.lease_for
        );
        ensure!(
            !self.idle_poll.is_zero() && self.idle_poll <= self.idle_poll_max,
            "idle_poll must be positive and at most idle_poll_max"
        );
        ensure!(!self.sweep_every.is_zero(), "sweep_every must be positive");
        ensure!(
            !self.restore_every.is_zero(),
            "restore_every must be positive"
        );
        ensure!(
            self.restore.processing_delay > self.heartbeat_every,
            "restore.processing_delay ({:?}) must be longer than heartbeat_every ({:?}), or a \
             restored job could run beside a worker that has not yet seen its lease gone",
            self.restore.processing_delay,
            self.heartbeat_every
        );
        ensure!(
            self.stuck_after > self.lease_for,
            "stuck_after ({:?}) must be longer than lease_for ({:?}), or the sweeper would \
             duplicate jobs that are alive",
            self.stuck_after,
            self.lease_for
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_heartbeat_three_times_per_lease() {
        let config = WorkerConfig::default();
        config.validate().unwrap();
        assert!(config.concurrency >= 1);
        assert_eq!(config.heartbeat_every * 3, config.lease_for);
    }

    #[test]
    fn a_stuck_deadline_within_the_lease_is_refused() {
        let config = WorkerConfig {
            stuck_after: Duration::from_secs(60),
            ..WorkerConfig::with_lease(Duration::from_secs(60), 1)
        };
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("stuck_after"), "{err}");
    }

    #[test]
    fn a_restore_delay_within_a_heartbeat_is_refused() {
        let mut config = WorkerConfig::with_lease(Duration::from_secs(60), 1);
        config.restore.processing_delay = config.heartbeat_every;
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("processing_delay"), "{err}");
    }

    #[test]
    fn a_heartbeat_as_long_as_the_lease_is_refused() {
        let config = WorkerConfig {
            heartbeat_every: Duration::from_secs(60),
            ..WorkerConfig::with_lease(Duration::from_secs(60), 1)
        };
        assert!(config.validate().is_err());
        let none = WorkerConfig {
            concurrency: 0,
            ..WorkerConfig::default()
        };
        assert!(none.validate().is_err());
    }
}
