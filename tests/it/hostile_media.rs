//! Hostile media against the real binary: pictures and pixel shapes built to exhaust memory
//! are refused at upload (400 `invalid_file`, with the reason), nothing is kept, and the
//! service goes on serving and processing; media that only a tightened worker refuses ends
//! `failed` with the reason, without retry. Build the binary first: `cargo build --bin anb`.

use crate::support::app;
use crate::support::client;
use crate::support::worker_process;
use anb_adapters::testkit::clips;

use std::time::{Duration, Instant};

use app::{Anb, Launch};
use client::{file_part, upload_form, Api};
use clips::Clip;
use worker_process::WorkerProcess;

/// Starts `launch` without stalling the test's runtime.
async fn start(launch: Launch) -> Anb {
    tokio::task::block_in_place(move || launch.start())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_8k_clip_and_a_clip_of_stretched_pixels_are_refused_and_the_service_carries_on() {
    let mut anb = start(Launch::all()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let dir = clips::workdir();

    for (what, bytes, reason) in [
        (
            "a 7680x4320 clip",
            std::fs::read(clips::eight_k_frame(dir.path())).unwrap(),
            "7680x4320: at most 4096 pixels a side",
        ),
        (
            "a clip with 100:1 pixels",
            std::fs::read(clips::stretched_pixels(dir.path())).unwrap(),
            "stretched 100:1",
        ),
    ] {
        let reply = api
            .upload(
                &ana,
                upload_form(file_part(bytes, "clip.mp4", "video/mp4"), "Hostil"),
            )
            .await;
        let detail = reply.expect_error(400, "invalid_file");
        assert!(detail.contains(reason), "{what}: {detail}");
        assert!(anb.is_running(), "{what} took the server down");
        api.get("/health").await.expect_json(200);
    }
    assert!(anb.blob_files().is_empty(), "{:?}", anb.blob_files());
    let (videos, total) = api.get_as(&ana, "/api/videos").await.expect_page();
    assert_eq!((videos.len(), total), (0, 0), "nothing was recorded");

    // The API and the worker in the same process still take and process a good clip.
    let good = std::fs::read(Clip::h264(1.0).size("320x180").make(dir.path(), "good.mp4")).unwrap();
    let id = api.upload_clip(&ana, &good, "Bien").await;
    let processed = api.wait_processed(&ana, &id).await;
    assert_eq!(processed["status"], "processed");
    assert!(anb.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_tighter_limits_fails_the_video_with_the_reason_without_retry() {
    // The API accepts a 2 s clip; the worker, told to take at most 1 s, refuses it when it
    // checks the original again: the video ends `failed` with the reason, at the first attempt.
    let anb = start(Launch::serve()).await;
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let dir = clips::workdir();
    let clip = std::fs::read(
        Clip::h264(2.0)
            .size("160x90")
            .make(dir.path(), "two-seconds.mp4"),
    )
    .unwrap();
    let id = api.upload_clip(&ana, &clip, "Dos segundos").await;

    let mut worker = WorkerProcess::start(
        anb.workdir(),
        &[
            ("ANB_MEDIA_MAX_SECONDS", "1"),
            ("ANB_WORKER_MAX_ATTEMPTS", "5"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let failed = loop {
        let detail = api
            .get_as(&ana, &format!("/api/videos/{id}"))
            .await
            .expect_json(200);
        match detail["status"].as_str() {
            Some("failed") => break detail,
            Some("uploaded" | "processing") => {}
            other => panic!("unexpected status {other:?}: {detail}"),
        }
        assert!(worker.is_running(), "{}", worker.log());
        assert!(Instant::now() < deadline, "not failed: {detail}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reason = failed["failure_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("lasts 2 s: at most 1 s"), "{failed}");
    let log = worker.log();
    assert!(log.contains("attempt=1"), "{log}");
    assert!(!log.contains("attempt=2"), "not retried: {log}");
    api.get("/health").await.expect_json(200);
}
