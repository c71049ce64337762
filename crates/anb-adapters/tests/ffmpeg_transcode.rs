//! The one-pass pipeline on real media the tests generate: every good input comes out as
//! 1280x720 H.264 with fast start and a thumbnail, within the profile's limit; every bad input
//! is bad media with nothing left behind. Outputs are checked with ffprobe, not with our probe.

use anb_adapters::testkit::clips;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anb_adapters::ffmpeg::{
    transcode_file, Control, FfmpegConfig, FfmpegTranscoder, InputPolicy, ProcessingAssets,
};
use anb_domain::media::{MediaLimits, Profile, TranscodeOutputs, TranscodeReport};
use anb_domain::ports::{TranscodeError, Transcoder as _};
use clips::{ffprobe_streams, stream, top_level_boxes, workdir, Clip};

/// The showcase profile with x264's fastest preset: the same graph, quicker tests.
fn quick(mut profile: Profile) -> Profile {
    profile.video.preset = "ultrafast".into();
    profile
}

fn outputs(dir: &Path) -> TranscodeOutputs {
    TranscodeOutputs::in_dir(dir.join("out"))
}

fn run(input: &Path, dir: &Path, profile: &Profile) -> Result<TranscodeReport, TranscodeError> {
    run_with(input, dir, profile, Control::new())
}

fn run_with(
    input: &Path,
    dir: &Path,
    profile: &Profile,
    control: Control,
) -> Result<TranscodeReport, TranscodeError> {
    let outputs = outputs(dir);
    std::fs::create_dir_all(&outputs.dir).unwrap();
    let assets = ProcessingAssets::embedded().unwrap();
    transcode_file(input, &outputs, profile, &assets, control)
}

/// What every good output must be: H.264 4:2:0 at 1280x720, no longer than `max_seconds`,
/// `moov` before `mdat`, audio as expected, a 640x360 JPEG thumbnail. Returns the video
/// stream's frame count.
fn assert_web_ready(dir: &Path, max_seconds: f64, audio: bool) -> u64 {
    let outputs = outputs(dir);
    let streams = ffprobe_streams(&outputs.video());
    let video = stream(&streams, "video").expect("a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (video["width"].as_str(), video["height"].as_str()),
        ("1280", "720")
    );
    assert_eq!(video["pix_fmt"], "yuv420p");
    let duration: f64 = video["duration"].parse().unwrap();
    assert!(
        duration <= max_seconds + 1e-6,
        "{duration} s > {max_seconds} s"
    );
    assert_eq!(stream(&streams, "audio").is_some(), audio, "{streams:?}");
    if let Some(sound) = stream(&streams, "audio") {
        assert_eq!(sound["codec_name"], "aac");
        let length: f64 = sound["duration"].parse().unwrap();
        assert!(length <= max_seconds + 0.05, "audio {length} s");
    }
    let boxes = top_level_boxes(&outputs.video());
    let moov = boxes.iter().position(|b| b == "moov").expect("a moov box");
    let mdat = boxes.iter().position(|b| b == "mdat").expect("an mdat box");
    assert!(moov < mdat, "fast start: moov before mdat, got {boxes:?}");
    let jpeg = std::fs::read(outputs.thumbnail()).expect("a thumbnail");
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    let thumb = ffprobe_streams(&outputs.thumbnail());
    assert_eq!(
        (thumb[0]["width"].as_str(), thumb[0]["height"].as_str()),
        ("640", "360")
    );
    video["nb_read_frames"].parse().unwrap()
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("out"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_landscape_clip_longer_than_the_limit_becomes_exactly_twenty_seconds_of_web_video() {
    let dir = workdir();
    let input = Clip::h264(22.0).make(dir.path(), "landscape.mp4");
    let report = run(&input, dir.path(), &Profile::showcase()).unwrap();
    let frames = assert_web_ready(dir.path(), 20.0, true);
    assert_eq!(frames, 600, "20 s at 30 fps, no overshoot");
    assert!((report.duration_seconds - 20.0).abs() < 1e-9, "{report:?}");
    assert!(report.has_audio);
}

#[test]
fn a_portrait_phone_clip_is_turned_upright_pillarboxed_and_stamped() {
    let dir = workdir();
    let recorded = Clip::h264(2.0).make(dir.path(), "sensor.mp4");
    let phone = dir.path().join("phone.mp4");
    clips::remux(&recorded, &phone, &["-metadata:s:v:0", "rotate=90"]);
    run(&phone, dir.path(), &quick(Profile::showcase())).unwrap();
    assert_web_ready(dir.path(), 20.0, true);

    // Upright, a 640x360 picture shown as 360x640 fits 720 high and 405 wide: black bars left
    // and right, picture in the middle. Ignoring the rotation would fill the whole frame.
    let frame = clips::luma_at(&outputs(dir.path()).video(), 1.0);
    assert!(clips::column_mean(&frame, 100) < 20.0, "left bar is black");
    assert!(
        clips::column_mean(&frame, 1180) < 30.0,
        "right bar is black (below the logo)"
    );
    assert!(
        clips::column_mean(&frame, 640) > 40.0,
        "the picture is in the middle"
    );
    // The logo sits top-right, over the black bar: 120x60 at 10 px from the edges.
    let (width, _, bytes) = &frame;
    let logo_area: f64 = (10..70)
        .flat_map(|y| (1150..1270).map(move |x| (x, y)))
        .map(|(x, y)| f64::from(bytes[y * width + x]))
        .sum::<f64>()
        / (60.0 * 120.0);
    assert!(
        logo_area > 40.0,
        "the logo is stamped top-right ({logo_area:.1})"
    );
}

#[test]
fn a_clip_without_audio_comes_out_without_an_audio_track() {
    let dir = workdir();
    let input = Clip::h264(2.0).silent().make(dir.path(), "silent.mp4");
    let report = run(&input, dir.path(), &quick(Profile::showcase())).unwrap();
    assert_web_ready(dir.path(), 20.0, false);
    assert!(!report.has_audio);
}

#[test]
fn a_clip_shorter_than_the_limit_keeps_its_length() {
    let dir = workdir();
    let input = Clip::h264(3.0).make(dir.path(), "short.mp4");
    let report = run(&input, dir.path(), &quick(Profile::showcase())).unwrap();
    assert_eq!(assert_web_ready(dir.path(), 3.0, true), 90);
    assert!((report.duration_seconds - 3.0).abs() < 1e-9);
}

#[test]
fn an_odd_sized_4_4_4_clip_is_fitted_and_converted_to_4_2_0() {
    let dir = workdir();
    let input = Clip::h264(1.0)
        .size("641x361")
        .encoded_with(&[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv444p",
            "-c:a",
            "aac",
        ])
        .make(dir.path(), "odd.mp4");
    run(&input, dir.path(), &quick(Profile::showcase())).unwrap();
    assert_web_ready(dir.path(), 20.0, true);
}

#[test]
fn a_10_bit_4_2_2_hevc_clip_with_mp3_sound_is_converted() {
    let dir = workdir();
    let input = Clip::h264(1.0)
        .size("320x180")
        .encoded_with(&[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv422p10le",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "log-level=error",
            "-c:a",
            "libmp3lame",
        ])
        .make(dir.path(), "hevc10.mp4");
    assert_eq!(
        stream(&ffprobe_streams(&input), "video").unwrap()["pix_fmt"],
        "yuv422p10le"
    );
    let report = run(&input, dir.path(), &quick(Profile::showcase())).unwrap();
    assert_web_ready(dir.path(), 20.0, true);
    assert!(report.has_audio, "MP3 is encoded to AAC");
}

/// A VP9 + Opus WebM: the pipeline handles it when told to open any container (trusted files,
/// e.g. `anb transcode`); by default it opens MP4/MOV only and refuses it as bad media.
#[test]
fn a_vp9_webm_clip_with_opus_sound_is_transcoded_when_any_container_is_allowed() {
    let dir = workdir();
    let input = Clip::h264(1.0)
        .size("320x180")
        .encoded_with(&[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
        ])
        .make(dir.path(), "clip.webm");
    let reason = assert_bad_media(&input, dir.path());
    assert!(
        reason.contains("an MP4 or MOV video is expected"),
        "{reason}"
    );
    let any = Control::new().with_input_policy(InputPolicy::default().any_format());
    run_with(&input, dir.path(), &quick(Profile::showcase()), any).unwrap();
    assert_web_ready(dir.path(), 20.0, true);
}

#[test]
fn a_variable_frame_rate_clip_comes_out_at_a_constant_rate() {
    let dir = workdir();
    // Frame times jitter by 0..20 ms around a 30 fps grid, like a phone under load.
    let input = Clip::h264(3.0)
        .encoded_with(&[
            "-vf",
            "settb=1/1000,setpts='round((N/30+0.01*mod(N,3))*1000)'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ])
        .make(dir.path(), "vfr.mp4");
    run(&input, dir.path(), &quick(Profile::showcase())).unwrap();
    let frames = assert_web_ready(dir.path(), 20.0, true);
    let streams = ffprobe_streams(&outputs(dir.path()).video());
    let video = stream(&streams, "video").unwrap();
    assert_eq!(
        video["r_frame_rate"], video["avg_frame_rate"],
        "constant rate"
    );
    assert_eq!(video["r_frame_rate"], "30/1");
    assert!((88..=92).contains(&frames), "{frames} frames for 3 s");
}

#[test]
fn the_course_profile_wraps_the_clip_in_bumpers_and_drops_the_sound() {
    let dir = workdir();
    let input = Clip::h264(4.0).make(dir.path(), "clip.mp4");
    let report = run(&input, dir.path(), &quick(Profile::anb_course())).unwrap();
    let frames = assert_web_ready(dir.path(), 9.0, false);
    assert_eq!(frames, 270, "2.5 s + 4 s + 2.5 s at 30 fps");
    assert!((report.duration_seconds - 9.0).abs() < 1e-9);
    assert!(!report.has_audio);
}

#[test]
fn the_same_input_twice_gives_the_same_bytes() {
    let dir = workdir();
    let input = Clip::h264(2.0).make(dir.path(), "clip.mp4");
    run(&input, dir.path(), &quick(Profile::showcase())).unwrap();
    let first = std::fs::read(outputs(dir.path()).video()).unwrap();
    run(&input, dir.path(), &quick(Profile::showcase())).unwrap();
    let second = std::fs::read(outputs(dir.path()).video()).unwrap();
    assert!(first == second, "deterministic output");
}

fn assert_bad_media(input: &Path, dir: &Path) -> String {
    match run(input, dir, &quick(Profile::showcase())) {
        Err(TranscodeError::BadMedia(reason)) => {
            assert!(
                leftovers(dir).is_empty(),
                "left behind: {:?}",
                leftovers(dir)
            );
            reason
        }
        other => panic!("{}: expected bad media, got {other:?}", input.display()),
    }
}

#[test]
fn files_that_are_not_videos_are_bad_media_and_leave_nothing_behind() {
    let dir = workdir();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let random = dir.path().join("random.mp4");
    std::fs::write(
        &random,
        anb_adapters::testkit::pseudo_random_bytes(256 * 1024, 7),
    )
    .unwrap();
    let whole = Clip::h264(2.0).make(dir.path(), "whole.mp4");
    let bytes = std::fs::read(&whole).unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let sound = Clip::h264(2.0)
        .encoded_with(&["-vn", "-c:a", "aac"])
        .make(dir.path(), "sound.m4a");
    let picture = dir.path().join("picture.png");
    clips::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180",
        "-frames:v",
        "1",
        picture.to_str().unwrap(),
    ]);

    for (input, expected) in [
        (&empty, "not a video"),
        (&random, "not a video"),
        (&truncated, "not a video"),
        (&sound, "no video stream"),
        // Not a container the pipeline opens (with any container allowed: "still image").
        (&picture, "an MP4 or MOV video is expected"),
    ] {
        let reason = assert_bad_media(input, dir.path());
        assert!(reason.contains(expected), "{}: {reason}", input.display());
    }
}

#[test]
fn decoded_pictures_outside_the_limits_are_bad_media_and_leave_nothing_behind() {
    let dir = workdir();
    let input = Clip::h264(1.0).size("320x180").make(dir.path(), "clip.mp4");
    let narrow =
        |limits: MediaLimits| Control::new().with_input_policy(InputPolicy::with_limits(limits));
    // Far past the decoder's own cap (`max_pixels`): the decoder refuses the stream.
    let few_pixels = narrow(MediaLimits {
        max_pixels: 1_000,
        max_side: 100,
        ..MediaLimits::default()
    });
    let result = run_with(&input, dir.path(), &quick(Profile::showcase()), few_pixels);
    assert!(
        matches!(&result, Err(TranscodeError::BadMedia(_))),
        "{result:?}"
    );
    // Within the decoder's cap, but a side too long: the pipeline's check of each picture.
    let short_sides = narrow(MediaLimits {
        max_side: 200,
        ..MediaLimits::default()
    });
    let result = run_with(&input, dir.path(), &quick(Profile::showcase()), short_sides);
    assert!(
        matches!(&result, Err(TranscodeError::BadMedia(r)) if r.contains("320x180: at most 200 pixels a side")),
        "{result:?}"
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn a_cancelled_or_overdue_run_stops_and_leaves_nothing_behind() {
    let dir = workdir();
    let input = Clip::h264(2.0).make(dir.path(), "clip.mp4");
    let outputs = outputs(dir.path());
    std::fs::create_dir_all(&outputs.dir).unwrap();
    let assets = ProcessingAssets::embedded().unwrap();
    let profile = quick(Profile::showcase());

    let cancelled = Control::new().with_cancel_flag(Arc::new(AtomicBool::new(true)));
    let result = transcode_file(&input, &outputs, &profile, &assets, cancelled);
    assert!(
        matches!(result, Err(TranscodeError::Cancelled)),
        "{result:?}"
    );

    let overdue = Control::new().with_timeout(Duration::ZERO);
    let result = transcode_file(&input, &outputs, &profile, &assets, overdue);
    assert!(
        matches!(result, Err(TranscodeError::TimedOut(_))),
        "{result:?}"
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_transcode_in_progress_cancels_it_and_removes_its_partial_output() {
    let dir = workdir();
    let input = Clip::h264(20.0).make(dir.path(), "long.mp4");
    let outputs = outputs(dir.path());
    std::fs::create_dir_all(&outputs.dir).unwrap();
    let transcoder = FfmpegTranscoder::new(FfmpegConfig::default());
    let profile = Profile::showcase();
    let run = transcoder.process(&input, &outputs, &profile, Arc::new(|_| {}));
    let abandoned = tokio::time::timeout(Duration::from_millis(500), run).await;
    assert!(abandoned.is_err(), "still running after 500 ms");
    // The blocking run notices at its next packet and removes its partial file.
    for _ in 0..100 {
        if leftovers(dir.path()).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("left behind: {:?}", leftovers(dir.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcoder_reports_progress_growing_to_the_whole_output() {
    let dir = workdir();
    let input = Clip::h264(4.0).make(dir.path(), "clip.mp4");
    let outputs = outputs(dir.path());
    std::fs::create_dir_all(&outputs.dir).unwrap();
    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let reports = Arc::clone(&reports);
        Arc::new(move |p: anb_domain::media::TranscodeProgress| reports.lock().unwrap().push(p))
    };
    let report = FfmpegTranscoder::new(FfmpegConfig::default())
        .process(&input, &outputs, &quick(Profile::showcase()), sink)
        .await
        .unwrap();
    let reports = reports.lock().unwrap().clone();
    assert!(
        reports.len() >= 3,
        "about every half second of output: {reports:?}"
    );
    assert!(
        reports
            .windows(2)
            .all(|w| w[1].output_seconds >= w[0].output_seconds),
        "{reports:?}"
    );
    let last = reports.last().unwrap();
    assert!((last.output_seconds - report.duration_seconds).abs() < 1e-6);
    assert!((last.expected_seconds - 4.0).abs() < 0.1, "{last:?}");
}
