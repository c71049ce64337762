//! The real `anb` binary under hostile traffic, as a script on the open internet sends it:
//! huge bodies of every shape, half-sent requests, trickled bodies, idle and surplus
//! connections, foreign origins, made-up methods, sign-up, login and vote bursts (directly and
//! through a trusted proxy), and a login storm against the password hasher. Build the binary
//! first: `cargo build --bin anb`.

use crate::support::app;
use crate::support::client;
use crate::support::raw_http;

use std::time::Duration;

use app::{Anb, Launch};
use client::{signup_body, unique_email, Api};
use raw_http::{exchange, filler, Outcome};
use reqwest::Method;

/// How far the server's resident memory may rise while it refuses a huge body.
const MEMORY_BUDGET: u64 = 32 * 1024 * 1024;

/// The size of every huge body.
const HUGE: u64 = 300 * 1024 * 1024;

/// Starts `launch` without stalling the test's runtime.
async fn start(launch: Launch) -> Anb {
    tokio::task::block_in_place(move || launch.start())
}

/// Runs a raw exchange off the runtime.
async fn raw(
    base_url: &str,
    head: String,
    chunked: bool,
    chunks: impl Iterator<Item = Vec<u8>> + Send + 'static,
) -> Outcome {
    let base_url = base_url.to_owned();
    tokio::task::spawn_blocking(move || exchange(&base_url, &head, chunked, chunks))
        .await
        .unwrap()
}

/// A POST head with a chunked body.
fn chunked_post(path: &str, content_type: &str, token: Option<&str>) -> String {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!(
        "POST {path} HTTP/1.1\r\nHost: anb\r\nContent-Type: {content_type}\r\n{auth}\
         Transfer-Encoding: chunked\r\n\r\n"
    )
}

/// The head of a chunked multipart upload (boundary `XyZ`) with `token`.
fn upload_head(token: &str) -> String {
    chunked_post(
        "/api/videos/upload",
        "multipart/form-data; boundary=XyZ",
        Some(token),
    )
}

/// Asserts that `outcome` is the refusal `status` with the error `code`.
fn assert_refused(outcome: &Outcome, status: u16, code: &str, what: &str) {
    assert_eq!(
        (outcome.status, outcome.code().as_deref()),
        (Some(status), Some(code)),
        "{what}: {:?}",
        outcome.response
    );
}

// ---------------------------------------------------------------------------------------------
// Bodies.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_of_300_mb_of_every_shape_are_refused_early_without_growing_memory_by_32_mb() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let token = ana.token.clone();
    let junk_part = b"--XyZ\r\nContent-Disposition: form-data; name=\"junk\"\r\n\r\n".to_vec();
    let shapes: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
        (
            "JSON as application/x+json",
            chunked_post("/api/auth/login", "application/x+json", None),
            Vec::new(),
            413,
            "payload_too_large",
        ),
        (
            "JSON as Application/JSON",
            chunked_post("/api/auth/login", "Application/JSON", None),
            Vec::new(),
            413,
            "payload_too_large",
        ),
        (
            "text/plain to sign-up",
            chunked_post("/api/auth/signup", "text/plain", None),
            Vec::new(),
            413,
            "payload_too_large",
        ),
        (
            "an unknown multipart field first",
            upload_head(&token),
            junk_part,
            400,
            "validation_error",
        ),
        (
            "a multipart preamble without the boundary",
            upload_head(&token),
            Vec::new(),
            400,
            "validation_error",
        ),
    ];
    for (what, head, first, status, code) in shapes {
        let chunks = std::iter::once(first)
            .filter(|c| !c.is_empty())
            .chain(filler(b'j', HUGE, 256 * 1024));
        let (outcome, growth) = anb
            .memory_growth_during(raw(anb.base_url(), head, true, chunks))
            .await;
        assert_refused(&outcome, status, code, what);
        eprintln!(
            "{what}: {status} after {} KiB sent in {:?}; memory +{:.1} MiB",
            outcome.body_bytes_sent / 1024,
            outcome.elapsed,
            growth as f64 / (1024.0 * 1024.0)
        );
        assert!(
            outcome.body_bytes_sent < 64 * 1024 * 1024,
            "{what}: the server read {} bytes before refusing",
            outcome.body_bytes_sent
        );
        assert!(
            growth < MEMORY_BUDGET,
            "{what}: memory grew by {growth} bytes"
        );
    }
    // A declared length over the limit is refused before a byte of the body is read.
    let declared = raw(
        anb.base_url(),
        format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: anb\r\nContent-Type: application/json\r\n\
             Content-Length: {HUGE}\r\n\r\n"
        ),
        false,
        std::iter::empty(),
    )
    .await;
    assert_refused(
        &declared,
        413,
        "payload_too_large",
        "a declared 300 MB body",
    );
    assert!(
        anb.blob_files().is_empty(),
        "nothing is kept from refused uploads"
    );
    api.get("/health").await.expect_json(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_cut_off_as_file_too_large() {
    let anb = start(Launch::serve().env("ANB_MAX_UPLOAD_MB", "2")).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let file_part =
        b"--XyZ\r\nContent-Disposition: form-data; name=\"video_file\"; filename=\"a.mp4\"\r\n\r\n"
            .to_vec();
    let outcome = raw(
        anb.base_url(),
        upload_head(&ana.token),
        true,
        std::iter::once(file_part).chain(filler(b'v', HUGE, 256 * 1024)),
    )
    .await;
    assert_refused(
        &outcome,
        400,
        "file_too_large",
        "a 300 MB file over a 2 MB limit",
    );
    assert!(outcome.body_bytes_sent < 64 * 1024 * 1024);
    assert!(anb.blob_files().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Time and connections.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_headers_stop_half_way_is_closed_within_the_header_timeout() {
    let anb = start(Launch::serve().env("ANB_HTTP_HEADER_TIMEOUT_SECONDS", "2")).await;
    let outcome = raw(
        anb.base_url(),
        "GET /health HTTP/1.1\r\nHost: anb\r\nX-Half: ".to_owned(),
        false,
        std::iter::empty(),
    )
    .await;
    assert_eq!(outcome.status, None, "{:?}", outcome.response);
    assert!(
        outcome.elapsed >= Duration::from_millis(1900) && outcome.elapsed < Duration::from_secs(6),
        "closed after {:?}",
        outcome.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickled_slower_than_the_minimum_rate_is_answered_408() {
    let anb = start(
        Launch::serve()
            .env("ANB_HTTP_BODY_TIMEOUT_SECONDS", "1")
            .env("ANB_HTTP_MIN_BODY_RATE_KIB", "1"),
    )
    .await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let trickle = |bytes: Vec<u8>| {
        bytes.into_iter().map(|byte| {
            std::thread::sleep(Duration::from_millis(300));
            vec![byte]
        })
    };
    let json = raw(
        anb.base_url(),
        "POST /api/auth/login HTTP/1.1\r\nHost: anb\r\nContent-Type: application/json\r\n\
         Content-Length: 4000\r\n\r\n"
            .to_owned(),
        false,
        trickle(vec![b' '; 4000]),
    )
    .await;
    assert_refused(&json, 408, "request_timeout", "a trickled JSON body");
    assert!(json.elapsed < Duration::from_secs(10), "{:?}", json.elapsed);

    let mut upload = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n".to_vec();
    upload.extend(std::iter::repeat_n(b't', 4000));
    let multipart = raw(
        anb.base_url(),
        upload_head(&ana.token),
        true,
        trickle(upload),
    )
    .await;
    assert_refused(&multipart, 408, "request_timeout", "a trickled upload");
    api.get("/health").await.expect_json(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_on_which_nothing_moves_is_closed_after_the_idle_timeout() {
    let anb = start(
        Launch::serve()
            .env("ANB_HTTP_HEADER_TIMEOUT_SECONDS", "60")
            .env("ANB_HTTP_IDLE_TIMEOUT_SECONDS", "1"),
    )
    .await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    // An upload that stops after its first bytes.
    let outcome = raw(
        anb.base_url(),
        upload_head(&ana.token),
        true,
        std::iter::once(b"--XyZ\r\n".to_vec()).chain(std::iter::once_with(|| {
            std::thread::sleep(Duration::from_secs(5));
            Vec::new()
        })),
    )
    .await;
    assert!(
        outcome.elapsed < Duration::from_secs(4),
        "a stalled upload was kept for {:?}",
        outcome.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_until_one_closes() {
    let anb = start(Launch::serve().env("ANB_HTTP_MAX_CONNECTIONS", "2")).await;
    let base = anb.base_url().to_owned();
    let hold = [raw_http::connect(&base), raw_http::connect(&base)];
    // Give the server a moment to accept both.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let third = tokio::task::spawn_blocking(move || {
        exchange(
            &base,
            "GET /health HTTP/1.1\r\nHost: anb\r\nConnection: close\r\n\r\n",
            false,
            std::iter::empty(),
        )
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served past a cap of 2"
    );
    drop(hold);
    let outcome = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("served once a slot frees")
        .unwrap();
    assert_eq!(outcome.status, Some(200), "{:?}", outcome.response);
}

// ---------------------------------------------------------------------------------------------
// CORS and metrics.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_never_granted_and_only_configured_origins_are() {
    let allow_origin = |reply: &client::Reply| {
        reply
            .header("access-control-allow-origin")
            .map(str::to_owned)
    };
    let preflight = |api: &Api, origin: &str| {
        api.request(Method::OPTIONS, "/api/public/rankings")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
    };
    let closed = start(Launch::serve()).await;
    let api = Api::new(closed.base_url());
    let evil = "https://evil.example";
    let plain = api
        .send(
            api.request(Method::GET, "/api/public/rankings")
                .header("origin", evil),
        )
        .await;
    assert_eq!(allow_origin(&plain), None);
    assert_eq!(allow_origin(&api.send(preflight(&api, evil)).await), None);

    let open = start(Launch::serve().env("ANB_CORS_ORIGINS", "https://anb.example")).await;
    let api = Api::new(open.base_url());
    assert_eq!(allow_origin(&api.send(preflight(&api, evil)).await), None);
    let foreign = api
        .send(
            api.request(Method::GET, "/api/public/rankings")
                .header("origin", evil),
        )
        .await;
    assert_eq!(allow_origin(&foreign), None);
    let listed = api
        .send(
            api.request(Method::GET, "/api/public/rankings")
                .header("origin", "https://anb.example"),
        )
        .await;
    assert_eq!(
        allow_origin(&listed).as_deref(),
        Some("https://anb.example")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_made_up_methods_add_no_metric_series() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let series = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("anb_http_request"))
            .count()
    };
    // One made-up method first, so its single series exists, and the metrics page once, so
    // its own series exist too.
    let warm = Method::from_bytes(b"WARMUP").unwrap();
    api.send(api.request(warm, "/api/public/rankings")).await;
    assert_eq!(api.get("/metrics").await.status, 200);
    let before = series(&String::from_utf8_lossy(&api.get("/metrics").await.body));
    for n in 0..200 {
        let method = Method::from_bytes(format!("MADEUP{n}").as_bytes()).unwrap();
        api.send(api.request(method, "/api/public/rankings")).await;
    }
    let text = String::from_utf8_lossy(&api.get("/metrics").await.body).into_owned();
    let after = series(&text);
    assert_eq!(
        after, before,
        "series before and after 200 made-up methods:\n{text}"
    );
    assert!(!text.contains("MADEUP"), "a raw method became a label");
}

// ---------------------------------------------------------------------------------------------
// Abuse limits.

/// Signs up `count` players as `api` would; returns each reply's status and the last reply.
async fn sign_ups(api: &Api, count: usize, forwarded_for: Option<&str>) -> Vec<u16> {
    let mut statuses = Vec::new();
    for n in 0..count {
        let email = unique_email(&format!("burst{n}"));
        let mut request = api
            .request(Method::POST, "/api/auth/signup")
            .json(&signup_body("Bot", "Burst", &email, "Cali"));
        if let Some(address) = forwarded_for {
            request = request.header("x-forwarded-for", address);
        }
        let reply = api.send(request).await;
        if reply.status == 429 {
            reply.expect_error(429, "too_many_requests");
            let retry: u64 = reply
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .unwrap();
            assert!(retry >= 1);
        }
        statuses.push(reply.status.as_u16());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ups_from_one_address_meets_429() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let statuses = sign_ups(&api, 12, None).await;
    assert_eq!(&statuses[..10], &[201; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // Writing X-Forwarded-For yourself changes nothing without a trusted proxy.
    assert_eq!(sign_ups(&api, 1, Some("203.0.113.9")).await, [429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_spraying_from_one_address_meets_429_whatever_the_email() {
    // The default count per hour instead of per minute: no token comes back during the test,
    // however slow the machine.
    let anb = start(Launch::serve().env("ANB_RATE_LOGIN_PER_ADDRESS", "20/hour")).await;
    let api = Api::new(anb.base_url());
    let mut refused_at = None;
    for n in 1..=30 {
        let reply = api
            .login(&unique_email(&format!("spray{n}")), "Guess12345")
            .await;
        if reply.status == 429 {
            reply.expect_error(429, "too_many_attempts");
            assert!(reply.header("retry-after").is_some());
            refused_at = Some(n);
            break;
        }
        reply.expect_error(401, "invalid_credentials");
    }
    assert_eq!(
        refused_at,
        Some(21),
        "20 logins a minute per address by default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vote_bursts_meet_429_per_account_and_per_address() {
    // The default counts per hour instead of per minute, so no token comes back mid-test.
    let anb = start(
        Launch::serve()
            .env("ANB_RATE_VOTE_PER_ACCOUNT", "30/hour")
            .env("ANB_RATE_VOTE_PER_ADDRESS", "120/hour"),
    )
    .await;
    let api = Api::new(anb.base_url());
    let mut voters = Vec::new();
    for n in 0..5 {
        voters.push(api.player("Voter", &format!("N{n}"), "Cali").await);
    }
    // Votes on videos that do not exist still count: a burst is a burst.
    let vote = |voter: &client::Player| {
        let path = format!("/api/public/videos/{}/vote", uuid::Uuid::now_v7());
        api.send(api.as_player(voter, Method::POST, &path))
    };
    for _ in 0..30 {
        vote(&voters[0]).await.expect_error(404, "not_found");
    }
    let limited = vote(&voters[0]).await;
    limited.expect_error(429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());
    // 120 from one address: voters 1..=3 bring it to 120 with voter 0's 30.
    for voter in &voters[1..4] {
        for _ in 0..30 {
            vote(voter).await.expect_error(404, "not_found");
        }
    }
    vote(&voters[4])
        .await
        .expect_error(429, "too_many_requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_bursts_meet_429_before_the_body_is_read() {
    let anb = start(
        Launch::serve()
            .env("ANB_RATE_UPLOAD_PER_ACCOUNT", "2/hour")
            .env("ANB_RATE_UPLOAD_PER_ADDRESS", "3/hour"),
    )
    .await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let ben = api.player("Ben", "Mejía", "Medellín").await;
    let junk = || {
        client::upload_form(
            client::file_part(vec![7_u8; 4096], "a.mp4", "video/mp4"),
            "Junk",
        )
    };
    for _ in 0..2 {
        api.upload(&ana, junk())
            .await
            .expect_error(400, "invalid_file");
    }
    let limited = api.upload(&ana, junk()).await;
    limited.expect_error(429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());
    // Ana's refused third did not use up the address: Ben gets its third upload, then none.
    api.upload(&ben, junk())
        .await
        .expect_error(400, "invalid_file");
    api.upload(&ben, junk())
        .await
        .expect_error(429, "too_many_requests");
    // 100 MB at a limited account is refused before the body is read.
    let outcome = raw(
        anb.base_url(),
        upload_head(&ana.token),
        true,
        filler(b'v', 100 * 1024 * 1024, 256 * 1024),
    )
    .await;
    assert_refused(
        &outcome,
        429,
        "too_many_requests",
        "a limited account's upload",
    );
    assert!(outcome.body_bytes_sent < 64 * 1024 * 1024);
    assert!(anb.blob_files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_limits_count_the_forwarded_address() {
    let anb = start(Launch::serve().env("ANB_TRUSTED_PROXIES", "127.0.0.0/8, ::1")).await;
    let api = Api::new(anb.base_url());
    let first = sign_ups(&api, 11, Some("203.0.113.7")).await;
    assert_eq!(&first[..10], &[201; 10], "{first:?}");
    assert_eq!(first[10], 429, "{first:?}");
    // Another client behind the same proxy is not locked out by the first one.
    assert_eq!(sign_ups(&api, 1, Some("203.0.113.8")).await, [201]);
    // Nor is one whose chain passes through another trusted hop.
    assert_eq!(
        sign_ups(&api, 1, Some("198.51.100.4, 127.0.0.2")).await,
        [201]
    );
    // An IPv6 client's whole /64 shares its budget.
    let v6 = sign_ups(&api, 11, Some("2001:db8:1:2::1")).await;
    assert_eq!(v6[10], 429, "{v6:?}");
    assert_eq!(sign_ups(&api, 1, Some("2001:db8:1:2::ffff")).await, [429]);
}

// ---------------------------------------------------------------------------------------------
// Password hashing.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_storm_queues_for_the_hasher_and_is_refused_503_past_the_wait() {
    let anb = start(
        Launch::serve()
            .env("ANB_PASSWORD_HASH_CONCURRENCY", "1")
            .env("ANB_PASSWORD_HASH_WAIT_SECONDS", "1")
            .env("ANB_RATE_LOGIN_PER_ADDRESS", "1000/minute"),
    )
    .await;
    let api = Api::new(anb.base_url());
    // More logins than one hashing slot gets through in the 1 s each may wait.
    let emails: Vec<String> = (0..300)
        .map(|n| unique_email(&format!("storm{n}")))
        .collect();
    let storm =
        futures::future::join_all(emails.iter().map(|email| api.login(email, "Guess12345")));
    let (replies, growth) = anb.memory_growth_during(storm).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    for reply in replies.iter().filter(|r| r.status == 503) {
        reply.expect_error(503, "service_unavailable");
        assert!(reply.header("retry-after").is_some());
    }
    assert!(
        statuses.contains(&401),
        "some logins were answered: {statuses:?}"
    );
    assert!(
        statuses.contains(&503),
        "the rest waited at most 1 s: {statuses:?}"
    );
    // One 19 MiB hash at a time, in memory reused from one hash to the next.
    assert!(growth < 64 * 1024 * 1024, "memory grew by {growth} bytes");
    api.get("/health").await.expect_json(200);
}
