use chrono::{DateTime, SubsecRound, Utc};

/// The current time, injectable so tests can control it.
pub trait Clock: Send + Sync + 'static {
    /// Now, truncated to microseconds (the precision every backend stores).
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
