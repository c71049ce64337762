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
