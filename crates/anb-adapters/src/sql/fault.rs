//! sqlx errors as domain errors ([`crate::outage`]). A database that cannot serve now (the connection refused or
//! dropped, the pool out of time waiting for one, the server shutting down or starting up, too
//! many connections, SQLite busy past its timeout) becomes [`Unavailable`](anb_domain::ports::Unavailable): the edge answers 503
//! `service_unavailable` with `Retry-After`, and nothing is mistaken for a bug. Anything else
//! stays a fault, with what the adapter was doing as context.

#[cfg(test)]
use anb_domain::ports::Unavailable;

/// `error`, met while `doing`, as the adapters return it.
pub(crate) fn fault(error: sqlx::Error, doing: &'static str) -> anyhow::Error {
    let outage = is_outage(&error).then_some("the database cannot serve now");
    crate::outage::fault(error, doing, outage)
}

/// [`fault`] on a result: `.fault("leasing a job")?` where `.context(…)` would lose the
/// difference between an outage and a bug.
pub(crate) trait OrFault<T> {
    /// The error as [`fault`] maps it.
    fn fault(self, doing: &'static str) -> anyhow::Result<T>;
}

impl<T> OrFault<T> for Result<T, sqlx::Error> {
    fn fault(self, doing: &'static str) -> anyhow::Result<T> {
        self.map_err(|e| fault(e, doing))
    }
}

/// Whether `error` says the database cannot serve now (a retry later may succeed), as opposed
/// to a statement or data fault.
fn is_outage(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| outage_code(&code)),
        _ => false,
    }
}

/// PostgreSQL's SQLSTATE (five characters) or SQLite's extended result code (a number).
fn outage_code(code: &str) -> bool {
    if code.len() == 5 {
        // 08: connection exception; 57P01-03: admin or crash shutdown, cannot connect now;
        // 53300: too many connections.
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300");
    }
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    code.parse::<i64>()
        .is_ok_and(|extended| matches!(extended & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_and_busy_servers_are_outages_and_statement_errors_are_not() {
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        for outage in [refused, sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            let error = fault(outage, "reading");
            assert!(Unavailable::find_in(&error).is_some(), "{error:#}");
            assert!(format!("{error:#}").starts_with("reading: "), "{error:#}");
        }
        for code in ["08006", "57P01", "57P03", "53300", "5", "517", "6"] {
            assert!(outage_code(code), "{code}");
        }
        for code in ["23505", "42P01", "40001", "19", "2067", "1"] {
            assert!(!outage_code(code), "{code}");
        }
        let error = fault(sqlx::Error::RowNotFound, "reading");
        assert!(Unavailable::find_in(&error).is_none(), "{error:#}");
    }
}
