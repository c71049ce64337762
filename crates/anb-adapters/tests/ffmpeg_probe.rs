//! The FFmpeg probe on real media the tests generate with the ffmpeg CLI: good files are read
//! correctly, bad ones are classified as bad input (never a crash, never "unexpected"), hostile
//! ones (8K pictures, stretched pixels, many streams, odd codecs, other containers, other
//! protocols) are read safely and refused by the media limits.

use anb_adapters::testkit::clips;

use std::time::Duration;

use anb_adapters::ffmpeg::{probe, probe_file, probe_file_with, InputPolicy};
use anb_domain::media::{Container, MediaInfo, MediaInput, MediaLimits};
use anb_domain::ports::TranscodeError;
use bytes::Bytes;
use clips::{eight_k_frame, ffmpeg, stretched_pixels, workdir, Clip};

#[test]
fn a_landscape_clip_is_read_with_its_streams_size_rate_and_duration() {
    let dir = workdir();
    let path = Clip::h264(2.0).make(dir.path(), "landscape.mp4");
    let info = probe_file(&path).unwrap();
    assert_eq!(info.container, Container::IsoBmff);
    let video = info.video.clone().expect("a video stream");
    assert_eq!(
        (video.codec.as_str(), video.width, video.height),
        ("h264", 640, 360)
    );
    assert_eq!(video.rotation_degrees, 0);
    assert!((video.frame_rate.unwrap() - 30.0).abs() < 0.01);
    assert_eq!(info.audio_codec.as_deref(), Some("aac"));
    let duration = info.duration_seconds.unwrap();
    assert!((1.9..2.2).contains(&duration), "{duration}");
    assert_eq!(info.stream_count, 2);
    assert!(matches!(video.sample_aspect_ratio, None | Some((1, 1))));
    assert!(info.check_uploadable().is_ok());
    MediaLimits::default().check(&info).unwrap();
}

#[test]
fn a_phone_portrait_clip_reports_its_rotation() {
    let dir = workdir();
    let plain = Clip::h264(1.0).make(dir.path(), "plain.mp4");
    // The `rotate` tag becomes a display matrix on a stream copy (as a phone writes it).
    let path = dir.path().join("portrait.mp4");
    clips::remux(&plain, &path, &["-metadata:s:v:0", "rotate=90"]);
    let video = probe_file(&path).unwrap().video.unwrap();
    assert_eq!(
        (video.width, video.height, video.rotation_degrees),
        (640, 360, 90)
    );
}

#[test]
fn a_clip_without_audio_has_no_audio_codec_and_is_still_uploadable() {
    let dir = workdir();
    let path = Clip::h264(1.0)
        .size("320x240")
        .silent()
        .make(dir.path(), "silent.mp4");
    let info = probe_file(&path).unwrap();
    assert_eq!(info.audio_codec, None);
    assert!(info.check_uploadable().is_ok());
}

#[tokio::test]
async fn a_streamed_upload_is_probed_like_the_file() {
    let dir = workdir();
    let path = Clip::h264(1.0)
        .size("320x240")
        .make(dir.path(), "streamed.mp4");
    let bytes = std::fs::read(&path).unwrap();
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(4096)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let streamed = probe(MediaInput::Stream(Box::pin(futures::stream::iter(chunks))))
        .await
        .unwrap();
    assert_eq!(streamed, probe_file(&path).unwrap());
}

#[test]
fn files_that_are_not_videos_are_bad_media_or_refused_as_uploads() {
    let dir = workdir();
    let good = Clip::h264(1.0).size("320x240").make(dir.path(), "good.mp4");
    let bytes = std::fs::read(&good).unwrap();

    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let random = dir.path().join("random.mp4");
    std::fs::write(
        &random,
        anb_adapters::testkit::pseudo_random_bytes(100_000, 7),
    )
    .unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    for bad in [&empty, &random, &truncated] {
        match probe_file(bad) {
            Err(TranscodeError::BadMedia(reason)) => assert!(!reason.is_empty()),
            Ok(info) => assert!(
                info.check_uploadable().is_err(),
                "{bad:?} passed as {info:?}"
            ),
            Err(other) => panic!("{bad:?}: {other:?}"),
        }
    }

    // Real media, but not an uploadable video: the probe reads it, the upload rule refuses it.
    let audio = dir.path().join("audio.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine",
        "-t",
        "1",
        "-c:a",
        "aac",
        audio.to_str().unwrap(),
    ]);
    let info = probe_file(&audio).unwrap();
    assert_eq!(info.video, None);
    assert!(info
        .check_uploadable()
        .unwrap_err()
        .contains("no video stream"));
    let png = dir.path().join("still.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64",
        "-frames:v",
        "1",
        png.to_str().unwrap(),
    ]);
    match probe_file(&png) {
        Ok(info) => assert!(matches!(info.container, Container::Other(_))),
        Err(TranscodeError::BadMedia(_)) => {}
        Err(other) => panic!("png: {other:?}"),
    }
}

// ---- Hostile media: read safely, refused by the media limits ----

/// What the limits say about `info` (panics when they accept it).
fn refusal(info: &MediaInfo, limits: &MediaLimits) -> String {
    limits
        .check(info)
        .expect_err(&format!("accepted by the limits: {info:?}"))
}

#[test]
fn an_8k_picture_is_read_and_refused_for_its_size() {
    let dir = workdir();
    let path = eight_k_frame(dir.path());
    let info = probe_file(&path).unwrap();
    let video = info.video.clone().unwrap();
    assert_eq!((video.width, video.height), (7680, 4320));
    let reason = refusal(&info, &MediaLimits::default());
    assert!(
        reason.contains("7680x4320: at most 4096 pixels a side"),
        "{reason}"
    );
}

#[test]
fn pixels_stretched_100_to_1_are_read_and_refused() {
    let dir = workdir();
    let path = stretched_pixels(dir.path());
    let info = probe_file(&path).unwrap();
    assert_eq!(
        info.video.as_ref().unwrap().sample_aspect_ratio,
        Some((100, 1))
    );
    let reason = refusal(&info, &MediaLimits::default());
    assert!(reason.contains("stretched 100:1: at most 4:1"), "{reason}");
}

#[test]
fn streams_are_counted_and_more_than_eight_are_refused() {
    let dir = workdir();
    let path = dir.path().join("streams.mp4");
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x64:rate=5",
        "-f",
        "lavfi",
        "-i",
        "sine=sample_rate=8000",
        "-t",
        "0.4",
        "-map",
        "0:v",
    ];
    for _ in 0..8 {
        args.extend(["-map", "1:a"]);
    }
    args.extend(["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
    let info = probe_file(&path).unwrap();
    assert_eq!(info.stream_count, 9);
    let reason = refusal(&info, &MediaLimits::default());
    assert!(reason.contains("9 streams: at most 8"), "{reason}");
}

#[test]
fn a_video_codec_off_the_allow_list_is_refused() {
    let dir = workdir();
    // PNG pictures in a MOV: a real QuickTime codec, but no phone or camera records it.
    let path = Clip::h264(0.4)
        .size("64x64")
        .silent()
        .encoded_with(&["-c:v", "png"])
        .make(dir.path(), "png.mov");
    let info = probe_file(&path).unwrap();
    assert_eq!(info.container, Container::IsoBmff);
    assert_eq!(info.video.as_ref().unwrap().codec, "png");
    let reason = refusal(&info, &MediaLimits::default());
    assert!(reason.contains("codec png is not accepted"), "{reason}");
}

#[test]
fn a_clip_over_a_configured_duration_limit_is_refused() {
    let dir = workdir();
    let path = Clip::h264(2.0)
        .size("160x90")
        .make(dir.path(), "two-seconds.mp4");
    let info = probe_file(&path).unwrap();
    MediaLimits::default().check(&info).unwrap();
    let short = MediaLimits {
        max_duration_seconds: 1.0,
        ..MediaLimits::default()
    };
    let reason = refusal(&info, &short);
    assert!(reason.contains("lasts 2 s: at most 1 s"), "{reason}");
}

#[test]
fn only_mp4_and_mov_files_are_opened_and_only_from_the_local_file() {
    let dir = workdir();
    let webm = Clip::h264(0.5)
        .size("160x90")
        .silent()
        .encoded_with(&[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
        ])
        .make(dir.path(), "clip.webm");
    match probe_file(&webm) {
        Err(TranscodeError::BadMedia(reason)) => {
            assert!(
                reason.contains("an MP4 or MOV video is expected"),
                "{reason}"
            )
        }
        other => panic!("a WebM was opened: {other:?}"),
    }
    // Trusted callers may open any container; the upload rule still refuses it.
    let any = probe_file_with(&webm, &InputPolicy::default().any_format()).unwrap();
    assert_eq!(any.container, Container::Other("matroska,webm".into()));
    assert!(MediaLimits::default().check(&any).is_err());

    // A path is a URL to FFmpeg: `concat:` would make it read (and join) other files.
    let mp4 = Clip::h264(0.5).size("160x90").make(dir.path(), "clip.mp4");
    let url = format!("concat:{}|{}", mp4.display(), mp4.display());
    match probe_file(std::path::Path::new(&url)) {
        Err(TranscodeError::BadMedia(_)) => {}
        other => panic!("the concat protocol was followed: {other:?}"),
    }
    probe_file(&mp4).unwrap();
}

#[test]
fn opening_a_file_stops_at_its_deadline() {
    let dir = workdir();
    let path = Clip::h264(0.5).size("160x90").make(dir.path(), "clip.mp4");
    let overdue = InputPolicy {
        open_timeout: Duration::ZERO,
        ..InputPolicy::default()
    };
    match probe_file_with(&path, &overdue) {
        Err(TranscodeError::BadMedia(reason)) => {
            assert!(reason.contains("could not be read within 0 s"), "{reason}")
        }
        other => panic!("the deadline was not applied: {other:?}"),
    }
}
