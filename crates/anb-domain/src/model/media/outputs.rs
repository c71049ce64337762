//! What a processing run makes from one decode: the outputs a profile lists, and where a run
//! writes them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One rung of an HLS ladder: a picture size and the bitrate its encoder is capped at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even); also the rung's name (`720p`).
    pub height: u32,
    /// The encoder's bitrate cap (VBV maximum rate), in kbit/s.
    pub max_kbps: u32,
}

impl Rung {
    /// The rung's name, used as its directory: `720p`.
    pub fn name(&self) -> String {
        format!("{}p", self.height)
    }

    /// Whether a source picture of `width`x`height` (as displayed: rotation and pixel aspect
    /// applied) fills this rung without being enlarged: fitting it inside the rung's box
    /// scales it by at most 1.
    pub fn filled_by(&self, width: u32, height: u32) -> bool {
        width > 0 && height > 0 && (self.width <= width || self.height <= height)
    }
}

/// An adaptive-streaming ladder: HLS with CMAF (fMP4) segments cut at keyframes aligned across
/// rungs, and a master playlist listing the rungs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HlsLadder {
    /// The rungs, largest first.
    pub rungs: Vec<Rung>,
    /// Target segment duration in seconds; every rung has a keyframe exactly this often.
    pub segment_seconds: f64,
}

impl HlsLadder {
    /// 1280x720 at 3 Mbit/s, 854x480 at 1.4 Mbit/s, 640x360 at 800 kbit/s; 2 s segments.
    pub fn standard() -> Self {
        Self {
            rungs: vec![
                Rung {
                    width: 1280,
                    height: 720,
                    max_kbps: 3_000,
                },
                Rung {
                    width: 854,
                    height: 480,
                    max_kbps: 1_400,
                },
                Rung {
                    width: 640,
                    height: 360,
                    max_kbps: 800,
                },
            ],
            segment_seconds: 2.0,
        }
    }

    /// The rungs a source of `width`x`height` (as displayed) gets: never an enlargement. A
    /// source smaller than every rung gets one rung at its own height (16:9, even sizes), at
    /// the smallest rung's bitrate cap: the rung's aspect, with one side equal to the
    /// source's.
    ///
    /// ```
    /// use anb_domain::media::HlsLadder;
    ///
    /// let ladder = HlsLadder::standard();
    /// let heights = |w, h| ladder.rungs_for(w, h).iter().map(|r| r.height).collect::<Vec<_>>();
    /// assert_eq!(heights(1920, 1080), [720, 480, 360]);
    /// assert_eq!(heights(854, 480), [480, 360]);
    /// assert_eq!(heights(1080, 1920), [720, 480, 360]); // portrait: the height fills
    /// assert_eq!(heights(320, 240), [240]);
    /// ```
    pub fn rungs_for(&self, width: u32, height: u32) -> Vec<Rung> {
        let filled: Vec<Rung> = self
            .rungs
            .iter()
            .copied()
            .filter(|rung| rung.filled_by(width, height))
            .collect();
        if !filled.is_empty() {
            return filled;
        }
        let Some(smallest) = self.rungs.iter().min_by_key(|rung| rung.height) else {
            return Vec::new();
        };
        let (rung_w, rung_h) = (u64::from(smallest.width), u64::from(smallest.height));
        let (w, h) = (u64::from(width), u64::from(height));
        // Narrower than the rung: the height is the source's; wider: the width is.
        let (box_w, box_h) = if w * rung_h < h * rung_w {
            (h * rung_w / rung_h, h)
        } else {
            (w, w * rung_h / rung_w)
        };
        let even = |side: u64| (u32::try_from(side).unwrap_or(u32::MAX) / 2 * 2).max(2);
        vec![Rung {
            width: even(box_w),
            height: even(box_h),
            max_kbps: smallest.max_kbps,
        }]
    }
}

/// Seek previews: frames sampled at an interval, tiled into one JPEG sprite, with a WebVTT
/// file whose cues point at each tile (`sprite.jpg#xywh=x,y,w,h`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Storyboard {
    /// Tile width in pixels (even).
    pub tile_width: u32,
    /// Tile height in pixels (even).
    pub tile_height: u32,
    /// Tiles per row of the sprite.
    pub columns: u32,
    /// The shortest interval between samples, in seconds.
    pub every_seconds: f64,
    /// At most this many tiles; a longer video samples less often.
    pub max_tiles: u32,
}

impl Storyboard {
    /// 160x90 tiles, ten per row, one a second, at most 100.
    pub fn standard() -> Self {
        Self {
            tile_width: 160,
            tile_height: 90,
            columns: 10,
            every_seconds: 1.0,
            max_tiles: 100,
        }
    }

    /// The sampling interval for an output of `duration_seconds`.
    pub fn interval_for(&self, duration_seconds: f64) -> f64 {
        let spread = duration_seconds / f64::from(self.max_tiles.max(1));
        self.every_seconds.max(spread).max(0.1)
    }
}

/// The outputs a profile makes, all from one decode of the input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputSet {
    /// The showcase MP4 (fast start) at the profile's size.
    pub mp4: bool,
    /// The JPEG thumbnail.
    pub thumbnail: bool,
    /// The HLS ladder, if any.
    pub hls: Option<HlsLadder>,
    /// The storyboard, if any.
    pub storyboard: Option<Storyboard>,
    /// The sound alone as an MP3 (`audio.mp3`); only for a profile that keeps the sound.
    #[serde(default)]
    pub mp3: bool,
}

impl OutputSet {
    /// MP4, thumbnail, the standard ladder and storyboard.
    pub fn showcase() -> Self {
        Self {
            mp4: true,
            thumbnail: true,
            hls: Some(HlsLadder::standard()),
            storyboard: Some(Storyboard::standard()),
            mp3: false,
        }
    }

    /// Only the MP4 and its thumbnail (what the showcase made before the ladder).
    pub fn mp4_only() -> Self {
        Self {
            mp4: true,
            thumbnail: true,
            hls: None,
            storyboard: None,
            mp3: false,
        }
    }

    /// No output at all (what [`select`](Self::select) starts from).
    pub fn none() -> Self {
        Self {
            mp4: false,
            thumbnail: false,
            hls: None,
            storyboard: None,
            mp3: false,
        }
    }

    /// Keeps only the outputs named in `names` (`mp4`, `hls`, `thumbnail`, `storyboard`,
    /// `mp3`), as `anb transcode --outputs` takes them; a ladder or storyboard this set lacks
    /// is the standard one.
    ///
    /// # Errors
    /// A name that is not an output, or no name.
    pub fn select(&self, names: &[&str]) -> Result<Self, String> {
        let mut chosen = Self::none();
        for name in names {
            match *name {
                "mp4" => chosen.mp4 = true,
                "mp3" => chosen.mp3 = true,
                "thumbnail" => chosen.thumbnail = true,
                "hls" => {
                    chosen.hls = Some(self.hls.clone().unwrap_or_else(HlsLadder::standard));
                }
                "storyboard" => {
                    chosen.storyboard = Some(self.storyboard.unwrap_or_else(Storyboard::standard));
                }
                other => {
                    return Err(format!(
                        "unknown output {other:?} (known: mp4, hls, thumbnail, storyboard, mp3)"
                    ))
                }
            }
        }
        if !chosen.makes_anything() {
            return Err("choose at least one output".into());
        }
        Ok(chosen)
    }

    /// Whether the set makes at least one output.
    pub fn makes_anything(&self) -> bool {
        self.makes_pictures() || self.mp3
    }

    /// Whether the set makes an output from the picture (all but the MP3): without one, a run
    /// need not decode the video at all.
    pub fn makes_pictures(&self) -> bool {
        self.mp4 || self.thumbnail || self.hls.is_some() || self.storyboard.is_some()
    }
}

/// Where a processing run writes, under one directory, with fixed names:
/// `video.mp4`, `thumbnail.jpg`, `hls/master.m3u8` (and `hls/{rung}/index.m3u8`, `init.mp4`,
/// `seg_00000.m4s` …), `storyboard.jpg` + `storyboard.vtt`, `audio.mp3`. Only the outputs the
/// profile lists are written, each whole or not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscodeOutputs {
    /// The directory (it must exist).
    pub dir: PathBuf,
}

impl TranscodeOutputs {
    /// Outputs under `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        Self {
            dir: dir.as_ref().to_path_buf(),
        }
    }

    /// The MP4.
    pub fn video(&self) -> PathBuf {
        self.dir.join("video.mp4")
    }

    /// The JPEG thumbnail.
    pub fn thumbnail(&self) -> PathBuf {
        self.dir.join("thumbnail.jpg")
    }

    /// The HLS directory: `master.m3u8` and one directory per rung.
    pub fn hls(&self) -> PathBuf {
        self.dir.join("hls")
    }

    /// The storyboard's sprite.
    pub fn storyboard_sprite(&self) -> PathBuf {
        self.dir.join(STORYBOARD_SPRITE)
    }

    /// The storyboard's WebVTT cues (they name the sprite relative to themselves).
    pub fn storyboard_cues(&self) -> PathBuf {
        self.dir.join(STORYBOARD_CUES)
    }

    /// The sound alone, as an MP3.
    pub fn audio(&self) -> PathBuf {
        self.dir.join(AUDIO_MP3)
    }
}

/// The storyboard sprite's file name, which its cues refer to.
pub const STORYBOARD_SPRITE: &str = "storyboard.jpg";
/// The storyboard cues' file name.
pub const STORYBOARD_CUES: &str = "storyboard.vtt";
/// The HLS master playlist's file name.
pub const HLS_MASTER: &str = "master.m3u8";
/// The MP3's file name.
pub const AUDIO_MP3: &str = "audio.mp3";

/// The media type of a file the pipeline writes, by its name's extension (what the service
/// answers with, and what a store that serves the file itself records with it).
///
/// ```
/// use anb_domain::media::media_type;
/// assert_eq!(media_type("seg_00003.m4s"), "video/mp4");
/// assert_eq!(media_type("index.m3u8"), "application/vnd.apple.mpegurl");
/// assert_eq!(media_type("notes.txt"), "application/octet-stream");
/// ```
pub fn media_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("mp4" | "m4s") => "video/mp4",
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("mp3") => "audio/mpeg",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("vtt") => "text/vtt",
        _ => "application/octet-stream",
    }
}

/// Whether `name` is one the HLS muxer gives a rung's segments: `init.mp4` or `seg_NNNNN.m4s`
/// (one to six digits).
///
/// ```
/// use anb_domain::media::is_segment_name;
/// assert!(is_segment_name("init.mp4") && is_segment_name("seg_00012.m4s"));
/// assert!(!is_segment_name("index.m3u8") && !is_segment_name("seg_.m4s"));
/// ```
pub fn is_segment_name(name: &str) -> bool {
    name == "init.mp4"
        || name
            .strip_prefix("seg_")
            .and_then(|n| n.strip_suffix(".m4s"))
            .is_some_and(|n| (1..=6).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rung_is_filled_when_either_side_of_the_source_reaches_it() {
        let rung = HlsLadder::standard().rungs[0];
        assert!(rung.filled_by(1920, 1080));
        assert!(rung.filled_by(1280, 720));
        assert!(!rung.filled_by(1279, 719));
        assert!(
            rung.filled_by(720, 1280),
            "portrait 720x1280 fills the height"
        );
        assert!(!rung.filled_by(0, 0));
    }

    #[test]
    fn a_source_smaller_than_every_rung_gets_one_rung_at_its_own_height() {
        let rungs = HlsLadder::standard().rungs_for(176, 144);
        assert_eq!(rungs.len(), 1);
        assert_eq!((rungs[0].width, rungs[0].height), (256, 144));
        assert!(rungs[0].filled_by(176, 144));
        let wide = HlsLadder::standard().rungs_for(400, 100);
        assert_eq!((wide[0].width, wide[0].height), (400, 224));
    }

    #[test]
    fn the_storyboard_samples_less_often_when_the_video_is_long() {
        let board = Storyboard::standard();
        assert_eq!(board.interval_for(20.0), 1.0);
        assert_eq!(board.interval_for(300.0), 3.0);
    }

    #[test]
    fn selecting_outputs_keeps_the_named_ones_and_refuses_unknown_names() {
        let set = OutputSet::showcase();
        let chosen = set.select(&["mp4", "hls"]).unwrap();
        assert!(chosen.mp4 && chosen.hls.is_some());
        assert!(!chosen.thumbnail && chosen.storyboard.is_none());
        assert!(set.select(&["gif"]).unwrap_err().contains("unknown output"));
        assert!(set.select(&[]).is_err());
    }

    #[test]
    fn the_mp3_is_off_unless_selected_and_can_be_the_only_output() {
        assert!(!OutputSet::showcase().mp3 && !OutputSet::mp4_only().mp3);
        let with_mp3 = OutputSet::showcase().select(&["mp4", "mp3"]).unwrap();
        assert!(with_mp3.mp3 && with_mp3.mp4 && with_mp3.hls.is_none());
        let mp3_only = OutputSet::showcase().select(&["mp3"]).unwrap();
        assert!(mp3_only.mp3 && mp3_only.makes_anything() && !mp3_only.makes_pictures());
        assert_eq!(
            mp3_only,
            OutputSet {
                mp3: true,
                ..OutputSet::none()
            }
        );
        let unknown = OutputSet::showcase().select(&["wav"]).unwrap_err();
        assert!(unknown.contains("mp3"), "{unknown}");
        assert!(!OutputSet::none().makes_anything());
    }

    #[test]
    fn a_set_stored_before_the_mp3_existed_reads_without_it() {
        let stored = r#"{"mp4":true,"thumbnail":true,"hls":null,"storyboard":null}"#;
        let set: OutputSet = serde_json::from_str(stored).unwrap();
        assert_eq!(set, OutputSet::mp4_only());
    }
}
