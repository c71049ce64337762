use crate::sql::OrFault as _;
use anb_domain::ports::{CreateUserError, UserRepository};
use anb_domain::user::{NewUser, User};
use anb_domain::{Email, UserId};
use async_trait::async_trait;

use super::rows::{self, micros};
use super::SqliteStore;
use crate::sql::is_unique_violation;
use crate::sql::USER_COLUMNS;

#[async_trait]
impl UserRepository for SqliteStore {
    async fn create(&self, user: NewUser) -> Result<User, CreateUserError> {
        let inserted = sqlx::query(
            "INSERT INTO users (id, first_name, last_name, email, password_hash, city, city_key, \
             country, country_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(user.id.as_uuid())
        .bind(user.first_name.as_str())
        .bind(user.last_name.as_str())
        .bind(user.email.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.city.as_str())
        .bind(user.city.key())
        .bind(user.country.as_str())
        .bind(user.country.key())
        .bind(micros(user.created_at))
        .execute(self.db.writer())
        .await;
        match inserted {
            Ok(_) => Ok(user.into_user()),
            Err(e) if is_unique_violation(&e) => Err(CreateUserError::EmailTaken),
            Err(e) => Err(crate::sql::fault(e, "inserting a user").into()),
        }
    }

    async fn get(&self, id: UserId) -> anyhow::Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?");
        let row = sqlx::query(&sql)
            .bind(id.as_uuid())
            .fetch_optional(self.db.reader())
            .await
            .fault("reading a user")?;
        row.map(|r| rows::user(&r)?.into_user()).transpose()
    }

    async fn find_by_email(&self, email: &Email) -> anyhow::Result<Option<User>> {
        // The column's NOCASE collation makes this comparison case-insensitive.
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = ?");
        let row = sqlx::query(&sql)
            .bind(email.as_str())
            .fetch_optional(self.db.reader())
            .await
            .fault("finding a user by email")?;
        row.map(|r| rows::user(&r)?.into_user()).transpose()
    }
}
