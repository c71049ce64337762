//! Checks for [`RenditionRepository`](anb_domain::ports::RenditionRepository): requests (one
//! of each kind per video, the limit on pending conversions, even under concurrency), status
//! changes, progress, and renditions going with their video.

use anb_domain::ports::{RenditionTransitionError, RequestRenditionError, Requested};
use anb_domain::rendition::{
    Rendition, RenditionChange, RenditionFormat, RenditionRequest, RenditionStatus,
    RENDITION_HEIGHTS,
};
use anb_domain::video::ProcessingProgress;
use anb_domain::{BlobKey, RenditionId, UserId, Video};

use super::repositories::{now, player, processed, Repositories};

fn asked(video: &Video, format: RenditionFormat, height: Option<u32>) -> Rendition {
    let request = RenditionRequest::new(format, height).unwrap();
    Rendition::requested(video.id, video.owner_id, request, now())
}

/// Every distinct rendition one video can have, pending.
pub fn every_kind(video: &Video) -> Vec<Rendition> {
    let mut all = vec![asked(video, RenditionFormat::Mp3, None)];
    for height in RENDITION_HEIGHTS {
        all.push(asked(video, RenditionFormat::Mp4, Some(height)));
        all.push(asked(video, RenditionFormat::Hls, Some(height)));
    }
    all
}

/// A new player and a processed private video of theirs.
pub async fn owner_and_video(r: &Repositories) -> (UserId, Video) {
    let owner = player(r).await;
    let video = processed(r, owner.id, false).await;
    (owner.id, video)
}

/// A new request is stored as asked, found by id and listed with its video, first asked
/// first.
pub async fn a_requested_rendition_reads_back_field_for_field_and_is_listed_with_its_video(
    r: Repositories,
) {
    let (_, video) = owner_and_video(&r).await;
    let mp3 = asked(&video, RenditionFormat::Mp3, None);
    assert_eq!(
        r.renditions.request(&mp3, 3).await.unwrap(),
        Requested::New(mp3.clone())
    );
    assert_eq!(r.renditions.get(mp3.id).await.unwrap(), Some(mp3.clone()));
    let mut later = asked(&video, RenditionFormat::Mp4, Some(480));
    later.requested_at = mp3.requested_at + chrono::Duration::seconds(1);
    r.renditions.request(&later, 3).await.unwrap();
    let listed = r.renditions.list_for_video(video.id).await.unwrap();
    assert_eq!(listed, [mp3, later]);
    assert_eq!(r.renditions.get(RenditionId::new()).await.unwrap(), None);
}

/// Asking for a rendition that exists returns it unchanged (whatever its status but failed);
/// a failed one becomes pending again, keeping its id.
pub async fn asking_again_for_the_same_rendition_returns_it_and_a_failed_one_becomes_pending(
    r: Repositories,
) {
    let (_, video) = owner_and_video(&r).await;
    let first = asked(&video, RenditionFormat::Mp4, Some(720));
    r.renditions.request(&first, 3).await.unwrap();
    let again = asked(&video, RenditionFormat::Mp4, None); // 720 by default: the same kind
    assert_eq!(
        r.renditions.request(&again, 3).await.unwrap(),
        Requested::Existing(first.clone())
    );
    let failed = r
        .renditions
        .transition(
            first.id,
            &RenditionChange::Fail {
                reason: "disk full".into(),
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        failed.status,
        RenditionStatus::Failed {
            reason: "disk full".into()
        }
    );
    let Requested::Again(retried) = r.renditions.request(&again, 3).await.unwrap() else {
        panic!("a failed rendition is asked for again");
    };
    assert_eq!(retried.id, first.id);
    assert_eq!(retried.status, RenditionStatus::Pending);
    assert_eq!(retried.requested_at, again.requested_at);
    assert_eq!(retried.finished_at, None);
    assert_eq!(r.renditions.get(first.id).await.unwrap(), Some(retried));
    assert_eq!(
        r.renditions.list_for_video(video.id).await.unwrap().len(),
        1
    );
}

/// An owner with `max_pending` renditions waiting or being made gets `TooManyPending`; a
/// ready or failed one does not count.
pub async fn the_limit_counts_only_renditions_waiting_or_being_made(r: Repositories) {
    let (_, video) = owner_and_video(&r).await;
    let kinds = every_kind(&video);
    for kind in &kinds[..2] {
        r.renditions.request(kind, 2).await.unwrap();
    }
    assert!(matches!(
        r.renditions.request(&kinds[2], 2).await,
        Err(RequestRenditionError::TooManyPending { limit: 2 })
    ));
    // One made, one failed: room for two more.
    let done = RenditionChange::Finish {
        output: BlobKey::new("renditions/x/video.mp4").unwrap(),
    };
    r.renditions
        .transition(kinds[0].id, &RenditionChange::Start, now())
        .await
        .unwrap();
    r.renditions
        .transition(kinds[0].id, &done, now())
        .await
        .unwrap();
    let fail = RenditionChange::Fail {
        reason: "bad".into(),
    };
    r.renditions
        .transition(kinds[1].id, &fail, now())
        .await
        .unwrap();
    r.renditions.request(&kinds[2], 2).await.unwrap();
    r.renditions.request(&kinds[3], 2).await.unwrap();
    assert!(r.renditions.request(&kinds[4], 2).await.is_err());
    // The failed one asked again is new work too: refused while the limit is reached.
    assert!(matches!(
        r.renditions.request(&kinds[1], 2).await,
        Err(RequestRenditionError::TooManyPending { .. })
    ));
}

/// Nine different requests at once by one owner with a limit of three: exactly three pass.
pub async fn concurrent_requests_by_one_owner_never_pass_the_limit_together(r: Repositories) {
    let (_, video) = owner_and_video(&r).await;
    let requests = every_kind(&video).into_iter().map(|kind| {
        let r = r.clone();
        tokio::spawn(async move { r.renditions.request(&kind, 3).await })
    });
    let mut new = 0;
    for outcome in futures::future::join_all(requests).await {
        match outcome.unwrap() {
            Ok(Requested::New(_)) => new += 1,
            Err(RequestRenditionError::TooManyPending { limit: 3 }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(new, 3);
    assert_eq!(
        r.renditions.list_for_video(video.id).await.unwrap().len(),
        3
    );
}

/// Changes follow [`RenditionChange::allowed_from`]; progress is kept only while processing;
/// a missing rendition is `NotFound`.
pub async fn rendition_changes_follow_the_allowed_paths_and_progress_only_while_processing(
    r: Repositories,
) {
    let (_, video) = owner_and_video(&r).await;
    let hls = asked(&video, RenditionFormat::Hls, Some(480));
    r.renditions.request(&hls, 3).await.unwrap();
    let halfway = ProcessingProgress {
        percent: 50.0,
        eta_seconds: Some(3.5),
    };
    assert!(!r.renditions.record_progress(hls.id, halfway).await.unwrap());
    let output = BlobKey::rendition(video.id, hls.id)
        .join("hls/master.m3u8")
        .unwrap();
    let finish = RenditionChange::Finish {
        output: output.clone(),
    };
    assert!(matches!(
        r.renditions.transition(hls.id, &finish, now()).await,
        Err(RenditionTransitionError::NotAllowed {
            current: RenditionStatus::Pending
        })
    ));
    let started = r
        .renditions
        .transition(hls.id, &RenditionChange::Start, now())
        .await
        .unwrap();
    assert_eq!(started.progress, Some(ProcessingProgress::STARTED));
    assert!(r.renditions.record_progress(hls.id, halfway).await.unwrap());
    assert_eq!(
        r.renditions.get(hls.id).await.unwrap().unwrap().progress,
        Some(halfway)
    );
    let at = now();
    let ready = r.renditions.transition(hls.id, &finish, at).await.unwrap();
    assert_eq!(ready.status, RenditionStatus::Ready);
    assert_eq!(ready.output, Some(output));
    assert_eq!(ready.progress, None);
    assert_eq!(ready.finished_at, Some(at));
    assert_eq!(r.renditions.get(hls.id).await.unwrap(), Some(ready));
    assert!(!r.renditions.record_progress(hls.id, halfway).await.unwrap());
    assert!(matches!(
        r.renditions
            .transition(hls.id, &RenditionChange::AskAgain, now())
            .await,
        Err(RenditionTransitionError::NotAllowed {
            current: RenditionStatus::Ready
        })
    ));
    assert!(matches!(
        r.renditions
            .transition(RenditionId::new(), &RenditionChange::Start, now())
            .await,
        Err(RenditionTransitionError::NotFound)
    ));
}

/// A deleted video's renditions are gone with it.
pub async fn deleting_a_video_deletes_its_renditions(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, false).await;
    let mp3 = asked(&video, RenditionFormat::Mp3, None);
    r.renditions.request(&mp3, 3).await.unwrap();
    r.videos.delete(video.id, chrono::Utc::now()).await.unwrap();
    assert_eq!(r.renditions.get(mp3.id).await.unwrap(), None);
    assert!(r
        .renditions
        .list_for_video(video.id)
        .await
        .unwrap()
        .is_empty());
}

/// The renditions waiting or being made, asked for before a moment, are read by id in pages;
/// ready and failed ones, and later ones, are not.
pub async fn unfinished_renditions_are_read_by_id_in_pages(r: Repositories) {
    let (owner, video) = owner_and_video(&r).await;
    let t = now() - chrono::Duration::days(60);
    let mut kinds = every_kind(&video);
    for (i, kind) in kinds.iter_mut().enumerate() {
        kind.requested_at = t + chrono::Duration::seconds(i as i64);
        r.renditions.request(kind, 100).await.unwrap();
    }
    let start = RenditionChange::Start;
    r.renditions
        .transition(kinds[1].id, &start, now())
        .await
        .unwrap();
    let fail = RenditionChange::Fail {
        reason: "bad".into(),
    };
    r.renditions
        .transition(kinds[2].id, &fail, now())
        .await
        .unwrap();
    r.renditions
        .transition(kinds[3].id, &start, now())
        .await
        .unwrap();
    let done = RenditionChange::Finish {
        output: BlobKey::new("renditions/x/audio.mp3").unwrap(),
    };
    r.renditions
        .transition(kinds[3].id, &done, now())
        .await
        .unwrap();
    let before = kinds[7].requested_at; // strictly before: the last two are too late
    let mut expected: Vec<RenditionId> = [0, 1, 4, 5, 6].iter().map(|&i| kinds[i].id).collect();
    expected.sort();
    let mine = |page: Vec<Rendition>| -> Vec<RenditionId> {
        page.into_iter()
            .filter(|r| r.owner_id == owner)
            .map(|r| r.id)
            .collect()
    };
    let all = r.renditions.unfinished(before, None, 1000).await.unwrap();
    let statuses: Vec<RenditionStatus> = all
        .iter()
        .filter(|r| r.owner_id == owner)
        .map(|r| r.status.clone())
        .collect();
    assert_eq!(mine(all), expected);
    assert!(statuses.contains(&RenditionStatus::Processing));
    let (mut paged, mut after) = (Vec::new(), None);
    loop {
        let page = r.renditions.unfinished(before, after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        paged.extend(mine(page));
    }
    assert_eq!(paged, expected);
}
