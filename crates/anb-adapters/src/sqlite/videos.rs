use crate::sql::OrFault as _;
use anb_domain::ports::{
    DeleteVideoRecordError, PublicVideoQuery, TransitionError, VideoRepository, VisibilityError,
};
use anb_domain::{
    Page, PageRequest, PublicVideo, StatusChange, UserId, Video, VideoId, VideoStatus,
};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::rows::{self, micros};
use super::{begin_write, SqliteStore};
use crate::sql::VIDEO_COLUMNS;
use crate::sql::{
    encode_status, encode_tags, public_from_records, public_page, public_total, search_text,
};

/// Reads a video inside a write transaction (which already holds the database's write lock).
async fn read(tx: &mut Transaction<'_, Sqlite>, id: VideoId) -> anyhow::Result<Option<Video>> {
    let sql = format!("SELECT {VIDEO_COLUMNS} FROM videos v WHERE v.id = ?");
    let row = sqlx::query(&sql)
        .bind(id.as_uuid())
        .fetch_optional(&mut **tx)
        .await
        .fault("reading a video")?;
    row.map(|r| rows::video(&r)?.into_video()).transpose()
}

/// Writes the fields a status or visibility change may alter (never the vote counter).
async fn store_changes(tx: &mut Transaction<'_, Sqlite>, video: &Video) -> anyhow::Result<()> {
    let (status, reason) = encode_status(&video.status);
    sqlx::query(
        "UPDATE videos SET status = ?, failure_reason = ?, is_public = ?, processed_key = ?, \
         thumbnail_key = ?, duration_seconds = ?, status_changed_at = ?, processed_at = ?, \
         published_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(reason)
    .bind(video.is_public)
    .bind(video.processed.as_ref().map(|k| k.as_str()))
    .bind(video.thumbnail.as_ref().map(|k| k.as_str()))
    .bind(video.duration_seconds)
    .bind(micros(video.status_changed_at))
    .bind(video.processed_at.map(micros))
    .bind(video.published_at.map(micros))
    .bind(video.id.as_uuid())
    .execute(&mut **tx)
    .await
    .fault("updating a video")?;
    Ok(())
}

#[async_trait]
impl VideoRepository for SqliteStore {
    async fn insert(&self, video: &Video) -> anyhow::Result<()> {
        let (status, reason) = encode_status(&video.status);
        sqlx::query(
            "INSERT INTO videos (id, owner_id, title, description, tags, search_text, status, \
             failure_reason, is_public, size_bytes, original_key, processed_key, thumbnail_key, \
             duration_seconds, uploaded_at, status_changed_at, processed_at, published_at, votes) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(video.id.as_uuid())
        .bind(video.owner_id.as_uuid())
        .bind(video.title.as_str())
        .bind(video.description.as_ref().map(|d| d.as_str()))
        .bind(encode_tags(&video.tags))
        .bind(search_text(video))
        .bind(status)
        .bind(reason)
        .bind(video.is_public)
        .bind(i64::try_from(video.size_bytes).context("size")?)
        .bind(video.original.as_str())
        .bind(video.processed.as_ref().map(|k| k.as_str()))
        .bind(video.thumbnail.as_ref().map(|k| k.as_str()))
        .bind(video.duration_seconds)
        .bind(micros(video.uploaded_at))
        .bind(micros(video.status_changed_at))
        .bind(video.processed_at.map(micros))
        .bind(video.published_at.map(micros))
        .bind(i64::try_from(video.votes).context("votes")?)
        .execute(self.db.writer())
        .await
        .fault("inserting a video")?;
        Ok(())
    }

    async fn get(&self, id: VideoId) -> anyhow::Result<Option<Video>> {
        let sql = format!("SELECT {VIDEO_COLUMNS} FROM videos v WHERE v.id = ?");
        let row = sqlx::query(&sql)
            .bind(id.as_uuid())
            .fetch_optional(self.db.reader())
            .await
            .fault("reading a video")?;
        row.map(|r| rows::video(&r)?.into_video()).transpose()
    }

    async fn list_by_owner(&self, owner: UserId, page: PageRequest) -> anyhow::Result<Page<Video>> {
        let sql = format!(
            "SELECT {VIDEO_COLUMNS} FROM videos v WHERE v.owner_id = ? \
             ORDER BY v.uploaded_at DESC, v.id DESC LIMIT ? OFFSET ?"
        );
        let found = sqlx::query(&sql)
            .bind(owner.as_uuid())
            .bind(page.limit() as i64)
            .bind(page.offset() as i64)
            .fetch_all(self.db.reader())
            .await
            .fault("listing a player's videos")?;
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM videos WHERE owner_id = ?")
            .bind(owner.as_uuid())
            .fetch_one(self.db.reader())
            .await
            .fault("counting a player's videos")?;
        let items = found
            .iter()
            .map(|r| rows::video(r)?.into_video())
            .collect::<anyhow::Result<_>>()?;
        Ok(Page {
            items,
            total: total as u64,
            request: page,
        })
    }

    async fn list_public(&self, query: &PublicVideoQuery) -> anyhow::Result<Page<PublicVideo>> {
        let found = public_page::<Sqlite>(query)
            .build()
            .fetch_all(self.db.reader())
            .await
            .fault("listing public videos")?;
        let total: i64 = public_total::<Sqlite>(query)
            .build()
            .fetch_one(self.db.reader())
            .await
            .fault("counting public videos")?
            .try_get(0)?;
        let records = found
            .iter()
            .map(|r| Ok((rows::video(r)?, rows::owner(r)?)))
            .collect::<anyhow::Result<_>>()?;
        public_from_records(records, total, query)
    }

    async fn transition(
        &self,
        id: VideoId,
        change: &StatusChange,
        at: DateTime<Utc>,
    ) -> Result<Video, TransitionError> {
        let mut tx = begin_write(&self.db).await?;
        let video = read(&mut tx, id).await?.ok_or(TransitionError::NotFound)?;
        let next = video
            .apply(change, at)
            .map_err(|current| TransitionError::NotAllowed { current })?;
        store_changes(&mut tx, &next).await?;
        tx.commit().await.fault("committing a status change")?;
        Ok(next)
    }

    async fn unfinished(
        &self,
        changed_before: DateTime<Utc>,
        after: Option<VideoId>,
        limit: u32,
    ) -> anyhow::Result<Vec<(VideoId, VideoStatus)>> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, status FROM videos WHERE status IN ('uploaded', 'processing') \
             AND status_changed_at < ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3",
        )
        .bind(micros(changed_before))
        .bind(after.map(|id| id.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(self.db.reader())
        .await
        .fault("reading the videos waiting for processing")?;
        crate::sql::unfinished_from_rows(rows)
    }

    async fn claim_stuck(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<VideoId>> {
        // One statement on the single writer: selection and claim are atomic.
        let claimed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE videos SET claimed_at = ?1 WHERE id IN (\
                 SELECT id FROM videos WHERE status IN ('uploaded', 'processing') \
                 AND status_changed_at < ?2 AND (claimed_at IS NULL OR claimed_at < ?2) \
                 ORDER BY status_changed_at, id LIMIT ?3) \
             RETURNING id",
        )
        .bind(micros(at))
        .bind(micros(older_than))
        .bind(i64::from(limit))
        .fetch_all(self.db.writer())
        .await
        .fault("claiming stuck videos")?;
        Ok(claimed.into_iter().map(VideoId::from_uuid).collect())
    }

    async fn set_visibility(
        &self,
        id: VideoId,
        public: bool,
        at: DateTime<Utc>,
    ) -> Result<Video, VisibilityError> {
        let mut tx = begin_write(&self.db).await?;
        let video = read(&mut tx, id).await?.ok_or(VisibilityError::NotFound)?;
        let next = video
            .with_visibility(public, at)
            .map_err(|_| VisibilityError::NotProcessed)?;
        store_changes(&mut tx, &next).await?;
        tx.commit().await.fault("committing a visibility change")?;
        Ok(next)
    }

    async fn delete(&self, id: VideoId) -> Result<Video, DeleteVideoRecordError> {
        let mut tx = begin_write(&self.db).await?;
        let video = read(&mut tx, id)
            .await?
            .ok_or(DeleteVideoRecordError::NotFound)?;
        video.check_deletable()?;
        sqlx::query("DELETE FROM videos WHERE id = ?")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .fault("deleting a video")?;
        tx.commit().await.fault("committing a deletion")?;
        Ok(video)
    }
}
