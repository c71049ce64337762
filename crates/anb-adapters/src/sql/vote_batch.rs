//! Group commit of votes: the votes cast at the same moment go into one write transaction (up
//! to [`MAX_BATCH`]), each under a savepoint, so that a refused vote (`already_voted`,
//! `self_vote`, …) undoes only itself and every caller still gets its own exact answer once the
//! transaction commits. One commit (one fsync, one turn of SQLite's single writer) then counts
//! many votes: what a surge of votes needs.
//!
//! A batch whose transaction fails as a whole (a deadlock with another instance's batch, a
//! connection lost) committed nothing; its votes are then cast again one by one, each in its own
//! transaction, and answered from that.

use std::sync::Arc;

use anb_domain::ports::CastVoteError;
use anb_domain::{UserId, VideoId};
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::dialect::Dialect;
use super::driver;
use super::fault::OrFault as _;
use super::votes::cast_in;
use super::Store;

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

/// Every vote of `batch` under its savepoint in one transaction: the answers, once committed.
async fn together<D: Dialect>(
    store: &Store<D>,
    batch: &[Ballot],
) -> anyhow::Result<Vec<Result<u64, CastVoteError>>> {
    let mut tx = store.begin_write().await?;
    let mut answers = Vec::with_capacity(batch.len());
    for ballot in batch {
        driver::execute(sqlx::query::<D::Db>("SAVEPOINT vote"), &mut tx)
            .await
            .fault("marking a vote's savepoint")?;
        let answer = cast_in::<D>(&mut tx, ballot.voter, ballot.video, ballot.at).await;
        let end = match &answer {
            Ok(_) => "RELEASE SAVEPOINT vote",
            Err(CastVoteError::Unexpected(e)) => anyhow::bail!("a vote in a batch failed: {e:#}"),
            Err(_) => "ROLLBACK TO SAVEPOINT vote",
        };
        driver::execute(sqlx::query::<D::Db>(end), &mut tx)
            .await
            .fault("ending a vote's savepoint")?;
        answers.push(answer);
    }
    tx.commit().await.fault("committing a batch of votes")?;
    Ok(answers)
}

/// One vote in a transaction of its own.
async fn alone<D: Dialect>(store: &Store<D>, ballot: &Ballot) -> Result<u64, CastVoteError> {
    let mut tx = store.begin_write().await?;
    let total = cast_in::<D>(&mut tx, ballot.voter, ballot.video, ballot.at).await?;
    tx.commit().await.fault("committing a vote")?;
    Ok(total)
}
