//! Group commit of votes: the votes cast at the same moment go into one write transaction (up
//! to [`MAX_BATCH`]) of a few set-wide statements, and every caller still gets its own exact
//! answer (`already_voted`, `self_vote`, its video's total, …) once the transaction commits.
//! One commit (one fsync, one turn of SQLite's single writer) then counts many votes: what a
//! surge of votes needs.
//!
//! A batch whose transaction fails as a whole (a deadlock with another instance's batch, a
//! connection lost) committed nothing; its votes are then cast again one by one, each in its own
//! transaction, and answered from that.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use anb_domain::ports::CastVoteError;
use anb_domain::{UserId, VideoId};
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, Mutex};
use uuid::Uuid;

use super::dialect::Dialect;
use super::driver::{self, Arg as _};
use super::fault::OrFault as _;
use super::records::ranking_scopes;
use super::votes::cast_in;
use super::{SqlTime, Store};

/// The most votes one transaction counts.
pub(crate) const MAX_BATCH: usize = 64;

/// How many batches may run at once (on PostgreSQL they run side by side; SQLite's single
/// writer takes them in turn).
const BATCHERS: usize = 2;

/// Votes waiting for a batch, at most: more callers wait for room.
const QUEUE: usize = 1024;

/// One vote and where its answer goes.
#[derive(Debug)]
pub(crate) struct Ballot {
    voter: UserId,
    video: VideoId,
    at: DateTime<Utc>,
    answer: oneshot::Sender<Result<u64, CastVoteError>>,
}

/// The way into the batches of one store (shared by its clones).
pub(crate) type BallotBox = mpsc::Sender<Ballot>;

/// Starts the batchers of `store`: tasks of the current runtime that end when every
/// [`BallotBox`] is gone.
pub(crate) fn open<D: Dialect>(store: &Store<D>) -> BallotBox {
    let (sender, receiver) = mpsc::channel(QUEUE);
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..BATCHERS {
        let (store, receiver) = (store.detached(), receiver.clone());
        tokio::spawn(async move {
            while let Some(batch) = next_batch(&receiver).await {
                cast_batch(&store, batch).await;
            }
        });
    }
    sender
}

/// Casts a vote through `ballots` and waits for its answer.
pub(crate) async fn cast(
    ballots: &BallotBox,
    voter: UserId,
    video: VideoId,
    at: DateTime<Utc>,
) -> Result<u64, CastVoteError> {
    let (answer, answered) = oneshot::channel();
    let ballot = Ballot {
        voter,
        video,
        at,
        answer,
    };
    ballots
        .send(ballot)
        .await
        .map_err(|_| anyhow::anyhow!("the vote batches have stopped"))?;
    answered
        .await
        .map_err(|_| anyhow::anyhow!("a vote batch ended without an answer"))?
}

/// The votes waiting now (at least one; `None` when the store is gone).
async fn next_batch(receiver: &Mutex<mpsc::Receiver<Ballot>>) -> Option<Vec<Ballot>> {
    let mut receiver = receiver.lock().await;
    let first = receiver.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match receiver.try_recv() {
            Ok(ballot) => batch.push(ballot),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Counts `batch` in one transaction and answers every vote; one by one when that fails.
async fn cast_batch<D: Dialect>(store: &Store<D>, mut batch: Vec<Ballot>) {
    // One order for the rows every batch locks, so batches of two instances do not deadlock
    // over the same videos.
    batch.sort_by_key(|b| b.video);
    let answers = if batch.len() == 1 {
        None
    } else {
        together(store, &batch).await.ok()
    };
    match answers {
        Some(answers) => {
            for (ballot, answer) in batch.into_iter().zip(answers) {
                let _ = ballot.answer.send(answer);
            }
        }
        None => {
            for ballot in batch {
                let answer = alone(store, &ballot).await;
                let _ = ballot.answer.send(answer);
            }
        }
    }
}

/// Every vote of `batch` in one transaction, a statement for each step whatever the batch's
/// size: lock the open videos among them, insert the votes (a vote already there is skipped),
/// add each video's and each owner's new votes, count players ranked for the first time, and
/// classify the refused. The answers, once committed: a counted vote gets its video's total as
/// it stood after it (the batch's votes for one video count in the batch's order).
async fn together<D: Dialect>(
    store: &Store<D>,
    batch: &[Ballot],
) -> anyhow::Result<Vec<Result<u64, CastVoteError>>> {
    let mut tx = store.begin_write().await?;
    let videos: Vec<VideoId> = {
        let mut ids: Vec<VideoId> = batch.iter().map(|b| b.video).collect();
        ids.dedup();
        ids
    };

    // The open videos, locked (so an unpublish waits for this batch, or this batch for it),
    // with their owners.
    let lock = format!(
        "UPDATE videos SET votes = votes WHERE status = 'processed' AND is_public AND id IN ({}) \
         RETURNING id, owner_id",
        placeholders(1, videos.len())
    );
    let mut query = sqlx::query::<D::Db>(&lock);
    for id in &videos {
        query = query.arg(id.as_uuid());
    }
    let open: HashMap<Uuid, Uuid> = driver::fetch_all::<D::Db, (Uuid, Uuid)>(query, &mut tx)
        .await
        .fault("locking the videos of a batch of votes")?
        .into_iter()
        .collect();

    // The votes that may count: on an open video, not its owner's, once per voter and video.
    let mut candidates: Vec<usize> = Vec::new();
    let mut seen = HashSet::new();
    for (i, ballot) in batch.iter().enumerate() {
        let owner = open.get(&ballot.video.as_uuid());
        if owner.is_some_and(|o| *o != ballot.voter.as_uuid())
            && seen.insert((ballot.voter, ballot.video))
        {
            candidates.push(i);
        }
    }
    let mut inserted: HashSet<(Uuid, Uuid)> = HashSet::new();
    if !candidates.is_empty() {
        let rows = (0..candidates.len())
            .map(|k| format!("(${}, ${}, ${})", 3 * k + 1, 3 * k + 2, 3 * k + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO votes (user_id, video_id, cast_at) VALUES {rows} \
             ON CONFLICT DO NOTHING RETURNING user_id, video_id"
        );
        let mut query = sqlx::query::<D::Db>(&sql);
        for &i in &candidates {
            let b = &batch[i];
            query = query
                .arg(b.voter.as_uuid())
                .arg(b.video.as_uuid())
                .arg(SqlTime(b.at));
        }
        inserted = driver::fetch_all::<D::Db, (Uuid, Uuid)>(query, &mut tx)
            .await
            .fault("recording a batch of votes")?
            .into_iter()
            .collect();
    }
    let counted: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| inserted.contains(&(batch[i].voter.as_uuid(), batch[i].video.as_uuid())))
        .collect();

    // Each video's new votes, and its total after them.
    let mut per_video: BTreeMap<Uuid, i64> = BTreeMap::new();
    let mut per_owner: BTreeMap<Uuid, (i64, DateTime<Utc>)> = BTreeMap::new();
    for &i in &counted {
        let b = &batch[i];
        *per_video.entry(b.video.as_uuid()).or_default() += 1;
        let owner = open[&b.video.as_uuid()];
        let entry = per_owner.entry(owner).or_insert((0, b.at));
        entry.0 += 1;
        entry.1 = entry.1.max(b.at);
    }
    let mut totals: HashMap<Uuid, i64> = HashMap::new();
    if !per_video.is_empty() {
        let (case, ids) = case_by_id(per_video.len());
        let sql = format!(
            "UPDATE videos SET votes = votes + {case} WHERE id IN ({ids}) RETURNING id, votes"
        );
        let mut query = sqlx::query::<D::Db>(&sql);
        for (id, n) in &per_video {
            query = query.arg(*id).arg(*n);
        }
        for id in per_video.keys() {
            query = query.arg(*id);
        }
        totals = driver::fetch_all::<D::Db, (Uuid, i64)>(query, &mut tx)
            .await
            .fault("counting a batch of votes")?
            .into_iter()
            .collect();
    }

    // Each owner's new votes; those who had none enter the rankings of their scopes.
    if !per_owner.is_empty() {
        let n = per_owner.len();
        let (added, ids) = case_by_id(n);
        let latest = case_by_id_from(3 * n + 1, n);
        let sql = format!(
            "UPDATE users SET votes_received = votes_received + {added}, \
             last_vote_at = CASE WHEN last_vote_at IS NULL OR last_vote_at < {latest} \
                                 THEN {latest} ELSE last_vote_at END \
             WHERE id IN ({ids}) RETURNING votes_received, city_key, country_key, id"
        );
        let mut query = sqlx::query::<D::Db>(&sql);
        for (id, (added, _)) in &per_owner {
            query = query.arg(*id).arg(*added);
        }
        for id in per_owner.keys() {
            query = query.arg(*id);
        }
        for (id, (_, at)) in &per_owner {
            query = query.arg(*id).arg(SqlTime(*at));
        }
        let credited = driver::fetch_all::<D::Db, (i64, String, String, Uuid)>(query, &mut tx)
            .await
            .fault("counting a batch of players' votes")?;
        let mut newly_ranked: BTreeMap<String, i64> = BTreeMap::new();
        for (votes, city, country, id) in credited {
            if votes == per_owner[&id].0 {
                for scope in ranking_scopes(&city, &country) {
                    *newly_ranked.entry(scope).or_default() += 1;
                }
            }
        }
        if !newly_ranked.is_empty() {
            let rows = (0..newly_ranked.len())
                .map(|k| format!("(${}, ${})", 2 * k + 1, 2 * k + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO ranked_players (scope, players) VALUES {rows} \
                 ON CONFLICT (scope) DO UPDATE SET players = ranked_players.players + excluded.players"
            );
            let mut query = sqlx::query::<D::Db>(&sql);
            for (scope, n) in newly_ranked {
                query = query.arg(scope).arg(n);
            }
            driver::execute(query, &mut tx)
                .await
                .fault("counting newly ranked players")?;
        }
    }

    // Why the others were refused: the video's owner, if the video exists.
    let refused: Vec<Uuid> = videos
        .iter()
        .map(|v| v.as_uuid())
        .filter(|v| !open.contains_key(v))
        .collect();
    let mut owners: HashMap<Uuid, Uuid> = HashMap::new();
    if !refused.is_empty() {
        let sql = format!(
            "SELECT id, owner_id FROM videos WHERE id IN ({})",
            placeholders(1, refused.len())
        );
        let mut query = sqlx::query::<D::Db>(&sql);
        for id in &refused {
            query = query.arg(*id);
        }
        owners = driver::fetch_all::<D::Db, (Uuid, Uuid)>(query, &mut tx)
            .await
            .fault("classifying refused votes")?
            .into_iter()
            .collect();
    }
    tx.commit().await.fault("committing a batch of votes")?;

    // Answers, in the batch's order: a video's counted votes get its totals in turn.
    let mut next_total: HashMap<Uuid, i64> = per_video
        .iter()
        .map(|(id, n)| (*id, totals.get(id).copied().unwrap_or_default() - n))
        .collect();
    let counted: HashSet<usize> = counted.into_iter().collect();
    Ok(batch
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let video = b.video.as_uuid();
            let voter = b.voter.as_uuid();
            if counted.contains(&i) {
                let total = next_total.entry(video).or_default();
                *total += 1;
                return Ok(*total as u64);
            }
            match (open.get(&video), owners.get(&video)) {
                (Some(owner), _) | (None, Some(owner)) if *owner == voter => {
                    Err(CastVoteError::SelfVote)
                }
                (Some(_), _) => Err(CastVoteError::AlreadyVoted),
                (None, Some(_)) => Err(CastVoteError::NotVotable),
                (None, None) => Err(CastVoteError::NotFound),
            }
        })
        .collect())
}

/// `$first, …` for `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CASE id WHEN $1 THEN $2 … END` for `n` (id, value) pairs, and the `IN` list of the ids that
/// follow them (`$2n+1 …`).
fn case_by_id(n: usize) -> (String, String) {
    (case_by_id_from(1, n), placeholders(2 * n + 1, n))
}

/// `CASE id WHEN $first THEN $first+1 … END` for `n` (id, value) pairs from parameter `first`.
fn case_by_id_from(first: usize, n: usize) -> String {
    let arms: String = (0..n)
        .map(|k| format!(" WHEN ${} THEN ${}", first + 2 * k, first + 2 * k + 1))
        .collect();
    format!("(CASE id{arms} END)")
}

/// One vote in a transaction of its own.
async fn alone<D: Dialect>(store: &Store<D>, ballot: &Ballot) -> Result<u64, CastVoteError> {
    let mut tx = store.begin_write().await?;
    let total = cast_in::<D>(&mut tx, ballot.voter, ballot.video, ballot.at).await?;
    tx.commit().await.fault("committing a vote")?;
    Ok(total)
}
