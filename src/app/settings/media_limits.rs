//! The media limits uploads must fit (`media_*` settings) and the worker's attempt ceiling
//! (`worker_max_attempts`).

use anb_domain::media::MediaLimits;
use anb_domain::RetryPolicy;
use anyhow::ensure;

use super::Raw;

/// The defaults of the `media_*` and `worker_max_attempts` settings, from the domain's.
pub(super) struct MediaDefaults {
    pub limits: MediaLimits,
    pub max_attempts: u32,
}

impl Default for MediaDefaults {
    fn default() -> Self {
        Self {
            limits: MediaLimits::default(),
            max_attempts: RetryPolicy::default().max_attempts,
        }
    }
}

impl Raw {
    /// The media limits, checked: every bound positive (a pixel aspect of at least 1), at
    /// least one codec. Codec names are kept in lower case.
    pub(super) fn media_limits(&self) -> anyhow::Result<MediaLimits> {
        ensure!(self.media_max_side > 0, "media_max_side must be at least 1");
        ensure!(
            self.media_max_pixels > 0,
            "media_max_pixels must be at least 1"
        );
        ensure!(
            self.media_max_fps.is_finite() && self.media_max_fps > 0.0,
            "media_max_fps must be a positive number"
        );
        ensure!(
            self.media_max_seconds.is_finite() && self.media_max_seconds > 0.0,
            "media_max_seconds must be a positive number"
        );
        ensure!(
            self.media_max_streams > 0,
            "media_max_streams must be at least 1"
        );
        ensure!(
            self.media_max_pixel_aspect.is_finite() && self.media_max_pixel_aspect >= 1.0,
            "media_max_pixel_aspect must be a number of at least 1"
        );
        ensure!(
            !self.media_video_codecs.is_empty(),
            "media_video_codecs must name at least one codec"
        );
        Ok(MediaLimits {
            max_side: self.media_max_side,
            max_pixels: self.media_max_pixels,
            max_frame_rate: self.media_max_fps,
            max_duration_seconds: self.media_max_seconds,
            max_streams: self.media_max_streams,
            max_pixel_aspect: self.media_max_pixel_aspect,
            video_codecs: self
                .media_video_codecs
                .iter()
                .map(|codec| codec.to_ascii_lowercase())
                .collect(),
        })
    }

    /// The worker's attempt ceiling, checked (at least 1).
    pub(super) fn worker_max_attempts(&self) -> anyhow::Result<u32> {
        ensure!(
            self.worker_max_attempts > 0,
            "worker_max_attempts must be at least 1"
        );
        Ok(self.worker_max_attempts)
    }
}
