//! Private sharing over HTTP on the real binary: the player directory (never emails), shares
//! (a recipient streams, a stranger gets 404, revoking ends access at once), share links
//! (anyone watches until revoked; expired or altered links get 403).

use std::collections::BTreeSet;
use std::time::Duration;

use anb_adapters::jwt::{JwtConfig, JwtIssuer};
use anb_adapters::testkit::clips::{self, Clip};
use anb_domain::ports::TokenIssuer as _;
use anb_domain::sharing::Viewer;
use anb_domain::{ShareLinkId, VideoId};
use reqwest::Method;
use serde_json::{json, Value};

use crate::streaming::altered;
use crate::support::app::Launch;
use crate::support::client::{file_part, keys, keys_of, Api, Player, Reply};

/// The service's signing key in these tests (so a test can sign an expired link).
const SECRET: &str = "sharing-test-secret-0123456789abcdef0123456789";

async fn post_json(api: &Api, player: &Player, path: &str, body: Value) -> Reply {
    api.send(api.as_player(player, Method::POST, path).json(&body))
        .await
}

/// Uploads a private two-second clip as `owner` and waits until it is processed.
async fn private_video(api: &Api, owner: &Player) -> String {
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let form = reqwest::multipart::Form::new()
        .part("video_file", file_part(clip, "clip.mp4", "video/mp4"))
        .text("title", "Solo para el entrenador")
        .text("is_public", "false");
    let video_id = api.upload_accepted(owner, form).await;
    api.wait_processed(owner, &video_id).await;
    video_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_video_streams_for_its_recipient_only_until_the_share_is_revoked() {
    let anb = tokio::task::block_in_place(|| Launch::all().start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Comparte", "Ibagué").await;
    let coach = api.player("Carla", "Entrenadora", "Ibagué").await;
    let stranger = api.player("Eve", "Extraña", "Pasto").await;
    let video_id = private_video(&api, &ana).await;

    // Ana finds the coach in the directory: ids, names and cities, never emails.
    let (found, total) = api
        .get_as(&ana, "/api/users?q=ENTRENADORA")
        .await
        .expect_page();
    assert_eq!(total, 1, "{found:?}");
    assert_eq!(keys(&found[0]), keys_of(&["user_id", "username", "city"]));
    assert_eq!(found[0]["user_id"], coach.user_id.as_str());
    let (everyone, _) = api
        .get_as(&ana, "/api/users?page_size=100")
        .await
        .expect_page();
    for entry in &everyone {
        assert!(!entry.to_string().contains('@'), "no email: {entry}");
    }
    api.get("/api/users")
        .await
        .expect_error(401, "unauthorized");
    api.get_as(&ana, &format!("/api/users?q={}", "a".repeat(101)))
        .await
        .expect_error(400, "validation_error");

    let shares = format!("/api/videos/{video_id}/shares");
    let made = post_json(&api, &ana, &shares, json!({"user_id": coach.user_id}))
        .await
        .expect_json(201);
    assert_eq!(made["user_id"], coach.user_id.as_str());
    post_json(&api, &ana, &shares, json!({"user_id": coach.user_id}))
        .await
        .expect_json(200);
    post_json(&api, &ana, &shares, json!({"user_id": ana.user_id}))
        .await
        .expect_error(400, "self_share");
    post_json(
        &api,
        &ana,
        &shares,
        json!({"user_id": uuid::Uuid::new_v4()}),
    )
    .await
    .expect_error(404, "not_found");
    post_json(
        &api,
        &stranger,
        &shares,
        json!({"user_id": stranger.user_id}),
    )
    .await
    .expect_error(403, "forbidden");
    let (listed, total) = api.get_as(&ana, &shares).await.expect_page();
    assert_eq!((listed.len(), total), (1, 1));

    // The coach sees it and streams it; a stranger is told nothing exists.
    let (mine, _) = api
        .get_as(&coach, "/api/shared-with-me")
        .await
        .expect_page();
    assert_eq!(mine[0]["video_id"], video_id.as_str());
    assert_eq!(mine[0]["player"]["username"], "Ana Comparte");
    let detail = api
        .get_as(&coach, &format!("/api/shared-with-me/{video_id}"))
        .await
        .expect_json(200);
    let mp4 = detail["playback"]["mp4_url"].as_str().unwrap().to_owned();
    let master = detail["playback"]["hls_url"].as_str().unwrap().to_owned();
    let thumbnail = detail["playback"]["thumbnail_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let video = api.fetch(&mp4).await;
    assert_eq!(video.status, 200);
    assert_eq!(video.header("content-type"), Some("video/mp4"));
    assert_eq!(api.fetch(&master).await.status, 200);
    assert_eq!(api.fetch(&thumbnail).await.status, 200);
    api.get_as(&stranger, &format!("/api/shared-with-me/{video_id}"))
        .await
        .expect_error(404, "not_found");
    let (none, _) = api
        .get_as(&stranger, "/api/shared-with-me")
        .await
        .expect_page();
    assert!(none.is_empty());
    // Watching is all a share grants: no vote (unpublished), no delete.
    api.post_as(&coach, &format!("/api/public/videos/{video_id}/vote"))
        .await
        .expect_error(400, "not_votable");
    api.delete_as(&coach, &format!("/api/videos/{video_id}"))
        .await
        .expect_error(403, "forbidden");

    // Revoked: the links the coach already holds stop working at once.
    let gone = api
        .delete_as(&ana, &format!("{shares}/{}", coach.user_id))
        .await;
    assert_eq!(gone.status, 204, "{gone:?}");
    api.fetch(&mp4).await.expect_error(403, "access_revoked");
    api.fetch(&master).await.expect_error(403, "access_revoked");
    api.get_as(&coach, &format!("/api/shared-with-me/{video_id}"))
        .await
        .expect_error(404, "not_found");
    api.delete_as(&ana, &format!("{shares}/{}", coach.user_id))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_link_plays_for_anyone_until_revoked_and_expired_or_altered_links_get_403() {
    let anb = tokio::task::block_in_place(|| Launch::all().env("ANB_JWT_SECRET", SECRET).start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Enlace", "Tunja").await;
    let ben = api.player("Ben", "Otro", "Tunja").await;
    let video_id = private_video(&api, &ana).await;
    let links = format!("/api/videos/{video_id}/share-links");

    for bad in [
        json!({"expires_in": 59}),
        json!({"expires_in": 2_592_001}),
        json!({"expires_in": "3600"}),
    ] {
        post_json(&api, &ana, &links, bad)
            .await
            .expect_error(400, "validation_error");
    }
    post_json(&api, &ben, &links, json!({}))
        .await
        .expect_error(403, "forbidden");
    // Absent or null: 7 days.
    let week = post_json(&api, &ana, &links, json!({"expires_in": null}))
        .await
        .expect_json(201);
    let made_at: chrono::DateTime<chrono::Utc> =
        week["created_at"].as_str().unwrap().parse().unwrap();
    let until: chrono::DateTime<chrono::Utc> =
        week["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        ((until - made_at).num_seconds() - 7 * 24 * 3600).abs() <= 1,
        "{week}"
    );
    let link = post_json(&api, &ana, &links, json!({"expires_in": 3600}))
        .await
        .expect_json(201);
    assert_eq!(
        keys(&link),
        keys_of(&[
            "link_id",
            "video_id",
            "url",
            "api_url",
            "created_at",
            "expires_at"
        ])
    );
    let api_url = link["api_url"].as_str().unwrap().to_owned();
    assert!(
        link["url"].as_str().unwrap().starts_with("/shared/"),
        "{link}"
    );

    // Anyone, no bearer: the video, its player, and links that play.
    let opened = api.get(&api_url).await.expect_json(200);
    assert_eq!(opened["video_id"], video_id.as_str());
    assert_eq!(opened["player"]["username"], "Ana Enlace");
    let mp4 = opened["playback"]["mp4_url"].as_str().unwrap().to_owned();
    assert_eq!(api.fetch(&mp4).await.status, 200);
    let list = api.get_as(&ana, &links).await.expect_json(200);
    let listed: BTreeSet<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["link_id"].as_str().unwrap().to_owned())
        .collect();
    let made: BTreeSet<String> = [&week, &link]
        .iter()
        .map(|l| l["link_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, made);

    // Altered: 403 signature_invalid. Expired (signed by the service's key a second ago):
    // 403 signature_expired.
    let token = api_url.strip_prefix("/api/share-links/").unwrap();
    let mut bytes = token.to_owned().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    api.get(&format!(
        "/api/share-links/{}",
        String::from_utf8(bytes).unwrap()
    ))
    .await
    .expect_error(403, "signature_invalid");
    api.fetch(&altered(&mp4))
        .await
        .expect_error(403, "signature_invalid");
    let link_id: ShareLinkId = link["link_id"].as_str().unwrap().parse().unwrap();
    let video: VideoId = video_id.parse().unwrap();
    let expired = JwtIssuer::new(SECRET.as_bytes(), JwtConfig::default())
        .unwrap()
        .issue_playback(video, Viewer::Link(link_id), Duration::from_secs(1))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    api.get(&format!("/api/share-links/{}", expired.token))
        .await
        .expect_error(403, "signature_expired");

    // Revoked: the page and the playback links it gave are refused.
    let revoked = api
        .delete_as(
            &ana,
            &format!("{links}/{}", link["link_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(revoked.status, 204, "{revoked:?}");
    api.get(&api_url).await.expect_error(403, "access_revoked");
    api.fetch(&mp4).await.expect_error(403, "access_revoked");
    let list = api.get_as(&ana, &links).await.expect_json(200);
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the week-long link is left"
    );
}
