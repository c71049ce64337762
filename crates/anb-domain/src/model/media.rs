//! What the transcoder reads (probe results) and is asked to produce (profiles, reports).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::blob::ByteStream;

mod limits;
mod outputs;

pub use limits::MediaLimits;
pub use outputs::{
    is_segment_name, media_type, HlsLadder, OutputSet, Rung, Storyboard, TranscodeOutputs,
    AUDIO_MP3, HLS_MASTER, STORYBOARD_CUES, STORYBOARD_SPRITE,
};

/// The container family a probe recognised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Container {
    /// ISO base media: MP4, MOV, M4V, 3GP.
    IsoBmff,
    /// Anything else, by the demuxer's name (`matroska,webm`, `avi`, `image2`, …).
    Other(String),
}

/// The first video stream of a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoStreamInfo {
    /// Codec name (`h264`, `hevc`, `vp9`, …).
    pub codec: String,
    /// Coded width in pixels.
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
    /// Display rotation in degrees (0, 90, 180, 270), from the display matrix.
    pub rotation_degrees: i32,
    /// Average frame rate, when known.
    pub frame_rate: Option<f64>,
    /// Sample (pixel) aspect ratio `(numerator, denominator)` when the stream states one;
    /// `None` means square pixels (or unknown, which players treat as square).
    #[serde(default)]
    pub sample_aspect_ratio: Option<(u32, u32)>,
}

impl VideoStreamInfo {
    /// The picture's size as displayed: width and height swapped for a quarter turn.
    ///
    /// ```
    /// use anb_domain::media::VideoStreamInfo;
    /// let phone = VideoStreamInfo { codec: "h264".into(), width: 1920, height: 1080,
    ///     rotation_degrees: -90, frame_rate: None, sample_aspect_ratio: None };
    /// assert_eq!(phone.displayed_size(), (1080, 1920));
    /// ```
    pub fn displayed_size(&self) -> (u32, u32) {
        if self.rotation_degrees.rem_euclid(180) == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// What a probe learnt from a file's header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// Container family.
    pub container: Container,
    /// Duration in seconds, when the container states one.
    pub duration_seconds: Option<f64>,
    /// The first video stream, if any.
    pub video: Option<VideoStreamInfo>,
    /// The first audio stream's codec, if any.
    pub audio_codec: Option<String>,
    /// How many streams the container holds, of every kind (video, audio, subtitles, data).
    #[serde(default)]
    pub stream_count: u32,
}

impl MediaInfo {
    /// Whether this is a video the showcase accepts: an MP4/MOV container with a video stream.
    ///
    /// # Errors
    /// A reason for the player when it is not.
    pub fn check_uploadable(&self) -> Result<(), String> {
        if let Container::Other(name) = &self.container {
            return Err(format!(
                "the file is not an MP4 or MOV video (found {name})"
            ));
        }
        match &self.video {
            None => Err("the file has no video stream".to_owned()),
            Some(v) if v.width == 0 || v.height == 0 => {
                Err("the video stream has no picture size".to_owned())
            }
            Some(_) => Ok(()),
        }
    }
}

/// The bytes a probe reads.
pub enum MediaInput {
    /// A local file.
    File(PathBuf),
    /// A stream (an upload in flight). The transcoder consumes it to the end.
    Stream(ByteStream),
}

impl std::fmt::Debug for MediaInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

/// The logo stamped on every processed video.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoOverlay {
    /// Logo width in output pixels.
    pub width: u32,
    /// Logo height in output pixels.
    pub height: u32,
    /// Distance from the top and right edges, in pixels.
    pub margin: u32,
}

/// What happens to the audio track.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioPolicy {
    /// Keep it: stream copy when the input is AAC, else encode AAC.
    Keep,
    /// Drop it.
    Remove,
}

/// Video encoder settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoEncoding {
    /// x264 preset (`ultrafast` … `veryslow`).
    pub preset: String,
    /// Constant rate factor (0..=51; lower is better quality).
    pub crf: u8,
}

/// A processing profile: data, selectable by name in config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Name used in config (`showcase`, `anb-course`).
    pub name: String,
    /// Keep at most this many seconds of the input.
    pub max_duration_seconds: f64,
    /// Output width; the picture is fitted inside, keeping its aspect, with padding.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Logo overlay, top-right.
    pub logo: Option<LogoOverlay>,
    /// Encoder settings.
    pub video: VideoEncoding,
    /// Audio handling.
    pub audio: AudioPolicy,
    /// Seconds of ANB intro and outro bumper around the clip, if any.
    pub bumper_seconds: Option<f64>,
    /// Where (seconds into the output) the thumbnail is taken.
    pub thumbnail_at_seconds: f64,
    /// What the run makes.
    pub outputs: OutputSet,
}

impl Profile {
    /// The thumbnail's size: half the output's, even (640x360 for 1280x720).
    pub fn thumbnail_size(&self) -> (u32, u32) {
        (self.width / 2 / 2 * 2, self.height / 2 / 2 * 2)
    }

    /// The design documents' profile: first 20 s, 1280x720, logo 120x60 top-right, x264 veryfast
    /// CRF 23, audio kept; MP4, thumbnail, the standard HLS ladder and a storyboard.
    pub fn showcase() -> Self {
        Self {
            name: "showcase".into(),
            max_duration_seconds: 20.0,
            width: 1280,
            height: 720,
            logo: Some(LogoOverlay {
                width: 120,
                height: 60,
                margin: 10,
            }),
            video: VideoEncoding {
                preset: "veryfast".into(),
                crf: 23,
            },
            audio: AudioPolicy::Keep,
            bumper_seconds: None,
            thumbnail_at_seconds: 1.0,
            outputs: OutputSet::showcase(),
        }
    }

    /// The course's stricter profile: at most 30 s, no audio, 2.5 s intro and outro bumpers;
    /// the same outputs.
    pub fn anb_course() -> Self {
        Self {
            name: "anb-course".into(),
            max_duration_seconds: 30.0,
            audio: AudioPolicy::Remove,
            bumper_seconds: Some(2.5),
            ..Self::showcase()
        }
    }

    /// A built-in profile by name.
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "showcase" => Some(Self::showcase()),
            "anb-course" => Some(Self::anb_course()),
            _ => None,
        }
    }
}

/// How far a processing run has got.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TranscodeProgress {
    /// Seconds of output written so far.
    pub output_seconds: f64,
    /// Seconds of output expected in total (an estimate from the input's header).
    pub expected_seconds: f64,
}

/// Where a run reports its progress: called from the run's own thread, about every half second
/// of output, so it must be quick (store the value; act on it elsewhere).
pub type ProgressSink = std::sync::Arc<dyn Fn(TranscodeProgress) + Send + Sync>;

/// What a processing run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct TranscodeReport {
    /// Duration of the output in seconds (the MP3's, when it is the only output).
    pub duration_seconds: f64,
    /// Output width (0 when the run made no picture: the MP3 alone).
    pub width: u32,
    /// Output height (0 when the run made no picture).
    pub height: u32,
    /// Whether the MP4 and the HLS rungs have an audio track.
    pub has_audio: bool,
    /// The HLS rungs written, largest first (none without a ladder).
    pub hls_rungs: Vec<Rung>,
    /// Whether the storyboard was written.
    pub storyboard: bool,
    /// Whether the MP3 (`audio.mp3`) was written.
    pub mp3: bool,
}
