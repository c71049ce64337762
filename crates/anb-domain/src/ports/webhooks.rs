use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::event::VideoEvent;
use crate::ids::{UserId, VideoId, WebhookId};
use crate::values::{Page, PageRequest};
use crate::webhook::{Delivery, DueDelivery, Settlement, Webhook};

/// Why a subscription was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The player has as many webhooks as allowed.
    #[error("too many webhooks")]
    TooMany,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Video events, webhook subscriptions and the outbox of deliveries.
///
/// **The outbox.** Every repository change that makes events
/// ([`VideoEvent::of_change`], [`VideoEvent::rendition_ready`]) stores them, and one pending
/// delivery for each webhook subscribed to them (the owner's and the deployment's), in the
/// change's own transaction: an event exists if and only if its change committed. The
/// conformance suite checks it for every adapter.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// A video's events, oldest first.
    ///
    /// # Errors
    /// Only backend faults.
    async fn events_of(&self, video: VideoId) -> anyhow::Result<Vec<VideoEvent>>;

    /// Stores an event that goes with no change of the video (a processing attempt that will
    /// be tried again), with its deliveries.
    ///
    /// # Errors
    /// Only backend faults.
    async fn note(&self, event: &VideoEvent) -> anyhow::Result<()>;

    /// Adds `webhook` unless its owner already has `max_per_owner`.
    ///
    /// # Errors
    /// [`SubscribeError::TooMany`].
    async fn subscribe(&self, webhook: &Webhook, max_per_owner: u32) -> Result<(), SubscribeError>;

    /// Sets the deployment's webhook ([`Webhook::DEPLOYMENT`]), or removes it (`None`).
    /// Its pending deliveries stay when it is replaced.
    ///
    /// # Errors
    /// Only backend faults.
    async fn set_deployment_webhook(&self, webhook: Option<&Webhook>) -> anyhow::Result<()>;

    /// `owner`'s webhooks, oldest first.
    ///
    /// # Errors
    /// Only backend faults.
    async fn webhooks_of(&self, owner: UserId) -> anyhow::Result<Vec<Webhook>>;

    /// `owner`'s webhook `id`, or `None` (no such webhook, or another's).
    ///
    /// # Errors
    /// Only backend faults.
    async fn webhook(&self, owner: UserId, id: WebhookId) -> anyhow::Result<Option<Webhook>>;

    /// Removes `owner`'s webhook `id` and its deliveries; whether there was one.
    ///
    /// # Errors
    /// Only backend faults.
    async fn unsubscribe(&self, owner: UserId, id: WebhookId) -> anyhow::Result<bool>;

    /// A webhook's deliveries, newest event first.
    ///
    /// # Errors
    /// Only backend faults.
    async fn deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> anyhow::Result<Page<Delivery>>;

    /// Claims up to `limit` pending deliveries due at `now`, until `lease_until` (a claimed
    /// delivery is not claimed again before then, so deliverers racing each other never send
    /// it twice at once). A delivery is due only once every earlier event of its video has
    /// been delivered to that webhook or given up: a video's events arrive in order.
    ///
    /// # Errors
    /// Only backend faults (nothing is claimed then).
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<DueDelivery>>;

    /// Records an attempt at a claimed delivery: delivered, to be retried at
    /// [`Settlement::retry_at`], or (a failure with no retry) dead; and releases the claim.
    /// Only while `delivery`'s claim ([`DueDelivery::lease`]) is the latest: once its lease ran
    /// out and another claim took the delivery, nothing is recorded (`false`), and the newer
    /// attempt's outcome is the one that counts.
    ///
    /// # Errors
    /// Only backend faults.
    async fn settle(&self, delivery: &DueDelivery, settlement: &Settlement)
        -> anyhow::Result<bool>;

    /// Deliveries waiting (pending) and given up (dead), over every webhook.
    ///
    /// # Errors
    /// Only backend faults.
    async fn backlog(&self) -> anyhow::Result<(u64, u64)>;
}

/// Why a webhook URL is refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TargetRefused(pub String);

/// Sends webhook messages: signs them (Standard Webhooks) and POSTs them.
#[async_trait]
pub trait WebhookSender: Send + Sync + 'static {
    /// Checks where `url` leads: it must parse and, unless the deployment allows it, resolve
    /// to public addresses only (no loopback, private, link-local ranges).
    ///
    /// # Errors
    /// [`TargetRefused`] with the reason.
    async fn check_target(&self, url: &str) -> Result<(), TargetRefused>;

    /// Makes one attempt at `delivery` at `now`: a 2xx within the time limit delivers it.
    async fn send(&self, delivery: &DueDelivery, now: DateTime<Utc>)
        -> crate::webhook::SendOutcome;

    /// A new signing secret, `whsec_<base64 of random bytes>`.
    fn new_secret(&self) -> String;
}
