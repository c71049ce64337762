//! What happens to a video, as events: the audit trail a player reads, and what webhooks
//! deliver. Repositories write a change's events in the transaction that makes the change (a
//! transactional outbox), deriving them with [`VideoEvent::of_change`], so an event exists if
//! and only if its change committed.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::ids::{EventId, RenditionId, UserId, VideoId};
use crate::rendition::Rendition;
use crate::video::{Video, VideoStatus};

/// The kinds of events, by their webhook names (`video.uploaded`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// The original is stored and a job queued.
    #[serde(rename = "video.uploaded")]
    VideoUploaded,
    /// A worker took the video (one per processing attempt).
    #[serde(rename = "video.processing")]
    VideoProcessing,
    /// Processing succeeded (again, after a profile change).
    #[serde(rename = "video.processed")]
    VideoProcessed,
    /// Processing gave up.
    #[serde(rename = "video.failed")]
    VideoFailed,
    /// The video became published for voting (processed and public).
    #[serde(rename = "video.published")]
    VideoPublished,
    /// The video left the public gallery.
    #[serde(rename = "video.unpublished")]
    VideoUnpublished,
    /// The video was deleted.
    #[serde(rename = "video.deleted")]
    VideoDeleted,
    /// A conversion on demand is ready to download.
    #[serde(rename = "rendition.ready")]
    RenditionReady,
    /// A processing attempt failed and will be tried again (audit trail only: webhooks are
    /// not sent for it).
    #[serde(rename = "video.attempt_failed")]
    AttemptFailed,
}

impl EventType {
    /// The events a webhook may subscribe to, in the order of a video's life.
    pub const SUBSCRIBABLE: [Self; 8] = [
        Self::VideoUploaded,
        Self::VideoProcessing,
        Self::VideoProcessed,
        Self::VideoFailed,
        Self::VideoPublished,
        Self::VideoUnpublished,
        Self::VideoDeleted,
        Self::RenditionReady,
    ];

    /// The name in webhooks and the API (`video.uploaded`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VideoUploaded => "video.uploaded",
            Self::VideoProcessing => "video.processing",
            Self::VideoProcessed => "video.processed",
            Self::VideoFailed => "video.failed",
            Self::VideoPublished => "video.published",
            Self::VideoUnpublished => "video.unpublished",
            Self::VideoDeleted => "video.deleted",
            Self::RenditionReady => "rendition.ready",
            Self::AttemptFailed => "video.attempt_failed",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::AttemptFailed]
            .into_iter()
            .chain(Self::SUBSCRIBABLE)
            .find(|kind| kind.as_str() == name)
    }

    /// Whether webhooks deliver it (every kind but the audit trail's own).
    pub fn is_subscribable(self) -> bool {
        self != Self::AttemptFailed
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One processing attempt's identity: which worker took the job, on which delivery of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The worker's name (`host:pid` by default).
    pub worker: String,
    /// The job's delivery count ([`LeasedJob::attempt`](crate::LeasedJob::attempt)).
    pub number: u32,
}

/// What an event says beyond its kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    /// The processing attempt (`video.processing`, `video.attempt_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<Attempt>,
    /// Why processing failed (`video.failed`, `video.attempt_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The rendition (`rendition.ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendition: Option<RenditionId>,
}

/// Something that happened to a video, as stored: an entry of its audit trail, and the message
/// webhooks deliver ([`VideoEvent::body`]).
#[derive(Clone, Debug, PartialEq)]
pub struct VideoEvent {
    /// Identity; the `webhook-id` of its deliveries (retries reuse it).
    pub id: EventId,
    /// The video.
    pub video_id: VideoId,
    /// The video's owner (whose webhooks hear of it).
    pub owner_id: UserId,
    /// What happened.
    pub kind: EventType,
    /// When.
    pub at: DateTime<Utc>,
    /// The attempt, error or rendition it concerns.
    pub detail: EventDetail,
    /// The video's public fields at that moment (the webhook's `data`).
    pub data: serde_json::Value,
}

impl VideoEvent {
    /// A new event about `video`, with its public fields as they are now.
    pub fn new(video: &Video, kind: EventType, at: DateTime<Utc>, detail: EventDetail) -> Self {
        Self {
            id: EventId::new(),
            video_id: video.id,
            owner_id: video.owner_id,
            kind,
            at,
            data: public_fields(video, &detail),
            detail,
        }
    }

    /// The events a change of `before` into `after` makes (`None`: the video does not exist
    /// on that side), at `at`. `attempt` names the processing attempt of a change into
    /// `processing`. Every repository writes exactly these, in the change's transaction.
    ///
    /// ```
    /// use anb_domain::event::{EventType, VideoEvent};
    /// # use anb_domain::video::Video;
    /// # use anb_domain::{BlobKey, UserId, VideoId, values::VideoTitle};
    /// # let now = chrono::Utc::now();
    /// # let id = VideoId::new();
    /// # let owner = UserId::new();
    /// # let video = Video::uploaded(id, owner, VideoTitle::new("Dunk").unwrap(), None,
    /// #     Default::default(), true, BlobKey::original(owner, id), 10, now);
    /// let kinds = |b: Option<&Video>, a: Option<&Video>| -> Vec<EventType> {
    ///     VideoEvent::of_change(b, a, now, None).iter().map(|e| e.kind).collect()
    /// };
    /// assert_eq!(kinds(None, Some(&video)), [EventType::VideoUploaded]);
    /// assert_eq!(kinds(Some(&video), None), [EventType::VideoDeleted]);
    /// assert!(kinds(Some(&video), Some(&video)).is_empty());
    /// ```
    pub fn of_change(
        before: Option<&Video>,
        after: Option<&Video>,
        at: DateTime<Utc>,
        attempt: Option<&Attempt>,
    ) -> Vec<Self> {
        let (before, after) = match (before, after) {
            (None, None) => return Vec::new(),
            (None, Some(new)) => {
                return vec![Self::new(
                    new,
                    EventType::VideoUploaded,
                    at,
                    EventDetail::default(),
                )]
            }
            (Some(gone), None) => {
                return vec![Self::new(
                    gone,
                    EventType::VideoDeleted,
                    at,
                    EventDetail::default(),
                )]
            }
            (Some(before), Some(after)) => (before, after),
        };
        let mut events = Vec::new();
        let started = after.status == VideoStatus::Processing
            && after.status_changed_at != before.status_changed_at;
        if started {
            let detail = EventDetail {
                attempt: attempt.cloned(),
                ..EventDetail::default()
            };
            events.push(Self::new(after, EventType::VideoProcessing, at, detail));
        }
        let processed = after.status == VideoStatus::Processed
            && (before.status != VideoStatus::Processed
                || after.processed_at != before.processed_at);
        if processed {
            events.push(Self::new(
                after,
                EventType::VideoProcessed,
                at,
                EventDetail::default(),
            ));
        }
        if let (VideoStatus::Failed { reason }, false) = (
            &after.status,
            matches!(before.status, VideoStatus::Failed { .. }),
        ) {
            let detail = EventDetail {
                error: Some(reason.clone()),
                ..EventDetail::default()
            };
            events.push(Self::new(after, EventType::VideoFailed, at, detail));
        }
        match (before.is_published(), after.is_published()) {
            (false, true) => events.push(Self::new(
                after,
                EventType::VideoPublished,
                at,
                EventDetail::default(),
            )),
            (true, false) => events.push(Self::new(
                after,
                EventType::VideoUnpublished,
                at,
                EventDetail::default(),
            )),
            _ => {}
        }
        events
    }

    /// The event of `rendition` of `video` becoming ready.
    pub fn rendition_ready(video: &Video, rendition: &Rendition, at: DateTime<Utc>) -> Self {
        let detail = EventDetail {
            rendition: Some(rendition.id),
            ..EventDetail::default()
        };
        let mut event = Self::new(video, EventType::RenditionReady, at, detail);
        if let serde_json::Value::Object(data) = &mut event.data {
            data.insert(
                "rendition".into(),
                json!({
                    "rendition_id": rendition.id,
                    "format": rendition.format.as_str(),
                    "height": rendition.height,
                }),
            );
        }
        event
    }

    /// The webhook body (Standard Webhooks' payload): `{"type", "timestamp", "data"}`.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "type": self.kind.as_str(),
            "timestamp": self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": self.data,
        })
    }
}

/// The video's public fields (no storage keys, no URLs: a receiver asks the API for those), plus
/// the event's error.
fn public_fields(video: &Video, detail: &EventDetail) -> serde_json::Value {
    json!({
        "video_id": video.id,
        "player_id": video.owner_id,
        "title": video.title.as_str(),
        "description": video.description.as_ref().map(|d| d.as_str()),
        "tags": video.tags.as_slice(),
        "status": video.status.as_str(),
        "is_public": video.is_public,
        "published": video.is_published(),
        "uploaded_at": video.uploaded_at,
        "processed_at": video.processed_at,
        "published_at": video.published_at,
        "duration_seconds": video.duration_seconds,
        "votes": video.votes,
        "error": detail.error.as_deref().or(video.status.failure_reason()),
    })
}
