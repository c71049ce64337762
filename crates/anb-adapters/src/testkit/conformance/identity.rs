//! The `IdentityProvider` contract, checked against a real OpenID provider
//! ([`OidcProvider`]: oidc-provider on Node; `ANB_TEST_OIDC_PROVIDER`). The subject is a
//! factory: an adapter for the [`OpenIdConfig`] of the provider each check starts (some checks
//! start one with special options, or point an adapter at an issuer that does not answer).

use std::sync::Arc;
use std::time::Duration;

use anb_domain::ports::{IdentityError, IdentityProvider, LoginStart, PendingLogin, Unavailable};

use crate::oidc::OpenIdConfig;
use crate::testkit::oidc_provider::{
    OidcProvider, ProviderOptions, CLIENT_ID, CLIENT_SECRET, UNVERIFIED_ACCOUNT, UNVERIFIED_EMAIL,
    VERIFIED_ACCOUNT, VERIFIED_EMAIL,
};

/// Builds the adapter under test for a provider's configuration.
pub trait Make: Fn(OpenIdConfig) -> Arc<dyn IdentityProvider> {}
impl<F: Fn(OpenIdConfig) -> Arc<dyn IdentityProvider>> Make for F {}

const REDIRECT: &str = "http://127.0.0.1:9/api/auth/oidc/callback";

async fn provider(make: &impl Make) -> (OidcProvider, Arc<dyn IdentityProvider>) {
    let provider = OidcProvider::start(&[REDIRECT]).await;
    let adapter = make(provider.config());
    (provider, adapter)
}

/// A login started and the browser's part done: what the callback receives.
async fn logged_in(
    provider: &OidcProvider,
    adapter: &dyn IdentityProvider,
    account: &str,
) -> (LoginStart, String, String) {
    let login = adapter.start(REDIRECT).await.unwrap();
    let callback = provider
        .log_in(&login.authorize_url, account)
        .await
        .unwrap();
    (login, callback.state, callback.code)
}

fn assert_refused(result: Result<impl std::fmt::Debug, IdentityError>, what: &str) -> String {
    match result {
        Err(IdentityError::Refused(reason)) => reason,
        other => panic!("{what}: expected Refused, got {other:?}"),
    }
}

/// The authorization URL asks for a code with PKCE S256, the state, the nonce, the scopes and
/// the redirect URI; the flow returns the issuer, the subject, the verified email and the names.
pub async fn the_code_flow_returns_the_accounts_subject_and_verified_email(make: impl Make) {
    let (provider, adapter) = provider(&make).await;
    let login = adapter.start(REDIRECT).await.unwrap();
    let url = url::Url::parse(&login.authorize_url).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("state").as_ref(), Some(&login.pending.state));
    assert_eq!(param("nonce").as_ref(), Some(&login.pending.nonce));
    assert_eq!(param("scope").as_deref(), Some("openid email profile"));
    assert_eq!(param("redirect_uri").as_deref(), Some(REDIRECT));
    assert!(param("code_challenge").is_some());

    let callback = provider
        .log_in(&login.authorize_url, VERIFIED_ACCOUNT)
        .await
        .unwrap();
    assert!(callback.url.starts_with(REDIRECT), "{}", callback.url);
    let who = adapter
        .finish(&login.pending, &callback.state, &callback.code, REDIRECT)
        .await
        .unwrap();
    assert_eq!(who.issuer, provider.issuer());
    assert_eq!(who.subject, VERIFIED_ACCOUNT);
    assert_eq!(who.email.as_ref().map(|e| e.as_str()), Some(VERIFIED_EMAIL));
    assert!(who.email_verified);
    assert_eq!(who.given_name.as_deref(), Some("Ana"));
    assert_eq!(who.family_name.as_deref(), Some("Pérez"));
    assert_eq!(adapter.name(), provider.config().name);
}

/// An email the provider does not vouch for comes back with `email_verified: false`.
pub async fn an_unverified_email_comes_back_unverified(make: impl Make) {
    let (provider, adapter) = provider(&make).await;
    let (login, state, code) = logged_in(&provider, &*adapter, UNVERIFIED_ACCOUNT).await;
    let who = adapter
        .finish(&login.pending, &state, &code, REDIRECT)
        .await
        .unwrap();
    assert_eq!(who.subject, UNVERIFIED_ACCOUNT);
    assert_eq!(
        who.email.as_ref().map(|e| e.as_str()),
        Some(UNVERIFIED_EMAIL)
    );
    assert!(!who.email_verified);
}

/// A provider whose ID token carries only `sub`: the email and names come from userinfo.
pub async fn claims_missing_from_the_id_token_come_from_userinfo(make: impl Make) {
    let provider = OidcProvider::start_with(ProviderOptions {
        redirect_uris: vec![REDIRECT.into()],
        claims_in_userinfo: true,
        ..ProviderOptions::default()
    })
    .await;
    let adapter = make(provider.config());
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    let who = adapter
        .finish(&login.pending, &state, &code, REDIRECT)
        .await
        .unwrap();
    assert_eq!(who.subject, VERIFIED_ACCOUNT);
    assert_eq!(who.email.as_ref().map(|e| e.as_str()), Some(VERIFIED_EMAIL));
    assert!(who.email_verified);
    assert_eq!(who.family_name.as_deref(), Some("Pérez"));
}

/// A callback whose `state` is not the pending login's is `StateMismatch`, and nothing is sent
/// to the provider (the code still works afterwards).
pub async fn a_wrong_state_is_a_state_mismatch(make: impl Make) {
    let (provider, adapter) = provider(&make).await;
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    let result = adapter
        .finish(&login.pending, &format!("{state}x"), &code, REDIRECT)
        .await;
    assert!(
        matches!(result, Err(IdentityError::StateMismatch)),
        "{result:?}"
    );
    // Nothing was sent to the provider: the code still works with the right state.
    adapter
        .finish(&login.pending, &state, &code, REDIRECT)
        .await
        .unwrap();
}

/// An ID token whose nonce is not the pending login's is `Refused`.
pub async fn a_pending_login_with_another_nonce_is_refused(make: impl Make) {
    let (provider, adapter) = provider(&make).await;
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    let other = PendingLogin {
        nonce: adapter.start(REDIRECT).await.unwrap().pending.nonce,
        ..login.pending.clone()
    };
    let reason = assert_refused(
        adapter.finish(&other, &state, &code, REDIRECT).await,
        "another nonce",
    );
    assert!(reason.contains("nonce"), "{reason}");
}

/// A PKCE verifier that is not the one whose challenge was sent: the provider refuses the code
/// (`Refused`, `invalid_grant`).
pub async fn a_wrong_pkce_verifier_is_refused_by_the_provider(make: impl Make) {
    let (provider, adapter) = provider(&make).await;
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    let other = PendingLogin {
        pkce_verifier: adapter.start(REDIRECT).await.unwrap().pending.pkce_verifier,
        ..login.pending.clone()
    };
    let reason = assert_refused(
        adapter.finish(&other, &state, &code, REDIRECT).await,
        "another PKCE verifier",
    );
    assert!(reason.contains("invalid_grant"), "{reason}");
}

/// A code redeemed once is `Refused` the second time (`invalid_grant`).
pub async fn a_code_used_twice_is_refused(make: impl Make) {
    let (provider, adapter) = provider(&make).await;
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    adapter
        .finish(&login.pending, &state, &code, REDIRECT)
        .await
        .unwrap();
    let reason = assert_refused(
        adapter
            .finish(&login.pending, &state, &code, REDIRECT)
            .await,
        "the code again",
    );
    assert!(reason.contains("invalid_grant"), "{reason}");
}

/// A wrong client secret: the token endpoint refuses the client (`Refused`, `invalid_client`).
pub async fn another_clients_secret_is_refused(make: impl Make) {
    let (provider, _) = provider(&make).await;
    let adapter = make(OpenIdConfig {
        client_secret: format!("{CLIENT_SECRET}-not"),
        ..provider.config()
    });
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    let reason = assert_refused(
        adapter
            .finish(&login.pending, &state, &code, REDIRECT)
            .await,
        "a wrong client secret",
    );
    assert!(reason.contains("invalid_client"), "{reason}");
}

/// An ID token altered between the provider and the adapter (one character of its payload,
/// through a proxy that is the issuer as far as the adapter knows) is `Refused`: its signature.
pub async fn a_tampered_id_token_is_refused(make: impl Make) {
    let provider = OidcProvider::start_with(ProviderOptions {
        redirect_uris: vec![REDIRECT.into()],
        tamper_id_tokens: true,
        ..ProviderOptions::default()
    })
    .await;
    let adapter = make(provider.config());
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    let reason = assert_refused(
        adapter
            .finish(&login.pending, &state, &code, REDIRECT)
            .await,
        "a tampered ID token",
    );
    assert_eq!(provider.tampered_tokens(), 1, "the proxy altered the token");
    assert!(reason.contains("ignature"), "{reason}");
}

/// An issuer nobody answers at is `Unavailable` (with an [`Unavailable`] in the chain), for
/// `start` and `finish`, twice (no failure cached); once the provider is up, a login works.
pub async fn an_unreachable_issuer_is_unavailable_and_a_later_call_tries_again(make: impl Make) {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let adapter = make(OpenIdConfig {
        timeout: Duration::from_secs(2),
        ..OpenIdConfig::new(format!("http://127.0.0.1:{port}"), CLIENT_ID, CLIENT_SECRET)
    });
    for _ in 0..2 {
        match adapter.start(REDIRECT).await {
            Err(IdentityError::Unavailable(error)) => {
                assert!(Unavailable::find_in(&error).is_some(), "{error:#}")
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    let pending = PendingLogin {
        state: "s".into(),
        nonce: "n".into(),
        pkce_verifier: "v".repeat(43),
    };
    let result = adapter.finish(&pending, "s", "code", REDIRECT).await;
    assert!(
        matches!(result, Err(IdentityError::Unavailable(_))),
        "{result:?}"
    );

    // The provider comes up there: the next login discovers it.
    let provider = OidcProvider::start_with(ProviderOptions {
        redirect_uris: vec![REDIRECT.into()],
        port,
        ..ProviderOptions::default()
    })
    .await;
    let (login, state, code) = logged_in(&provider, &*adapter, VERIFIED_ACCOUNT).await;
    let who = adapter
        .finish(&login.pending, &state, &code, REDIRECT)
        .await
        .unwrap();
    assert_eq!(who.subject, VERIFIED_ACCOUNT);
}

/// A native client (the test provider's `any_loopback_port`) comes back to a loopback callback
/// on any port, and not to another path.
pub async fn a_native_client_may_come_back_to_any_loopback_port(make: impl Make) {
    // How an end-to-end test registers the callback of a server not started yet.
    let provider = OidcProvider::start_with(ProviderOptions {
        redirect_uris: vec!["http://127.0.0.1/api/auth/oidc/callback".into()],
        any_loopback_port: true,
        ..ProviderOptions::default()
    })
    .await;
    let adapter = make(provider.config());
    let redirect = "http://127.0.0.1:45678/api/auth/oidc/callback";
    let login = adapter.start(redirect).await.unwrap();
    let callback = provider
        .log_in(&login.authorize_url, VERIFIED_ACCOUNT)
        .await
        .unwrap();
    assert!(callback.url.starts_with(redirect), "{}", callback.url);
    let who = adapter
        .finish(&login.pending, &callback.state, &callback.code, redirect)
        .await
        .unwrap();
    assert_eq!(who.subject, VERIFIED_ACCOUNT);
    // Another path is still refused.
    let elsewhere = adapter
        .start("http://127.0.0.1:45678/elsewhere")
        .await
        .unwrap();
    let refused = provider
        .log_in(&elsewhere.authorize_url, VERIFIED_ACCOUNT)
        .await
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains("redirect_uri"),
        "{refused:#}"
    );
}
