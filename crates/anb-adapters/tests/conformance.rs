//! The adapter conformance suite, run on every adapter. A new adapter is a new module here with
//! one line per port family it implements.

use std::sync::Arc;

use anb_adapters::testkit::conformance::mail::MailSubject;
use anb_adapters::testkit::conformance::repositories::Repositories;

/// Votes through the repository, then `corrupt`s the counters of one city's players behind its
/// back (the city key is passed in; other tests may share the database), then `recount`s: every
/// counter and the rankings match the vote rows again.
async fn recount_restores_the_counters<C, CF, R>(repos: Repositories, corrupt: C, recount: R)
where
    C: FnOnce(String) -> CF,
    CF: std::future::Future<Output = ()>,
    R: std::future::Future<Output = ()>,
{
    use anb_adapters::testkit::unique;
    use anb_domain::ports::{Clock, SystemClock};
    use anb_domain::user::NewUser;
    use anb_domain::*;

    let city = City::parse(&unique("Recount")).unwrap();
    let mut people = Vec::new();
    for i in 0..4 {
        let user = repos
            .users
            .create(NewUser {
                id: UserId::new(),
                first_name: PersonName::parse("first_name", "R").unwrap(),
                last_name: PersonName::parse("last_name", &format!("{i}")).unwrap(),
                email: Email::parse(&format!("{}@example.com", unique("r"))).unwrap(),
                password_hash: PasswordHash::from_phc("$argon2id$x"),
                city: city.clone(),
                country: Country::parse("Colombia").unwrap(),
                created_at: SystemClock.now(),
            })
            .await
            .unwrap();
        let id = VideoId::new();
        let video = Video::uploaded(
            id,
            user.id,
            VideoTitle::new("Clip").unwrap(),
            None,
            Tags::default(),
            true,
            BlobKey::original(user.id, id),
            1,
            SystemClock.now(),
        );
        repos.videos.insert(&video).await.unwrap();
        let now = SystemClock.now();
        repos
            .videos
            .transition(id, &StatusChange::StartProcessing(Default::default()), now)
            .await
            .unwrap();
        let media = ProcessedMedia {
            processed: BlobKey::processed(id),
            thumbnail: BlobKey::thumbnail(id),
            stream: None,
            storyboard: None,
            duration_seconds: 1.0,
        };
        repos
            .videos
            .transition(id, &StatusChange::Complete(media), now)
            .await
            .unwrap();
        people.push((user, video));
    }
    // Player i receives 3 - i votes (the last none).
    for (i, (_, video)) in people.iter().enumerate() {
        for (voter, _) in people
            .iter()
            .filter(|(u, _)| u.id != video.owner_id)
            .take(3 - i)
        {
            repos
                .votes
                .cast(voter.id, video.id, SystemClock.now())
                .await
                .unwrap();
        }
    }
    let query = RankingQuery {
        city: Some(city.clone()),
        country: None,
        page: PageRequest::default(),
    };
    let before = repos.votes.rankings(&query).await.unwrap();
    assert_eq!(before.total, 3);

    corrupt(city.key().to_owned()).await;
    let broken = repos.votes.rankings(&query).await.unwrap();
    assert_ne!(broken, before, "the corruption must show");
    recount.await;

    assert_eq!(repos.votes.rankings(&query).await.unwrap(), before);
    for (i, (user, video)) in people.iter().enumerate() {
        let expected = 3 - i as u64;
        assert_eq!(
            repos.videos.get(video.id).await.unwrap().unwrap().votes,
            expected
        );
        assert_eq!(
            repos
                .users
                .get(user.id)
                .await
                .unwrap()
                .unwrap()
                .votes_received,
            expected
        );
    }
}

mod memory {
    use super::*;
    use anb_adapters::memory::{MemoryBackend, MemoryQueue, MemoryStore};
    use anb_domain::ports::{JobQueue, SystemClock};

    async fn repositories() -> Repositories {
        let store = Arc::new(MemoryStore::new());
        Repositories::on(store)
    }

    async fn queue() -> Arc<dyn JobQueue> {
        Arc::new(MemoryQueue::new(Arc::new(SystemClock)))
    }

    anb_adapters::repository_conformance!(repositories());
    anb_adapters::traced_event_conformance!(|trace| async move {
        Repositories::on(Arc::new(MemoryStore::with_trace_context(trace)))
    });
    anb_adapters::queue_conformance!(queue());
    anb_adapters::blob_conformance!(async {
        MemoryBackend::new().blobs as Arc<dyn anb_domain::ports::BlobStore>
    });
    anb_adapters::page_store_conformance!(async {
        Arc::new(anb_adapters::memory::MemoryPageStore::new())
            as Arc<dyn anb_domain::ports::PageStore>
    });
    anb_adapters::mailer_conformance!(async {
        let mailer = Arc::new(anb_adapters::memory::MemoryMailer::new());
        MailSubject {
            mailer: mailer.clone(),
            mailbox: mailer,
        }
    });
}

mod postgres {
    use super::*;
    use anb_adapters::postgres::{PostgresQueue, PostgresStore};
    use anb_adapters::testkit::{services::postgres_pool, unique};
    use anb_domain::ports::JobQueue;

    async fn repositories() -> Repositories {
        let store = Arc::new(PostgresStore::new(postgres_pool().await));
        Repositories::on(store)
    }

    anb_adapters::traced_event_conformance!(|trace| async move {
        Repositories::on(Arc::new(
            PostgresStore::new(postgres_pool().await).with_trace_context(trace),
        ))
    });

    async fn queue() -> Arc<dyn JobQueue> {
        Arc::new(PostgresQueue::new(postgres_pool().await, unique("queue")))
    }

    anb_adapters::repository_conformance!(repositories());
    anb_adapters::queue_conformance!(queue());

    /// A recount holds off the vote tables in the order every transaction takes them (video,
    /// then player); a conversion request must take them in that order too, or the two
    /// deadlock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn conversion_requests_beside_recounts_never_deadlock() {
        use anb_adapters::testkit::conformance::renditions::{every_kind, owner_and_video};
        let store = Arc::new(PostgresStore::new(postgres_pool().await));
        let repos = Repositories::on(store.clone());
        for _ in 0..10 {
            let (_, video) = owner_and_video(&repos).await;
            let requests = every_kind(&video).into_iter().map(|kind| {
                let repos = repos.clone();
                tokio::spawn(async move { repos.renditions.request(&kind, 100).await.map(|_| ()) })
            });
            let recounts = (0..3).map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.recount_votes().await })
            });
            let (requested, recounted) = futures::future::join(
                futures::future::join_all(requests),
                futures::future::join_all(recounts),
            )
            .await;
            for outcome in requested {
                outcome.unwrap().unwrap();
            }
            for outcome in recounted {
                outcome.unwrap().unwrap();
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recounting_votes_repairs_every_counter() {
        let pool = postgres_pool().await;
        let store = Arc::new(PostgresStore::new(pool.clone()));
        let repos = Repositories::on(store);
        let corrupt = |city_key: String| {
            let pool = pool.clone();
            async move {
                for sql in [
                    "UPDATE videos SET votes = votes + 7 WHERE owner_id IN \
                     (SELECT id FROM users WHERE city_key = $1)",
                    "UPDATE users SET votes_received = 0 WHERE city_key = $1",
                    "DELETE FROM ranked_players WHERE scope = 'city:' || $1",
                ] {
                    sqlx::query(sql)
                        .bind(&city_key)
                        .execute(&pool)
                        .await
                        .unwrap();
                }
            }
        };
        let recount = async {
            anb_adapters::postgres::PostgresStore::new(pool.clone())
                .recount_votes()
                .await
                .unwrap()
        };
        super::recount_restores_the_counters(repos, corrupt, recount).await;
    }
}

mod sqlite {
    use super::*;
    use anb_adapters::sqlite::{SqliteQueue, SqliteStore};
    use anb_adapters::testkit::{services::sqlite_database, unique};
    use anb_domain::ports::JobQueue;

    async fn repositories() -> Repositories {
        let store = Arc::new(SqliteStore::new(sqlite_database().await));
        Repositories::on(store)
    }

    anb_adapters::traced_event_conformance!(|trace| async move {
        Repositories::on(Arc::new(
            SqliteStore::new(sqlite_database().await).with_trace_context(trace),
        ))
    });

    async fn queue() -> Arc<dyn JobQueue> {
        Arc::new(SqliteQueue::new(sqlite_database().await, unique("queue")))
    }

    anb_adapters::repository_conformance!(repositories());
    anb_adapters::queue_conformance!(queue());

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recounting_votes_repairs_every_counter() {
        let db = sqlite_database().await;
        let store = Arc::new(SqliteStore::new(db.clone()));
        let repos = Repositories::on(store);
        let corrupt = |city_key: String| {
            let pool = db.writer().clone();
            async move {
                for sql in [
                    "UPDATE videos SET votes = votes + 7 WHERE owner_id IN \
                     (SELECT id FROM users WHERE city_key = ?1)",
                    "UPDATE users SET votes_received = 0 WHERE city_key = ?1",
                    "DELETE FROM ranked_players WHERE scope = 'city:' || ?1",
                ] {
                    sqlx::query(sql)
                        .bind(&city_key)
                        .execute(&pool)
                        .await
                        .unwrap();
                }
            }
        };
        let recount = async {
            anb_adapters::sqlite::SqliteStore::new(db.clone())
                .recount_votes()
                .await
                .unwrap()
        };
        super::recount_restores_the_counters(repos, corrupt, recount).await;
    }

    /// The embedded default loses no job on restart: a queued job and a leased one are both
    /// there when the database file is opened again.
    #[tokio::test]
    async fn jobs_survive_closing_and_reopening_the_database_file() {
        use anb_domain::{JobPayload, VideoId};
        use std::time::Duration;

        let dir = std::env::temp_dir().join(unique("anb-test-restart"));
        let url = format!("sqlite://{}", dir.join("anb.db").display());
        let open = || async {
            let db = anb_adapters::sqlite::connect(&url, 2).await.unwrap();
            anb_adapters::sqlite::migrate(&db).await.unwrap();
            db
        };
        let (queued, leased) = (
            JobPayload::ProcessVideo {
                video_id: VideoId::new(),
            },
            JobPayload::ProcessVideo {
                video_id: VideoId::new(),
            },
        );
        let db = open().await;
        let before = SqliteQueue::new(db.clone(), "jobs");
        before.enqueue(&leased, None, Duration::ZERO).await.unwrap();
        before.enqueue(&queued, None, Duration::ZERO).await.unwrap();
        let held = before
            .lease(Duration::from_millis(300))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(held.payload, leased);
        db.close().await;

        let after = SqliteQueue::new(open().await, "jobs");
        assert_eq!(
            after
                .lease(Duration::from_secs(60))
                .await
                .unwrap()
                .unwrap()
                .payload,
            queued
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let again = after.lease(Duration::from_secs(60)).await.unwrap().unwrap();
        assert_eq!((again.payload, again.attempt), (leased, 2));
    }
}

mod redis {
    use super::*;
    use anb_adapters::redis::RedisQueue;
    use anb_adapters::testkit::{services, unique};
    use anb_domain::ports::JobQueue;
    use anb_domain::{JobPayload, QueueDepth, VideoId};

    async fn redis_queue(prefix: &str) -> RedisQueue {
        RedisQueue::connect(&services::redis_url(), prefix)
            .await
            .unwrap()
    }

    async fn queue() -> Arc<dyn JobQueue> {
        Arc::new(redis_queue(&unique("anb-test")).await)
    }

    anb_adapters::queue_conformance!(queue());
    anb_adapters::page_store_conformance!(async {
        let store =
            anb_adapters::redis::RedisPageStore::new(&services::redis_url(), &unique("anb-test"));
        Arc::new(store.unwrap()) as Arc<dyn anb_domain::ports::PageStore>
    });

    /// Two queues with different prefixes on one server are separate queues; two with the same
    /// prefix are one.
    #[tokio::test]
    async fn queues_with_different_prefixes_do_not_see_each_others_jobs() {
        let (a_prefix, b_prefix) = (unique("anb-test-a"), unique("anb-test-b"));
        let (a, b) = (redis_queue(&a_prefix).await, redis_queue(&b_prefix).await);
        let long = std::time::Duration::from_secs(60);
        let job = |video_id| JobPayload::ProcessVideo { video_id };

        let for_a = job(VideoId::new());
        let a_id = a
            .enqueue(&for_a, None, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(b.depth().await.unwrap(), QueueDepth::default());
        assert!(b.lease(long).await.unwrap().is_none(), "b sees a's job");

        let for_b = job(VideoId::new());
        let b_id = b
            .enqueue(&for_b, None, std::time::Duration::ZERO)
            .await
            .unwrap();
        let leased = a.lease(long).await.unwrap().expect("a's job");
        assert_eq!((leased.id, &leased.payload), (a_id, &for_a));
        assert!(a.lease(long).await.unwrap().is_none(), "a sees b's job");
        // b cannot touch a's job even with its token.
        assert!(matches!(
            b.ack(leased.id, leased.lease).await,
            Err(anb_domain::ports::QueueError::LeaseLost)
        ));
        a.ack(leased.id, leased.lease).await.unwrap();

        // A second handle on b's prefix is the same queue.
        let b_again = redis_queue(&b_prefix).await;
        let leased = b_again.lease(long).await.unwrap().expect("b's job");
        assert_eq!((leased.id, &leased.payload), (b_id, &for_b));
        b.ack(leased.id, leased.lease).await.unwrap();
        assert_eq!(a.depth().await.unwrap(), QueueDepth::default());
        assert_eq!(b.depth().await.unwrap(), QueueDepth::default());
    }
}

mod file {
    use super::*;
    use anb_adapters::blob::ObjectStoreBlobs;
    use anb_domain::ports::BlobStore;

    async fn blobs() -> Arc<dyn BlobStore> {
        let dir = std::env::temp_dir().join(anb_adapters::testkit::unique("anb-test-files"));
        Arc::new(ObjectStoreBlobs::from_url(&format!("file://{}", dir.display())).unwrap())
    }

    anb_adapters::blob_conformance!(blobs());
}

mod s3 {
    use super::*;
    use anb_adapters::blob::ObjectStoreBlobs;
    use anb_domain::ports::BlobStore;
    use anb_domain::{BlobKey, DownloadUrl};
    use bytes::Bytes;

    async fn blobs() -> Arc<dyn BlobStore> {
        let server = anb_adapters::testkit::s3_server::start().await;
        Arc::new(ObjectStoreBlobs::s3(&server.settings()).unwrap())
    }

    anb_adapters::blob_conformance!(blobs());

    async fn stored(blobs: &dyn BlobStore, body: &'static [u8]) -> BlobKey {
        let key = BlobKey::new(anb_adapters::testkit::unique("presigned")).unwrap();
        let stream = Box::pin(futures::stream::iter([Ok(Bytes::from_static(body))]));
        blobs.put(&key, stream).await.unwrap();
        key
    }

    async fn presigned(blobs: &dyn BlobStore, key: &BlobKey) -> String {
        match blobs
            .download_url(key, std::time::Duration::from_secs(300))
            .await
            .unwrap()
        {
            DownloadUrl::Presigned { url, .. } => url,
            DownloadUrl::ServedByApi => panic!("S3 must presign"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_presigned_url_downloads_with_a_plain_http_client() {
        let blobs = blobs().await;
        let key = stored(&*blobs, b"the processed video").await;
        let url = presigned(&*blobs, &key).await;
        assert!(url.contains("X-Amz-Signature="), "{url}");
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await.unwrap(), &b"the processed video"[..]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_presigned_download_answers_with_the_files_media_type() {
        let blobs = blobs().await;
        for (name, expected) in [
            ("seg_00001.m4s", "video/mp4"),
            ("index.m3u8", "application/vnd.apple.mpegurl"),
            ("audio.mp3", "audio/mpeg"),
            ("storyboard.vtt", "text/vtt"),
        ] {
            let key = BlobKey::new(anb_adapters::testkit::unique("typed"))
                .unwrap()
                .join(name)
                .unwrap();
            let stream = Box::pin(futures::stream::iter([Ok(Bytes::from_static(b"bytes"))]));
            blobs.put(&key, stream).await.unwrap();
            let response = reqwest::get(presigned(&*blobs, &key).await).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(
                response.headers()["content-type"].to_str().unwrap(),
                expected,
                "{name}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tampered_presigned_url_is_refused() {
        let blobs = blobs().await;
        let key = stored(&*blobs, b"secret").await;
        let other = stored(&*blobs, b"other").await;
        let url = presigned(&*blobs, &key).await;
        // Another object under the same signature, and a forged signature.
        let retargeted = url.replace(key.as_str(), other.as_str());
        let signature_at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
        let mut forged = url.clone();
        let flipped = if &url[signature_at..=signature_at] == "0" {
            "1"
        } else {
            "0"
        };
        forged.replace_range(signature_at..=signature_at, flipped);
        for bad in [retargeted, forged] {
            let response = reqwest::get(&bad).await.unwrap();
            assert_eq!(response.status(), 403, "{bad}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_credentials_are_refused_by_the_server() {
        let server = anb_adapters::testkit::s3_server::start().await;
        let mut settings = server.settings();
        settings.secret_access_key = Some("not-the-secret".into());
        let blobs = ObjectStoreBlobs::s3(&settings).unwrap();
        let stream = Box::pin(futures::stream::iter([Ok(Bytes::from_static(b"x"))]));
        let key = BlobKey::new("denied").unwrap();
        assert!(blobs.put(&key, stream).await.is_err());
    }
}

/// The mailer's sender in these tests.
const FROM: &str = "ANB Showcase <no-reply@anb.example>";

/// A message to a fresh recipient.
fn mail(subject: &str) -> anb_domain::mail::MailMessage {
    let to = anb_domain::Email::parse(&format!(
        "{}@example.com",
        anb_adapters::testkit::unique("to")
    ));
    anb_domain::mail::MailMessage::new(to.unwrap(), subject, "Hola.")
}

mod eml_files {
    use super::*;
    use anb_adapters::mail::{parse_from, FileMailer};
    use anb_adapters::testkit::conformance::mail::{EmlDirectory, Mailbox as _};
    use anb_domain::ports::{MailError, Mailer};

    fn mailer() -> (FileMailer, EmlDirectory) {
        let dir = std::env::temp_dir().join(anb_adapters::testkit::unique("anb-test-mail"));
        let mailer = FileMailer::new(dir.join("mail"), parse_from(FROM).unwrap()).unwrap();
        (mailer, EmlDirectory(dir.join("mail")))
    }

    anb_adapters::mailer_conformance!(async {
        let (mailer, mailbox) = mailer();
        MailSubject {
            mailer: Arc::new(mailer),
            mailbox: Arc::new(mailbox),
        }
    });

    /// File names sort in the order the messages were sent, end in `.eml`, and no temporary
    /// file is left beside them; each file is a whole message from the configured sender.
    #[tokio::test]
    async fn files_sort_in_sending_order_and_no_temporary_file_is_left() {
        let (mailer, dir) = mailer();
        for i in 0..30 {
            mailer.send(&mail(&format!("{i:02}"))).await.unwrap();
        }
        let names = dir.names();
        assert_eq!(names.len(), 30, "{names:#?}");
        assert!(
            names
                .iter()
                .all(|n| n.ends_with(".eml") && !n.starts_with('.')),
            "{names:#?}"
        );
        let subjects: Vec<String> = dir
            .messages()
            .await
            .into_iter()
            .map(|m| m.subject)
            .collect();
        let sent: Vec<String> = (0..30).map(|i| format!("{i:02}")).collect();
        assert_eq!(subjects, sent);
        let raw = std::fs::read_to_string(dir.0.join(&names[0])).unwrap();
        assert!(
            raw.contains("From: \"ANB Showcase\" <no-reply@anb.example>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("Date: ")
                && raw.contains("@anb.example>\r\n")
                && raw.ends_with("Hola.\r\n"),
            "{raw}"
        );
    }

    /// A directory that cannot be written is `Unavailable`, not a panic.
    #[tokio::test]
    async fn an_unwritable_directory_is_unavailable() {
        let (mailer, dir) = mailer();
        std::fs::remove_dir_all(&dir.0).unwrap();
        // A file where the directory was: nothing can be created under it.
        std::fs::write(&dir.0, b"not a directory").unwrap();
        assert!(matches!(
            mailer.send(&mail("x")).await,
            Err(MailError::Unavailable(_))
        ));
    }
}

mod smtp {
    use super::*;
    use anb_adapters::mail::{parse_from, SmtpMailer};
    use anb_adapters::testkit::conformance::mail::Mailbox as _;
    use anb_adapters::testkit::smtp_server::SmtpServer;
    use anb_domain::ports::{MailError, Mailer, Unavailable};
    use std::time::{Duration, Instant};

    anb_adapters::mailer_conformance!(async {
        let server = SmtpServer::start().await;
        let mailer = SmtpMailer::from_url(&server.url(), parse_from(FROM).unwrap()).unwrap();
        MailSubject {
            mailer: Arc::new(mailer),
            mailbox: Arc::new(server),
        }
    });

    /// A recipient the server refuses (550) is `RecipientRefused`; the others still arrive.
    #[tokio::test]
    async fn a_recipient_the_server_refuses_is_recipient_refused() {
        let server = SmtpServer::start_refusing().await;
        let mailer = SmtpMailer::from_url(&server.url(), parse_from(FROM).unwrap()).unwrap();
        let to = anb_domain::Email::parse("refused-ana@example.com").unwrap();
        let refused = anb_domain::mail::MailMessage::new(to.clone(), "Hola", "Hola.");
        match mailer.send(&refused).await {
            Err(MailError::RecipientRefused(who)) => assert_eq!(who, to),
            other => panic!("expected RecipientRefused, got {other:?}"),
        }
        let accepted = mail("Para otra");
        mailer.send(&accepted).await.unwrap();
        let arrived = server.messages().await;
        assert_eq!(arrived.len(), 1);
        assert_eq!(arrived[0].to, vec![accepted.to.to_string()]);
    }

    /// Nothing listening: the send fails at once with `Unavailable` (an `Unavailable` in its
    /// chain, for a 503), without a panic.
    #[tokio::test]
    async fn a_server_that_is_down_is_unavailable_quickly() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("smtp://user:hunter2-secret@127.0.0.1:{port}");
        let mailer = SmtpMailer::from_url(&url, parse_from(FROM).unwrap()).unwrap();
        let started = Instant::now();
        let error = match mailer.send(&mail("Hola")).await {
            Err(MailError::Unavailable(error)) => error,
            other => panic!("expected Unavailable, got {other:?}"),
        };
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(Unavailable::find_in(&error).is_some(), "{error:#}");
        let shown = format!("{error:#} {error:?} {mailer:?}");
        assert!(!shown.contains("hunter2"), "the password shows: {shown}");
        assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    }

    /// A server that accepts the connection and then says nothing: the send gives up after
    /// three times the connection timeout with `Unavailable`.
    #[tokio::test]
    async fn a_server_that_never_answers_is_unavailable_after_the_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                held.push(socket);
            }
        });
        let timeout = Duration::from_millis(700);
        let mailer =
            SmtpMailer::from_url_with_timeout(&url, parse_from(FROM).unwrap(), timeout).unwrap();
        let started = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(10), mailer.send(&mail("Hola")))
            .await
            .expect("the send gave up on its own");
        assert!(
            matches!(outcome, Err(MailError::Unavailable(_))),
            "{outcome:?}"
        );
        let took = started.elapsed();
        assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");
        silent.abort();
    }

    /// A URL lettre does not know is refused when the mailer is built, without the password.
    #[test]
    fn an_unknown_scheme_is_refused_without_showing_the_password() {
        let error = SmtpMailer::from_url(
            "imap://me:hunter2-secret@mail.example",
            parse_from(FROM).unwrap(),
        )
        .unwrap_err();
        let shown = format!("{error:#}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("imap://mail.example"), "{shown}");
    }
}
