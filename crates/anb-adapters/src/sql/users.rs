//! [`UserRepository`] on [`Store`]: emails unique ignoring case by constraint.

use anb_domain::ports::{CreateUserError, UserRepository};
use anb_domain::user::{NewUser, User};
use anb_domain::{Email, UserId};
use async_trait::async_trait;

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
             country, country_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
        .arg(SqlTime(user.created_at));
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
