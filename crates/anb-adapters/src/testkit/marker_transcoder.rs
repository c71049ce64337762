use anb_domain::media::{Container, MediaInfo, MediaInput, VideoStreamInfo};
use anb_domain::ports::{TranscodeError, Transcoder};
use anb_domain::{ByteStream, Profile, ProgressSink, TranscodeOutputs, TranscodeReport};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

/// First bytes of a stand-in "video" that [`MarkerTranscoder`] accepts.
pub const MARKER_VIDEO: &[u8] = b"ANB-TEST-VIDEO\n";
/// First bytes of a stand-in audio-only file (a container without a video stream).
pub const MARKER_AUDIO: &[u8] = b"ANB-TEST-AUDIO\n";

/// A stand-in [`Transcoder`] for tests of the rules, where real media would only slow things
/// down: it recognises files by their first bytes ([`MARKER_VIDEO`], [`MARKER_AUDIO`]) and
/// cannot process anything. The FFmpeg adapter is the real transcoder, with its own tests on
/// real media.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarkerTranscoder;

/// A stand-in video of `len` bytes (at least the marker), streamed in 64 KiB chunks.
pub fn marker_video(len: usize) -> ByteStream {
    let mut data = MARKER_VIDEO.to_vec();
    data.extend(super::pseudo_random_bytes(
        len.saturating_sub(data.len()),
        len as u64,
    ));
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

#[async_trait]
impl Transcoder for MarkerTranscoder {
    async fn probe(&self, input: MediaInput) -> Result<MediaInfo, TranscodeError> {
        let head = match input {
            MediaInput::File(path) => {
                use std::io::Read as _;
                let mut head = Vec::with_capacity(MARKER_VIDEO.len());
                std::fs::File::open(&path)
                    .and_then(|f| f.take(MARKER_VIDEO.len() as u64).read_to_end(&mut head))
                    .map_err(|e| TranscodeError::Unexpected(e.into()))?;
                head
            }
            MediaInput::Stream(mut stream) => {
                let mut head = Vec::new();
                // Consume to the end, as the port requires, keeping only the first bytes.
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|e| TranscodeError::Unexpected(e.into()))?;
                    let room = MARKER_VIDEO.len().saturating_sub(head.len());
                    head.extend_from_slice(&chunk[..room.min(chunk.len())]);
                }
                head
            }
        };
        let video = VideoStreamInfo {
            codec: "h264".into(),
            width: 1920,
            height: 1080,
            rotation_degrees: 0,
            frame_rate: Some(30.0),
            sample_aspect_ratio: None,
        };
        if head == MARKER_VIDEO {
            Ok(MediaInfo {
                container: Container::IsoBmff,
                duration_seconds: Some(30.0),
                video: Some(video),
                audio_codec: Some("aac".into()),
                stream_count: 2,
            })
        } else if head == MARKER_AUDIO {
            Ok(MediaInfo {
                container: Container::IsoBmff,
                duration_seconds: Some(30.0),
                video: None,
                audio_codec: Some("aac".into()),
                stream_count: 1,
            })
        } else {
            Err(TranscodeError::BadMedia(
                "the file is not a video the server can read".into(),
            ))
        }
    }

    async fn process(
        &self,
        _input: &std::path::Path,
        _outputs: &TranscodeOutputs,
        _profile: &Profile,
        _progress: ProgressSink,
    ) -> Result<TranscodeReport, TranscodeError> {
        Err(TranscodeError::Unexpected(anyhow::anyhow!(
            "MarkerTranscoder only probes; processing needs the ffmpeg adapter"
        )))
    }
}
