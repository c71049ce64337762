//! One output container (the MP4, one HLS rung, or the MP3) and the streams it carries.
//! Encoders hand their packets to every muxer that carries their stream, so one encode feeds
//! several files.

use std::path::Path;

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, codec, encoder, format, Dictionary, Packet, Rational};

use super::fault;

/// The kind of a muxed stream: each muxer carries at most one of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Track {
    Video,
    Audio,
}

/// Where a track's packets go in one muxer, and the time bases to convert between.
#[derive(Clone, Copy, Debug)]
struct Mapped {
    index: usize,
    /// The time base the packets arrive in.
    from: Rational,
    /// The stream's time base (the muxer may pick its own in `write_header`).
    to: Rational,
}

/// An output container being written.
pub(crate) struct Muxer {
    octx: format::context::Output,
    header: Vec<(String, String)>,
    what: &'static str,
    video: Option<Mapped>,
    audio: Option<Mapped>,
}

impl Muxer {
    /// An MP4 at `path` with fast start (the index first, for progressive playback).
    pub(crate) fn mp4(path: &Path) -> Result<Self, TranscodeError> {
        let octx = format::output_as(&path, "mp4").map_err(fault("creating the output file"))?;
        Ok(Self {
            octx,
            header: vec![("movflags".into(), "+faststart".into())],
            what: "the MP4",
            video: None,
            audio: None,
        })
    }

    /// An MP3 at `path` (one audio stream; a Xing header, so players know its length).
    pub(crate) fn mp3(path: &Path) -> Result<Self, TranscodeError> {
        let octx = format::output_as(&path, "mp3").map_err(fault("creating the MP3"))?;
        Ok(Self {
            octx,
            header: Vec::new(),
            what: "the MP3",
            video: None,
            audio: None,
        })
    }

    /// One HLS rung in `dir`: `index.m3u8` (a VOD playlist), `init.mp4` and CMAF segments
    /// `seg_00000.m4s`…, cut at the keyframes at or after every `segment_seconds`.
    pub(crate) fn hls(dir: &Path, segment_seconds: f64) -> Result<Self, TranscodeError> {
        let octx = format::output_as(&dir.join("index.m3u8"), "hls")
            .map_err(fault("creating the HLS playlist"))?;
        let segments = dir.join("seg_%05d.m4s");
        Ok(Self {
            octx,
            header: vec![
                ("hls_time".into(), format!("{segment_seconds}")),
                ("hls_playlist_type".into(), "vod".into()),
                ("hls_segment_type".into(), "fmp4".into()),
                ("hls_fmp4_init_filename".into(), "init.mp4".into()),
                ("hls_flags".into(), "independent_segments".into()),
                (
                    "hls_segment_filename".into(),
                    segments.to_string_lossy().into_owned(),
                ),
            ],
            what: "an HLS rung",
            video: None,
            audio: None,
        })
    }

    /// Adds a stream for `track` with `parameters`, whose packets arrive in `time_base`.
    pub(crate) fn add(
        &mut self,
        track: Track,
        parameters: codec::Parameters,
        time_base: Rational,
        frame_rate: Option<Rational>,
    ) -> Result<(), TranscodeError> {
        let index = self.octx.nb_streams() as usize;
        let mut stream = self
            .octx
            .add_stream(encoder::find(codec::Id::None))
            .map_err(fault("adding a stream"))?;
        stream.set_parameters(parameters);
        stream.set_time_base(time_base);
        if let Some(fps) = frame_rate {
            stream.set_avg_frame_rate(fps);
        }
        let mapped = Some(Mapped {
            index,
            from: time_base,
            to: time_base,
        });
        match track {
            Track::Video => self.video = mapped,
            Track::Audio => self.audio = mapped,
        }
        Ok(())
    }

    /// Writes the header; fails when the muxer ignored one of its options.
    pub(crate) fn write_header(&mut self) -> Result<(), TranscodeError> {
        let mut options = Dictionary::new();
        for (key, value) in &self.header {
            options.set(key, value);
        }
        let unused = self
            .octx
            .write_header_with(options)
            .map_err(fault("writing an output header"))?;
        let ignored = unused.iter().next().map(|(key, _)| key.to_owned());
        drop(unused);
        if let Some(key) = ignored {
            return Err(TranscodeError::Unexpected(anyhow::anyhow!(
                "{} ignored its option {key}",
                self.what
            )));
        }
        for mapped in [self.video.as_mut(), self.audio.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(stream) = self.octx.stream(mapped.index) {
                mapped.to = stream.time_base();
            }
        }
        Ok(())
    }

    /// Whether this muxer carries `track`.
    pub(crate) fn carries(&self, track: Track) -> bool {
        match track {
            Track::Video => self.video.is_some(),
            Track::Audio => self.audio.is_some(),
        }
    }

    /// Writes a copy of `packet` (in its track's arrival time base) to its stream.
    pub(crate) fn write(&mut self, track: Track, packet: &Packet) -> Result<(), ff::Error> {
        let mapped = match track {
            Track::Video => self.video,
            Track::Audio => self.audio,
        };
        let Some(mapped) = mapped else {
            return Ok(());
        };
        let mut packet = packet.clone();
        packet.set_stream(mapped.index);
        packet.set_position(-1);
        packet.rescale_ts(mapped.from, mapped.to);
        packet.write_interleaved(&mut self.octx)
    }

    /// Writes the trailer (the MP4's index, the playlist's end).
    pub(crate) fn finish(mut self) -> Result<(), TranscodeError> {
        self.octx.write_trailer().map_err(|e| {
            TranscodeError::Unexpected(anyhow::anyhow!("finishing {}: {e}", self.what))
        })
    }
}
