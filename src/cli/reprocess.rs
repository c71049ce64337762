//! `anb reprocess`: queues processed videos to be made again from their kept originals with
//! the current profile (after a profile change); the workers do it, through the queue.

use anb::app::compose::{self, init_logging};
use anb::app::settings::Settings;
use anb_domain::{ReprocessTarget, VideoId};
use anyhow::Context as _;

/// Arguments of `anb reprocess`.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct ReprocessArgs {
    /// One video, by id.
    #[arg(long)]
    video: Option<uuid::Uuid>,
    /// Every processed video.
    #[arg(long)]
    all: bool,
}

/// Queues the jobs on the configured backends and says how many.
pub fn run(args: ReprocessArgs) -> anyhow::Result<()> {
    let target = match args.video {
        Some(id) => ReprocessTarget::Video(VideoId::from(id)),
        None => ReprocessTarget::AllProcessed,
    };
    let settings = Settings::load()?;
    let _telemetry = init_logging(
        settings.log_format,
        settings.otlp_endpoint.as_deref(),
        "reprocess",
    );
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let app = compose::connect(&settings).await?;
        let queued = app.showcase.reprocess(target).await;
        app.close().await;
        let queued = queued?;
        println!(
            "queued {queued} video{} to be processed again with the {} profile ({})",
            if queued == 1 { "" } else { "s" },
            settings.profile.name,
            settings.describe()
        );
        Ok(())
    })
}
