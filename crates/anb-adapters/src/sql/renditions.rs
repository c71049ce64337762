//! [`RenditionRepository`] on [`Store`]: a request is one write transaction holding its video
//! and its owner (the owner's row lock makes one owner's requests take turns, so the limit on
//! pending conversions holds under concurrency); "one of each kind per video" is a unique index.

use anb_domain::event::VideoEvent;
use anb_domain::ports::{
    RenditionRepository, RenditionTransitionError, RequestRenditionError, Requested,
};
use anb_domain::rendition::{Rendition, RenditionChange, RenditionFormat, RenditionStatus};
use anb_domain::video::ProcessingProgress;
use anb_domain::{BlobKey, RenditionId, UserId, VideoId};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, Transaction};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::events::record;
use super::fault::OrFault as _;
use super::videos::select_video;
use super::{SqlTime, Store};

/// Columns read for a [`RenditionRecord`].
const RENDITION_COLUMNS: &str = "id, video_id, owner_id, format, height, status, \
     failure_reason, output_key, progress_percent, progress_eta_seconds, requested_at, \
     finished_at";

/// A `renditions` row ([`RENDITION_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub struct RenditionRecord {
    id: Uuid,
    video_id: Uuid,
    owner_id: Uuid,
    format: String,
    height: Option<i64>,
    status: String,
    failure_reason: Option<String>,
    output_key: Option<String>,
    progress_percent: Option<f64>,
    progress_eta_seconds: Option<f64>,
    requested_at: SqlTime,
    finished_at: Option<SqlTime>,
}

impl RenditionRecord {
    fn into_rendition(self) -> anyhow::Result<Rendition> {
        let format = RenditionFormat::parse(&self.format)
            .with_context(|| format!("unknown rendition format {:?}", self.format))?;
        let status = match self.status.as_str() {
            "pending" => RenditionStatus::Pending,
            "processing" => RenditionStatus::Processing,
            "ready" => RenditionStatus::Ready,
            "failed" => RenditionStatus::Failed {
                reason: self.failure_reason.unwrap_or_default(),
            },
            other => anyhow::bail!("unknown rendition status {other:?}"),
        };
        Ok(Rendition {
            id: RenditionId::from_uuid(self.id),
            video_id: VideoId::from_uuid(self.video_id),
            owner_id: UserId::from_uuid(self.owner_id),
            format,
            height: self
                .height
                .map(u32::try_from)
                .transpose()
                .context("stored rendition height")?,
            status,
            progress: self.progress_percent.map(|percent| ProcessingProgress {
                percent,
                eta_seconds: self.progress_eta_seconds,
            }),
            output: self
                .output_key
                .map(BlobKey::new)
                .transpose()
                .context("stored blob key")?,
            requested_at: self.requested_at.into(),
            finished_at: self.finished_at.map(Into::into),
        })
    }
}

/// The same rendition of the same video, read on `conn` with `lock` after the `SELECT`.
async fn select_same<D: Dialect>(
    conn: &mut <D::Db as Database>::Connection,
    rendition: &Rendition,
) -> anyhow::Result<Option<Rendition>> {
    let sql = format!(
        "SELECT {RENDITION_COLUMNS} FROM renditions WHERE video_id = $1 AND format = $2 \
         AND COALESCE(height, 0) = $3{}",
        D::LOCK_ROW
    );
    let query = sqlx::query::<D::Db>(&sql)
        .arg(rendition.video_id.as_uuid())
        .arg(rendition.format.as_str().to_owned())
        .arg(i64::from(rendition.height.unwrap_or(0)));
    let record: Option<RenditionRecord> = driver::fetch_optional(query, conn)
        .await
        .fault("reading a rendition")?;
    record.map(RenditionRecord::into_rendition).transpose()
}

/// The rendition with `id`, read on `conn` with `lock` after the `SELECT`.
async fn select_rendition<D: Dialect>(
    conn: &mut <D::Db as Database>::Connection,
    id: RenditionId,
    lock: &str,
) -> anyhow::Result<Option<Rendition>> {
    let sql = format!("SELECT {RENDITION_COLUMNS} FROM renditions WHERE id = $1{lock}");
    let query = sqlx::query::<D::Db>(&sql).arg(id.as_uuid());
    let record: Option<RenditionRecord> = driver::fetch_optional(query, conn)
        .await
        .fault("reading a rendition")?;
    record.map(RenditionRecord::into_rendition).transpose()
}

/// Writes what a change may alter.
async fn store_changes<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    rendition: &Rendition,
) -> anyhow::Result<()> {
    let reason = match &rendition.status {
        RenditionStatus::Failed { reason } => Some(reason.clone()),
        _ => None,
    };
    let query = sqlx::query::<D::Db>(
        "UPDATE renditions SET status = $2, failure_reason = $3, output_key = $4, \
         progress_percent = $5, progress_eta_seconds = $6, requested_at = $7, finished_at = $8 \
         WHERE id = $1",
    )
    .arg(rendition.id.as_uuid())
    .arg(rendition.status.as_str().to_owned())
    .arg(reason)
    .arg(rendition.output.as_ref().map(|k| k.as_str().to_owned()))
    .arg(rendition.progress.map(|p| p.percent))
    .arg(rendition.progress.and_then(|p| p.eta_seconds))
    .arg(SqlTime(rendition.requested_at))
    .arg(rendition.finished_at.map(SqlTime));
    driver::execute(query, &mut **tx)
        .await
        .fault("updating a rendition")?;
    Ok(())
}

#[async_trait]
impl<D: Dialect> RenditionRepository for Store<D> {
    async fn request(
        &self,
        rendition: &Rendition,
        max_pending: u32,
    ) -> Result<Requested, RequestRenditionError> {
        let mut tx = self.begin_write().await?;
        // Holding the owner makes one owner's requests take turns (SQLite's write transaction
        // already does). The video first: every transaction takes the vote tables' rows in
        // that order (video, then player; a recount locks the tables so), or they deadlock.
        for (table, id) in [
            ("videos", rendition.video_id.as_uuid()),
            ("users", rendition.owner_id.as_uuid()),
        ] {
            let hold = format!("SELECT id FROM {table} WHERE id = $1{}", D::LOCK_ROW);
            let _: Option<(Uuid,)> =
                driver::fetch_optional(sqlx::query::<D::Db>(&hold).arg(id), &mut *tx)
                    .await
                    .fault("holding the video and its owner")?;
        }
        let same = select_same::<D>(&mut tx, rendition).await?;
        if let Some(existing) = &same {
            if !matches!(existing.status, RenditionStatus::Failed { .. }) {
                return Ok(Requested::Existing(existing.clone()));
            }
        }
        let count = sqlx::query::<D::Db>(
            "SELECT count(*) FROM renditions WHERE owner_id = $1 \
             AND status IN ('pending', 'processing')",
        )
        .arg(rendition.owner_id.as_uuid());
        let (pending,): (i64,) = driver::fetch_one(count, &mut *tx)
            .await
            .fault("counting pending conversions")?;
        if pending >= i64::from(max_pending) {
            return Err(RequestRenditionError::TooManyPending { limit: max_pending });
        }
        let requested = match same {
            Some(failed) => {
                let again = failed
                    .apply(&RenditionChange::AskAgain, rendition.requested_at)
                    .map_err(|status| anyhow::anyhow!("a {status} rendition asked again"))?;
                store_changes::<D>(&mut tx, &again).await?;
                Requested::Again(again)
            }
            None => {
                let insert = sqlx::query::<D::Db>(
                    "INSERT INTO renditions (id, video_id, owner_id, format, height, status, \
                     requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .arg(rendition.id.as_uuid())
                .arg(rendition.video_id.as_uuid())
                .arg(rendition.owner_id.as_uuid())
                .arg(rendition.format.as_str().to_owned())
                .arg(rendition.height.map(i64::from))
                .arg(rendition.status.as_str().to_owned())
                .arg(SqlTime(rendition.requested_at));
                driver::execute(insert, &mut *tx)
                    .await
                    .fault("recording a rendition")?;
                Requested::New(rendition.clone())
            }
        };
        tx.commit().await.fault("committing a rendition")?;
        Ok(requested)
    }

    async fn get(&self, id: RenditionId) -> anyhow::Result<Option<Rendition>> {
        select_rendition::<D>(&mut *self.read().await?, id, "").await
    }

    async fn list_for_video(&self, video: VideoId) -> anyhow::Result<Vec<Rendition>> {
        let sql = format!(
            "SELECT {RENDITION_COLUMNS} FROM renditions WHERE video_id = $1 \
             ORDER BY requested_at, id"
        );
        let query = sqlx::query::<D::Db>(&sql).arg(video.as_uuid());
        let records: Vec<RenditionRecord> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("listing renditions")?;
        records
            .into_iter()
            .map(RenditionRecord::into_rendition)
            .collect()
    }

    async fn transition(
        &self,
        id: RenditionId,
        change: &RenditionChange,
        at: DateTime<Utc>,
    ) -> Result<Rendition, RenditionTransitionError> {
        let mut tx = self.begin_write().await?;
        let current = select_rendition::<D>(&mut tx, id, D::LOCK_ROW)
            .await?
            .ok_or(RenditionTransitionError::NotFound)?;
        let next = current
            .apply(change, at)
            .map_err(|current| RenditionTransitionError::NotAllowed { current })?;
        store_changes::<D>(&mut tx, &next).await?;
        if next.status == RenditionStatus::Ready && current.status != RenditionStatus::Ready {
            if let Some(video) = select_video::<D>(&mut tx, next.video_id, "").await? {
                let ready = VideoEvent::rendition_ready(&video, &next, at);
                record::<D>(&mut tx, &[ready], self.trace_context()).await?;
            }
        }
        tx.commit().await.fault("committing a rendition change")?;
        Ok(next)
    }

    async fn unfinished(
        &self,
        requested_before: DateTime<Utc>,
        after: Option<RenditionId>,
        limit: u32,
    ) -> anyhow::Result<Vec<Rendition>> {
        let sql = format!(
            "SELECT {RENDITION_COLUMNS} FROM renditions WHERE status IN ('pending', 'processing') \
             AND requested_at < $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        let query = sqlx::query::<D::Db>(&sql)
            .arg(SqlTime(requested_before))
            .arg(after.map(|id| id.as_uuid()))
            .arg(i64::from(limit));
        let records: Vec<RenditionRecord> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("reading the conversions waiting")?;
        records
            .into_iter()
            .map(RenditionRecord::into_rendition)
            .collect()
    }

    async fn record_progress(
        &self,
        id: RenditionId,
        progress: ProcessingProgress,
    ) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>(
            "UPDATE renditions SET progress_percent = $2, progress_eta_seconds = $3 \
             WHERE id = $1 AND status = 'processing'",
        )
        .arg(id.as_uuid())
        .arg(Some(progress.percent))
        .arg(progress.eta_seconds);
        let changed = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("recording conversion progress")?;
        Ok(changed > 0)
    }
}
