//! A resource or backend that cannot serve now but will later: what an adapter returns
//! (inside `anyhow::Error`) so the edge can answer "try again later" instead of a fault.

use std::time::Duration;

/// The operation was refused because a resource is saturated or a backend is down; the caller
/// may retry after [`Unavailable::retry_after`]. Adapters return it wrapped in the use case's
/// `Unexpected(anyhow::Error)`; the HTTP edge finds it in the error's chain and answers 503
/// `service_unavailable` with `Retry-After`.
///
/// ```
/// use anb_domain::ports::Unavailable;
/// use std::time::Duration;
///
/// let error = anyhow::Error::new(Unavailable::new("password hashing is saturated", Duration::from_secs(2)));
/// let found = Unavailable::find_in(&error).unwrap();
/// assert_eq!(found.retry_after(), Duration::from_secs(2));
///
/// // A backend that is down: the driver's error stays in the chain, for the logs.
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let error = anyhow::Error::new(Unavailable::because("the database is unreachable", Duration::from_secs(5), refused))
///     .context("recording the upload");
/// assert!(Unavailable::find_in(&error).is_some());
/// assert!(format!("{error:#}").contains("refused"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{what}; retry after {retry_after:?}")]
pub struct Unavailable {
    what: String,
    retry_after: Duration,
    #[source]
    cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Unavailable {
    /// `what` is unavailable; a retry after `retry_after` may succeed.
    pub fn new(what: impl Into<String>, retry_after: Duration) -> Self {
        Self {
            what: what.into(),
            retry_after,
            cause: None,
        }
    }

    /// `what` is unavailable because of `cause` (a driver's connection error, kept as the
    /// source for the logs); a retry after `retry_after` may succeed.
    pub fn because(
        what: impl Into<String>,
        retry_after: Duration,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            what: what.into(),
            retry_after,
            cause: Some(cause.into()),
        }
    }

    /// What is unavailable (for logs, not for clients).
    pub fn what(&self) -> &str {
        &self.what
    }

    /// How long the caller should wait before retrying.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The `Unavailable` anywhere in `error`'s chain of causes.
    pub fn find_in(error: &anyhow::Error) -> Option<&Self> {
        error.chain().find_map(|cause| cause.downcast_ref::<Self>())
    }
}
