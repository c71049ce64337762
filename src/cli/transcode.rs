//! `anb transcode`: the processing pipeline on one file, with progress.

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
    /// Where to write the thumbnail (default: the output's path with `.jpg`).
    #[arg(long)]
    thumbnail: Option<PathBuf>,
    /// Open any container FFmpeg reads, not only MP4/MOV like the worker (trusted files only).
    #[arg(long)]
    any_container: bool,
    /// The clip to process.
    input: PathBuf,
    /// The MP4 to write.
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
    let outputs = TranscodeOutputs {
        thumbnail: args
            .thumbnail
            .unwrap_or_else(|| args.output.with_extension("jpg")),
        video: args.output,
    };
    let assets = ProcessingAssets::embedded()?;
    let started = Instant::now();
    let mut control = Control::new().on_progress(progress_reporter());
    if args.any_container {
        control = control.with_input_policy(InputPolicy::default().any_format());
    }
    let report = transcode_file(&args.input, &outputs, &profile, &assets, control)
        .with_context(|| format!("processing {}", args.input.display()))?;
    let wall = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {} ({:.2} s, {}x{}, {}) and {} in {wall:.2} s ({:.1}x realtime)",
        outputs.video.display(),
        report.duration_seconds,
        report.width,
        report.height,
        if report.has_audio {
            "with audio"
        } else {
            "no audio"
        },
        outputs.thumbnail.display(),
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
