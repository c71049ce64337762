//! Conversions on demand: an owner asks for another rendition of a processed video (an MP4 at
//! another height, the audio as MP3, an HLS ladder up to a height), and a worker makes it from
//! the kept original through the same queue, with the profile's rules (trim, fit, logo).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::blob::BlobKey;
use crate::ids::{RenditionId, UserId, VideoId};
use crate::media::{AudioPolicy, HlsLadder, OutputSet, Profile, Rung};
use crate::values::ValidationError;
use crate::video::ProcessingProgress;

/// What a rendition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenditionFormat {
    /// An MP4 (H.264 + AAC, fast start) at a height.
    Mp4,
    /// The sound alone, as MP3.
    Mp3,
    /// An HLS ladder (CMAF segments) whose top rung is at a height.
    Hls,
}

impl RenditionFormat {
    /// The name in the API and in storage: `mp4`, `mp3`, `hls`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::Mp3 => "mp3",
            Self::Hls => "hls",
        }
    }

    /// The format named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "mp4" => Some(Self::Mp4),
            "mp3" => Some(Self::Mp3),
            "hls" => Some(Self::Hls),
            _ => None,
        }
    }

    /// The file a finished rendition is read from, under its blob prefix: `video.mp4`,
    /// `audio.mp3`, `hls/master.m3u8`.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Mp4 => "video.mp4",
            Self::Mp3 => "audio.mp3",
            Self::Hls => "hls/master.m3u8",
        }
    }
}

impl fmt::Display for RenditionFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The heights a picture rendition may be asked at.
pub const RENDITION_HEIGHTS: [u32; 4] = [360, 480, 720, 1080];

/// The height a picture rendition gets when none is asked for.
pub const DEFAULT_RENDITION_HEIGHT: u32 = 720;

/// The bitrate cap of the 1920x1080 rung an HLS rendition at 1080 adds on top of the standard
/// ladder, in kbit/s.
const FULL_HD_KBPS: u32 = 5_000;

/// A validated request for a rendition: the format and, for pictures, the height.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RenditionRequest {
    format: RenditionFormat,
    height: Option<u32>,
}

impl RenditionRequest {
    /// Checks a request: an MP4 or HLS rendition is at one of [`RENDITION_HEIGHTS`]
    /// ([`DEFAULT_RENDITION_HEIGHT`] when none is given); an MP3 has no picture, so a height
    /// asked for it is ignored.
    ///
    /// ```
    /// use anb_domain::rendition::{RenditionFormat, RenditionRequest};
    ///
    /// let mp4 = RenditionRequest::new(RenditionFormat::Mp4, None).unwrap();
    /// assert_eq!(mp4.height(), Some(720));
    /// assert!(RenditionRequest::new(RenditionFormat::Mp4, Some(500)).is_err());
    /// let mp3 = RenditionRequest::new(RenditionFormat::Mp3, Some(720)).unwrap();
    /// assert_eq!(mp3.height(), None);
    /// ```
    ///
    /// # Errors
    /// [`ValidationError`] on `height`.
    pub fn new(format: RenditionFormat, height: Option<u32>) -> Result<Self, ValidationError> {
        let height = match (format, height) {
            (RenditionFormat::Mp3, _) => None,
            (_, None) => Some(DEFAULT_RENDITION_HEIGHT),
            (_, Some(h)) if RENDITION_HEIGHTS.contains(&h) => Some(h),
            (_, Some(_)) => {
                return Err(ValidationError::new(
                    "height",
                    format!("must be one of {RENDITION_HEIGHTS:?}"),
                ))
            }
        };
        Ok(Self { format, height })
    }

    /// The format.
    pub fn format(&self) -> RenditionFormat {
        self.format
    }

    /// The height (`None` for an MP3).
    pub fn height(&self) -> Option<u32> {
        self.height
    }
}

/// Where a rendition stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenditionStatus {
    /// Waiting for a worker.
    Pending,
    /// A worker is making it.
    Processing,
    /// Made: it can be downloaded or played.
    Ready,
    /// It could not be made; asking for it again tries again.
    Failed {
        /// Why, for the owner.
        reason: String,
    },
}

impl RenditionStatus {
    /// The name in the API and in storage: `pending`, `processing`, `ready`, `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed { .. } => "failed",
        }
    }

    /// Waiting or being made: what the limit on pending conversions counts.
    pub fn is_unfinished(&self) -> bool {
        matches!(self, Self::Pending | Self::Processing)
    }
}

impl fmt::Display for RenditionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rendition of a video, asked for by its owner.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendition {
    /// Identity.
    pub id: RenditionId,
    /// The video it renders.
    pub video_id: VideoId,
    /// The video's owner, who asked for it (the limit on pending conversions is theirs).
    pub owner_id: UserId,
    /// What it is.
    pub format: RenditionFormat,
    /// The height asked for (`None` for an MP3). A smaller source is never enlarged: its
    /// rendition keeps the source's own height.
    pub height: Option<u32>,
    /// Where it stands.
    pub status: RenditionStatus,
    /// How far the worker has got, while `processing`.
    pub progress: Option<ProcessingProgress>,
    /// Where the finished file is stored (the master playlist for HLS), once `ready`.
    pub output: Option<BlobKey>,
    /// When it was asked for (last, when asked again after a failure).
    pub requested_at: DateTime<Utc>,
    /// When it was made or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Rendition {
    /// A new request by `owner_id` for `video_id`, pending.
    pub fn requested(
        video_id: VideoId,
        owner_id: UserId,
        request: RenditionRequest,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: RenditionId::new(),
            video_id,
            owner_id,
            format: request.format,
            height: request.height,
            status: RenditionStatus::Pending,
            progress: None,
            output: None,
            requested_at: at,
            finished_at: None,
        }
    }

    /// Whether `other` is the same rendition of the same video (one of each is kept).
    pub fn same_as(&self, other: &Rendition) -> bool {
        self.video_id == other.video_id
            && self.format == other.format
            && self.height == other.height
    }

    /// The rendition after `change` at `at`.
    ///
    /// # Errors
    /// The current status, when the change is not allowed from it
    /// ([`RenditionChange::allowed_from`]).
    pub fn apply(
        &self,
        change: &RenditionChange,
        at: DateTime<Utc>,
    ) -> Result<Self, RenditionStatus> {
        if !change.allowed_from(&self.status) {
            return Err(self.status.clone());
        }
        let mut next = self.clone();
        match change {
            RenditionChange::Start => {
                next.status = RenditionStatus::Processing;
                next.progress = Some(ProcessingProgress::STARTED);
            }
            RenditionChange::Finish { output } => {
                next.status = RenditionStatus::Ready;
                next.output = Some(output.clone());
                next.progress = None;
                next.finished_at = Some(at);
            }
            RenditionChange::Fail { reason } => {
                next.status = RenditionStatus::Failed {
                    reason: reason.clone(),
                };
                next.progress = None;
                next.finished_at = Some(at);
            }
            RenditionChange::AskAgain => {
                next.status = RenditionStatus::Pending;
                next.output = None;
                next.requested_at = at;
                next.finished_at = None;
            }
        }
        Ok(next)
    }

    /// The profile that makes this rendition: `base`'s rules (trim, fit, logo, encoding) with
    /// only this rendition's output, for a source of `width`x`height` as displayed.
    /// Never an enlargement: an MP4 asked at a height the source does not fill is made at the
    /// source's own size (in the rendition's 16:9 box); an HLS ladder keeps the rungs the
    /// source fills ([`HlsLadder::rungs_for`]).
    ///
    /// ```
    /// use anb_domain::media::Profile;
    /// use anb_domain::rendition::{Rendition, RenditionFormat, RenditionRequest};
    /// use anb_domain::{UserId, VideoId};
    ///
    /// let ask = |format, height| {
    ///     let request = RenditionRequest::new(format, height).unwrap();
    ///     Rendition::requested(VideoId::new(), UserId::new(), request, chrono::Utc::now())
    /// };
    /// let base = Profile::showcase();
    /// let p = ask(RenditionFormat::Mp4, Some(480)).profile(&base, 1920, 1080).unwrap();
    /// assert_eq!((p.width, p.height), (854, 480));
    /// assert!(p.outputs.mp4 && !p.outputs.thumbnail && p.outputs.hls.is_none());
    /// // A 360p source asked for 1080p keeps its own size.
    /// let small = ask(RenditionFormat::Mp4, Some(1080)).profile(&base, 640, 360).unwrap();
    /// assert_eq!((small.width, small.height), (640, 360));
    /// let hls = ask(RenditionFormat::Hls, Some(1080)).profile(&base, 1920, 1080).unwrap();
    /// let heights: Vec<u32> = hls.outputs.hls.unwrap().rungs.iter().map(|r| r.height).collect();
    /// assert_eq!(heights, [1080, 720, 480, 360]);
    /// ```
    ///
    /// # Errors
    /// Why it cannot be made, for the owner: an MP3 from a profile that keeps no sound.
    pub fn profile(&self, base: &Profile, width: u32, height: u32) -> Result<Profile, String> {
        let mut profile = base.clone();
        match self.format {
            RenditionFormat::Mp3 => {
                if base.audio == AudioPolicy::Remove {
                    return Err(
                        "this showcase keeps no sound, so there is no MP3 to make".to_owned()
                    );
                }
                profile.outputs = OutputSet {
                    mp3: true,
                    ..OutputSet::none()
                };
            }
            RenditionFormat::Mp4 => {
                let asked = sixteen_by_nine(self.height.unwrap_or(DEFAULT_RENDITION_HEIGHT));
                let fitted = HlsLadder {
                    rungs: vec![asked],
                    segment_seconds: 2.0,
                }
                .rungs_for(width, height);
                let size = fitted.first().copied().unwrap_or(asked);
                profile.width = size.width;
                profile.height = size.height;
                profile.outputs = OutputSet {
                    mp4: true,
                    ..OutputSet::none()
                };
            }
            RenditionFormat::Hls => {
                let top = self.height.unwrap_or(DEFAULT_RENDITION_HEIGHT);
                let mut ladder = HlsLadder::standard();
                if top > 720 {
                    ladder.rungs.insert(
                        0,
                        Rung {
                            max_kbps: FULL_HD_KBPS,
                            ..sixteen_by_nine(top)
                        },
                    );
                }
                ladder.rungs.retain(|rung| rung.height <= top);
                let first = ladder
                    .rungs
                    .first()
                    .copied()
                    .unwrap_or(sixteen_by_nine(top));
                profile.width = first.width;
                profile.height = first.height;
                profile.outputs = OutputSet {
                    hls: Some(ladder),
                    ..OutputSet::none()
                };
            }
        }
        Ok(profile)
    }
}

/// The 16:9 box `height` pixels high (even width): 1280x720, 854x480, …
fn sixteen_by_nine(height: u32) -> Rung {
    let width = (height * 16 / 9).div_ceil(2) * 2;
    Rung {
        width,
        height,
        max_kbps: 0,
    }
}

/// A change of a rendition's status; the domain decides which are allowed from which status,
/// repositories apply them atomically.
#[derive(Clone, Debug, PartialEq)]
pub enum RenditionChange {
    /// A worker took it: from `pending`, or `processing` (a redelivery after a worker died).
    Start,
    /// It was made: from `processing`.
    Finish {
        /// Where it is stored.
        output: BlobKey,
    },
    /// It could not be made: from `pending` or `processing`.
    Fail {
        /// Why, for the owner.
        reason: String,
    },
    /// Its owner asked for it again after it failed: from `failed`.
    AskAgain,
}

impl RenditionChange {
    /// Whether this change may be applied to a rendition in `status`.
    pub fn allowed_from(&self, status: &RenditionStatus) -> bool {
        use RenditionStatus as S;
        match self {
            Self::Start => matches!(status, S::Pending | S::Processing),
            Self::Finish { .. } => matches!(status, S::Processing),
            Self::Fail { .. } => matches!(status, S::Pending | S::Processing),
            Self::AskAgain => matches!(status, S::Failed { .. }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(format: RenditionFormat, height: Option<u32>) -> Rendition {
        let request = RenditionRequest::new(format, height).unwrap();
        Rendition::requested(VideoId::new(), UserId::new(), request, Utc::now())
    }

    #[test]
    fn the_sixteen_by_nine_boxes_are_the_ladders_sizes() {
        let sizes: Vec<(u32, u32)> = RENDITION_HEIGHTS
            .iter()
            .map(|&h| {
                let r = sixteen_by_nine(h);
                (r.width, r.height)
            })
            .collect();
        assert_eq!(sizes, [(640, 360), (854, 480), (1280, 720), (1920, 1080)]);
    }

    #[test]
    fn a_rendition_goes_pending_processing_ready_and_a_failed_one_may_be_asked_again() {
        let now = Utc::now();
        let r = pending(RenditionFormat::Mp4, None);
        let key = BlobKey::new("renditions/x/video.mp4").unwrap();
        assert!(r
            .apply(
                &RenditionChange::Finish {
                    output: key.clone()
                },
                now
            )
            .is_err());
        let started = r.apply(&RenditionChange::Start, now).unwrap();
        assert_eq!(started.progress, Some(ProcessingProgress::STARTED));
        let again = started.apply(&RenditionChange::Start, now).unwrap();
        let ready = again
            .apply(
                &RenditionChange::Finish {
                    output: key.clone(),
                },
                now,
            )
            .unwrap();
        assert_eq!(ready.status, RenditionStatus::Ready);
        assert_eq!((ready.output, ready.progress), (Some(key), None));
        let failed = pending(RenditionFormat::Mp3, None)
            .apply(
                &RenditionChange::Fail {
                    reason: "no sound".into(),
                },
                now,
            )
            .unwrap();
        assert!(!failed.status.is_unfinished());
        assert_eq!(
            failed
                .apply(&RenditionChange::AskAgain, now)
                .unwrap()
                .status,
            RenditionStatus::Pending
        );
        assert!(r.apply(&RenditionChange::AskAgain, now).is_err());
    }

    #[test]
    fn an_mp3_from_a_profile_without_sound_cannot_be_made() {
        let error = pending(RenditionFormat::Mp3, None)
            .profile(&Profile::anb_course(), 1280, 720)
            .unwrap_err();
        assert!(error.contains("no sound"), "{error}");
    }

    #[test]
    fn an_hls_rendition_keeps_the_standard_rungs_up_to_its_height() {
        let hls = pending(RenditionFormat::Hls, Some(480))
            .profile(&Profile::showcase(), 1920, 1080)
            .unwrap();
        let ladder = hls.outputs.hls.unwrap();
        let heights: Vec<u32> = ladder.rungs.iter().map(|r| r.height).collect();
        assert_eq!(heights, [480, 360]);
        assert_eq!((hls.width, hls.height), (854, 480));
        assert!(!hls.outputs.mp4 && !hls.outputs.thumbnail && hls.outputs.storyboard.is_none());
    }
}
