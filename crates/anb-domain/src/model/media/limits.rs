//! The limits an upload's media must fit: picture size, frame rate, length, streams, pixel
//! shape and video codec. One rule ([`MediaLimits::check`]), applied when a file is uploaded
//! and again by the worker before it processes one.

use serde::{Deserialize, Serialize};

use super::MediaInfo;

/// What a video may be, checked on the probe of its header before anything decodes it.
///
/// The defaults admit what phones and cameras record (up to DCI 4K at 240 fps, ten minutes,
/// a video and a few audio or metadata tracks) and refuse what only costs the server:
/// 8K pictures, absurd frame rates, hundreds of streams, pixels stretched 100 to 1 (which
/// the processing would widen into enormous pictures), codecs no phone writes.
///
/// ```
/// use anb_domain::media::{Container, MediaInfo, MediaLimits, VideoStreamInfo};
///
/// let clip = |width, height| MediaInfo {
///     container: Container::IsoBmff,
///     duration_seconds: Some(12.0),
///     video: Some(VideoStreamInfo {
///         codec: "h264".into(),
///         width,
///         height,
///         rotation_degrees: 0,
///         frame_rate: Some(30.0),
///         sample_aspect_ratio: None,
///     }),
///     audio_codec: Some("aac".into()),
///     stream_count: 2,
/// };
/// let limits = MediaLimits::default();
/// assert!(limits.check(&clip(1920, 1080)).is_ok());
/// assert!(limits.check(&clip(7680, 4320)).unwrap_err().contains("at most 4096 pixels a side"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaLimits {
    /// Longest side of the coded picture, in pixels (default 4096: DCI 4K).
    pub max_side: u32,
    /// Most pixels in one picture (default 8,912,896 = 4096x2176, about 8.9 megapixels: DCI 4K
    /// 4096x2160 and UHD 3840x2160 fit, either way up).
    pub max_pixels: u64,
    /// Highest average frame rate (default 240: phones' slow motion).
    pub max_frame_rate: f64,
    /// Longest duration in seconds (default 600: ten minutes). A file whose header states no
    /// duration is not refused for it (processing keeps only the profile's first seconds).
    pub max_duration_seconds: f64,
    /// Most streams of any kind in the container (default 8).
    pub max_streams: u32,
    /// How far from square a pixel may be: its aspect ratio (width over height) must lie
    /// within `1/max_pixel_aspect ..= max_pixel_aspect` (default 4). Processing squares
    /// pixels by widening the picture, so a 100:1 pixel would make it 100 times wider.
    pub max_pixel_aspect: f64,
    /// Video codecs accepted, by FFmpeg's codec name, compared ignoring case (default
    /// [`MediaLimits::DEFAULT_VIDEO_CODECS`]).
    pub video_codecs: Vec<String>,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            max_side: 4096,
            max_pixels: 4096 * 2176,
            max_frame_rate: 240.0,
            max_duration_seconds: 600.0,
            max_streams: 8,
            max_pixel_aspect: 4.0,
            video_codecs: Self::DEFAULT_VIDEO_CODECS
                .iter()
                .map(|&codec| codec.to_owned())
                .collect(),
        }
    }
}

impl MediaLimits {
    /// The video codecs accepted by default: what phones and cameras write into MP4/MOV and
    /// FFmpeg 5.1 decodes in software. `h264` (every phone), `hevc` (iPhones, recent
    /// Androids), `mpeg4` and `h263` (older phones' 3GP/MP4), `mpeg2video` (HDV cameras'
    /// MOV), `vp9` and `av1` (Android screen and camera apps), `prores` (iPhone Pro, editors),
    /// `mjpeg` (cameras' Motion JPEG MOV).
    pub const DEFAULT_VIDEO_CODECS: &'static [&'static str] = &[
        "h264",
        "hevc",
        "mpeg4",
        "h263",
        "mpeg2video",
        "vp9",
        "av1",
        "prores",
        "mjpeg",
    ];

    /// Whether `info` is an uploadable video ([`MediaInfo::check_uploadable`]: an MP4/MOV
    /// container with a video stream) within these limits.
    ///
    /// # Errors
    /// The first limit it breaks, as a reason for the player (it names the value found and
    /// the limit).
    pub fn check(&self, info: &MediaInfo) -> Result<(), String> {
        info.check_uploadable()?;
        if info.stream_count > self.max_streams {
            return Err(format!(
                "the file has {} streams: at most {} are accepted",
                info.stream_count, self.max_streams
            ));
        }
        if let Some(seconds) = info.duration_seconds {
            if seconds > self.max_duration_seconds {
                return Err(format!(
                    "the video lasts {}: at most {} are accepted",
                    describe_seconds(seconds),
                    describe_seconds(self.max_duration_seconds)
                ));
            }
        }
        let Some(video) = &info.video else {
            return Ok(());
        };
        if !self
            .video_codecs
            .iter()
            .any(|codec| codec.eq_ignore_ascii_case(&video.codec))
        {
            return Err(format!(
                "the video codec {} is not accepted (accepted: {})",
                video.codec,
                self.video_codecs.join(", ")
            ));
        }
        if let Some(rate) = video.frame_rate {
            if rate > self.max_frame_rate {
                return Err(format!(
                    "the video runs at {rate:.0} frames per second: at most {:.0} are accepted",
                    self.max_frame_rate
                ));
            }
        }
        self.check_picture(video.width, video.height, video.sample_aspect_ratio)
    }

    /// Whether one picture's size and pixel shape are within these limits: part of
    /// [`MediaLimits::check`], and what a transcoder checks on the pictures it decodes (a
    /// stream may change its size after its header).
    ///
    /// # Errors
    /// The limit it breaks, as a reason for the player.
    pub fn check_picture(
        &self,
        width: u32,
        height: u32,
        sample_aspect_ratio: Option<(u32, u32)>,
    ) -> Result<(), String> {
        if width > self.max_side || height > self.max_side {
            return Err(format!(
                "the picture is {width}x{height}: at most {} pixels a side are accepted",
                self.max_side
            ));
        }
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(format!(
                "the picture is {width}x{height} ({:.1} megapixels): at most {:.1} megapixels \
                 are accepted",
                pixels as f64 / 1e6,
                self.max_pixels as f64 / 1e6
            ));
        }
        if let Some((num, den)) = sample_aspect_ratio.filter(|&(num, den)| num > 0 && den > 0) {
            let aspect = f64::from(num) / f64::from(den);
            let max = self.max_pixel_aspect.max(1.0);
            if aspect > max || aspect < 1.0 / max {
                return Err(format!(
                    "the pixels are stretched {num}:{den}: at most {max}:1 either way is accepted"
                ));
            }
        }
        Ok(())
    }
}

/// `1.5 s`, `45 s`, `10 min`, `12 min 5 s` (to a tenth of a second).
fn describe_seconds(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let (whole, tenth) = (tenths / 10, tenths % 10);
    let (minutes, rest) = (whole / 60, whole % 60);
    let secs = if tenth == 0 {
        format!("{rest} s")
    } else {
        format!("{rest}.{tenth} s")
    };
    match minutes {
        0 => secs,
        m if rest == 0 && tenth == 0 => format!("{m} min"),
        m => format!("{m} min {secs}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{Container, VideoStreamInfo};

    fn clip() -> MediaInfo {
        MediaInfo {
            container: Container::IsoBmff,
            duration_seconds: Some(30.0),
            video: Some(VideoStreamInfo {
                codec: "h264".into(),
                width: 1920,
                height: 1080,
                rotation_degrees: 90,
                frame_rate: Some(29.97),
                sample_aspect_ratio: Some((1, 1)),
            }),
            audio_codec: Some("aac".into()),
            stream_count: 3,
        }
    }

    fn refused(change: impl FnOnce(&mut MediaInfo)) -> String {
        let mut info = clip();
        change(&mut info);
        MediaLimits::default()
            .check(&info)
            .expect_err("outside the limits")
    }

    fn video(info: &mut MediaInfo) -> &mut VideoStreamInfo {
        info.video.as_mut().unwrap()
    }

    #[test]
    fn what_phones_and_cameras_record_is_accepted() {
        let limits = MediaLimits::default();
        limits.check(&clip()).unwrap();
        for (w, h) in [
            (4096, 2160),
            (3840, 2160),
            (2160, 3840),
            (4096, 2176),
            (640, 360),
        ] {
            limits.check_picture(w, h, None).unwrap();
        }
        let mut slow_motion = clip();
        video(&mut slow_motion).frame_rate = Some(240.0);
        video(&mut slow_motion).codec = "HEVC".into();
        limits.check(&slow_motion).unwrap();
        let mut anamorphic = clip();
        video(&mut anamorphic).sample_aspect_ratio = Some((4, 3));
        anamorphic.duration_seconds = Some(600.0);
        anamorphic.stream_count = 8;
        limits.check(&anamorphic).unwrap();
        let mut unknown = clip();
        unknown.duration_seconds = None;
        video(&mut unknown).frame_rate = None;
        video(&mut unknown).sample_aspect_ratio = Some((0, 1));
        limits.check(&unknown).unwrap();
    }

    #[test]
    fn each_limit_refuses_with_a_reason_naming_the_value_and_the_limit() {
        type Change = Box<dyn FnOnce(&mut MediaInfo)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|i| (video(i).width, video(i).height) = (7680, 4320)),
                "7680x4320: at most 4096 pixels a side",
            ),
            (
                Box::new(|i| (video(i).width, video(i).height) = (4096, 4096)),
                "(16.8 megapixels): at most 8.9 megapixels",
            ),
            (
                Box::new(|i| video(i).frame_rate = Some(1000.0)),
                "1000 frames per second: at most 240",
            ),
            (
                Box::new(|i| i.duration_seconds = Some(725.0)),
                "lasts 12 min 5 s: at most 10 min",
            ),
            (Box::new(|i| i.stream_count = 9), "9 streams: at most 8"),
            (
                Box::new(|i| video(i).sample_aspect_ratio = Some((100, 1))),
                "stretched 100:1: at most 4:1",
            ),
            (
                Box::new(|i| video(i).sample_aspect_ratio = Some((1, 5))),
                "stretched 1:5",
            ),
            (
                Box::new(|i| video(i).codec = "png".into()),
                "codec png is not accepted (accepted: h264, hevc",
            ),
        ];
        for (change, expected) in cases {
            let reason = refused(change);
            assert!(reason.contains(expected), "{reason:?} lacks {expected:?}");
        }
    }

    #[test]
    fn the_container_and_video_stream_rule_comes_first() {
        let reason = refused(|i| {
            i.container = Container::Other("matroska,webm".into());
            i.stream_count = 100;
        });
        assert!(reason.contains("not an MP4 or MOV"), "{reason}");
        assert!(refused(|i| i.video = None).contains("no video stream"));
    }

    #[test]
    fn limits_are_configurable_and_read_with_defaults_for_what_is_missing() {
        let limits: MediaLimits =
            serde_json::from_str(r#"{"max_duration_seconds": 1.5, "video_codecs": ["h264"]}"#)
                .unwrap();
        assert_eq!(limits.max_side, 4096);
        let mut info = clip();
        info.duration_seconds = Some(2.0);
        let reason = limits.check(&info).unwrap_err();
        assert!(reason.contains("lasts 2 s: at most 1.5 s"), "{reason}");
        video(&mut info).codec = "hevc".into();
        info.duration_seconds = Some(1.0);
        assert!(limits.check(&info).unwrap_err().contains("hevc"));
    }
}
