//! Every output of one decode, on generated media: the HLS ladder (rung sizes and frame
//! rates, keyframes aligned across rungs, segment durations, playlists that parse, sound in
//! step with the picture, no enlargement) and the storyboard (cues covering the output, tiles
//! inside the sprite). Outputs are read with ffprobe and m3u8-rs, not with our own code.

use std::path::Path;

use anb_adapters::ffmpeg::{transcode_file, Control, ProcessingAssets};
use anb_adapters::testkit::clips::{
    ffprobe_streams, join_rung, keyframe_times, stream, workdir, Clip,
};
use anb_domain::media::{OutputSet, Profile, TranscodeOutputs, TranscodeReport};
use m3u8_rs::{MasterPlaylist, MediaPlaylist};

/// The showcase profile (every output) with x264's fastest preset.
fn quick() -> Profile {
    let mut profile = Profile::showcase();
    profile.video.preset = "ultrafast".into();
    profile
}

fn run(input: &Path, out: &Path, profile: &Profile) -> TranscodeReport {
    std::fs::create_dir_all(out).unwrap();
    let assets = ProcessingAssets::embedded().unwrap();
    transcode_file(
        input,
        &TranscodeOutputs::in_dir(out),
        profile,
        &assets,
        Control::new(),
    )
    .expect("transcode")
}

fn master(out: &Path) -> MasterPlaylist {
    let text = std::fs::read(out.join("hls/master.m3u8")).expect("a master playlist");
    m3u8_rs::parse_master_playlist_res(&text).expect("a valid master playlist")
}

fn media(rung_dir: &Path) -> MediaPlaylist {
    let text = std::fs::read(rung_dir.join("index.m3u8")).expect("a rung playlist");
    m3u8_rs::parse_media_playlist_res(&text).expect("a valid media playlist")
}

fn segment_names(playlist: &MediaPlaylist) -> Vec<String> {
    playlist.segments.iter().map(|s| s.uri.clone()).collect()
}

#[test]
fn a_1080p_clip_becomes_a_three_rung_ladder_cut_at_the_same_two_second_keyframes() {
    let dir = workdir();
    let input = Clip::h264(9.0).size("1920x1080").make(dir.path(), "hd.mp4");
    let out = dir.path().join("out");
    let report = run(&input, &out, &quick());
    let heights: Vec<u32> = report.hls_rungs.iter().map(|r| r.height).collect();
    assert_eq!(heights, [720, 480, 360]);

    let master = master(&out);
    assert!(master.independent_segments);
    let expected = [(1280, 720), (854, 480), (640, 360)];
    assert_eq!(master.variants.len(), expected.len());
    let mut keyframes_per_rung = Vec::new();
    for (variant, (width, height)) in master.variants.iter().zip(expected) {
        let resolution = variant.resolution.expect("RESOLUTION");
        assert_eq!((resolution.width, resolution.height), (width, height));
        let codecs = variant.codecs.as_deref().expect("CODECS");
        assert!(
            codecs.starts_with("avc1.") && codecs.ends_with(",mp4a.40.2"),
            "{codecs}"
        );
        assert!(variant.bandwidth > 0, "BANDWIDTH");
        assert!(variant.average_bandwidth.unwrap() <= variant.bandwidth);
        assert_eq!(variant.frame_rate, Some(30.0));

        let rung_dir = out
            .join("hls")
            .join(variant.uri.trim_end_matches("/index.m3u8"));
        let playlist = media(&rung_dir);
        assert!(playlist.end_list, "a VOD playlist ends");
        let durations: Vec<f32> = playlist.segments.iter().map(|s| s.duration).collect();
        let (last, whole) = durations.split_last().unwrap();
        assert!(
            whole.iter().all(|d| (d - 2.0).abs() < 0.034),
            "every segment but the last lasts 2 s: {durations:?}"
        );
        assert!(*last > 0.0 && *last <= 2.034, "{durations:?}");
        let total: f32 = durations.iter().sum();
        assert!(
            (total - 9.0).abs() < 0.05,
            "the segments add up to the clip: {total}"
        );

        let joined = join_rung(
            &rung_dir,
            &segment_names(&playlist),
            &dir.path().join(format!("{height}.mp4")),
        );
        let streams = ffprobe_streams(&joined);
        let video = stream(&streams, "video").expect("video in the rung");
        assert_eq!(video["codec_name"], "h264");
        assert_eq!(
            (video["width"].as_str(), video["height"].as_str()),
            (width.to_string().as_str(), height.to_string().as_str())
        );
        assert_eq!(video["avg_frame_rate"], "30/1");
        assert_eq!(video["nb_read_frames"], "270", "9 s at 30 fps");
        let audio = stream(&streams, "audio").expect("sound in the rung");
        let start = |s: &std::collections::HashMap<String, String>| -> f64 {
            s["start_time"].parse().unwrap()
        };
        assert!(
            (start(video) - start(audio)).abs() < 1.0 / 30.0,
            "sound and picture start together: {} vs {}",
            start(video),
            start(audio)
        );
        let length = |s: &std::collections::HashMap<String, String>| -> f64 {
            s["duration"].parse().unwrap()
        };
        assert!(
            (length(video) - length(audio)).abs() < 0.05,
            "sound and picture end together: {} vs {}",
            length(video),
            length(audio)
        );
        keyframes_per_rung.push(keyframe_times(&joined));
    }
    let first = &keyframes_per_rung[0];
    let spacing: Vec<f64> = first.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(first.len(), 5, "a keyframe every 2 s of 9 s: {first:?}");
    assert!(spacing.iter().all(|s| (s - 2.0).abs() < 1e-3), "{first:?}");
    for other in &keyframes_per_rung[1..] {
        assert_eq!(other, first, "keyframes are aligned across rungs");
    }
    // The MP4 shares the 720p encode: the same keyframes.
    assert_eq!(&keyframe_times(&out.join("video.mp4")).len(), &first.len());
}

#[test]
fn a_480p_clip_gets_no_720p_rung_and_a_tiny_one_gets_one_rung_its_own_size() {
    let dir = workdir();
    let sd = Clip::h264(3.0).size("854x480").make(dir.path(), "sd.mp4");
    let out = dir.path().join("sd");
    let report = run(&sd, &out, &quick());
    let heights: Vec<u32> = report.hls_rungs.iter().map(|r| r.height).collect();
    assert_eq!(heights, [480, 360], "never an enlargement");
    let uris: Vec<String> = master(&out).variants.into_iter().map(|v| v.uri).collect();
    assert_eq!(uris, ["480p/index.m3u8", "360p/index.m3u8"]);
    assert!(!out.join("hls/720p").exists());
    // The showcase MP4 is still 1280x720: the product's format.
    let mp4 = ffprobe_streams(&out.join("video.mp4"));
    assert_eq!(stream(&mp4, "video").unwrap()["height"], "720");

    let tiny = Clip::h264(3.0).size("320x240").make(dir.path(), "tiny.mp4");
    let out = dir.path().join("tiny");
    let report = run(&tiny, &out, &quick());
    let sizes: Vec<(u32, u32)> = report
        .hls_rungs
        .iter()
        .map(|r| (r.width, r.height))
        .collect();
    assert_eq!(sizes, [(426, 240)]);
    let rung = out.join("hls/240p");
    let joined = join_rung(
        &rung,
        &segment_names(&media(&rung)),
        &dir.path().join("t.mp4"),
    );
    let video = ffprobe_streams(&joined);
    let video = stream(&video, "video").unwrap();
    assert_eq!(
        (video["width"].as_str(), video["height"].as_str()),
        ("426", "240")
    );
}

#[test]
fn the_storyboard_cues_cover_the_whole_output_with_tiles_inside_the_sprite() {
    let dir = workdir();
    let input = Clip::h264(7.5).make(dir.path(), "clip.mp4");
    let out = dir.path().join("out");
    let report = run(&input, &out, &quick());
    assert!(report.storyboard);
    let sprite = ffprobe_streams(&out.join("storyboard.jpg"));
    let sprite = stream(&sprite, "video").expect("a sprite picture");
    let (sprite_w, sprite_h): (u32, u32) = (
        sprite["width"].parse().unwrap(),
        sprite["height"].parse().unwrap(),
    );
    assert_eq!(
        (sprite_w, sprite_h),
        (8 * 160, 90),
        "8 tiles of 160x90 in one row"
    );

    let vtt = std::fs::read_to_string(out.join("storyboard.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT\n"));
    let seconds = |t: &str| -> f64 {
        let parts: Vec<f64> = t.split(':').map(|p| p.parse().unwrap()).collect();
        parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
    };
    let mut cursor = 0.0;
    let mut cues = 0;
    for block in vtt.split("\n\n").skip(1) {
        let mut lines = block.lines();
        let (start, end) = lines.next().unwrap().split_once(" --> ").unwrap();
        assert!(
            (seconds(start) - cursor).abs() < 1e-6,
            "cues are back to back: {vtt}"
        );
        cursor = seconds(end);
        let target = lines.next().unwrap();
        let (file, xywh) = target.split_once("#xywh=").unwrap();
        assert_eq!(file, "storyboard.jpg");
        let v: Vec<u32> = xywh.split(',').map(|n| n.parse().unwrap()).collect();
        assert!(
            v[0] + v[2] <= sprite_w && v[1] + v[3] <= sprite_h,
            "{target}"
        );
        cues += 1;
    }
    assert_eq!(cues, 8);
    assert!(
        (cursor - report.duration_seconds).abs() < 1e-3,
        "the last cue ends with the video: {cursor} vs {}",
        report.duration_seconds
    );
}

#[test]
fn choosing_only_the_mp4_writes_no_ladder_and_no_storyboard() {
    let dir = workdir();
    let input = Clip::h264(2.0).make(dir.path(), "clip.mp4");
    let out = dir.path().join("out");
    let mut profile = quick();
    profile.outputs = OutputSet::mp4_only();
    let report = run(&input, &out, &profile);
    assert!(report.hls_rungs.is_empty() && !report.storyboard);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["thumbnail.jpg", "video.mp4"]);
}
