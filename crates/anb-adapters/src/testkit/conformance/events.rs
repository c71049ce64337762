//! Checks for [`EventLog`](anb_domain::ports::EventLog): the events a video's changes leave (in
//! the change's own transaction, so a refused change leaves none), the outbox of webhook
//! deliveries (one per subscribed webhook), claiming due deliveries one video event at a time
//! under a lease, retries and dead letters, and subscriptions.
//!
//! The database may be shared with other checks running at the same time (PostgreSQL: one
//! database per test process). `claim_due` looks at every webhook's deliveries, so the checks
//! that claim:
//! - take [`CLAIMING`] first: they never run together, so a claim of one never leases
//!   deliveries the other is about to claim;
//! - date their videos and events ten years ahead and claim at those times, so no other check's
//!   deliveries are claimed in their stead (nor are their videos seen by the checks of stuck
//!   and unfinished videos, which look into the past). Their claims do lease the other checks'
//!   pending deliveries, which nothing else in the process claims, and which those checks only
//!   read the status of;
//! - keep only the deliveries of webhooks they made, and remove those webhooks at the end.
//!
//! The deployment's webhook is one for the whole database: only
//! [`subscribed_webhooks_get_a_pending_delivery_per_event_and_others_none`] sets it, and removes
//! it before it ends.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use anb_domain::event::{Attempt, EventDetail, EventType, VideoEvent};
use anb_domain::ports::{
    DeleteVideoRecordError, SubscribeError, TraceContext, TransitionError, VisibilityError,
};
use anb_domain::rendition::{Rendition, RenditionChange, RenditionFormat, RenditionRequest};
use anb_domain::webhook::{
    Delivery, DeliveryStatus, DueDelivery, SendOutcome, Settlement, Webhook,
};
use anb_domain::{BlobKey, PageRequest, StatusChange, UserId, VideoId, WebhookId};
use chrono::{DateTime, Duration, SubsecRound as _, Utc};

use super::repositories::{draft, media, now, player, processed, uploaded, Repositories};
use crate::testkit::unique;

/// Taken by every check that claims deliveries, for its whole length.
static CLAIMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The present, to the second (every backend stores it exactly).
fn second() -> DateTime<Utc> {
    now().trunc_subsecs(0)
}

/// A moment ten years ahead, to the second: the start of a claiming check's own stretch of
/// time.
fn decade_ahead() -> DateTime<Utc> {
    second() + Duration::days(3650)
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

/// A webhook of `owner` (`None`: the deployment's) for `events`.
fn hook(owner: Option<UserId>, events: &[EventType], created_at: DateTime<Utc>) -> Webhook {
    Webhook {
        id: match owner {
            Some(_) => WebhookId::new(),
            None => Webhook::DEPLOYMENT,
        },
        owner_id: owner,
        url: format!("https://hooks.example.com/{}", unique("hook")),
        secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=".into(),
        events: events.to_vec(),
        created_at,
    }
}

/// `owner`'s new webhook for every event, subscribed.
async fn subscribed(r: &Repositories, owner: UserId, created_at: DateTime<Utc>) -> Webhook {
    let webhook = hook(Some(owner), &EventType::SUBSCRIBABLE, created_at);
    r.events.subscribe(&webhook, 10).await.unwrap();
    webhook
}

/// Moves `video` to processing at `at`.
async fn start_processing(r: &Repositories, video: VideoId, at: DateTime<Utc>) {
    r.videos
        .transition(
            video,
            &StatusChange::StartProcessing(Attempt::default()),
            at,
        )
        .await
        .unwrap();
}

fn kinds(events: &[VideoEvent]) -> Vec<EventType> {
    events.iter().map(|e| e.kind).collect()
}

/// Every delivery of `webhook`, newest event first (paged through; a delivery that moves to
/// the next page while paging is listed once).
async fn deliveries(r: &Repositories, webhook: WebhookId) -> Vec<Delivery> {
    let (mut all, mut seen) = (Vec::new(), HashSet::new());
    for page in 1.. {
        let request = PageRequest::new(Some(page), Some(100)).unwrap();
        let got = r.events.deliveries(webhook, request).await.unwrap();
        assert_eq!(got.request, request);
        if got.items.is_empty() {
            break;
        }
        for delivery in got.items {
            if seen.insert(delivery.event_id) {
                all.push(delivery);
            }
        }
    }
    all
}

/// Claims at `now` for a minute, keeping only the deliveries of `webhooks`.
async fn claim(r: &Repositories, now: DateTime<Utc>, webhooks: &[WebhookId]) -> Vec<DueDelivery> {
    claim_until(r, now, now + secs(60), webhooks).await
}

async fn claim_until(
    r: &Repositories,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    webhooks: &[WebhookId],
) -> Vec<DueDelivery> {
    let claimed = r.events.claim_due(now, lease_until, 10_000).await.unwrap();
    claimed
        .into_iter()
        .filter(|d| webhooks.contains(&d.webhook_id))
        .collect()
}

fn delivered(at: DateTime<Utc>) -> Settlement {
    Settlement {
        outcome: SendOutcome::Delivered { status: 204 },
        at,
        retry_at: None,
    }
}

/// The event ids of claimed deliveries.
fn claimed_events(due: &[DueDelivery]) -> Vec<anb_domain::EventId> {
    due.iter().map(|d| d.event_id).collect()
}

/// Uploading, processing (twice: a redelivery), completing a public video, unpublishing and
/// deleting it leave `video.uploaded`, `video.processing` (each with its attempt),
/// `video.processed`, `video.published`, `video.unpublished` and `video.deleted`, in that
/// order, each at its change's time with the video's owner; they outlive the video.
pub async fn a_videos_changes_leave_their_events_in_order(r: Repositories) {
    let owner = player(&r).await;
    let t = second();
    let video = draft(owner.id, "Crossover", true, t);
    r.videos.insert(&video).await.unwrap();
    let first = Attempt {
        worker: "w1".into(),
        number: 1,
    };
    let second_attempt = Attempt {
        worker: "w2".into(),
        number: 2,
    };
    let start = |a: &Attempt| StatusChange::StartProcessing(a.clone());
    r.videos
        .transition(video.id, &start(&first), t + secs(1))
        .await
        .unwrap();
    r.videos
        .transition(video.id, &start(&second_attempt), t + secs(2))
        .await
        .unwrap();
    let done = r
        .videos
        .transition(
            video.id,
            &StatusChange::Complete(media(video.id)),
            t + secs(3),
        )
        .await
        .unwrap();
    assert!(done.is_published());
    let events = r.events.events_of(video.id).await.unwrap();
    use EventType as E;
    assert_eq!(
        kinds(&events),
        [
            E::VideoUploaded,
            E::VideoProcessing,
            E::VideoProcessing,
            E::VideoProcessed,
            E::VideoPublished
        ]
    );
    assert_eq!(events[1].detail.attempt, Some(first));
    assert_eq!(events[2].detail.attempt, Some(second_attempt));
    assert_eq!(events[3].data["status"], "processed");
    assert_eq!(events[4].data["published"], true);

    r.videos
        .set_visibility(video.id, false, t + secs(4))
        .await
        .unwrap();
    r.videos.delete(video.id, t + secs(5)).await.unwrap();
    assert_eq!(r.videos.get(video.id).await.unwrap(), None);
    let after = r.events.events_of(video.id).await.unwrap();
    assert_eq!(after[..5], events[..]);
    assert_eq!(
        kinds(&after[5..]),
        [E::VideoUnpublished, E::VideoDeleted],
        "{after:#?}"
    );
    let times: Vec<_> = after.iter().map(|e| e.at).collect();
    let expected: Vec<_> = [0, 1, 2, 3, 3, 4, 5].iter().map(|&s| t + secs(s)).collect();
    assert_eq!(times, expected);
    assert!(after
        .iter()
        .all(|e| e.video_id == video.id && e.owner_id == owner.id));
    let ids: HashSet<_> = after.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), after.len(), "every event has its own id");
    assert_eq!(after[6].data["video_id"], video.id.to_string());
    // Nobody else's videos are in it.
    assert!(r.events.events_of(VideoId::new()).await.unwrap().is_empty());
}

/// A change the rules refuse (a status change not allowed, publishing an unprocessed video,
/// deleting a published video, changing a missing one) and a change that changes nothing
/// (making a public video public again) leave no event.
pub async fn a_refused_change_leaves_no_event(r: Repositories) {
    let owner = player(&r).await;
    let fresh = uploaded(&r, owner.id, true).await;
    assert!(matches!(
        r.videos
            .transition(fresh.id, &StatusChange::Complete(media(fresh.id)), now())
            .await,
        Err(TransitionError::NotAllowed { .. })
    ));
    assert!(matches!(
        r.videos.set_visibility(fresh.id, false, now()).await,
        Err(VisibilityError::NotProcessed)
    ));
    assert_eq!(
        kinds(&r.events.events_of(fresh.id).await.unwrap()),
        [EventType::VideoUploaded]
    );

    let published = processed(&r, owner.id, true).await;
    let before = r.events.events_of(published.id).await.unwrap();
    assert_eq!(before.len(), 4, "{before:#?}");
    assert!(matches!(
        r.videos.delete(published.id, now()).await,
        Err(DeleteVideoRecordError::Published)
    ));
    assert!(matches!(
        r.videos
            .transition(
                published.id,
                &StatusChange::StartProcessing(Attempt::default()),
                now()
            )
            .await,
        Err(TransitionError::NotAllowed { .. })
    ));
    r.videos
        .set_visibility(published.id, true, now())
        .await
        .unwrap();
    assert_eq!(r.events.events_of(published.id).await.unwrap(), before);

    let missing = VideoId::new();
    assert!(r
        .videos
        .transition(missing, &StatusChange::Complete(media(missing)), now())
        .await
        .is_err());
    assert!(r.videos.delete(missing, now()).await.is_err());
    assert!(r.events.events_of(missing).await.unwrap().is_empty());
}

/// An event gets one pending delivery on each webhook subscribed to it: its owner's webhooks
/// for that kind, and the deployment's; other owners' webhooks get none. `video.attempt_failed`
/// (noted with `note`) is kept in the video's events but delivered to nobody. Replacing the
/// deployment's webhook keeps its deliveries; removing it removes them.
pub async fn subscribed_webhooks_get_a_pending_delivery_per_event_and_others_none(r: Repositories) {
    let (a, b) = (player(&r).await, player(&r).await);
    let t = second();
    let only_processed = hook(Some(a.id), &[EventType::VideoProcessed], t);
    r.events.subscribe(&only_processed, 10).await.unwrap();
    let everything = subscribed(&r, b.id, t).await;
    let deployment = hook(None, &EventType::SUBSCRIBABLE, t);
    r.events
        .set_deployment_webhook(Some(&deployment))
        .await
        .unwrap();

    let video = processed(&r, a.id, true).await;
    let attempt_failed = VideoEvent::new(
        &video,
        EventType::AttemptFailed,
        now(),
        EventDetail {
            attempt: Some(Attempt {
                worker: "w1".into(),
                number: 1,
            }),
            error: Some("the worker ran out of disk".into()),
            rendition: None,
        },
    );
    r.events.note(&attempt_failed).await.unwrap();
    let events = r.events.events_of(video.id).await.unwrap();
    use EventType as E;
    assert_eq!(
        kinds(&events),
        [
            E::VideoUploaded,
            E::VideoProcessing,
            E::VideoProcessed,
            E::VideoPublished,
            E::AttemptFailed
        ]
    );
    assert_eq!(events[4].detail, attempt_failed.detail);

    let mine = deliveries(&r, only_processed.id).await;
    assert_eq!(mine.len(), 1, "{mine:#?}");
    let processed_event = &events[2];
    assert_eq!(
        mine[0],
        Delivery {
            event_id: processed_event.id,
            event_type: E::VideoProcessed,
            video_id: video.id,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            last_attempt_at: None,
            next_attempt_at: Some(processed_event.at),
            created_at: processed_event.at,
        }
    );
    assert!(deliveries(&r, everything.id).await.is_empty());

    let for_video = |all: Vec<Delivery>| -> Vec<_> {
        all.into_iter()
            .filter(|d| d.video_id == video.id)
            .map(|d| (d.event_id, d.event_type, d.status))
            .collect()
    };
    let expected: Vec<_> = events[..4]
        .iter()
        .rev()
        .map(|e| (e.id, e.kind, DeliveryStatus::Pending))
        .collect();
    assert_eq!(
        for_video(deliveries(&r, Webhook::DEPLOYMENT).await),
        expected
    );

    // Replaced: its deliveries stay, and new events go to it.
    let mut replaced = hook(None, &[E::VideoUnpublished], t);
    replaced.url = format!("https://other.example.com/{}", unique("hook"));
    r.events
        .set_deployment_webhook(Some(&replaced))
        .await
        .unwrap();
    r.videos
        .set_visibility(video.id, false, now())
        .await
        .unwrap();
    let unpublished = r.events.events_of(video.id).await.unwrap().pop().unwrap();
    assert_eq!(unpublished.kind, E::VideoUnpublished);
    let mut expected_now = vec![(unpublished.id, E::VideoUnpublished, DeliveryStatus::Pending)];
    expected_now.extend(expected);
    assert_eq!(
        for_video(deliveries(&r, Webhook::DEPLOYMENT).await),
        expected_now
    );
    assert_eq!(deliveries(&r, only_processed.id).await.len(), 1);
    assert!(deliveries(&r, everything.id).await.is_empty());

    r.events.set_deployment_webhook(None).await.unwrap();
    assert!(deliveries(&r, Webhook::DEPLOYMENT).await.is_empty());
    r.videos
        .set_visibility(video.id, true, now())
        .await
        .unwrap();
    assert!(deliveries(&r, Webhook::DEPLOYMENT).await.is_empty());
}

/// Of one video's pending deliveries to one webhook only the oldest is claimed; the next once
/// it is delivered. A claimed delivery is not claimed again before its lease ends, and is at
/// that moment. Deliveries of different videos are claimed together, oldest first, with what
/// the sender needs.
pub async fn due_deliveries_of_one_video_are_claimed_one_at_a_time_in_order(r: Repositories) {
    let _turn = CLAIMING.lock().await;
    let owner = player(&r).await;
    let t = decade_ahead();
    let webhook = subscribed(&r, owner.id, t).await;
    let ours = [webhook.id];
    let first = draft(owner.id, "First", true, t);
    r.videos.insert(&first).await.unwrap();
    start_processing(&r, first.id, t + secs(1)).await;
    r.videos
        .transition(
            first.id,
            &StatusChange::Complete(media(first.id)),
            t + secs(2),
        )
        .await
        .unwrap();
    let other = draft(owner.id, "Second", true, t + secs(3));
    r.videos.insert(&other).await.unwrap();
    let events = r.events.events_of(first.id).await.unwrap();
    assert_eq!(events.len(), 4, "{events:#?}");
    let other_uploaded = r.events.events_of(other.id).await.unwrap().remove(0);

    // Nothing is due before its event.
    assert!(claim(&r, t - secs(1), &ours).await.is_empty());

    let due = claim_until(&r, t + secs(10), t + secs(70), &ours).await;
    assert_eq!(claimed_events(&due), [events[0].id, other_uploaded.id]);
    assert_eq!(
        due[0],
        DueDelivery {
            webhook_id: webhook.id,
            url: webhook.url.clone(),
            secret: webhook.secret.clone(),
            event_id: events[0].id,
            event_seq: due[0].event_seq,
            body: events[0].body().to_string(),
            attempts: 0,
            created_at: events[0].at,
            trace_context: events[0].trace_context.clone(),
            lease: due[0].lease,
        }
    );
    assert!(due[0].event_seq < due[1].event_seq);

    // Leased: neither is claimed again, and the first video's next events wait for theirs.
    assert!(claim(&r, t + secs(20), &ours).await.is_empty());
    assert!(claim(&r, t + secs(69), &ours).await.is_empty());

    assert!(r
        .events
        .settle(&due[0], &delivered(t + secs(21)))
        .await
        .unwrap());
    let second = claim_until(&r, t + secs(22), t + secs(82), &ours).await;
    assert_eq!(claimed_events(&second), [events[1].id]);
    // The second video's lease ends at 70 s: claimed again then, as if its deliverer died
    // (and leased past the end of this check).
    let due = claim_until(&r, t + secs(70), t + secs(10_000), &ours).await;
    assert_eq!(claimed_events(&due), [other_uploaded.id]);
    assert_eq!(due[0].attempts, 0);

    let mut due = second;
    for (i, event) in events.iter().enumerate().skip(1) {
        let at = t + secs(100 + i as i64 * 10);
        if i > 1 {
            due = claim(&r, at, &ours).await;
            assert_eq!(claimed_events(&due), [event.id], "event {i}");
        }
        assert!(r
            .events
            .settle(&due[0], &delivered(at + secs(1)))
            .await
            .unwrap());
    }
    assert!(claim(&r, t + secs(1000), &ours).await.is_empty());
    let log = deliveries(&r, webhook.id).await;
    let statuses: Vec<_> = log.iter().map(|d| (d.event_id, d.status)).collect();
    let mut expected = vec![(other_uploaded.id, DeliveryStatus::Pending)];
    expected.extend(
        events
            .iter()
            .rev()
            .map(|e| (e.id, DeliveryStatus::Delivered)),
    );
    assert_eq!(statuses, expected);
    let done = &log[1];
    assert_eq!(
        (done.attempts, done.last_status_code, done.next_attempt_at),
        (1, Some(204), None)
    );
    assert_eq!(done.last_error, None);
    assert!(r.events.unsubscribe(owner.id, webhook.id).await.unwrap());
}

/// A failed attempt with a retry time is due again at that time, not before, and the log
/// shows its attempts, status code and error; a failure with no retry is dead: never claimed
/// again, counted in the backlog, and the video's next event may go.
pub async fn a_failed_attempt_is_retried_at_its_time_and_a_final_failure_is_dead(r: Repositories) {
    let _turn = CLAIMING.lock().await;
    let owner = player(&r).await;
    let t = decade_ahead();
    let webhook = subscribed(&r, owner.id, t).await;
    let ours = [webhook.id];
    let video = draft(owner.id, "Retried", false, t);
    r.videos.insert(&video).await.unwrap();
    start_processing(&r, video.id, t + secs(1)).await;
    let events = r.events.events_of(video.id).await.unwrap();
    let (up, processing) = (&events[0], &events[1]);

    let due = claim(&r, t + secs(2), &ours).await;
    assert_eq!(claimed_events(&due), [up.id]);
    let failed = Settlement {
        outcome: SendOutcome::Failed {
            status: Some(503),
            error: "HTTP 503".into(),
        },
        at: t + secs(3),
        retry_at: Some(t + secs(13)),
    };
    assert!(r.events.settle(&due[0], &failed).await.unwrap());
    let log = deliveries(&r, webhook.id).await;
    assert_eq!(
        log[1],
        Delivery {
            event_id: up.id,
            event_type: EventType::VideoUploaded,
            video_id: video.id,
            status: DeliveryStatus::Pending,
            attempts: 1,
            last_status_code: Some(503),
            last_error: Some("HTTP 503".into()),
            last_attempt_at: Some(t + secs(3)),
            next_attempt_at: Some(t + secs(13)),
            created_at: up.at,
        }
    );
    assert_eq!(log[0].event_id, processing.id);
    assert_eq!(log[0].attempts, 0);

    // The lease ended with the attempt; the retry time holds it (and the next event) back.
    assert!(claim(&r, t + secs(8), &ours).await.is_empty());
    assert!(claim(&r, t + secs(12), &ours).await.is_empty());
    let due = claim(&r, t + secs(13), &ours).await;
    assert_eq!(claimed_events(&due), [up.id]);
    assert_eq!(due[0].attempts, 1);

    let (_, dead_before) = r.events.backlog().await.unwrap();
    let given_up = Settlement {
        outcome: SendOutcome::Failed {
            status: None,
            error: "timed out".into(),
        },
        at: t + secs(14),
        retry_at: None,
    };
    assert!(r.events.settle(&due[0], &given_up).await.unwrap());
    let (pending, dead) = r.events.backlog().await.unwrap();
    // Only this check kills deliveries, and one check at a time: the count is exact.
    assert_eq!(dead, dead_before + 1);
    assert!(pending >= 1, "the video.processing delivery is pending");
    let log = deliveries(&r, webhook.id).await;
    assert_eq!(
        (
            log[1].status,
            log[1].attempts,
            log[1].last_status_code,
            log[1].last_error.as_deref(),
            log[1].last_attempt_at,
            log[1].next_attempt_at
        ),
        (
            DeliveryStatus::Dead,
            2,
            None,
            Some("timed out"),
            Some(t + secs(14)),
            None
        )
    );

    // Dead is never claimed again; the next event of the video goes.
    let due = claim(&r, t + secs(100), &ours).await;
    assert_eq!(claimed_events(&due), [processing.id]);
    assert!(r
        .events
        .settle(&due[0], &delivered(t + secs(101)))
        .await
        .unwrap());
    assert!(claim(&r, t + secs(1000), &ours).await.is_empty());
    assert!(r.events.unsubscribe(owner.id, webhook.id).await.unwrap());
    let (_, dead_after) = r.events.backlog().await.unwrap();
    assert_eq!(dead_after, dead_before, "removed with its webhook");
}

/// An attempt that outlived its claim's lease records nothing once another claim took the
/// delivery, whether it ends before or after the newer attempt: the newer outcome is kept.
pub async fn an_attempt_that_outlived_its_lease_never_overwrites_the_next_claims_outcome(
    r: Repositories,
) {
    let _turn = CLAIMING.lock().await;
    let owner = player(&r).await;
    let t = decade_ahead();
    let webhook = subscribed(&r, owner.id, t).await;
    let ours = [webhook.id];
    let video = draft(owner.id, "Slow receiver", false, t);
    r.videos.insert(&video).await.unwrap();
    let uploaded = r.events.events_of(video.id).await.unwrap().remove(0);

    let first = claim_until(&r, t + secs(1), t + secs(31), &ours).await;
    assert_eq!(claimed_events(&first), [uploaded.id]);
    // The first deliverer stalls past its lease; a second one claims the delivery.
    let second = claim_until(&r, t + secs(31), t + secs(61), &ours).await;
    assert_eq!(claimed_events(&second), [uploaded.id]);
    assert_ne!(first[0].lease, second[0].lease);
    let stale = Settlement {
        outcome: SendOutcome::Failed {
            status: Some(500),
            error: "HTTP 500".into(),
        },
        at: t + secs(40),
        retry_at: Some(t + secs(50)),
    };
    assert!(!r.events.settle(&first[0], &stale).await.unwrap());
    assert!(r
        .events
        .settle(&second[0], &delivered(t + secs(41)))
        .await
        .unwrap());
    assert!(!r.events.settle(&first[0], &stale).await.unwrap());
    let log = deliveries(&r, webhook.id).await;
    assert_eq!(
        (log[0].status, log[0].attempts, log[0].last_status_code),
        (DeliveryStatus::Delivered, 1, Some(204))
    );
    assert!(claim(&r, t + secs(100), &ours).await.is_empty());
    assert!(r.events.unsubscribe(owner.id, webhook.id).await.unwrap());
}

/// A trace context the check sets and clears, as a request's span would.
#[derive(Default)]
struct SetTrace(Mutex<Option<String>>);

impl SetTrace {
    fn set(&self, context: Option<&str>) {
        *self.0.lock().expect("not poisoned") = context.map(str::to_owned);
    }
}

impl TraceContext for SetTrace {
    fn current(&self) -> Option<String> {
        self.0.lock().expect("not poisoned").clone()
    }
}

/// The repositories `make` builds on a trace context stamp each event with the context current
/// when its change was made (none when nothing is traced), and the deliveries claimed for the
/// event carry it on (the webhook's attempt continues the trace).
pub async fn events_and_their_deliveries_carry_the_trace_context_of_their_change<F, Fut>(make: F)
where
    F: FnOnce(Arc<dyn TraceContext>) -> Fut,
    Fut: Future<Output = Repositories>,
{
    const TRACED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let trace = Arc::new(SetTrace::default());
    let r = make(trace.clone()).await;
    let _turn = CLAIMING.lock().await;
    let owner = player(&r).await;
    let t = decade_ahead();
    let webhook = subscribed(&r, owner.id, t).await;
    let video = draft(owner.id, "Traced", false, t);
    trace.set(Some(TRACED));
    r.videos.insert(&video).await.unwrap();
    trace.set(None);
    start_processing(&r, video.id, t + secs(1)).await;
    let events = r.events.events_of(video.id).await.unwrap();
    let contexts: Vec<Option<&str>> = events.iter().map(|e| e.trace_context.as_deref()).collect();
    assert_eq!(contexts, [Some(TRACED), None]);

    let due = claim(&r, t + secs(2), &[webhook.id]).await;
    assert_eq!(claimed_events(&due), [events[0].id]);
    assert_eq!(due[0].trace_context.as_deref(), Some(TRACED));
    assert!(r
        .events
        .settle(&due[0], &delivered(t + secs(3)))
        .await
        .unwrap());
    let due = claim(&r, t + secs(4), &[webhook.id]).await;
    assert_eq!(claimed_events(&due), [events[1].id]);
    assert_eq!(due[0].trace_context, None);
    assert!(r.events.unsubscribe(owner.id, webhook.id).await.unwrap());
}

/// `subscribe` refuses an owner's webhook past the limit (`TooMany`), other owners apart; an
/// owner's webhooks are listed oldest first and read back field for field; another's are
/// invisible to them; only the owner removes one, with its deliveries, making room again.
pub async fn subscriptions_are_limited_per_owner_and_listed_and_removed_by_their_owner_only(
    r: Repositories,
) {
    let (owner, other) = (player(&r).await, player(&r).await);
    let t = second();
    let first = hook(Some(owner.id), &EventType::SUBSCRIBABLE, t);
    let second_hook = hook(
        Some(owner.id),
        &[EventType::VideoProcessed, EventType::RenditionReady],
        t + secs(1),
    );
    r.events.subscribe(&first, 2).await.unwrap();
    r.events.subscribe(&second_hook, 2).await.unwrap();
    let third = hook(Some(owner.id), &[EventType::VideoDeleted], t + secs(2));
    assert!(matches!(
        r.events.subscribe(&third, 2).await,
        Err(SubscribeError::TooMany)
    ));
    let theirs = hook(Some(other.id), &[EventType::VideoUploaded], t);
    r.events.subscribe(&theirs, 2).await.unwrap();

    assert_eq!(
        r.events.webhooks_of(owner.id).await.unwrap(),
        [first.clone(), second_hook.clone()]
    );
    assert_eq!(
        r.events.webhooks_of(other.id).await.unwrap(),
        std::slice::from_ref(&theirs)
    );
    assert_eq!(
        r.events.webhook(owner.id, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(r.events.webhook(other.id, first.id).await.unwrap(), None);
    assert_eq!(r.events.webhook(owner.id, theirs.id).await.unwrap(), None);
    assert_eq!(
        r.events.webhook(owner.id, WebhookId::new()).await.unwrap(),
        None
    );

    let video = uploaded(&r, owner.id, true).await;
    let log = deliveries(&r, first.id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].video_id, video.id);
    assert!(deliveries(&r, second_hook.id).await.is_empty());
    assert!(
        deliveries(&r, theirs.id).await.is_empty(),
        "not their video"
    );

    assert!(!r.events.unsubscribe(other.id, first.id).await.unwrap());
    assert_eq!(r.events.webhooks_of(owner.id).await.unwrap().len(), 2);
    assert_eq!(deliveries(&r, first.id).await.len(), 1);
    assert!(r.events.unsubscribe(owner.id, first.id).await.unwrap());
    assert!(!r.events.unsubscribe(owner.id, first.id).await.unwrap());
    assert_eq!(
        r.events.webhooks_of(owner.id).await.unwrap(),
        std::slice::from_ref(&second_hook)
    );
    assert_eq!(r.events.webhook(owner.id, first.id).await.unwrap(), None);
    let gone = r
        .events
        .deliveries(first.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!((gone.total, gone.items.len()), (0, 0));
    r.events.subscribe(&third, 2).await.unwrap();
    assert_eq!(
        r.events.webhooks_of(owner.id).await.unwrap(),
        [second_hook, third]
    );
    assert_eq!(r.events.webhooks_of(other.id).await.unwrap(), [theirs]);
}

/// Eight subscriptions at once by one owner with a limit of three: exactly three pass.
pub async fn concurrent_subscriptions_by_one_owner_never_pass_the_limit_together(r: Repositories) {
    let owner = player(&r).await;
    let t = second();
    let tasks = (0..8).map(|i| {
        let r = r.clone();
        let webhook = hook(Some(owner.id), &[EventType::VideoProcessed], t + secs(i));
        tokio::spawn(async move { r.events.subscribe(&webhook, 3).await })
    });
    let mut stored = 0;
    for outcome in futures::future::join_all(tasks).await {
        match outcome.unwrap() {
            Ok(()) => stored += 1,
            Err(SubscribeError::TooMany) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stored, 3);
    assert_eq!(r.events.webhooks_of(owner.id).await.unwrap().len(), 3);
}

/// A rendition becoming ready leaves one `rendition.ready` event naming it (starting or
/// failing one leaves none), delivered to the owner's webhooks that asked for it.
pub async fn a_ready_rendition_leaves_a_rendition_ready_event(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, false).await;
    let webhook = hook(Some(owner.id), &[EventType::RenditionReady], second());
    r.events.subscribe(&webhook, 10).await.unwrap();
    let before = r.events.events_of(video.id).await.unwrap();
    let request = |format, height| {
        let request = RenditionRequest::new(format, height).unwrap();
        Rendition::requested(video.id, owner.id, request, now())
    };
    let mp3 = request(RenditionFormat::Mp3, None);
    let mp4 = request(RenditionFormat::Mp4, Some(480));
    for rendition in [&mp3, &mp4] {
        r.renditions.request(rendition, 10).await.unwrap();
        r.renditions
            .transition(rendition.id, &RenditionChange::Start, now())
            .await
            .unwrap();
    }
    let fail = RenditionChange::Fail {
        reason: "bad".into(),
    };
    r.renditions.transition(mp4.id, &fail, now()).await.unwrap();
    assert_eq!(r.events.events_of(video.id).await.unwrap(), before);

    let at = second();
    let finish = RenditionChange::Finish {
        output: BlobKey::rendition(video.id, mp3.id)
            .join("audio.mp3")
            .unwrap(),
    };
    r.renditions.transition(mp3.id, &finish, at).await.unwrap();
    let after = r.events.events_of(video.id).await.unwrap();
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(after.len(), before.len() + 1, "{after:#?}");
    let ready = after.last().unwrap();
    assert_eq!(ready.kind, EventType::RenditionReady);
    assert_eq!(
        (ready.video_id, ready.owner_id, ready.at),
        (video.id, owner.id, at)
    );
    assert_eq!(ready.detail.rendition, Some(mp3.id));
    assert_eq!(ready.data["rendition"]["rendition_id"], mp3.id.to_string());
    assert_eq!(ready.data["rendition"]["format"], "mp3");
    let log = deliveries(&r, webhook.id).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(
        (log[0].event_id, log[0].event_type),
        (ready.id, EventType::RenditionReady)
    );
}

/// Deliverers claiming at once with small limits: each due delivery goes to exactly one of
/// them (and, leased, to nobody in a later round at the same time).
pub async fn concurrent_claims_take_each_due_delivery_once(r: Repositories) {
    let _turn = CLAIMING.lock().await;
    let owner = player(&r).await;
    let t = decade_ahead();
    let webhook = hook(Some(owner.id), &[EventType::VideoUploaded], t);
    r.events.subscribe(&webhook, 10).await.unwrap();
    let mut expected = HashSet::new();
    for i in 0..12 {
        let video = draft(owner.id, "Raced", false, t + secs(100 + i));
        r.videos.insert(&video).await.unwrap();
        expected.insert(r.events.events_of(video.id).await.unwrap()[0].id);
    }
    // Whatever else is due by then is leased out of the way first (other checks may add more
    // while this one runs: rounds go on until nothing is left to claim).
    r.events
        .claim_due(t + secs(99), t + Duration::days(1), 10_000)
        .await
        .unwrap();
    let (now, lease_until) = (t + secs(200), t + Duration::days(1));
    let mut claimed = Vec::new();
    for _ in 0..100 {
        let claimers = (0..6).map(|_| {
            let events = r.events.clone();
            tokio::spawn(async move { events.claim_due(now, lease_until, 2).await })
        });
        let mut any = false;
        for outcome in futures::future::join_all(claimers).await {
            let due = outcome.unwrap().unwrap();
            any |= !due.is_empty();
            claimed.extend(
                due.into_iter()
                    .filter(|d| d.webhook_id == webhook.id)
                    .map(|d| d.event_id),
            );
        }
        if !any {
            break;
        }
    }
    let unique_claims: HashSet<_> = claimed.iter().copied().collect();
    assert_eq!(
        unique_claims.len(),
        claimed.len(),
        "a delivery was claimed twice"
    );
    assert_eq!(unique_claims, expected);
    assert!(r.events.unsubscribe(owner.id, webhook.id).await.unwrap());
}
