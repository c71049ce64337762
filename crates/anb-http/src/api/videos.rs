//! A player's own videos.

use anb_domain::{MediaKind, VideoId};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::models::{PlaybackLinks, UploadAccepted, VideoDeleted, VideoDetail, VideoSummary};
use super::{answering_405, ApiTags};
use crate::client_address::ClientAddress;
use crate::error::{body, ErrorCode, ErrorJson, Protected, Refused, UploadLimits};
use crate::paging;
use crate::range_download::{requested_range, MediaReply, ThumbnailResponse, VideoFileResponse};
use crate::security::Caller;
use crate::state::AppState;
use crate::upload::{FormProblem, VideoUploadForm};

/// `POST /api/videos/upload` responses.
#[derive(ApiResponse)]
pub enum UploadResponse {
    /// Accepted; processing is queued.
    #[oai(status = 201)]
    Created(Json<UploadAccepted>),
    /// `invalid_file` (not an MP4/MOV video by content), `file_too_large`,
    /// `upload_interrupted`, or `validation_error` naming the field (missing, repeated,
    /// unknown, or not as the schema says; a body that is not a multipart form).
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `GET /api/videos` responses.
#[derive(ApiResponse)]
pub enum ListOwnResponse {
    /// A page of the caller's videos, newest first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<VideoSummary>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error` naming the paging parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `GET /api/videos/{video_id}` responses.
#[derive(ApiResponse)]
pub enum DetailResponse {
    /// The video.
    #[oai(status = 200)]
    Ok(Json<Box<VideoDetail>>),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video (or not a video id).
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `POST /api/videos/{video_id}/publish` and `/unpublish` responses.
#[derive(ApiResponse)]
pub enum VideoResponse {
    /// The video.
    #[oai(status = 200)]
    Ok(Json<Box<VideoDetail>>),
    /// `not_processed` (publish before processing).
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video (or not a video id).
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `DELETE /api/videos/{video_id}` responses.
#[derive(ApiResponse)]
pub enum DeleteResponse {
    /// Deleted, with its files.
    #[oai(status = 200)]
    Ok(Json<VideoDeleted>),
    /// `video_has_votes` or `video_published`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video (or not a video id).
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/videos/{video_id}/playback` responses.
#[derive(ApiResponse)]
pub enum PlaybackResponse {
    /// Signed links to play the video.
    #[oai(status = 200)]
    Ok(Json<PlaybackLinks>),
    /// `not_processed`: nothing to play yet.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video (or not a video id).
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

crate::refusals!(PlaybackResponse { BadRequest => BadRequest, Forbidden => Forbidden, NotFound => NotFound });
crate::refusals!(UploadResponse { BadRequest => BadRequest });
crate::refusals!(DetailResponse { Forbidden => Forbidden, NotFound => NotFound });
crate::refusals!(VideoResponse { BadRequest => BadRequest, Forbidden => Forbidden, NotFound => NotFound });
crate::refusals!(DeleteResponse { BadRequest => BadRequest, Forbidden => Forbidden, NotFound => NotFound });

answering_405! {
    /// The caller's videos.
    pub struct VideosApi(VideosOperations);
}

/// The operations of [`VideosApi`].
pub struct VideosOperations;

#[OpenApi(prefix_path = "/api/videos", tag = "ApiTags::Videos")]
impl VideosOperations {
    /// Uploads a clip (multipart). The file is streamed to storage as it arrives, checked by
    /// content (an MP4/MOV with a video stream) and queued for processing.
    #[oai(path = "/upload", method = "post", operation_id = "upload_video")]
    async fn upload(
        &self,
        state: Data<&AppState>,
        client: Data<&ClientAddress>,
        caller: Caller,
        form: VideoUploadForm,
    ) -> Result<UploadResponse, Refused<UploadLimits>> {
        state.limits.upload(**client, caller.0)?;
        match form.submit(&state.showcase, caller.0).await {
            Ok(receipt) => {
                metrics::counter!("anb_uploads_total", "outcome" => "accepted").increment(1);
                metrics::counter!("anb_jobs_enqueued_total").increment(1);
                Ok(UploadResponse::Created(Json(UploadAccepted {
                    message: "Video subido correctamente. Procesamiento en curso.".into(),
                    task_id: receipt.task_id.as_uuid(),
                    video_id: receipt.video.id.as_uuid(),
                })))
            }
            Err(problem) => {
                metrics::counter!("anb_uploads_total", "outcome" => "refused").increment(1);
                match problem {
                    FormProblem::Invalid(detail) => Ok(UploadResponse::BadRequest(body(
                        ErrorCode::ValidationError,
                        detail,
                    ))),
                    FormProblem::Refused(e) => UploadResponse::refused(e),
                }
            }
        }
    }

    /// The caller's videos, newest first (`X-Total-Count` and `Link` headers for paging).
    #[oai(path = "/", method = "get", operation_id = "list_own_videos")]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        /// Page, from 1.
        #[oai(
            default = "paging::first_page",
            validator(minimum(value = "1"), maximum(value = "4294967295"))
        )]
        page: Query<i64>,
        /// Page size, 1 to 100.
        #[oai(
            default = "paging::default_page_size",
            validator(minimum(value = "1"), maximum(value = "100"))
        )]
        page_size: Query<i64>,
    ) -> Result<ListOwnResponse, Refused<Protected>> {
        let request = match paging::request(page.0, page_size.0) {
            Ok(request) => request,
            Err(e) => {
                return Ok(ListOwnResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    e.to_string(),
                )))
            }
        };
        let page = state.showcase.list_own_videos(caller.0, request).await?;
        let link = paging::links("/api/videos", &[], page.request, page.total);
        let total = page.total;
        Ok(ListOwnResponse::Ok(
            Json(page.items.into_iter().map(VideoSummary::from).collect()),
            total,
            link,
        ))
    }

    /// One of the caller's videos.
    #[oai(path = "/:video_id", method = "get", operation_id = "get_own_video")]
    async fn detail(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<DetailResponse, Refused<Protected>> {
        let id = VideoId::from(video_id.0);
        match state.showcase.own_video(caller.0, id).await {
            Ok(video) => Ok(DetailResponse::Ok(Json(Box::new(video.into())))),
            Err(e) => DetailResponse::refused(e),
        }
    }

    /// Signed playback links for one of the caller's processed videos, public or private: the
    /// HLS master, the MP4, the thumbnail and the storyboard, each fetchable without a bearer
    /// header (a player, a CDN) until `expires_at` (4 hours by default); an expired or altered
    /// link answers 403.
    #[oai(
        path = "/:video_id/playback",
        method = "get",
        operation_id = "get_playback"
    )]
    async fn playback(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<PlaybackResponse, Refused<Protected>> {
        let id = VideoId::from(video_id.0);
        match state.showcase.grant_playback(caller.0, id).await {
            Ok(grant) => Ok(PlaybackResponse::Ok(Json(grant.into()))),
            Err(e) => PlaybackResponse::refused(e),
        }
    }

    /// Deletes one of the caller's videos and its files: only while it has no votes and is not
    /// published for voting.
    #[oai(path = "/:video_id", method = "delete", operation_id = "delete_video")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<DeleteResponse, Refused<Protected>> {
        let id = VideoId::from(video_id.0);
        match state.showcase.delete_video(caller.0, id).await {
            Ok(video) => Ok(DeleteResponse::Ok(Json(VideoDeleted {
                message: "El video ha sido eliminado exitosamente.".into(),
                video_id: video.id.as_uuid(),
            }))),
            Err(e) => DeleteResponse::refused(e),
        }
    }

    /// Opens a processed video for voting (shown in the public gallery).
    #[oai(
        path = "/:video_id/publish",
        method = "post",
        operation_id = "publish_video"
    )]
    async fn publish(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<VideoResponse, Refused<Protected>> {
        set_public(&state, caller, video_id.0, true).await
    }

    /// Takes a video out of the public gallery (its votes are kept).
    #[oai(
        path = "/:video_id/unpublish",
        method = "post",
        operation_id = "unpublish_video"
    )]
    async fn unpublish(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<VideoResponse, Refused<Protected>> {
        set_public(&state, caller, video_id.0, false).await
    }

    /// The upload as received (HTTP Range supported).
    #[oai(
        path = "/:video_id/original",
        method = "get",
        operation_id = "download_original"
    )]
    async fn original(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        /// A single byte range (`bytes=0-99`, `bytes=100-`, `bytes=-500`); anything else
        /// sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<VideoFileResponse, Refused<Protected>> {
        Ok(VideoFileResponse::from_reply(
            own_media(
                &state,
                caller,
                video_id.0,
                MediaKind::Original,
                range.0.as_deref(),
            )
            .await,
        )?)
    }

    /// The processed MP4 (HTTP Range supported).
    #[oai(
        path = "/:video_id/processed",
        method = "get",
        operation_id = "download_processed"
    )]
    async fn processed(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        /// A single byte range (`bytes=0-99`, `bytes=100-`, `bytes=-500`); anything else
        /// sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<VideoFileResponse, Refused<Protected>> {
        Ok(VideoFileResponse::from_reply(
            own_media(
                &state,
                caller,
                video_id.0,
                MediaKind::Processed,
                range.0.as_deref(),
            )
            .await,
        )?)
    }

    /// The thumbnail (JPEG).
    #[oai(
        path = "/:video_id/thumbnail",
        method = "get",
        operation_id = "download_thumbnail"
    )]
    async fn thumbnail(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        /// A single byte range (`bytes=0-99`, `bytes=100-`, `bytes=-500`); anything else
        /// sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<ThumbnailResponse, Refused<Protected>> {
        Ok(ThumbnailResponse::from_reply(
            own_media(
                &state,
                caller,
                video_id.0,
                MediaKind::Thumbnail,
                range.0.as_deref(),
            )
            .await,
        )?)
    }
}

async fn set_public(
    state: &AppState,
    caller: Caller,
    id: Uuid,
    public: bool,
) -> Result<VideoResponse, Refused<Protected>> {
    let id = VideoId::from(id);
    match state.showcase.set_public(caller.0, id, public).await {
        Ok(video) => Ok(VideoResponse::Ok(Json(Box::new(video.into())))),
        Err(e) => VideoResponse::refused(e),
    }
}

async fn own_media(
    state: &AppState,
    caller: Caller,
    id: Uuid,
    kind: MediaKind,
    range: Option<&str>,
) -> MediaReply {
    let id = VideoId::from(id);
    let range = requested_range(range);
    MediaReply::from_result(
        state
            .showcase
            .open_own_media(caller.0, id, kind, range)
            .await,
        range.is_some(),
    )
}
