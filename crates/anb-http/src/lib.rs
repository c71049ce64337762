//! # anb-http
//!
//! ANB Showcase's REST service: the contract of `API.md` over [poem-openapi], one `OpenApi`
//! impl per tag (Auth, Videos, Public, Ops), one response enum per operation, a bearer (JWT)
//! security scheme whose checker yields the caller. Errors everywhere are
//! `{"detail", "code"}`; poem's own (unparsable bodies, bad parameters) too, as 400.
//!
//! Around the operations: the edge's limits (connections, header and idle timeouts, bounded
//! bodies in bytes and time: [`server`], [`bounded_body`]), the client's address behind
//! trusted proxies ([`client_address`]), abuse limits per address and per account
//! ([`abuse_limits`]), request ids and spans, Prometheus metrics with bounded labels, CORS for
//! configured origins only, security headers, compression of text, public pages cached for
//! seconds, `/openapi.json` and Swagger UI at `/docs`, and the web app at `/` ([`web`]).
//!
//! ```no_run
//! # async fn run(showcase: anb_domain::Showcase, readiness: std::sync::Arc<dyn anb_domain::ports::Readiness>) -> std::io::Result<()> {
//! let state = anb_http::AppState::new(showcase, readiness, anb_http::HttpConfig::default());
//! let listener = anb_http::bind("127.0.0.1:8080".parse().unwrap()).await?;
//! anb_http::serve(listener, state, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! [poem-openapi]: https://docs.rs/poem-openapi

pub mod abuse_limits;
pub mod api;
pub mod bounded_body;
pub mod client_address;
pub mod error;
mod error_code;
pub mod limits;
mod middleware;
mod page_cache;
pub mod paging;
pub mod range_download;
pub mod security;
pub mod server;
pub mod share_pages;
mod state;
pub mod telemetry;
pub mod upload;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::OpenApiService;
use tokio::net::TcpListener;

pub use limits::{EdgeLimits, RateLimits};
pub use state::{AppState, HttpConfig};

use api::account::AccountApi;
use api::auth::AuthApi;
use api::oidc::OidcApi;
use api::ops::OpsApi;
use api::playback::PlaybackApi;
use api::players::PlayersApi;
use api::public::PublicApi;
use api::renditions::RenditionsApi;
use api::sharing::{SharedApi, SharingApi};
use api::videos::VideosApi;
use api::webhooks::WebhooksApi;

/// Every tag's operations, in the order the spec lists them.
pub type Operations = (
    AuthApi,
    OidcApi,
    AccountApi,
    VideosApi,
    RenditionsApi,
    SharingApi,
    SharedApi,
    WebhooksApi,
    PublicApi,
    PlayersApi,
    PlaybackApi,
    OpsApi,
);

/// The operations, as a poem-openapi service (also the source of the spec).
pub fn api_service() -> OpenApiService<Operations, ()> {
    OpenApiService::new(
        (
            AuthApi,
            OidcApi,
            AccountApi,
            VideosApi,
            RenditionsApi,
            SharingApi,
            SharedApi,
            WebhooksApi,
            PublicApi,
            PlayersApi,
            PlaybackApi,
            OpsApi,
        ),
        "ANB Showcase",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Basketball players upload skill videos; the public votes; rankings by votes. \
         Errors are `{\"detail\", \"code\"}`. Lists are arrays with `X-Total-Count` and `Link` \
         headers. Authenticate with `POST /api/auth/login` and send `Authorization: Bearer <token>`; \
         renew it with `POST /api/auth/refresh` (the login's `anb_refresh` cookie).",
    )
}

/// The OpenAPI 3 document, as JSON.
pub fn openapi_json() -> String {
    api_service().spec()
}

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> impl Endpoint {
    let api = api_service();
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    let origins = &state.config.cors_origins;
    let cors = middleware::cors(origins);
    let routes = Route::new()
        .nest(
            "/",
            api.into_endpoint()
                .before(api::route_extension_methods_as_trace),
        )
        .nest("/docs", docs)
        .at("/openapi.json", spec);
    web::in_front_of(routes)
        .with_if(!origins.is_empty(), cors)
        .around(bounded_body::bound_bodies)
        .around(middleware::compress_text)
        .around(middleware::security_headers)
        .around(client_address::identify)
        .data(state)
        .around(telemetry::observe)
}

/// Binds `addr` (port 0 picks a free port; [`local_addr`] tells which).
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// The address a listener from [`bind`] listens on.
pub fn local_addr(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}

/// Serves `state` on `listener` under the edge's limits ([`server`]) until `shutdown`
/// completes, then lets requests in flight finish (up to [`server::SHUTDOWN_GRACE`]).
///
/// # Errors
/// When the listener's address cannot be read.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    telemetry::install_metrics();
    let limits = state.config.edge.clone();
    server::serve_endpoint(listener, app(state), &limits, shutdown).await
}
