use tracing::{instrument, warn};

use super::upload_stream::{tee_with_limit, PumpEnd};
use super::Showcase;
use crate::blob::{BlobKey, ByteStream};
use crate::ids::{JobId, UserId, VideoId};
use crate::job::JobPayload;
use crate::media::MediaInput;
use crate::ports::{BlobError, TranscodeError};
use crate::values::{Description, Tags, ValidationError, VideoTitle};
use crate::video::Video;

/// The upload form's fields besides the file, as raw text from the edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadForm {
    /// Title (required).
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Comma-separated tags.
    pub tags: Option<String>,
    /// Show in the public gallery once processed (default `true`).
    pub is_public: bool,
}

impl Default for UploadForm {
    fn default() -> Self {
        Self {
            title: String::new(),
            description: None,
            tags: None,
            is_public: true,
        }
    }
}

/// What an accepted upload produced.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadReceipt {
    /// The recorded video (`uploaded`).
    pub video: Video,
    /// The processing job (`task_id`).
    pub task_id: JobId,
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadVideoError {
    /// A form field is missing or malformed.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The file is over the limit (it was cut off while streaming; nothing was kept).
    #[error("the file is larger than {limit_bytes} bytes")]
    FileTooLarge {
        /// The limit.
        limit_bytes: u64,
    },
    /// The bytes are not an MP4/MOV video, or one outside the media limits
    /// ([`MediaLimits`](crate::media::MediaLimits)); the reason is for the player.
    #[error("{0}")]
    InvalidFile(String),
    /// The body broke off before its end (client went away); nothing was kept.
    #[error("the upload was interrupted: {0}")]
    Interrupted(std::io::Error),
    /// Anything else; nothing was kept.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// An upload's file, stored and checked (an MP4/MOV video within the size limit) but not yet
/// recorded: in a multipart body the file may arrive before the other fields. Hand it to
/// [`Showcase::complete_upload`], or to [`Showcase::discard_upload_file`] when the request
/// fails.
#[derive(Debug)]
#[must_use = "complete or discard the received file, or its object is orphaned"]
pub struct ReceivedFile {
    id: VideoId,
    owner: UserId,
    key: BlobKey,
    size_bytes: u64,
}

impl ReceivedFile {
    /// Bytes received.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }
}

/// The form's fields, validated.
struct ValidForm {
    title: VideoTitle,
    description: Option<Description>,
    tags: Tags,
    is_public: bool,
}

impl ValidForm {
    fn parse(form: &UploadForm) -> Result<Self, ValidationError> {
        Ok(Self {
            title: VideoTitle::new(&form.title)?,
            description: match form.description.as_deref() {
                Some(raw) => Description::parse(raw)?,
                None => None,
            },
            tags: match form.tags.as_deref() {
                Some(raw) => Tags::parse(raw)?,
                None => Tags::default(),
            },
            is_public: form.is_public,
        })
    }
}

impl Showcase {
    /// Accepts a player's upload: validates the form, streams `file` to the blob store while
    /// probing the same bytes, records the video (`uploaded`) and queues its processing.
    /// Whatever fails, nothing is left behind (no object, no record, no job).
    ///
    /// When the form is only known after the file (a multipart body with the file first), use
    /// [`receive_upload_file`](Self::receive_upload_file) then
    /// [`complete_upload`](Self::complete_upload): this is those two, with the form checked
    /// before a byte is read.
    ///
    /// # Errors
    /// [`UploadVideoError::Invalid`] (before reading the file), [`UploadVideoError::FileTooLarge`],
    /// [`UploadVideoError::InvalidFile`] (not MP4/MOV with a video stream, by content, or
    /// outside the media limits),
    /// [`UploadVideoError::Interrupted`].
    #[instrument(skip_all, fields(owner = %owner))]
    pub async fn upload_video(
        &self,
        owner: UserId,
        form: UploadForm,
        file: ByteStream,
    ) -> Result<UploadReceipt, UploadVideoError> {
        ValidForm::parse(&form)?;
        let received = self.receive_upload_file(owner, file).await?;
        self.complete_upload(received, form).await
    }

    /// Streams `file` to the blob store while probing the same bytes, cutting it off past the
    /// size limit. Nothing is recorded yet; on error nothing is left behind.
    ///
    /// # Errors
    /// [`UploadVideoError::FileTooLarge`], [`UploadVideoError::InvalidFile`],
    /// [`UploadVideoError::Interrupted`], [`UploadVideoError::Unexpected`].
    #[instrument(skip_all, fields(owner = %owner))]
    pub async fn receive_upload_file(
        &self,
        owner: UserId,
        file: ByteStream,
    ) -> Result<ReceivedFile, UploadVideoError> {
        let id = VideoId::new();
        let key = BlobKey::original(owner, id);
        let limit = self.config.max_upload_bytes;
        let (pump, to_store, to_probe) = tee_with_limit(file, limit);
        let (pumped, stored, probed) = futures::join!(
            pump,
            self.ports.blobs.put(&key, to_store),
            self.ports.transcoder.probe(MediaInput::Stream(to_probe)),
        );

        let checked = match (pumped, stored) {
            (PumpEnd::TooLarge, _) => Err(UploadVideoError::FileTooLarge { limit_bytes: limit }),
            (PumpEnd::SourceFailed(e), _) => Err(UploadVideoError::Interrupted(e)),
            (_, Err(e)) => Err(UploadVideoError::Unexpected(
                anyhow::Error::new(e).context("storing the upload"),
            )),
            (PumpEnd::StoreGone, Ok(_)) => Err(UploadVideoError::Unexpected(anyhow::anyhow!(
                "the blob store stopped reading the upload"
            ))),
            (PumpEnd::Complete, Ok(0)) => {
                Err(UploadVideoError::InvalidFile("the file is empty".into()))
            }
            (PumpEnd::Complete, Ok(size)) => match probed {
                Ok(info) => self
                    .config
                    .media_limits
                    .check(&info)
                    .map(|()| size)
                    .map_err(UploadVideoError::InvalidFile),
                Err(TranscodeError::BadMedia(reason)) => Err(UploadVideoError::InvalidFile(reason)),
                Err(e) => Err(UploadVideoError::Unexpected(
                    anyhow::Error::new(e).context("probing the upload"),
                )),
            },
        };
        match checked {
            Ok(size_bytes) => Ok(ReceivedFile {
                id,
                owner,
                key,
                size_bytes,
            }),
            Err(refusal) => {
                self.discard_blob(&key).await;
                Err(refusal)
            }
        }
    }

    /// Records a received file with its form as an `uploaded` video and queues its processing.
    /// On any error (an invalid form included) the file is discarded.
    ///
    /// # Errors
    /// [`UploadVideoError::Invalid`], [`UploadVideoError::Unexpected`].
    #[instrument(skip_all, fields(owner = %received.owner, video = %received.id))]
    pub async fn complete_upload(
        &self,
        received: ReceivedFile,
        form: UploadForm,
    ) -> Result<UploadReceipt, UploadVideoError> {
        let ReceivedFile {
            id,
            owner,
            key,
            size_bytes,
        } = received;
        let valid = match ValidForm::parse(&form) {
            Ok(valid) => valid,
            Err(invalid) => {
                self.discard_blob(&key).await;
                return Err(invalid.into());
            }
        };
        let video = Video::uploaded(
            id,
            owner,
            valid.title,
            valid.description,
            valid.tags,
            valid.is_public,
            key.clone(),
            size_bytes,
            self.ports.clock.now(),
        );
        if let Err(e) = self.ports.videos.insert(&video).await {
            self.discard_blob(&key).await;
            return Err(e.context("recording the upload").into());
        }
        let payload = JobPayload::ProcessVideo { video_id: id };
        let trace = self.trace_context();
        match self
            .ports
            .jobs
            .enqueue(&payload, trace.as_deref(), std::time::Duration::ZERO)
            .await
        {
            Ok(task_id) => Ok(UploadReceipt { video, task_id }),
            Err(e) => {
                // Undo the record so the player can simply upload again.
                if let Err(undo) = self.ports.videos.delete(id, self.ports.clock.now()).await {
                    warn!(error = %undo, video = %id, "could not remove the record of a failed upload");
                }
                self.discard_blob(&key).await;
                Err(anyhow::Error::new(e)
                    .context("queueing the processing job")
                    .into())
            }
        }
    }

    /// Drops a received file that will not be recorded (the request failed after it).
    pub async fn discard_upload_file(&self, received: ReceivedFile) {
        self.discard_blob(&received.key).await;
    }

    /// Deletes a blob whose owner record is gone or never came to be; a failure leaves an
    /// orphan object, which is logged, never an error to the caller.
    pub(crate) async fn discard_blob(&self, key: &BlobKey) {
        if let Err(e) = self.ports.blobs.delete(key).await {
            if !matches!(e, BlobError::NotFound) {
                warn!(error = %e, key = %key, "could not delete an orphaned object");
            }
        }
    }

    /// Deletes every object under `prefix` (a video's streams) whose owner record is gone; like
    /// [`Showcase::discard_blob`], a failure leaves orphans, which is logged, never an error to
    /// the caller.
    pub(crate) async fn discard_blobs_under(&self, prefix: &BlobKey) {
        if let Err(e) = self.ports.blobs.delete_prefix(prefix).await {
            warn!(error = %e, prefix = %prefix, "could not delete orphaned objects under a prefix");
        }
    }
}
