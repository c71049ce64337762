//! The video track: decode → filter graph → the fan-out to the encoders, plus the bumpers;
//! and the H.264 encoder.

use std::path::Path;

use anb_domain::media::MediaLimits;
use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, codec, encoder, format, frame, Packet, Rational};

use super::decode::DecodeThread;
use super::fanout::Fanout;
use super::graph::{GraphPlan, VideoGraph};
use super::thumbnail::ThumbnailPicker;
use super::timing::{seconds, to_ts};
use super::{bad, fault, Trim};
use crate::ffmpeg::InputPolicy;

/// How an H.264 encoder is set up.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EncoderSettings {
    /// Picture size.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// x264 preset.
    pub preset: String,
    /// Constant rate factor.
    pub crf: u8,
    /// For streaming: a keyframe every this many frames exactly (no scene-cut keyframes, so
    /// every rung cuts at the same frames) and a bitrate cap in kbit/s.
    pub streaming: Option<(u32, u32)>,
    /// x264's threads; 0 lets x264 choose (about one and a half per core).
    pub threads: u32,
}

/// An H.264 encoder (libx264). Frames come in at the fan-out's timeline (`1/fps`); packets
/// come out in the same time base.
pub(crate) struct VideoEncoder {
    encoder: encoder::Video,
}

impl VideoEncoder {
    /// Opens libx264 with `settings`, its headers out of band (what MP4 and CMAF want).
    ///
    /// The context is created with the codec so libx264's own defaults (automatic threads,
    /// closed GOPs) apply.
    pub(crate) fn open(settings: &EncoderSettings, fps: Rational) -> Result<Self, TranscodeError> {
        let codec = encoder::find_by_name("libx264")
            .or_else(|| encoder::find(codec::Id::H264))
            .ok_or_else(|| TranscodeError::Unexpected(anyhow::anyhow!("no H.264 encoder")))?;
        let mut context = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(fault("creating the H.264 encoder"))?;
        context.set_width(settings.width);
        context.set_height(settings.height);
        context.set_format(format::Pixel::YUV420P);
        context.set_aspect_ratio(Rational::new(1, 1));
        context.set_time_base(fps.invert());
        context.set_frame_rate(Some(fps));
        let crf = settings.crf.to_string();
        let mut options = vec![
            ("preset".to_owned(), settings.preset.clone()),
            ("crf".to_owned(), crf),
        ];
        if settings.threads > 0 {
            options.push(("threads".to_owned(), settings.threads.to_string()));
        }
        if let Some((gop, max_kbps)) = settings.streaming {
            options.push((
                "x264-params".to_owned(),
                format!("keyint={gop}:min-keyint={gop}:scenecut=0"),
            ));
            options.push(("maxrate".to_owned(), format!("{max_kbps}k")));
            options.push(("bufsize".to_owned(), format!("{}k", max_kbps * 2)));
        }
        let pairs: Vec<(&str, &str)> = options
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let encoder = context
            .open_with(super::encoder_options(&pairs))
            .map_err(|e| {
                TranscodeError::Unexpected(anyhow::anyhow!(
                    "opening libx264 at {}x{} with preset {} and crf {}: {e}",
                    settings.width,
                    settings.height,
                    settings.preset,
                    settings.crf
                ))
            })?;
        Ok(Self { encoder })
    }

    /// The stream parameters a muxer needs (codec, size, headers).
    pub(crate) fn parameters(&self) -> codec::Parameters {
        codec::Parameters::from(&self.encoder)
    }

    /// Picture width.
    pub(crate) fn width(&self) -> u32 {
        self.encoder.width()
    }

    /// Picture height.
    pub(crate) fn height(&self) -> u32 {
        self.encoder.height()
    }

    /// Encodes `frame` (timestamped by the caller).
    pub(crate) fn send(&mut self, frame: &frame::Video) -> Result<(), TranscodeError> {
        self.encoder
            .send_frame(frame)
            .map_err(fault("encoding video"))
    }

    /// Tells the encoder the input ended.
    pub(crate) fn send_eof(&mut self) -> Result<(), TranscodeError> {
        self.encoder
            .send_eof()
            .map_err(fault("finishing the video"))
    }

    /// The next packet the encoder has ready, if any.
    pub(crate) fn receive(&mut self, packet: &mut Packet) -> bool {
        self.encoder.receive_packet(packet).is_ok()
    }
}

/// The input's video: its decoder, the filter graph (built on the first decoded frame, from
/// that frame's real format and size), and the trim.
pub(crate) struct VideoSource {
    input_index: usize,
    time_base: Rational,
    decoder: DecodeThread,
    limits: MediaLimits,
    plan: GraphPlan,
    logo: Option<frame::Video>,
    graph: Option<VideoGraph>,
    trim: Trim,
    /// Where the clip starts on the output timeline (after an intro), in encoder units.
    clip_start: i64,
    first_output: bool,
    decoded: u64,
    /// Where the input pushed so far ends (input time base): the cut point, or the last
    /// frame's end.
    end_pts: i64,
    done: bool,
    pub(crate) thumbnail: ThumbnailPicker,
}

impl VideoSource {
    /// A decoder for `stream` with the policy's frame threads (a decoder opened from stream
    /// parameters otherwise runs on one thread) and picture size cap (`max_pixels`), decoding
    /// on a thread of its own ([`DecodeThread`]).
    pub(crate) fn open(
        stream: &ff::format::stream::Stream<'_>,
        policy: &InputPolicy,
        plan: GraphPlan,
        logo: Option<frame::Video>,
        trim: Trim,
        thumbnail: ThumbnailPicker,
    ) -> Result<Self, TranscodeError> {
        let mut context = codec::context::Context::from_parameters(stream.parameters())
            .map_err(bad("the video stream cannot be read"))?;
        context.set_threading(policy.decoder_threading());
        let mut decoder = context.decoder();
        decoder.set_packet_time_base(stream.time_base());
        let codec = ff::decoder::find(decoder.id())
            .ok_or(ff::Error::DecoderNotFound)
            .map_err(bad("the video codec is not supported"))?;
        let decoder = decoder
            .open_as_with(codec, policy.decoder_options())
            .and_then(|opened| opened.video())
            .map_err(bad("the video codec is not supported"))?;
        let decoder = DecodeThread::start(decoder)?;
        Ok(Self {
            input_index: stream.index(),
            time_base: stream.time_base(),
            decoder,
            limits: policy.limits.clone(),
            plan,
            logo,
            graph: None,
            trim,
            clip_start: 0,
            first_output: true,
            decoded: 0,
            end_pts: 0,
            done: false,
            thumbnail,
        })
    }

    /// The input stream this source reads.
    pub(crate) fn input_index(&self) -> usize {
        self.input_index
    }

    /// Whether the trim limit was reached (later packets are ignored).
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Frames decoded so far (zero at the end means nothing was a picture).
    pub(crate) fn decoded(&self) -> u64 {
        self.decoded
    }

    /// The picture's size as shown: pixel aspect and rotation applied (from the stream's
    /// header, before any frame is decoded).
    pub(crate) fn display_size(&self) -> (u32, u32) {
        let (width, height) = (self.decoder.width(), self.decoder.height());
        let width = match super::timing::positive(self.decoder.aspect_ratio()) {
            Some(sar) if (sar - 1.0).abs() > 1e-3 => (f64::from(width) * sar).round() as u32,
            _ => width,
        };
        if matches!(self.plan.rotation, 90 | 270) {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Whether the logo made it into the graph.
    pub(crate) fn stamps_logo(&self) -> bool {
        self.graph.as_ref().is_some_and(VideoGraph::has_logo)
    }

    /// Sets where the clip starts on the output timeline (after the intro bumper).
    pub(crate) fn start_at(&mut self, pts: i64) {
        self.clip_start = pts;
    }

    /// Sends one packet to the decoder and pushes the pictures decoded so far through the
    /// graph into `out`. A packet the decoder rejects is skipped, like the ffmpeg CLI does.
    pub(crate) fn packet(
        &mut self,
        packet: Packet,
        out: &mut Fanout,
    ) -> Result<(), TranscodeError> {
        self.decoder.send(packet);
        self.drain_decoder(out)
    }

    /// At the end of the input (or of the trim): flushes the decoder, then the graph.
    pub(crate) fn finish(&mut self, out: &mut Fanout) -> Result<(), TranscodeError> {
        if !self.done {
            self.decoder.send_eof();
            self.drain_decoder(out)?;
        }
        self.done = true;
        if let Some(graph) = self.graph.as_mut() {
            graph
                .finish(self.end_pts)
                .map_err(bad("the video's pictures could not be processed"))?;
        }
        self.drain_graph(out)
    }

    fn drain_decoder(&mut self, out: &mut Fanout) -> Result<(), TranscodeError> {
        let mut decoded = frame::Video::empty();
        while !self.done && self.decoder.receive(&mut decoded) {
            // Decoder output is in display order: the first frame at or past the limit ends
            // the clip, so the output never overshoots.
            let Some(ts) = decoded.timestamp() else {
                continue;
            };
            if seconds(ts, self.time_base) - self.trim.origin_seconds >= self.trim.limit_seconds {
                self.end_pts = ts;
                self.done = true;
                self.decoder.stop();
                break;
            }
            // The header was checked before; a stream may still change its pictures later.
            let sar = decoded.aspect_ratio();
            self.limits
                .check_picture(
                    decoded.width(),
                    decoded.height(),
                    u32::try_from(sar.numerator())
                        .ok()
                        .zip(u32::try_from(sar.denominator()).ok()),
                )
                .map_err(TranscodeError::BadMedia)?;
            decoded.set_pts(Some(ts));
            self.end_pts = ts + frame_duration(&decoded, self.time_base, self.plan.fps);
            if self.graph.is_none() {
                let graph =
                    VideoGraph::new(&self.plan, &decoded, self.time_base, self.logo.as_ref())
                        .map_err(bad("the picture format is not supported"))?;
                self.graph = Some(graph);
            }
            self.decoded += 1;
            if let Some(graph) = self.graph.as_mut() {
                // The graph only fails on what the input brought (its pictures).
                graph
                    .push(&decoded)
                    .map_err(bad("the video's pictures could not be processed"))?;
            }
            self.drain_graph(out)?;
        }
        Ok(())
    }

    fn drain_graph(&mut self, out: &mut Fanout) -> Result<(), TranscodeError> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        let graph_time_base = graph.output_time_base();
        let mut filtered = frame::Video::empty();
        while graph
            .pull(&mut filtered)
            .map_err(bad("the video's pictures could not be processed"))?
        {
            if self.first_output {
                self.first_output = false;
                // Keep the clip's offset against its audio (both are measured from `origin`).
                let at = filtered.pts().map_or(0, |pts| {
                    to_ts(
                        seconds(pts, graph_time_base) - self.trim.origin_seconds,
                        out.time_base(),
                    )
                });
                out.skip_to(self.clip_start + at.max(0));
            }
            self.thumbnail.offer(&filtered);
            out.encode(std::mem::replace(&mut filtered, frame::Video::empty()))?;
        }
        Ok(())
    }
}

/// How long `frame` lasts in `time_base` units: its packet's duration when the container
/// states one, else one frame at `fps`.
fn frame_duration(frame: &frame::Video, time_base: Rational, fps: Rational) -> i64 {
    let stated = frame.packet().duration;
    if stated > 0 {
        stated
    } else {
        to_ts(
            1.0 / super::timing::positive(fps).unwrap_or(30.0),
            time_base,
        )
        .max(1)
    }
}

/// Encodes a bumper clip (`path`) fitted to the profile, for at most `max_seconds`.
///
/// # Errors
/// `Unexpected`: the bumpers ship with the build, so a failure here is ours, not the player's.
pub(crate) fn encode_bumper(
    path: &Path,
    plan: &GraphPlan,
    max_seconds: f64,
    out: &mut Fanout,
) -> Result<(), TranscodeError> {
    let broken = |e: BumperError| match e {
        BumperError::Output(e) => e,
        BumperError::Ffmpeg(e) => TranscodeError::Unexpected(anyhow::anyhow!(
            "reading the bumper {}: {e}",
            path.display()
        )),
    };
    let mut input = ff::format::input(&path).map_err(|e| broken(e.into()))?;
    let stream = input
        .streams()
        .best(ff::media::Type::Video)
        .ok_or(BumperError::Ffmpeg(ff::Error::StreamNotFound))
        .map_err(broken)?;
    let (index, time_base) = (stream.index(), stream.time_base());
    let mut decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().video())
        .map_err(|e| broken(e.into()))?;
    let limit = to_ts(max_seconds, out.time_base());
    let plan = GraphPlan {
        logo: None,
        rotation: 0,
        ..plan.clone()
    };
    let mut bumper = Bumper {
        plan,
        time_base,
        graph: None,
        end_pts: 0,
        emitted: 0,
        limit,
    };
    let mut packet = Packet::empty();
    loop {
        match packet.read(&mut input) {
            Ok(()) if packet.stream() == index => {
                decoder.send_packet(&packet).map_err(|e| broken(e.into()))?;
                bumper.decoded(&mut decoder, out).map_err(broken)?;
            }
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(broken(e.into())),
        }
    }
    decoder.send_eof().map_err(|e| broken(e.into()))?;
    bumper.decoded(&mut decoder, out).map_err(broken)?;
    if let Some(graph) = bumper.graph.as_mut() {
        graph.finish(bumper.end_pts).map_err(|e| broken(e.into()))?;
    }
    bumper.emit(out).map_err(broken)
}

/// The state of one bumper's decode.
struct Bumper {
    plan: GraphPlan,
    time_base: Rational,
    graph: Option<VideoGraph>,
    end_pts: i64,
    emitted: i64,
    limit: i64,
}

/// A failure while encoding a bumper: FFmpeg's, or the output's.
enum BumperError {
    Ffmpeg(ff::Error),
    Output(TranscodeError),
}

impl From<ff::Error> for BumperError {
    fn from(e: ff::Error) -> Self {
        Self::Ffmpeg(e)
    }
}

impl Bumper {
    fn decoded(
        &mut self,
        decoder: &mut ff::decoder::Video,
        out: &mut Fanout,
    ) -> Result<(), BumperError> {
        let mut decoded = frame::Video::empty();
        while decoder.receive_frame(&mut decoded).is_ok() {
            let ts = decoded.timestamp().unwrap_or(self.end_pts);
            decoded.set_pts(Some(ts));
            self.end_pts = ts + frame_duration(&decoded, self.time_base, self.plan.fps);
            if self.graph.is_none() {
                self.graph = Some(VideoGraph::new(&self.plan, &decoded, self.time_base, None)?);
            }
            if let Some(graph) = self.graph.as_mut() {
                graph.push(&decoded)?;
            }
            self.emit(out)?;
        }
        Ok(())
    }

    fn emit(&mut self, out: &mut Fanout) -> Result<(), BumperError> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        let mut filtered = frame::Video::empty();
        while graph.pull(&mut filtered)? {
            if self.emitted < self.limit {
                out.encode(std::mem::replace(&mut filtered, frame::Video::empty()))
                    .map_err(BumperError::Output)?;
                self.emitted += 1;
            }
        }
        Ok(())
    }
}
