//! [`WebhookSender`] over reqwest: messages signed with the Standard Webhooks reference
//! implementation (`standardwebhooks`: `webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), POSTed with a 10 s limit, no redirects,
//! and, unless the deployment allows it, only to public addresses: names are resolved by a
//! resolver that drops loopback, private, link-local and other internal addresses, so a name
//! that resolves (or later re-resolves) to one cannot reach inside.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anb_domain::ports::{TargetRefused, WebhookSender};
use anb_domain::webhook::{DueDelivery, SendOutcome};
use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long a subscription's host may take to resolve.
const RESOLVE_TIME_LIMIT: Duration = Duration::from_secs(3);

/// How long a receiver has to answer an attempt.
pub const ATTEMPT_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Signs and sends webhook messages.
#[derive(Clone, Debug)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpWebhookSender {
    /// A sender; `allow_private` lets webhooks reach loopback and private addresses
    /// (`ANB_WEBHOOK_ALLOW_PRIVATE`: tests, receivers on the same network).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("anb-showcase-webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(ATTEMPT_TIME_LIMIT)
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// `url` parsed, if it may be sent to: http(s) with a host and no credentials, an
    /// address literal public (names are checked when resolved); else why not.
    fn target(&self, url: &str) -> Result<reqwest::Url, String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "the URL does not parse".to_owned())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("webhooks are sent over http or https only".into());
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the URL must not carry credentials".into());
        }
        let public = match parsed.host() {
            None => return Err("the URL has no host".into()),
            Some(url::Host::Ipv4(ip)) => self.allowed(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.allowed(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => true,
        };
        if public {
            Ok(parsed)
        } else {
            Err(PRIVATE_ADDRESS.into())
        }
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }
}

const PRIVATE_ADDRESS: &str = "the URL leads to a loopback, private or internal address";

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn check_target(&self, url: &str) -> Result<(), TargetRefused> {
        let parsed = self.target(url).map_err(TargetRefused)?;
        if let Some(url::Host::Domain(name)) = parsed.host() {
            let port = parsed.port_or_known_default().unwrap_or(443);
            let unresolved = || TargetRefused(format!("the host {name} does not resolve"));
            let lookup = tokio::net::lookup_host((name, port));
            let addrs: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIME_LIMIT, lookup)
                .await
                .map_err(|_| unresolved())?
                .map_err(|_| unresolved())?
                .collect();
            if addrs.is_empty() {
                return Err(unresolved());
            }
            if addrs.iter().any(|a| !self.allowed(a.ip())) {
                return Err(TargetRefused(PRIVATE_ADDRESS.into()));
            }
        }
        Ok(())
    }

    async fn send(&self, delivery: &DueDelivery, now: DateTime<Utc>) -> SendOutcome {
        let url = match self.target(&delivery.url) {
            Ok(url) => url,
            Err(why) => {
                return SendOutcome::Failed {
                    status: None,
                    error: why,
                }
            }
        };
        let id = delivery.event_id.to_string();
        let timestamp = now.timestamp();
        let signature = match standardwebhooks::Webhook::new(&delivery.secret)
            .and_then(|signer| signer.sign(&id, timestamp, delivery.body.as_bytes()))
        {
            Ok(signature) => signature,
            Err(e) => {
                return SendOutcome::Failed {
                    status: None,
                    error: format!("the webhook's secret cannot sign: {e}"),
                }
            }
        };
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &id)
            .header(
                standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
                timestamp.to_string(),
            )
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(delivery.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => SendOutcome::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => SendOutcome::Failed {
                status: Some(response.status().as_u16()),
                error: format!("the receiver answered {}", response.status()),
            },
            Err(e) if e.is_timeout() => SendOutcome::Failed {
                status: None,
                error: "the receiver did not answer within 10 s".into(),
            },
            Err(e) => SendOutcome::Failed {
                status: None,
                error: format!("no answer: {}", error_chain(&e)),
            },
        }
    }

    fn new_secret(&self) -> String {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the system's random source");
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        )
    }
}

/// `e` and its causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Resolves names to their public addresses only (all of them, with `allow_private`).
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(PRIVATE_ADDRESS.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is a public unicast address: not loopback, private, link-local, shared
/// (CGNAT), unspecified, multicast, broadcast, documentation or reserved; IPv4 inside IPv6 is
/// judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0xdb8
                || first == 0x64 && v6.segments()[1] == 0xff9b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public_and_internet_ones_are() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn a_url_on_a_private_address_is_refused_unless_allowed() {
        let strict = HttpWebhookSender::new(false).unwrap();
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]/hook",
            "http://localhost/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(strict.check_target(url).await.is_err(), "{url}");
        }
        assert!(strict
            .check_target("http://user:pw@example.com/hook")
            .await
            .is_err());
        let lenient = HttpWebhookSender::new(true).unwrap();
        assert!(lenient
            .check_target("http://127.0.0.1:9/hook")
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn new_secrets_are_standard_webhooks_secrets_and_differ() {
        let sender = HttpWebhookSender::new(false).unwrap();
        let (a, b) = (sender.new_secret(), sender.new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert!(standardwebhooks::Webhook::new(&a).is_ok());
    }
}
