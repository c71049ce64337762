//! Every status change of every video, recorded by a trigger the test installs on PostgreSQL:
//! a video processed twice, or started again after it was processed, shows.

use std::collections::BTreeMap;

use sqlx::PgPool;

/// Records every status change of every video in `status_changes`.
pub async fn record_status_changes(pool: &PgPool) {
    for statement in [
        "CREATE TABLE status_changes (video_id uuid NOT NULL, old_status text NOT NULL, \
         new_status text NOT NULL, seq bigserial PRIMARY KEY)",
        "CREATE FUNCTION record_status_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN INSERT INTO status_changes (video_id, old_status, new_status) \
         VALUES (NEW.id, OLD.status, NEW.status); RETURN NEW; END $$",
        "CREATE TRIGGER status_changes AFTER UPDATE OF status ON videos FOR EACH ROW \
         EXECUTE FUNCTION record_status_change()",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}

/// Each video's status changes, in order, as `old→new`.
pub async fn status_changes(pool: &PgPool) -> BTreeMap<String, Vec<String>> {
    let rows: Vec<(uuid::Uuid, String, String)> =
        sqlx::query_as("SELECT video_id, old_status, new_status FROM status_changes ORDER BY seq")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut changes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (video, old, new) in rows {
        changes
            .entry(video.to_string())
            .or_default()
            .push(format!("{old}→{new}"));
    }
    changes
}

/// Every video in `ids` was started and completed once: its status went `uploaded` →
/// `processing` → `processed` and nowhere else. A second delivery that started a `processing`
/// video again (its first worker stopped when it saw its lease gone) shows as
/// `processing→processing`, which is allowed once; completing twice is impossible to miss.
pub fn processed_once(changes: &BTreeMap<String, Vec<String>>, ids: &[String]) {
    for id in ids {
        let mut seen = changes.get(id).cloned().unwrap_or_default();
        seen.retain(|change| change != "processing→processing");
        assert_eq!(
            seen,
            ["uploaded→processing", "processing→processed"],
            "video {id}: {:?}",
            changes.get(id)
        );
    }
}
