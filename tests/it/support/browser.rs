//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`; the
//! README's test command installs them). `ANB_CHROMIUM` and `ANB_CHROMEDRIVER` point elsewhere.
//! There is no fallback: without them the test fails and says what to install.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// The widths every screen is captured at: a laptop and a phone.
pub const WIDTHS: [(u32, u32); 2] = [(1280, 900), (375, 812)];

/// The narrowest screen every page must fit without scrolling sideways.
pub const NARROWEST: u32 = 360;

/// How long a page may take to reach an expected state.
const DEADLINE: Duration = Duration::from_secs(90);

/// The WCAG 2.1 A and AA rules of axe-core that every screen must pass.
const AUDIT: &str = "const done = arguments[arguments.length - 1];
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((result) => done(result.violations.map((v) => ({
        rule: v.id, impact: v.impact, help: v.help,
        where: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
      }))))
      .catch((error) => done([{ rule: 'axe-failed', help: String(error) }]));";

/// A chromedriver process and a browser session on it; both end when dropped.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: PathBuf,
    axe: String,
}

fn program(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: install Debian's `chromium` and `chromium-driver` (scripts/test does), \
         or set {env}",
        path.display()
    );
    path
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium profile; screenshots go to `shots`.
    /// Needs axe-core's `axe.min.js` at `ANB_AXE_CORE` (scripts/test fetches it).
    pub async fn start(shots: &Path) -> Self {
        let axe = std::env::var_os("ANB_AXE_CORE")
            .and_then(|path| std::fs::read_to_string(path).ok())
            .expect(
                "ANB_AXE_CORE must name axe-core's axe.min.js: run scripts/test, which fetches it \
                 (or `source scripts/lib/prepare.sh && need_axe_core`)",
            );
        let chromium = program("ANB_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("ANB_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = super::free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let profile = tempfile::Builder::new()
            .prefix("anb-test-chromium-")
            .tempdir()
            .expect("a profile directory");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--autoplay-policy=no-user-gesture-required", "--hide-scrollbars",
                    "--lang=es", format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("no WebDriver session on {url}: {error}"),
            }
        };
        std::fs::create_dir_all(shots).expect("the screenshot directory");
        let browser = Self {
            client,
            driver,
            _profile: profile,
            shots: shots.to_owned(),
            axe,
        };
        browser
            .client
            .set_window_size(1280, 1000)
            .await
            .expect("sizing the window");
        // No animations half-way through a screenshot or an audit (the app honours this).
        browser
            .cdp(
                "Emulation.setEmulatedMedia",
                json!({ "features": [{ "name": "prefers-reduced-motion", "value": "reduce" }] }),
            )
            .await;
        browser.emulate(WIDTHS[0].0, WIDTHS[0].1).await;
        browser
    }

    /// Opens `url` and waits for the app to draw its navigation.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
        self.wait_until(
            "the app is drawn",
            "document.querySelector('#nav a') !== null",
        )
        .await;
    }

    /// Evaluates `expression` in the page.
    pub async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|e| panic!("evaluating `{expression}`: {e}"))
    }

    /// Waits until `expression` is truthy in the page (polling), or fails naming `what` and
    /// showing the page's text.
    pub async fn wait_until(&self, what: &str, expression: &str) {
        let started = Instant::now();
        loop {
            let value = self
                .client
                .execute(&format!("return Boolean({expression});"), vec![])
                .await;
            if matches!(value, Ok(Value::Bool(true))) {
                return;
            }
            if started.elapsed() > DEADLINE {
                let text = self.eval("document.body.innerText").await;
                panic!("timed out waiting until {what} ({expression}). The page says:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the control matched by `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let control = self.find(css).await;
        control.clear().await.expect("clearing a control");
        control.send_keys(text).await.expect("typing");
    }

    /// Clicks the element matched by `css`.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("a click");
    }

    /// Presses Tab until the element matched by `css` has the keyboard focus (at most `limit`
    /// times), checks the focus is visible (an outline), then presses Enter on it.
    pub async fn tab_to_and_press_enter(&self, css: &str, limit: usize) {
        self.find(css).await;
        let focused = format!("document.activeElement.matches({css:?})");
        let mut presses = 0;
        while self.eval(&focused).await != Value::Bool(true) {
            presses += 1;
            assert!(
                presses <= limit,
                "`{css}` not reached with {limit} Tab presses"
            );
            self.press(Key::Tab).await;
        }
        let outline = self
            .eval("getComputedStyle(document.activeElement).outlineStyle")
            .await;
        assert_ne!(
            outline,
            json!("none"),
            "the focus on `{css}` is not visible"
        );
        self.press(Key::Enter).await;
    }

    /// Presses `key` on the element that has the keyboard focus.
    pub async fn press(&self, key: Key) {
        self.client
            .active_element()
            .await
            .expect("the focused element")
            .send_keys(&char::from(key).to_string())
            .await
            .expect("a key press");
    }

    /// The element matched by `css` (waiting for it to appear).
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_until(
            &format!("`{css}` appears"),
            &format!("document.querySelector({css:?})"),
        )
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element")
    }

    /// The text of the element matched by `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("its text")
    }

    /// Audits the screen against WCAG 2.1 A and AA with axe-core (contrast, labels, names,
    /// structure) and panics listing the violations, if any.
    pub async fn audit(&self, name: &str) {
        self.wait_until(
            "transitions have ended (an audit of a half-faded element means nothing)",
            "document.getAnimations().every((a) => a.playState !== 'running' \
               || a.effect.getComputedTiming().iterations === Infinity)",
        )
        .await;
        let loaded = self.eval("typeof axe !== 'undefined'").await;
        if loaded != Value::Bool(true) {
            self.client
                .execute(&self.axe, vec![])
                .await
                .expect("loading axe-core into the page");
        }
        let violations = self
            .client
            .execute_async(AUDIT, vec![])
            .await
            .expect("running axe-core");
        assert_eq!(
            violations,
            json!([]),
            "{name}: accessibility violations (WCAG 2.1 AA):\n{violations:#}"
        );
    }

    /// Captures the whole page at every width of [`WIDTHS`] as `NAME-WIDTH.png` (the page is
    /// laid out at that width by Chromium's device emulation; the capture is as tall as the
    /// page, up to 4,000 px), auditing it at each width first ([`Browser::audit`]), then checks
    /// that nothing sticks out sideways at [`NARROWEST`]; returns the files.
    pub async fn capture(&self, name: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for (width, height) in WIDTHS {
            self.emulate(width, height).await;
            self.audit(&format!("{name} at {width} px")).await;
            let page = self
                .eval("document.documentElement.scrollHeight")
                .await
                .as_u64()
                .unwrap_or(u64::from(height));
            let full = u32::try_from(page).unwrap_or(height).clamp(height, 4_000);
            self.emulate(width, full).await;
            let png = self.client.screenshot().await.expect("a screenshot");
            let file = self.shots.join(format!("{name}-{width}.png"));
            std::fs::write(&file, png).expect("writing the screenshot");
            files.push(file);
        }
        // The narrowest phone the app supports: nothing may stick out sideways.
        self.emulate(NARROWEST, 800).await;
        let wide = self
            .eval(&format!(
                "[document.documentElement.scrollWidth, [...document.querySelectorAll('body *')]
                   .filter((e) => e.getBoundingClientRect().right > {NARROWEST}.5)
                   .map((e) => e.tagName + '.' + e.className).slice(0, 5)]"
            ))
            .await;
        assert!(
            wide[0].as_u64().is_some_and(|w| w <= u64::from(NARROWEST)),
            "{name}: wider than {NARROWEST} px: {wide}"
        );
        self.emulate(WIDTHS[0].0, WIDTHS[0].1).await;
        files
    }

    /// Lays the page out on a `width` x `height` CSS pixel screen (a phone's below 500 px:
    /// headless Chromium's windows cannot be narrower), scrolled to the top.
    pub async fn emulate(&self, width: u32, height: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500 }),
        )
        .await;
        // Let the layout settle at the new size (two frames).
        let _ = self
            .client
            .execute_async(
                "const done = arguments[0]; scrollTo(0, 0); \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(innerWidth)));",
                vec![],
            )
            .await;
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }
}

/// chromedriver's endpoint for DevTools commands.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// Ends the session (Chromium quits), then chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
