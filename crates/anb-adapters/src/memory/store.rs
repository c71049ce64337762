use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use anb_domain::event::VideoEvent;
use anb_domain::ports::{
    CastVoteError, CityStanding, CreateUserError, DeleteVideoRecordError, PublicVideoQuery,
    RankingEntry, RankingQuery, TransitionError, UserRepository, VideoRepository, VisibilityError,
    VoteRepository,
};
use anb_domain::rendition::Rendition;
use anb_domain::session::SecretDigest;
use anb_domain::user::{EmailPurpose, NewUser, PlayerSummary, User};
use anb_domain::video::ProcessingProgress;
use anb_domain::{
    Email, Page, PageRequest, PasswordHash, PublicSort, PublicVideo, RenditionId, StatusChange,
    UserId, Video, VideoId, VideoStatus,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// Users, videos, votes and renditions in one mutex: every operation is atomic, like a transaction.
#[derive(Debug, Default)]
pub struct MemoryStore {
    pub(super) state: Mutex<State>,
    /// Where the events it records get their trace context.
    pub(super) trace: crate::tracer::Tracer,
}

#[derive(Debug, Default)]
pub(super) struct State {
    users: HashMap<UserId, User>,
    by_email: HashMap<String, UserId>,
    last_vote_at: HashMap<UserId, DateTime<Utc>>,
    videos: HashMap<VideoId, Video>,
    /// When the sweeper last claimed each video ([`VideoRepository::claim_stuck`]).
    claimed_at: HashMap<VideoId, DateTime<Utc>>,
    votes: HashSet<(UserId, VideoId)>,
    /// Conversions on demand (`renditions.rs`); a video's go with it.
    pub(super) renditions: HashMap<RenditionId, Rendition>,
    /// Sessions and refresh tokens (`sessions.rs`).
    pub(super) sessions: super::sessions::Sessions,
    /// Shares and share links (`shares.rs`); a video's go with it.
    pub(super) shares: super::shares::Shares,
    /// External identities: (issuer, subject) → account.
    identities: HashMap<(String, String), UserId>,
    /// One-time email tokens by digest.
    email_tokens: HashMap<SecretDigest, EmailToken>,
    /// Video events, webhooks and their deliveries (`events.rs`).
    pub(super) events: super::events::Events,
    /// Workers' reports by name (`ops.rs`).
    pub(super) workers: HashMap<String, anb_domain::ops::WorkerBeat>,
}

/// A stored one-time email token.
#[derive(Debug)]
struct EmailToken {
    user: UserId,
    purpose: EmailPurpose,
    expires_at: DateTime<Utc>,
    used: bool,
}

impl State {
    /// The user with `id`.
    pub(super) fn user(&self, id: UserId) -> Option<&User> {
        self.users.get(&id)
    }

    /// The video with `id`.
    pub(super) fn video(&self, id: VideoId) -> Option<&Video> {
        self.videos.get(&id)
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose events are stamped with `trace`'s context (their webhook
    /// deliveries then continue the trace of the change that made them).
    pub fn with_trace_context(trace: std::sync::Arc<dyn anb_domain::ports::TraceContext>) -> Self {
        Self {
            trace: crate::tracer::Tracer::new(trace),
            ..Self::default()
        }
    }
}

pub(super) fn paginate<T>(items: Vec<T>, page: PageRequest) -> Page<T> {
    let total = items.len() as u64;
    let items = items
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .collect();
    Page {
        items,
        total,
        request: page,
    }
}

#[async_trait]
impl UserRepository for MemoryStore {
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let mut state = self.state.lock();
        if state.by_email.contains_key(user.email.as_str()) {
            return Err(CreateUserError::EmailTaken);
        }
        let user = user.into_user();
        state
            .by_email
            .insert(user.email.as_str().to_owned(), user.id);
        state.users.insert(user.id, user.clone());
        Ok(user)
    }

    async fn get(&self, id: UserId) -> anyhow::Result<Option<User>> {
        Ok(self.state.lock().users.get(&id).cloned())
    }

    async fn find_by_email(&self, email: &Email) -> anyhow::Result<Option<User>> {
        let state = self.state.lock();
        Ok(state
            .by_email
            .get(email.as_str())
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn directory(
        &self,
        name_part: &str,
        page: PageRequest,
    ) -> anyhow::Result<Page<PlayerSummary>> {
        let state = self.state.lock();
        let mut found: Vec<(String, &User)> = state
            .users
            .values()
            .map(|u| (u.username().to_lowercase(), u))
            .filter(|(key, _)| key.contains(name_part))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(paginate(
            found
                .into_iter()
                .map(|(_, u)| PlayerSummary::from(u))
                .collect(),
            page,
        ))
    }

    async fn find_by_identity(&self, issuer: &str, subject: &str) -> anyhow::Result<Option<User>> {
        let state = self.state.lock();
        Ok(state
            .identities
            .get(&(issuer.to_owned(), subject.to_owned()))
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn link_identity(
        &self,
        user: UserId,
        issuer: &str,
        subject: &str,
        _at: DateTime<Utc>,
    ) -> anyhow::Result<UserId> {
        let mut state = self.state.lock();
        anyhow::ensure!(
            state.users.contains_key(&user),
            "user {user} does not exist"
        );
        Ok(*state
            .identities
            .entry((issuer.to_owned(), subject.to_owned()))
            .or_insert(user))
    }

    async fn mark_email_verified(&self, user: UserId, at: DateTime<Utc>) -> anyhow::Result<bool> {
        let mut state = self.state.lock();
        let Some(user) = state.users.get_mut(&user) else {
            return Ok(false);
        };
        user.email_verified_at.get_or_insert(at);
        Ok(true)
    }

    async fn set_password_hash(&self, user: UserId, hash: &PasswordHash) -> anyhow::Result<bool> {
        let mut state = self.state.lock();
        let Some(user) = state.users.get_mut(&user) else {
            return Ok(false);
        };
        user.password_hash = hash.clone();
        Ok(true)
    }

    async fn store_email_token(
        &self,
        digest: &SecretDigest,
        user: UserId,
        purpose: EmailPurpose,
        _now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut state = self.state.lock();
        anyhow::ensure!(
            state.users.contains_key(&user),
            "user {user} does not exist"
        );
        anyhow::ensure!(
            !state.email_tokens.contains_key(digest),
            "the email token is already stored"
        );
        state.email_tokens.insert(
            digest.clone(),
            EmailToken {
                user,
                purpose,
                expires_at,
                used: false,
            },
        );
        Ok(())
    }

    async fn consume_email_token(
        &self,
        digest: &SecretDigest,
        purpose: EmailPurpose,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<UserId>> {
        let mut state = self.state.lock();
        Ok(state
            .email_tokens
            .get_mut(digest)
            .filter(|t| t.purpose == purpose && !t.used && t.expires_at > now)
            .map(|t| {
                t.used = true;
                t.user
            }))
    }
}

#[async_trait]
impl VideoRepository for MemoryStore {
    async fn insert(&self, video: &Video) -> anyhow::Result<()> {
        let mut state = self.state.lock();
        anyhow::ensure!(
            state.users.contains_key(&video.owner_id),
            "owner {} does not exist",
            video.owner_id
        );
        anyhow::ensure!(
            !state.videos.contains_key(&video.id),
            "video {} already exists",
            video.id
        );
        state.videos.insert(video.id, video.clone());
        let events = VideoEvent::of_change(None, Some(video), video.uploaded_at, None);
        state.events.record(&events, self.trace.current());
        Ok(())
    }

    async fn get(&self, id: VideoId) -> anyhow::Result<Option<Video>> {
        Ok(self.state.lock().videos.get(&id).cloned())
    }

    async fn list_by_owner(&self, owner: UserId, page: PageRequest) -> anyhow::Result<Page<Video>> {
        let state = self.state.lock();
        let mut videos: Vec<Video> = state
            .videos
            .values()
            .filter(|v| v.owner_id == owner)
            .cloned()
            .collect();
        videos.sort_by_key(|v| Reverse((v.uploaded_at, v.id)));
        Ok(paginate(videos, page))
    }

    async fn list_public(&self, query: &PublicVideoQuery) -> anyhow::Result<Page<PublicVideo>> {
        let state = self.state.lock();
        let mut found: Vec<PublicVideo> = state
            .videos
            .values()
            .filter_map(|video| {
                let owner = state.users.get(&video.owner_id)?;
                query.matches(video, owner.city.key()).then(|| PublicVideo {
                    video: video.clone(),
                    player: PlayerSummary::from(owner),
                })
            })
            .collect();
        match query.sort {
            PublicSort::Votes => {
                found.sort_by_key(|p| Reverse((p.video.votes, p.video.published_at, p.video.id)))
            }
            PublicSort::Recent => {
                found.sort_by_key(|p| Reverse((p.video.published_at, p.video.id)))
            }
        }
        Ok(paginate(found, query.page))
    }

    async fn transition(
        &self,
        id: VideoId,
        change: &StatusChange,
        at: DateTime<Utc>,
    ) -> Result<Video, TransitionError> {
        let mut state = self.state.lock();
        let video = state.videos.get_mut(&id).ok_or(TransitionError::NotFound)?;
        let next = video
            .apply(change, at)
            .map_err(|current| TransitionError::NotAllowed { current })?;
        let events = VideoEvent::of_change(Some(video), Some(&next), at, change.attempt());
        *video = next.clone();
        state.events.record(&events, self.trace.current());
        Ok(next)
    }

    async fn record_progress(
        &self,
        id: VideoId,
        progress: ProcessingProgress,
    ) -> anyhow::Result<bool> {
        let mut state = self.state.lock();
        Ok(match state.videos.get_mut(&id) {
            Some(video) if video.status == VideoStatus::Processing => {
                video.progress = Some(progress);
                true
            }
            _ => false,
        })
    }

    async fn processed_ids(
        &self,
        after: Option<VideoId>,
        limit: u32,
    ) -> anyhow::Result<Vec<VideoId>> {
        let state = self.state.lock();
        let mut ids: Vec<VideoId> = state
            .videos
            .values()
            .filter(|v| v.status == VideoStatus::Processed)
            .filter(|v| after.is_none_or(|after| v.id > after))
            .map(|v| v.id)
            .collect();
        ids.sort();
        ids.truncate(limit as usize);
        Ok(ids)
    }

    async fn unfinished(
        &self,
        changed_before: DateTime<Utc>,
        after: Option<VideoId>,
        limit: u32,
    ) -> anyhow::Result<Vec<(VideoId, VideoStatus)>> {
        let state = self.state.lock();
        let mut unfinished: Vec<(VideoId, VideoStatus)> = state
            .videos
            .values()
            .filter(|v| matches!(v.status, VideoStatus::Uploaded | VideoStatus::Processing))
            .filter(|v| v.status_changed_at < changed_before)
            .filter(|v| after.is_none_or(|after| v.id > after))
            .map(|v| (v.id, v.status.clone()))
            .collect();
        unfinished.sort_by_key(|(id, _)| *id);
        unfinished.truncate(limit as usize);
        Ok(unfinished)
    }

    async fn claim_stuck(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<VideoId>> {
        let mut state = self.state.lock();
        let mut stuck: Vec<(DateTime<Utc>, VideoId)> = state
            .videos
            .values()
            .filter(|v| matches!(v.status, VideoStatus::Uploaded | VideoStatus::Processing))
            .filter(|v| v.status_changed_at < older_than)
            .filter(|v| state.claimed_at.get(&v.id).is_none_or(|c| *c < older_than))
            .map(|v| (v.status_changed_at, v.id))
            .collect();
        stuck.sort();
        stuck.truncate(limit as usize);
        for (_, id) in &stuck {
            state.claimed_at.insert(*id, at);
        }
        Ok(stuck.into_iter().map(|(_, id)| id).collect())
    }

    async fn set_visibility(
        &self,
        id: VideoId,
        public: bool,
        at: DateTime<Utc>,
    ) -> Result<Video, VisibilityError> {
        let mut state = self.state.lock();
        let video = state.videos.get_mut(&id).ok_or(VisibilityError::NotFound)?;
        let next = video
            .with_visibility(public, at)
            .map_err(|_| VisibilityError::NotProcessed)?;
        let events = VideoEvent::of_change(Some(video), Some(&next), at, None);
        *video = next.clone();
        state.events.record(&events, self.trace.current());
        Ok(next)
    }

    async fn delete(
        &self,
        id: VideoId,
        at: DateTime<Utc>,
    ) -> Result<Video, DeleteVideoRecordError> {
        let mut state = self.state.lock();
        let video = state
            .videos
            .get(&id)
            .ok_or(DeleteVideoRecordError::NotFound)?;
        video.check_deletable()?;
        state.claimed_at.remove(&id);
        state.renditions.retain(|_, r| r.video_id != id);
        state.shares.forget_video(id);
        let video = state.videos.remove(&id).expect("present: checked above");
        let events = VideoEvent::of_change(Some(&video), None, at, None);
        state.events.record(&events, self.trace.current());
        Ok(video)
    }
}

#[async_trait]
impl VoteRepository for MemoryStore {
    async fn cast(
        &self,
        voter: UserId,
        video: VideoId,
        at: DateTime<Utc>,
    ) -> Result<u64, CastVoteError> {
        let mut state = self.state.lock();
        let state = &mut *state;
        let target = state
            .videos
            .get_mut(&video)
            .ok_or(CastVoteError::NotFound)?;
        if target.owner_id == voter {
            return Err(CastVoteError::SelfVote);
        }
        if !target.is_published() {
            return Err(CastVoteError::NotVotable);
        }
        if !state.votes.insert((voter, video)) {
            return Err(CastVoteError::AlreadyVoted);
        }
        target.votes += 1;
        let total = target.votes;
        let owner = target.owner_id;
        if let Some(user) = state.users.get_mut(&owner) {
            user.votes_received += 1;
        }
        state.last_vote_at.insert(owner, at);
        Ok(total)
    }

    async fn has_voted(&self, voter: UserId, video: VideoId) -> anyhow::Result<bool> {
        Ok(self.state.lock().votes.contains(&(voter, video)))
    }

    async fn count_for_video(&self, video: VideoId) -> anyhow::Result<u64> {
        let state = self.state.lock();
        Ok(state.votes.iter().filter(|(_, v)| *v == video).count() as u64)
    }

    async fn rankings(&self, query: &RankingQuery) -> anyhow::Result<Page<RankingEntry>> {
        let state = self.state.lock();
        let mut ranked: Vec<(&User, DateTime<Utc>)> = state
            .users
            .values()
            .filter(|u| u.votes_received > 0)
            .filter(|u| query.city.as_ref().is_none_or(|c| c.key() == u.city.key()))
            .filter(|u| {
                query
                    .country
                    .as_ref()
                    .is_none_or(|c| c.key() == u.country.key())
            })
            .map(|u| {
                (
                    u,
                    state.last_vote_at.get(&u.id).copied().unwrap_or_default(),
                )
            })
            .collect();
        ranked.sort_by_key(|(u, last)| (Reverse(u.votes_received), *last, u.id));
        let offset = query.page.offset();
        let page = paginate(ranked, query.page);
        let items = page
            .items
            .into_iter()
            .enumerate()
            .map(|(i, (user, _))| RankingEntry {
                position: offset + i as u64 + 1,
                user_id: user.id,
                username: user.username(),
                city: user.city.clone(),
                country: user.country.clone(),
                votes: user.votes_received,
            })
            .collect();
        Ok(Page {
            items,
            total: page.total,
            request: page.request,
        })
    }

    async fn standing(&self, player: UserId) -> anyhow::Result<Option<RankingEntry>> {
        let state = self.state.lock();
        let Some(user) = state.users.get(&player).filter(|u| u.votes_received > 0) else {
            return Ok(None);
        };
        let key = |u: &User| {
            let last = state.last_vote_at.get(&u.id).copied().unwrap_or_default();
            (Reverse(u.votes_received), last, u.id)
        };
        let ahead = state
            .users
            .values()
            .filter(|u| u.votes_received > 0 && key(u) < key(user))
            .count() as u64;
        Ok(Some(RankingEntry {
            position: ahead + 1,
            user_id: user.id,
            username: user.username(),
            city: user.city.clone(),
            country: user.country.clone(),
            votes: user.votes_received,
        }))
    }

    async fn ranked_cities(&self, limit: u32) -> anyhow::Result<Vec<CityStanding>> {
        let state = self.state.lock();
        let mut cities: HashMap<&str, CityStanding> = HashMap::new();
        for user in state.users.values().filter(|u| u.votes_received > 0) {
            let entry = cities
                .entry(user.city.key())
                .or_insert_with(|| CityStanding {
                    city: user.city.clone(),
                    players: 0,
                    votes: 0,
                });
            // One spelling for the city: the least, as the SQL stores' `min(city)`.
            if user.city.as_str() < entry.city.as_str() {
                entry.city = user.city.clone();
            }
            entry.players += 1;
            entry.votes += user.votes_received;
        }
        let mut cities: Vec<CityStanding> = cities.into_values().collect();
        cities.sort_by(|a, b| {
            b.votes
                .cmp(&a.votes)
                .then_with(|| a.city.as_str().cmp(b.city.as_str()))
        });
        cities.truncate(limit as usize);
        Ok(cities)
    }
}
