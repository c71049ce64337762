//! Webhooks (a player's subscriptions to their videos' events, and their delivery logs) and a
//! video's audit trail.

use anb_domain::event::EventType;
use anb_domain::{VideoId, WebhookId};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::webhook_models::{DeliveryView, VideoEventView, WebhookRequest, WebhookView};
use super::{answering_405, ApiTags};
use crate::error::{body, ErrorCode, ErrorJson, Protected, Refused};
use crate::paging;
use crate::security::Caller;
use crate::state::AppState;

/// `POST /api/webhooks` responses.
#[derive(ApiResponse)]
pub enum SubscribeResponse {
    /// Subscribed; the answer is the only time the secret is shown in full besides the list.
    #[oai(status = 201)]
    Created(Json<WebhookView>),
    /// `validation_error` (`url`, `events`) or `webhook_url_refused` (the URL leads to a
    /// loopback, private or internal address, or its host does not resolve).
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `too_many_webhooks`: the player has the most webhooks allowed (10); delete one first.
    #[oai(status = 409)]
    TooMany(ErrorJson),
}

/// `GET /api/webhooks` responses.
#[derive(ApiResponse)]
pub enum WebhooksResponse {
    /// The caller's webhooks, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<WebhookView>>),
}

/// `DELETE /api/webhooks/{webhook_id}` responses.
#[derive(ApiResponse)]
pub enum UnsubscribeResponse {
    /// Removed, with its pending deliveries.
    #[oai(status = 204)]
    Removed,
    /// `not_found`: no such webhook of the caller's.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/webhooks/{webhook_id}/deliveries` responses.
#[derive(ApiResponse)]
pub enum DeliveriesResponse {
    /// The deliveries, newest event first (`X-Total-Count` and `Link` for paging).
    #[oai(status = 200)]
    Ok(
        Json<Vec<DeliveryView>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error` naming the paging parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `not_found`: no such webhook of the caller's.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/videos/{video_id}/events` responses.
#[derive(ApiResponse)]
pub enum VideoEventsResponse {
    /// The video's events, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<VideoEventView>>),
    /// `forbidden`: another player's video.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

crate::refusals!(SubscribeResponse { BadRequest => BadRequest, Conflict => TooMany });
crate::refusals!(UnsubscribeResponse { NotFound => NotFound });
crate::refusals!(DeliveriesResponse { BadRequest => BadRequest, NotFound => NotFound });
crate::refusals!(VideoEventsResponse { Forbidden => Forbidden, NotFound => NotFound });

answering_405! {
    /// Webhooks and the audit trail.
    pub struct WebhooksApi(WebhookOperations);
}

/// The operations of [`WebhooksApi`].
pub struct WebhookOperations;

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Webhooks")]
impl WebhookOperations {
    /// Subscribes to events about the caller's videos: each is POSTed to `url` as
    /// `{"type", "timestamp", "data"}` (`data`: the video's public fields), signed the
    /// Standard Webhooks way; a 2xx within 10 s delivers it, anything else is retried with
    /// growing delays (the same `webhook-id`) for 24 h, then dead-lettered. A video's events
    /// arrive in order.
    #[oai(path = "/webhooks", method = "post", operation_id = "create_webhook")]
    async fn subscribe(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        request: Json<WebhookRequest>,
    ) -> Result<SubscribeResponse, Refused<Protected>> {
        let request = request.0;
        let events: Vec<EventType> = request.events.into_iter().map(EventType::from).collect();
        match state
            .showcase
            .subscribe_webhook(caller.0, &request.url, &events)
            .await
        {
            Ok(webhook) => Ok(SubscribeResponse::Created(Json(webhook.into()))),
            Err(e) => SubscribeResponse::refused(e),
        }
    }

    /// The caller's webhooks.
    #[oai(path = "/webhooks", method = "get", operation_id = "list_webhooks")]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
    ) -> Result<WebhooksResponse, Refused<Protected>> {
        let webhooks = state.showcase.webhooks(caller.0).await?;
        Ok(WebhooksResponse::Ok(Json(
            webhooks.into_iter().map(WebhookView::from).collect(),
        )))
    }

    /// Deletes one of the caller's webhooks; its pending deliveries are dropped.
    #[oai(
        path = "/webhooks/:webhook_id",
        method = "delete",
        operation_id = "delete_webhook"
    )]
    async fn unsubscribe(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        webhook_id: Path<Uuid>,
    ) -> Result<UnsubscribeResponse, Refused<Protected>> {
        let id = WebhookId::from(webhook_id.0);
        match state.showcase.unsubscribe_webhook(caller.0, id).await {
            Ok(()) => Ok(UnsubscribeResponse::Removed),
            Err(e) => UnsubscribeResponse::refused(e),
        }
    }

    /// The delivery log of one of the caller's webhooks: status, attempts, last response.
    #[oai(
        path = "/webhooks/:webhook_id/deliveries",
        method = "get",
        operation_id = "list_webhook_deliveries"
    )]
    async fn deliveries(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        webhook_id: Path<Uuid>,
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
    ) -> Result<DeliveriesResponse, Refused<Protected>> {
        let request = match paging::request(page.0, page_size.0) {
            Ok(request) => request,
            Err(e) => {
                return Ok(DeliveriesResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    e.to_string(),
                )))
            }
        };
        let id = WebhookId::from(webhook_id.0);
        match state
            .showcase
            .webhook_deliveries(caller.0, id, request)
            .await
        {
            Ok(page) => {
                let link = paging::links(
                    &format!("/api/webhooks/{id}/deliveries"),
                    &[],
                    page.request,
                    page.total,
                );
                let total = page.total;
                Ok(DeliveriesResponse::Ok(
                    Json(page.items.into_iter().map(DeliveryView::from).collect()),
                    total,
                    link,
                ))
            }
            Err(e) => DeliveriesResponse::refused(e),
        }
    }

    /// The audit trail of one of the caller's videos, oldest first: uploaded, each processing
    /// attempt (worker, attempt number; a failed one with its error), processed or failed,
    /// published and unpublished, renditions made.
    #[oai(
        path = "/videos/:video_id/events",
        method = "get",
        operation_id = "list_video_events"
    )]
    async fn events(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<VideoEventsResponse, Refused<Protected>> {
        let video = VideoId::from(video_id.0);
        match state.showcase.video_events(caller.0, video).await {
            Ok(events) => Ok(VideoEventsResponse::Ok(Json(
                events.into_iter().map(VideoEventView::from).collect(),
            ))),
            Err(e) => VideoEventsResponse::refused(e),
        }
    }
}
