//! One SQL store for both databases. The repositories ([`Store`]: users, videos, votes,
//! renditions) and the
//! job queue ([`Queue`]) are written once, generic over a [`Dialect`] that carries only what really differs (how writes
//! take turns, row locking, the email comparison, the clock, the pools); times are encoded by
//! `SqlTime`; rows are [`sqlx::FromRow`] records (`records`); the gallery and rankings queries
//! are built once (`queries`); `driver` is what lets one body of sqlx code run on either
//! database; `fault` maps the driver's errors (an outage becomes `Unavailable`).

mod dialect;
mod driver;
mod events;
mod fault;
mod ops;
mod queries;
mod queue;
mod records;
mod renditions;
mod sessions;
mod shares;
mod store;
mod time;
mod users;
mod videos;
mod vote_batch;
mod votes;

pub use dialect::Dialect;
#[cfg(feature = "sqlite")]
pub use dialect::Lite;
#[cfg(feature = "postgres")]
pub use dialect::Pg;
pub(crate) use fault::{fault, OrFault};
pub use queue::Queue;
pub(crate) use records::*;
pub use store::Store;
pub(crate) use time::SqlTime;
