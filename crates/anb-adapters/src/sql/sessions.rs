//! [`SessionRepository`] on [`Store`]: a rotation is one write transaction holding the
//! presented token's row (PostgreSQL: `FOR UPDATE`), so of two rotations of one token one
//! replaces it and the other finds it used.

use anb_domain::ports::SessionRepository;
use anb_domain::session::{Rotation, SecretDigest, SessionEnd};
use anb_domain::{SessionId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::{SqlTime, Store};

/// A refresh token's row joined with its session's.
#[derive(sqlx::FromRow)]
pub struct TokenRecord {
    session_id: Uuid,
    user_id: Uuid,
    expires_at: SqlTime,
    used_at: Option<SqlTime>,
    ended_at: Option<SqlTime>,
}

#[async_trait]
impl<D: Dialect> SessionRepository for Store<D> {
    async fn open(
        &self,
        session: SessionId,
        user: UserId,
        first: &SecretDigest,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        let query = sqlx::query::<D::Db>(
            "INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)",
        )
        .arg(session.as_uuid())
        .arg(user.as_uuid())
        .arg(SqlTime(now));
        driver::execute(query, &mut *tx)
            .await
            .fault("starting a session")?;
        insert_token::<D>(&mut tx, session, first, now, expires_at).await?;
        tx.commit().await.fault("committing a new session")
    }

    async fn rotate(
        &self,
        presented: &SecretDigest,
        next: &SecretDigest,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<Rotation> {
        let mut tx = self.begin_write().await?;
        let record = select_token::<D>(&mut tx, presented).await?;
        let Some(record) = record else {
            return Ok(Rotation::Refused);
        };
        let session = SessionId::from_uuid(record.session_id);
        let user = UserId::from_uuid(record.user_id);
        if record.ended_at.is_some() {
            return Ok(Rotation::Refused);
        }
        if record.used_at.is_some() {
            end_sessions::<D>(&mut tx, "id", session.as_uuid(), SessionEnd::Reuse, now).await?;
            tx.commit().await.fault("ending a reused session")?;
            return Ok(Rotation::Reused { session, user });
        }
        if DateTime::<Utc>::from(record.expires_at) <= now {
            return Ok(Rotation::Refused);
        }
        let query =
            sqlx::query::<D::Db>("UPDATE refresh_tokens SET used_at = $2 WHERE digest = $1")
                .arg(presented.as_str().to_owned())
                .arg(SqlTime(now));
        driver::execute(query, &mut *tx)
            .await
            .fault("using a refresh token")?;
        insert_token::<D>(&mut tx, session, next, now, expires_at).await?;
        tx.commit().await.fault("committing a rotation")?;
        Ok(Rotation::Rotated { session, user })
    }

    async fn end(
        &self,
        presented: &SecretDigest,
        why: SessionEnd,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionId>> {
        let mut tx = self.begin_write().await?;
        let record = select_token::<D>(&mut tx, presented).await?;
        let Some(record) = record.filter(|r| r.ended_at.is_none()) else {
            return Ok(None);
        };
        end_sessions::<D>(&mut tx, "id", record.session_id, why, now).await?;
        tx.commit().await.fault("committing a logout")?;
        Ok(Some(SessionId::from_uuid(record.session_id)))
    }

    async fn end_all(
        &self,
        user: UserId,
        why: SessionEnd,
        now: DateTime<Utc>,
    ) -> anyhow::Result<u64> {
        let mut tx = self.begin_write().await?;
        let ended = end_sessions::<D>(&mut tx, "user_id", user.as_uuid(), why, now).await?;
        tx.commit().await.fault("committing a logout everywhere")?;
        Ok(ended)
    }
}

/// The refresh token `digest` and its session, locked until `tx` ends.
async fn select_token<D: Dialect>(
    tx: &mut sqlx::Transaction<'static, D::Db>,
    digest: &SecretDigest,
) -> anyhow::Result<Option<TokenRecord>> {
    let sql = format!(
        "SELECT t.session_id, s.user_id, t.expires_at, t.used_at, s.ended_at \
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
         WHERE t.digest = $1{}",
        D::LOCK_ROW
    );
    driver::fetch_optional(
        sqlx::query::<D::Db>(&sql).arg(digest.as_str().to_owned()),
        &mut **tx,
    )
    .await
    .fault("reading a refresh token")
}

async fn insert_token<D: Dialect>(
    tx: &mut sqlx::Transaction<'static, D::Db>,
    session: SessionId,
    digest: &SecretDigest,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let query = sqlx::query::<D::Db>(
        "INSERT INTO refresh_tokens (digest, session_id, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .arg(digest.as_str().to_owned())
    .arg(session.as_uuid())
    .arg(SqlTime(now))
    .arg(SqlTime(expires_at));
    driver::execute(query, &mut **tx)
        .await
        .fault("storing a refresh token")?;
    Ok(())
}

/// Ends the live sessions whose `column` (`id` or `user_id`) is `value`; how many.
async fn end_sessions<D: Dialect>(
    tx: &mut sqlx::Transaction<'static, D::Db>,
    column: &'static str,
    value: Uuid,
    why: SessionEnd,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let sql = format!(
        "UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE {column} = $1 AND ended_at IS NULL"
    );
    let query = sqlx::query::<D::Db>(&sql)
        .arg(value)
        .arg(SqlTime(now))
        .arg(why.as_str().to_owned());
    driver::execute(query, &mut **tx)
        .await
        .fault("ending sessions")
}
