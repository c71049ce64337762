//! Adaptive streaming over HTTP: a published video's HLS ladder and storyboard for anyone
//! (content types, caching, Range on segments, playlists that parse), and signed playback
//! links for the owner's videos, public or private, refused when altered or expired.
//! [`check_streaming`] runs inside the course flow on every setup; the rest on the embedded
//! defaults.

use crate::support::app::Launch;
use crate::support::client::{Api, Player, Reply};
use anb_adapters::testkit::clips::{self, Clip};

use std::time::Duration;

use m3u8_rs::{MasterPlaylist, MediaPlaylist};
use reqwest::header::RANGE;
use reqwest::Method;
use url::Url;

/// `relative` resolved against `base` (a path of the service, or an absolute URL), as a
/// player resolves the URIs of a playlist.
pub(crate) fn resolve(base: &str, relative: &str) -> String {
    let root = Url::parse("http://service.invalid").unwrap();
    let absolute = root.join(base).unwrap().join(relative).unwrap();
    if absolute.host_str() == Some("service.invalid") {
        absolute.path().to_owned()
    } else {
        absolute.to_string()
    }
}

pub(crate) fn master(reply: &Reply) -> MasterPlaylist {
    m3u8_rs::parse_master_playlist_res(&reply.body).expect("a valid master playlist")
}

fn media(reply: &Reply) -> MediaPlaylist {
    m3u8_rs::parse_media_playlist_res(&reply.body).expect("a valid media playlist")
}

/// What a player found walking a ladder.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ladder {
    /// Its rungs.
    pub rungs: usize,
    /// Whether the rungs' playlists name their segments by the store's presigned URLs (else
    /// relatively, served by the service).
    pub direct: bool,
}

/// Walks a ladder from `master_url` as a player does: the master, every rung's playlist, each
/// rung's init segment and first media segment (by range), wherever the playlists send it
/// (every segment of a ladder comes from the same place: the service or the store).
pub(crate) async fn walk_ladder(api: &Api, master_url: &str, immutable_rungs: bool) -> Ladder {
    let reply = api.fetch(master_url).await;
    assert_eq!(reply.status, 200, "{master_url}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.apple.mpegurl")
    );
    let master = master(&reply);
    assert!(!master.variants.is_empty());
    let mut direct = Vec::new();
    for variant in &master.variants {
        assert!(variant.bandwidth > 0 && variant.resolution.is_some());
        let rung_url = resolve(master_url, &variant.uri);
        let rung = api.fetch(&rung_url).await;
        assert_eq!(rung.status, 200, "{rung_url}");
        assert_eq!(
            rung.header("content-type"),
            Some("application/vnd.apple.mpegurl")
        );
        let cache = rung.header("cache-control").unwrap_or_default().to_owned();
        if immutable_rungs {
            assert!(cache.contains("immutable"), "a rung never changes: {cache}");
        } else {
            assert!(cache.starts_with("public, max-age="), "{cache}");
        }
        let playlist = media(&rung);
        assert!(playlist.end_list && !playlist.segments.is_empty());
        let uris = playlist
            .segments
            .iter()
            .flat_map(|s| [Some(&s.uri), s.map.as_ref().map(|m| &m.uri)])
            .flatten();
        let presigned: Vec<bool> = uris
            .map(|uri| uri.starts_with("http") && uri.contains("X-Amz-Signature="))
            .collect();
        assert!(
            presigned.iter().all(|&p| p == presigned[0]),
            "every segment from one place: {}",
            String::from_utf8_lossy(&rung.body)
        );
        direct.push(presigned[0]);
        let init_uri = playlist.segments[0]
            .map
            .as_ref()
            .expect("EXT-X-MAP")
            .uri
            .clone();
        let init = api.fetch(&resolve(&rung_url, &init_uri)).await;
        assert_eq!(init.status, 200);
        assert_eq!(init.header("content-type"), Some("video/mp4"));
        assert_eq!(&init.body[4..8], b"ftyp", "an init segment");
        let segment_url = resolve(&rung_url, &playlist.segments[0].uri);
        let whole = api.fetch(&segment_url).await;
        assert_eq!(whole.status, 200);
        let head = api
            .send(
                api.request(Method::GET, &segment_url)
                    .header(RANGE, "bytes=0-9"),
            )
            .await;
        assert_eq!(head.status, 206, "Range on segments");
        assert_eq!(head.body, whole.body.slice(..10));
        assert_eq!(head.header("content-type"), Some("video/mp4"));
        if presigned[0] {
            // The store checks its own signature.
            let at = segment_url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
            let mut forged = segment_url.clone();
            let flipped = if &forged[at..=at] == "0" { "1" } else { "0" };
            forged.replace_range(at..=at, flipped);
            assert_eq!(api.fetch(&forged).await.status, 403, "{forged}");
        }
    }
    assert!(direct.iter().all(|&d| d == direct[0]), "{direct:?}");
    Ladder {
        rungs: master.variants.len(),
        direct: direct[0],
    }
}

/// Whether the store signs its own download URLs (S3): the owner's playback links then
/// carry its presigned MP4.
pub(crate) async fn store_presigns(api: &Api, owner: &Player, video_id: &str) -> bool {
    let links = playback(api, owner, video_id).await;
    links["mp4_url"]
        .as_str()
        .expect("an MP4 link")
        .starts_with("http")
}

/// The storyboard at `cues_url`: WebVTT whose tiles name a JPEG beside it.
async fn check_storyboard(api: &Api, cues_url: &str) {
    let cues = api.fetch(cues_url).await;
    assert_eq!(cues.status, 200, "{cues_url}");
    assert_eq!(cues.header("content-type"), Some("text/vtt"));
    let text = String::from_utf8(cues.body.to_vec()).unwrap();
    assert!(text.starts_with("WEBVTT"), "{text}");
    let tile = text
        .lines()
        .find(|l| l.contains("#xywh="))
        .expect("a tile cue");
    let sprite_url = resolve(cues_url, tile.split('#').next().unwrap());
    let sprite = api.fetch(&sprite_url).await;
    assert_eq!(sprite.status, 200, "{sprite_url}");
    assert_eq!(sprite.header("content-type"), Some("image/jpeg"));
    assert_eq!(&sprite.body[..2], &[0xFF, 0xD8]);
}

/// The playback links `owner` gets for `video_id`.
async fn playback(api: &Api, owner: &Player, video_id: &str) -> serde_json::Value {
    api.get_as(owner, &format!("/api/videos/{video_id}/playback"))
        .await
        .expect_json(200)
}

/// `url` with one character of its token changed.
pub(crate) fn altered(url: &str) -> String {
    let (before, after) = url.split_at("/api/playback/".len() + 20);
    let mut chars = after.chars();
    let first = chars.next().unwrap();
    let swapped = if first == 'A' { 'B' } else { 'A' };
    format!("{before}{swapped}{}", chars.as_str())
}

/// Streaming of the course flow's published video `video_id` (Ana's; Ben is another player):
/// the public ladder and storyboard, then Ana's signed links.
pub async fn check_streaming(api: &Api, ana: &Player, ben: &Player, video_id: &str) {
    let (gallery, _) = api.get("/api/public/videos").await.expect_page();
    let item = gallery
        .iter()
        .find(|item| item["video_id"] == video_id)
        .expect("the published video");
    let master_url = item["hls_url"].as_str().expect("an HLS URL").to_owned();
    assert_eq!(
        master_url,
        format!("/api/public/videos/{video_id}/hls/master.m3u8")
    );
    let master = api
        .send(
            api.request(Method::GET, &master_url)
                .header("accept-encoding", "br, gzip"),
        )
        .await;
    assert_eq!(master.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(
        (
            master.header("content-encoding"),
            master.header("content-length")
        ),
        (None, Some(master.body.len().to_string().as_str())),
        "a file served by range is never compressed: its length and ranges are the file's"
    );
    let public = walk_ladder(api, &master_url, true).await;
    assert!(
        public.rungs >= 1 && !public.direct,
        "a published ladder is served: {public:?}"
    );
    check_storyboard(api, item["storyboard_url"].as_str().expect("a storyboard")).await;
    // A name the pipeline never writes is not found.
    let unknown = master_url.replace("master.m3u8", "abc/720p/../../secret");
    assert_eq!(api.get(&unknown).await.status, 404);

    // Signed links: no bearer header needed; only the owner gets them.
    api.get_as(ben, &format!("/api/videos/{video_id}/playback"))
        .await
        .expect_error(403, "forbidden");
    let links = playback(api, ana, video_id).await;
    let signed_master = links["hls_url"].as_str().expect("a signed HLS URL");
    assert!(signed_master.starts_with("/api/playback/"));
    let presigns = links["mp4_url"].as_str().unwrap().starts_with("http");
    // The web app's pages may fetch media from the store that signs them, and from nowhere
    // else.
    let page = api.fetch("/").await;
    let policy = page.header("content-security-policy").unwrap_or_default();
    let connect = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("connect-src"))
        .unwrap_or_default();
    let expected = if presigns {
        let store = Url::parse(links["mp4_url"].as_str().unwrap()).unwrap();
        format!(
            "connect-src 'self' {}",
            store.origin().ascii_serialization()
        )
    } else {
        "connect-src 'self'".to_owned()
    };
    assert_eq!(connect, expected, "{policy}");
    assert_eq!(
        walk_ladder(api, signed_master, false).await,
        Ladder {
            rungs: public.rungs,
            direct: presigns
        },
        "the owner's segments come straight from a store that signs URLs"
    );
    check_storyboard(api, links["storyboard_url"].as_str().unwrap()).await;
    let mp4 = api.fetch(links["mp4_url"].as_str().unwrap()).await;
    assert_eq!(mp4.status, 200, "{}", links["mp4_url"]);
    assert_eq!(&mp4.body[4..8], b"ftyp");
    let thumbnail = api.fetch(links["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(thumbnail.status, 200);
    assert_eq!(&thumbnail.body[..2], &[0xFF, 0xD8]);
    api.fetch(&altered(signed_master))
        .await
        .expect_error(403, "signature_invalid");

    // A share can be revoked, so its segments always pass through the service.
    let shares = format!("/api/videos/{video_id}/shares");
    api.send(
        api.as_player(ana, Method::POST, &shares)
            .json(&serde_json::json!({"user_id": ben.user_id})),
    )
    .await
    .expect_json(201);
    let shared = api
        .get_as(ben, &format!("/api/shared-with-me/{video_id}"))
        .await
        .expect_json(200);
    let shared_master = shared["playback"]["hls_url"].as_str().expect("an HLS URL");
    let ladder = walk_ladder(api, shared_master, false).await;
    assert!(!ladder.direct, "a shared ladder is served: {ladder:?}");
    let revoked = api
        .delete_as(ana, &format!("{shares}/{}", ben.user_id))
        .await;
    assert_eq!(revoked.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_video_plays_only_through_its_signed_links_until_they_expire() {
    let anb =
        tokio::task::block_in_place(|| Launch::all().env("ANB_PLAYBACK_TTL_SECONDS", "3").start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Díaz", "Cali").await;
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let form = crate::support::client::upload_form(
        crate::support::client::file_part(clip, "clip.mp4", "video/mp4"),
        "Privado",
    )
    .text("is_public", "false");
    let video_id = api.upload_accepted(&ana, form).await;
    let detail = api.wait_processed(&ana, &video_id).await;
    assert_eq!(
        detail["playback_url"],
        format!("/api/videos/{video_id}/playback").as_str()
    );

    // Not published: the public routes do not reveal it.
    for file in ["hls/master.m3u8", "storyboard.vtt", "storyboard.jpg"] {
        api.get(&format!("/api/public/videos/{video_id}/{file}"))
            .await
            .expect_error(404, "not_found");
    }
    let links = playback(&api, &ana, &video_id).await;
    let signed_master = links["hls_url"].as_str().unwrap().to_owned();
    assert!(walk_ladder(&api, &signed_master, false).await.rungs >= 1);
    let cues_url = links["storyboard_url"].as_str().unwrap().to_owned();
    let cues = api.fetch(&cues_url).await;
    let cache = cues.header("cache-control").unwrap();
    let max_age: u64 = cache
        .strip_prefix("public, max-age=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{cache}"));
    assert!(max_age <= 3, "never cached past the link's expiry: {cache}");

    // Past the expiry, every link is refused as expired.
    let expires_at = chrono::DateTime::parse_from_rfc3339(links["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let wait = (expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(1_100)).await;
    for url in [&signed_master, &cues_url] {
        api.fetch(url).await.expect_error(403, "signature_expired");
    }
}

/// `anb reprocess ARGS` in `anb`'s working directory (its database): stdout, or the failure.
fn reprocess(anb: &crate::support::app::Anb, args: &[&str]) -> Result<String, String> {
    let out = crate::support::app::anb_command(anb.workdir())
        .arg("reprocess")
        .args(args)
        .output()
        .expect("running anb reprocess");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reprocess_makes_a_processed_video_again_while_it_stays_published() {
    let anb = tokio::task::block_in_place(|| Launch::all().start());
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Mora", "Tunja").await;
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let video_id = api.upload_clip(&ana, &clip, "Otra vez").await;
    let before = api.wait_processed(&ana, &video_id).await;
    let master_url = format!("/api/public/videos/{video_id}/hls/master.m3u8");
    let first_master = api.get(&master_url).await;
    assert_eq!(first_master.status, 200);

    let unknown = uuid::Uuid::new_v4().to_string();
    let refused = reprocess(&anb, &["--video", &unknown]).unwrap_err();
    assert!(refused.contains("no video"), "{refused}");
    assert!(
        reprocess(&anb, &[]).is_err(),
        "--video or --all is required"
    );
    let said = reprocess(&anb, &["--video", &video_id]).unwrap();
    assert!(said.starts_with("queued 1 video "), "{said}");

    // The video stays processed and published while the worker makes it again.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let after = loop {
        let detail = api
            .get_as(&ana, &format!("/api/videos/{video_id}"))
            .await
            .expect_json(200);
        assert_eq!(detail["status"], "processed", "{detail}");
        assert!(!detail["published_at"].is_null(), "{detail}");
        if detail["processed_at"] != before["processed_at"] {
            break detail;
        }
        assert!(std::time::Instant::now() < deadline, "not processed again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(after["published_at"], before["published_at"]);
    let second_master = api.get(&master_url).await;
    assert_eq!(second_master.status, 200);
    assert_ne!(
        second_master.body, first_master.body,
        "the new run's rungs live under a new generation"
    );
    assert!(walk_ladder(&api, &master_url, true).await.rungs >= 1);

    let all = reprocess(&anb, &["--all"]).unwrap();
    assert!(all.starts_with("queued 1 video "), "{all}");
}
