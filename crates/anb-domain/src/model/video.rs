//! Videos, their processing status and the transitions between statuses.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::blob::BlobKey;
use crate::ids::{UserId, VideoId};
use crate::user::PlayerSummary;
use crate::values::{Description, Tags, VideoTitle};

/// Where a video is in the processing pipeline.
///
/// `uploaded` → `processing` → `processed` | `failed` (with a reason).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VideoStatus {
    /// Stored and waiting for a worker.
    Uploaded,
    /// A worker holds it.
    Processing,
    /// Trimmed, fitted, stamped and encoded; ready to watch.
    Processed,
    /// Processing gave up; `reason` is for the player.
    Failed {
        /// Human-readable cause (e.g. "the file has no video stream").
        reason: String,
    },
}

impl VideoStatus {
    /// The contract's status name: `uploaded`, `processing`, `processed`, `failed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Uploaded => "uploaded",
            Self::Processing => "processing",
            Self::Processed => "processed",
            Self::Failed { .. } => "failed",
        }
    }

    /// The failure reason, when failed.
    pub fn failure_reason(&self) -> Option<&str> {
        match self {
            Self::Failed { reason } => Some(reason),
            _ => None,
        }
    }
}

impl fmt::Display for VideoStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far processing has got, as the worker reports it while it runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcessingProgress {
    /// Percent done, `0..=100`.
    pub percent: f64,
    /// Seconds left at the pace so far; `None` until there is a pace to go by.
    pub eta_seconds: Option<f64>,
}

impl ProcessingProgress {
    /// Where a video stands when a worker takes it.
    pub const STARTED: Self = Self {
        percent: 0.0,
        eta_seconds: None,
    };

    /// The progress of a run that has written `done` of `total` seconds of output in
    /// `elapsed_seconds` of wall time: the ETA assumes the pace so far holds, and is given once
    /// 1% is done.
    ///
    /// ```
    /// use anb_domain::video::ProcessingProgress;
    ///
    /// let p = ProcessingProgress::estimate(5.0, 20.0, 2.0);
    /// assert_eq!(p.percent, 25.0);
    /// assert_eq!(p.eta_seconds, Some(6.0));
    /// assert_eq!(ProcessingProgress::estimate(0.0, 20.0, 1.0).eta_seconds, None);
    /// ```
    pub fn estimate(done: f64, total: f64, elapsed_seconds: f64) -> Self {
        let fraction = if total > 0.0 {
            (done / total).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let eta_seconds = (fraction >= 0.01)
            .then(|| (elapsed_seconds.max(0.0) * (1.0 - fraction) / fraction).max(0.0));
        Self {
            percent: (fraction * 1000.0).round() / 10.0,
            eta_seconds: eta_seconds.map(|s| (s * 10.0).round() / 10.0),
        }
    }
}

/// The outputs of a successful processing run, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessedMedia {
    /// The web-ready MP4.
    pub processed: BlobKey,
    /// The JPEG thumbnail.
    pub thumbnail: BlobKey,
    /// The HLS master playlist, when the profile makes a ladder.
    pub stream: Option<BlobKey>,
    /// The storyboard's WebVTT cues (the sprite beside them), when the profile makes one.
    pub storyboard: Option<BlobKey>,
    /// Duration of the processed video, in seconds.
    pub duration_seconds: f64,
}

/// A change of processing status. The domain decides which changes are allowed from which status
/// ([`StatusChange::allowed_from`]); repositories apply them atomically, refusing a change whose
/// precondition no longer holds.
#[derive(Clone, Debug, PartialEq)]
pub enum StatusChange {
    /// A worker took the job. Allowed from `uploaded`, and from `processing` (a redelivery after a
    /// worker died holding it). Names the attempt, for the audit trail.
    StartProcessing(crate::event::Attempt),
    /// Processing succeeded. Allowed from `processing` only. Records the outputs and
    /// `processed_at`; a public video becomes published for voting (`published_at` set).
    Complete(ProcessedMedia),
    /// Processing again (after a profile change) succeeded. Allowed from `processed` only.
    /// Replaces the outputs and `processed_at`; the status and publication stay.
    Reprocessed(ProcessedMedia),
    /// Processing gave up. Allowed from `uploaded` and `processing`.
    Fail {
        /// Human-readable cause.
        reason: String,
    },
}

impl StatusChange {
    /// The processing attempt it starts, if it starts one.
    pub fn attempt(&self) -> Option<&crate::event::Attempt> {
        match self {
            Self::StartProcessing(attempt) => Some(attempt),
            _ => None,
        }
    }

    /// Whether this change may be applied to a video in `status`.
    pub fn allowed_from(&self, status: &VideoStatus) -> bool {
        use VideoStatus as S;
        match self {
            Self::StartProcessing(_) => matches!(status, S::Uploaded | S::Processing),
            Self::Complete(_) => matches!(status, S::Processing),
            Self::Reprocessed(_) => matches!(status, S::Processed),
            Self::Fail { .. } => matches!(status, S::Uploaded | S::Processing),
        }
    }
}

/// Why a video cannot be deleted ([`Video::check_deletable`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Undeletable {
    /// It has votes.
    #[error("the video has votes")]
    HasVotes,
    /// It is published for voting (processed and public).
    #[error("the video is published")]
    Published,
}

/// A stored video.
#[derive(Clone, Debug, PartialEq)]
pub struct Video {
    /// Identity.
    pub id: VideoId,
    /// The player who uploaded it.
    pub owner_id: UserId,
    /// Title.
    pub title: VideoTitle,
    /// Optional description.
    pub description: Option<Description>,
    /// Tags for search.
    pub tags: Tags,
    /// Processing status.
    pub status: VideoStatus,
    /// The owner wants it in the public gallery (it is shown and votable once processed).
    pub is_public: bool,
    /// Size of the original upload in bytes.
    pub size_bytes: u64,
    /// Where the original is stored.
    pub original: BlobKey,
    /// Where the processed MP4 is stored, once processed.
    pub processed: Option<BlobKey>,
    /// Where the thumbnail is stored, once processed.
    pub thumbnail: Option<BlobKey>,
    /// Where the HLS master playlist is stored, once processed with a ladder.
    pub stream: Option<BlobKey>,
    /// Where the storyboard's cues are stored, once processed with a storyboard.
    pub storyboard: Option<BlobKey>,
    /// How far processing has got, while `processing` (`None` otherwise).
    pub progress: Option<ProcessingProgress>,
    /// Processed duration in seconds.
    pub duration_seconds: Option<f64>,
    /// Upload time.
    pub uploaded_at: DateTime<Utc>,
    /// When the status last changed (the upload time, until a worker takes it). A video left
    /// `uploaded` or `processing` long past this is stuck: see
    /// [`Showcase::requeue_stuck`](crate::Showcase::requeue_stuck).
    pub status_changed_at: DateTime<Utc>,
    /// When processing finished (successfully or not).
    pub processed_at: Option<DateTime<Utc>>,
    /// When it was last published for voting (processed and public); `None` while not published.
    pub published_at: Option<DateTime<Utc>>,
    /// Votes received (a counter kept in step with each vote).
    pub votes: u64,
}

impl Video {
    /// A new upload: status `uploaded`, no votes.
    #[allow(clippy::too_many_arguments)]
    pub fn uploaded(
        id: VideoId,
        owner_id: UserId,
        title: VideoTitle,
        description: Option<Description>,
        tags: Tags,
        is_public: bool,
        original: BlobKey,
        size_bytes: u64,
        uploaded_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            owner_id,
            title,
            description,
            tags,
            status: VideoStatus::Uploaded,
            is_public,
            size_bytes,
            original,
            processed: None,
            thumbnail: None,
            stream: None,
            storyboard: None,
            progress: None,
            duration_seconds: None,
            uploaded_at,
            status_changed_at: uploaded_at,
            processed_at: None,
            published_at: None,
            votes: 0,
        }
    }

    /// Records the outputs of a processing run.
    fn set_outputs(&mut self, media: &ProcessedMedia) {
        self.processed = Some(media.processed.clone());
        self.thumbnail = Some(media.thumbnail.clone());
        self.stream.clone_from(&media.stream);
        self.storyboard.clone_from(&media.storyboard);
        self.duration_seconds = Some(media.duration_seconds);
    }

    /// Processed and public: shown in the gallery and open for voting. Such a video cannot be deleted.
    pub fn is_published(&self) -> bool {
        self.is_public && self.status == VideoStatus::Processed
    }

    /// The deletion rule, which every repository applies under its lock on the video: votes are
    /// never thrown away, and a published video is unpublished before it is deleted.
    ///
    /// # Errors
    /// [`Undeletable::HasVotes`], then [`Undeletable::Published`].
    pub fn check_deletable(&self) -> Result<(), Undeletable> {
        if self.votes > 0 {
            Err(Undeletable::HasVotes)
        } else if self.is_published() {
            Err(Undeletable::Published)
        } else {
            Ok(())
        }
    }

    /// Applies a status change, or says it is not allowed from the current status, stamping
    /// `status_changed_at` with `at` (a redelivery's `StartProcessing` too: a worker just took it).
    /// Repositories without transactions of their own (the in-memory one) use this directly;
    /// SQL ones encode the same rule in a conditional `UPDATE`.
    ///
    /// # Errors
    /// The current status, when `change` is not allowed from it.
    pub fn apply(&self, change: &StatusChange, at: DateTime<Utc>) -> Result<Video, VideoStatus> {
        if !change.allowed_from(&self.status) {
            return Err(self.status.clone());
        }
        let mut next = self.clone();
        next.status_changed_at = at;
        match change {
            StatusChange::StartProcessing(_) => {
                next.status = VideoStatus::Processing;
                next.progress = Some(ProcessingProgress::STARTED);
            }
            StatusChange::Complete(media) => {
                next.status = VideoStatus::Processed;
                next.progress = None;
                next.set_outputs(media);
                next.processed_at = Some(at);
                if next.is_public {
                    next.published_at = Some(at);
                }
            }
            StatusChange::Reprocessed(media) => {
                next.set_outputs(media);
                next.processed_at = Some(at);
            }
            StatusChange::Fail { reason } => {
                next.progress = None;
                next.status = VideoStatus::Failed {
                    reason: reason.clone(),
                };
                next.processed_at = Some(at);
            }
        }
        Ok(next)
    }

    /// Sets the public flag. Publishing a processed video stamps `published_at` (unless it was
    /// already published); unpublishing clears it.
    ///
    /// # Errors
    /// The current status, when the video is not processed.
    pub fn with_visibility(&self, public: bool, at: DateTime<Utc>) -> Result<Video, VideoStatus> {
        if self.status != VideoStatus::Processed {
            return Err(self.status.clone());
        }
        let mut next = self.clone();
        next.is_public = public;
        next.published_at = match (public, self.published_at) {
            (true, Some(already)) => Some(already),
            (true, None) => Some(at),
            (false, _) => None,
        };
        Ok(next)
    }
}

/// A published video with its player, as the public gallery shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicVideo {
    /// The video.
    pub video: Video,
    /// Its player.
    pub player: PlayerSummary,
}

/// Order of the public gallery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicSort {
    /// Most votes first; ties by most recently published, then id.
    #[default]
    Votes,
    /// Most recently published first; ties by id.
    Recent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(status: VideoStatus) -> Video {
        let mut v = Video::uploaded(
            VideoId::new(),
            UserId::new(),
            VideoTitle::new("t").unwrap(),
            None,
            Tags::default(),
            true,
            BlobKey::new("uploads/x.mp4").unwrap(),
            1,
            Utc::now(),
        );
        v.status = status;
        v
    }

    fn media() -> ProcessedMedia {
        ProcessedMedia {
            processed: BlobKey::new("processed/x.mp4").unwrap(),
            thumbnail: BlobKey::new("thumbnails/x.jpg").unwrap(),
            stream: None,
            storyboard: None,
            duration_seconds: 20.0,
        }
    }

    #[test]
    fn a_video_with_votes_or_published_is_not_deletable_votes_first() {
        assert_eq!(video(VideoStatus::Uploaded).check_deletable(), Ok(()));
        let mut published = video(VideoStatus::Processed);
        assert_eq!(published.check_deletable(), Err(Undeletable::Published));
        published.votes = 1;
        assert_eq!(published.check_deletable(), Err(Undeletable::HasVotes));
        let mut private = video(VideoStatus::Processed);
        private.is_public = false;
        assert_eq!(private.check_deletable(), Ok(()));
        private.votes = 2;
        assert_eq!(private.check_deletable(), Err(Undeletable::HasVotes));
    }

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        use VideoStatus as S;
        let failed = S::Failed { reason: "x".into() };
        let cases = [
            (
                StatusChange::StartProcessing(Default::default()),
                [true, true, false, false],
            ),
            (StatusChange::Complete(media()), [false, true, false, false]),
            (
                StatusChange::Reprocessed(media()),
                [false, false, true, false],
            ),
            (
                StatusChange::Fail { reason: "r".into() },
                [true, true, false, false],
            ),
        ];
        for (change, expected) in cases {
            let got: Vec<bool> = [S::Uploaded, S::Processing, S::Processed, failed.clone()]
                .iter()
                .map(|s| change.allowed_from(s))
                .collect();
            assert_eq!(got, expected, "{change:?}");
        }
    }

    #[test]
    fn processing_again_replaces_the_outputs_and_keeps_the_publication() {
        let first = Utc::now();
        let published = video(VideoStatus::Processing)
            .apply(&StatusChange::Complete(media()), first)
            .unwrap();
        let later = first + chrono::Duration::seconds(60);
        let mut again = media();
        again.duration_seconds = 12.5;
        again.stream = Some(BlobKey::new("streams/x/hls/master.m3u8").unwrap());
        let redone = published
            .apply(&StatusChange::Reprocessed(again), later)
            .unwrap();
        assert_eq!(redone.status, VideoStatus::Processed);
        assert_eq!(
            redone.published_at,
            Some(first),
            "still published since then"
        );
        assert_eq!(redone.processed_at, Some(later));
        assert_eq!(redone.duration_seconds, Some(12.5));
        assert!(redone.stream.is_some());
    }

    #[test]
    fn completing_a_public_video_publishes_it() {
        let at = Utc::now();
        let done = video(VideoStatus::Processing)
            .apply(&StatusChange::Complete(media()), at)
            .unwrap();
        assert!(done.is_published());
        assert_eq!(done.published_at, Some(at));
        assert_eq!(done.processed_at, Some(at));
    }

    #[test]
    fn every_status_change_stamps_its_time_and_a_visibility_change_does_not() {
        let v = video(VideoStatus::Uploaded);
        let later = v.uploaded_at + chrono::Duration::minutes(5);
        let started = v
            .apply(&StatusChange::StartProcessing(Default::default()), later)
            .unwrap();
        assert_eq!(started.status_changed_at, later);
        let done = started
            .apply(
                &StatusChange::Complete(media()),
                later + chrono::Duration::minutes(1),
            )
            .unwrap();
        assert_eq!(done.status_changed_at, later + chrono::Duration::minutes(1));
        let hidden = done
            .with_visibility(false, later + chrono::Duration::minutes(2))
            .unwrap();
        assert_eq!(hidden.status_changed_at, done.status_changed_at);
    }

    #[test]
    fn visibility_changes_need_a_processed_video() {
        let v = video(VideoStatus::Uploaded);
        assert_eq!(
            v.with_visibility(true, Utc::now()),
            Err(VideoStatus::Uploaded)
        );
        let v = video(VideoStatus::Processed);
        let hidden = v.with_visibility(false, Utc::now()).unwrap();
        assert!(!hidden.is_published());
        assert_eq!(hidden.published_at, None);
    }
}
