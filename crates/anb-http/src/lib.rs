//! # anb-http
//!
//! ANB Showcase's REST service: the contract of `API.md` over [poem-openapi], one `OpenApi`
//! impl per tag (Auth, Videos, Public, Ops), one response enum per operation, a bearer (JWT)
//! security scheme whose checker yields the caller. Errors everywhere are
//! `{"detail", "code"}`; poem's own (unparsable bodies, bad parameters) too, as 400.
//!
//! Around the operations: request ids and spans, Prometheus metrics, CORS, security headers,
//! compression of JSON, a JSON body limit, login throttling, public pages cached for seconds,
//! `/openapi.json` and Swagger UI at `/docs`, and the web app at `/` ([`web`]).
//!
//! ```no_run
//! # async fn run(showcase: anb_domain::Showcase, readiness: std::sync::Arc<dyn anb_http::Readiness>) -> std::io::Result<()> {
//! let state = anb_http::AppState::new(showcase, readiness, anb_http::HttpConfig::default());
//! let listener = anb_http::bind("127.0.0.1:8080".parse().unwrap()).await?;
//! anb_http::serve(listener, state, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! [poem-openapi]: https://docs.rs/poem-openapi

pub mod api;
mod edge;
pub mod error;
pub mod media;
mod page_cache;
pub mod paging;
pub mod run;
pub mod security;
mod state;
pub mod telemetry;
mod throttle;
pub mod upload;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Endpoint, EndpointExt, Route, Server};
use poem_openapi::OpenApiService;

pub use state::{AppState, HttpConfig, Readiness};

use api::auth::AuthApi;
use api::ops::OpsApi;
use api::public::PublicApi;
use api::videos::VideosApi;

/// The operations, as a poem-openapi service (also the source of the spec).
pub fn api_service() -> OpenApiService<(AuthApi, VideosApi, PublicApi, OpsApi), ()> {
    OpenApiService::new(
        (AuthApi, VideosApi, PublicApi, OpsApi),
        "ANB Showcase",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Basketball players upload skill videos; the public votes; rankings by votes. \
         Errors are `{\"detail\", \"code\"}`. Lists are arrays with `X-Total-Count` and `Link` \
         headers. Authenticate with `POST /api/auth/login` and send `Authorization: Bearer <token>`.",
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
    let cors = edge::cors(&state.config.cors_origins);
    let json_limit = state.config.json_body_limit;
    let routes = Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", spec);
    web::in_front_of(routes)
        .with(cors)
        .around(move |next, request| edge::limit_json_body(next, request, json_limit))
        .around(edge::compress_text)
        .around(edge::security_headers)
        .data(state)
        .around(telemetry::observe)
}

/// Binds `addr` (port 0 picks a free port; the acceptor knows which).
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpAcceptor> {
    TcpListener::bind(addr).into_acceptor().await
}

/// The address an acceptor from [`bind`] listens on.
pub fn local_addr(acceptor: &TcpAcceptor) -> Option<SocketAddr> {
    acceptor
        .local_addr()
        .into_iter()
        .find_map(|addr| addr.as_socket_addr().copied())
}

/// Serves `state` on `acceptor` until `shutdown` completes, then lets requests in flight
/// finish (up to 30 s).
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(
    acceptor: TcpAcceptor,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    telemetry::install_metrics();
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app(state), shutdown, Some(Duration::from_secs(30)))
        .await
}
