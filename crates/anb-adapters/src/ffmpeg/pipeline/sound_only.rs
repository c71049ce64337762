//! The run when the MP3 is the only output: demux, decode the sound, encode the MP3. The
//! picture is never decoded, filtered or encoded, so converting the sound takes a small part
//! of a full run. Progress follows the sound's timeline.

use anb_domain::media::TranscodeReport;
use anb_domain::ports::TranscodeError;
use ffmpeg_next::format;

use super::audio::AudioTrack;
use super::{demux, Control, Staged};

/// Feeds the input's sound to `track` (which writes the MP3 into `mp3`) to the end of the
/// trim or of the input, then moves the MP3 into place.
///
/// # Errors
/// As [`transcode_file`](super::transcode_file); nothing is left at the MP3's destination.
pub(super) fn make_mp3(
    ictx: &mut format::context::Input,
    mut track: AudioTrack,
    mp3: Staged,
    control: &mut Control,
) -> Result<TranscodeReport, TranscodeError> {
    demux(ictx, control, |packet| {
        if packet.stream() == track.input_index() {
            track.packet(packet, None)?;
        }
        Ok((!track.is_done()).then(|| track.seconds()))
    })?;
    track.finish(None)?;
    let duration_seconds = track.seconds();
    mp3.commit()?;
    control.report(duration_seconds);
    tracing::debug!(duration_seconds, "made the MP3 alone");
    Ok(TranscodeReport {
        duration_seconds,
        width: 0,
        height: 0,
        has_audio: false,
        hls_rungs: Vec::new(),
        storyboard: false,
        mp3: true,
    })
}
