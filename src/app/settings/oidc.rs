//! The OpenID provider players may log in with.

use anb_adapters::oidc::OpenIdConfig;
use anyhow::{bail, ensure};

use super::{Raw, Secret};

/// The OpenID Connect provider players may log in with, and this service's client
/// registration with it. The issuer, client id and client secret come together or not at all
/// (`ANB_OIDC_ISSUER`, `ANB_OIDC_CLIENT_ID`, `ANB_OIDC_CLIENT_SECRET`); `ANB_OIDC_PROVIDER=google`
/// names Google's issuer instead of `ANB_OIDC_ISSUER`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer identifier (`https://…`; `http://` only on the loopback, for tests).
    pub issuer: String,
    /// The client id the provider issued.
    pub client_id: String,
    /// The client secret the provider issued (never printed).
    pub client_secret: Secret,
    /// The display name (`ANB_OIDC_NAME`; default "Google" for Google's issuer, else the
    /// issuer's host).
    pub name: String,
}

impl OidcSettings {
    /// The adapter's configuration (its defaults for scopes, timeouts and caching).
    pub fn config(&self) -> OpenIdConfig {
        OpenIdConfig {
            name: self.name.clone(),
            ..OpenIdConfig::new(&self.issuer, &self.client_id, self.client_secret.expose())
        }
    }
}

/// A setting's value, `None` when absent or blank.
fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl Raw {
    /// The OpenID settings, checked: all of issuer (or preset), client id and secret, or none
    /// of them (nor a name).
    pub(super) fn oidc(&self) -> anyhow::Result<Option<OidcSettings>> {
        let preset = match given(&self.oidc_provider) {
            None => None,
            Some(name) if name.eq_ignore_ascii_case("google") => Some(OpenIdConfig::GOOGLE_ISSUER),
            Some(name) => bail!("oidc_provider: unknown preset {name:?} (known: google)"),
        };
        let issuer = match (preset, given(&self.oidc_issuer)) {
            (Some(preset), Some(issuer)) if issuer.trim_end_matches('/') != preset => bail!(
                "oidc_provider names Google's issuer ({preset}) and oidc_issuer another \
                 ({issuer}): set one of them"
            ),
            (Some(preset), _) => Some(preset.to_owned()),
            (None, issuer) => issuer,
        };
        let client_id = given(&self.oidc_client_id);
        let client_secret = self
            .oidc_client_secret
            .as_ref()
            .filter(|s| !s.expose().trim().is_empty());
        let name = given(&self.oidc_name);
        let (issuer, client_id, client_secret) = match (issuer, client_id, client_secret) {
            (None, None, None) => {
                ensure!(
                    name.is_none(),
                    "oidc_name is set but no OpenID provider is (set oidc_issuer or \
                     oidc_provider, oidc_client_id and oidc_client_secret)"
                );
                return Ok(None);
            }
            (Some(issuer), Some(client_id), Some(secret)) => (issuer, client_id, secret.clone()),
            (issuer, client_id, secret) => {
                let missing: Vec<&str> = [
                    ("oidc_issuer (or oidc_provider)", issuer.is_none()),
                    ("oidc_client_id", client_id.is_none()),
                    ("oidc_client_secret", secret.is_none()),
                ]
                .into_iter()
                .filter_map(|(key, missing)| missing.then_some(key))
                .collect();
                bail!(
                    "OpenID login needs an issuer, a client id and a client secret together: \
                     {} missing (ANB_OIDC_ISSUER or ANB_OIDC_PROVIDER=google, \
                     ANB_OIDC_CLIENT_ID, ANB_OIDC_CLIENT_SECRET)",
                    missing.join(", ")
                )
            }
        };
        let url = url::Url::parse(&issuer)
            .map_err(|e| anyhow::anyhow!("oidc_issuer: {issuer:?} is not a URL ({e})"))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        ensure!(
            url.scheme() == "https" || (url.scheme() == "http" && loopback),
            "oidc_issuer: {issuer:?} must be an https:// URL (http:// only on the loopback)"
        );
        ensure!(
            url.query().is_none() && url.fragment().is_none(),
            "oidc_issuer: {issuer:?} must have no query or fragment"
        );
        Ok(Some(OidcSettings {
            name: name.unwrap_or_else(|| OpenIdConfig::default_name(&issuer)),
            issuer,
            client_id,
            client_secret,
        }))
    }
}
