//! FFmpeg in process (`ffmpeg-next` against the system's FFmpeg 5.1): probing, and the
//! one-pass processing of a clip into the showcase's web format.
//!
//! [`FfmpegTranscoder`] is the [`Transcoder`](anb_domain::ports::Transcoder) port;
//! [`transcode_file`] is the blocking pipeline under it, for tools that want progress.

mod assets;
mod input;
mod pipeline;
mod probe;
mod transcoder;

use std::sync::Once;

pub use assets::ProcessingAssets;
pub use input::{InputPolicy, MP4_MOV_DEMUXERS};
pub use pipeline::{transcode_file, Control, Progress};
pub use probe::{probe, probe_file, probe_file_with, probe_with};
pub use transcoder::{FfmpegConfig, FfmpegTranscoder};

/// Sets up the library once; FFmpeg's own logging is silenced (failures come back as errors).
fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Quiet);
    });
}
