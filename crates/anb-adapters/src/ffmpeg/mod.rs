//! FFmpeg in process (`ffmpeg-next` against the system's FFmpeg 5.1).
//!
//! So far: [`probe_file`] and [`probe`], which read a container's header — the check that decides
//! at upload time whether bytes are a real video. Processing (the one-pass transcode of the
//! showcase profile) is not built yet, and neither is the `Transcoder` implementation that
//! will combine both.

mod probe;

pub use probe::{probe, probe_file};
