//! The audio track: copied when it is AAC in an MP4/MOV, else decoded and encoded to AAC;
//! either way its packets go to every muxer of the fan-out.

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, codec, encoder, filter, format, frame, Packet, Rational};

use super::fanout::{audio_write_error, encoded_audio_write_error, Fanout};
use super::timing::{seconds, to_ts};
use super::{bad, fault, Trim};

/// How the input's audio reaches the output.
pub(crate) enum AudioTrack {
    /// AAC packets copied as they are (no generation loss, no encode time).
    Copy(CopiedAudio),
    /// Anything else, decoded and encoded to AAC.
    Encode(Box<EncodedAudio>),
}

pub(crate) struct CopiedAudio {
    input_index: usize,
    input_time_base: Rational,
    parameters: codec::Parameters,
    trim: Trim,
    done: bool,
}

pub(crate) struct EncodedAudio {
    input_index: usize,
    input_time_base: Rational,
    decoder: ff::decoder::Audio,
    graph: Option<filter::Graph>,
    encoder: encoder::Audio,
    trim: Trim,
    done: bool,
}

impl AudioTrack {
    /// The track for `input` (an audio stream): a copy when `copy` is allowed, else an AAC
    /// encoder. Its packets go to every muxer of the fan-out.
    ///
    /// # Errors
    /// `BadMedia` when an encoded track cannot be decoded; `Unexpected` when the encoder
    /// cannot be opened.
    pub(crate) fn new(
        input: &ff::format::stream::Stream<'_>,
        copy: bool,
        trim: Trim,
    ) -> Result<Self, TranscodeError> {
        if copy {
            return Ok(Self::Copy(CopiedAudio {
                input_index: input.index(),
                input_time_base: input.time_base(),
                parameters: input.parameters(),
                trim,
                done: false,
            }));
        }
        let mut decoder = codec::context::Context::from_parameters(input.parameters())
            .map_err(bad("the audio track cannot be read"))?
            .decoder();
        decoder.set_packet_time_base(input.time_base());
        let decoder = decoder
            .audio()
            .map_err(bad("the audio track cannot be decoded"))?;
        let aac = encoder::find(codec::Id::AAC)
            .ok_or_else(|| TranscodeError::Unexpected(anyhow::anyhow!("no AAC encoder")))?;
        let mut context = codec::context::Context::new_with_codec(aac)
            .encoder()
            .audio()
            .map_err(fault("creating the AAC encoder"))?;
        let rate = match decoder.rate() {
            r @ (44_100 | 48_000) => r as i32,
            _ => 48_000,
        };
        let mono = decoder.channels() == 1;
        let layout = if mono {
            ff::ChannelLayout::MONO
        } else {
            ff::ChannelLayout::STEREO
        };
        context.set_rate(rate);
        context.set_channel_layout(layout);
        context.set_channels(layout.channels());
        context.set_format(format::Sample::F32(format::sample::Type::Planar));
        context.set_bit_rate(if mono { 64_000 } else { 128_000 });
        context.set_time_base(Rational::new(1, rate));
        let encoder = context
            .open_with(super::encoder_options(&[]))
            .map_err(fault("opening the AAC encoder"))?;
        Ok(Self::Encode(Box::new(EncodedAudio {
            input_index: input.index(),
            input_time_base: input.time_base(),
            decoder,
            graph: None,
            encoder,
            trim,
            done: false,
        })))
    }

    /// The output stream's parameters.
    pub(crate) fn parameters(&self) -> codec::Parameters {
        match self {
            Self::Copy(a) => a.parameters.clone(),
            Self::Encode(a) => codec::Parameters::from(&a.encoder),
        }
    }

    /// The time base of the packets it writes.
    pub(crate) fn time_base(&self) -> Rational {
        match self {
            Self::Copy(a) => a.input_time_base,
            Self::Encode(a) => a.encoder.time_base(),
        }
    }

    /// The input stream this track reads.
    pub(crate) fn input_index(&self) -> usize {
        match self {
            Self::Copy(a) => a.input_index,
            Self::Encode(a) => a.input_index,
        }
    }

    /// Whether the track has reached its limit (later packets are ignored).
    pub(crate) fn is_done(&self) -> bool {
        match self {
            Self::Copy(a) => a.done,
            Self::Encode(a) => a.done,
        }
    }

    /// Moves the track on the output timeline to start at `seconds` (after an intro).
    pub(crate) fn set_offset(&mut self, seconds: f64) {
        match self {
            Self::Copy(a) => a.trim.offset_seconds = seconds,
            Self::Encode(a) => a.trim.offset_seconds = seconds,
        }
    }

    /// Handles one input packet of this track.
    ///
    /// # Errors
    /// `Unexpected` when the output cannot be written. Undecodable packets are skipped.
    pub(crate) fn packet(
        &mut self,
        packet: Packet,
        out: &mut Fanout,
    ) -> Result<(), TranscodeError> {
        match self {
            Self::Copy(a) => a.packet(packet, out),
            Self::Encode(a) => a.packet(&packet, out),
        }
    }

    /// Flushes what is buffered (decoder, filter, encoder) at the end of the input.
    ///
    /// # Errors
    /// `Unexpected` when the output cannot be written.
    pub(crate) fn finish(&mut self, out: &mut Fanout) -> Result<(), TranscodeError> {
        match self {
            Self::Copy(_) => Ok(()),
            Self::Encode(a) => a.finish(out),
        }
    }
}

impl CopiedAudio {
    fn packet(&mut self, mut packet: Packet, out: &mut Fanout) -> Result<(), TranscodeError> {
        let Some(ts) = packet.pts().or(packet.dts()) else {
            return Ok(());
        };
        let tb = self.input_time_base;
        // Packets before the start (the encoder's priming, negative pts) are kept: the decoder
        // needs them and the edit list hides them.
        if seconds(ts, tb) - self.trim.origin_seconds >= self.trim.limit_seconds {
            self.done = true;
            return Ok(());
        }
        let shift = to_ts(self.trim.offset_seconds - self.trim.origin_seconds, tb);
        packet.set_pts(packet.pts().map(|pts| pts + shift));
        packet.set_dts(packet.dts().map(|dts| dts + shift));
        // The muxers refuse copied packets whose timestamps go backwards: the input's.
        out.write_audio(&packet, audio_write_error)
    }
}

impl EncodedAudio {
    fn packet(&mut self, packet: &Packet, out: &mut Fanout) -> Result<(), TranscodeError> {
        if self.decoder.send_packet(packet).is_err() {
            // A damaged audio packet costs a few milliseconds of sound, not the video.
            return Ok(());
        }
        self.drain_decoder(out)
    }

    fn drain_decoder(&mut self, out: &mut Fanout) -> Result<(), TranscodeError> {
        let mut decoded = frame::Audio::empty();
        while !self.done && self.decoder.receive_frame(&mut decoded).is_ok() {
            let Some(ts) = decoded.timestamp() else {
                continue;
            };
            if seconds(ts, self.input_time_base) - self.trim.origin_seconds
                >= self.trim.limit_seconds
            {
                self.done = true;
                break;
            }
            decoded.set_pts(Some(ts));
            if self.graph.is_none() {
                self.graph = Some(self.build_graph(&decoded)?);
            }
            if let Some(graph) = self.graph.as_mut() {
                graph
                    .get("in")
                    .ok_or_else(|| fault_msg("audio graph has no input"))?
                    .source()
                    .add(&decoded)
                    .map_err(bad("the sound could not be processed"))?;
            }
            self.drain_graph(out)?;
        }
        Ok(())
    }

    fn build_graph(&self, first: &frame::Audio) -> Result<filter::Graph, TranscodeError> {
        let layout = if first.channel_layout().is_empty() {
            ff::ChannelLayout::default(i32::from(first.channels()))
        } else {
            first.channel_layout()
        };
        let args = format!(
            "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
            self.input_time_base.numerator(),
            self.input_time_base.denominator(),
            first.rate(),
            first.format().name(),
            layout.bits(),
        );
        let build = || -> Result<filter::Graph, ff::Error> {
            let mut graph = filter::Graph::new();
            graph.add(
                &filter::find("abuffer").ok_or(ff::Error::FilterNotFound)?,
                "in",
                &args,
            )?;
            graph.add(
                &filter::find("abuffersink").ok_or(ff::Error::FilterNotFound)?,
                "out",
                "",
            )?;
            {
                let mut out = graph.get("out").ok_or(ff::Error::Bug)?;
                out.set_sample_format(self.encoder.format());
                out.set_channel_layout(self.encoder.channel_layout());
                out.set_sample_rate(self.encoder.rate());
            }
            graph.output("in", 0)?.input("out", 0)?.parse("anull")?;
            graph.validate()?;
            graph
                .get("out")
                .ok_or(ff::Error::Bug)?
                .sink()
                .set_frame_size(self.encoder.frame_size());
            Ok(graph)
        };
        build().map_err(bad("the audio track has an unsupported format"))
    }

    fn drain_graph(&mut self, out: &mut Fanout) -> Result<(), TranscodeError> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        let mut sink = graph
            .get("out")
            .ok_or_else(|| fault_msg("audio graph has no output"))?;
        let sink_time_base = sink.sink().time_base();
        let shift = to_ts(
            self.trim.offset_seconds - self.trim.origin_seconds,
            Rational::new(1, self.encoder.rate() as i32),
        );
        let mut filtered = frame::Audio::empty();
        while sink.sink().frame(&mut filtered).is_ok() {
            let pts = filtered.pts().map(|pts| {
                use ff::Rescale as _;
                pts.rescale(sink_time_base, Rational::new(1, self.encoder.rate() as i32)) + shift
            });
            filtered.set_pts(pts);
            self.encoder
                .send_frame(&filtered)
                .map_err(fault("encoding audio"))?;
            drain_encoder(&mut self.encoder, out)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Fanout) -> Result<(), TranscodeError> {
        if !self.done {
            let _ = self.decoder.send_eof();
            self.drain_decoder(out)?;
        }
        if let Some(graph) = self.graph.as_mut() {
            if let Some(mut source) = graph.get("in") {
                let _ = source.source().flush();
            }
            self.drain_graph(out)?;
        }
        self.encoder
            .send_eof()
            .map_err(fault("finishing the audio"))?;
        drain_encoder(&mut self.encoder, out)
    }
}

fn drain_encoder(encoder: &mut encoder::Audio, out: &mut Fanout) -> Result<(), TranscodeError> {
    let mut packet = Packet::empty();
    while encoder.receive_packet(&mut packet).is_ok() {
        out.write_audio(&packet, encoded_audio_write_error)?;
    }
    Ok(())
}

fn fault_msg(message: &str) -> TranscodeError {
    TranscodeError::Unexpected(anyhow::anyhow!("{message}"))
}
