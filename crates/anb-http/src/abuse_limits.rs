//! Abuse limits: sign-ups, logins, votes and uploads counted per client address (IPv6 by /64)
//! and per account, each on governor's keyed token buckets, in bounded memory.

use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use crate::limits::RateLimits;
use anb_domain::values::Rate;
use anb_domain::UserId;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::RwLock;
use poem::http::StatusCode;

use crate::client_address::ClientAddress;
use crate::error::{ApiError, ErrorCode};

/// Keys one limiter keeps at most; past it, keys whose buckets are full again are dropped,
/// and if that frees too little the limiter starts afresh (forgetting, never refusing, so a
/// flood of addresses cannot turn memory into an outage).
const MAX_KEYS: usize = 100_000;

/// Refused by a limit: retry after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    /// When the next attempt would be allowed.
    pub retry_after: Duration,
}

impl Limited {
    /// The wait in whole seconds, rounded up, at least 1 (for `Retry-After`).
    pub fn retry_after_seconds(self) -> u64 {
        let wait = self.retry_after;
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    }

    /// 429 `too_many_requests` with `Retry-After`.
    fn into_error(self, what: &str) -> poem::Error {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyRequests,
            format!("Too many {what}. Try again later."),
        )
        .retry_after(self.retry_after)
        .into()
    }
}

/// One keyed limiter with its memory bound.
struct Limiter<K: Hash + Eq + Clone> {
    quota: Quota,
    buckets: RwLock<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(rate: Rate) -> Self {
        let per_event = rate.period() / rate.count().get();
        let quota = Quota::with_period(per_event.max(Duration::from_nanos(1)))
            .expect("a positive period")
            .allow_burst(rate.count());
        Self {
            quota,
            buckets: RwLock::new(RateLimiter::keyed(quota)),
        }
    }

    fn check(&self, key: &K) -> Result<(), Limited> {
        if self.buckets.read().len() > MAX_KEYS {
            let mut buckets = self.buckets.write();
            if buckets.len() > MAX_KEYS {
                buckets.retain_recent();
                if buckets.len() > MAX_KEYS / 2 {
                    *buckets = RateLimiter::keyed(self.quota);
                }
            }
        }
        self.buckets
            .read()
            .check_key(key)
            .map_err(|not_until| Limited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }
}

/// Every abuse limit of the service. Where an action has two limits, the narrower key (the
/// account) is counted first, so an attempt refused for the account does not use up the
/// address's budget.
pub struct AbuseLimits {
    signup_per_address: Limiter<IpAddr>,
    login_per_address: Limiter<IpAddr>,
    login_per_account: Limiter<(String, IpAddr)>,
    vote_per_address: Limiter<IpAddr>,
    vote_per_account: Limiter<UserId>,
    upload_per_address: Limiter<IpAddr>,
    upload_per_account: Limiter<UserId>,
    refresh_per_address: Limiter<IpAddr>,
    directory_per_account: Limiter<UserId>,
    sharing_per_account: Limiter<UserId>,
    verification_per_account: Limiter<UserId>,
    password_reset_per_address: Limiter<IpAddr>,
    password_reset_per_email: Limiter<String>,
}

impl AbuseLimits {
    /// The limits at `rates`.
    pub fn new(rates: &RateLimits) -> Self {
        Self {
            signup_per_address: Limiter::new(rates.signup_per_address),
            login_per_address: Limiter::new(rates.login_per_address),
            login_per_account: Limiter::new(rates.login_per_account),
            vote_per_address: Limiter::new(rates.vote_per_address),
            vote_per_account: Limiter::new(rates.vote_per_account),
            upload_per_address: Limiter::new(rates.upload_per_address),
            upload_per_account: Limiter::new(rates.upload_per_account),
            refresh_per_address: Limiter::new(rates.refresh_per_address),
            directory_per_account: Limiter::new(rates.directory_per_account),
            sharing_per_account: Limiter::new(rates.sharing_per_account),
            verification_per_account: Limiter::new(rates.verification_per_account),
            password_reset_per_address: Limiter::new(rates.password_reset_per_address),
            password_reset_per_email: Limiter::new(rates.password_reset_per_email),
        }
    }

    /// Counts a refresh from `client` (refresh tokens are unguessable; this bounds the work a
    /// flood of them costs).
    ///
    /// # Errors
    /// 429 `too_many_requests` past the limit.
    pub fn refresh(&self, client: ClientAddress) -> poem::Result<()> {
        self.refresh_per_address
            .check(&client.limit_key())
            .map_err(|l| l.into_error("session refreshes from this address"))
    }

    /// Counts a player-directory search by `caller`.
    ///
    /// # Errors
    /// 429 `too_many_requests` past the limit.
    pub fn directory(&self, caller: UserId) -> poem::Result<()> {
        self.directory_per_account
            .check(&caller)
            .map_err(|l| l.into_error("player searches"))
    }

    /// Counts a share or a share link made by `owner`.
    ///
    /// # Errors
    /// 429 `too_many_requests` past the limit.
    pub fn sharing(&self, owner: UserId) -> poem::Result<()> {
        self.sharing_per_account
            .check(&owner)
            .map_err(|l| l.into_error("shares"))
    }

    /// Counts a verification email asked for by `caller`.
    ///
    /// # Errors
    /// 429 `too_many_requests` past the limit.
    pub fn verification(&self, caller: UserId) -> poem::Result<()> {
        self.verification_per_account
            .check(&caller)
            .map_err(|l| l.into_error("verification emails"))
    }

    /// Counts a password-reset request for `email` from `client`: per email from anywhere
    /// first (one inbox is not flooded), then per address.
    ///
    /// # Errors
    /// 429 `too_many_requests` past either limit.
    pub fn password_reset(&self, client: ClientAddress, email: &str) -> poem::Result<()> {
        self.password_reset_per_email
            .check(&email.trim().to_lowercase())
            .and_then(|()| self.password_reset_per_address.check(&client.limit_key()))
            .map_err(|l| l.into_error("password resets"))
    }

    /// Counts a password-reset confirmation from `client` (each costs a password hash).
    ///
    /// # Errors
    /// 429 `too_many_requests` past the limit.
    pub fn password_reset_confirm(&self, client: ClientAddress) -> poem::Result<()> {
        self.password_reset_per_address
            .check(&client.limit_key())
            .map_err(|l| l.into_error("password resets from this address"))
    }

    /// Counts a sign-up from `client`.
    ///
    /// # Errors
    /// 429 `too_many_requests` past the limit.
    pub fn signup(&self, client: ClientAddress) -> poem::Result<()> {
        self.signup_per_address
            .check(&client.limit_key())
            .map_err(|l| l.into_error("sign-ups from this address"))
    }

    /// Counts a login attempt for `email` from `client`: per address whatever the email
    /// (password spraying), and per email and address (guessing one password; a stranger
    /// elsewhere cannot lock the owner out).
    ///
    /// # Errors
    /// The wait, past either limit (the login operation answers its own 429 code).
    pub fn login(&self, client: ClientAddress, email: &str) -> Result<(), Limited> {
        let address = client.limit_key();
        self.login_per_account
            .check(&(email.trim().to_lowercase(), address))?;
        self.login_per_address.check(&address)
    }

    /// Counts a vote by `voter` from `client`: per account first, so an account over its own
    /// limit does not use up its address's.
    ///
    /// # Errors
    /// 429 `too_many_requests` past either limit.
    pub fn vote(&self, client: ClientAddress, voter: UserId) -> poem::Result<()> {
        self.vote_per_account
            .check(&voter)
            .and_then(|()| self.vote_per_address.check(&client.limit_key()))
            .map_err(|l| l.into_error("votes"))
    }

    /// Counts an upload by `owner` from `client` (per account first, like votes).
    ///
    /// # Errors
    /// 429 `too_many_requests` past either limit.
    pub fn upload(&self, client: ClientAddress, owner: UserId) -> poem::Result<()> {
        self.upload_per_account
            .check(&owner)
            .and_then(|()| self.upload_per_address.check(&client.limit_key()))
            .map_err(|l| l.into_error("uploads"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(raw: &str) -> ClientAddress {
        ClientAddress(raw.parse().unwrap())
    }

    fn rates(rate: &str) -> RateLimits {
        let rate: Rate = rate.parse().unwrap();
        RateLimits {
            signup_per_address: rate,
            login_per_address: rate,
            login_per_account: rate,
            vote_per_address: rate,
            vote_per_account: rate,
            upload_per_address: rate,
            upload_per_account: rate,
            refresh_per_address: rate,
            directory_per_account: rate,
            sharing_per_account: rate,
            verification_per_account: rate,
            password_reset_per_address: rate,
            password_reset_per_email: rate,
        }
    }

    #[test]
    fn logins_are_limited_per_address_whatever_the_email() {
        let limits = AbuseLimits::new(&rates("3/minute"));
        let home = client("198.51.100.1");
        for n in 0..3 {
            assert!(limits.login(home, &format!("p{n}@example.com")).is_ok());
        }
        let refused = limits.login(home, "p9@example.com").unwrap_err();
        assert!(
            refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(20)
        );
        assert!(limits
            .login(client("198.51.100.2"), "p9@example.com")
            .is_ok());
    }

    #[test]
    fn one_account_is_limited_per_address_without_locking_it_elsewhere() {
        let limits = AbuseLimits {
            login_per_address: Limiter::new("100/minute".parse().unwrap()),
            ..AbuseLimits::new(&rates("2/minute"))
        };
        let cafe = client("198.51.100.1");
        assert!(limits.login(cafe, "ana@example.com").is_ok());
        assert!(limits.login(cafe, " ANA@example.com").is_ok());
        assert!(limits.login(cafe, "ana@example.com").is_err());
        assert!(limits
            .login(client("198.51.100.2"), "ana@example.com")
            .is_ok());
    }

    #[test]
    fn password_resets_for_one_email_are_limited_from_every_address() {
        let limits = AbuseLimits {
            password_reset_per_address: Limiter::new("100/hour".parse().unwrap()),
            ..AbuseLimits::new(&rates("2/hour"))
        };
        assert!(limits
            .password_reset(client("198.51.100.1"), "ana@example.com")
            .is_ok());
        assert!(limits
            .password_reset(client("198.51.100.2"), " ANA@example.com")
            .is_ok());
        let refused = limits
            .password_reset(client("198.51.100.3"), "ana@example.com")
            .unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(limits
            .password_reset(client("198.51.100.3"), "ben@example.com")
            .is_ok());
    }

    #[test]
    fn an_ipv6_network_shares_one_budget() {
        let limits = AbuseLimits::new(&rates("2/hour"));
        assert!(limits.signup(client("2001:db8::1")).is_ok());
        assert!(limits.signup(client("2001:db8::2")).is_ok());
        assert!(limits.signup(client("2001:db8::ffff:3")).is_err());
        assert!(limits.signup(client("2001:db8:0:1::1")).is_ok());
    }

    #[test]
    fn votes_are_limited_per_account_across_addresses() {
        let limits = AbuseLimits {
            vote_per_address: Limiter::new("100/minute".parse().unwrap()),
            ..AbuseLimits::new(&rates("2/minute"))
        };
        let voter = UserId::from(uuid::Uuid::now_v7());
        assert!(limits.vote(client("198.51.100.1"), voter).is_ok());
        assert!(limits.vote(client("198.51.100.2"), voter).is_ok());
        assert!(limits.vote(client("198.51.100.3"), voter).is_err());
        assert!(limits
            .vote(client("198.51.100.3"), UserId::from(uuid::Uuid::now_v7()))
            .is_ok());
    }

    #[test]
    fn a_flood_of_addresses_keeps_memory_bounded_and_never_refuses_newcomers() {
        let limiter: Limiter<u64> = Limiter::new("1/hour".parse().unwrap());
        for key in 0..(MAX_KEYS as u64 * 2 + 10) {
            assert!(limiter.check(&key).is_ok(), "key {key}");
        }
        assert!(limiter.buckets.read().len() <= MAX_KEYS + 1);
    }
}
