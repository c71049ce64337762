//! The job queue on Redis, [`RedisQueue`], and the public pages the HTTP instances share,
//! [`RedisPageStore`] (plain `SET … PX` keys under `anb:page:`, see its documentation).
//!
//! # The queue's layout
//! Every key starts with the queue's prefix, so several deployments (and test runs) can share
//! one Redis:
//!
//! | key                    | type   | holds |
//! |------------------------|--------|-------|
//! | `{prefix}:job:{id}`    | HASH   | `payload` (the [`JobPayload`](anb_domain::JobPayload) as JSON), `trace` (the trace context given at enqueue, when there is one), `attempts`, `token` (the current lease's), `reason` once failed |
//! | `{prefix}:due`         | ZSET   | waiting jobs; score = when deliverable (ms since the epoch) |
//! | `{prefix}:leased`      | ZSET   | leased jobs; score = when the lease expires (ms) |
//! | `{prefix}:failed`      | SET    | dead-lettered jobs (their hashes are kept for inspection) |
//!
//! A job is in exactly one of `due`, `leased` and `failed`, or gone (acked). Job ids are UUIDv7,
//! so jobs with the same score (a sorted set orders those by member) still come out oldest first.
//!
//! # The queue's operations
//! Each [`JobQueue`](anb_domain::ports::JobQueue) operation is **one Lua script**, so it is
//! atomic: no other client sees a job between two sets, and two consumers can never take the same
//! delivery. Scripts read the time with `TIME`, so every worker leases, expires and schedules on
//! the *server's* clock, however far their own clocks drift.
//!
//! - `lease` takes the earlier of the first `due` job and the first *expired* `leased` job,
//!   moves it to `leased` with a new expiry, bumps `attempts` and stores a fresh token.
//! - `enqueue_missing` reads the payload of every live job (`due` and `leased`) and adds the
//!   given jobs whose payload is not among them: restores from many workers at once never add a
//!   job twice. It costs one `HGET` per live job, so the backlog, not the history, sets its price.
//! - `heartbeat` needs the job's current token and an unexpired lease.
//! - `ack`, `retry` and `fail` need the current token and the job still in `leased` (expired or
//!   not: an expired lease nobody took over is still current, so a slow worker may finish).
//!   Re-leasing replaces the token, so a worker whose lease was taken over is refused
//!   ([`QueueError::LeaseLost`](anb_domain::ports::QueueError::LeaseLost)) and cannot disturb the
//!   new holder.
//!
//! The scripts are sent with `EVALSHA`, falling back to `EVAL` (which caches them) when the server
//! does not know them yet, e.g. after a restart. The connection is a
//! [`ConnectionManager`](::redis::aio::ConnectionManager): a dropped connection fails the calls in
//! flight (as [`QueueError::Unexpected`](anb_domain::ports::QueueError::Unexpected)) and is
//! re-established in the background. An operation cut off that way may or may not have happened;
//! the queue stays at-least-once: a lease whose answer was lost simply expires and is delivered
//! again.
//!
//! # Why not Redis Streams
//! Streams with consumer groups and `XAUTOCLAIM` were considered and rejected:
//! - `XACK` does not fence a stale consumer: a worker whose lease expired can still acknowledge an
//!   entry another consumer has since claimed, so the new holder's work is silently orphaned.
//! - A per-delivery lease token, which the port's contract is built on, is not expressible.
//! - Streams have no delayed delivery: retry backoff and delayed enqueue would need a side sorted
//!   set (and a mover) anyway.
//!
//! Sorted sets plus scripts give all three directly, with one data model.
//!
//! # Requirements
//! Redis 5 or later (or a compatible server such as Valkey): scripts call `TIME` before writing,
//! which needs effects replication, the default since Redis 5. A single server or a primary with
//! replicas; Redis Cluster is not supported (the scripts build job keys from ids they read).

mod fault;
mod pages;
mod queue;

pub use pages::{RedisPageStore, DEFAULT_PAGE_PREFIX};
pub use queue::RedisQueue;
