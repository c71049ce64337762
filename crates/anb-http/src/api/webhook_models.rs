//! The JSON bodies of webhooks, their delivery logs and a video's audit trail.

use anb_domain::event::{EventType, VideoEvent};
use anb_domain::webhook::{Delivery, Webhook};
use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

/// A subscription to be made.
#[derive(Debug, Object)]
pub struct WebhookRequest {
    /// Where to POST events: `http://` or `https://` and printable ASCII (an international
    /// name in its `xn--` form), at most 2048 characters, resolving to public addresses (unless
    /// the deployment allows private ones).
    #[oai(validator(max_length = 2048, pattern = "^https?://[!-~]+$"))]
    pub url: String,
    /// The events to receive; absent or empty: every one.
    #[oai(default, validator(max_items = 8, unique_items))]
    pub events: Vec<WebhookEvent>,
}

/// An event a webhook may receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum)]
pub enum WebhookEvent {
    /// The original is stored and a job queued.
    #[oai(rename = "video.uploaded")]
    VideoUploaded,
    /// A worker took the video (each processing attempt).
    #[oai(rename = "video.processing")]
    VideoProcessing,
    /// Processing succeeded.
    #[oai(rename = "video.processed")]
    VideoProcessed,
    /// Processing gave up.
    #[oai(rename = "video.failed")]
    VideoFailed,
    /// The video became published for voting.
    #[oai(rename = "video.published")]
    VideoPublished,
    /// The video left the public gallery.
    #[oai(rename = "video.unpublished")]
    VideoUnpublished,
    /// The video was deleted.
    #[oai(rename = "video.deleted")]
    VideoDeleted,
    /// A conversion on demand is ready.
    #[oai(rename = "rendition.ready")]
    RenditionReady,
}

impl From<WebhookEvent> for EventType {
    fn from(event: WebhookEvent) -> Self {
        match event {
            WebhookEvent::VideoUploaded => Self::VideoUploaded,
            WebhookEvent::VideoProcessing => Self::VideoProcessing,
            WebhookEvent::VideoProcessed => Self::VideoProcessed,
            WebhookEvent::VideoFailed => Self::VideoFailed,
            WebhookEvent::VideoPublished => Self::VideoPublished,
            WebhookEvent::VideoUnpublished => Self::VideoUnpublished,
            WebhookEvent::VideoDeleted => Self::VideoDeleted,
            WebhookEvent::RenditionReady => Self::RenditionReady,
        }
    }
}

/// A webhook: events about the caller's videos are POSTed to `url`, signed with `secret`
/// (Standard Webhooks: headers `webhook-id`, `webhook-timestamp`, `webhook-signature:
/// v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the secret's base64 part).
#[derive(Debug, Object)]
pub struct WebhookView {
    /// Identity.
    pub webhook_id: Uuid,
    /// The signing secret, `whsec_<base64>`.
    pub secret: String,
    /// Where events go.
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        Self {
            webhook_id: webhook.id.as_uuid(),
            secret: webhook.secret,
            url: webhook.url,
            events: names(&webhook.events),
            created_at: webhook.created_at,
        }
    }
}

fn names(events: &[EventType]) -> Vec<String> {
    events.iter().map(|e| e.as_str().to_owned()).collect()
}

/// One event's delivery to a webhook.
#[derive(Debug, Object)]
pub struct DeliveryView {
    /// The event; every attempt sends it as `webhook-id`.
    pub event_id: Uuid,
    /// Its type (`video.processed`, …).
    pub event_type: String,
    /// The video.
    pub video_id: Uuid,
    /// `pending` (waiting for its next attempt), `delivered` (a 2xx answered), `dead` (it gave
    /// up after 24 h of retries).
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last attempt; `null` before the first or when there was no answer.
    #[oai(nullable)]
    pub last_response_code: Option<u16>,
    /// Why the last attempt failed; `null` when it did not.
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// When the last attempt was made; `null` before the first.
    #[oai(nullable)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due; `null` unless pending.
    #[oai(nullable)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            event_id: d.event_id.as_uuid(),
            event_type: d.event_type.as_str().to_owned(),
            video_id: d.video_id.as_uuid(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            last_response_code: d.last_status_code,
            last_error: d.last_error,
            last_attempt_at: d.last_attempt_at,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
        }
    }
}

/// An entry of a video's audit trail.
#[derive(Debug, Object)]
pub struct VideoEventView {
    /// Identity (the `webhook-id` its webhook deliveries carry).
    pub event_id: Uuid,
    /// `video.uploaded`, `video.processing` (a processing attempt started),
    /// `video.attempt_failed` (it failed and will be tried again), `video.processed`,
    /// `video.failed`, `video.published`, `video.unpublished`, `rendition.ready`.
    pub event_type: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The worker of a processing attempt (`host:pid`); `null` for other events.
    #[oai(nullable)]
    pub worker: Option<String>,
    /// The attempt's number (the job's deliveries so far); `null` for other events.
    #[oai(nullable)]
    pub attempt: Option<u32>,
    /// Why processing failed; `null` unless it did.
    #[oai(nullable)]
    pub error: Option<String>,
    /// The rendition that became ready; `null` for other events.
    #[oai(nullable)]
    pub rendition_id: Option<Uuid>,
}

impl From<VideoEvent> for VideoEventView {
    fn from(e: VideoEvent) -> Self {
        let attempt = e.detail.attempt;
        Self {
            event_id: e.id.as_uuid(),
            event_type: e.kind.as_str().to_owned(),
            at: e.at,
            worker: attempt.as_ref().map(|a| a.worker.clone()),
            attempt: attempt.map(|a| a.number),
            error: e.detail.error,
            rendition_id: e.detail.rendition.map(|r| r.as_uuid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON as _;

    use super::*;

    #[test]
    fn each_event_of_the_contract_is_the_domains_subscribable_event_of_its_name() {
        use WebhookEvent as W;
        let contract = [
            W::VideoUploaded,
            W::VideoProcessing,
            W::VideoProcessed,
            W::VideoFailed,
            W::VideoPublished,
            W::VideoUnpublished,
            W::VideoDeleted,
            W::RenditionReady,
        ];
        let domain: Vec<EventType> = contract.iter().map(|e| EventType::from(*e)).collect();
        assert_eq!(domain, EventType::SUBSCRIBABLE);
        for (event, kind) in contract.iter().zip(domain) {
            assert_eq!(event.to_json(), Some(serde_json::json!(kind.as_str())));
        }
    }
}
