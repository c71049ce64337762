//! The fan-out: every filtered frame (at the profile's size, logo stamped) goes once through
//! here to every encode (scaled down for the smaller rungs). Each encode runs in a [`Lane`] of
//! its own with the muxers that carry its packets: the MP4 and the HLS rung of the same size
//! share one. The storyboard samples the same frames.

use std::path::Path;

use anb_domain::media::{HlsLadder, Profile, Rung};
use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, codec, format, frame, picture, software::scaling, Packet, Rational};

use super::lane::{AudioFault, Encode, Lane};
use super::muxer::{Muxer, Track};
use super::storyboard::StoryboardSampler;
use super::timing::{positive, seconds};
use super::video::{EncoderSettings, VideoEncoder};
use super::{bad, fault};

/// A running lane and, when its pictures are smaller than the fan-out's, the scaler that
/// makes them.
struct Feed {
    lane: Lane,
    scaler: Option<scaling::Context>,
}

/// The outputs of a run that take frames and packets.
pub(crate) struct Fanout {
    time_base: Rational,
    next_pts: i64,
    frames: u64,
    /// Keyframes are forced at every multiple of this many timeline units (streaming only).
    keyframe_every: Option<i64>,
    next_keyframe: i64,
    /// The encodes, until [`start`](Self::start) hands them to their lanes.
    encodes: Vec<Encode>,
    feeds: Vec<Feed>,
    storyboard: Option<StoryboardSampler>,
}

/// An encode to set up: its size, its bitrate cap and the muxers it feeds.
struct Planned {
    width: u32,
    height: u32,
    max_kbps: Option<u32>,
    muxers: Vec<Muxer>,
}

impl Fanout {
    /// Sets up the encoders and muxers: the MP4 at `mp4` (when given) and one HLS rung per
    /// entry of `rungs` in `hls_dir/{rung}/` (the ladder's keyframe interval applies to every
    /// encoder then, so the MP4 and the rungs share the one at the profile's size).
    pub(crate) fn open(
        profile: &Profile,
        fps: Rational,
        mp4: Option<&Path>,
        ladder: Option<(&HlsLadder, &[Rung], &Path)>,
        storyboard: Option<StoryboardSampler>,
    ) -> Result<Self, TranscodeError> {
        let time_base = fps.invert();
        let gop = ladder.map(|(ladder, _, _)| {
            (ladder.segment_seconds * positive(fps).unwrap_or(30.0))
                .round()
                .max(1.0) as u32
        });
        let mut planned: Vec<Planned> = Vec::new();
        if let Some(path) = mp4 {
            let max_kbps = ladder.and_then(|(_, rungs, _)| {
                rungs
                    .iter()
                    .find(|r| (r.width, r.height) == (profile.width, profile.height))
                    .map(|r| r.max_kbps)
            });
            let max_kbps = match (ladder, max_kbps) {
                // Streaming without a rung at this size: cap it like the largest rung.
                (Some((ladder, _, _)), None) => ladder.rungs.iter().map(|r| r.max_kbps).max(),
                (_, found) => found,
            };
            planned.push(Planned {
                width: profile.width,
                height: profile.height,
                max_kbps,
                muxers: vec![Muxer::mp4(path)?],
            });
        }
        if let Some((ladder, rungs, dir)) = ladder {
            for rung in rungs {
                let rung_dir = dir.join(rung.name());
                std::fs::create_dir_all(&rung_dir).map_err(|e| {
                    TranscodeError::Unexpected(
                        anyhow::Error::new(e).context("creating an HLS rung directory"),
                    )
                })?;
                let muxer = Muxer::hls(&rung_dir, ladder.segment_seconds)?;
                if mp4.is_some() && (rung.width, rung.height) == (profile.width, profile.height) {
                    // The MP4's encode (the first) feeds this rung too.
                    planned[0].muxers.push(muxer);
                } else {
                    planned.push(Planned {
                        width: rung.width,
                        height: rung.height,
                        max_kbps: Some(rung.max_kbps),
                        muxers: vec![muxer],
                    });
                }
            }
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let total_pixels: u64 = planned.iter().map(|p| pixels(p.width, p.height)).sum();
        let mut encodes = Vec::with_capacity(planned.len());
        for plan in planned {
            let settings = EncoderSettings {
                width: plan.width,
                height: plan.height,
                preset: profile.video.preset.clone(),
                crf: profile.video.crf,
                streaming: gop.zip(plan.max_kbps),
                threads: x264_threads(cores, plan.width, plan.height, total_pixels),
            };
            let encoder = VideoEncoder::open(&settings, fps)?;
            let mut muxers = plan.muxers;
            for muxer in &mut muxers {
                muxer.add(Track::Video, encoder.parameters(), time_base, Some(fps))?;
            }
            encodes.push(Encode { encoder, muxers });
        }
        Ok(Self {
            time_base,
            next_pts: 0,
            frames: 0,
            keyframe_every: gop.map(i64::from),
            next_keyframe: 0,
            encodes,
            feeds: Vec::new(),
            storyboard,
        })
    }

    /// Whether any muxer takes sound.
    pub(crate) fn wants_audio(&self) -> bool {
        self.encodes.iter().any(|encode| !encode.muxers.is_empty())
    }

    /// Adds an audio stream to every muxer; its packets will arrive in `time_base`.
    pub(crate) fn add_audio(
        &mut self,
        parameters: &codec::Parameters,
        time_base: Rational,
    ) -> Result<(), TranscodeError> {
        for muxer in self.encodes.iter_mut().flat_map(|e| e.muxers.iter_mut()) {
            muxer.add(Track::Audio, parameters.clone(), time_base, None)?;
        }
        Ok(())
    }

    /// Writes every muxer's header (after the streams are added) and starts the lanes.
    pub(crate) fn start(&mut self) -> Result<(), TranscodeError> {
        for encode in &mut self.encodes {
            encode.muxers.iter_mut().try_for_each(Muxer::write_header)?;
        }
        for encode in std::mem::take(&mut self.encodes) {
            self.feeds.push(Feed {
                lane: Lane::start(encode)?,
                scaler: None,
            });
        }
        Ok(())
    }

    /// The timeline's time base (`1/fps`).
    pub(crate) fn time_base(&self) -> Rational {
        self.time_base
    }

    /// Frames sent so far.
    pub(crate) fn frames(&self) -> u64 {
        self.frames
    }

    /// Seconds of output so far.
    pub(crate) fn seconds(&self) -> f64 {
        seconds(self.next_pts, self.time_base)
    }

    /// Moves the timeline forward to `pts` when it is ahead (a clip whose picture starts after
    /// its sound keeps that gap).
    pub(crate) fn skip_to(&mut self, pts: i64) {
        self.next_pts = self.next_pts.max(pts);
    }

    /// Sends `frame` at the next timestamp to the storyboard and every lane (after
    /// [`start`](Self::start)): a scaled picture to the smaller ones, the frame itself to the
    /// one at its size.
    pub(crate) fn encode(&mut self, mut frame: frame::Video) -> Result<(), TranscodeError> {
        let pts = self.next_pts;
        self.next_pts += 1;
        self.frames += 1;
        // The source's picture types must not steer x264; the streaming keyframes must.
        let keyframe = self.keyframe_every.is_some_and(|every| {
            let due = pts >= self.next_keyframe;
            if due {
                self.next_keyframe = (pts / every + 1) * every;
            }
            due
        });
        let kind = if keyframe {
            picture::Type::I
        } else {
            picture::Type::None
        };
        frame.set_kind(kind);
        frame.set_pts(Some(pts));
        if let Some(storyboard) = self.storyboard.as_mut() {
            storyboard.offer(&frame, seconds(pts, self.time_base))?;
        }
        let mut full_size = Vec::new();
        for (i, feed) in self.feeds.iter_mut().enumerate() {
            let (width, height) = feed.lane.size();
            if (width, height) == (frame.width(), frame.height()) {
                full_size.push(i);
                continue;
            }
            let scaler = match &mut feed.scaler {
                Some(scaler) => scaler,
                None => feed.scaler.insert(
                    scaling::Context::get(
                        frame.format(),
                        frame.width(),
                        frame.height(),
                        format::Pixel::YUV420P,
                        width,
                        height,
                        scaling::Flags::BICUBIC,
                    )
                    .map_err(fault("preparing a rung's scaler"))?,
                ),
            };
            let mut scaled = frame::Video::empty();
            scaler
                .run(&frame, &mut scaled)
                .map_err(fault("scaling a rung"))?;
            scaled.set_pts(Some(pts));
            scaled.set_kind(kind);
            feed.lane.frame(scaled)?;
        }
        if let Some((&last, others)) = full_size.split_last() {
            for &i in others {
                self.feeds[i].lane.frame(frame.clone())?;
            }
            self.feeds[last].lane.frame(frame)?;
        }
        Ok(())
    }

    /// Writes one audio packet (in the time base given to [`add_audio`](Self::add_audio)) to
    /// every muxer (after [`start`](Self::start)); a failed write is reported with `on_error`,
    /// now or by a later call.
    pub(crate) fn write_audio(
        &mut self,
        packet: &Packet,
        on_error: AudioFault,
    ) -> Result<(), TranscodeError> {
        for feed in &mut self.feeds {
            feed.lane.audio(packet.clone(), on_error)?;
        }
        Ok(())
    }

    /// Flushes the encoders and finishes every muxer; returns the storyboard, if any.
    pub(crate) fn finish(mut self) -> Result<Option<StoryboardSampler>, TranscodeError> {
        for feed in &mut self.feeds {
            feed.lane.end()?;
        }
        for feed in std::mem::take(&mut self.feeds) {
            feed.lane.wait()?;
        }
        Ok(self.storyboard)
    }
}

/// A picture's area.
fn pixels(width: u32, height: u32) -> u64 {
    u64::from(width) * u64::from(height)
}

/// x264 threads for an encode of `width`x`height` among encodes of `total_pixels`: the
/// encodes share half of the `cores` (the decoder and the filters take the other half) in
/// proportion to their pictures' areas, at least one thread each. Every encode already runs
/// on a thread of its own ([`Lane`]), beside the decoder and the other encodes; x264's frame
/// threads beyond that spend CPU time keeping each other in step (on 2 cores, its default of
/// about 1.5 frame threads per core for each encode took 4-13% more CPU time for the same
/// pictures). That holds for an encode alone too (the MP4 without the ladder): on 2 cores,
/// 2 x264 threads instead of 1 took about 8% more CPU time (the same instructions, by
/// callgrind) and made the run slower, not faster, although its one x264 thread paces the run.
fn x264_threads(cores: usize, width: u32, height: u32, total_pixels: u64) -> u32 {
    let share = pixels(width, height) as f64 / total_pixels.max(1) as f64;
    ((cores as f64 / 2.0 * share).round() as u32).max(1)
}

/// Maps a muxer's refusal of copied audio to bad media (the input's timestamps), other
/// failures to faults.
pub(crate) fn audio_write_error(e: ff::Error) -> TranscodeError {
    match e {
        ff::Error::Other { errno } if errno == ff::error::EINVAL => {
            bad("the sound track's timing is broken")(e)
        }
        other => encoded_audio_write_error(other),
    }
}

/// Maps a muxer's refusal of encoded audio (ours) to a fault.
pub(crate) fn encoded_audio_write_error(e: ff::Error) -> TranscodeError {
    fault("writing audio")(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_two_cores_every_encode_gets_one_x264_thread() {
        let mp4 = pixels(1280, 720);
        assert_eq!(x264_threads(2, 1280, 720, mp4), 1);
        let ladder = mp4 + pixels(854, 480) + pixels(640, 360);
        for (w, h) in [(1280, 720), (854, 480), (640, 360)] {
            assert_eq!(x264_threads(2, w, h, ladder), 1);
        }
        assert_eq!(x264_threads(1, 1280, 720, mp4), 1);
    }

    #[test]
    fn on_more_cores_the_encodes_share_half_of_them_by_picture_area() {
        let mp4 = pixels(1280, 720);
        assert_eq!(x264_threads(8, 1280, 720, mp4), 4);
        let ladder = mp4 + pixels(854, 480) + pixels(640, 360);
        let threads: Vec<u32> = [(1280, 720), (854, 480), (640, 360)]
            .iter()
            .map(|&(w, h)| x264_threads(8, w, h, ladder))
            .collect();
        assert_eq!(threads, [2, 1, 1]);
    }
}
