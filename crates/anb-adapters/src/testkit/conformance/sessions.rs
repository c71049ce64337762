//! Checks for [`SessionRepository`](anb_domain::ports::SessionRepository): rotation, reuse
//! ending the session (also when two rotations race), expiry, logout and logout everywhere.

use anb_domain::session::{Rotation, SecretDigest, SessionEnd};
use anb_domain::{SessionId, UserId};
use chrono::Duration;

use super::repositories::{now, player, Repositories};
use crate::testkit::unique;

fn digest() -> SecretDigest {
    SecretDigest::new(unique("digest"))
}

/// A new player with a session whose first token is returned.
async fn signed_in(r: &Repositories) -> (UserId, SessionId, SecretDigest) {
    let user = player(r).await.id;
    let session = SessionId::new();
    let first = digest();
    r.sessions
        .open(session, user, &first, now(), now() + Duration::days(30))
        .await
        .unwrap();
    (user, session, first)
}

async fn rotate(r: &Repositories, presented: &SecretDigest, next: &SecretDigest) -> Rotation {
    r.sessions
        .rotate(presented, next, now(), now() + Duration::days(30))
        .await
        .unwrap()
}

/// Each rotation uses up the presented token and makes the next one the session's current.
pub async fn a_rotation_replaces_the_token_and_the_next_one_rotates_in_turn(r: Repositories) {
    let (user, session, first) = signed_in(&r).await;
    let second = digest();
    assert_eq!(
        rotate(&r, &first, &second).await,
        Rotation::Rotated { session, user }
    );
    let third = digest();
    assert_eq!(
        rotate(&r, &second, &third).await,
        Rotation::Rotated { session, user }
    );
    assert_eq!(rotate(&r, &digest(), &digest()).await, Rotation::Refused);
}

/// Presenting a replaced token again ends the session: the current token is refused after.
pub async fn a_replaced_token_presented_again_ends_its_whole_session(r: Repositories) {
    let (user, session, first) = signed_in(&r).await;
    let second = digest();
    rotate(&r, &first, &second).await;
    assert_eq!(
        rotate(&r, &first, &digest()).await,
        Rotation::Reused { session, user }
    );
    assert_eq!(rotate(&r, &second, &digest()).await, Rotation::Refused);
    assert_eq!(rotate(&r, &first, &digest()).await, Rotation::Refused);
}

/// Of many concurrent rotations of one token exactly one rotates; the others see reuse (or,
/// once the session is ended, a refusal).
pub async fn concurrent_rotations_of_one_token_rotate_exactly_once(r: Repositories) {
    let (_, _, first) = signed_in(&r).await;
    let outcomes = futures::future::join_all((0..8).map(|_| {
        let r = r.clone();
        let first = first.clone();
        async move { rotate(&r, &first, &digest()).await }
    }))
    .await;
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, Rotation::Rotated { .. }))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Rotation::Reused { .. })),
        "{outcomes:?}"
    );
}

/// An expired token is refused without ending the session.
pub async fn an_expired_token_is_refused(r: Repositories) {
    let user = player(&r).await.id;
    let session = SessionId::new();
    let first = digest();
    r.sessions
        .open(
            session,
            user,
            &first,
            now() - Duration::days(31),
            now() - Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(rotate(&r, &first, &digest()).await, Rotation::Refused);
}

/// Logging out with any token of a session ends it once; other sessions live on.
pub async fn ending_a_session_refuses_its_tokens_and_spares_the_others(r: Repositories) {
    let (user, session, first) = signed_in(&r).await;
    let other = SessionId::new();
    let other_first = digest();
    r.sessions
        .open(other, user, &other_first, now(), now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        r.sessions
            .end(&first, SessionEnd::Logout, now())
            .await
            .unwrap(),
        Some(session)
    );
    assert_eq!(
        r.sessions
            .end(&first, SessionEnd::Logout, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        r.sessions
            .end(&digest(), SessionEnd::Logout, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(rotate(&r, &first, &digest()).await, Rotation::Refused);
    assert!(matches!(
        rotate(&r, &other_first, &digest()).await,
        Rotation::Rotated { session, .. } if session == other
    ));
}

/// Logging out everywhere ends every live session of the user and no one else's.
pub async fn ending_every_session_of_a_user_spares_other_users(r: Repositories) {
    let (user, _, first) = signed_in(&r).await;
    let second = digest();
    r.sessions
        .open(
            SessionId::new(),
            user,
            &second,
            now(),
            now() + Duration::days(1),
        )
        .await
        .unwrap();
    let (_, _, someone_else) = signed_in(&r).await;
    assert_eq!(
        r.sessions
            .end_all(user, SessionEnd::LogoutAll, now())
            .await
            .unwrap(),
        2
    );
    assert_eq!(rotate(&r, &first, &digest()).await, Rotation::Refused);
    assert_eq!(rotate(&r, &second, &digest()).await, Rotation::Refused);
    assert!(matches!(
        rotate(&r, &someone_else, &digest()).await,
        Rotation::Rotated { .. }
    ));
}
