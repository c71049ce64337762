//! The MP3: the sound alone, encoded with LAME at a constant 128 kbit/s in stereo, in an MP3
//! file of its own. It is made from the same decoded sound as the AAC track (`audio.rs`), and
//! its packets go to its own muxer only, never to the MP4's or the HLS rungs'.

use std::path::Path;

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, encoder, frame, Dictionary, Rational};

use super::audio_encoder::{AudioEncoder, SoundFormat};
use super::fault;
use super::muxer::{Muxer, Track};

/// Sample rates MPEG-1 Layer III allows.
const MP3_RATES: [u32; 3] = [32_000, 44_100, 48_000];

/// The MP3's sound for a source sampled at `source_rate`: stereo at 128 kbit/s (constant
/// bitrate), at the source's rate when MP3 allows it, else 44.1 kHz.
pub(crate) fn mp3_format(source_rate: u32) -> SoundFormat {
    SoundFormat {
        rate: if MP3_RATES.contains(&source_rate) {
            source_rate
        } else {
            44_100
        },
        layout: ff::ChannelLayout::STEREO,
        bit_rate: 128_000,
    }
}

/// The MP3 being written: its encoder and its muxer.
pub(crate) struct Mp3Output {
    encoder: AudioEncoder,
    muxer: Muxer,
}

impl Mp3Output {
    /// Opens LAME for a source sampled at `source_rate` and an MP3 at `path` (its header
    /// written).
    ///
    /// # Errors
    /// `Unexpected` when this FFmpeg has no LAME or the file cannot be written.
    pub(crate) fn create(path: &Path, source_rate: u32) -> Result<Self, TranscodeError> {
        let lame = encoder::find_by_name("libmp3lame").ok_or_else(|| {
            TranscodeError::Unexpected(anyhow::anyhow!("no MP3 encoder (libmp3lame)"))
        })?;
        let encoder = AudioEncoder::open(lame, &mp3_format(source_rate), Dictionary::new(), "MP3")?;
        let mut muxer = Muxer::mp3(path)?;
        muxer.add(
            Track::Audio,
            encoder.parameters(),
            encoder.time_base(),
            None,
        )?;
        muxer.write_header()?;
        Ok(Self { encoder, muxer })
    }

    /// The encoder (what its graph output must deliver).
    pub(crate) fn encoder(&self) -> &AudioEncoder {
        &self.encoder
    }

    /// Encodes `frame` (timestamped in `from`, moved by `shift_seconds`) into the file.
    ///
    /// # Errors
    /// `Unexpected` when the encoder or the file fails.
    pub(crate) fn encode(
        &mut self,
        frame: &mut frame::Audio,
        from: Rational,
        shift_seconds: f64,
    ) -> Result<(), TranscodeError> {
        let Self { encoder, muxer } = self;
        encoder.encode(frame, from, shift_seconds, |packet| write(muxer, packet))
    }

    /// Flushes the encoder and finishes the file.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub(crate) fn finish(self) -> Result<(), TranscodeError> {
        let Self {
            mut encoder,
            mut muxer,
        } = self;
        encoder.finish(|packet| write(&mut muxer, packet))?;
        muxer.finish()
    }
}

fn write(muxer: &mut Muxer, packet: &ff::Packet) -> Result<(), TranscodeError> {
    muxer
        .write(Track::Audio, packet)
        .map_err(fault("writing the MP3"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mp3_keeps_a_rate_mp3_allows_and_takes_44_1_khz_otherwise() {
        assert_eq!(mp3_format(48_000).rate, 48_000);
        assert_eq!(mp3_format(44_100).rate, 44_100);
        assert_eq!(mp3_format(32_000).rate, 32_000);
        assert_eq!(mp3_format(96_000).rate, 44_100);
        assert_eq!(mp3_format(8_000).rate, 44_100);
        assert_eq!(mp3_format(8_000).layout, ff::ChannelLayout::STEREO);
    }
}
