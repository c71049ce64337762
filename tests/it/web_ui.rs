//! The web app in a real browser: headless Chromium (Debian's packages) over WebDriver, against
//! the real `anb` binary on the embedded defaults (the worker runs in the same process).
//!
//! One walk through the product: two players sign up; A uploads a generated clip and watches
//! the progress bar reach 100 % and the status reach `processed`, then plays it in the page
//! (HLS, through its signed playback links); B finds it in the gallery, plays it with hls.js
//! (seeking shows a storyboard tile) and votes; the rankings show A first with one vote; B's
//! second vote is refused with the contract's message; a wrong password, a taken email and a
//! refused delete show their messages where they belong; A uploads a longer clip and its row
//! shows the processing bar (percent done, time left). Sessions and sharing: a reload keeps A
//! signed in with nothing in the page's storage (the refresh cookie); A shares the video with B
//! and makes share links in the share dialog; a logged-out cookie is refused; B watches it in
//! "Compartidos conmigo"; a refused token is renewed once for concurrent calls; a session that
//! cannot be renewed ends on the log-in screen; logout on every device; the share link plays
//! signed out, a revoked and a made-up one say why not. Every screen is captured at 1280 and
//! 375 px wide under `target/ui-screenshots/`. Build the binary first: `cargo build --bin anb`.
//!
//! Also here: the web app's vendored hls.js is the pinned npm release, byte for byte; logging
//! in with an OpenID provider; verifying the email and resetting a forgotten password through
//! the links of the mails the server wrote.

use crate::support::app;
use crate::support::browser;
use crate::support::client;
use crate::support::mail::mailed_token;
use anb_adapters::testkit::clips;
use anb_adapters::testkit::conformance::mail::{EmlDirectory, Mailbox as _, ReceivedMail};

use std::path::PathBuf;

use app::Launch;
use browser::Browser;
use client::unique_email;
use clips::Clip;
use fantoccini::key::Key;
use serde_json::json;

/// Where the screenshots go: `target/<name>/` of the workspace (emptied first).
fn screenshot_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let dir = target.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

struct Player {
    first: &'static str,
    last: &'static str,
    email: String,
    city: &'static str,
}

const PASSWORD: &str = "canasta-de-tres";

async fn sign_up(browser: &Browser, base: &str, player: &Player) {
    browser.open(&format!("{base}/registro")).await;
    browser.fill("#f-first_name", player.first).await;
    browser.fill("#f-last_name", player.last).await;
    browser.fill("#f-email", &player.email).await;
    browser.fill("#f-password1", PASSWORD).await;
    browser.fill("#f-password2", PASSWORD).await;
    browser.fill("#f-city", player.city).await;
    browser.fill("#f-country", "Colombia").await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the new player lands on their videos",
            "location.pathname === '/mis-videos' && document.querySelector('form.upload')",
        )
        .await;
}

async fn log_out(browser: &Browser) {
    browser.click("#nav button.logout").await;
    browser
        .wait_until(
            "the player is signed out",
            "document.querySelector('#nav a[href=\"/entrar\"]')",
        )
        .await;
    assert_eq!(
        browser.eval("localStorage.getItem('anb.signedIn')").await,
        json!(null),
        "signed out, the browser forgets it signed in (start-up then asks for no session)"
    );
}

/// Nothing about the session in the page's storage but the note that this browser signed in
/// (`anb.signedIn` = "1", no token; the language choice may be there too).
async fn assert_no_session_in_storage(browser: &Browser) {
    let stored = browser
        .eval("[Object.keys(localStorage).filter((k) => k !== 'anb.lang' && k !== 'anb.signedIn'),
               localStorage.getItem('anb.signedIn'), sessionStorage.length,
               Object.values(localStorage).some((v) => v.includes('eyJ')), document.cookie.includes('anb_refresh')]")
        .await;
    assert_eq!(
        stored,
        json!([[], "1", 0, false, false]),
        "the session in storage: {stored}"
    );
}

/// The browser's `anb_refresh` cookie (DevTools: scripts cannot read it).
async fn refresh_cookie(browser: &Browser, base: &str) -> serde_json::Value {
    let cookies = browser
        .cdp(
            "Network.getCookies",
            json!({ "urls": [format!("{base}/api/auth/refresh")] }),
        )
        .await;
    cookies["cookies"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == "anb_refresh"))
        .cloned()
        .unwrap_or_else(|| panic!("no anb_refresh cookie: {cookies}"))
}

async fn log_in(browser: &Browser, base: &str, email: &str, password: &str) {
    browser.open(&format!("{base}/entrar")).await;
    browser.fill("#f-email", email).await;
    browser.fill("#f-password", password).await;
    browser.click("form button[type=submit]").await;
}

/// Votes on the first card (by keyboard: Tab from the top of the page to its button, Enter)
/// and waits for `message` on the card; the count then reads one vote (the first vote counted,
/// or a second one refused).
async fn vote_and_see(browser: &Browser, message: &str) {
    browser
        .client
        .execute("document.activeElement.blur(); window.focus();", vec![])
        .await
        .expect("a fresh focus");
    browser
        .tab_to_and_press_enter("li.video button.vote", 30)
        .await;
    browser
        .wait_until(
            &format!("the card says {message:?}"),
            &format!("document.querySelector('li.video .vote-status').textContent === {message:?}"),
        )
        .await;
    assert_eq!(browser.text("li.video .votes").await, "1 voto");
}

/// The web app's hls.js (`crates/anb-http/web/vendor/hls.js/`) is the pinned npm release,
/// byte for byte: `ANB_HLS_JS` is that release unpacked from the registry's tarball after its
/// sha512 was checked against the pin (`need_hls_js` in `scripts/lib/prepare.sh`).
#[test]
fn the_vendored_hls_js_is_the_pinned_npm_release() {
    let release = std::env::var_os("ANB_HLS_JS").map(PathBuf::from).expect(
        "ANB_HLS_JS must name the unpacked hls.js release: run scripts/test, which fetches and \
         checks it (or `source scripts/lib/prepare.sh && need_hls_js`)",
    );
    let vendored =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/anb-http/web/vendor/hls.js");
    for (ours, theirs) in [
        ("hls.light.min.mjs", "dist/hls.light.min.mjs"),
        ("LICENSE", "LICENSE"),
    ] {
        let read = |path: PathBuf| {
            std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        };
        assert!(
            read(vendored.join(ours)) == read(release.join(theirs)),
            "{} is not the pinned release's {theirs} ({})",
            vendored.join(ours).display(),
            release.display()
        );
    }
}

/// Makes the page's browser answer "no" for HLS, as one without its own HLS player (Firefox;
/// Chromium has one), so the app takes the hls.js path.
const WITHOUT_NATIVE_HLS: &str = "(() => { const own = HTMLMediaElement.prototype.canPlayType;
    HTMLMediaElement.prototype.canPlayType = function (type) {
      return /mpegurl/i.test(type) ? '' : own.call(this, type); };
    return true; })()";

#[tokio::test(flavor = "multi_thread")]
async fn two_players_upload_vote_and_see_the_rankings_in_a_real_browser() {
    let media_dir = clips::workdir();
    let clip = Clip::h264(3.0).make(media_dir.path(), "triple.mp4");
    let large_clip = Clip::h264(8.0)
        .size("1280x720")
        .make(media_dir.path(), "larga.mp4");
    let long_clip = Clip::h264(18.0)
        .size("1280x720")
        .make(media_dir.path(), "completa.mp4");
    let anb = Launch::all().start();
    let base = anb.base_url().to_owned();
    let shots = screenshot_dir("ui-screenshots");
    let browser = Browser::start(&shots).await;
    let mut captured = Vec::new();

    // A visitor's first load: the gallery (at `/`), empty so far. Its weight, without media.
    browser.open(&format!("{base}/")).await;
    browser
        .wait_until("the empty gallery", "document.querySelector('p.empty')")
        .await;
    let weight = browser
        .eval(
            "(() => { const nav = performance.getEntriesByType('navigation')[0];
               const files = performance.getEntriesByType('resource').filter((r) => r.name.includes('/assets/'));
               const sum = (key) => files.reduce((n, r) => n + r[key], nav[key]);
               return { decoded: sum('decodedBodySize'), transferred: sum('transferSize'), files: files.length + 1 }; })()",
        )
        .await;
    println!("gallery first load (HTML + JS + CSS + icon, no media): {weight}");
    let decoded = weight["decoded"].as_u64().expect("a decoded size");
    assert!(
        decoded > 10_000,
        "the app's files were not all counted: {weight}"
    );
    assert!(
        decoded < 100_000,
        "the first load weighs {decoded} bytes, over the 100 KB goal"
    );
    assert_eq!(
        browser
            .eval("performance.getEntriesByType('resource').filter((r) => r.name.includes('/vendor/')).length")
            .await,
        json!(0),
        "hls.js is loaded on the first play, not with the page"
    );
    captured.extend(browser.capture("01-gallery-empty").await);

    let a = Player {
        first: "Ana",
        last: "Rincón",
        email: unique_email("ana"),
        city: "Medellín",
    };
    let b = Player {
        first: "Bruno",
        last: "Díaz",
        email: unique_email("bruno"),
        city: "Cali",
    };

    // A signs up (the form first, as a visitor sees it: an old `#/registro` link is now
    // `/registro`).
    browser.open(&format!("{base}/#/registro")).await;
    browser
        .wait_until(
            "the old link's address becomes the path",
            "location.pathname === '/registro' && !location.hash && document.querySelector('#f-first_name')",
        )
        .await;
    captured.extend(browser.capture("02-signup").await);
    sign_up(&browser, &base, &a).await;
    // Votes need no verified email here (the default): no verification banner.
    assert_eq!(
        browser
            .eval("Boolean(document.querySelector('.verify-banner:not([hidden])'))")
            .await,
        json!(false)
    );
    captured.extend(browser.capture("03-my-videos-empty").await);

    // On a slow link (Chromium's throttling, 256 kB/s up) A starts uploading a larger clip: the
    // bar follows the bytes sent; A cancels, and the server keeps nothing.
    browser.cdp("Network.enable", json!({})).await;
    browser
        .cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 256_000 }),
        )
        .await;
    browser.fill("#f-title", "Una jugada larga").await;
    browser
        .find("#f-video_file")
        .await
        .send_keys(large_clip.to_str().expect("a utf-8 path"))
        .await
        .expect("choosing the file");
    browser.click("form.upload button[type=submit]").await;
    browser
        .wait_until(
            "the bar shows part of the bytes sent",
            "(() => { const bar = document.querySelector('#upload-progress');
               return bar.value > 0 && bar.value < 100
                 && document.querySelector('#upload-progress-text').textContent.includes(' de '); })()",
        )
        .await;
    captured.extend(browser.capture("04-my-videos-uploading").await);
    browser.click("#upload-cancel").await;
    browser
        .wait_until(
            "the cancel is confirmed",
            "document.querySelector('#upload-progress-text').textContent === 'Subida cancelada. No se guardó nada.'",
        )
        .await;
    captured.extend(browser.capture("05-my-videos-upload-cancelled").await);
    browser
        .cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    let mut kept = anb.blob_files();
    for _ in 0..100 {
        if kept.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        kept = anb.blob_files();
    }
    assert!(kept.is_empty(), "a cancelled upload left {kept:?}");
    assert!(
        browser
            .eval("document.querySelector('li.mine') === null")
            .await
            == json!(true)
    );

    // A uploads the clip: the bar reaches 100 %, then the status reaches `processed`.
    browser.fill("#f-title", "Triple desde media cancha").await;
    browser.fill("#f-tags", "triple, tiro").await;
    let file = browser.find("#f-video_file").await;
    file.send_keys(clip.to_str().expect("a utf-8 path"))
        .await
        .expect("choosing the file");
    browser.click("form.upload button[type=submit]").await;
    browser
        .wait_until(
            "the progress bar reaches 100 %",
            "document.querySelector('#upload-progress').value === 100 \
             && document.querySelector('#upload-progress-text').textContent.includes('100 %')",
        )
        .await;
    browser
        .wait_until(
            "the new video is listed",
            "document.querySelector('li.mine[data-video-id]')",
        )
        .await;
    captured.extend(browser.capture("06-my-videos-uploaded").await);
    browser
        .wait_until(
            "the status reaches processed",
            "document.querySelector('li.mine[data-status=\"processed\"] .status')?.textContent === 'Listo'",
        )
        .await;
    browser
        .wait_until("the thumbnail is shown", "document.querySelector('li.mine img')?.complete && document.querySelector('li.mine img').naturalWidth === 640")
        .await;
    captured.extend(browser.capture("07-my-videos-processed").await);

    // The processed video plays in the page: HLS through its signed playback links (Chromium
    // plays HLS itself), a rung of the ladder (the master names its size), at most 20 s, and
    // playback advances; the MP4 beside it is 1280x720.
    browser.click("li.mine button.play").await;
    browser
        .wait_until(
            "the video plays",
            "(() => { const v = document.querySelector('li.mine video');
               return v && v.readyState >= 2 && v.videoHeight > 0 && v.currentTime > 0.5; })()",
        )
        .await;
    let shape = browser
        .eval("(() => { const v = document.querySelector('li.mine video');
                return [v.videoWidth, v.videoHeight, v.duration, v.dataset.engine, v.dataset.source]; })()")
        .await;
    assert!(
        shape[3] == "native" || shape[3] == "hls.js",
        "HLS (Chromium's own player, or hls.js without one): {shape}"
    );
    let source = shape[4].as_str().unwrap_or_default();
    assert!(
        source.starts_with("/api/playback/") && source.ends_with("/hls/master.m3u8"),
        "{shape}"
    );
    assert!(
        shape[2].as_f64().is_some_and(|d| d > 2.5 && d <= 20.0),
        "{shape}"
    );
    let master = browser
        .client
        .execute_async(
            "const done = arguments[0];
             fetch(document.querySelector('li.mine video').dataset.source)
               .then((r) => r.text()).then(done, (e) => done(String(e)));",
            vec![],
        )
        .await
        .expect("the master playlist");
    let rung = format!("RESOLUTION={}x{}", shape[0], shape[1]);
    assert!(
        master.as_str().is_some_and(|m| m.contains(&rung)),
        "the video plays a rung of the master ({rung}): {master}"
    );
    let mp4 = browser
        .client
        .execute_async(
            "const done = arguments[0];
             const v = document.createElement('video');
             v.onloadedmetadata = () => done([v.videoWidth, v.videoHeight]);
             v.onerror = () => done(String(v.error?.message));
             v.src = document.querySelector('li.mine video').dataset.source.replace('/hls/master.m3u8', '/video.mp4');",
            vec![],
        )
        .await
        .expect("the MP4's size");
    assert_eq!(mp4, json!([1280, 720]));
    captured.extend(browser.capture("08-my-videos-playing").await);

    // A asks for the sound as MP3 in Mis videos: it is made in the background and a download
    // button appears; the file behind it is an MP3.
    browser.click("li.mine details.conversions summary").await;
    browser
        .wait_until(
            "the conversions are listed",
            "document.querySelector('li.mine .renditions li')",
        )
        .await;
    browser
        .eval(
            "(() => { const s = document.querySelector('li.mine form.convert select[name=format]');
                s.value = 'mp3'; s.dispatchEvent(new Event('change')); return true; })()",
        )
        .await;
    browser
        .click("li.mine form.convert button[type=submit]")
        .await;
    browser
        .wait_until(
            "the MP3 is ready to download",
            "document.querySelector('li.mine .rendition[data-format=\"mp3\"][data-status=\"ready\"] a[download]')",
        )
        .await;
    let download = browser
        .client
        .execute_async(
            "const done = arguments[0];
             const a = document.querySelector('li.mine .rendition[data-format=\"mp3\"] a[download]');
             fetch(a.href).then((r) => done([a.getAttribute('href').startsWith('/api/playback/'),
               a.textContent, r.status, r.headers.get('content-type')]), (e) => done(String(e)));",
            vec![],
        )
        .await
        .expect("the MP3's download");
    assert_eq!(
        download,
        json!([true, "Descargar MP3", 200, "audio/mpeg"]),
        "{download}"
    );
    captured.extend(browser.capture("08b-my-videos-conversions").await);
    log_out(&browser).await;

    // B signs up, finds A's video in the gallery and votes.
    sign_up(&browser, &base, &b).await;
    browser.open(&format!("{base}/galeria")).await;
    browser
        .wait_until(
            "A's video is in the gallery",
            "document.querySelector('li.video[data-video-id] img')?.complete",
        )
        .await;
    assert!(browser
        .text("li.video .player")
        .await
        .contains("Ana Rincón"));
    assert_eq!(browser.text("li.video .votes").await, "0 votos");
    captured.extend(browser.capture("09-gallery").await);

    // B plays it as a browser without its own HLS player would: hls.js (fetched now, on the
    // first play) feeding Media Source Extensions with the ladder's fMP4 segments.
    browser.eval(WITHOUT_NATIVE_HLS).await;
    browser.click("li.video button.play").await;
    browser
        .wait_until(
            "hls.js plays the HLS stream",
            "(() => { const v = document.querySelector('li.video video');
               return v && v.dataset.engine === 'hls.js' && v.currentSrc.startsWith('blob:')
                 && v.videoHeight > 0 && v.currentTime > 0.5; })()",
        )
        .await;
    let fetched = browser
        .eval(
            "performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname)
                 .filter((p) => p.includes('/vendor/hls.js/') || p.includes('/hls/'))",
        )
        .await;
    let fetched: Vec<&str> = fetched
        .as_array()
        .map(|all| all.iter().filter_map(|p| p.as_str()).collect())
        .unwrap_or_default();
    assert!(
        fetched
            .iter()
            .any(|p| p.ends_with("/vendor/hls.js/hls.light.min.mjs"))
            && fetched.iter().any(|p| p.ends_with("/hls/master.m3u8"))
            && fetched.iter().any(|p| p.ends_with("/init.mp4"))
            && fetched.iter().any(|p| p.ends_with(".m4s")),
        "hls.js, the master playlist, an init segment and media segments: {fetched:?}"
    );
    let hls_js = browser
        .eval(
            "performance.getEntriesByType('resource').filter((r) => r.name.includes('/vendor/hls.js/'))
               .map((r) => ({ decoded: r.decodedBodySize, transferred: r.transferSize }))",
        )
        .await;
    println!("hls.js, fetched on the first play: {hls_js}");
    // Seeking shows the storyboard tile of the time sought.
    browser
        .wait_until(
            "the storyboard is loaded",
            "document.querySelector('li.video .storyboard')",
        )
        .await;
    browser
        .eval(
            "(() => { const v = document.querySelector('li.video video');
                v.addEventListener('seeking', () => {
                  const tile = document.querySelector('li.video .storyboard');
                  window.tileSeen = !tile.hidden && tile.style.backgroundImage; }, { once: true });
                v.currentTime = 1.5; return true; })()",
        )
        .await;
    browser
        .wait_until(
            "seeking shows a storyboard tile",
            "String(window.tileSeen).includes('/storyboard.jpg')",
        )
        .await;
    captured.extend(browser.capture("09-gallery-playing-hls").await);

    // Search and the city filter, through the form (the address keeps them).
    browser.fill("#g-q", "nada parecido").await;
    browser.click("form.filters button[type=submit]").await;
    browser
        .wait_until(
            "no match",
            "location.pathname === '/galeria' && location.search.includes('q=nada') && document.querySelector('p.empty')",
        )
        .await;
    browser.fill("#g-q", "triple").await;
    browser.fill("#g-city", "medellín").await;
    browser.click("form.filters button[type=submit]").await;
    browser
        .wait_until(
            "the search finds A's video",
            "location.search.includes('q=triple') && document.querySelector('li.video[data-video-id]')",
        )
        .await;
    vote_and_see(&browser, "Voto registrado exitosamente.").await;
    captured.extend(browser.capture("10-gallery-voted").await);

    // B votes again (a fresh page): refused, shown on the card, the count back to 1.
    browser.open(&format!("{base}/#/galeria?sort=recent")).await;
    browser
        .wait_until(
            "the old link keeps its query",
            "location.pathname + location.search === '/galeria?sort=recent' && !location.hash",
        )
        .await;
    vote_and_see(&browser, "Ya has votado por este video.").await;
    captured.extend(browser.capture("11-gallery-already-voted").await);

    // The rankings: A first with one vote; the city filter lists Medellín, which keeps A; a
    // city with no votes is empty.
    browser.open(&format!("{base}/rankings")).await;
    browser
        .wait_until(
            "the rankings table",
            "document.querySelector('table.rankings tbody tr')",
        )
        .await;
    let first = browser
        .eval("[...document.querySelectorAll('table.rankings tbody tr:first-child > *')].map((c) => c.textContent)")
        .await;
    assert_eq!(
        first,
        serde_json::json!(["1", "Ana Rincón", "Medellín", "1"])
    );
    captured.extend(browser.capture("12-rankings").await);
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('nav.city-filter a')].map((a) => a.textContent)")
            .await,
        json!(["Todas", "Medellín 1 voto"])
    );
    browser.click("nav.city-filter li:nth-child(2) a").await;
    browser
        .wait_until(
            "the rankings of Medellín",
            "new URLSearchParams(location.search).get('city') === 'Medellín'
               && document.querySelector('nav.city-filter a[aria-current=page]')?.textContent.startsWith('Medellín')
               && document.querySelectorAll('table.rankings tbody tr').length === 1",
        )
        .await;
    browser.open(&format!("{base}/rankings?city=Cali")).await;
    browser
        .wait_until(
            "the filtered rankings",
            "location.search.includes('city=Cali') && document.querySelector('p.empty')",
        )
        .await;
    captured.extend(browser.capture("13-rankings-city-empty").await);
    log_out(&browser).await;

    // A wrong password: the contract's refusal under the password.
    log_in(&browser, &base, &b.email, "not-the-password").await;
    browser
        .wait_until(
            "the refusal is shown",
            "document.querySelector('#f-password-error:not([hidden])')",
        )
        .await;
    assert_eq!(
        browser.text("#f-password-error").await,
        "Correo o contraseña incorrectos."
    );
    captured.extend(browser.capture("14-login-refused").await);

    // A taken email: the message under the email field.
    browser.open(&format!("{base}/registro")).await;
    for (field, value) in [
        ("#f-first_name", "Otra"),
        ("#f-last_name", "Persona"),
        ("#f-email", a.email.as_str()),
        ("#f-password1", PASSWORD),
        ("#f-password2", PASSWORD),
        ("#f-city", "Bogotá"),
        ("#f-country", "Colombia"),
    ] {
        browser.fill(field, value).await;
    }
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the email is refused",
            "document.querySelector('#f-email-error:not([hidden])')",
        )
        .await;
    assert_eq!(
        browser.text("#f-email-error").await,
        "Ya existe una cuenta con este correo."
    );
    captured.extend(browser.capture("15-signup-refused").await);

    // A tries to delete the voted video: refused with the rule's message.
    log_in(&browser, &base, &a.email, PASSWORD).await;
    browser
        .wait_until(
            "A's videos",
            "document.querySelector('li.mine[data-status=\"processed\"]')",
        )
        .await;

    // A reload keeps A signed in: the access token lives in the page's memory only (nothing
    // about the session in localStorage or sessionStorage), and the page gets a new one with
    // the refresh cookie (HttpOnly, Secure, SameSite=Strict, sent to /api/auth only).
    assert_no_session_in_storage(&browser).await;
    let cookie = refresh_cookie(&browser, &base).await;
    assert_eq!(
        (
            cookie["httpOnly"].clone(),
            cookie["secure"].clone(),
            cookie["sameSite"].clone(),
            cookie["path"].clone()
        ),
        (
            json!(true),
            json!(true),
            json!("Strict"),
            json!("/api/auth")
        ),
        "{cookie}"
    );
    browser.client.refresh().await.expect("a reload");
    browser
        .wait_until(
            "A is still signed in after the reload",
            "document.querySelector('#nav button.logout')
               && document.querySelector('li.mine[data-status=\"processed\"]')",
        )
        .await;
    assert_no_session_in_storage(&browser).await;
    browser.click("li.mine button.danger").await;
    browser
        .client
        .accept_alert()
        .await
        .expect("confirming the delete");
    browser
        .wait_until(
            "the delete is refused",
            "document.querySelector('li.mine .row-message').textContent.length > 0",
        )
        .await;
    assert_eq!(
        browser.text("li.mine .row-message").await,
        "Este video ya tiene votos y no se puede eliminar."
    );
    captured.extend(browser.capture("16-my-videos-delete-refused").await);

    // Unpublish, then publish again: the row says so.
    browser.click("li.mine .actions button.secondary").await;
    browser
        .wait_until(
            "unpublished",
            "document.querySelector('li.mine .meta').textContent.includes('No publicado')",
        )
        .await;
    assert_eq!(
        browser.text("li.mine .actions button.secondary").await,
        "Publicar"
    );
    browser.click("li.mine .actions button.secondary").await;
    browser
        .wait_until(
            "published again",
            "document.querySelector('li.mine .meta').textContent.endsWith('Publicado')",
        )
        .await;

    // A shares the video from its row: the dialog takes the focus (to the player search),
    // finds B by name (name and city), shares with B, makes a 1-day link, then a 7-day one
    // that A revokes, copies the live one; Escape closes it and the focus goes back.
    browser.click("li.mine button.share").await;
    browser
        .wait_until(
            "the share dialog is open, the focus on its search",
            "document.querySelector('dialog.share-dialog[open]') && document.activeElement.id === 'share-q'
               && document.querySelector('dialog.share-dialog .shares') && !document.querySelector('dialog.share-dialog .links li')",
        )
        .await;
    browser.fill("#share-q", "brun").await;
    browser
        .wait_until(
            "B is found",
            "document.querySelector('#share-results li[data-user-id] button.grant')",
        )
        .await;
    assert_eq!(
        browser.text("#share-results li[data-user-id] span").await,
        "Bruno Díaz · Cali"
    );
    browser.click("#share-results button.grant").await;
    browser
        .wait_until(
            "B is listed among who can watch it",
            "document.querySelector('dialog .shares li')?.textContent.includes('Bruno Díaz')
               && document.querySelector('dialog .dialog-status').textContent === 'Compartido con Bruno Díaz.'",
        )
        .await;
    let new_link = |seconds: u32| {
        format!(
            "(() => {{ const s = document.querySelector('#share-lifetime');
                s.value = '{seconds}'; s.dispatchEvent(new Event('change')); return true; }})()"
        )
    };
    browser.eval(&new_link(86_400)).await;
    browser.click("dialog button.create-link").await;
    browser
        .wait_until(
            "the link is listed, the focus on its copy button",
            "document.querySelectorAll('dialog .links li').length === 1
               && document.activeElement.matches('dialog .links li button.copy')",
        )
        .await;
    let link = browser
        .eval("[document.querySelector('dialog .links li').dataset.linkId, document.querySelector('dialog .links li input').value]")
        .await;
    let (link_id, link_url) = (
        link[0].as_str().expect("a link id").to_owned(),
        link[1].as_str().expect("a link URL").to_owned(),
    );
    assert!(
        link_url.starts_with(&format!("{base}/shared/")),
        "{link_url}"
    );
    browser.eval(&new_link(604_800)).await;
    browser.click("dialog button.create-link").await;
    browser
        .wait_until(
            "two links",
            "document.querySelectorAll('dialog .links li').length === 2",
        )
        .await;
    let revoked_url = browser
        .eval(&format!(
            "document.querySelector('dialog .links li:not([data-link-id=\"{link_id}\"]) input').value"
        ))
        .await
        .as_str()
        .expect("the second link")
        .to_owned();
    browser
        .click(&format!(
            "dialog .links li:not([data-link-id=\"{link_id}\"]) button.revoke"
        ))
        .await;
    browser
        .wait_until(
            "the second link is revoked",
            &format!(
                "document.querySelectorAll('dialog .links li').length === 1
                   && document.querySelector('dialog .links li').dataset.linkId === '{link_id}'
                   && document.querySelector('dialog .dialog-status').textContent === 'Enlace revocado: ya no funciona.'"
            ),
        )
        .await;
    browser.click("dialog .links li button.copy").await;
    browser
        .wait_until(
            "the link is copied (or selected for copying)",
            "['Enlace copiado.', 'Enlace seleccionado: cópialo con Ctrl+C (o ⌘+C).']
               .includes(document.querySelector('dialog .dialog-status').textContent)",
        )
        .await;
    captured.extend(browser.capture("16b-share-dialog").await);
    browser.press(Key::Escape).await;
    browser
        .wait_until(
            "Escape closes the dialog and the focus is back on its button",
            "!document.querySelector('dialog.share-dialog') && document.activeElement.matches('li.mine button.share')",
        )
        .await;

    // A uploads a longer clip: while it is processed, its row shows a bar with the percent
    // done and the time left (the API's `progress`), then the bar goes when it is ready.
    browser.fill("#f-title", "Jugada completa").await;
    browser
        .find("#f-video_file")
        .await
        .send_keys(long_clip.to_str().expect("a utf-8 path"))
        .await
        .expect("choosing the file");
    browser.click("form.upload button[type=submit]").await;
    browser
        .wait_until(
            "the processing bar shows the percent done (the API's `progress`)",
            "(() => { const box = document.querySelector('li.mine[data-status=\"processing\"] .processing');
               const bar = box?.querySelector('progress');
               return bar && bar.hasAttribute('value') && bar.max === 100
                 && document.getElementById(bar.getAttribute('aria-labelledby'))?.textContent === 'Progreso del procesamiento'
                 && /^\\d+ % procesado/.test(box.querySelector('.progress-text').textContent); })()",
        )
        .await;
    captured.extend(browser.capture("17-my-videos-processing").await);
    browser
        .wait_until(
            "the longer clip is processed and its bar is gone",
            "document.querySelectorAll('li.mine[data-status=\"processed\"]').length === 2
               && !document.querySelector('li.mine progress')",
        )
        .await;

    // The English toggle.
    browser.click("#nav button.lang").await;
    browser
        .wait_until(
            "the English texts",
            "document.querySelector('h1').textContent === 'My videos'",
        )
        .await;
    captured.extend(browser.capture("18-my-videos-english").await);
    browser.click("#nav button.lang").await;
    browser
        .wait_until(
            "the Spanish texts again",
            "document.querySelector('h1').textContent === 'Mis videos'",
        )
        .await;

    // A logs out: the session ends on the server (its refresh cookie, replayed, is refused)
    // and a reload shows the signed-out view.
    let cookie = refresh_cookie(&browser, &base).await;
    log_out(&browser).await;
    let replayed = reqwest::Client::new()
        .post(format!("{base}/api/auth/refresh"))
        .header(
            "Cookie",
            format!(
                "anb_refresh={}",
                cookie["value"].as_str().unwrap_or_default()
            ),
        )
        .send()
        .await
        .expect("a refresh with the old cookie");
    assert_eq!(replayed.status().as_u16(), 401);
    browser.client.refresh().await.expect("a reload");
    browser
        .wait_until(
            "signed out after the reload",
            "document.querySelector('#nav a[href=\"/entrar\"]') && !document.querySelector('#nav button.logout')",
        )
        .await;

    // B sees A's video in "Compartidos conmigo" and plays it (HLS through its signed links).
    log_in(&browser, &base, &b.email, PASSWORD).await;
    browser
        .wait_until(
            "B is signed in",
            "location.pathname === '/mis-videos' && document.querySelector('#nav a[href=\"/compartidos\"]')",
        )
        .await;
    // A token the server refuses (as one that ran out): three calls at once answer 401, the
    // page renews the token once (one refresh, the others wait for it) and each call is sent
    // again and succeeds.
    let renewed = browser
        .client
        .execute_async(
            "const done = arguments[0];
             const refreshes = () => performance.getEntriesByType('resource')
               .filter((r) => new URL(r.name).pathname === '/api/auth/refresh').length;
             const before = refreshes();
             import(document.querySelector('link[rel=modulepreload][href$=\"/js/api.js\"]').href)
               .then(async (api) => {
                 api.session.save('not-a-token', 900);
                 const answers = await Promise.all([api.auth.me(), api.videos.mine(), api.sharing.withMe()]);
                 done([answers.map((a) => Boolean(a.data)), api.session.token !== 'not-a-token', refreshes() - before]);
               })
               .catch((e) => done(String(e)));",
            vec![],
        )
        .await
        .expect("calls with a refused token");
    assert_eq!(renewed, json!([[true, true, true], true, 1]), "{renewed}");
    browser.click("#nav a[href=\"/compartidos\"]").await;
    browser
        .wait_until(
            "the shared video is listed",
            "document.querySelector('li.shared[data-video-id] h2')?.textContent === 'Triple desde media cancha'",
        )
        .await;
    assert!(browser
        .text("li.shared .player")
        .await
        .starts_with("Ana Rincón · Medellín"));
    captured.extend(browser.capture("19-shared-with-me").await);
    browser.click("li.shared button.play").await;
    browser
        .wait_until(
            "the shared video plays",
            "(() => { const v = document.querySelector('li.shared video');
               return v && v.readyState >= 2 && v.videoHeight > 0 && v.currentTime > 0.5
                 && ['native', 'hls.js'].includes(v.dataset.engine) && v.dataset.source.endsWith('/hls/master.m3u8'); })()",
        )
        .await;

    // A session that cannot be renewed (the cookie gone, the token refused) ends on the log-in
    // screen, which says so and leads back to where B was going.
    browser
        .cdp(
            "Network.deleteCookies",
            json!({ "name": "anb_refresh", "url": format!("{base}/api/auth/refresh") }),
        )
        .await;
    browser
        .client
        .execute_async(
            "const done = arguments[0];
             import(document.querySelector('link[rel=modulepreload][href$=\"/js/api.js\"]').href)
               .then((api) => { api.session.save('not-a-token', 900); done(true); }, (e) => done(String(e)));",
            vec![],
        )
        .await
        .expect("a refused token");
    browser.click("#nav a[href=\"/cuenta\"]").await;
    browser
        .wait_until(
            "the log-in screen, saying the session ended",
            "location.pathname + location.search === '/entrar?next=cuenta' && document.querySelector('#f-email')
               && !document.querySelector('#nav button.logout')
               && document.querySelector('#toast.show')?.textContent === 'Tu sesión terminó. Entra de nuevo.'",
        )
        .await;
    browser.fill("#f-email", &b.email).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.click("form button[type=submit]").await;

    // B's account: log out on every device.
    browser
        .wait_until("back to the account", "location.pathname === '/cuenta'")
        .await;
    browser.find("#logout-all").await;
    assert!(browser.text("main").await.contains(&b.email));
    captured.extend(browser.capture("20-account").await);
    browser.click("#logout-all").await;
    browser
        .wait_until(
            "B is signed out",
            "location.pathname === '/galeria' && document.querySelector('#nav a[href=\"/entrar\"]')",
        )
        .await;
    browser.client.refresh().await.expect("a reload");
    browser
        .wait_until(
            "still signed out after the reload",
            "document.querySelector('#nav a[href=\"/entrar\"]') && !document.querySelector('#nav button.logout')",
        )
        .await;

    // The share link, signed out: the video plays; the revoked link and a made-up one say why not.
    browser.open(&link_url).await;
    browser
        .wait_until(
            "the share link's video plays",
            "(() => { const v = document.querySelector('article.shared-link video');
               return v && v.readyState >= 2 && v.videoHeight > 0 && v.currentTime > 0.5; })()",
        )
        .await;
    assert_eq!(browser.text("main h1").await, "Triple desde media cancha");
    captured.extend(browser.capture("21-share-link").await);
    browser.open(&revoked_url).await;
    browser
        .wait_until(
            "the revoked link is refused",
            "document.querySelector('.shared-link[data-error=\"access_revoked\"]')",
        )
        .await;
    assert_eq!(
        browser.text(".shared-link .notice").await,
        "Quien compartió este enlace lo revocó: ya no da acceso al video."
    );
    captured.extend(browser.capture("22-share-link-revoked").await);
    browser
        .open(&format!("{base}/#/shared/no-es-un-enlace"))
        .await;
    browser
        .wait_until(
            "a made-up link is refused",
            "document.querySelector('.shared-link[data-error=\"signature_invalid\"]')",
        )
        .await;
    assert_eq!(
        browser.text(".shared-link .notice").await,
        "Este enlace no es válido. Revisa que esté completo."
    );

    browser.close().await;
    println!("screenshots:");
    for file in &captured {
        println!("  {}", file.display());
    }
    assert_eq!(captured.len(), 50);
}

/// Waits for the provider's interaction page (`…/interaction/<uid>`) and finishes the login
/// and consent there as `account` (the test provider's `…/interaction/<uid>/login?account=`).
async fn log_in_at_the_provider(browser: &Browser, issuer: &str, account: &str) {
    browser
        .wait_until(
            "the provider's interaction page",
            "location.pathname.startsWith('/interaction/')",
        )
        .await;
    let url = browser.client.current_url().await.expect("the current URL");
    assert!(
        url.as_str().starts_with(issuer.trim_end_matches('/')),
        "{url} is not the provider's ({issuer})"
    );
    let uid = url
        .path()
        .trim_start_matches("/interaction/")
        .split('/')
        .next()
        .expect("the interaction's uid")
        .to_owned();
    let mut login = url.clone();
    login.set_path(&format!("/interaction/{uid}/login"));
    login.set_query(Some(&format!("account={account}")));
    browser
        .client
        .goto(login.as_str())
        .await
        .expect("finishing the login at the provider");
}

/// "Entrar con Google" against a real OpenID provider (`oidc-provider`, started here): the
/// button only when the server offers a provider; a new player goes to the provider, logs in,
/// comes back to the profile form (audited), completes it and is signed in; logged out, the
/// same button signs them straight back in; a refused login says so on the log-in screen; the
/// profile form sent again, its sign-up cookie ended with the account's creation, says the sign-up expired.
#[tokio::test(flavor = "multi_thread")]
async fn logging_in_with_the_openid_provider_in_a_real_browser() {
    use anb_adapters::testkit::oidc_provider::{
        OidcProvider, ProviderOptions, CLIENT_ID, CLIENT_SECRET, VERIFIED_ACCOUNT,
    };

    let provider = OidcProvider::start_with(ProviderOptions {
        redirect_uris: vec!["http://127.0.0.1/api/auth/oidc/callback".into()],
        any_loopback_port: true,
        ..ProviderOptions::default()
    })
    .await;
    let issuer = provider.issuer().to_owned();
    let anb = tokio::task::block_in_place(|| {
        Launch::serve()
            .env("ANB_OIDC_ISSUER", issuer.clone())
            .env("ANB_OIDC_CLIENT_ID", CLIENT_ID)
            .env("ANB_OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("ANB_OIDC_NAME", "Google")
            .start()
    });
    let base = anb.base_url().to_owned();
    let shots = screenshot_dir("ui-screenshots-oidc");
    let browser = Browser::start(&shots).await;

    // The log-in screen offers the provider: a labelled link, reached with the keyboard.
    browser.open(&format!("{base}/entrar")).await;
    assert_eq!(browser.text("a.provider").await, "Entrar con Google");
    assert_eq!(
        browser
            .eval("document.querySelector('a.provider').getAttribute('href')")
            .await,
        json!("/api/auth/oidc/start")
    );
    browser.tab_to_and_press_enter("a.provider", 20).await;
    log_in_at_the_provider(&browser, &issuer, VERIFIED_ACCOUNT).await;

    // Back from the provider, a new player: the profile form, its names as the provider says.
    browser
        .wait_until(
            "the profile form",
            "location.pathname === '/complete-profile' && !location.hash && document.querySelector('#f-city')",
        )
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('#f-first_name').placeholder")
            .await,
        json!("El que dice tu proveedor")
    );
    browser.capture("01-complete-profile").await;
    // City and country are required, in the browser first.
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the missing city is shown",
            "!document.querySelector('#f-city-error').hidden",
        )
        .await;
    browser.audit("the profile form with its errors").await;
    browser.fill("#f-city", "Tunja").await;
    browser.fill("#f-country", "Colombia").await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the new player is signed in",
            "location.pathname === '/mis-videos' && document.querySelector('#nav a[href=\"/mis-videos\"]')
               && document.querySelector('#nav .who')?.textContent === 'Ana'",
        )
        .await;
    assert_no_session_in_storage(&browser).await;
    browser.client.refresh().await.expect("a reload");
    browser
        .wait_until(
            "still signed in after a reload (the refresh cookie)",
            "document.querySelector('#nav button.logout') && document.querySelector('#nav .who')?.textContent === 'Ana'",
        )
        .await;

    // Logged out, the same button signs her straight back in (the provider may ask again).
    log_out(&browser).await;
    browser.open(&format!("{base}/#/entrar")).await;
    browser.click("a.provider").await;
    browser
        .wait_until(
            "back from the provider, or at its login page",
            "location.pathname.startsWith('/interaction/') || (location.pathname === '/' && !location.hash && document.querySelector('#nav button.logout'))",
        )
        .await;
    if browser
        .eval("location.pathname.startsWith('/interaction/')")
        .await
        == json!(true)
    {
        log_in_at_the_provider(&browser, &issuer, VERIFIED_ACCOUNT).await;
    }
    browser
        .wait_until(
            "the returning player is signed in, with no profile form",
            "location.pathname === '/' && document.querySelector('#nav button.logout')
               && document.querySelector('#nav .who')?.textContent === 'Ana'
               && !document.querySelector('#f-city')",
        )
        .await;
    log_out(&browser).await;

    // A login the server refused says why on the log-in screen, with the button to try again.
    browser
        .open(&format!("{base}/#/login?oidc_error=refused"))
        .await;
    assert_eq!(
        browser.text("main .notice.error").await,
        "No se pudo completar el ingreso con tu proveedor. Inténtalo de nuevo."
    );
    assert_eq!(browser.text("a.provider").await, "Entrar con Google");
    browser.capture("02-login-refused").await;

    // The profile form again: her account exists now, and its creation ended the sign-up
    // cookie, so the server's 401 says the sign-up expired and leads back to the provider.
    browser.open(&format!("{base}/complete-profile")).await;
    browser.fill("#f-city", "Tunja").await;
    browser.fill("#f-country", "Colombia").await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the expired sign-up is explained",
            "document.querySelector('main .notice.error:not([hidden]) a[href=\"/api/auth/oidc/start\"]')",
        )
        .await;
    assert_eq!(
        browser.text("main .notice.error").await,
        "El registro caducó. Entra de nuevo con tu proveedor. Entrar con Google"
    );
    assert!(browser
        .eval("document.querySelector('#nav button.logout')")
        .await
        .is_null());

    browser.close().await;
    provider.stop().await;
}

/// The mails to `email` among the `.eml` files the server wrote (the embedded default,
/// `data/mail`), oldest first, waiting up to 10 s for at least `count`.
async fn mails_to(anb: &app::Anb, email: &str, count: usize) -> Vec<ReceivedMail> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let outbox = EmlDirectory(anb.data_dir().join("mail"));
    loop {
        let found: Vec<ReceivedMail> = if outbox.0.exists() {
            outbox
                .messages()
                .await
                .into_iter()
                .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(email)))
                .collect()
        } else {
            Vec::new()
        };
        if found.len() >= count || tokio::time::Instant::now() > deadline {
            assert!(found.len() >= count, "{count} mails to {email}: {found:#?}");
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits until the screen's heading is `title` and the address bar no longer holds `token`
/// (taken out with `history.replaceState`, so it does not linger in the history).
async fn wait_for_screen_without_token(browser: &Browser, title: &str, path: &str, token: &str) {
    browser
        .wait_until(
            &format!("the {title:?} screen, the token out of the address"),
            &format!(
                "document.querySelector('main h1')?.textContent === {title:?} \
                 && location.pathname === {path:?} && !location.hash && !location.href.includes({token:?})"
            ),
        )
        .await;
}

/// Verified email and password reset in the web app, on the embedded defaults (the mails are
/// `.eml` files under `data/mail`) with votes requiring a verified email: a new player sees the
/// verification banner; their vote on a published video is refused with the message pointing to
/// it; "Reenviar el correo" mails a new link, which opened in the browser verifies the email
/// (the banner goes, the token leaves the address bar, the vote now counts) and opened again
/// says the link is no longer valid. Logged out, "¿Olvidaste tu contraseña?" asks for a reset
/// link; its screen shows mismatched passwords beside the field, then sets a new password,
/// which ends on the log-in screen: the old password is refused, the new one logs in. Each new
/// screen is audited and captured under `target/ui-screenshots-account/`.
#[tokio::test(flavor = "multi_thread")]
async fn verifying_the_email_and_resetting_the_password_in_a_real_browser() {
    let media_dir = clips::workdir();
    let clip = std::fs::read(Clip::h264(2.0).make(media_dir.path(), "tiro.mp4")).expect("the clip");
    let anb = tokio::task::block_in_place(|| {
        Launch::all()
            .env("ANB_VOTE_REQUIRES_VERIFIED_EMAIL", "true")
            .start()
    });
    let base = anb.base_url().to_owned();
    let shots = screenshot_dir("ui-screenshots-account");
    let browser = Browser::start(&shots).await;
    let mut captured = Vec::new();

    // Someone's published video to vote on, uploaded over the API (processed meanwhile).
    let api = client::Api::new(&base);
    let owner = api.player("Olga", "Sube", "Pasto").await;
    let video_id = api.upload_clip(&owner, &clip, "Tiro libre").await;

    // A new player: the banner at the top of the screen.
    let player = Player {
        first: "Vera",
        last: "Correa",
        email: unique_email("vera"),
        city: "Pasto",
    };
    sign_up(&browser, &base, &player).await;
    browser
        .wait_until(
            "the verification banner",
            "document.querySelector('main .verify-banner:not([hidden]) h2')?.textContent === 'Verifica tu correo para votar'",
        )
        .await;
    captured.extend(browser.capture("01-verify-banner").await);

    // Their vote is refused with the message pointing to the verification.
    api.wait_processed(&owner, &video_id).await;
    browser.open(&format!("{base}/galeria")).await;
    browser.click("li.video button.vote").await;
    browser
        .wait_until(
            "the vote is refused for the unverified email",
            "document.querySelector('li.video .vote-status')?.textContent \
               === 'Verifica tu correo para votar: abre el enlace que te enviamos o pide uno nuevo en el aviso de arriba.'",
        )
        .await;
    assert_eq!(browser.text("li.video .votes").await, "0 votos");
    captured.extend(browser.capture("02-vote-refused-unverified").await);

    // "Reenviar el correo": a second mail (the sign-up sent the first), its link opened here.
    assert_eq!(mails_to(&anb, &player.email, 1).await.len(), 1);
    browser.click(".verify-banner button.resend").await;
    browser
        .wait_until(
            "the banner says the mail is sent",
            "document.querySelector('.verify-banner .banner-status')?.textContent \
               === 'Te enviamos un correo nuevo con el enlace de verificación.'",
        )
        .await;
    let mails = mails_to(&anb, &player.email, 2).await;
    assert!(
        mails[1].subject.contains("Verifica"),
        "{}",
        mails[1].subject
    );
    let token = mailed_token(&mails[1], "verify-email");
    browser
        .open(&format!("{base}/verify-email?token={token}"))
        .await;
    wait_for_screen_without_token(&browser, "Correo verificado", "/verify-email", &token).await;
    browser
        .wait_until(
            "the banner is gone",
            "!document.querySelector('.verify-banner:not([hidden])')",
        )
        .await;
    captured.extend(browser.capture("03-email-verified").await);

    // The same link again: no longer valid.
    browser
        .open(&format!("{base}/#/verify-email?token={token}"))
        .await;
    wait_for_screen_without_token(&browser, "Enlace no válido", "/verify-email", &token).await;
    assert_eq!(
        browser.text("main .notice.error").await,
        "Este enlace no es válido: ya se usó o caducó."
    );
    captured.extend(browser.capture("04-verify-link-used").await);

    // Verified, the vote counts.
    browser.open(&format!("{base}/galeria")).await;
    browser.click("li.video button.vote").await;
    browser
        .wait_until(
            "the vote counts",
            "document.querySelector('li.video .vote-status')?.textContent === 'Voto registrado exitosamente.'",
        )
        .await;

    // Logged out, the player forgot their password: the link on the log-in screen.
    log_out(&browser).await;
    browser.open(&format!("{base}/entrar")).await;
    browser.click("a[href=\"/olvide-contrasena\"]").await;
    browser
        .wait_until(
            "the forgotten-password form",
            "location.pathname === '/olvide-contrasena' && document.querySelector('form #f-email')",
        )
        .await;
    captured.extend(browser.capture("05-forgot-password").await);
    browser.fill("#f-email", &player.email).await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the neutral answer",
            "document.querySelector('main .notice.ok')?.textContent === 'Si existe una cuenta con ese correo, \
               te enviamos un enlace para restablecer la contraseña. Vale 1 hora.'",
        )
        .await;
    captured.extend(browser.capture("06-forgot-password-sent").await);

    // The reset mail's link: mismatched passwords are shown beside the second one.
    let mails = mails_to(&anb, &player.email, 3).await;
    let token = mailed_token(&mails[2], "reset-password");
    browser
        .open(&format!("{base}/reset-password?token={token}"))
        .await;
    wait_for_screen_without_token(
        &browser,
        "Elige una contraseña nueva",
        "/reset-password",
        &token,
    )
    .await;
    captured.extend(browser.capture("07-reset-password").await);
    let new_password = "rebote-ofensivo";
    browser.fill("#f-password1", new_password).await;
    browser.fill("#f-password2", "otra-cosa-distinta").await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the mismatch beside the repeated password",
            "!document.querySelector('#f-password2-error').hidden \
               && document.querySelector('#f-password2').getAttribute('aria-invalid') === 'true'",
        )
        .await;
    assert_eq!(
        browser.text("#f-password2-error").await,
        "Las contraseñas no coinciden."
    );
    captured.extend(browser.capture("08-reset-password-mismatch").await);

    // A good new password: the log-in screen, and a message saying so; the old password is refused, the new one
    // logs in.
    browser.fill("#f-password2", new_password).await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the log-in screen after the reset",
            "location.pathname === '/entrar' && document.querySelector('#toast.show')?.textContent \
               === 'Contraseña actualizada. Entra con tu nueva contraseña.' \
               && document.querySelector('main form #f-password') && document.querySelector('#nav a[href=\"/entrar\"]')",
        )
        .await;
    captured.extend(browser.capture("09-password-reset-done").await);
    log_in(&browser, &base, &player.email, PASSWORD).await;
    browser
        .wait_until(
            "the old password is refused",
            "document.querySelector('#f-password-error')?.textContent === 'Correo o contraseña incorrectos.'",
        )
        .await;
    log_in(&browser, &base, &player.email, new_password).await;
    browser
        .wait_until(
            "signed in with the new password, verified (no banner)",
            "location.pathname === '/mis-videos' && document.querySelector('#nav button.logout') \
               && !document.querySelector('.verify-banner:not([hidden])')",
        )
        .await;

    browser.close().await;
    println!("screenshots:");
    for file in &captured {
        println!("  {}", file.display());
    }
    assert_eq!(captured.len(), 18);
}

/// The operators' token of the browser test of the pages.
const OPS_TOKEN: &str = "operators-token-for-the-browser";

/// The shared pages in the web app, at real paths: the gallery's card leads to the video's page
/// (`/v/{id}`, followed within the page: no reload), where the clip plays, a signed-in player
/// votes, and "Compartir" shares `/v/{id}` (the Web Share API, else the link copied); the
/// player's link leads to their page (`/p/{id}`: place, votes, their videos) and Back returns
/// to the video; the rankings show a podium with the leader first and their video's thumbnail,
/// vote bars (widths set from script under the CSP) and the cities with votes as a filter;
/// "Cargar más" appends the gallery's next page without moving the first; an unknown video
/// shows the not-found page; old `#/…` links become their paths. Each screen is audited and
/// captured under `target/ui-screenshots-pages/`.
#[tokio::test(flavor = "multi_thread")]
async fn the_video_page_the_player_page_and_the_rankings_podium_in_a_real_browser() {
    let media_dir = clips::workdir();
    let clip =
        std::fs::read(Clip::h264(3.0).make(media_dir.path(), "bandeja.mp4")).expect("the clip");
    let anb = tokio::task::block_in_place(|| Launch::all().env("ANB_OPS_TOKEN", OPS_TOKEN).start());
    let base = anb.base_url().to_owned();
    let shots = screenshot_dir("ui-screenshots-pages");
    let browser = Browser::start(&shots).await;
    let mut captured = Vec::new();

    // Two players' published videos, uploaded over the API; a fan votes for both.
    let api = client::Api::new(&base);
    let olga = api.player("Olga", "Sube", "Pasto").await;
    let ivan = api.player("Iván", "Tapia", "Tunja").await;
    let fan = api.player("Fan", "Vota", "Pasto").await;
    let olga_video = api.upload_clip(&olga, &clip, "Bandeja de zurda").await;
    let ivan_video = api.upload_clip(&ivan, &clip, "Tapón").await;
    api.wait_processed(&olga, &olga_video).await;
    api.wait_processed(&ivan, &ivan_video).await;
    for video in [&olga_video, &ivan_video] {
        api.post_as(&fan, &format!("/api/public/videos/{video}/vote"))
            .await
            .expect_json(200);
    }

    // Another player, signed in in the browser, finds Olga's video in the gallery and opens
    // its page from the card: a link followed without loading the page again.
    let voter = Player {
        first: "Vera",
        last: "Mira",
        email: unique_email("vera"),
        city: "Cali",
    };
    sign_up(&browser, &base, &voter).await;
    browser.open(&format!("{base}/galeria")).await;
    let card = format!("li.video[data-video-id=\"{olga_video}\"]");
    browser.find(&format!("{card} h2 a")).await;
    assert_eq!(
        browser
            .eval(&format!(
                "[document.querySelector('{card} h2 a').getAttribute('href'),
                  document.querySelector('{card} .player a').getAttribute('href')]"
            ))
            .await,
        json!([format!("/v/{olga_video}"), format!("/p/{}", olga.user_id)])
    );
    browser.eval("(window.samePage = true)").await;
    browser.click(&format!("{card} h2 a")).await;
    let video_page = format!(
        "location.pathname === '/v/{olga_video}' && window.samePage
           && document.querySelector('article.video-page h1')?.textContent === 'Bandeja de zurda'"
    );
    browser.wait_until("the video's page", &video_page).await;
    assert_eq!(
        browser.text("article.video-page .player").await,
        "De Olga Sube · Pasto, Colombia"
    );
    assert_eq!(browser.text("article.video-page .votes").await, "1 voto");
    captured.extend(browser.capture("01-video-page").await);

    // The clip plays (HLS), and playback advances.
    browser.click("article.video-page button.play").await;
    browser
        .wait_until(
            "the video plays",
            "(() => { const v = document.querySelector('article.video-page video');
               return v && v.readyState >= 2 && v.videoHeight > 0 && v.currentTime > 0.3
                 && ['native', 'hls.js'].includes(v.dataset.engine); })()",
        )
        .await;
    let at = browser
        .eval("document.querySelector('article.video-page video').currentTime")
        .await
        .as_f64()
        .expect("a time");
    browser
        .wait_until(
            "playback advances",
            &format!("document.querySelector('article.video-page video').currentTime > {at} + 0.5"),
        )
        .await;

    // The vote counts, as in the gallery.
    browser.click("article.video-page button.vote").await;
    browser
        .wait_until(
            "the vote counts",
            "document.querySelector('article.video-page .vote-status')?.textContent === 'Voto registrado exitosamente.'
               && document.querySelector('article.video-page .votes').textContent === '2 votos'",
        )
        .await;
    captured.extend(browser.capture("02-video-voted").await);

    // "Compartir": the device's share sheet with the page's address where there is one …
    let page_url = format!("{base}/v/{olga_video}");
    browser
        .eval(
            "(() => { window.shared = null;
                Object.defineProperty(navigator, 'share', { configurable: true,
                  value: (data) => { window.shared = data; return Promise.resolve(); } });
                return true; })()",
        )
        .await;
    browser.click("article.video-page button.share").await;
    browser.wait_until("the share sheet", "window.shared").await;
    assert_eq!(
        browser.eval("window.shared").await,
        json!({ "title": "Bandeja de zurda", "url": page_url })
    );
    // … else the link copied (or, where the clipboard is refused, shown to copy).
    browser
        .eval("(() => { Object.defineProperty(navigator, 'share', { configurable: true, value: undefined }); return true; })()")
        .await;
    browser.click("article.video-page button.share").await;
    browser
        .wait_until(
            "the link is copied",
            &format!(
                "['Enlace copiado.', 'Copia este enlace: {page_url}']
                   .includes(document.querySelector('#toast.show')?.textContent)"
            ),
        )
        .await;

    // The player's link: their page, with their place, votes and videos.
    browser.click("article.video-page .player a").await;
    browser
        .wait_until(
            "the player's page",
            &format!(
                "location.pathname === '/p/{}' && window.samePage
                   && document.querySelector('.player-page h1')?.textContent === 'Olga Sube'
                   && document.querySelector('.player-page li.video')",
                olga.user_id
            ),
        )
        .await;
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('.stats dd')].map((d) => d.textContent)")
            .await,
        json!(["Puesto #1", "2 votos", "1"])
    );
    assert_eq!(browser.text(".player-page .lead").await, "Pasto, Colombia");
    assert_eq!(
        browser
            .eval("document.querySelector('.player-page li.video h2 a').getAttribute('href')")
            .await,
        json!(format!("/v/{olga_video}"))
    );
    captured.extend(browser.capture("03-player-page").await);
    // In English.
    browser.click("#nav button.lang").await;
    browser
        .wait_until(
            "the English texts",
            "document.querySelector('.stats .rank dd')?.textContent === 'Place #1'",
        )
        .await;
    browser.click("#nav button.lang").await;
    browser
        .wait_until(
            "the Spanish texts again",
            "document.querySelector('.stats .rank dd')?.textContent === 'Puesto #1'",
        )
        .await;

    // Back: the video's page again.
    browser.client.back().await.expect("going back");
    browser
        .wait_until("back on the video's page", &video_page)
        .await;

    // The rankings: a podium (Olga first, with her video's thumbnail), bars as long as the
    // votes are of the leader's, each row a link to the player's page.
    browser.click("#nav a[href=\"/rankings\"]").await;
    browser
        .wait_until(
            "the podium, its thumbnails loaded",
            "location.pathname === '/rankings' && window.samePage
               && document.querySelectorAll('ol.podium li').length === 2
               && [...document.querySelectorAll('ol.podium img')].every((i) => i.complete && i.naturalWidth > 0)",
        )
        .await;
    assert_eq!(
        browser
            .eval(
                "[...document.querySelectorAll('ol.podium li')].map((li) => [
                   li.querySelector('.pos').textContent, li.querySelector('.name').textContent,
                   li.querySelector('img').alt, li.querySelector('img').getAttribute('loading'),
                   li.querySelector('.name a').getAttribute('href')])"
            )
            .await,
        json!([
            [
                "Puesto 1",
                "Olga Sube",
                "Bandeja de zurda",
                "lazy",
                format!("/p/{}", olga.user_id)
            ],
            [
                "Puesto 2",
                "Iván Tapia",
                "Tapón",
                "lazy",
                format!("/p/{}", ivan.user_id)
            ]
        ])
    );
    let bars = browser
        .eval(
            "[...document.querySelectorAll('table.rankings .bar')].map((b) =>
               Math.round(100 * b.firstChild.getBoundingClientRect().width / b.getBoundingClientRect().width))",
        )
        .await;
    assert_eq!(bars, json!([100, 50]), "the vote bars (2 and 1 votes)");
    captured.extend(browser.capture("04-rankings-podium").await);

    // The cities with votes filter the rankings; "Todas" clears the filter.
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('nav.city-filter a')].map((a) => a.textContent)")
            .await,
        json!(["Todas", "Pasto 2 votos", "Tunja 1 voto"])
    );
    browser.click("nav.city-filter li:nth-child(3) a").await;
    browser
        .wait_until(
            "the rankings of Tunja",
            "new URLSearchParams(location.search).get('city') === 'Tunja'
               && document.querySelector('nav.city-filter a[aria-current=page]')?.textContent.startsWith('Tunja')
               && document.querySelectorAll('table.rankings tbody tr').length === 1
               && document.querySelector('table.rankings tbody th').textContent === 'Iván Tapia'",
        )
        .await;
    captured.extend(browser.capture("05-rankings-city").await);
    browser.click("nav.city-filter li:first-child a").await;
    browser
        .wait_until(
            "every city again",
            "location.search === '' && document.querySelectorAll('table.rankings tbody tr').length === 2",
        )
        .await;
    browser
        .click(&format!("table.rankings a[href=\"/p/{}\"]", ivan.user_id))
        .await;
    browser
        .wait_until(
            "Iván's page",
            "document.querySelector('.player-page h1')?.textContent === 'Iván Tapia'
               && document.querySelector('.stats .rank dd').textContent === 'Puesto #2'",
        )
        .await;

    // "Cargar más" (one video a page here): the next card is appended, the first does not
    // move, the focus goes to the new card, and the button goes when there is no more.
    browser.open(&format!("{base}/galeria?page_size=1")).await;
    browser.find(".load-more button.more").await;
    let top = browser
        .eval("document.querySelector('li.video').getBoundingClientRect().top")
        .await;
    captured.extend(browser.capture("06-gallery-load-more").await);
    browser.click(".load-more button.more").await;
    browser
        .wait_until(
            "the next page is appended",
            "document.querySelectorAll('li.video').length === 2
               && document.activeElement === document.querySelectorAll('li.video h2 a')[1]
               && document.querySelector('.load-more').hidden",
        )
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('li.video').getBoundingClientRect().top")
            .await,
        top
    );

    // An unknown video: the not-found page (the server's 404 says so), with the way back.
    browser
        .open(&format!("{base}/v/{}", uuid::Uuid::new_v4()))
        .await;
    browser
        .wait_until(
            "the not-found page",
            "document.querySelector('.not-found h1')?.textContent === 'No encontramos esta página'",
        )
        .await;
    captured.extend(browser.capture("07-not-found").await);
    browser.click(".not-found a[href=\"/galeria\"]").await;
    browser
        .wait_until(
            "the gallery",
            "location.pathname === '/galeria' && document.querySelector('li.video')",
        )
        .await;

    // Old links: `#/rankings` is now `/rankings`; a share link's `#/shared/…` its path too.
    browser.open(&format!("{base}/#/rankings")).await;
    browser
        .wait_until(
            "the old link's screen at its path",
            "location.pathname === '/rankings' && !location.hash && document.querySelector('ol.podium')",
        )
        .await;

    // The operator's page: a wrong token is refused, the right one shows the summary (the
    // two processed videos, the worker) and it is accessible.
    browser.open(&format!("{base}/operador")).await;
    browser
        .fill("input[name=token]", "not-the-operators-token")
        .await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the refusal",
            "!document.querySelector('.form-error').hidden && document.querySelector('input[name=token]')",
        )
        .await;
    browser.fill("input[name=token]", OPS_TOKEN).await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "the summary",
            "document.querySelectorAll('.ops-summary tbody tr').length === 1
               && [...document.querySelectorAll('.ops-summary dd')].some((dd) => dd.textContent === '2')",
        )
        .await;
    browser.audit("operator").await;

    browser.close().await;
    println!("screenshots:");
    for file in &captured {
        println!("  {}", file.display());
    }
    assert_eq!(captured.len(), 14);
}
