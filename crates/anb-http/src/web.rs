//! The web app (`crates/anb-http/web/`): plain ES modules and CSS embedded in the binary and
//! served at `/`. The page links its files under `/assets/<bundle hash>/`, where they are
//! cached for a year (`immutable`): the hash covers every file's content, so a new build gets
//! new addresses. The page itself is revalidated on every visit (`no-cache` + `ETag`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::OnceLock;

use bytes::Bytes;
use poem::http::{header, HeaderMap, StatusCode};
use poem::web::{Data, Path};
use poem::{get, handler, Endpoint, EndpointExt, IntoResponse, Response, Route};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

use anb_domain::{PageRequest, PublicPageError, UserId, VideoId};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};
use crate::share_pages::PageHead;
use crate::AppState;

/// The files of the web app, embedded at compile time.
#[derive(Embed)]
#[folder = "web/"]
#[exclude = "README.md"]
struct WebFiles;

/// What the page may load: only this origin (and the blob store's, `media_origin`, for media
/// and what hls.js fetches: the owner's segments at presigned URLs), no inline script, no
/// framing. `blob:` media is the Media Source Extensions stream hls.js plays (it runs without a
/// worker, so no `worker-src`) and an owner's MP4 fetched with the bearer token; `blob:` images
/// are owners' thumbnails.
fn content_security_policy(media_origin: Option<&str>) -> String {
    let media = media_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; img-src 'self' blob:{media}; media-src 'self' blob:{media}; \
         script-src 'self'; style-src 'self'; connect-src 'self'{media}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The web app's screens, each served at its own path (`/galeria`, `/shared/<token>`, …: the
/// app routes with the History API). `web/js/shell.js` lists the same names.
pub const SCREENS: &[&str] = &[
    "galeria",
    "rankings",
    "mis-videos",
    "compartidos",
    "cuenta",
    "entrar",
    "registro",
    "shared",
    "complete-profile",
    "verify-email",
    "reset-password",
    "olvide-contrasena",
    "operador",
];

/// Whether the web app serves `path` (the page, a screen, a shared page, or a file).
fn is_app_path(path: &str) -> bool {
    let first = path
        .strip_prefix('/')
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    path == "/" || matches!(first, "assets" | "v" | "p") || SCREENS.contains(&first)
}

/// `endpoint` with the web app in front: `/`, the screens' paths, the shared pages
/// (`/v/{video_id}`, `/p/{user_id}`) and `/assets/…` are the app's, every other path goes to
/// `endpoint` (the API). (A route at `/` beside an endpoint nested at `/` would be shadowed
/// by the nest, hence this.)
pub fn in_front_of(endpoint: impl Endpoint + 'static) -> impl Endpoint {
    let site = SCREENS.iter().fold(
        Route::new()
            .at("/", get(index))
            .at("/v/:id", get(video_page))
            .at("/p/:id", get(player_page))
            .at("/assets/:hash/*path", get(asset)),
        |routes, screen| {
            routes
                .at(format!("/{screen}"), get(index))
                .at(format!("/{screen}/*rest"), get(index))
        },
    );
    let site = std::sync::Arc::new(site);
    endpoint.around(move |next, request| {
        let site = site.clone();
        async move {
            if is_app_path(request.uri().path()) {
                // Every page and file of the app is read with GET (HEAD).
                site.call(request).await.or_else(|e| {
                    if e.status() == StatusCode::METHOD_NOT_ALLOWED {
                        Ok(crate::error::method_not_allowed("GET, HEAD"))
                    } else {
                        Err(e)
                    }
                })
            } else {
                next.call(request).await.map(IntoResponse::into_response)
            }
        }
    })
}

/// A short hex digest of every embedded file's content, in path order.
pub fn bundle_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let mut paths: Vec<_> = WebFiles::iter().collect();
        paths.sort();
        let mut digest = Sha256::new();
        for path in paths {
            if let Some(file) = WebFiles::get(&path) {
                digest.update(path.as_bytes());
                digest.update(file.metadata.sha256_hash());
            }
        }
        hex(&digest.finalize()[..8])
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The embedded bytes without copying them (they are borrowed from the binary in release
/// builds; debug builds read them from disk).
fn static_bytes(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    }
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        })
}

fn not_found() -> poem::Error {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "Not found.").into()
}

/// The page: `index.html` with the assets' address, the upload limit and `head` filled in,
/// answered with `status` (a 200 revalidated by its `ETag`).
fn page(
    headers: &HeaderMap,
    state: &AppState,
    head: &PageHead,
    status: StatusCode,
) -> poem::Result<Response> {
    let template = WebFiles::get("index.html").ok_or_else(not_found)?;
    let page = String::from_utf8_lossy(&template.data)
        .replace("{{head}}", &head.render())
        .replace("{{assets}}", &format!("/assets/{}", bundle_hash()))
        .replace(
            "{{max_upload_bytes}}",
            &state.showcase.config().max_upload_bytes.to_string(),
        )
        .replace(
            "{{votes_need_verified_email}}",
            &state
                .showcase
                .config()
                .vote_requires_verified_email
                .to_string(),
        );
    let etag = format!("\"{}\"", hex(&Sha256::digest(page.as_bytes())[..8]));
    let response = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::CACHE_CONTROL, "no-cache")
        .header(
            "content-security-policy",
            content_security_policy(state.config.media_origin.as_deref()),
        );
    if status == StatusCode::OK && not_modified(headers, &etag) {
        return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
    }
    Ok(response
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(page)
        .into_response())
}

/// The app's page for `/` and the screens' paths.
#[handler]
pub fn index(headers: &HeaderMap, state: Data<&AppState>) -> poem::Result<Response> {
    page(headers, &state, &PageHead::site(), StatusCode::OK)
}

/// The app's not-found page (404): an unknown, unpublished or malformed id.
fn missing(headers: &HeaderMap, state: &AppState) -> poem::Result<Response> {
    page(
        headers,
        state,
        &PageHead::not_found(),
        StatusCode::NOT_FOUND,
    )
}

/// Where absolute links of the shared pages start (`ANB_PUBLIC_URL`).
fn public_base(state: &AppState) -> &str {
    state.showcase.config().public_url.trim_end_matches('/')
}

/// A shared page for the id `raw`: the page with the tags `head_for` makes, or the not-found
/// page for a malformed id or one with nothing public to show.
async fn shared_page<F, Fut>(
    headers: &HeaderMap,
    state: &AppState,
    raw: &str,
    head_for: F,
) -> poem::Result<Response>
where
    F: FnOnce(Uuid) -> Fut,
    Fut: std::future::Future<Output = Result<PageHead, PublicPageError>>,
{
    let Ok(id) = Uuid::parse_str(raw) else {
        return missing(headers, state);
    };
    match head_for(id).await {
        Ok(head) => page(headers, state, &head, StatusCode::OK),
        Err(PublicPageError::NotFound) => missing(headers, state),
        Err(e) => Err(ApiError::unexpected(&anyhow::Error::new(e))),
    }
}

/// A published video's page (`/v/{video_id}`), its tags filled for link previews.
#[handler]
pub async fn video_page(
    headers: &HeaderMap,
    state: Data<&AppState>,
    Path(id): Path<String>,
) -> poem::Result<Response> {
    shared_page(headers, &state, &id, |id| async move {
        let video = state.showcase.public_video(VideoId::from(id)).await?;
        let config = &state.config;
        Ok(PageHead::video(
            public_base(&state),
            &video,
            config.thumbnail_size,
            config.video_size,
        ))
    })
    .await
}

/// A player's page (`/p/{user_id}`), its tags filled for link previews (its image: the most
/// voted video's thumbnail).
#[handler]
pub async fn player_page(
    headers: &HeaderMap,
    state: Data<&AppState>,
    Path(id): Path<String>,
) -> poem::Result<Response> {
    let top = PageRequest::new(Some(1), Some(1)).map_err(ApiError::internal)?;
    shared_page(headers, &state, &id, |id| async move {
        let player = state.showcase.player_page(UserId::from(id), top).await?;
        Ok(PageHead::player(
            public_base(&state),
            &player,
            state.config.thumbnail_size,
        ))
    })
    .await
}

/// A file of the app. Under the current bundle hash it is cached for a year; under another
/// (a page from an older build) it is served but revalidated, never pinned.
#[handler]
pub fn asset(
    headers: &HeaderMap,
    Path((hash, path)): Path<(String, String)>,
) -> poem::Result<Response> {
    let file = WebFiles::get(&path)
        .filter(|_| path != "index.html")
        .ok_or_else(not_found)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..8]));
    let cache = if hash == bundle_hash() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let response = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::CACHE_CONTROL, cache);
    if not_modified(headers, &etag) {
        return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
    }
    Ok(response
        .content_type(file.metadata.mimetype())
        .body(static_bytes(file.data))
        .into_response())
}
