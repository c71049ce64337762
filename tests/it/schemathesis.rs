//! The OpenAPI document is exact, checked against the real `anb` binary (embedded defaults).
//!
//! - schemathesis (4.x from PyPI, hash-pinned in `scripts/lib/schemathesis.requirements.txt`;
//!   `scripts/test` installs it under `target/tools/schemathesis` and sets `ANB_SCHEMATHESIS`)
//!   fuzzes every operation of `/openapi.json` with `--checks all`, 100 examples per
//!   operation, on real data: a logged-in player's token, a processed and published video of
//!   theirs (in 3 of 4 paths that name a video), and a second player who votes for it. The run must end with no failure, no error
//!   and no 5xx answer. Besides schemathesis' own checks, `support/schemathesis_hooks.py` fails
//!   any schema-valid request answered 400 `validation_error`.
//! - every path answers a method it does not serve with 405 and an `Allow` header.
//!
//! Build the binary first: `cargo build --bin anb`.

use crate::support::app;
use crate::support::client;
use anb_adapters::testkit::clips;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use app::{Anb, Launch};
use client::{Api, Player, PROCESSING_DEADLINE};
use clips::Clip;
use reqwest::Method;
use serde_json::Value;

/// Test cases schemathesis generates per operation and phase (its `--max-examples`).
const EXAMPLES_PER_OPERATION: u32 = 100;

/// The longest the fuzzing run may take (it takes well under a minute on 2 cores).
const RUN_DEADLINE: Duration = Duration::from_secs(600);

/// The abuse limits, raised for the run: the fuzzer signs up, logs in, votes and uploads
/// thousands of times from one address and one account. (The limits themselves are tested in
/// tests/hostile_traffic.rs; their 429 is in the document either way.)
const RAISED_LIMITS: &[&str] = &[
    "ANB_RATE_SIGNUP_PER_ADDRESS",
    "ANB_RATE_LOGIN_PER_ADDRESS",
    "ANB_RATE_LOGIN_PER_ACCOUNT",
    "ANB_RATE_VOTE_PER_ADDRESS",
    "ANB_RATE_VOTE_PER_ACCOUNT",
    "ANB_RATE_UPLOAD_PER_ADDRESS",
    "ANB_RATE_UPLOAD_PER_ACCOUNT",
    "ANB_RATE_REFRESH_PER_ADDRESS",
    "ANB_RATE_DIRECTORY_PER_ACCOUNT",
    "ANB_RATE_SHARING_PER_ACCOUNT",
    "ANB_RATE_VERIFICATION_PER_ACCOUNT",
    "ANB_RATE_PASSWORD_RESET_PER_ADDRESS",
    "ANB_RATE_PASSWORD_RESET_PER_EMAIL",
];

/// The operations the contract lets answer 400 to a schema-valid request, for a rule rather
/// than a malformed request: a sign-up whose passwords differ or whose email is taken, an upload
/// whose bytes are not a video, a second vote, deleting a published video, sharing a video with
/// its owner or past its limits (409), a link to a video not yet processed, an email link's
/// token that is unknown or used (`invalid_token`), a password reset whose passwords differ. (The hooks still fail any `validation_error` among those answers.)
const RULE_REFUSALS: &[&str] = &[
    "signup",
    "upload_video",
    "vote",
    "delete_video",
    "share_video",
    "create_share_link",
    "verify_email",
    "confirm_password_reset",
    "create_webhook",
];

/// The operations that serve a file by range: a schema-valid `Range` past the end of the file
/// is 416 (RFC 9110), not a rejected request.
const RANGED_FILES: &[&str] = &[
    "download_original",
    "download_processed",
    "download_thumbnail",
    "stream_video",
    "public_thumbnail",
    "public_hls_master",
    "public_hls_rung_playlist",
    "public_hls_segment",
    "public_storyboard_cues",
    "public_storyboard_sprite",
    "signed_hls_master",
    "signed_hls_rung_playlist",
    "signed_hls_segment",
    "signed_video",
    "signed_thumbnail",
    "signed_storyboard_cues",
    "signed_storyboard_sprite",
    "signed_rendition_mp4",
    "signed_rendition_mp3",
    "signed_rendition_hls_master",
    "signed_rendition_hls_rung_playlist",
    "signed_rendition_hls_segment",
];

/// Starts `launch` without stalling the test's runtime.
async fn start(launch: Launch) -> Anb {
    tokio::task::block_in_place(move || launch.start())
}

/// `value` as a TOML basic string (JSON's string escapes are TOML's).
fn toml_string(value: &str) -> String {
    serde_json::to_string(value).expect("a string serializes")
}

/// Real names in the published video's streaming paths: a playback token, the ladder's
/// generation and one of its rungs.
struct StreamNames {
    token: String,
    /// A share link's token (it plays the same files, and opens `/api/share-links/{token}`).
    share_token: String,
    generation: String,
    rung: String,
    /// A ready HLS rendition of the video, and its ladder's generation.
    rendition: String,
    rendition_generation: String,
}

/// Asks for an HLS rendition of `video_id` and waits until it is ready: its id and its
/// ladder's generation.
async fn ready_hls_rendition(api: &Api, owner: &Player, video_id: &str) -> (String, String) {
    let path = format!("/api/videos/{video_id}/renditions");
    let asked = api
        .send(
            api.as_player(owner, Method::POST, &path)
                .json(&serde_json::json!({"format": "hls", "height": 360})),
        )
        .await
        .expect_json(202);
    let deadline = Instant::now() + PROCESSING_DEADLINE;
    let master = loop {
        let list = api.get_as(owner, &path).await.expect_json(200);
        let rendition = &list[0];
        assert_ne!(rendition["status"], "failed", "{rendition}");
        if let Some(url) = rendition["download_url"].as_str() {
            break url.to_owned();
        }
        assert!(Instant::now() < deadline, "not converted: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let playlist = String::from_utf8(api.fetch(&master).await.body.to_vec()).unwrap();
    let variant = playlist
        .lines()
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .expect("a rung in the rendition's master playlist");
    let generation = variant.split('/').next().unwrap().to_owned();
    (
        asked["rendition_id"].as_str().unwrap().to_owned(),
        generation,
    )
}

/// The schemathesis configuration of the run.
fn config(
    base_url: &str,
    owner_token: &str,
    voter_token: &str,
    video_id: &str,
    stream: &StreamNames,
) -> String {
    let hooks =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/schemathesis_hooks.py");
    let owner = toml_string(&format!("Bearer {owner_token}"));
    let voter = toml_string(&format!("Bearer {voter_token}"));
    let list = |ids: &[&str]| {
        ids.iter()
            .map(|id| toml_string(id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (rule_operations, ranged_operations) = (list(RULE_REFUSALS), list(RANGED_FILES));
    format!(
        r#"hooks = {hooks}
base-url = {base}

# The owner of the published video: every protected operation as its owner.
[headers]
Authorization = {owner}

# A real video (processed, published) in 3 of 4 paths that name one; the others get
# generated ids (unknown or malformed: 404).
[dictionaries.videos]
values = [{video}]

# Its playback token (and a share link's), its ladder's generation and a rung, in 3 of 4
# paths that name one.
[dictionaries.tokens]
values = [{token}, {share_token}]

[dictionaries.generations]
values = [{generation}, {rendition_generation}]

[dictionaries.renditions]
values = [{rendition}]

[dictionaries.rungs]
values = [{rung}]

[parameters]
"path.video_id" = {{ dictionary = "videos", probability = 0.75 }}
"path.token" = {{ dictionary = "tokens", probability = 0.75 }}
"path.generation" = {{ dictionary = "generations", probability = 0.75 }}
"path.rung" = {{ dictionary = "rungs", probability = 0.75 }}
"path.rendition_id" = {{ dictionary = "renditions", probability = 0.75 }}

# Votes come from another player (an owner cannot vote for their own video).
[[operations]]
include-operation-id = "vote"
headers = {{ Authorization = {voter} }}

[[operations]]
include-operation-id = [{rule_operations}]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429", "503"]

[[operations]]
include-operation-id = [{ranged_operations}]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "416", "429", "503"]
"#,
        hooks = toml_string(hooks.to_str().expect("a UTF-8 path")),
        base = toml_string(base_url),
        video = toml_string(video_id),
        token = toml_string(&stream.token),
        share_token = toml_string(&stream.share_token),
        generation = toml_string(&stream.generation),
        rung = toml_string(&stream.rung),
        rendition = toml_string(&stream.rendition),
        rendition_generation = toml_string(&stream.rendition_generation),
    )
}

/// What a finished schemathesis run reports.
struct Outcome {
    /// Its exit status.
    success: bool,
    /// Its console output.
    output: String,
    /// Its JSON report (`--report json`).
    report: Value,
    /// The status of every response it received (from its HAR report).
    statuses: Vec<u64>,
}

impl Outcome {
    /// Answers with a 5xx status.
    fn server_errors(&self) -> usize {
        self.statuses.iter().filter(|s| **s >= 500).count()
    }

    /// A count from the JSON report, e.g. `["test_cases", "generated"]`.
    fn count(&self, path: &[&str]) -> u64 {
        path.iter()
            .fold(&self.report, |value, key| &value[*key])
            .as_u64()
            .unwrap_or_else(|| panic!("no {path:?} in the report: {}", self.report))
    }
}

/// Runs `schemathesis run` on the document served at `base_url` with `config`, in `dir`
/// (its databases and reports stay there), killing it past [`RUN_DEADLINE`].
fn run_schemathesis(executable: &str, dir: &Path, base_url: &str, config: &str) -> Outcome {
    let config_path = dir.join("schemathesis.toml");
    std::fs::write(&config_path, config).expect("writing the schemathesis config");
    let report_path = dir.join("report.json");
    let har_path = dir.join("requests.har");
    let output_path = dir.join("output.txt");
    let output = std::fs::File::create(&output_path).expect("the output file");
    let mut command = Command::new(executable);
    command
        .current_dir(dir)
        .arg("--config-file")
        .arg(&config_path)
        .arg("run")
        .arg(format!("{base_url}/openapi.json"))
        .args(["--checks", "all"])
        .args(["--max-examples", &EXAMPLES_PER_OPERATION.to_string()])
        // One worker: the runs are reproducible from the seed, and 2 cores are busy enough.
        .args(["--workers", "1"])
        .args(["--report", "json,har"])
        .arg("--report-json-path")
        .arg(&report_path)
        .arg("--report-har-path")
        .arg(&har_path)
        .arg("--no-color")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("the output file"))
        .stderr(output);
    if let Ok(seed) = std::env::var("ANB_SCHEMATHESIS_SEED") {
        command.args(["--seed", &seed]);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("running {executable}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for schemathesis") {
            break status;
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "schemathesis ran past {RUN_DEADLINE:?}. Its output:\n{}",
                std::fs::read_to_string(&output_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&output_path).unwrap_or_default();
    let read_json = |path: &PathBuf| -> Value {
        let file = std::fs::File::open(path).unwrap_or_else(|e| {
            panic!(
                "schemathesis wrote no {} ({e}); exit {status}. Its output:\n{output}",
                path.display()
            )
        });
        serde_json::from_reader(std::io::BufReader::new(file))
            .unwrap_or_else(|e| panic!("{} is not JSON ({e})", path.display()))
    };
    let report = read_json(&report_path);
    let har = read_json(&har_path);
    let statuses = har["log"]["entries"]
        .as_array()
        .expect("HAR entries")
        .iter()
        .map(|entry| entry["response"]["status"].as_u64().expect("a status"))
        .collect();
    Outcome {
        success: status.success(),
        output,
        report,
        statuses,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_and_no_server_error_in_any_operation() {
    let executable = std::env::var("ANB_SCHEMATHESIS").unwrap_or_else(|_| {
        panic!(
            "ANB_SCHEMATHESIS names the schemathesis executable, and is not set. scripts/test \
             installs it (PyPI, hash-pinned, into target/tools/schemathesis) and sets it; by \
             hand: `source scripts/lib/prepare.sh && need_schemathesis`, then run the test again"
        )
    });
    let launch = RAISED_LIMITS.iter().fold(Launch::all(), |launch, name| {
        launch.env(*name, "1000000/minute")
    });
    let anb = start(launch).await;
    let api = Api::new(anb.base_url());

    // Real data: a player with a processed, published video, and another player.
    let owner = api.player("Ana", "Rojas", "Bogotá").await;
    let clip = {
        let dir = clips::workdir();
        let path = Clip::h264(1.0).size("320x180").make(dir.path(), "clip.mp4");
        std::fs::read(path).expect("the generated clip")
    };
    let video_id = api.upload_clip(&owner, &clip, "Crossover").await;
    api.wait_processed(&owner, &video_id).await;
    api.post_as(&owner, &format!("/api/videos/{video_id}/publish"))
        .await
        .expect_json(200);
    let voter = api.player("Ben", "Mejía", "Medellín").await;
    let links = api
        .get_as(&owner, &format!("/api/videos/{video_id}/playback"))
        .await
        .expect_json(200);
    let master = links["hls_url"].as_str().expect("a signed HLS URL");
    let token = master
        .strip_prefix("/api/playback/")
        .and_then(|rest| rest.split('/').next())
        .expect("a token in the path")
        .to_owned();
    let playlist = String::from_utf8(api.get(master).await.body.to_vec()).unwrap();
    let variant = playlist
        .lines()
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .expect("a rung in the master playlist");
    let mut parts = variant.split('/');
    let (generation, rung) = (parts.next().unwrap(), parts.next().unwrap());
    let (rendition, rendition_generation) = ready_hls_rendition(&api, &owner, &video_id).await;
    let share_link = api
        .send(
            api.as_player(
                &owner,
                Method::POST,
                &format!("/api/videos/{video_id}/share-links"),
            )
            .json(&serde_json::json!({})),
        )
        .await
        .expect_json(201);
    let share_token = share_link["api_url"]
        .as_str()
        .and_then(|url| url.strip_prefix("/api/share-links/"))
        .expect("a share link's token")
        .to_owned();
    let stream = StreamNames {
        token,
        share_token,
        generation: generation.to_owned(),
        rung: rung.to_owned(),
        rendition,
        rendition_generation,
    };

    let dir = tempfile::Builder::new()
        .prefix("anb-test-schemathesis-")
        .tempdir()
        .expect("a temporary directory");
    let config = config(
        anb.base_url(),
        &owner.token,
        &voter.token,
        &video_id,
        &stream,
    );
    let base_url = anb.base_url().to_owned();
    let work = dir.path().to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        run_schemathesis(&executable, &work, &base_url, &config)
    })
    .await
    .expect("the schemathesis run");

    let cases = outcome.count(&["test_cases", "generated"]);
    let failures: u64 = outcome.report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|group| group["count"].as_u64().unwrap_or(1))
        .sum();
    let errors = outcome.report["errors"].as_array().expect("errors").len();
    let server_errors = outcome.server_errors();
    let (selected, tested) = (
        outcome.count(&["operations", "selected"]),
        outcome.count(&["operations", "tested"]),
    );
    assert!(
        outcome.success && failures == 0 && errors == 0 && server_errors == 0,
        "schemathesis: {cases} cases, {failures} failures, {errors} errors, {server_errors} \
         answers with a 5xx status. Its output:\n{}",
        outcome.output
    );
    assert!(
        selected >= 20 && tested == selected,
        "schemathesis tested {tested} of {selected} operations. Its output:\n{}",
        outcome.output
    );
    assert_eq!(
        outcome.statuses.len() as u64,
        cases,
        "every case has its response"
    );
    println!(
        "schemathesis: {cases} cases over {tested} operations ({EXAMPLES_PER_OPERATION} \
         examples per operation), 0 failures, 0 errors, 0 5xx"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_path_does_not_serve_is_405_with_the_methods_it_serves() {
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let player = api.player("Ana", "Rojas", "Bogotá").await;
    let some_video = "/api/videos/0190a3c2-7d5e-7000-8000-000000000001";
    let cases = [
        ("PUT", some_video.to_owned(), "GET, HEAD, DELETE"),
        ("PATCH", format!("{some_video}/publish"), "POST"),
        ("GET", "/api/auth/signup".to_owned(), "POST"),
        ("POST", "/api/auth/me".to_owned(), "GET, HEAD"),
        ("DELETE", "/health".to_owned(), "GET, HEAD"),
        ("TRACE", "/api/public/rankings".to_owned(), "GET, HEAD"),
        ("OPTIONS", "/api/videos/upload".to_owned(), "POST"),
        ("QUERY", "/api/videos".to_owned(), "GET, HEAD"),
        ("PROPFIND", some_video.to_owned(), "GET, HEAD, DELETE"),
        ("LOCK", "/api/auth/login".to_owned(), "POST"),
        ("POST", "/galeria".to_owned(), "GET, HEAD"),
        ("DELETE", "/".to_owned(), "GET, HEAD"),
        (
            "PROPFIND",
            "/v/0190a3c2-7d5e-7000-8000-000000000001".to_owned(),
            "GET, HEAD",
        ),
    ];
    for (method, path, allow) in cases {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for authenticated in [false, true] {
            let request = if authenticated {
                api.as_player(&player, method.clone(), &path)
            } else {
                api.request(method.clone(), &path)
            };
            let reply = api.send(request).await;
            reply.expect_error(405, "method_not_allowed");
            assert_eq!(
                reply.header("allow"),
                Some(allow),
                "{method} {path} (authenticated: {authenticated})"
            );
        }
    }
    // An unknown path stays not found, whatever the method.
    api.send(api.request(
        Method::from_bytes(b"PROPFIND").unwrap(),
        "/api/nothing-here",
    ))
    .await
    .expect_error(404, "not_found");
    // HEAD is served wherever GET is, and what a path serves is never refused.
    let head = api.send(api.request(Method::HEAD, "/health")).await;
    assert_eq!(head.status, 200);
    api.get("/health").await.expect_json(200);
}
