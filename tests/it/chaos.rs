//! The cluster survives: `scripts/cluster` starts the seed topology (nginx in front of two
//! `anb serve` and two `anb worker`, PostgreSQL, Redis, an S3 server), and uploads and votes go
//! through nginx while the test SIGKILLs a worker in the middle of a job, SIGKILLs an API
//! instance during a burst of votes and uploads, restarts Redis and restarts PostgreSQL.
//!
//! What must hold: every acknowledged upload is processed exactly once (its status changes,
//! recorded by a trigger, go `uploaded → processing → processed` once; one set of outputs); no
//! acknowledged vote is lost or doubled (each is in the votes table, and every counter equals
//! its recount); readiness answers 503 while a dependency is down and 200 within 5 s of its
//! return; public reads (cached pages) answer without a 5xx while Redis is down. The client
//! retries what a gateway or a dead instance did not answer, as a real client would.
//!
//! Needs nginx, PostgreSQL's server binaries and redis-server (scripts/test installs them) and
//! the `anb` binary and the `s3_server` example built (`cargo build --bin anb --example
//! s3_server`; `cargo test` builds both).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anb_adapters::testkit::clips::{self, Clip};
use reqwest::{Method, StatusCode};
use sqlx::PgPool;

use crate::support::client::{file_part, upload_form, Api, Player, Reply};
use crate::support::free_port;
use crate::support::status_changes::{processed_once, record_status_changes, status_changes};

/// How long the service may take to answer ready again after a dependency's return.
const BACK_WITHIN: Duration = Duration::from_secs(5);
/// How long Redis and PostgreSQL stay down.
const OUTAGE_SECONDS: &str = "4";

/// A cluster run by `scripts/cluster` in a temporary directory; stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    base: String,
    settings: BTreeMap<String, String>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster")
}

impl Cluster {
    fn start(apis: u32, workers: u32) -> Self {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_anb"))
            .parent()
            .expect("the binaries' directory")
            .to_owned();
        assert!(
            bin_dir.join("examples/s3_server").exists(),
            "the s3_server example is not built: cargo build --example s3_server"
        );
        let dir = tempfile::Builder::new()
            .prefix("anb-test-cluster-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let mut start = Command::new(script());
        start
            .args(["start", &apis.to_string(), &workers.to_string()])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("CLUSTER_DIR", dir.path().join("cluster"))
            .env("PORT", port.to_string())
            .env("BIN_DIR", &bin_dir)
            // A lost job comes back after 5 s; the test's one address may send it all.
            .env("ANB_WORKER_LEASE_SECONDS", "5")
            .env("ANB_RATE_SIGNUP_PER_ADDRESS", "100000/minute")
            .env("ANB_RATE_LOGIN_PER_ADDRESS", "100000/minute")
            .env("ANB_RATE_UPLOAD_PER_ADDRESS", "100000/minute")
            .env("ANB_RATE_UPLOAD_PER_ACCOUNT", "100000/minute")
            .env("ANB_RATE_VOTE_PER_ADDRESS", "100000/minute")
            .env("ANB_RATE_VOTE_PER_ACCOUNT", "100000/minute");
        let out = tokio::task::block_in_place(|| start.output()).expect("running scripts/cluster");
        let mut cluster = Self {
            dir,
            base: format!("http://127.0.0.1:{port}"),
            settings: BTreeMap::new(),
        };
        assert!(
            out.status.success(),
            "scripts/cluster start failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let env = std::fs::read_to_string(cluster.path("cluster.env")).unwrap();
        cluster.settings = env
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        cluster
    }

    fn path(&self, rest: &str) -> PathBuf {
        self.dir.path().join("cluster").join(rest)
    }

    /// `scripts/cluster ARGS` on this cluster.
    fn run(&self, args: &[&str]) {
        let out = tokio::task::block_in_place(|| {
            Command::new(script())
                .args(args)
                .env("CLUSTER_DIR", self.dir.path().join("cluster"))
                .output()
        })
        .expect("running scripts/cluster");
        assert!(
            out.status.success(),
            "scripts/cluster {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pid(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(&format!("pids/{name}")))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Whether worker `i` has a job in hand (its job directory exists).
    fn worker_busy(&self, i: u32) -> bool {
        let prefix = format!("anb-job-{}-", self.pid(&format!("worker-{i}")));
        std::fs::read_dir(self.path("tmp"))
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            })
            .unwrap_or(false)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .env("CLUSTER_DIR", self.dir.path().join("cluster"))
            .output();
    }
}

/// Whether an answer is one a client should send again: a gateway that lost its upstream, a
/// dependency down (503), or no answer at all.
fn worth_retrying(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

/// Sends what `request` builds until it gets an answer worth keeping (30 s at most).
async fn send_retrying(make: impl Fn() -> reqwest::RequestBuilder) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match make().send().await {
            Ok(response) if !worth_retrying(response.status()) => {
                return Reply::read(response).await
            }
            Ok(_) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(response) => panic!("still {} after 30 s", response.status()),
            Err(e) => panic!("no answer after 30 s: {e}"),
        }
    }
}

async fn upload(api: &Api, owner: &Player, clip: &[u8], title: &str) -> String {
    let reply = send_retrying(|| {
        api.as_player(owner, Method::POST, "/api/videos/upload")
            .multipart(upload_form(
                file_part(clip.to_vec(), "clip.mp4", "video/mp4"),
                title,
            ))
    })
    .await;
    reply.expect_json(201)["video_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// How a vote ended: counted on this try, or found counted by an earlier try whose answer was
/// lost (an instance killed after it committed).
#[derive(Debug, PartialEq)]
enum Voted {
    Now,
    Before,
}

async fn vote(api: &Api, voter: &Player, video: &str) -> Voted {
    let path = format!("/api/public/videos/{video}/vote");
    let reply = send_retrying(|| api.as_player(voter, Method::POST, &path)).await;
    match reply.status.as_u16() {
        200 => Voted::Now,
        400 if reply.json()["code"] == "already_voted" => Voted::Before,
        _ => panic!(
            "vote refused: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        ),
    }
}

async fn ready(api: &Api) -> Option<u16> {
    api.http()
        .get(api.url("/health/ready"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// Waits until readiness answers 503 (the dependency is down), at most 10 s.
async fn not_ready(api: &Api, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready(api).await != Some(503) {
        assert!(
            Instant::now() < deadline,
            "readiness never said 503 with {what} down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How long readiness takes to answer 200 again.
async fn back_after(api: &Api) -> Duration {
    let since = Instant::now();
    while ready(api).await != Some(200) {
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "never ready again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    since.elapsed()
}

/// Runs `scripts/cluster restart WHAT OUTAGE_SECONDS` on a thread (it returns once the server
/// is back).
fn restart_in_background(cluster: &Cluster, what: &'static str) -> std::thread::JoinHandle<()> {
    let dir = cluster.dir.path().join("cluster");
    std::thread::spawn(move || {
        let out = Command::new(script())
            .args(["restart", what, OUTAGE_SECONDS])
            .env("CLUSTER_DIR", dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "restart {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
}

async fn all_processed(api: &Api, videos: &[(usize, String)], players: &[Player]) {
    let deadline = Instant::now() + Duration::from_secs(180);
    for (owner, id) in videos {
        loop {
            let reply = send_retrying(|| {
                api.as_player(&players[*owner], Method::GET, &format!("/api/videos/{id}"))
            })
            .await;
            match reply.expect_json(200)["status"].as_str().unwrap() {
                "processed" => break,
                "failed" => panic!("video {id} failed"),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "video {id} was not processed in time"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cluster_keeps_every_upload_and_vote_through_killed_instances_and_restarted_stores() {
    let cluster = Cluster::start(2, 2);
    let api = Api::new(&cluster.base);
    let pool = PgPool::connect(&cluster.settings["ANB_DATABASE_URL"])
        .await
        .unwrap();
    record_status_changes(&pool).await;
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let mut players = Vec::new();
    for i in 0..6 {
        players.push(api.player(&format!("P{i}"), "Caos", "Cali").await);
    }

    // (a) A worker killed in the middle of a job: the job comes back and is done once.
    let mut videos: Vec<(usize, String)> = Vec::new();
    for (i, owner) in players.iter().enumerate() {
        videos.push((i, upload(&api, owner, &clip, &format!("Primera {i}")).await));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cluster.worker_busy(1) {
        assert!(Instant::now() < deadline, "worker 1 never took a job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.run(&["kill", "worker", "1"]);
    cluster.run(&["start-again", "worker", "1"]);
    all_processed(&api, &videos, &players).await;

    // (b) An API instance killed during a burst of votes and uploads.
    let pairs: Vec<(usize, String)> = (0..players.len())
        .flat_map(|voter| {
            videos
                .iter()
                .filter(move |(owner, _)| *owner != voter)
                .map(move |(_, id)| (voter, id.clone()))
        })
        .collect();
    let players = Arc::new(players);
    let clip = Arc::new(clip);
    let sent = Arc::new(AtomicUsize::new(0));
    let voting = {
        let (api, players, pairs, sent) =
            (api.clone(), players.clone(), pairs.clone(), sent.clone());
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for (voter, video) in pairs {
                outcomes.push((
                    voter,
                    video.clone(),
                    vote(&api, &players[voter], &video).await,
                ));
                sent.fetch_add(1, Ordering::SeqCst);
            }
            outcomes
        })
    };
    let uploading = {
        let (api, players, clip) = (api.clone(), players.clone(), clip.clone());
        tokio::spawn(async move {
            let mut more = Vec::new();
            for (i, owner) in players.iter().enumerate() {
                more.push((i, upload(&api, owner, &clip, &format!("Segunda {i}")).await));
            }
            more
        })
    };
    while sent.load(Ordering::SeqCst) < 8 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cluster.run(&["kill", "api", "1"]);
    let outcomes = voting.await.unwrap();
    videos.extend(uploading.await.unwrap());
    cluster.run(&["start-again", "api", "1"]);

    // (c) Redis restarted: readiness says so, cached public reads still answer.
    let redis = restart_in_background(&cluster, "redis");
    not_ready(&api, "Redis").await;
    let mut public_reads = 0;
    while !redis.is_finished() {
        for path in [
            "/api/public/rankings",
            "/api/public/videos",
            "/api/public/cities",
        ] {
            let reply = api.get(path).await;
            assert!(
                reply.status.as_u16() < 500,
                "{path} answered {} with Redis down",
                reply.status
            );
            public_reads += 1;
        }
    }
    redis.join().unwrap();
    let redis_back = back_after(&api).await;
    assert!(
        redis_back <= BACK_WITHIN,
        "ready {redis_back:?} after Redis came back"
    );

    // (d) PostgreSQL restarted.
    let postgres = restart_in_background(&cluster, "postgres");
    not_ready(&api, "PostgreSQL").await;
    tokio::task::block_in_place(|| postgres.join()).unwrap();
    let postgres_back = back_after(&api).await;
    assert!(
        postgres_back <= BACK_WITHIN,
        "ready {postgres_back:?} after PostgreSQL came back"
    );

    // Every acknowledged upload processed exactly once, with one set of outputs.
    all_processed(&api, &videos, &players).await;
    let ids: Vec<String> = videos.iter().map(|(_, id)| id.clone()).collect();
    processed_once(&status_changes(&pool).await, &ids);
    for id in &ids {
        let media = cluster.path("s3/anb-media");
        assert!(
            media.join(format!("processed/{id}.mp4")).exists(),
            "{id}'s MP4"
        );
        let generations = std::fs::read_dir(media.join(format!("streams/{id}/hls")))
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().unwrap().is_dir())
            .count();
        assert_eq!(generations, 1, "one HLS ladder for {id}");
    }

    // No acknowledged vote lost or doubled; every counter equals its recount.
    let stored: BTreeSet<(String, String)> =
        sqlx::query_as::<_, (uuid::Uuid, uuid::Uuid)>("SELECT user_id, video_id FROM votes")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(u, v)| (u.to_string(), v.to_string()))
            .collect();
    let acknowledged: BTreeSet<(String, String)> = outcomes
        .iter()
        .map(|(voter, video, _)| (players[*voter].user_id.clone(), video.clone()))
        .collect();
    assert_eq!(
        stored, acknowledged,
        "the votes table holds exactly the votes cast"
    );
    let off_videos: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM videos v WHERE v.votes <> (SELECT count(*) FROM votes WHERE video_id = v.id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let off_players: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users u WHERE u.votes_received <> \
         (SELECT count(*) FROM votes x JOIN videos v ON v.id = x.video_id WHERE v.owner_id = u.id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (off_videos, off_players),
        (0, 0),
        "counters equal their recounts"
    );
    let before = outcomes
        .iter()
        .filter(|(_, _, o)| *o == Voted::Before)
        .count();
    eprintln!(
        "chaos: {} uploads processed once, {} votes ({} counted by a try whose answer was lost), \
         {public_reads} public reads with Redis down, ready again {redis_back:?} after Redis \
         and {postgres_back:?} after PostgreSQL",
        ids.len(),
        stored.len(),
        before
    );
}
