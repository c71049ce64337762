//! Traces (`ANB_OTLP_ENDPOINT`): one trace spans an upload request, the worker's job that
//! processes the video and the webhook delivery of what the job changed, in one process
//! (`anb` on the embedded defaults: the SQLite jobs table), and the request and the job
//! across processes through the queue (`anb serve` + `anb worker` on PostgreSQL and Redis,
//! `ANB_TEST_POSTGRES_URL` and `ANB_TEST_REDIS_URL`). The spans go over OTLP/HTTP to a
//! collector of the test's own; the client starts the trace with a W3C `traceparent`. And the
//! spans still waiting for their batch leave when the process stops (SIGTERM).
//! Build the binary first: `cargo build --bin anb`.

use std::collections::HashMap;
use std::time::Duration;

use anb_adapters::testkit::clips::{self, Clip};
use anb_adapters::testkit::services;
use reqwest::Method;

use crate::support::app::{Anb, Launch};
use crate::support::client::{file_part, upload_form, Api};
use crate::support::otlp_receiver::{OtlpReceiver, ReceivedSpan};
use crate::support::worker_process::WorkerProcess;

/// How long the spans may take to arrive once the video is processed (the exporter sends
/// batches every 100 ms here).
const SPANS_DEADLINE: Duration = Duration::from_secs(30);

/// The exporter's environment: the receiver, and batches sent every 100 ms (the SDK's
/// `OTEL_BSP_SCHEDULE_DELAY`, default 5 s) so the test need not wait.
fn tracing_env(receiver: &OtlpReceiver) -> [(&'static str, String); 2] {
    [
        ("ANB_OTLP_ENDPOINT", receiver.endpoint().to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ]
}

/// A trace the client starts: (trace id, span id, its `traceparent`).
fn client_trace() -> (String, String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let traceparent = format!("00-{trace_id}-{span_id}-01");
    (trace_id, span_id, traceparent)
}

/// Uploads a small clip as a new player, with `traceparent`, waits until it is processed, and
/// returns the video id.
async fn upload_traced(anb: &Anb, traceparent: &str) -> String {
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rojas", "Bogotá").await;
    let dir = clips::workdir();
    let clip = Clip::h264(1.0).size("320x180").make(dir.path(), "clip.mp4");
    let form = upload_form(
        file_part(std::fs::read(clip).unwrap(), "clip.mp4", "video/mp4"),
        "Triple",
    );
    let accepted = api
        .send(
            api.as_player(&ana, Method::POST, "/api/videos/upload")
                .header("traceparent", traceparent)
                .multipart(form),
        )
        .await
        .expect_json(201);
    let video_id = accepted["video_id"]
        .as_str()
        .expect("a video id")
        .to_owned();
    api.wait_processed(&ana, &video_id).await;
    video_id
}

/// The spans of one trace that matter here, once all have arrived.
struct UploadTrace {
    request: ReceivedSpan,
    job: ReceivedSpan,
    handle_job: ReceivedSpan,
}

/// Waits until the receiver holds the upload request's span, the worker's `job` span for
/// `video_id` and the domain's `handle_job` span inside it, the job reaching the request
/// through its chain of parents; returns them.
async fn wait_for_upload_trace(receiver: &OtlpReceiver, video_id: &str) -> UploadTrace {
    receiver
        .wait_for(
            SPANS_DEADLINE,
            "upload request span with the job's span below it",
            |spans| {
                let request = spans.iter().find(|s| {
                    s.name == "request"
                        && s.attributes.get("path").map(String::as_str)
                            == Some("/api/videos/upload")
                })?;
                let job = spans.iter().find(|s| {
                    s.name == "job"
                        && s.attributes.get("video").map(String::as_str) == Some(video_id)
                })?;
                let handle_job = spans
                    .iter()
                    .find(|s| s.name == "handle_job" && s.parent_span_id == job.span_id)?;
                ancestors(spans, job)
                    .iter()
                    .any(|a| a.span_id == request.span_id)
                    .then(|| UploadTrace {
                        request: request.clone(),
                        job: job.clone(),
                        handle_job: handle_job.clone(),
                    })
            },
        )
        .await
}

/// `span`'s parent, its parent, and so on, as far as the received spans go.
fn ancestors<'a>(spans: &'a [ReceivedSpan], span: &ReceivedSpan) -> Vec<&'a ReceivedSpan> {
    let by_id: HashMap<&str, &ReceivedSpan> =
        spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let mut chain = Vec::new();
    let mut parent = span.parent_span_id.as_str();
    while let Some(&next) = by_id.get(parent) {
        if chain.len() > spans.len() {
            break;
        }
        chain.push(next);
        parent = next.parent_span_id.as_str();
    }
    chain
}

/// The request span continues the client's trace, and the job's spans are in that trace.
fn assert_one_trace(trace: &UploadTrace, client_trace_id: &str, client_span_id: &str) {
    assert_eq!(
        trace.request.trace_id, client_trace_id,
        "the client's trace"
    );
    assert_eq!(
        trace.request.parent_span_id, client_span_id,
        "the request span is a child of the client's span"
    );
    assert_eq!(
        trace.job.trace_id, client_trace_id,
        "the job is in the upload's trace"
    );
    assert_eq!(trace.handle_job.trace_id, client_trace_id);
    for span in [&trace.request, &trace.job] {
        assert_eq!(
            span.resource.get("service.name").map(String::as_str),
            Some("anb")
        );
        assert!(
            span.resource.contains_key("service.instance.id"),
            "{span:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_the_upload_request_and_the_workers_job_in_one_process() {
    let receiver = OtlpReceiver::start().await;
    // The deployment's webhook goes to the same receiver (`/hook`, which takes every message).
    let anb = tokio::task::block_in_place(|| {
        tracing_env(&receiver)
            .into_iter()
            .fold(Launch::all(), |launch, (key, value)| launch.env(key, value))
            .env("ANB_WEBHOOK_URL", format!("{}/hook", receiver.endpoint()))
            .env(
                "ANB_WEBHOOK_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            )
            .env("ANB_WEBHOOK_ALLOW_PRIVATE", "true")
            .start()
    });
    let (trace_id, span_id, traceparent) = client_trace();
    let video_id = upload_traced(&anb, &traceparent).await;

    let trace = wait_for_upload_trace(&receiver, &video_id).await;
    assert_one_trace(&trace, &trace_id, &span_id);
    assert_eq!(
        trace.job.resource.get("anb.role").map(String::as_str),
        Some("all")
    );

    // The webhook delivery of the event the job made (`video.processed`) is in the same
    // trace, below the job: API → queue → worker → webhook delivery.
    let job_span = trace.job.span_id.clone();
    let delivery = receiver
        .wait_for(
            SPANS_DEADLINE,
            "a webhook delivery span below the job",
            |spans| {
                spans
                    .iter()
                    .find(|s| {
                        s.name == "webhook_delivery"
                            && ancestors(spans, s).iter().any(|a| a.span_id == job_span)
                    })
                    .cloned()
            },
        )
        .await;
    assert_eq!(
        delivery.trace_id, trace_id,
        "the delivery is in the upload's trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_travels_with_the_job_through_redis_to_an_anb_worker_process() {
    let receiver = OtlpReceiver::start().await;
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    // Shared backends: PostgreSQL and a Redis queue of the test's own name; the blobs stay in
    // the working directory both processes share.
    let mut env: Vec<(&str, String)> = vec![
        (
            "ANB_DATABASE_URL",
            services::empty_postgres_database_url().await,
        ),
        ("ANB_QUEUE_URL", services::redis_url()),
        (
            "ANB_QUEUE_NAME",
            format!("anb-test-{}", uuid::Uuid::new_v4().simple()),
        ),
        ("ANB_JWT_SECRET", secret),
    ];
    env.extend(tracing_env(&receiver));
    let anb = tokio::task::block_in_place(|| {
        env.iter()
            .fold(Launch::serve(), |launch, (key, value)| {
                launch.env(*key, value)
            })
            .start()
    });
    let worker_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _worker = WorkerProcess::start(anb.workdir(), &worker_env);
    let (trace_id, span_id, traceparent) = client_trace();
    let video_id = upload_traced(&anb, &traceparent).await;

    let trace = wait_for_upload_trace(&receiver, &video_id).await;
    assert_one_trace(&trace, &trace_id, &span_id);
    let role = |span: &ReceivedSpan| span.resource.get("anb.role").cloned();
    assert_eq!(role(&trace.request).as_deref(), Some("serve"));
    assert_eq!(
        role(&trace.job).as_deref(),
        Some("worker"),
        "another process"
    );
    assert_ne!(
        trace.request.resource.get("service.instance.id"),
        trace.job.resource.get("service.instance.id")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_spans_leave_when_the_process_stops() {
    let receiver = OtlpReceiver::start().await;
    // Batches every 10 minutes: only the flush at exit can send this one.
    let mut anb = tokio::task::block_in_place(|| {
        Launch::serve()
            .env("ANB_OTLP_ENDPOINT", receiver.endpoint())
            .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
            .start()
    });
    let (trace_id, _, traceparent) = client_trace();
    let api = Api::new(anb.base_url());
    api.send(
        api.request(Method::GET, "/health")
            .header("traceparent", &traceparent),
    )
    .await
    .expect_json(200);
    assert!(
        receiver.spans().is_empty(),
        "nothing is sent before the batch is due"
    );

    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &anb.pid().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while anb.is_running() {
        assert!(
            std::time::Instant::now() < deadline,
            "anb did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let request = receiver
        .spans()
        .into_iter()
        .find(|s| s.name == "request" && s.trace_id == trace_id);
    assert!(request.is_some(), "the request's span was not sent at exit");
}
