//! Webhooks and the audit trail: subscriptions, their delivery logs, a video's events, and the
//! deliverer's round (claim what is due, send, record).

use std::time::Duration;

use futures::future::join_all;
use tracing::{info, instrument, warn, Instrument as _};

use super::{QueryError, Showcase, VideoAccessError};
use crate::event::{EventType, VideoEvent};
use crate::ids::{UserId, VideoId, WebhookId};
use crate::ports::SubscribeError;
use crate::values::{Page, PageRequest, ValidationError};
use crate::webhook::{Delivery, DeliveryStatus, DueDelivery, SendOutcome, Settlement, Webhook};

/// How long a claimed delivery is kept from other deliverers: more than an attempt's time
/// limit (10 s) with room to record it.
pub const DELIVERY_LEASE: Duration = Duration::from_secs(30);

/// Why a webhook request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A field is not valid (`url`, `events`).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The URL leads somewhere webhooks may not go (a private address, a name that does not
    /// resolve).
    #[error("{0}")]
    TargetRefused(String),
    /// The player has as many webhooks as allowed.
    #[error("too many webhooks")]
    TooMany,
    /// No such webhook of this player's.
    #[error("webhook not found")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What one round of deliveries did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Answered with a 2xx.
    pub delivered: usize,
    /// Failed, to be tried again.
    pub retrying: usize,
    /// Failed for the last time: dead letters.
    pub dead: usize,
}

impl DeliveryRound {
    /// Attempts made.
    pub fn attempts(&self) -> usize {
        self.delivered + self.retrying + self.dead
    }
}

impl Showcase {
    /// Subscribes `owner` to their videos' `events` (none: every event) at `url`, with a new
    /// secret (the answer is the only time it is shown).
    ///
    /// # Errors
    /// [`WebhookError::Invalid`], [`WebhookError::TargetRefused`], [`WebhookError::TooMany`].
    #[instrument(skip(self))]
    pub async fn subscribe_webhook(
        &self,
        owner: UserId,
        url: &str,
        events: &[EventType],
    ) -> Result<Webhook, WebhookError> {
        Webhook::check_url(url)?;
        let events = Webhook::subscribable(events)?;
        self.ports
            .webhook_sender
            .check_target(url)
            .await
            .map_err(|refused| WebhookError::TargetRefused(refused.0))?;
        let webhook = Webhook {
            id: WebhookId::new(),
            owner_id: Some(owner),
            url: url.to_owned(),
            secret: self.ports.webhook_sender.new_secret(),
            events,
            created_at: self.ports.clock.now(),
        };
        match self
            .ports
            .events
            .subscribe(&webhook, self.config.max_webhooks_per_player)
            .await
        {
            Ok(()) => Ok(webhook),
            Err(SubscribeError::TooMany) => Err(WebhookError::TooMany),
            Err(SubscribeError::Unexpected(e)) => Err(e.into()),
        }
    }

    /// `owner`'s webhooks (their secrets included: they are the owner's).
    ///
    /// # Errors
    /// Only backend faults.
    pub async fn webhooks(&self, owner: UserId) -> Result<Vec<Webhook>, QueryError> {
        Ok(self.ports.events.webhooks_of(owner).await?)
    }

    /// Removes `owner`'s webhook `id`; its pending deliveries are dropped.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] (another player's webhook too).
    pub async fn unsubscribe_webhook(
        &self,
        owner: UserId,
        id: WebhookId,
    ) -> Result<(), WebhookError> {
        if self.ports.events.unsubscribe(owner, id).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// The delivery log of `owner`'s webhook `id`, newest event first.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] (another player's webhook too).
    pub async fn webhook_deliveries(
        &self,
        owner: UserId,
        id: WebhookId,
        page: PageRequest,
    ) -> Result<Page<Delivery>, WebhookError> {
        if self.ports.events.webhook(owner, id).await?.is_none() {
            return Err(WebhookError::NotFound);
        }
        Ok(self.ports.events.deliveries(id, page).await?)
    }

    /// The audit trail of `caller`'s video: every event, oldest first.
    ///
    /// # Errors
    /// [`VideoAccessError::NotFound`], [`VideoAccessError::Forbidden`].
    pub async fn video_events(
        &self,
        caller: UserId,
        id: VideoId,
    ) -> Result<Vec<VideoEvent>, VideoAccessError> {
        self.own_video(caller, id).await?;
        Ok(self.ports.events.events_of(id).await?)
    }

    /// Sets the deployment's webhook (every video's events, signed with `secret`), or removes
    /// it (`None`). Called at start from settings.
    ///
    /// # Errors
    /// [`WebhookError::Invalid`] on the URL or a secret not of the form `whsec_<base64>`;
    /// backend faults.
    pub async fn set_deployment_webhook(
        &self,
        target: Option<(&str, &str)>,
    ) -> Result<(), WebhookError> {
        let Some((url, secret)) = target else {
            return Ok(self.ports.events.set_deployment_webhook(None).await?);
        };
        Webhook::check_url(url)?;
        if !secret.starts_with("whsec_") || secret.len() < 6 + 24 {
            return Err(ValidationError::new(
                "ANB_WEBHOOK_SECRET",
                "must be whsec_ followed by the base64 of at least 18 random bytes",
            )
            .into());
        }
        let webhook = Webhook {
            id: Webhook::DEPLOYMENT,
            owner_id: None,
            url: url.to_owned(),
            secret: secret.to_owned(),
            events: EventType::SUBSCRIBABLE.to_vec(),
            created_at: self.ports.clock.now(),
        };
        Ok(self
            .ports
            .events
            .set_deployment_webhook(Some(&webhook))
            .await?)
    }

    /// One round of webhook deliveries: claims up to `limit` due deliveries, sends them at
    /// once (a video's events in order: only its oldest undelivered one is ever due), and
    /// records each outcome, retrying with backoff until the retry window closes.
    ///
    /// # Errors
    /// Backend faults while claiming; a delivery whose outcome could not be recorded is sent
    /// again once its claim expires (retries reuse the `webhook-id`, so receivers can tell).
    ///
    /// Each attempt runs in the span `span_of` makes for it (the worker's continues the trace
    /// of the change that made the event: [`DueDelivery::trace_context`]).
    #[instrument(skip(self, span_of))]
    pub async fn deliver_webhooks(
        &self,
        limit: u32,
        span_of: &(dyn Fn(&DueDelivery) -> tracing::Span + Sync),
    ) -> anyhow::Result<DeliveryRound> {
        let now = self.ports.clock.now();
        let lease_until = now + chrono::Duration::from_std(DELIVERY_LEASE)?;
        let due = self.ports.events.claim_due(now, lease_until, limit).await?;
        let attempts = due.iter().map(|delivery| {
            let span = span_of(delivery);
            self.attempt_delivery(delivery).instrument(span)
        });
        let mut round = DeliveryRound::default();
        for (delivery, settlement, recorded) in join_all(attempts).await {
            match recorded {
                Ok(true) => {}
                Ok(false) => {
                    warn!(event = %delivery.event_id, webhook = %delivery.webhook_id,
                        "a webhook attempt outlived its claim: another attempt's outcome counts");
                    continue;
                }
                Err(e) => {
                    warn!(event = %delivery.event_id, error = format!("{e:#}"), "a webhook attempt was not recorded");
                    continue;
                }
            }
            match settlement.status() {
                DeliveryStatus::Delivered => round.delivered += 1,
                DeliveryStatus::Pending => round.retrying += 1,
                DeliveryStatus::Dead => {
                    round.dead += 1;
                    let (status, error) = settlement.response();
                    warn!(event = %delivery.event_id, webhook = %delivery.webhook_id, ?status, ?error,
                        "a webhook delivery gave up: dead letter");
                }
            }
        }
        if round.attempts() > 0 {
            info!(?round, "webhook deliveries");
        }
        Ok(round)
    }

    /// One attempt at `delivery`: send it, then record how it went (and when to retry).
    async fn attempt_delivery<'a>(
        &self,
        delivery: &'a DueDelivery,
    ) -> (&'a DueDelivery, Settlement, anyhow::Result<bool>) {
        let outcome = self
            .ports
            .webhook_sender
            .send(delivery, self.ports.clock.now())
            .await;
        let at = self.ports.clock.now();
        let retry_at = match &outcome {
            SendOutcome::Delivered { .. } => None,
            SendOutcome::Failed { .. } => self.config.webhook_retry.next_attempt(
                delivery.attempts + 1,
                delivery.created_at,
                at,
            ),
        };
        let settlement = Settlement {
            outcome,
            at,
            retry_at,
        };
        let recorded = self.ports.events.settle(delivery, &settlement).await;
        (delivery, settlement, recorded)
    }
}
