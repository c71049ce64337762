//! The worker on real adapters (in-memory, SQLite with file blobs) with the real FFmpeg
//! transcoder, on clips the tests generate: draining, failure classification, the sweeper,
//! heartbeats and lost leases, the graceful stop, and a worker killed mid-transcode.

use anb_adapters::testkit::clips;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anb_adapters::blob::{read_all, ObjectStoreBlobs};
use anb_adapters::ffmpeg::{FfmpegConfig, FfmpegTranscoder};
use anb_adapters::memory::MemoryBackend;
use anb_adapters::sqlite::{SqliteQueue, SqliteStore};
use anb_adapters::testkit::{pseudo_random_bytes, services::sqlite_database, unique, ManualClock};
use anb_domain::media::{
    MediaInfo, MediaInput, Profile, ProgressSink, TranscodeOutputs, TranscodeReport,
};
use anb_domain::ports::{TranscodeError, Transcoder};
use anb_domain::*;
use anb_worker::{RunSummary, Worker, WorkerConfig};
use bytes::Bytes;
use clips::{stretched_pixels, workdir, Clip};

/// A showcase service on real adapters, a player, and the worker's temporary root.
struct Rig {
    showcase: Showcase,
    owner: User,
    /// Root of the worker's per-job temporary directories: empty whenever no job runs.
    scratch: tempfile::TempDir,
    /// Root of the file blob store, for the SQLite rig.
    blob_root: Option<tempfile::TempDir>,
}

fn ffmpeg() -> Arc<dyn Transcoder> {
    Arc::new(FfmpegTranscoder::new(FfmpegConfig::default()))
}

/// In-memory repositories, queue and blobs on `clock`.
async fn memory_rig(
    clock: Arc<dyn anb_domain::ports::Clock>,
    transcoder: Arc<dyn Transcoder>,
) -> Rig {
    let ports = MemoryBackend::with_clock(clock).ports(transcoder);
    rig(ports).await
}

/// SQLite repositories and queue, file blobs: the embedded default.
async fn sqlite_rig() -> Rig {
    let db = sqlite_database().await;
    let store = Arc::new(SqliteStore::new(db.clone()));
    let blob_root = tempfile::tempdir().unwrap();
    let ports = Ports {
        users: store.clone(),
        videos: store.clone(),
        votes: store.clone(),
        renditions: store,
        jobs: Arc::new(SqliteQueue::new(db, unique("queue"))),
        blobs: Arc::new(ObjectStoreBlobs::local(blob_root.path()).unwrap()),
        ..MemoryBackend::new().ports(ffmpeg())
    };
    let mut rig = rig(ports).await;
    rig.blob_root = Some(blob_root);
    rig
}

async fn rig(ports: Ports) -> Rig {
    let showcase = Showcase::new(ports, ShowcaseConfig::default());
    let owner = showcase
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
        .unwrap();
    Rig {
        showcase,
        owner,
        scratch: tempfile::tempdir().unwrap(),
        blob_root: None,
    }
}

impl Rig {
    fn ports(&self) -> &Ports {
        self.showcase.ports()
    }

    /// A worker with a `lease` (heartbeats at a third of it), one job at a time.
    fn worker(&self, lease: Duration) -> Worker {
        self.worker_with(|config| config.lease_for = lease)
    }

    fn worker_with(&self, adjust: impl FnOnce(&mut WorkerConfig)) -> Worker {
        let mut config = WorkerConfig {
            temp_dir: Some(self.scratch.path().to_owned()),
            ..WorkerConfig::with_lease(Duration::from_secs(10), 1)
        };
        adjust(&mut config);
        config.heartbeat_every = config.lease_for / 3;
        config.restore.processing_delay = config.lease_for / 2;
        Worker::new(self.showcase.clone(), config).unwrap()
    }

    /// Uploads a generated clip (`seconds` long, `size`) through the use case.
    async fn upload(&self, seconds: f64, size: &'static str) -> Video {
        let dir = workdir();
        let path = Clip::h264(seconds).size(size).make(dir.path(), "clip.mp4");
        let bytes = Bytes::from(std::fs::read(path).unwrap());
        let body: ByteStream = Box::pin(futures::stream::iter([Ok(bytes)]));
        let form = UploadForm {
            title: "Crossover".into(),
            ..UploadForm::default()
        };
        self.showcase
            .upload_video(self.owner.id, form, body)
            .await
            .unwrap()
            .video
    }

    async fn video(&self, id: VideoId) -> Video {
        self.ports()
            .videos
            .get(id)
            .await
            .unwrap()
            .expect("the video")
    }

    async fn depth(&self) -> QueueDepth {
        self.ports().jobs.depth().await.unwrap()
    }

    /// Waits (up to 60 s) until the video is `processing`.
    async fn until_processing(&self, id: VideoId) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.video(id).await.status != VideoStatus::Processing {
            assert!(
                Instant::now() < deadline,
                "the video never started processing"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every job's temporary directory is gone (given a moment, after a job was abandoned,
    /// for the transcoder's blocking thread to notice the cancellation).
    async fn assert_no_temporary_files(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<_> = std::fs::read_dir(self.scratch.path()).unwrap().collect();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "temporary files left behind: {left:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn bytes_stream(data: Vec<u8>) -> ByteStream {
    Box::pin(futures::stream::iter([Ok(Bytes::from(data))]))
}

async fn within<T>(limit: Duration, what: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, what)
        .await
        .expect("took too long")
}

/// Reads the MP4 the worker stored and checks what the showcase profile promises.
async fn assert_web_ready(rig: &Rig, video: &Video) {
    let processed = video.processed.clone().expect("a processed key");
    assert_eq!(processed, BlobKey::processed(video.id));
    let object = rig.ports().blobs.get(&processed, None).await.unwrap();
    let info = rig
        .ports()
        .transcoder
        .probe(MediaInput::Stream(object.body))
        .await
        .unwrap();
    let stream = info.video.expect("a video stream");
    assert_eq!(
        (stream.codec.as_str(), stream.width, stream.height),
        ("h264", 1280, 720)
    );
    let thumbnail = read_all(&*rig.ports().blobs, &BlobKey::thumbnail(video.id))
        .await
        .unwrap();
    assert_eq!(&thumbnail[..2], &[0xFF, 0xD8], "a JPEG thumbnail");
    assert_streams_stored(rig, video).await;
}

/// The ladder and the storyboard are in the store under the video's prefix: the master, each
/// rung it lists with every segment that rung lists, the cues and the sprite they point at.
async fn assert_streams_stored(rig: &Rig, video: &Video) {
    let blobs = &*rig.ports().blobs;
    let streams = BlobKey::streams(video.id);
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    let uris = |playlist: &str| -> Vec<String> {
        playlist
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let master_key = BlobKey::stream_master(video.id);
    assert_eq!(video.stream, Some(master_key.clone()));
    let master = text(read_all(blobs, &master_key).await.unwrap());
    let rungs = uris(&master);
    let source_height = rig
        .ports()
        .transcoder
        .probe(MediaInput::Stream(
            blobs.get(&video.original, None).await.unwrap().body,
        ))
        .await
        .unwrap()
        .video
        .unwrap()
        .height;
    let expected: Vec<String> = [720, 480, 360]
        .into_iter()
        .filter(|h| *h <= source_height)
        .map(|h| format!("{h}p/index.m3u8"))
        .collect();
    let (generations, names): (Vec<&str>, Vec<&str>) = rungs
        .iter()
        .map(|uri| uri.split_once('/').expect("a generation/rung URI"))
        .unzip();
    assert_eq!(
        names, expected,
        "the rungs the source fills, no enlargement"
    );
    assert!(
        generations
            .iter()
            .all(|g| *g == generations[0] && !g.is_empty()),
        "one run's generation: {rungs:?}"
    );
    for rung in rungs {
        let playlist = text(
            read_all(blobs, &streams.join(&format!("hls/{rung}")).unwrap())
                .await
                .unwrap(),
        );
        let dir = rung.trim_end_matches("index.m3u8");
        let segments = uris(&playlist);
        assert!(!segments.is_empty(), "{playlist}");
        for file in segments.iter().map(String::as_str).chain(["init.mp4"]) {
            let key = streams.join(&format!("hls/{dir}{file}")).unwrap();
            assert!(blobs.head(&key).await.unwrap().size > 0, "{key}");
        }
    }
    let cues_key = streams.join("storyboard.vtt").unwrap();
    assert_eq!(video.storyboard, Some(cues_key.clone()));
    let cues = text(read_all(blobs, &cues_key).await.unwrap());
    assert!(
        cues.starts_with("WEBVTT") && cues.contains("storyboard.jpg#xywh="),
        "{cues}"
    );
    let sprite = read_all(blobs, &streams.join("storyboard.jpg").unwrap())
        .await
        .unwrap();
    assert_eq!(&sprite[..2], &[0xFF, 0xD8], "a JPEG sprite");
}

// ---- Tests that hold with any transcoder: the loop's own logic ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_original_fails_the_video_at_once_and_the_worker_goes_on_to_the_next_job() {
    let rig = sqlite_rig().await;
    let lost = rig.upload(1.0, "320x180").await;
    rig.ports().blobs.delete(&lost.original).await.unwrap();
    let deleted = rig.upload(1.0, "320x180").await;
    rig.ports()
        .videos
        .delete(deleted.id, rig.ports().clock.now())
        .await
        .unwrap();

    let summary = rig
        .worker(Duration::from_secs(10))
        .run_once()
        .await
        .unwrap();

    assert_eq!(
        summary,
        RunSummary {
            failed: 1,
            skipped: 1,
            ..RunSummary::default()
        }
    );
    assert_eq!(
        rig.video(lost.id).await.status,
        VideoStatus::Failed {
            reason: "the original upload is missing".into()
        }
    );
    let depth = rig.depth().await;
    assert_eq!(
        (depth.ready, depth.leased, depth.scheduled, depth.failed),
        (0, 0, 0, 1)
    );
    rig.assert_no_temporary_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_fault_is_retried_later_and_leaves_no_temporary_files() {
    let rig = sqlite_rig().await;
    let video = rig.upload(1.0, "320x180").await;
    // Break the real store: a file where the `processed/` directory must go.
    let root = rig.blob_root.as_ref().unwrap().path();
    std::fs::write(root.join("processed"), b"in the way").unwrap();

    let summary = rig
        .worker(Duration::from_secs(10))
        .run_once()
        .await
        .unwrap();

    assert_eq!(
        summary,
        RunSummary {
            retrying: 1,
            ..RunSummary::default()
        }
    );
    assert_eq!(rig.video(video.id).await.status, VideoStatus::Processing);
    assert_eq!(
        rig.depth().await.scheduled,
        1,
        "the retry waits for its backoff"
    );
    rig.assert_no_temporary_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_requeues_a_video_whose_job_was_lost_once_per_deadline() {
    let clock = ManualClock::new();
    let rig = memory_rig(clock.clone(), ffmpeg()).await;
    let video = rig.upload(1.0, "320x180").await;
    // The job is lost: taken and acknowledged without the video being processed.
    let jobs = &rig.ports().jobs;
    let job = jobs.lease(Duration::from_secs(60)).await.unwrap().unwrap();
    jobs.ack(job.id, job.lease).await.unwrap();
    let worker = rig.worker(Duration::from_secs(10));

    assert_eq!(worker.sweep().await.unwrap(), 0, "not stuck yet");
    clock.advance(worker.config().stuck_after + Duration::from_secs(1));
    assert_eq!(worker.sweep().await.unwrap(), 1);
    assert_eq!(worker.sweep().await.unwrap(), 0, "once per deadline");
    let requeued = jobs.lease(Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(
        requeued.payload,
        JobPayload::ProcessVideo { video_id: video.id }
    );
    jobs.retry(requeued.id, requeued.lease, Duration::ZERO)
        .await
        .unwrap();

    let summary = worker.run_once().await.unwrap();
    assert_eq!(summary.jobs(), 1, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restorer_queues_again_once_the_jobs_the_queue_lost() {
    use anb_domain::ports::Clock as _;
    let clock = ManualClock::new();
    let rig = memory_rig(clock.clone(), ffmpeg()).await;
    let waiting = rig.upload(1.0, "320x180").await;
    let working = rig.upload(1.0, "320x180").await;
    let worker = rig.worker(Duration::from_secs(10));
    let report = |unfinished, restored| RestoreReport {
        unfinished,
        restored,
    };
    assert_eq!(
        worker.restore_lost_jobs().await.unwrap(),
        report(0, 0),
        "settling"
    );
    clock.advance(worker.config().restore.settle_for + Duration::from_secs(1));
    assert_eq!(
        worker.restore_lost_jobs().await.unwrap(),
        report(2, 0),
        "jobs alive"
    );

    // The queue loses both jobs; one video was being processed.
    let jobs = &rig.ports().jobs;
    for _ in 0..2 {
        let job = jobs.lease(Duration::from_secs(60)).await.unwrap().unwrap();
        jobs.ack(job.id, job.lease).await.unwrap();
    }
    rig.ports()
        .videos
        .transition(
            working.id,
            &StatusChange::StartProcessing(Default::default()),
            clock.now(),
        )
        .await
        .unwrap();
    clock.advance(worker.config().restore.settle_for + Duration::from_secs(1));
    assert_eq!(worker.restore_lost_jobs().await.unwrap(), report(2, 2));
    assert_eq!(
        worker.restore_lost_jobs().await.unwrap(),
        report(2, 0),
        "restored once"
    );

    // The uploaded video's job is back at once; the processing one's after the delay.
    let first = jobs.lease(Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(
        first.payload,
        JobPayload::ProcessVideo {
            video_id: waiting.id
        }
    );
    jobs.retry(first.id, first.lease, Duration::ZERO)
        .await
        .unwrap();
    let summary = worker.run_once().await.unwrap();
    assert_eq!(summary.jobs(), 1, "{summary:?}");
    clock.advance(worker.config().restore.processing_delay);
    let summary = worker.run_once().await.unwrap();
    assert_eq!(summary.jobs(), 1, "{summary:?}");
    for id in [waiting.id, working.id] {
        assert_eq!(rig.video(id).await.status, VideoStatus::Processed);
    }
    assert_eq!(worker.restore_lost_jobs().await.unwrap(), report(0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_an_idle_worker_returns_promptly() {
    let rig = memory_rig(Arc::new(anb_domain::ports::SystemClock), ffmpeg()).await;
    let worker = rig.worker_with(|c| c.concurrency = 2);
    let stopped = Instant::now();
    let summary = within(
        Duration::from_secs(10),
        worker.run(tokio::time::sleep(Duration::from_millis(300))),
    )
    .await;
    assert_eq!(summary, RunSummary::default());
    assert!(stopped.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_queue_fails_keeps_running_until_stopped() {
    let db = sqlite_database().await;
    let queue = SqliteQueue::new(db.clone(), unique("queue"));
    let ports = Ports {
        jobs: Arc::new(queue),
        ..MemoryBackend::new().ports(ffmpeg())
    };
    let showcase = Showcase::new(ports, ShowcaseConfig::default());
    // Break the real queue: its database is closed.
    db.close().await;
    let worker = Worker::new(
        showcase,
        WorkerConfig::with_lease(Duration::from_secs(10), 1),
    )
    .unwrap();
    assert!(worker.run_once().await.is_err(), "leasing fails");
    let summary = within(
        Duration::from_secs(10),
        worker.run(tokio::time::sleep(Duration::from_millis(800))),
    )
    .await;
    assert_eq!(summary, RunSummary::default());
}

/// Probes like FFmpeg, panics when asked to process.
struct PanickingTranscoder(FfmpegTranscoder);

#[async_trait::async_trait]
impl Transcoder for PanickingTranscoder {
    async fn probe(&self, input: MediaInput) -> Result<MediaInfo, TranscodeError> {
        self.0.probe(input).await
    }

    async fn process(
        &self,
        _: &Path,
        _: &TranscodeOutputs,
        _: &Profile,
        _: ProgressSink,
    ) -> Result<TranscodeReport, TranscodeError> {
        panic!("a bug in the transcoder")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_processing_is_retried_and_the_worker_carries_on() {
    let panicking = Arc::new(PanickingTranscoder(FfmpegTranscoder::new(
        FfmpegConfig::default(),
    )));
    let rig = memory_rig(Arc::new(anb_domain::ports::SystemClock), panicking).await;
    let first = rig.upload(1.0, "320x180").await;
    let second = rig.upload(1.0, "320x180").await;

    let summary = rig
        .worker(Duration::from_secs(10))
        .run_once()
        .await
        .unwrap();

    assert_eq!(
        summary,
        RunSummary {
            retrying: 2,
            ..RunSummary::default()
        }
    );
    for video in [first, second] {
        assert_eq!(rig.video(video.id).await.status, VideoStatus::Processing);
    }
    assert_eq!(rig.depth().await.scheduled, 2);
    rig.assert_no_temporary_files().await;
}

// ---- Tests that need the real transcoder's `process` ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_processes_a_clip_into_stored_web_ready_outputs_and_a_second_delivery_is_skipped()
{
    let rig = sqlite_rig().await;
    let uploaded = rig.upload(3.0, "640x360").await;
    let worker = rig.worker(Duration::from_secs(10));

    let summary = worker.run_once().await.unwrap();

    assert_eq!(
        summary,
        RunSummary {
            processed: 1,
            ..RunSummary::default()
        }
    );
    let video = rig.video(uploaded.id).await;
    assert_eq!(video.status, VideoStatus::Processed);
    let duration = video.duration_seconds.unwrap();
    assert!((2.8..3.3).contains(&duration), "{duration}");
    assert_web_ready(&rig, &video).await;
    assert_eq!(rig.depth().await, QueueDepth::default());
    rig.assert_no_temporary_files().await;

    // The same job again: nothing to do, nothing changed.
    let stored = read_all(&*rig.ports().blobs, &BlobKey::processed(video.id))
        .await
        .unwrap();
    let payload = JobPayload::ProcessVideo { video_id: video.id };
    rig.ports()
        .jobs
        .enqueue(&payload, None, Duration::ZERO)
        .await
        .unwrap();
    let again = worker.run_once().await.unwrap();
    assert_eq!(
        again,
        RunSummary {
            skipped: 1,
            ..RunSummary::default()
        }
    );
    assert_eq!(rig.video(video.id).await, video);
    let after = read_all(&*rig.ports().blobs, &BlobKey::processed(video.id))
        .await
        .unwrap();
    assert_eq!(after, stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_place_of_the_original_fails_as_bad_media_without_retry() {
    let rig = sqlite_rig().await;
    let video = rig.upload(1.0, "320x180").await;
    rig.ports()
        .blobs
        .put(
            &video.original,
            bytes_stream(pseudo_random_bytes(200_000, 3)),
        )
        .await
        .unwrap();
    let good = rig.upload(1.0, "320x180").await;

    let summary = rig
        .worker(Duration::from_secs(10))
        .run_once()
        .await
        .unwrap();

    assert_eq!(
        summary,
        RunSummary {
            processed: 1,
            failed: 1,
            ..RunSummary::default()
        }
    );
    let reason = rig
        .video(video.id)
        .await
        .status
        .failure_reason()
        .map(str::to_owned);
    assert!(reason.is_some_and(|r| !r.is_empty()));
    assert_eq!(rig.video(good.id).await.status, VideoStatus::Processed);
    assert_eq!(rig.depth().await.failed, 1);
    rig.assert_no_temporary_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_original_outside_the_media_limits_fails_with_the_reason_without_retry() {
    let rig = sqlite_rig().await;
    let video = rig.upload(1.0, "320x180").await;
    // The object replaced behind the upload's check (or the limits tightened since): its
    // pixels are stretched 100 to 1, which processing would widen into a 32000 px picture.
    let dir = workdir();
    let stretched = stretched_pixels(dir.path());
    rig.ports()
        .blobs
        .put(
            &video.original,
            bytes_stream(std::fs::read(stretched).unwrap()),
        )
        .await
        .unwrap();

    let summary = rig
        .worker(Duration::from_secs(10))
        .run_once()
        .await
        .unwrap();

    assert_eq!(
        summary,
        RunSummary {
            failed: 1,
            ..RunSummary::default()
        }
    );
    let status = rig.video(video.id).await.status;
    let reason = status.failure_reason().unwrap_or_default();
    assert!(reason.contains("stretched 100:1"), "{status:?}");
    assert_eq!(rig.depth().await.failed, 1, "no retry");
    assert!(rig.video(video.id).await.processed.is_none());
    rig.assert_no_temporary_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_slower_than_the_time_limit_fails_as_bad_media_without_retry() {
    let slow = Arc::new(FfmpegTranscoder::new(FfmpegConfig {
        timeout: Duration::from_millis(1),
        ..FfmpegConfig::default()
    }));
    let rig = memory_rig(Arc::new(anb_domain::ports::SystemClock), slow).await;
    let video = rig.upload(2.0, "640x360").await;

    let summary = rig
        .worker(Duration::from_secs(10))
        .run_once()
        .await
        .unwrap();

    assert_eq!(
        summary,
        RunSummary {
            failed: 1,
            ..RunSummary::default()
        }
    );
    let status = rig.video(video.id).await.status;
    let reason = status.failure_reason().unwrap_or_default();
    assert!(reason.contains("takes too long to process"), "{status:?}");
    assert_eq!(rig.depth().await.failed, 1, "no retry");
    rig.assert_no_temporary_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_worker_removes_what_dead_workers_left_and_keeps_live_ones() {
    let rig = memory_rig(Arc::new(anb_domain::ports::SystemClock), ffmpeg()).await;
    let root = rig.scratch.path();
    // A worker process that died mid-job left its directory (its lock died with it).
    let mut dead = std::process::Command::new("sh")
        .args(["-c", "mkdir \"$0\" && echo $$ > \"$0/.owner.lock\""])
        .arg(root.join("anb-job-999999-dead01"))
        .spawn()
        .unwrap();
    assert!(dead.wait().unwrap().success());
    let unrelated = root.join("anb-job-notours");
    std::fs::create_dir(&unrelated).unwrap();
    // Another live worker process's directory: it holds the lock (util-linux `flock`, which
    // keeps it while its command, `cat`, waits on a pipe; `-o`: the command does not inherit it).
    let live = root.join("anb-job-999998-live01");
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join(".owner.lock"), "999998").unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg("-o")
        .arg(live.join(".owner.lock"))
        .arg("cat")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux flock");
    while std::fs::File::open(live.join(".owner.lock"))
        .unwrap()
        .try_lock()
        .is_ok()
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let worker = rig.worker(Duration::from_secs(10));
    assert_eq!(worker.remove_stale_temp_dirs().await, 1);
    assert!(!root.join("anb-job-999999-dead01").exists());
    assert!(live.exists(), "a live worker's directory is kept");
    assert!(unrelated.exists(), "not named like ours: left alone");

    // Once that worker is killed too, its directory goes.
    holder.kill().unwrap();
    holder.wait().unwrap();
    drop(holder.stdin.take()); // `cat` ends with its input.
    assert_eq!(worker.remove_stale_temp_dirs().await, 1);
    assert!(!live.exists());
    std::fs::remove_dir(unrelated).unwrap();
    rig.assert_no_temporary_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_still_running_past_the_grace_period_is_handed_back_to_the_queue() {
    let rig = memory_rig(Arc::new(anb_domain::ports::SystemClock), ffmpeg()).await;
    let video = rig.upload(10.0, "1280x720").await;
    let worker = rig.worker_with(|c| c.shutdown_grace = Duration::from_millis(200));

    let summary = within(
        Duration::from_secs(60),
        worker.clone().run(rig.until_processing(video.id)),
    )
    .await;

    assert_eq!(
        summary,
        RunSummary {
            released: 1,
            ..RunSummary::default()
        }
    );
    assert_eq!(rig.video(video.id).await.status, VideoStatus::Processing);
    assert_eq!(rig.depth().await.ready, 1, "deliverable at once");
    rig.assert_no_temporary_files().await;
    // Another run takes it over and finishes it.
    assert_eq!(worker.run_once().await.unwrap().processed, 1);
    assert_eq!(rig.video(video.id).await.status, VideoStatus::Processed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_finishing_within_the_grace_period_is_settled_normally() {
    let rig = memory_rig(Arc::new(anb_domain::ports::SystemClock), ffmpeg()).await;
    let video = rig.upload(3.0, "640x360").await;
    let worker = rig.worker_with(|c| c.shutdown_grace = Duration::from_secs(120));

    let summary = within(
        Duration::from_secs(180),
        worker.run(rig.until_processing(video.id)),
    )
    .await;

    assert_eq!(
        summary,
        RunSummary {
            processed: 1,
            ..RunSummary::default()
        }
    );
    assert_eq!(rig.depth().await, QueueDepth::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_is_taken_over_abandons_the_job_without_settling_it() {
    let clock = ManualClock::new();
    let rig = memory_rig(clock.clone(), ffmpeg()).await;
    let video = rig.upload(10.0, "1280x720").await;
    let worker = rig.worker(Duration::from_secs(3));
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run_once().await }
    });
    rig.until_processing(video.id).await;

    // The lease runs out (on the queue's clock) and another consumer takes the job.
    clock.advance(Duration::from_secs(60));
    let other = rig
        .ports()
        .jobs
        .lease(Duration::from_secs(600))
        .await
        .unwrap();
    let other = other.expect("the expired job is delivered again");
    assert_eq!(other.attempt, 2);

    let summary = within(Duration::from_secs(30), running)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        summary,
        RunSummary {
            lease_lost: 1,
            ..RunSummary::default()
        }
    );
    assert_eq!(rig.video(video.id).await.status, VideoStatus::Processing);
    assert_eq!(
        rig.depth().await.leased,
        1,
        "still held by the other consumer"
    );
    rig.assert_no_temporary_files().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_transcode_is_replaced_and_the_video_is_processed_once() {
    let rig = sqlite_rig().await;
    let video = rig.upload(10.0, "1280x720").await;
    let lease = Duration::from_secs(3);

    // Worker A takes the job and dies while transcoding: its heartbeats stop with it.
    let a = rig.worker(lease);
    let dying = tokio::spawn(async move { a.run_once().await });
    rig.until_processing(video.id).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    dying.abort();
    assert!(dying.await.unwrap_err().is_cancelled());
    assert_eq!(rig.video(video.id).await.status, VideoStatus::Processing);

    // Worker B finds nothing while A's lease lives, then gets the job (attempt 2) and
    // finishes it.
    let b = rig.worker(Duration::from_secs(30));
    assert_eq!(b.run_once().await.unwrap(), RunSummary::default());
    let deadline = Instant::now() + lease * 10;
    let summary = loop {
        let summary = b.run_once().await.unwrap();
        if summary.jobs() > 0 {
            break summary;
        }
        assert!(Instant::now() < deadline, "the job never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        summary,
        RunSummary {
            processed: 1,
            ..RunSummary::default()
        }
    );
    let done = rig.video(video.id).await;
    assert_eq!(done.status, VideoStatus::Processed);
    assert_web_ready(&rig, &done).await;
    assert_eq!(
        rig.depth().await,
        QueueDepth::default(),
        "acked, nothing left"
    );
    assert_eq!(b.run_once().await.unwrap(), RunSummary::default());
    rig.assert_no_temporary_files().await;
}
