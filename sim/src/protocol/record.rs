//! Records as they travel and as logs store them: a batch of messages stamped with the leader
//! epoch it was written in and, from an idempotent producer, its producer id, epoch and base
//! sequence (Kafka's `RecordBatch` header fields that decide durability and deduplication).

use losslab_model::MsgIds;

/// The idempotent producer's stamp on a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerStamp {
    pub producer_id: u64,
    pub producer_epoch: u32,
    pub base_sequence: u32,
}

/// The transactional half of a batch header (0.11+): `isTransactional`, and for a control
/// batch its one `EndTransactionMarker` record (COMMIT or ABORT, with the coordinator epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnBatch {
    /// Records of a transaction (`isTransactional`, not a control batch).
    Data,
    /// A control batch: the transaction's marker, written by the coordinator's WriteTxnMarkers.
    Marker { commit: bool, coordinator_epoch: u32 },
}

/// One entry of the aborted-transaction index (`AbortedTxn`, also what a read_committed fetch
/// answer carries as `abortedTransactions`): the producer id, the first offset
/// of its transaction, the offset of its ABORT marker, and the partition's last stable offset
/// when the marker was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: u64,
    pub first_offset: u64,
    pub last_offset: u64,
    pub last_stable_offset: u64,
}

/// The producer number of a control record's id: a marker takes an offset like any record, and
/// the log stores an id for it, `p0#<offset>` (the model's convention in `history.rs`: no
/// producer numbers records 0). On `__consumer_offsets` the group's loader must skip marker
/// batches: its own records are `p0#N` by a run-wide counter and would collide. Consumers never
/// return markers; final logs leave them out.
pub const CONTROL_PRODUCER: u32 = 0;

/// The partition number of `__transaction_state` (Kafka hashes a transactional id to one of 50
/// partitions; here every transactional id maps to one partition, as the group does to one
/// offsets partition). Histories show it as the model's `TXN_STATE_PARTITION`.
pub const TXN_STATE_PARTITION: u32 = u32::MAX - 1;

/// Whether a partition is one of Kafka's internal topics (`__consumer_offsets`,
/// `__transaction_state`) rather than the workload's.
pub fn is_internal_partition(partition: u32) -> bool {
    partition >= TXN_STATE_PARTITION
}

#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub base_offset: u64,
    pub leader_epoch: u32,
    pub msgs: MsgIds,
    pub stamp: Option<ProducerStamp>,
    /// `None`: a non-transactional batch.
    pub txn: Option<TxnBatch>,
}

impl Batch {
    pub fn is_marker(&self) -> bool {
        matches!(self.txn, Some(TxnBatch::Marker { .. }))
    }

    /// One past the last offset of the batch.
    pub fn end_offset(&self) -> u64 {
        self.base_offset + self.msgs.len() as u64
    }
}

/// Adds `n` to a producer sequence number the way Kafka does: sequences are non-negative
/// Java ints and wrap to 0 after `i32::MAX`.
pub fn sequence_add(sequence: u32, n: u32) -> u32 {
    ((u64::from(sequence) + u64::from(n)) % (i32::MAX as u64 + 1)) as u32
}
