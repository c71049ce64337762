//! The `<head>` of the pages fans share: a video's (`/v/{video_id}`) and a player's
//! (`/p/{user_id}`), filled by the server with their OpenGraph and Twitter-card tags, since
//! the crawlers of chat apps and social networks run no JavaScript. Every value is escaped.

use std::fmt::Write as _;

use anb_domain::{PlayerPage, PublicVideo};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

/// The site's name, in titles and `og:site_name`.
const SITE: &str = "ANB Rising Stars";
/// What the site is, for pages that are not a video's or a player's.
const SITE_DESCRIPTION: &str =
    "ANB Rising Stars: los mejores jugadores jóvenes de baloncesto, sus videos y los votos del público.";

/// What a page's `<head>` says about it.
#[derive(Debug, Default)]
pub struct PageHead {
    /// `<title>`.
    title: String,
    /// `description` and `og:description`.
    description: String,
    /// The page's own address (`canonical`, `og:url`), absolute.
    canonical: Option<String>,
    /// `og:type`.
    kind: &'static str,
    /// `og:title`, when it differs from the title.
    og_title: Option<String>,
    /// `og:image` with its size and alt text.
    image: Option<Image>,
    /// `og:video` with its size.
    video: Option<Media>,
    /// The page is not found: `noindex`, and the app shows its not-found screen.
    not_found: bool,
}

#[derive(Debug)]
struct Media {
    url: String,
    mime: &'static str,
    size: (u32, u32),
}

#[derive(Debug)]
struct Image {
    media: Media,
    alt: String,
}

/// Where the public files of a video are.
fn thumbnail_url(base: &str, video: &PublicVideo) -> String {
    format!("{base}/api/public/videos/{}/thumbnail", video.video.id)
}

/// "1 voto", "7 votos".
fn votes(n: u64) -> String {
    if n == 1 {
        "1 voto".to_owned()
    } else {
        format!("{n} votos")
    }
}

impl PageHead {
    /// The app's own pages: the site's title and description.
    pub fn site() -> Self {
        Self {
            title: SITE.to_owned(),
            description: SITE_DESCRIPTION.to_owned(),
            kind: "website",
            ..Self::default()
        }
    }

    /// A page with nothing to show: not indexed; the app says so.
    pub fn not_found() -> Self {
        Self {
            title: format!("No encontrado · {SITE}"),
            not_found: true,
            ..Self::site()
        }
    }

    /// A published video's page at `{base}/v/{id}`: `thumbnail` and `video` are the sizes the
    /// processing profile makes.
    pub fn video(
        base: &str,
        public: &PublicVideo,
        thumbnail: (u32, u32),
        video: (u32, u32),
    ) -> Self {
        let id = public.video.id;
        let title = public.video.title.as_str();
        let player = &public.player;
        Self {
            title: format!("{title} · {} · {SITE}", player.username),
            og_title: Some(title.to_owned()),
            description: format!(
                "{} ({}) · {} · {SITE}",
                player.username,
                player.city.as_str(),
                votes(public.video.votes)
            ),
            canonical: Some(format!("{base}/v/{id}")),
            kind: "video.other",
            image: Some(Image {
                media: Media {
                    url: thumbnail_url(base, public),
                    mime: "image/jpeg",
                    size: thumbnail,
                },
                alt: title.to_owned(),
            }),
            video: Some(Media {
                url: format!("{base}/api/public/videos/{id}/stream"),
                mime: "video/mp4",
                size: video,
            }),
            not_found: false,
        }
    }

    /// A player's page at `{base}/p/{id}`; its image is their most voted video's thumbnail.
    pub fn player(base: &str, page: &PlayerPage, thumbnail: (u32, u32)) -> Self {
        let player = &page.player;
        let standing = page
            .standing
            .as_ref()
            .map(|s| format!(" · puesto #{}", s.position))
            .unwrap_or_default();
        let total = page.standing.as_ref().map_or(0, |s| s.votes);
        let videos = match page.videos.total {
            1 => "1 video".to_owned(),
            n => format!("{n} videos"),
        };
        Self {
            title: format!("{} · {SITE}", player.username),
            og_title: None,
            description: format!(
                "{}, {} · {} · {videos}{standing} · {SITE}",
                player.city.as_str(),
                player.country.as_str(),
                votes(total)
            ),
            canonical: Some(format!("{base}/p/{}", player.user_id)),
            kind: "profile",
            image: page.videos.items.first().map(|top| Image {
                media: Media {
                    url: thumbnail_url(base, top),
                    mime: "image/jpeg",
                    size: thumbnail,
                },
                alt: top.video.title.as_str().to_owned(),
            }),
            video: None,
            not_found: false,
        }
    }

    /// The tags, escaped, one per line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut meta = |key: &str, name: &str, content: &str| {
            let _ = writeln!(out, "<meta {key}=\"{name}\" content=\"{}\">", attr(content));
        };
        meta("name", "description", &self.description);
        if self.not_found {
            meta("name", "robots", "noindex");
            meta("name", "anb-page", "not-found");
        }
        meta("property", "og:site_name", SITE);
        meta("property", "og:type", self.kind);
        meta(
            "property",
            "og:title",
            self.og_title.as_deref().unwrap_or(&self.title),
        );
        meta("property", "og:description", &self.description);
        meta("property", "og:locale", "es_CO");
        if let Some(url) = &self.canonical {
            meta("property", "og:url", url);
        }
        if let Some(image) = &self.image {
            meta("property", "og:image", &image.media.url);
            meta("property", "og:image:type", image.media.mime);
            meta(
                "property",
                "og:image:width",
                &image.media.size.0.to_string(),
            );
            meta(
                "property",
                "og:image:height",
                &image.media.size.1.to_string(),
            );
            meta("property", "og:image:alt", &image.alt);
        }
        if let Some(video) = &self.video {
            meta("property", "og:video", &video.url);
            meta("property", "og:video:type", video.mime);
            meta("property", "og:video:width", &video.size.0.to_string());
            meta("property", "og:video:height", &video.size.1.to_string());
        }
        let card = if self.image.is_some() {
            "summary_large_image"
        } else {
            "summary"
        };
        meta("name", "twitter:card", card);
        meta(
            "name",
            "twitter:title",
            self.og_title.as_deref().unwrap_or(&self.title),
        );
        meta("name", "twitter:description", &self.description);
        if let Some(image) = &self.image {
            meta("name", "twitter:image", &image.media.url);
            meta("name", "twitter:image:alt", &image.alt);
        }
        if let Some(url) = &self.canonical {
            let _ = writeln!(out, "<link rel=\"canonical\" href=\"{}\">", attr(url));
        }
        let _ = write!(out, "<title>{}</title>", text(&self.title));
        out
    }
}
