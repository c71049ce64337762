//! Conversions on demand: an owner asks for a rendition of a processed video (an MP4 at a
//! height, the sound as MP3, an HLS ladder) and lists them with signed download links.

use anb_domain::rendition::RenditionRequest;
use anb_domain::VideoId;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::rendition_models::{ConversionRequest, RenditionView};
use super::{answering_405, ApiTags};
use crate::error::{body, ErrorCode, ErrorJson, Protected, Refused};
use crate::security::Caller;
use crate::state::AppState;

/// `POST /api/videos/{video_id}/renditions` responses.
#[derive(ApiResponse)]
pub enum ConvertResponse {
    /// The same rendition already exists (waiting, being made or ready): nothing new queued.
    #[oai(status = 200)]
    Existing(Json<RenditionView>),
    /// Queued: a new rendition, or one that had failed tried again.
    #[oai(status = 202)]
    Accepted(Json<RenditionView>),
    /// `validation_error` (the body, the format or the height) or `not_processed`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video (or not a video id).
    #[oai(status = 404)]
    NotFound(ErrorJson),
    /// `too_many_conversions`: the caller already has the most conversions waiting or being
    /// made (`ANB_MAX_PENDING_CONVERSIONS`, 3 by default).
    #[oai(status = 429)]
    TooManyRequests(ErrorJson),
}

/// `GET /api/videos/{video_id}/renditions` responses.
#[derive(ApiResponse)]
pub enum RenditionsResponse {
    /// The video's renditions, first asked first.
    #[oai(status = 200)]
    Ok(Json<Vec<RenditionView>>),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video (or not a video id).
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

crate::refusals!(ConvertResponse {
    BadRequest => BadRequest,
    Forbidden => Forbidden,
    NotFound => NotFound,
    TooManyRequests => TooManyRequests,
});
crate::refusals!(RenditionsResponse { Forbidden => Forbidden, NotFound => NotFound });

answering_405! {
    /// Conversions on demand of the caller's videos.
    pub struct RenditionsApi(RenditionsOperations);
}

/// The operations of [`RenditionsApi`].
pub struct RenditionsOperations;

#[OpenApi(prefix_path = "/api/videos", tag = "ApiTags::Videos")]
impl RenditionsOperations {
    /// Asks for a rendition of one of the caller's processed videos, made from the original
    /// in the background with the showcase's rules (trim, fit, logo): an MP4 at a height, the
    /// sound as MP3, or an HLS ladder up to a height. One of each kind is kept per video:
    /// asking for one that exists answers 200 with it; one that failed is tried again.
    #[oai(
        path = "/:video_id/renditions",
        method = "post",
        operation_id = "request_rendition"
    )]
    async fn request(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        conversion: Json<ConversionRequest>,
    ) -> Result<ConvertResponse, Refused<Protected>> {
        let height = conversion.0.height.map(|h| h.0);
        let asked = match RenditionRequest::new(conversion.0.format.into(), height) {
            Ok(asked) => asked,
            Err(e) => {
                return Ok(ConvertResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    e.to_string(),
                )))
            }
        };
        let id = VideoId::from(video_id.0);
        match state.showcase.request_conversion(caller.0, id, asked).await {
            Ok(accepted) => {
                let view = Json(RenditionView::new(accepted.rendition, &accepted.token));
                Ok(if accepted.queued {
                    ConvertResponse::Accepted(view)
                } else {
                    ConvertResponse::Existing(view)
                })
            }
            Err(e) => ConvertResponse::refused(e),
        }
    }

    /// The renditions of one of the caller's videos, with signed download links to the ready
    /// ones and the progress of the one being made.
    #[oai(
        path = "/:video_id/renditions",
        method = "get",
        operation_id = "list_renditions"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<RenditionsResponse, Refused<Protected>> {
        let id = VideoId::from(video_id.0);
        match state.showcase.renditions(caller.0, id).await {
            Ok(list) => Ok(RenditionsResponse::Ok(Json(
                list.renditions
                    .into_iter()
                    .map(|r| RenditionView::new(r, &list.token))
                    .collect(),
            ))),
            Err(e) => RenditionsResponse::refused(e),
        }
    }
}
