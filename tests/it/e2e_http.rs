//! End to end: the real `anb` binary as a child process (a fresh working directory, a free
//! port), driven over HTTP the way the course's clients drive it.
//!
//! The course flow (API.md and the Postman collection) runs on two setups: the embedded
//! defaults (SQLite, file blobs, the database's queue) and PostgreSQL + Redis + S3 (s3s-fs).
//! Every error code of API.md, the operations endpoints and a 100 MB streamed upload run on the
//! embedded defaults only. Build the binary first: `cargo build --bin anb`.

use crate::support::app;
use crate::support::client;
use anb_adapters::testkit::clips;
use anb_adapters::testkit::s3_server as s3;

use std::time::Instant;

use anb_adapters::blob::{ObjectStoreBlobs, S3Settings};
use anb_adapters::testkit::{pseudo_random_bytes, services};
use anb_domain::ports::BlobStore as _;
use anb_domain::{BlobKey, VideoId};
use app::{Anb, Launch};
use client::{file_part, keys, keys_of, signup_body, unique_email, upload_form, Api};
use clips::Clip;
use reqwest::header::RANGE;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

/// The owner's detail of a video: every field API.md names.
const DETAIL_FIELDS: &[&str] = &[
    "video_id",
    "title",
    "description",
    "status",
    "failure_reason",
    "uploaded_at",
    "processed_at",
    "duration_seconds",
    "original_url",
    "processed_url",
    "thumbnail_url",
    "votes",
    "is_public",
];

/// An item of the owner's list.
const SUMMARY_FIELDS: &[&str] = &[
    "video_id",
    "title",
    "status",
    "uploaded_at",
    "processed_at",
    "processed_url",
    "thumbnail_url",
    "votes",
    "is_public",
];

/// An item of the public gallery.
const PUBLIC_FIELDS: &[&str] = &[
    "video_id",
    "title",
    "player",
    "processed_url",
    "thumbnail_url",
    "duration_seconds",
    "votes",
    "published_at",
];

/// Starts `launch` without stalling the test's runtime (an in-test S3 server may need it).
async fn start(launch: Launch) -> Anb {
    tokio::task::block_in_place(move || launch.start())
}

/// Asserts that `object` has every one of `fields` (extra fields are allowed).
fn assert_has_fields(object: &Value, fields: &[&str]) {
    let present = keys(object);
    let missing: Vec<_> = fields.iter().filter(|f| !present.contains(**f)).collect();
    assert!(missing.is_empty(), "missing {missing:?} in {object}");
}

/// Parses an RFC 3339 timestamp field.
fn timestamp(value: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp string"))
        .unwrap_or_else(|e| panic!("not an RFC 3339 timestamp ({e}): {value}"))
}

/// A generated clip's bytes.
fn clip_bytes(clip: &Clip, name: &str) -> Vec<u8> {
    let dir = clips::workdir();
    std::fs::read(clip.make(dir.path(), name)).expect("the generated clip")
}

/// A small clip, quick to process.
fn small_clip() -> Vec<u8> {
    clip_bytes(&Clip::h264(1.0).size("320x180"), "small.mp4")
}

// ---------------------------------------------------------------------------------------------
// The course flow, once, for every setup.

/// What the flow leaves for the setup's own checks.
struct FlowOutcome {
    /// The voted video.
    video_id: String,
    /// The size of its processed MP4.
    processed_size: u64,
}

/// The course flow: two players, an upload processed in the background, the owner's list and
/// detail, downloads with ranges, the gallery, a vote, rankings, the delete rules, streaming,
/// conversions on demand.
async fn course_flow(anb: &Anb) -> FlowOutcome {
    let api = Api::new(anb.base_url());

    // Sign up and log in two players.
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let ben = api.player("Ben", "Mejía", "Medellín").await;
    let profile = api.get_as(&ana, "/api/auth/me").await.expect_json(200);
    assert_eq!(profile["email"], ana.email.as_str());
    assert_eq!(profile["city"], "Bogotá");
    assert_eq!(profile["user_id"], ana.user_id.as_str());

    // Ana uploads a clip: the file first, then the title, like the collection.
    let clip = clip_bytes(&Clip::h264(3.0), "clip.mp4");
    let video_id = api
        .upload_clip(&ana, &clip, "Mi mejor jugada de 3 puntos")
        .await;

    // Processing happens in the background.
    let detail = api.wait_processed(&ana, &video_id).await;
    assert_has_fields(&detail, DETAIL_FIELDS);
    assert_eq!(detail["video_id"], video_id.as_str());
    assert_eq!(detail["title"], "Mi mejor jugada de 3 puntos");
    assert_eq!(detail["description"], Value::Null);
    assert_eq!(detail["failure_reason"], Value::Null);
    assert_eq!(detail["votes"], 0);
    assert_eq!(detail["is_public"], true);
    assert!(timestamp(&detail["processed_at"]) >= timestamp(&detail["uploaded_at"]));
    let duration = detail["duration_seconds"].as_f64().expect("a duration");
    assert!((duration - 3.0).abs() < 0.5, "duration {duration}");
    let urls: Vec<String> = ["original_url", "processed_url", "thumbnail_url"]
        .iter()
        .map(|field| {
            let url = detail[*field].as_str().expect("a URL").to_owned();
            assert!(url.starts_with('/'), "{field} {url}");
            url
        })
        .collect();
    let [original_url, processed_url, thumbnail_url] = urls.as_slice() else {
        unreachable!()
    };

    // The owner's list: an array with X-Total-Count.
    let (items, total) = api.get_as(&ana, "/api/videos").await.expect_page();
    assert_eq!((items.len(), total), (1, 1));
    assert_has_fields(&items[0], SUMMARY_FIELDS);
    assert_eq!(items[0]["video_id"], video_id.as_str());
    assert_eq!(items[0]["status"], "processed");
    assert_eq!(items[0]["processed_url"], processed_url.as_str());

    // The processed MP4, whole: 1280x720 H.264 + AAC.
    let whole = api.get_as(&ana, processed_url).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-type"), Some("video/mp4"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let size = whole.body.len() as u64;
    assert_eq!(
        whole.header("content-length"),
        Some(size.to_string().as_str())
    );
    assert_eq!(&whole.body[4..8], b"ftyp", "an MP4");
    let saved = clips::workdir();
    let processed_path = saved.path().join("processed.mp4");
    std::fs::write(&processed_path, &whole.body).unwrap();
    let streams = clips::ffprobe_streams(&processed_path);
    let video = clips::stream(&streams, "video").expect("a video stream");
    assert_eq!(
        (
            video["codec_name"].as_str(),
            video["width"].as_str(),
            video["height"].as_str()
        ),
        ("h264", "1280", "720")
    );
    assert_eq!(
        clips::stream(&streams, "audio").expect("an audio stream")["codec_name"],
        "aac"
    );

    // ... and its first 100 bytes.
    let head = api
        .send(
            api.as_player(&ana, Method::GET, processed_url)
                .header(RANGE, "bytes=0-99"),
        )
        .await;
    assert_eq!(head.status, 206);
    assert_eq!(
        head.header("content-range"),
        Some(format!("bytes 0-99/{size}").as_str())
    );
    assert_eq!(head.header("accept-ranges"), Some("bytes"));
    assert_eq!(head.header("content-type"), Some("video/mp4"));
    assert_eq!(head.header("content-length"), Some("100"));
    assert_eq!(head.body, whole.body.slice(..100));

    // The thumbnail is a JPEG; the original is the upload, byte for byte.
    let thumbnail = api.get_as(&ana, thumbnail_url).await;
    assert_eq!(thumbnail.status, 200);
    assert_eq!(thumbnail.header("content-type"), Some("image/jpeg"));
    assert_eq!(&thumbnail.body[..2], &[0xFF, 0xD8], "a JPEG");
    let original = api.get_as(&ana, original_url).await;
    assert_eq!(original.status, 200);
    assert_eq!(original.body.as_ref(), clip.as_slice());

    // The public gallery shows it with its player; another city's filter does not.
    let (gallery, gallery_total) = api.get("/api/public/videos").await.expect_page();
    assert!(gallery_total >= 1);
    let item = gallery
        .iter()
        .find(|item| item["video_id"] == video_id.as_str())
        .unwrap_or_else(|| panic!("the processed public video is in the gallery: {gallery:?}"));
    assert_has_fields(item, PUBLIC_FIELDS);
    assert_eq!(
        keys(&item["player"]),
        keys_of(&["username", "city", "country"])
    );
    assert_eq!(item["player"]["city"], "Bogotá");
    assert_eq!(item["player"]["username"], "Ana Rojas");
    assert_eq!(item["player"]["country"], "Colombia");
    let stream_url = format!("/api/public/videos/{video_id}/stream");
    assert_eq!(item["processed_url"], stream_url.as_str());
    let (elsewhere, _) = api
        .get("/api/public/videos?city=Medellín")
        .await
        .expect_page();
    assert!(elsewhere.iter().all(|i| i["video_id"] != video_id.as_str()));

    // Ben votes.
    let vote = api
        .post_as(&ben, &format!("/api/public/videos/{video_id}/vote"))
        .await
        .expect_json(200);
    assert_eq!(vote["message"], "Voto registrado exitosamente.");
    assert_eq!(vote["video_id"], video_id.as_str());
    assert_eq!(vote["total_votes"], 1);

    // Adaptive streaming and playback links.
    crate::streaming::check_streaming(&api, &ana, &ben, &video_id).await;
    crate::conversions::check_conversions(&api, &ana, &ben, &video_id).await;

    // Rankings of Bogotá: Ana first with one vote; rows with exactly the four keys.
    let (rows, _) = api
        .get("/api/public/rankings?city=Bogotá")
        .await
        .expect_page();
    assert!(!rows.is_empty(), "Ana is ranked");
    for row in &rows {
        assert_eq!(
            keys(row),
            keys_of(&["position", "username", "city", "votes"]),
            "{row}"
        );
        assert_eq!(row["city"], "Bogotá");
    }
    assert_eq!(
        rows[0],
        json!({"position": 1, "username": "Ana Rojas", "city": "Bogotá", "votes": 1})
    );

    // The delete rules. A voted (and published) video stays.
    let refused = api
        .delete_as(&ana, &format!("/api/videos/{video_id}"))
        .await
        .expect_json(400);
    assert_eq!(
        keys(&refused),
        keys_of(&["detail", "code"]),
        "an error body: {refused}"
    );
    assert!(
        refused["code"] == "video_has_votes" || refused["code"] == "video_published",
        "{refused}"
    );
    // A second clip: published once processed, so it stays too until unpublished.
    let second = api.upload_clip(&ana, &small_clip(), "Bandeja").await;
    api.wait_processed(&ana, &second).await;
    api.delete_as(&ana, &format!("/api/videos/{second}"))
        .await
        .expect_error(400, "video_published");
    let unpublished = api
        .post_as(&ana, &format!("/api/videos/{second}/unpublish"))
        .await
        .expect_json(200);
    assert_eq!(unpublished["is_public"], false);
    let deleted = api
        .delete_as(&ana, &format!("/api/videos/{second}"))
        .await
        .expect_json(200);
    assert_eq!(
        deleted["message"],
        "El video ha sido eliminado exitosamente."
    );
    assert_eq!(deleted["video_id"], second.as_str());
    api.get_as(&ana, &format!("/api/videos/{second}"))
        .await
        .expect_error(404, "not_found");
    let (_, remaining) = api.get_as(&ana, "/api/videos").await.expect_page();
    assert_eq!(remaining, 1);
    let voted = api
        .get_as(&ana, &format!("/api/videos/{video_id}"))
        .await
        .expect_json(200);
    assert_eq!(voted["votes"], 1);

    // The public stream, for anyone: whole, by range, and a range outside the file.
    let streamed = api.get(&stream_url).await;
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.header("content-type"), Some("video/mp4"));
    assert_eq!(streamed.body, whole.body);
    let tail_start = size - 50;
    let tail = api
        .send(
            api.request(Method::GET, &stream_url)
                .header(RANGE, format!("bytes={tail_start}-")),
        )
        .await;
    assert_eq!(tail.status, 206);
    assert_eq!(
        tail.header("content-range"),
        Some(format!("bytes {tail_start}-{}/{size}", size - 1).as_str())
    );
    assert_eq!(tail.header("accept-ranges"), Some("bytes"));
    assert_eq!(tail.body, whole.body.slice(tail_start as usize..));
    let first = api
        .send(
            api.request(Method::GET, &stream_url)
                .header(RANGE, "bytes=0-99"),
        )
        .await;
    assert_eq!(first.status, 206);
    assert_eq!(
        first.header("content-range"),
        Some(format!("bytes 0-99/{size}").as_str())
    );
    assert_eq!(first.body, whole.body.slice(..100));
    let outside = api
        .send(
            api.request(Method::GET, &stream_url)
                .header(RANGE, format!("bytes={}-", size + 10)),
        )
        .await;
    assert_eq!(outside.status, 416);
    assert_eq!(
        outside.header("content-range"),
        Some(format!("bytes */{size}").as_str())
    );

    // The operations' metrics saw the uploads and the processing.
    let metrics = api.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8_lossy(&metrics.body);
    for metric in [
        "anb_http_requests_total{",
        "anb_uploads_total{",
        "anb_jobs_total{",
        "anb_transcode_seconds",
        "anb_queue_depth{",
    ] {
        assert!(
            text.lines().any(|line| line.starts_with(metric)),
            "no {metric} in /metrics:\n{text}"
        );
    }

    FlowOutcome {
        video_id,
        processed_size: size,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_course_flow_passes_on_the_embedded_defaults() {
    let anb = start(Launch::all()).await;
    let outcome = course_flow(&anb).await;

    // Everything lives under the process's own data/, the signing key included.
    let data = anb.data_dir();
    for made in ["anb.db", "jwt-secret"] {
        assert!(data.join(made).is_file(), "data/{made} was not created");
    }
    let processed = data
        .join("blobs/processed")
        .join(format!("{}.mp4", outcome.video_id));
    assert_eq!(
        std::fs::metadata(&processed)
            .expect("the processed file")
            .len(),
        outcome.processed_size
    );
}
/// The `s3://` URL of the in-test server's bucket (credentials go in `AWS_*`).
fn s3_blob_url(s3: &S3Settings) -> String {
    format!(
        "s3://{}?endpoint={}&region={}&path_style={}&allow_http={}",
        s3.bucket,
        s3.endpoint.as_deref().expect("an endpoint"),
        s3.region,
        s3.path_style,
        s3.allow_http
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_course_flow_passes_on_postgres_redis_and_s3() {
    let database_url = services::empty_postgres_database_url().await;
    let s3 = s3::start().await.settings();
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let launch = Launch::all()
        .env("ANB_DATABASE_URL", &database_url)
        .env("ANB_QUEUE_URL", services::redis_url())
        .env(
            "ANB_QUEUE_NAME",
            format!("anb-test-{}", uuid::Uuid::new_v4().simple()),
        )
        .env("ANB_BLOB_URL", s3_blob_url(&s3))
        .env("ANB_JWT_SECRET", secret)
        .env("AWS_ACCESS_KEY_ID", s3.access_key_id.clone().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            s3.secret_access_key.clone().unwrap(),
        );
    let anb = start(launch).await;
    let outcome = course_flow(&anb).await;

    // Nothing embedded was made: no SQLite file, no generated key, no local blobs.
    for embedded in ["anb.db", "jwt-secret", "blobs"] {
        assert!(
            !anb.data_dir().join(embedded).exists(),
            "data/{embedded} exists on shared backends"
        );
    }
    // The players are in PostgreSQL, the processed MP4 in the bucket.
    let db = anb_adapters::postgres::connect(&database_url, 1)
        .await
        .unwrap();
    let players: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(players, 2);
    let bucket = ObjectStoreBlobs::s3(&s3).unwrap();
    let id = VideoId::from(uuid::Uuid::parse_str(&outcome.video_id).unwrap());
    let stored = bucket.head(&BlobKey::processed(id)).await.unwrap();
    assert_eq!(stored.size, outcome.processed_size);
}

// ---------------------------------------------------------------------------------------------
// Every error code of API.md, on the embedded defaults.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_refuses_a_taken_email_in_any_case_mismatched_or_weak_passwords_and_missing_fields()
{
    // Twenty-odd sign-ups from one address: more than the abuse limit lets through.
    let anb = start(Launch::serve().env("ANB_RATE_SIGNUP_PER_ADDRESS", "100/hour")).await;
    let api = Api::new(anb.base_url());
    let email = unique_email("ana");
    api.signup(&signup_body("Ana", "Rojas", &email, "Bogotá"))
        .await
        .expect_json(201);

    for taken in [email.clone(), email.to_uppercase()] {
        let detail = api
            .signup(&signup_body("Otra", "Persona", &taken, "Cali"))
            .await
            .expect_error(400, "email_taken");
        assert!(detail.to_lowercase().contains("email"), "{detail}");
    }

    let mut mismatch = signup_body("Ben", "Mejía", &unique_email("ben"), "Medellín");
    mismatch["password2"] = json!("OtherPass123");
    api.signup(&mismatch)
        .await
        .expect_error(400, "password_mismatch");

    let mut weak = signup_body("Ben", "Mejía", &unique_email("ben"), "Medellín");
    weak["password1"] = json!("Short7!");
    weak["password2"] = json!("Short7!");
    api.signup(&weak).await.expect_error(400, "weak_password");

    for field in [
        "first_name",
        "last_name",
        "email",
        "password1",
        "password2",
        "city",
        "country",
    ] {
        let mut incomplete = signup_body("Ben", "Mejía", &unique_email("ben"), "Medellín");
        incomplete.as_object_mut().unwrap().remove(field);
        let detail = api
            .signup(&incomplete)
            .await
            .expect_error(400, "validation_error");
        assert!(detail.contains(field), "{field} is not named in {detail:?}");
    }

    let mut malformed = signup_body("Ben", "Mejía", "not-an-email", "Medellín");
    let detail = api
        .signup(&malformed)
        .await
        .expect_error(400, "validation_error");
    assert!(detail.contains("email"), "{detail}");
    malformed["email"] = json!(unique_email("ben"));
    malformed["city"] = json!("");
    let detail = api
        .signup(&malformed)
        .await
        .expect_error(400, "validation_error");
    assert!(detail.contains("city"), "{detail}");

    // Another JSON type than a string is refused by name, never turned into text.
    for (field, value) in [("first_name", json!(123)), ("country", json!(true))] {
        let mut mistyped = signup_body("Ben", "Mejía", &unique_email("ben"), "Medellín");
        mistyped[field] = value;
        let detail = api
            .signup(&mistyped)
            .await
            .expect_error(400, "validation_error");
        assert!(
            detail.starts_with(field),
            "{field} is not named in {detail:?}"
        );
    }

    let unparsable = api
        .send(
            api.request(Method::POST, "/api/auth/signup")
                .header("content-type", "application/json")
                .body("{\"first_name\": "),
        )
        .await;
    unparsable.expect_error(400, "validation_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_gives_the_same_answer_for_an_unknown_email_and_a_wrong_password() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;

    let unknown = api.login(&unique_email("nobody"), client::PASSWORD).await;
    let wrong = api.login(&ana.email, "WrongPass123").await;
    unknown.expect_error(401, "invalid_credentials");
    wrong.expect_error(401, "invalid_credentials");
    assert_eq!(unknown.json(), wrong.json());

    // The email's case does not matter; a missing field is a validation error.
    api.login(&ana.email.to_uppercase(), client::PASSWORD)
        .await
        .expect_json(200);
    let detail = api
        .send(
            api.request(Method::POST, "/api/auth/login")
                .json(&json!({ "email": ana.email })),
        )
        .await
        .expect_error(400, "validation_error");
    assert!(detail.contains("password"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_login_attempts_for_one_email_are_refused_with_429() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;

    let mut refused_after = None;
    for attempt in 1..=50 {
        let reply = api.login(&ana.email, "WrongPass123").await;
        if reply.status == 429 {
            reply.expect_error(429, "too_many_attempts");
            let retry: u64 = reply
                .header("retry-after")
                .expect("a Retry-After header")
                .parse()
                .expect("Retry-After in seconds");
            assert!(retry > 0);
            refused_after = Some(attempt);
            break;
        }
        reply.expect_error(401, "invalid_credentials");
    }
    let refused_after = refused_after.expect("429 within 50 attempts");
    assert!(
        refused_after > 3,
        "throttled after only {refused_after} attempts"
    );
    // The right password is throttled too now; another account is not.
    api.login(&ana.email, client::PASSWORD)
        .await
        .expect_error(429, "too_many_attempts");
    let ben = api.player("Ben", "Mejía", "Medellín").await;
    api.login(&ben.email, client::PASSWORD)
        .await
        .expect_json(200);
}

/// A token with one character of its `part` (0 header, 1 payload, 2 signature) changed.
fn tampered(token: &str, part: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let segment = &mut parts[part];
    let at = segment.len() / 2;
    let old = segment.as_bytes()[at];
    let new = if old == b'A' { "B" } else { "A" };
    segment.replace_range(at..=at, new);
    parts.join(".")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_bearer_token_are_unauthorized() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let video = uuid::Uuid::new_v4();
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("garbage", Some("Bearer garbage".into())),
        (
            "payload tampered",
            Some(format!("Bearer {}", tampered(&ana.token, 1))),
        ),
        (
            "signature tampered",
            Some(format!("Bearer {}", tampered(&ana.token, 2))),
        ),
        ("not a bearer scheme", Some(format!("Basic {}", ana.token))),
        ("no scheme", Some(ana.token.clone())),
    ];
    let operations = [
        (Method::GET, "/api/auth/me".to_owned()),
        (Method::GET, "/api/videos".to_owned()),
        (Method::GET, format!("/api/videos/{video}")),
        (Method::DELETE, format!("/api/videos/{video}")),
        (Method::POST, format!("/api/videos/{video}/publish")),
        (Method::GET, format!("/api/videos/{video}/processed")),
        (Method::POST, format!("/api/public/videos/{video}/vote")),
        (Method::POST, "/api/videos/upload".to_owned()),
    ];
    for (what, authorization) in &credentials {
        for (method, path) in &operations {
            let mut request = api.request(method.clone(), path);
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            if path.ends_with("/upload") {
                request = request.multipart(upload_form(
                    file_part(vec![0_u8; 1024], "clip.mp4", "video/mp4"),
                    "Sin token",
                ));
            }
            let reply = api.send(request).await;
            assert_eq!(reply.status, 401, "{what}: {method} {path}");
            reply.expect_error(401, "unauthorized");
        }
    }
    // The genuine token works.
    api.get_as(&ana, "/api/auth/me").await.expect_json(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_mp4_or_mov_videos_are_refused_as_invalid_file() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let dir = clips::workdir();
    let png_path = dir.path().join("photo.png");
    clips::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=orange:s=64x64",
        "-frames:v",
        "1",
        png_path.to_str().unwrap(),
    ]);
    let png = std::fs::read(&png_path).unwrap();
    let matroska =
        std::fs::read(Clip::h264(1.0).size("320x180").make(dir.path(), "clip.mkv")).unwrap();
    let audio_only = std::fs::read(
        Clip::h264(1.0)
            .encoded_with(&["-vn", "-c:a", "aac"])
            .make(dir.path(), "audio.mp4"),
    )
    .unwrap();

    let refused: Vec<(&str, Part)> = vec![
        (
            "random bytes named .mp4",
            file_part(pseudo_random_bytes(512 * 1024, 7), "clip.mp4", "video/mp4"),
        ),
        ("a PNG", file_part(png.clone(), "photo.png", "image/png")),
        ("a PNG named .mp4", file_part(png, "clip.mp4", "video/mp4")),
        (
            "a Matroska video named .mp4",
            file_part(matroska, "clip.mp4", "video/mp4"),
        ),
        (
            "an MP4 without video",
            file_part(audio_only, "clip.mp4", "video/mp4"),
        ),
        (
            "text named .mp4",
            file_part(b"hola, no soy un video".to_vec(), "clip.mp4", "video/mp4"),
        ),
        (
            "an empty file",
            file_part(Vec::new(), "clip.mp4", "video/mp4"),
        ),
    ];
    for (what, part) in refused {
        let reply = api.upload(&ana, upload_form(part, "No es un video")).await;
        assert_eq!(
            reply.status,
            400,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.expect_error(400, "invalid_file");
    }

    // A real MOV is accepted, whatever it is called; only it was kept.
    let mov = std::fs::read(Clip::h264(1.0).size("320x180").make(dir.path(), "clip.mov")).unwrap();
    api.upload_accepted(
        &ana,
        upload_form(
            file_part(mov, "jugada.bin", "application/octet-stream"),
            "MOV",
        ),
    )
    .await;
    let (_, total) = api.get_as(&ana, "/api/videos").await.expect_page();
    assert_eq!(total, 1);
    assert_eq!(anb.blob_files().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_without_a_title_or_without_a_file_is_a_validation_error() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let clip = small_clip();
    let file = || file_part(clip.clone(), "clip.mp4", "video/mp4");

    let cases: Vec<(&str, Form)> = vec![
        ("title", Form::new().part("video_file", file())),
        ("video_file", Form::new().text("title", "Sin archivo")),
        ("title", upload_form(file(), "")),
        ("title", upload_form(file(), &"x".repeat(256))),
        (
            "is_public",
            upload_form(file(), "Jugada").text("is_public", "maybe"),
        ),
    ];
    for (field, form) in cases {
        let detail = api
            .upload(&ana, form)
            .await
            .expect_error(400, "validation_error");
        assert!(detail.contains(field), "{field} is not named in {detail:?}");
    }
    let not_multipart = api
        .send(
            api.as_player(&ana, Method::POST, "/api/videos/upload")
                .json(&json!({ "title": "JSON" })),
        )
        .await;
    not_multipart.expect_error(400, "validation_error");

    // Nothing was recorded or kept.
    let (_, total) = api.get_as(&ana, "/api/videos").await.expect_page();
    assert_eq!(total, 0);
    assert!(anb.blob_files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_upload_limit_is_refused_as_file_too_large() {
    let anb = start(Launch::serve().env("ANB_MAX_UPLOAD_MB", "1")).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;

    api.upload(
        &ana,
        upload_form(
            file_part(
                pseudo_random_bytes(2 * 1024 * 1024, 11),
                "big.mp4",
                "video/mp4",
            ),
            "Demasiado grande",
        ),
    )
    .await
    .expect_error(400, "file_too_large");

    // A clip under the limit still goes through.
    let clip = small_clip();
    assert!(clip.len() < 1024 * 1024);
    api.upload_clip(&ana, &clip, "Cabe").await;
    let (_, total) = api.get_as(&ana, "/api/videos").await.expect_page();
    assert_eq!(total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_players_video_is_forbidden_and_unknown_or_malformed_ids_are_not_found() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let ben = api.player("Ben", "Mejía", "Medellín").await;
    let video = api.upload_clip(&ana, &small_clip(), "Solo mío").await;

    let owner_only = [
        (Method::GET, format!("/api/videos/{video}")),
        (Method::DELETE, format!("/api/videos/{video}")),
        (Method::POST, format!("/api/videos/{video}/publish")),
        (Method::POST, format!("/api/videos/{video}/unpublish")),
        (Method::GET, format!("/api/videos/{video}/original")),
    ];
    for (method, path) in &owner_only {
        let reply = api.send(api.as_player(&ben, method.clone(), path)).await;
        assert_eq!(reply.status, 403, "{method} {path}");
        reply.expect_error(403, "forbidden");
    }
    api.get_as(&ana, &format!("/api/videos/{video}"))
        .await
        .expect_json(200);

    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid", "123"] {
        let paths = [
            (Method::GET, format!("/api/videos/{id}")),
            (Method::DELETE, format!("/api/videos/{id}")),
            (Method::POST, format!("/api/videos/{id}/publish")),
            (Method::GET, format!("/api/videos/{id}/original")),
            (Method::GET, format!("/api/videos/{id}/processed")),
            (Method::POST, format!("/api/public/videos/{id}/vote")),
            (Method::GET, format!("/api/public/videos/{id}/stream")),
        ];
        for (method, path) in &paths {
            let reply = api.send(api.as_player(&ana, method.clone(), path)).await;
            assert_eq!(reply.status, 404, "{method} {path}");
            reply.expect_error(404, "not_found");
        }
    }
    api.get("/api/no-such-route")
        .await
        .expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_that_is_not_processed_cannot_be_published_downloaded_or_voted_for() {
    // `anb serve` runs no worker: the upload stays `uploaded`.
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let ben = api.player("Ben", "Mejía", "Medellín").await;
    let clip = small_clip();
    let video = api.upload_clip(&ana, &clip, "Pendiente").await;

    let detail = api
        .get_as(&ana, &format!("/api/videos/{video}"))
        .await
        .expect_json(200);
    assert_has_fields(&detail, DETAIL_FIELDS);
    assert_eq!(detail["status"], "uploaded");
    assert_eq!(detail["processed_url"], Value::Null);
    assert_eq!(detail["processed_at"], Value::Null);

    for path in [
        format!("/api/videos/{video}/processed"),
        format!("/api/videos/{video}/thumbnail"),
    ] {
        let detail = api
            .get_as(&ana, &path)
            .await
            .expect_error(400, "not_processed");
        assert_eq!(detail, "El video aún no ha sido procesado.", "{path}");
    }
    let detail = api
        .post_as(&ana, &format!("/api/videos/{video}/publish"))
        .await
        .expect_error(400, "not_processed");
    assert_eq!(detail, "El video aún no ha sido procesado.");
    api.post_as(&ben, &format!("/api/public/videos/{video}/vote"))
        .await
        .expect_error(400, "not_votable");
    api.get(&format!("/api/public/videos/{video}/stream"))
        .await
        .expect_error(404, "not_found");
    let (gallery, total) = api.get("/api/public/videos").await.expect_page();
    assert_eq!((gallery.len(), total), (0, 0));

    // The original is there from the start, whole and by range.
    let original = api
        .get_as(&ana, &format!("/api/videos/{video}/original"))
        .await;
    assert_eq!(original.status, 200);
    assert_eq!(original.body.as_ref(), clip.as_slice());
    let part = api
        .send(
            api.as_player(&ana, Method::GET, &format!("/api/videos/{video}/original"))
                .header(RANGE, "bytes=10-19"),
        )
        .await;
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-19/{}", clip.len()).as_str())
    );
    assert_eq!(part.body.as_ref(), &clip[10..20]);

    // Unvoted and unpublished: it can be deleted.
    let deleted = api
        .delete_as(&ana, &format!("/api/videos/{video}"))
        .await
        .expect_json(200);
    assert_eq!(
        deleted["message"],
        "El video ha sido eliminado exitosamente."
    );
    api.get_as(&ana, &format!("/api/videos/{video}"))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_twice_for_your_own_or_for_closed_or_unknown_videos_are_refused() {
    let anb = start(Launch::all()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let ben = api.player("Ben", "Mejía", "Medellín").await;
    let cata = api.player("Cata", "Díaz", "Cali").await;
    let dani = api.player("Dani", "Gómez", "Cali").await;
    let video = api.upload_clip(&ana, &small_clip(), "Volcada").await;
    api.wait_processed(&ana, &video).await;
    let vote_path = format!("/api/public/videos/{video}/vote");

    let first = api.post_as(&ben, &vote_path).await.expect_json(200);
    assert_eq!(first["total_votes"], 1);
    api.post_as(&ben, &vote_path)
        .await
        .expect_error(400, "already_voted");
    api.post_as(&ana, &vote_path)
        .await
        .expect_error(400, "self_vote");

    // Twenty identical votes at once: exactly one counts.
    let burst: Vec<_> = (0..20).map(|_| api.post_as(&cata, &vote_path)).collect();
    let replies = futures::future::join_all(burst).await;
    let accepted = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(accepted, 1, "of 20 concurrent identical votes");
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.expect_error(400, "already_voted");
    }

    // Unknown and malformed ids.
    for id in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        api.post_as(&dani, &format!("/api/public/videos/{id}/vote"))
            .await
            .expect_error(404, "not_found");
    }

    // Taken out of the gallery, it takes no more votes but keeps its own.
    api.post_as(&ana, &format!("/api/videos/{video}/unpublish"))
        .await
        .expect_json(200);
    api.post_as(&dani, &vote_path)
        .await
        .expect_error(400, "not_votable");
    api.get(&format!("/api/public/videos/{video}/stream"))
        .await
        .expect_error(404, "not_found");
    let (gallery, _) = api.get("/api/public/videos").await.expect_page();
    assert!(gallery
        .iter()
        .all(|item| item["video_id"] != video.as_str()));
    let detail = api
        .get_as(&ana, &format!("/api/videos/{video}"))
        .await
        .expect_json(200);
    assert_eq!(detail["votes"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_paging_values_are_validation_errors_on_every_list() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let bad = [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
    ];
    for list in ["/api/videos", "/api/public/videos", "/api/public/rankings"] {
        for (query, field) in bad {
            let path = format!("{list}?{query}");
            let detail = api
                .get_as(&ana, &path)
                .await
                .expect_error(400, "validation_error");
            assert!(detail.contains(field), "{path}: {detail:?}");
        }
        let (items, total) = api
            .get_as(&ana, &format!("{list}?page=1&page_size=100"))
            .await
            .expect_page();
        assert!(items.len() as u64 <= total);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gallery_and_the_rankings_refuse_malformed_filters() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let long = "x".repeat(101);
    let bad = [
        ("/api/public/videos?sort=random".to_owned(), "sort"),
        (format!("/api/public/videos?q={long}"), "q"),
        (format!("/api/public/videos?city={long}"), "city"),
        (format!("/api/public/rankings?city={long}"), "city"),
        (format!("/api/public/rankings?country={long}"), "country"),
    ];
    for (path, field) in &bad {
        let detail = api.get(path).await.expect_error(400, "validation_error");
        assert!(detail.contains(field), "{path}: {detail:?}");
    }
    for good in [
        "/api/public/videos?sort=recent&city=Bogotá&q=triple",
        "/api/public/rankings?city=Bogotá&country=Colombia",
    ] {
        let (items, total) = api.get(good).await.expect_page();
        assert_eq!((items.len(), total), (0, 0), "{good}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_the_openapi_document_and_metrics_answer() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());

    let health = api.get("/health").await.expect_json(200);
    assert_eq!(health, json!({"status": "healthy"}));

    let ready = api.get("/health/ready").await.expect_json(200);
    assert_eq!(ready["status"], "ready");
    let checks = ready["checks"].as_object().expect("per-backend checks");
    assert!(!checks.is_empty());
    assert!(checks.values().all(|v| v == "ok"), "{ready}");

    let spec = api.get("/openapi.json").await.expect_json(200);
    let version = spec["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    for path in [
        "/api/auth/signup",
        "/api/videos/upload",
        "/api/public/rankings",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} is not in the spec"
        );
    }

    let docs = api.get("/docs").await;
    assert_eq!(docs.status, 200);
    assert!(docs
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/html")));

    let metrics = api.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8_lossy(&metrics.body);
    let health_counted = text.lines().any(|line| {
        line.starts_with("anb_http_requests_total{")
            && line.contains("route=\"health\"")
            && line.contains("status=\"200\"")
    });
    assert!(
        health_counted,
        "no anb_http_requests_total for /health in:\n{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Memory.

/// The size of the streamed upload.
const BIG_UPLOAD: u64 = 100 * 1024 * 1024;

/// How much the server's resident memory may grow while it receives it.
const MEMORY_BUDGET: u64 = 32 * 1024 * 1024;

/// `BIG_UPLOAD` pseudo-random bytes, made as they are sent (never held whole).
fn generated_body() -> reqwest::Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = futures::stream::unfold(
        (0_u64, 0x9E37_79B9_7F4A_7C15_u64),
        |(sent, seed)| async move {
            if sent >= BIG_UPLOAD {
                return None;
            }
            let len = CHUNK.min((BIG_UPLOAD - sent) as usize);
            let chunk = bytes::Bytes::from(pseudo_random_bytes(len, seed));
            Some((
                Ok::<_, std::io::Error>(chunk),
                (
                    sent + len as u64,
                    seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                ),
            ))
        },
    );
    reqwest::Body::wrap_stream(chunks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_upload_is_streamed_without_growing_the_servers_memory_by_32_mb() {
    let anb = start(Launch::serve().env("ANB_MAX_UPLOAD_MB", "200")).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    // A first, smaller upload pays the one-time costs (the probe's and the store's set-up,
    // thread stacks), so what is measured next is what grows with the body.
    let warm_up = file_part(
        pseudo_random_bytes(16 * 1024 * 1024, 3),
        "warm-up.mp4",
        "video/mp4",
    );
    api.upload(&ana, upload_form(warm_up, "Calentamiento"))
        .await
        .expect_error(400, "invalid_file");

    let started = Instant::now();
    let file = Part::stream_with_length(generated_body(), BIG_UPLOAD)
        .file_name("big.mp4")
        .mime_str("video/mp4")
        .unwrap();
    let (reply, growth) = anb
        .memory_growth_during(api.upload(&ana, upload_form(file, "Cien megas")))
        .await;
    let elapsed = started.elapsed();

    // The server read all of it: only then does the probe's verdict count.
    reply.expect_error(400, "invalid_file");
    eprintln!(
        "100 MiB upload in {elapsed:?}: resident memory grew by {:.1} MiB at the peak",
        growth as f64 / (1024.0 * 1024.0)
    );
    assert!(
        growth < MEMORY_BUDGET,
        "the server's resident memory grew by {growth} bytes while receiving {BIG_UPLOAD} bytes"
    );
    assert!(
        anb.blob_files().is_empty(),
        "a refused upload leaves nothing behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_is_served_at_the_root_and_its_files_are_cached_by_content_hash() {
    let anb = start(Launch::serve().env("ANB_MAX_UPLOAD_MB", "7")).await;
    let api = Api::new(anb.base_url());

    // The page: revalidated every time, a strict policy, the server's upload limit in it.
    let page = api.get("/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let policy = page.header("content-security-policy").expect("a CSP");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = String::from_utf8(page.body.to_vec()).expect("utf-8");
    assert!(
        html.contains(&format!("content=\"{}\"", 7 * 1024 * 1024)),
        "{html}"
    );
    let etag = page.header("etag").expect("an ETag").to_owned();
    let again = api
        .send(api.request(Method::GET, "/").header("if-none-match", &etag))
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    // Its files live under one hash of their contents, cached for a year there.
    let script = html
        .split("src=\"")
        .find_map(|rest| {
            rest.split('"')
                .next()
                .filter(|src| src.ends_with("/js/app.js"))
        })
        .expect("the app's script")
        .to_owned();
    let hash = script
        .strip_prefix("/assets/")
        .and_then(|rest| rest.split('/').next())
        .expect("/assets/<hash>/…");
    assert_eq!(hash.len(), 16, "{script}");
    let js = api.get(&script).await;
    assert_eq!(js.status, 200);
    assert!(js
        .header("content-type")
        .is_some_and(|ct| ct.contains("javascript")));
    assert_eq!(
        js.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(String::from_utf8_lossy(&js.body).contains("import"));
    let css = api.get(&format!("/assets/{hash}/app.css")).await;
    assert_eq!(css.status, 200);
    assert!(css
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/css")));

    // Under another hash (a page of an older build): served, but never pinned.
    let stale = api.get("/assets/0123456789abcdef/app.css").await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.header("cache-control"), Some("no-cache"));
    assert_eq!(stale.body, css.body);

    // Compressed when the browser accepts it; unknown files are the contract's 404; the page
    // template itself is not an asset.
    let compressed = api
        .send(
            api.request(Method::GET, &script)
                .header("accept-encoding", "br"),
        )
        .await;
    assert_eq!(compressed.header("content-encoding"), Some("br"));
    assert!(compressed.body.len() < js.body.len());
    api.get(&format!("/assets/{hash}/nope.js"))
        .await
        .expect_error(404, "not_found");
    api.get(&format!("/assets/{hash}/index.html"))
        .await
        .expect_error(404, "not_found");
    api.get(&format!("/assets/{hash}/../Cargo.toml"))
        .await
        .expect_error(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Processing progress.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sees_percent_and_eta_grow_while_a_video_is_processed() {
    let anb = start(Launch::all()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Ruiz", "Pasto").await;
    let clip = clip_bytes(&Clip::h264(20.0).size("1280x720"), "long.mp4");
    let video_id = api.upload_clip(&ana, &clip, "Largo").await;
    let path = format!("/api/videos/{video_id}");
    let mut seen = Vec::new();
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let detail = api.get_as(&ana, &path).await.expect_json(200);
        match detail["status"].as_str().unwrap() {
            "processed" => {
                assert_eq!(
                    detail["progress"],
                    Value::Null,
                    "no progress once processed"
                );
                break;
            }
            "processing" if !detail["progress"].is_null() => {
                let percent = detail["progress"]["percent"].as_f64().unwrap();
                assert!((0.0..=100.0).contains(&percent), "{detail}");
                seen.push((percent, detail["progress"]["eta_seconds"].as_f64()));
            }
            "uploaded" | "processing" => {}
            other => panic!("{other}: {detail}"),
        }
        assert!(Instant::now() < deadline, "not processed in time");
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    assert!(
        seen.windows(2).all(|w| w[1].0 >= w[0].0),
        "percent never goes back: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(percent, eta)| *percent > 0.0 && *percent < 100.0 && eta.is_some()),
        "a percent between 0 and 100 with an ETA was seen: {seen:?}"
    );
    let (items, _) = api.get_as(&ana, "/api/videos").await.expect_page();
    assert_eq!(items[0]["progress"], Value::Null);
}
