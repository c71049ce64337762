//! Counting how jobs ended.

use std::ops::AddAssign;

use anb_domain::JobOutcome;

/// How the jobs a run handled ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Videos processed (job acked).
    pub processed: usize,
    /// Renditions made (conversions on demand; job acked).
    pub converted: usize,
    /// Jobs with nothing to do: the video was already processed, failed or deleted (acked).
    pub skipped: usize,
    /// Attempts that failed transiently; the job comes back after a backoff.
    pub retrying: usize,
    /// Jobs given up: bad input, or transient failures past the last attempt (video `failed`).
    pub failed: usize,
    /// Jobs abandoned because another worker took over their expired lease.
    pub lease_lost: usize,
    /// Jobs handed back to the queue unfinished at shutdown, for another worker.
    pub released: usize,
    /// Jobs whose settling failed (storage or queue down) or whose handling panicked; their
    /// lease expiry or backoff brings them back.
    pub faulted: usize,
}

impl RunSummary {
    /// Jobs handled, however they ended.
    pub fn jobs(&self) -> usize {
        self.processed
            + self.converted
            + self.skipped
            + self.retrying
            + self.failed
            + self.lease_lost
            + self.released
            + self.faulted
    }
}

impl AddAssign for RunSummary {
    fn add_assign(&mut self, other: Self) {
        self.processed += other.processed;
        self.converted += other.converted;
        self.skipped += other.skipped;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.lease_lost += other.lease_lost;
        self.released += other.released;
        self.faulted += other.faulted;
    }
}

/// How one job ended, as the worker saw it.
#[derive(Debug)]
pub(crate) enum JobEnd {
    /// `handle_job` finished (it settled the job, unless the lease was lost).
    Handled(JobOutcome),
    /// Handed back at shutdown.
    Released,
    /// Settling failed or the handling panicked.
    Faulted,
}

impl RunSummary {
    /// Counts one job.
    pub(crate) fn record(&mut self, end: &JobEnd) {
        let slot = match end {
            JobEnd::Handled(JobOutcome::Processed(_)) => &mut self.processed,
            JobEnd::Handled(JobOutcome::Converted(_)) => &mut self.converted,
            JobEnd::Handled(JobOutcome::Skipped(_)) => &mut self.skipped,
            JobEnd::Handled(JobOutcome::Retrying(_)) => &mut self.retrying,
            JobEnd::Handled(JobOutcome::GaveUp(_)) => &mut self.failed,
            JobEnd::Handled(JobOutcome::LeaseLost) => &mut self.lease_lost,
            JobEnd::Released => &mut self.released,
            JobEnd::Faulted => &mut self.faulted,
        };
        *slot += 1;
    }
}
