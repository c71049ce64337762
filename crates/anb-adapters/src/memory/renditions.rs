//! [`RenditionRepository`] on [`MemoryStore`]: under the store's one mutex, so a request's
//! limit check and its insert are one step.

use anb_domain::event::VideoEvent;
use anb_domain::ports::{
    RenditionRepository, RenditionTransitionError, RequestRenditionError, Requested,
};
use anb_domain::rendition::{Rendition, RenditionChange, RenditionStatus};
use anb_domain::video::ProcessingProgress;
use anb_domain::{RenditionId, VideoId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;

#[async_trait]
impl RenditionRepository for MemoryStore {
    async fn request(
        &self,
        rendition: &Rendition,
        max_pending: u32,
    ) -> Result<Requested, RequestRenditionError> {
        let mut state = self.state.lock();
        let same = state
            .renditions
            .values()
            .find(|r| r.same_as(rendition))
            .cloned();
        if let Some(existing) = &same {
            if !matches!(existing.status, RenditionStatus::Failed { .. }) {
                return Ok(Requested::Existing(existing.clone()));
            }
        }
        let pending = state
            .renditions
            .values()
            .filter(|r| r.owner_id == rendition.owner_id && r.status.is_unfinished())
            .count();
        if pending >= max_pending as usize {
            return Err(RequestRenditionError::TooManyPending { limit: max_pending });
        }
        let (stored, requested) = match same {
            Some(failed) => {
                let again = failed
                    .apply(&RenditionChange::AskAgain, rendition.requested_at)
                    .expect("a failed rendition may be asked for again");
                (again.clone(), Requested::Again(again))
            }
            None => (rendition.clone(), Requested::New(rendition.clone())),
        };
        state.renditions.insert(stored.id, stored);
        Ok(requested)
    }

    async fn get(&self, id: RenditionId) -> anyhow::Result<Option<Rendition>> {
        Ok(self.state.lock().renditions.get(&id).cloned())
    }

    async fn list_for_video(&self, video: VideoId) -> anyhow::Result<Vec<Rendition>> {
        let state = self.state.lock();
        let mut renditions: Vec<Rendition> = state
            .renditions
            .values()
            .filter(|r| r.video_id == video)
            .cloned()
            .collect();
        renditions.sort_by_key(|r| (r.requested_at, r.id));
        Ok(renditions)
    }

    async fn transition(
        &self,
        id: RenditionId,
        change: &RenditionChange,
        at: DateTime<Utc>,
    ) -> Result<Rendition, RenditionTransitionError> {
        let mut state = self.state.lock();
        let rendition = state
            .renditions
            .get_mut(&id)
            .ok_or(RenditionTransitionError::NotFound)?;
        let next = rendition
            .apply(change, at)
            .map_err(|current| RenditionTransitionError::NotAllowed { current })?;
        let ready =
            next.status == RenditionStatus::Ready && rendition.status != RenditionStatus::Ready;
        *rendition = next.clone();
        if ready {
            if let Some(video) = state.video(next.video_id).cloned() {
                let event = VideoEvent::rendition_ready(&video, &next, at);
                state.events.record(&[event], self.trace.current());
            }
        }
        Ok(next)
    }

    async fn unfinished(
        &self,
        requested_before: DateTime<Utc>,
        after: Option<RenditionId>,
        limit: u32,
    ) -> anyhow::Result<Vec<Rendition>> {
        let state = self.state.lock();
        let mut unfinished: Vec<Rendition> = state
            .renditions
            .values()
            .filter(|r| r.status.is_unfinished() && r.requested_at < requested_before)
            .filter(|r| after.is_none_or(|after| r.id > after))
            .cloned()
            .collect();
        unfinished.sort_by_key(|r| r.id);
        unfinished.truncate(limit as usize);
        Ok(unfinished)
    }

    async fn record_progress(
        &self,
        id: RenditionId,
        progress: ProcessingProgress,
    ) -> anyhow::Result<bool> {
        let mut state = self.state.lock();
        Ok(match state.renditions.get_mut(&id) {
            Some(r) if r.status == RenditionStatus::Processing => {
                r.progress = Some(progress);
                true
            }
            _ => false,
        })
    }
}
