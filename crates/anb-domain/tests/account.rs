//! Verified email and password reset, through the `Showcase` service on the in-memory adapters
//! (the mailer keeps what it sends; the clock is the test's).

use std::sync::Arc;
use std::time::Duration;

use anb_adapters::memory::MemoryBackend;
use anb_adapters::testkit::{ManualClock, MarkerTranscoder};
use anb_domain::mail::MailMessage;
use anb_domain::*;

struct World {
    backend: MemoryBackend,
    clock: Arc<ManualClock>,
    showcase: Showcase,
}

fn world() -> World {
    let clock = ManualClock::new();
    let backend = MemoryBackend::with_clock(clock.clone());
    let config = ShowcaseConfig {
        public_url: "https://anb.example/".into(),
        ..ShowcaseConfig::default()
    };
    let showcase = Showcase::new(backend.ports(Arc::new(MarkerTranscoder)), config);
    World {
        backend,
        clock,
        showcase,
    }
}

/// Signs up a player and mails them a verification link (as the REST service does).
async fn signup(w: &World, email: &str) -> User {
    let user = w
        .showcase
        .signup(SignupForm {
            first_name: "Ana".into(),
            last_name: "Rojas".into(),
            email: email.into(),
            password1: "tiro-libre-23".into(),
            password2: "tiro-libre-23".into(),
            city: "Cali".into(),
            country: "Colombia".into(),
        })
        .await
        .unwrap();
    assert!(w.showcase.send_verification(user.id).await.unwrap());
    user
}

/// The token of the last message's link to `route`.
fn last_token(w: &World, route: &str) -> (MailMessage, String) {
    let message = w.backend.mailer.messages().pop().expect("a message");
    let prefix = format!("https://anb.example/{route}?token=");
    let start = message.text.find(&prefix).expect("the link") + prefix.len();
    let token = message.text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    (message, token)
}

#[tokio::test]
async fn the_verification_mail_has_a_link_that_verifies_the_email_once() {
    let w = world();
    let ana = signup(&w, "ana@example.com").await;
    assert_eq!(ana.email_verified_at, None);
    let (message, token) = last_token(&w, "verify-email");
    assert_eq!(message.to.as_str(), "ana@example.com");

    assert_eq!(w.showcase.verify_email(&token).await.unwrap(), ana.id);
    let profile = w.showcase.profile(ana.id).await.unwrap();
    assert!(profile.email_verified_at.is_some());
    assert!(matches!(
        w.showcase.verify_email(&token).await,
        Err(VerifyEmailError::InvalidToken)
    ));
    // Verified: asking again sends nothing.
    let sent = w.backend.mailer.messages().len();
    assert!(!w.showcase.send_verification(ana.id).await.unwrap());
    assert_eq!(w.backend.mailer.messages().len(), sent);
}

#[tokio::test]
async fn a_verification_link_expires_after_a_day() {
    let w = world();
    signup(&w, "ana@example.com").await;
    let (_, token) = last_token(&w, "verify-email");
    w.clock.advance(Duration::from_secs(24 * 3600));
    assert!(matches!(
        w.showcase.verify_email(&token).await,
        Err(VerifyEmailError::InvalidToken)
    ));
}

#[tokio::test]
async fn a_reset_sets_the_password_once_ends_every_session_and_expires_after_an_hour() {
    let w = world();
    let ana = signup(&w, "ana@example.com").await;
    let session = w.showcase.start_session(ana.id).await.unwrap();

    w.showcase
        .request_password_reset("ANA@example.com")
        .await
        .unwrap();
    let (_, token) = last_token(&w, "reset-password");
    assert!(matches!(
        w.showcase
            .reset_password(&token, "nueva-clave-1", "otra-clave-2")
            .await,
        Err(ResetPasswordError::PasswordMismatch)
    ));
    assert!(matches!(
        w.showcase.reset_password(&token, "corta", "corta").await,
        Err(ResetPasswordError::WeakPassword(_))
    ));
    assert_eq!(
        w.showcase
            .reset_password(&token, "nueva-clave-1", "nueva-clave-1")
            .await
            .unwrap(),
        ana.id
    );
    assert!(matches!(
        w.showcase
            .reset_password(&token, "otra-clave-9", "otra-clave-9")
            .await,
        Err(ResetPasswordError::InvalidToken)
    ));
    assert!(w
        .showcase
        .login("ana@example.com", "tiro-libre-23")
        .await
        .is_err());
    assert!(w
        .showcase
        .login("ana@example.com", "nueva-clave-1")
        .await
        .is_ok());
    assert!(matches!(
        w.showcase.refresh(&session.refresh.token).await,
        Err(RefreshError::Refused)
    ));

    w.showcase
        .request_password_reset("ana@example.com")
        .await
        .unwrap();
    let (_, late) = last_token(&w, "reset-password");
    w.clock.advance(Duration::from_secs(3600));
    assert!(matches!(
        w.showcase
            .reset_password(&late, "tercera-clave", "tercera-clave")
            .await,
        Err(ResetPasswordError::InvalidToken)
    ));
}

#[tokio::test]
async fn a_reset_for_an_unknown_or_malformed_email_sends_nothing() {
    let w = world();
    signup(&w, "ana@example.com").await;
    let sent = w.backend.mailer.messages().len();
    for email in ["nadie@example.com", "not an email", ""] {
        w.showcase.request_password_reset(email).await.unwrap();
    }
    assert_eq!(w.backend.mailer.messages().len(), sent);
}

#[tokio::test]
async fn a_verification_token_does_not_reset_a_password() {
    let w = world();
    signup(&w, "ana@example.com").await;
    let (_, token) = last_token(&w, "verify-email");
    assert!(matches!(
        w.showcase
            .reset_password(&token, "nueva-clave-1", "nueva-clave-1")
            .await,
        Err(ResetPasswordError::InvalidToken)
    ));
    assert!(w.showcase.verify_email(&token).await.is_ok());
}
