//! [`OpsRecords`] on [`Store`]: workers' reports in `workers`, the activity from `video_events`.

use anb_domain::event::EventType;
use anb_domain::ops::{Activity, WorkerBeat};
use anb_domain::ports::OpsRecords;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::{SqlTime, Store};

#[async_trait]
impl<D: Dialect> OpsRecords for Store<D> {
    async fn beat(&self, beat: &WorkerBeat) -> anyhow::Result<()> {
        let query = sqlx::query::<D::Db>(
            "INSERT INTO workers (name, started_at, seen_at, jobs) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, \
             seen_at = excluded.seen_at, jobs = excluded.jobs",
        )
        .arg(beat.name.clone())
        .arg(SqlTime(beat.started_at))
        .arg(SqlTime(beat.seen_at))
        .arg(beat.jobs.join("\n"));
        driver::execute(query, &mut *self.write().await?)
            .await
            .fault("recording a worker's report")?;
        Ok(())
    }

    async fn workers_seen_since(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<WorkerBeat>> {
        let query = sqlx::query::<D::Db>(
            "SELECT name, started_at, seen_at, jobs FROM workers WHERE seen_at >= $1 \
             ORDER BY seen_at DESC, name",
        )
        .arg(SqlTime(since));
        let rows: Vec<(String, SqlTime, SqlTime, String)> =
            driver::fetch_all(query, &mut *self.read().await?)
                .await
                .fault("reading the workers' reports")?;
        Ok(rows
            .into_iter()
            .map(|(name, started_at, seen_at, jobs)| WorkerBeat {
                name,
                started_at: started_at.0,
                seen_at: seen_at.0,
                jobs: jobs.lines().map(str::to_owned).collect(),
            })
            .collect())
    }

    async fn activity_since(&self, since: DateTime<Utc>) -> anyhow::Result<Activity> {
        let query = sqlx::query::<D::Db>(
            "SELECT e.video_id, e.kind, e.at FROM video_events e \
             WHERE e.kind IN ('video.processing', 'video.processed', 'video.failed') \
               AND e.video_id IN (SELECT video_id FROM video_events \
                   WHERE kind IN ('video.processed', 'video.failed') AND at >= $1) \
             ORDER BY e.video_id, e.seq",
        )
        .arg(SqlTime(since));
        let rows: Vec<(Uuid, String, SqlTime)> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("reading the processing activity")?;
        let events: Vec<(Uuid, EventType, DateTime<Utc>)> = rows
            .into_iter()
            .filter_map(|(video, kind, at)| Some((video, EventType::parse(&kind)?, at.0)))
            .collect();
        Ok(Activity::of_events(&events, since))
    }
}
