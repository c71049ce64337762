//! Private sharing: an owner lets chosen players watch a video (published or not), or anyone
//! holding a signed link until it expires or is revoked. Watching is all a share grants:
//! voting still needs the video published, deleting still needs its owner.

use chrono::{DateTime, Utc};

use crate::ids::{ShareLinkId, UserId, VideoId};
use crate::user::PlayerSummary;
use crate::video::Video;

/// On whose behalf a playback token plays a video; checked again on every request, so a
/// revoked share or link stops working at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// The video's owner.
    Owner,
    /// A player the owner shared the video with.
    Recipient(UserId),
    /// Anyone holding a share link.
    Link(ShareLinkId),
}

/// A player a video is shared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// The video.
    pub video_id: VideoId,
    /// The player it is shared with.
    pub recipient: PlayerSummary,
    /// When it was shared.
    pub shared_at: DateTime<Utc>,
}

/// A video shared with the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedVideo {
    /// The video.
    pub video: Video,
    /// Its owner.
    pub owner: PlayerSummary,
    /// When it was shared.
    pub shared_at: DateTime<Utc>,
}

/// A share link: a signed URL anyone can watch one video through until it expires or its
/// owner revokes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareLink {
    /// Identity (inside the signed token).
    pub id: ShareLinkId,
    /// The video.
    pub video_id: VideoId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When its owner revoked it, if they did.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ShareLink {
    /// Whether it still lets anyone watch at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}
