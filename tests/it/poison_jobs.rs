//! Poison jobs end: a video whose worker dies (SIGKILL, as the kernel's OOM killer does) on
//! every attempt is not handed out forever. On the real binaries: `anb serve` takes the upload,
//! `anb worker` processes run in the same directory (the embedded SQLite queue) and are killed
//! mid-job; once the attempt ceiling is reached the next worker fails the video, with a reason,
//! without processing it, and removes the temporary directories the dead workers left.
//! Build the binary first: `cargo build --bin anb`.

use crate::support::app;
use crate::support::client;
use crate::support::worker_process;
use anb_adapters::testkit::clips;

use std::path::Path;
use std::time::{Duration, Instant};

use app::Launch;
use client::{Api, Player};
use clips::Clip;
use serde_json::Value;
use worker_process::WorkerProcess;

/// The job directories (`anb-job-<pid>-…`) under `root`.
fn job_dirs(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("anb-job-"))
                .collect()
        })
        .unwrap_or_default()
}

/// The job directory of the worker `pid`, if it has one.
fn job_dir_of(root: &Path, pid: u32) -> Option<String> {
    let prefix = format!("anb-job-{pid}-");
    job_dirs(root)
        .into_iter()
        .find(|name| name.starts_with(&prefix))
}

async fn detail(api: &Api, owner: &Player, video_id: &str) -> Value {
    api.get_as(owner, &format!("/api/videos/{video_id}"))
        .await
        .expect_json(200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_is_killed_at_every_attempt_ends_failed_after_the_ceiling() {
    let anb = tokio::task::block_in_place(|| Launch::serve().start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    // Long enough that a worker is still busy with it when it is killed.
    let dir = clips::workdir();
    let clip = Clip::h264(10.0)
        .size("1280x720")
        .make(dir.path(), "veneno.mp4");
    let video_id = api
        .upload_clip(&ana, &std::fs::read(clip).unwrap(), "Veneno")
        .await;

    // The workers' temporary root: where a killed worker's job directory stays behind.
    let scratch = tempfile::tempdir().unwrap();
    let tmpdir = scratch.path().to_str().unwrap().to_owned();
    let env = [
        ("ANB_WORKER_LEASE_SECONDS", "2"),
        ("ANB_WORKER_MAX_ATTEMPTS", "2"),
        ("TMPDIR", tmpdir.as_str()),
    ];

    // Two workers in a row take the job and are killed in the middle of it.
    let mut dead_pids = Vec::new();
    for attempt in 1..=2 {
        let mut worker = WorkerProcess::start(anb.workdir(), &env);
        let pid = worker.pid();
        // It has the job once its directory is made and claimed (its lock file names the
        // worker; made after the video is `processing`). A directory killed before it is
        // claimed is left for ten minutes, as one a worker may be about to claim.
        worker
            .wait_until(Duration::from_secs(60), "taking the job", || {
                job_dir_of(scratch.path(), pid).is_some_and(|dir| {
                    std::fs::read_to_string(scratch.path().join(dir).join(".owner.lock"))
                        .is_ok_and(|owner| owner.trim() == pid.to_string())
                })
            })
            .await;
        let status = detail(&api, &ana, &video_id).await["status"].clone();
        assert_eq!(status, "processing", "attempt {attempt}");
        worker.kill();
        assert!(
            job_dir_of(scratch.path(), pid).is_some(),
            "a SIGKILLed worker cannot clean up"
        );
        dead_pids.push(pid);
    }
    assert_eq!(
        detail(&api, &ana, &video_id).await["status"],
        "processing",
        "nothing settled the job"
    );

    // The third delivery is past the ceiling: the next worker fails the video without
    // processing it, and first removes what the dead workers left.
    let mut last = WorkerProcess::start(anb.workdir(), &env);
    let deadline = Instant::now() + Duration::from_secs(60);
    let failed = loop {
        let detail = detail(&api, &ana, &video_id).await;
        match detail["status"].as_str() {
            Some("failed") => break detail,
            Some("processing") => {}
            other => panic!("unexpected status {other:?}: {detail}"),
        }
        assert!(last.is_running(), "the worker exited: {}", last.log());
        assert!(
            Instant::now() < deadline,
            "still not failed: {detail}\n{}",
            last.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reason = failed["failure_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("crashed repeatedly"), "{failed}");
    assert!(failed["processed_url"].is_null(), "{failed}");
    let log = last.log();
    assert!(log.contains("attempt=3"), "{log}");
    assert!(
        log.contains("job ended: failed: processing crashed repeatedly"),
        "{log}"
    );
    assert!(
        !log.contains("transcoded") && job_dir_of(scratch.path(), last.pid()).is_none(),
        "the third delivery was not processed: {log}"
    );
    assert!(
        job_dirs(scratch.path()).is_empty(),
        "the dead workers' directories ({dead_pids:?}) were removed: {:?}",
        job_dirs(scratch.path())
    );
    assert!(
        !anb.blob_files()
            .iter()
            .any(|f| f.to_string_lossy().contains("processed")),
        "no output was stored"
    );

    // It stays failed: nothing delivers the job again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(detail(&api, &ana, &video_id).await["status"], "failed");
    assert!(last.is_running());
    api.get("/health").await.expect_json(200);

    // The audit trail shows both killed attempts, by their workers, and the failure.
    let trail = api
        .get_as(&ana, &format!("/api/videos/{video_id}/events"))
        .await
        .expect_json(200);
    let trail = trail.as_array().expect("an array");
    let kinds: Vec<&str> = trail
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "video.uploaded",
            "video.processing",
            "video.processing",
            "video.failed"
        ],
        "{trail:?}"
    );
    for (attempt, (event, pid)) in trail[1..3].iter().zip(&dead_pids).enumerate() {
        assert_eq!(event["attempt"], attempt + 1, "{event}");
        let worker = event["worker"].as_str().unwrap();
        assert!(worker.ends_with(&format!(":{pid}")), "{event}");
    }
    assert!(
        trail[3]["error"]
            .as_str()
            .is_some_and(|e| e.contains("crashed repeatedly")),
        "{trail:?}"
    );
}
