//! [`UserRepository`] on [`Store`]: emails unique ignoring case by constraint; a one-time
//! email token is consumed by one conditional `UPDATE … RETURNING`, so of concurrent
//! consumptions exactly one finds it unused.

use anb_domain::ports::{CreateUserError, UserRepository};
use anb_domain::session::SecretDigest;
use anb_domain::user::{EmailPurpose, NewUser, PlayerSummary, User};
use anb_domain::{Email, Page, PageRequest, PasswordHash, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::records::{is_unique_violation, UserRecord, USER_COLUMNS};
use super::{SqlTime, Store};

#[async_trait]
impl<D: Dialect> UserRepository for Store<D> {
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let query = sqlx::query::<D::Db>(
            "INSERT INTO users (id, first_name, last_name, email, password_hash, city, city_key, \
             country, country_key, created_at, name_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .arg(user.id.as_uuid())
        .arg(user.first_name.as_str().to_owned())
        .arg(user.last_name.as_str().to_owned())
        .arg(user.email.as_str().to_owned())
        .arg(user.password_hash.as_str().to_owned())
        .arg(user.city.as_str().to_owned())
        .arg(user.city.key().to_owned())
        .arg(user.country.as_str().to_owned())
        .arg(user.country.key().to_owned())
        .arg(SqlTime(user.created_at))
        .arg(user.name_key());
        let mut conn = self.write().await?;
        match driver::execute(query, &mut conn).await {
            Ok(_) => Ok(user.into_user()),
            Err(e) if is_unique_violation(&e) => Err(CreateUserError::EmailTaken),
            Err(e) => Err(super::fault(e, "inserting a user").into()),
        }
    }

    async fn get(&self, id: UserId) -> anyhow::Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        self.one_user(
            sqlx::query::<D::Db>(&sql).arg(id.as_uuid()),
            "reading a user",
        )
        .await
    }

    async fn find_by_email(&self, email: &Email) -> anyhow::Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE {}",
            D::EMAIL_EQUALS
        );
        self.one_user(
            sqlx::query::<D::Db>(&sql).arg(email.as_str().to_owned()),
            "finding a user by email",
        )
        .await
    }

    async fn directory(
        &self,
        name_part: &str,
        page: PageRequest,
    ) -> anyhow::Result<Page<PlayerSummary>> {
        let pattern = format!("%{}%", super::queries::like_literal(name_part));
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.name_key LIKE $1 ESCAPE '\\' \
             ORDER BY u.name_key, u.id LIMIT $2 OFFSET $3"
        );
        let mut conn = self.read().await?;
        let records: Vec<UserRecord> = driver::fetch_all(
            sqlx::query::<D::Db>(&sql)
                .arg(pattern.clone())
                .arg(i64::try_from(page.limit())?)
                .arg(i64::try_from(page.offset())?),
            &mut *conn,
        )
        .await
        .fault("searching the player directory")?;
        let (total,): (i64,) = driver::fetch_one(
            sqlx::query::<D::Db>("SELECT COUNT(*) FROM users WHERE name_key LIKE $1 ESCAPE '\\'")
                .arg(pattern),
            &mut *conn,
        )
        .await
        .fault("counting the player directory")?;
        let items = records
            .into_iter()
            .map(|r| Ok(PlayerSummary::from(&r.into_user()?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total)?,
            request: page,
        })
    }

    async fn find_by_identity(&self, issuer: &str, subject: &str) -> anyhow::Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM user_identities i JOIN users u ON u.id = i.user_id \
             WHERE i.issuer = $1 AND i.subject = $2"
        );
        self.one_user(
            sqlx::query::<D::Db>(&sql)
                .arg(issuer.to_owned())
                .arg(subject.to_owned()),
            "finding a user by identity",
        )
        .await
    }

    async fn link_identity(
        &self,
        user: UserId,
        issuer: &str,
        subject: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<UserId> {
        let mut conn = self.write().await?;
        let insert = sqlx::query::<D::Db>(
            "INSERT INTO user_identities (issuer, subject, user_id, linked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (issuer, subject) DO NOTHING",
        )
        .arg(issuer.to_owned())
        .arg(subject.to_owned())
        .arg(user.as_uuid())
        .arg(SqlTime(at));
        driver::execute(insert, &mut *conn)
            .await
            .fault("linking an identity")?;
        let (owner,): (uuid::Uuid,) = driver::fetch_one(
            sqlx::query::<D::Db>(
                "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2",
            )
            .arg(issuer.to_owned())
            .arg(subject.to_owned()),
            &mut *conn,
        )
        .await
        .fault("reading an identity's account")?;
        Ok(UserId::from_uuid(owner))
    }

    async fn mark_email_verified(&self, user: UserId, at: DateTime<Utc>) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $1",
        )
        .arg(user.as_uuid())
        .arg(SqlTime(at));
        let changed = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("marking an email verified")?;
        Ok(changed > 0)
    }

    async fn set_password_hash(&self, user: UserId, hash: &PasswordHash) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>("UPDATE users SET password_hash = $2 WHERE id = $1")
            .arg(user.as_uuid())
            .arg(hash.as_str().to_owned());
        let changed = driver::execute(query, &mut *self.write().await?)
            .await
            .fault("changing a password hash")?;
        Ok(changed > 0)
    }

    async fn store_email_token(
        &self,
        digest: &SecretDigest,
        user: UserId,
        purpose: EmailPurpose,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let query = sqlx::query::<D::Db>(
            "INSERT INTO email_tokens (digest, user_id, purpose, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .arg(digest.as_str().to_owned())
        .arg(user.as_uuid())
        .arg(purpose.as_str().to_owned())
        .arg(SqlTime(now))
        .arg(SqlTime(expires_at));
        driver::execute(query, &mut *self.write().await?)
            .await
            .fault("storing an email token")?;
        Ok(())
    }

    async fn consume_email_token(
        &self,
        digest: &SecretDigest,
        purpose: EmailPurpose,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<UserId>> {
        let query = sqlx::query::<D::Db>(
            "UPDATE email_tokens SET used_at = $3 \
             WHERE digest = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
             RETURNING user_id",
        )
        .arg(digest.as_str().to_owned())
        .arg(purpose.as_str().to_owned())
        .arg(SqlTime(now));
        let used: Option<(Uuid,)> = driver::fetch_optional(query, &mut *self.write().await?)
            .await
            .fault("consuming an email token")?;
        Ok(used.map(|(id,)| UserId::from_uuid(id)))
    }
}

impl<D: Dialect> Store<D> {
    async fn one_user(
        &self,
        query: driver::Q<'_, D::Db>,
        doing: &'static str,
    ) -> anyhow::Result<Option<User>> {
        let record: Option<UserRecord> = driver::fetch_optional(query, &mut *self.read().await?)
            .await
            .fault(doing)?;
        record.map(UserRecord::into_user).transpose()
    }
}
