//! The audio track, read once for every output that takes sound. The MP4 and the HLS rungs get
//! an AAC track through the fan-out: the input's packets copied when they are AAC in an
//! MP4/MOV, else the decoded sound encoded to AAC. The MP3 gets the decoded sound encoded with
//! LAME into its own file. The sound is decoded at most once: one filter graph splits each
//! decoded frame to every encoder, each with its own format, rate and frame size.

use std::path::Path;

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, codec, encoder, filter, frame, Packet, Rational};

use super::audio_encoder::{AudioEncoder, SoundFormat};
use super::fanout::{audio_write_error, encoded_audio_write_error, Fanout};
use super::mp3::Mp3Output;
use super::timing::{seconds, to_ts};
use super::{bad, Trim};

/// The decoded sound's way into the graph.
const GRAPH_INPUT: &str = "in";
/// The graph's output to the AAC encoder.
const AAC_OUTPUT: &str = "aac";
/// The graph's output to the MP3 encoder.
const MP3_OUTPUT: &str = "mp3";

/// What the fan-out's muxers (the MP4, the HLS rungs) get of the sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AacTrack {
    /// The input's AAC packets as they are (no generation loss, no encode time).
    Copy,
    /// The decoded sound, encoded to AAC.
    Encode,
}

/// The input's audio stream and the outputs it feeds.
pub(crate) struct AudioTrack {
    input_index: usize,
    trim: Trim,
    /// The fan-out's AAC packets, when they are copied.
    copied: Option<CopiedAudio>,
    /// The decoder and the encoders it feeds, when anything needs the samples.
    decoded: Option<DecodedAudio>,
}

struct CopiedAudio {
    input_time_base: Rational,
    parameters: codec::Parameters,
    done: bool,
}

struct DecodedAudio {
    input_time_base: Rational,
    decoder: ff::decoder::Audio,
    /// Built on the first frame, from its real format.
    graph: Option<filter::Graph>,
    /// The fan-out's AAC, when it is encoded.
    aac: Option<AudioEncoder>,
    /// Until it is finished.
    mp3: Option<Mp3Output>,
    /// Frames decoded within the trim.
    frames: u64,
    /// Where the sound decoded so far ends on the output timeline, in seconds.
    reached_seconds: f64,
    done: bool,
}

impl AudioTrack {
    /// The track for `input` (an audio stream): the fan-out's AAC as `aac` says (none in a run
    /// without a fan-out), and the MP3 at `mp3` when given (its header written).
    ///
    /// # Errors
    /// `BadMedia` when the sound, needed decoded, cannot be decoded; `Unexpected` when an
    /// encoder or the MP3 file cannot be opened.
    pub(crate) fn new(
        input: &ff::format::stream::Stream<'_>,
        aac: Option<AacTrack>,
        mp3: Option<&Path>,
        trim: Trim,
    ) -> Result<Self, TranscodeError> {
        let copied = (aac == Some(AacTrack::Copy)).then(|| CopiedAudio {
            input_time_base: input.time_base(),
            parameters: input.parameters(),
            done: false,
        });
        let encode_aac = aac == Some(AacTrack::Encode);
        let decoded = (encode_aac || mp3.is_some())
            .then(|| DecodedAudio::open(input, encode_aac, mp3))
            .transpose()?;
        Ok(Self {
            input_index: input.index(),
            trim,
            copied,
            decoded,
        })
    }

    /// The fan-out's audio stream, if the track feeds it: its parameters and the time base
    /// of its packets.
    pub(crate) fn fanout_stream(&self) -> Option<(codec::Parameters, Rational)> {
        if let Some(copied) = &self.copied {
            return Some((copied.parameters.clone(), copied.input_time_base));
        }
        let aac = self.decoded.as_ref()?.aac.as_ref()?;
        Some((aac.parameters(), aac.time_base()))
    }

    /// The input stream this track reads.
    pub(crate) fn input_index(&self) -> usize {
        self.input_index
    }

    /// Whether every output of the track has reached the limit (later packets are ignored).
    pub(crate) fn is_done(&self) -> bool {
        self.copied.as_ref().is_none_or(|c| c.done) && self.decoded.as_ref().is_none_or(|d| d.done)
    }

    /// Where the sound decoded so far ends on the output timeline, in seconds (0 when it is
    /// only copied): the progress of a run without pictures.
    pub(crate) fn seconds(&self) -> f64 {
        self.decoded.as_ref().map_or(0.0, |d| d.reached_seconds)
    }

    /// Moves the track on the output timeline to start at `seconds` (after an intro).
    pub(crate) fn set_offset(&mut self, seconds: f64) {
        self.trim.offset_seconds = seconds;
    }

    /// Handles one input packet of this track. `out` is the fan-out, which the AAC goes to;
    /// `None` only in a run without one, whose track has no AAC.
    ///
    /// # Errors
    /// `BadMedia` when the copied packets' timing is broken or the decoded sound cannot be
    /// converted; `Unexpected` when an output cannot be written. Undecodable packets are
    /// skipped.
    pub(crate) fn packet(
        &mut self,
        packet: Packet,
        mut out: Option<&mut Fanout>,
    ) -> Result<(), TranscodeError> {
        if let Some(decoded) = self.decoded.as_mut().filter(|d| !d.done) {
            // A damaged audio packet costs a few milliseconds of sound, not the video.
            if decoded.decoder.send_packet(&packet).is_ok() {
                decoded.drain_decoder(&self.trim, out.as_deref_mut())?;
            }
        }
        if let Some(copied) = self.copied.as_mut().filter(|c| !c.done) {
            copied.packet(packet, &self.trim, fanout(out)?)?;
        }
        Ok(())
    }

    /// At the end of the input (or of the trim): flushes the decoder, the graph and the
    /// encoders, and finishes the MP3.
    ///
    /// # Errors
    /// `BadMedia` when the MP3 is wanted but no sound could be decoded within the trim
    /// (a damaged track, or sound only after the kept part); otherwise as
    /// [`packet`](Self::packet).
    pub(crate) fn finish(&mut self, out: Option<&mut Fanout>) -> Result<(), TranscodeError> {
        match self.decoded.as_mut() {
            Some(decoded) => decoded.finish(&self.trim, out),
            None => Ok(()),
        }
    }
}

impl CopiedAudio {
    fn packet(
        &mut self,
        mut packet: Packet,
        trim: &Trim,
        out: &mut Fanout,
    ) -> Result<(), TranscodeError> {
        let Some(ts) = packet.pts().or(packet.dts()) else {
            return Ok(());
        };
        let tb = self.input_time_base;
        // Packets before the start (the encoder's priming, negative pts) are kept: the decoder
        // needs them and the edit list hides them.
        if seconds(ts, tb) - trim.origin_seconds >= trim.limit_seconds {
            self.done = true;
            return Ok(());
        }
        let shift = to_ts(trim.offset_seconds - trim.origin_seconds, tb);
        packet.set_pts(packet.pts().map(|pts| pts + shift));
        packet.set_dts(packet.dts().map(|dts| dts + shift));
        // The muxers refuse copied packets whose timestamps go backwards: the input's.
        out.write_audio(&packet, audio_write_error)
    }
}

impl DecodedAudio {
    fn open(
        input: &ff::format::stream::Stream<'_>,
        encode_aac: bool,
        mp3: Option<&Path>,
    ) -> Result<Self, TranscodeError> {
        let mut decoder = codec::context::Context::from_parameters(input.parameters())
            .map_err(bad("the audio track cannot be read"))?
            .decoder();
        decoder.set_packet_time_base(input.time_base());
        let decoder = decoder
            .audio()
            .map_err(bad("the audio track cannot be decoded"))?;
        let aac = encode_aac
            .then(|| open_aac(decoder.rate(), decoder.channels()))
            .transpose()?;
        let mp3 = mp3
            .map(|path| Mp3Output::create(path, decoder.rate()))
            .transpose()?;
        Ok(Self {
            input_time_base: input.time_base(),
            decoder,
            graph: None,
            aac,
            mp3,
            frames: 0,
            reached_seconds: 0.0,
            done: false,
        })
    }

    fn drain_decoder(
        &mut self,
        trim: &Trim,
        mut out: Option<&mut Fanout>,
    ) -> Result<(), TranscodeError> {
        let mut decoded = frame::Audio::empty();
        while !self.done && self.decoder.receive_frame(&mut decoded).is_ok() {
            let Some(ts) = decoded.timestamp() else {
                continue;
            };
            let clip_seconds = seconds(ts, self.input_time_base) - trim.origin_seconds;
            if clip_seconds >= trim.limit_seconds {
                self.done = true;
                break;
            }
            decoded.set_pts(Some(ts));
            self.frames += 1;
            if decoded.rate() > 0 {
                let length = decoded.samples() as f64 / f64::from(decoded.rate());
                self.reached_seconds = trim.offset_seconds + clip_seconds + length;
            }
            if self.graph.is_none() {
                self.graph = Some(self.build_graph(&decoded)?);
            }
            if let Some(graph) = self.graph.as_mut() {
                graph
                    .get(GRAPH_INPUT)
                    .ok_or_else(|| graph_fault("no input"))?
                    .source()
                    .add(&decoded)
                    .map_err(bad("the sound could not be processed"))?;
            }
            self.drain_graph(trim, out.as_deref_mut())?;
        }
        Ok(())
    }

    /// The encoders the graph feeds, by the name of their graph output.
    fn encoders(&self) -> Vec<(&'static str, &AudioEncoder)> {
        let aac = self.aac.as_ref().map(|aac| (AAC_OUTPUT, aac));
        let mp3 = self.mp3.as_ref().map(|mp3| (MP3_OUTPUT, mp3.encoder()));
        aac.into_iter().chain(mp3).collect()
    }

    /// `in → asplit → one output per encoder`, each converting to its encoder's sample
    /// format, channel layout and rate, and cutting its frame size.
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
        let encoders = self.encoders();
        let build = || -> Result<filter::Graph, ff::Error> {
            let mut graph = filter::Graph::new();
            graph.add(
                &filter::find("abuffer").ok_or(ff::Error::FilterNotFound)?,
                GRAPH_INPUT,
                &args,
            )?;
            let sink = filter::find("abuffersink").ok_or(ff::Error::FilterNotFound)?;
            for (name, encoder) in &encoders {
                graph.add(&sink, name, "")?;
                encoder.shape_sink(&mut graph.get(name).ok_or(ff::Error::Bug)?);
            }
            let mut parser = graph.output(GRAPH_INPUT, 0)?;
            for (name, _) in &encoders {
                parser = parser.input(name, 0)?;
            }
            let labels: String = encoders
                .iter()
                .map(|(name, _)| format!("[{name}]"))
                .collect();
            parser.parse(&format!("[{GRAPH_INPUT}]asplit={}{labels}", encoders.len()))?;
            graph.validate()?;
            for (name, encoder) in &encoders {
                graph
                    .get(name)
                    .ok_or(ff::Error::Bug)?
                    .sink()
                    .set_frame_size(encoder.frame_size());
            }
            Ok(graph)
        };
        build().map_err(bad("the audio track has an unsupported format"))
    }

    /// Encodes what the graph has ready for each encoder.
    fn drain_graph(
        &mut self,
        trim: &Trim,
        mut out: Option<&mut Fanout>,
    ) -> Result<(), TranscodeError> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        let shift = trim.offset_seconds - trim.origin_seconds;
        if let Some(aac) = self.aac.as_mut() {
            pull(graph, AAC_OUTPUT, |frame, from| {
                aac.encode(frame, from, shift, |packet| {
                    write_aac(packet, out.as_deref_mut())
                })
            })?;
        }
        if let Some(mp3) = self.mp3.as_mut() {
            pull(graph, MP3_OUTPUT, |frame, from| {
                mp3.encode(frame, from, shift)
            })?;
        }
        Ok(())
    }

    fn finish(&mut self, trim: &Trim, mut out: Option<&mut Fanout>) -> Result<(), TranscodeError> {
        if !self.done {
            let _ = self.decoder.send_eof();
            self.drain_decoder(trim, out.as_deref_mut())?;
        }
        if let Some(graph) = self.graph.as_mut() {
            if let Some(mut source) = graph.get(GRAPH_INPUT) {
                let _ = source.source().flush();
            }
            self.drain_graph(trim, out.as_deref_mut())?;
        }
        if let Some(aac) = self.aac.as_mut() {
            aac.finish(|packet| write_aac(packet, out.as_deref_mut()))?;
        }
        if let Some(mp3) = self.mp3.take() {
            if self.frames == 0 {
                return Err(TranscodeError::BadMedia(
                    "no sound could be decoded from the clip to make an MP3".into(),
                ));
            }
            mp3.finish()?;
        }
        Ok(())
    }
}

/// The fan-out's AAC encoder for a source of `source_rate` and `source_channels`: 48 kHz
/// unless the source is at 44.1 kHz; mono at 64 kbit/s, else stereo at 128 kbit/s.
fn open_aac(source_rate: u32, source_channels: u16) -> Result<AudioEncoder, TranscodeError> {
    let aac = encoder::find(codec::Id::AAC)
        .ok_or_else(|| TranscodeError::Unexpected(anyhow::anyhow!("no AAC encoder")))?;
    let mono = source_channels == 1;
    let sound = SoundFormat {
        rate: match source_rate {
            44_100 => 44_100,
            _ => 48_000,
        },
        layout: if mono {
            ff::ChannelLayout::MONO
        } else {
            ff::ChannelLayout::STEREO
        },
        bit_rate: if mono { 64_000 } else { 128_000 },
    };
    AudioEncoder::open(aac, &sound, super::encoder_options(&[]), "AAC")
}

/// Takes every frame the graph output `name` has ready, with its time base.
fn pull(
    graph: &mut filter::Graph,
    name: &str,
    mut each: impl FnMut(&mut frame::Audio, Rational) -> Result<(), TranscodeError>,
) -> Result<(), TranscodeError> {
    let mut output = graph
        .get(name)
        .ok_or_else(|| graph_fault("a missing output"))?;
    let time_base = output.sink().time_base();
    let mut filtered = frame::Audio::empty();
    while output.sink().frame(&mut filtered).is_ok() {
        each(&mut filtered, time_base)?;
    }
    Ok(())
}

/// Hands an encoded AAC packet to the fan-out's muxers.
fn write_aac(packet: &Packet, out: Option<&mut Fanout>) -> Result<(), TranscodeError> {
    fanout(out)?.write_audio(packet, encoded_audio_write_error)
}

/// The fan-out the AAC goes to (a track has an AAC only in a run with one).
fn fanout(out: Option<&mut Fanout>) -> Result<&mut Fanout, TranscodeError> {
    out.ok_or_else(|| TranscodeError::Unexpected(anyhow::anyhow!("an AAC track without a fan-out")))
}

fn graph_fault(what: &str) -> TranscodeError {
    TranscodeError::Unexpected(anyhow::anyhow!("the audio graph has {what}"))
}
