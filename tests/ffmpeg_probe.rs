//! The FFmpeg probe on real media the tests generate with the ffmpeg CLI: good files are read
//! correctly, bad ones are classified as bad input (never a crash, never "unexpected").

use std::path::{Path, PathBuf};
use std::process::Command;

use anb_adapters::ffmpeg::{probe, probe_file};
use anb_domain::media::{Container, MediaInput};
use anb_domain::ports::TranscodeError;
use bytes::Bytes;

fn workdir() -> PathBuf {
    let dir = std::env::temp_dir().join(anb_adapters::testkit::unique("anb-test-media"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the ffmpeg CLI quietly; panics with its output when it fails.
fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg CLI is installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn clip(dir: &Path, name: &str, size: &str, seconds: &str, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc=size={size}:rate=30"),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        seconds,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args.push(path.to_str().unwrap().to_owned());
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
    path
}

#[test]
fn a_landscape_clip_is_read_with_its_streams_size_rate_and_duration() {
    let dir = workdir();
    let path = clip(&dir, "landscape.mp4", "640x360", "2", &[]);
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
    assert!(info.check_uploadable().is_ok());
}

#[test]
fn a_phone_portrait_clip_reports_its_rotation() {
    let dir = workdir();
    let plain = clip(&dir, "plain.mp4", "640x360", "1", &[]);
    // The `rotate` tag becomes a display matrix on a stream copy (as a phone writes it).
    let path = dir.join("portrait.mp4");
    let (from, to) = (plain.to_str().unwrap(), path.to_str().unwrap());
    ffmpeg(&["-i", from, "-c", "copy", "-metadata:s:v:0", "rotate=90", to]);
    let video = probe_file(&path).unwrap().video.unwrap();
    assert_eq!(
        (video.width, video.height, video.rotation_degrees),
        (640, 360, 90)
    );
}

#[test]
fn a_clip_without_audio_has_no_audio_codec_and_is_still_uploadable() {
    let dir = workdir();
    let path = clip(&dir, "silent.mp4", "320x240", "1", &["-an"]);
    let info = probe_file(&path).unwrap();
    assert_eq!(info.audio_codec, None);
    assert!(info.check_uploadable().is_ok());
}

#[tokio::test]
async fn a_streamed_upload_is_probed_like_the_file() {
    let dir = workdir();
    let path = clip(&dir, "streamed.mp4", "320x240", "1", &[]);
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
    let good = clip(&dir, "good.mp4", "320x240", "1", &[]);
    let bytes = std::fs::read(&good).unwrap();

    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let random = dir.join("random.mp4");
    std::fs::write(
        &random,
        anb_adapters::testkit::pseudo_random_bytes(100_000, 7),
    )
    .unwrap();
    let truncated = dir.join("truncated.mp4");
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
    let audio = dir.join("audio.m4a");
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
    let png = dir.join("still.png");
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
