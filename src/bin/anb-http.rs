//! `anb-http`: the REST service on its own (workers run elsewhere). Reads the settings
//! (defaults, `anb.toml`, `ANB_*`), connects the backends (running migrations), serves until
//! SIGTERM or Ctrl-C.

use std::process::ExitCode;

use anb::app::compose::{init_logging, shutdown_signal};
use anb::app::settings::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("anb-http: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let _telemetry = init_logging(
        settings.log_format,
        settings.otlp_endpoint.as_deref(),
        "serve",
    );
    match anb::app::serve::serve_from_settings(&settings, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "anb-http stopped on an error");
            ExitCode::FAILURE
        }
    }
}
