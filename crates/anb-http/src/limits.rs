//! The limits of the HTTP edge: time, connections, bodies, abuse rates, password hashing and
//! which peers may name the client's address. Every default is safe on the open internet; the
//! settings (`anb::app::settings`) read them from `http_*`, `rate_*`, `password_hash_*` and
//! `trusted_proxies`.

use std::time::Duration;

use anb_domain::values::Rate;
use ipnet::IpNet;

/// Limits of the HTTP edge (README: "Security"), from the `http_*`, `rate_*`,
/// `password_hash_*` and `trusted_proxies` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeLimits {
    /// A request's headers must arrive within this (`ANB_HTTP_HEADER_TIMEOUT_SECONDS`, 10);
    /// also how long an HTTP/1.1 keep-alive connection may wait for its next request.
    pub header_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed
    /// (`ANB_HTTP_IDLE_TIMEOUT_SECONDS`, 60).
    pub idle_timeout: Duration,
    /// The time every request body gets on top of what its size earns at the minimum rate
    /// (`ANB_HTTP_BODY_TIMEOUT_SECONDS`, 30).
    pub body_timeout: Duration,
    /// The slowest average a body may arrive at, past [`EdgeLimits::body_timeout`], in bytes per
    /// second (`ANB_HTTP_MIN_BODY_RATE_KIB`, 16 KiB/s: a 100 MB upload may take 1 h 47 min).
    pub min_body_bytes_per_second: u64,
    /// Largest body of any request other than an upload, in bytes (`ANB_HTTP_BODY_LIMIT_KIB`, 64).
    pub body_limit_bytes: u64,
    /// Connections served at once; more wait in the listen backlog (`ANB_HTTP_MAX_CONNECTIONS`,
    /// 1024).
    pub max_connections: usize,
    /// Concurrent streams per HTTP/2 connection (`ANB_HTTP2_MAX_STREAMS`, 64).
    pub http2_max_streams: u32,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers name the client (`ANB_TRUSTED_PROXIES`,
    /// CIDRs, comma-separated; default none: the peer is the client).
    pub trusted_proxies: Vec<IpNet>,
    /// The abuse limits.
    pub rates: RateLimits,
    /// Password hashes computed at once (`ANB_PASSWORD_HASH_CONCURRENCY`, default one per core).
    pub password_hash_concurrency: Option<usize>,
    /// How long a sign-up or login waits for a hashing slot before 503
    /// (`ANB_PASSWORD_HASH_WAIT_SECONDS`, 5).
    pub password_hash_wait: Duration,
}

/// Abuse limits per client address (IPv6 grouped by /64) and per account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Sign-ups per address (`ANB_RATE_SIGNUP_PER_ADDRESS`, `10/hour`).
    pub signup_per_address: Rate,
    /// Logins per address whatever the email (`ANB_RATE_LOGIN_PER_ADDRESS`, `20/minute`): slows
    /// password spraying.
    pub login_per_address: Rate,
    /// Logins per email and address (`ANB_RATE_LOGIN_PER_ACCOUNT`, `10/minute`): slows guessing
    /// one account's password without letting a stranger lock its owner out.
    pub login_per_account: Rate,
    /// Votes per address (`ANB_RATE_VOTE_PER_ADDRESS`, `120/minute`).
    pub vote_per_address: Rate,
    /// Votes per account (`ANB_RATE_VOTE_PER_ACCOUNT`, `30/minute`).
    pub vote_per_account: Rate,
    /// Uploads per address (`ANB_RATE_UPLOAD_PER_ADDRESS`, `60/hour`).
    pub upload_per_address: Rate,
    /// Uploads per account (`ANB_RATE_UPLOAD_PER_ACCOUNT`, `20/hour`).
    pub upload_per_account: Rate,
    /// Session refreshes per address (`ANB_RATE_REFRESH_PER_ADDRESS`, `60/minute`).
    pub refresh_per_address: Rate,
    /// Player-directory searches per account (`ANB_RATE_DIRECTORY_PER_ACCOUNT`, `60/minute`).
    pub directory_per_account: Rate,
    /// Shares and share links made per account (`ANB_RATE_SHARING_PER_ACCOUNT`, `120/hour`).
    pub sharing_per_account: Rate,
    /// Verification emails asked for per account (`ANB_RATE_VERIFICATION_PER_ACCOUNT`,
    /// `5/hour`).
    pub verification_per_account: Rate,
    /// Password resets (requests and confirmations) per address
    /// (`ANB_RATE_PASSWORD_RESET_PER_ADDRESS`, `20/hour`).
    pub password_reset_per_address: Rate,
    /// Password-reset requests per email, from anywhere (`ANB_RATE_PASSWORD_RESET_PER_EMAIL`,
    /// `5/hour`): nobody can flood one inbox with reset emails.
    pub password_reset_per_email: Rate,
}

fn rate(raw: &str) -> Rate {
    raw.parse().expect("a built-in rate")
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            signup_per_address: rate("10/hour"),
            login_per_address: rate("20/minute"),
            login_per_account: rate("10/minute"),
            vote_per_address: rate("120/minute"),
            vote_per_account: rate("30/minute"),
            upload_per_address: rate("60/hour"),
            upload_per_account: rate("20/hour"),
            refresh_per_address: rate("60/minute"),
            directory_per_account: rate("60/minute"),
            sharing_per_account: rate("120/hour"),
            verification_per_account: rate("5/hour"),
            password_reset_per_address: rate("20/hour"),
            password_reset_per_email: rate("5/hour"),
        }
    }
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            min_body_bytes_per_second: 16 * 1024,
            body_limit_bytes: 64 * 1024,
            max_connections: 1024,
            http2_max_streams: 64,
            trusted_proxies: Vec::new(),
            rates: RateLimits::default(),
            password_hash_concurrency: None,
            password_hash_wait: Duration::from_secs(5),
        }
    }
}
