//! [`ShareRepository`] on [`MemoryStore`]: under the store's one mutex; a video's shares and
//! links go with it.

use std::collections::HashMap;

use anb_domain::ports::{ShareError, ShareRepository};
use anb_domain::sharing::{Share, ShareLink, SharedVideo};
use anb_domain::user::PlayerSummary;
use anb_domain::{Page, PageRequest, ShareLinkId, UserId, VideoId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::paginate;
use super::MemoryStore;

/// Shares (video, recipient → when) and links.
#[derive(Debug, Default)]
pub(super) struct Shares {
    shares: HashMap<(VideoId, UserId), DateTime<Utc>>,
    links: HashMap<ShareLinkId, ShareLink>,
}

impl Shares {
    /// Drops a deleted video's shares and links.
    pub(super) fn forget_video(&mut self, video: VideoId) {
        self.shares.retain(|(v, _), _| *v != video);
        self.links.retain(|_, l| l.video_id != video);
    }
}

#[async_trait]
impl ShareRepository for MemoryStore {
    async fn share(
        &self,
        video: VideoId,
        recipient: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Share, bool), ShareError> {
        let mut state = self.state.lock();
        if state.video(video).is_none() {
            return Err(ShareError::NoSuchVideo);
        }
        let summary =
            PlayerSummary::from(state.user(recipient).ok_or(ShareError::NoSuchRecipient)?);
        let mut added = false;
        let shared_at = *state
            .shares
            .shares
            .entry((video, recipient))
            .or_insert_with(|| {
                added = true;
                now
            });
        Ok((
            Share {
                video_id: video,
                recipient: summary,
                shared_at,
            },
            added,
        ))
    }

    async fn unshare(&self, video: VideoId, recipient: UserId) -> anyhow::Result<bool> {
        Ok(self
            .state
            .lock()
            .shares
            .shares
            .remove(&(video, recipient))
            .is_some())
    }

    async fn shares_of(&self, video: VideoId, page: PageRequest) -> anyhow::Result<Page<Share>> {
        let state = self.state.lock();
        let mut shares: Vec<Share> = state
            .shares
            .shares
            .iter()
            .filter(|((v, _), _)| *v == video)
            .filter_map(|((_, user), at)| {
                Some(Share {
                    video_id: video,
                    recipient: PlayerSummary::from(state.user(*user)?),
                    shared_at: *at,
                })
            })
            .collect();
        shares.sort_by(|a, b| {
            b.shared_at
                .cmp(&a.shared_at)
                .then(a.recipient.user_id.cmp(&b.recipient.user_id))
        });
        Ok(paginate(shares, page))
    }

    async fn shared_since(
        &self,
        video: VideoId,
        user: UserId,
    ) -> anyhow::Result<Option<DateTime<Utc>>> {
        Ok(self.state.lock().shares.shares.get(&(video, user)).copied())
    }

    async fn shared_with(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> anyhow::Result<Page<SharedVideo>> {
        let state = self.state.lock();
        let mut shared: Vec<SharedVideo> = state
            .shares
            .shares
            .iter()
            .filter(|((_, u), _)| *u == user)
            .filter_map(|((video, _), at)| {
                let video = state.video(*video)?;
                Some(SharedVideo {
                    owner: PlayerSummary::from(state.user(video.owner_id)?),
                    video: video.clone(),
                    shared_at: *at,
                })
            })
            .collect();
        shared.sort_by(|a, b| {
            b.shared_at
                .cmp(&a.shared_at)
                .then(a.video.id.cmp(&b.video.id))
        });
        Ok(paginate(shared, page))
    }

    async fn create_link(&self, link: &ShareLink) -> anyhow::Result<()> {
        let mut state = self.state.lock();
        anyhow::ensure!(
            state.video(link.video_id).is_some(),
            "video {} does not exist",
            link.video_id
        );
        state.shares.links.insert(link.id, link.clone());
        Ok(())
    }

    async fn link(&self, id: ShareLinkId) -> anyhow::Result<Option<ShareLink>> {
        Ok(self.state.lock().shares.links.get(&id).cloned())
    }

    async fn links_of(&self, video: VideoId) -> anyhow::Result<Vec<ShareLink>> {
        let state = self.state.lock();
        let mut links: Vec<ShareLink> = state
            .shares
            .links
            .values()
            .filter(|l| l.video_id == video && l.revoked_at.is_none())
            .cloned()
            .collect();
        links.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(links)
    }

    async fn revoke_link(
        &self,
        video: VideoId,
        id: ShareLinkId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let mut state = self.state.lock();
        match state.shares.links.get_mut(&id) {
            Some(link) if link.video_id == video && link.revoked_at.is_none() => {
                link.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
