//! The ANB Showcase SDK in process, on the embedded backends: a SQLite file, the job queue in
//! that database (`db://`) and media on local files (`file://`), all in a temporary directory,
//! with the JWT signing secret generated there too. Nothing else runs: no server, no services.
//!
//! It walks through the whole flow with the real adapters, FFmpeg included:
//! 1. two players sign up (Ana in Bogotá, Ben in Medellín), and Ana logs in;
//! 2. Ana uploads a 4 s clip made on the fly with the ffmpeg CLI, streamed from its file;
//! 3. a worker (`anb_worker::Worker::run_once`) processes it: trimmed, fitted to 1280x720,
//!    stamped with the logo, encoded for the web, thumbnailed;
//! 4. Ben votes for it (Ana may not vote for her own video);
//! 5. the rankings, for everyone and by city.
//!
//! Run it from the workspace root (it needs the `ffmpeg` CLI on the `PATH`):
//!
//! ```sh
//! cargo run --example embedded
//! ```
//!
//! `swap_backend` runs the same flow on a backend chosen by URL (SQLite or PostgreSQL).

use std::path::Path;
use std::time::Duration;

use anb::app::compose::{self, Composed};
use anb::app::settings::Settings;
use anb::{
    CastVoteError, City, PageRequest, RankingEntry, RankingQuery, SignupForm, UploadForm,
    VideoStatus,
};
use anb_worker::{Worker, WorkerConfig};
use anyhow::{bail, ensure, Context as _};
use figment::Figment;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Everything the app stores goes under one temporary directory, removed at the end.
    let scratch = tempfile::Builder::new()
        .prefix("anb-embedded-")
        .tempdir()
        .context("creating a temporary directory")?;
    let data_dir = scratch.path().join("data");

    // The embedded defaults need one setting: where to keep their files. The same keys can come
    // from `anb.toml` or `ANB_*` variables (`Settings::load`); here they are given in code.
    let settings = Settings::from_figment(&Figment::new().merge(("data_dir", &data_dir)))?;
    println!("ANB Showcase, embedded in this process");
    println!("  settings: {}", settings.describe());

    let app = compose::connect(&settings).await?;
    let outcome = walkthrough(&app, scratch.path()).await;
    app.close().await;
    outcome?;

    println!("\nDone; {} is removed on exit.", scratch.path().display());
    Ok(())
}

/// The flow, on whatever backends `app` was composed from.
async fn walkthrough(app: &Composed, scratch: &Path) -> anyhow::Result<()> {
    let showcase = &app.showcase;

    println!("\n1. Two players sign up");
    let ana = showcase
        .signup(player("Ana", "Rojas", "ana@example.com", "Bogotá"))
        .await?;
    let ben = showcase
        .signup(player("Ben", "Soto", "ben@example.com", "Medellín"))
        .await?;
    for user in [&ana, &ben] {
        println!(
            "   {} <{}> from {}, {}",
            user.username(),
            user.email,
            user.city,
            user.country
        );
    }
    let token = showcase.login("ANA@example.com", PASSWORD).await?;
    let signed_in = showcase.authenticate(&token.access.token)?;
    ensure!(signed_in == ana.id, "the token names someone else");
    println!(
        "   Ana logs in: a token valid for {} s, naming her",
        token.access.expires_in
    );

    println!("\n2. Ana uploads a clip");
    let clip = scratch.join("clip.mp4");
    let made = clip.clone();
    tokio::task::spawn_blocking(move || make_clip(&made)).await??;
    let file = tokio::fs::File::open(&clip)
        .await
        .with_context(|| format!("opening {}", clip.display()))?;
    let size = file.metadata().await?.len();
    println!("   made {} with ffmpeg: {size} bytes", clip.display());
    // The service reads any stream of byte chunks; this one streams the file from disk.
    let body: anb::ByteStream = Box::pin(tokio_util::io::ReaderStream::new(file));
    let form = UploadForm {
        title: "Crossover".into(),
        description: Some("Between the legs, then left.".into()),
        tags: Some("dribbling, crossover".into()),
        ..UploadForm::default()
    };
    let receipt = showcase.upload_video(ana.id, form, body).await?;
    let video_id = receipt.video.id;
    println!(
        "   \"{}\" is {}: {} bytes stored as {}; processing job {} queued",
        receipt.video.title,
        receipt.video.status,
        receipt.video.size_bytes,
        receipt.video.original,
        receipt.task_id
    );

    println!("\n3. A worker processes the queue");
    let config = WorkerConfig {
        profile: app.profile.clone(),
        ..WorkerConfig::with_lease(Duration::from_secs(60), 1)
    };
    let summary = Worker::new(showcase.clone(), config)?.run_once().await?;
    println!(
        "   jobs handled: {} ({} processed, {} failed)",
        summary.jobs(),
        summary.processed,
        summary.failed
    );
    let video = showcase.own_video(ana.id, video_id).await?;
    if let VideoStatus::Failed { reason } = &video.status {
        bail!("processing failed: {reason}");
    }
    ensure!(
        video.status == VideoStatus::Processed,
        "the video is still {}",
        video.status
    );
    println!(
        "   \"{}\" is {}: {:.2} s long",
        video.title,
        video.status,
        video.duration_seconds.unwrap_or_default()
    );
    for key in [&video.processed, &video.thumbnail].into_iter().flatten() {
        let meta = app.ports.blobs.head(key).await?;
        println!("   stored {key} ({} bytes)", meta.size);
    }

    println!("\n4. Votes");
    let votes = showcase.cast_vote(ben.id, video_id).await?;
    println!("   Ben votes for \"{}\": {votes} vote(s)", video.title);
    match showcase.cast_vote(ana.id, video_id).await {
        Err(refused @ CastVoteError::SelfVote) => {
            println!("   Ana votes for her own video: refused ({refused})");
        }
        other => bail!("a vote for one's own video was not refused: {other:?}"),
    }

    println!("\n5. Rankings");
    print_rankings(app, "all players", None).await?;
    print_rankings(app, "Bogotá", Some("Bogotá")).await?;
    print_rankings(app, "Medellín", Some("Medellín")).await?;
    Ok(())
}

/// The password of every player in this example.
const PASSWORD: &str = "tiro-libre-23";

/// A signup form for a player from `city`, Colombia.
fn player(first: &str, last: &str, email: &str, city: &str) -> SignupForm {
    SignupForm {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        password1: PASSWORD.into(),
        password2: PASSWORD.into(),
        city: city.into(),
        country: "Colombia".into(),
    }
}

/// Writes a 4 s 640x360 30 fps H.264 + AAC test clip to `path` with the ffmpeg CLI.
fn make_clip(path: &Path) -> anyhow::Result<()> {
    let output = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"])
        .args(["-f", "lavfi", "-i", "sine", "-t", "4"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac"])
        .arg(path)
        .output()
        .context("running ffmpeg (is the ffmpeg CLI installed?)")?;
    ensure!(
        output.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Prints the first page of the rankings, of every player or of one city's.
async fn print_rankings(app: &Composed, label: &str, city: Option<&str>) -> anyhow::Result<()> {
    let query = RankingQuery {
        city: city.map(City::parse).transpose()?,
        country: None,
        page: PageRequest::default(),
    };
    let page = app.showcase.rankings(&query).await?;
    if page.items.is_empty() {
        println!("   {label}: nobody yet (players are ranked from their first vote)");
    } else {
        println!("   {label}: {} ranked", page.total);
    }
    for RankingEntry {
        position,
        username,
        city,
        country,
        votes,
        ..
    } in &page.items
    {
        println!("     #{position} {username} ({city}, {country}): {votes} vote(s)");
    }
    Ok(())
}
