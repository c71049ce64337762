use crate::sql::OrFault as _;
use anb_domain::ports::{CastVoteError, RankingEntry, RankingQuery, VoteRepository};
use anb_domain::{Page, UserId, VideoId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Sqlite};
use uuid::Uuid;

use super::rows::micros;
use super::{begin_write, SqliteStore};
use crate::sql::{
    is_unique_violation, ranking_scopes, rankings_from_rows, rankings_page, rankings_total,
};

#[async_trait]
impl VoteRepository for SqliteStore {
    async fn cast(
        &self,
        voter: UserId,
        video: VideoId,
        at: DateTime<Utc>,
    ) -> Result<u64, CastVoteError> {
        let mut tx = begin_write(&self.db).await?;
        let bumped = sqlx::query(
            "UPDATE videos SET votes = votes + 1 WHERE id = ? AND owner_id <> ? \
             AND status = 'processed' AND is_public = 1 RETURNING votes, owner_id",
        )
        .bind(video.as_uuid())
        .bind(voter.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .fault("counting a vote")?;
        let Some(bumped) = bumped else {
            let row = sqlx::query("SELECT owner_id FROM videos WHERE id = ?")
                .bind(video.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .fault("classifying a refused vote")?;
            return Err(match row {
                None => CastVoteError::NotFound,
                Some(r) if r.try_get::<Uuid, _>(0).fault("owner")? == voter.as_uuid() => {
                    CastVoteError::SelfVote
                }
                Some(_) => CastVoteError::NotVotable,
            });
        };
        let total: i64 = bumped.try_get("votes").fault("votes")?;
        let owner: Uuid = bumped.try_get("owner_id").fault("owner")?;
        let inserted =
            sqlx::query("INSERT INTO votes (user_id, video_id, cast_at) VALUES (?, ?, ?)")
                .bind(voter.as_uuid())
                .bind(video.as_uuid())
                .bind(micros(at))
                .execute(&mut *tx)
                .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(CastVoteError::AlreadyVoted),
            Err(e) => return Err(crate::sql::fault(e, "recording a vote").into()),
        }
        let player = sqlx::query(
            "UPDATE users SET votes_received = votes_received + 1, \
             last_vote_at = max(coalesce(last_vote_at, ?1), ?1) WHERE id = ?2 \
             RETURNING votes_received, city_key, country_key",
        )
        .bind(micros(at))
        .bind(owner)
        .fetch_one(&mut *tx)
        .await
        .fault("counting a player's vote")?;
        if player.try_get::<i64, _>("votes_received").fault("votes")? == 1 {
            // A first vote: the player enters the rankings of every scope they belong to.
            let scopes = ranking_scopes(
                player.try_get("city_key").fault("city")?,
                player.try_get("country_key").fault("country")?,
            );
            for scope in scopes {
                sqlx::query(
                    "INSERT INTO ranked_players (scope, players) VALUES (?, 1) \
                     ON CONFLICT (scope) DO UPDATE SET players = players + 1",
                )
                .bind(scope)
                .execute(&mut *tx)
                .await
                .fault("counting a newly ranked player")?;
            }
        }
        tx.commit().await.fault("committing a vote")?;
        Ok(total as u64)
    }

    async fn has_voted(&self, voter: UserId, video: VideoId) -> anyhow::Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM votes WHERE user_id = ? AND video_id = ?)",
        )
        .bind(voter.as_uuid())
        .bind(video.as_uuid())
        .fetch_one(self.db.reader())
        .await
        .fault("looking up a vote")?)
    }

    async fn count_for_video(&self, video: VideoId) -> anyhow::Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM votes WHERE video_id = ?")
            .bind(video.as_uuid())
            .fetch_one(self.db.reader())
            .await
            .fault("counting votes")?;
        Ok(n as u64)
    }

    async fn rankings(&self, query: &RankingQuery) -> anyhow::Result<Page<RankingEntry>> {
        let found = rankings_page::<Sqlite>(query)
            .build()
            .fetch_all(self.db.reader())
            .await
            .fault("reading the rankings")?;
        let total: i64 = rankings_total::<Sqlite>(query)
            .build()
            .fetch_one(self.db.reader())
            .await
            .fault("counting ranked players")?
            .try_get(0)?;
        rankings_from_rows(&found, total, query)
    }
}
