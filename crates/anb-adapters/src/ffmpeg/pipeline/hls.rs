//! The HLS master playlist, written once every rung is finished: each rung's measured peak
//! and average bitrate (from its segments, as the HLS specification defines BANDWIDTH), its
//! size, frame rate and RFC 6381 codecs (read from the rung's own init segment).

use std::path::Path;

use anb_domain::media::{Rung, HLS_MASTER};
use anb_domain::ports::TranscodeError;
use m3u8_rs::{MasterPlaylist, Resolution, VariantStream};

/// Writes `dir/master.m3u8` for the rungs under `dir` (largest first).
pub(crate) fn write_master(dir: &Path, rungs: &[Rung], fps: f64) -> Result<(), TranscodeError> {
    let mut variants = Vec::with_capacity(rungs.len());
    for rung in rungs {
        let rung_dir = dir.join(rung.name());
        let (peak, average) = bitrates(&rung_dir)?;
        let init =
            std::fs::read(rung_dir.join("init.mp4")).map_err(io("reading an init segment"))?;
        variants.push(VariantStream {
            uri: format!("{}/index.m3u8", rung.name()),
            bandwidth: peak,
            average_bandwidth: Some(average),
            codecs: Some(codecs(&init)?),
            resolution: Some(Resolution {
                width: u64::from(rung.width),
                height: u64::from(rung.height),
            }),
            frame_rate: Some((fps * 1000.0).round() / 1000.0),
            ..VariantStream::default()
        });
    }
    let master = MasterPlaylist {
        version: Some(7),
        independent_segments: true,
        variants,
        ..MasterPlaylist::default()
    };
    let mut text = Vec::new();
    master
        .write_to(&mut text)
        .map_err(io("writing the master playlist"))?;
    std::fs::write(dir.join(HLS_MASTER), text).map_err(io("writing the master playlist"))
}

/// Peak and average bits per second over a rung's segments. The peak ignores a last
/// fragment shorter than half a second (a few frames' bitrate says nothing about the stream).
fn bitrates(rung_dir: &Path) -> Result<(u64, u64), TranscodeError> {
    let text = std::fs::read(rung_dir.join("index.m3u8")).map_err(io("reading a rung playlist"))?;
    let playlist = m3u8_rs::parse_media_playlist_res(&text).map_err(|e| {
        TranscodeError::Unexpected(anyhow::anyhow!(
            "the muxer wrote an unreadable playlist: {e}"
        ))
    })?;
    let (mut bits, mut seconds, mut peak) = (0_u64, 0_f64, 0_u64);
    let count = playlist.segments.len();
    for (i, segment) in playlist.segments.iter().enumerate() {
        let size = std::fs::metadata(rung_dir.join(&segment.uri))
            .map_err(io("reading a segment's size"))?
            .len();
        let duration = f64::from(segment.duration).max(1e-3);
        bits += size * 8;
        seconds += duration;
        if duration >= 0.5 || count == 1 || i + 1 < count {
            peak = peak.max((size as f64 * 8.0 / duration).ceil() as u64);
        }
    }
    let average = (bits as f64 / seconds.max(1e-3)).ceil() as u64;
    Ok((peak.max(average), average))
}

/// `avc1.PPCCLL` from the `avcC` box, plus `mp4a.40.N` from the `esds` box when the rung has
/// sound.
fn codecs(init: &[u8]) -> Result<String, TranscodeError> {
    let avcc = find_box(init, b"avcC")
        .filter(|body| body.len() >= 4)
        .ok_or_else(|| TranscodeError::Unexpected(anyhow::anyhow!("no avcC in a rung")))?;
    let mut codecs = format!("avc1.{:02x}{:02x}{:02x}", avcc[1], avcc[2], avcc[3]);
    if let Some(esds) = find_box(init, b"esds") {
        let object_type = aac_object_type(esds).unwrap_or(2);
        codecs.push_str(&format!(",mp4a.40.{object_type}"));
    }
    Ok(codecs)
}

/// The body of the first box named `name` (found by its four-character code; the init
/// segments are small and the codes do not occur elsewhere in them).
fn find_box<'a>(data: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    let at = data.windows(4).position(|w| w == name)?;
    let size_at = at.checked_sub(4)?;
    let size = u32::from_be_bytes(data[size_at..at].try_into().ok()?) as usize;
    data.get(at + 4..size_at + size)
}

/// The AAC audio object type from an `esds` body: ES_Descriptor → DecoderConfigDescriptor →
/// DecoderSpecificInfo, whose first five bits are the type (2 = LC, 5 = HE, 29 = HEv2).
fn aac_object_type(esds: &[u8]) -> Option<u8> {
    let mut at = 4; // version and flags
    loop {
        let tag = *esds.get(at)?;
        at += 1;
        let mut length = 0_usize;
        for _ in 0..4 {
            let byte = *esds.get(at)?;
            at += 1;
            length = (length << 7) | usize::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                break;
            }
        }
        match tag {
            0x03 => {
                let flags = *esds.get(at + 2)?;
                at += 3;
                if flags & 0x80 != 0 {
                    at += 2;
                }
                if flags & 0x40 != 0 {
                    at += 1 + usize::from(*esds.get(at)?);
                }
                if flags & 0x20 != 0 {
                    at += 2;
                }
            }
            0x04 => at += 13,
            0x05 => return esds.get(at).map(|b| b >> 3),
            _ => at += length,
        }
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> TranscodeError {
    move |e| TranscodeError::Unexpected(anyhow::Error::new(e).context(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aac_object_type_is_read_through_the_descriptors() {
        // version/flags, ES_Descriptor (id 1, no flags), DecoderConfigDescriptor (mp4a,
        // audio, buffer, rates), DecoderSpecificInfo 0x12 0x10 (LC, 44.1 kHz, stereo).
        let esds = [
            0, 0, 0, 0, 0x03, 0x19, 0, 1, 0, 0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0, 1, 0xf4, 0, 0, 1,
            0xf4, 0, 0x05, 0x02, 0x12, 0x10,
        ];
        assert_eq!(aac_object_type(&esds), Some(2));
        let he = [
            0, 0, 0, 0, 0x03, 0x80, 0x80, 0x80, 0x19, 0, 1, 0, 0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0,
            1, 0xf4, 0, 0, 1, 0xf4, 0, 0x05, 0x02, 0x2b, 0x10,
        ];
        assert_eq!(aac_object_type(&he), Some(5));
    }

    #[test]
    fn a_box_body_is_found_by_its_code() {
        let data = [0, 0, 0, 12, b'a', b'v', b'c', b'C', 1, 0x64, 0, 0x1f];
        assert_eq!(find_box(&data, b"avcC"), Some(&[1, 0x64, 0, 0x1f][..]));
        assert_eq!(find_box(&data, b"esds"), None);
    }
}
