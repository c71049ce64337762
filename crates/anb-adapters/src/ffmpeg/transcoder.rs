//! The [`Transcoder`] port over FFmpeg.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anb_domain::media::{
    MediaInfo, MediaInput, Profile, ProgressSink, TranscodeOutputs, TranscodeReport,
};
use anb_domain::ports::{TranscodeError, Transcoder};
use anyhow::Context as _;
use async_trait::async_trait;
use tracing::Instrument as _;

use super::assets::ProcessingAssets;
use super::input::InputPolicy;
use super::pipeline::{transcode_file, Control};

/// Settings of [`FfmpegTranscoder`].
#[derive(Clone, Debug)]
pub struct FfmpegConfig {
    /// Longest one processing run may take before it is stopped (default 10 minutes).
    pub timeout: Duration,
    /// Logo and bumpers; `None` uses the ones embedded in this build.
    pub assets: Option<ProcessingAssets>,
    /// How inputs are opened and decoded, for probes and processing alike (default: MP4/MOV
    /// only, the local file only, bounded probing, a 10 s open deadline, decoder threads at
    /// most the cores, pictures within the default media limits). Give it the same
    /// [`MediaLimits`](anb_domain::media::MediaLimits) as the service's
    /// `ShowcaseConfig::media_limits` ([`InputPolicy::with_limits`]; `compose` does), or the
    /// pictures it decodes are held to other limits than the ones uploads were checked against.
    pub input: InputPolicy,
}

impl Default for FfmpegConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            assets: None,
            input: InputPolicy::default(),
        }
    }
}

/// Probes and processes media in process with FFmpeg.
///
/// `process` runs the one-pass pipeline ([`transcode_file`]) on Tokio's blocking pool. It stops
/// at its timeout ([`TranscodeError::TimedOut`]), and when its future is dropped (a worker that
/// lost its lease or is shutting down) the run is cancelled within one packet.
///
/// # Example
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// use anb_adapters::ffmpeg::FfmpegTranscoder;
/// use anb_domain::media::{Profile, TranscodeOutputs};
/// use anb_domain::ports::Transcoder as _;
///
/// let transcoder = FfmpegTranscoder::default();
/// // Writes out/video.mp4, out/thumbnail.jpg, out/hls/master.m3u8 (and its rungs), and
/// // out/storyboard.jpg + out/storyboard.vtt.
/// let outputs = TranscodeOutputs::in_dir("out");
/// let progress = std::sync::Arc::new(|p: anb_domain::media::TranscodeProgress| {
///     eprintln!("{:.0}/{:.0} s", p.output_seconds, p.expected_seconds)
/// });
/// let report = transcoder
///     .process("clip.mov".as_ref(), &outputs, &Profile::showcase(), progress)
///     .await?;
/// println!("{:.1} s, {} HLS rungs", report.duration_seconds, report.hls_rungs.len());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct FfmpegTranscoder {
    config: FfmpegConfig,
}

impl FfmpegTranscoder {
    /// A transcoder with `config`.
    pub fn new(config: FfmpegConfig) -> Self {
        Self { config }
    }
}

/// Sets the flag when dropped: the blocking run sees it at its next packet.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[async_trait]
impl Transcoder for FfmpegTranscoder {
    async fn probe(&self, input: MediaInput) -> Result<MediaInfo, TranscodeError> {
        super::probe_with(input, &self.config.input).await
    }

    async fn process(
        &self,
        input: &Path,
        outputs: &TranscodeOutputs,
        profile: &Profile,
        progress: ProgressSink,
    ) -> Result<TranscodeReport, TranscodeError> {
        let assets = match &self.config.assets {
            Some(assets) => assets.clone(),
            None => ProcessingAssets::embedded()?,
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(Arc::clone(&cancel));
        let control = Control::new()
            .with_cancel_flag(cancel)
            .with_timeout(self.config.timeout)
            .with_input_policy(self.config.input.clone())
            .on_progress(move |p| progress(p));
        let (input, outputs, profile) = (input.to_path_buf(), outputs.clone(), profile.clone());
        let span = tracing::info_span!("transcode", profile = %profile.name);
        let run = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            transcode_file(&input, &outputs, &profile, &assets, control)
        });
        run.in_current_span()
            .await
            .context("the transcode task panicked")?
    }
}
