//! An audio encoder (the AAC of the MP4 and the HLS rungs, or the MP3) fed from the decoded
//! sound's filter graph (`audio.rs`): it names the sample format, channel layout, rate and
//! frame size its graph output must deliver, puts each frame on the output timeline and hands
//! the packets it makes to its writer.

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{
    self as ff, codec, encoder, filter, format, frame, Dictionary, Packet, Rational,
};

use super::timing::to_ts;

/// The sound an encoder makes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SoundFormat {
    /// Samples per second.
    pub rate: u32,
    /// The channels.
    pub layout: ff::ChannelLayout,
    /// Bits per second.
    pub bit_rate: usize,
}

/// An opened audio encoder taking 32-bit float planar samples, timestamped in `1/rate`.
pub(crate) struct AudioEncoder {
    encoder: encoder::Audio,
    /// The codec's name, for errors (`AAC`, `MP3`).
    name: &'static str,
}

impl AudioEncoder {
    /// Opens `codec` for `sound` with `options`.
    ///
    /// # Errors
    /// `Unexpected`: the encoders are ours, so a refusal is a fault on our side.
    pub(crate) fn open(
        codec: ff::Codec,
        sound: &SoundFormat,
        options: Dictionary<'_>,
        name: &'static str,
    ) -> Result<Self, TranscodeError> {
        let failed = |e: ff::Error| {
            TranscodeError::Unexpected(anyhow::anyhow!("opening the {name} encoder: {e}"))
        };
        let mut context = codec::context::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(failed)?;
        let rate = i32::try_from(sound.rate).map_err(|_| failed(ff::Error::InvalidData))?;
        context.set_rate(rate);
        context.set_channel_layout(sound.layout);
        context.set_channels(sound.layout.channels());
        context.set_format(format::Sample::F32(format::sample::Type::Planar));
        context.set_bit_rate(sound.bit_rate);
        context.set_time_base(Rational::new(1, rate));
        let encoder = context.open_with(options).map_err(failed)?;
        Ok(Self { encoder, name })
    }

    /// The stream parameters a muxer needs.
    pub(crate) fn parameters(&self) -> codec::Parameters {
        codec::Parameters::from(&self.encoder)
    }

    /// The time base of its packets: one sample.
    pub(crate) fn time_base(&self) -> Rational {
        Rational::new(1, self.encoder.rate() as i32)
    }

    /// Sets up `sink` (an `abuffersink`) to deliver what this encoder takes.
    pub(crate) fn shape_sink(&self, sink: &mut filter::Context) {
        sink.set_sample_format(self.encoder.format());
        sink.set_channel_layout(self.encoder.channel_layout());
        sink.set_sample_rate(self.encoder.rate());
    }

    /// Samples per frame the encoder takes (its graph output cuts the sound to this).
    pub(crate) fn frame_size(&self) -> u32 {
        self.encoder.frame_size()
    }

    /// Encodes `frame`, timestamped in `from` (its graph output's time base), moved by
    /// `shift_seconds` onto the output timeline; `write` takes each packet made.
    ///
    /// # Errors
    /// `Unexpected` when the encoder fails; what `write` returns.
    pub(crate) fn encode(
        &mut self,
        frame: &mut frame::Audio,
        from: Rational,
        shift_seconds: f64,
        write: impl FnMut(&Packet) -> Result<(), TranscodeError>,
    ) -> Result<(), TranscodeError> {
        use ff::Rescale as _;
        let time_base = self.time_base();
        let shift = to_ts(shift_seconds, time_base);
        let pts = frame.pts().map(|pts| pts.rescale(from, time_base) + shift);
        frame.set_pts(pts);
        self.encoder.send_frame(frame).map_err(|e| {
            TranscodeError::Unexpected(anyhow::anyhow!("encoding {}: {e}", self.name))
        })?;
        self.drain(write)
    }

    /// Flushes the encoder at the end of the sound; `write` takes the last packets.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub(crate) fn finish(
        &mut self,
        write: impl FnMut(&Packet) -> Result<(), TranscodeError>,
    ) -> Result<(), TranscodeError> {
        self.encoder.send_eof().map_err(|e| {
            TranscodeError::Unexpected(anyhow::anyhow!("finishing {}: {e}", self.name))
        })?;
        self.drain(write)
    }

    fn drain(
        &mut self,
        mut write: impl FnMut(&Packet) -> Result<(), TranscodeError>,
    ) -> Result<(), TranscodeError> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            write(&packet)?;
        }
        Ok(())
    }
}
