//! An encode lane: one H.264 encoder and the muxers its packets go to (the MP4 and/or an HLS
//! rung), on a thread of its own. The fan-out hands each lane its frames and the audio packets
//! through a bounded queue, so the encoders run beside the decode and the filters, and beside
//! each other, instead of taking turns with them on the caller's thread.
//!
//! Each muxer belongs to exactly one lane and gets its packets in the order the fan-out sent
//! them, so the files are the same from run to run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{self as ff, frame, Packet};

use super::fault;
use super::muxer::{Muxer, Track};
use super::video::VideoEncoder;

/// Frames a lane may have waiting: enough to ride out the encoders' uneven pace (a keyframe
/// costs more than the frames around it), few enough to bound memory (a 720p frame is 1.4 MB).
const QUEUE: usize = 8;

/// How a failed audio write is reported (copied sound and encoded sound say different things).
pub(crate) type AudioFault = fn(ff::Error) -> TranscodeError;

/// What a lane is sent, in output order.
enum Message {
    /// A picture to encode, timestamped, at the encoder's size.
    Frame(frame::Video),
    /// A packet of the audio track, for every muxer of the lane.
    Audio(Packet, AudioFault),
    /// The end of the output: flush the encoder, finish the muxers.
    Finish,
}

/// One encoder and the muxers it feeds.
pub(crate) struct Encode {
    pub(crate) encoder: VideoEncoder,
    pub(crate) muxers: Vec<Muxer>,
}

impl Encode {
    fn frame(&mut self, frame: &frame::Video) -> Result<(), TranscodeError> {
        self.encoder.send(frame)?;
        self.drain()
    }

    fn audio(&mut self, packet: &Packet) -> Result<(), ff::Error> {
        for muxer in &mut self.muxers {
            if muxer.carries(Track::Audio) {
                muxer.write(Track::Audio, packet)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), TranscodeError> {
        self.encoder.send_eof()?;
        self.drain()?;
        for muxer in self.muxers {
            muxer.finish()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), TranscodeError> {
        let mut packet = Packet::empty();
        while self.encoder.receive(&mut packet) {
            for muxer in &mut self.muxers {
                muxer
                    .write(Track::Video, &packet)
                    .map_err(fault("writing video"))?;
            }
        }
        Ok(())
    }
}

/// An [`Encode`] running on its own thread.
///
/// Dropped before [`wait`](Self::wait) (the run failed or was cancelled), the lane drops what
/// is still queued, stops, and leaves its files unfinished; the drop returns once its thread
/// has ended, so nothing writes into the outputs after that.
pub(crate) struct Lane {
    queue: Option<SyncSender<Message>>,
    abandoned: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), TranscodeError>>>,
    size: (u32, u32),
}

impl Lane {
    /// Starts a thread for `encode` (its muxers' headers written).
    pub(crate) fn start(encode: Encode) -> Result<Self, TranscodeError> {
        let size = (encode.encoder.width(), encode.encoder.height());
        let (queue, messages) = mpsc::sync_channel(QUEUE);
        let abandoned = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&abandoned);
        let thread = std::thread::Builder::new()
            .name(format!("anb-encode-{}p", size.1))
            .spawn(move || run(encode, &messages, &stop))
            .map_err(|e| {
                TranscodeError::Unexpected(
                    anyhow::Error::new(e).context("starting an encoder thread"),
                )
            })?;
        Ok(Self {
            queue: Some(queue),
            abandoned,
            thread: Some(thread),
            size,
        })
    }

    /// The encoder's picture size.
    pub(crate) fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Queues `frame` (at [`size`](Self::size)) for the encoder; waits while the queue is full.
    ///
    /// # Errors
    /// The lane's own failure, when it stopped (an encoder or a muxer failed).
    pub(crate) fn frame(&mut self, frame: frame::Video) -> Result<(), TranscodeError> {
        self.send(Message::Frame(frame))
    }

    /// Queues an audio packet for every muxer of the lane that carries sound; a failed write
    /// is reported with `on_error`.
    ///
    /// # Errors
    /// As [`frame`](Self::frame).
    pub(crate) fn audio(
        &mut self,
        packet: Packet,
        on_error: AudioFault,
    ) -> Result<(), TranscodeError> {
        self.send(Message::Audio(packet, on_error))
    }

    /// Tells the lane the output ended; [`wait`](Self::wait) then collects its result.
    ///
    /// # Errors
    /// As [`frame`](Self::frame).
    pub(crate) fn end(&mut self) -> Result<(), TranscodeError> {
        self.send(Message::Finish)?;
        self.queue = None;
        Ok(())
    }

    /// Waits for the lane's thread (ending the output first, if [`end`](Self::end) was not
    /// called): `Ok` once it flushed its encoder and finished its muxers.
    ///
    /// # Errors
    /// What stopped the lane.
    pub(crate) fn wait(mut self) -> Result<(), TranscodeError> {
        if self.queue.is_some() {
            self.end()?;
        }
        self.join()
    }

    fn send(&mut self, message: Message) -> Result<(), TranscodeError> {
        let sent = match &self.queue {
            Some(queue) => queue.send(message).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The thread ended (only a failure ends it early): its error says why.
            self.queue = None;
            Err(self.join().err().unwrap_or_else(|| {
                TranscodeError::Unexpected(anyhow::anyhow!("an encoder stopped early"))
            }))
        }
    }

    fn join(&mut self) -> Result<(), TranscodeError> {
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| {
                Err(TranscodeError::Unexpected(anyhow::anyhow!(
                    "an encoder thread panicked"
                )))
            }),
            None => Err(TranscodeError::Unexpected(anyhow::anyhow!(
                "an encoder stopped early"
            ))),
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.abandoned.store(true, Ordering::Relaxed);
            self.queue = None;
            let _ = self.join();
        }
    }
}

/// The lane's thread: encodes and writes what it is sent until the end, a failure, or being
/// abandoned.
fn run(
    mut encode: Encode,
    messages: &Receiver<Message>,
    abandoned: &AtomicBool,
) -> Result<(), TranscodeError> {
    while let Ok(message) = messages.recv() {
        if abandoned.load(Ordering::Relaxed) {
            break;
        }
        match message {
            Message::Frame(frame) => encode.frame(&frame)?,
            Message::Audio(packet, on_error) => encode.audio(&packet).map_err(on_error)?,
            Message::Finish => return encode.finish(),
        }
    }
    // Abandoned: the muxers are dropped unfinished.
    Ok(())
}
