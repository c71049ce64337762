//! The HTTP client the `openidconnect` crate talks to the provider through: oauth2's
//! `AsyncHttpClient` over the workspace's reqwest (0.13, rustls), so the adapter brings no
//! second HTTP stack.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The most a provider's answer may weigh (discovery documents and key sets are a few KiB).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why a request to the provider got no usable answer. Every case is the provider being
/// unreachable or failing: the adapter reports it as `IdentityError::Unavailable`.
#[derive(Debug, thiserror::Error)]
pub(super) enum HttpError {
    /// Connection refused, reset, timed out; TLS failure.
    #[error("request to the identity provider failed")]
    Transport(#[source] reqwest::Error),
    /// A 5xx or 429: the provider is failing or shedding load. (4xx answers are passed on:
    /// the token endpoint's refusals are 400s with an OAuth error body.)
    #[error("the identity provider answered {0}")]
    Status(reqwest::StatusCode),
    /// A redirect: the client follows none (an endpoint that moved is a configuration change,
    /// and following one could send the client secret elsewhere).
    #[error("the identity provider answered a redirect ({0}) to {1:?}")]
    Redirect(reqwest::StatusCode, Option<String>),
    /// Past [`MAX_RESPONSE_BYTES`].
    #[error("the identity provider's answer is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The request could not be built (never for the requests `openidconnect` makes).
    #[error("invalid request to the identity provider")]
    Request(#[source] reqwest::Error),
}

/// reqwest with a connect timeout, a whole-request timeout, and no redirects followed.
#[derive(Clone, Debug)]
pub(super) struct HttpClient {
    client: reqwest::Client,
}

impl HttpClient {
    pub(super) fn new(timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .user_agent(concat!("anb-showcase/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::Error::new(e).context("building the OpenID HTTP client"))?;
        Ok(Self { client })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(HttpError::Request)?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(HttpError::Transport)?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(HttpError::Status(status));
        }
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            return Err(HttpError::Redirect(status, location));
        }
        let mut builder = openidconnect::http::Response::builder().status(status);
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::Transport)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(builder
            .body(body)
            .expect("a status and headers taken from a response are valid"))
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
