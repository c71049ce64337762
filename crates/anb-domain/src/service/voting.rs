use tracing::instrument;

use super::{QueryError, Showcase};
use crate::ids::{UserId, VideoId};
use crate::ports::{CastVoteError, RankingEntry, RankingQuery};
use crate::values::Page;

impl Showcase {
    /// Records `voter`'s vote for a published video and returns its new total.
    ///
    /// The vote repository checks the rules atomically, in the transaction that counts the
    /// vote, and says which one a refused vote breaks (its contract, checked by the conformance
    /// suite), so a vote costs no read beforehand: what a surge of votes needs.
    ///
    /// # Errors
    /// [`CastVoteError::NotFound`], [`CastVoteError::SelfVote`], [`CastVoteError::NotVotable`]
    /// (not processed, or not public), [`CastVoteError::EmailNotVerified`] (when
    /// [`ShowcaseConfig::vote_requires_verified_email`](super::ShowcaseConfig) is on),
    /// [`CastVoteError::AlreadyVoted`].
    #[instrument(skip(self))]
    pub async fn cast_vote(&self, voter: UserId, video: VideoId) -> Result<u64, CastVoteError> {
        if self.config.vote_requires_verified_email {
            let verified = self
                .ports
                .users
                .get(voter)
                .await?
                .is_some_and(|u| u.email_verified_at.is_some());
            if !verified {
                return Err(CastVoteError::EmailNotVerified);
            }
        }
        self.ports
            .votes
            .cast(voter, video, self.ports.clock.now())
            .await
    }

    /// Players ranked by votes received.
    ///
    /// # Errors
    /// Only backend faults.
    pub async fn rankings(&self, query: &RankingQuery) -> Result<Page<RankingEntry>, QueryError> {
        Ok(self.ports.votes.rankings(query).await?)
    }
}
