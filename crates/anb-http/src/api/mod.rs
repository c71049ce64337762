//! The contract's operations, one `OpenApi` impl per tag.

pub mod auth;
pub mod models;
pub mod ops;
pub mod public;
pub mod text;
pub mod videos;

use poem_openapi::Tags;

/// The groups of operations in the spec.
#[derive(Tags)]
pub enum ApiTags {
    /// Sign up, log in, profile.
    Auth,
    /// A player's own videos: upload, list, detail, publish, delete, downloads.
    Videos,
    /// The public gallery, votes, rankings, streaming.
    Public,
    /// Health, readiness, metrics.
    Ops,
}

/// A UUID path parameter; anything else in its place is 404, like an unknown id.
pub(crate) fn parse_id<T: From<uuid::Uuid>>(raw: &str) -> Option<T> {
    uuid::Uuid::parse_str(raw).ok().map(T::from)
}
