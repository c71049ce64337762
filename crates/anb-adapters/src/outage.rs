//! Driver errors as the adapters return them: an outage (the backend is down, unreachable,
//! starting up or saturated) as [`Unavailable`], so the HTTP edge answers 503
//! `service_unavailable` with `Retry-After` and workers retry; anything else as a fault. Each
//! adapter family decides what an outage is for its driver; this is the one way both are told.

use std::time::Duration;

use anb_domain::ports::Unavailable;

/// How long a client should wait before retrying while a backend cannot serve.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(5);

/// `error`, met while `doing`: when `outage` names what cannot serve, an [`Unavailable`]
/// caused by `error`; otherwise `error` itself. Either way with `doing` as context.
pub(crate) fn fault<E>(error: E, doing: &'static str, outage: Option<&'static str>) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    match outage {
        Some(what) => anyhow::Error::new(Unavailable::because(what, RETRY_AFTER, error)),
        None => anyhow::Error::new(error),
    }
    .context(doing)
}
