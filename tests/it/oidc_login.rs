//! Logging in with an OpenID provider over HTTP on the real binary, against a real provider
//! (`oidc-provider` from the npm registry, started by the test): a new player completes the
//! profile, a returning one is signed in, an account with the same verified email is linked;
//! a wrong state, a swapped login cookie, an unverified email and a tampered ID token are
//! refused and sign nobody in.

use anb_adapters::testkit::oidc_provider::{
    OidcProvider, ProviderOptions, CLIENT_ID, CLIENT_SECRET, UNVERIFIED_ACCOUNT, VERIFIED_ACCOUNT,
    VERIFIED_EMAIL,
};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::support::app::{Anb, Launch};
use crate::support::client::{signup_body, Api, Reply, PASSWORD};

/// The redirect URI registered at the provider: any port on the loopback matches it.
const CALLBACK: &str = "http://127.0.0.1/api/auth/oidc/callback";

async fn provider(tamper_id_tokens: bool) -> OidcProvider {
    OidcProvider::start_with(ProviderOptions {
        redirect_uris: vec![CALLBACK.into()],
        any_loopback_port: true,
        tamper_id_tokens,
        ..ProviderOptions::default()
    })
    .await
}

fn start_anb(provider: &OidcProvider) -> Anb {
    let issuer = provider.issuer().to_owned();
    tokio::task::block_in_place(|| {
        Launch::serve()
            .env("ANB_OIDC_ISSUER", issuer)
            .env("ANB_OIDC_CLIENT_ID", CLIENT_ID)
            .env("ANB_OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("ANB_OIDC_NAME", "Prueba ID")
            .start()
    })
}

/// A browser that does not follow redirects (each hop is checked).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name`'s value in a reply's `Set-Cookie`, if it sets that cookie.
fn cookie(reply: &reqwest::Response, name: &str) -> Option<String> {
    reply
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

fn location(reply: &reqwest::Response) -> String {
    reply.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// Starts a login: the provider's authorization URL and the login cookie.
async fn start(api: &Api) -> (String, String) {
    let reply = browser()
        .get(api.url("/api/auth/oidc/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 302);
    let set = reply.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["Path=/api/auth/oidc", "HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    (location(&reply), cookie(&reply, "anb_oidc").unwrap())
}

/// Comes back to `callback_url` with the login cookie `note`.
async fn come_back(callback_url: &str, note: &str) -> reqwest::Response {
    browser()
        .get(callback_url)
        .header(COOKIE, format!("anb_oidc={note}"))
        .send()
        .await
        .unwrap()
}

/// A whole login as `account`: the callback's reply.
async fn log_in(api: &Api, provider: &OidcProvider, account: &str) -> reqwest::Response {
    let (authorize, note) = start(api).await;
    let back = provider.log_in(&authorize, account).await.unwrap();
    assert!(
        back.url.starts_with(&api.url("/api/auth/oidc/callback")),
        "{}",
        back.url
    );
    come_back(&back.url, &note).await
}

async fn me(api: &Api, access: &str) -> Reply {
    api.send(
        api.request(reqwest::Method::GET, "/api/auth/me")
            .bearer_auth(access),
    )
    .await
}

/// The access token a refresh cookie gets.
async fn access_from(api: &Api, refresh: &str) -> String {
    let reply = api
        .send(
            api.request(reqwest::Method::POST, "/api/auth/refresh")
                .header(COOKIE, format!("anb_refresh={refresh}")),
        )
        .await
        .expect_json(200);
    reply["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_player_completes_the_profile_and_a_returning_one_is_signed_in() {
    let provider = provider(false).await;
    let anb = start_anb(&provider);
    let api = Api::new(anb.base_url());
    let providers = api.get("/api/auth/providers").await.expect_json(200);
    assert_eq!(
        providers,
        json!([{"id": "oidc", "name": "Prueba ID", "login_url": "/api/auth/oidc/start"}])
    );

    // First visit: the profile form, with the verified identity in a cookie.
    let back = log_in(&api, &provider, VERIFIED_ACCOUNT).await;
    assert_eq!(back.status(), 302);
    assert_eq!(location(&back), "/complete-profile");
    assert!(
        cookie(&back, "anb_refresh").is_none(),
        "nobody is signed in yet"
    );
    let signup = cookie(&back, "anb_oidc_signup").expect("the sign-up cookie");
    let complete = |note: String, body: serde_json::Value| {
        let api = &api;
        async move {
            let reply = browser()
                .post(api.url("/api/auth/oidc/complete"))
                .header(COOKIE, format!("anb_oidc_signup={note}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let refresh = cookie(&reply, "anb_refresh");
            let signup_after = cookie(&reply, "anb_oidc_signup");
            (Reply::read(reply).await, (refresh, signup_after))
        }
    };
    let (missing, _) = complete(signup.clone(), json!({"city": "Cali"})).await;
    missing.expect_error(400, "validation_error");
    let mut altered = signup.clone().into_bytes();
    let mid = altered.len() / 2;
    altered[mid] = if altered[mid] == b'A' { b'B' } else { b'A' };
    let (forged, _) = complete(
        String::from_utf8(altered).unwrap(),
        json!({"city": "Cali", "country": "Colombia"}),
    )
    .await;
    forged.expect_error(401, "unauthorized");
    let (created, (refresh, signup_after)) =
        complete(signup, json!({"city": "Cali", "country": "Colombia"})).await;
    assert_eq!(
        signup_after.as_deref(),
        Some(""),
        "the account exists: the sign-up cookie is ended"
    );
    let token = created.expect_json(201);
    let profile = me(&api, token["access_token"].as_str().unwrap())
        .await
        .expect_json(200);
    assert_eq!(
        (
            &profile["email"],
            &profile["first_name"],
            &profile["last_name"],
            &profile["city"]
        ),
        (
            &json!(VERIFIED_EMAIL),
            &json!("Ana"),
            &json!("Pérez"),
            &json!("Cali")
        )
    );
    assert!(refresh.is_some(), "signed in with a session");
    assert_eq!(profile["email_verified"], true);
    // The account has no password to log in with.
    api.login(VERIFIED_EMAIL, PASSWORD)
        .await
        .expect_error(401, "invalid_credentials");

    // Next visit: straight in, the same account.
    let again = log_in(&api, &provider, VERIFIED_ACCOUNT).await;
    assert_eq!(
        (again.status().as_u16(), location(&again)),
        (302, "/?signed_in=1".to_owned())
    );
    let refresh = cookie(&again, "anb_refresh").expect("a session");
    let access = access_from(&api, &refresh).await;
    let same = me(&api, &access).await.expect_json(200);
    assert_eq!(same["user_id"], profile["user_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_nonce_and_email_are_checked_and_a_failed_login_signs_nobody_in() {
    let provider = provider(false).await;
    let anb = start_anb(&provider);
    let api = Api::new(anb.base_url());
    let refused = |reply: &reqwest::Response, why: &str| {
        assert_eq!(reply.status(), 303, "{why}");
        assert_eq!(location(reply), format!("/entrar?oidc_error={why}"));
        assert!(
            reply.headers().get(SET_COOKIE).is_none(),
            "no cookie on a refusal"
        );
    };

    // A state that is not the login's.
    let (authorize, note) = start(&api).await;
    let back = provider.log_in(&authorize, VERIFIED_ACCOUNT).await.unwrap();
    let forged = back
        .url
        .replace(&format!("state={}", back.state), "state=forged");
    refused(&come_back(&forged, &note).await, "refused");
    // Another login's cookie (its state and nonce): refused, and the code is not redeemed
    // for it.
    let (first, first_note) = start(&api).await;
    let (_, second_note) = start(&api).await;
    let back = provider.log_in(&first, VERIFIED_ACCOUNT).await.unwrap();
    refused(&come_back(&back.url, &second_note).await, "refused");
    // No cookie at all, an altered one, the provider's own error.
    let (authorize, note) = start(&api).await;
    let back = provider.log_in(&authorize, VERIFIED_ACCOUNT).await.unwrap();
    let reply = browser().get(&back.url).send().await.unwrap();
    refused(&reply, "refused");
    refused(&come_back(&back.url, &format!("{note}x")).await, "refused");
    let denied = browser()
        .get(api.url("/api/auth/oidc/callback?error=access_denied&state=x"))
        .send()
        .await
        .unwrap();
    refused(&denied, "cancelled");
    let _ = first_note;

    // An identity whose email the provider did not verify gets no account.
    refused(
        &log_in(&api, &provider, UNVERIFIED_ACCOUNT).await,
        "email_not_verified",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_id_token_is_refused() {
    let provider = provider(true).await;
    let anb = start_anb(&provider);
    let api = Api::new(anb.base_url());
    let back = log_in(&api, &provider, VERIFIED_ACCOUNT).await;
    assert_eq!(back.status(), 303);
    assert_eq!(location(&back), "/entrar?oidc_error=refused");
    assert!(back.headers().get(SET_COOKIE).is_none());
    assert!(
        provider.tampered_tokens() >= 1,
        "the token was altered on its way"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_with_the_same_verified_email_is_linked() {
    let provider = provider(false).await;
    let anb = start_anb(&provider);
    let api = Api::new(anb.base_url());
    let created = api
        .signup(&signup_body("Ana", "Pérez", VERIFIED_EMAIL, "Tunja"))
        .await
        .expect_json(201);
    let back = log_in(&api, &provider, VERIFIED_ACCOUNT).await;
    assert_eq!(
        (back.status().as_u16(), location(&back)),
        (302, "/?signed_in=1".to_owned())
    );
    let access = access_from(&api, &cookie(&back, "anb_refresh").unwrap()).await;
    let profile = me(&api, &access).await.expect_json(200);
    assert_eq!(profile["user_id"], created["user_id"]);
    assert_eq!(profile["email_verified"], true, "the provider verified it");
    // The account's email had never been verified: the password someone set for it before
    // the real owner came through the provider is dropped (no hijack by an account made
    // ahead).
    api.login(VERIFIED_EMAIL, PASSWORD)
        .await
        .expect_error(401, "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_provider_the_oidc_operations_are_not_found() {
    let anb = tokio::task::block_in_place(|| Launch::serve().start());
    let api = Api::new(anb.base_url());
    assert_eq!(
        api.get("/api/auth/providers").await.expect_json(200),
        json!([])
    );
    let start = browser()
        .get(api.url("/api/auth/oidc/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 404);
    api.get("/api/auth/oidc/callback?code=x&state=y")
        .await
        .expect_error(404, "not_found");
}
