use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{UserId, VideoId};
use crate::values::{normalized_text, City, Page, PageRequest, ValidationError};
use crate::video::{
    ProcessingProgress, PublicSort, PublicVideo, StatusChange, Undeletable, Video, VideoStatus,
};

/// Why a status change was not applied.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// The change is not allowed from the video's current status.
    #[error("not allowed while the video is {current}")]
    NotAllowed {
        /// The status the video has.
        current: VideoStatus,
    },
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why publishing or unpublishing failed.
#[derive(Debug, thiserror::Error)]
pub enum VisibilityError {
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// Only processed videos can be published or unpublished.
    #[error("the video is not processed")]
    NotProcessed,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a video record was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteVideoRecordError {
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// It has votes.
    #[error("the video has votes")]
    HasVotes,
    /// It is published for voting (processed and public).
    #[error("the video is published")]
    Published,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Undeletable> for DeleteVideoRecordError {
    fn from(rule: Undeletable) -> Self {
        match rule {
            Undeletable::HasVotes => Self::HasVotes,
            Undeletable::Published => Self::Published,
        }
    }
}

/// Filters and order of the public gallery.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicVideoQuery {
    /// Only players from this city (compared by [`City::key`]).
    pub city: Option<City>,
    /// Case-insensitive substring of the title or of a tag.
    pub search: Option<String>,
    /// Only this player's videos (see [`PublicVideoQuery::of_player`]).
    pub player: Option<UserId>,
    /// Order.
    pub sort: PublicSort,
    /// Page.
    pub page: PageRequest,
}

impl PublicVideoQuery {
    /// Validates raw filters: a blank `city` or `q` means no filter; `q` is at most 100 characters.
    ///
    /// # Errors
    /// [`ValidationError`] on `city` or `q`.
    pub fn new(
        city: Option<&str>,
        q: Option<&str>,
        sort: PublicSort,
        page: PageRequest,
    ) -> Result<Self, ValidationError> {
        let city = city
            .filter(|c| !c.trim().is_empty())
            .map(City::parse)
            .transpose()?;
        let search = q
            .filter(|q| !q.trim().is_empty())
            .map(|q| normalized_text("q", q, 1, 100))
            .transpose()?;
        Ok(Self {
            city,
            search,
            player: None,
            sort,
            page,
        })
    }

    /// The same query, for `player`'s videos only.
    #[must_use]
    pub fn of_player(self, player: UserId) -> Self {
        Self {
            player: Some(player),
            ..self
        }
    }

    /// A key naming exactly this page of the gallery (the city by its key, so spellings of one
    /// city share it): what caches store the page under.
    pub fn cache_key(&self) -> String {
        let sort = match self.sort {
            PublicSort::Votes => "votes",
            PublicSort::Recent => "recent",
        };
        format!(
            "{}|{}|{}|{sort}|{}|{}",
            self.city.as_ref().map_or("", |c| c.key()),
            self.search.as_deref().unwrap_or_default(),
            self.player.map(|p| p.to_string()).unwrap_or_default(),
            self.page.page(),
            self.page.page_size()
        )
    }

    /// Whether `video` (owned by a player from `city_key`) passes the filters. The in-memory
    /// adapter filters with it; SQL adapters express the same in `WHERE`.
    pub fn matches(&self, video: &Video, city_key: &str) -> bool {
        video.is_published()
            && self.player.is_none_or(|p| p == video.owner_id)
            && self.city.as_ref().is_none_or(|c| c.key() == city_key)
            && self.search.as_ref().is_none_or(|q| {
                let q = q.to_lowercase();
                video.title.as_str().to_lowercase().contains(&q)
                    || video
                        .tags
                        .as_slice()
                        .iter()
                        .any(|t| t.to_lowercase().contains(&q))
            })
    }
}

/// Stores videos.
#[async_trait]
pub trait VideoRepository: Send + Sync + 'static {
    /// Stores a new video.
    ///
    /// # Errors
    /// Only backend faults (the id is new; its owner exists).
    async fn insert(&self, video: &Video) -> anyhow::Result<()>;

    /// The video with this id, or `None`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn get(&self, id: VideoId) -> anyhow::Result<Option<Video>>;

    /// One owner's videos, newest upload first (ties by id, descending).
    ///
    /// # Errors
    /// Only backend faults.
    async fn list_by_owner(&self, owner: UserId, page: PageRequest) -> anyhow::Result<Page<Video>>;

    /// Published videos (processed and public) with their players, filtered and ordered as asked.
    /// `Votes`: votes descending, then `published_at` descending, then id descending.
    /// `Recent`: `published_at` descending, then id descending.
    ///
    /// # Errors
    /// Only backend faults.
    async fn list_public(&self, query: &PublicVideoQuery) -> anyhow::Result<Page<PublicVideo>>;

    /// Applies a status change atomically: it happens only if [`StatusChange::allowed_from`]
    /// holds for the status stored at that moment, with the effects of [`Video::apply`].
    /// Returns the video as now stored.
    ///
    /// # Errors
    /// [`TransitionError::NotFound`] when there is no such video; [`TransitionError::NotAllowed`]
    /// (with the stored status) when the change is not allowed from it.
    async fn transition(
        &self,
        id: VideoId,
        change: &StatusChange,
        at: DateTime<Utc>,
    ) -> Result<Video, TransitionError>;

    /// Records how far processing has got, only while the video is `processing` (a report
    /// that arrives after the run ended, or for a deleted video, changes nothing). Returns
    /// whether it was recorded.
    ///
    /// # Errors
    /// Only backend faults.
    async fn record_progress(
        &self,
        id: VideoId,
        progress: ProcessingProgress,
    ) -> anyhow::Result<bool>;

    /// Up to `limit` processed videos, by id ascending, after `after` (exclusive) when given:
    /// what `anb reprocess --all` pages through.
    ///
    /// # Errors
    /// Only backend faults.
    async fn processed_ids(
        &self,
        after: Option<VideoId>,
        limit: u32,
    ) -> anyhow::Result<Vec<VideoId>>;

    /// Up to `limit` videos waiting for processing (`uploaded` or `processing`) whose
    /// `status_changed_at` is before `changed_before`, with their status, by id ascending,
    /// after `after` (exclusive: the last id of the previous page) when given. A plain read:
    /// how [`Showcase::restore_lost_jobs`](crate::Showcase::restore_lost_jobs) compares the
    /// database with the queue.
    ///
    /// # Errors
    /// Only backend faults.
    async fn unfinished(
        &self,
        changed_before: DateTime<Utc>,
        after: Option<VideoId>,
        limit: u32,
    ) -> anyhow::Result<Vec<(VideoId, VideoStatus)>>;

    /// Claims up to `limit` stuck videos for re-enqueueing, oldest status change first: those
    /// `uploaded` or `processing` whose `status_changed_at` is before `older_than` and that no
    /// claim since `older_than` took. Claiming records `at` (in the store only, not on
    /// [`Video`]), atomically with the selection, so sweepers racing each other (one per worker)
    /// never claim a video twice, and a claimed video is claimed again only once `older_than`
    /// has passed `at` (one re-enqueue per deadline, not one per sweep). Returns the claimed ids,
    /// in no particular order.
    ///
    /// # Errors
    /// Only backend faults (nothing is claimed then).
    async fn claim_stuck(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<VideoId>>;

    /// Publishes or unpublishes a processed video atomically, with the effects of
    /// [`Video::with_visibility`]. Returns the video as now stored.
    ///
    /// # Errors
    /// [`VisibilityError::NotFound`]; [`VisibilityError::NotProcessed`] when its stored status
    /// is not `processed`.
    async fn set_visibility(
        &self,
        id: VideoId,
        public: bool,
        at: DateTime<Utc>,
    ) -> Result<Video, VisibilityError>;

    /// Deletes the record atomically, only if it has no votes and is not published; a vote
    /// committed concurrently must make exactly one of the two fail. Returns the deleted video.
    /// Its `video.deleted` event is stamped `at`.
    ///
    /// # Errors
    /// [`DeleteVideoRecordError::NotFound`]; [`DeleteVideoRecordError::HasVotes`] when it has at
    /// least one vote; otherwise [`DeleteVideoRecordError::Published`] when it is processed and public.
    async fn delete(&self, id: VideoId, at: DateTime<Utc>)
        -> Result<Video, DeleteVideoRecordError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallery_cache_keys_tell_every_filter_sort_and_page_apart() {
        let page = |n| PageRequest::new(Some(n), Some(10)).unwrap();
        let key = |city, q, sort, n| {
            PublicVideoQuery::new(city, q, sort, page(n))
                .unwrap()
                .cache_key()
        };
        let base = key(Some("Cali"), Some("dunk"), PublicSort::Votes, 1);
        assert_eq!(
            base,
            key(Some(" cali "), Some("dunk"), PublicSort::Votes, 1)
        );
        for other in [
            key(None, Some("dunk"), PublicSort::Votes, 1),
            key(Some("Cali"), None, PublicSort::Votes, 1),
            key(Some("Cali"), Some("dunk"), PublicSort::Recent, 1),
            key(Some("Cali"), Some("dunk"), PublicSort::Votes, 2),
        ] {
            assert_ne!(base, other);
        }
    }
}
