//! What the pages fans share read: one published video, a player's profile, the ranked
//! players with their ids, and the cities the rankings can be filtered by.

use anb_domain::{PublicPageError, RankingQuery, UserId, VideoId};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::models::PublicVideoItem;
use super::public_models::{PlayerProfile, RankedCity, RankedPlayer};
use super::strict_text::{Filter, FilterRule};
use super::{answering_405, ApiTags};
use crate::error::{body, ApiError, ErrorCode, ErrorJson, NeedsBackend, Refused};
use crate::page_cache::Page;
use crate::paging;
use crate::state::AppState;

/// The rankings' filters and page, as given.
pub(super) struct RankingFilters {
    pub city: Option<Filter<FilterRule>>,
    pub country: Option<Filter<FilterRule>>,
    pub page: i64,
    pub page_size: i64,
}

/// A page of the rankings, or why the filters were refused.
pub(super) enum Ranked {
    /// The rows, the total and the `Link` header.
    Page(Vec<RankedPlayer>, u64, String),
    /// `validation_error`'s detail.
    Invalid(String),
}

impl RankingFilters {
    /// The page (through the rankings cache), linked from `path`.
    pub(super) async fn load(
        self,
        state: &AppState,
        path: &str,
    ) -> Result<Ranked, Refused<NeedsBackend>> {
        let given = |v: Option<Filter<FilterRule>>| {
            v.map(|f| f.as_str().to_owned())
                .filter(|s| !s.trim().is_empty())
        };
        let (city, country) = (given(self.city), given(self.country));
        let query = paging::request(self.page, self.page_size)
            .and_then(|page| RankingQuery::new(city.as_deref(), country.as_deref(), page));
        let query = match query {
            Ok(query) => query,
            Err(e) => return Ok(Ranked::Invalid(e.to_string())),
        };
        let Page { rows, total } = state
            .rankings_cache
            .get_or_load(&query.cache_key(), || async {
                let page = state.showcase.rankings(&query).await.map_err(|e| e.0)?;
                Ok(Page {
                    rows: page.items.into_iter().map(RankedPlayer::from).collect(),
                    total: page.total,
                })
            })
            .await?;
        let filters: Vec<(&str, String)> = [("city", city), ("country", country)]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect();
        let link = paging::links(path, &filters, query.page, total);
        Ok(Ranked::Page(rows, total, link))
    }
}

/// `GET /api/public/videos/{video_id}` responses.
#[derive(ApiResponse)]
pub enum PublicVideoResponse {
    /// The published video.
    #[oai(status = 200)]
    Ok(Json<Box<PublicVideoItem>>),
    /// `not_found`: no such video, or it is not published.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

/// `GET /api/public/players` responses.
#[derive(ApiResponse)]
pub enum PlayersResponse {
    /// A page of players by votes.
    #[oai(status = 200)]
    Ok(
        Json<Vec<RankedPlayer>>,
        #[oai(header = "X-Total-Count")] u64,
        #[oai(header = "Link")] String,
    ),
    /// `validation_error` naming the parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `GET /api/public/players/{user_id}` responses.
#[derive(ApiResponse)]
pub enum PlayerResponse {
    /// The player.
    #[oai(status = 200)]
    Ok(Json<PlayerProfile>),
    /// `not_found`: no such player, or they have published no video.
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

fn not_found() -> ErrorJson {
    body(ErrorCode::NotFound, "Not found.")
}

fn unexpected(e: PublicPageError) -> poem::Error {
    ApiError::unexpected(&anyhow::Error::new(e))
}

answering_405! {
    /// The public pages' reads.
    pub struct PlayersApi(PlayersOperations);
}

/// The operations of [`PlayersApi`].
pub struct PlayersOperations;

#[OpenApi(prefix_path = "/api/public", tag = "ApiTags::Public")]
impl PlayersOperations {
    /// One published video, as the gallery shows it.
    #[oai(
        path = "/videos/:video_id",
        method = "get",
        operation_id = "get_public_video"
    )]
    async fn video(
        &self,
        state: Data<&AppState>,
        video_id: Path<Uuid>,
    ) -> Result<PublicVideoResponse, Refused<NeedsBackend>> {
        match state.showcase.public_video(VideoId::from(video_id.0)).await {
            Ok(video) => Ok(PublicVideoResponse::Ok(Json(Box::new(video.into())))),
            Err(PublicPageError::NotFound) => Ok(PublicVideoResponse::NotFound(not_found())),
            Err(e) => Err(unexpected(e).into()),
        }
    }

    /// Players by votes, as the rankings, with each player's id and country (the rankings
    /// keep the contract's four keys). Pages are cached with the rankings' (2 s).
    #[oai(
        path = "/players",
        method = "get",
        operation_id = "list_ranked_players"
    )]
    async fn players(
        &self,
        state: Data<&AppState>,
        /// Only players from this city (case-insensitive; blank: any city).
        city: Query<Option<Filter<FilterRule>>>,
        /// Only players from this country (case-insensitive; blank: any country).
        country: Query<Option<Filter<FilterRule>>>,
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
    ) -> Result<PlayersResponse, Refused<NeedsBackend>> {
        let filters = RankingFilters {
            city: city.0,
            country: country.0,
            page: page.0,
            page_size: page_size.0,
        };
        Ok(match filters.load(&state, "/api/public/players").await? {
            Ranked::Page(rows, total, link) => PlayersResponse::Ok(Json(rows), total, link),
            Ranked::Invalid(detail) => {
                PlayersResponse::BadRequest(body(ErrorCode::ValidationError, detail))
            }
        })
    }

    /// A player who has published a video: their votes, place in the rankings and how many
    /// videos they published (`GET /api/public/videos?player=` lists them).
    #[oai(
        path = "/players/:user_id",
        method = "get",
        operation_id = "get_public_player"
    )]
    async fn player(
        &self,
        state: Data<&AppState>,
        user_id: Path<Uuid>,
    ) -> Result<PlayerResponse, Refused<NeedsBackend>> {
        let first = paging::request(1, 1).map_err(ApiError::internal)?;
        match state
            .showcase
            .player_page(UserId::from(user_id.0), first)
            .await
        {
            Ok(page) => Ok(PlayerResponse::Ok(Json(PlayerProfile::from(&page)))),
            Err(PublicPageError::NotFound) => Ok(PlayerResponse::NotFound(not_found())),
            Err(e) => Err(unexpected(e).into()),
        }
    }

    /// The cities of ranked players, most votes first (at most 100): the rankings' city
    /// filter.
    #[oai(path = "/cities", method = "get", operation_id = "list_ranked_cities")]
    async fn cities(
        &self,
        state: Data<&AppState>,
    ) -> Result<Json<Vec<RankedCity>>, Refused<NeedsBackend>> {
        let cities = state
            .showcase
            .ranked_cities()
            .await
            .map_err(|e| ApiError::unexpected(&e.0))?;
        Ok(Json(cities.into_iter().map(RankedCity::from).collect()))
    }
}
