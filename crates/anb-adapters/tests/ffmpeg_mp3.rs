//! The MP3 output on generated media: made beside the other outputs from the same decode, or
//! alone without decoding the picture; refused (as bad media, nothing left behind) when there
//! is no sound to make it from. Each MP3 is decoded to its end with FFmpeg's MP3 decoder and
//! read with ffprobe, not with our own code.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anb_adapters::ffmpeg::{transcode_file, Control, InputPolicy, ProcessingAssets, Progress};
use anb_adapters::testkit::clips::{self, ffprobe_streams, stream, workdir, Clip};
use anb_domain::media::{MediaLimits, OutputSet, Profile, TranscodeOutputs, TranscodeReport};
use anb_domain::ports::TranscodeError;
use ffmpeg_next as ff;

/// The showcase profile with x264's fastest preset, keeping at most 3 s, and `outputs`.
fn quick(outputs: OutputSet) -> Profile {
    let mut profile = Profile::showcase();
    profile.video.preset = "ultrafast".into();
    profile.max_duration_seconds = 3.0;
    profile.outputs = outputs;
    profile
}

/// Every output of the showcase, and the MP3.
fn everything() -> OutputSet {
    OutputSet {
        mp3: true,
        ..OutputSet::showcase()
    }
}

fn mp3_only() -> OutputSet {
    OutputSet {
        mp3: true,
        ..OutputSet::none()
    }
}

fn run(input: &Path, out: &Path, profile: &Profile) -> Result<TranscodeReport, TranscodeError> {
    run_with(input, out, profile, Control::new())
}

fn run_with(
    input: &Path,
    out: &Path,
    profile: &Profile,
    control: Control,
) -> Result<TranscodeReport, TranscodeError> {
    std::fs::create_dir_all(out).unwrap();
    let assets = ProcessingAssets::embedded().unwrap();
    transcode_file(
        input,
        &TranscodeOutputs::in_dir(out),
        profile,
        &assets,
        control,
    )
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What decoding an MP3 to its end found.
#[derive(Debug)]
struct DecodedMp3 {
    rate: u32,
    channels: u16,
    seconds: f64,
}

/// Opens `path` with FFmpeg's MP3 demuxer, checks its one stream is MP3, and decodes every
/// packet to the end; panics on any read or decode error.
fn decode_mp3(path: &Path) -> DecodedMp3 {
    ff::init().unwrap();
    let mut input = ff::format::input(&path).expect("the MP3 opens");
    assert_eq!(input.format().name(), "mp3", "the MP3 container");
    assert_eq!(input.streams().count(), 1, "one stream");
    let stream = input.stream(0).unwrap();
    assert_eq!(stream.parameters().id(), ff::codec::Id::MP3, "MP3 sound");
    let mut decoder = ff::codec::context::Context::from_parameters(stream.parameters())
        .unwrap()
        .decoder()
        .audio()
        .unwrap();
    let mut samples = 0_usize;
    let mut frame = ff::frame::Audio::empty();
    let mut packet = ff::Packet::empty();
    loop {
        match packet.read(&mut input) {
            Ok(()) => {
                decoder.send_packet(&packet).expect("every packet decodes");
                while decoder.receive_frame(&mut frame).is_ok() {
                    samples += frame.samples();
                }
            }
            Err(ff::Error::Eof) => break,
            Err(e) => panic!("reading {}: {e}", path.display()),
        }
    }
    decoder.send_eof().unwrap();
    while decoder.receive_frame(&mut frame).is_ok() {
        samples += frame.samples();
    }
    let rate = decoder.rate();
    DecodedMp3 {
        rate,
        channels: decoder.channels(),
        seconds: samples as f64 / f64::from(rate),
    }
}

/// The duration of the MP4's sound, as ffprobe reads it.
fn mp4_sound_seconds(mp4: &Path) -> f64 {
    let streams = ffprobe_streams(mp4);
    let sound = stream(&streams, "audio").expect("sound in the MP4");
    assert_eq!(sound["codec_name"], "aac");
    sound["duration"].parse().unwrap()
}

/// Checks the MP3 with ffprobe too: MP3, stereo, `rate`, 128 kbit/s.
fn assert_mp3_probe(mp3: &Path, rate: u32) {
    let streams = ffprobe_streams(mp3);
    let sound = stream(&streams, "audio").expect("sound in the MP3");
    assert_eq!(sound["codec_name"], "mp3");
    assert_eq!(sound["channels"], "2");
    assert_eq!(sound["sample_rate"], rate.to_string());
    assert_eq!(sound["bit_rate"], "128000");
}

#[test]
fn an_mp3_made_beside_the_mp4_and_the_ladder_decodes_to_its_end_and_lasts_as_long_as_the_mp4s_sound(
) {
    let dir = workdir();
    // AAC in an MP4: the MP4 and the rungs copy it; the MP3 needs it decoded.
    let input = Clip::h264(4.0).make(dir.path(), "clip.mp4");
    let out = dir.path().join("out");
    let report = run(&input, &out, &quick(everything())).unwrap();
    assert!(report.mp3 && report.has_audio && !report.hls_rungs.is_empty());
    assert!((report.duration_seconds - 3.0).abs() < 1e-9, "{report:?}");

    let outputs = TranscodeOutputs::in_dir(&out);
    let mp3 = decode_mp3(&outputs.audio());
    assert_eq!((mp3.rate, mp3.channels), (48_000, 2), "{mp3:?}");
    let mp4 = mp4_sound_seconds(&outputs.video());
    assert!(
        (mp4 - 3.0).abs() < 0.05,
        "the MP4's sound is trimmed: {mp4}"
    );
    assert!(
        (mp3.seconds - mp4).abs() < 0.1,
        "the MP3 covers what the MP4 covers: {} vs {mp4}",
        mp3.seconds
    );
    assert_mp3_probe(&outputs.audio(), 48_000);
    assert!(outputs.hls().join("master.m3u8").exists());
}

#[test]
fn when_the_mp4s_sound_is_encoded_too_both_encoders_take_the_one_decode() {
    let dir = workdir();
    // MP3 sound at 44.1 kHz in an MP4: the MP4 gets it encoded to AAC, the MP3 re-encoded.
    let input = Clip::h264(4.0)
        .sound("libmp3lame", "44100")
        .make(dir.path(), "mp3-sound.mp4");
    let out = dir.path().join("out");
    let report = run(
        &input,
        &out,
        &quick(OutputSet::mp4_only().select(&["mp4", "mp3"]).unwrap()),
    )
    .unwrap();
    assert!(report.mp3 && report.has_audio);

    let outputs = TranscodeOutputs::in_dir(&out);
    let mp3 = decode_mp3(&outputs.audio());
    assert_eq!((mp3.rate, mp3.channels), (44_100, 2), "{mp3:?}");
    let mp4 = mp4_sound_seconds(&outputs.video());
    assert!(
        (mp4 - 3.0).abs() < 0.05,
        "the MP4's sound is trimmed: {mp4}"
    );
    assert!((mp3.seconds - mp4).abs() < 0.1, "{} vs {mp4}", mp3.seconds);
    assert_eq!(names(&out), ["audio.mp3", "video.mp4"]);
}

#[test]
fn an_mp3_alone_is_the_only_file_written_and_decodes_to_its_end() {
    let dir = workdir();
    let input = Clip::h264(4.0).make(dir.path(), "clip.mp4");
    let out = dir.path().join("out");
    let report = run(&input, &out, &quick(mp3_only())).unwrap();
    assert!(report.mp3 && report.hls_rungs.is_empty() && !report.storyboard);
    assert_eq!(names(&out), ["audio.mp3"], "no video.mp4, no hls");

    let mp3 = decode_mp3(&TranscodeOutputs::in_dir(&out).audio());
    assert_eq!((mp3.rate, mp3.channels), (48_000, 2), "{mp3:?}");
    assert!(
        (mp3.seconds - 3.0).abs() < 0.1,
        "trimmed to the profile's 3 s: {mp3:?}"
    );
    assert!(
        (report.duration_seconds - mp3.seconds).abs() < 0.1,
        "{report:?} vs {mp3:?}"
    );
}

#[test]
fn an_mp3_alone_never_decodes_the_picture() {
    let dir = workdir();
    let input = Clip::h264(2.0).make(dir.path(), "clip.mp4");
    // Pictures this large are refused once decoded (and by the decoder itself)…
    let narrow = || {
        Control::new().with_input_policy(InputPolicy::with_limits(MediaLimits {
            max_pixels: 1_000,
            max_side: 100,
            ..MediaLimits::default()
        }))
    };
    let with_picture = run_with(
        &input,
        &dir.path().join("mp4"),
        &quick(OutputSet::mp4_only()),
        narrow(),
    );
    assert!(
        matches!(&with_picture, Err(TranscodeError::BadMedia(_))),
        "{with_picture:?}"
    );
    // …so a run that makes the MP3 alone never looks at them.
    let out = dir.path().join("mp3");
    run_with(&input, &out, &quick(mp3_only()), narrow()).unwrap();
    assert_eq!(names(&out), ["audio.mp3"]);
}

#[test]
fn an_mp3_alone_reports_progress_along_the_sound() {
    let dir = workdir();
    let input = Clip::h264(4.0).make(dir.path(), "clip.mp4");
    let reports = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let control = Control::new().on_progress({
        let reports = Arc::clone(&reports);
        move |p| reports.lock().unwrap().push(p)
    });
    let report = run_with(&input, &dir.path().join("out"), &quick(mp3_only()), control).unwrap();
    let reports = reports.lock().unwrap().clone();
    assert!(
        reports.len() >= 4,
        "about every half second of sound: {reports:?}"
    );
    assert!(
        reports
            .windows(2)
            .all(|w| w[1].output_seconds >= w[0].output_seconds),
        "{reports:?}"
    );
    let last = reports.last().unwrap();
    assert!((last.output_seconds - report.duration_seconds).abs() < 1e-9);
    assert!((last.expected_seconds - 3.0).abs() < 0.1, "{last:?}");
}

#[test]
fn sound_at_a_rate_mp3_does_not_allow_becomes_a_44_1_khz_mp3() {
    let dir = workdir();
    let input = Clip::h264(2.0)
        .sound("aac", "22050")
        .make(dir.path(), "low-rate.mp4");
    let out = dir.path().join("out");
    run(&input, &out, &quick(mp3_only())).unwrap();
    let mp3 = decode_mp3(&TranscodeOutputs::in_dir(&out).audio());
    assert_eq!((mp3.rate, mp3.channels), (44_100, 2), "{mp3:?}");
    assert!((mp3.seconds - 2.0).abs() < 0.1, "{mp3:?}");
    assert_mp3_probe(&TranscodeOutputs::in_dir(&out).audio(), 44_100);
}

#[test]
fn a_video_without_sound_asked_for_an_mp3_is_bad_media_and_leaves_nothing_behind() {
    let dir = workdir();
    let input = Clip::h264(2.0).silent().make(dir.path(), "silent.mp4");
    for outputs in [everything(), mp3_only()] {
        let out = dir.path().join("out");
        let result = run(&input, &out, &quick(outputs));
        assert!(
            matches!(&result, Err(TranscodeError::BadMedia(reason)) if reason == "the video has no sound to make an MP3 from"),
            "{result:?}"
        );
        assert!(names(&out).is_empty(), "left behind: {:?}", names(&out));
    }
}

#[test]
fn sound_that_starts_after_the_kept_part_makes_no_mp3_and_leaves_nothing_behind() {
    let dir = workdir();
    // 4 s of picture; the sound starts at 3.5 s, after the 3 s the profile keeps.
    let input = dir.path().join("late-sound.mp4");
    clips::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30",
        "-itsoffset",
        "3.5",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        input.to_str().unwrap(),
    ]);
    for outputs in [everything(), mp3_only()] {
        let out = dir.path().join("out");
        let result = run(&input, &out, &quick(outputs));
        assert!(
            matches!(&result, Err(TranscodeError::BadMedia(reason)) if reason.contains("no sound could be decoded")),
            "{result:?}"
        );
        assert!(names(&out).is_empty(), "left behind: {:?}", names(&out));
    }
}

#[test]
fn the_course_profile_keeps_no_sound_so_asking_it_for_an_mp3_is_bad_media() {
    let dir = workdir();
    let input = Clip::h264(2.0).make(dir.path(), "clip.mp4");
    let mut profile = Profile::anb_course();
    profile.video.preset = "ultrafast".into();
    for outputs in [everything(), mp3_only()] {
        profile.outputs = outputs;
        let out = dir.path().join("out");
        let result = run(&input, &out, &profile);
        assert!(
            matches!(&result, Err(TranscodeError::BadMedia(reason)) if reason == "this profile keeps no sound, so there is no MP3 to make"),
            "{result:?}"
        );
        assert!(names(&out).is_empty(), "left behind: {:?}", names(&out));
    }
}
