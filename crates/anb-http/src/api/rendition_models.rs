//! The bodies of conversions on demand (`/api/videos/{video_id}/renditions`).

use anb_domain::ports::PlaybackToken;
use std::borrow::Cow;

use anb_domain::rendition::{Rendition, RenditionFormat, RenditionStatus, RENDITION_HEIGHTS};
use chrono::{DateTime, Utc};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{Enum, Object};
use serde_json::Value;
use uuid::Uuid;

use super::models::Progress;

/// What a rendition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ConversionFormat {
    /// An MP4 (H.264 + AAC) at a height.
    Mp4,
    /// The sound alone, as MP3 (128 kbit/s).
    Mp3,
    /// An HLS ladder (CMAF segments) whose top rung is at a height.
    Hls,
}

impl From<ConversionFormat> for RenditionFormat {
    fn from(format: ConversionFormat) -> Self {
        match format {
            ConversionFormat::Mp4 => Self::Mp4,
            ConversionFormat::Mp3 => Self::Mp3,
            ConversionFormat::Hls => Self::Hls,
        }
    }
}

impl From<RenditionFormat> for ConversionFormat {
    fn from(format: RenditionFormat) -> Self {
        match format {
            RenditionFormat::Mp4 => Self::Mp4,
            RenditionFormat::Mp3 => Self::Mp3,
            RenditionFormat::Hls => Self::Hls,
        }
    }
}

/// A conversion request.
#[derive(Debug, Object)]
pub struct ConversionRequest {
    /// `mp4`, `mp3` or `hls`.
    pub format: ConversionFormat,
    /// The picture's height for `mp4` and `hls`: 360, 480, 720 (the default, when absent or
    /// `null`) or 1080; ignored for `mp3`. A smaller original is never enlarged: its
    /// rendition keeps its own size.
    #[oai(nullable)]
    pub height: Option<RenditionHeight>,
}

/// A picture height a rendition may be asked at ([`RENDITION_HEIGHTS`]), in a nullable field
/// (`null`: the default): the schema lists them, so a height the document calls valid is
/// never refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenditionHeight(pub u32);

impl Type for RenditionHeight {
    const IS_REQUIRED: bool = true;

    type RawValueType = u32;

    type RawElementValueType = u32;

    fn name() -> Cow<'static, str> {
        "integer(int32)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            format: Some("int32"),
            // Only ever a nullable field: OpenAPI 3.0 wants its `null` in the enum too.
            enum_items: RENDITION_HEIGHTS
                .iter()
                .map(|&h| Value::from(h))
                .chain([Value::Null])
                .collect(),
            ..MetaSchema::new("integer")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for RenditionHeight {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let height = value
            .as_ref()
            .and_then(Value::as_u64)
            .and_then(|h| u32::try_from(h).ok())
            .filter(|h| RENDITION_HEIGHTS.contains(h));
        height
            .map(Self)
            .ok_or_else(|| ParseError::custom(format!("must be one of {RENDITION_HEIGHTS:?}")))
    }
}

impl ToJSON for RenditionHeight {
    fn to_json(&self) -> Option<Value> {
        Some(Value::from(self.0))
    }
}

/// Where a rendition stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RenditionState {
    /// Waiting for a worker.
    Pending,
    /// Being made (see `progress`).
    Processing,
    /// Made: `download_url` fetches it.
    Ready,
    /// Not made (see `failure_reason`); asking for it again tries again.
    Failed,
}

/// A rendition of a video.
#[derive(Debug, Object)]
pub struct RenditionView {
    /// The rendition.
    pub rendition_id: Uuid,
    /// The video it renders.
    pub video_id: Uuid,
    /// What it is.
    pub format: ConversionFormat,
    /// The height asked for (`null` for `mp3`).
    #[oai(nullable)]
    pub height: Option<u32>,
    /// Where it stands.
    pub status: RenditionState,
    /// Why it failed (`null` unless `failed`).
    #[oai(nullable)]
    pub failure_reason: Option<String>,
    /// How far the worker has got (`null` unless `processing`).
    #[oai(nullable)]
    pub progress: Option<Progress>,
    /// A signed link to the file (`mp4`, `mp3`) or the master playlist (`hls`), fetchable
    /// without a bearer header until `expires_at`; `null` unless `ready`.
    #[oai(nullable)]
    pub download_url: Option<String>,
    /// When `download_url` stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// When it was made or failed (`null` before).
    #[oai(nullable)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl RenditionView {
    /// `rendition` as the API shows it, its link signed by `token`.
    pub fn new(rendition: Rendition, token: &PlaybackToken) -> Self {
        let download_url = (rendition.status == RenditionStatus::Ready).then(|| {
            format!(
                "/api/playback/{}/renditions/{}/{}",
                token.token,
                rendition.id,
                rendition.format.file_name()
            )
        });
        let (status, failure_reason) = match rendition.status {
            RenditionStatus::Pending => (RenditionState::Pending, None),
            RenditionStatus::Processing => (RenditionState::Processing, None),
            RenditionStatus::Ready => (RenditionState::Ready, None),
            RenditionStatus::Failed { reason } => (RenditionState::Failed, Some(reason)),
        };
        Self {
            rendition_id: rendition.id.as_uuid(),
            video_id: rendition.video_id.as_uuid(),
            format: rendition.format.into(),
            height: rendition.height,
            status,
            failure_reason,
            progress: rendition.progress.map(Progress::from),
            download_url,
            expires_at: token.expires_at,
            requested_at: rendition.requested_at,
            finished_at: rendition.finished_at,
        }
    }
}
