//! Login throttling per email and client address (governor's keyed rate limiter).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Allows a number of login attempts per minute for each (email, address) pair; the rest get
/// 429 until the window refills. Guessing one account's password from one address is slowed,
/// and one address cannot lock a player out of their account from elsewhere.
pub struct LoginThrottle {
    limiter: DefaultKeyedRateLimiter<(String, IpAddr)>,
}

impl LoginThrottle {
    /// `per_minute` attempts per pair (at least 1).
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// Counts one attempt; `false` when over the limit.
    pub fn attempt(&self, email: &str, from: IpAddr) -> bool {
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&(email.trim().to_lowercase(), from))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_past_the_limit_are_refused_per_email_and_address() {
        let throttle = LoginThrottle::new(3);
        let home: IpAddr = "10.0.0.1".parse().unwrap();
        let cafe: IpAddr = "10.0.0.2".parse().unwrap();
        assert!((0..3).all(|_| throttle.attempt("ana@example.com", home)));
        assert!(!throttle.attempt("ANA@example.com ", home));
        assert!(throttle.attempt("ana@example.com", cafe));
        assert!(throttle.attempt("ben@example.com", home));
    }
}
