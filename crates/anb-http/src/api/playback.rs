//! Playback links: a video's files behind a signed, expiring token carried in the path, so a
//! player or a CDN fetches them without a bearer header (as Mux's signed playback URLs do).
//! The playlists and the storyboard cues name their files relatively, so every URL a player
//! derives from the master keeps the token (except the owner's segments on S3: those are
//! presigned URLs straight from the bucket). An expired or altered token answers 403. The
//! renditions an owner asked for (`/renditions/{rendition_id}/…`) are served the same way.

use anb_domain::{Playback, RenditionFile, RenditionId, StreamFile};
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::OpenApi;
use uuid::Uuid;

use super::{answering_405, ApiTags};
use crate::error::{NeedsBackend, Refused};
use crate::range_download::{
    requested_range, MediaReply, SignedCuesResponse, SignedJpegResponse, SignedMp3Response,
    SignedMp4Response, SignedPlaylistResponse,
};
use crate::state::AppState;

answering_405! {
    /// Files behind playback links.
    pub struct PlaybackApi(PlaybackOperations);
}

/// The operations of [`PlaybackApi`].
pub struct PlaybackOperations;

#[OpenApi(prefix_path = "/api/playback", tag = "ApiTags::Playback")]
impl PlaybackOperations {
    /// The HLS master playlist behind a playback link.
    #[oai(
        path = "/:token/hls/master.m3u8",
        method = "get",
        operation_id = "signed_hls_master"
    )]
    async fn hls_master(
        &self,
        state: Data<&AppState>,
        /// The signed token from `GET /api/videos/{video_id}/playback`.
        token: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedPlaylistResponse, Refused<NeedsBackend>> {
        let reply = signed(
            &state,
            &token.0,
            Some(StreamFile::Master),
            range.0.as_deref(),
        )
        .await;
        Ok(SignedPlaylistResponse::from_reply(reply)?)
    }

    /// One rung's media playlist behind a playback link. For the owner, on a store that signs
    /// its own URLs (S3), it names every segment by a presigned URL expiring with the token.
    #[oai(
        path = "/:token/hls/:generation/:rung/index.m3u8",
        method = "get",
        operation_id = "signed_hls_rung_playlist"
    )]
    async fn hls_rung_playlist(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// The processing run the rung belongs to.
        generation: Path<String>,
        /// The rung (`720p`, `480p`, `360p`).
        rung: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedPlaylistResponse, Refused<NeedsBackend>> {
        let file = StreamFile::rung(&generation.0, &rung.0, "index.m3u8");
        let reply = signed(&state, &token.0, file, range.0.as_deref()).await;
        Ok(SignedPlaylistResponse::from_reply(reply)?)
    }

    /// One rung's init or media segment behind a playback link.
    #[oai(
        path = "/:token/hls/:generation/:rung/:segment",
        method = "get",
        operation_id = "signed_hls_segment"
    )]
    async fn hls_segment(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// The processing run the rung belongs to.
        generation: Path<String>,
        /// The rung.
        rung: Path<String>,
        /// `init.mp4` or `seg_NNNNN.m4s`.
        segment: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedMp4Response, Refused<NeedsBackend>> {
        let file = StreamFile::rung(&generation.0, &rung.0, &segment.0)
            .filter(|f| f.content_type() == "video/mp4");
        let reply = signed(&state, &token.0, file, range.0.as_deref()).await;
        Ok(SignedMp4Response::from_reply(reply)?)
    }

    /// The processed MP4 behind a playback link (HTTP Range supported).
    #[oai(
        path = "/:token/video.mp4",
        method = "get",
        operation_id = "signed_video"
    )]
    async fn video(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedMp4Response, Refused<NeedsBackend>> {
        let reply = signed(
            &state,
            &token.0,
            Some(StreamFile::Video),
            range.0.as_deref(),
        )
        .await;
        Ok(SignedMp4Response::from_reply(reply)?)
    }

    /// The thumbnail behind a playback link.
    #[oai(
        path = "/:token/thumbnail.jpg",
        method = "get",
        operation_id = "signed_thumbnail"
    )]
    async fn thumbnail(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedJpegResponse, Refused<NeedsBackend>> {
        let file = Some(StreamFile::Thumbnail);
        let reply = signed(&state, &token.0, file, range.0.as_deref()).await;
        Ok(SignedJpegResponse::from_reply(reply)?)
    }

    /// The storyboard cues behind a playback link.
    #[oai(
        path = "/:token/storyboard.vtt",
        method = "get",
        operation_id = "signed_storyboard_cues"
    )]
    async fn storyboard_cues(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedCuesResponse, Refused<NeedsBackend>> {
        let file = Some(StreamFile::StoryboardCues);
        let reply = signed(&state, &token.0, file, range.0.as_deref()).await;
        Ok(SignedCuesResponse::from_reply(reply)?)
    }

    /// The storyboard sprite behind a playback link.
    #[oai(
        path = "/:token/storyboard.jpg",
        method = "get",
        operation_id = "signed_storyboard_sprite"
    )]
    async fn storyboard_sprite(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedJpegResponse, Refused<NeedsBackend>> {
        let file = Some(StreamFile::StoryboardSprite);
        let reply = signed(&state, &token.0, file, range.0.as_deref()).await;
        Ok(SignedJpegResponse::from_reply(reply)?)
    }

    /// A ready MP4 rendition behind a playback link (HTTP Range supported).
    #[oai(
        path = "/:token/renditions/:rendition_id/video.mp4",
        method = "get",
        operation_id = "signed_rendition_mp4"
    )]
    async fn rendition_mp4(
        &self,
        state: Data<&AppState>,
        /// The signed token from `GET /api/videos/{video_id}/renditions`.
        token: Path<String>,
        /// The rendition.
        rendition_id: Path<Uuid>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedMp4Response, Refused<NeedsBackend>> {
        let file = RenditionFile::named("video.mp4");
        let reply = rendition(&state, &token.0, rendition_id.0, file, range.0.as_deref()).await;
        Ok(SignedMp4Response::from_reply(reply)?)
    }

    /// A ready MP3 rendition behind a playback link (HTTP Range supported).
    #[oai(
        path = "/:token/renditions/:rendition_id/audio.mp3",
        method = "get",
        operation_id = "signed_rendition_mp3"
    )]
    async fn rendition_mp3(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// The rendition.
        rendition_id: Path<Uuid>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedMp3Response, Refused<NeedsBackend>> {
        let file = RenditionFile::named("audio.mp3");
        let reply = rendition(&state, &token.0, rendition_id.0, file, range.0.as_deref()).await;
        Ok(SignedMp3Response::from_reply(reply)?)
    }

    /// A ready HLS rendition's master playlist behind a playback link.
    #[oai(
        path = "/:token/renditions/:rendition_id/hls/master.m3u8",
        method = "get",
        operation_id = "signed_rendition_hls_master"
    )]
    async fn rendition_hls_master(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// The rendition.
        rendition_id: Path<Uuid>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedPlaylistResponse, Refused<NeedsBackend>> {
        let file = Some(RenditionFile::Stream(StreamFile::Master));
        let reply = rendition(&state, &token.0, rendition_id.0, file, range.0.as_deref()).await;
        Ok(SignedPlaylistResponse::from_reply(reply)?)
    }

    /// One rung's media playlist of an HLS rendition behind a playback link (its segments at
    /// presigned URLs on S3, as for the video's own ladder).
    #[oai(
        path = "/:token/renditions/:rendition_id/hls/:generation/:rung/index.m3u8",
        method = "get",
        operation_id = "signed_rendition_hls_rung_playlist"
    )]
    async fn rendition_hls_rung_playlist(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// The rendition.
        rendition_id: Path<Uuid>,
        /// The run that made the rung.
        generation: Path<String>,
        /// The rung (`1080p`, `720p`, …).
        rung: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedPlaylistResponse, Refused<NeedsBackend>> {
        let file =
            StreamFile::rung(&generation.0, &rung.0, "index.m3u8").map(RenditionFile::Stream);
        let reply = rendition(&state, &token.0, rendition_id.0, file, range.0.as_deref()).await;
        Ok(SignedPlaylistResponse::from_reply(reply)?)
    }

    /// One rung's init or media segment of an HLS rendition behind a playback link.
    #[oai(
        path = "/:token/renditions/:rendition_id/hls/:generation/:rung/:segment",
        method = "get",
        operation_id = "signed_rendition_hls_segment"
    )]
    #[allow(clippy::too_many_arguments)] // one per part of the path, as poem-openapi takes them
    async fn rendition_hls_segment(
        &self,
        state: Data<&AppState>,
        /// The signed token.
        token: Path<String>,
        /// The rendition.
        rendition_id: Path<Uuid>,
        /// The run that made the rung.
        generation: Path<String>,
        /// The rung.
        rung: Path<String>,
        /// `init.mp4` or `seg_NNNNN.m4s`.
        segment: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<SignedMp4Response, Refused<NeedsBackend>> {
        let file = StreamFile::rung(&generation.0, &rung.0, &segment.0)
            .filter(|f| f.content_type() == "video/mp4")
            .map(RenditionFile::Stream);
        let reply = rendition(&state, &token.0, rendition_id.0, file, range.0.as_deref()).await;
        Ok(SignedMp4Response::from_reply(reply)?)
    }
}

/// A file behind the playback token `token`; `None` (a name the pipeline never writes) is not
/// found, once the token is known to be good.
async fn signed(
    state: &AppState,
    token: &str,
    file: Option<StreamFile>,
    range: Option<&str>,
) -> MediaReply {
    let range = requested_range(range);
    let via = Playback::Signed(token);
    MediaReply::from_stream(
        state
            .showcase
            .open_stream_file(via, file.as_ref(), range)
            .await,
        range.is_some(),
    )
}

/// A file of rendition `id` behind the playback token `token`; `None` is not found, once the
/// token is known to be good.
async fn rendition(
    state: &AppState,
    token: &str,
    id: Uuid,
    file: Option<RenditionFile>,
    range: Option<&str>,
) -> MediaReply {
    let range = requested_range(range);
    MediaReply::from_stream(
        state
            .showcase
            .open_rendition_file(token, RenditionId::from(id), file.as_ref(), range)
            .await,
        range.is_some(),
    )
}
