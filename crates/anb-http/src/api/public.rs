//! The public gallery, votes, rankings and streaming.

use anb_domain::{MediaKind, Playback, PublicSort, PublicVideoQuery, StreamFile, UserId, VideoId};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, OpenApi};
use uuid::Uuid;

use super::models::{PublicVideoItem, RankingRow, VoteAccepted};
use super::players::{Ranked, RankingFilters};
use super::strict_text::{Filter, FilterRule};
use super::{answering_405, ApiTags};
use crate::client_address::ClientAddress;
use crate::error::{body, ErrorCode, ErrorJson, NeedsBackend, ProtectedLimited, Refused};
use crate::page_cache::Page;
use crate::paging;
use crate::range_download::{
    requested_range, MediaReply, PublicCuesResponse, PublicPlaylistResponse,
    PublicThumbnailResponse, PublicVideoFileResponse,
};
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
    /// `validation_error` naming the parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

/// `POST /api/public/videos/{video_id}/vote` responses.
#[derive(ApiResponse)]
pub enum VoteResponse {
    /// The vote counts.
    #[oai(status = 200)]
    Ok(Json<VoteAccepted>),
    /// `already_voted`, `self_vote` or `not_votable` (not processed, or not public).
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `email_not_verified`: the showcase takes votes only from players who verified their
    /// email (`ANB_VOTE_REQUIRES_VERIFIED_EMAIL`), and the caller has not.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `not_found`: no such video (or not a video id).
    #[oai(status = 404)]
    NotFound(ErrorJson),
}

crate::refusals!(VoteResponse { BadRequest => BadRequest, Forbidden => Forbidden, NotFound => NotFound });

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
    /// `validation_error` naming the parameter.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
}

answering_405! {
    /// What anyone can see and do.
    pub struct PublicApi(PublicOperations);
}

/// The operations of [`PublicApi`].
pub struct PublicOperations;

#[OpenApi(prefix_path = "/api/public", tag = "ApiTags::Public")]
impl PublicOperations {
    /// Published videos: filter by the player's `city`, search titles and tags with `q`, sort
    /// by `votes` or `recent`. Pages are cached for 2 s (a vote or a newly published video
    /// shows within that).
    #[oai(path = "/videos", method = "get", operation_id = "list_public_videos")]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as poem-openapi takes them
    async fn gallery(
        &self,
        state: Data<&AppState>,
        /// The player's city (case-insensitive; blank: any city).
        city: Query<Option<Filter<FilterRule>>>,
        /// Words in the title or tags (blank: no search).
        q: Query<Option<Filter<FilterRule>>>,
        /// Only this player's videos (their `user_id`).
        player: Query<Option<Uuid>>,
        /// `votes` (most votes first) or `recent` (most recently published first).
        #[oai(default)]
        sort: Query<SortParam>,
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
    ) -> Result<GalleryResponse, Refused<NeedsBackend>> {
        let sort_param = sort.0;
        let city = city.0.as_ref().map(|c| c.as_str().to_owned());
        let q = q.0.as_ref().map(|q| q.as_str().to_owned());
        let query = paging::request(page.0, page_size.0).and_then(|page| {
            let sort = match sort_param {
                SortParam::Votes => PublicSort::Votes,
                SortParam::Recent => PublicSort::Recent,
            };
            let query = PublicVideoQuery::new(city.as_deref(), q.as_deref(), sort, page)?;
            Ok(match player.0 {
                Some(player) => query.of_player(UserId::from(player)),
                None => query,
            })
        });
        let query = match query {
            Ok(query) => query,
            Err(e) => {
                return Ok(GalleryResponse::BadRequest(body(
                    ErrorCode::ValidationError,
                    e.to_string(),
                )))
            }
        };
        let key = query.cache_key();
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
            .await?;
        let mut filters = Vec::new();
        if let Some(city) = city {
            filters.push(("city", city));
        }
        if let Some(q) = q {
            filters.push(("q", q));
        }
        if let Some(player) = player.0 {
            filters.push(("player", player.to_string()));
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
        client: Data<&ClientAddress>,
        caller: Caller,
        video_id: Path<Uuid>,
    ) -> Result<VoteResponse, Refused<ProtectedLimited>> {
        let id = VideoId::from(video_id.0);
        state.limits.vote(**client, caller.0)?;
        match state.showcase.cast_vote(caller.0, id).await {
            Ok(total_votes) => Ok(VoteResponse::Ok(Json(VoteAccepted {
                message: "Voto registrado exitosamente.".into(),
                video_id: id.as_uuid(),
                total_votes,
            }))),
            Err(e) => VoteResponse::refused(e),
        }
    }

    /// Players by votes on their videos; positions run on across pages. Filter by `city` or
    /// `country`. Each row has exactly `position`, `username`, `city`, `votes`.
    #[oai(path = "/rankings", method = "get", operation_id = "rankings")]
    async fn rankings(
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
    ) -> Result<RankingsResponse, Refused<NeedsBackend>> {
        let filters = RankingFilters {
            city: city.0,
            country: country.0,
            page: page.0,
            page_size: page_size.0,
        };
        Ok(match filters.load(&state, "/api/public/rankings").await? {
            Ranked::Page(rows, total, link) => RankingsResponse::Ok(
                Json(rows.into_iter().map(RankingRow::from).collect()),
                total,
                link,
            ),
            Ranked::Invalid(detail) => {
                RankingsResponse::BadRequest(body(ErrorCode::ValidationError, detail))
            }
        })
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
        video_id: Path<Uuid>,
        /// A single byte range (`bytes=0-99`, `bytes=100-`, `bytes=-500`); anything else
        /// sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<PublicVideoFileResponse, Refused<NeedsBackend>> {
        Ok(PublicVideoFileResponse::from_reply(
            public_media(&state, video_id.0, MediaKind::Processed, range.0.as_deref()).await,
        )?)
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
        video_id: Path<Uuid>,
        /// A single byte range (`bytes=0-99`, `bytes=100-`, `bytes=-500`); anything else
        /// sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<PublicThumbnailResponse, Refused<NeedsBackend>> {
        Ok(PublicThumbnailResponse::from_reply(
            public_media(&state, video_id.0, MediaKind::Thumbnail, range.0.as_deref()).await,
        )?)
    }

    /// A published video's HLS master playlist: its rungs (`RESOLUTION`, `BANDWIDTH`,
    /// `CODECS`), CMAF segments of about 2 s. Cacheable for a minute (a video processed again
    /// gets a new ladder).
    #[oai(
        path = "/videos/:video_id/hls/master.m3u8",
        method = "get",
        operation_id = "public_hls_master"
    )]
    async fn hls_master(
        &self,
        state: Data<&AppState>,
        video_id: Path<Uuid>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<PublicPlaylistResponse, Refused<NeedsBackend>> {
        let file = Some(StreamFile::Master);
        Ok(PublicPlaylistResponse::from_reply(
            public_stream(&state, video_id.0, file, range.0.as_deref()).await,
        )?)
    }

    /// One rung's media playlist. Cacheable for good: a rung's files never change at their
    /// URL.
    #[oai(
        path = "/videos/:video_id/hls/:generation/:rung/index.m3u8",
        method = "get",
        operation_id = "public_hls_rung_playlist"
    )]
    async fn hls_rung_playlist(
        &self,
        state: Data<&AppState>,
        video_id: Path<Uuid>,
        /// The processing run the rung belongs to (from the master playlist).
        generation: Path<String>,
        /// The rung (`720p`, `480p`, `360p`).
        rung: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<PublicPlaylistResponse, Refused<NeedsBackend>> {
        let file = StreamFile::rung(&generation.0, &rung.0, "index.m3u8");
        Ok(PublicPlaylistResponse::from_reply(
            public_stream(&state, video_id.0, file, range.0.as_deref()).await,
        )?)
    }

    /// One rung's init segment (`init.mp4`) or media segment (`seg_00000.m4s`), CMAF
    /// (fragmented MP4); HTTP Range supported. Cacheable for good.
    #[oai(
        path = "/videos/:video_id/hls/:generation/:rung/:segment",
        method = "get",
        operation_id = "public_hls_segment"
    )]
    async fn hls_segment(
        &self,
        state: Data<&AppState>,
        video_id: Path<Uuid>,
        /// The processing run the rung belongs to.
        generation: Path<String>,
        /// The rung.
        rung: Path<String>,
        /// `init.mp4` or `seg_NNNNN.m4s`.
        segment: Path<String>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<PublicVideoFileResponse, Refused<NeedsBackend>> {
        let file = StreamFile::rung(&generation.0, &rung.0, &segment.0)
            .filter(|f| f.content_type() == "video/mp4");
        Ok(PublicVideoFileResponse::from_reply(
            public_stream(&state, video_id.0, file, range.0.as_deref()).await,
        )?)
    }

    /// A published video's storyboard: WebVTT cues, each pointing at a tile of
    /// `storyboard.jpg` (`#xywh=x,y,w,h`), for seek previews.
    #[oai(
        path = "/videos/:video_id/storyboard.vtt",
        method = "get",
        operation_id = "public_storyboard_cues"
    )]
    async fn storyboard_cues(
        &self,
        state: Data<&AppState>,
        video_id: Path<Uuid>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<PublicCuesResponse, Refused<NeedsBackend>> {
        let file = Some(StreamFile::StoryboardCues);
        Ok(PublicCuesResponse::from_reply(
            public_stream(&state, video_id.0, file, range.0.as_deref()).await,
        )?)
    }

    /// The storyboard's sprite (JPEG tiles).
    #[oai(
        path = "/videos/:video_id/storyboard.jpg",
        method = "get",
        operation_id = "public_storyboard_sprite"
    )]
    async fn storyboard_sprite(
        &self,
        state: Data<&AppState>,
        video_id: Path<Uuid>,
        /// A single byte range; anything else sends the whole file.
        #[oai(name = "Range")]
        range: Header<Option<String>>,
    ) -> Result<PublicThumbnailResponse, Refused<NeedsBackend>> {
        let file = Some(StreamFile::StoryboardSprite);
        Ok(PublicThumbnailResponse::from_reply(
            public_stream(&state, video_id.0, file, range.0.as_deref()).await,
        )?)
    }
}

async fn public_media(
    state: &AppState,
    id: Uuid,
    kind: MediaKind,
    range: Option<&str>,
) -> MediaReply {
    let id = VideoId::from(id);
    let range = requested_range(range);
    MediaReply::from_result(
        state.showcase.open_public_media(id, kind, range).await,
        range.is_some(),
    )
}

/// A streaming file of a published video; `None` (a name the pipeline never writes) is not
/// found.
async fn public_stream(
    state: &AppState,
    id: Uuid,
    file: Option<StreamFile>,
    range: Option<&str>,
) -> MediaReply {
    let range = requested_range(range);
    let via = Playback::Published(VideoId::from(id));
    MediaReply::from_stream(
        state
            .showcase
            .open_stream_file(via, file.as_ref(), range)
            .await,
        range.is_some(),
    )
}
