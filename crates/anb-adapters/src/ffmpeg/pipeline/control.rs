//! Cancellation, time limit and progress of one run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anb_domain::ports::TranscodeError;

use crate::ffmpeg::InputPolicy;

/// How far a run has got (the domain's [`TranscodeProgress`](anb_domain::media::TranscodeProgress)).
pub use anb_domain::media::TranscodeProgress as Progress;

/// What a run checks between packets: a cancel flag, a deadline, and where progress goes; and
/// how it opens its input ([`InputPolicy`]: by default MP4/MOV only, read as untrusted).
///
/// The cancel flag and the deadline also interrupt FFmpeg inside its own reads (its interrupt
/// callback), so a read that stalls cannot outlive them.
pub struct Control {
    cancel: Arc<AtomicBool>,
    limit: Option<(Instant, Duration)>,
    input: InputPolicy,
    progress: Option<Box<dyn FnMut(Progress) + Send>>,
    expected_seconds: f64,
    last_reported: f64,
}

impl Default for Control {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancelled", &self.cancel.load(Ordering::Relaxed))
            .field("limit", &self.limit.map(|(_, d)| d))
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

impl Control {
    /// No cancellation, no time limit, no progress; the default [`InputPolicy`].
    pub fn new() -> Self {
        Self {
            cancel: Arc::new(AtomicBool::new(false)),
            limit: None,
            input: InputPolicy::default(),
            progress: None,
            expected_seconds: 0.0,
            last_reported: f64::NEG_INFINITY,
        }
    }

    /// Stops the run (with [`TranscodeError::Cancelled`]) once `flag` is set.
    pub fn with_cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = flag;
        self
    }

    /// Stops the run (with [`TranscodeError::TimedOut`]) after `timeout`, counted from now.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.limit = Some((Instant::now() + timeout, timeout));
        self
    }

    /// Opens the input under `policy` instead of the default one.
    pub fn with_input_policy(mut self, policy: InputPolicy) -> Self {
        self.input = policy;
        self
    }

    /// How the input is opened.
    pub(crate) fn input_policy(&self) -> &InputPolicy {
        &self.input
    }

    /// What FFmpeg's interrupt callback asks: whether the run is cancelled or past its
    /// deadline.
    pub(crate) fn interrupter(&self) -> impl FnMut() -> bool + Send + 'static {
        let cancel = Arc::clone(&self.cancel);
        let deadline = self.limit.map(|(deadline, _)| deadline);
        move || cancel.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Calls `report` as the output grows (about every half second of output).
    pub fn on_progress(mut self, report: impl FnMut(Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(report));
        self
    }

    pub(crate) fn expect(&mut self, seconds: f64) {
        self.expected_seconds = seconds;
    }

    pub(crate) fn check(&self) -> Result<(), TranscodeError> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(TranscodeError::Cancelled);
        }
        match self.limit {
            Some((deadline, timeout)) if Instant::now() >= deadline => {
                Err(TranscodeError::TimedOut(timeout))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn report(&mut self, output_seconds: f64) {
        if output_seconds - self.last_reported < 0.5 && output_seconds < self.expected_seconds {
            return;
        }
        self.last_reported = output_seconds;
        if let Some(report) = self.progress.as_mut() {
            report(Progress {
                output_seconds,
                expected_seconds: self.expected_seconds.max(output_seconds),
            });
        }
    }
}
