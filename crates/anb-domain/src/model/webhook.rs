//! Webhooks: subscriptions to a video's events, their deliveries, and when a failed delivery
//! is tried again. Messages follow the Standard Webhooks scheme (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`); the sender adapter signs and sends them.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::event::EventType;
use crate::ids::{EventId, LeaseToken, UserId, VideoId, WebhookId};
use crate::values::ValidationError;

/// Longest webhook URL accepted, in characters.
pub const MAX_URL_LEN: usize = 2048;

/// A subscription: where a video's events are sent, signed with its secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    /// Identity.
    pub id: WebhookId,
    /// The player whose videos it hears of; `None`: the deployment's, for every video.
    pub owner_id: Option<UserId>,
    /// Where events are POSTed (http or https).
    pub url: String,
    /// The signing secret, `whsec_<base64>`.
    pub secret: String,
    /// The events it receives (at least one).
    pub events: Vec<EventType>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// The id of the deployment's webhook (there is at most one: it is set from settings).
    pub const DEPLOYMENT: WebhookId = WebhookId::from_uuid(uuid::Uuid::nil());

    /// Checks a URL's form (the sender adapter checks where it leads:
    /// [`WebhookSender::check_target`](crate::ports::WebhookSender::check_target)).
    ///
    /// # Errors
    /// [`ValidationError`] on `url` when it is not `http://` or `https://` followed by
    /// printable ASCII (no spaces; an international name in its `xn--` form), or longer than
    /// [`MAX_URL_LEN`].
    ///
    /// ```
    /// use anb_domain::webhook::Webhook;
    /// assert!(Webhook::check_url("https://hooks.example.com/anb").is_ok());
    /// assert!(Webhook::check_url("ftp://example.com").is_err());
    /// ```
    pub fn check_url(url: &str) -> Result<(), ValidationError> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .unwrap_or_default();
        if rest.is_empty()
            || url.len() > MAX_URL_LEN
            || !rest.bytes().all(|b| (b'!'..=b'~').contains(&b))
        {
            return Err(ValidationError::new(
                "url",
                "must be an http:// or https:// URL of printable ASCII, at most 2048 characters",
            ));
        }
        Ok(())
    }

    /// The events a webhook asks for, checked: none means every subscribable event; each
    /// once, in the order of a video's life.
    ///
    /// # Errors
    /// [`ValidationError`] on `events` when one is not subscribable (`video.attempt_failed`
    /// is the audit trail's own).
    pub fn subscribable(asked: &[EventType]) -> Result<Vec<EventType>, ValidationError> {
        if asked.is_empty() {
            return Ok(EventType::SUBSCRIBABLE.to_vec());
        }
        if asked.iter().any(|kind| !kind.is_subscribable()) {
            return Err(ValidationError::new(
                "events",
                "must name event types such as video.processed",
            ));
        }
        let mut events = asked.to_vec();
        events.sort();
        events.dedup();
        Ok(events)
    }
}

/// Where one delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet: waiting for its next attempt.
    Pending,
    /// A 2xx answered it.
    Delivered,
    /// It gave up (retries ran past the retry window): a dead letter.
    Dead,
}

impl DeliveryStatus {
    /// `pending`, `delivered`, `dead`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One event's delivery to one webhook, as its log shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The event (its id is the message's `webhook-id`).
    pub event_id: EventId,
    /// What happened.
    pub event_type: EventType,
    /// The video.
    pub video_id: VideoId,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last attempt (`None`: none yet, or no answer).
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
}

/// A delivery the deliverer has claimed, with what it needs to send it.
#[derive(Clone, Debug, PartialEq)]
pub struct DueDelivery {
    /// The webhook.
    pub webhook_id: WebhookId,
    /// Where to send.
    pub url: String,
    /// What to sign with.
    pub secret: String,
    /// The event (`webhook-id`).
    pub event_id: EventId,
    /// Its place in the outbox (deliveries of one video go in this order).
    pub event_seq: i64,
    /// The body to send (the event's [`body`](crate::event::VideoEvent::body)).
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When the event happened (the retry window runs from it).
    pub created_at: DateTime<Utc>,
    /// The trace context of the change that made the event: the delivery continues its trace.
    pub trace_context: Option<String>,
    /// This claim: only it settles the delivery (a later claim, made once this one's lease ran
    /// out, supersedes it).
    pub lease: LeaseToken,
}

/// How an attempt to deliver went.
#[derive(Clone, Debug, PartialEq)]
pub enum SendOutcome {
    /// A 2xx within the time limit.
    Delivered {
        /// The status.
        status: u16,
    },
    /// Anything else: another status, no answer in time, no connection.
    Failed {
        /// The status, when there was an answer.
        status: Option<u16>,
        /// What went wrong.
        error: String,
    },
}

/// What the deliverer records after an attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    /// The attempt's outcome.
    pub outcome: SendOutcome,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// When to try again; `None` after a success, or to dead-letter a failure.
    pub retry_at: Option<DateTime<Utc>>,
}

impl Settlement {
    /// Where the delivery stands after the attempt: delivered (a 2xx), pending (a failure
    /// with a retry due at [`retry_at`](Self::retry_at)), or dead (a failure with none).
    pub fn status(&self) -> DeliveryStatus {
        match (&self.outcome, self.retry_at) {
            (SendOutcome::Delivered { .. }, _) => DeliveryStatus::Delivered,
            (SendOutcome::Failed { .. }, Some(_)) => DeliveryStatus::Pending,
            (SendOutcome::Failed { .. }, None) => DeliveryStatus::Dead,
        }
    }

    /// The attempt's HTTP status (if it got an answer) and error (if it failed): what the
    /// delivery log shows as its last response.
    pub fn response(&self) -> (Option<u16>, Option<&str>) {
        match &self.outcome {
            SendOutcome::Delivered { status } => (Some(*status), None),
            SendOutcome::Failed { status, error } => (*status, Some(error)),
        }
    }
}

/// When failed deliveries are tried again: the delay doubles from `first_delay` up to
/// `max_delay`, and a delivery still failing once `give_up_after` has passed since its event
/// becomes a dead letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookRetry {
    /// The delay after the first failure (default 5 s).
    pub first_delay: Duration,
    /// The longest delay (default 1 h).
    pub max_delay: Duration,
    /// How long after its event a delivery is still tried (default 24 h).
    pub give_up_after: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl WebhookRetry {
    /// When to try again after the `failures`-th failed attempt (1 for the first) at `now`, for
    /// an event of `created_at`; `None`: give up (the retry would fall past the window).
    ///
    /// ```
    /// use std::time::Duration;
    /// use anb_domain::webhook::WebhookRetry;
    ///
    /// let retry = WebhookRetry { first_delay: Duration::from_secs(5), ..Default::default() };
    /// let t0 = chrono::Utc::now();
    /// assert_eq!(retry.next_attempt(1, t0, t0), Some(t0 + chrono::Duration::seconds(5)));
    /// assert_eq!(retry.next_attempt(3, t0, t0), Some(t0 + chrono::Duration::seconds(20)));
    /// assert_eq!(retry.next_attempt(2, t0, t0 + chrono::Duration::hours(24)), None);
    /// ```
    pub fn next_attempt(
        &self,
        failures: u32,
        created_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let doublings = failures.saturating_sub(1).min(30);
        let delay = self
            .first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay);
        let at = now + chrono::Duration::from_std(delay).ok()?;
        let deadline = created_at + chrono::Duration::from_std(self.give_up_after).ok()?;
        (at <= deadline).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settlement_is_delivered_on_success_pending_with_a_retry_and_dead_without() {
        let at = Utc::now();
        let failed = SendOutcome::Failed {
            status: Some(503),
            error: "the receiver answered 503".into(),
        };
        let settle = |outcome: SendOutcome, retry_at| Settlement {
            outcome,
            at,
            retry_at,
        };
        let delivered = settle(SendOutcome::Delivered { status: 204 }, None);
        assert_eq!(delivered.status(), DeliveryStatus::Delivered);
        assert_eq!(delivered.response(), (Some(204), None));
        let retrying = settle(failed.clone(), Some(at));
        assert_eq!(retrying.status(), DeliveryStatus::Pending);
        assert_eq!(
            retrying.response(),
            (Some(503), Some("the receiver answered 503"))
        );
        assert_eq!(settle(failed, None).status(), DeliveryStatus::Dead);
    }

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_delay_doubles_from_the_first_up_to_the_longest() {
        let retry = WebhookRetry {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            give_up_after: Duration::from_secs(24 * 3600),
        };
        let delays: Vec<i64> = (1..=7)
            .map(|n| (retry.next_attempt(n, t(0), t(100)).unwrap() - t(100)).num_seconds())
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 60, 60, 60]);
        // Many failures neither overflow nor pass the cap.
        assert_eq!(retry.next_attempt(u32::MAX, t(0), t(100)), Some(t(160)));
        assert_eq!(retry.next_attempt(0, t(0), t(100)), Some(t(105)));
    }

    #[test]
    fn a_retry_past_the_window_gives_up() {
        let retry = WebhookRetry {
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(100),
        };
        assert_eq!(
            retry.next_attempt(1, t(0), t(90)),
            Some(t(100)),
            "just in time"
        );
        assert_eq!(retry.next_attempt(1, t(0), t(91)), None);
        assert_eq!(
            retry.next_attempt(4, t(0), t(30)),
            None,
            "80 s later: 110 s"
        );
        assert_eq!(retry.next_attempt(1, t(0), t(200)), None);
        let default = WebhookRetry::default();
        assert_eq!(default.next_attempt(1, t(0), t(0)), Some(t(5)));
        assert_eq!(default.next_attempt(20, t(0), t(0)), Some(t(3600)));
        assert_eq!(default.next_attempt(1, t(0), t(24 * 3600)), None);
    }

    #[test]
    fn no_events_named_is_every_subscribable_event() {
        let all = Webhook::subscribable(&[]).unwrap();
        assert_eq!(all, EventType::SUBSCRIBABLE);
        assert_eq!(all.len(), 8);
        assert!(!all.contains(&EventType::AttemptFailed));
    }

    #[test]
    fn audit_only_events_are_refused() {
        for bad in [
            vec![EventType::VideoProcessed, EventType::AttemptFailed],
            vec![EventType::AttemptFailed],
        ] {
            let error = Webhook::subscribable(&bad).unwrap_err();
            assert_eq!(error.field, "events", "{bad:?}");
        }
    }

    #[test]
    fn repeated_events_are_kept_once_in_the_order_of_a_videos_life() {
        let events = Webhook::subscribable(&[
            EventType::RenditionReady,
            EventType::VideoProcessed,
            EventType::RenditionReady,
            EventType::VideoUploaded,
            EventType::VideoProcessed,
        ])
        .unwrap();
        assert_eq!(
            events,
            [
                EventType::VideoUploaded,
                EventType::VideoProcessed,
                EventType::RenditionReady
            ]
        );
    }

    #[test]
    fn urls_must_be_http_or_https_then_printable_ascii_and_not_too_long() {
        assert!(Webhook::check_url("http://hooks.example.com/x").is_ok());
        assert!(Webhook::check_url("https://xn--bogot-0sa.example/x?y=1#z").is_ok());
        for bad in [
            "ftp://example.com",
            "hooks.example.com",
            "HTTPS://hooks.example.com/x",
            "https://",
            "https://example.com/a b",
            "https://example.com/\u{7}",
            "https://bogotá.example/x",
        ] {
            assert!(Webhook::check_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(Webhook::check_url(&long).is_err());
        let fits = format!("https://e.co/{}", "a".repeat(MAX_URL_LEN - 13));
        assert_eq!(fits.len(), MAX_URL_LEN);
        assert!(Webhook::check_url(&fits).is_ok());
    }

    #[test]
    fn delivery_statuses_round_trip() {
        for status in [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Dead,
        ] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeliveryStatus::parse("lost"), None);
    }
}
