//! Webhooks: the deployment's own (every video's events), and how deliveries retry.

use std::time::Duration;

use anb_domain::webhook::WebhookRetry;
use anyhow::ensure;

use super::{Raw, Secret};

/// How webhooks are sent: the deployment's subscription (`ANB_WEBHOOK_URL` with
/// `ANB_WEBHOOK_SECRET`, `whsec_<base64>`, both or neither), whether they may reach private
/// addresses (`ANB_WEBHOOK_ALLOW_PRIVATE`, default off), and when failed deliveries are tried
/// again (`ANB_WEBHOOK_RETRY_FIRST_MS`, default 5000, doubling up to an hour, until
/// `ANB_WEBHOOK_GIVE_UP_AFTER_SECONDS`, default 86400: then a dead letter).
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookSettings {
    /// The deployment's webhook: URL and signing secret.
    pub deployment: Option<(String, Secret)>,
    /// Whether webhooks may go to loopback and private addresses.
    pub allow_private: bool,
    /// When failed deliveries are tried again.
    pub retry: WebhookRetry,
}

impl Raw {
    /// The webhook settings, checked.
    pub(super) fn webhooks(&self) -> anyhow::Result<WebhookSettings> {
        let url = self
            .webhook_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let secret = self
            .webhook_secret
            .as_ref()
            .filter(|s| !s.expose().trim().is_empty());
        let deployment = match (url, secret) {
            (None, None) => None,
            (Some(url), Some(secret)) => {
                anb_domain::webhook::Webhook::check_url(url)
                    .map_err(|e| anyhow::anyhow!("webhook_url {}", e.message))?;
                ensure!(
                    secret.expose().trim().starts_with("whsec_"),
                    "webhook_secret must be whsec_ followed by base64 (a Standard Webhooks secret)"
                );
                Some((url.to_owned(), Secret::new(secret.expose().trim())))
            }
            _ => anyhow::bail!("webhook_url and webhook_secret come together: set both or neither"),
        };
        ensure!(
            self.webhook_retry_first_ms > 0,
            "webhook_retry_first_ms must be at least 1"
        );
        ensure!(
            self.webhook_give_up_after_seconds > 0,
            "webhook_give_up_after_seconds must be at least 1"
        );
        Ok(WebhookSettings {
            deployment,
            allow_private: self.webhook_allow_private,
            retry: WebhookRetry {
                first_delay: Duration::from_millis(self.webhook_retry_first_ms),
                give_up_after: Duration::from_secs(self.webhook_give_up_after_seconds),
                ..WebhookRetry::default()
            },
        })
    }
}
