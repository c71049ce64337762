//! `anb`, `anb serve`, `anb worker`, `anb migrate`: the service on the configured backends.

use std::sync::Arc;

use anb::app::compose::{self, init_logging, shutdown_signal};
use anb::app::settings::Settings;
use anyhow::Context as _;

/// Which parts run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// API and worker.
    All,
    /// API only.
    Serve,
    /// Worker only.
    Worker,
    /// Migrations, then exit.
    Migrate,
}

/// Loads the settings, connects (migrating), and runs `mode` until Ctrl-C / SIGTERM.
pub fn run(mode: Mode) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let _telemetry = init_logging(
        settings.log_format,
        settings.otlp_endpoint.as_deref(),
        mode.role(),
    );
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run_async(mode, &settings))
}

impl Mode {
    /// The process's role in its traces (`anb.role`).
    fn role(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Serve => "serve",
            Self::Worker => "worker",
            Self::Migrate => "migrate",
        }
    }
}

async fn run_async(mode: Mode, settings: &Settings) -> anyhow::Result<()> {
    tracing::info!(?mode, backends = %settings.describe(), "anb starting");
    match mode {
        Mode::Serve => anb::app::serve::serve_from_settings(settings, shutdown_signal()).await,
        Mode::Worker => anb::app::work::work_from_settings(settings, shutdown_signal())
            .await
            .map(drop),
        Mode::Migrate => {
            let app = compose::connect(settings).await?;
            app.close().await;
            println!("migrations applied ({})", settings.describe());
            Ok(())
        }
        Mode::All => {
            let app = Arc::new(compose::connect(settings).await?);
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let stop = Arc::new(stop);
            let signal = tokio::spawn({
                let stop = stop.clone();
                async move {
                    shutdown_signal().await;
                    let _ = stop.send(true);
                }
            });
            let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            // When the API cannot start (or stops on an error), the worker stops too.
            let serving = async {
                let served = anb::app::serve::serve_composed(
                    settings,
                    app.clone(),
                    until_stopped(stopped.clone()),
                )
                .await;
                let _ = stop.send(true);
                served
            };
            let (served, worked) = tokio::join!(
                serving,
                anb::app::work::work_composed(settings, &app, until_stopped(stopped.clone())),
            );
            signal.abort();
            app.close().await;
            served?;
            worked.map(drop)
        }
    }
}
