//! An acknowledged upload is never lost, even when the queue loses its data, and a dependency
//! that is down is a 503, never a 500. On the real binaries: `anb serve` and `anb worker` on
//! PostgreSQL, with a Redis queue the test starts and restarts without persistence (every job
//! is gone after the restart), or with the database queue on a PostgreSQL cluster the test
//! starts and stops with `pg_ctl`.
//!
//! "Processed once" is read from the database itself: a trigger the test installs records every
//! status change, so a video processed twice, or started again after it was processed, shows.
//! Build the binary first: `cargo build --bin anb`.

use crate::support::app;
use crate::support::client;
use crate::support::pg_cluster;
use crate::support::redis_server;
use crate::support::status_changes::{processed_once, record_status_changes, status_changes};
use crate::support::worker_process;
use anb_adapters::testkit::clips;

use std::time::{Duration, Instant};

use anb_adapters::testkit::services;
use app::{Anb, Launch};
use client::{file_part, upload_form, Api, Player};
use clips::Clip;
use pg_cluster::PgCluster;
use redis_server::RedisServer;
use serde_json::Value;
use sqlx::PgPool;
use worker_process::WorkerProcess;

/// The token key every process of a test shares.
const JWT_SECRET: &str = "queue-outage-test-secret-of-at-least-32-bytes";

/// The promise: after the queue lost its jobs, every acknowledged video is processed
/// within a minute.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(60);

/// The originals in the blob store (`uploads/…`; a worker's outputs go elsewhere).
fn originals(anb: &Anb) -> usize {
    anb.blob_files()
        .iter()
        .filter(|path| path.components().any(|c| c.as_os_str() == "uploads"))
        .count()
}

async fn video_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM videos")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn status(api: &Api, owner: &Player, id: &str) -> String {
    let detail: Value = api
        .get_as(owner, &format!("/api/videos/{id}"))
        .await
        .expect_json(200);
    detail["status"].as_str().unwrap_or_default().to_owned()
}

/// Waits until every video in `ids` is `processed` (panics on `failed` or after `limit`).
async fn all_processed(api: &Api, owner: &Player, ids: &[String], limit: Duration) -> Duration {
    let started = Instant::now();
    for id in ids {
        loop {
            match status(api, owner, id).await.as_str() {
                "processed" => break,
                "failed" => panic!("video {id} failed"),
                _ => {}
            }
            assert!(
                started.elapsed() < limit,
                "video {id} was not processed within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    started.elapsed()
}

/// An upload refused because a dependency is down: 503 `service_unavailable` with a
/// `Retry-After`, and neither a blob nor a row left behind.
async fn refused_for_the_outage(anb: &Anb, api: &Api, owner: &Player, pool: &PgPool, clip: &[u8]) {
    let (blobs, rows) = (originals(anb), video_count(pool).await);
    let form = upload_form(file_part(clip.to_vec(), "clip.mp4", "video/mp4"), "Refused");
    let refused = api.upload(owner, form).await;
    refused.expect_error(503, "service_unavailable");
    let retry_after: u64 = refused
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert_eq!(originals(anb), blobs, "a refused upload left a blob");
    assert_eq!(video_count(pool).await, rows, "a refused upload left a row");
}

/// Lines of the workers' logs that say a lost job of `video` was queued again.
fn restores_of(workers: &[&WorkerProcess], video: &str) -> usize {
    workers
        .iter()
        .map(|w| {
            w.log()
                .lines()
                .filter(|l| l.contains("queued a lost job again") && l.contains(video))
                .count()
        })
        .sum()
}

/// `anb serve` on a fresh PostgreSQL database with the queue on `redis`; the database's pool.
async fn serve_on_redis(redis: &RedisServer) -> (Anb, PgPool, Vec<(&'static str, String)>) {
    let database_url = services::empty_postgres_database_url().await;
    let env = vec![
        ("ANB_DATABASE_URL", database_url.clone()),
        ("ANB_QUEUE_URL", redis.url()),
        ("ANB_JWT_SECRET", JWT_SECRET.to_owned()),
    ];
    let launch = env.iter().fold(Launch::serve(), |launch, (key, value)| {
        launch.env(*key, value)
    });
    let anb = tokio::task::block_in_place(|| launch.start());
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    record_status_changes(&pool).await;
    (anb, pool, env)
}

fn worker(anb: &Anb, env: &[(&'static str, String)]) -> WorkerProcess {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    WorkerProcess::start(anb.workdir(), &env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_acknowledged_before_redis_restarts_empty_are_processed_once_within_a_minute() {
    let mut redis = RedisServer::start();
    let (anb, pool, env) = serve_on_redis(&redis).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(1.0).size("320x240").make(dir.path(), "a.mp4")).unwrap();
    let mut ids = Vec::new();
    for title in ["Uno", "Dos", "Tres"] {
        ids.push(api.upload_clip(&ana, &clip, title).await);
    }
    // The three jobs wait in Redis (no worker runs yet).
    assert_eq!(redis.command("ZCARD video-processing:due"), ":3");

    // Redis dies: uploads are refused with a 503, and nothing of them is kept.
    redis.kill();
    refused_for_the_outage(&anb, &api, &ana, &pool, &clip).await;
    let ready = api.get("/health/ready").await;
    assert_eq!(ready.status.as_u16(), 503, "readiness while Redis is down");

    // It comes back empty: the three jobs are gone. A worker started now finds them anyway.
    redis.restart_empty();
    assert_eq!(redis.command("DBSIZE"), ":0");
    let restarted = Instant::now();
    let worker = worker(&anb, &env);
    all_processed(&api, &ana, &ids, RECOVERY_DEADLINE).await;
    eprintln!("processed {:?} after the restart", restarted.elapsed());
    processed_once(&status_changes(&pool).await, &ids);
    for id in &ids {
        assert_eq!(
            restores_of(&[&worker], id),
            1,
            "video {id}:\n{}",
            worker.log()
        );
    }
    assert_eq!(video_count(&pool).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_to_restore_the_jobs_redis_lost_process_each_video_once() {
    let mut redis = RedisServer::start();
    let (anb, pool, env) = serve_on_redis(&redis).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let dir = clips::workdir();
    // Long enough (about 10 s of work each) that both workers see their leases gone mid-job.
    let long = std::fs::read(Clip::h264(40.0).size("640x360").make(dir.path(), "l.mp4")).unwrap();
    // A short lease (heartbeats every 2 s), so they see it soon.
    let mut env = env;
    env.push(("ANB_WORKER_LEASE_SECONDS", "6".to_owned()));
    let workers = [worker(&anb, &env), worker(&anb, &env)];
    let mut ids = Vec::new();
    for title in ["Uno", "Dos", "Tres", "Cuatro"] {
        ids.push(api.upload_clip(&ana, &long, title).await);
    }
    // Two are being processed, two wait in the queue; then every job is lost.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut processing = 0;
        for id in &ids {
            processing += usize::from(status(&api, &ana, id).await == "processing");
        }
        if processing == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the workers did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    redis.restart_empty();
    let restarted = Instant::now();
    // Restored within 20 s, then four 10 s transcodes on two workers.
    all_processed(&api, &ana, &ids, Duration::from_secs(90)).await;
    eprintln!("processed {:?} after the restart", restarted.elapsed());

    let changes = status_changes(&pool).await;
    processed_once(&changes, &ids);
    let workers: Vec<&WorkerProcess> = workers.iter().collect();
    for id in &ids {
        let restored = restores_of(&workers, id);
        assert!(
            restored <= 1,
            "video {id} was restored {restored} times:\n{}\n{}",
            workers[0].log(),
            workers[1].log()
        );
    }
    let total: usize = ids.iter().map(|id| restores_of(&workers, id)).sum();
    let lease_lost: usize = workers
        .iter()
        .map(|w| {
            w.log()
                .matches("the lease was lost to another worker")
                .count()
        })
        .sum();
    eprintln!("restored {total} lost jobs; {lease_lost} deliveries saw their lease gone");
    assert!(
        lease_lost >= 1,
        "no worker was cut off mid-job: the race was not run"
    );
    assert_eq!(
        total,
        2 + lease_lost,
        "the two waiting jobs and those whose workers stopped are restored, once each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_refused_while_postgres_restarts_and_acknowledged_ones_are_processed_after() {
    let mut cluster = PgCluster::start();
    let launch = Launch::all()
        .env("ANB_DATABASE_URL", cluster.url())
        .env("ANB_QUEUE_URL", "db://")
        .env("ANB_JWT_SECRET", JWT_SECRET)
        // A job cut off by the outage comes back after this lease.
        .env("ANB_WORKER_LEASE_SECONDS", "10");
    let anb = tokio::task::block_in_place(|| launch.start());
    let pool = sqlx::PgPool::connect(&cluster.url()).await.unwrap();
    record_status_changes(&pool).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(8.0).size("640x360").make(dir.path(), "a.mp4")).unwrap();
    let mut ids = Vec::new();
    for title in ["Uno", "Dos", "Tres"] {
        ids.push(api.upload_clip(&ana, &clip, title).await);
    }

    let mut unfinished = 0;
    for id in &ids {
        unfinished += usize::from(status(&api, &ana, id).await != "processed");
    }
    assert!(
        unfinished > 0,
        "every video was processed before the outage: nothing to check"
    );
    cluster.stop();
    pool.close().await;
    let blobs = originals(&anb);
    let form = upload_form(file_part(clip.clone(), "clip.mp4", "video/mp4"), "Refused");
    let refused = api.upload(&ana, form).await;
    refused.expect_error(503, "service_unavailable");
    assert!(
        refused.header("retry-after").is_some(),
        "a Retry-After header"
    );
    assert_eq!(originals(&anb), blobs, "a refused upload left a blob");
    let mine = api.get_as(&ana, "/api/videos").await;
    mine.expect_error(503, "service_unavailable");
    assert_eq!(api.get("/health/ready").await.status.as_u16(), 503);

    cluster.start_again();
    let pool = sqlx::PgPool::connect(&cluster.url()).await.unwrap();
    all_processed(&api, &ana, &ids, Duration::from_secs(120)).await;
    processed_once(&status_changes(&pool).await, &ids);
    assert_eq!(video_count(&pool).await, 3, "the refused upload left a row");
    assert_eq!(api.get("/health/ready").await.status.as_u16(), 200);
}
