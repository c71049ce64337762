//! Webhooks over HTTP on the real binary, with a real HTTP receiver in the test that verifies
//! every signature (the Standard Webhooks reference verifier): a video's events arrive in
//! order; a receiver answering 500 twice gets the same `webhook-id` three times and the
//! delivery log says so; a receiver that keeps failing gets retries with growing delays, then a
//! dead letter; a private URL is refused without `ANB_WEBHOOK_ALLOW_PRIVATE`; a change whose
//! transaction rolls back emits nothing. On the embedded defaults and on PostgreSQL + Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anb_adapters::testkit::clips::{self, Clip};
use anb_adapters::testkit::services;
use poem::http::{HeaderMap, StatusCode};
use poem::listener::TcpAcceptor;
use poem::{Body, Request, Response};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{Anb, Launch};
use crate::support::client::{Api, Player};

/// The deployment's webhook secret in these tests.
const DEPLOYMENT_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
    at: Instant,
}

impl Received {
    fn id(&self) -> &str {
        self.headers["webhook-id"].to_str().unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Checks the signature with `secret` (panics when it does not verify).
    fn verify(&self, secret: &str) {
        let verifier = standardwebhooks::Webhook::new(secret).unwrap();
        let headers = reqwest::header::HeaderMap::from_iter(self.headers.iter().map(|(k, v)| {
            (
                reqwest::header::HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
                reqwest::header::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            )
        }));
        verifier
            .verify(&self.body, &headers)
            .unwrap_or_else(|e| panic!("a bad signature ({e}) on {self:?}"));
        // And a tampered body does not verify.
        let mut tampered = self.body.clone();
        tampered.push(b' ');
        assert!(verifier.verify(&tampered, &headers).is_err());
    }
}

/// An HTTP receiver: every request is kept; each path answers the statuses it is given in
/// turn, then 200.
#[derive(Clone)]
struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
    scripts: Arc<Mutex<HashMap<String, Vec<u16>>>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let receiver = Self {
            base,
            got: Arc::default(),
            scripts: Arc::default(),
        };
        let state = receiver.clone();
        let app = poem::endpoint::make(move |request: Request| {
            let state = state.clone();
            async move { state.answer(request).await }
        });
        let acceptor = TcpAcceptor::from_std(listener).unwrap();
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        receiver
    }

    async fn answer(&self, mut request: Request) -> Response {
        let body = request.take_body().into_vec().await.unwrap_or_default();
        let path = request.uri().path().to_owned();
        self.got.lock().unwrap().push(Received {
            path: path.clone(),
            headers: request.headers().clone(),
            body,
            at: Instant::now(),
        });
        let status = {
            let mut scripts = self.scripts.lock().unwrap();
            match scripts.get_mut(&path) {
                _ if path.starts_with("/down") => 503,
                Some(script) if !script.is_empty() => script.remove(0),
                _ => 200,
            }
        };
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .body(Body::empty())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Makes `path` answer `statuses` in turn (a `/down…` path answers 503 for good).
    fn script(&self, path: &str, statuses: &[u16]) {
        self.scripts
            .lock()
            .unwrap()
            .insert(path.to_owned(), statuses.to_vec());
    }

    fn at(&self, path: &str) -> Vec<Received> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits until `path` got what `done` wants (panics after 30 s with what it got).
    async fn wait(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.at(path);
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: no {what} within 30 s; got {:?}",
                got.iter().map(Received::json).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The event types `got` carries for `video`, in arrival order.
fn types_for(got: &[Received], video: &str) -> Vec<String> {
    got.iter()
        .map(Received::json)
        .filter(|b| b["data"]["video_id"] == video)
        .map(|b| b["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Subscribes `player` to `events` at `url`; the webhook.
async fn subscribe(api: &Api, player: &Player, url: &str, events: &[&str]) -> Value {
    let body = json!({ "url": url, "events": events });
    api.send(
        api.as_player(player, Method::POST, "/api/webhooks")
            .json(&body),
    )
    .await
    .expect_json(201)
}

/// The delivery log of `webhook`.
async fn deliveries(api: &Api, player: &Player, webhook: &Value) -> Vec<Value> {
    let path = format!(
        "/api/webhooks/{}/deliveries",
        webhook["webhook_id"].as_str().unwrap()
    );
    api.get_as(player, &path).await.expect_page().0
}

/// The launch every webhook test shares: the receiver reachable, retries quick, the
/// deployment's webhook at `/deployment`.
fn with_webhooks(launch: Launch, receiver: &Receiver) -> Launch {
    launch
        .env("ANB_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("ANB_WEBHOOK_RETRY_FIRST_MS", "400")
        .env("ANB_WEBHOOK_GIVE_UP_AFTER_SECONDS", "6")
        .env("ANB_WEBHOOK_URL", receiver.url("/deployment"))
        .env("ANB_WEBHOOK_SECRET", DEPLOYMENT_SECRET)
        .env("ANB_OPS_TOKEN", OPS_TOKEN)
}

/// The operators' token in these tests.
const OPS_TOKEN: &str = "operators-only-token-0123456789";

/// The checks on one running `anb` (API and worker) whose deployment webhook is `receiver`'s
/// `/deployment`; returns Ana, her published video and her webhook for the rollback check.
async fn check_webhooks(anb: &Anb, receiver: &Receiver) -> (Api, Player, String) {
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Webhook", "Cali").await;
    let hook = subscribe(&api, &ana, &receiver.url("/ana"), &[]).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{hook}");
    assert_eq!(hook["events"].as_array().unwrap().len(), 8, "{hook}");
    let listed = api.get_as(&ana, "/api/webhooks").await.expect_json(200);
    assert_eq!(listed[0]["webhook_id"], hook["webhook_id"]);
    // A receiver that fails twice, and one that keeps failing.
    receiver.script("/flaky", &[500, 500]);
    let flaky = subscribe(&api, &ana, &receiver.url("/flaky"), &["video.unpublished"]).await;
    let down = subscribe(&api, &ana, &receiver.url("/down"), &["video.published"]).await;

    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let video = api.upload_clip(&ana, &clip, "Gancho").await;
    api.wait_processed(&ana, &video).await;
    let unpublish = format!("/api/videos/{video}/unpublish");
    api.post_as(&ana, &unpublish).await.expect_json(200);
    let publish = format!("/api/videos/{video}/publish");
    api.post_as(&ana, &publish).await.expect_json(200);

    // Every event of the video, in order, signed with the webhook's secret.
    let expected = [
        "video.uploaded",
        "video.processing",
        "video.processed",
        "video.published",
        "video.unpublished",
        "video.published",
    ];
    let got = receiver
        .wait("/ana", "six events", |got| {
            types_for(got, &video).len() >= 6
        })
        .await;
    assert_eq!(types_for(&got, &video), expected);
    for r in &got {
        r.verify(&secret);
        assert_eq!(r.json()["data"]["player_id"], ana.user_id.as_str());
    }
    let trail = api
        .get_as(&ana, &format!("/api/videos/{video}/events"))
        .await
        .expect_json(200);
    let trail_ids: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    let sent_ids: Vec<&str> = got.iter().map(Received::id).collect();
    assert_eq!(
        trail_ids, sent_ids,
        "webhook-id is the audit trail's event id"
    );
    let processing = &trail[1];
    assert!(
        processing["worker"].as_str().unwrap().contains(':'),
        "{trail}"
    );
    assert_eq!(processing["attempt"], 1, "{trail}");
    // The deployment's webhook hears of every video, signed with its own secret.
    let deployed = receiver
        .wait("/deployment", "six events", |got| {
            types_for(got, &video).len() >= 6
        })
        .await;
    assert_eq!(types_for(&deployed, &video), expected);
    deployed.iter().for_each(|r| r.verify(DEPLOYMENT_SECRET));

    // 500, 500, 200: three attempts with one webhook-id, one delivery in the log.
    let tries = receiver
        .wait("/flaky", "three attempts", |got| got.len() >= 3)
        .await;
    assert_eq!(tries.len(), 3);
    assert!(tries.iter().all(|r| r.id() == tries[0].id()), "{tries:?}");
    let log = deliveries(&api, &ana, &flaky).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
    assert_eq!(log[0]["attempts"], 3, "{log:?}");
    assert_eq!(log[0]["last_response_code"], 200, "{log:?}");
    assert_eq!(log[0]["event_id"], tries[0].id());

    // Always 503: retries with growing delays, then a dead letter.
    let deadline = Instant::now() + Duration::from_secs(40);
    let log = loop {
        let log = deliveries(&api, &ana, &down).await;
        if log.iter().all(|d| d["status"] == "dead") && log.len() == 2 {
            break log;
        }
        assert!(Instant::now() < deadline, "not dead-lettered: {log:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let attempts = receiver.at("/down");
    let first_event: Vec<&Received> = attempts
        .iter()
        .filter(|r| r.id() == log[1]["event_id"])
        .collect();
    assert!(first_event.len() >= 3, "{first_event:?}");
    assert_eq!(log[1]["attempts"], first_event.len(), "{log:?}");
    assert_eq!(log[1]["last_response_code"], 503, "{log:?}");
    let gaps: Vec<Duration> = first_event.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(
        gaps.windows(2)
            .all(|w| w[1] + Duration::from_millis(150) >= w[0])
            && gaps.last() > gaps.first(),
        "delays grow: {gaps:?}"
    );

    // The operator's summary: the processed video, the worker, the dead letters.
    api.get("/api/ops/summary")
        .await
        .expect_error(401, "unauthorized");
    let wrong = api
        .request(Method::GET, "/api/ops/summary")
        .bearer_auth("not-the-token");
    api.send(wrong).await.expect_error(401, "unauthorized");
    let asked = api
        .request(Method::GET, "/api/ops/summary")
        .bearer_auth(OPS_TOKEN);
    let summary = api.send(asked).await.expect_json(200);
    assert!(
        summary["last_hour"]["processed"].as_u64() >= Some(1),
        "{summary}"
    );
    assert!(
        summary["last_hour"]["p50_seconds"].as_f64() > Some(0.0),
        "{summary}"
    );
    assert!(
        summary["last_hour"]["p95_seconds"].as_f64()
            >= summary["last_hour"]["p50_seconds"].as_f64(),
        "{summary}"
    );
    assert!(summary["webhooks"]["dead"].as_u64() >= Some(2), "{summary}");
    let workers = summary["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 1, "{summary}");
    assert!(
        workers[0]["name"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{}", anb.pid())),
        "{summary}"
    );
    (api, ana, video)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_deliver_signed_events_in_order_retry_and_dead_letter_on_the_embedded_defaults() {
    let receiver = Receiver::start().await;
    let anb = tokio::task::block_in_place(|| with_webhooks(Launch::all(), &receiver).start());
    check_webhooks(&anb, &receiver).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_deliver_on_postgres_and_redis_and_a_rolled_back_change_emits_nothing() {
    let receiver = Receiver::start().await;
    let database_url = services::empty_postgres_database_url().await;
    let launch = Launch::all()
        .env("ANB_DATABASE_URL", &database_url)
        .env("ANB_QUEUE_URL", services::redis_url())
        .env(
            "ANB_QUEUE_NAME",
            format!("anb-test-{}", uuid::Uuid::new_v4().simple()),
        )
        .env(
            "ANB_JWT_SECRET",
            "0123456789abcdef0123456789abcdef0123456789abcdef",
        );
    let anb = tokio::task::block_in_place(|| with_webhooks(launch, &receiver).start());
    let (api, ana, video) = check_webhooks(&anb, &receiver).await;

    // A state change whose transaction fails after its event was written: the unpublish is
    // refused by the database, and nothing of it is left or sent.
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    sqlx::query(
        "CREATE FUNCTION refuse_unpublished() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.kind = 'video.unpublished' THEN RAISE EXCEPTION 'refused by the test'; \
         END IF; RETURN NEW; END $$",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_unpublished AFTER INSERT ON video_events FOR EACH ROW \
         EXECUTE FUNCTION refuse_unpublished()",
    )
    .execute(&pool)
    .await
    .unwrap();
    let before = receiver.at("/ana").len();
    let refused = api
        .post_as(&ana, &format!("/api/videos/{video}/unpublish"))
        .await;
    assert!(refused.status.is_server_error(), "{refused:?}");
    let detail = api
        .get_as(&ana, &format!("/api/videos/{video}"))
        .await
        .expect_json(200);
    assert_eq!(
        detail["is_public"], true,
        "the change rolled back: {detail}"
    );
    let trail = api
        .get_as(&ana, &format!("/api/videos/{video}/events"))
        .await
        .expect_json(200);
    assert_eq!(trail.as_array().unwrap().len(), 6, "{trail}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.at("/ana").len(), before, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_to_a_private_address_is_refused_unless_the_deployment_allows_it() {
    let anb = tokio::task::block_in_place(|| Launch::serve().start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Privada", "Cali").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let body = json!({ "url": url });
        api.send(
            api.as_player(&ana, Method::POST, "/api/webhooks")
                .json(&body),
        )
        .await
        .expect_error(400, "webhook_url_refused");
    }
    let body = json!({ "url": "ftp://example.com/hook" });
    api.send(
        api.as_player(&ana, Method::POST, "/api/webhooks")
            .json(&body),
    )
    .await
    .expect_error(400, "validation_error");
    let body = json!({ "url": "https://example.com/hook", "events": ["video.exploded"] });
    api.send(
        api.as_player(&ana, Method::POST, "/api/webhooks")
            .json(&body),
    )
    .await
    .expect_error(400, "validation_error");
}
