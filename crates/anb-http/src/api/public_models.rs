//! The bodies of the players' public pages and of the rankings' city filter.

use anb_domain::{CityStanding, PlayerPage, RankingEntry};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::models::RankingRow;

/// A ranked player, with the id that links to their page.
#[derive(Clone, Debug, PartialEq, Object, Serialize, Deserialize)]
pub struct RankedPlayer {
    /// 1-based, continuous across pages.
    pub position: u64,
    /// Id (their page: `GET /api/public/players/{user_id}`).
    pub user_id: Uuid,
    /// First name and last name.
    pub username: String,
    /// City.
    pub city: String,
    /// Country.
    pub country: String,
    /// Votes on the player's videos.
    pub votes: u64,
}

impl From<RankingEntry> for RankedPlayer {
    fn from(entry: RankingEntry) -> Self {
        Self {
            position: entry.position,
            user_id: entry.user_id.as_uuid(),
            username: entry.username,
            city: entry.city.as_str().to_owned(),
            country: entry.country.as_str().to_owned(),
            votes: entry.votes,
        }
    }
}

/// The contract's row: the same player with exactly four keys.
impl From<RankedPlayer> for RankingRow {
    fn from(player: RankedPlayer) -> Self {
        Self {
            position: player.position,
            username: player.username,
            city: player.city,
            votes: player.votes,
        }
    }
}

/// A player's public profile.
#[derive(Clone, Debug, Object)]
pub struct PlayerProfile {
    /// Id.
    pub user_id: Uuid,
    /// First name and last name.
    pub username: String,
    /// City.
    pub city: String,
    /// Country.
    pub country: String,
    /// Votes on the player's videos.
    pub votes: u64,
    /// Their place in the whole rankings (`null` before their first vote).
    #[oai(nullable)]
    pub position: Option<u64>,
    /// How many videos they have published (list them with
    /// `GET /api/public/videos?player={user_id}`).
    pub published_videos: u64,
}

impl From<&PlayerPage> for PlayerProfile {
    fn from(page: &PlayerPage) -> Self {
        Self {
            user_id: page.player.user_id.as_uuid(),
            username: page.player.username.clone(),
            city: page.player.city.as_str().to_owned(),
            country: page.player.country.as_str().to_owned(),
            votes: page.standing.as_ref().map_or(0, |s| s.votes),
            position: page.standing.as_ref().map(|s| s.position),
            published_videos: page.videos.total,
        }
    }
}

/// A city of ranked players (the rankings' city filter).
#[derive(Clone, Debug, Object)]
pub struct RankedCity {
    /// The city, as one of its players spelled it (filter the rankings with it).
    pub city: String,
    /// Its players with at least one vote.
    pub players: u64,
    /// The votes they received.
    pub votes: u64,
}

impl From<CityStanding> for RankedCity {
    fn from(standing: CityStanding) -> Self {
        Self {
            city: standing.city.as_str().to_owned(),
            players: standing.players,
            votes: standing.votes,
        }
    }
}
