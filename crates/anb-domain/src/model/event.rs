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
    /// The trace context of the operation that made it (a W3C `traceparent`, opaque here):
    /// its webhook deliveries continue that trace. Repositories fill it in from their
    /// [`TraceContext`](crate::ports::TraceContext) when they store it.
    pub trace_context: Option<String>,
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
            trace_context: None,
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
        // Into processing, or a redelivery (processing again, stamped anew). Not only the
        // stamp: a worker may take an upload within the instant it was stored.
        let started = after.status == VideoStatus::Processing
            && (before.status != VideoStatus::Processing
                || after.status_changed_at != before.status_changed_at);
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

    /// `events` carrying `trace_context` (what repositories store them with).
    pub fn traced(mut events: Vec<Self>, trace_context: Option<String>) -> Vec<Self> {
        for event in &mut events {
            event.trace_context.clone_from(&trace_context);
        }
        events
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rendition::{RenditionFormat, RenditionRequest};
    use crate::{BlobKey, ProcessedMedia, StatusChange, Tags, VideoTitle};
    use chrono::Duration;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn fresh(public: bool) -> Video {
        let (id, owner) = (VideoId::new(), UserId::new());
        Video::uploaded(
            id,
            owner,
            VideoTitle::new("Dunk").unwrap(),
            None,
            Tags::default(),
            public,
            BlobKey::original(owner, id),
            10,
            t(0),
        )
    }

    fn media() -> ProcessedMedia {
        ProcessedMedia {
            processed: BlobKey::new("processed/x.mp4").unwrap(),
            thumbnail: BlobKey::new("thumbnails/x.jpg").unwrap(),
            stream: None,
            storyboard: None,
            duration_seconds: 12.5,
        }
    }

    fn attempt(worker: &str, number: u32) -> Attempt {
        Attempt {
            worker: worker.into(),
            number,
        }
    }

    /// `before` changed by `change` at `at`, and the events of it.
    fn change(
        before: &Video,
        change: &StatusChange,
        at: DateTime<Utc>,
    ) -> (Video, Vec<VideoEvent>) {
        let after = before.apply(change, at).unwrap();
        let events = VideoEvent::of_change(Some(before), Some(&after), at, change.attempt());
        (after, events)
    }

    fn kinds(events: &[VideoEvent]) -> Vec<EventType> {
        events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn an_upload_and_a_deletion_are_one_event_each_and_no_change_is_none() {
        let video = fresh(true);
        let up = VideoEvent::of_change(None, Some(&video), t(1), None);
        assert_eq!(kinds(&up), [EventType::VideoUploaded]);
        assert_eq!(
            (up[0].video_id, up[0].owner_id, up[0].at),
            (video.id, video.owner_id, t(1))
        );
        assert_eq!(up[0].detail, EventDetail::default());
        let gone = VideoEvent::of_change(Some(&video), None, t(2), None);
        assert_eq!(kinds(&gone), [EventType::VideoDeleted]);
        assert!(VideoEvent::of_change(Some(&video), Some(&video), t(3), None).is_empty());
        assert!(VideoEvent::of_change(None, None, t(3), None).is_empty());
    }

    #[test]
    fn starting_is_processing_with_its_attempt_and_a_redelivery_is_another() {
        let video = fresh(true);
        let (started, events) = change(
            &video,
            &StatusChange::StartProcessing(attempt("w1", 1)),
            t(1),
        );
        assert_eq!(kinds(&events), [EventType::VideoProcessing]);
        assert_eq!(events[0].detail.attempt, Some(attempt("w1", 1)));
        assert_eq!(events[0].data["status"], "processing");
        let (_, again) = change(
            &started,
            &StatusChange::StartProcessing(attempt("w2", 2)),
            t(2),
        );
        assert_eq!(kinds(&again), [EventType::VideoProcessing]);
        assert_eq!(again[0].detail.attempt, Some(attempt("w2", 2)));
        assert_ne!(again[0].id, events[0].id);
    }

    #[test]
    fn a_start_within_the_instant_of_the_upload_is_still_processing() {
        let video = fresh(true);
        let (started, events) = change(
            &video,
            &StatusChange::StartProcessing(attempt("w1", 1)),
            video.status_changed_at,
        );
        assert_eq!(started.status_changed_at, video.status_changed_at);
        assert_eq!(kinds(&events), [EventType::VideoProcessing]);
    }

    #[test]
    fn completing_a_public_video_is_processed_then_published_and_a_private_one_only_processed() {
        for public in [true, false] {
            let video = fresh(public);
            let (started, _) = change(
                &video,
                &StatusChange::StartProcessing(attempt("w", 1)),
                t(1),
            );
            let (done, events) = change(&started, &StatusChange::Complete(media()), t(2));
            let expected: &[EventType] = if public {
                &[EventType::VideoProcessed, EventType::VideoPublished]
            } else {
                &[EventType::VideoProcessed]
            };
            assert_eq!(kinds(&events), expected);
            assert!(events.iter().all(|e| e.detail == EventDetail::default()));
            assert_eq!(events[0].data["processed_at"], json!(done.processed_at));
            assert_eq!(events[0].data["published"], public);
        }
    }

    #[test]
    fn reprocessing_is_processed_again_without_publishing() {
        let video = fresh(true);
        let (started, _) = change(
            &video,
            &StatusChange::StartProcessing(attempt("w", 1)),
            t(1),
        );
        let (done, _) = change(&started, &StatusChange::Complete(media()), t(2));
        let (_, events) = change(&done, &StatusChange::Reprocessed(media()), t(3));
        assert_eq!(kinds(&events), [EventType::VideoProcessed]);
    }

    #[test]
    fn failing_is_failed_with_the_reason_as_error_from_uploaded_or_processing() {
        let fail = StatusChange::Fail {
            reason: "no video stream".into(),
        };
        let video = fresh(true);
        let (started, _) = change(
            &video,
            &StatusChange::StartProcessing(attempt("w", 1)),
            t(1),
        );
        for before in [&video, &started] {
            let (_, events) = change(before, &fail, t(2));
            assert_eq!(kinds(&events), [EventType::VideoFailed]);
            assert_eq!(events[0].detail.error.as_deref(), Some("no video stream"));
            assert_eq!(events[0].data["error"], "no video stream");
            assert_eq!(events[0].data["status"], "failed");
        }
    }

    #[test]
    fn visibility_changes_are_published_and_unpublished_and_the_same_visibility_is_none() {
        let private = fresh(false);
        let (started, _) = change(
            &private,
            &StatusChange::StartProcessing(attempt("w", 1)),
            t(1),
        );
        let (done, _) = change(&started, &StatusChange::Complete(media()), t(2));
        let shown = done.with_visibility(true, t(3)).unwrap();
        let events = VideoEvent::of_change(Some(&done), Some(&shown), t(3), None);
        assert_eq!(kinds(&events), [EventType::VideoPublished]);
        assert_eq!(events[0].data["published"], true);
        let again = shown.with_visibility(true, t(4)).unwrap();
        assert!(VideoEvent::of_change(Some(&shown), Some(&again), t(4), None).is_empty());
        let hidden = shown.with_visibility(false, t(5)).unwrap();
        let events = VideoEvent::of_change(Some(&shown), Some(&hidden), t(5), None);
        assert_eq!(kinds(&events), [EventType::VideoUnpublished]);
        assert_eq!(events[0].data["published"], false);
        let still = hidden.with_visibility(false, t(6)).unwrap();
        assert!(VideoEvent::of_change(Some(&hidden), Some(&still), t(6), None).is_empty());
    }

    #[test]
    fn a_ready_rendition_names_it_and_the_body_is_standard_webhooks_shaped() {
        let video = fresh(true);
        let request = RenditionRequest::new(RenditionFormat::Mp4, Some(480)).unwrap();
        let rendition = Rendition::requested(video.id, video.owner_id, request, t(1));
        let at = t(2) + Duration::milliseconds(250);
        let event = VideoEvent::rendition_ready(&video, &rendition, at);
        assert_eq!(event.kind, EventType::RenditionReady);
        assert_eq!(event.detail.rendition, Some(rendition.id));
        assert_eq!(event.data["rendition"]["format"], "mp4");
        assert_eq!(event.data["rendition"]["height"], 480);
        let body = event.body();
        assert_eq!(body["type"], "rendition.ready");
        assert_eq!(body["timestamp"], "2023-11-14T22:13:22.250Z");
        assert_eq!(body["data"], event.data);
        assert_eq!(body["data"]["video_id"], json!(video.id));
    }

    #[test]
    fn names_round_trip_and_only_the_attempt_failure_is_not_subscribable() {
        for kind in EventType::SUBSCRIBABLE {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
            assert!(kind.is_subscribable());
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        assert_eq!(
            EventType::parse("video.attempt_failed"),
            Some(EventType::AttemptFailed)
        );
        assert!(!EventType::AttemptFailed.is_subscribable());
        assert_eq!(EventType::parse("video.exploded"), None);
    }
}
