//! Checks for [`ShareRepository`](anb_domain::ports::ShareRepository) and the player
//! directory: shares are idempotent, listed both ways and go with their video; links are
//! stored, listed and revoked once.

use anb_domain::ports::ShareError;
use anb_domain::sharing::ShareLink;
use anb_domain::user::PlayerSummary;
use anb_domain::{PageRequest, PersonName, ShareLinkId, UserId, VideoId};
use chrono::Duration;

use super::repositories::{a_city, colombia, new_user, now, player, processed, Repositories};
use crate::testkit::unique;

/// Sharing twice keeps the first share; both directions list it; unsharing removes it once.
pub async fn a_share_is_made_once_listed_both_ways_and_removed_once(r: Repositories) {
    let owner = player(&r).await;
    let fan = player(&r).await;
    let video = processed(&r, owner.id, false).await;
    let at = now();
    let (share, new) = r.shares.share(video.id, fan.id, at).await.unwrap();
    assert!(new);
    assert_eq!(share.recipient, PlayerSummary::from(&fan));
    let (again, new) = r
        .shares
        .share(video.id, fan.id, at + Duration::seconds(5))
        .await
        .unwrap();
    assert!(!new);
    assert_eq!(again.shared_at, share.shared_at);
    let of = r
        .shares
        .shares_of(video.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!((of.items, of.total), (vec![share.clone()], 1));
    let with = r
        .shares
        .shared_with(fan.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(with.total, 1);
    assert_eq!(with.items[0].video, video);
    assert_eq!(with.items[0].owner, PlayerSummary::from(&owner));
    assert!(r
        .shares
        .shared_since(video.id, fan.id)
        .await
        .unwrap()
        .is_some());
    assert!(r
        .shares
        .shared_since(video.id, owner.id)
        .await
        .unwrap()
        .is_none());
    assert!(r.shares.unshare(video.id, fan.id).await.unwrap());
    assert!(!r.shares.unshare(video.id, fan.id).await.unwrap());
    assert!(r
        .shares
        .shared_since(video.id, fan.id)
        .await
        .unwrap()
        .is_none());
}

/// Sharing with a missing player or a missing video is refused as such.
pub async fn sharing_with_a_missing_player_or_a_missing_video_is_refused(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, false).await;
    assert!(matches!(
        r.shares.share(video.id, UserId::new(), now()).await,
        Err(ShareError::NoSuchRecipient)
    ));
    assert!(matches!(
        r.shares.share(VideoId::new(), owner.id, now()).await,
        Err(ShareError::NoSuchVideo)
    ));
}

/// Videos shared with a player are listed most recently shared first, in pages.
pub async fn videos_shared_with_a_player_are_paged_most_recent_first(r: Repositories) {
    let owner = player(&r).await;
    let fan = player(&r).await;
    let start = now();
    let mut videos = Vec::new();
    for i in 0..3 {
        let video = processed(&r, owner.id, false).await;
        r.shares
            .share(video.id, fan.id, start + Duration::seconds(i))
            .await
            .unwrap();
        videos.push(video.id);
    }
    let first = r
        .shares
        .shared_with(fan.id, PageRequest::new(Some(1), Some(2)).unwrap())
        .await
        .unwrap();
    let second = r
        .shares
        .shared_with(fan.id, PageRequest::new(Some(2), Some(2)).unwrap())
        .await
        .unwrap();
    let ids: Vec<VideoId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|s| s.video.id)
        .collect();
    videos.reverse();
    assert_eq!(ids, videos);
    assert_eq!((first.total, second.total), (3, 3));
}

/// A link reads back as stored, is listed until revoked, and is revoked only once and only
/// through its own video.
pub async fn a_share_link_is_stored_listed_and_revoked_once(r: Repositories) {
    let owner = player(&r).await;
    let video = processed(&r, owner.id, false).await;
    let other = processed(&r, owner.id, false).await;
    let created_at = now();
    let link = ShareLink {
        id: ShareLinkId::new(),
        video_id: video.id,
        created_at,
        expires_at: created_at + Duration::hours(1),
        revoked_at: None,
    };
    r.shares.create_link(&link).await.unwrap();
    let read = r.shares.link(link.id).await.unwrap().unwrap();
    assert_eq!(
        (read.id, read.video_id, read.revoked_at),
        (link.id, video.id, None)
    );
    assert_eq!(read.expires_at.timestamp(), link.expires_at.timestamp());
    assert_eq!(r.shares.links_of(video.id).await.unwrap().len(), 1);
    assert!(r.shares.links_of(other.id).await.unwrap().is_empty());
    assert!(!r
        .shares
        .revoke_link(other.id, link.id, now())
        .await
        .unwrap());
    assert!(r
        .shares
        .revoke_link(video.id, link.id, now())
        .await
        .unwrap());
    assert!(!r
        .shares
        .revoke_link(video.id, link.id, now())
        .await
        .unwrap());
    assert!(r
        .shares
        .link(link.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(r.shares.links_of(video.id).await.unwrap().is_empty());
    assert_eq!(r.shares.link(ShareLinkId::new()).await.unwrap(), None);
}

/// Deleting a video deletes its shares and links.
pub async fn deleting_a_video_deletes_its_shares_and_links(r: Repositories) {
    let owner = player(&r).await;
    let fan = player(&r).await;
    let video = processed(&r, owner.id, false).await;
    r.shares.share(video.id, fan.id, now()).await.unwrap();
    let link = ShareLink {
        id: ShareLinkId::new(),
        video_id: video.id,
        created_at: now(),
        expires_at: now() + Duration::hours(1),
        revoked_at: None,
    };
    r.shares.create_link(&link).await.unwrap();
    r.videos.delete(video.id, chrono::Utc::now()).await.unwrap();
    assert!(r
        .shares
        .shared_since(video.id, fan.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        r.shares
            .shared_with(fan.id, PageRequest::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(r.shares.link(link.id).await.unwrap(), None);
}

/// The directory finds players by any part of their name ignoring case (also beyond ASCII),
/// in name order, in pages; `%` in a search is taken literally.
pub async fn the_directory_finds_players_by_part_of_their_name_in_name_order(r: Repositories) {
    let tag = unique("dir");
    let named = |first: &str, last: &str| {
        let mut user = new_user(&a_city(), &colombia());
        user.first_name = PersonName::parse("first_name", first).unwrap();
        user.last_name = PersonName::parse("last_name", &format!("{last} {tag}")).unwrap();
        user
    };
    let nandu = r.users.create(named("Ñandú", "Zeta")).await.unwrap();
    let ana = r.users.create(named("ana", "Beta")).await.unwrap();
    let search = |q: String, page: PageRequest| {
        let r = r.clone();
        async move { r.users.directory(&q, page).await.unwrap() }
    };
    let both = search(tag.to_lowercase(), PageRequest::default()).await;
    assert_eq!(
        (both.items, both.total),
        (
            vec![PlayerSummary::from(&ana), PlayerSummary::from(&nandu)],
            2
        )
    );
    let second = search(
        tag.to_lowercase(),
        PageRequest::new(Some(2), Some(1)).unwrap(),
    )
    .await;
    assert_eq!(
        (second.items, second.total),
        (vec![PlayerSummary::from(&nandu)], 2)
    );
    let accented = search(
        format!("ÑANDÚ ZETA {tag}").to_lowercase(),
        PageRequest::default(),
    )
    .await;
    assert_eq!(accented.items, vec![PlayerSummary::from(&nandu)]);
    assert_eq!(
        search(format!("%{tag}"), PageRequest::default())
            .await
            .total,
        0
    );
    assert_eq!(
        search(unique("nobody"), PageRequest::default()).await.total,
        0
    );
}

/// An identity links to one account: found by it afterwards; linking it again (to the same or
/// another account) keeps the first link.
pub async fn an_external_identity_links_to_one_account(r: Repositories) {
    let ana = player(&r).await;
    let ben = player(&r).await;
    let subject = unique("sub");
    let issuer = "https://id.example";
    assert_eq!(
        r.users.find_by_identity(issuer, &subject).await.unwrap(),
        None
    );
    assert_eq!(
        r.users
            .link_identity(ana.id, issuer, &subject, now())
            .await
            .unwrap(),
        ana.id
    );
    assert_eq!(
        r.users
            .link_identity(ana.id, issuer, &subject, now())
            .await
            .unwrap(),
        ana.id
    );
    assert_eq!(
        r.users
            .link_identity(ben.id, issuer, &subject, now())
            .await
            .unwrap(),
        ana.id,
        "an identity belongs to one account"
    );
    assert_eq!(
        r.users
            .find_by_identity(issuer, &subject)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ana.id)
    );
    assert_eq!(
        r.users
            .find_by_identity("https://other.example", &subject)
            .await
            .unwrap(),
        None
    );
}
