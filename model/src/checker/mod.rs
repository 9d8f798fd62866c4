//! The checker: a run's history and final state in, a verdict out. For every message it
//! decides whether the final logs and the consumer group kept the promises of the scenario
//! format's `expect` table, and explains every broken one in sentences built from the history.
//!
//! It works in two steps. `index` reads the history once and the final logs once, gathering
//! per-message facts (the events that mention each message) and per-partition, per-node lists
//! (elections, crashes, commits...); `txns` gathers the transactions and the pipeline's outputs
//! (issue 16). Then one function per finding class (`loss`, `order`, `consumer`, `consumed`,
//! `replicas`, `stuck`, `txn`, `pipeline`) judges from those indexes alone, telling its findings
//! with the shared wording of `explain`; `verdict` runs them all and gathers their findings
//! into one [`Verdict`](crate::finding::Verdict). The checker never panics on an odd history:
//! a missing event makes a finding's story shorter, not wrong.

mod consumed;
mod consumer;
mod explain;
mod index;
mod loss;
mod order;
mod pipeline;
mod replicas;
mod steps;
mod stuck;
mod table;
mod txn;
mod txns;
mod verdict;

pub use verdict::check;
