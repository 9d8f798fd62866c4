//! The group coordinator's transactional offsets: Kafka's `GroupMetadata.pendingTransactionalOffsetCommits`
//! with `prepareTxnOffsetCommit`, `completePendingTxnOffsetCommit`, `failPendingTxnOffsetCommit`
//! and `hasPendingOffsetCommitsForTopicPartition` (3.9.0-rc3, `core/.../coordinator/group/GroupMetadata.scala`
//! l. 659-742; `GroupMetadataManager.handleTxnCompletion` l. 947-962; the loader l. 642-680,
//! 715-745). Offsets a TxnOffsetCommit wrote are pending, keyed by **producer id only**, until
//! that producer id's next marker on the offsets partition: COMMIT makes them the group's
//! committed offsets (unless a newer plain commit is already there), ABORT drops them. While an
//! offset is pending a 2.5+ consumer's OffsetFetch (`requireStable`) gets
//! UNSTABLE_OFFSET_COMMIT for that partition (KIP-447).

use crate::protocol::OffsetsRecord;
use std::collections::BTreeMap;

/// One entry of the offsets partition as the group's loader reads it
/// (`GroupMetadataManager.doLoadGroupsAndOffsets`): a plain record, a record of a transactional
/// batch (its producer id), or a control batch (the producer id's COMMIT or ABORT marker).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEntry {
    Record(OffsetsRecord),
    TxnRecord { producer_id: u64, record: OffsetsRecord },
    Marker { producer_id: u64, commit: bool },
}

/// A pending transactional offset: where it sits in the offsets log decides against a plain
/// commit of the same partition (`CommitRecordMetadataAndOffset.olderThan`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingOffset {
    pub offset: u64,
    pub log_offset: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxnOffsets {
    /// producer id -> partition -> offset.
    pending: BTreeMap<u64, BTreeMap<u32, PendingOffset>>,
}

impl TxnOffsets {
    /// `prepareTxnOffsetCommit`: the offsets are pending for the producer id.
    pub fn prepare(&mut self, producer_id: u64, offsets: &[(u32, PendingOffset)]) {
        let entry = self.pending.entry(producer_id).or_default();
        for &(p, o) in offsets {
            entry.insert(p, o);
        }
    }

    /// `failPendingTxnOffsetCommit`: the write failed.
    pub fn fail(&mut self, producer_id: u64, partitions: &[u32]) {
        if let Some(entry) = self.pending.get_mut(&producer_id) {
            for p in partitions {
                entry.remove(p);
            }
            if entry.is_empty() {
                self.pending.remove(&producer_id);
            }
        }
    }

    /// `completePendingTxnOffsetCommit` on the producer id's marker: the offsets to make
    /// committed (COMMIT), or none (ABORT). `committed_log_offset(p)`: where the group's current
    /// committed offset of `p` sits in the log, if it has one; a newer one wins.
    pub fn complete(
        &mut self,
        producer_id: u64,
        commit: bool,
        committed_log_offset: impl Fn(u32) -> Option<u64>,
    ) -> Vec<(u32, u64)> {
        let Some(entry) = self.pending.remove(&producer_id) else { return Vec::new() };
        if !commit {
            return Vec::new();
        }
        entry
            .into_iter()
            .filter(|(p, o)| committed_log_offset(*p).is_none_or(|c| c < o.log_offset))
            .map(|(p, o)| (p, o.offset))
            .collect()
    }

    /// `hasPendingOffsetCommitsForTopicPartition` (transactional half).
    pub fn has_pending(&self, partition: u32) -> bool {
        self.pending.values().any(|e| e.contains_key(&partition))
    }

    pub fn pending_producers(&self) -> impl Iterator<Item = &u64> {
        self.pending.keys()
    }
}
