//! Redis errors as domain errors ([`crate::outage`]): a server that cannot serve now (connection refused, dropped
//! or timed out, still loading its data, a replica that is read-only or lost its primary)
//! becomes [`Unavailable`](anb_domain::ports::Unavailable), so the edge answers 503 `service_unavailable` with `Retry-After`
//! instead of a fault. Anything else stays a fault, with what the queue was doing as context.

use ::redis::{ErrorKind, RedisError, ServerErrorKind};
#[cfg(test)]
use anb_domain::ports::Unavailable;

/// `error`, met while `doing`, as the adapters return it.
pub(crate) fn fault(error: RedisError, doing: &'static str) -> anyhow::Error {
    let outage = is_outage(&error).then_some("Redis cannot serve now");
    crate::outage::fault(error, doing, outage)
}

/// Whether `error` says the server cannot serve now (a retry later may succeed).
fn is_outage(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
        || error.is_timeout()
        || matches!(
            error.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            ) | ErrorKind::ClusterConnectionNotFound
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_is_an_outage_and_a_type_error_is_not() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let error = fault(refused, "enqueueing a job");
        assert!(Unavailable::find_in(&error).is_some(), "{error:#}");
        let loading =
            RedisError::from((ErrorKind::Server(ServerErrorKind::BusyLoading), "loading"));
        assert!(Unavailable::find_in(&fault(loading, "leasing")).is_some());
        let wrong = RedisError::from((ErrorKind::UnexpectedReturnType, "not a number"));
        assert!(Unavailable::find_in(&fault(wrong, "leasing")).is_none());
    }
}
