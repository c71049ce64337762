//! What the settings chose, for the start-up log, with credentials masked.

use super::{QueueBackend, Settings};

/// Query parameters whose values are masked.
const SENSITIVE: &[&str] = &[
    "password",
    "secret",
    "token",
    "key",
    "credential",
    "signature",
];

/// The URL with its password and any credential-like query value replaced by `***`.
///
/// ```
/// use anb::app::settings::mask_url;
/// assert_eq!(mask_url("postgres://anb:s3cret@db:5432/anb"), "postgres://anb:***@db:5432/anb");
/// assert_eq!(mask_url("redis://:pw@cache:6379/0"), "redis://:***@cache:6379/0");
/// assert_eq!(mask_url("sqlite://data/anb.db"), "sqlite://data/anb.db");
/// ```
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return mask_user_info(raw);
    };
    let mut masked = false;
    if url.password().is_some() {
        if url.set_password(Some("***")).is_err() {
            return mask_user_info(raw);
        }
        masked = true;
    }
    let sensitive = |key: &str| {
        let key = key.to_ascii_lowercase();
        SENSITIVE.iter().any(|s| key.contains(s))
    };
    if url.query_pairs().any(|(k, _)| sensitive(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if sensitive(&k) {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        masked = true;
    }
    if masked {
        url.to_string()
    } else {
        raw.to_owned()
    }
}

/// Hides whatever sits between `://` and the last `@` (for text `url` cannot take apart).
fn mask_user_info(raw: &str) -> String {
    match (raw.find("://"), raw.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}***{}", &raw[..start + 3], &raw[at..])
        }
        _ => raw.to_owned(),
    }
}

impl Settings {
    /// One line naming the chosen backends, profile and limits, credentials masked: what the
    /// binaries log at start-up.
    pub fn describe(&self) -> String {
        let queue = match self.queue() {
            Ok(QueueBackend::Database) => format!("{} (the database's jobs table)", self.queue_url),
            _ => mask_url(&self.queue_url),
        };
        let secret = match (&self.jwt_secret, self.is_embedded()) {
            (Some(_), _) => "set".to_owned(),
            (None, Ok(true)) => format!("kept in {}", self.jwt_secret_file().display()),
            (None, _) => "missing".to_owned(),
        };
        let cache = match &self.cache_url {
            Some(url) => format!("{} (shared)", mask_url(url)),
            None => "in-process".to_owned(),
        };
        let mail = match &self.smtp_url {
            Some(url) => mask_url(url.expose()),
            None => format!("files in {}", self.mail_dir().display()),
        };
        let oidc = match &self.oidc {
            Some(oidc) => format!(
                "{:?} ({} client {} secret {})",
                oidc.name, oidc.issuer, oidc.client_id, oidc.client_secret
            ),
            None => "off".to_owned(),
        };
        let webhook = match &self.webhooks.deployment {
            Some((url, secret)) => format!("{} (secret {secret})", mask_url(url)),
            None => "off".to_owned(),
        };
        let traces = match &self.otlp_endpoint {
            Some(url) => mask_url(url),
            None => "off".to_owned(),
        };
        format!(
            "http={} database={} queue={} blobs={} cache={} mail={} mail_from={:?} profile={} \
             max_upload_mb={} jwt_secret={} oidc={} webhook={} traces={}",
            self.http_addr,
            mask_url(&self.database_url),
            queue,
            mask_url(&self.blob_url),
            cache,
            mail,
            self.mail_from,
            self.profile.name,
            self.max_upload_mb,
            secret,
            oidc,
            webhook,
            traces,
        )
    }
}
