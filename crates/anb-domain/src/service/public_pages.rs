//! What the pages fans share show: one published video, one player (their standing and
//! published videos), and the cities the rankings can be filtered by.

use tracing::instrument;

use super::{QueryError, Showcase};
use crate::ids::{UserId, VideoId};
use crate::ports::{CityStanding, PublicVideoQuery, RankingEntry};
use crate::user::PlayerSummary;
use crate::values::{Page, PageRequest};
use crate::video::{PublicSort, PublicVideo};

/// The most cities [`Showcase::ranked_cities`] lists.
pub const MAX_RANKED_CITIES: u32 = 100;

/// Why a public page has nothing to show.
#[derive(Debug, thiserror::Error)]
pub enum PublicPageError {
    /// No such video or player, or nothing of theirs is published: to the public, the same.
    #[error("not found")]
    NotFound,
    /// A backend fault.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<QueryError> for PublicPageError {
    fn from(e: QueryError) -> Self {
        Self::Unexpected(e.0)
    }
}

/// A player's public page.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerPage {
    /// Who.
    pub player: PlayerSummary,
    /// Their row of the whole rankings (`None` before their first vote).
    pub standing: Option<RankingEntry>,
    /// Their published videos, most votes first.
    pub videos: Page<PublicVideo>,
}

impl Showcase {
    /// A published video with its player.
    ///
    /// # Errors
    /// [`PublicPageError::NotFound`] when there is no such video or it is not published.
    #[instrument(skip(self))]
    pub async fn public_video(&self, id: VideoId) -> Result<PublicVideo, PublicPageError> {
        let video = self
            .ports
            .videos
            .get(id)
            .await?
            .filter(|v| v.is_published())
            .ok_or(PublicPageError::NotFound)?;
        let owner = self
            .ports
            .users
            .get(video.owner_id)
            .await?
            .ok_or(PublicPageError::NotFound)?;
        Ok(PublicVideo {
            video,
            player: PlayerSummary::from(&owner),
        })
    }

    /// A player's page: who they are, their standing, and a `page` of their published videos.
    /// A player shows only once they have published a video.
    ///
    /// # Errors
    /// [`PublicPageError::NotFound`] when there is no such player, or they have published
    /// nothing.
    #[instrument(skip(self))]
    pub async fn player_page(
        &self,
        id: UserId,
        page: PageRequest,
    ) -> Result<PlayerPage, PublicPageError> {
        let query = PublicVideoQuery::new(None, None, PublicSort::Votes, page)
            .map_err(|e| anyhow::anyhow!(e))?
            .of_player(id);
        let videos = self.ports.videos.list_public(&query).await?;
        if videos.total == 0 {
            return Err(PublicPageError::NotFound);
        }
        let user = self
            .ports
            .users
            .get(id)
            .await?
            .ok_or(PublicPageError::NotFound)?;
        let standing = self.ports.votes.standing(id).await?;
        Ok(PlayerPage {
            player: PlayerSummary::from(&user),
            standing,
            videos,
        })
    }

    /// The cities of ranked players, most votes first (at most [`MAX_RANKED_CITIES`]): what
    /// the rankings' city filter offers.
    ///
    /// # Errors
    /// Only backend faults.
    pub async fn ranked_cities(&self) -> Result<Vec<CityStanding>, QueryError> {
        Ok(self.ports.votes.ranked_cities(MAX_RANKED_CITIES).await?)
    }
}
