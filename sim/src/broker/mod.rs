//! A broker: one Kafka server process and the machine it runs on. The process (`node`) is a
//! thin async shell; the protocol lives in pure state machines it calls: each partition's
//! `replica` (ISR, high watermark, epochs, truncation) over its `log` (batches, epoch cache,
//! idempotent producers' state) on the machine's `disk` (page cache, fsync, writeback), and the
//! `coordinator`s it hosts while it leads their internal partition. The shell's work is split by
//! role: `control` (the controller's pushes and AlterPartition), `lifecycle` (registration,
//! heartbeats, controlled shutdown), `leader` (produce and fetch
//! answers, purgatories, ISR shrink), `follower` (the replica fetcher), `storage` (recovery,
//! flush policy, high-watermark checkpoints), `group_host` (hosting the group coordinator),
//! `txn_host` (hosting the transaction coordinator, writing markers) and `verification` (KIP-890:
//! asking the transaction coordinator before a transactional write).
//! The disk outlives the process: it is kept in the run's `World`, so a crash keeps it.

pub mod coordinator;
pub mod disk;
pub mod log;
pub mod replica;
pub mod txn_index;

mod control;
mod follower;
mod group_host;
mod leader;
mod lifecycle;
mod node;
mod storage;
mod txn_host;
mod verification;

pub use node::Broker;
