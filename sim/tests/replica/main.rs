//! Unit and property tests for the pure replication state machine (`replica`, `log`):
//! leader append, follower fetch with leader-epoch divergence detection, ISR shrink and
//! expansion through AlterPartition, the high watermark, acks=all completion, the pre-KIP-101
//! truncation to the high watermark, KAFKA-15583 and idempotent deduplication.
//!
//! Everything here drives `Replica` the way `broker.rs` does, but synchronously: a fetch is a
//! request answered at once, a controller push is applied when the test says so.
//!
//! `common` is the harness; each other module is one theme.

mod common;
mod epochs;
mod hw;
mod idempotence;
mod isr;
mod properties;
mod regressions;
