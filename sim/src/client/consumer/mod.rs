//! A consumer: Kafka's consumer client and the application around it, one process.
//!
//! The client is a member of the group (classic protocol, eager rebalancing): it finds the
//! coordinator (the leader of `__consumer_offsets`, learned from metadata), joins, heartbeats
//! every `heartbeat.interval.ms` from its heartbeat thread, and rejoins when the coordinator
//! says the group is rebalancing or has forgotten it. On rejoining it first auto-commits (if
//! enabled) and gives up all its partitions; with a new assignment it asks the coordinator for
//! the committed offsets and starts there, or where `auto.offset.reset` says. When the app has
//! not called `poll()` for `max.poll.interval.ms` the heartbeat thread leaves the group, as
//! Kafka's does; the app finds out at its next commit (CommitFailedException) or poll (it
//! rejoins as a new member). The fetcher keeps one fetch per assigned partition in flight to its
//! leader, which answers only below the high watermark; `poll()` returns at most
//! `max.poll.records` of what was fetched and auto-commits, every `auto.commit.interval.ms`,
//! the positions that earlier polls returned.
//!
//! The app loops on `poll()`. With `app.processing=sync` it processes each polled batch
//! (`app.process.ms` a record) before polling again; with `async` it hands the records to an
//! in-memory queue served by `app.workers` workers and polls again at once. `app.commit`:
//! `before-process` commits synchronously what a poll returned, then processes it (a batch
//! whose commit fails is dropped: the exception leaves the loop body); `after-process` commits
//! synchronously after each processed batch (sync), or asynchronously, before each poll, the
//! contiguous processed prefix of each partition (async); `none` leaves it to auto-commit.
//! Everything here dies with the process: the queue, the fetched records, the member id.
//!
//! The parts: `node` (the process's state and its actor), `membership` (the group protocol),
//! `fetching` (positions, fetches, what `poll()` returns), `commit` (auto, sync and async
//! commits) and `app` (the loop around `poll()`, processing and workers); `isolation` filters
//! fetched batches by `isolation.level` (markers never returned, aborted transactions dropped
//! under `read_committed`).

mod app;
mod close;
mod commit;
mod fetching;
pub mod isolation;
pub mod join_prepare;
mod membership;
mod node;
mod pipeline;
pub mod position;
mod validation;

pub use node::Consumer;
