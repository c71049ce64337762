//! Background jobs, their leases, and the retry policy.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{JobId, LeaseToken, RenditionId, VideoId};

/// The work a job asks for. Serialised as a tagged JSON object (`{"type":"process_video",...}`)
/// so every queue backend stores the same bytes and new kinds can be added without migrations.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobPayload {
    /// Trim, fit, stamp, encode and thumbnail an uploaded video.
    ProcessVideo {
        /// The video to process.
        video_id: VideoId,
    },
    /// Process a processed video again from its kept original, with the current profile (after
    /// a profile change); it stays processed, and published if it was, meanwhile.
    ReprocessVideo {
        /// The video to process again.
        video_id: VideoId,
    },
    /// Make a rendition an owner asked for (a conversion on demand) from the video's kept
    /// original; the video itself is left as it is.
    ConvertRendition {
        /// The video.
        video_id: VideoId,
        /// The rendition to make.
        rendition_id: RenditionId,
    },
}

impl JobPayload {
    /// What the job does: `process`, `reprocess` or `convert`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ProcessVideo { .. } => "process",
            Self::ReprocessVideo { .. } => "reprocess",
            Self::ConvertRendition { .. } => "convert",
        }
    }

    /// The video the job is about.
    pub fn video_id(&self) -> VideoId {
        match self {
            Self::ProcessVideo { video_id }
            | Self::ReprocessVideo { video_id }
            | Self::ConvertRendition { video_id, .. } => *video_id,
        }
    }

    /// The payload as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("job payloads always serialise")
    }

    /// Reads a payload stored as JSON text.
    ///
    /// # Errors
    /// When the text is not a known payload (e.g. written by a newer version).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// A job handed to one worker for a limited time.
#[derive(Clone, Debug, PartialEq)]
pub struct LeasedJob {
    /// The job.
    pub id: JobId,
    /// What to do.
    pub payload: JobPayload,
    /// 1 on the first delivery, 2 on the second (after a retry or an expired lease), and so on.
    pub attempt: u32,
    /// This delivery's token: acks, retries and heartbeats must present it.
    pub lease: LeaseToken,
    /// When the lease runs out unless extended.
    pub leased_until: DateTime<Utc>,
    /// The trace context given when the job was enqueued (opaque text, see
    /// [`TraceContext`](crate::ports::TraceContext)), or `None`.
    pub trace_context: Option<String>,
}

/// How many jobs a queue holds, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Deliverable now (including jobs whose lease expired).
    pub ready: u64,
    /// Waiting for their `run_after` (delayed enqueue or retry backoff).
    pub scheduled: u64,
    /// Held by a worker under a live lease.
    pub leased: u64,
    /// Given up (dead-lettered); kept for inspection.
    pub failed: u64,
}

/// Why a job attempt did not succeed, as the job handler classifies it.
#[derive(Debug)]
pub enum JobFailure {
    /// The input itself is bad (not a video, corrupt, outside the media limits, too slow to
    /// process): retrying cannot help.
    BadInput(String),
    /// Something around the input failed (database, blob store, a panic): a retry may succeed.
    Transient(anyhow::Error),
}

/// What to do with a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobDecision {
    /// Deliver again after this delay.
    RetryAfter(Duration),
    /// Stop; the reason is recorded (and shown to the player for a video).
    GiveUp(String),
}

/// Bounded exponential backoff: attempt `n` waits `base * 2^(n-1)`, capped at `max_delay`;
/// after `max_attempts` deliveries the job gives up.
///
/// The ceiling also holds when no attempt reports a failure: a worker that dies on a job
/// (out of memory, aborted, killed) leaves it to come back when its lease expires, and the
/// queue counts that delivery too. A delivery past the ceiling is not run at all
/// ([`RetryPolicy::admit`]), so a poison job ends after `max_attempts` crashes.
///
/// ```
/// use std::time::Duration;
/// use anb_domain::{JobDecision, JobFailure, RetryPolicy};
/// let policy = RetryPolicy::default();
/// let flaky = || JobFailure::Transient(anyhow::anyhow!("db down"));
/// assert_eq!(policy.decide(1, &flaky()), JobDecision::RetryAfter(Duration::from_secs(2)));
/// assert_eq!(policy.decide(3, &flaky()), JobDecision::RetryAfter(Duration::from_secs(8)));
/// assert!(matches!(policy.decide(5, &flaky()), JobDecision::GiveUp(_)));
/// assert!(matches!(policy.decide(1, &JobFailure::BadInput("no video stream".into())), JobDecision::GiveUp(_)));
/// // Five deliveries ended without a result (their workers died): the sixth is not run.
/// assert!(policy.admit(5).is_ok());
/// assert!(policy.admit(6).unwrap_err().contains("crashed repeatedly"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Deliveries before giving up (≥ 1; 0 counts as 1), whether the attempts failed or their
    /// workers died.
    pub max_attempts: u32,
    /// Delay after the first failed attempt.
    #[serde(with = "duration_secs")]
    pub base_delay: Duration,
    /// Longest delay between attempts.
    #[serde(with = "duration_secs")]
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Whether delivery number `attempt` (1-based, as the queue counts deliveries) may run.
    /// Every delivery up to `max_attempts` may. A later one exists only when earlier ones
    /// ended without settling the job: a failed attempt past the ceiling gives up
    /// ([`RetryPolicy::decide`]), so its workers died (crashed, ran out of memory, were
    /// killed) on it, or were stopped while running it.
    ///
    /// # Errors
    /// Past the ceiling: the reason the job gives up, for the player.
    pub fn admit(&self, attempt: u32) -> Result<(), String> {
        let max = self.max_attempts.max(1);
        if attempt <= max {
            return Ok(());
        }
        Err(format!(
            "processing crashed repeatedly: {max} attempts ended without a result, so the \
             video will not be tried again"
        ))
    }

    /// Decides what follows failed delivery number `attempt` (1-based).
    pub fn decide(&self, attempt: u32, failure: &JobFailure) -> JobDecision {
        match failure {
            JobFailure::BadInput(reason) => JobDecision::GiveUp(reason.clone()),
            JobFailure::Transient(error) if attempt >= self.max_attempts.max(1) => {
                JobDecision::GiveUp(format!(
                    "processing failed after {attempt} attempts: {error}"
                ))
            }
            JobFailure::Transient(_) => {
                let exponent = attempt.saturating_sub(1).min(31);
                let delay = self.base_delay.saturating_mul(1u32 << exponent);
                JobDecision::RetryAfter(delay.min(self.max_delay))
            }
        }
    }
}

mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_payload_is_stored_as_tagged_json() {
        let id = VideoId::new();
        let json = JobPayload::ProcessVideo { video_id: id }.to_json();
        assert_eq!(
            json,
            format!(r#"{{"type":"process_video","video_id":"{id}"}}"#)
        );
        assert_eq!(
            JobPayload::from_json(&json).unwrap(),
            JobPayload::ProcessVideo { video_id: id }
        );
    }

    #[test]
    fn deliveries_up_to_the_ceiling_run_and_later_ones_give_up_as_crashes() {
        let policy = RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        };
        assert!(policy.admit(1).is_ok() && policy.admit(2).is_ok());
        for attempt in [3, 4, 100, u32::MAX] {
            let reason = policy.admit(attempt).unwrap_err();
            assert!(reason.contains("crashed repeatedly"), "{reason}");
            assert!(reason.contains("2 attempts"), "{reason}");
        }
        let at_least_one = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert!(at_least_one.admit(1).is_ok() && at_least_one.admit(2).is_err());
    }

    proptest! {
        #[test]
        fn a_job_runs_at_most_max_attempts_times_however_its_attempts_end(
            max in 1u32..20,
            crashed in proptest::collection::vec(any::<bool>(), 1..40),
        ) {
            // Each delivery either crashes (its worker dies: no decision, the lease expires
            // and the queue delivers it again) or fails transiently (the policy decides).
            let policy = RetryPolicy { max_attempts: max, ..RetryPolicy::default() };
            let mut runs = 0u32;
            for (i, crashes) in crashed.iter().enumerate() {
                let attempt = u32::try_from(i).unwrap() + 1;
                if policy.admit(attempt).is_err() {
                    break;
                }
                runs += 1;
                if !crashes
                    && matches!(
                        policy.decide(attempt, &JobFailure::Transient(anyhow::anyhow!("x"))),
                        JobDecision::GiveUp(_)
                    )
                {
                    break;
                }
            }
            prop_assert!(runs <= max);
        }
    }

    proptest! {
        #[test]
        fn backoff_never_exceeds_the_cap_and_always_ends(attempt in 1u32..1000, max in 1u32..20) {
            let policy = RetryPolicy { max_attempts: max, ..RetryPolicy::default() };
            match policy.decide(attempt, &JobFailure::Transient(anyhow::anyhow!("x"))) {
                JobDecision::RetryAfter(d) => {
                    prop_assert!(attempt < max);
                    prop_assert!(d <= policy.max_delay && d >= policy.base_delay.min(policy.max_delay));
                }
                JobDecision::GiveUp(_) => prop_assert!(attempt >= max),
            }
        }
    }
}
