//! The composition root: the one place that knows every adapter. [`settings`] reads the
//! configuration (defaults, `anb.toml`, `ANB_*`), [`compose`] turns it into the ports and the
//! service, [`serve`] and [`work`] run the HTTP service and the worker on them. The three
//! binaries (`anb`, `anb-http`, `anb-worker`) are thin layers over this module; the HTTP and
//! worker crates know only the domain.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use anb::app::{compose, settings::Settings};
//!
//! let settings = Settings::load()?;
//! let app = compose::connect(&settings).await?;
//! tracing::info!(backends = %settings.describe(), "connected");
//! let showcase = app.showcase.clone();
//! # Ok(()) }
//! ```

pub mod compose;
pub mod serve;
pub mod settings;
pub mod work;
