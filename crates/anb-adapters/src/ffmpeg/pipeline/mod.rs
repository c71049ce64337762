//! One pass over the input: demux → decode → filter once → the fan-out (scale per rung →
//! encode → mux to the MP4 and the HLS rungs), with the thumbnail and the storyboard taken
//! from the filtered frames on the way. Blocking; [`super::FfmpegTranscoder`] runs it on the
//! blocking pool.
//!
//! The sound is read once too (`audio.rs`): the MP4 and the rungs get its AAC packets copied
//! or one AAC encode, and the MP3 (`mp3.rs`), when wanted, one more encode of the same decoded
//! sound into its own file. When the MP3 is the only output, the picture is not decoded at
//! all (`sound_only.rs`).
//!
//! The stages overlap on threads and hand frames on through bounded queues (moved, not
//! copied): the decoder runs on a thread of its own (`decode.rs`); the caller's thread demuxes,
//! filters, scales the rungs and samples the thumbnail and the storyboard; each encode runs
//! with its muxers on a thread of its own (`lane.rs`). So neither x264 nor the decoder needs
//! many threads of its own (`fanout.rs`, [`InputPolicy`](crate::ffmpeg::InputPolicy)): on 2
//! cores, one each.

mod audio;
mod audio_encoder;
mod control;
mod decode;
mod fanout;
mod graph;
mod hls;
mod lane;
mod mp3;
mod muxer;
mod sound_only;
mod storyboard;
mod thumbnail;
mod timing;
mod video;

use std::path::{Path, PathBuf};

use anb_domain::media::{AudioPolicy, Profile, TranscodeOutputs, TranscodeReport};
use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, format, frame, Dictionary, Packet};
use tempfile::TempPath;

pub use control::{Control, Progress};

use self::audio::{AacTrack, AudioTrack};
use self::fanout::Fanout;
use self::graph::GraphPlan;
use self::storyboard::StoryboardSampler;
use self::thumbnail::{write_jpeg, ThumbnailPicker};
use self::timing::{output_frame_rate, seconds};
use self::video::{encode_bumper, VideoSource};
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

/// Encoder options plus `+global_header`: MP4 and CMAF both want the headers out of band
/// (setting the flag through the options ORs it into the codec's defaults; `set_flags` would
/// replace them).
pub(crate) fn encoder_options<'a>(extra: &[(&str, &str)]) -> Dictionary<'a> {
    let mut options = Dictionary::new();
    options.set("flags", "+global_header");
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

/// A directory written under a temporary name beside its destination and moved there at the
/// end (replacing an earlier one), so a failed run leaves nothing at the destination.
struct StagedDir {
    temp: tempfile::TempDir,
    target: PathBuf,
}

impl StagedDir {
    fn beside(target: &Path) -> Result<Self, TranscodeError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let temp = tempfile::Builder::new()
            .prefix(".hls.")
            .suffix(".partial")
            .tempdir_in(dir)
            .map_err(|e| {
                TranscodeError::Unexpected(
                    anyhow::Error::new(e)
                        .context(format!("creating a directory in {}", dir.display())),
                )
            })?;
        #[cfg(unix)]
        std::fs::set_permissions(
            temp.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .map_err(|e| TranscodeError::Unexpected(anyhow::Error::new(e)))?;
        Ok(Self {
            temp,
            target: target.to_path_buf(),
        })
    }

    fn path(&self) -> &Path {
        self.temp.path()
    }

    fn commit(self) -> Result<(), TranscodeError> {
        let moved = |e: std::io::Error| {
            TranscodeError::Unexpected(
                anyhow::Error::new(e)
                    .context(format!("moving the output to {}", self.target.display())),
            )
        };
        if self.target.exists() {
            std::fs::remove_dir_all(&self.target).map_err(moved)?;
        }
        std::fs::rename(self.temp.path(), &self.target).map_err(moved)?;
        let _kept = self.temp.keep();
        Ok(())
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

/// Processes `input` with `profile` in one pass and writes the outputs the profile lists
/// under `outputs` ([`TranscodeOutputs`] names the files): the MP4 (fast start), the HLS
/// ladder (the rungs the source fills, never an enlargement; CMAF segments cut at keyframes
/// aligned across rungs; a master playlist), the JPEG thumbnail at half the output size, the
/// storyboard, the MP3 (the sound alone, covering what the MP4 covers). The input is decoded
/// and filtered once; the MP4 and the rung of the same size share one encode. When the MP3 is
/// the only output, the picture is not decoded at all. Blocking.
///
/// The input is opened under `control`'s [`InputPolicy`](crate::ffmpeg::InputPolicy) (by
/// default: MP4/MOV only, the local file only, bounded probing, an open deadline, bounded
/// decoder threads, pictures within the media limits).
///
/// Input problems (not media, a container the policy does not allow, no video stream, a still
/// image, an undecodable codec, no decodable picture, a picture outside the limits, a picture
/// the filters cannot take; an MP3 asked of a profile that drops the sound or of a video
/// without sound) are [`TranscodeError::BadMedia`] with a reason for the player. On any error
/// nothing is left at `outputs`.
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
    let wanted = &profile.outputs;
    if !wanted.makes_anything() {
        return Err(TranscodeError::Unexpected(anyhow::anyhow!(
            "the profile {} lists no output",
            profile.name
        )));
    }
    if wanted.mp3 && profile.audio == AudioPolicy::Remove {
        return Err(TranscodeError::BadMedia(
            "this profile keeps no sound, so there is no MP3 to make".into(),
        ));
    }
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
    let no_sound = || TranscodeError::BadMedia("the video has no sound to make an MP3 from".into());
    if wanted.mp3 && audio_stream.is_none() {
        return Err(no_sound());
    }

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
    let input_seconds = if ictx.duration() > 0 {
        ictx.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE)
    } else {
        profile.max_duration_seconds
    };
    let clip_seconds = input_seconds.min(profile.max_duration_seconds);
    let staged_mp3 = wanted
        .mp3
        .then(|| Staged::beside(&outputs.audio()))
        .transpose()?;
    if !wanted.makes_pictures() {
        // Only the MP3 (`makes_anything`), so the sound is there (checked above).
        let stream = audio_stream.ok_or_else(no_sound)?;
        let mp3 = staged_mp3.ok_or_else(no_sound)?;
        let track = AudioTrack::new(&stream, None, Some(mp3.path()), trim)?;
        control.expect(clip_seconds);
        return sound_only::make_mp3(&mut ictx, track, mp3, &mut control);
    }
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
    let bumper_seconds = profile.bumper_seconds.unwrap_or(0.0);
    let expected_seconds = clip_seconds + 2.0 * bumper_seconds;
    control.expect(expected_seconds);

    let staged_video = wanted
        .mp4
        .then(|| Staged::beside(&outputs.video()))
        .transpose()?;
    let staged_thumbnail = wanted
        .thumbnail
        .then(|| Staged::beside(&outputs.thumbnail()))
        .transpose()?;
    let staged_hls = wanted
        .hls
        .as_ref()
        .map(|_| StagedDir::beside(&outputs.hls()))
        .transpose()?;
    let (display_width, display_height) = source.display_size();
    let rungs = wanted
        .hls
        .as_ref()
        .map(|ladder| ladder.rungs_for(display_width, display_height))
        .unwrap_or_default();
    let ladder = wanted
        .hls
        .as_ref()
        .zip(staged_hls.as_ref())
        .map(|(ladder, dir)| (ladder, rungs.as_slice(), dir.path()));
    let storyboard = wanted
        .storyboard
        .map(|board| StoryboardSampler::new(board, expected_seconds));
    let mut out = Fanout::open(
        profile,
        fps,
        staged_video.as_ref().map(Staged::path),
        ladder,
        storyboard,
    )?;
    let aac = audio_stream
        .as_ref()
        .filter(|_| out.wants_audio())
        .map(|stream| {
            if iso_bmff && stream.parameters().id() == ff::codec::Id::AAC {
                AacTrack::Copy
            } else {
                AacTrack::Encode
            }
        });
    let mp3_path = staged_mp3.as_ref().map(Staged::path);
    let mut audio = match audio_stream.filter(|_| aac.is_some() || mp3_path.is_some()) {
        Some(stream) => match AudioTrack::new(&stream, aac, mp3_path, trim) {
            Ok(track) => Some(track),
            // Unreadable sound only costs the MP4 and the rungs their sound; the MP3 is it.
            Err(TranscodeError::BadMedia(reason)) if mp3_path.is_none() => {
                tracing::warn!(%reason, "dropping an unreadable audio track");
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    let has_audio = match audio.as_ref().and_then(AudioTrack::fanout_stream) {
        Some((parameters, time_base)) => {
            out.add_audio(&parameters, time_base)?;
            true
        }
        None => false,
    };
    out.start()?;

    if bumper_seconds > 0.0 {
        encode_bumper(&assets.intro, &plan, bumper_seconds, &mut out)?;
        source.start_at(out.frames() as i64);
        if let Some(track) = audio.as_mut() {
            track.set_offset(out.seconds());
        }
    }

    demux(&mut ictx, &mut control, |packet| {
        let index = packet.stream();
        if index == source.input_index() {
            if !source.is_done() {
                source.packet(packet, &mut out)?;
            }
        } else if let Some(track) = audio.as_mut().filter(|t| t.input_index() == index) {
            track.packet(packet, Some(&mut out))?;
        }
        let finished = source.is_done() && audio.as_ref().is_none_or(AudioTrack::is_done);
        Ok((!finished).then(|| out.seconds()))
    })?;
    source.finish(&mut out)?;
    if source.decoded() == 0 {
        return Err(TranscodeError::BadMedia(
            "no picture could be decoded from the video stream".into(),
        ));
    }
    if let Some(track) = audio.as_mut() {
        track.finish(Some(&mut out))?;
    }
    if bumper_seconds > 0.0 {
        encode_bumper(&assets.outro, &plan, bumper_seconds, &mut out)?;
    }
    let duration_seconds = out.seconds();
    let storyboard = out.finish()?;

    let picture = source.thumbnail.picked().ok_or_else(|| {
        TranscodeError::BadMedia("no picture could be decoded from the video stream".into())
    })?;
    if let Some(staged) = &staged_thumbnail {
        let (width, height) = profile.thumbnail_size();
        write_jpeg(picture, width, height, staged.path())?;
    }
    let staged_board = match &storyboard {
        Some(board) => {
            let sprite = Staged::beside(&outputs.storyboard_sprite())?;
            let cues = Staged::beside(&outputs.storyboard_cues())?;
            board.write(duration_seconds, sprite.path(), cues.path())?;
            Some((sprite, cues))
        }
        None => None,
    };
    if let Some(dir) = &staged_hls {
        hls::write_master(dir.path(), &rungs, timing::positive(fps).unwrap_or(30.0))?;
    }
    let stamped = source.stamps_logo();
    let mp3 = staged_mp3.is_some();
    for staged in [staged_video, staged_thumbnail, staged_mp3]
        .into_iter()
        .flatten()
    {
        staged.commit()?;
    }
    if let Some((sprite, cues)) = staged_board {
        sprite.commit()?;
        cues.commit()?;
    }
    let hls_rungs = match staged_hls {
        Some(dir) => {
            dir.commit()?;
            rungs
        }
        None => Vec::new(),
    };
    control.report(duration_seconds);
    tracing::debug!(
        duration_seconds,
        has_audio,
        stamped,
        rungs = hls_rungs.len(),
        mp3,
        "transcoded"
    );
    Ok(TranscodeReport {
        duration_seconds,
        width: profile.width,
        height: profile.height,
        has_audio,
        hls_rungs,
        storyboard: storyboard.is_some(),
        mp3,
    })
}

/// Reads the input's packets and hands each to `handle`, until the input ends or `handle`
/// says every track is done (`None`; otherwise it says how many seconds of output there are,
/// for the progress). Checks `control` before every packet and once more at the end.
///
/// # Errors
/// What `handle` returns; `Cancelled` / `TimedOut` from `control`.
fn demux(
    ictx: &mut format::context::Input,
    control: &mut Control,
    mut handle: impl FnMut(Packet) -> Result<Option<f64>, TranscodeError>,
) -> Result<(), TranscodeError> {
    let mut undecodable_reads = 0_u32;
    loop {
        control.check()?;
        let mut packet = Packet::empty();
        match packet.read(ictx) {
            Ok(()) => {
                undecodable_reads = 0;
                match handle(packet)? {
                    Some(output_seconds) => control.report(output_seconds),
                    None => break,
                }
            }
            Err(ff::Error::Eof) => break,
            // A damaged packet: the demuxer resyncs past it.
            Err(ff::Error::InvalidData) if undecodable_reads < 1_000 => undecodable_reads += 1,
            // Anything else (a truncated file's read error, or the interrupt callback): the
            // input ends here, unless the run was cancelled or is overdue.
            Err(_) => break,
        }
    }
    control.check()
}
