use anb_domain::user::User;
use anb_domain::video::ProcessingProgress;
use anb_domain::{
    BlobKey, City, Country, Description, Email, PasswordHash, PersonName, Tags, UserId, Video,
    VideoId, VideoStatus, VideoTitle,
};
use anyhow::Context as _;
use uuid::Uuid;

use super::SqlTime;

// The column lists are the same in both dialects; only the decoding of some types differs.
/// Columns read for a [`VideoRecord`], in `SELECT` form.
pub(crate) const VIDEO_COLUMNS: &str = "v.id, v.owner_id, v.title, v.description, v.tags, \
     v.status, v.failure_reason, v.is_public, v.size_bytes, v.original_key, v.processed_key, \
     v.thumbnail_key, v.stream_key, v.storyboard_key, v.progress_percent, v.progress_eta_seconds, \
     v.duration_seconds, v.uploaded_at, v.status_changed_at, v.processed_at, \
     v.published_at, v.votes";

/// Columns read for a [`UserRecord`], in `SELECT` form. The id is `user_id`, so a video and
/// its owner can be read from one joined row.
pub(crate) const USER_COLUMNS: &str = "u.id AS user_id, u.first_name, u.last_name, u.email, \
     u.password_hash, u.city, u.country, u.created_at, u.votes_received, u.email_verified_at";

/// A `users` row ([`USER_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub struct UserRecord {
    #[sqlx(rename = "user_id")]
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub password_hash: String,
    pub city: String,
    pub country: String,
    pub created_at: SqlTime,
    pub votes_received: i64,
    pub email_verified_at: Option<SqlTime>,
}

impl UserRecord {
    pub fn into_user(self) -> anyhow::Result<User> {
        Ok(User {
            id: UserId::from_uuid(self.id),
            first_name: PersonName::parse("first_name", &self.first_name)?,
            last_name: PersonName::parse("last_name", &self.last_name)?,
            email: Email::parse(&self.email)?,
            password_hash: PasswordHash::from_phc(self.password_hash),
            city: City::parse(&self.city)?,
            country: Country::parse(&self.country)?,
            created_at: self.created_at.into(),
            votes_received: u64::try_from(self.votes_received).context("negative vote counter")?,
            email_verified_at: self.email_verified_at.map(Into::into),
        })
    }
}

/// A `videos` row ([`VIDEO_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub struct VideoRecord {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub tags: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub is_public: bool,
    pub size_bytes: i64,
    pub original_key: String,
    pub processed_key: Option<String>,
    pub thumbnail_key: Option<String>,
    pub stream_key: Option<String>,
    pub storyboard_key: Option<String>,
    pub progress_percent: Option<f64>,
    pub progress_eta_seconds: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub uploaded_at: SqlTime,
    pub status_changed_at: SqlTime,
    pub processed_at: Option<SqlTime>,
    pub published_at: Option<SqlTime>,
    pub votes: i64,
}

/// A row of the gallery: a video and its owner ([`VIDEO_COLUMNS`], [`USER_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub struct GalleryRecord {
    #[sqlx(flatten)]
    pub video: VideoRecord,
    #[sqlx(flatten)]
    pub owner: UserRecord,
}

/// A row of the rankings (the columns [`rankings_page`](super::queries) reads).
#[derive(sqlx::FromRow)]
pub struct RankingRecord {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub city: String,
    pub country: String,
    pub votes_received: i64,
}

impl VideoRecord {
    pub fn into_video(self) -> anyhow::Result<Video> {
        let key = |k: String| BlobKey::new(k).context("stored blob key");
        Ok(Video {
            id: VideoId::from_uuid(self.id),
            owner_id: UserId::from_uuid(self.owner_id),
            title: VideoTitle::new(&self.title)?,
            description: self
                .description
                .as_deref()
                .map(Description::parse)
                .transpose()?
                .flatten(),
            tags: decode_tags(&self.tags)?,
            status: decode_status(&self.status, self.failure_reason)?,
            is_public: self.is_public,
            size_bytes: u64::try_from(self.size_bytes).context("negative size")?,
            original: key(self.original_key)?,
            processed: self.processed_key.map(key).transpose()?,
            thumbnail: self.thumbnail_key.map(key).transpose()?,
            stream: self.stream_key.map(key).transpose()?,
            storyboard: self.storyboard_key.map(key).transpose()?,
            progress: self.progress_percent.map(|percent| ProcessingProgress {
                percent,
                eta_seconds: self.progress_eta_seconds,
            }),
            duration_seconds: self.duration_seconds,
            uploaded_at: self.uploaded_at.into(),
            status_changed_at: self.status_changed_at.into(),
            processed_at: self.processed_at.map(Into::into),
            published_at: self.published_at.map(Into::into),
            votes: u64::try_from(self.votes).context("negative vote counter")?,
        })
    }
}

/// The `status` column and the `failure_reason` column of a status.
pub(crate) fn encode_status(status: &VideoStatus) -> (&'static str, Option<&str>) {
    (status.as_str(), status.failure_reason())
}

fn decode_status(status: &str, reason: Option<String>) -> anyhow::Result<VideoStatus> {
    Ok(match status {
        "uploaded" => VideoStatus::Uploaded,
        "processing" => VideoStatus::Processing,
        "processed" => VideoStatus::Processed,
        "failed" => VideoStatus::Failed {
            reason: reason.unwrap_or_default(),
        },
        other => anyhow::bail!("unknown video status {other:?}"),
    })
}

/// The rows of [`VideoRepository::unfinished`](anb_domain::ports::VideoRepository::unfinished):
/// ids (as both dialects read them) with their `status` column.
pub(crate) fn unfinished_from_rows(
    rows: Vec<(Uuid, String)>,
) -> anyhow::Result<Vec<(VideoId, VideoStatus)>> {
    rows.into_iter()
        .map(|(id, status)| Ok((VideoId::from_uuid(id), decode_status(&status, None)?)))
        .collect()
}

/// Tags as a JSON array.
pub(crate) fn encode_tags(tags: &Tags) -> String {
    serde_json::to_string(tags.as_slice()).expect("strings always serialise")
}

fn decode_tags(json: &str) -> anyhow::Result<Tags> {
    let items: Vec<String> = serde_json::from_str(json).context("stored tags")?;
    Ok(Tags::from_items(items.iter().map(String::as_str))?)
}

/// What the gallery's `q` searches: title and tags, lower-cased (Unicode-aware, in Rust, so
/// both databases compare the same way), one per line.
pub(crate) fn search_text(video: &Video) -> String {
    std::iter::once(video.title.as_str())
        .chain(video.tags.as_slice().iter().map(String::as_str))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The `ranked_players` scopes a player with votes counts in.
pub(crate) fn ranking_scopes(city_key: &str, country_key: &str) -> [String; 3] {
    [
        "all".to_owned(),
        format!("city:{city_key}"),
        format!("country:{country_key}"),
    ]
}

/// The `ranked_players` scope holding a rankings query's total, or `None` when the filters
/// combine city and country (then the total is counted).
pub(crate) fn total_scope(query: &anb_domain::RankingQuery) -> Option<String> {
    match (&query.city, &query.country) {
        (None, None) => Some("all".to_owned()),
        (Some(city), None) => Some(format!("city:{}", city.key())),
        (None, Some(country)) => Some(format!("country:{}", country.key())),
        (Some(_), Some(_)) => None,
    }
}

/// Recomputes every vote counter from the vote rows, then the rankings' totals: the repair for
/// counters changed by hand or by a bulk import. Set-based (one aggregate per table, no
/// per-row subqueries); run inside one write transaction. The same SQL serves PostgreSQL and
/// SQLite (3.33+ for `UPDATE … FROM`).
pub(crate) const RECOUNT_VOTES: [&str; 6] = [
    "UPDATE videos SET votes = 0",
    "UPDATE videos SET votes = c.n \
       FROM (SELECT video_id, count(*) AS n FROM votes GROUP BY video_id) AS c \
       WHERE c.video_id = videos.id",
    "UPDATE users SET votes_received = 0, last_vote_at = NULL",
    "UPDATE users SET votes_received = c.n, last_vote_at = c.last \
       FROM (SELECT videos.owner_id, count(*) AS n, max(votes.cast_at) AS last \
             FROM votes JOIN videos ON videos.id = votes.video_id GROUP BY videos.owner_id) AS c \
       WHERE c.owner_id = users.id",
    "DELETE FROM ranked_players",
    "INSERT INTO ranked_players (scope, players) \
       SELECT 'all', count(*) FROM users WHERE votes_received > 0 \
       UNION ALL SELECT 'city:' || city_key, count(*) FROM users WHERE votes_received > 0 GROUP BY city_key \
       UNION ALL SELECT 'country:' || country_key, count(*) FROM users WHERE votes_received > 0 GROUP BY country_key",
];

/// A lease-guarded write's outcome: no row changed means the lease was lost.
pub(crate) fn lease_outcome(
    result: Result<u64, sqlx::Error>,
    doing: &'static str,
) -> Result<(), anb_domain::ports::QueueError> {
    use anb_domain::ports::QueueError;
    match result {
        Ok(0) => Err(QueueError::LeaseLost),
        Ok(_) => Ok(()),
        Err(e) => Err(QueueError::Unexpected(super::fault(e, doing))),
    }
}

/// `payloads` without repeats (the first of each kept), with their JSON: what a restore
/// inserts, so that one statement never adds a payload twice.
pub(crate) fn distinct_payloads(
    payloads: &[anb_domain::JobPayload],
) -> (Vec<anb_domain::JobPayload>, Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    payloads
        .iter()
        .map(|p| (p.clone(), p.to_json()))
        .filter(|(_, json)| seen.insert(json.clone()))
        .unzip()
}

/// The payloads of `given` whose JSON is among `added` (what an `INSERT … RETURNING payload`
/// gave back, in any order), in the order given.
pub(crate) fn in_given_order(
    given: Vec<anb_domain::JobPayload>,
    added: &[String],
) -> Vec<anb_domain::JobPayload> {
    let added: std::collections::HashSet<&str> = added.iter().map(String::as_str).collect();
    given
        .into_iter()
        .filter(|p| added.contains(p.to_json().as_str()))
        .collect()
}
