//! [`VoteRepository`] on [`Store`]: a vote is one write transaction (the video's counter, the
//! vote row, the player's counter, and on a first vote the rankings' totals); "one vote per
//! user per video" is the votes table's primary key.

use anb_domain::ports::{CastVoteError, CityStanding, RankingEntry, RankingQuery, VoteRepository};
use anb_domain::{City, Country, Page, UserId, VideoId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::queries::{rankings_from_records, rankings_page, rankings_total};
use super::records::{is_unique_violation, ranking_scopes, RankingRecord};
use super::vote_batch;
use super::{SqlTime, Store};
use sqlx::Transaction;

#[async_trait]
impl<D: Dialect> VoteRepository for Store<D> {
    async fn cast(
        &self,
        voter: UserId,
        video: VideoId,
        at: DateTime<Utc>,
    ) -> Result<u64, CastVoteError> {
        vote_batch::cast(self.ballots(), voter, video, at).await
    }

    async fn has_voted(&self, voter: UserId, video: VideoId) -> anyhow::Result<bool> {
        let query = sqlx::query::<D::Db>(
            "SELECT EXISTS (SELECT 1 FROM votes WHERE user_id = $1 AND video_id = $2)",
        )
        .arg(voter.as_uuid())
        .arg(video.as_uuid());
        let (voted,) = driver::fetch_one(query, &mut *self.read().await?)
            .await
            .fault("looking up a vote")?;
        Ok(voted)
    }

    async fn count_for_video(&self, video: VideoId) -> anyhow::Result<u64> {
        let query = sqlx::query::<D::Db>("SELECT count(*) FROM votes WHERE video_id = $1")
            .arg(video.as_uuid());
        let (votes,): (i64,) = driver::fetch_one(query, &mut *self.read().await?)
            .await
            .fault("counting votes")?;
        Ok(votes as u64)
    }

    async fn rankings(&self, query: &RankingQuery) -> anyhow::Result<Page<RankingEntry>> {
        let (page, count) = (rankings_page(query), rankings_total(query));
        let mut conn = self.read().await?;
        let records = driver::fetch_all(page.build::<D>(), &mut conn)
            .await
            .fault("reading the rankings")?;
        let (total,) = driver::fetch_one(count.build::<D>(), &mut conn)
            .await
            .fault("counting ranked players")?;
        rankings_from_records(records, total, query)
    }

    async fn standing(&self, player: UserId) -> anyhow::Result<Option<RankingEntry>> {
        let mut conn = self.read().await?;
        let row = sqlx::query::<D::Db>(
            "SELECT id, first_name, last_name, city, country, votes_received FROM users \
             WHERE id = $1 AND votes_received > 0",
        )
        .arg(player.as_uuid());
        let Some(record): Option<RankingRecord> = driver::fetch_optional(row, &mut conn)
            .await
            .fault("reading a player's standing")?
        else {
            return Ok(None);
        };
        // Those ahead in the rankings' order (votes, then who got there first, then id).
        let ahead = sqlx::query::<D::Db>(
            "SELECT count(*) FROM users o, users u WHERE u.id = $1 AND o.votes_received > 0 \
             AND (o.votes_received > u.votes_received OR (o.votes_received = u.votes_received \
             AND (o.last_vote_at < u.last_vote_at OR (o.last_vote_at = u.last_vote_at \
             AND o.id < u.id))))",
        )
        .arg(player.as_uuid());
        let (ahead,): (i64,) = driver::fetch_one(ahead, &mut conn)
            .await
            .fault("counting the players ahead")?;
        Ok(Some(RankingEntry {
            position: ahead as u64 + 1,
            user_id: player,
            username: format!("{} {}", record.first_name, record.last_name),
            city: City::parse(&record.city)?,
            country: Country::parse(&record.country)?,
            votes: record.votes_received as u64,
        }))
    }

    async fn ranked_cities(&self, limit: u32) -> anyhow::Result<Vec<CityStanding>> {
        let query = sqlx::query::<D::Db>(
            "SELECT min(city), count(*), CAST(sum(votes_received) AS BIGINT) FROM users \
             WHERE votes_received > 0 GROUP BY city_key ORDER BY 3 DESC, 1 LIMIT $1",
        )
        .arg(i64::from(limit));
        let rows: Vec<(String, i64, i64)> = driver::fetch_all(query, &mut *self.read().await?)
            .await
            .fault("reading the ranked cities")?;
        rows.into_iter()
            .map(|(city, players, votes)| {
                Ok(CityStanding {
                    city: City::parse(&city)?,
                    players: players as u64,
                    votes: votes as u64,
                })
            })
            .collect()
    }
}

/// Counts `voter`'s vote for `video` inside `tx` (not committed): the video's new total, or why
/// the vote is refused (then `tx` may hold a bumped counter: roll it back, or its savepoint).
pub(crate) async fn cast_in<D: Dialect>(
    tx: &mut Transaction<'static, D::Db>,
    voter: UserId,
    video: VideoId,
    at: DateTime<Utc>,
) -> Result<u64, CastVoteError> {
    // Bumping the counter first locks the video row: concurrent votes for one video queue
    // here, and the conditions are checked on the row as it is now.
    let bump = sqlx::query::<D::Db>(
        "UPDATE videos SET votes = votes + 1 WHERE id = $1 AND owner_id <> $2 \
             AND status = 'processed' AND is_public RETURNING votes, owner_id",
    )
    .arg(video.as_uuid())
    .arg(voter.as_uuid());
    let bumped: Option<(i64, Uuid)> = driver::fetch_optional(bump, &mut **tx)
        .await
        .fault("counting a vote")?;
    let Some((total, owner)) = bumped else {
        let owner =
            sqlx::query::<D::Db>("SELECT owner_id FROM videos WHERE id = $1").arg(video.as_uuid());
        let found: Option<(Uuid,)> = driver::fetch_optional(owner, &mut **tx)
            .await
            .fault("classifying a refused vote")?;
        return Err(match found {
            None => CastVoteError::NotFound,
            Some((owner,)) if owner == voter.as_uuid() => CastVoteError::SelfVote,
            Some(_) => CastVoteError::NotVotable,
        });
    };
    let insert =
        sqlx::query::<D::Db>("INSERT INTO votes (user_id, video_id, cast_at) VALUES ($1, $2, $3)")
            .arg(voter.as_uuid())
            .arg(video.as_uuid())
            .arg(SqlTime(at));
    match driver::execute(insert, &mut **tx).await {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(CastVoteError::AlreadyVoted),
        Err(e) => return Err(super::fault(e, "recording a vote").into()),
    }
    let credit = sqlx::query::<D::Db>(
        "UPDATE users SET votes_received = votes_received + 1, \
             last_vote_at = CASE WHEN last_vote_at IS NULL OR last_vote_at < $2 THEN $2 \
                                 ELSE last_vote_at END \
             WHERE id = $1 RETURNING votes_received, city_key, country_key",
    )
    .arg(owner)
    .arg(SqlTime(at));
    let (votes, city, country): (i64, String, String) = driver::fetch_one(credit, &mut **tx)
        .await
        .fault("counting a player's vote")?;
    if votes == 1 {
        // A first vote: the player enters the rankings of every scope they belong to.
        let mut ranked = sqlx::query::<D::Db>(
            "INSERT INTO ranked_players (scope, players) VALUES ($1, 1), ($2, 1), ($3, 1) \
                 ON CONFLICT (scope) DO UPDATE SET players = ranked_players.players + 1",
        );
        for scope in ranking_scopes(&city, &country) {
            ranked = ranked.arg(scope);
        }
        driver::execute(ranked, &mut **tx)
            .await
            .fault("counting a newly ranked player")?;
    }
    Ok(total as u64)
}
