//! The fields of the events too large to keep inline. `EventKind` is as large as its largest
//! variant and a run keeps every event (over a million in a 1,000,000-message run), so the
//! rare, wide ones (a partition change, a consumer's new position, a coordinator's transition,
//! a producer's new id or epoch) sit behind a box and the common ones stay small. They are
//! written exactly as an inline variant would be: flat, after the event's `type`.

use serde::{Deserialize, Serialize};

/// The fields of [`EventKind::ProducerIdChange`](super::EventKind::ProducerIdChange).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProducerIdChange {
    pub producer_id: Option<u64>,
    pub epoch: u32,
    pub partitions: Vec<u32>,
    pub reason: String,
}

/// The fields of [`EventKind::PartitionChange`](super::EventKind::PartitionChange).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartitionChange {
    pub partition: u32,
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    pub partition_epoch: u32,
    pub isr: Vec<u32>,
    pub elr: Vec<u32>,
    pub cause: String,
}

/// The fields of [`EventKind::Resumed`](super::EventKind::Resumed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub consumer: u32,
    pub generation: u32,
    pub partition: u32,
    pub offset: Option<u64>,
    #[serde(default)]
    pub committed: Option<u64>,
    #[serde(default)]
    pub reset: Option<String>,
}

/// The fields of [`EventKind::TxnTransition`](super::EventKind::TxnTransition).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxnTransition {
    pub broker: u32,
    pub producer: u32,
    pub txn: Option<u64>,
    pub producer_id: u64,
    pub epoch: u32,
    pub from: String,
    pub to: String,
    pub partitions: Vec<u32>,
    pub offsets_partitions: bool,
}
