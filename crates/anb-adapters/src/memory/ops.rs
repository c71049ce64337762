//! [`OpsRecords`] on [`MemoryStore`]: workers' reports beside the events.

use anb_domain::event::EventType;
use anb_domain::ops::{Activity, WorkerBeat};
use anb_domain::ports::OpsRecords;
use anb_domain::VideoId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::MemoryStore;

#[async_trait]
impl OpsRecords for MemoryStore {
    async fn beat(&self, beat: &WorkerBeat) -> anyhow::Result<()> {
        let mut state = self.state.lock();
        state.workers.insert(beat.name.clone(), beat.clone());
        Ok(())
    }

    async fn workers_seen_since(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<WorkerBeat>> {
        let state = self.state.lock();
        let mut seen: Vec<WorkerBeat> = state
            .workers
            .values()
            .filter(|w| w.seen_at >= since)
            .cloned()
            .collect();
        seen.sort_by(|a, b| b.seen_at.cmp(&a.seen_at).then(a.name.cmp(&b.name)));
        Ok(seen)
    }

    async fn activity_since(&self, since: DateTime<Utc>) -> anyhow::Result<Activity> {
        let state = self.state.lock();
        let mut events: Vec<(VideoId, EventType, DateTime<Utc>)> = state
            .events
            .log()
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventType::VideoProcessing | EventType::VideoProcessed | EventType::VideoFailed
                )
            })
            .map(|e| (e.video_id, e.kind, e.at))
            .collect();
        // Each video's events together, in their order.
        events.sort_by_key(|(video, _, _)| *video);
        Ok(Activity::of_events(&events, since))
    }
}
