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
}
