use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{UserId, VideoId};
use crate::values::{City, Country, Page, PageRequest};

/// Why a vote was not recorded. The same enum is the service's answer to a vote.
#[derive(Debug, thiserror::Error)]
pub enum CastVoteError {
    /// This user already voted for this video.
    #[error("you already voted for this video")]
    AlreadyVoted,
    /// Players cannot vote for their own videos.
    #[error("you cannot vote for your own video")]
    SelfVote,
    /// Only processed, public videos take votes.
    #[error("this video is not open for voting")]
    NotVotable,
    /// No such video.
    #[error("video not found")]
    NotFound,
    /// The voter has not verified their email, and the showcase requires it
    /// ([`ShowcaseConfig::vote_requires_verified_email`](crate::ShowcaseConfig)). Decided by
    /// the service, never by a repository.
    #[error("verify your email before voting")]
    EmailNotVerified,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Filters of the rankings.
#[derive(Clone, Debug, PartialEq)]
pub struct RankingQuery {
    /// Only players from this city.
    pub city: Option<City>,
    /// Only players from this country.
    pub country: Option<Country>,
    /// Page.
    pub page: PageRequest,
}

impl RankingQuery {
    /// Validates raw filters: a blank `city` or `country` means no filter.
    ///
    /// # Errors
    /// [`ValidationError`](crate::values::ValidationError) on `city` or `country`.
    pub fn new(
        city: Option<&str>,
        country: Option<&str>,
        page: PageRequest,
    ) -> Result<Self, crate::values::ValidationError> {
        fn given(raw: Option<&str>) -> Option<&str> {
            raw.filter(|v| !v.trim().is_empty())
        }
        Ok(Self {
            city: given(city).map(City::parse).transpose()?,
            country: given(country).map(Country::parse).transpose()?,
            page,
        })
    }

    /// A key naming exactly this page of the rankings (filters by their keys, so spellings
    /// of one city share it): what caches store the page under.
    pub fn cache_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.city.as_ref().map_or("", |c| c.key()),
            self.country.as_ref().map_or("", |c| c.key()),
            self.page.page(),
            self.page.page_size()
        )
    }
}

/// One row of the rankings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RankingEntry {
    /// 1-based position across all pages of this query (row number, continuous across pages).
    pub position: u64,
    /// The player.
    pub user_id: UserId,
    /// `first last`.
    pub username: String,
    /// The player's city.
    pub city: City,
    /// The player's country.
    pub country: Country,
    /// Votes received on all the player's videos.
    pub votes: u64,
}

/// A city of ranked players: the rankings' city filter offers these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CityStanding {
    /// The city, as one of its players spelled it.
    pub city: City,
    /// Its players with at least one vote.
    pub players: u64,
    /// The votes they received.
    pub votes: u64,
}

/// Stores votes and answers the rankings.
#[async_trait]
pub trait VoteRepository: Send + Sync + 'static {
    /// Records `voter`'s vote for `video` in one transaction: inserts the vote, increments the
    /// video's `votes` and its owner's `votes_received`, and stamps the owner's last-vote time
    /// (the rankings' tie-breaker). Returns the video's new vote total.
    ///
    /// # Errors
    /// Checked against the stored state inside the transaction, in this order:
    /// [`CastVoteError::NotFound`] (no such video), [`CastVoteError::SelfVote`] (the voter owns
    /// it), [`CastVoteError::NotVotable`] (not processed or not public),
    /// [`CastVoteError::AlreadyVoted`] (a vote by this user for this video exists: a unique
    /// constraint, so of N concurrent identical votes exactly one succeeds).
    async fn cast(
        &self,
        voter: UserId,
        video: VideoId,
        at: DateTime<Utc>,
    ) -> Result<u64, CastVoteError>;

    /// Whether `voter` has voted for `video`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn has_voted(&self, voter: UserId, video: VideoId) -> anyhow::Result<bool>;

    /// Counts the vote rows of `video` (an audit against the counter; not used on hot paths).
    ///
    /// # Errors
    /// Only backend faults.
    async fn count_for_video(&self, video: VideoId) -> anyhow::Result<u64>;

    /// Players with at least one vote, ranked by votes received (descending), ties broken by who
    /// reached their total first (last-vote time ascending), then by user id ascending. Read from
    /// the counters, not by aggregating votes.
    ///
    /// # Errors
    /// Only backend faults.
    async fn rankings(&self, query: &RankingQuery) -> anyhow::Result<Page<RankingEntry>>;

    /// `player`'s row of the unfiltered rankings (its `position` among every ranked player,
    /// in [`VoteRepository::rankings`]' order), or `None` when they have no votes.
    ///
    /// # Errors
    /// Only backend faults.
    async fn standing(&self, player: UserId) -> anyhow::Result<Option<RankingEntry>>;

    /// The cities of ranked players (spellings of one city as one, by [`City::key`]), most
    /// votes first, ties by city; at most `limit`.
    ///
    /// # Errors
    /// Only backend faults.
    async fn ranked_cities(&self, limit: u32) -> anyhow::Result<Vec<CityStanding>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_filters_are_none_and_spellings_of_one_place_share_a_cache_key() {
        let page = PageRequest::new(Some(2), Some(10)).unwrap();
        let none = RankingQuery::new(Some("  "), None, page).unwrap();
        assert_eq!((none.city, none.country), (None, None));
        let one = RankingQuery::new(Some("Bogotá"), Some("Colombia"), page).unwrap();
        let other = RankingQuery::new(Some("  BOGOTÁ "), Some("COLOMBIA"), page).unwrap();
        assert_eq!(one.cache_key(), other.cache_key());
        let next = RankingQuery::new(
            Some("Bogotá"),
            Some("Colombia"),
            PageRequest::new(Some(3), Some(10)).unwrap(),
        );
        assert_ne!(one.cache_key(), next.unwrap().cache_key());
        assert!(RankingQuery::new(Some(&"x".repeat(500)), None, page).is_err());
    }
}
