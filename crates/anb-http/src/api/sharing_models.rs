//! The JSON bodies of private sharing, share links and the player directory.

use anb_domain::sharing::{Share, SharedVideo};
use anb_domain::user::PlayerSummary;
use anb_domain::{PlaybackGrant, ShareLinkGrant, SharedPlayback};
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use super::models::{PlaybackLinks, PlayerInfo, ProcessingStatus};

/// Whom to share a video with.
#[derive(Debug, Object)]
pub struct ShareRequest {
    /// The player (from `GET /api/users`).
    pub user_id: Uuid,
}

/// A player a video is shared with.
#[derive(Debug, Object)]
pub struct ShareView {
    /// The video.
    pub video_id: Uuid,
    /// The player.
    pub user_id: Uuid,
    /// First name and last name.
    pub username: String,
    /// City.
    pub city: String,
    /// When it was shared.
    pub shared_at: DateTime<Utc>,
}

impl From<Share> for ShareView {
    fn from(share: Share) -> Self {
        Self {
            video_id: share.video_id.as_uuid(),
            user_id: share.recipient.user_id.as_uuid(),
            username: share.recipient.username,
            city: share.recipient.city.as_str().to_owned(),
            shared_at: share.shared_at,
        }
    }
}

/// A share link's lifetime when none is asked for: 7 days.
pub const DEFAULT_SHARE_LINK_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// How long a share link should last.
#[derive(Debug, Object)]
pub struct ShareLinkRequest {
    /// Seconds, from 60 to 2592000 (30 days); 604800 (7 days) when absent or `null`.
    #[oai(nullable, validator(minimum(value = "60"), maximum(value = "2592000")))]
    pub expires_in: Option<u64>,
}

/// A share link: anyone with `url` can watch the video until `expires_at` or until it is
/// revoked.
#[derive(Debug, Object)]
pub struct ShareLinkView {
    /// Identity (to revoke it).
    pub link_id: Uuid,
    /// The video.
    pub video_id: Uuid,
    /// The web app's page for the link (relative to the service).
    pub url: String,
    /// What the page reads: `GET` it for the video and its playback links (no bearer).
    pub api_url: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl From<ShareLinkGrant> for ShareLinkView {
    fn from(grant: ShareLinkGrant) -> Self {
        Self {
            link_id: grant.link.id.as_uuid(),
            video_id: grant.link.video_id.as_uuid(),
            url: format!("/shared/{}", grant.token.token),
            api_url: format!("/api/share-links/{}", grant.token.token),
            created_at: grant.link.created_at,
            expires_at: grant.link.expires_at,
        }
    }
}

fn player(summary: &PlayerSummary) -> PlayerInfo {
    PlayerInfo::from(summary)
}

/// A video shared with the caller.
#[derive(Debug, Object)]
pub struct SharedVideoItem {
    /// The video.
    pub video_id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    #[oai(nullable)]
    pub description: Option<String>,
    /// Processing status.
    pub status: ProcessingStatus,
    /// Its owner.
    pub player: PlayerInfo,
    /// Length of the processed clip, once processed.
    #[oai(nullable)]
    pub duration_seconds: Option<f64>,
    /// When it was shared with the caller.
    pub shared_at: DateTime<Utc>,
}

impl From<&SharedVideo> for SharedVideoItem {
    fn from(shared: &SharedVideo) -> Self {
        let video = &shared.video;
        Self {
            video_id: video.id.as_uuid(),
            title: video.title.as_str().to_owned(),
            description: video.description.as_ref().map(|d| d.as_str().to_owned()),
            status: ProcessingStatus::from(&video.status),
            player: player(&shared.owner),
            duration_seconds: video.duration_seconds,
            shared_at: shared.shared_at,
        }
    }
}

/// A video shared with the caller, and how to play it.
#[derive(Debug, Object)]
pub struct SharedVideoDetail {
    /// The video.
    #[oai(flatten)]
    pub video: SharedVideoItem,
    /// Playback links naming the caller (they stop working when the share is revoked);
    /// `null` until the video is processed.
    #[oai(nullable)]
    pub playback: Option<PlaybackLinks>,
}

impl SharedVideoDetail {
    /// The detail of `shared`, playable through `grant`.
    pub fn new(shared: &SharedVideo, grant: Option<PlaybackGrant>) -> Self {
        Self {
            video: SharedVideoItem::from(shared),
            playback: grant.map(PlaybackLinks::from),
        }
    }
}

/// What a share link opens.
#[derive(Debug, Object)]
pub struct SharedLinkView {
    /// The video.
    pub video_id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    #[oai(nullable)]
    pub description: Option<String>,
    /// Its owner.
    pub player: PlayerInfo,
    /// Length of the processed clip.
    #[oai(nullable)]
    pub duration_seconds: Option<f64>,
    /// Playback links carrying the share link's token (they stop working when it is revoked
    /// or expires).
    pub playback: PlaybackLinks,
}

impl From<SharedPlayback> for SharedLinkView {
    fn from(opened: SharedPlayback) -> Self {
        Self {
            video_id: opened.video.id.as_uuid(),
            title: opened.video.title.as_str().to_owned(),
            description: opened
                .video
                .description
                .as_ref()
                .map(|d| d.as_str().to_owned()),
            player: player(&opened.owner),
            duration_seconds: opened.video.duration_seconds,
            playback: PlaybackLinks::from(opened.grant),
        }
    }
}

/// A player in the directory: never an email.
#[derive(Debug, Object)]
pub struct DirectoryEntry {
    /// Id (for `POST /api/videos/{video_id}/shares`).
    pub user_id: Uuid,
    /// First name and last name.
    pub username: String,
    /// City.
    pub city: String,
}

impl From<PlayerSummary> for DirectoryEntry {
    fn from(p: PlayerSummary) -> Self {
        Self {
            user_id: p.user_id.as_uuid(),
            username: p.username,
            city: p.city.as_str().to_owned(),
        }
    }
}
