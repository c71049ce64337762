//! Checks for [`JobQueue`]. Lease expiry is tested with real (short) waits, so the same checks
//! hold for backends whose clock is a database's or Redis's.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anb_domain::ports::{JobQueue, QueueError};
use anb_domain::{JobPayload, QueueDepth, VideoId};
use tokio::time::sleep;

/// A short lease, so expiry can be waited for.
const SHORT: Duration = Duration::from_millis(400);
/// Comfortably past [`SHORT`].
const PAST_SHORT: Duration = Duration::from_millis(900);
/// A lease that outlives any check.
const LONG: Duration = Duration::from_secs(60);

fn job() -> JobPayload {
    JobPayload::ProcessVideo {
        video_id: VideoId::new(),
    }
}

/// Nothing enqueued: `lease` returns `None`.
pub async fn an_empty_queue_leases_nothing(q: Arc<dyn JobQueue>) {
    assert!(q.lease(LONG).await.unwrap().is_none());
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

/// The leased job carries the enqueued id and payload, on attempt 1, with a future expiry.
pub async fn an_enqueued_job_is_leased_with_its_payload_on_attempt_one(q: Arc<dyn JobQueue>) {
    let payload = job();
    let id = q.enqueue(&payload, None, Duration::ZERO).await.unwrap();
    let before = chrono::Utc::now();
    let leased = q.lease(LONG).await.unwrap().expect("a job");
    assert_eq!(
        (leased.id, &leased.payload, leased.attempt),
        (id, &payload, 1)
    );
    assert!(leased.leased_until > before + chrono::Duration::seconds(30));
}

/// The trace context given at enqueue (by `enqueue` or `enqueue_missing`) comes back on the
/// lease, and on the next one after a retry; a job enqueued without one has none. It is no part
/// of the payload: `enqueue_missing` still sees the live job whatever context it carries.
pub async fn the_trace_context_given_at_enqueue_comes_back_on_every_lease(q: Arc<dyn JobQueue>) {
    let traced = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let restored = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let (first, second, untraced) = (job(), job(), job());
    q.enqueue(&first, Some(traced), Duration::ZERO)
        .await
        .unwrap();
    sleep(Duration::from_millis(5)).await;
    let added = q
        .enqueue_missing(
            &[first.clone(), second.clone()],
            Some(restored),
            Duration::ZERO,
        )
        .await
        .unwrap();
    assert_eq!(
        added,
        vec![second.clone()],
        "the context is no part of the payload"
    );
    sleep(Duration::from_millis(5)).await;
    q.enqueue(&untraced, None, Duration::ZERO).await.unwrap();

    let leased = q.lease(LONG).await.unwrap().expect("the first job");
    assert_eq!(
        (&leased.payload, leased.trace_context.as_deref()),
        (&first, Some(traced))
    );
    // Retried now: due after the two others (a moment later than the last enqueued, or
    // their due times could tie within a millisecond and tie-break either way).
    sleep(Duration::from_millis(5)).await;
    q.retry(leased.id, leased.lease, Duration::ZERO)
        .await
        .unwrap();
    let leased = q.lease(LONG).await.unwrap().expect("the restored job");
    assert_eq!(
        (&leased.payload, leased.trace_context.as_deref()),
        (&second, Some(restored))
    );
    let leased = q.lease(LONG).await.unwrap().expect("the untraced job");
    assert_eq!((&leased.payload, leased.trace_context), (&untraced, None));
    let again = q.lease(LONG).await.unwrap().expect("the first job again");
    assert_eq!(
        (&again.payload, again.trace_context.as_deref()),
        (&first, Some(traced))
    );
}

/// Jobs come out in the order they went in.
pub async fn jobs_are_delivered_oldest_first(q: Arc<dyn JobQueue>) {
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(q.enqueue(&job(), None, Duration::ZERO).await.unwrap());
        sleep(Duration::from_millis(5)).await;
    }
    let mut out = Vec::new();
    while let Some(leased) = q.lease(LONG).await.unwrap() {
        out.push(leased.id);
    }
    assert_eq!(out, ids);
}

/// While a lease lives, nobody else gets the job.
pub async fn a_leased_job_is_not_delivered_again_while_its_lease_lives(q: Arc<dyn JobQueue>) {
    q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    q.lease(LONG).await.unwrap().expect("a job");
    assert!(q.lease(LONG).await.unwrap().is_none());
}

/// After an ack the job is gone for good, even once its lease would have expired.
pub async fn an_acked_job_is_never_delivered_again(q: Arc<dyn JobQueue>) {
    q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let leased = q.lease(SHORT).await.unwrap().expect("a job");
    q.ack(leased.id, leased.lease).await.unwrap();
    sleep(PAST_SHORT).await;
    assert!(q.lease(LONG).await.unwrap().is_none());
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

/// A worker that never acks: after the lease runs out, the job comes back as attempt 2 with a
/// new token.
pub async fn an_expired_lease_is_delivered_again_under_a_new_token(q: Arc<dyn JobQueue>) {
    let payload = job();
    let id = q.enqueue(&payload, None, Duration::ZERO).await.unwrap();
    let first = q.lease(SHORT).await.unwrap().expect("a job");
    sleep(PAST_SHORT).await;
    let second = q.lease(LONG).await.unwrap().expect("redelivered");
    assert_eq!(
        (second.id, &second.payload, second.attempt),
        (id, &payload, 2)
    );
    assert_ne!(second.lease, first.lease);
}

/// Once another consumer holds the job, the old token can do nothing to it.
pub async fn a_lost_lease_can_no_longer_ack_retry_fail_or_heartbeat(q: Arc<dyn JobQueue>) {
    q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let stale = q.lease(SHORT).await.unwrap().expect("a job");
    sleep(PAST_SHORT).await;
    let current = q.lease(LONG).await.unwrap().expect("redelivered");
    let (id, token) = (stale.id, stale.lease);
    assert!(matches!(
        q.heartbeat(id, token, LONG).await,
        Err(QueueError::LeaseLost)
    ));
    assert!(matches!(q.ack(id, token).await, Err(QueueError::LeaseLost)));
    assert!(matches!(
        q.retry(id, token, Duration::ZERO).await,
        Err(QueueError::LeaseLost)
    ));
    assert!(matches!(
        q.fail(id, token, "x").await,
        Err(QueueError::LeaseLost)
    ));
    // The current holder is undisturbed.
    assert_eq!(q.depth().await.unwrap().leased, 1);
    q.ack(current.id, current.lease).await.unwrap();
    assert!(matches!(
        q.ack(current.id, current.lease).await,
        Err(QueueError::LeaseLost)
    ));
}

/// A slow worker may still finish: an expired lease nobody has taken over can be acked.
pub async fn an_expired_lease_nobody_took_can_still_be_acked(q: Arc<dyn JobQueue>) {
    q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let leased = q.lease(SHORT).await.unwrap().expect("a job");
    sleep(PAST_SHORT).await;
    q.ack(leased.id, leased.lease).await.unwrap();
    assert!(q.lease(LONG).await.unwrap().is_none());
}

/// Heartbeats extend a live lease: the job is not redelivered past its first expiry.
pub async fn a_heartbeat_keeps_the_job_leased_past_its_first_expiry(q: Arc<dyn JobQueue>) {
    q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let leased = q.lease(SHORT).await.unwrap().expect("a job");
    for _ in 0..4 {
        sleep(Duration::from_millis(200)).await;
        let until = q.heartbeat(leased.id, leased.lease, SHORT).await.unwrap();
        assert!(until > chrono::Utc::now());
    }
    // 800 ms after leasing, twice the original lease: still held.
    assert!(q.lease(LONG).await.unwrap().is_none());
    q.ack(leased.id, leased.lease).await.unwrap();
}

/// A retry releases the job after its delay, and the next delivery counts as attempt 2.
pub async fn a_retried_job_waits_for_its_delay_and_counts_the_attempt(q: Arc<dyn JobQueue>) {
    let id = q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let first = q.lease(LONG).await.unwrap().expect("a job");
    q.retry(first.id, first.lease, SHORT).await.unwrap();
    assert!(
        q.lease(LONG).await.unwrap().is_none(),
        "not before the delay"
    );
    assert_eq!(q.depth().await.unwrap().scheduled, 1);
    sleep(PAST_SHORT).await;
    let again = q.lease(LONG).await.unwrap().expect("after the delay");
    assert_eq!((again.id, again.attempt), (id, 2));
}

/// A poison job: its workers die on it (their leases run out) again and again. Every delivery
/// counts, expired ones and retries alike, and heartbeats do not, so the domain can stop
/// at its ceiling: delivery 4 is failed under its lease and never delivered again.
pub async fn a_job_whose_workers_keep_dying_is_delivered_with_a_growing_attempt_count_until_failed(
    q: Arc<dyn JobQueue>,
) {
    let id = q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let mut tokens = HashSet::new();
    for attempt in 1..=2 {
        let dying = q.lease(SHORT).await.unwrap().expect("a job");
        assert_eq!((dying.id, dying.attempt), (id, attempt));
        assert!(tokens.insert(dying.lease), "a new token per delivery");
        if attempt == 1 {
            q.heartbeat(dying.id, dying.lease, SHORT).await.unwrap();
        }
        sleep(PAST_SHORT).await;
    }
    let retried = q.lease(LONG).await.unwrap().expect("redelivered");
    assert_eq!((retried.id, retried.attempt), (id, 3));
    q.retry(retried.id, retried.lease, Duration::ZERO)
        .await
        .unwrap();
    let exhausted = q.lease(LONG).await.unwrap().expect("redelivered");
    assert_eq!((exhausted.id, exhausted.attempt), (id, 4));
    q.fail(
        exhausted.id,
        exhausted.lease,
        "processing crashed repeatedly",
    )
    .await
    .unwrap();
    sleep(PAST_SHORT).await;
    assert!(q.lease(LONG).await.unwrap().is_none());
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            failed: 1,
            ..QueueDepth::default()
        }
    );
}

/// A job enqueued with a delay waits for it.
pub async fn a_delayed_job_is_not_delivered_before_its_time(q: Arc<dyn JobQueue>) {
    let id = q.enqueue(&job(), None, SHORT).await.unwrap();
    assert!(q.lease(LONG).await.unwrap().is_none());
    sleep(PAST_SHORT).await;
    assert_eq!(q.lease(LONG).await.unwrap().expect("due").id, id);
}

/// A failed job is dead-lettered: counted, never delivered.
pub async fn a_failed_job_is_never_delivered_again_and_counts_as_failed(q: Arc<dyn JobQueue>) {
    q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let leased = q.lease(SHORT).await.unwrap().expect("a job");
    q.fail(leased.id, leased.lease, "the file has no video stream")
        .await
        .unwrap();
    sleep(PAST_SHORT).await;
    assert!(q.lease(LONG).await.unwrap().is_none());
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            failed: 1,
            ..QueueDepth::default()
        }
    );
}

/// `depth` counts ready, scheduled, leased and failed jobs; an expired lease counts as ready.
pub async fn depth_counts_jobs_by_state(q: Arc<dyn JobQueue>) {
    for _ in 0..4 {
        q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    }
    q.enqueue(&job(), None, LONG).await.unwrap();
    let held = q.lease(LONG).await.unwrap().expect("a job");
    let dead = q.lease(LONG).await.unwrap().expect("a job");
    q.fail(dead.id, dead.lease, "bad").await.unwrap();
    q.lease(SHORT).await.unwrap().expect("a job");
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            ready: 1,
            scheduled: 1,
            leased: 2,
            failed: 1
        }
    );
    sleep(PAST_SHORT).await;
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            ready: 2,
            scheduled: 1,
            leased: 1,
            failed: 1
        }
    );
    q.ack(held.id, held.lease).await.unwrap();
}

/// 50 jobs, 8 consumers leasing at once: every job is delivered exactly once.
pub async fn concurrent_consumers_receive_each_job_exactly_once(q: Arc<dyn JobQueue>) {
    let mut enqueued = HashSet::new();
    for _ in 0..50 {
        enqueued.insert(q.enqueue(&job(), None, Duration::ZERO).await.unwrap());
    }
    let consumers: Vec<_> = (0..8)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(leased) = q.lease(LONG).await.unwrap() {
                    q.ack(leased.id, leased.lease).await.unwrap();
                    got.push(leased.id);
                }
                got
            })
        })
        .collect();
    let mut delivered = Vec::new();
    for consumer in consumers {
        delivered.extend(consumer.await.unwrap());
    }
    assert_eq!(delivered.len(), 50, "no job delivered twice");
    assert_eq!(delivered.into_iter().collect::<HashSet<_>>(), enqueued);
}

/// A worker leases a job and dies (never acks). After the lease expires two consumers compete:
/// exactly one of them gets it, and it completes.
pub async fn a_job_whose_worker_died_goes_to_exactly_one_of_two_competing_consumers(
    q: Arc<dyn JobQueue>,
) {
    let id = q.enqueue(&job(), None, Duration::ZERO).await.unwrap();
    let dead_worker = q.lease(SHORT).await.unwrap().expect("a job");
    assert_eq!(dead_worker.id, id);
    sleep(PAST_SHORT).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (q, barrier) = (q.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                q.lease(LONG).await.unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    for consumer in consumers {
        winners.extend(consumer.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "exactly one consumer gets the job");
    let winner = &winners[0];
    assert_eq!((winner.id, winner.attempt), (id, 2));
    q.ack(winner.id, winner.lease).await.unwrap();
    assert!(matches!(
        q.ack(id, dead_worker.lease).await,
        Err(QueueError::LeaseLost)
    ));
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

/// `enqueue_missing` adds only payloads without a live job: a waiting, a scheduled and a
/// leased job (expired or not) count as live, a failed or acked one does not; a payload given
/// twice is added once; what it adds is delivered like any job, after its delay.
pub async fn enqueue_missing_adds_only_the_payloads_without_a_live_job(q: Arc<dyn JobQueue>) {
    let (waiting, scheduled, leased, expired, failed, acked, new) =
        (job(), job(), job(), job(), job(), job(), job());
    for done in [&failed, &acked, &leased, &expired] {
        q.enqueue(done, None, Duration::ZERO).await.unwrap();
        let taken = q
            .lease(if done == &expired { SHORT } else { LONG })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&taken.payload, done);
        if done == &failed {
            q.fail(taken.id, taken.lease, "bad").await.unwrap();
        } else if done == &acked {
            q.ack(taken.id, taken.lease).await.unwrap();
        }
    }
    q.enqueue(&waiting, None, Duration::ZERO).await.unwrap();
    q.enqueue(&scheduled, None, LONG).await.unwrap();
    sleep(PAST_SHORT).await;

    let given = [
        &waiting, &scheduled, &leased, &expired, &failed, &acked, &new, &new,
    ];
    let given: Vec<JobPayload> = given.into_iter().cloned().collect();
    let added = q
        .enqueue_missing(&given, None, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(added, vec![failed.clone(), acked.clone(), new.clone()]);
    assert!(q
        .enqueue_missing(&given, None, Duration::ZERO)
        .await
        .unwrap()
        .is_empty());
    assert!(q
        .enqueue_missing(&[], None, Duration::ZERO)
        .await
        .unwrap()
        .is_empty());

    // Delivered: the waiting job, the expired lease, then the three added (in some order).
    let mut delivered = HashSet::new();
    while let Some(job) = q.lease(LONG).await.unwrap() {
        assert!(delivered.insert(job.payload), "delivered twice");
    }
    let expected: HashSet<JobPayload> = [waiting, expired, failed, acked, new].into();
    assert_eq!(delivered, expected);

    // A delay holds what it adds back.
    let later = job();
    assert_eq!(
        q.enqueue_missing(std::slice::from_ref(&later), None, LONG)
            .await
            .unwrap(),
        vec![later]
    );
    assert!(q.lease(LONG).await.unwrap().is_none());
    assert_eq!(q.depth().await.unwrap().scheduled, 2);
}

/// Eight restores at once of the same twenty payloads add each exactly once.
pub async fn concurrent_enqueue_missing_adds_each_payload_once(q: Arc<dyn JobQueue>) {
    let payloads: Vec<JobPayload> = (0..20).map(|_| job()).collect();
    let restores: Vec<_> = (0..8)
        .map(|i| {
            let (q, mut payloads) = (q.clone(), payloads.clone());
            payloads.rotate_left(i * 3 % 20);
            tokio::spawn(async move { q.enqueue_missing(&payloads, None, Duration::ZERO).await })
        })
        .collect();
    let mut added = Vec::new();
    for restore in restores {
        added.extend(restore.await.unwrap().unwrap());
    }
    assert_eq!(added.len(), payloads.len(), "a payload was added twice");
    assert_eq!(
        added.into_iter().collect::<HashSet<_>>(),
        payloads.into_iter().collect()
    );
    assert_eq!(q.depth().await.unwrap().ready, 20);
}
