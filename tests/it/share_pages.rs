//! The pages fans share, fetched as a link-preview crawler does (no JavaScript): a video's
//! (`/v/{video_id}`) and a player's (`/p/{user_id}`) OpenGraph and Twitter-card tags, filled
//! by the server, their image and video answering; a title made to break out of its attribute
//! stays text; unknown, malformed and unpublished ids get the app's not-found page (404). Also
//! the public reads behind those pages: one video, a player's profile, the ranked players with
//! their ids, the cities with votes, and the gallery's player filter.

use anb_adapters::testkit::clips::{self, Clip};
use reqwest::header::USER_AGENT;
use scraper::{Html, Selector};
use serde_json::Value;

use crate::support::app::{Anb, Launch};
use crate::support::client::{file_part, Api, Player, Reply};

/// A title trying to close its attribute and run a script.
const HOSTILE_TITLE: &str = r#"Clavada "><script>alert(1)</script> & <b>más</b>"#;

/// The embedded service on a port chosen first, so that `ANB_PUBLIC_URL` (the absolute
/// links of the tags) is the address it answers at.
fn start() -> Anb {
    let port = crate::support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    tokio::task::block_in_place(|| {
        Launch::all()
            .env("ANB_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("ANB_PUBLIC_URL", base)
            .start()
    })
}

/// `GET path` as Facebook's crawler.
async fn crawl(api: &Api, path: &str) -> Reply {
    api.send(
        api.request(reqwest::Method::GET, path)
            .header(USER_AGENT, "facebookexternalhit/1.1"),
    )
    .await
}

/// The `content` of `<meta property|name="key">`: exactly one such tag.
fn meta(html: &Html, key: &str) -> String {
    let selector =
        Selector::parse(&format!(r#"meta[property="{key}"], meta[name="{key}"]"#)).unwrap();
    let found: Vec<_> = html.select(&selector).collect();
    assert_eq!(found.len(), 1, "one {key} tag");
    found[0].value().attr("content").unwrap().to_owned()
}

fn page(reply: &Reply, status: u16) -> Html {
    assert_eq!(reply.status.as_u16(), status);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    Html::parse_document(std::str::from_utf8(&reply.body).unwrap())
}

fn is_not_found_page(reply: &Reply) {
    let html = page(reply, 404);
    assert_eq!(meta(&html, "anb-page"), "not-found");
    assert_eq!(meta(&html, "robots"), "noindex");
}

async fn upload(api: &Api, owner: &Player, title: &str, public: bool) -> String {
    let dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(dir.path(), "clip.mp4")).unwrap();
    let form = reqwest::multipart::Form::new()
        .part("video_file", file_part(clip, "clip.mp4", "video/mp4"))
        .text("title", title.to_owned())
        .text("is_public", public.to_string());
    let id = api.upload_accepted(owner, form).await;
    api.wait_processed(owner, &id).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawler_sees_each_shared_pages_tags_and_unknown_ids_are_not_found() {
    let anb = start();
    let base = anb.base_url().to_owned();
    let api = Api::new(&base);
    let ana = api.player("Ana", "Encesta", "Barranquilla").await;
    let fan = api.player("Fan", "Mira", "Pasto").await;
    let video = upload(&api, &ana, HOSTILE_TITLE, true).await;
    let private = upload(&api, &ana, "Solo para mí", false).await;
    api.post_as(&fan, &format!("/api/public/videos/{video}/vote"))
        .await
        .expect_json(200);

    // The video's page: its tags, escaped, with absolute links that answer.
    let reply = crawl(&api, &format!("/v/{video}")).await;
    let raw = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(!raw.contains("<script>alert"), "the title is escaped");
    assert!(!raw.contains("<b>más"), "the title is escaped");
    let html = page(&reply, 200);
    assert_eq!(meta(&html, "og:title"), HOSTILE_TITLE);
    assert_eq!(meta(&html, "twitter:title"), HOSTILE_TITLE);
    assert_eq!(meta(&html, "og:type"), "video.other");
    assert_eq!(meta(&html, "og:url"), format!("{base}/v/{video}"));
    let description = meta(&html, "og:description");
    for part in ["Ana Encesta", "Barranquilla", "1 voto"] {
        assert!(description.contains(part), "{part} in {description}");
    }
    assert_eq!(meta(&html, "twitter:card"), "summary_large_image");
    let canonical = Selector::parse(r#"link[rel="canonical"]"#).unwrap();
    assert_eq!(
        html.select(&canonical).next().unwrap().value().attr("href"),
        Some(format!("{base}/v/{video}").as_str())
    );
    let title = Selector::parse("title").unwrap();
    let shown = html
        .select(&title)
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    assert!(shown.starts_with(HOSTILE_TITLE), "{shown}");

    let image_url = meta(&html, "og:image");
    assert_eq!(
        image_url,
        format!("{base}/api/public/videos/{video}/thumbnail")
    );
    let image = api.fetch(&image_url).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), Some("image/jpeg"));
    let size = imagesize::blob_size(&image.body).expect("a JPEG");
    assert_eq!(
        (
            meta(&html, "og:image:width"),
            meta(&html, "og:image:height")
        ),
        (size.width.to_string(), size.height.to_string())
    );
    assert_eq!(meta(&html, "og:image:type"), "image/jpeg");
    let stream = api.fetch(&meta(&html, "og:video")).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("video/mp4"));
    assert_eq!(
        (
            meta(&html, "og:video:width"),
            meta(&html, "og:video:height")
        ),
        ("1280".to_owned(), "720".to_owned())
    );

    // The player's page: name, place, the top video's thumbnail.
    let html = page(&crawl(&api, &format!("/p/{}", ana.user_id)).await, 200);
    assert_eq!(meta(&html, "og:title"), "Ana Encesta · ANB Rising Stars");
    assert_eq!(meta(&html, "og:type"), "profile");
    let description = meta(&html, "og:description");
    for part in ["Barranquilla", "1 voto", "1 video", "puesto #"] {
        assert!(description.contains(part), "{part} in {description}");
    }
    assert_eq!(meta(&html, "og:image"), image_url);
    assert_eq!(meta(&html, "og:url"), format!("{base}/p/{}", ana.user_id));

    // Not found: unknown, malformed, unpublished; a player who published nothing.
    for path in [
        format!("/v/{}", uuid::Uuid::new_v4()),
        "/v/not-an-id".to_owned(),
        format!("/v/{private}"),
        format!("/p/{}", uuid::Uuid::new_v4()),
        format!("/p/{}", fan.user_id),
        "/p/%22%3E%3Cscript%3E".to_owned(),
    ] {
        is_not_found_page(&crawl(&api, &path).await);
    }
    // The app's own pages carry the site's tags.
    let home = page(&crawl(&api, "/rankings").await, 200);
    assert_eq!(meta(&home, "og:site_name"), "ANB Rising Stars");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_reads_show_one_video_a_players_profile_and_the_ranked_cities() {
    let anb = start();
    let api = Api::new(anb.base_url());
    let ana = api.player("Ana", "Primera", "Montería").await;
    let ben = api.player("Ben", "Segundo", "montería").await;
    let fan = api.player("Fan", "Vota", "Pasto").await;
    let (va, vb) = (
        upload(&api, &ana, "Triple", true).await,
        upload(&api, &ben, "Bandeja", true).await,
    );
    let hidden = upload(&api, &ana, "Privado", false).await;
    for (voter, video) in [(&fan, &va), (&ben, &va), (&fan, &vb)] {
        api.post_as(voter, &format!("/api/public/videos/{video}/vote"))
            .await
            .expect_json(200);
    }

    let one = api
        .get(&format!("/api/public/videos/{va}"))
        .await
        .expect_json(200);
    assert_eq!(
        (&one["title"], &one["votes"], &one["player_id"]),
        (
            &Value::from("Triple"),
            &Value::from(2),
            &Value::from(ana.user_id.clone())
        )
    );
    api.get(&format!("/api/public/videos/{hidden}"))
        .await
        .expect_error(404, "not_found");

    let profile = api
        .get(&format!("/api/public/players/{}", ana.user_id))
        .await
        .expect_json(200);
    assert_eq!(
        (
            &profile["votes"],
            &profile["position"],
            &profile["published_videos"]
        ),
        (&Value::from(2), &Value::from(1), &Value::from(1))
    );
    api.get(&format!("/api/public/players/{}", fan.user_id))
        .await
        .expect_error(404, "not_found");

    let (players, total) = api
        .get("/api/public/players?city=MONTERÍA")
        .await
        .expect_page();
    assert_eq!(total, 2);
    let ids: Vec<&Value> = players.iter().map(|p| &p["user_id"]).collect();
    assert_eq!(
        ids,
        vec![
            &Value::from(ana.user_id.clone()),
            &Value::from(ben.user_id.clone())
        ]
    );
    let (rows, _) = api
        .get("/api/public/rankings?city=montería")
        .await
        .expect_page();
    assert_eq!(
        rows[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["city", "position", "username", "votes"],
        "the contract's rows keep exactly four keys"
    );

    let cities = api.get("/api/public/cities").await.expect_json(200);
    let monteria: Vec<&Value> = cities
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["city"].as_str().unwrap().to_lowercase() == "montería")
        .collect();
    assert_eq!(monteria.len(), 1, "{cities}");
    assert_eq!(
        (&monteria[0]["players"], &monteria[0]["votes"]),
        (&Value::from(2), &Value::from(3))
    );

    let (mine, total) = api
        .get(&format!("/api/public/videos?player={}", ana.user_id))
        .await
        .expect_page();
    assert_eq!(total, 1, "the private video is not listed");
    assert_eq!(mine[0]["video_id"], Value::from(va));
}
