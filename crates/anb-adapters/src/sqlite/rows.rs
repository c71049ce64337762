//! Decoding SQLite rows into the shared records. Timestamps are stored as microseconds.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::sql::{UserRecord, VideoRecord};

/// Microseconds since the epoch, as stored.
pub(super) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn time(micros: i64) -> anyhow::Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).context("stored timestamp out of range")
}

fn opt_time(micros: Option<i64>) -> anyhow::Result<Option<DateTime<Utc>>> {
    micros.map(time).transpose()
}

pub(super) fn video(row: &SqliteRow) -> anyhow::Result<VideoRecord> {
    Ok(VideoRecord {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        tags: row.try_get("tags")?,
        status: row.try_get("status")?,
        failure_reason: row.try_get("failure_reason")?,
        is_public: row.try_get("is_public")?,
        size_bytes: row.try_get("size_bytes")?,
        original_key: row.try_get("original_key")?,
        processed_key: row.try_get("processed_key")?,
        thumbnail_key: row.try_get("thumbnail_key")?,
        duration_seconds: row.try_get("duration_seconds")?,
        uploaded_at: time(row.try_get("uploaded_at")?)?,
        status_changed_at: time(row.try_get("status_changed_at")?)?,
        processed_at: opt_time(row.try_get("processed_at")?)?,
        published_at: opt_time(row.try_get("published_at")?)?,
        votes: row.try_get("votes")?,
    })
}

/// A user whose columns are prefixed (`u_id`, …), as in joins.
pub(super) fn user_prefixed(row: &SqliteRow, prefix: &str) -> anyhow::Result<UserRecord> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(UserRecord {
        id: row.try_get(col("id").as_str())?,
        first_name: row.try_get(col("first_name").as_str())?,
        last_name: row.try_get(col("last_name").as_str())?,
        email: row.try_get(col("email").as_str())?,
        password_hash: row.try_get(col("password_hash").as_str())?,
        city: row.try_get(col("city").as_str())?,
        country: row.try_get(col("country").as_str())?,
        created_at: time(row.try_get(col("created_at").as_str())?)?,
        votes_received: row.try_get(col("votes_received").as_str())?,
    })
}

pub(super) fn user(row: &SqliteRow) -> anyhow::Result<UserRecord> {
    user_prefixed(row, "")
}

/// A gallery row's owner.
pub(super) fn owner(row: &SqliteRow) -> anyhow::Result<UserRecord> {
    user_prefixed(row, "u_")
}
