use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anb_domain::ports::{Clock, JobQueue, QueueError};
use anb_domain::{JobId, JobPayload, LeaseToken, LeasedJob, QueueDepth};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// A job queue in process memory with the same lease semantics as the durable ones.
pub struct MemoryQueue {
    clock: Arc<dyn Clock>,
    state: Mutex<Jobs>,
}

#[derive(Default)]
struct Jobs {
    next_seq: u64,
    /// By enqueue order.
    entries: BTreeMap<u64, Entry>,
}

struct Entry {
    id: JobId,
    payload: JobPayload,
    trace_context: Option<String>,
    attempts: u32,
    state: EntryState,
}

enum EntryState {
    Waiting {
        run_after: DateTime<Utc>,
    },
    Leased {
        token: LeaseToken,
        until: DateTime<Utc>,
    },
    Failed,
}

fn after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl MemoryQueue {
    /// An empty queue whose leases run on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(Jobs::default()),
        }
    }
}

impl Jobs {
    /// The entry holding `job` under the current lease `token` (expired or not, as long as
    /// nobody leased it since).
    fn held(&mut self, job: JobId, token: LeaseToken) -> Result<(u64, &mut Entry), QueueError> {
        self.entries
            .iter_mut()
            .find(|(_, e)| e.id == job)
            .filter(|(_, e)| matches!(e.state, EntryState::Leased { token: t, .. } if t == token))
            .map(|(seq, e)| (*seq, e))
            .ok_or(QueueError::LeaseLost)
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(
        &self,
        payload: &JobPayload,
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<JobId, QueueError> {
        let run_after = after(self.clock.now(), delay);
        let mut jobs = self.state.lock();
        let id = JobId::new();
        let seq = jobs.next_seq;
        jobs.next_seq += 1;
        jobs.entries.insert(
            seq,
            Entry {
                id,
                payload: payload.clone(),
                trace_context: trace_context.map(str::to_owned),
                attempts: 0,
                state: EntryState::Waiting { run_after },
            },
        );
        Ok(id)
    }

    async fn enqueue_missing(
        &self,
        payloads: &[JobPayload],
        trace_context: Option<&str>,
        delay: Duration,
    ) -> Result<Vec<JobPayload>, QueueError> {
        let run_after = after(self.clock.now(), delay);
        let mut jobs = self.state.lock();
        let mut enqueued = Vec::new();
        for payload in payloads {
            let live = jobs
                .entries
                .values()
                .any(|e| &e.payload == payload && !matches!(e.state, EntryState::Failed));
            if live {
                continue;
            }
            let seq = jobs.next_seq;
            jobs.next_seq += 1;
            jobs.entries.insert(
                seq,
                Entry {
                    id: JobId::new(),
                    payload: payload.clone(),
                    trace_context: trace_context.map(str::to_owned),
                    attempts: 0,
                    state: EntryState::Waiting { run_after },
                },
            );
            enqueued.push(payload.clone());
        }
        Ok(enqueued)
    }

    async fn lease(&self, lease_for: Duration) -> Result<Option<LeasedJob>, QueueError> {
        let now = self.clock.now();
        let mut jobs = self.state.lock();
        let next = jobs
            .entries
            .values_mut()
            .filter_map(|e| {
                let due = match e.state {
                    EntryState::Waiting { run_after } if run_after <= now => run_after,
                    EntryState::Leased { until, .. } if until <= now => until,
                    _ => return None,
                };
                Some((due, e))
            })
            .min_by_key(|(due, _)| *due)
            .map(|(_, e)| e);
        let Some(entry) = next else {
            return Ok(None);
        };
        let token = LeaseToken::new();
        let until = after(now, lease_for);
        entry.attempts += 1;
        entry.state = EntryState::Leased { token, until };
        Ok(Some(LeasedJob {
            id: entry.id,
            payload: entry.payload.clone(),
            attempt: entry.attempts,
            lease: token,
            leased_until: until,
            trace_context: entry.trace_context.clone(),
        }))
    }

    async fn heartbeat(
        &self,
        job: JobId,
        lease: LeaseToken,
        extend_by: Duration,
    ) -> Result<DateTime<Utc>, QueueError> {
        let now = self.clock.now();
        let mut jobs = self.state.lock();
        let (_, entry) = jobs.held(job, lease)?;
        match &mut entry.state {
            EntryState::Leased { until, .. } if *until > now => {
                *until = after(now, extend_by);
                Ok(*until)
            }
            _ => Err(QueueError::LeaseLost),
        }
    }

    async fn ack(&self, job: JobId, lease: LeaseToken) -> Result<(), QueueError> {
        let mut jobs = self.state.lock();
        let (seq, _) = jobs.held(job, lease)?;
        jobs.entries.remove(&seq);
        Ok(())
    }

    async fn retry(
        &self,
        job: JobId,
        lease: LeaseToken,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let run_after = after(self.clock.now(), delay);
        let mut jobs = self.state.lock();
        let (_, entry) = jobs.held(job, lease)?;
        entry.state = EntryState::Waiting { run_after };
        Ok(())
    }

    async fn fail(&self, job: JobId, lease: LeaseToken, reason: &str) -> Result<(), QueueError> {
        let mut jobs = self.state.lock();
        let (_, entry) = jobs.held(job, lease)?;
        tracing::debug!(job = %job, reason, "job dead-lettered");
        entry.state = EntryState::Failed;
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let now = self.clock.now();
        let jobs = self.state.lock();
        let mut depth = QueueDepth::default();
        for entry in jobs.entries.values() {
            match entry.state {
                EntryState::Waiting { run_after } if run_after <= now => depth.ready += 1,
                EntryState::Waiting { .. } => depth.scheduled += 1,
                EntryState::Leased { until, .. } if until <= now => depth.ready += 1,
                EntryState::Leased { .. } => depth.leased += 1,
                EntryState::Failed => depth.failed += 1,
            }
        }
        Ok(depth)
    }
}
