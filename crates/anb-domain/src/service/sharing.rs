//! Private sharing: owners share a video with chosen players or through signed, revocable
//! links; recipients watch it (stream, HLS, thumbnail) through playback tokens that name them,
//! checked against the share on every request.

use std::time::Duration;

use tracing::instrument;

use super::{MediaError, PlaybackGrant, Showcase, VideoAccessError};
use crate::ids::{ShareLinkId, UserId, VideoId};
use crate::ports::{PlaybackToken, ShareError};
use crate::sharing::{Share, ShareLink, SharedVideo, Viewer};
use crate::user::PlayerSummary;
use crate::values::{Page, PageRequest, ValidationError};
use crate::video::{Video, VideoStatus};

/// Shortest lifetime of a share link.
pub const MIN_SHARE_LINK_TTL: Duration = Duration::from_secs(60);
/// Longest lifetime of a share link (30 days).
pub const MAX_SHARE_LINK_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most players one video may be shared with.
pub const MAX_SHARES_PER_VIDEO: u64 = 200;
/// Most live (unexpired, unrevoked) share links one video may have.
pub const MAX_LINKS_PER_VIDEO: usize = 20;

/// Why a sharing request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SharingError {
    /// No such video (or, for a recipient, not shared with them), share or link.
    #[error("not found")]
    NotFound,
    /// The video belongs to another player.
    #[error("this video belongs to another player")]
    Forbidden,
    /// A field is malformed (a lifetime out of range, a search too long).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Sharing a video with its own owner.
    #[error("you cannot share a video with yourself")]
    SelfShare,
    /// Sharing with a player who has no account.
    #[error("no such player")]
    NoSuchPlayer,
    /// The video already has the most shares, or the most live links, it may have.
    #[error("a video can have at most {limit} {what}")]
    TooMany {
        /// What is counted: `shares` or `live share links`.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// Links are only made for processed videos.
    #[error("the video has not been processed")]
    NotProcessed,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<VideoAccessError> for SharingError {
    fn from(e: VideoAccessError) -> Self {
        match e {
            VideoAccessError::NotFound => Self::NotFound,
            VideoAccessError::Forbidden => Self::Forbidden,
            VideoAccessError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// A share link as made: the link and the signed token its URL carries.
#[derive(Clone, Debug)]
pub struct ShareLinkGrant {
    /// The link.
    pub link: ShareLink,
    /// The token (a playback token naming the link).
    pub token: PlaybackToken,
}

/// What a share link (or a share) opens: the video, its player and how to play it.
#[derive(Debug)]
pub struct SharedPlayback {
    /// The video.
    pub video: Video,
    /// Its owner.
    pub owner: PlayerSummary,
    /// Playback URLs' token.
    pub grant: PlaybackGrant,
}

impl Showcase {
    /// Shares one of the caller's videos with another player; sharing again changes nothing
    /// (the `bool` says whether the share is new).
    ///
    /// # Errors
    /// [`SharingError::NotFound`], [`SharingError::Forbidden`], [`SharingError::SelfShare`],
    /// [`SharingError::NoSuchPlayer`], [`SharingError::TooMany`] (already shared with
    /// [`MAX_SHARES_PER_VIDEO`] players).
    #[instrument(skip(self))]
    pub async fn share_video(
        &self,
        caller: UserId,
        video: VideoId,
        recipient: UserId,
    ) -> Result<(Share, bool), SharingError> {
        self.own_video(caller, video).await?;
        if recipient == caller {
            return Err(SharingError::SelfShare);
        }
        let shared = self
            .ports
            .shares
            .shares_of(video, PageRequest::first(1))
            .await?
            .total;
        if shared >= MAX_SHARES_PER_VIDEO
            && self
                .ports
                .shares
                .shared_since(video, recipient)
                .await?
                .is_none()
        {
            return Err(SharingError::TooMany {
                what: "shares",
                limit: MAX_SHARES_PER_VIDEO,
            });
        }
        match self
            .ports
            .shares
            .share(video, recipient, self.ports.clock.now())
            .await
        {
            Ok(done) => Ok(done),
            Err(ShareError::NoSuchRecipient) => Err(SharingError::NoSuchPlayer),
            Err(ShareError::NoSuchVideo) => Err(SharingError::NotFound),
            Err(ShareError::Unexpected(e)) => Err(e.into()),
        }
    }

    /// Stops sharing one of the caller's videos with a player; their playback links stop
    /// working at once.
    ///
    /// # Errors
    /// [`SharingError::NotFound`] (also when it was not shared with them),
    /// [`SharingError::Forbidden`].
    #[instrument(skip(self))]
    pub async fn unshare_video(
        &self,
        caller: UserId,
        video: VideoId,
        recipient: UserId,
    ) -> Result<(), SharingError> {
        self.own_video(caller, video).await?;
        if self.ports.shares.unshare(video, recipient).await? {
            Ok(())
        } else {
            Err(SharingError::NotFound)
        }
    }

    /// Who one of the caller's videos is shared with.
    ///
    /// # Errors
    /// [`SharingError::NotFound`], [`SharingError::Forbidden`].
    pub async fn video_shares(
        &self,
        caller: UserId,
        video: VideoId,
        page: PageRequest,
    ) -> Result<Page<Share>, SharingError> {
        self.own_video(caller, video).await?;
        Ok(self.ports.shares.shares_of(video, page).await?)
    }

    /// The videos shared with the caller.
    ///
    /// # Errors
    /// Only backend faults.
    pub async fn shared_with_me(
        &self,
        caller: UserId,
        page: PageRequest,
    ) -> anyhow::Result<Page<SharedVideo>> {
        self.ports.shares.shared_with(caller, page).await
    }

    /// A video shared with the caller, and (once processed) a playback grant naming them.
    ///
    /// # Errors
    /// [`SharingError::NotFound`] when it is not shared with the caller (whether or not it
    /// exists).
    pub async fn shared_video(
        &self,
        caller: UserId,
        video: VideoId,
    ) -> Result<(SharedVideo, Option<PlaybackGrant>), SharingError> {
        let shared_at = self
            .ports
            .shares
            .shared_since(video, caller)
            .await?
            .ok_or(SharingError::NotFound)?;
        let video = self
            .ports
            .videos
            .get(video)
            .await?
            .ok_or(SharingError::NotFound)?;
        let owner = self
            .ports
            .users
            .get(video.owner_id)
            .await?
            .ok_or(SharingError::NotFound)?;
        let grant = if video.status == VideoStatus::Processed {
            let token = self.ports.tokens.issue_playback(
                video.id,
                Viewer::Recipient(caller),
                self.config.playback_ttl,
            )?;
            Some(
                self.playback_grant(&video, token, false)
                    .await
                    .map_err(media_fault)?,
            )
        } else {
            None
        };
        Ok((
            SharedVideo {
                owner: PlayerSummary::from(&owner),
                shared_at,
                video,
            },
            grant,
        ))
    }

    /// Makes a share link to one of the caller's processed videos, valid for `expires_in`.
    ///
    /// # Errors
    /// [`SharingError::NotFound`], [`SharingError::Forbidden`], [`SharingError::NotProcessed`],
    /// [`SharingError::Invalid`] (on `expires_in`: outside [`MIN_SHARE_LINK_TTL`] ..=
    /// [`MAX_SHARE_LINK_TTL`]), [`SharingError::TooMany`] (the video already has
    /// [`MAX_LINKS_PER_VIDEO`] live links).
    #[instrument(skip(self))]
    pub async fn create_share_link(
        &self,
        caller: UserId,
        video: VideoId,
        expires_in: Duration,
    ) -> Result<ShareLinkGrant, SharingError> {
        if !(MIN_SHARE_LINK_TTL..=MAX_SHARE_LINK_TTL).contains(&expires_in) {
            return Err(ValidationError::new(
                "expires_in",
                format!(
                    "must be between {} and {} seconds",
                    MIN_SHARE_LINK_TTL.as_secs(),
                    MAX_SHARE_LINK_TTL.as_secs()
                ),
            )
            .into());
        }
        let video = self.own_video(caller, video).await?;
        if video.status != VideoStatus::Processed {
            return Err(SharingError::NotProcessed);
        }
        let now = self.ports.clock.now();
        let live = self.ports.shares.links_of(video.id).await?;
        if live.iter().filter(|l| l.is_live(now)).count() >= MAX_LINKS_PER_VIDEO {
            return Err(SharingError::TooMany {
                what: "live share links",
                limit: MAX_LINKS_PER_VIDEO as u64,
            });
        }
        let id = ShareLinkId::new();
        let token = self
            .ports
            .tokens
            .issue_playback(video.id, Viewer::Link(id), expires_in)?;
        let link = ShareLink {
            id,
            video_id: video.id,
            created_at: now,
            // The token's own expiry (whole seconds), so the two never disagree.
            expires_at: token.expires_at,
            revoked_at: None,
        };
        self.ports.shares.create_link(&link).await?;
        Ok(ShareLinkGrant { link, token })
    }

    /// The live share links of one of the caller's videos, newest first, each with its token
    /// signed again (the same grant, expiring when the link does).
    ///
    /// # Errors
    /// [`SharingError::NotFound`], [`SharingError::Forbidden`].
    pub async fn share_links(
        &self,
        caller: UserId,
        video: VideoId,
    ) -> Result<Vec<ShareLinkGrant>, SharingError> {
        self.own_video(caller, video).await?;
        let now = self.ports.clock.now();
        let mut grants = Vec::new();
        for link in self.ports.shares.links_of(video).await? {
            if !link.is_live(now) {
                continue;
            }
            let left = u64::try_from(link.expires_at.timestamp() - now.timestamp()).unwrap_or(1);
            let token = self.ports.tokens.issue_playback(
                video,
                Viewer::Link(link.id),
                Duration::from_secs(left.max(1)),
            )?;
            grants.push(ShareLinkGrant { link, token });
        }
        Ok(grants)
    }

    /// Revokes a live share link of one of the caller's videos: its URLs stop working at once.
    ///
    /// # Errors
    /// [`SharingError::NotFound`] (also for a link already revoked or expired),
    /// [`SharingError::Forbidden`].
    #[instrument(skip(self))]
    pub async fn revoke_share_link(
        &self,
        caller: UserId,
        video: VideoId,
        link: ShareLinkId,
    ) -> Result<(), SharingError> {
        self.own_video(caller, video).await?;
        let now = self.ports.clock.now();
        let live = self
            .ports
            .shares
            .link(link)
            .await?
            .is_some_and(|l| l.video_id == video && l.is_live(now));
        if live && self.ports.shares.revoke_link(video, link, now).await? {
            Ok(())
        } else {
            Err(SharingError::NotFound)
        }
    }

    /// What a share link opens, for anyone holding it: the video, its player and a grant whose
    /// URLs carry the link's own token.
    ///
    /// # Errors
    /// [`MediaError::SignatureExpired`], [`MediaError::SignatureInvalid`] (altered, or not a
    /// share link's token), [`MediaError::Revoked`], [`MediaError::NotFound`] (the video is
    /// gone).
    pub async fn open_share_link(&self, token: &str) -> Result<SharedPlayback, MediaError> {
        let (video, expires_at, viewer) = self.signed_video(token).await?;
        if !matches!(viewer, Viewer::Link(_)) {
            return Err(MediaError::SignatureInvalid);
        }
        let owner = self
            .ports
            .users
            .get(video.owner_id)
            .await?
            .ok_or(MediaError::NotFound)?;
        let token = PlaybackToken {
            token: token.to_owned(),
            expires_at,
        };
        let grant = self.playback_grant(&video, token, false).await?;
        Ok(SharedPlayback {
            owner: PlayerSummary::from(&owner),
            grant,
            video,
        })
    }

    /// Players whose name contains `query` (ignoring case), for choosing whom to share with:
    /// names and cities only, never emails.
    ///
    /// # Errors
    /// [`ValidationError`] on `q` longer than 100 characters.
    pub async fn player_directory(
        &self,
        query: &str,
        page: PageRequest,
    ) -> Result<Page<PlayerSummary>, SharingError> {
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        if query.chars().count() > 100 {
            return Err(ValidationError::new("q", "must be at most 100 characters").into());
        }
        Ok(self
            .ports
            .users
            .directory(&query.to_lowercase(), page)
            .await?)
    }
}

fn media_fault(e: MediaError) -> SharingError {
    match e {
        MediaError::Unexpected(e) => SharingError::Unexpected(e),
        other => SharingError::Unexpected(anyhow::anyhow!("{other}")),
    }
}
