//! The video decoder on a thread of its own: packets go in through a bounded queue, pictures
//! come back in display order. Decoding overlaps the filters and the encoders this way, so the
//! decoder needs few frame threads of its own (on 2 cores, none: frame threads spend CPU time
//! keeping each other in step, about a tenth more for this 1080p H.264, and each one holds
//! pictures of its own).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use anb_domain::ports::TranscodeError;
use ffmpeg_next::{decoder, frame, Packet, Rational};

/// Packets the decoder may have waiting (each gives at most a picture or two, so this also
/// bounds the pictures waiting to be taken).
const QUEUE: usize = 8;

/// What the caller sends.
enum Input {
    Packet(Packet),
    /// The input ended: flush the pictures the decoder holds.
    End,
}

/// A video decoder running on its own thread.
///
/// Dropping it stops the thread (after the packet it is decoding, skipping the queued ones)
/// and waits for it.
pub(crate) struct DecodeThread {
    packets: Option<SyncSender<Input>>,
    stopped: Arc<AtomicBool>,
    pictures: Receiver<frame::Video>,
    thread: Option<JoinHandle<()>>,
    ended: bool,
    width: u32,
    height: u32,
    aspect_ratio: Rational,
}

impl DecodeThread {
    /// Moves `decoder` (opened) onto a new thread.
    pub(crate) fn start(decoder: decoder::Video) -> Result<Self, TranscodeError> {
        let (width, height, aspect_ratio) =
            (decoder.width(), decoder.height(), decoder.aspect_ratio());
        let (packets, inputs) = mpsc::sync_channel(QUEUE);
        // Unbounded: the packet queue already bounds it, and the thread never waits on it (so
        // a caller waiting to send a packet cannot wait on a thread waiting to send a picture).
        let (pictures, decoded) = mpsc::channel();
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopped);
        let thread = std::thread::Builder::new()
            .name("anb-decode".into())
            .spawn(move || run(decoder, &inputs, &pictures, &stop))
            .map_err(|e| {
                TranscodeError::Unexpected(
                    anyhow::Error::new(e).context("starting the decoder thread"),
                )
            })?;
        Ok(Self {
            packets: Some(packets),
            stopped,
            pictures: decoded,
            thread: Some(thread),
            ended: false,
            width,
            height,
            aspect_ratio,
        })
    }

    /// The coded picture width, from the stream's header.
    pub(crate) fn width(&self) -> u32 {
        self.width
    }

    /// The coded picture height, from the stream's header.
    pub(crate) fn height(&self) -> u32 {
        self.height
    }

    /// The pixel aspect ratio, from the stream's header.
    pub(crate) fn aspect_ratio(&self) -> Rational {
        self.aspect_ratio
    }

    /// Queues `packet`; waits while the queue is full. Packets the decoder rejects are
    /// skipped, like the ffmpeg CLI does.
    pub(crate) fn send(&mut self, packet: Packet) {
        if let Some(packets) = &self.packets {
            let _ = packets.send(Input::Packet(packet));
        }
    }

    /// Tells the decoder the input ended; [`receive`](Self::receive) then waits for every
    /// picture it still holds.
    pub(crate) fn send_eof(&mut self) {
        if let Some(packets) = self.packets.take() {
            let _ = packets.send(Input::End);
        }
        self.ended = true;
    }

    /// The next picture: one decoded so far, or (after [`send_eof`](Self::send_eof)) the next
    /// one the decoder still makes, waiting for it. `false` when there is none (for now).
    pub(crate) fn receive(&mut self, picture: &mut frame::Video) -> bool {
        let next = if self.ended {
            self.pictures.recv().ok()
        } else {
            self.pictures.try_recv().ok()
        };
        match next {
            Some(next) => {
                *picture = next;
                true
            }
            None => false,
        }
    }

    /// Stops decoding: no more pictures are wanted (the clip ended before the input did).
    pub(crate) fn stop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.packets = None;
    }
}

impl Drop for DecodeThread {
    fn drop(&mut self) {
        self.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The decoder's thread: decodes what it is sent and hands the pictures back, until the end
/// or until the caller stops it or goes away.
fn run(
    mut decoder: decoder::Video,
    inputs: &Receiver<Input>,
    pictures: &mpsc::Sender<frame::Video>,
    stopped: &AtomicBool,
) {
    let drain = |decoder: &mut decoder::Video| -> bool {
        let mut picture = frame::Video::empty();
        while decoder.receive_frame(&mut picture).is_ok() {
            if pictures.send(picture).is_err() {
                return false;
            }
            picture = frame::Video::empty();
        }
        true
    };
    while let Ok(input) = inputs.recv() {
        if stopped.load(Ordering::Relaxed) {
            return;
        }
        match input {
            Input::Packet(packet) => {
                // A packet the decoder rejects is skipped.
                if decoder.send_packet(&packet).is_ok() && !drain(&mut decoder) {
                    return;
                }
            }
            Input::End => {
                let _ = decoder.send_eof();
                drain(&mut decoder);
                return;
            }
        }
    }
}
