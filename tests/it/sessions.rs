//! Sessions over HTTP on the real binary: the refresh cookie, rotation, a reused refresh token
//! ending its family, logging out (here and everywhere), access tokens expiring.

use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::Method;

use crate::support::app::Launch;
use crate::support::client::{Api, Reply, PASSWORD};

/// The refresh token a reply's `Set-Cookie` stores, checking the cookie's attributes (`None`
/// when it clears the cookie).
fn refresh_cookie(reply: &Reply) -> Option<String> {
    let cookie = reply
        .header(SET_COOKIE.as_str())
        .expect("a Set-Cookie header");
    for attribute in ["Path=/api/auth", "HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let value = cookie
        .strip_prefix("anb_refresh=")
        .and_then(|rest| rest.split(';').next())
        .expect("the anb_refresh cookie");
    if value.is_empty() {
        assert!(cookie.contains("Max-Age=0"), "{cookie}");
        None
    } else {
        Some(value.to_owned())
    }
}

/// Logs in; the access token and the refresh token.
async fn login(api: &Api, email: &str) -> (String, String) {
    let reply = api.login(email, PASSWORD).await;
    let body = reply.expect_json(200);
    let refresh = refresh_cookie(&reply).expect("a refresh token");
    (body["access_token"].as_str().unwrap().to_owned(), refresh)
}

async fn refresh(api: &Api, token: &str) -> Reply {
    api.send(
        api.request(Method::POST, "/api/auth/refresh")
            .header(COOKIE, format!("anb_refresh={token}")),
    )
    .await
}

async fn me(api: &Api, access: &str) -> Reply {
    api.send(api.request(Method::GET, "/api/auth/me").bearer_auth(access))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_its_family() {
    let anb = tokio::task::block_in_place(|| Launch::serve().start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Rota", "Neiva").await;
    let (_, first) = login(&api, &ana.email).await;

    let rotated = refresh(&api, &first).await;
    let body = rotated.expect_json(200);
    assert_eq!(body["token_type"], "Bearer");
    let second = refresh_cookie(&rotated).expect("the next refresh token");
    assert_ne!(second, first);
    let profile = me(&api, body["access_token"].as_str().unwrap())
        .await
        .expect_json(200);
    assert_eq!(profile["user_id"], ana.user_id.as_str());

    // The first token again: refused, and the family with it (the current token too).
    let reused = refresh(&api, &first).await;
    reused.expect_error(401, "unauthorized");
    assert_eq!(refresh_cookie(&reused), None, "the cookie is cleared");
    refresh(&api, &second)
        .await
        .expect_error(401, "unauthorized");

    // No cookie, or a made-up one: 401 too.
    api.send(api.request(Method::POST, "/api/auth/refresh"))
        .await
        .expect_error(401, "unauthorized");
    refresh(&api, "0123")
        .await
        .expect_error(401, "unauthorized");
    // Another session of the same player lives on.
    let (_, other) = login(&api, &ana.email).await;
    refresh(&api, &other).await.expect_json(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_makes_the_refresh_token_useless_and_logout_all_ends_every_session() {
    let anb = tokio::task::block_in_place(|| Launch::serve().start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Sale", "Yopal").await;

    let (_, here) = login(&api, &ana.email).await;
    let out = api
        .send(
            api.request(Method::POST, "/api/auth/logout")
                .header(COOKIE, format!("anb_refresh={here}")),
        )
        .await;
    assert_eq!(out.status, 204, "{out:?}");
    assert_eq!(refresh_cookie(&out), None);
    refresh(&api, &here).await.expect_error(401, "unauthorized");
    // Logging out again, or without a cookie, is still 204.
    let again = api
        .send(api.request(Method::POST, "/api/auth/logout"))
        .await;
    assert_eq!(again.status, 204);

    let (access, phone) = login(&api, &ana.email).await;
    let (_, laptop) = login(&api, &ana.email).await;
    api.send(api.request(Method::POST, "/api/auth/logout-all"))
        .await
        .expect_error(401, "unauthorized");
    let everywhere = api
        .send(
            api.request(Method::POST, "/api/auth/logout-all")
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(everywhere.status, 204, "{everywhere:?}");
    refresh(&api, &phone)
        .await
        .expect_error(401, "unauthorized");
    refresh(&api, &laptop)
        .await
        .expect_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_expires_and_the_refresh_token_gets_a_new_one() {
    let anb = tokio::task::block_in_place(|| {
        Launch::serve()
            .env("ANB_ACCESS_TOKEN_TTL_SECONDS", "1")
            .start()
    });
    let api = Api::new(anb.base_url());
    let email = crate::support::client::unique_email("exp");
    api.signup(&crate::support::client::signup_body(
        "Eva", "Pira", &email, "Leticia",
    ))
    .await
    .expect_json(201);
    let reply = api.login(&email, PASSWORD).await;
    let body = reply.expect_json(200);
    assert_eq!(body["expires_in"], 1);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh_token = refresh_cookie(&reply).unwrap();
    me(&api, &access).await.expect_json(200);
    // Past its second (whole seconds, no leeway).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    me(&api, &access).await.expect_error(401, "unauthorized");
    let renewed = refresh(&api, &refresh_token).await.expect_json(200);
    me(&api, renewed["access_token"].as_str().unwrap())
        .await
        .expect_json(200);
}
