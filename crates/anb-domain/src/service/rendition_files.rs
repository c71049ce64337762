//! The files of a finished rendition, through a signed playback token for its video: the MP4
//! or MP3 whole or by range, or an HLS rendition's master, rung playlists and segments.

use super::streaming::fresh_until;
use super::{ByteRange, MediaError, Showcase, StreamDownload, StreamFile};
use crate::blob::BlobKey;
use crate::ids::RenditionId;
use crate::media::media_type;
use crate::rendition::{Rendition, RenditionFormat, RenditionStatus};

/// One file of a rendition, as a download URL names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenditionFile {
    /// `video.mp4` or `audio.mp3`: the rendition itself (its format must match).
    Whole(RenditionFormat),
    /// `hls/master.m3u8` or `hls/{generation}/{rung}/{name}` of an HLS rendition
    /// ([`StreamFile::Master`] or [`StreamFile::Rung`]).
    Stream(StreamFile),
}

impl RenditionFile {
    /// The file named `name` directly under a rendition (`video.mp4`, `audio.mp3`), if any.
    ///
    /// ```
    /// use anb_domain::rendition::RenditionFormat;
    /// use anb_domain::RenditionFile;
    /// assert_eq!(RenditionFile::named("audio.mp3"), Some(RenditionFile::Whole(RenditionFormat::Mp3)));
    /// assert_eq!(RenditionFile::named("hls"), None);
    /// ```
    pub fn named(name: &str) -> Option<Self> {
        [RenditionFormat::Mp4, RenditionFormat::Mp3]
            .into_iter()
            .find(|format| format.file_name() == name)
            .map(Self::Whole)
    }

    /// The MIME type served for it.
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Whole(format) => media_type(format.file_name()),
            Self::Stream(file) => file.content_type(),
        }
    }

    /// Where it is stored, when `rendition` is ready and has it.
    fn key(&self, rendition: &Rendition) -> Option<BlobKey> {
        if rendition.status != RenditionStatus::Ready {
            return None;
        }
        match (self, rendition.format) {
            (Self::Whole(format), actual) if *format == actual => rendition.output.clone(),
            (Self::Stream(StreamFile::Master), RenditionFormat::Hls) => rendition.output.clone(),
            (
                Self::Stream(StreamFile::Rung {
                    generation,
                    rung,
                    name,
                }),
                RenditionFormat::Hls,
            ) => BlobKey::rendition(rendition.video_id, rendition.id)
                .join(&format!("hls/{generation}/{rung}/{name}"))
                .ok(),
            _ => None,
        }
    }

    fn fresh_for(&self) -> std::time::Duration {
        match self {
            Self::Stream(file) => file.fresh_for(),
            Self::Whole(_) => StreamFile::Video.fresh_for(),
        }
    }
}

impl Showcase {
    /// A file of a ready rendition of the video a playback token names, whole or by range.
    /// `file` is `None` for a name no rendition has: not found, once the token is checked.
    ///
    /// # Errors
    /// [`MediaError::SignatureExpired`], [`MediaError::SignatureInvalid`];
    /// [`MediaError::NotFound`] (no such rendition of that video, not ready, no such file);
    /// [`MediaError::InvalidRange`].
    pub async fn open_rendition_file(
        &self,
        token: &str,
        rendition: RenditionId,
        file: Option<&RenditionFile>,
        range: Option<ByteRange>,
    ) -> Result<StreamDownload, MediaError> {
        let (video, expires_at, viewer) = self.signed_video(token).await?;
        let file = file.ok_or(MediaError::NotFound)?;
        let rendition = self
            .ports
            .renditions
            .get(rendition)
            .await?
            .filter(|r| r.video_id == video.id)
            .ok_or(MediaError::NotFound)?;
        let key = file.key(&rendition).ok_or(MediaError::NotFound)?;
        let download = match file {
            RenditionFile::Stream(stream) => {
                self.open_signed_file(&key, stream, Some((viewer, expires_at)), range)
                    .await?
            }
            RenditionFile::Whole(_) => self.open_blob(&key, file.content_type(), range).await?,
        };
        Ok(StreamDownload {
            download,
            fresh_for: fresh_until(file.fresh_for(), Some(expires_at), self.ports.clock.now()),
        })
    }
}
