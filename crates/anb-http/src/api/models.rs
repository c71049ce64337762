//! The JSON bodies of the contract (field names as in API.md and the course collection).

use std::collections::BTreeMap;

use anb_domain::user::PlayerSummary;
use anb_domain::video::ProcessingProgress;
use anb_domain::{PlaybackGrant, PublicVideo, User, Video, VideoStatus};
use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::strict_text::{AnyText, EmailRule, NameRule, PasswordRule, Text};

/// Sign-up form. Every field is required; a missing or mistyped one is reported by name
/// (400 `validation_error`, `"<field>: field required"`).
#[derive(Debug, Object)]
pub struct SignupRequest {
    /// First name: 1 to 100 characters, not blank (whitespace is collapsed).
    pub first_name: Text<NameRule>,
    /// Last name: 1 to 100 characters, not blank.
    pub last_name: Text<NameRule>,
    /// Email, `name@domain.tld` (unique, case-insensitive; surrounding whitespace ignored).
    pub email: Text<EmailRule>,
    /// Password, 8 to 256 characters (`weak_password` otherwise).
    pub password1: Text<PasswordRule>,
    /// The same password again (`password_mismatch` otherwise).
    pub password2: Text<PasswordRule>,
    /// City: 1 to 100 characters, not blank.
    pub city: Text<NameRule>,
    /// Country: 1 to 100 characters, not blank.
    pub country: Text<NameRule>,
}

/// An account was created.
#[derive(Debug, Object)]
pub struct SignupCreated {
    /// `Usuario creado exitosamente.`
    pub message: String,
    /// The new player's id.
    pub user_id: Uuid,
}

/// Login form (both fields required).
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// Email.
    pub email: Text<AnyText>,
    /// Password.
    pub password: Text<AnyText>,
}

impl SignupRequest {
    /// The form the domain's sign-up takes.
    ///
    /// # Errors
    /// The detail of the first field missing or not text (`"<field>: field required"`).
    pub fn try_into_domain(self) -> Result<anb_domain::SignupForm, String> {
        Ok(anb_domain::SignupForm {
            first_name: self.first_name.into_string("first_name")?,
            last_name: self.last_name.into_string("last_name")?,
            email: self.email.into_string("email")?,
            password1: self.password1.into_string("password1")?,
            password2: self.password2.into_string("password2")?,
            city: self.city.into_string("city")?,
            country: self.country.into_string("country")?,
        })
    }
}

impl LoginRequest {
    /// The email and the password the domain's login takes.
    ///
    /// # Errors
    /// As [`SignupRequest::try_into_domain`].
    pub fn try_into_domain(self) -> Result<(String, String), String> {
        Ok((
            self.email.into_string("email")?,
            self.password.into_string("password")?,
        ))
    }
}

/// Always `Bearer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum TokenType {
    /// A bearer token.
    Bearer,
}

/// An access token.
#[derive(Debug, Object)]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: TokenType,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// The caller's profile.
#[derive(Debug, Object)]
pub struct ProfileResponse {
    /// Id.
    pub user_id: Uuid,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// City.
    pub city: String,
    /// Country.
    pub country: String,
    /// Votes on the player's videos.
    pub votes_received: u64,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Whether the player verified their email (the emailed link).
    pub email_verified: bool,
}

impl From<User> for ProfileResponse {
    fn from(user: User) -> Self {
        Self {
            user_id: user.id.as_uuid(),
            first_name: user.first_name.as_str().to_owned(),
            last_name: user.last_name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            city: user.city.as_str().to_owned(),
            country: user.country.as_str().to_owned(),
            votes_received: user.votes_received,
            created_at: user.created_at,
            email_verified: user.email_verified_at.is_some(),
        }
    }
}

/// An upload was accepted and queued.
#[derive(Debug, Object)]
pub struct UploadAccepted {
    /// `Video subido correctamente. Procesamiento en curso.`
    pub message: String,
    /// The processing job.
    pub task_id: Uuid,
    /// The new video.
    pub video_id: Uuid,
}

/// Where a player's own media is served.
fn own_url(video: &Video, file: &str) -> String {
    format!("/api/videos/{}/{file}", video.id)
}

/// Where a video is in processing: `uploaded` → `processing` → `processed` | `failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ProcessingStatus {
    /// Stored, waiting for a worker.
    Uploaded,
    /// A worker is processing it.
    Processing,
    /// Ready to watch (and to publish).
    Processed,
    /// Processing gave up (`failure_reason` says why).
    Failed,
}

impl From<&VideoStatus> for ProcessingStatus {
    fn from(status: &VideoStatus) -> Self {
        match status {
            VideoStatus::Uploaded => Self::Uploaded,
            VideoStatus::Processing => Self::Processing,
            VideoStatus::Processed => Self::Processed,
            VideoStatus::Failed { .. } => Self::Failed,
        }
    }
}

/// How far processing has got.
#[derive(Debug, Object)]
pub struct Progress {
    /// Percent done.
    #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
    pub percent: f64,
    /// Seconds left at the pace so far (`null` until there is a pace).
    #[oai(nullable, validator(minimum(value = "0")))]
    pub eta_seconds: Option<f64>,
}

impl From<ProcessingProgress> for Progress {
    fn from(p: ProcessingProgress) -> Self {
        Self {
            percent: p.percent.clamp(0.0, 100.0),
            eta_seconds: p.eta_seconds.map(|s| s.max(0.0)),
        }
    }
}

/// A video in its owner's list.
#[derive(Debug, Object)]
pub struct VideoSummary {
    /// Id.
    pub video_id: Uuid,
    /// Title.
    pub title: String,
    /// Processing status.
    pub status: ProcessingStatus,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// When processing finished (`null` before).
    #[oai(nullable)]
    pub processed_at: Option<DateTime<Utc>>,
    /// The processed MP4, once processed (`null` before).
    #[oai(nullable)]
    pub processed_url: Option<String>,
    /// The thumbnail, once processed (`null` before).
    #[oai(nullable)]
    pub thumbnail_url: Option<String>,
    /// Signed playback links (HLS, MP4, storyboard) that need no bearer header, once
    /// processed (`null` before).
    #[oai(nullable)]
    pub playback_url: Option<String>,
    /// How far processing has got, while `processing` (`null` otherwise).
    #[oai(nullable)]
    pub progress: Option<Progress>,
    /// Votes.
    pub votes: u64,
    /// Shown in the public gallery once processed.
    pub is_public: bool,
}

impl From<Video> for VideoSummary {
    fn from(video: Video) -> Self {
        Self {
            video_id: video.id.as_uuid(),
            title: video.title.as_str().to_owned(),
            status: ProcessingStatus::from(&video.status),
            uploaded_at: video.uploaded_at,
            processed_at: video.processed_at,
            processed_url: video
                .processed
                .as_ref()
                .map(|_| own_url(&video, "processed")),
            thumbnail_url: video
                .thumbnail
                .as_ref()
                .map(|_| own_url(&video, "thumbnail")),
            playback_url: (video.status == VideoStatus::Processed)
                .then(|| own_url(&video, "playback")),
            progress: video.progress.map(Progress::from),
            votes: video.votes,
            is_public: video.is_public,
        }
    }
}

/// One of the caller's videos, in full.
#[derive(Debug, Object)]
pub struct VideoDetail {
    /// Id.
    pub video_id: Uuid,
    /// Title.
    pub title: String,
    /// Description (`null` when none was given).
    #[oai(nullable)]
    pub description: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Processing status.
    pub status: ProcessingStatus,
    /// Why processing failed (status `failed`; `null` otherwise).
    #[oai(nullable)]
    pub failure_reason: Option<String>,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// When processing finished (`null` before).
    #[oai(nullable)]
    pub processed_at: Option<DateTime<Utc>>,
    /// When it was opened for voting (`null` while not published).
    #[oai(nullable)]
    pub published_at: Option<DateTime<Utc>>,
    /// Length of the processed video in seconds (`null` before processing).
    #[oai(nullable)]
    pub duration_seconds: Option<f64>,
    /// The upload as received.
    pub original_url: String,
    /// The processed MP4, once processed (`null` before).
    #[oai(nullable)]
    pub processed_url: Option<String>,
    /// The thumbnail, once processed (`null` before).
    #[oai(nullable)]
    pub thumbnail_url: Option<String>,
    /// Signed playback links (HLS, MP4, storyboard) that need no bearer header, once
    /// processed (`null` before).
    #[oai(nullable)]
    pub playback_url: Option<String>,
    /// How far processing has got, while `processing` (`null` otherwise).
    #[oai(nullable)]
    pub progress: Option<Progress>,
    /// Votes.
    pub votes: u64,
    /// Shown in the public gallery once processed.
    pub is_public: bool,
}

/// Playback links for a player or a CDN: each carries a signed token in its path (relative
/// URIs inside the playlists and cues keep it), valid until `expires_at`.
#[derive(Debug, Object)]
pub struct PlaybackLinks {
    /// The video.
    pub video_id: Uuid,
    /// When the links stop working.
    pub expires_at: DateTime<Utc>,
    /// The HLS master playlist (`null` for a video without a ladder).
    #[oai(nullable)]
    pub hls_url: Option<String>,
    /// The MP4 (an S3 presigned URL when the store signs its own).
    pub mp4_url: String,
    /// The thumbnail (likewise).
    pub thumbnail_url: String,
    /// The storyboard cues (`null` when none).
    #[oai(nullable)]
    pub storyboard_url: Option<String>,
}

impl From<PlaybackGrant> for PlaybackLinks {
    fn from(grant: PlaybackGrant) -> Self {
        let base = format!("/api/playback/{}", grant.token.token);
        Self {
            video_id: grant.video_id.as_uuid(),
            expires_at: grant.token.expires_at,
            hls_url: grant.has_stream.then(|| format!("{base}/hls/master.m3u8")),
            mp4_url: grant
                .video_url
                .unwrap_or_else(|| format!("{base}/video.mp4")),
            thumbnail_url: grant
                .thumbnail_url
                .unwrap_or_else(|| format!("{base}/thumbnail.jpg")),
            storyboard_url: grant
                .has_storyboard
                .then(|| format!("{base}/storyboard.vtt")),
        }
    }
}

impl From<Video> for VideoDetail {
    fn from(video: Video) -> Self {
        Self {
            video_id: video.id.as_uuid(),
            title: video.title.as_str().to_owned(),
            description: video.description.as_ref().map(|d| d.as_str().to_owned()),
            tags: video.tags.as_slice().to_vec(),
            status: ProcessingStatus::from(&video.status),
            failure_reason: video.status.failure_reason().map(str::to_owned),
            uploaded_at: video.uploaded_at,
            processed_at: video.processed_at,
            published_at: video.published_at,
            duration_seconds: video.duration_seconds,
            original_url: own_url(&video, "original"),
            processed_url: video
                .processed
                .as_ref()
                .map(|_| own_url(&video, "processed")),
            thumbnail_url: video
                .thumbnail
                .as_ref()
                .map(|_| own_url(&video, "thumbnail")),
            playback_url: (video.status == VideoStatus::Processed)
                .then(|| own_url(&video, "playback")),
            progress: video.progress.map(Progress::from),
            votes: video.votes,
            is_public: video.is_public,
        }
    }
}

/// A video was deleted.
#[derive(Debug, Object)]
pub struct VideoDeleted {
    /// `El video ha sido eliminado exitosamente.`
    pub message: String,
    /// Its id.
    pub video_id: Uuid,
}

/// The player of a public video.
#[derive(Clone, Debug, Object, Serialize, Deserialize)]
pub struct PlayerInfo {
    /// First name and last name.
    pub username: String,
    /// City.
    pub city: String,
    /// Country.
    pub country: String,
}

impl From<&PlayerSummary> for PlayerInfo {
    fn from(summary: &PlayerSummary) -> Self {
        Self {
            username: summary.username.clone(),
            city: summary.city.as_str().to_owned(),
            country: summary.country.as_str().to_owned(),
        }
    }
}

/// A video in the public gallery.
#[derive(Clone, Debug, Object, Serialize, Deserialize)]
pub struct PublicVideoItem {
    /// Id.
    pub video_id: Uuid,
    /// Title.
    pub title: String,
    /// Who uploaded it (the contract's three keys).
    pub player: PlayerInfo,
    /// The player's id (their page: `GET /api/public/players/{player_id}`).
    pub player_id: Uuid,
    /// The processed MP4 (streamed with Range support).
    pub processed_url: String,
    /// The thumbnail.
    pub thumbnail_url: String,
    /// The HLS master playlist (adaptive streaming; `null` for a video processed before the
    /// ladder existed).
    #[oai(nullable)]
    pub hls_url: Option<String>,
    /// Seek previews: WebVTT cues pointing at tiles of a sprite (`null` when none).
    #[oai(nullable)]
    pub storyboard_url: Option<String>,
    /// Length in seconds (`null` when unknown).
    #[oai(nullable)]
    pub duration_seconds: Option<f64>,
    /// Votes.
    pub votes: u64,
    /// When it was opened for voting.
    #[oai(nullable)]
    pub published_at: Option<DateTime<Utc>>,
}

impl From<PublicVideo> for PublicVideoItem {
    fn from(public: PublicVideo) -> Self {
        let video = public.video;
        Self {
            video_id: video.id.as_uuid(),
            title: video.title.as_str().to_owned(),
            player: PlayerInfo::from(&public.player),
            player_id: public.player.user_id.as_uuid(),
            processed_url: format!("/api/public/videos/{}/stream", video.id),
            thumbnail_url: format!("/api/public/videos/{}/thumbnail", video.id),
            hls_url: video
                .stream
                .as_ref()
                .map(|_| format!("/api/public/videos/{}/hls/master.m3u8", video.id)),
            storyboard_url: video
                .storyboard
                .as_ref()
                .map(|_| format!("/api/public/videos/{}/storyboard.vtt", video.id)),
            duration_seconds: video.duration_seconds,
            votes: video.votes,
            published_at: video.published_at,
        }
    }
}

/// A vote was recorded.
#[derive(Debug, Object)]
pub struct VoteAccepted {
    /// `Voto registrado exitosamente.`
    pub message: String,
    /// The video.
    pub video_id: Uuid,
    /// Its votes now.
    pub total_votes: u64,
}

/// One row of the rankings: exactly these four keys.
#[derive(Clone, Debug, PartialEq, Object, Serialize, Deserialize)]
pub struct RankingRow {
    /// 1-based, continuous across pages.
    pub position: u64,
    /// First name and last name.
    pub username: String,
    /// City.
    pub city: String,
    /// Votes on the player's videos.
    pub votes: u64,
}

/// Liveness: always `healthy` while the process answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Liveness {
    /// The process answers.
    Healthy,
}

/// Liveness.
#[derive(Debug, Object)]
pub struct HealthStatus {
    /// `healthy`.
    pub status: Liveness,
}

/// Readiness as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Readiness {
    /// Every backend answers.
    Ready,
    /// At least one backend does not.
    Unavailable,
}

/// One backend's check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum CheckOutcome {
    /// It answers.
    Ok,
    /// It does not (the reason is logged, never sent).
    Unavailable,
}

/// Readiness: each backend checked.
#[derive(Debug, Object)]
pub struct ReadinessReport {
    /// `ready` when every check is `ok`, else `unavailable`.
    pub status: Readiness,
    /// Per backend (`database`, `queue`, `blobs`): `ok` or `unavailable`.
    pub checks: BTreeMap<String, CheckOutcome>,
}
