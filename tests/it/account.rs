//! Verified email and password reset over HTTP on the real binary with a real SMTP server
//! (aiosmtpd): the verification mail after sign-up and its one-time link, votes refused until
//! the email is verified, the reset mail and its one-time link (the old password and the old
//! refresh token refused after), and a reset for an unknown email answered alike with nothing
//! sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anb_adapters::testkit::clips::{self, Clip};
use anb_adapters::testkit::conformance::mail::{Mailbox as _, ReceivedMail};
use anb_adapters::testkit::smtp_server::SmtpServer;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::Launch;
use crate::support::client::{file_part, signup_body, unique_email, Api, Player, Reply, PASSWORD};
use crate::support::mail::mailed_token;

/// What links in the emails start with in these tests.
const PUBLIC_URL: &str = "https://anb.example";

/// The messages to `email` that have arrived, waiting up to 10 s for at least `count`.
async fn mail_to(server: &SmtpServer, email: &str, count: usize) -> Vec<ReceivedMail> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<ReceivedMail> = server
            .messages()
            .await
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(email)))
            .collect();
        if found.len() >= count || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The token of the link to `route` in `mail`, which starts with the public URL.
fn token_in(mail: &ReceivedMail, route: &str) -> String {
    let token = mailed_token(mail, route);
    let link = format!("{PUBLIC_URL}/{route}?token={token}");
    assert!(mail.text.contains(&link), "{link} in {:?}", mail.text);
    token
}

async fn post(api: &Api, path: &str, body: Value) -> Reply {
    api.send(api.request(Method::POST, path).json(&body)).await
}

async fn me(api: &Api, player: &Player) -> Value {
    api.get_as(player, "/api/auth/me").await.expect_json(200)
}

/// Uploads a public two-second clip as `owner` and waits until it is processed.
async fn public_video(api: &Api, owner: &Player) -> String {
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let form = reqwest::multipart::Form::new()
        .part("video_file", file_part(clip, "clip.mp4", "video/mp4"))
        .text("title", "Triple desde la esquina");
    let video_id = api.upload_accepted(owner, form).await;
    api.wait_processed(owner, &video_id).await;
    video_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signup_mail_verifies_the_email_once_and_only_verified_players_vote() {
    let server = SmtpServer::start().await;
    let anb = tokio::task::block_in_place(|| {
        Launch::all()
            .env("ANB_SMTP_URL", server.url())
            .env("ANB_PUBLIC_URL", PUBLIC_URL)
            .start()
    });
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Anota", "Cali").await;
    let ben = api.player("Ben", "Vota", "Cali").await;
    let video_id = public_video(&api, &ana).await;

    // The sign-up mailed Ben a link; until he opens it, he is unverified and cannot vote
    // (the setting is on by default with an SMTP server).
    let mails = mail_to(&server, &ben.email, 1).await;
    assert_eq!(mails.len(), 1, "one verification mail: {mails:?}");
    assert!(
        mails[0].subject.contains("Verifica"),
        "{}",
        mails[0].subject
    );
    let token = token_in(&mails[0], "verify-email");
    assert_eq!(me(&api, &ben).await["email_verified"], false);
    let vote = format!("/api/public/videos/{video_id}/vote");
    api.post_as(&ben, &vote)
        .await
        .expect_error(403, "email_not_verified");

    // The link verifies once.
    let verified = post(&api, "/api/auth/verify-email", json!({ "token": token }))
        .await
        .expect_json(200);
    assert!(verified["message"].is_string());
    assert_eq!(me(&api, &ben).await["email_verified"], true);
    post(&api, "/api/auth/verify-email", json!({ "token": token }))
        .await
        .expect_error(400, "invalid_token");
    post(
        &api,
        "/api/auth/verify-email",
        json!({ "token": "made-up" }),
    )
    .await
    .expect_error(400, "invalid_token");

    let counted = api.post_as(&ben, &vote).await.expect_json(200);
    assert_eq!(counted["total_votes"], 1);

    // Asking again: a fresh link for Ana, nothing for Ben (already verified).
    let sent = api
        .post_as(&ana, "/api/auth/verify-email/send")
        .await
        .expect_json(202);
    assert!(sent["message"].is_string());
    let ana_mails = mail_to(&server, &ana.email, 2).await;
    assert_eq!(ana_mails.len(), 2);
    api.post_as(&ben, "/api/auth/verify-email/send")
        .await
        .expect_json(202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mail_to(&server, &ben.email, 1).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_mail_sets_a_new_password_once_and_ends_every_session() {
    let server = SmtpServer::start().await;
    let anb = tokio::task::block_in_place(|| {
        Launch::serve()
            .env("ANB_SMTP_URL", server.url())
            .env("ANB_PUBLIC_URL", PUBLIC_URL)
            .start()
    });
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Olvida", "Tunja").await;
    let login = api.login(&ana.email, PASSWORD).await;
    login.expect_json(200);
    let old_refresh = login
        .header(SET_COOKIE.as_str())
        .and_then(|c| c.strip_prefix("anb_refresh="))
        .and_then(|rest| rest.split(';').next())
        .expect("a refresh cookie")
        .to_owned();

    // An unknown email: the same answer, and nothing is sent to anyone.
    assert_eq!(
        mail_to(&server, &ana.email, 1).await.len(),
        1,
        "the verification mail"
    );
    let before = server.messages().await.len();
    let unknown = post(
        &api,
        "/api/auth/password-reset",
        json!({ "email": "nadie-aqui@example.com" }),
    )
    .await
    .expect_json(202);
    let known = post(
        &api,
        "/api/auth/password-reset",
        json!({ "email": ana.email }),
    )
    .await
    .expect_json(202);
    assert_eq!(unknown, known);
    let mails = mail_to(&server, &ana.email, 2).await;
    assert_eq!(mails.len(), 2, "the verification and the reset: {mails:?}");
    assert_eq!(server.messages().await.len(), before + 1);
    let reset = mails
        .iter()
        .find(|m| m.text.contains("/reset-password?token="))
        .expect("the reset mail");
    let token = token_in(reset, "reset-password");

    // The policy applies before the token is used up.
    let confirm = |password1: &str, password2: &str| json!({ "token": token, "password1": password1, "password2": password2 });
    post(
        &api,
        "/api/auth/password-reset/confirm",
        confirm("nueva-clave-1", "otra-clave-2"),
    )
    .await
    .expect_error(400, "password_mismatch");
    post(
        &api,
        "/api/auth/password-reset/confirm",
        confirm("corta", "corta"),
    )
    .await
    .expect_error(400, "weak_password");
    post(
        &api,
        "/api/auth/password-reset/confirm",
        confirm("nueva-clave-1", "nueva-clave-1"),
    )
    .await
    .expect_json(200);
    post(
        &api,
        "/api/auth/password-reset/confirm",
        confirm("otra-clave-9", "otra-clave-9"),
    )
    .await
    .expect_error(400, "invalid_token");

    // The old password and the old session are gone; the new password logs in.
    api.login(&ana.email, PASSWORD)
        .await
        .expect_error(401, "invalid_credentials");
    api.send(
        api.request(Method::POST, "/api/auth/refresh")
            .header(COOKIE, format!("anb_refresh={old_refresh}")),
    )
    .await
    .expect_error(401, "unauthorized");
    api.login(&ana.email, "nueva-clave-1")
        .await
        .expect_json(200);
}

/// A mail server that accepts connections and never says a word: every send to it hangs until
/// the mailer's timeout. Counts the connections it took.
async fn silent_mail_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = taken.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, taken)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_and_a_signup_are_answered_without_waiting_for_the_mail_server() {
    let (url, connections) = silent_mail_server().await;
    let anb = tokio::task::block_in_place(|| {
        Launch::serve()
            .env("ANB_SMTP_URL", url)
            .env("ANB_PUBLIC_URL", PUBLIC_URL)
            .start()
    });
    // Well under the mailer's 10 s timeout: an answer that waited for the mail fails here.
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let signup = quick
        .post(format!("{}/api/auth/signup", anb.base_url()))
        .json(&signup_body("Ana", "Espera", &unique_email("ana"), "Cali"))
        .send()
        .await
        .expect("the sign-up answered before the mail server did");
    assert_eq!(signup.status(), 201);
    let email = unique_email("bea");
    quick
        .post(format!("{}/api/auth/signup", anb.base_url()))
        .json(&signup_body("Bea", "Espera", &email, "Cali"))
        .send()
        .await
        .unwrap();
    let reset = quick
        .post(format!("{}/api/auth/password-reset", anb.base_url()))
        .json(&json!({ "email": email }))
        .send()
        .await
        .expect("the reset answered before the mail server did");
    assert_eq!(reset.status(), 202);
    // The mails are on their way, after the answers: three connections to the server.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while connections.load(Ordering::SeqCst) < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_verification_mail_the_server_refuses_is_a_400() {
    let server = SmtpServer::start_refusing().await;
    let anb = tokio::task::block_in_place(|| {
        Launch::serve()
            .env("ANB_SMTP_URL", server.url())
            .env("ANB_PUBLIC_URL", PUBLIC_URL)
            .start()
    });
    let api = Api::new(anb.base_url());
    // Its local part starts with `refused`: the server answers 550 to it.
    let refused = api.player("Refused", "Rechazo", "Cali").await;
    api.post_as(&refused, "/api/auth/verify-email/send")
        .await
        .expect_error(400, "email_undeliverable");
    let fine = api.player("Carla", "Recibe", "Cali").await;
    api.post_as(&fine, "/api/auth/verify-email/send")
        .await
        .expect_json(202);
}
