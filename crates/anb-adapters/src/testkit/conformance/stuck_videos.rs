//! Checks for the reads of unfinished videos,
//! [`VideoRepository::claim_stuck`](anb_domain::ports::VideoRepository::claim_stuck) and
//! [`VideoRepository::unfinished`](anb_domain::ports::VideoRepository::unfinished), run by
//! [`repository_conformance!`](crate::repository_conformance) with the other repository checks.
//!
//! Both see every video in the database, and PostgreSQL subjects share one database across
//! checks: the claim check's videos are a month old and the `unfinished` check's two months,
//! far older than any other check's, and each reads only before its own deadline.

use std::collections::BTreeSet;

use anb_domain::ports::{Clock, SystemClock};
use anb_domain::user::NewUser;
use anb_domain::{
    BlobKey, City, Country, Email, PasswordHash, PersonName, ProcessedMedia, StatusChange, Tags,
    UserId, Video, VideoId, VideoTitle,
};
use chrono::{DateTime, Duration, Utc};

use super::repositories::Repositories;
use crate::testkit::unique;

async fn owner(r: &Repositories) -> UserId {
    let tag = unique("stuck");
    let user = NewUser {
        id: UserId::new(),
        first_name: PersonName::parse("first_name", "Player").unwrap(),
        last_name: PersonName::parse("last_name", &tag).unwrap(),
        email: Email::parse(&format!("{tag}@example.com")).unwrap(),
        password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
        city: City::parse(&unique("City")).unwrap(),
        country: Country::parse("Colombia").unwrap(),
        created_at: SystemClock.now(),
    };
    r.users.create(user).await.unwrap().id
}

/// Inserts a video uploaded at `at`, then applies `changes` at `at` too.
async fn video_at(
    r: &Repositories,
    owner: UserId,
    at: DateTime<Utc>,
    changes: &[StatusChange],
) -> VideoId {
    let id = VideoId::new();
    let video = Video::uploaded(
        id,
        owner,
        VideoTitle::new("Stuck").unwrap(),
        None,
        Tags::default(),
        true,
        BlobKey::original(owner, id),
        1,
        at,
    );
    r.videos.insert(&video).await.unwrap();
    for change in changes {
        r.videos.transition(id, change, at).await.unwrap();
    }
    id
}

/// One processed and one failed video, changed at `at`: never unfinished.
async fn finished_videos(r: &Repositories, owner: UserId, at: DateTime<Utc>) {
    let id = VideoId::new();
    let done = [
        StatusChange::StartProcessing(Default::default()),
        StatusChange::Complete(ProcessedMedia {
            processed: BlobKey::processed(id),
            thumbnail: BlobKey::thumbnail(id),
            stream: None,
            storyboard: None,
            duration_seconds: 1.0,
        }),
    ];
    video_at(r, owner, at, &done).await;
    let failed = [StatusChange::Fail {
        reason: "bad".into(),
    }];
    video_at(r, owner, at, &failed).await;
}

fn ids(list: &[VideoId]) -> BTreeSet<VideoId> {
    list.iter().copied().collect()
}

/// `claim_stuck` takes only `uploaded`/`processing` videos whose status changed before the
/// deadline, oldest first up to the limit; a claimed video is not claimed again until the
/// deadline passes the claim; a status change after a claim makes it fresh again; and of
/// sweepers claiming at once, each video goes to exactly one.
pub async fn stuck_videos_are_claimed_oldest_first_once_per_deadline_by_one_sweeper(
    r: Repositories,
) {
    let owner = owner(&r).await;
    let t = SystemClock.now() - Duration::days(30);
    let min = Duration::minutes;
    let start = [StatusChange::StartProcessing(Default::default())];
    let waiting = video_at(&r, owner, t, &[]).await;
    let working = video_at(&r, owner, t + Duration::seconds(1), &start).await;
    let later = video_at(&r, owner, t + Duration::seconds(2), &[]).await;
    let fresh = video_at(&r, owner, t + min(60), &[]).await;
    finished_videos(&r, owner, t).await;

    // The two oldest, then the third; finished and fresh videos never.
    let deadline = t + min(10);
    let first = r
        .videos
        .claim_stuck(deadline, t + min(20), 2)
        .await
        .unwrap();
    assert_eq!(ids(&first), ids(&[waiting, working]));
    let second = r
        .videos
        .claim_stuck(deadline, t + min(20), 10)
        .await
        .unwrap();
    assert_eq!(second, vec![later]);
    assert!(r
        .videos
        .claim_stuck(deadline, t + min(21), 10)
        .await
        .unwrap()
        .is_empty());

    // Once the deadline passes the claims, they are claimed again.
    let again = r
        .videos
        .claim_stuck(t + min(30), t + min(40), 10)
        .await
        .unwrap();
    assert_eq!(ids(&again), ids(&[waiting, working, later]));

    // A worker takes one: its new status time keeps it out.
    r.videos
        .transition(
            waiting,
            &StatusChange::StartProcessing(Default::default()),
            t + min(50),
        )
        .await
        .unwrap();
    let stored = r.videos.get(waiting).await.unwrap().unwrap();
    assert_eq!(stored.status_changed_at, t + min(50));
    let after_start = r
        .videos
        .claim_stuck(t + min(45), t + min(55), 10)
        .await
        .unwrap();
    assert_eq!(ids(&after_start), ids(&[working, later]));

    // Eight sweepers at once over 24 stuck videos: each claimed once.
    let mut all = vec![waiting, working, later, fresh];
    for i in 0..20 {
        all.push(video_at(&r, owner, t + Duration::seconds(10 + i), &[]).await);
    }
    let (deadline, at) = (t + min(120), t + min(121));
    let sweepers: Vec<_> = (0..8)
        .map(|_| {
            let videos = r.videos.clone();
            tokio::spawn(async move { videos.claim_stuck(deadline, at, 5).await })
        })
        .collect();
    let mut claimed = Vec::new();
    for sweeper in sweepers {
        claimed.extend(sweeper.await.unwrap().unwrap());
    }
    assert_eq!(claimed.len(), all.len(), "a video was claimed twice");
    assert_eq!(ids(&claimed), ids(&all));
}

/// `unfinished` reads the `uploaded` and `processing` videos whose status changed before the
/// deadline, with their status, by id, in pages after a cursor; finished and newer videos never.
pub async fn unfinished_videos_are_read_by_id_in_pages_with_their_status(r: Repositories) {
    use anb_domain::VideoStatus;

    let owner = owner(&r).await;
    let t = SystemClock.now() - Duration::days(60);
    let mut expected = vec![
        (video_at(&r, owner, t, &[]).await, VideoStatus::Uploaded),
        (
            video_at(
                &r,
                owner,
                t,
                &[StatusChange::StartProcessing(Default::default())],
            )
            .await,
            VideoStatus::Processing,
        ),
    ];
    for i in 0..5 {
        let at = t + Duration::seconds(i);
        expected.push((video_at(&r, owner, at, &[]).await, VideoStatus::Uploaded));
    }
    expected.sort_by_key(|(id, _)| *id);
    finished_videos(&r, owner, t).await;
    video_at(&r, owner, t + Duration::minutes(90), &[]).await;

    let before = t + Duration::minutes(60);
    assert_eq!(
        r.videos.unfinished(before, None, 100).await.unwrap(),
        expected
    );
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = r.videos.unfinished(before, after, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(&(last, _)) = page.last() else { break };
        after = Some(last);
        paged.extend(page);
    }
    assert_eq!(paged, expected);
    assert!(
        r.videos.unfinished(t, None, 100).await.unwrap().is_empty(),
        "strictly before"
    );
}
