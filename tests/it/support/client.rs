//! An HTTP client for the service under test: players, uploads, and the checks every response
//! of the contract shares (`{"detail", "code"}` errors, JSON arrays with `X-Total-Count`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

/// How long a clip may take to be processed.
pub const PROCESSING_DEADLINE: Duration = Duration::from_secs(60);

/// The password every test player uses.
pub const PASSWORD: &str = "StrongPass123";

/// A client of one running service.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base_url: String,
}

/// A signed-up, logged-in player.
#[derive(Clone, Debug)]
pub struct Player {
    /// The id `signup` returned.
    pub user_id: String,
    /// The email they signed up with.
    pub email: String,
    /// The access token.
    pub token: String,
}

/// A response read whole: status, headers and body.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: bytes::Bytes,
}

impl Reply {
    /// Reads a response.
    pub async fn read(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("the response body");
        Self {
            status,
            headers,
            body,
        }
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} with a body that is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status (showing the body when it differs) and returns the JSON body.
    pub fn expect_json(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "{status} with Content-Type {content_type:?}"
        );
        self.json()
    }

    /// Asserts an error of the contract: this status, a JSON body with exactly `detail` and
    /// `code`, this code and a non-empty detail; returns the detail.
    pub fn expect_error(&self, status: u16, code: &str) -> String {
        let body = self.expect_json(status);
        assert_eq!(
            keys(&body),
            keys_of(&["code", "detail"]),
            "an error body has exactly detail and code: {body}"
        );
        assert_eq!(body["code"], code, "{body}");
        let detail = body["detail"].as_str().expect("detail is text").to_owned();
        assert!(!detail.trim().is_empty(), "an empty detail: {body}");
        detail
    }

    /// Asserts a 200 JSON array with a matching `X-Total-Count`; returns the items and the total.
    pub fn expect_page(&self) -> (Vec<Value>, u64) {
        let body = self.expect_json(200);
        let items = body
            .as_array()
            .unwrap_or_else(|| panic!("a list is a JSON array: {body}"))
            .clone();
        let total: u64 = self
            .header("x-total-count")
            .expect("an X-Total-Count header")
            .parse()
            .expect("X-Total-Count is a number");
        assert!(
            total >= items.len() as u64,
            "X-Total-Count {total} < {} items",
            items.len()
        );
        assert!(
            self.header("link")
                .is_some_and(|l| l.contains("rel=\"first\"")),
            "a Link header: {:?}",
            self.header("link")
        );
        (items, total)
    }
}

/// The keys of a JSON object.
pub fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("a JSON object: {value}"))
        .keys()
        .cloned()
        .collect()
}

/// A set of key names.
pub fn keys_of(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// A unique email address.
pub fn unique_email(name: &str) -> String {
    format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The course's sign-up body.
pub fn signup_body(first: &str, last: &str, email: &str, city: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": last,
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "city": city,
        "country": "Colombia",
    })
}

/// A file part of an upload.
pub fn file_part(bytes: impl Into<Vec<u8>>, file_name: &str, mime: &str) -> Part {
    Part::bytes(bytes.into())
        .file_name(file_name.to_owned())
        .mime_str(mime)
        .expect("a valid MIME type")
}

/// An upload form like the course collection's: the file FIRST, then the title.
pub fn upload_form(file: Part, title: &str) -> Form {
    Form::new()
        .part("video_file", file)
        .text("title", title.to_owned())
}

impl Api {
    /// A client of the service at `base_url` (`http://host:port`).
    pub fn new(base_url: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("an HTTP client"),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request to `path` (of the service) or to an absolute URL.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.absolute(path))
    }

    /// `url_or_path` as an absolute URL: a path of the service, or an absolute URL as is.
    fn absolute(&self, url_or_path: &str) -> String {
        if url_or_path.starts_with("http://") || url_or_path.starts_with("https://") {
            url_or_path.to_owned()
        } else {
            self.url(url_or_path)
        }
    }

    /// A request to `path` with `player`'s token.
    pub fn as_player(&self, player: &Player, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(&player.token)
    }

    /// Sends a request and reads the whole reply.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("the service answers")).await
    }

    /// The HTTP client (for requests of its own making).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `GET path` without credentials.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    /// `GET` an absolute URL (a presigned S3 link) or a path of the service, without
    /// credentials.
    pub async fn fetch(&self, url_or_path: &str) -> Reply {
        self.send(self.http.get(self.absolute(url_or_path))).await
    }

    /// `GET path` as `player`.
    pub async fn get_as(&self, player: &Player, path: &str) -> Reply {
        self.send(self.as_player(player, Method::GET, path)).await
    }

    /// `POST path` as `player`, without a body.
    pub async fn post_as(&self, player: &Player, path: &str) -> Reply {
        self.send(self.as_player(player, Method::POST, path)).await
    }

    /// `DELETE path` as `player`.
    pub async fn delete_as(&self, player: &Player, path: &str) -> Reply {
        self.send(self.as_player(player, Method::DELETE, path))
            .await
    }

    /// `POST /api/auth/signup` with a JSON body.
    pub async fn signup(&self, body: &Value) -> Reply {
        self.send(self.request(Method::POST, "/api/auth/signup").json(body))
            .await
    }

    /// `POST /api/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.send(
            self.request(Method::POST, "/api/auth/login")
                .json(&json!({ "email": email, "password": password })),
        )
        .await
    }

    /// Signs up a player (checking the contract's answer) and logs them in.
    pub async fn player(&self, first: &str, last: &str, city: &str) -> Player {
        let email = unique_email(&first.to_lowercase());
        let created = self
            .signup(&signup_body(first, last, &email, city))
            .await
            .expect_json(201);
        assert_eq!(created["message"], "Usuario creado exitosamente.");
        let user_id = created["user_id"].as_str().expect("a user_id").to_owned();
        uuid::Uuid::parse_str(&user_id).expect("user_id is a UUID");
        let token = self.login(&email, PASSWORD).await.expect_json(200);
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["expires_in"], 900);
        Player {
            user_id,
            email,
            token: token["access_token"]
                .as_str()
                .expect("an access_token")
                .to_owned(),
        }
    }

    /// `POST /api/videos/upload` as `player` with `form`.
    pub async fn upload(&self, player: &Player, form: Form) -> Reply {
        self.send(
            self.as_player(player, Method::POST, "/api/videos/upload")
                .multipart(form),
        )
        .await
    }

    /// Uploads `bytes` as `clip.mp4` titled `title` (checking the 201) and returns the video id.
    pub async fn upload_clip(&self, player: &Player, bytes: &[u8], title: &str) -> String {
        let form = upload_form(file_part(bytes, "clip.mp4", "video/mp4"), title);
        self.upload_accepted(player, form).await
    }

    /// Uploads `form` (checking the 201 of the contract) and returns the video id.
    pub async fn upload_accepted(&self, player: &Player, form: Form) -> String {
        let accepted = self.upload(player, form).await.expect_json(201);
        assert_eq!(
            accepted["message"],
            "Video subido correctamente. Procesamiento en curso."
        );
        for id in ["task_id", "video_id"] {
            uuid::Uuid::parse_str(accepted[id].as_str().expect("an id"))
                .unwrap_or_else(|e| panic!("{id} is not a UUID ({e}): {accepted}"));
        }
        accepted["video_id"].as_str().unwrap().to_owned()
    }

    /// Polls the owner's detail of `video_id` until it is `processed` (panics when it fails
    /// or the deadline passes) and returns that detail.
    pub async fn wait_processed(&self, owner: &Player, video_id: &str) -> Value {
        let deadline = Instant::now() + PROCESSING_DEADLINE;
        loop {
            let detail = self
                .get_as(owner, &format!("/api/videos/{video_id}"))
                .await
                .expect_json(200);
            match detail["status"].as_str() {
                Some("processed") => return detail,
                Some("failed") => panic!("processing failed: {detail}"),
                Some("uploaded" | "processing") => {}
                _ => panic!("an unknown status: {detail}"),
            }
            assert!(
                Instant::now() < deadline,
                "not processed within {PROCESSING_DEADLINE:?}: {detail}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
