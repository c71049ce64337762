//! A real OpenID provider for tests: panva's certified `oidc-provider` (npm, pinned in
//! `tests/oidc-provider/package-lock.json`), run with Node by `tests/oidc-provider/provider.mjs`
//! on 127.0.0.1 with a free port, killed when the [`OidcProvider`] is dropped.
//!
//! `scripts/test` installs it (`need_oidc_provider` in `scripts/lib/prepare.sh`) and sets
//! `ANB_TEST_OIDC_PROVIDER` to the script; without it, [`OidcProvider::start`] panics saying how to
//! install it (a test never skips silently).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use anb_adapters::oidc::OpenIdProvider;
//! use anb_adapters::testkit::oidc_provider::{OidcProvider, VERIFIED_ACCOUNT};
//! use anb_domain::ports::IdentityProvider;
//!
//! let redirect = "http://127.0.0.1:9/callback";
//! let provider = OidcProvider::start(&[redirect]).await;
//! let adapter = OpenIdProvider::new(provider.config())?;
//! let login = adapter.start(redirect).await?;
//! // What a browser would do: follow the redirects, log in as `ana`, come back.
//! let callback = provider.log_in(&login.authorize_url, VERIFIED_ACCOUNT).await?;
//! let who = adapter.finish(&login.pending, &callback.state, &callback.code, redirect).await?;
//! assert_eq!(who.subject, VERIFIED_ACCOUNT);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

use crate::oidc::OpenIdConfig;

/// How long a started provider may take to say `ready`.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Providers starting at once, at most (see [`OidcProvider::start_with`]).
static STARTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The confidential client the provider knows.
pub const CLIENT_ID: &str = "anb-test-client";
/// That client's secret.
pub const CLIENT_SECRET: &str = "anb-test-client-secret-0123456789";
/// An account whose email is verified (`sub` = this id): ana@example.com, Ana Pérez.
pub const VERIFIED_ACCOUNT: &str = "ana";
/// [`VERIFIED_ACCOUNT`]'s email.
pub const VERIFIED_EMAIL: &str = "ana@example.com";
/// An account whose email is not verified: ben@example.com, Ben Gómez.
pub const UNVERIFIED_ACCOUNT: &str = "ben";
/// [`UNVERIFIED_ACCOUNT`]'s email.
pub const UNVERIFIED_EMAIL: &str = "ben@example.com";

/// How a provider is started.
#[derive(Clone, Debug, Default)]
pub struct ProviderOptions {
    /// The client's registered redirect URIs (at least one).
    pub redirect_uris: Vec<String>,
    /// The ID token carries only the claims the specification requires (`sub`, …), and the
    /// email and names come from the userinfo endpoint (as some providers do). By default the
    /// ID token carries them, as Google's does.
    pub claims_in_userinfo: bool,
    /// Puts a proxy in front of the provider (the issuer is the proxy's address, so everything
    /// goes through it) that alters one character of the ID token's payload in every token
    /// response, keeping its signature: what an attacker between us and the provider would do.
    pub tamper_id_tokens: bool,
    /// The port to listen on (0, the default: a free one).
    pub port: u16,
    /// The client is registered as a native application, so a redirect URI on
    /// `http://127.0.0.1` matches a registered one whatever its port (RFC 8252, section 7.3):
    /// register `http://127.0.0.1/api/…/callback` and start the provider before the server
    /// whose port is not known yet.
    pub any_loopback_port: bool,
}

/// Where a login sent the browser back to: the client's redirect URI with `code` and `state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// The whole URL (the redirect URI and its query).
    pub url: String,
    /// Its `code` parameter.
    pub code: String,
    /// Its `state` parameter.
    pub state: String,
}

/// A running provider; killed when dropped.
pub struct OidcProvider {
    issuer: String,
    http: reqwest::Client,
    tampered: Arc<AtomicUsize>,
    child: Child,
    _proxy: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// The script to run, from `ANB_TEST_OIDC_PROVIDER`.
///
/// # Panics
/// When it is unset or not a file, saying how to install it.
pub fn provider_script() -> String {
    let how = "install the test OpenID provider with `source scripts/lib/prepare.sh; \
               need_oidc_provider` (it sets ANB_TEST_OIDC_PROVIDER; scripts/test does both)";
    let path = std::env::var("ANB_TEST_OIDC_PROVIDER")
        .unwrap_or_else(|_| panic!("ANB_TEST_OIDC_PROVIDER is not set: {how}"));
    assert!(
        std::path::Path::new(&path).is_file(),
        "ANB_TEST_OIDC_PROVIDER={path} is not a file: {how}"
    );
    path
}

impl OidcProvider {
    /// A provider whose client may redirect to `redirect_uris`.
    ///
    /// # Panics
    /// When `ANB_TEST_OIDC_PROVIDER` is unset, or the provider does not start within 60 s.
    pub async fn start(redirect_uris: &[&str]) -> Self {
        Self::start_with(ProviderOptions {
            redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
            ..ProviderOptions::default()
        })
        .await
    }

    /// A provider started with `options`.
    ///
    /// # Panics
    /// When `ANB_TEST_OIDC_PROVIDER` is unset, or the provider does not start within 60 s.
    pub async fn start_with(options: ProviderOptions) -> Self {
        let script = provider_script();
        match Self::launch(&script, &options).await {
            Ok(provider) => provider,
            Err(error) => panic!("starting the test OpenID provider ({script}): {error:#}"),
        }
    }

    async fn launch(script: &str, options: &ProviderOptions) -> anyhow::Result<Self> {
        let proxy_listener = if options.tamper_id_tokens {
            Some(TcpListener::bind("127.0.0.1:0").await?)
        } else {
            None
        };
        // Node takes a core for a second or more to load the provider: providers start two at
        // a time, so that tests starting many at once (on a loaded machine) each get theirs up
        // within the deadline.
        let _starting = STARTING.acquire().await.context("the start gate")?;
        let mut command = Command::new(std::env::var("ANB_NODE").unwrap_or("node".into()));
        command
            .arg(script)
            .args(["--port", &options.port.to_string()])
            .args(["--client-id", CLIENT_ID])
            .args(["--client-secret", CLIENT_SECRET]);
        for uri in &options.redirect_uris {
            command.args(["--redirect-uri", uri]);
        }
        if options.claims_in_userinfo {
            command.arg("--claims-in-userinfo");
        }
        if options.any_loopback_port {
            command.arg("--any-loopback-port");
        }
        if let Some(listener) = &proxy_listener {
            command.args(["--issuer", &format!("http://{}", listener.local_addr()?)]);
        }
        let mut child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("running node (install Node.js 20.19 or newer, or set ANB_NODE)")?;

        // Its warnings are kept for the error, not printed over the test's output.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let kept = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                let mut kept = kept.lock().expect("stderr lock");
                if kept.len() < 64 * 1024 {
                    kept.push_str(&line);
                    kept.push('\n');
                }
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let ready = tokio::time::timeout(READY_WITHIN, async {
            while let Some(line) = out_lines.next_line().await? {
                if let Some(rest) = line.strip_prefix("ready ") {
                    return Ok(rest.to_owned());
                }
            }
            bail!("it exited without saying `ready`")
        })
        .await
        .unwrap_or_else(|_| Err(anyhow!("it did not say `ready` within {READY_WITHIN:?}")));
        let ready = match ready {
            Ok(ready) => ready,
            Err(error) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let stderr = stderr.lock().expect("stderr lock").clone();
                return Err(error.context(format!("its stderr:\n{stderr}")));
            }
        };
        // Keep reading stdout so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        let (issuer, listening) = ready
            .split_once(' ')
            .map(|(i, l)| (i.to_owned(), l.to_owned()))
            .ok_or_else(|| anyhow!("unexpected ready line: {ready:?}"))?;

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        let tampered = Arc::new(AtomicUsize::new(0));
        let proxy = proxy_listener.map(|listener| {
            tokio::spawn(tampering_proxy(
                listener,
                listening.clone(),
                http.clone(),
                tampered.clone(),
            ))
        });
        Ok(Self {
            issuer,
            http,
            tampered,
            child,
            _proxy: proxy,
        })
    }

    /// Stops the provider and waits until it has exited (its port is free again).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// The issuer identifier (`http://127.0.0.1:PORT`): what the adapter is configured with.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The adapter's configuration for this provider and its client (5 s requests).
    pub fn config(&self) -> OpenIdConfig {
        OpenIdConfig {
            timeout: Duration::from_secs(5),
            ..OpenIdConfig::new(&self.issuer, CLIENT_ID, CLIENT_SECRET)
        }
    }

    /// How many ID tokens the tampering proxy altered (always 0 without one).
    pub fn tampered_tokens(&self) -> usize {
        self.tampered.load(Ordering::SeqCst)
    }

    /// Does what a browser and a person would: follows `authorize_url` (with a cookie jar of
    /// its own) to the provider's login, logs `account` in and consents (the provider's
    /// test-only route `/interaction/<uid>/login?account=<id>`), and follows the redirects
    /// until one leaves the provider: the client's redirect URI with `code` and `state`, which
    /// it returns without requesting it.
    ///
    /// # Errors
    /// When the provider answers anything else than the expected redirects (a refused
    /// authorization request: its error page's text is in the error).
    pub async fn log_in(&self, authorize_url: &str, account: &str) -> anyhow::Result<Callback> {
        let mut cookies = BTreeMap::<String, String>::new();
        let mut url = url::Url::parse(authorize_url)?;
        let provider = url::Url::parse(&self.issuer)?;
        for _ in 0..10 {
            if url.origin() != provider.origin() {
                return callback(url);
            }
            let mut request = self.http.get(url.clone());
            if !cookies.is_empty() {
                let header = cookies
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                request = request.header(reqwest::header::COOKIE, header);
            }
            let response = request.send().await.with_context(|| format!("GET {url}"))?;
            for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
                let pair = set.to_str()?.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    cookies.insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
            let status = response.status();
            let Some(location) = response.headers().get(reqwest::header::LOCATION).cloned() else {
                let body = response.text().await.unwrap_or_default();
                bail!("GET {url}: {status}, not a redirect: {body}");
            };
            url = url.join(location.to_str()?)?;
            let segments: Vec<&str> = url.path().trim_matches('/').split('/').collect();
            if url.origin() == provider.origin()
                && segments.len() == 2
                && segments[0] == "interaction"
            {
                url = url.join(&format!(
                    "/interaction/{}/login?account={account}",
                    segments[1]
                ))?;
            }
        }
        bail!("too many redirects from {authorize_url}")
    }
}

fn callback(url: url::Url) -> anyhow::Result<Callback> {
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if let Some(error) = param("error") {
        bail!(
            "the provider answered the client with error {error}: {}",
            param("error_description").unwrap_or_default()
        );
    }
    Ok(Callback {
        code: param("code").ok_or_else(|| anyhow!("no code in {url}"))?,
        state: param("state").ok_or_else(|| anyhow!("no state in {url}"))?,
        url: url.into(),
    })
}

/// Forwards every request to `upstream`; in token responses, alters the ID token.
async fn tampering_proxy(
    listener: TcpListener,
    upstream: String,
    http: reqwest::Client,
    tampered: Arc<AtomicUsize>,
) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let (upstream, http, tampered) = (upstream.clone(), http.clone(), tampered.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let (upstream, http, tampered) = (upstream.clone(), http.clone(), tampered.clone());
                async move {
                    let response = forward(request, &upstream, &http, &tampered)
                        .await
                        .unwrap_or_else(|error| {
                            hyper::Response::builder()
                                .status(502)
                                .body(Full::new(Bytes::from(format!("proxy: {error:#}"))))
                                .expect("a valid response")
                        });
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

async fn forward(
    request: hyper::Request<hyper::body::Incoming>,
    upstream: &str,
    http: &reqwest::Client,
    tampered: &AtomicUsize,
) -> anyhow::Result<hyper::Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = http.request(parts.method.clone(), format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != hyper::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.body(body).send().await?;
    let status = answer.status();
    let mut response = hyper::Response::builder().status(status);
    for (name, value) in answer.headers() {
        if name != hyper::header::CONTENT_LENGTH && name != hyper::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let mut body = answer.bytes().await?;
    if parts.uri.path() == "/token" && status.is_success() {
        body = tamper_id_token(&body)?.into();
        tampered.fetch_add(1, Ordering::SeqCst);
    }
    Ok(response.body(Full::new(body))?)
}

/// The token response with one character of the ID token's `sub` claim changed (the payload
/// still well-formed JSON, the signature the provider's for the original).
fn tamper_id_token(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut json: serde_json::Value = serde_json::from_slice(body)?;
    let token = json["id_token"]
        .as_str()
        .ok_or_else(|| anyhow!("no id_token in the token response"))?;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    anyhow::ensure!(parts.len() == 3, "the id_token is not a JWS");
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1])?)?;
    let sub = payload["sub"]
        .as_str()
        .ok_or_else(|| anyhow!("no sub in the id_token"))?;
    let mut altered: Vec<char> = sub.chars().collect();
    altered[0] = if altered[0] == 'x' { 'y' } else { 'x' };
    payload["sub"] = altered.into_iter().collect::<String>().into();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload)?);
    json["id_token"] = parts.join(".").into();
    Ok(serde_json::to_vec(&json)?)
}
