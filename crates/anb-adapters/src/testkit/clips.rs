//! Real media for the tests, made with the ffmpeg CLI, and independent checks of outputs
//! (ffprobe, the MP4's box layout, pixels).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory under the system's temporary directory, removed when dropped.
pub fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("anb-test-media-")
        .tempdir()
        .expect("a temporary directory")
}

/// Runs the ffmpeg CLI quietly; panics with its output when it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg CLI is installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a generated clip looks like.
#[derive(Clone, Debug)]
pub struct Clip {
    /// `WxH`.
    pub size: &'static str,
    /// Frames per second of the source pattern.
    pub rate: u32,
    /// Length in seconds.
    pub seconds: f64,
    /// Whether it has a sine-tone audio track.
    pub audio: bool,
    /// Output options (codecs, pixel format, metadata), after the inputs.
    pub encode: Vec<&'static str>,
}

impl Clip {
    /// A 640x360 30 fps H.264 + AAC clip of `seconds` (x264 ultrafast: quick to make).
    pub fn h264(seconds: f64) -> Self {
        Self {
            size: "640x360",
            rate: 30,
            seconds,
            audio: true,
            encode: vec![
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
            ],
        }
    }

    /// The same picture at another size.
    pub fn size(mut self, size: &'static str) -> Self {
        self.size = size;
        self
    }

    /// Without an audio track.
    pub fn silent(mut self) -> Self {
        self.audio = false;
        self
    }

    /// Other output options (replacing the H.264 + AAC defaults).
    pub fn encoded_with(mut self, options: &[&'static str]) -> Self {
        self.encode = options.to_vec();
        self
    }

    /// The same picture with its sound encoded by `codec` at `rate` Hz (instead of AAC at the
    /// tone's 48 kHz).
    pub fn sound(mut self, codec: &'static str, rate: &'static str) -> Self {
        if let Some(at) = self.encode.iter().position(|o| *o == "-c:a") {
            self.encode.truncate(at);
        }
        self.encode.extend(["-c:a", codec, "-ar", rate]);
        self
    }

    /// Writes the clip to `dir/name` (the extension picks the container).
    pub fn make(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        let video = format!("testsrc2=size={}:rate={}", self.size, self.rate);
        let seconds = format!("{}", self.seconds);
        let mut args: Vec<&str> = vec!["-f", "lavfi", "-i", &video];
        if self.audio {
            args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]);
        }
        args.extend(["-t", &seconds]);
        args.extend(self.encode.iter().copied());
        let out = path.to_str().expect("utf-8 path");
        args.push(out);
        ffmpeg(&args);
        path
    }
}

/// One black 7680x4320 frame of H.264 (about 100 KB, made in about a second): a picture over
/// the media limits.
pub fn eight_k_frame(dir: &Path) -> PathBuf {
    let path = dir.join("8k.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=7680x4320:r=1",
        "-frames:v",
        "1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
    path
}

/// Half a second of silent 320x180 whose pixels are 100 times wider than tall (SAR 100:1):
/// processing would square them into a 32000x180 picture.
pub fn stretched_pixels(dir: &Path) -> PathBuf {
    Clip::h264(0.5)
        .size("320x180")
        .silent()
        .encoded_with(&[
            "-vf",
            "setsar=100/1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .make(dir, "stretched.mp4")
}

/// Remuxes `input` to `output` (stream copy) with extra output options, e.g. the rotation
/// tag a phone writes (`-metadata:s:v:0 rotate=90`, stored as a display matrix).
pub fn remux(input: &Path, output: &Path, options: &[&str]) {
    let mut args = vec!["-i", input.to_str().unwrap(), "-c", "copy"];
    args.extend(options);
    args.push(output.to_str().unwrap());
    ffmpeg(&args);
}

/// One stream as ffprobe reports it (`codec_type`, `codec_name`, `width`, …).
pub type StreamReport = HashMap<String, String>;

/// The streams of `path`, as the ffprobe CLI (an independent reader) reports them.
pub fn ffprobe_streams(path: &Path) -> Vec<StreamReport> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is installed with ffmpeg");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    json["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|stream| {
            stream
                .as_object()
                .expect("a stream object")
                .iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), text)
                })
                .collect()
        })
        .collect()
}

/// The first stream of `kind` (`video`, `audio`).
pub fn stream<'a>(streams: &'a [StreamReport], kind: &str) -> Option<&'a StreamReport> {
    streams
        .iter()
        .find(|s| s.get("codec_type").map(String::as_str) == Some(kind))
}

/// The top-level boxes of an MP4, in file order (`ftyp`, `moov`, `mdat`, …).
pub fn top_level_boxes(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("the file");
    let mut boxes = Vec::new();
    let mut at = 0_usize;
    while at + 8 <= bytes.len() {
        let size32 = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as u64;
        let kind = String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned();
        let size = match size32 {
            0 => (bytes.len() - at) as u64,
            1 => u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()),
            n => n,
        };
        boxes.push(kind);
        if size < 8 {
            break;
        }
        at += size as usize;
    }
    boxes
}

/// The luma plane of the frame at `seconds` into `path`, as `(width, height, bytes)`.
pub fn luma_at(path: &Path, seconds: f64) -> (usize, usize, Vec<u8>) {
    let streams = ffprobe_streams(path);
    let video = stream(&streams, "video").expect("a video stream");
    let width: usize = video["width"].parse().unwrap();
    let height: usize = video["height"].parse().unwrap();
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-ss",
            &seconds.to_string(),
            "-i",
        ])
        .arg(path)
        .args(["-frames:v", "1", "-pix_fmt", "gray", "-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), width * height, "one gray frame");
    (width, height, out.stdout)
}

/// Mean luma of column `x` of a gray frame.
pub fn column_mean(frame: &(usize, usize, Vec<u8>), x: usize) -> f64 {
    let (width, height, bytes) = frame;
    (0..*height)
        .map(|y| f64::from(bytes[y * width + x]))
        .sum::<f64>()
        / *height as f64
}

/// The presentation times (seconds) of the key frames of the first video stream of `path`,
/// read by the ffprobe CLI.
pub fn keyframe_times(path: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time,key_frame",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is installed with ffmpeg");
    assert!(out.status.success(), "ffprobe {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let key = fields.next()?.trim() == "1";
            let time: f64 = fields.next()?.trim().parse().ok()?;
            key.then_some(time)
        })
        .collect()
}

/// One HLS rung's init segment and media segments joined into one playable file at `into`
/// (what a player's buffer holds).
pub fn join_rung(rung_dir: &Path, segments: &[String], into: &Path) -> PathBuf {
    let mut bytes = std::fs::read(rung_dir.join("init.mp4")).expect("an init segment");
    for segment in segments {
        bytes.extend(std::fs::read(rung_dir.join(segment)).expect("a listed segment"));
    }
    std::fs::write(into, bytes).expect("writing the joined rung");
    into.to_path_buf()
}
