//! [`ShareRepository`] on [`Store`]: shares and links go with their video (and a share with its
//! recipient) by foreign keys; "shared once" is the primary key.

use anb_domain::ports::{ShareError, ShareRepository};
use anb_domain::sharing::{Share, ShareLink, SharedVideo};
use anb_domain::user::PlayerSummary;
use anb_domain::{Page, PageRequest, ShareLinkId, UserId, VideoId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::records::{UserRecord, VideoRecord, USER_COLUMNS, VIDEO_COLUMNS};
use super::{SqlTime, Store};

/// A share and its recipient.
#[derive(sqlx::FromRow)]
pub struct ShareRecord {
    video_id: Uuid,
    shared_at: SqlTime,
    #[sqlx(flatten)]
    recipient: UserRecord,
}

impl ShareRecord {
    fn into_share(self) -> anyhow::Result<Share> {
        Ok(Share {
            video_id: VideoId::from_uuid(self.video_id),
            recipient: PlayerSummary::from(&self.recipient.into_user()?),
            shared_at: self.shared_at.into(),
        })
    }
}

/// A video shared with someone, and its owner.
#[derive(sqlx::FromRow)]
pub struct SharedVideoRecord {
    shared_at: SqlTime,
    #[sqlx(flatten)]
    video: VideoRecord,
    #[sqlx(flatten)]
    owner: UserRecord,
}

/// A `share_links` row.
#[derive(sqlx::FromRow)]
pub struct ShareLinkRecord {
    id: Uuid,
    video_id: Uuid,
    created_at: SqlTime,
    expires_at: SqlTime,
    revoked_at: Option<SqlTime>,
}

impl From<ShareLinkRecord> for ShareLink {
    fn from(r: ShareLinkRecord) -> Self {
        Self {
            id: ShareLinkId::from_uuid(r.id),
            video_id: VideoId::from_uuid(r.video_id),
            created_at: r.created_at.into(),
            expires_at: r.expires_at.into(),
            revoked_at: r.revoked_at.map(Into::into),
        }
    }
}

const LINK_COLUMNS: &str = "id, video_id, created_at, expires_at, revoked_at";

#[async_trait]
impl<D: Dialect> ShareRepository for Store<D> {
    async fn share(
        &self,
        video: VideoId,
        recipient: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Share, bool), ShareError> {
        let mut tx = self.begin_write().await?;
        let (videos,): (i64,) = driver::fetch_one(
            sqlx::query::<D::Db>("SELECT COUNT(*) FROM videos WHERE id = $1").arg(video.as_uuid()),
            &mut *tx,
        )
        .await
        .fault("checking a shared video")?;
        if videos == 0 {
            return Err(ShareError::NoSuchVideo);
        }
        let (users,): (i64,) = driver::fetch_one(
            sqlx::query::<D::Db>("SELECT COUNT(*) FROM users WHERE id = $1")
                .arg(recipient.as_uuid()),
            &mut *tx,
        )
        .await
        .fault("checking a share's recipient")?;
        if users == 0 {
            return Err(ShareError::NoSuchRecipient);
        }
        let insert = sqlx::query::<D::Db>(
            "INSERT INTO video_shares (video_id, recipient_id, shared_at) VALUES ($1, $2, $3) \
             ON CONFLICT (video_id, recipient_id) DO NOTHING",
        )
        .arg(video.as_uuid())
        .arg(recipient.as_uuid())
        .arg(SqlTime(now));
        let added = match driver::execute(insert, &mut *tx).await {
            Ok(n) => n > 0,
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(ShareError::NoSuchVideo)
            }
            Err(e) => return Err(super::fault(e, "sharing a video").into()),
        };
        let share = select_shares::<D>(
            &mut tx,
            "s.video_id = $1 AND s.recipient_id = $2",
            video.as_uuid(),
            Some(recipient.as_uuid()),
            PageRequest::first(1),
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("a share vanished inside its transaction"))?;
        tx.commit().await.fault("committing a share")?;
        Ok((share, added))
    }

    async fn unshare(&self, video: VideoId, recipient: UserId) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>(
            "DELETE FROM video_shares WHERE video_id = $1 AND recipient_id = $2",
        )
        .arg(video.as_uuid())
        .arg(recipient.as_uuid());
        let n = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("removing a share")?;
        Ok(n > 0)
    }

    async fn shares_of(&self, video: VideoId, page: PageRequest) -> anyhow::Result<Page<Share>> {
        let mut conn = self.read().await?;
        let items =
            select_shares::<D>(&mut conn, "s.video_id = $1", video.as_uuid(), None, page).await?;
        let (total,): (i64,) = driver::fetch_one(
            sqlx::query::<D::Db>("SELECT COUNT(*) FROM video_shares WHERE video_id = $1")
                .arg(video.as_uuid()),
            &mut *conn,
        )
        .await
        .fault("counting shares")?;
        Ok(Page {
            items,
            total: u64::try_from(total)?,
            request: page,
        })
    }

    async fn shared_since(
        &self,
        video: VideoId,
        user: UserId,
    ) -> anyhow::Result<Option<DateTime<Utc>>> {
        let row: Option<(SqlTime,)> = driver::fetch_optional(
            sqlx::query::<D::Db>(
                "SELECT shared_at FROM video_shares WHERE video_id = $1 AND recipient_id = $2",
            )
            .arg(video.as_uuid())
            .arg(user.as_uuid()),
            &mut *self.read().await?,
        )
        .await
        .fault("reading a share")?;
        Ok(row.map(|(at,)| at.into()))
    }

    async fn shared_with(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> anyhow::Result<Page<SharedVideo>> {
        let mut conn = self.read().await?;
        let sql = format!(
            "SELECT s.shared_at, {VIDEO_COLUMNS}, {USER_COLUMNS} FROM video_shares s \
             JOIN videos v ON v.id = s.video_id JOIN users u ON u.id = v.owner_id \
             WHERE s.recipient_id = $1 ORDER BY s.shared_at DESC, s.video_id LIMIT $2 OFFSET $3"
        );
        let records: Vec<SharedVideoRecord> = driver::fetch_all(
            sqlx::query::<D::Db>(&sql)
                .arg(user.as_uuid())
                .arg(i64::try_from(page.limit())?)
                .arg(i64::try_from(page.offset())?),
            &mut *conn,
        )
        .await
        .fault("listing videos shared with a player")?;
        let (total,): (i64,) = driver::fetch_one(
            sqlx::query::<D::Db>("SELECT COUNT(*) FROM video_shares WHERE recipient_id = $1")
                .arg(user.as_uuid()),
            &mut *conn,
        )
        .await
        .fault("counting videos shared with a player")?;
        let items = records
            .into_iter()
            .map(|r| {
                Ok(SharedVideo {
                    video: r.video.into_video()?,
                    owner: PlayerSummary::from(&r.owner.into_user()?),
                    shared_at: r.shared_at.into(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total)?,
            request: page,
        })
    }

    async fn create_link(&self, link: &ShareLink) -> anyhow::Result<()> {
        let query = sqlx::query::<D::Db>(
            "INSERT INTO share_links (id, video_id, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .arg(link.id.as_uuid())
        .arg(link.video_id.as_uuid())
        .arg(SqlTime(link.created_at))
        .arg(SqlTime(link.expires_at))
        .arg(link.revoked_at.map(SqlTime));
        driver::execute(query, &mut *self.write().await?)
            .await
            .fault("storing a share link")?;
        Ok(())
    }

    async fn link(&self, id: ShareLinkId) -> anyhow::Result<Option<ShareLink>> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM share_links WHERE id = $1");
        let record: Option<ShareLinkRecord> = driver::fetch_optional(
            sqlx::query::<D::Db>(&sql).arg(id.as_uuid()),
            &mut *self.read().await?,
        )
        .await
        .fault("reading a share link")?;
        Ok(record.map(Into::into))
    }

    async fn links_of(&self, video: VideoId) -> anyhow::Result<Vec<ShareLink>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM share_links WHERE video_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at DESC, id"
        );
        let records: Vec<ShareLinkRecord> = driver::fetch_all(
            sqlx::query::<D::Db>(&sql).arg(video.as_uuid()),
            &mut *self.read().await?,
        )
        .await
        .fault("listing share links")?;
        Ok(records.into_iter().map(Into::into).collect())
    }

    async fn revoke_link(
        &self,
        video: VideoId,
        id: ShareLinkId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>(
            "UPDATE share_links SET revoked_at = $3 \
             WHERE id = $1 AND video_id = $2 AND revoked_at IS NULL",
        )
        .arg(id.as_uuid())
        .arg(video.as_uuid())
        .arg(SqlTime(now));
        let n = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("revoking a share link")?;
        Ok(n > 0)
    }
}

/// Shares matching `filter` (on `$1`, and `$2` when `second` is given), with their recipients,
/// most recent first.
async fn select_shares<D: Dialect>(
    conn: &mut <D::Db as sqlx::Database>::Connection,
    filter: &str,
    first: Uuid,
    second: Option<Uuid>,
    page: PageRequest,
) -> anyhow::Result<Vec<Share>> {
    let (limit, offset) = if second.is_some() {
        ("$3", "$4")
    } else {
        ("$2", "$3")
    };
    let sql = format!(
        "SELECT s.video_id, s.shared_at, {USER_COLUMNS} FROM video_shares s \
         JOIN users u ON u.id = s.recipient_id WHERE {filter} \
         ORDER BY s.shared_at DESC, s.recipient_id LIMIT {limit} OFFSET {offset}"
    );
    let mut query = sqlx::query::<D::Db>(&sql).arg(first);
    if let Some(second) = second {
        query = query.arg(second);
    }
    let records: Vec<ShareRecord> = driver::fetch_all(
        query
            .arg(i64::try_from(page.limit())?)
            .arg(i64::try_from(page.offset())?),
        conn,
    )
    .await
    .fault("listing shares")?;
    records.into_iter().map(ShareRecord::into_share).collect()
}
