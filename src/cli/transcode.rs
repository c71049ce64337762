//! `anb transcode`: the processing pipeline on one file, every output of the profile (or the
//! ones chosen), with progress.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anb_adapters::ffmpeg::{transcode_file, Control, InputPolicy, ProcessingAssets, Progress};
use anb_domain::media::{Profile, TranscodeOutputs};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `anb transcode`.
#[derive(Debug, clap::Args)]
pub struct TranscodeArgs {
    /// Processing profile: `showcase` or `anb-course`.
    #[arg(long, default_value = "showcase")]
    profile: String,
    /// x264 preset, overriding the profile's (`ultrafast` … `veryslow`).
    #[arg(long)]
    preset: Option<String>,
    /// x264 constant rate factor, overriding the profile's (0..=51).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=51))]
    crf: Option<u8>,
    /// Which outputs to write, comma-separated: `mp4`, `hls`, `thumbnail`, `storyboard`,
    /// `mp3` (default: all the profile lists; `mp3` alone converts only the sound).
    #[arg(long, value_delimiter = ',')]
    outputs: Option<Vec<String>>,
    /// Open any container FFmpeg reads, not only MP4/MOV like the worker (trusted files only).
    #[arg(long)]
    any_container: bool,
    /// The clip to process.
    input: PathBuf,
    /// The directory to write into (created if missing): `video.mp4`, `thumbnail.jpg`,
    /// `hls/master.m3u8` and its rungs, `storyboard.jpg` + `storyboard.vtt`, `audio.mp3`.
    output: PathBuf,
}

/// Runs the pipeline; progress goes to stderr (a bar on a terminal, plain lines otherwise).
pub fn run(args: TranscodeArgs) -> anyhow::Result<()> {
    let mut profile = Profile::by_name(&args.profile).with_context(|| {
        format!(
            "unknown profile {:?} (known: showcase, anb-course)",
            args.profile
        )
    })?;
    if let Some(preset) = args.preset {
        profile.video.preset = preset;
    }
    if let Some(crf) = args.crf {
        profile.video.crf = crf;
    }
    if let Some(names) = &args.outputs {
        let names: Vec<&str> = names.iter().map(|n| n.trim()).collect();
        profile.outputs = profile
            .outputs
            .select(&names)
            .map_err(|reason| anyhow::anyhow!("--outputs: {reason}"))?;
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let outputs = TranscodeOutputs::in_dir(&args.output);
    let assets = ProcessingAssets::embedded()?;
    let started = Instant::now();
    let mut control = Control::new().on_progress(progress_reporter());
    if args.any_container {
        control = control.with_input_policy(InputPolicy::default().any_format());
    }
    let report = transcode_file(&args.input, &outputs, &profile, &assets, control)
        .with_context(|| format!("processing {}", args.input.display()))?;
    let wall = started.elapsed().as_secs_f64();
    let rungs: Vec<String> = report.hls_rungs.iter().map(|r| r.name()).collect();
    eprintln!(
        "wrote {} ({:.2} s, {}{}, HLS rungs: {}) in {wall:.2} s ({:.1}x realtime)",
        outputs.dir.display(),
        report.duration_seconds,
        if report.has_audio {
            "with audio"
        } else {
            "no audio"
        },
        if report.mp3 { ", MP3" } else { "" },
        if rungs.is_empty() {
            "none".to_owned()
        } else {
            rungs.join(", ")
        },
        report.duration_seconds / wall.max(1e-9),
    );
    Ok(())
}

/// A bar when stderr is a terminal; otherwise one line per second of wall time.
fn progress_reporter() -> impl FnMut(Progress) + Send + 'static {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {msg} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut last_line = Instant::now() - Duration::from_secs(1);
    move |p: Progress| {
        let (done, total) = (p.output_seconds, p.expected_seconds);
        match &bar {
            Some(bar) => {
                bar.set_length((total * 1000.0) as u64);
                bar.set_position((done * 1000.0) as u64);
                bar.set_message(format!("{done:.1}/{total:.1} s"));
                if done >= total {
                    bar.finish_and_clear();
                }
            }
            None if last_line.elapsed() >= Duration::from_secs(1) || done >= total => {
                last_line = Instant::now();
                eprintln!("progress: {done:.1}/{total:.1} s of output");
            }
            None => {}
        }
    }
}
