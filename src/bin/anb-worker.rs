//! `anb-worker`: the processing worker on its own. Reads the settings (defaults, `anb.toml`,
//! `ANB_*`), connects the backends they name (running migrations), and processes videos until
//! SIGTERM or Ctrl-C, then stops gracefully.

use std::process::ExitCode;

use anb::app::compose::{init_logging, shutdown_signal};
use anb::app::settings::Settings;
use tracing::error;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("anb-worker: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let _telemetry = init_logging(
        settings.log_format,
        settings.otlp_endpoint.as_deref(),
        "worker",
    );
    match anb::app::work::work_from_settings(&settings, shutdown_signal()).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = format!("{e:#}"), "anb-worker stopped on an error");
            ExitCode::FAILURE
        }
    }
}
