//! The group coordinator's side of `sendOffsetsToTransaction` (KIP-98, KIP-447): TxnOffsetCommit
//! validated as Kafka's `GroupCoordinator.handleTxnCommitOffsets` / `validateOffsetCommit`
//! (3.9.0-rc3 l. 900-950, 1018-1054) validate it, its offsets written as one transactional batch of
//! the producer's id and epoch and held pending per producer id (`txn_offsets`) until that
//! producer id's marker on the offsets partition (`GroupMetadataManager.handleTxnCompletion`,
//! l. 947-962), the loader's reading of transactional batches and markers (l. 642-680,
//! 715-745), and OffsetFetch with `requireStable` (KIP-447, `getOffsets` l. 507-545). Kept apart
//! from `group` so that the classic protocol's file stays about membership and plain commits.

use super::group::{Coordinator, Out, Pending, ReplyTo};
use super::txn_offsets::{LogEntry, PendingOffset};
use crate::protocol::{KafkaError, MemberId, OffsetsRecord};
use losslab_model::history::EventKind;

/// A TxnOffsetCommit as the coordinator reads it.
#[derive(Clone, Debug, Default)]
pub struct TxnCommitRequest {
    pub consumer: u32,
    pub producer_id: u64,
    pub epoch: u32,
    /// The consumer's group metadata (KIP-447, 2.5+ clients); `None`/`None` for the older
    /// `sendOffsetsToTransaction(offsets, groupId)` (generation -1, no member id).
    pub member: Option<MemberId>,
    pub generation: Option<u32>,
    pub instance: Option<String>,
    pub offsets: Vec<(u32, u64)>,
}

impl Coordinator {
    /// TxnOffsetCommit: `validateOffsetCommit(isTransactional = true)`, then the offsets become
    /// pending for the producer id and are written as its transactional batch; the answer goes
    /// once the batch is replicated. Unlike a plain commit it is neither refused while the group
    /// rebalances nor refused outside a generation when the group is not empty (the old API
    /// carries no member).
    pub fn on_txn_commit_request(&mut self, reply: ReplyTo, request: TxnCommitRequest) -> Vec<Out> {
        let TxnCommitRequest { consumer, producer_id, epoch, member, generation, instance, offsets } = request;
        let verdict = if generation.is_none() && member.is_none() && instance.is_none() {
            Ok(())
        } else if let Some(e) = self.fenced(member, instance.as_deref()) {
            Err(e)
        } else {
            match member {
                Some(id) if self.members.contains_key(&id) => {
                    if generation == Some(self.generation) {
                        Ok(())
                    } else {
                        Err(KafkaError::IllegalGeneration)
                    }
                }
                _ => Err(KafkaError::UnknownMemberId),
            }
        };
        if let Err(e) = verdict {
            return vec![Out::TxnCommitAnswer(reply, Err(e))];
        }
        if offsets.is_empty() {
            return vec![Out::TxnCommitAnswer(reply, Ok(()))];
        }
        self.log_order += 1;
        let at = self.log_order;
        let pending: Vec<(u32, PendingOffset)> =
            offsets.iter().map(|&(p, offset)| (p, PendingOffset { offset, log_offset: at })).collect();
        self.txn_offsets.prepare(producer_id, &pending);
        self.txn_writers.insert(producer_id, consumer);
        let records = offsets
            .iter()
            .map(|&(partition, offset)| OffsetsRecord::Commit { consumer, partition, offset, leader_epoch: None })
            .collect();
        let partitions = offsets.iter().map(|&(p, _)| p).collect();
        let op = self.op(Pending::TxnCommit { reply, producer_id, partitions });
        vec![Out::TxnAppend { op, records, producer_id, epoch }]
    }

    /// The producer id's marker on the offsets partition is written and replicated
    /// (`onTransactionCompleted` -> `handleTxnCompletion`): COMMIT makes its pending offsets the
    /// group's committed offsets where no newer plain commit is, ABORT drops them.
    pub fn on_txn_marker(&mut self, producer_id: u64, commit: bool) -> Vec<Out> {
        self.log_order += 1;
        let committed_at = self.committed_at.clone();
        let done = self.txn_offsets.complete(producer_id, commit, |p| committed_at.get(&p).copied());
        let mut out = Vec::new();
        let consumer = self.txn_writers.get(&producer_id).copied().unwrap_or(0);
        for (partition, offset) in done {
            self.committed.insert(partition, offset);
            self.committed_epochs.remove(&partition);
            self.committed_at.insert(partition, self.log_order);
            out.push(Out::Record(EventKind::Committed { consumer, partition, offset }));
        }
        out
    }

    /// The loader meets a transactional record or a marker at position `at` of the log.
    pub(super) fn load_txn_entry(&mut self, at: u64, entry: &LogEntry) {
        match entry {
            LogEntry::Record(_) => {}
            LogEntry::TxnRecord { producer_id, record: OffsetsRecord::Commit { partition, offset, .. } } => {
                self.txn_offsets
                    .prepare(*producer_id, &[(*partition, PendingOffset { offset: *offset, log_offset: at })]);
            }
            LogEntry::TxnRecord { .. } => {}
            LogEntry::Marker { producer_id, commit } => {
                let committed_at = self.committed_at.clone();
                for (partition, offset) in
                    self.txn_offsets.complete(*producer_id, *commit, |p| committed_at.get(&p).copied())
                {
                    self.committed.insert(partition, offset);
                    self.committed_epochs.remove(&partition);
                    self.committed_at.insert(partition, at);
                }
            }
        }
    }

    /// OffsetFetch with `requireStable` (KIP-447): UNSTABLE_OFFSET_COMMIT while any asked-for
    /// partition has a pending transactional offset (Kafka answers it per partition; the
    /// consumer's `ConsumerCoordinator` throws for the whole fetch and retries).
    pub fn unstable(&self, partitions: &[u32]) -> bool {
        partitions.iter().any(|&p| self.txn_offsets.has_pending(p))
    }
}
