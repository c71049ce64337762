//! The FFmpeg probe on real media the tests generate with the ffmpeg CLI: good files are read
//! correctly, bad ones are classified as bad input (never a crash, never "unexpected").

#[path = "support/media.rs"]
mod media;

use anb_adapters::ffmpeg::{probe, probe_file};
use anb_domain::media::{Container, MediaInput};
use anb_domain::ports::TranscodeError;
use bytes::Bytes;
use media::{ffmpeg, workdir, Clip};

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
    assert!(info.check_uploadable().is_ok());
}

#[test]
fn a_phone_portrait_clip_reports_its_rotation() {
    let dir = workdir();
    let plain = Clip::h264(1.0).make(dir.path(), "plain.mp4");
    // The `rotate` tag becomes a display matrix on a stream copy (as a phone writes it).
    let path = dir.path().join("portrait.mp4");
    media::remux(&plain, &path, &["-metadata:s:v:0", "rotate=90"]);
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
