//! Private sharing: an owner shares a video with chosen players (found in the player
//! directory) or through signed, revocable links; recipients list what is shared with them and
//! watch it through playback links that name them.

use std::time::Duration;

use anb_domain::{ShareLinkId, UserId, VideoId};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::sharing_models::{
    DirectoryEntry, ShareLinkRequest, ShareLinkView, ShareRequest, ShareView, SharedLinkView,
    SharedVideoDetail, SharedVideoItem, DEFAULT_SHARE_LINK_TTL_SECONDS,
};
use super::{answering_405, ApiTags};
use crate::error::{
    body, ErrorCode, ErrorJson, NeedsBackend, Protected, ProtectedLimited, Refused,
};
use crate::paging;
use crate::security::Caller;
use crate::state::AppState;

/// `POST /api/videos/{video_id}/shares` responses.
#[derive(ApiResponse)]
pub enum ShareResponse {
    /// It was already shared with this player: nothing changed.
    #[oai(status = 200)]
    Existing(Json<ShareView>),
    /// Shared.
    #[oai(status = 201)]
    Created(Json<ShareView>),
    /// `self_share`: the caller's own account; `validation_error`: a malformed body.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video, or no such player.
    #[oai(status = 404)]
    NotFound(ErrorJson),
    /// `too_many_shares`: the video is already shared with the most players it may be (200).
    #[oai(status = 409)]
    TooManyShares(ErrorJson),
}

/// `GET /api/videos/{video_id}/shares` responses.
#[derive(ApiResponse)]
pub enum SharesResponse {
    /// Who the video is shared with, most recent first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<ShareView>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error` naming the paging parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// Responses of the operations that remove something (a share, a share link).
#[derive(ApiResponse)]
pub enum RemovedResponse {
    /// Removed: the recipient's (or the link's) playback links stop working at once.
    #[oai(status = 204)]
    Removed,
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video, or no such share or live link of it.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `POST /api/videos/{video_id}/share-links` responses.
#[derive(ApiResponse)]
pub enum ShareLinkResponse {
    /// The link.
    #[oai(status = 201)]
    Created(Json<ShareLinkView>),
    /// `validation_error` (`expires_in`) or `not_processed`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video.
    #[oai(status = 404)]
    NotFound(ErrorJson),
    /// `too_many_shares`: the video already has the most live links it may have (20); revoke
    /// one first.
    #[oai(status = 409)]
    TooManyShares(ErrorJson),
}

/// `GET /api/videos/{video_id}/share-links` responses.
#[derive(ApiResponse)]
pub enum ShareLinksResponse {
    /// The live links, newest first.
    #[oai(status = 200)]
    Ok(Json<Vec<ShareLinkView>>),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/shared-with-me` responses.
#[derive(ApiResponse)]
pub enum SharedWithMeResponse {
    /// The videos shared with the caller, most recently shared first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<SharedVideoItem>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error` naming the paging parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `GET /api/shared-with-me/{video_id}` responses.
#[derive(ApiResponse)]
pub enum SharedVideoResponse {
    /// The video and its playback links.
    #[oai(status = 200)]
    Ok(Json<Box<SharedVideoDetail>>),
    /// `not_found`: the video is not shared with the caller (whether or not it exists).
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/share-links/{token}` responses.
#[derive(ApiResponse)]
pub enum OpenShareLinkResponse {
    /// The video and its playback links.
    #[oai(status = 200)]
    Ok(Json<Box<SharedLinkView>>),
    /// `signature_expired` (the link expired), `signature_invalid` (altered, or not a share
    /// link) or `access_revoked` (its owner revoked it).
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: the video is gone.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/users` responses.
#[derive(ApiResponse)]
pub enum DirectoryResponse {
    /// Players whose name contains `q`, by name (ids, names and cities; never emails).
    #[oai(status = 200)]
    Ok(
        Json<Vec<DirectoryEntry>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error` naming `q` or the paging parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

crate::refusals!(ShareResponse {
    BadRequest => BadRequest,
    Forbidden => Forbidden,
    NotFound => NotFound,
    Conflict => TooManyShares,
});
crate::refusals!(SharesResponse {
    BadRequest => BadRequest,
    Forbidden => Forbidden,
    NotFound => NotFound,
});
crate::refusals!(RemovedResponse { Forbidden => Forbidden, NotFound => NotFound });
crate::refusals!(ShareLinkResponse {
    BadRequest => BadRequest,
    Forbidden => Forbidden,
    NotFound => NotFound,
    Conflict => TooManyShares,
});
crate::refusals!(ShareLinksResponse { Forbidden => Forbidden, NotFound => NotFound });
crate::refusals!(SharedVideoResponse { NotFound => NotFound });
crate::refusals!(OpenShareLinkResponse { Forbidden => Forbidden, NotFound => NotFound });
crate::refusals!(DirectoryResponse { BadRequest => BadRequest });

answering_405! {
    /// Shares of the caller's videos.
    pub struct SharingApi(SharingOperations);
}

/// The operations of [`SharingApi`] under `/api/videos`.
pub struct SharingOperations;

#[OpenApi(prefix_path = "/api/videos", tag = "ApiTags::Sharing")]
impl SharingOperations {
    /// Shares one of the caller's videos (published or not) with another player, who can then
    /// watch it (not vote for it unless it is published, nor delete it).
    #[oai(
        path = "/:video_id/shares",
        method = "post",
        operation_id = "share_video"
    )]
    async fn share(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        request: Json<ShareRequest>,
    ) -> Result<ShareResponse, Refused<ProtectedLimited>> {
        state.limits.sharing(caller.0)?;
        let video = VideoId::from(video_id.0);
        let recipient = UserId::from(request.0.user_id);
        match state.showcase.share_video(caller.0, video, recipient).await {
            Ok((share, true)) => Ok(ShareResponse::Created(Json(share.into()))),
            Ok((share, false)) => Ok(ShareResponse::Existing(Json(share.into()))),
            Err(e) => ShareResponse::refused(e),
        }
    }

    /// Who one of the caller's videos is shared with (`X-Total-Count` and `Link` for paging).
    #[oai(
        path = "/:video_id/shares",
        method = "get",
        operation_id = "list_video_shares"
    )]
    async fn shares(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
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
    ) -> Result<SharesResponse, Refused<Protected>> {
        let request = match paging::request(page.0, page_size.0) {
            Ok(request) => request,
            Err(e) => {
                return Ok(SharesResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    e.to_string(),
                )))
            }
        };
        let video = VideoId::from(video_id.0);
        match state.showcase.video_shares(caller.0, video, request).await {
            Ok(page) => {
                let link = paging::links(
                    &format!("/api/videos/{video}/shares"),
                    &[],
                    page.request,
                    page.total,
                );
                let total = page.total;
                Ok(SharesResponse::Ok(
                    Json(page.items.into_iter().map(ShareView::from).collect()),
                    total,
                    link,
                ))
            }
            Err(e) => SharesResponse::refused(e),
        }
    }

    /// Stops sharing one of the caller's videos with a player.
    #[oai(
        path = "/:video_id/shares/:user_id",
        method = "delete",
        operation_id = "unshare_video"
    )]
    async fn unshare(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> Result<RemovedResponse, Refused<Protected>> {
        let video = VideoId::from(video_id.0);
        let recipient = UserId::from(user_id.0);
        match state
            .showcase
            .unshare_video(caller.0, video, recipient)
            .await
        {
            Ok(()) => Ok(RemovedResponse::Removed),
            Err(e) => RemovedResponse::refused(e),
        }
    }

    /// Makes a share link to one of the caller's processed videos: a signed URL anyone can
    /// watch it through until it expires or is revoked.
    #[oai(
        path = "/:video_id/share-links",
        method = "post",
        operation_id = "create_share_link"
    )]
    async fn create_link(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        request: Json<ShareLinkRequest>,
    ) -> Result<ShareLinkResponse, Refused<ProtectedLimited>> {
        state.limits.sharing(caller.0)?;
        let video = VideoId::from(video_id.0);
        let ttl = Duration::from_secs(
            request
                .0
                .expires_in
                .unwrap_or(DEFAULT_SHARE_LINK_TTL_SECONDS),
        );
        match state.showcase.create_share_link(caller.0, video, ttl).await {
            Ok(grant) => Ok(ShareLinkResponse::Created(Json(grant.into()))),
            Err(e) => ShareLinkResponse::refused(e),
        }
    }

    /// The live share links of one of the caller's videos.
    #[oai(
        path = "/:video_id/share-links",
        method = "get",
        operation_id = "list_share_links"
    )]
    async fn links(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<ShareLinksResponse, Refused<Protected>> {
        let video = VideoId::from(video_id.0);
        match state.showcase.share_links(caller.0, video).await {
            Ok(grants) => Ok(ShareLinksResponse::Ok(Json(
                grants.into_iter().map(ShareLinkView::from).collect(),
            ))),
            Err(e) => ShareLinksResponse::refused(e),
        }
    }

    /// Revokes a share link of one of the caller's videos.
    #[oai(
        path = "/:video_id/share-links/:link_id",
        method = "delete",
        operation_id = "revoke_share_link"
    )]
    async fn revoke_link(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
        link_id: Path<Uuid>,
    ) -> Result<RemovedResponse, Refused<Protected>> {
        let video = VideoId::from(video_id.0);
        let link = ShareLinkId::from(link_id.0);
        match state
            .showcase
            .revoke_share_link(caller.0, video, link)
            .await
        {
            Ok(()) => Ok(RemovedResponse::Removed),
            Err(e) => RemovedResponse::refused(e),
        }
    }
}

answering_405! {
    /// What is shared with the caller, share links, and the player directory.
    pub struct SharedApi(SharedOperations);
}

/// The operations of [`SharedApi`].
pub struct SharedOperations;

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Sharing")]
impl SharedOperations {
    /// The videos other players shared with the caller (`X-Total-Count` and `Link` for
    /// paging).
    #[oai(
        path = "/shared-with-me",
        method = "get",
        operation_id = "list_shared_with_me"
    )]
    async fn shared_with_me(
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
    ) -> Result<SharedWithMeResponse, Refused<Protected>> {
        let request = match paging::request(page.0, page_size.0) {
            Ok(request) => request,
            Err(e) => {
                return Ok(SharedWithMeResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    e.to_string(),
                )))
            }
        };
        let page = state
            .showcase
            .shared_with_me(caller.0, request)
            .await
            .map_err(|e| crate::error::ApiError::unexpected(&e))?;
        let link = paging::links("/api/shared-with-me", &[], page.request, page.total);
        let total = page.total;
        Ok(SharedWithMeResponse::Ok(
            Json(page.items.iter().map(SharedVideoItem::from).collect()),
            total,
            link,
        ))
    }

    /// A video shared with the caller, with playback links that name the caller.
    #[oai(
        path = "/shared-with-me/:video_id",
        method = "get",
        operation_id = "get_shared_video"
    )]
    async fn shared_video(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<SharedVideoResponse, Refused<Protected>> {
        let video = VideoId::from(video_id.0);
        match state.showcase.shared_video(caller.0, video).await {
            Ok((shared, grant)) => Ok(SharedVideoResponse::Ok(Json(Box::new(
                SharedVideoDetail::new(&shared, grant),
            )))),
            Err(e) => SharedVideoResponse::refused(e),
        }
    }

    /// What a share link opens (no bearer): the video, its player and playback links.
    #[oai(
        path = "/share-links/:token",
        method = "get",
        operation_id = "open_share_link"
    )]
    async fn open_link(
        &self,
        state: Data<&AppState>,
        /// The token of the share link's URL.
        token: Path<String>,
    ) -> Result<OpenShareLinkResponse, Refused<NeedsBackend>> {
        match state.showcase.open_share_link(&token.0).await {
            Ok(opened) => Ok(OpenShareLinkResponse::Ok(Json(Box::new(opened.into())))),
            Err(e) => OpenShareLinkResponse::refused(e),
        }
    }

    /// The player directory, for choosing whom to share with: players whose name contains
    /// `q` (ignoring case), by name. Names and cities only, never emails.
    #[oai(path = "/users", method = "get", operation_id = "search_players")]
    async fn directory(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        /// Part of a name (at most 100 characters); empty or absent: everyone.
        #[oai(default, validator(max_length = 100))]
        q: Query<String>,
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
    ) -> Result<DirectoryResponse, Refused<ProtectedLimited>> {
        state.limits.directory(caller.0)?;
        let request = match paging::request(page.0, page_size.0) {
            Ok(request) => request,
            Err(e) => {
                return Ok(DirectoryResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    e.to_string(),
                )))
            }
        };
        match state.showcase.player_directory(&q.0, request).await {
            Ok(page) => {
                let link = paging::links(
                    "/api/users",
                    &[("q", q.0.clone())],
                    page.request,
                    page.total,
                );
                let total = page.total;
                Ok(DirectoryResponse::Ok(
                    Json(page.items.into_iter().map(DirectoryEntry::from).collect()),
                    total,
                    link,
                ))
            }
            Err(e) => DirectoryResponse::refused(e),
        }
    }
}
