//! [`VideoRepository`] on [`Store`]: status changes, visibility and deletion each in one write
//! transaction on the locked row, under the domain's rules.

use anb_domain::event::VideoEvent;
use anb_domain::ports::{
    DeleteVideoRecordError, PublicVideoQuery, TransitionError, VideoRepository, VisibilityError,
};
use anb_domain::video::ProcessingProgress;
use anb_domain::{
    Page, PageRequest, PublicVideo, StatusChange, UserId, Video, VideoId, VideoStatus,
};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, Transaction};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::events::record;
use super::fault::OrFault as _;
use super::queries::{public_from_records, public_page, public_total};
use super::records::{
    encode_status, encode_tags, search_text, unfinished_from_rows, VideoRecord, VIDEO_COLUMNS,
};
use super::{SqlTime, Store};

/// The video with `id`, read on `conn` with `lock` after the `SELECT` (inside a write
/// transaction, [`Dialect::LOCK_ROW`] locks the row until the transaction ends).
pub(super) async fn select_video<D: Dialect>(
    conn: &mut <D::Db as Database>::Connection,
    id: VideoId,
    lock: &str,
) -> anyhow::Result<Option<Video>> {
    let sql = format!("SELECT {VIDEO_COLUMNS} FROM videos v WHERE v.id = $1{lock}");
    let query = sqlx::query::<D::Db>(&sql).arg(id.as_uuid());
    let record: Option<VideoRecord> = driver::fetch_optional(query, conn)
        .await
        .fault("reading a video")?;
    record.map(VideoRecord::into_video).transpose()
}

/// Writes the fields a status or visibility change may alter (never the vote counter).
async fn store_changes<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    video: &Video,
) -> anyhow::Result<()> {
    let (status, reason) = encode_status(&video.status);
    let query = sqlx::query::<D::Db>(
        "UPDATE videos SET status = $2, failure_reason = $3, is_public = $4, processed_key = $5, \
         thumbnail_key = $6, duration_seconds = $7, processed_at = $8, published_at = $9, \
         status_changed_at = $10, stream_key = $11, storyboard_key = $12, progress_percent = $13, \
         progress_eta_seconds = $14 WHERE id = $1",
    )
    .arg(video.id.as_uuid())
    .arg(status.to_owned())
    .arg(reason.map(str::to_owned))
    .arg(video.is_public)
    .arg(video.processed.as_ref().map(|k| k.as_str().to_owned()))
    .arg(video.thumbnail.as_ref().map(|k| k.as_str().to_owned()))
    .arg(video.duration_seconds)
    .arg(video.processed_at.map(SqlTime))
    .arg(video.published_at.map(SqlTime))
    .arg(SqlTime(video.status_changed_at))
    .arg(video.stream.as_ref().map(|k| k.as_str().to_owned()))
    .arg(video.storyboard.as_ref().map(|k| k.as_str().to_owned()))
    .arg(video.progress.map(|p| p.percent))
    .arg(video.progress.and_then(|p| p.eta_seconds));
    driver::execute(query, &mut **tx)
        .await
        .fault("updating a video")?;
    Ok(())
}

#[async_trait]
impl<D: Dialect> VideoRepository for Store<D> {
    async fn insert(&self, video: &Video) -> anyhow::Result<()> {
        let (status, reason) = encode_status(&video.status);
        let query = sqlx::query::<D::Db>(
            "INSERT INTO videos (id, owner_id, title, description, tags, search_text, status, \
             failure_reason, is_public, size_bytes, original_key, processed_key, thumbnail_key, \
             duration_seconds, uploaded_at, status_changed_at, processed_at, published_at, votes, \
             stream_key, storyboard_key, progress_percent, progress_eta_seconds) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23)",
        )
        .arg(video.id.as_uuid())
        .arg(video.owner_id.as_uuid())
        .arg(video.title.as_str().to_owned())
        .arg(video.description.as_ref().map(|d| d.as_str().to_owned()))
        .arg(encode_tags(&video.tags))
        .arg(search_text(video))
        .arg(status.to_owned())
        .arg(reason.map(str::to_owned))
        .arg(video.is_public)
        .arg(i64::try_from(video.size_bytes).context("size")?)
        .arg(video.original.as_str().to_owned())
        .arg(video.processed.as_ref().map(|k| k.as_str().to_owned()))
        .arg(video.thumbnail.as_ref().map(|k| k.as_str().to_owned()))
        .arg(video.duration_seconds)
        .arg(SqlTime(video.uploaded_at))
        .arg(SqlTime(video.status_changed_at))
        .arg(video.processed_at.map(SqlTime))
        .arg(video.published_at.map(SqlTime))
        .arg(i64::try_from(video.votes).context("votes")?)
        .arg(video.stream.as_ref().map(|k| k.as_str().to_owned()))
        .arg(video.storyboard.as_ref().map(|k| k.as_str().to_owned()))
        .arg(video.progress.map(|p| p.percent))
        .arg(video.progress.and_then(|p| p.eta_seconds));
        let mut tx = self.begin_write().await?;
        driver::execute(query, &mut tx)
            .await
            .fault("inserting a video")?;
        let events = VideoEvent::of_change(None, Some(video), video.uploaded_at, None);
        record::<D>(&mut tx, &events, self.trace_context()).await?;
        tx.commit().await.fault("committing an upload")?;
        Ok(())
    }

    async fn get(&self, id: VideoId) -> anyhow::Result<Option<Video>> {
        select_video::<D>(&mut *self.read().await?, id, "").await
    }

    async fn list_by_owner(&self, owner: UserId, page: PageRequest) -> anyhow::Result<Page<Video>> {
        let sql = format!(
            "SELECT {VIDEO_COLUMNS} FROM videos v WHERE v.owner_id = $1 \
             ORDER BY v.uploaded_at DESC, v.id DESC LIMIT $2 OFFSET $3"
        );
        let query = sqlx::query::<D::Db>(&sql)
            .arg(owner.as_uuid())
            .arg(page.limit() as i64)
            .arg(page.offset() as i64);
        let count = sqlx::query::<D::Db>("SELECT count(*) FROM videos WHERE owner_id = $1")
            .arg(owner.as_uuid());
        let mut conn = self.read().await?;
        let found: Vec<VideoRecord> = driver::fetch_all(query, &mut conn)
            .await
            .fault("listing a player's videos")?;
        let (total,): (i64,) = driver::fetch_one(count, &mut conn)
            .await
            .fault("counting a player's videos")?;
        let items = found
            .into_iter()
            .map(VideoRecord::into_video)
            .collect::<anyhow::Result<_>>()?;
        Ok(Page {
            items,
            total: total as u64,
            request: page,
        })
    }

    async fn list_public(&self, query: &PublicVideoQuery) -> anyhow::Result<Page<PublicVideo>> {
        let (page, count) = (public_page(query), public_total(query));
        let mut conn = self.read().await?;
        let records = driver::fetch_all(page.build::<D>(), &mut conn)
            .await
            .fault("listing public videos")?;
        let (total,) = driver::fetch_one(count.build::<D>(), &mut conn)
            .await
            .fault("counting public videos")?;
        public_from_records(records, total, query)
    }

    async fn transition(
        &self,
        id: VideoId,
        change: &StatusChange,
        at: DateTime<Utc>,
    ) -> Result<Video, TransitionError> {
        let mut tx = self.begin_write().await?;
        let video = select_video::<D>(&mut tx, id, D::LOCK_ROW)
            .await?
            .ok_or(TransitionError::NotFound)?;
        let next = video
            .apply(change, at)
            .map_err(|current| TransitionError::NotAllowed { current })?;
        store_changes::<D>(&mut tx, &next).await?;
        let events = VideoEvent::of_change(Some(&video), Some(&next), at, change.attempt());
        record::<D>(&mut tx, &events, self.trace_context()).await?;
        tx.commit().await.fault("committing a status change")?;
        Ok(next)
    }

    async fn record_progress(
        &self,
        id: VideoId,
        progress: ProcessingProgress,
    ) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>(
            "UPDATE videos SET progress_percent = $2, progress_eta_seconds = $3 \
             WHERE id = $1 AND status = 'processing'",
        )
        .arg(id.as_uuid())
        .arg(Some(progress.percent))
        .arg(progress.eta_seconds);
        let mut conn = self.write().await?;
        let changed = driver::execute(query, &mut conn)
            .await
            .fault("recording processing progress")?;
        Ok(changed > 0)
    }

    async fn processed_ids(
        &self,
        after: Option<VideoId>,
        limit: u32,
    ) -> anyhow::Result<Vec<VideoId>> {
        let query = sqlx::query::<D::Db>(
            "SELECT id FROM videos WHERE status = 'processed' AND ($1 IS NULL OR id > $1) \
             ORDER BY id LIMIT $2",
        )
        .arg(after.map(|id| id.as_uuid()))
        .arg(i64::from(limit));
        let ids: Vec<(Uuid,)> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("reading the processed videos")?;
        Ok(ids
            .into_iter()
            .map(|(id,)| VideoId::from_uuid(id))
            .collect())
    }

    async fn unfinished(
        &self,
        changed_before: DateTime<Utc>,
        after: Option<VideoId>,
        limit: u32,
    ) -> anyhow::Result<Vec<(VideoId, VideoStatus)>> {
        let query = sqlx::query::<D::Db>(
            "SELECT id, status FROM videos WHERE status IN ('uploaded', 'processing') \
             AND status_changed_at < $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .arg(SqlTime(changed_before))
        .arg(after.map(|id| id.as_uuid()))
        .arg(i64::from(limit));
        let rows = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("reading the videos waiting for processing")?;
        unfinished_from_rows(rows)
    }

    async fn claim_stuck(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<VideoId>> {
        // Concurrent sweepers take disjoint rows (PostgreSQL: SKIP LOCKED, and none waits on a
        // row a worker is changing; SQLite: one statement on the single writer).
        let sql = format!(
            "UPDATE videos SET claimed_at = $1 WHERE id IN (\
                 SELECT id FROM videos WHERE status IN ('uploaded', 'processing') \
                 AND status_changed_at < $2 AND (claimed_at IS NULL OR claimed_at < $2) \
                 ORDER BY status_changed_at, id LIMIT $3{}) \
             RETURNING id",
            D::CLAIM_ROWS
        );
        let query = sqlx::query::<D::Db>(&sql)
            .arg(SqlTime(at))
            .arg(SqlTime(older_than))
            .arg(i64::from(limit));
        let claimed: Vec<(Uuid,)> = driver::fetch_all(query, &mut *self.write().await?)
            .await
            .fault("claiming stuck videos")?;
        Ok(claimed
            .into_iter()
            .map(|(id,)| VideoId::from_uuid(id))
            .collect())
    }

    async fn set_visibility(
        &self,
        id: VideoId,
        public: bool,
        at: DateTime<Utc>,
    ) -> Result<Video, VisibilityError> {
        let mut tx = self.begin_write().await?;
        let video = select_video::<D>(&mut tx, id, D::LOCK_ROW)
            .await?
            .ok_or(VisibilityError::NotFound)?;
        let next = video
            .with_visibility(public, at)
            .map_err(|_| VisibilityError::NotProcessed)?;
        store_changes::<D>(&mut tx, &next).await?;
        let events = VideoEvent::of_change(Some(&video), Some(&next), at, None);
        record::<D>(&mut tx, &events, self.trace_context()).await?;
        tx.commit().await.fault("committing a visibility change")?;
        Ok(next)
    }

    async fn delete(
        &self,
        id: VideoId,
        at: DateTime<Utc>,
    ) -> Result<Video, DeleteVideoRecordError> {
        let mut tx = self.begin_write().await?;
        let video = select_video::<D>(&mut tx, id, D::LOCK_ROW)
            .await?
            .ok_or(DeleteVideoRecordError::NotFound)?;
        video.check_deletable()?;
        // The votes foreign key (RESTRICT) backs the counter check up.
        let query = sqlx::query::<D::Db>("DELETE FROM videos WHERE id = $1").arg(id.as_uuid());
        driver::execute(query, &mut tx)
            .await
            .fault("deleting a video")?;
        let events = VideoEvent::of_change(Some(&video), None, at, None);
        record::<D>(&mut tx, &events, self.trace_context()).await?;
        tx.commit().await.fault("committing a deletion")?;
        Ok(video)
    }
}
