//! Checks for [`UserRepository`], [`VideoRepository`] and [`VoteRepository`] (and the
//! [`Repositories`] every repository check takes).

use std::sync::Arc;

use anb_domain::ports::{
    CastVoteError, Clock, CreateUserError, DeleteVideoRecordError, EventLog, PublicVideoQuery,
    RankingQuery, RenditionRepository, SessionRepository, ShareRepository, SystemClock,
    TransitionError, UserRepository, VideoRepository, VisibilityError, VoteRepository,
};
use anb_domain::user::NewUser;
use anb_domain::video::ProcessingProgress;
use anb_domain::{
    BlobKey, City, Country, Description, Email, PageRequest, PasswordHash, PersonName,
    ProcessedMedia, PublicSort, StatusChange, Tags, User, UserId, Video, VideoId, VideoStatus,
    VideoTitle,
};
use chrono::{DateTime, Duration, Utc};

use crate::testkit::unique;

/// The repositories of one backend.
#[derive(Clone)]
pub struct Repositories {
    /// Players.
    pub users: Arc<dyn UserRepository>,
    /// Videos.
    pub videos: Arc<dyn VideoRepository>,
    /// Votes.
    pub votes: Arc<dyn VoteRepository>,
    /// Conversions on demand.
    pub renditions: Arc<dyn RenditionRepository>,
    /// Sign-in sessions.
    pub sessions: Arc<dyn SessionRepository>,
    /// Shares and share links.
    pub shares: Arc<dyn ShareRepository>,
    /// Video events, webhooks and their deliveries.
    pub events: Arc<dyn EventLog>,
}

impl Repositories {
    /// Every repository on `store`.
    pub fn on<S>(store: Arc<S>) -> Self
    where
        S: UserRepository
            + VideoRepository
            + VoteRepository
            + RenditionRepository
            + SessionRepository
            + ShareRepository
            + EventLog,
    {
        Self {
            users: store.clone(),
            videos: store.clone(),
            votes: store.clone(),
            renditions: store.clone(),
            sessions: store.clone(),
            shares: store.clone(),
            events: store,
        }
    }
}

pub(super) fn now() -> DateTime<Utc> {
    SystemClock.now()
}

pub(super) fn new_user(city: &City, country: &Country) -> NewUser {
    let tag = unique("p");
    NewUser {
        id: UserId::new(),
        first_name: PersonName::parse("first_name", "Player").unwrap(),
        last_name: PersonName::parse("last_name", &tag).unwrap(),
        email: Email::parse(&format!("{tag}@example.com")).unwrap(),
        password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
        city: city.clone(),
        country: country.clone(),
        created_at: now(),
    }
}

pub(super) fn a_city() -> City {
    City::parse(&unique("City")).unwrap()
}

pub(super) fn colombia() -> Country {
    Country::parse("Colombia").unwrap()
}

async fn player_in(r: &Repositories, city: &City) -> User {
    r.users.create(new_user(city, &colombia())).await.unwrap()
}

pub(super) async fn player(r: &Repositories) -> User {
    player_in(r, &a_city()).await
}

pub(super) fn draft(owner: UserId, title: &str, public: bool, at: DateTime<Utc>) -> Video {
    let id = VideoId::new();
    Video::uploaded(
        id,
        owner,
        VideoTitle::new(title).unwrap(),
        Description::parse("Una jugada\ncon dos líneas").unwrap(),
        Tags::parse("dunk, Crossover").unwrap(),
        public,
        BlobKey::original(owner, id),
        1234,
        at,
    )
}

pub(super) fn media(id: VideoId) -> ProcessedMedia {
    ProcessedMedia {
        processed: BlobKey::processed(id),
        thumbnail: BlobKey::thumbnail(id),
        stream: Some(BlobKey::streams(id).join("hls/master.m3u8").unwrap()),
        storyboard: Some(BlobKey::streams(id).join("storyboard.vtt").unwrap()),
        duration_seconds: 19.96,
    }
}

pub(super) async fn uploaded(r: &Repositories, owner: UserId, public: bool) -> Video {
    let video = draft(owner, "Crossover", public, now());
    r.videos.insert(&video).await.unwrap();
    video
}

async fn processed_at(
    r: &Repositories,
    owner: UserId,
    title: &str,
    public: bool,
    at: DateTime<Utc>,
) -> Video {
    let video = draft(owner, title, public, at);
    r.videos.insert(&video).await.unwrap();
    r.videos
        .transition(
            video.id,
            &StatusChange::StartProcessing(Default::default()),
            at,
        )
        .await
        .unwrap();
    r.videos
        .transition(video.id, &StatusChange::Complete(media(video.id)), at)
        .await
        .unwrap()
}

pub(super) async fn processed(r: &Repositories, owner: UserId, public: bool) -> Video {
    processed_at(r, owner, "Crossover", public, now()).await
}

async fn voters(r: &Repositories, n: usize) -> Vec<User> {
    let city = a_city();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(player_in(r, &city).await);
    }
    out
}

fn ranking(city: Option<&City>, country: Option<&Country>, page: PageRequest) -> RankingQuery {
    RankingQuery {
        city: city.cloned(),
        country: country.cloned(),
        page,
    }
}

/// `create` returns the account as stored; `get` and `find_by_email` read it back.
pub async fn a_created_user_is_found_by_id_and_by_email(r: Repositories) {
    let new = new_user(&City::parse("Bogotá").unwrap(), &colombia());
    let created = r.users.create(new.clone()).await.unwrap();
    assert_eq!(created, new.clone().into_user());
    assert_eq!(r.users.get(new.id).await.unwrap(), Some(created.clone()));
    assert_eq!(
        r.users.find_by_email(&new.email).await.unwrap(),
        Some(created)
    );
}

/// A second account with the same (normalised) email is `EmailTaken`.
pub async fn a_second_account_with_the_same_email_is_email_taken(r: Repositories) {
    let first = player(&r).await;
    let mut again = new_user(&a_city(), &colombia());
    again.email = Email::parse(&first.email.as_str().to_uppercase()).unwrap();
    assert!(matches!(
        r.users.create(again).await,
        Err(CreateUserError::EmailTaken)
    ));
}

/// Uniqueness comes from a constraint: of 20 concurrent sign-ups with one email, one wins.
pub async fn concurrent_signups_with_one_email_create_exactly_one_account(r: Repositories) {
    let email = Email::parse(&format!("{}@example.com", unique("race"))).unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let users = r.users.clone();
            let mut user = new_user(&a_city(), &colombia());
            user.email = email.clone();
            tokio::spawn(async move { users.create(user).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(CreateUserError::EmailTaken) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(created, 1);
}

/// Looking up what does not exist is `None`, not an error.
pub async fn missing_users_and_videos_are_none(r: Repositories) {
    assert_eq!(r.users.get(UserId::new()).await.unwrap(), None);
    let nobody = Email::parse(&format!("{}@example.com", unique("nobody"))).unwrap();
    assert_eq!(r.users.find_by_email(&nobody).await.unwrap(), None);
    assert_eq!(r.videos.get(VideoId::new()).await.unwrap(), None);
}

/// Every field survives storage, including optional text, tags and timestamps.
pub async fn an_inserted_video_reads_back_field_for_field(r: Repositories) {
    let owner = player(&r).await;
    let video = draft(owner.id, "Triple from the corner ñ", false, now());
    r.videos.insert(&video).await.unwrap();
    assert_eq!(r.videos.get(video.id).await.unwrap(), Some(video.clone()));

    let mut bare = draft(owner.id, "No extras", true, now());
    bare.description = None;
    bare.tags = Tags::default();
    r.videos.insert(&bare).await.unwrap();
    assert_eq!(r.videos.get(bare.id).await.unwrap(), Some(bare));
}

/// `list_by_owner`: only the owner's, newest upload first, paged, with the total.
pub async fn an_owners_videos_are_listed_newest_first_with_a_total(r: Repositories) {
    let owner = player(&r).await;
    let other = player(&r).await;
    let start = now();
    let mut ids = Vec::new();
    for i in 0..5 {
        let video = draft(
            owner.id,
            &format!("Clip {i}"),
            true,
            start + Duration::seconds(i),
        );
        r.videos.insert(&video).await.unwrap();
        ids.push(video.id);
    }
    r.videos
        .insert(&draft(other.id, "Not mine", true, start))
        .await
        .unwrap();
    ids.reverse();

    let first = r
        .videos
        .list_by_owner(owner.id, PageRequest::new(Some(1), Some(3)).unwrap())
        .await
        .unwrap();
    let second = r
        .videos
        .list_by_owner(owner.id, PageRequest::new(Some(2), Some(3)).unwrap())
        .await
        .unwrap();
    assert_eq!((first.total, second.total), (5, 5));
    let listed: Vec<VideoId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|v| v.id)
        .collect();
    assert_eq!(listed, ids);
    let empty = r
        .videos
        .list_by_owner(UserId::new(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!((empty.items.len(), empty.total), (0, 0));
}

/// `transition` applies exactly the changes [`StatusChange::allowed_from`] allows, and reports
/// the stored status otherwise.
pub async fn status_changes_follow_the_allowed_paths(r: Repositories) {
    let owner = player(&r).await;
    let at = now();
    let changes = [
        StatusChange::StartProcessing(Default::default()),
        StatusChange::Fail {
            reason: "no video stream".into(),
        },
        StatusChange::Complete(media(VideoId::new())),
    ];
    let setups: [&[StatusChange]; 4] = [
        &[],
        &[StatusChange::StartProcessing(Default::default())],
        &[
            StatusChange::StartProcessing(Default::default()),
            StatusChange::Complete(media(VideoId::new())),
        ],
        &[StatusChange::Fail {
            reason: "bad".into(),
        }],
    ];
    for setup in setups {
        for change in &changes {
            let video = uploaded(&r, owner.id, true).await;
            let mut expected = video.clone();
            for step in setup {
                expected = r.videos.transition(video.id, step, at).await.unwrap();
            }
            let outcome = r.videos.transition(video.id, change, at).await;
            if change.allowed_from(&expected.status) {
                let want = expected.apply(change, at).unwrap();
                assert_eq!(
                    outcome.unwrap(),
                    want,
                    "{change:?} from {}",
                    expected.status
                );
                assert_eq!(r.videos.get(video.id).await.unwrap(), Some(want));
            } else {
                match outcome {
                    Err(TransitionError::NotAllowed { current }) => {
                        assert_eq!(current, expected.status)
                    }
                    other => panic!("{change:?} from {}: {other:?}", expected.status),
                }
                assert_eq!(r.videos.get(video.id).await.unwrap(), Some(expected));
            }
        }
    }
}

/// Changing a video that does not exist is `NotFound`, for status and visibility alike.
pub async fn status_changes_on_a_missing_video_are_not_found(r: Repositories) {
    let missing = VideoId::new();
    assert!(matches!(
        r.videos
            .transition(
                missing,
                &StatusChange::StartProcessing(Default::default()),
                now()
            )
            .await,
        Err(TransitionError::NotFound)
    ));
    assert!(matches!(
        r.videos.set_visibility(missing, true, now()).await,
        Err(VisibilityError::NotFound)
    ));
}

/// `processed_ids` pages through processed videos by id: every processed video once, in
/// order, nothing else.
pub async fn processed_ids_page_through_processed_videos_only(r: Repositories) {
    let owner = player(&r).await;
    let mut mine = Vec::new();
    for public in [true, false, true] {
        mine.push(processed(&r, owner.id, public).await.id);
    }
    let waiting = uploaded(&r, owner.id, true).await.id;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = r.videos.processed_ids(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last().copied() else {
            break;
        };
        seen.extend(page);
        after = Some(last);
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "ascending, no repeats"
    );
    assert!(mine.iter().all(|id| seen.contains(id)));
    assert!(!seen.contains(&waiting));
}

/// Progress is recorded only while a video is `processing`: it starts at 0% when a worker
/// takes the video, reads back as reported, and is cleared when the run ends; a report for a
/// video not processing (or missing) changes nothing.
pub async fn progress_is_recorded_only_while_processing_and_cleared_at_the_end(r: Repositories) {
    let owner = player(&r).await;
    let video = uploaded(&r, owner.id, true).await;
    let halfway = ProcessingProgress {
        percent: 50.0,
        eta_seconds: Some(4.5),
    };
    assert!(!r.videos.record_progress(video.id, halfway).await.unwrap());
    assert_eq!(
        r.videos.get(video.id).await.unwrap().unwrap().progress,
        None
    );
    let started = r
        .videos
        .transition(
            video.id,
            &StatusChange::StartProcessing(Default::default()),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(started.progress, Some(ProcessingProgress::STARTED));
    assert!(r.videos.record_progress(video.id, halfway).await.unwrap());
    let stored = r.videos.get(video.id).await.unwrap().unwrap();
    assert_eq!(stored.progress, Some(halfway));
    let unknown_eta = ProcessingProgress {
        percent: 60.0,
        eta_seconds: None,
    };
    assert!(r
        .videos
        .record_progress(video.id, unknown_eta)
        .await
        .unwrap());
    let stored = r.videos.get(video.id).await.unwrap().unwrap();
    assert_eq!(stored.progress, Some(unknown_eta));
    r.videos
        .transition(video.id, &StatusChange::Complete(media(video.id)), now())
        .await
        .unwrap();
    assert_eq!(
        r.videos.get(video.id).await.unwrap().unwrap().progress,
        None
    );
    assert!(!r.videos.record_progress(video.id, halfway).await.unwrap());
    assert_eq!(
        r.videos.get(video.id).await.unwrap().unwrap().progress,
        None
    );
    assert!(!r
        .videos
        .record_progress(VideoId::new(), halfway)
        .await
        .unwrap());
}

/// Completing a public video stamps `published_at` and stores every output's key; a private
/// one is processed but unpublished.
pub async fn completing_a_public_video_publishes_it_and_a_private_one_stays_hidden(
    r: Repositories,
) {
    let owner = player(&r).await;
    let at = now();
    let public = processed_at(&r, owner.id, "Public", true, at).await;
    assert_eq!(public.status, VideoStatus::Processed);
    assert_eq!(public.published_at, Some(at));
    assert_eq!(public.processed_at, Some(at));
    assert_eq!(public.duration_seconds, Some(19.96));
    assert_eq!(public.processed, Some(BlobKey::processed(public.id)));
    assert_eq!(public.thumbnail, Some(BlobKey::thumbnail(public.id)));
    let stored = r.videos.get(public.id).await.unwrap().unwrap();
    assert_eq!(stored.stream, media(public.id).stream);
    assert_eq!(stored.storyboard, media(public.id).storyboard);
    assert!(stored.stream.is_some() && stored.storyboard.is_some());
    let private = processed_at(&r, owner.id, "Private", false, at).await;
    assert!(!private.is_published());
    assert_eq!(private.published_at, None);
}

/// `set_visibility` needs `processed`; publishing stamps `published_at`, unpublishing clears it.
pub async fn only_processed_videos_can_be_published_or_unpublished(r: Repositories) {
    let owner = player(&r).await;
    let waiting = uploaded(&r, owner.id, false).await;
    for public in [true, false] {
        assert!(matches!(
            r.videos.set_visibility(waiting.id, public, now()).await,
            Err(VisibilityError::NotProcessed)
        ));
    }
    let video = processed(&r, owner.id, false).await;
    let at = now() + Duration::seconds(5);
    let published = r.videos.set_visibility(video.id, true, at).await.unwrap();
    assert!(published.is_public && published.is_published());
    assert_eq!(published.published_at, Some(at));
    let again = r
        .videos
        .set_visibility(video.id, true, at + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(
        again.published_at,
        Some(at),
        "re-publishing keeps the first date"
    );
    let hidden = r
        .videos
        .set_visibility(video.id, false, now())
        .await
        .unwrap();
    assert!(!hidden.is_public);
    assert_eq!(hidden.published_at, None);
    assert_eq!(r.videos.get(video.id).await.unwrap(), Some(hidden));
}

/// The gallery holds processed public videos only, each with its player.
pub async fn the_public_gallery_lists_only_published_videos_with_their_players(r: Repositories) {
    let city = a_city();
    let owner = player_in(&r, &city).await;
    let shown = processed(&r, owner.id, true).await;
    processed(&r, owner.id, false).await;
    uploaded(&r, owner.id, true).await;
    let failed = uploaded(&r, owner.id, true).await;
    r.videos
        .transition(
            failed.id,
            &StatusChange::Fail {
                reason: "bad".into(),
            },
            now(),
        )
        .await
        .unwrap();

    let query = PublicVideoQuery::new(
        Some(city.as_str()),
        None,
        PublicSort::Recent,
        PageRequest::default(),
    )
    .unwrap();
    let page = r.videos.list_public(&query).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items.len(), 1);
    let item = &page.items[0];
    assert_eq!(item.video, shown);
    assert_eq!(item.player.user_id, owner.id);
    assert_eq!(item.player.username, owner.username());
    assert_eq!(item.player.city, owner.city);
    assert_eq!(item.player.country, owner.country);
}

/// The player filter: only that player's published videos, with the other filters still
/// applying (a player page's videos).
pub async fn the_public_gallery_filters_by_player(r: Repositories) {
    let city = a_city();
    let ana = player_in(&r, &city).await;
    let ben = player_in(&r, &city).await;
    let first = processed_at(&r, ana.id, "Bandeja", true, now() - Duration::seconds(5)).await;
    let second = processed_at(&r, ana.id, "Triple", true, now()).await;
    processed(&r, ana.id, false).await;
    processed(&r, ben.id, true).await;
    let of = |player: UserId, q: Option<&str>| {
        PublicVideoQuery::new(None, q, PublicSort::Recent, PageRequest::default())
            .unwrap()
            .of_player(player)
    };
    let page = r.videos.list_public(&of(ana.id, None)).await.unwrap();
    let ids: Vec<VideoId> = page.items.iter().map(|p| p.video.id).collect();
    assert_eq!((ids, page.total), (vec![second.id, first.id], 2));
    let searched = r
        .videos
        .list_public(&of(ana.id, Some("bandeja")))
        .await
        .unwrap();
    assert_eq!(searched.total, 1);
    assert_eq!(searched.items[0].video.id, first.id);
    let nobody = player_in(&r, &city).await;
    assert_eq!(
        r.videos
            .list_public(&of(nobody.id, None))
            .await
            .unwrap()
            .total,
        0
    );
}

/// City filter (ignoring case), search in title and tags (ignoring case), both orders, paging.
pub async fn the_public_gallery_filters_by_city_and_search_and_sorts_by_votes_or_recency(
    r: Repositories,
) {
    let city = a_city();
    let owner = player_in(&r, &city).await;
    let elsewhere = player(&r).await;
    let start = now();
    let older = processed_at(&r, owner.id, "Reverse layup", true, start).await;
    let newer = processed_at(
        &r,
        owner.id,
        "Alley oop",
        true,
        start + Duration::seconds(10),
    )
    .await;
    let outsider = processed_at(&r, elsewhere.id, "Reverse dunk", true, start).await;
    // Two votes for the older video: it leads by votes, trails by recency.
    for voter in voters(&r, 2).await {
        r.votes.cast(voter.id, older.id, now()).await.unwrap();
    }

    let q = |city: Option<&str>, search: Option<&str>, sort| {
        PublicVideoQuery::new(city, search, sort, PageRequest::default()).unwrap()
    };
    let ids = |page: anb_domain::Page<anb_domain::PublicVideo>| -> Vec<VideoId> {
        page.items.iter().map(|p| p.video.id).collect()
    };
    let upper = city.as_str().to_uppercase();
    let by_votes = r
        .videos
        .list_public(&q(Some(&upper), None, PublicSort::Votes))
        .await
        .unwrap();
    assert_eq!(ids(by_votes), vec![older.id, newer.id]);
    let by_recency = r
        .videos
        .list_public(&q(Some(city.as_str()), None, PublicSort::Recent))
        .await
        .unwrap();
    assert_eq!(ids(by_recency), vec![newer.id, older.id]);

    let title_hit = r
        .videos
        .list_public(&q(Some(city.as_str()), Some("LAYUP"), PublicSort::Votes))
        .await
        .unwrap();
    assert_eq!(ids(title_hit), vec![older.id]);
    let tag_hit = r
        .videos
        .list_public(&q(Some(city.as_str()), Some("crossov"), PublicSort::Votes))
        .await
        .unwrap();
    assert_eq!(tag_hit.total, 2, "every draft is tagged Crossover");
    let no_hit = r
        .videos
        .list_public(&q(Some(city.as_str()), Some("zzz-none"), PublicSort::Votes))
        .await
        .unwrap();
    assert_eq!((no_hit.total, no_hit.items.len()), (0, 0));
    for wildcard in ["%", "_", "\\"] {
        let literal = r
            .videos
            .list_public(&q(Some(city.as_str()), Some(wildcard), PublicSort::Votes))
            .await
            .unwrap();
        assert_eq!(literal.total, 0, "{wildcard:?} is searched for literally");
    }

    let paged = r
        .videos
        .list_public(
            &PublicVideoQuery::new(
                Some(city.as_str()),
                None,
                PublicSort::Recent,
                PageRequest::new(Some(2), Some(1)).unwrap(),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!((paged.total, ids(paged)), (2, vec![older.id]));

    // Without a city filter, the outsider is there too.
    let everywhere = r
        .videos
        .list_public(&q(None, Some("reverse"), PublicSort::Votes))
        .await
        .unwrap();
    let found = ids(everywhere);
    assert!(found.contains(&outsider.id) && found.contains(&older.id));
}

/// A vote returns the new total and bumps both counters.
pub async fn a_vote_increments_the_video_and_the_player_counters(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, true).await;
    let [a, b]: [User; 2] = voters(&r, 2).await.try_into().unwrap();
    assert_eq!(r.votes.cast(a.id, video.id, now()).await.unwrap(), 1);
    assert_eq!(r.votes.cast(b.id, video.id, now()).await.unwrap(), 2);
    assert_eq!(r.videos.get(video.id).await.unwrap().unwrap().votes, 2);
    assert_eq!(
        r.users.get(owner.id).await.unwrap().unwrap().votes_received,
        2
    );
    assert!(r.votes.has_voted(a.id, video.id).await.unwrap());
    assert!(!r.votes.has_voted(owner.id, video.id).await.unwrap());
    assert_eq!(r.votes.count_for_video(video.id).await.unwrap(), 2);
}

/// One vote per user per video.
pub async fn a_second_vote_by_the_same_user_is_already_voted(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, true).await;
    let voter = player(&r).await;
    r.votes.cast(voter.id, video.id, now()).await.unwrap();
    assert!(matches!(
        r.votes.cast(voter.id, video.id, now()).await,
        Err(CastVoteError::AlreadyVoted)
    ));
    assert_eq!(r.videos.get(video.id).await.unwrap().unwrap().votes, 1);
    assert_eq!(
        r.users.get(owner.id).await.unwrap().unwrap().votes_received,
        1
    );
}

/// No voting for your own video, even when published.
pub async fn voting_for_your_own_video_is_a_self_vote(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, true).await;
    assert!(matches!(
        r.votes.cast(owner.id, video.id, now()).await,
        Err(CastVoteError::SelfVote)
    ));
    assert_eq!(r.votes.count_for_video(video.id).await.unwrap(), 0);
}

/// Unprocessed, failed and private videos take no votes.
pub async fn voting_for_an_unpublished_video_is_not_votable(r: Repositories) {
    let owner = player(&r).await;
    let voter = player(&r).await;
    let waiting = uploaded(&r, owner.id, true).await;
    let private = processed(&r, owner.id, false).await;
    let unpublished = processed(&r, owner.id, true).await;
    r.videos
        .set_visibility(unpublished.id, false, now())
        .await
        .unwrap();
    for video in [waiting.id, private.id, unpublished.id] {
        assert!(matches!(
            r.votes.cast(voter.id, video, now()).await,
            Err(CastVoteError::NotVotable)
        ));
        assert_eq!(r.votes.count_for_video(video).await.unwrap(), 0);
    }
    assert_eq!(
        r.users.get(owner.id).await.unwrap().unwrap().votes_received,
        0
    );
}

/// A vote for a video that does not exist is `NotFound`.
pub async fn voting_for_a_missing_video_is_not_found(r: Repositories) {
    let voter = player(&r).await;
    assert!(matches!(
        r.votes.cast(voter.id, VideoId::new(), now()).await,
        Err(CastVoteError::NotFound)
    ));
}

/// Votes cast at the same moment, with every kind of answer among them, each get their own
/// exact answer: the refused ones change nothing, the counted ones count once (stores that
/// count concurrent votes in one transaction must keep them apart).
pub async fn concurrent_votes_of_every_kind_each_get_their_own_answer(r: Repositories) {
    let owner = player(&r).await;
    let (open, closed) = (
        processed(&r, owner.id, true).await,
        processed(&r, owner.id, false).await,
    );
    let crowd = voters(&r, 40).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(crowd.len() * 4 + 1));
    let mut tasks = Vec::new();
    for voter in &crowd {
        for video in [open.id, open.id, closed.id, VideoId::new()] {
            let (votes, barrier, voter) = (r.votes.clone(), barrier.clone(), voter.id);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                votes.cast(voter, video, now()).await
            }));
        }
    }
    let own = {
        let (votes, barrier) = (r.votes.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            votes.cast(owner.id, open.id, now()).await
        })
    };
    let mut answers = std::collections::BTreeMap::<&str, usize>::new();
    let mut totals = Vec::new();
    for task in tasks {
        let kind = match task.await.unwrap() {
            Ok(total) => {
                totals.push(total);
                "counted"
            }
            Err(CastVoteError::AlreadyVoted) => "already_voted",
            Err(CastVoteError::NotVotable) => "not_votable",
            Err(CastVoteError::NotFound) => "not_found",
            Err(e) => panic!("unexpected answer: {e:?}"),
        };
        *answers.entry(kind).or_default() += 1;
    }
    assert!(matches!(own.await.unwrap(), Err(CastVoteError::SelfVote)));
    let n = crowd.len();
    assert_eq!(
        answers.into_iter().collect::<Vec<_>>(),
        vec![
            ("already_voted", n),
            ("counted", n),
            ("not_found", n),
            ("not_votable", n)
        ]
    );
    totals.sort_unstable();
    assert_eq!(
        totals,
        (1..=n as u64).collect::<Vec<_>>(),
        "each total once"
    );
    assert_eq!(
        r.videos.get(open.id).await.unwrap().unwrap().votes,
        n as u64
    );
    assert_eq!(r.votes.count_for_video(open.id).await.unwrap(), n as u64);
    assert_eq!(r.videos.get(closed.id).await.unwrap().unwrap().votes, 0);
    assert_eq!(
        r.users.get(owner.id).await.unwrap().unwrap().votes_received,
        n as u64
    );
}

/// The race: 100 concurrent votes by one user for one video record exactly one.
pub async fn one_hundred_concurrent_votes_by_one_user_record_exactly_one(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, true).await;
    let voter = player(&r).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (votes, barrier) = (r.votes.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                votes.cast(voter.id, video.id, now()).await
            })
        })
        .collect();
    let (mut ok, mut duplicate) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(total) => {
                ok += 1;
                assert_eq!(total, 1);
            }
            Err(CastVoteError::AlreadyVoted) => duplicate += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!((ok, duplicate), (1, 99));
    assert_eq!(r.videos.get(video.id).await.unwrap().unwrap().votes, 1);
    assert_eq!(r.votes.count_for_video(video.id).await.unwrap(), 1);
    assert_eq!(
        r.users.get(owner.id).await.unwrap().unwrap().votes_received,
        1
    );
}

/// The race: 100 voters casting 170 votes at once on three players' videos; every counter equals
/// a recount of the vote rows, and the rankings agree.
pub async fn one_hundred_concurrent_voters_are_all_counted_and_rankings_match_a_recount(
    r: Repositories,
) {
    let city = a_city();
    let players = [
        player_in(&r, &city).await,
        player_in(&r, &city).await,
        player_in(&r, &city).await,
    ];
    let mut videos = Vec::new();
    for p in &players {
        videos.push(processed(&r, p.id, true).await);
    }
    let crowd = voters(&r, 100).await;
    let mut plan = Vec::new();
    for (i, voter) in crowd.iter().enumerate() {
        plan.push((voter.id, videos[0].id));
        if i % 2 == 0 {
            plan.push((voter.id, videos[1].id));
        }
        if i % 5 == 0 {
            plan.push((voter.id, videos[2].id));
        }
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(plan.len()));
    let tasks: Vec<_> = plan
        .into_iter()
        .map(|(voter, video)| {
            let (votes, barrier) = (r.votes.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                votes.cast(voter, video, now()).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every planned vote is valid");
    }
    let expected = [100u64, 50, 20];
    for (i, video) in videos.iter().enumerate() {
        assert_eq!(
            r.votes.count_for_video(video.id).await.unwrap(),
            expected[i]
        );
        assert_eq!(
            r.videos.get(video.id).await.unwrap().unwrap().votes,
            expected[i]
        );
        assert_eq!(
            r.users
                .get(players[i].id)
                .await
                .unwrap()
                .unwrap()
                .votes_received,
            expected[i]
        );
    }
    let ranked = r
        .votes
        .rankings(&ranking(Some(&city), None, PageRequest::default()))
        .await
        .unwrap();
    let got: Vec<(u64, UserId, u64)> = ranked
        .items
        .iter()
        .map(|e| (e.position, e.user_id, e.votes))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, players[0].id, 100),
            (2, players[1].id, 50),
            (3, players[2].id, 20)
        ]
    );
    assert_eq!(ranked.total, 3);
}

/// Equal totals rank by who reached the total first; filters by city and country (ignoring case);
/// players without votes are not ranked.
pub async fn rankings_break_ties_by_who_reached_the_total_first_and_filter_by_place(
    r: Repositories,
) {
    let city = a_city();
    let country = Country::parse(&unique("Country")).unwrap();
    let mk = |c: &City| new_user(c, &country);
    let a = r.users.create(mk(&city)).await.unwrap();
    let b = r.users.create(mk(&city)).await.unwrap();
    let c = r.users.create(mk(&city)).await.unwrap();
    let idle = r.users.create(mk(&city)).await.unwrap();
    let abroad = r.users.create(mk(&a_city())).await.unwrap();
    let (va, vb, vc, vx) = (
        processed(&r, a.id, true).await,
        processed(&r, b.id, true).await,
        processed(&r, c.id, true).await,
        processed(&r, abroad.id, true).await,
    );
    processed(&r, idle.id, true).await;
    let crowd = voters(&r, 2).await;
    let t0 = now();
    // b: 2 votes. c reaches 1 vote before a does.
    r.votes.cast(crowd[0].id, vc.id, t0).await.unwrap();
    r.votes
        .cast(crowd[0].id, va.id, t0 + Duration::seconds(1))
        .await
        .unwrap();
    r.votes
        .cast(crowd[0].id, vb.id, t0 + Duration::seconds(2))
        .await
        .unwrap();
    r.votes
        .cast(crowd[1].id, vb.id, t0 + Duration::seconds(3))
        .await
        .unwrap();
    r.votes.cast(crowd[1].id, vx.id, t0).await.unwrap();

    let by_city = r
        .votes
        .rankings(&ranking(
            Some(&City::parse(&city.as_str().to_lowercase()).unwrap()),
            None,
            PageRequest::default(),
        ))
        .await
        .unwrap();
    let rows: Vec<(u64, &str, u64)> = by_city
        .items
        .iter()
        .map(|e| (e.position, e.username.as_str(), e.votes))
        .collect();
    let (ua, ub, uc) = (a.username(), b.username(), c.username());
    assert_eq!(
        rows,
        vec![
            (1, ub.as_str(), 2),
            (2, uc.as_str(), 1),
            (3, ua.as_str(), 1)
        ]
    );
    assert_eq!(by_city.total, 3);
    assert!(by_city.items.iter().all(|e| e.city == city));

    let by_country = r
        .votes
        .rankings(&ranking(None, Some(&country), PageRequest::default()))
        .await
        .unwrap();
    assert_eq!(by_country.total, 4, "the abroad player shares the country");
    let both = r
        .votes
        .rankings(&ranking(
            Some(&city),
            Some(&colombia()),
            PageRequest::default(),
        ))
        .await
        .unwrap();
    assert_eq!(both.total, 0, "no one in this city is from Colombia");
}

/// A player's standing is their place in the unfiltered rankings: ties go to who got there
/// first; a player without votes has none. (Other checks may share the database, so only the
/// order of this check's players is asserted, not their absolute places.)
pub async fn a_players_standing_is_their_place_in_the_whole_rankings(r: Repositories) {
    let city = a_city();
    let (a, b, c, idle) = (
        player_in(&r, &city).await,
        player_in(&r, &city).await,
        player_in(&r, &city).await,
        player_in(&r, &city).await,
    );
    let (va, vb, vc) = (
        processed(&r, a.id, true).await,
        processed(&r, b.id, true).await,
        processed(&r, c.id, true).await,
    );
    processed(&r, idle.id, true).await;
    let crowd = voters(&r, 2).await;
    let t0 = now();
    // a and b reach two votes, a first; c has one.
    for (k, (voter, video)) in [
        (&crowd[0], &va),
        (&crowd[1], &va),
        (&crowd[0], &vb),
        (&crowd[1], &vb),
        (&crowd[0], &vc),
    ]
    .into_iter()
    .enumerate()
    {
        r.votes
            .cast(voter.id, video.id, t0 + Duration::seconds(k as i64))
            .await
            .unwrap();
    }
    let standing = |p: UserId| {
        let votes = r.votes.clone();
        async move { votes.standing(p).await.unwrap() }
    };
    let (sa, sb, sc) = (
        standing(a.id).await.expect("a is ranked"),
        standing(b.id).await.expect("b is ranked"),
        standing(c.id).await.expect("c is ranked"),
    );
    assert_eq!(
        (sa.user_id, sa.username.as_str(), &sa.city, sa.votes),
        (a.id, a.username().as_str(), &city, 2)
    );
    assert!(sa.position >= 1);
    assert!(sa.position < sb.position, "{sa:?} before {sb:?}");
    assert!(sb.position < sc.position, "{sb:?} before {sc:?}");
    assert_eq!(standing(idle.id).await, None);
    assert_eq!(standing(UserId::new()).await, None);
}

/// The cities of ranked players: spellings of one city as one, with their players and votes,
/// most votes first.
pub async fn ranked_cities_count_the_players_and_votes_of_each_city(r: Repositories) {
    let city = a_city();
    let lower = City::parse(&city.as_str().to_lowercase()).unwrap();
    let (a, b, idle) = (
        player_in(&r, &city).await,
        player_in(&r, &lower).await,
        player_in(&r, &city).await,
    );
    let (va, vb) = (
        processed(&r, a.id, true).await,
        processed(&r, b.id, true).await,
    );
    processed(&r, idle.id, true).await;
    let crowd = voters(&r, 2).await;
    for (voter, video) in [(&crowd[0], &va), (&crowd[1], &va), (&crowd[0], &vb)] {
        r.votes.cast(voter.id, video.id, now()).await.unwrap();
    }
    let cities = r.votes.ranked_cities(100_000).await.unwrap();
    let ours: Vec<_> = cities
        .iter()
        .filter(|c| c.city.key() == city.key())
        .collect();
    assert_eq!(ours.len(), 1, "one row for both spellings: {ours:?}");
    assert_eq!((ours[0].players, ours[0].votes), (2, 3));
    assert!(
        cities.windows(2).all(|w| w[0].votes >= w[1].votes),
        "most votes first"
    );
    assert!(r.votes.ranked_cities(1).await.unwrap().len() <= 1);
}

/// Positions are row numbers of the whole ranking: page 2 continues where page 1 ended.
pub async fn rankings_positions_continue_across_pages(r: Repositories) {
    let city = a_city();
    let mut players = Vec::new();
    for _ in 0..5 {
        let p = player_in(&r, &city).await;
        let v = processed(&r, p.id, true).await;
        players.push((p, v));
    }
    let crowd = voters(&r, 5).await;
    // Player i gets i + 1 votes.
    for (i, (_, video)) in players.iter().enumerate() {
        for voter in &crowd[..=i] {
            r.votes.cast(voter.id, video.id, now()).await.unwrap();
        }
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let ranked = r
            .votes
            .rankings(&ranking(
                Some(&city),
                None,
                PageRequest::new(Some(page), Some(2)).unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(ranked.total, 5);
        seen.extend(
            ranked
                .items
                .into_iter()
                .map(|e| (e.position, e.user_id, e.votes)),
        );
    }
    let expected: Vec<(u64, UserId, u64)> = (0..5)
        .map(|k| (k as u64 + 1, players[4 - k].0.id, 5 - k as u64))
        .collect();
    assert_eq!(seen, expected);
    let beyond = r
        .votes
        .rankings(&ranking(
            Some(&city),
            None,
            PageRequest::new(Some(4), Some(2)).unwrap(),
        ))
        .await
        .unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5);
}

/// A video with votes is never deleted, even after it is unpublished.
pub async fn a_video_with_votes_cannot_be_deleted(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, true).await;
    let voter = player(&r).await;
    r.votes.cast(voter.id, video.id, now()).await.unwrap();
    assert!(matches!(
        r.videos.delete(video.id, chrono::Utc::now()).await,
        Err(DeleteVideoRecordError::HasVotes)
    ));
    r.videos
        .set_visibility(video.id, false, now())
        .await
        .unwrap();
    assert!(matches!(
        r.videos.delete(video.id, chrono::Utc::now()).await,
        Err(DeleteVideoRecordError::HasVotes)
    ));
    assert!(r.videos.get(video.id).await.unwrap().is_some());
    assert_eq!(r.votes.count_for_video(video.id).await.unwrap(), 1);
}

/// A published video must be unpublished before it can be deleted.
pub async fn a_published_video_cannot_be_deleted_until_unpublished(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, true).await;
    assert!(matches!(
        r.videos.delete(video.id, chrono::Utc::now()).await,
        Err(DeleteVideoRecordError::Published)
    ));
    let hidden = r
        .videos
        .set_visibility(video.id, false, now())
        .await
        .unwrap();
    assert_eq!(
        r.videos.delete(video.id, chrono::Utc::now()).await.unwrap(),
        hidden
    );
    assert_eq!(r.videos.get(video.id).await.unwrap(), None);
}

/// Deleting returns the deleted video; it is gone; deleting what is not there is `NotFound`.
pub async fn deleting_a_video_removes_it_and_a_missing_one_is_not_found(r: Repositories) {
    let owner = player(&r).await;
    let video = uploaded(&r, owner.id, true).await;
    assert_eq!(
        r.videos.delete(video.id, chrono::Utc::now()).await.unwrap(),
        video
    );
    assert_eq!(r.videos.get(video.id).await.unwrap(), None);
    assert!(matches!(
        r.videos.delete(video.id, chrono::Utc::now()).await,
        Err(DeleteVideoRecordError::NotFound)
    ));
    let page = r
        .videos
        .list_by_owner(owner.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 0);
}
