//! The JSON bodies of the contract (field names as in API.md and the course collection).

use anb_domain::{PublicVideo, RankingEntry, User, Video};
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::text::Text;

/// Sign-up form. Every field is required; they are optional in the schema only so that a
/// missing one is reported by name (400 `validation_error`, `"<field>: field required"`).
#[derive(Debug, Object)]
pub struct SignupRequest {
    /// First name.
    pub first_name: Option<Text>,
    /// Last name.
    pub last_name: Option<Text>,
    /// Email (unique, case-insensitive).
    pub email: Option<Text>,
    /// Password (at least 8 characters).
    pub password1: Option<Text>,
    /// The same password again.
    pub password2: Option<Text>,
    /// City.
    pub city: Option<Text>,
    /// Country.
    pub country: Option<Text>,
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
    pub email: Option<Text>,
    /// Password.
    pub password: Option<Text>,
}

/// An access token.
#[derive(Debug, Object)]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
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

/// A video in its owner's list.
#[derive(Debug, Object)]
pub struct VideoSummary {
    /// Id.
    pub video_id: Uuid,
    /// Title.
    pub title: String,
    /// `uploaded`, `processing`, `processed` or `failed`.
    pub status: String,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// When processing finished.
    pub processed_at: Option<DateTime<Utc>>,
    /// The processed MP4, once processed.
    pub processed_url: Option<String>,
    /// The thumbnail, once processed.
    pub thumbnail_url: Option<String>,
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
            status: video.status.as_str().to_owned(),
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
    /// Description.
    pub description: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// `uploaded`, `processing`, `processed` or `failed`.
    pub status: String,
    /// Why processing failed (status `failed`).
    pub failure_reason: Option<String>,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// When processing finished.
    pub processed_at: Option<DateTime<Utc>>,
    /// When it was opened for voting.
    pub published_at: Option<DateTime<Utc>>,
    /// Length of the processed video.
    pub duration_seconds: Option<f64>,
    /// The upload as received.
    pub original_url: String,
    /// The processed MP4, once processed.
    pub processed_url: Option<String>,
    /// The thumbnail, once processed.
    pub thumbnail_url: Option<String>,
    /// Votes.
    pub votes: u64,
    /// Shown in the public gallery once processed.
    pub is_public: bool,
}

impl From<Video> for VideoDetail {
    fn from(video: Video) -> Self {
        Self {
            video_id: video.id.as_uuid(),
            title: video.title.as_str().to_owned(),
            description: video.description.as_ref().map(|d| d.as_str().to_owned()),
            tags: video.tags.as_slice().to_vec(),
            status: video.status.as_str().to_owned(),
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

/// A video in the public gallery.
#[derive(Clone, Debug, Object, Serialize, Deserialize)]
pub struct PublicVideoItem {
    /// Id.
    pub video_id: Uuid,
    /// Title.
    pub title: String,
    /// Who uploaded it.
    pub player: PlayerInfo,
    /// The processed MP4 (streamed with Range support).
    pub processed_url: String,
    /// The thumbnail.
    pub thumbnail_url: String,
    /// Length in seconds.
    pub duration_seconds: Option<f64>,
    /// Votes.
    pub votes: u64,
    /// When it was opened for voting.
    pub published_at: Option<DateTime<Utc>>,
}

impl From<PublicVideo> for PublicVideoItem {
    fn from(public: PublicVideo) -> Self {
        let video = public.video;
        Self {
            video_id: video.id.as_uuid(),
            title: video.title.as_str().to_owned(),
            player: PlayerInfo {
                username: public.player.username,
                city: public.player.city.as_str().to_owned(),
                country: public.player.country.as_str().to_owned(),
            },
            processed_url: format!("/api/public/videos/{}/stream", video.id),
            thumbnail_url: format!("/api/public/videos/{}/thumbnail", video.id),
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

impl From<RankingEntry> for RankingRow {
    fn from(entry: RankingEntry) -> Self {
        Self {
            position: entry.position,
            username: entry.username,
            city: entry.city.as_str().to_owned(),
            votes: entry.votes,
        }
    }
}

/// Liveness.
#[derive(Debug, Object)]
pub struct HealthStatus {
    /// `healthy`, `ready` or `unavailable`.
    pub status: String,
    /// Per backend, when checked: `ok` or what failed.
    #[oai(skip_serializing_if_is_empty)]
    pub checks: std::collections::BTreeMap<String, String>,
}

/// A required field's value, or the contract's `"<field>: field required"` (or, for another
/// JSON type than a string, `"<field>: must be a string, not …"`).
pub fn required(field: &str, value: Option<Text>) -> Result<String, String> {
    value
        .ok_or_else(|| format!("{field}: field required"))?
        .into_string(field)
}
