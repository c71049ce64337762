//! One pass over the input: demux → decode → filter → encode → mux, with the thumbnail taken
//! from the filtered frames on the way. Blocking; [`super::FfmpegTranscoder`] runs it on the
//! blocking pool.

mod audio;
mod control;
mod graph;
mod thumbnail;
mod timing;
mod video;

use std::path::{Path, PathBuf};

use anb_domain::media::{AudioPolicy, Profile, TranscodeOutputs, TranscodeReport};
use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, format, frame, Dictionary, Packet};
use tempfile::TempPath;

pub use control::{Control, Progress};

use self::audio::AudioTrack;
use self::graph::GraphPlan;
use self::thumbnail::{write_jpeg, ThumbnailPicker};
use self::timing::{output_frame_rate, seconds};
use self::video::{encode_bumper, VideoEncoder, VideoSource};
use super::assets::ProcessingAssets;
use super::probe::rotation_of;

/// The window of the input a track keeps, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Trim {
    /// Input time that maps to the clip's start (the earliest start of the kept streams).
    pub origin_seconds: f64,
    /// Keep input time `origin .. origin + limit`.
    pub limit_seconds: f64,
    /// Where the clip starts on the output timeline (after an intro bumper).
    pub offset_seconds: f64,
}

/// Maps an FFmpeg error on the input side to `BadMedia`, with the player-facing `what`.
pub(crate) fn bad(what: &'static str) -> impl Fn(ff::Error) -> TranscodeError + Copy {
    move |e| TranscodeError::BadMedia(format!("{what} ({e})"))
}

/// Maps an FFmpeg error on our side (encoders, muxer, files) to `Unexpected`.
pub(crate) fn fault(what: &'static str) -> impl Fn(ff::Error) -> TranscodeError + Copy {
    move |e| TranscodeError::Unexpected(anyhow::anyhow!("{what}: {e}"))
}

/// Encoder options plus `+global_header` when the muxer wants the headers out of band
/// (setting the flag through the options ORs it into the codec's defaults; `set_flags` would
/// replace them).
pub(crate) fn encoder_options<'a>(
    octx: &format::context::Output,
    extra: &[(&str, &str)],
) -> Dictionary<'a> {
    let mut options = Dictionary::new();
    if octx.format().flags().contains(format::Flags::GLOBAL_HEADER) {
        options.set("flags", "+global_header");
    }
    for (key, value) in extra {
        options.set(key, value);
    }
    options
}

/// Demuxers that read single pictures: a PNG or JPEG is not a clip.
fn is_still_image(demuxer: &str) -> bool {
    demuxer == "image2" || demuxer.split(',').any(|name| name.ends_with("_pipe"))
}

/// A file written under a temporary name beside its destination and moved there at the end,
/// so a failed run leaves nothing at the destination.
struct Staged {
    temp: TempPath,
    target: PathBuf,
}

impl Staged {
    fn beside(target: &Path) -> Result<Self, TranscodeError> {
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".partial");
        // Outputs are ordinary files (the umask applies), not private temporaries.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| {
                TranscodeError::Unexpected(
                    anyhow::Error::new(e).context(format!("creating a file in {}", dir.display())),
                )
            })?
            .into_temp_path();
        Ok(Self {
            temp,
            target: target.to_path_buf(),
        })
    }

    fn path(&self) -> &Path {
        &self.temp
    }

    fn commit(self) -> Result<(), TranscodeError> {
        self.temp.persist(&self.target).map_err(|e| {
            TranscodeError::Unexpected(
                anyhow::Error::new(e.error)
                    .context(format!("moving the output to {}", self.target.display())),
            )
        })
    }
}

/// Decodes the first picture of an image file (the logo).
fn load_picture(path: &Path) -> Result<frame::Video, TranscodeError> {
    let broken = |e: ff::Error| {
        TranscodeError::Unexpected(anyhow::anyhow!("reading {}: {e}", path.display()))
    };
    let mut input = ff::format::input(&path).map_err(broken)?;
    let stream = input
        .streams()
        .best(ff::media::Type::Video)
        .ok_or(ff::Error::StreamNotFound)
        .map_err(broken)?;
    let index = stream.index();
    let mut decoder = ff::codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().video())
        .map_err(broken)?;
    let mut picture = frame::Video::empty();
    let mut packet = Packet::empty();
    loop {
        match packet.read(&mut input) {
            Ok(()) if packet.stream() == index => {
                decoder.send_packet(&packet).map_err(broken)?;
                if decoder.receive_frame(&mut picture).is_ok() {
                    return Ok(picture);
                }
            }
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(broken(e)),
        }
    }
    decoder.send_eof().map_err(broken)?;
    decoder.receive_frame(&mut picture).map_err(broken)?;
    Ok(picture)
}

/// Processes `input` with `profile` in one pass and writes `outputs` (an MP4 with fast start
/// and a JPEG thumbnail at half the output size). Blocking.
///
/// The input is opened under `control`'s [`InputPolicy`](crate::ffmpeg::InputPolicy) (by
/// default: MP4/MOV only, the local file only, bounded probing, an open deadline, bounded
/// decoder threads, pictures within the media limits).
///
/// Input problems (not media, a container the policy does not allow, no video stream, a still
/// image, an undecodable codec, no decodable picture, a picture outside the limits, a picture
/// the filters cannot take) are [`TranscodeError::BadMedia`] with a reason for the player. On
/// any error nothing is left at `outputs`.
///
/// # Errors
/// As above; `Cancelled` / `TimedOut` from `control`; `Unexpected` for faults on our side.
pub fn transcode_file(
    input: &Path,
    outputs: &TranscodeOutputs,
    profile: &Profile,
    assets: &ProcessingAssets,
    mut control: Control,
) -> Result<TranscodeReport, TranscodeError> {
    let mut ictx = match super::input::open(input, control.input_policy(), control.interrupter()) {
        Ok(ictx) => ictx,
        Err(refused) => {
            // Cancelled or overdue while opening: say so, not "bad media".
            control.check()?;
            return Err(refused);
        }
    };
    let demuxer = ictx.format().name().to_owned();
    if is_still_image(&demuxer) {
        return Err(TranscodeError::BadMedia(
            "the file is a still image, not a video".into(),
        ));
    }
    let iso_bmff = demuxer.split(',').any(|n| n == "mov" || n == "mp4");
    let video_stream = ictx
        .streams()
        .filter(|s| s.parameters().medium() == ff::media::Type::Video)
        .find(|s| {
            !s.disposition()
                .contains(format::stream::Disposition::ATTACHED_PIC)
        })
        .ok_or_else(|| TranscodeError::BadMedia("the file has no video stream".into()))?;
    let audio_stream = match profile.audio {
        AudioPolicy::Remove => None,
        AudioPolicy::Keep => ictx.streams().best(ff::media::Type::Audio),
    };

    let start = |s: &ff::format::stream::Stream<'_>| {
        (s.start_time() != ff::ffi::AV_NOPTS_VALUE).then(|| seconds(s.start_time(), s.time_base()))
    };
    let origin_seconds = [Some(&video_stream), audio_stream.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(start)
        .fold(None, |min: Option<f64>, t| {
            Some(min.map_or(t, |m| m.min(t)))
        })
        .unwrap_or(0.0);
    let trim = Trim {
        origin_seconds,
        limit_seconds: profile.max_duration_seconds,
        offset_seconds: 0.0,
    };
    let fps = output_frame_rate(video_stream.avg_frame_rate(), video_stream.rate());
    let plan = GraphPlan {
        fps,
        rotation: rotation_of(&video_stream),
        width: profile.width,
        height: profile.height,
        logo: profile.logo.clone(),
    };
    let logo = match &profile.logo {
        Some(_) => Some(load_picture(&assets.logo)?),
        None => None,
    };
    let thumbnail_frame =
        (profile.thumbnail_at_seconds.max(0.0) * timing::positive(fps).unwrap_or(30.0)) as u64;
    let mut source = VideoSource::open(
        &video_stream,
        control.input_policy(),
        plan.clone(),
        logo,
        trim,
        ThumbnailPicker::new(thumbnail_frame),
    )?;
    let input_seconds = if ictx.duration() > 0 {
        ictx.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE)
    } else {
        profile.max_duration_seconds
    };
    let bumper_seconds = profile.bumper_seconds.unwrap_or(0.0);
    control.expect(input_seconds.min(profile.max_duration_seconds) + 2.0 * bumper_seconds);

    let staged_video = Staged::beside(&outputs.video)?;
    let staged_thumbnail = Staged::beside(&outputs.thumbnail)?;
    let mut octx = ff::format::output_as(&staged_video.path(), "mp4")
        .map_err(fault("creating the output file"))?;
    let mut encoder = VideoEncoder::open(profile, fps, &mut octx)?;
    let mut audio = match audio_stream {
        Some(stream) => {
            let copy = iso_bmff && stream.parameters().id() == ff::codec::Id::AAC;
            match AudioTrack::new(&stream, copy, &mut octx, trim) {
                Ok(track) => Some(track),
                Err(TranscodeError::BadMedia(reason)) => {
                    tracing::warn!(%reason, "dropping an unreadable audio track");
                    None
                }
                Err(e) => return Err(e),
            }
        }
        None => None,
    };

    let mut header_options = Dictionary::new();
    header_options.set("movflags", "+faststart");
    let unused = octx
        .write_header_with(header_options)
        .map_err(fault("writing the MP4 header"))?;
    if unused.get("movflags").is_some() {
        return Err(TranscodeError::Unexpected(anyhow::anyhow!(
            "the MP4 muxer ignored movflags=+faststart"
        )));
    }
    drop(unused);
    encoder.header_written(&octx);
    if let Some(track) = audio.as_mut() {
        track.header_written(&octx);
    }

    if bumper_seconds > 0.0 {
        encode_bumper(
            &assets.intro,
            &plan,
            bumper_seconds,
            &mut encoder,
            &mut octx,
        )?;
        let intro_seconds =
            encoder.frames() as f64 * timing::positive(encoder.time_base()).unwrap_or(0.0);
        source.start_at(encoder.frames() as i64);
        if let Some(track) = audio.as_mut() {
            track.set_offset(intro_seconds);
        }
    }

    let mut undecodable_reads = 0_u32;
    loop {
        control.check()?;
        let mut packet = Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {
                undecodable_reads = 0;
                let index = packet.stream();
                if index == source.input_index() {
                    if !source.is_done() {
                        source.packet(&packet, &mut encoder, &mut octx)?;
                    }
                } else if let Some(track) = audio.as_mut().filter(|t| t.input_index() == index) {
                    if !track.is_done() {
                        track.packet(packet, &mut octx)?;
                    }
                }
                if source.is_done() && audio.as_ref().is_none_or(AudioTrack::is_done) {
                    break;
                }
                control.report(
                    encoder.frames() as f64 * timing::positive(encoder.time_base()).unwrap_or(0.0),
                );
            }
            Err(ff::Error::Eof) => break,
            // A damaged packet: the demuxer resyncs past it.
            Err(ff::Error::InvalidData) if undecodable_reads < 1_000 => undecodable_reads += 1,
            // Anything else (a truncated file's read error, or the interrupt callback): the
            // input ends here, unless the run was cancelled or is overdue.
            Err(_) => break,
        }
    }
    control.check()?;
    source.finish(&mut encoder, &mut octx)?;
    if source.decoded() == 0 {
        return Err(TranscodeError::BadMedia(
            "no picture could be decoded from the video stream".into(),
        ));
    }
    if let Some(track) = audio.as_mut() {
        track.finish(&mut octx)?;
    }
    if bumper_seconds > 0.0 {
        encode_bumper(
            &assets.outro,
            &plan,
            bumper_seconds,
            &mut encoder,
            &mut octx,
        )?;
    }
    encoder.finish(&mut octx)?;
    octx.write_trailer()
        .map_err(fault("finishing the MP4 (fast start)"))?;

    let picture = source.thumbnail.picked().ok_or_else(|| {
        TranscodeError::BadMedia("no picture could be decoded from the video stream".into())
    })?;
    write_jpeg(
        picture,
        profile.width / 2 / 2 * 2,
        profile.height / 2 / 2 * 2,
        staged_thumbnail.path(),
    )?;
    let duration_seconds =
        encoder.frames() as f64 * timing::positive(encoder.time_base()).unwrap_or(0.0);
    let has_audio = audio.is_some();
    let stamped = source.stamps_logo();
    drop(octx);
    staged_video.commit()?;
    staged_thumbnail.commit()?;
    control.report(duration_seconds);
    tracing::debug!(duration_seconds, has_audio, stamped, "transcoded");
    Ok(TranscodeReport {
        duration_seconds,
        width: profile.width,
        height: profile.height,
        has_audio,
    })
}
