//! The public gallery, votes, rankings and streaming.

use anb_domain::{
    CastVoteError, City, Country, MediaKind, PublicSort, PublicVideoQuery, RankingQuery, VideoId,
};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, OpenApi};

use super::models::{PublicVideoItem, RankingRow, VoteAccepted};
use super::{parse_id, ApiTags};
use crate::error::{body, ApiError, ErrorJson};
use crate::media::{requested_range, MediaReply, ThumbnailResponse, VideoFileResponse};
use crate::page_cache::Page;
use crate::paging;
use crate::security::Caller;
use crate::state::AppState;

/// Gallery order.
#[derive(Clone, Copy, Debug, Default, Enum)]
#[oai(rename_all = "lowercase")]
pub enum SortParam {
    /// Most votes first.
    #[default]
    Votes,
    /// Most recently published first.
    Recent,
}

/// `GET /api/public/videos` responses.
#[derive(ApiResponse)]
pub enum GalleryResponse {
    /// A page of published videos.
    #[oai(status = 200)]
    Ok(
        Json<Vec<PublicVideoItem>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `POST /api/public/videos/{video_id}/vote` responses.
#[derive(ApiResponse)]
pub enum VoteResponse {
    /// The vote counts.
    #[oai(status = 200)]
    Ok(Json<VoteAccepted>),
    /// `already_voted`, `self_vote` or `not_votable`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `not_found`.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/public/rankings` responses.
#[derive(ApiResponse)]
pub enum RankingsResponse {
    /// A page of players by votes.
    #[oai(status = 200)]
    Ok(
        Json<Vec<RankingRow>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// What anyone can see and do.
pub struct PublicApi;

#[OpenApi(prefix_path = "/api/public", tag = "ApiTags::Public")]
impl PublicApi {
    /// Published videos: filter by the player's `city`, search titles and tags with `q`, sort
    /// by `votes` or `recent`. Pages are cached for 2 s (a vote or a newly published video
    /// shows within that).
    #[oai(path = "/videos", method = "get", operation_id = "list_public_videos")]
    async fn gallery(
        &self,
        state: Data<&AppState>,
        /// The player's city.
        city: Query<Option<String>>,
        /// Words in the title or tags.
        q: Query<Option<String>>,
        /// `votes` (default) or `recent`.
        sort: Query<Option<SortParam>>,
        /// Page, from 1.
        page: Query<Option<i64>>,
        /// Page size, 1..=100 (default 20).
        page_size: Query<Option<i64>>,
    ) -> poem::Result<GalleryResponse> {
        let sort_param = sort.0.unwrap_or_default();
        let query = paging::request(page.0, page_size.0).and_then(|page| {
            let sort = match sort_param {
                SortParam::Votes => PublicSort::Votes,
                SortParam::Recent => PublicSort::Recent,
            };
            PublicVideoQuery::new(city.0.as_deref(), q.0.as_deref(), sort, page)
        });
        let query = match query {
            Ok(query) => query,
            Err(e) => {
                return Ok(GalleryResponse::BadRequest(body(
                    "validation_error",
                    e.to_string(),
                )))
            }
        };
        let key = format!(
            "{}|{}|{:?}|{}|{}",
            query.city.as_ref().map_or("", |c| c.key()),
            query.search.as_deref().unwrap_or_default(),
            query.sort,
            query.page.page(),
            query.page.page_size()
        );
        let Page { rows: items, total } = state
            .gallery_cache
            .get_or_load(&key, || async {
                let page = state
                    .showcase
                    .list_public_videos(&query)
                    .await
                    .map_err(|e| e.0)?;
                Ok(Page {
                    rows: page.items.into_iter().map(PublicVideoItem::from).collect(),
                    total: page.total,
                })
            })
            .await
            .map_err(|e| ApiError::internal(format!("{e:#}")))?;
        let mut filters = Vec::new();
        if let Some(city) = city.0.as_ref() {
            filters.push(("city", city.clone()));
        }
        if let Some(q) = q.0.as_ref() {
            filters.push(("q", q.clone()));
        }
        if let SortParam::Recent = sort_param {
            filters.push(("sort", "recent".to_owned()));
        }
        let link = paging::links("/api/public/videos", &filters, query.page, total);
        Ok(GalleryResponse::Ok(Json(items), total, link))
    }

    /// Votes for a published video: one vote per player per video, never for your own.
    #[oai(
        path = "/videos/:video_id/vote",
        method = "post",
        operation_id = "vote"
    )]
    async fn vote(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        video_id: Path<String>,
    ) -> poem::Result<VoteResponse> {
        let Some(id) = parse_id::<VideoId>(&video_id) else {
            return Ok(VoteResponse::NotFound(body(
                "not_found",
                "Video not found.",
            )));
        };
        let bad = |code, detail: &str| Ok(VoteResponse::BadRequest(body(code, detail)));
        match state.showcase.cast_vote(caller.0, id).await {
            Ok(total_votes) => Ok(VoteResponse::Ok(Json(VoteAccepted {
                message: "Voto registrado exitosamente.".into(),
                video_id: id.as_uuid(),
                total_votes,
            }))),
            Err(CastVoteError::AlreadyVoted) => {
                bad("already_voted", "Ya has votado por este video.")
            }
            Err(CastVoteError::SelfVote) => {
                bad("self_vote", "No puedes votar por tu propio video.")
            }
            Err(CastVoteError::NotVotable) => bad(
                "not_votable",
                "Este video no está abierto a votación (no procesado o no público).",
            ),
            Err(CastVoteError::NotFound) => Ok(VoteResponse::NotFound(body(
                "not_found",
                "Video not found.",
            ))),
            Err(CastVoteError::Unexpected(e)) => Err(ApiError::internal(format!("{e:#}"))),
        }
    }

    /// Players by votes on their videos; positions run on across pages. Filter by `city` or
    /// `country`. Each row has exactly `position`, `username`, `city`, `votes`.
    #[oai(path = "/rankings", method = "get", operation_id = "rankings")]
    async fn rankings(
        &self,
        state: Data<&AppState>,
        /// Only players from this city.
        city: Query<Option<String>>,
        /// Only players from this country.
        country: Query<Option<String>>,
        /// Page, from 1.
        page: Query<Option<i64>>,
        /// Page size, 1..=100 (default 20).
        page_size: Query<Option<i64>>,
    ) -> poem::Result<RankingsResponse> {
        let blank = |v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        };
        let (city_raw, country_raw) = (blank(&city.0), blank(&country.0));
        let query = paging::request(page.0, page_size.0).and_then(|page| {
            Ok(RankingQuery {
                city: city_raw.as_deref().map(City::parse).transpose()?,
                country: country_raw.as_deref().map(Country::parse).transpose()?,
                page,
            })
        });
        let query = match query {
            Ok(query) => query,
            Err(e) => {
                return Ok(RankingsResponse::BadRequest(body(
                    "validation_error",
                    e.to_string(),
                )))
            }
        };
        let key = format!(
            "{}|{}|{}|{}",
            query.city.as_ref().map_or("", |c| c.key()),
            query.country.as_ref().map_or("", |c| c.key()),
            query.page.page(),
            query.page.page_size()
        );
        let Page { rows, total } = state
            .rankings_cache
            .get_or_load(&key, || async {
                let page = state.showcase.rankings(&query).await.map_err(|e| e.0)?;
                Ok(Page {
                    rows: page.items.into_iter().map(RankingRow::from).collect(),
                    total: page.total,
                })
            })
            .await
            .map_err(|e| ApiError::internal(format!("{e:#}")))?;
        let mut filters = Vec::new();
        if let Some(city) = city_raw {
            filters.push(("city", city));
        }
        if let Some(country) = country_raw {
            filters.push(("country", country));
        }
        let link = paging::links("/api/public/rankings", &filters, query.page, total);
        Ok(RankingsResponse::Ok(Json(rows), total, link))
    }

    /// Streams a published video's processed MP4 (HTTP Range supported).
    #[oai(
        path = "/videos/:video_id/stream",
        method = "get",
        operation_id = "stream_video"
    )]
    async fn stream(
        &self,
        state: Data<&AppState>,
        video_id: Path<String>,
        #[oai(name = "Range")] range: Header<Option<String>>,
    ) -> poem::Result<VideoFileResponse> {
        VideoFileResponse::from_reply(
            public_media(&state, &video_id, MediaKind::Processed, range.0.as_deref()).await,
        )
    }

    /// A published video's thumbnail (JPEG).
    #[oai(
        path = "/videos/:video_id/thumbnail",
        method = "get",
        operation_id = "public_thumbnail"
    )]
    async fn thumbnail(
        &self,
        state: Data<&AppState>,
        video_id: Path<String>,
        #[oai(name = "Range")] range: Header<Option<String>>,
    ) -> poem::Result<ThumbnailResponse> {
        ThumbnailResponse::from_reply(
            public_media(&state, &video_id, MediaKind::Thumbnail, range.0.as_deref()).await,
        )
    }
}

async fn public_media(
    state: &AppState,
    raw_id: &str,
    kind: MediaKind,
    range: Option<&str>,
) -> MediaReply {
    let Some(id) = parse_id::<VideoId>(raw_id) else {
        return MediaReply::Refused(anb_domain::MediaError::NotFound);
    };
    let range = requested_range(range);
    MediaReply::from_result(
        state.showcase.open_public_media(id, kind, range).await,
        range.is_some(),
    )
}
