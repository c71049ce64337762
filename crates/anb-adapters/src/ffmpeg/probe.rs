use std::path::{Path, PathBuf};

use anb_domain::media::{Container, MediaInfo, MediaInput, VideoStreamInfo};
use anb_domain::ports::TranscodeError;
use anyhow::Context as _;
use ffmpeg_next as ff;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::input::InputPolicy;

/// Display rotation in degrees (0, 90, 180, 270) from a display matrix: FFmpeg's
/// `av_display_rotation_get`, rounded to a quarter turn and wrapped into 0..360. It is the
/// `rotation` ffprobe shows and the value of the legacy `rotate` tag phones write (90 for a
/// portrait clip).
fn rotation_from_display_matrix(data: &[u8]) -> Option<i32> {
    if data.len() < 36 {
        return None;
    }
    let m: Vec<f64> = data[..36]
        .chunks_exact(4)
        .map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 65536.0)
        .collect();
    let scale0 = m[0].hypot(m[3]);
    let scale1 = m[1].hypot(m[4]);
    if scale0 == 0.0 || scale1 == 0.0 {
        return None;
    }
    let rotation = -(m[1] / scale1).atan2(m[0] / scale0).to_degrees();
    let quarter_turns = (rotation / 90.0).round() as i32;
    Some(quarter_turns.rem_euclid(4) * 90)
}

/// The display rotation of `stream` in degrees (0 when it has no display matrix).
pub(crate) fn rotation_of(stream: &ff::format::stream::Stream<'_>) -> i32 {
    stream
        .side_data()
        .find(|side| side.kind() == ff::codec::packet::side_data::Type::DisplayMatrix)
        .and_then(|side| rotation_from_display_matrix(side.data()))
        .unwrap_or(0)
}

/// Reads the header of the file at `path` under the default [`InputPolicy`] (MP4/MOV only,
/// local file only, bounded probing, a deadline): see [`probe_file_with`].
///
/// # Errors
/// As [`probe_file_with`].
pub fn probe_file(path: &Path) -> Result<MediaInfo, TranscodeError> {
    probe_file_with(path, &InputPolicy::default())
}

/// Reads the header of the file at `path`, opened under `policy`: container family,
/// duration, stream count, first video stream (codec, size, pixel aspect, rotation, frame
/// rate), first audio codec. It does not judge them: that is
/// [`MediaLimits::check`](anb_domain::media::MediaLimits::check). Blocking: call it off the
/// async runtime (or use [`probe_with`]).
///
/// # Errors
/// [`TranscodeError::BadMedia`] when FFmpeg cannot open the file as media under `policy`
/// (a container it does not allow included), or opening it takes longer than the policy's
/// `open_timeout`.
pub fn probe_file_with(path: &Path, policy: &InputPolicy) -> Result<MediaInfo, TranscodeError> {
    let input = super::input::open(path, policy, || false)?;
    let format_name = input.format().name().to_owned();
    let container = if format_name.split(',').any(|n| n == "mov" || n == "mp4") {
        Container::IsoBmff
    } else {
        Container::Other(format_name)
    };
    let duration_seconds =
        (input.duration() > 0).then(|| input.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE));

    let mut video = None;
    let mut audio_codec = None;
    for stream in input.streams() {
        let parameters = stream.parameters();
        match parameters.medium() {
            ff::media::Type::Video if video.is_none() => {
                let decoder = ff::codec::context::Context::from_parameters(parameters.clone())
                    .and_then(|c| c.decoder().video())
                    .map_err(|e| {
                        TranscodeError::BadMedia(format!("unreadable video stream ({e})"))
                    })?;
                let rotation_degrees = rotation_of(&stream);
                let rate = stream.avg_frame_rate();
                let sar = decoder.aspect_ratio();
                video = Some(VideoStreamInfo {
                    codec: parameters.id().name().to_owned(),
                    width: decoder.width(),
                    height: decoder.height(),
                    rotation_degrees,
                    frame_rate: (rate.denominator() != 0 && rate.numerator() > 0)
                        .then(|| f64::from(rate.numerator()) / f64::from(rate.denominator())),
                    sample_aspect_ratio: u32::try_from(sar.numerator())
                        .ok()
                        .zip(u32::try_from(sar.denominator()).ok())
                        .filter(|&(num, den)| num > 0 && den > 0),
                });
            }
            ff::media::Type::Audio if audio_codec.is_none() => {
                audio_codec = Some(parameters.id().name().to_owned());
            }
            _ => {}
        }
    }
    Ok(MediaInfo {
        container,
        duration_seconds,
        video,
        audio_codec,
        stream_count: input.nb_streams(),
    })
}

/// [`probe_with`] under the default [`InputPolicy`].
///
/// # Errors
/// As [`probe_with`].
pub async fn probe(input: MediaInput) -> Result<MediaInfo, TranscodeError> {
    probe_with(input, &InputPolicy::default()).await
}

/// [`probe_file_with`] for any [`MediaInput`], on the blocking pool. A stream is spooled to a
/// temporary file first (MP4s from phones keep their index at the end, so the whole file is
/// needed), which is removed afterwards.
///
/// # Errors
/// As [`probe_file_with`]; [`TranscodeError::Unexpected`] when the stream fails or the spool
/// cannot be written.
pub async fn probe_with(
    input: MediaInput,
    policy: &InputPolicy,
) -> Result<MediaInfo, TranscodeError> {
    let (path, _spool): (PathBuf, Option<tempfile::TempPath>) = match input {
        MediaInput::File(path) => (path, None),
        MediaInput::Stream(mut stream) => {
            let spool = tempfile::Builder::new()
                .prefix("anb-probe-")
                .tempfile()
                .context("creating a spool file")?
                .into_temp_path();
            let mut file = tokio::fs::File::create(&spool)
                .await
                .context("opening the spool file")?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.context("reading the upload")?;
                file.write_all(&chunk)
                    .await
                    .context("spooling the upload")?;
            }
            file.flush().await.context("spooling the upload")?;
            (spool.to_path_buf(), Some(spool))
        }
    };
    let policy = policy.clone();
    tokio::task::spawn_blocking(move || probe_file_with(&path, &policy))
        .await
        .context("the probe task panicked")?
}

#[cfg(test)]
mod tests {
    use super::rotation_from_display_matrix;

    fn matrix(a: i32, b: i32, c: i32, d: i32) -> Vec<u8> {
        [a, b, 0, c, d, 0, 0, 0, 1 << 30]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    #[test]
    fn display_matrices_give_the_rotation_ffprobe_reports() {
        let one = 1 << 16;
        let cases = [
            (matrix(one, 0, 0, one), Some(0)),
            // What a remux with `-metadata:s:v rotate=90` writes; ffprobe says `rotation=90`.
            (matrix(0, -one, one, 0), Some(90)),
            (matrix(-one, 0, 0, -one), Some(180)),
            (matrix(0, one, -one, 0), Some(270)),
            (vec![0; 8], None),
        ];
        for (m, expected) in cases {
            assert_eq!(rotation_from_display_matrix(&m), expected);
        }
    }
}
