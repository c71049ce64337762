//! The fan-out: every filtered frame (at the profile's size, logo stamped) goes once through
//! here to every encoder (scaled down for the smaller rungs), and each encoder's packets to
//! every muxer that carries them. The MP4 and the HLS rung of the same size share one encoder.
//! The storyboard samples the same frames.

use std::path::Path;

use anb_domain::media::{HlsLadder, Profile, Rung};
use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, codec, format, frame, picture, software::scaling, Packet, Rational};

use super::muxer::{Muxer, Track};
use super::storyboard::StoryboardSampler;
use super::timing::{positive, seconds};
use super::video::{EncoderSettings, VideoEncoder};
use super::{bad, fault};

/// One encode and where its packets go.
struct Encode {
    encoder: VideoEncoder,
    /// Scales the fan-out's frames to this encode's size, when it is smaller.
    scaler: Option<(scaling::Context, frame::Video)>,
    /// Indexes into [`Fanout::muxers`].
    muxers: Vec<usize>,
}

/// The outputs of a run that take frames and packets.
pub(crate) struct Fanout {
    time_base: Rational,
    next_pts: i64,
    frames: u64,
    /// Keyframes are forced at every multiple of this many timeline units (streaming only).
    keyframe_every: Option<i64>,
    next_keyframe: i64,
    encodes: Vec<Encode>,
    muxers: Vec<Muxer>,
    storyboard: Option<StoryboardSampler>,
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
        let settings = |width: u32, height: u32, max_kbps: Option<u32>| EncoderSettings {
            width,
            height,
            preset: profile.video.preset.clone(),
            crf: profile.video.crf,
            streaming: gop.zip(max_kbps),
        };
        let mut out = Self {
            time_base,
            next_pts: 0,
            frames: 0,
            keyframe_every: gop.map(i64::from),
            next_keyframe: 0,
            encodes: Vec::new(),
            muxers: Vec::new(),
            storyboard,
        };
        let mut full_size: Option<usize> = None;
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
            out.muxers.push(Muxer::mp4(path)?);
            out.add_encode(&settings(profile.width, profile.height, max_kbps), fps)?;
            out.encodes[0].muxers.push(0);
            full_size = Some(0);
        }
        if let Some((ladder, rungs, dir)) = ladder {
            for rung in rungs {
                let rung_dir = dir.join(rung.name());
                std::fs::create_dir_all(&rung_dir).map_err(|e| {
                    TranscodeError::Unexpected(
                        anyhow::Error::new(e).context("creating an HLS rung directory"),
                    )
                })?;
                out.muxers
                    .push(Muxer::hls(&rung_dir, ladder.segment_seconds)?);
                let muxer = out.muxers.len() - 1;
                let shared = full_size
                    .filter(|_| (rung.width, rung.height) == (profile.width, profile.height));
                let encode = match shared {
                    Some(encode) => encode,
                    None => {
                        out.add_encode(
                            &settings(rung.width, rung.height, Some(rung.max_kbps)),
                            fps,
                        )?;
                        out.encodes.len() - 1
                    }
                };
                out.encodes[encode].muxers.push(muxer);
            }
        }
        for encode in &out.encodes {
            let parameters = encode.encoder.parameters();
            for &muxer in &encode.muxers {
                out.muxers[muxer].add(Track::Video, parameters.clone(), time_base, Some(fps))?;
            }
        }
        Ok(out)
    }

    fn add_encode(
        &mut self,
        settings: &EncoderSettings,
        fps: Rational,
    ) -> Result<(), TranscodeError> {
        self.encodes.push(Encode {
            encoder: VideoEncoder::open(settings, fps)?,
            scaler: None,
            muxers: Vec::new(),
        });
        Ok(())
    }

    /// Whether any muxer takes sound.
    pub(crate) fn wants_audio(&self) -> bool {
        !self.muxers.is_empty()
    }

    /// Adds an audio stream to every muxer; its packets will arrive in `time_base`.
    pub(crate) fn add_audio(
        &mut self,
        parameters: &codec::Parameters,
        time_base: Rational,
    ) -> Result<(), TranscodeError> {
        for muxer in &mut self.muxers {
            muxer.add(Track::Audio, parameters.clone(), time_base, None)?;
        }
        Ok(())
    }

    /// Writes every muxer's header (after the streams are added).
    pub(crate) fn write_headers(&mut self) -> Result<(), TranscodeError> {
        self.muxers.iter_mut().try_for_each(Muxer::write_header)
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

    /// Sends `frame` at the next timestamp to the storyboard and every encoder.
    pub(crate) fn encode(&mut self, frame: &mut frame::Video) -> Result<(), TranscodeError> {
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
        frame.set_kind(if keyframe {
            picture::Type::I
        } else {
            picture::Type::None
        });
        frame.set_pts(Some(pts));
        if let Some(storyboard) = self.storyboard.as_mut() {
            storyboard.offer(frame, seconds(pts, self.time_base))?;
        }
        for i in 0..self.encodes.len() {
            let encode = &mut self.encodes[i];
            match &mut encode.scaler {
                None if encode_is_full_size(&encode.encoder, frame) => {
                    encode.encoder.send(frame)?;
                }
                slot => {
                    let (scaler, scaled) = match slot {
                        Some(pair) => pair,
                        None => slot.insert((
                            scaling::Context::get(
                                frame.format(),
                                frame.width(),
                                frame.height(),
                                format::Pixel::YUV420P,
                                encode.encoder.width(),
                                encode.encoder.height(),
                                scaling::Flags::BICUBIC,
                            )
                            .map_err(fault("preparing a rung's scaler"))?,
                            frame::Video::empty(),
                        )),
                    };
                    scaler.run(frame, scaled).map_err(fault("scaling a rung"))?;
                    scaled.set_pts(Some(pts));
                    scaled.set_kind(frame.kind());
                    encode.encoder.send(scaled)?;
                }
            }
            self.drain(i)?;
        }
        Ok(())
    }

    /// Writes one audio packet (in the time base given to [`add_audio`](Self::add_audio)) to
    /// every muxer.
    pub(crate) fn write_audio(&mut self, packet: &Packet) -> Result<(), ff::Error> {
        for muxer in &mut self.muxers {
            if muxer.carries(Track::Audio) {
                muxer.write(Track::Audio, packet)?;
            }
        }
        Ok(())
    }

    /// Flushes the encoders and finishes every muxer; returns the storyboard, if any.
    pub(crate) fn finish(mut self) -> Result<Option<StoryboardSampler>, TranscodeError> {
        for i in 0..self.encodes.len() {
            self.encodes[i].encoder.send_eof()?;
            self.drain(i)?;
        }
        for muxer in self.muxers {
            muxer.finish()?;
        }
        Ok(self.storyboard)
    }

    fn drain(&mut self, i: usize) -> Result<(), TranscodeError> {
        let encode = &mut self.encodes[i];
        let mut packet = Packet::empty();
        while encode.encoder.receive(&mut packet) {
            for &muxer in &encode.muxers {
                self.muxers[muxer]
                    .write(Track::Video, &packet)
                    .map_err(fault("writing video"))?;
            }
        }
        Ok(())
    }
}

fn encode_is_full_size(encoder: &VideoEncoder, frame: &frame::Video) -> bool {
    (encoder.width(), encoder.height()) == (frame.width(), frame.height())
}

/// Maps a muxer's refusal of copied audio to bad media (the input's timestamps), other
/// failures to faults.
pub(crate) fn audio_write_error(e: ff::Error) -> TranscodeError {
    match e {
        ff::Error::Other { errno } if errno == ff::error::EINVAL => {
            bad("the sound track's timing is broken")(e)
        }
        other => fault("writing audio")(other),
    }
}
