//! The JPEG thumbnail: one output frame (with its logo), at half the output size.

use std::path::Path;

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{codec, encoder, format, frame, software::scaling, Packet, Rational};

use super::fault;

/// FFmpeg's `FF_QP2LAMBDA`: a JPEG quality scale step in lambda units.
const QP2LAMBDA: i32 = 118;
/// JPEG quality on FFmpeg's 2 (best) … 31 scale; 3 looks clean at a small size.
const JPEG_QUALITY: i32 = 3;

/// Picks the clip's frame at a given index, or its last frame when the clip is shorter.
pub(crate) struct ThumbnailPicker {
    at_frame: u64,
    seen: u64,
    picked: Option<frame::Video>,
}

impl ThumbnailPicker {
    /// A picker for the frame `at_frame` frames into the clip.
    pub(crate) fn new(at_frame: u64) -> Self {
        Self {
            at_frame,
            seen: 0,
            picked: None,
        }
    }

    /// Sees one frame of the clip (in order). Frames are copied only until the wanted one.
    pub(crate) fn offer(&mut self, frame: &frame::Video) {
        if self.seen <= self.at_frame {
            self.picked = Some(frame.clone());
        }
        self.seen += 1;
    }

    /// The chosen frame, if the clip had any.
    pub(crate) fn picked(&self) -> Option<&frame::Video> {
        self.picked.as_ref()
    }
}

/// Writes `picture` as a JPEG of `width`x`height` at `path`.
///
/// # Errors
/// `Unexpected` when scaling, encoding or writing fails.
pub(crate) fn write_jpeg(
    picture: &frame::Video,
    width: u32,
    height: u32,
    path: &Path,
) -> Result<(), TranscodeError> {
    let mut scaler = scaling::Context::get(
        picture.format(),
        picture.width(),
        picture.height(),
        format::Pixel::YUVJ420P,
        width,
        height,
        scaling::Flags::BICUBIC,
    )
    .map_err(fault("preparing the thumbnail"))?;
    let mut scaled = frame::Video::empty();
    scaler
        .run(picture, &mut scaled)
        .map_err(fault("scaling the thumbnail"))?;
    scaled.set_pts(Some(0));

    let codec = encoder::find(codec::Id::MJPEG)
        .ok_or_else(|| TranscodeError::Unexpected(anyhow::anyhow!("no JPEG encoder")))?;
    let mut context = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(fault("creating the JPEG encoder"))?;
    context.set_width(width);
    context.set_height(height);
    context.set_format(format::Pixel::YUVJ420P);
    context.set_time_base(Rational::new(1, 25));
    context.set_flags(codec::Flags::QSCALE);
    context.set_global_quality(JPEG_QUALITY * QP2LAMBDA);
    // With a fixed quantiser and no per-frame quality, the encoder clamps to qmin..=qmax.
    context.set_qmin(JPEG_QUALITY);
    context.set_qmax(JPEG_QUALITY);
    let mut jpeg = context.open().map_err(fault("opening the JPEG encoder"))?;
    jpeg.send_frame(&scaled)
        .map_err(fault("encoding the thumbnail"))?;
    jpeg.send_eof().map_err(fault("encoding the thumbnail"))?;
    let mut packet = Packet::empty();
    jpeg.receive_packet(&mut packet)
        .map_err(fault("encoding the thumbnail"))?;
    let bytes = packet
        .data()
        .ok_or_else(|| TranscodeError::Unexpected(anyhow::anyhow!("empty thumbnail")))?;
    std::fs::write(path, bytes).map_err(|e| {
        TranscodeError::Unexpected(anyhow::Error::new(e).context("writing the thumbnail"))
    })
}
