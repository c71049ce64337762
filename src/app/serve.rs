//! Running the HTTP service from settings (what `anb serve`, `anb` and `anb-http` do).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anb_domain::{BlobKey, DownloadUrl};
use anb_http::{bind, local_addr, serve, AppState, HttpConfig};

use super::compose::{self, Composed};
use super::settings::Settings;

/// The HTTP settings of `settings`.
pub fn http_config(settings: &Settings) -> HttpConfig {
    HttpConfig {
        cors_origins: settings.cors_origins.clone(),
        edge: settings.edge.clone(),
        thumbnail_size: settings.profile.thumbnail_size(),
        video_size: (settings.profile.width, settings.profile.height),
        ops_token: settings.ops_token.as_ref().map(|t| t.expose().to_owned()),
        ..HttpConfig::default()
    }
}

/// Binds the settings' address, prints where it listens (`listening on http://…`, on stdout,
/// for people and scripts), and serves `app` until `shutdown`.
///
/// # Errors
/// When the address cannot be bound, or serving fails.
pub async fn serve_composed(
    settings: &Settings,
    app: Arc<Composed>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let acceptor = bind(settings.http_addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.http_addr))?;
    let addr = local_addr(&acceptor).unwrap_or(settings.http_addr);
    let config = HttpConfig {
        media_origin: media_origin(&app).await,
        ..http_config(settings)
    };
    let state = AppState::new(app.showcase.clone(), app.clone(), config)
        .with_shared_pages(app.page_store.clone());
    println!("listening on http://{addr} (API docs: http://{addr}/docs)");
    tracing::info!(%addr, backends = %settings.describe(), "serving");
    serve(acceptor, state, shutdown).await?;
    Ok(())
}

/// The origin of the blob store's own signed URLs, when it signs them (S3): where the web
/// app's pages may fetch media from. Read off a URL it signs (signing is local, no request).
async fn media_origin(app: &Composed) -> Option<String> {
    let probe = BlobKey::new("media-origin-probe").ok()?;
    match app
        .ports
        .blobs
        .download_url(&probe, Duration::from_secs(60))
        .await
    {
        Ok(DownloadUrl::Presigned { url, .. }) => url::Url::parse(&url)
            .ok()
            .map(|url| url.origin().ascii_serialization()),
        _ => None,
    }
}

/// Connects the backends the settings name (running migrations) and serves until `shutdown`.
///
/// # Errors
/// When the backends cannot be reached or the address bound.
pub async fn serve_from_settings(
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let app = Arc::new(compose::connect(settings).await?);
    let served = serve_composed(settings, app.clone(), shutdown).await;
    app.close().await;
    served
}
