//! Checks for the account upkeep methods of
//! [`UserRepository`](anb_domain::ports::UserRepository): verified emails, password changes,
//! and one-time email tokens (consumed once, also when consumptions race; expired, used or
//! minted for something else: refused).

use anb_domain::session::SecretDigest;
use anb_domain::user::EmailPurpose;
use anb_domain::{PasswordHash, UserId};
use chrono::Duration;

use super::repositories::{now, player, Repositories};
use crate::testkit::unique;

fn digest() -> SecretDigest {
    SecretDigest::new(unique("email-token"))
}

/// A new player with a stored token for `purpose`, valid for an hour.
async fn token_for(r: &Repositories, purpose: EmailPurpose) -> (UserId, SecretDigest) {
    let user = player(r).await.id;
    let token = digest();
    r.users
        .store_email_token(&token, user, purpose, now(), now() + Duration::hours(1))
        .await
        .unwrap();
    (user, token)
}

/// A new account is unverified; marking it verified is read back and a second mark keeps
/// the first time; a missing account is `false`.
pub async fn an_email_is_marked_verified_once_and_read_back(r: Repositories) {
    let user = player(&r).await;
    assert_eq!(user.email_verified_at, None);
    assert_eq!(
        r.users
            .get(user.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at,
        None
    );
    let first = now();
    assert!(r.users.mark_email_verified(user.id, first).await.unwrap());
    assert!(r
        .users
        .mark_email_verified(user.id, first + Duration::hours(1))
        .await
        .unwrap());
    let read = r.users.get(user.id).await.unwrap().unwrap();
    assert_eq!(read.email_verified_at, Some(first));
    let by_email = r.users.find_by_email(&user.email).await.unwrap().unwrap();
    assert_eq!(by_email.email_verified_at, Some(first));
    assert!(!r
        .users
        .mark_email_verified(UserId::new(), first)
        .await
        .unwrap());
}

/// A new password hash replaces the old one; a missing account is `false`.
pub async fn a_password_hash_is_replaced(r: Repositories) {
    let user = player(&r).await;
    let next = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3LWhhc2g");
    assert!(r.users.set_password_hash(user.id, &next).await.unwrap());
    assert_eq!(
        r.users.get(user.id).await.unwrap().unwrap().password_hash,
        next
    );
    assert!(!r
        .users
        .set_password_hash(UserId::new(), &next)
        .await
        .unwrap());
}

/// A token is consumed once, for its own purpose only; an unknown one is refused.
pub async fn an_email_token_is_consumed_once_and_only_for_its_purpose(r: Repositories) {
    let (user, token) = token_for(&r, EmailPurpose::ResetPassword).await;
    let consume = |purpose| {
        let (r, token) = (r.clone(), token.clone());
        async move {
            r.users
                .consume_email_token(&token, purpose, now())
                .await
                .unwrap()
        }
    };
    assert_eq!(consume(EmailPurpose::VerifyEmail).await, None);
    assert_eq!(consume(EmailPurpose::ResetPassword).await, Some(user));
    assert_eq!(consume(EmailPurpose::ResetPassword).await, None);
    assert_eq!(
        r.users
            .consume_email_token(&digest(), EmailPurpose::ResetPassword, now())
            .await
            .unwrap(),
        None
    );
}

/// A token is refused from its expiry on, and was good until then.
pub async fn an_expired_email_token_is_refused(r: Repositories) {
    let (user, token) = token_for(&r, EmailPurpose::VerifyEmail).await;
    let at = |offset: Duration| {
        let (r, token) = (r.clone(), token.clone());
        async move {
            r.users
                .consume_email_token(&token, EmailPurpose::VerifyEmail, now() + offset)
                .await
                .unwrap()
        }
    };
    assert_eq!(at(Duration::hours(1)).await, None);
    assert_eq!(at(Duration::hours(2)).await, None);
    assert_eq!(at(Duration::minutes(59)).await, Some(user));
}

/// Of many concurrent consumptions of one token exactly one gets its user.
pub async fn concurrent_consumptions_of_one_email_token_succeed_exactly_once(r: Repositories) {
    let (user, token) = token_for(&r, EmailPurpose::VerifyEmail).await;
    let outcomes = futures::future::join_all((0..16).map(|_| {
        let (r, token) = (r.clone(), token.clone());
        async move {
            r.users
                .consume_email_token(&token, EmailPurpose::VerifyEmail, now())
                .await
                .unwrap()
        }
    }))
    .await;
    let won: Vec<_> = outcomes.iter().flatten().collect();
    assert_eq!(won, vec![&user], "{outcomes:?}");
}

/// Tokens of different players and purposes do not interfere.
pub async fn tokens_of_other_players_are_untouched(r: Repositories) {
    let (ana, ana_token) = token_for(&r, EmailPurpose::VerifyEmail).await;
    let (ben, ben_token) = token_for(&r, EmailPurpose::VerifyEmail).await;
    let consume = |token: SecretDigest| {
        let r = r.clone();
        async move {
            r.users
                .consume_email_token(&token, EmailPurpose::VerifyEmail, now())
                .await
                .unwrap()
        }
    };
    assert_eq!(consume(ben_token).await, Some(ben));
    assert_eq!(consume(ana_token).await, Some(ana));
}
