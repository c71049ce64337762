//! Conversions on demand over HTTP: [`check_conversions`] runs inside the course flow on every
//! setup (the embedded defaults; PostgreSQL + Redis + S3); the limit on pending conversions is
//! checked on the embedded defaults.

use std::time::{Duration, Instant};

use anb_adapters::testkit::clips::{self, Clip};
use reqwest::header::RANGE;
use reqwest::Method;
use serde_json::{json, Value};

use crate::streaming::{altered, master, resolve, store_presigns, walk_ladder, Ladder};
use crate::support::app::Launch;
use crate::support::client::{Api, Player, Reply, PROCESSING_DEADLINE};

/// `POST /api/videos/{video_id}/renditions` as `player`.
async fn convert(api: &Api, player: &Player, video_id: &str, body: Value) -> Reply {
    let path = format!("/api/videos/{video_id}/renditions");
    api.send(api.as_player(player, Method::POST, &path).json(&body))
        .await
}

/// `video_id`'s renditions as its owner lists them.
async fn renditions(api: &Api, owner: &Player, video_id: &str) -> Vec<Value> {
    let list = api
        .get_as(owner, &format!("/api/videos/{video_id}/renditions"))
        .await
        .expect_json(200);
    list.as_array().expect("an array").clone()
}

/// Waits until every rendition of `video_id` is ready (panics on a failed one).
async fn wait_ready(api: &Api, owner: &Player, video_id: &str) -> Vec<Value> {
    let deadline = Instant::now() + PROCESSING_DEADLINE;
    loop {
        let list = renditions(api, owner, video_id).await;
        for r in &list {
            assert_ne!(r["status"], "failed", "a conversion failed: {r}");
            if r["status"] == "processing" {
                let percent = r["progress"]["percent"].as_f64().expect("progress");
                assert!((0.0..=100.0).contains(&percent), "{r}");
            } else {
                assert_eq!(r["progress"], Value::Null, "{r}");
            }
        }
        if list.iter().all(|r| r["status"] == "ready") {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "not converted within {PROCESSING_DEADLINE:?}: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The rendition of `format` in `list`.
fn of_format<'a>(list: &'a [Value], format: &str) -> &'a Value {
    list.iter()
        .find(|r| r["format"] == format)
        .unwrap_or_else(|| panic!("a {format} rendition in {list:?}"))
}

/// The body of `url` in a file of its own, for ffprobe.
async fn download(
    api: &Api,
    url: &str,
    content_type: &str,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let reply = api.fetch(url).await;
    assert_eq!(reply.status, 200, "{url}");
    assert_eq!(reply.header("content-type"), Some(content_type));
    let path = dir.join(url.rsplit('/').next().unwrap());
    std::fs::write(&path, &reply.body).unwrap();
    path
}

/// Conversions of the course flow's processed 640x360 video `video_id` (Ana's; Ben is
/// another player): refusals, three conversions made by the worker, their signed downloads.
pub async fn check_conversions(api: &Api, ana: &Player, ben: &Player, video_id: &str) {
    let path = format!("/api/videos/{video_id}/renditions");
    convert(api, ben, video_id, json!({"format": "mp3"}))
        .await
        .expect_error(403, "forbidden");
    api.get_as(ben, &path).await.expect_error(403, "forbidden");
    for bad in [
        json!({"format": "gif"}),
        json!({"format": "mp4", "height": "720"}),
        json!({"format": "mp4", "height": 500}),
        json!({"height": 720}),
    ] {
        let detail = convert(api, ana, video_id, bad.clone())
            .await
            .expect_error(400, "validation_error");
        assert!(!detail.is_empty(), "{bad}");
    }

    // The sound as MP3, an MP4 at the default 720 (the 640x360 original is never enlarged),
    // an HLS ladder up to 480 (only the 360p rung: the original fills no larger one).
    let mp3 = convert(api, ana, video_id, json!({"format": "mp3"}))
        .await
        .expect_json(202);
    assert_eq!(mp3["status"], "pending", "{mp3}");
    assert_eq!(
        (&mp3["height"], &mp3["download_url"]),
        (&Value::Null, &Value::Null)
    );
    let mp4 = convert(api, ana, video_id, json!({"format": "mp4"}))
        .await
        .expect_json(202);
    assert_eq!(mp4["height"], 720);
    convert(api, ana, video_id, json!({"format": "hls", "height": 480}))
        .await
        .expect_json(202);
    // Asked again: the same one, nothing new queued.
    let again = convert(api, ana, video_id, json!({"format": "mp3"}))
        .await
        .expect_json(200);
    assert_eq!(again["rendition_id"], mp3["rendition_id"]);

    let ready = wait_ready(api, ana, video_id).await;
    assert_eq!(ready.len(), 3, "one of each kind: {ready:?}");
    let dir = clips::workdir();

    // The MP3 decodes: an MP3 stream, stereo, every frame read.
    let mp3_url = of_format(&ready, "mp3")["download_url"]
        .as_str()
        .expect("a download link")
        .to_owned();
    assert!(mp3_url.starts_with("/api/playback/"), "{mp3_url}");
    let file = download(api, &mp3_url, "audio/mpeg", dir.path()).await;
    let streams = clips::ffprobe_streams(&file);
    let audio = clips::stream(&streams, "audio").expect("an audio stream");
    assert_eq!(audio["codec_name"], "mp3");
    assert_eq!(audio["channels"], "2");
    assert!(
        audio["nb_read_frames"].parse::<u32>().unwrap() > 50,
        "{audio:?}"
    );
    assert!(clips::stream(&streams, "video").is_none());
    let head = api
        .send(
            api.request(Method::GET, &mp3_url)
                .header(RANGE, "bytes=0-9"),
        )
        .await;
    assert_eq!(head.status, 206, "Range on renditions");

    // The MP4 kept the original's size.
    let mp4_url = of_format(&ready, "mp4")["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = download(api, &mp4_url, "video/mp4", dir.path()).await;
    let streams = clips::ffprobe_streams(&file);
    let video = clips::stream(&streams, "video").expect("a video stream");
    assert_eq!(
        (video["width"].as_str(), video["height"].as_str()),
        ("640", "360")
    );
    assert!(clips::stream(&streams, "audio").is_some());

    // The HLS ladder plays from its signed master: one rung, 360p.
    let hls_url = of_format(&ready, "hls")["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(hls_url.ends_with("/hls/master.m3u8"), "{hls_url}");
    let direct = store_presigns(api, ana, video_id).await;
    assert_eq!(
        walk_ladder(api, &hls_url, false).await,
        Ladder { rungs: 1, direct },
        "the owner's segments come straight from a store that signs URLs"
    );
    let ladder = master(&api.fetch(&hls_url).await);
    let rung = &ladder.variants[0];
    assert_eq!(rung.resolution.map(|r| r.height), Some(360));
    assert!(resolve(&hls_url, &rung.uri).contains("/renditions/"));

    // Links are refused when altered; a rendition of another video is not found.
    api.fetch(&altered(&mp3_url))
        .await
        .expect_error(403, "signature_invalid");
    let other = mp3_url.replace(
        mp3["rendition_id"].as_str().unwrap(),
        &uuid::Uuid::new_v4().to_string(),
    );
    api.fetch(&other).await.expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_with_the_most_conversions_waiting_is_refused_until_one_is_done() {
    let anb = tokio::task::block_in_place(|| {
        Launch::all()
            .env("ANB_MAX_PENDING_CONVERSIONS", "1")
            .env("ANB_WORKER_CONCURRENCY", "1")
            .start()
    });
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Díaz", "Cali").await;
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let first = api.upload_clip(&ana, &clip, "Primera").await;
    api.wait_processed(&ana, &first).await;
    // A second upload keeps the one worker busy, so the conversion below stays pending.
    let long = std::fs::read(Clip::h264(8.0).make(dir.path(), "long.mp4")).unwrap();
    api.upload_clip(&ana, &long, "Segunda").await;
    convert(&api, &ana, &first, json!({"format": "mp3"}))
        .await
        .expect_json(202);
    let detail = convert(&api, &ana, &first, json!({"format": "mp4", "height": 360}))
        .await
        .expect_error(429, "too_many_conversions");
    assert!(detail.contains('1'), "{detail}");
    // Once it is done, there is room again: nothing was lost meanwhile.
    wait_ready(&api, &ana, &first).await;
    convert(&api, &ana, &first, json!({"format": "mp4", "height": 360}))
        .await
        .expect_json(202);
    assert_eq!(wait_ready(&api, &ana, &first).await.len(), 2);
}
