use std::time::Duration;

use async_trait::async_trait;

use crate::media::{
    MediaInfo, MediaInput, Profile, ProgressSink, TranscodeOutputs, TranscodeReport,
};

/// Why probing or processing failed.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// The input is not usable media (not a container the libraries read, corrupt, no video):
    /// retrying will not help. The text is for the player.
    #[error("{0}")]
    BadMedia(String),
    /// The run exceeded its time limit.
    #[error("processing took longer than {0:?}")]
    TimedOut(Duration),
    /// The run was cancelled (shutdown).
    #[error("processing was cancelled")]
    Cancelled,
    /// Anything else (I/O, resources).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Reads and processes media.
#[async_trait]
pub trait Transcoder: Send + Sync + 'static {
    /// Reads the container's header: streams, codecs, size, rotation, duration. A stream input
    /// is consumed to its end.
    ///
    /// # Errors
    /// [`TranscodeError::BadMedia`] when the bytes are not media the transcoder can read.
    async fn probe(&self, input: MediaInput) -> Result<MediaInfo, TranscodeError>;

    /// Processes `input` with `profile` in one pass, writing `outputs`, and tells `progress`
    /// how far it has got as it goes.
    ///
    /// # Errors
    /// [`TranscodeError::BadMedia`] for unusable input; `TimedOut`/`Cancelled` as named;
    /// `Unexpected` otherwise. On error no partial output is left at `outputs`.
    async fn process(
        &self,
        input: &std::path::Path,
        outputs: &TranscodeOutputs,
        profile: &Profile,
        progress: ProgressSink,
    ) -> Result<TranscodeReport, TranscodeError>;
}
