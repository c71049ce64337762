//! The transcode path: the showcase profile (its MP4 alone, and every output) on a generated
//! 1080p clip.
//!
//! Run: `cargo bench --bench transcode`. The input (8 s of 1920x1080 30 fps H.264 + AAC,
//! moving test pattern with noise) is generated once with the ffmpeg CLI into
//! `target/bench-media/`. For the comparison against the ffmpeg CLI (the MP4 path against one
//! CLI command; every output against the best single CLI command and against one command per
//! output; throughput; interleaved in the same run, with SSIM per rung), use
//! `scripts/bench-transcode`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anb::adapters::ffmpeg::{probe_file, transcode_file, Control, ProcessingAssets};
use anb::domain::media::{OutputSet, Profile, TranscodeOutputs};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SECONDS: u32 = 8;

/// The generated input, made when missing.
fn input() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-media");
    std::fs::create_dir_all(&dir).expect("target/bench-media");
    let path = dir.join(format!("criterion-1080p30-{SECONDS}s.mp4"));
    if !path.exists() {
        let staged = dir.join(".criterion-input.mp4");
        let video = "testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t";
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(["-f", "lavfi", "-i", video])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-t", &SECONDS.to_string()])
            .args([
                "-c:v", "libx264", "-preset", "fast", "-crf", "18", "-pix_fmt", "yuv420p",
            ])
            .args(["-c:a", "aac", "-b:a", "128k"])
            .arg(&staged)
            .status()
            .expect("the ffmpeg CLI (scripts/test installs it)");
        assert!(status.success(), "generating the benchmark input");
        std::fs::rename(&staged, &path).expect("placing the input");
    }
    path
}

fn transcode(c: &mut Criterion) {
    let input = input();
    let assets = ProcessingAssets::embedded().expect("assets");
    let out = tempfile::tempdir().expect("a temporary directory");
    let outputs = TranscodeOutputs::in_dir(out.path());
    let mp4_only = Profile {
        outputs: OutputSet::mp4_only(),
        ..Profile::showcase()
    };

    let mut group = c.benchmark_group("transcode");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(u64::from(SECONDS)));
    for (name, profile) in [
        ("MP4 + thumbnail", &mp4_only),
        (
            "every output (MP4, HLS ladder, thumbnail, storyboard)",
            &Profile::showcase(),
        ),
    ] {
        group.bench_function(
            format!("showcase 1080p30 {SECONDS}s, {name} (x264 veryfast)"),
            |b| {
                b.iter(|| {
                    transcode_file(&input, &outputs, profile, &assets, Control::new())
                        .expect("transcode")
                });
            },
        );
    }
    group.finish();

    c.bench_function("probe 1080p clip (upload check)", |b| {
        b.iter(|| probe_file(&input).expect("probe"));
    });
}

criterion_group!(benches, transcode);
criterion_main!(benches);
