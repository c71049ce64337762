//! What an operator sees at a glance: the queue, the workers, the last hour's processing and
//! the webhook backlog ([`OpsSummary`]).

use chrono::{DateTime, Utc};

use crate::event::EventType;
use crate::job::QueueDepth;

/// A worker's report of itself, sent every few seconds: who it is and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerBeat {
    /// Its name (`host:pid`).
    pub name: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it reported last.
    pub seen_at: DateTime<Utc>,
    /// The jobs it holds now (`process <video id>`, `convert <rendition id>`, …).
    pub jobs: Vec<String>,
}

/// The last hour's processing, from the videos' events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Activity {
    /// Videos processed.
    pub processed: u64,
    /// Videos that failed.
    pub failed: u64,
    /// How long each processed video's last attempt took, in seconds (start to end).
    pub durations: Vec<f64>,
}

impl Activity {
    /// The activity of `events` (`(video, kind, at)` of kinds `video.processing`,
    /// `video.processed` and `video.failed`, each video's in order) at or after `since`: a
    /// processed video's time runs from the `video.processing` just before its
    /// `video.processed` (none when it was processed again without a new attempt).
    pub fn of_events<V: PartialEq>(
        events: &[(V, EventType, DateTime<Utc>)],
        since: DateTime<Utc>,
    ) -> Self {
        let mut activity = Self::default();
        for (i, (video, kind, at)) in events.iter().enumerate() {
            if *at < since {
                continue;
            }
            match kind {
                EventType::VideoFailed => activity.failed += 1,
                EventType::VideoProcessed => {
                    activity.processed += 1;
                    let started = i
                        .checked_sub(1)
                        .map(|j| &events[j])
                        .filter(|(v, k, _)| v == video && *k == EventType::VideoProcessing);
                    if let Some((_, _, start)) = started {
                        activity
                            .durations
                            .push((*at - *start).num_milliseconds() as f64 / 1000.0);
                    }
                }
                _ => {}
            }
        }
        activity
    }
}

/// The operator's summary.
#[derive(Clone, Debug, PartialEq)]
pub struct OpsSummary {
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// Jobs by state (`leased`: in flight).
    pub queue: QueueDepth,
    /// Workers that reported in the last minute, most recent first.
    pub workers: Vec<WorkerBeat>,
    /// The last hour's processing.
    pub last_hour: Activity,
    /// The median processing time in the last hour, in seconds.
    pub p50_seconds: Option<f64>,
    /// The 95th percentile processing time in the last hour, in seconds.
    pub p95_seconds: Option<f64>,
    /// Webhook deliveries waiting.
    pub webhook_pending: u64,
    /// Webhook deliveries given up (dead letters).
    pub webhook_dead: u64,
}

/// The `p`-th percentile (0 to 100) of `values`, nearest rank; `None` when empty.
///
/// ```
/// use anb_domain::ops::percentile;
/// let values = [4.0, 1.0, 3.0, 2.0];
/// assert_eq!(percentile(&values, 50.0), Some(2.0));
/// assert_eq!(percentile(&values, 95.0), Some(4.0));
/// assert_eq!(percentile(&[], 50.0), None);
/// ```
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}
