//! The OpenID Connect adapter against a real OpenID provider (oidc-provider on Node, started
//! by each check: `ANB_TEST_OIDC_PROVIDER`, see `anb_adapters::testkit::oidc_provider`): the
//! `IdentityProvider` conformance suite.

use std::sync::Arc;
use std::time::Duration;

use anb_adapters::oidc::{OpenIdConfig, OpenIdProvider};
use anb_adapters::testkit::oidc_provider::{OidcProvider, ProviderOptions, VERIFIED_ACCOUNT};
use anb_domain::ports::{IdentityError, IdentityProvider};

fn open_id_provider(config: OpenIdConfig) -> Arc<dyn IdentityProvider> {
    Arc::new(OpenIdProvider::new(config).expect("a valid configuration"))
}

anb_adapters::identity_conformance!(open_id_provider);

/// The provider restarts with a new signing key (same issuer): an ID token signed with it
/// verifies once the keys are fetched again, and not before `key_refresh_interval`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotated_by_the_provider_are_fetched_again() {
    let redirect = "http://127.0.0.1:9/api/auth/oidc/callback";
    let first = OidcProvider::start(&[redirect]).await;
    let port = url::Url::parse(first.issuer()).unwrap().port().unwrap();
    let config = first.config();
    let patient = OpenIdProvider::new(OpenIdConfig {
        key_refresh_interval: Duration::from_secs(3600),
        ..config.clone()
    })
    .unwrap();
    let eager = OpenIdProvider::new(OpenIdConfig {
        key_refresh_interval: Duration::ZERO,
        ..config
    })
    .unwrap();
    // Both discover the first provider's keys.
    let logins = (
        patient.start(redirect).await.unwrap(),
        eager.start(redirect).await.unwrap(),
    );
    first.stop().await;
    let second = OidcProvider::start_with(ProviderOptions {
        redirect_uris: vec![redirect.into()],
        port,
        ..ProviderOptions::default()
    })
    .await;
    let back = second
        .log_in(&logins.0.authorize_url, VERIFIED_ACCOUNT)
        .await
        .unwrap();
    match patient
        .finish(&logins.0.pending, &back.state, &back.code, redirect)
        .await
    {
        Err(IdentityError::Refused(reason)) => assert!(reason.contains("ignature"), "{reason}"),
        other => panic!("expected Refused before the refresh interval, got {other:?}"),
    }
    let back = second
        .log_in(&logins.1.authorize_url, VERIFIED_ACCOUNT)
        .await
        .unwrap();
    let who = eager
        .finish(&logins.1.pending, &back.state, &back.code, redirect)
        .await
        .unwrap();
    assert_eq!(who.subject, VERIFIED_ACCOUNT);
}

/// An issuer at a server that answers every request with `answer` (None: never answers).
async fn raw_issuer(answer: Option<&'static str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                match answer {
                    Some(answer) => {
                        let _ = socket.write_all(answer.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(60)).await,
                }
            });
        }
    });
    issuer
}

fn adapter_at(issuer: String) -> OpenIdProvider {
    OpenIdProvider::new(OpenIdConfig {
        timeout: Duration::from_secs(1),
        ..OpenIdConfig::new(issuer, "anb", "s3cret")
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_the_provider_is_not_followed() {
    let target = raw_issuer(Some("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")).await;
    let redirect: &'static str = Box::leak(
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {target}/.well-known/openid-configuration\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .into_boxed_str(),
    );
    let adapter = adapter_at(raw_issuer(Some(redirect)).await);
    match adapter.start("http://127.0.0.1:9/callback").await {
        Err(IdentityError::Unavailable(error)) => {
            let chain = format!("{error:#}");
            assert!(chain.contains("redirect (302 Found)"), "{chain}");
            assert!(chain.contains(&target), "{chain}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_is_unavailable_within_the_timeout() {
    let adapter = adapter_at(raw_issuer(None).await);
    let started = std::time::Instant::now();
    let result = adapter.start("http://127.0.0.1:9/callback").await;
    assert!(
        matches!(result, Err(IdentityError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failing_with_a_server_error_is_unavailable() {
    let adapter = adapter_at(
        raw_issuer(Some(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
        ))
        .await,
    );
    match adapter.start("http://127.0.0.1:9/callback").await {
        Err(IdentityError::Unavailable(error)) => {
            assert!(
                format!("{error:#}").contains("answered 503 Service Unavailable"),
                "{error:#}"
            )
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
