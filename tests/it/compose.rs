//! Settings → `compose::connect` → a working application, on the embedded defaults (in a fresh
//! directory) and on PostgreSQL + Redis; the worker processes an upload on each.

use anb_adapters::testkit::clips;

use std::time::Duration;

use anb::app::compose::{self, Component, Composed};
use anb::app::settings::Settings;
use anb_adapters::testkit::{services, unique};
use anb_domain::*;
use anb_worker::{RunSummary, Worker, WorkerConfig};
use bytes::Bytes;
use clips::{workdir, Clip};
use figment::Figment;

fn settings(pairs: &[(&str, &str)]) -> Settings {
    let figment = pairs
        .iter()
        .fold(Figment::new(), |f, (k, v)| f.merge((*k, *v)));
    Settings::from_figment(&figment).unwrap()
}

async fn signup(app: &Composed) -> User {
    app.showcase
        .signup(SignupForm {
            first_name: "Ana".into(),
            last_name: "Rojas".into(),
            email: format!("{}@example.com", unique("ana")),
            password1: "tiro-libre-23".into(),
            password2: "tiro-libre-23".into(),
            city: "Bogotá".into(),
            country: "Colombia".into(),
        })
        .await
        .unwrap()
}

async fn upload(app: &Composed, owner: &User) -> Video {
    let dir = workdir();
    let clip = Clip::h264(1.0).size("320x180").make(dir.path(), "clip.mp4");
    let bytes = Bytes::from(std::fs::read(clip).unwrap());
    let form = UploadForm {
        title: "Crossover".into(),
        ..UploadForm::default()
    };
    app.showcase
        .upload_video(owner.id, form, Box::pin(futures::stream::iter([Ok(bytes)])))
        .await
        .unwrap()
        .video
}

/// The components whose readiness check fails.
async fn failing(app: &Composed) -> Vec<Component> {
    app.readiness()
        .await
        .into_iter()
        .filter_map(|(component, outcome)| outcome.is_err().then_some(component))
        .collect()
}

async fn process_all(app: &Composed) -> RunSummary {
    let config = WorkerConfig {
        profile: app.profile.clone(),
        ..WorkerConfig::with_lease(Duration::from_secs(30), 1)
    };
    Worker::new(app.showcase.clone(), config)
        .unwrap()
        .run_once()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_defaults_compose_in_an_empty_directory_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let settings = settings(&[("data_dir", data.to_str().unwrap())]);
    assert!(settings.jwt_secret.is_none());

    let app = compose::connect(&settings).await.unwrap();
    assert!(failing(&app).await.is_empty());
    let ttl = std::time::Duration::from_secs(5);
    app.page_store.put("probe", b"page", ttl).await.unwrap();
    assert!(
        app.page_store.get("probe").await.unwrap().is_none(),
        "pages are cached in process only"
    );
    for made in ["anb.db", "blobs", "jwt-secret"] {
        assert!(data.join(made).exists(), "{made} was not created");
    }
    let player = signup(&app).await;
    let token = app
        .showcase
        .login(player.email.as_str(), "tiro-libre-23")
        .await
        .unwrap();
    let video = upload(&app, &player).await;
    app.close().await;

    // A restart: same data, same signing key, the queued job still there.
    let app = compose::connect(&settings).await.unwrap();
    assert_eq!(
        app.showcase.authenticate(&token.access.token).unwrap(),
        player.id
    );
    assert_eq!(app.ports.jobs.depth().await.unwrap().ready, 1);
    assert_eq!(process_all(&app).await.processed, 1);
    let stored = app.ports.videos.get(video.id).await.unwrap().unwrap();
    assert_eq!(stored.status, VideoStatus::Processed);
    assert!(data
        .join("blobs/processed")
        .join(format!("{}.mp4", video.id))
        .is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_redis_and_file_blobs_compose_from_their_urls() {
    let database = services::empty_postgres_database_url().await;
    let blobs = tempfile::tempdir().unwrap();
    let settings = settings(&[
        ("database_url", database.as_str()),
        ("queue_url", services::redis_url().as_str()),
        ("queue_name", unique("anb-test").as_str()),
        ("cache_url", services::redis_url().as_str()),
        ("blob_url", &format!("file://{}", blobs.path().display())),
        ("jwt_secret", "a-test-secret-of-more-than-thirty-two-bytes"),
    ]);
    assert!(!settings.is_embedded().unwrap());

    // Two instances starting together: migrations run once, both connect.
    let (first, second) = futures::join!(compose::connect(&settings), compose::connect(&settings));
    let (app, other) = (first.unwrap(), second.unwrap());
    assert!(failing(&app).await.is_empty());
    let probe = anb_adapters::testkit::unique("probe");
    let ttl = std::time::Duration::from_secs(5);
    app.page_store.put(&probe, b"page", ttl).await.unwrap();
    assert_eq!(
        other.page_store.get(&probe).await.unwrap().map(|p| p.bytes),
        Some(b"page".to_vec()),
        "cache_url gives a page store both instances share"
    );
    let player = signup(&app).await;
    let video = upload(&app, &player).await;
    assert_eq!(
        other.ports.jobs.depth().await.unwrap().ready,
        1,
        "one shared queue"
    );

    assert_eq!(process_all(&other).await.processed, 1);
    let stored = app.ports.videos.get(video.id).await.unwrap().unwrap();
    assert_eq!(stored.status, VideoStatus::Processed);
    app.close().await;
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_names_the_backends_that_are_down() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("data_dir", dir.path().to_str().unwrap())]);
    let app = compose::connect(&settings).await.unwrap();
    assert!(failing(&app).await.is_empty());
    // Break the real thing: the database (and with it the `db://` queue) goes away.
    app.close().await;
    assert_eq!(failing(&app).await, [Component::Database, Component::Queue]);
}

#[tokio::test]
async fn shared_backends_without_a_jwt_secret_refuse_to_start() {
    let settings = settings(&[("database_url", "postgres://anb@db.invalid/anb")]);
    let err = compose::connect(&settings).await.unwrap_err();
    assert!(err.to_string().contains("ANB_JWT_SECRET"), "{err:#}");
}

#[tokio::test]
async fn processes_migrating_one_new_sqlite_file_at_once_take_turns() {
    let dir = workdir();
    let db = dir.path().join("anb.db");
    let url = format!("sqlite://{}", db.display());
    // `anb migrate` in six processes at the same moment (as `anb serve` and `anb worker`
    // starting together would).
    let children: Vec<_> = (0..6)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_anb"))
                .arg("migrate")
                .current_dir(dir.path())
                .env_clear()
                .env("ANB_DATABASE_URL", &url)
                .env("ANB_DATA_DIR", dir.path().join("data"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("starting anb migrate")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("anb migrate ends");
        assert!(
            out.status.success(),
            "a concurrent migration failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    let database = anb_adapters::sqlite::connect(&url, 1).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(database.reader())
        .await
        .unwrap();
    assert_eq!(applied, i64::try_from(migrations).unwrap());
}

/// Without `ANB_SMTP_URL` email is written as `.eml` files under `<data_dir>/mail`; with one it
/// goes to that SMTP server, from `ANB_MAIL_FROM`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_goes_to_files_under_the_data_directory_or_to_the_smtp_server_named() {
    use anb_adapters::testkit::conformance::mail::{EmlDirectory, Mailbox as _};
    use anb_adapters::testkit::smtp_server::SmtpServer;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let in_memory = [
        ("data_dir", data.to_str().unwrap()),
        ("database_url", "memory://"),
        ("queue_url", "memory://"),
        ("blob_url", "memory://"),
    ];
    let message = mail::MailMessage::new(
        Email::parse("ana@example.com").unwrap(),
        "Verificá tu correo",
        "https://anb.example/verificar?token=abc",
    );
    let app = compose::connect(&settings(&in_memory)).await.unwrap();
    app.ports.mailer.send(&message).await.unwrap();
    let files = EmlDirectory(data.join("mail")).messages().await;
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0].subject.as_str(), files[0].text.as_str()),
        (message.subject.as_str(), message.text.as_str())
    );

    let server = SmtpServer::start().await;
    let url = server.url();
    let mut named = in_memory.to_vec();
    named.extend([
        ("smtp_url", url.as_str()),
        ("mail_from", "Liga ANB <avisos@anb.example>"),
    ]);
    let app = compose::connect(&settings(&named)).await.unwrap();
    app.ports.mailer.send(&message).await.unwrap();
    let arrived = server.messages().await;
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0].subject, message.subject);
    let raw: Vec<String> = std::fs::read_dir(server.maildir().join("new"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    assert!(
        raw[0].contains("From: \"Liga ANB\" <avisos@anb.example>"),
        "{}",
        raw[0]
    );
    assert_eq!(
        EmlDirectory(data.join("mail")).messages().await.len(),
        1,
        "no new file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openid_provider_in_the_settings_is_composed_into_the_ports() {
    use anb_adapters::testkit::oidc_provider::{OidcProvider, CLIENT_ID, CLIENT_SECRET};
    let callback = "http://127.0.0.1:9/api/auth/oidc/callback";
    let provider = OidcProvider::start(&[callback]).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let without = compose::connect(&settings(&[("data_dir", data.to_str().unwrap())]))
        .await
        .unwrap();
    assert!(without.ports.identity.is_none());
    drop(without);
    let app = compose::connect(&settings(&[
        ("data_dir", data.to_str().unwrap()),
        ("oidc_issuer", provider.issuer()),
        ("oidc_client_id", CLIENT_ID),
        ("oidc_client_secret", CLIENT_SECRET),
        ("oidc_name", "Test ID"),
    ]))
    .await
    .unwrap();
    let identity = app.showcase.ports().identity.clone().expect("composed");
    assert_eq!(identity.name(), "Test ID");
    let login = identity.start(callback).await.unwrap();
    let back = provider.log_in(&login.authorize_url, "ana").await.unwrap();
    let who = identity
        .finish(&login.pending, &back.state, &back.code, callback)
        .await
        .unwrap();
    assert_eq!((who.subject.as_str(), who.email_verified), ("ana", true));
}

/// `anb worker` with `ANB_WORKER_METRICS_ADDR` serves its own metrics (the job, transcode and
/// webhook counters a split deployment would otherwise never export) and `/health`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_alone_serves_its_metrics_and_health_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", crate::support::free_port());
    let mut worker = crate::support::worker_process::WorkerProcess::start(
        dir.path(),
        &[("ANB_WORKER_METRICS_ADDR", addr.as_str())],
    );
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let answer = http.get(format!("http://{addr}/metrics")).send().await;
        if let Ok(answer) = answer {
            let text = answer.text().await.unwrap_or_default();
            if text.contains("anb_webhook_attempts_total") {
                break text;
            }
        }
        assert!(worker.is_running(), "the worker exited: {}", worker.log());
        assert!(
            std::time::Instant::now() < deadline,
            "no metrics at {addr}: {}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        metrics.contains("# TYPE anb_webhook_attempts_total counter"),
        "{metrics}"
    );
    let health = http
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    worker.kill();
}
