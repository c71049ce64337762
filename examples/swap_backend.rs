//! One flow, any backend: the adapters are chosen by the settings' URLs alone. The walkthrough
//! below (sign up, upload, process, vote, rank) is the same code whichever database the URLs
//! name; only the `database_url` value differs between runs (`ANB_DATABASE_URL` in a
//! deployment; here it is given in code through `Settings::from_figment`).
//!
//! ```sh
//! # SQLite (the default): a file in a temporary directory
//! cargo run --example swap_backend -- sqlite
//!
//! # PostgreSQL: a server URL without a database makes a throwaway `anb_example_<random>`
//! # database, dropped at the end
//! cargo run --example swap_backend -- postgres://postgres@127.0.0.1:5432
//!
//! # a named database: created (and dropped at the end) if it does not exist; used as is,
//! # and kept, if it does (so use a database of its own, not `postgres`)
//! cargo run --example swap_backend -- postgres://postgres@127.0.0.1:5432/anb_demo
//!
//! # everything in process, lost at exit
//! cargo run --example swap_backend -- memory
//! ```
//!
//! Every backend uses the database's own job queue (`db://`) and media files in a temporary
//! directory (`file://`), and a JWT secret generated for the run. It needs the `ffmpeg` CLI,
//! which makes the clip that is uploaded.

use std::path::Path;
use std::time::Duration;

use anb::app::compose;
use anb::app::settings::{mask_url, Settings};
use anb::{City, PageRequest, RankingEntry, RankingQuery, SignupForm, UploadForm, VideoStatus};
use anb_worker::{Worker, WorkerConfig};
use anyhow::{bail, ensure, Context as _};
use figment::Figment;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let choice = std::env::args().nth(1).unwrap_or_else(|| "sqlite".into());
    let scratch = tempfile::Builder::new()
        .prefix("anb-swap-backend-")
        .tempdir()
        .context("creating a temporary directory")?;

    // The only backend-specific step: a database URL (and, for PostgreSQL, the database).
    let (database_url, throwaway) = match choice.as_str() {
        "sqlite" => (
            format!("sqlite://{}", scratch.path().join("anb.db").display()),
            None,
        ),
        "memory" => ("memory://".to_owned(), None),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let database = PostgresDatabase::prepare(url).await?;
            (database.url.clone(), database.throwaway.then_some(database))
        }
        other => bail!(
            "unknown backend {other:?}: pass `sqlite`, `memory` or a postgres://… URL \
             (see the top of examples/swap_backend.rs)"
        ),
    };

    // The settings, exactly as `ANB_DATABASE_URL`, `ANB_QUEUE_URL`, `ANB_BLOB_URL` and
    // `ANB_JWT_SECRET` would give them.
    let blob_url = format!("file://{}", scratch.path().join("blobs").display());
    let jwt_secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let settings = Settings::from_figment(
        &Figment::new()
            .merge(("database_url", &database_url))
            .merge(("queue_url", "db://"))
            .merge(("blob_url", &blob_url))
            .merge(("jwt_secret", &jwt_secret)),
    )?;

    let outcome = walkthrough(&settings, scratch.path()).await;
    if let Some(database) = throwaway {
        database.drop_database().await?;
    }
    outcome?;
    println!("\nDone; {} is removed on exit.", scratch.path().display());
    Ok(())
}

/// The whole flow on the backends `settings` name. Nothing here knows which they are.
async fn walkthrough(settings: &Settings, scratch: &Path) -> anyhow::Result<()> {
    println!("ANB Showcase on {}", mask_url(&settings.database_url));
    println!("  settings: {}", settings.describe());
    let app = compose::connect(settings).await?;
    for (component, ready) in app.readiness().await {
        ready.with_context(|| format!("{component:?} is not ready"))?;
    }
    let showcase = app.showcase.clone();
    // Emails are unique: a per-run tag lets the flow run again on a database that is kept.
    let run = &uuid::Uuid::new_v4().simple().to_string()[..6];

    let outcome = async {
        println!("\n1. Two players sign up");
        let ana = showcase
            .signup(player("Ana", &format!("ana.{run}@example.com"), "Bogotá"))
            .await?;
        let ben = showcase
            .signup(player("Ben", &format!("ben.{run}@example.com"), "Medellín"))
            .await?;
        for user in [&ana, &ben] {
            println!("   {} <{}> from {}", user.username(), user.email, user.city);
        }

        println!("\n2. Ana uploads a clip");
        let clip = scratch.join("clip.mp4");
        let made = clip.clone();
        tokio::task::spawn_blocking(move || make_clip(&made)).await??;
        let file = tokio::fs::File::open(&clip)
            .await
            .with_context(|| format!("opening {}", clip.display()))?;
        let body: anb::ByteStream = Box::pin(tokio_util::io::ReaderStream::new(file));
        let form = UploadForm {
            title: "Crossover".into(),
            ..UploadForm::default()
        };
        let receipt = showcase.upload_video(ana.id, form, body).await?;
        let video_id = receipt.video.id;
        println!(
            "   \"{}\": {}, {} bytes; job {} queued",
            receipt.video.title, receipt.video.status, receipt.video.size_bytes, receipt.task_id
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
            "   \"{}\": {}, {:.2} s",
            video.title,
            video.status,
            video.duration_seconds.unwrap_or_default()
        );

        println!("\n4. Ben votes");
        let votes = showcase.cast_vote(ben.id, video_id).await?;
        println!("   \"{}\" has {votes} vote(s)", video.title);

        println!("\n5. Rankings (first page)");
        for city in [None, Some("Bogotá"), Some("Medellín")] {
            let query = RankingQuery {
                city: city.map(City::parse).transpose()?,
                country: None,
                page: PageRequest::default(),
            };
            let page = showcase.rankings(&query).await?;
            let label = city.unwrap_or("all players");
            if page.items.is_empty() {
                println!("   {label}: nobody yet (players are ranked from their first vote)");
            } else {
                println!("   {label}: {} ranked", page.total);
            }
            for RankingEntry {
                position,
                username,
                city,
                votes,
                ..
            } in &page.items
            {
                println!("     #{position} {username} ({city}): {votes} vote(s)");
            }
        }
        anyhow::Ok(())
    }
    .await;
    app.close().await;
    outcome
}

/// A signup form for a player from `city`, Colombia.
fn player(first: &str, email: &str, city: &str) -> SignupForm {
    SignupForm {
        first_name: first.into(),
        last_name: "Example".into(),
        email: email.into(),
        password1: "tiro-libre-23".into(),
        password2: "tiro-libre-23".into(),
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

/// The PostgreSQL database the example runs on.
struct PostgresDatabase {
    /// Its URL.
    url: String,
    /// The same server's `postgres` database, to create and drop databases from.
    admin_url: String,
    /// Its name.
    name: String,
    /// Whether the example created it (and so drops it at the end).
    throwaway: bool,
}

impl PostgresDatabase {
    /// The database `url` names, created if it does not exist; a fresh `anb_example_<random>`
    /// one when `url` names none.
    async fn prepare(url: &str) -> anyhow::Result<Self> {
        let mut parsed = url::Url::parse(url).context("parsing the PostgreSQL URL")?;
        let named = parsed.path().trim_start_matches('/').to_owned();
        let name = if named.is_empty() {
            format!("anb_example_{}", uuid::Uuid::new_v4().simple())
        } else {
            named
        };
        ensure!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?}: use letters, digits and underscores"
        );
        parsed.set_path("/postgres");
        let admin_url = parsed.to_string();
        parsed.set_path(&format!("/{name}"));
        let url = parsed.to_string();

        let admin = anb_adapters::postgres::connect(&admin_url, 1)
            .await
            .with_context(|| format!("connecting to {}", mask_url(&admin_url)))?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&name)
                .fetch_one(&admin)
                .await?;
        if exists {
            println!("Using the existing database {name} (kept at the end)");
        } else {
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&admin)
                .await
                .with_context(|| format!("creating the database {name}"))?;
            println!("Created the database {name} (dropped at the end)");
        }
        admin.close().await;
        Ok(Self {
            url,
            admin_url,
            name,
            throwaway: !exists,
        })
    }

    /// Drops the database (closing any connection still open to it).
    async fn drop_database(self) -> anyhow::Result<()> {
        let admin = anb_adapters::postgres::connect(&self.admin_url, 1).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&admin)
        .await
        .with_context(|| format!("dropping the database {}", self.name))?;
        admin.close().await;
        println!("\nDropped the database {}", self.name);
        Ok(())
    }
}
