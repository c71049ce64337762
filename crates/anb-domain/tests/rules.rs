//! The rules of the competition, exercised through the `Showcase` service on the in-memory
//! adapters (the conformance suite proves the other adapters behave the same).

use std::sync::Arc;
use std::time::Duration;

use anb_adapters::blob::read_all;
use anb_adapters::memory::MemoryBackend;
use anb_adapters::testkit::{marker_video, ManualClock, MarkerTranscoder, MARKER_AUDIO};
use anb_domain::ports::{Clock, JobQueue, TokenError, UserRepository, VideoRepository};
use anb_domain::*;
use bytes::Bytes;
use futures::TryStreamExt;

struct World {
    backend: MemoryBackend,
    clock: Arc<ManualClock>,
    showcase: Showcase,
}

fn world_with(config: ShowcaseConfig) -> World {
    let clock = ManualClock::new();
    let backend = MemoryBackend::with_clock(clock.clone());
    let showcase = Showcase::new(backend.ports(Arc::new(MarkerTranscoder)), config);
    World {
        backend,
        clock,
        showcase,
    }
}

fn world() -> World {
    world_with(ShowcaseConfig::default())
}

fn form(first: &str, email: &str, city: &str) -> SignupForm {
    SignupForm {
        first_name: first.into(),
        last_name: "Rojas".into(),
        email: email.into(),
        password1: "tiro-libre-23".into(),
        password2: "tiro-libre-23".into(),
        city: city.into(),
        country: "Colombia".into(),
    }
}

fn titled(title: &str) -> UploadForm {
    UploadForm {
        title: title.into(),
        ..UploadForm::default()
    }
}

fn bytes_stream(data: &[u8]) -> ByteStream {
    Box::pin(futures::stream::iter(vec![Ok(Bytes::copy_from_slice(
        data,
    ))]))
}

fn fake_outputs(video: &Video) -> ProcessedMedia {
    ProcessedMedia {
        processed: BlobKey::processed(video.id),
        thumbnail: BlobKey::thumbnail(video.id),
        stream: None,
        storyboard: None,
        duration_seconds: 20.0,
    }
}

impl World {
    async fn player(&self, first: &str, city: &str) -> User {
        let email = format!("{}@example.com", first.to_lowercase());
        self.showcase
            .signup(form(first, &email, city))
            .await
            .unwrap()
    }

    async fn upload(&self, owner: &User) -> Video {
        self.showcase
            .upload_video(owner.id, titled("Crossover"), marker_video(200_000))
            .await
            .unwrap()
            .video
    }

    /// Runs the next job with stand-in outputs (stored as small objects, so downloads work).
    async fn process_next(&self) -> JobOutcome {
        let job = self
            .showcase
            .next_job(Duration::from_secs(60))
            .await
            .unwrap()
            .expect("a job");
        let blobs = self.backend.blobs.clone();
        self.showcase
            .handle_job(&job, |video| async move {
                let out = fake_outputs(&video);
                use anb_domain::ports::BlobStore;
                blobs
                    .put(&out.processed, bytes_stream(b"processed-mp4"))
                    .await
                    .unwrap();
                blobs
                    .put(&out.thumbnail, bytes_stream(b"jpeg"))
                    .await
                    .unwrap();
                Ok(out)
            })
            .await
            .unwrap()
    }

    /// Uploads a public video and runs jobs until it is processed (earlier uploads' jobs too).
    async fn published(&self, owner: &User) -> Video {
        let video = self.upload(owner).await;
        loop {
            let current = self.showcase.own_video(owner.id, video.id).await.unwrap();
            if current.status == VideoStatus::Processed {
                return current;
            }
            assert!(matches!(
                self.process_next().await,
                JobOutcome::Processed(_)
            ));
        }
    }

    /// Stores stand-in stream outputs (playlists, segments, storyboard) under the video's
    /// streams prefix, as a run that makes them would.
    async fn store_streams(&self, video: VideoId) -> Vec<BlobKey> {
        use anb_domain::ports::BlobStore;
        let streams = BlobKey::streams(video);
        let mut keys = Vec::new();
        for rest in [
            "master.m3u8",
            "720p/index.m3u8",
            "720p/init.mp4",
            "720p/seg-00001.m4s",
            "storyboard.jpg",
        ] {
            let key = streams.join(rest).unwrap();
            self.backend
                .blobs
                .put(&key, bytes_stream(rest.as_bytes()))
                .await
                .unwrap();
            keys.push(key);
        }
        keys
    }

    async fn object_count(&self) -> usize {
        let listed: Vec<_> = self
            .backend
            .blobs
            .object_store()
            .list(None)
            .try_collect()
            .await
            .unwrap();
        listed.len()
    }
}

// --- accounts --------------------------------------------------------------------------------

#[tokio::test]
async fn signing_up_stores_an_argon2id_hash_and_logging_in_issues_a_token_for_the_player() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    assert!(ana.password_hash.as_str().starts_with("$argon2id$"));
    assert_eq!(ana.username(), "Ana Rojas");
    let token = w
        .showcase
        .login("  ANA@Example.com", "tiro-libre-23")
        .await
        .unwrap();
    assert_eq!(token.access.expires_in, 900);
    assert_eq!(w.showcase.authenticate(&token.access.token), Ok(ana.id));
    assert_eq!(w.showcase.profile(ana.id).await.unwrap(), ana);
}

#[tokio::test]
async fn an_email_is_taken_whatever_its_case() {
    let w = world();
    w.player("Ana", "Bogotá").await;
    let again = w
        .showcase
        .signup(form("Other", "ANA@EXAMPLE.COM", "Cali"))
        .await;
    assert!(matches!(again, Err(SignupError::EmailTaken)));
}

#[tokio::test]
async fn sign_up_refuses_mismatched_weak_and_malformed_input_naming_the_field() {
    let w = world();
    let mut mismatch = form("Ana", "ana@example.com", "Bogotá");
    mismatch.password2 = "tiro-libre-24".into();
    assert!(matches!(
        w.showcase.signup(mismatch).await,
        Err(SignupError::PasswordMismatch)
    ));

    let mut weak = form("Ana", "ana@example.com", "Bogotá");
    weak.password1 = "short".into();
    weak.password2 = "short".into();
    assert!(matches!(
        w.showcase.signup(weak).await,
        Err(SignupError::WeakPassword(_))
    ));

    type Spoil = fn(&mut SignupForm);
    let cases: [(&str, Spoil); 5] = [
        ("first_name", |f| f.first_name = " ".into()),
        ("last_name", |f| f.last_name = String::new()),
        ("email", |f| f.email = "ana-at-example".into()),
        ("city", |f| f.city = "\t".into()),
        ("country", |f| f.country = "x".repeat(101)),
    ];
    for (field, spoil) in cases {
        let mut f = form("Ana", "ana@example.com", "Bogotá");
        spoil(&mut f);
        match w.showcase.signup(f).await {
            Err(SignupError::Invalid(e)) => assert_eq!(e.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let ana = Email::parse("ana@example.com").unwrap();
    assert!(w.backend.store.find_by_email(&ana).await.unwrap().is_none());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let w = world();
    w.player("Ana", "Bogotá").await;
    for (email, password) in [
        ("ana@example.com", "wrong-password"),
        ("nobody@example.com", "tiro-libre-23"),
        ("not an email", "tiro-libre-23"),
    ] {
        assert!(matches!(
            w.showcase.login(email, password).await,
            Err(LoginError::InvalidCredentials)
        ));
    }
}

#[tokio::test]
async fn a_garbage_token_is_refused() {
    let w = world();
    assert_eq!(
        w.showcase.authenticate("not.a.jwt"),
        Err(TokenError::Invalid)
    );
}

// --- uploads ---------------------------------------------------------------------------------

#[tokio::test]
async fn an_upload_is_stored_recorded_as_uploaded_and_queued_for_processing() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let upload = UploadForm {
        title: "  Crossover   drill ".into(),
        description: Some("Left to right".into()),
        tags: Some("crossover, drill".into()),
        is_public: true,
    };
    let receipt = w
        .showcase
        .upload_video(ana.id, upload, marker_video(300_000))
        .await
        .unwrap();
    let video = &receipt.video;
    assert_eq!(video.title.as_str(), "Crossover drill");
    assert_eq!(video.status, VideoStatus::Uploaded);
    assert_eq!(video.size_bytes, 300_000);
    assert_eq!(video.original, BlobKey::original(ana.id, video.id));
    assert_eq!(
        read_all(&*w.backend.blobs, &video.original)
            .await
            .unwrap()
            .len(),
        300_000
    );
    assert_eq!(
        w.showcase.own_video(ana.id, video.id).await.unwrap(),
        *video
    );

    let job = w
        .showcase
        .next_job(Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, receipt.task_id);
    assert_eq!(job.payload, JobPayload::ProcessVideo { video_id: video.id });
}

#[tokio::test]
async fn an_upload_over_the_limit_is_cut_off_and_leaves_nothing() {
    let w = world_with(ShowcaseConfig {
        max_upload_bytes: 100_000,
        ..ShowcaseConfig::default()
    });
    let ana = w.player("Ana", "Bogotá").await;
    let refused = w
        .showcase
        .upload_video(ana.id, titled("Too long"), marker_video(100_001))
        .await;
    assert!(matches!(
        refused,
        Err(UploadVideoError::FileTooLarge {
            limit_bytes: 100_000
        })
    ));
    let exact = w
        .showcase
        .upload_video(ana.id, titled("Just fits"), marker_video(100_000))
        .await;
    assert!(exact.is_ok());
    assert_eq!(
        w.object_count().await,
        1,
        "only the upload that fitted is stored"
    );
    assert_eq!(
        w.showcase
            .list_own_videos(ana.id, PageRequest::default())
            .await
            .unwrap()
            .total,
        1
    );
}

#[tokio::test]
async fn files_that_are_not_videos_are_invalid_and_leave_nothing() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let mut audio = MARKER_AUDIO.to_vec();
    audio.extend([0u8; 1000]);
    for (data, reason) in [
        (b"\x89PNG\r\n\x1a\n not a video".to_vec(), "not a video"),
        (audio, "no video stream"),
        (Vec::new(), "empty"),
    ] {
        match w
            .showcase
            .upload_video(ana.id, titled("Bad"), bytes_stream(&data))
            .await
        {
            Err(UploadVideoError::InvalidFile(why)) => assert!(why.contains(reason), "{why}"),
            other => panic!("{reason}: {other:?}"),
        }
    }
    assert_eq!(w.object_count().await, 0);
    assert_eq!(w.backend.queue.depth().await.unwrap().ready, 0);
    assert_eq!(
        w.showcase
            .list_own_videos(ana.id, PageRequest::default())
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn a_bad_title_is_refused_before_the_file_is_read() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let never_read: ByteStream = Box::pin(futures::stream::poll_fn(
        |_| -> std::task::Poll<Option<std::io::Result<Bytes>>> {
            panic!("the file must not be read when the form is invalid")
        },
    ));
    match w
        .showcase
        .upload_video(ana.id, titled("   "), never_read)
        .await
    {
        Err(UploadVideoError::Invalid(e)) => assert_eq!(e.field, "title"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_upload_that_breaks_off_is_interrupted_and_leaves_nothing() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let broken: ByteStream = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(anb_adapters::testkit::MARKER_VIDEO)),
        Ok(Bytes::from(vec![0u8; 50_000])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gone",
        )),
    ]));
    let refused = w.showcase.upload_video(ana.id, titled("Cut"), broken).await;
    assert!(matches!(refused, Err(UploadVideoError::Interrupted(_))));
    assert_eq!(w.object_count().await, 0);
}

// --- ownership -------------------------------------------------------------------------------

#[tokio::test]
async fn only_the_owner_sees_changes_or_downloads_a_video() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let video = w.upload(&ana).await;
    assert!(matches!(
        w.showcase.own_video(ben.id, video.id).await,
        Err(VideoAccessError::Forbidden)
    ));
    assert!(matches!(
        w.showcase.delete_video(ben.id, video.id).await,
        Err(DeleteVideoError::Forbidden)
    ));
    assert!(matches!(
        w.showcase.set_public(ben.id, video.id, false).await,
        Err(PublishError::Forbidden)
    ));
    assert!(matches!(
        w.showcase
            .open_own_media(ben.id, video.id, MediaKind::Original, None)
            .await,
        Err(MediaError::Forbidden)
    ));
    assert!(matches!(
        w.showcase.own_video(ana.id, VideoId::new()).await,
        Err(VideoAccessError::NotFound)
    ));
    let listed = w
        .showcase
        .list_own_videos(ben.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
}

#[tokio::test]
async fn the_owner_downloads_the_original_whole_or_by_range_but_not_an_unprocessed_output() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    let part = w
        .showcase
        .open_own_media(
            ana.id,
            video.id,
            MediaKind::Original,
            Some(ByteRange::Bounded { start: 10, end: 19 }),
        )
        .await
        .unwrap();
    assert_eq!(
        (part.object.range, part.content_type),
        (10..20, "video/mp4")
    );
    assert!(matches!(
        w.showcase
            .open_own_media(ana.id, video.id, MediaKind::Processed, None)
            .await,
        Err(MediaError::NotProcessed)
    ));
    assert!(matches!(
        w.showcase
            .open_own_media(
                ana.id,
                video.id,
                MediaKind::Original,
                Some(ByteRange::Bounded {
                    start: 200_000,
                    end: 200_009
                })
            )
            .await,
        Err(MediaError::InvalidRange { size: 200_000 })
    ));
}

#[tokio::test]
async fn only_published_videos_are_streamed_publicly_and_never_their_original() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let waiting = w.upload(&ana).await;
    assert!(matches!(
        w.showcase
            .open_public_media(waiting.id, MediaKind::Processed, None)
            .await,
        Err(MediaError::NotFound)
    ));
    let video = w.published(&ana).await;
    let stream = w
        .showcase
        .open_public_media(video.id, MediaKind::Processed, None)
        .await
        .unwrap();
    assert_eq!(stream.object.meta.size, b"processed-mp4".len() as u64);
    let thumb = w
        .showcase
        .open_public_media(video.id, MediaKind::Thumbnail, None)
        .await
        .unwrap();
    assert_eq!(thumb.content_type, "image/jpeg");
    assert!(matches!(
        w.showcase
            .open_public_media(video.id, MediaKind::Original, None)
            .await,
        Err(MediaError::NotFound)
    ));
    w.showcase
        .set_public(ana.id, video.id, false)
        .await
        .unwrap();
    assert!(matches!(
        w.showcase
            .open_public_media(video.id, MediaKind::Processed, None)
            .await,
        Err(MediaError::NotFound)
    ));
}

// --- publishing and deleting ------------------------------------------------------------------

#[tokio::test]
async fn publishing_needs_a_processed_video() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    assert!(matches!(
        w.showcase.set_public(ana.id, video.id, true).await,
        Err(PublishError::NotProcessed)
    ));
    assert!(matches!(w.process_next().await, JobOutcome::Processed(_)));
    let hidden = w
        .showcase
        .set_public(ana.id, video.id, false)
        .await
        .unwrap();
    assert!(!hidden.is_published());
    assert!(w
        .showcase
        .set_public(ana.id, video.id, true)
        .await
        .unwrap()
        .is_published());
}

#[tokio::test]
async fn a_published_video_is_deleted_only_after_unpublishing_and_its_media_goes_with_it() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.published(&ana).await;
    let streams = w.store_streams(video.id).await;
    // Another video's streams share the `streams/` folder and must stay.
    let neighbour = w.store_streams(VideoId::new()).await;
    assert_eq!(w.object_count().await, 3 + streams.len() + neighbour.len());
    assert!(matches!(
        w.showcase.delete_video(ana.id, video.id).await,
        Err(DeleteVideoError::Published)
    ));
    assert_eq!(w.object_count().await, 3 + streams.len() + neighbour.len());
    w.showcase
        .set_public(ana.id, video.id, false)
        .await
        .unwrap();
    w.showcase.delete_video(ana.id, video.id).await.unwrap();
    assert_eq!(
        w.object_count().await,
        neighbour.len(),
        "the original, the MP4, the thumbnail and every stream output are gone"
    );
    for key in &neighbour {
        assert!(read_all(&*w.backend.blobs, key).await.is_ok(), "{key}");
    }
    assert!(matches!(
        w.showcase.delete_video(ana.id, video.id).await,
        Err(DeleteVideoError::NotFound)
    ));
}

#[tokio::test]
async fn a_video_with_votes_is_never_deleted() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let video = w.published(&ana).await;
    w.showcase.cast_vote(ben.id, video.id).await.unwrap();
    w.showcase
        .set_public(ana.id, video.id, false)
        .await
        .unwrap();
    assert!(matches!(
        w.showcase.delete_video(ana.id, video.id).await,
        Err(DeleteVideoError::HasVotes)
    ));
    assert_eq!(w.object_count().await, 3);
}

// --- voting and rankings ---------------------------------------------------------------------

#[tokio::test]
async fn voting_follows_the_rules_and_returns_the_new_total() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let cleo = w.player("Cleo", "Cali").await;
    let video = w.published(&ana).await;
    let waiting = w.upload(&ana).await;

    assert!(matches!(
        w.showcase.cast_vote(ben.id, VideoId::new()).await,
        Err(CastVoteError::NotFound)
    ));
    assert!(matches!(
        w.showcase.cast_vote(ana.id, video.id).await,
        Err(CastVoteError::SelfVote)
    ));
    assert!(matches!(
        w.showcase.cast_vote(ben.id, waiting.id).await,
        Err(CastVoteError::NotVotable)
    ));
    assert_eq!(w.showcase.cast_vote(ben.id, video.id).await.unwrap(), 1);
    assert!(matches!(
        w.showcase.cast_vote(ben.id, video.id).await,
        Err(CastVoteError::AlreadyVoted)
    ));
    assert_eq!(w.showcase.cast_vote(cleo.id, video.id).await.unwrap(), 2);
    w.showcase
        .set_public(ana.id, video.id, false)
        .await
        .unwrap();
    let dana = w.player("Dana", "Cali").await;
    assert!(matches!(
        w.showcase.cast_vote(dana.id, video.id).await,
        Err(CastVoteError::NotVotable)
    ));
}

#[tokio::test]
async fn rankings_rank_players_by_votes_with_the_city_filter() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let (va, vb) = (w.published(&ana).await, w.published(&ben).await);
    let fans = [w.player("F1", "Pasto").await, w.player("F2", "Pasto").await];
    for fan in &fans {
        w.showcase.cast_vote(fan.id, vb.id).await.unwrap();
    }
    w.showcase.cast_vote(fans[0].id, va.id).await.unwrap();

    let all = w
        .showcase
        .rankings(&RankingQuery {
            city: None,
            country: None,
            page: PageRequest::default(),
        })
        .await
        .unwrap();
    let rows: Vec<_> = all
        .items
        .iter()
        .map(|e| (e.position, e.username.clone(), e.votes))
        .collect();
    assert_eq!(
        rows,
        vec![(1, "Ben Rojas".into(), 2), (2, "Ana Rojas".into(), 1)]
    );
    let bogota = RankingQuery {
        city: Some(City::parse("bogotá").unwrap()),
        country: None,
        page: PageRequest::default(),
    };
    let only = w.showcase.rankings(&bogota).await.unwrap();
    assert_eq!(only.items.len(), 1);
    assert_eq!((only.items[0].position, only.items[0].user_id), (1, ana.id));

    let gallery = w
        .showcase
        .list_public_videos(
            &PublicVideoQuery::new(None, None, PublicSort::Votes, PageRequest::default()).unwrap(),
        )
        .await
        .unwrap();
    let order: Vec<_> = gallery
        .items
        .iter()
        .map(|p| (p.video.id, p.player.username.clone()))
        .collect();
    assert_eq!(
        order,
        vec![(vb.id, "Ben Rojas".into()), (va.id, "Ana Rojas".into())]
    );
}

#[tokio::test]
async fn public_pages_show_only_published_videos_and_players_who_published_one() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let fan = w.player("Fan", "Pasto").await;
    let video = w.published(&ana).await;
    let waiting = w.upload(&ana).await;
    w.showcase.cast_vote(fan.id, video.id).await.unwrap();

    let shown = w.showcase.public_video(video.id).await.unwrap();
    assert_eq!((shown.video.id, shown.player.user_id), (video.id, ana.id));
    for hidden in [waiting.id, VideoId::new()] {
        assert!(matches!(
            w.showcase.public_video(hidden).await,
            Err(PublicPageError::NotFound)
        ));
    }

    let page = w
        .showcase
        .player_page(ana.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.player.user_id, ana.id);
    assert_eq!(page.standing.map(|s| (s.position, s.votes)), Some((1, 1)));
    let ids: Vec<_> = page.videos.items.iter().map(|p| p.video.id).collect();
    assert_eq!(ids, vec![video.id], "the unprocessed upload is not shown");
    // Ben has published nothing; the fan's id is no player page either.
    for nobody in [ben.id, fan.id, UserId::new()] {
        assert!(matches!(
            w.showcase.player_page(nobody, PageRequest::default()).await,
            Err(PublicPageError::NotFound)
        ));
    }
    w.showcase
        .set_public(ana.id, video.id, false)
        .await
        .unwrap();
    assert!(matches!(
        w.showcase.public_video(video.id).await,
        Err(PublicPageError::NotFound)
    ));

    let cities = w.showcase.ranked_cities().await.unwrap();
    let rows: Vec<_> = cities
        .iter()
        .map(|c| (c.city.as_str().to_owned(), c.players, c.votes))
        .collect();
    assert_eq!(rows, vec![("Bogotá".to_owned(), 1, 1)]);
}

// --- processing ------------------------------------------------------------------------------

#[tokio::test]
async fn processing_a_public_video_marks_it_processed_and_publishes_it() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    let JobOutcome::Processed(done) = w.process_next().await else {
        panic!("not processed")
    };
    assert_eq!(done.id, video.id);
    assert_eq!(done.status, VideoStatus::Processed);
    assert!(done.is_published());
    assert_eq!(done.duration_seconds, Some(20.0));
    assert_eq!(
        w.backend.queue.depth().await.unwrap(),
        QueueDepth::default()
    );
}

#[tokio::test]
async fn processing_again_replaces_the_outputs_and_a_failure_leaves_the_video_as_it_was() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    let JobOutcome::Processed(first) = w.process_next().await else {
        panic!("not processed")
    };
    let failing = w.upload(&ana).await;
    w.process_next().await;
    assert!(matches!(
        w.showcase
            .reprocess(ReprocessTarget::Video(VideoId::new()))
            .await,
        Err(ReprocessError::NotFound(_))
    ));
    let waiting = w.upload(&ana).await;
    assert!(matches!(
        w.showcase
            .reprocess(ReprocessTarget::Video(waiting.id))
            .await,
        Err(ReprocessError::NotProcessed(..))
    ));
    w.process_next().await;
    // Three processed videos, each queued once however often asked.
    assert_eq!(
        w.showcase
            .reprocess(ReprocessTarget::AllProcessed)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        w.showcase
            .reprocess(ReprocessTarget::Video(video.id))
            .await
            .unwrap(),
        0
    );

    w.clock.advance(Duration::from_secs(60));
    let mut outcomes = Vec::new();
    while let Some(job) = w.showcase.next_job(Duration::from_secs(60)).await.unwrap() {
        let fail = job.payload.video_id() == failing.id;
        let outcome = w
            .showcase
            .handle_job(&job, |video| async move {
                if fail {
                    Err(JobFailure::BadInput(
                        "the new profile cannot take it".into(),
                    ))
                } else {
                    let mut out = fake_outputs(&video);
                    out.duration_seconds = 7.0;
                    Ok(out)
                }
            })
            .await
            .unwrap();
        outcomes.push((job.payload.video_id(), outcome));
    }
    assert_eq!(outcomes.len(), 3);
    let again = w.showcase.own_video(ana.id, video.id).await.unwrap();
    assert_eq!(again.status, VideoStatus::Processed);
    assert_eq!(again.duration_seconds, Some(7.0));
    assert_eq!(
        again.published_at, first.published_at,
        "published all along"
    );
    assert!(again.processed_at > first.processed_at);
    let kept = w.showcase.own_video(ana.id, failing.id).await.unwrap();
    assert_eq!(
        kept.status,
        VideoStatus::Processed,
        "a failure to redo keeps the video"
    );
    assert_eq!(kept.duration_seconds, Some(20.0));
    assert!(outcomes.iter().any(|(id, outcome)| *id == failing.id
        && *outcome == JobOutcome::GaveUp("the new profile cannot take it".into())));
}

#[tokio::test]
async fn bad_media_fails_the_video_with_its_reason_and_is_not_retried() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    let job = w
        .showcase
        .next_job(Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let outcome = w
        .showcase
        .handle_job(&job, |_| async {
            Err(JobFailure::BadInput(
                "the video stream cannot be decoded".into(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        outcome,
        JobOutcome::GaveUp("the video stream cannot be decoded".into())
    );
    let failed = w.showcase.own_video(ana.id, video.id).await.unwrap();
    assert_eq!(
        failed.status.failure_reason(),
        Some("the video stream cannot be decoded")
    );
    assert_eq!(
        w.backend.queue.depth().await.unwrap(),
        QueueDepth {
            failed: 1,
            ..QueueDepth::default()
        }
    );
}

#[tokio::test]
async fn transient_failures_back_off_exponentially_then_give_up() {
    let retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(60),
    };
    let w = world_with(ShowcaseConfig {
        retry,
        ..ShowcaseConfig::default()
    });
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let job = loop {
            if let Some(job) = w.showcase.next_job(Duration::from_secs(60)).await.unwrap() {
                break job;
            }
            w.clock.advance(Duration::from_secs(1));
        };
        outcomes.push((
            job.attempt,
            w.showcase
                .handle_job(&job, |_| async {
                    Err(JobFailure::Transient(anyhow::anyhow!(
                        "blob store unreachable"
                    )))
                })
                .await
                .unwrap(),
        ));
        assert_ne!(
            w.showcase.own_video(ana.id, video.id).await.unwrap().status,
            VideoStatus::Uploaded
        );
    }
    assert_eq!(
        outcomes[0],
        (1, JobOutcome::Retrying(Duration::from_secs(10)))
    );
    assert_eq!(
        outcomes[1],
        (2, JobOutcome::Retrying(Duration::from_secs(20)))
    );
    let (attempt, JobOutcome::GaveUp(reason)) = &outcomes[2] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(*attempt, 3);
    assert!(reason.contains("after 3 attempts"), "{reason}");
    let failed = w.showcase.own_video(ana.id, video.id).await.unwrap();
    assert!(matches!(failed.status, VideoStatus::Failed { .. }));
}

#[tokio::test]
async fn outputs_of_a_video_deleted_while_it_was_processed_are_discarded_streams_included() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    let job = w
        .showcase
        .next_job(Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let (world, owner) = (&w, ana.id);
    let outcome = w
        .showcase
        .handle_job(&job, |video| async move {
            let w = world;
            // The player deletes the video while the worker still writes its outputs.
            w.showcase.delete_video(owner, video.id).await.unwrap();
            let out = fake_outputs(&video);
            use anb_domain::ports::BlobStore;
            for key in [&out.processed, &out.thumbnail] {
                w.backend
                    .blobs
                    .put(key, bytes_stream(b"late output"))
                    .await
                    .unwrap();
            }
            w.store_streams(video.id).await;
            Ok(out)
        })
        .await
        .unwrap();
    assert!(matches!(outcome, JobOutcome::Skipped(_)), "{outcome:?}");
    assert_eq!(w.object_count().await, 0, "no orphaned outputs");
    assert!(matches!(
        w.showcase.own_video(ana.id, video.id).await,
        Err(VideoAccessError::NotFound)
    ));
}

#[tokio::test]
async fn a_job_for_a_deleted_video_is_acknowledged_without_processing() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    w.showcase.delete_video(ana.id, video.id).await.unwrap();
    let job = w
        .showcase
        .next_job(Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let outcome = w
        .showcase
        .handle_job(&job, |_| async { panic!("must not process") })
        .await
        .unwrap();
    assert!(matches!(outcome, JobOutcome::Skipped(_)));
    assert_eq!(
        w.backend.queue.depth().await.unwrap(),
        QueueDepth::default()
    );
}

#[tokio::test]
async fn a_worker_that_died_mid_job_is_replaced_and_the_video_is_processed_once() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    // The first worker leases the job, marks the video processing, then dies.
    let dead = w
        .showcase
        .next_job(Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    w.backend
        .store
        .transition(
            video.id,
            &StatusChange::StartProcessing(Default::default()),
            w.clock.now(),
        )
        .await
        .unwrap();
    w.clock.advance(Duration::from_secs(31));
    let JobOutcome::Processed(done) = w.process_next().await else {
        panic!("not processed")
    };
    assert_eq!(done.status, VideoStatus::Processed);
    // The dead worker's lease is worthless now; a late duplicate changes nothing.
    let late = w
        .showcase
        .handle_job(&dead, |v| async move { Ok(fake_outputs(&v)) })
        .await
        .unwrap();
    assert!(
        matches!(late, JobOutcome::Skipped(_) | JobOutcome::LeaseLost),
        "{late:?}"
    );
    assert_eq!(w.showcase.own_video(ana.id, video.id).await.unwrap(), *done);
}

#[tokio::test]
async fn a_job_whose_workers_died_at_every_attempt_fails_the_video_without_running_again() {
    let w = world_with(ShowcaseConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        },
        ..ShowcaseConfig::default()
    });
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.upload(&ana).await;
    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    // Two workers in a row start the job and die in it (they never settle; the lease expires).
    for attempt in 1..=2 {
        let job = w
            .showcase
            .next_job(Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.attempt, attempt);
        let runs = runs.clone();
        let dying = w.showcase.handle_job(&job, move |_| async move {
            runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::future::pending::<Result<ProcessedMedia, JobFailure>>().await
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(50), dying)
                .await
                .is_err(),
            "the worker dies in the job"
        );
        w.clock.advance(Duration::from_secs(31));
    }
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        w.showcase.own_video(ana.id, video.id).await.unwrap().status,
        VideoStatus::Processing
    );

    // The third delivery is past the ceiling: the video fails, nothing runs.
    let job = w
        .showcase
        .next_job(Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.attempt, 3);
    let outcome = w
        .showcase
        .handle_job(&job, |_| async { panic!("must not process") })
        .await
        .unwrap();
    let JobOutcome::GaveUp(reason) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("crashed repeatedly"), "{reason}");
    let failed = w.showcase.own_video(ana.id, video.id).await.unwrap();
    assert_eq!(failed.status.failure_reason(), Some(reason.as_str()));
    w.clock.advance(Duration::from_secs(3600));
    assert!(w
        .showcase
        .next_job(Duration::from_secs(30))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        w.backend.queue.depth().await.unwrap(),
        QueueDepth {
            failed: 1,
            ..QueueDepth::default()
        }
    );
}

#[tokio::test]
async fn an_upload_outside_the_media_limits_is_an_invalid_file_and_leaves_nothing() {
    // The marker stand-in reads as 1920x1080 h264 of 30 s.
    let w = world_with(ShowcaseConfig {
        media_limits: MediaLimits {
            max_duration_seconds: 10.0,
            ..MediaLimits::default()
        },
        ..ShowcaseConfig::default()
    });
    let ana = w.player("Ana", "Bogotá").await;
    match w
        .showcase
        .upload_video(ana.id, titled("Largo"), marker_video(4096))
        .await
    {
        Err(UploadVideoError::InvalidFile(why)) => {
            assert!(why.contains("lasts 30 s: at most 10 s"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.object_count().await, 0);
    assert_eq!(
        w.backend.queue.depth().await.unwrap(),
        QueueDepth::default()
    );
}

// --- conversions on demand -------------------------------------------------------------------

impl World {
    /// Runs the next job, a conversion, storing `bytes` as its result (or failing with
    /// `failure`).
    async fn convert_next(&self, outcome: Result<&'static [u8], JobFailure>) -> JobOutcome {
        let job = self
            .showcase
            .next_job(Duration::from_secs(60))
            .await
            .unwrap()
            .expect("a job");
        assert!(matches!(job.payload, JobPayload::ConvertRendition { .. }));
        let blobs = self.backend.blobs.clone();
        self.showcase
            .handle_conversion(&job, |video, rendition| async move {
                let bytes = outcome?;
                let key = BlobKey::rendition(video.id, rendition.id)
                    .join(rendition.format.file_name())
                    .unwrap();
                use anb_domain::ports::BlobStore;
                blobs.put(&key, bytes_stream(bytes)).await.unwrap();
                Ok(key)
            })
            .await
            .unwrap()
    }
}

fn mp3() -> rendition::RenditionRequest {
    rendition::RenditionRequest::new(rendition::RenditionFormat::Mp3, None).unwrap()
}

#[tokio::test]
async fn a_conversion_is_made_once_of_each_kind_and_served_through_its_signed_link() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let video = w.published(&ana).await;
    assert!(matches!(
        w.showcase.request_conversion(ben.id, video.id, mp3()).await,
        Err(ConversionError::Forbidden)
    ));
    let waiting = w.upload(&ana).await;
    assert!(matches!(
        w.showcase
            .request_conversion(ana.id, waiting.id, mp3())
            .await,
        Err(ConversionError::NotProcessed)
    ));
    let asked = w
        .showcase
        .request_conversion(ana.id, video.id, mp3())
        .await
        .unwrap();
    assert!(asked.queued);
    let again = w
        .showcase
        .request_conversion(ana.id, video.id, mp3())
        .await
        .unwrap();
    assert!(!again.queued, "the same rendition is not queued twice");
    assert_eq!(again.rendition.id, asked.rendition.id);

    // The waiting upload's job comes first.
    assert!(matches!(w.process_next().await, JobOutcome::Processed(_)));
    let JobOutcome::Converted(made) = w.convert_next(Ok(b"ID3-mp3")).await else {
        panic!("converted");
    };
    assert_eq!(made.status, rendition::RenditionStatus::Ready);
    let list = w.showcase.renditions(ana.id, video.id).await.unwrap();
    assert_eq!(list.renditions, [*made.clone()]);
    let file = RenditionFile::named("audio.mp3");
    let download = w
        .showcase
        .open_rendition_file(&list.token.token, made.id, file.as_ref(), None)
        .await
        .unwrap();
    assert_eq!(download.download.content_type, "audio/mpeg");
    let body: Vec<Bytes> = download.download.object.body.try_collect().await.unwrap();
    assert_eq!(body.concat(), b"ID3-mp3");
    // The wrong format, or another video's token, is not found.
    let mp4 = RenditionFile::named("video.mp4");
    assert!(matches!(
        w.showcase
            .open_rendition_file(&list.token.token, made.id, mp4.as_ref(), None)
            .await,
        Err(MediaError::NotFound)
    ));
    let other = w.showcase.renditions(ana.id, waiting.id).await.unwrap();
    assert!(matches!(
        w.showcase
            .open_rendition_file(&other.token.token, made.id, file.as_ref(), None)
            .await,
        Err(MediaError::NotFound)
    ));

    // Deleting the video takes its renditions' files too.
    w.showcase
        .set_public(ana.id, video.id, false)
        .await
        .unwrap();
    let before = w.object_count().await;
    w.showcase.delete_video(ana.id, video.id).await.unwrap();
    assert_eq!(
        w.object_count().await,
        before - 4,
        "original, MP4, thumbnail, MP3"
    );
}

#[tokio::test]
async fn a_conversion_that_gives_up_fails_its_rendition_and_asking_again_queues_it_again() {
    let w = world_with(ShowcaseConfig {
        max_pending_conversions: 1,
        ..ShowcaseConfig::default()
    });
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.published(&ana).await;
    w.showcase
        .request_conversion(ana.id, video.id, mp3())
        .await
        .unwrap();
    let mp4 = rendition::RenditionRequest::new(rendition::RenditionFormat::Mp4, Some(360)).unwrap();
    assert!(matches!(
        w.showcase.request_conversion(ana.id, video.id, mp4).await,
        Err(ConversionError::TooManyPending { limit: 1 })
    ));
    let no_sound = JobFailure::BadInput("the video has no sound to make an MP3 from".into());
    assert!(matches!(
        w.convert_next(Err(no_sound)).await,
        JobOutcome::GaveUp(_)
    ));
    let list = w.showcase.renditions(ana.id, video.id).await.unwrap();
    assert_eq!(
        list.renditions[0].status,
        rendition::RenditionStatus::Failed {
            reason: "the video has no sound to make an MP3 from".into()
        }
    );
    // A failed one no longer counts: another kind is accepted, and the failed one again
    // once that is done.
    assert!(
        w.showcase
            .request_conversion(ana.id, video.id, mp4)
            .await
            .unwrap()
            .queued
    );
    assert!(matches!(
        w.convert_next(Ok(b"mp4")).await,
        JobOutcome::Converted(_)
    ));
    let again = w
        .showcase
        .request_conversion(ana.id, video.id, mp3())
        .await
        .unwrap();
    assert!(again.queued);
    assert_eq!(again.rendition.status, rendition::RenditionStatus::Pending);
    assert!(matches!(
        w.convert_next(Ok(b"mp3")).await,
        JobOutcome::Converted(_)
    ));
}

#[tokio::test]
async fn a_conversion_job_handed_to_the_processing_handler_fails_its_rendition_not_the_video() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.published(&ana).await;
    w.showcase
        .request_conversion(ana.id, video.id, mp3())
        .await
        .unwrap();
    assert!(matches!(w.process_next().await, JobOutcome::GaveUp(_)));
    let list = w.showcase.renditions(ana.id, video.id).await.unwrap();
    assert!(matches!(
        list.renditions[0].status,
        rendition::RenditionStatus::Failed { .. }
    ));
    let still = w.showcase.own_video(ana.id, video.id).await.unwrap();
    assert_eq!(still.status, VideoStatus::Processed);
}

#[tokio::test]
async fn a_conversion_whose_job_the_queue_lost_is_queued_again_once() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.published(&ana).await;
    let asked = w
        .showcase
        .request_conversion(ana.id, video.id, mp3())
        .await
        .unwrap();
    // The queue loses the job.
    let jobs = &w.backend.queue;
    let lost = jobs.lease(Duration::from_secs(60)).await.unwrap().unwrap();
    jobs.ack(lost.id, lost.lease).await.unwrap();
    let restore = JobRestore::default();
    w.clock.advance(restore.settle_for + Duration::from_secs(1));
    let report = w.showcase.restore_lost_jobs(&restore).await.unwrap();
    assert_eq!((report.unfinished, report.restored), (1, 1));
    let again = w.showcase.restore_lost_jobs(&restore).await.unwrap();
    assert_eq!((again.unfinished, again.restored), (1, 0), "restored once");
    let JobOutcome::Converted(made) = w.convert_next(Ok(b"mp3")).await else {
        panic!("the restored job converts");
    };
    assert_eq!(made.id, asked.rendition.id);
    let after = w.showcase.restore_lost_jobs(&restore).await.unwrap();
    assert_eq!(after.unfinished, 0);
}

// --- sessions --------------------------------------------------------------------------------

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_ends_the_whole_session() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let first = w
        .showcase
        .login("ana@example.com", "tiro-libre-23")
        .await
        .unwrap();
    let second = w.showcase.refresh(&first.refresh.token).await.unwrap();
    assert_eq!(second.user, ana.id);
    assert_eq!(second.refresh.session, first.refresh.session);
    assert_ne!(second.refresh.token, first.refresh.token);
    assert_eq!(w.showcase.authenticate(&second.access.token), Ok(ana.id));
    // The first token again: someone kept a copy. Both it and the current one are refused.
    assert!(matches!(
        w.showcase.refresh(&first.refresh.token).await,
        Err(RefreshError::Refused)
    ));
    assert!(matches!(
        w.showcase.refresh(&second.refresh.token).await,
        Err(RefreshError::Refused)
    ));
}

#[tokio::test]
async fn logging_out_ends_one_session_and_logging_out_everywhere_ends_them_all() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let phone = w
        .showcase
        .login("ana@example.com", "tiro-libre-23")
        .await
        .unwrap();
    let laptop = w
        .showcase
        .login("ana@example.com", "tiro-libre-23")
        .await
        .unwrap();
    let tablet = w
        .showcase
        .login("ana@example.com", "tiro-libre-23")
        .await
        .unwrap();
    w.showcase.logout(&phone.refresh.token).await.unwrap();
    assert!(w.showcase.refresh(&phone.refresh.token).await.is_err());
    let laptop = w.showcase.refresh(&laptop.refresh.token).await.unwrap();
    assert_eq!(w.showcase.logout_everywhere(ana.id).await.unwrap(), 2);
    assert!(w.showcase.refresh(&laptop.refresh.token).await.is_err());
    assert!(w.showcase.refresh(&tablet.refresh.token).await.is_err());
    // Unknown and malformed tokens are nothing to end.
    w.showcase.logout("not-a-token").await.unwrap();
    w.showcase.logout(&"x".repeat(10_000)).await.unwrap();
}

#[tokio::test]
async fn an_unused_refresh_token_expires_after_the_refresh_lifetime() {
    let w = world_with(ShowcaseConfig {
        refresh_ttl: Duration::from_secs(3600),
        ..ShowcaseConfig::default()
    });
    w.player("Ana", "Bogotá").await;
    let signed_in = w
        .showcase
        .login("ana@example.com", "tiro-libre-23")
        .await
        .unwrap();
    w.clock.advance(Duration::from_secs(3601));
    assert!(matches!(
        w.showcase.refresh(&signed_in.refresh.token).await,
        Err(RefreshError::Refused)
    ));
}

// --- sharing ---------------------------------------------------------------------------------

impl World {
    /// Uploads a private video (not in the gallery) and processes it.
    async fn private_processed(&self, owner: &User) -> Video {
        let video = self
            .showcase
            .upload_video(
                owner.id,
                UploadForm {
                    title: "Private drill".into(),
                    is_public: false,
                    ..UploadForm::default()
                },
                marker_video(200_000),
            )
            .await
            .unwrap()
            .video;
        while self
            .showcase
            .own_video(owner.id, video.id)
            .await
            .unwrap()
            .status
            != VideoStatus::Processed
        {
            self.process_next().await;
        }
        self.showcase.own_video(owner.id, video.id).await.unwrap()
    }

    async fn play(&self, token: &str) -> Result<StreamDownload, MediaError> {
        self.showcase
            .open_stream_file(Playback::Signed(token), Some(&StreamFile::Video), None)
            .await
    }
}

#[tokio::test]
async fn a_recipient_watches_a_shared_private_video_until_the_share_is_revoked() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let eve = w.player("Eve", "Pasto").await;
    let video = w.private_processed(&ana).await;
    let (share, new) = w
        .showcase
        .share_video(ana.id, video.id, ben.id)
        .await
        .unwrap();
    assert!(new);
    assert_eq!(share.recipient.user_id, ben.id);
    assert!(
        !w.showcase
            .share_video(ana.id, video.id, ben.id)
            .await
            .unwrap()
            .1
    );

    let listed = w
        .showcase
        .shared_with_me(ben.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items[0].video.id, video.id);
    let (_, grant) = w.showcase.shared_video(ben.id, video.id).await.unwrap();
    let grant = grant.expect("processed");
    assert!(grant.video_url.is_none(), "no unrevocable direct URLs");
    let played = w.play(&grant.token.token).await.unwrap();
    assert!(
        played.fresh_for <= Duration::from_secs(60),
        "caches keep a share briefly"
    );

    // A stranger is told nothing exists; the recipient may not vote (not published) nor delete.
    assert!(matches!(
        w.showcase.shared_video(eve.id, video.id).await,
        Err(SharingError::NotFound)
    ));
    assert!(matches!(
        w.showcase.cast_vote(ben.id, video.id).await,
        Err(CastVoteError::NotVotable)
    ));
    assert!(matches!(
        w.showcase.delete_video(ben.id, video.id).await,
        Err(DeleteVideoError::Forbidden)
    ));

    w.showcase
        .unshare_video(ana.id, video.id, ben.id)
        .await
        .unwrap();
    assert!(matches!(
        w.play(&grant.token.token).await,
        Err(MediaError::Revoked)
    ));
    assert!(matches!(
        w.showcase.shared_video(ben.id, video.id).await,
        Err(SharingError::NotFound)
    ));
    assert!(matches!(
        w.showcase.unshare_video(ana.id, video.id, ben.id).await,
        Err(SharingError::NotFound)
    ));
}

#[tokio::test]
async fn only_the_owner_shares_and_never_with_themselves_or_a_stranger_account() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let ben = w.player("Ben", "Cali").await;
    let video = w.private_processed(&ana).await;
    assert!(matches!(
        w.showcase.share_video(ben.id, video.id, ben.id).await,
        Err(SharingError::Forbidden)
    ));
    assert!(matches!(
        w.showcase.share_video(ana.id, video.id, ana.id).await,
        Err(SharingError::SelfShare)
    ));
    assert!(matches!(
        w.showcase
            .share_video(ana.id, video.id, UserId::new())
            .await,
        Err(SharingError::NoSuchPlayer)
    ));
    assert!(matches!(
        w.showcase.share_video(ana.id, VideoId::new(), ben.id).await,
        Err(SharingError::NotFound)
    ));
}

#[tokio::test]
async fn a_share_link_plays_for_anyone_until_revoked_and_an_altered_one_never() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    let video = w.private_processed(&ana).await;
    assert!(matches!(
        w.showcase
            .create_share_link(ana.id, video.id, Duration::from_secs(59))
            .await,
        Err(SharingError::Invalid(e)) if e.field == "expires_in"
    ));
    let made = w
        .showcase
        .create_share_link(ana.id, video.id, Duration::from_secs(3600))
        .await
        .unwrap();
    let opened = w.showcase.open_share_link(&made.token.token).await.unwrap();
    assert_eq!(opened.video.id, video.id);
    assert_eq!(opened.owner.user_id, ana.id);
    w.play(&opened.grant.token.token).await.unwrap();
    let listed = w.showcase.share_links(ana.id, video.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    // The listed link's token is signed again and opens the same link.
    w.showcase
        .open_share_link(&listed[0].token.token)
        .await
        .unwrap();

    let mut altered = made.token.token.clone().into_bytes();
    let mid = altered.len() / 2;
    altered[mid] = if altered[mid] == b'A' { b'B' } else { b'A' };
    assert!(matches!(
        w.showcase
            .open_share_link(&String::from_utf8(altered).unwrap())
            .await,
        Err(MediaError::SignatureInvalid)
    ));
    // An owner's playback token is not a share link.
    let own = w.showcase.grant_playback(ana.id, video.id).await.unwrap();
    assert!(matches!(
        w.showcase.open_share_link(&own.token.token).await,
        Err(MediaError::SignatureInvalid)
    ));

    w.showcase
        .revoke_share_link(ana.id, video.id, made.link.id)
        .await
        .unwrap();
    assert!(matches!(
        w.showcase.open_share_link(&made.token.token).await,
        Err(MediaError::Revoked)
    ));
    assert!(matches!(
        w.play(&made.token.token).await,
        Err(MediaError::Revoked)
    ));
    assert!(w
        .showcase
        .share_links(ana.id, video.id)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        w.showcase
            .revoke_share_link(ana.id, video.id, made.link.id)
            .await,
        Err(SharingError::NotFound)
    ));
}

#[tokio::test]
async fn the_player_directory_searches_names_ignoring_case() {
    let w = world();
    let ana = w.player("Ana", "Bogotá").await;
    w.player("Ben", "Cali").await;
    let found = w
        .showcase
        .player_directory("  ANA   rojas ", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(found.items, vec![PlayerSummary::from(&ana)]);
    assert_eq!(
        w.showcase
            .player_directory("", PageRequest::default())
            .await
            .unwrap()
            .total,
        2
    );
    assert!(matches!(
        w.showcase
            .player_directory(&"a".repeat(101), PageRequest::default())
            .await,
        Err(SharingError::Invalid(e)) if e.field == "q"
    ));
}
