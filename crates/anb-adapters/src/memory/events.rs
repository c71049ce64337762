//! [`EventLog`] on [`MemoryStore`]: events, webhooks and deliveries in the store's one mutex, so
//! a change and its events are atomic, as in the SQL store's transactions.

use std::collections::BTreeMap;

use anb_domain::event::VideoEvent;
use anb_domain::ports::{EventLog, SubscribeError};
use anb_domain::webhook::{Delivery, DeliveryStatus, DueDelivery, Settlement, Webhook};
use anb_domain::{LeaseToken, Page, PageRequest, UserId, VideoId, WebhookId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::{paginate, MemoryStore, State};

/// The events, webhooks and deliveries of a [`MemoryStore`].
#[derive(Debug, Default)]
pub(super) struct Events {
    /// Every event, in order (its place is its sequence number).
    log: Vec<VideoEvent>,
    webhooks: Vec<Webhook>,
    /// By (webhook, event sequence).
    deliveries: BTreeMap<(WebhookId, usize), Pending>,
}

/// One delivery's state.
#[derive(Debug)]
struct Pending {
    status: DeliveryStatus,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    leased_until: Option<DateTime<Utc>>,
    /// The latest claim's token: only it settles the delivery.
    claim: Option<LeaseToken>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_status_code: Option<u16>,
    last_error: Option<String>,
}

impl Events {
    /// Stores `events`, each with a pending delivery per webhook subscribed to it.
    pub(super) fn record(&mut self, events: &[VideoEvent], trace_context: Option<String>) {
        for event in events {
            let seq = self.log.len();
            let mut stored = event.clone();
            stored.trace_context = stored.trace_context.or_else(|| trace_context.clone());
            self.log.push(stored);
            if !event.kind.is_subscribable() {
                continue;
            }
            for webhook in &self.webhooks {
                let hears = webhook.owner_id.is_none_or(|o| o == event.owner_id)
                    && webhook.events.contains(&event.kind);
                if hears {
                    self.deliveries.insert(
                        (webhook.id, seq),
                        Pending {
                            status: DeliveryStatus::Pending,
                            attempts: 0,
                            next_attempt_at: event.at,
                            leased_until: None,
                            claim: None,
                            last_attempt_at: None,
                            last_status_code: None,
                            last_error: None,
                        },
                    );
                }
            }
        }
    }

    /// Every event, in order.
    pub(super) fn log(&self) -> &[VideoEvent] {
        &self.log
    }

    fn remove_webhook(&mut self, id: WebhookId) {
        self.webhooks.retain(|w| w.id != id);
        self.deliveries.retain(|(webhook, _), _| *webhook != id);
    }
}

impl State {
    fn events(&mut self) -> &mut Events {
        &mut self.events
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    async fn events_of(&self, video: VideoId) -> anyhow::Result<Vec<VideoEvent>> {
        let state = self.state.lock();
        Ok(state
            .events
            .log
            .iter()
            .filter(|e| e.video_id == video)
            .cloned()
            .collect())
    }

    async fn note(&self, event: &VideoEvent) -> anyhow::Result<()> {
        self.state
            .lock()
            .events()
            .record(std::slice::from_ref(event), self.trace.current());
        Ok(())
    }

    async fn subscribe(&self, webhook: &Webhook, max_per_owner: u32) -> Result<(), SubscribeError> {
        let mut state = self.state.lock();
        let events = state.events();
        let count = events
            .webhooks
            .iter()
            .filter(|w| w.owner_id == webhook.owner_id)
            .count();
        if count >= max_per_owner as usize {
            return Err(SubscribeError::TooMany);
        }
        events.webhooks.push(webhook.clone());
        Ok(())
    }

    async fn set_deployment_webhook(&self, webhook: Option<&Webhook>) -> anyhow::Result<()> {
        let mut state = self.state.lock();
        let events = state.events();
        match webhook {
            Some(webhook) => match events.webhooks.iter_mut().find(|w| w.id == webhook.id) {
                Some(existing) => {
                    existing.url.clone_from(&webhook.url);
                    existing.secret.clone_from(&webhook.secret);
                    existing.events.clone_from(&webhook.events);
                }
                None => events.webhooks.push(webhook.clone()),
            },
            None => events.remove_webhook(Webhook::DEPLOYMENT),
        }
        Ok(())
    }

    async fn webhooks_of(&self, owner: UserId) -> anyhow::Result<Vec<Webhook>> {
        let state = self.state.lock();
        Ok(state
            .events
            .webhooks
            .iter()
            .filter(|w| w.owner_id == Some(owner))
            .cloned()
            .collect())
    }

    async fn webhook(&self, owner: UserId, id: WebhookId) -> anyhow::Result<Option<Webhook>> {
        let state = self.state.lock();
        Ok(state
            .events
            .webhooks
            .iter()
            .find(|w| w.id == id && w.owner_id == Some(owner))
            .cloned())
    }

    async fn unsubscribe(&self, owner: UserId, id: WebhookId) -> anyhow::Result<bool> {
        let mut state = self.state.lock();
        let events = state.events();
        let owned = events
            .webhooks
            .iter()
            .any(|w| w.id == id && w.owner_id == Some(owner));
        if owned {
            events.remove_webhook(id);
        }
        Ok(owned)
    }

    async fn deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> anyhow::Result<Page<Delivery>> {
        let state = self.state.lock();
        let events = &state.events;
        let deliveries: Vec<Delivery> = events
            .deliveries
            .iter()
            .rev()
            .filter(|((w, _), _)| *w == webhook)
            .map(|((_, seq), d)| {
                let event = &events.log[*seq];
                Delivery {
                    event_id: event.id,
                    event_type: event.kind,
                    video_id: event.video_id,
                    status: d.status,
                    attempts: d.attempts,
                    last_status_code: d.last_status_code,
                    last_error: d.last_error.clone(),
                    last_attempt_at: d.last_attempt_at,
                    next_attempt_at: (d.status == DeliveryStatus::Pending)
                        .then_some(d.next_attempt_at),
                    created_at: event.at,
                }
            })
            .collect();
        Ok(paginate(deliveries, page))
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<DueDelivery>> {
        let mut state = self.state.lock();
        let events = state.events();
        // The oldest pending delivery of each (webhook, video): only it may be due.
        let mut first: BTreeMap<(WebhookId, VideoId), usize> = BTreeMap::new();
        for ((webhook, seq), d) in &events.deliveries {
            if d.status == DeliveryStatus::Pending {
                first
                    .entry((*webhook, events.log[*seq].video_id))
                    .or_insert(*seq);
            }
        }
        let mut due: Vec<(DateTime<Utc>, usize, WebhookId)> = first
            .into_iter()
            .filter_map(|((webhook, _), seq)| {
                let d = &events.deliveries[&(webhook, seq)];
                let free = d.leased_until.is_none_or(|until| until <= now);
                (d.next_attempt_at <= now && free).then_some((d.next_attempt_at, seq, webhook))
            })
            .collect();
        due.sort();
        due.truncate(limit as usize);
        let mut claimed = Vec::new();
        for (_, seq, webhook_id) in due {
            let d = events
                .deliveries
                .get_mut(&(webhook_id, seq))
                .expect("listed above");
            let lease = LeaseToken::new();
            d.leased_until = Some(lease_until);
            d.claim = Some(lease);
            let webhook = events
                .webhooks
                .iter()
                .find(|w| w.id == webhook_id)
                .expect("deliveries go with their webhook");
            let event = &events.log[seq];
            claimed.push(DueDelivery {
                webhook_id,
                url: webhook.url.clone(),
                secret: webhook.secret.clone(),
                event_id: event.id,
                event_seq: seq as i64,
                body: event.body().to_string(),
                attempts: d.attempts,
                created_at: event.at,
                trace_context: event.trace_context.clone(),
                lease,
            });
        }
        Ok(claimed)
    }

    async fn settle(
        &self,
        delivery: &DueDelivery,
        settlement: &Settlement,
    ) -> anyhow::Result<bool> {
        let mut state = self.state.lock();
        let events = state.events();
        let Ok(seq) = usize::try_from(delivery.event_seq) else {
            return Ok(false);
        };
        let Some(d) = events
            .deliveries
            .get_mut(&(delivery.webhook_id, seq))
            .filter(|d| d.claim == Some(delivery.lease))
        else {
            return Ok(false);
        };
        d.attempts += 1;
        d.last_attempt_at = Some(settlement.at);
        d.leased_until = None;
        d.claim = None;
        let (code, error) = settlement.response();
        d.status = settlement.status();
        d.last_status_code = code;
        d.last_error = error.map(str::to_owned);
        if let Some(at) = settlement.retry_at {
            d.next_attempt_at = at;
        }
        Ok(true)
    }

    async fn backlog(&self) -> anyhow::Result<(u64, u64)> {
        let state = self.state.lock();
        let count = |status| {
            state
                .events
                .deliveries
                .values()
                .filter(|d| d.status == status)
                .count() as u64
        };
        Ok((count(DeliveryStatus::Pending), count(DeliveryStatus::Dead)))
    }
}
