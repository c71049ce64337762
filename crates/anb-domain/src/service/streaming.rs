//! Playback: the files of a video's streaming tree (the HLS master, its rungs' playlists and
//! segments, the storyboard, the MP4 and the thumbnail), for anyone when the video is
//! published, and through signed, expiring playback tokens for its owner's private videos.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{ByteRange, MediaDownload, MediaError, Showcase, VideoAccessError};
use crate::blob::{BlobKey, DownloadUrl};
use crate::ids::{UserId, VideoId};
use crate::media::{is_segment_name, media_type, HLS_MASTER, STORYBOARD_CUES, STORYBOARD_SPRITE};
use crate::ports::{PlaybackClaims, PlaybackToken, TokenError};
use crate::sharing::Viewer;
use crate::video::{Video, VideoStatus};

/// How long a cache may keep a file that can change at its URL (a master playlist, a
/// storyboard, the MP4: a video processed again replaces them).
const MUTABLE_FOR: Duration = Duration::from_secs(60);
/// How long a cache may keep a file that never changes at its URL (a rung's playlist and
/// segments: each processing run writes them under a new generation).
const IMMUTABLE_FOR: Duration = Duration::from_secs(365 * 24 * 3600);

/// One file of a video's streaming tree, as a playback URL names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamFile {
    /// `hls/master.m3u8`.
    Master,
    /// `hls/{generation}/{rung}/{name}`: a rung's playlist (`index.m3u8`), init segment
    /// (`init.mp4`) or media segment (`seg_00000.m4s`).
    Rung {
        /// The processing run that wrote it.
        generation: String,
        /// `720p`, `480p`, …
        rung: String,
        /// The file's name.
        name: String,
    },
    /// `storyboard.vtt`.
    StoryboardCues,
    /// `storyboard.jpg`.
    StoryboardSprite,
    /// `video.mp4`: the processed MP4.
    Video,
    /// `thumbnail.jpg`.
    Thumbnail,
}

impl StreamFile {
    /// A rung's file, when every part is one the pipeline writes (anything else names no
    /// file: a 404, never a path outside the tree).
    ///
    /// ```
    /// use anb_domain::StreamFile;
    ///
    /// assert!(StreamFile::rung("0f3a9c", "720p", "seg_00012.m4s").is_some());
    /// assert!(StreamFile::rung("0f3a9c", "720p", "index.m3u8").is_some());
    /// assert!(StreamFile::rung("..", "720p", "init.mp4").is_none());
    /// assert!(StreamFile::rung("0f3a9c", "720p", "secret.txt").is_none());
    /// ```
    pub fn rung(generation: &str, rung: &str, name: &str) -> Option<Self> {
        let generation_ok = (1..=32).contains(&generation.len())
            && generation.bytes().all(|b| b.is_ascii_hexdigit());
        let rung_ok = rung
            .strip_suffix('p')
            .is_some_and(|h| (1..=4).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_digit()));
        let name_ok = name == "index.m3u8" || is_segment_name(name);
        (generation_ok && rung_ok && name_ok).then(|| Self::Rung {
            generation: generation.to_owned(),
            rung: rung.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The MIME type served for it.
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Master => media_type(HLS_MASTER),
            Self::Rung { name, .. } => media_type(name),
            Self::StoryboardCues => media_type(STORYBOARD_CUES),
            Self::StoryboardSprite => media_type(STORYBOARD_SPRITE),
            Self::Video => media_type("video.mp4"),
            Self::Thumbnail => media_type("thumbnail.jpg"),
        }
    }

    /// How long a cache may keep it.
    pub(super) fn fresh_for(&self) -> Duration {
        match self {
            Self::Rung { .. } => IMMUTABLE_FOR,
            _ => MUTABLE_FOR,
        }
    }

    /// Where it is stored, when the video has it.
    fn key(&self, video: &Video) -> Option<BlobKey> {
        let streams = BlobKey::streams(video.id);
        match self {
            Self::Master => video.stream.clone(),
            Self::Rung {
                generation,
                rung,
                name,
            } => video.stream.as_ref().and_then(|_| {
                streams
                    .join(&format!("hls/{generation}/{rung}/{name}"))
                    .ok()
            }),
            Self::StoryboardCues => video.storyboard.clone(),
            Self::StoryboardSprite => video
                .storyboard
                .as_ref()
                .and_then(|_| streams.join(STORYBOARD_SPRITE).ok()),
            Self::Video => video.processed.clone(),
            Self::Thumbnail => video.thumbnail.clone(),
        }
    }
}

/// How a playback request is allowed.
#[derive(Clone, Copy, Debug)]
pub enum Playback<'a> {
    /// Anyone, for a published video.
    Published(VideoId),
    /// A playback token, for any processed video it names.
    Signed(&'a str),
}

/// A streaming file being read, and how long a cache may keep it.
#[derive(Debug)]
pub struct StreamDownload {
    /// The bytes.
    pub download: MediaDownload,
    /// How long a cache (the browser's, a CDN's) may keep the response: never past a playback
    /// token's expiry.
    pub fresh_for: Duration,
}

/// What a video's owner gets to play it without a bearer header: a signed playback token (the
/// HTTP service builds the URLs from it), and direct URLs where the blob store signs its own.
#[derive(Debug)]
pub struct PlaybackGrant {
    /// The video.
    pub video_id: VideoId,
    /// The token and its expiry.
    pub token: PlaybackToken,
    /// Whether the video has an HLS ladder.
    pub has_stream: bool,
    /// Whether it has a storyboard.
    pub has_storyboard: bool,
    /// The MP4 straight from the store (an S3 presigned URL), when the store signs URLs.
    pub video_url: Option<String>,
    /// The thumbnail straight from the store, likewise.
    pub thumbnail_url: Option<String>,
}

impl Showcase {
    /// A playback grant for one of the caller's processed videos, valid for the configured
    /// playback lifetime.
    ///
    /// # Errors
    /// [`MediaError::NotFound`], [`MediaError::Forbidden`], [`MediaError::NotProcessed`].
    pub async fn grant_playback(
        &self,
        caller: UserId,
        id: VideoId,
    ) -> Result<PlaybackGrant, MediaError> {
        let video = self.own_video(caller, id).await.map_err(|e| match e {
            VideoAccessError::NotFound => MediaError::NotFound,
            VideoAccessError::Forbidden => MediaError::Forbidden,
            VideoAccessError::Unexpected(e) => MediaError::Unexpected(e),
        })?;
        if video.status != VideoStatus::Processed {
            return Err(MediaError::NotProcessed);
        }
        let ttl = self.config.playback_ttl;
        let token = self
            .ports
            .tokens
            .issue_playback(video.id, Viewer::Owner, ttl)?;
        self.playback_grant(&video, token, true).await
    }

    /// A grant for `video` carrying `token`; with the store's own signed URLs when `direct`
    /// (never for a revocable viewer: a presigned URL cannot be taken back).
    pub(super) async fn playback_grant(
        &self,
        video: &Video,
        token: PlaybackToken,
        direct: bool,
    ) -> Result<PlaybackGrant, MediaError> {
        let ttl = (token.expires_at - self.ports.clock.now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let signed = |key: Option<BlobKey>| async move {
            let Some(key) = key.filter(|_| direct) else {
                return Ok(None);
            };
            match self.ports.blobs.download_url(&key, ttl).await {
                Ok(DownloadUrl::Presigned { url, .. }) => Ok(Some(url)),
                Ok(DownloadUrl::ServedByApi) => Ok(None),
                Err(e) => Err(MediaError::Unexpected(
                    anyhow::Error::new(e).context("signing a download URL"),
                )),
            }
        };
        Ok(PlaybackGrant {
            video_id: video.id,
            token,
            has_stream: video.stream.is_some(),
            has_storyboard: video.storyboard.is_some(),
            video_url: signed(video.processed.clone()).await?,
            thumbnail_url: signed(video.thumbnail.clone()).await?,
        })
    }

    /// A file of a video's streaming tree, whole or by range: for anyone when the video is
    /// published, or for the bearer of a valid playback token naming it. `file` is `None` for
    /// a name the pipeline never writes: not found, once access is checked (a bad link is
    /// refused as such whatever it names).
    ///
    /// # Errors
    /// [`MediaError::NotFound`] (no such video, not published, not processed, no such file);
    /// [`MediaError::SignatureExpired`], [`MediaError::SignatureInvalid`];
    /// [`MediaError::InvalidRange`].
    pub async fn open_stream_file(
        &self,
        via: Playback<'_>,
        file: Option<&StreamFile>,
        range: Option<ByteRange>,
    ) -> Result<StreamDownload, MediaError> {
        let (video, until, viewer) = match via {
            Playback::Published(id) => (self.published_video(id).await?, None, None),
            Playback::Signed(token) => {
                let (video, expires_at, viewer) = self.signed_video(token).await?;
                // What a share lets a cache keep, a revocation must not outlive for long.
                let until = match viewer {
                    Viewer::Owner => expires_at,
                    Viewer::Recipient(_) | Viewer::Link(_) => {
                        expires_at.min(self.ports.clock.now() + MUTABLE_FOR)
                    }
                };
                (video, Some(until), Some(viewer))
            }
        };
        let file = file.ok_or(MediaError::NotFound)?;
        let key = file.key(&video).ok_or(MediaError::NotFound)?;
        let download = self
            .open_signed_file(&key, file, viewer.zip(until), range)
            .await?;
        Ok(StreamDownload {
            download,
            fresh_for: fresh_until(file.fresh_for(), until, self.ports.clock.now()),
        })
    }
}

impl Showcase {
    /// `file` (stored at `key`) for a request signed by `signed` (the viewer and how long the
    /// link lasts) or for anyone (`None`): an owner's rung playlist names its segments by the
    /// store's own signed URLs where the store signs them
    /// ([`open_direct_playlist`](Self::open_direct_playlist)); everything else is served as
    /// stored.
    pub(super) async fn open_signed_file(
        &self,
        key: &BlobKey,
        file: &StreamFile,
        signed: Option<(Viewer, DateTime<Utc>)>,
        range: Option<ByteRange>,
    ) -> Result<MediaDownload, MediaError> {
        if let (Some((Viewer::Owner, until)), StreamFile::Rung { name, .. }) = (signed, file) {
            if name.ends_with(".m3u8") {
                if let Some(direct) = self.open_direct_playlist(key, until, range).await? {
                    return Ok(direct);
                }
            }
        }
        self.open_blob(key, file.content_type(), range).await
    }

    /// The processed video a valid playback token names, when the token expires, and on whose
    /// behalf it plays: a share's or a share link's token only while the share or the link
    /// lives (checked on every request, so revoking ends access at once).
    ///
    /// # Errors
    /// [`MediaError::SignatureExpired`], [`MediaError::SignatureInvalid`],
    /// [`MediaError::Revoked`]; [`MediaError::NotFound`] when the video is gone or not
    /// processed.
    pub(super) async fn signed_video(
        &self,
        token: &str,
    ) -> Result<(Video, DateTime<Utc>, Viewer), MediaError> {
        let PlaybackClaims {
            video: id,
            viewer,
            expires_at,
        } = self
            .ports
            .tokens
            .verify_playback(token)
            .map_err(|e| match e {
                TokenError::Expired => MediaError::SignatureExpired,
                TokenError::Invalid => MediaError::SignatureInvalid,
            })?;
        let live = match viewer {
            Viewer::Owner => true,
            Viewer::Recipient(user) => self.ports.shares.shared_since(id, user).await?.is_some(),
            Viewer::Link(link) => self
                .ports
                .shares
                .link(link)
                .await?
                .is_some_and(|l| l.video_id == id && l.is_live(self.ports.clock.now())),
        };
        if !live {
            return Err(MediaError::Revoked);
        }
        let video = self
            .ports
            .videos
            .get(id)
            .await?
            .filter(|v| v.status == VideoStatus::Processed)
            .ok_or(MediaError::NotFound)?;
        Ok((video, expires_at, viewer))
    }
}

/// `fresh_for`, cut to what is left of a token valid `until`.
pub(super) fn fresh_until(
    fresh_for: Duration,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Duration {
    match until {
        None => fresh_for,
        Some(until) => fresh_for.min((until - now).to_std().unwrap_or(Duration::ZERO)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_the_pipeline_writes_are_rung_files() {
        for (generation, rung, name) in [
            ("abc123", "720p", "index.m3u8"),
            ("abc123", "1080p", "init.mp4"),
            ("ABCDEF0123", "360p", "seg_00000.m4s"),
        ] {
            assert!(
                StreamFile::rung(generation, rung, name).is_some(),
                "{rung}/{name}"
            );
        }
        for (generation, rung, name) in [
            ("", "720p", "index.m3u8"),
            ("xyz", "720p", "index.m3u8"),
            ("abc", "720", "index.m3u8"),
            ("abc", "p", "index.m3u8"),
            ("abc", "720p", "seg_.m4s"),
            ("abc", "720p", "seg_1.mp4"),
            ("abc", "720p", "../master.m3u8"),
            ("abc", "720p", "index.m3u8.bak"),
        ] {
            assert!(
                StreamFile::rung(generation, rung, name).is_none(),
                "{generation}/{rung}/{name}"
            );
        }
    }

    #[test]
    fn a_signed_file_is_never_cacheable_past_its_token() {
        let now = Utc::now();
        let soon = now + chrono::Duration::seconds(30);
        assert_eq!(fresh_until(IMMUTABLE_FOR, None, now), IMMUTABLE_FOR);
        assert_eq!(
            fresh_until(IMMUTABLE_FOR, Some(soon), now),
            Duration::from_secs(30)
        );
        assert_eq!(fresh_until(MUTABLE_FOR, Some(now), soon), Duration::ZERO);
    }
}
