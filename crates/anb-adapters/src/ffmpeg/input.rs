//! Opening untrusted media: which demuxers and protocols FFmpeg may use, how much it may read
//! to find the streams, how long it may take, and how many threads a decoder gets.

use std::path::Path;
use std::time::{Duration, Instant};

use anb_domain::media::MediaLimits;
use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, Dictionary};

/// The MP4/MOV family: the one demuxer FFmpeg reads ISO base media files with (MP4, MOV, M4V,
/// M4A, 3GP, 3G2, Motion JPEG 2000), by the name FFmpeg gives it.
pub const MP4_MOV_DEMUXERS: &str = "mov,mp4,m4a,3gp,3g2,mj2";

/// How media from outside (an upload) is opened and decoded.
///
/// FFmpeg, left to itself, guesses among every demuxer it has and follows any URL a file
/// names (an HLS or concat playlist can make it read other local files or fetch from the
/// network). Here it only ever reads the one file it is given (`protocol_whitelist=file`),
/// only with the demuxers listed, reads a bounded amount to find the streams, gives up at a
/// deadline (an interrupt callback), decodes on a bounded number of threads, and its decoders
/// refuse pictures larger than the media limits.
#[derive(Clone, Debug, PartialEq)]
pub struct InputPolicy {
    /// Demuxers allowed, comma-separated FFmpeg names (`format_whitelist`); `None` allows
    /// every demuxer (trusted files only). Default [`MP4_MOV_DEMUXERS`].
    pub formats: Option<String>,
    /// Bytes read to find the streams' parameters (`probesize`, default 5,000,000).
    pub probe_bytes: u64,
    /// Media time analysed to find the streams' parameters (`analyzeduration`, default 5 s).
    pub analyze_duration: Duration,
    /// Bytes read to recognise the container (`formatprobesize`, default 1 MiB).
    pub format_probe_bytes: u64,
    /// Most streams the demuxer creates (`max_streams`, default 64, or one more than
    /// `limits.max_streams` when that is higher); a file with more is unreadable. The media
    /// limits' own, lower, ceiling gives the player a clear reason.
    pub max_streams: u32,
    /// How long opening a file (reading its header and finding its streams) may take
    /// (default 10 s); past it FFmpeg is interrupted and the file counts as bad media.
    pub open_timeout: Duration,
    /// Threads per video decoder (default: half the machine's cores, at least 1, at most 8).
    /// The pipeline decodes on a thread of its own beside the encoders, which take the other
    /// half; on 2 cores one decoder thread does the same work in less CPU time than frame
    /// threads, which spend some of it keeping each other in step. Each thread of a
    /// frame-threaded decoder holds pictures of its own, so this bounds memory too.
    pub decoder_threads: usize,
    /// What decoded pictures must fit ([`MediaLimits::check_picture`]); the video decoder
    /// is also opened with `max_pixels` (the limit plus 64 lines of `max_side` for the codecs'
    /// block alignment: a 4096x2160 H.264 picture is coded as 4096x2176), so it refuses far
    /// larger pictures before allocating them.
    pub limits: MediaLimits,
}

impl Default for InputPolicy {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            formats: Some(MP4_MOV_DEMUXERS.to_owned()),
            probe_bytes: 5_000_000,
            analyze_duration: Duration::from_secs(5),
            format_probe_bytes: 1 << 20,
            max_streams: 64,
            open_timeout: Duration::from_secs(10),
            decoder_threads: (cores / 2).clamp(1, 8),
            limits: MediaLimits::default(),
        }
    }
}

impl InputPolicy {
    /// The defaults with `limits` (and room in `max_streams` for its stream limit).
    pub fn with_limits(limits: MediaLimits) -> Self {
        let defaults = Self::default();
        Self {
            max_streams: defaults
                .max_streams
                .max(limits.max_streams.saturating_add(1)),
            limits,
            ..defaults
        }
    }

    /// The same, reading any container FFmpeg knows: for trusted local files only.
    pub fn any_format(self) -> Self {
        Self {
            formats: None,
            ..self
        }
    }

    /// The format context's options.
    fn options(&self) -> Dictionary<'static> {
        let mut options = Dictionary::new();
        options.set("protocol_whitelist", "file");
        if let Some(formats) = &self.formats {
            options.set("format_whitelist", formats);
        }
        options.set("probesize", &self.probe_bytes.max(32).to_string());
        options.set(
            "analyzeduration",
            &self.analyze_duration.as_micros().to_string(),
        );
        options.set(
            "formatprobesize",
            &self.format_probe_bytes.min(i32::MAX as u64).to_string(),
        );
        options.set("max_streams", &self.max_streams.max(1).to_string());
        options
    }

    /// The video decoder's options: the picture size cap.
    pub(crate) fn decoder_options(&self) -> Dictionary<'static> {
        let mut options = Dictionary::new();
        let alignment = 64 * u64::from(self.limits.max_side);
        let max_pixels = self
            .limits
            .max_pixels
            .saturating_add(alignment)
            .clamp(1, i32::MAX as u64);
        options.set("max_pixels", &max_pixels.to_string());
        options
    }

    /// Frame threads for a video decoder.
    pub(crate) fn decoder_threading(&self) -> ff::threading::Config {
        ff::threading::Config {
            count: self.decoder_threads.max(1),
            ..ff::threading::Config::kind(ff::threading::Type::Frame)
        }
    }

    /// The reason given when a file cannot be opened.
    fn unreadable(&self, error: &ff::Error) -> TranscodeError {
        let expected = if self.formats.as_deref() == Some(MP4_MOV_DEMUXERS) {
            ": an MP4 or MOV video is expected"
        } else {
            ""
        };
        TranscodeError::BadMedia(format!(
            "the file is not a video the server can read{expected} ({error})"
        ))
    }
}

/// Opens `path` under `policy`. FFmpeg polls `interrupted` while it reads (now and for as long
/// as the returned context lives); it also stops once `policy.open_timeout` has passed while
/// opening.
///
/// # Errors
/// `BadMedia` when the file cannot be opened as media under the policy, or opening it took
/// longer than `open_timeout`. When `interrupted` is what stopped it, the caller decides
/// what that means (its own cancellation or deadline).
pub(crate) fn open(
    path: &Path,
    policy: &InputPolicy,
    mut interrupted: impl FnMut() -> bool + Send + 'static,
) -> Result<ff::format::context::Input, TranscodeError> {
    super::init();
    let deadline = Instant::now() + policy.open_timeout;
    let opening = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let still_opening = std::sync::Arc::clone(&opening);
    let callback = move || {
        interrupted()
            || (still_opening.load(std::sync::atomic::Ordering::Relaxed)
                && Instant::now() >= deadline)
    };
    let opened = ff::format::input_with_interrupt_and_dictionary(&path, callback, policy.options());
    opening.store(false, std::sync::atomic::Ordering::Relaxed);
    opened.map_err(|e| {
        if Instant::now() >= deadline {
            TranscodeError::BadMedia(format!(
                "the file could not be read within {} s",
                policy.open_timeout.as_secs_f64()
            ))
        } else {
            policy.unreadable(&e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_read_only_local_mp4_and_mov_files_with_bounded_probing() {
        let policy = InputPolicy::default();
        let options = policy.options();
        assert_eq!(options.get("protocol_whitelist"), Some("file"));
        assert_eq!(options.get("format_whitelist"), Some(MP4_MOV_DEMUXERS));
        assert_eq!(options.get("probesize"), Some("5000000"));
        assert_eq!(options.get("analyzeduration"), Some("5000000"));
        assert_eq!(options.get("formatprobesize"), Some("1048576"));
        assert_eq!(options.get("max_streams"), Some("64"));
        assert!((1..=8).contains(&policy.decoder_threads));
        assert_eq!(policy.decoder_options().get("max_pixels"), Some("9175040"));
        let any = policy.any_format().options();
        assert_eq!(any.get("format_whitelist"), None);
        assert_eq!(any.get("protocol_whitelist"), Some("file"));
    }

    #[test]
    fn a_higher_stream_limit_raises_the_demuxers_ceiling() {
        let limits = MediaLimits {
            max_streams: 100,
            ..MediaLimits::default()
        };
        assert_eq!(InputPolicy::with_limits(limits).max_streams, 101);
        assert_eq!(
            InputPolicy::with_limits(MediaLimits::default()).max_streams,
            64
        );
    }
}
