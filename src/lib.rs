//! # anb
//!
//! ANB Showcase as one crate: the domain ([`domain`]: rules, ports, the [`Showcase`] service) and
//! the adapters ([`adapters`]) re-exported under one name, for embedders; and, with the `app`
//! feature (on by default with `cli`), the composition root the binaries run ([`app`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! use anb::adapters::memory::MemoryBackend;
//! use anb::adapters::testkit::MarkerTranscoder;
//! use anb::{Showcase, SignupForm};
//!
//! let showcase = Showcase::new(MemoryBackend::new().ports(std::sync::Arc::new(MarkerTranscoder)), Default::default());
//! let user = showcase.signup(SignupForm {
//!     first_name: "Ana".into(), last_name: "Pérez".into(), email: "ana@example.com".into(),
//!     password1: "s3cret-pass".into(), password2: "s3cret-pass".into(),
//!     city: "Bogotá".into(), country: "Colombia".into(),
//! }).await?;
//! let token = showcase.login("ANA@example.com", "s3cret-pass").await?;
//! assert_eq!(showcase.authenticate(&token.access.token)?, user.id);
//! # Ok(()) }
//! ```

#[cfg(feature = "app")]
pub mod app;

pub use anb_adapters as adapters;
pub use anb_domain as domain;
pub use anb_domain::*;
