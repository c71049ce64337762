//! [`EventLog`] on [`Store`]: a video's events (its audit trail), webhook subscriptions, and the
//! outbox of deliveries. [`record`] writes a change's events and their deliveries inside the
//! change's transaction; the deliverer claims due deliveries with a token and settles them.

use anb_domain::event::{EventDetail, EventType, VideoEvent};
use anb_domain::ports::{EventLog, SubscribeError};
use anb_domain::webhook::{Delivery, DeliveryStatus, DueDelivery, Settlement, Webhook};
use anb_domain::{EventId, LeaseToken, Page, PageRequest, UserId, VideoId, WebhookId};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, FromRow};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::{SqlTime, Store};

/// Writes `events` on `conn` (inside the change's transaction), each with one pending delivery
/// per webhook subscribed to it: its owner's and the deployment's.
pub(crate) async fn record<D: Dialect>(
    conn: &mut <D::Db as Database>::Connection,
    events: &[VideoEvent],
    trace_context: Option<String>,
) -> anyhow::Result<()> {
    for event in events {
        let query = sqlx::query::<D::Db>(
            "INSERT INTO video_events (id, video_id, owner_id, kind, at, detail, data, \
             trace_context) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .arg(event.id.as_uuid())
        .arg(event.video_id.as_uuid())
        .arg(event.owner_id.as_uuid())
        .arg(event.kind.as_str().to_owned())
        .arg(SqlTime(event.at))
        .arg(serde_json::to_string(&event.detail).context("encoding an event")?)
        .arg(event.data.to_string())
        .arg(
            event
                .trace_context
                .clone()
                .or_else(|| trace_context.clone()),
        );
        driver::execute(query, conn)
            .await
            .fault("recording an event")?;
        if !event.kind.is_subscribable() {
            continue;
        }
        let query = sqlx::query::<D::Db>(
            "INSERT INTO webhook_deliveries (webhook_id, event_seq, video_id, status, attempts, \
             next_attempt_at, created_at) \
             SELECT w.id, e.seq, e.video_id, 'pending', 0, e.at, e.at \
             FROM video_events e JOIN webhooks w \
               ON (w.owner_id = e.owner_id OR w.owner_id IS NULL) \
              AND (',' || w.events || ',') LIKE ('%,' || e.kind || ',%') \
             WHERE e.id = $1",
        )
        .arg(event.id.as_uuid());
        driver::execute(query, conn)
            .await
            .fault("queueing an event's webhook deliveries")?;
    }
    Ok(())
}

/// A stored event.
#[derive(FromRow)]
#[doc(hidden)]
pub struct EventRecord {
    id: Uuid,
    video_id: Uuid,
    owner_id: Uuid,
    kind: String,
    at: SqlTime,
    detail: String,
    data: String,
    trace_context: Option<String>,
}

impl EventRecord {
    fn into_event(self) -> anyhow::Result<VideoEvent> {
        Ok(VideoEvent {
            id: EventId::from_uuid(self.id),
            video_id: VideoId::from_uuid(self.video_id),
            owner_id: UserId::from_uuid(self.owner_id),
            kind: EventType::parse(&self.kind)
                .with_context(|| format!("unknown event kind {}", self.kind))?,
            at: self.at.0,
            detail: serde_json::from_str::<EventDetail>(&self.detail)
                .context("decoding an event's detail")?,
            data: serde_json::from_str(&self.data).context("decoding an event's data")?,
            trace_context: self.trace_context,
        })
    }
}

/// A stored webhook.
#[derive(FromRow)]
#[doc(hidden)]
pub struct WebhookRecord {
    id: Uuid,
    owner_id: Option<Uuid>,
    url: String,
    secret: String,
    events: String,
    created_at: SqlTime,
}

impl WebhookRecord {
    fn into_webhook(self) -> Webhook {
        Webhook {
            id: WebhookId::from_uuid(self.id),
            owner_id: self.owner_id.map(UserId::from_uuid),
            url: self.url,
            secret: self.secret,
            events: self
                .events
                .split(',')
                .filter_map(EventType::parse)
                .collect(),
            created_at: self.created_at.0,
        }
    }
}

/// A delivery, as its log shows it.
#[derive(FromRow)]
#[doc(hidden)]
pub struct DeliveryRecord {
    event_id: Uuid,
    kind: String,
    video_id: Uuid,
    status: String,
    attempts: i64,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    last_attempt_at: Option<SqlTime>,
    next_attempt_at: SqlTime,
    created_at: SqlTime,
}

impl DeliveryRecord {
    fn into_delivery(self) -> anyhow::Result<Delivery> {
        let status = DeliveryStatus::parse(&self.status)
            .with_context(|| format!("unknown delivery status {}", self.status))?;
        Ok(Delivery {
            event_id: EventId::from_uuid(self.event_id),
            event_type: EventType::parse(&self.kind)
                .with_context(|| format!("unknown event kind {}", self.kind))?,
            video_id: VideoId::from_uuid(self.video_id),
            status,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            last_status_code: self.last_status_code.and_then(|c| u16::try_from(c).ok()),
            last_error: self.last_error,
            last_attempt_at: self.last_attempt_at.map(|t| t.0),
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(self.next_attempt_at.0),
            created_at: self.created_at.0,
        })
    }
}

/// A claimed delivery with its webhook and event.
#[derive(FromRow)]
#[doc(hidden)]
pub struct DueRecord {
    webhook_id: Uuid,
    url: String,
    secret: String,
    event_seq: i64,
    attempts: i64,
    created_at: SqlTime,
    #[sqlx(flatten)]
    event: EventRecord,
}

const WEBHOOK_COLUMNS: &str = "id, owner_id, url, secret, events, created_at";

#[async_trait]
impl<D: Dialect> EventLog for Store<D> {
    async fn events_of(&self, video: VideoId) -> anyhow::Result<Vec<VideoEvent>> {
        let query = sqlx::query::<D::Db>(
            "SELECT id, video_id, owner_id, kind, at, detail, data, trace_context FROM video_events \
             WHERE video_id = $1 ORDER BY seq",
        )
        .arg(video.as_uuid());
        let records: Vec<EventRecord> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("reading a video's events")?;
        records.into_iter().map(EventRecord::into_event).collect()
    }

    async fn note(&self, event: &VideoEvent) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        record::<D>(&mut tx, std::slice::from_ref(event), self.trace_context()).await?;
        tx.commit().await.fault("committing an event")
    }

    async fn subscribe(&self, webhook: &Webhook, max_per_owner: u32) -> Result<(), SubscribeError> {
        let mut tx = self.begin_write().await?;
        let owner = webhook.owner_id.map(|o| o.as_uuid());
        // One owner's subscriptions take turns on the owner's row, so the count below holds.
        let lock = format!("SELECT id FROM users WHERE id = $1{}", D::LOCK_ROW);
        driver::fetch_optional::<D::Db, (Uuid,)>(sqlx::query(&lock).arg(owner), &mut tx)
            .await
            .fault("locking the webhook's owner")?;
        let count =
            sqlx::query::<D::Db>("SELECT count(*) FROM webhooks WHERE owner_id = $1").arg(owner);
        let (count,): (i64,) = driver::fetch_one(count, &mut tx)
            .await
            .fault("counting webhooks")?;
        if count >= i64::from(max_per_owner) {
            return Err(SubscribeError::TooMany);
        }
        insert_webhook::<D>(&mut tx, webhook, false).await?;
        tx.commit().await.fault("committing a webhook")?;
        Ok(())
    }

    async fn set_deployment_webhook(&self, webhook: Option<&Webhook>) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        match webhook {
            Some(webhook) => insert_webhook::<D>(&mut tx, webhook, true).await?,
            None => {
                let query = sqlx::query::<D::Db>("DELETE FROM webhooks WHERE id = $1")
                    .arg(Webhook::DEPLOYMENT.as_uuid());
                driver::execute(query, &mut tx)
                    .await
                    .fault("removing the deployment's webhook")?;
            }
        }
        tx.commit()
            .await
            .fault("committing the deployment's webhook")
    }

    async fn webhooks_of(&self, owner: UserId) -> anyhow::Result<Vec<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE owner_id = $1 ORDER BY created_at, id"
        );
        let query = sqlx::query::<D::Db>(&sql).arg(owner.as_uuid());
        let records: Vec<WebhookRecord> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("listing webhooks")?;
        Ok(records
            .into_iter()
            .map(WebhookRecord::into_webhook)
            .collect())
    }

    async fn webhook(&self, owner: UserId, id: WebhookId) -> anyhow::Result<Option<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 AND owner_id = $2");
        let query = sqlx::query::<D::Db>(&sql)
            .arg(id.as_uuid())
            .arg(owner.as_uuid());
        let record: Option<WebhookRecord> = driver::fetch_optional(query, &mut *self.read().await?)
            .await
            .fault("reading a webhook")?;
        Ok(record.map(WebhookRecord::into_webhook))
    }

    async fn unsubscribe(&self, owner: UserId, id: WebhookId) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>("DELETE FROM webhooks WHERE id = $1 AND owner_id = $2")
            .arg(id.as_uuid())
            .arg(owner.as_uuid());
        let removed = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("removing a webhook")?;
        Ok(removed > 0)
    }

    async fn deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> anyhow::Result<Page<Delivery>> {
        let query = sqlx::query::<D::Db>(
            "SELECT e.id AS event_id, e.kind, d.video_id, d.status, d.attempts, \
             d.last_status_code, d.last_error, d.last_attempt_at, d.next_attempt_at, \
             d.created_at \
             FROM webhook_deliveries d JOIN video_events e ON e.seq = d.event_seq \
             WHERE d.webhook_id = $1 ORDER BY d.event_seq DESC LIMIT $2 OFFSET $3",
        )
        .arg(webhook.as_uuid())
        .arg(page.limit() as i64)
        .arg(page.offset() as i64);
        let count =
            sqlx::query::<D::Db>("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1")
                .arg(webhook.as_uuid());
        let mut conn = self.read().await?;
        let records: Vec<DeliveryRecord> = driver::fetch_all(query, &mut conn)
            .await
            .fault("listing deliveries")?;
        let (total,): (i64,) = driver::fetch_one(count, &mut conn)
            .await
            .fault("counting deliveries")?;
        Ok(Page {
            items: records
                .into_iter()
                .map(DeliveryRecord::into_delivery)
                .collect::<anyhow::Result<_>>()?,
            total: total as u64,
            request: page,
        })
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<DueDelivery>> {
        let lease = LeaseToken::new();
        let claim = format!(
            "UPDATE webhook_deliveries SET leased_until = $2, claim_token = $3 \
             WHERE (webhook_id, event_seq) IN (\
                 SELECT d.webhook_id, d.event_seq FROM webhook_deliveries d \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
                   AND (d.leased_until IS NULL OR d.leased_until <= $1) \
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                       WHERE p.webhook_id = d.webhook_id AND p.video_id = d.video_id \
                         AND p.status = 'pending' AND p.event_seq < d.event_seq) \
                 ORDER BY d.next_attempt_at, d.event_seq LIMIT $4{})",
            D::CLAIM_ROWS
        );
        let query = sqlx::query::<D::Db>(&claim)
            .arg(SqlTime(now))
            .arg(SqlTime(lease_until))
            .arg(lease.as_uuid())
            .arg(i64::from(limit));
        let claimed = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("claiming webhook deliveries")?;
        if claimed == 0 {
            return Ok(Vec::new());
        }
        let query = sqlx::query::<D::Db>(
            "SELECT d.webhook_id, w.url, w.secret, d.event_seq, d.attempts, d.created_at, \
             e.id, e.video_id, e.owner_id, e.kind, e.at, e.detail, e.data, e.trace_context \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             JOIN video_events e ON e.seq = d.event_seq \
             WHERE d.claim_token = $1 ORDER BY d.event_seq",
        )
        .arg(lease.as_uuid());
        let records: Vec<DueRecord> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("reading claimed webhook deliveries")?;
        records
            .into_iter()
            .map(|r| {
                let event = r.event.into_event()?;
                Ok(DueDelivery {
                    webhook_id: WebhookId::from_uuid(r.webhook_id),
                    url: r.url,
                    secret: r.secret,
                    event_id: event.id,
                    event_seq: r.event_seq,
                    body: event.body().to_string(),
                    attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                    created_at: r.created_at.0,
                    trace_context: event.trace_context,
                    lease,
                })
            })
            .collect()
    }

    async fn settle(
        &self,
        delivery: &DueDelivery,
        settlement: &Settlement,
    ) -> anyhow::Result<bool> {
        let (code, error) = settlement.response();
        let query = sqlx::query::<D::Db>(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $3, \
             last_status_code = $4, last_error = $5, status = $6, \
             next_attempt_at = COALESCE($7, next_attempt_at), leased_until = NULL, \
             claim_token = NULL \
             WHERE webhook_id = $1 AND event_seq = $2 AND claim_token = $8",
        )
        .arg(delivery.webhook_id.as_uuid())
        .arg(delivery.event_seq)
        .arg(SqlTime(settlement.at))
        .arg(code.map(i64::from))
        .arg(error.map(str::to_owned))
        .arg(settlement.status().as_str().to_owned())
        .arg(settlement.retry_at.map(SqlTime))
        .arg(delivery.lease.as_uuid());
        let settled = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("recording a webhook attempt")?;
        Ok(settled == 1)
    }

    async fn backlog(&self) -> anyhow::Result<(u64, u64)> {
        let mut conn = self.read().await?;
        let count = |status: &'static str| {
            sqlx::query::<D::Db>("SELECT count(*) FROM webhook_deliveries WHERE status = $1")
                .arg(status.to_owned())
        };
        let (pending,): (i64,) = driver::fetch_one(count("pending"), &mut conn)
            .await
            .fault("counting pending deliveries")?;
        let (dead,): (i64,) = driver::fetch_one(count("dead"), &mut conn)
            .await
            .fault("counting dead deliveries")?;
        Ok((pending as u64, dead as u64))
    }
}

/// Inserts `webhook` (`replace`: over the row with its id).
async fn insert_webhook<D: Dialect>(
    conn: &mut <D::Db as Database>::Connection,
    webhook: &Webhook,
    replace: bool,
) -> anyhow::Result<()> {
    let events: Vec<&str> = webhook.events.iter().map(|e| e.as_str()).collect();
    let upsert = if replace {
        " ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, \
         events = excluded.events"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO webhooks (id, owner_id, url, secret, events, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6){upsert}"
    );
    let query = sqlx::query::<D::Db>(&sql)
        .arg(webhook.id.as_uuid())
        .arg(webhook.owner_id.map(|o| o.as_uuid()))
        .arg(webhook.url.clone())
        .arg(webhook.secret.clone())
        .arg(events.join(","))
        .arg(SqlTime(webhook.created_at));
    driver::execute(query, conn)
        .await
        .fault("storing a webhook")?;
    Ok(())
}
