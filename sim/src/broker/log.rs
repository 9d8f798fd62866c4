//! A partition's log: record batches stamped with the leader epoch they were written in, the
//! leader-epoch cache (KIP-101: which epoch started at which offset) and the idempotent
//! producers' state (rebuilt from the batches, so a new leader deduplicates as the old one
//! did). Offsets are dense from 0; nothing is ever deleted except by truncation.
//!
//! The log lives on a broker's `disk` (page cache plus platter), not in the broker process:
//! a process crash keeps it. This module knows nothing about durability.

use super::txn_index::{CompletedTxn, TxnIndex};
use crate::fault::mutation::{self, Mutation};
use crate::protocol::{sequence_add, Batch, KafkaError, ProducerStamp, TxnBatch};
use losslab_model::MsgId;
use std::collections::{BTreeMap, VecDeque};

/// Kafka keeps the metadata of the last five batches per producer for deduplication.
pub const PRODUCER_BATCHES_RETAINED: usize = 5;

/// What the producer state says about an incoming idempotent batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceCheck {
    /// The next batch in sequence (or a producer the log does not know): append it.
    Append,
    /// Already in the log at this base offset: answer success without appending.
    Duplicate(u64),
    /// A gap or an older sequence not among the retained batches.
    OutOfOrder,
    /// The batch is stamped with an older producer epoch than the log has seen
    /// (INVALID_PRODUCER_EPOCH): a zombie of a producer session that has moved on.
    FencedEpoch,
    /// Brokers 1.0-2.4: the log has no state for the producer and the batch does not start at
    /// sequence 0 (UNKNOWN_PRODUCER_ID).
    UnknownProducerId,
}

/// What a release line's broker does with a batch from a producer the log has no state for
/// (`ProducerAppendInfo.checkSequence` / 0.11's `ProducerIdEntry.validateAppend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownProducer {
    /// 2.5 and later (KIP-360): any sequence is accepted (the state may have gone with the
    /// batches that carried it).
    AnySequence,
    /// 1.0-2.4: sequence 0 is accepted, anything else is UNKNOWN_PRODUCER_ID.
    UnknownProducerId,
    /// 0.11: sequence 0 is accepted, anything else is OUT_OF_ORDER_SEQUENCE_NUMBER ("Invalid
    /// sequence number for new epoch").
    OutOfOrder,
}

/// How a release line's broker checks idempotent batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceRules {
    pub unknown_producer: UnknownProducer,
    /// How many of a producer's last batches a retry may match (5 from 1.0, 1 in 0.11).
    pub retained_batches: usize,
}

impl SequenceRules {
    /// The rules of 2.5 and later.
    pub const CURRENT: SequenceRules =
        SequenceRules { unknown_producer: UnknownProducer::AnySequence, retained_batches: PRODUCER_BATCHES_RETAINED };

    pub fn of(version: losslab_model::KafkaVersion) -> SequenceRules {
        let unknown_producer = if version.broker_refuses_unknown_producer_sequences() {
            UnknownProducer::OutOfOrder
        } else if version.broker_answers_unknown_producer_id() {
            UnknownProducer::UnknownProducerId
        } else {
            UnknownProducer::AnySequence
        };
        SequenceRules { unknown_producer, retained_batches: version.producer_batches_retained() }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ProducerEntry {
    producer_epoch: u32,
    /// (first sequence, last sequence, base offset) of the last batches, oldest first.
    recent: VecDeque<(u32, u32, u64)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    batches: Vec<Batch>,
    log_end_offset: u64,
    /// (epoch, start offset), both strictly increasing.
    epochs: Vec<(u32, u64)>,
    producers: BTreeMap<u64, ProducerEntry>,
    /// The partition's transactions (open ones, the aborted index), implied by the batches.
    txns: TxnIndex,
}

impl Log {
    pub fn txns(&self) -> &TxnIndex {
        &self.txns
    }

    /// `ProducerAppendInfo` for a leader's data batch, after the sequence check: a
    /// non-transactional batch while its producer id has a transaction open here is
    /// INVALID_TXN_STATE (0.11+).
    pub fn check_txn_data(&self, producer_id: u64, transactional: bool) -> Result<(), KafkaError> {
        if !transactional && self.txns.open_txn(producer_id).is_some() {
            return Err(KafkaError::InvalidTxnState);
        }
        Ok(())
    }

    /// `ProducerAppendInfo.appendEndTxnMarker`'s checks (0.11 to 4.1): a marker with an older
    /// producer epoch than the partition has seen is INVALID_PRODUCER_EPOCH, one from an older
    /// coordinator epoch TRANSACTION_COORDINATOR_FENCED. An equal epoch is accepted (a late
    /// duplicate marker closes whatever transaction is open: KIP-1228 came after 4.1).
    pub fn check_marker(&self, producer_id: u64, epoch: u32, coordinator_epoch: u32) -> Result<(), KafkaError> {
        if let Some(entry) = self.producers.get(&producer_id) {
            if epoch < entry.producer_epoch {
                return Err(KafkaError::InvalidProducerEpoch);
            }
        }
        if self.txns.coordinator_epoch(producer_id).is_some_and(|c| coordinator_epoch < c) {
            return Err(KafkaError::TransactionCoordinatorFenced);
        }
        Ok(())
    }

    /// The sequence a batch of `producer_id` at `epoch` continues with here: 0 for a new producer
    /// id or a newer epoch, else one past its last batch. A coordinator's own transactional write
    /// (`AppendOrigin.COORDINATOR`: TxnOffsetCommit's batch) is not checked by sequence in Kafka;
    /// taking the expected one lets it through the leader's check unchanged.
    pub fn next_sequence(&self, producer_id: u64, epoch: u32) -> u32 {
        match self.producers.get(&producer_id) {
            Some(e) if e.producer_epoch == epoch => e.recent.back().map_or(0, |&(_, last, _)| sequence_add(last, 1)),
            _ => 0,
        }
    }

    /// The epoch the partition last saw from a producer id (data or marker).
    pub fn producer_epoch(&self, producer_id: u64) -> Option<u32> {
        self.producers.get(&producer_id).map(|e| e.producer_epoch)
    }

    pub fn log_end_offset(&self) -> u64 {
        self.log_end_offset
    }

    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// The epoch of the last record (what a follower sends as `lastFetchedEpoch`).
    pub fn last_batch_epoch(&self) -> Option<u32> {
        self.batches.last().map(|b| b.leader_epoch)
    }

    /// The newest epoch in the epoch cache.
    pub fn latest_epoch(&self) -> Option<u32> {
        self.epochs.last().map(|e| e.0)
    }

    pub fn epoch_cache(&self) -> &[(u32, u64)] {
        &self.epochs
    }

    /// Appends a batch at the log end. Epochs never go back.
    pub fn append(&mut self, batch: Batch) {
        assert_eq!(batch.base_offset, self.log_end_offset, "offsets are dense");
        assert!(!batch.msgs.is_empty(), "no empty batches");
        self.assign_epoch(batch.leader_epoch, batch.base_offset);
        self.remember(&batch);
        self.log_end_offset = batch.end_offset();
        self.batches.push(batch);
    }

    /// The producer state a batch implies (data: sequences and an opened transaction; a marker:
    /// the epochs and the closed transaction).
    fn remember(&mut self, batch: &Batch) -> Option<CompletedTxn> {
        let stamp = batch.stamp?;
        match batch.txn {
            Some(TxnBatch::Marker { commit, coordinator_epoch }) => {
                // `ProducerStateEntry.update`: the batch metadata goes only if the epoch moved.
                let entry = self.producers.entry(stamp.producer_id).or_default();
                if stamp.producer_epoch != entry.producer_epoch {
                    entry.recent.clear();
                }
                entry.producer_epoch = entry.producer_epoch.max(stamp.producer_epoch);
                self.txns.on_marker(stamp.producer_id, batch.base_offset, commit, coordinator_epoch)
            }
            txn => {
                self.remember_producer_batch(stamp, batch.msgs.len(), batch.base_offset);
                self.txns.on_data(stamp.producer_id, batch.base_offset, txn == Some(TxnBatch::Data));
                None
            }
        }
    }

    /// Records that `epoch` starts at `start_offset` (a new leader does this at its log end; a
    /// follower when it appends a batch of a new epoch). As Kafka's `LeaderEpochFileCache.assign`
    /// does, entries that would make the cache non-monotonic (an epoch this broker led without
    /// writing, now overwritten by an older epoch's batch) are dropped first.
    pub fn assign_epoch(&mut self, epoch: u32, start_offset: u64) {
        let needed = self.epochs.last().is_none_or(|&(last, last_start)| epoch != last || start_offset < last_start);
        if !needed {
            return;
        }
        self.epochs.retain(|&(e, start)| e < epoch && start < start_offset);
        self.epochs.push((epoch, start_offset));
        debug_assert!(self.epochs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    }

    /// Kafka's `LeaderEpochFileCache.endOffsetFor(epoch)` (2.0 and later): for the latest epoch,
    /// (it, the log end); for an epoch below every cached one, (it, the first epoch's start);
    /// otherwise the largest cached epoch <= `epoch` and where the next one starts. `None`
    /// (UNDEFINED) for an empty cache or an epoch above the latest.
    pub fn end_offset_for_epoch(&self, epoch: u32) -> Option<(u32, u64)> {
        let &(latest, _) = self.epochs.last()?;
        if epoch == latest {
            return Some((latest, self.log_end_offset));
        }
        let idx = self.epochs.partition_point(|&(e, _)| e <= epoch);
        let &(_, next_start) = self.epochs.get(idx)?;
        match idx {
            0 => Some((epoch, next_start)),
            _ => Some((self.epochs[idx - 1].0, next_start)),
        }
    }

    /// The same question as 0.11-1.1 answered it (`LeaderEpochFileCache.endOffsetFor` before
    /// KIP-279, OffsetsForLeaderEpoch v0): the log end for the latest epoch; UNDEFINED (`None`)
    /// for an epoch above the latest or below the first; otherwise the start of the first epoch
    /// above it.
    pub fn end_offset_for_epoch_v0(&self, epoch: u32) -> Option<u64> {
        let &(latest, _) = self.epochs.last()?;
        if epoch == latest {
            return Some(self.log_end_offset);
        }
        let &(first, _) = self.epochs.first()?;
        if epoch < first {
            return None;
        }
        self.epochs.iter().find(|&&(e, _)| e > epoch).map(|&(_, start)| start)
    }

    /// Removes every batch at or after `offset`; a batch that straddles `offset` goes whole, as
    /// Kafka truncates at batch boundaries. Returns the removed records with their offsets.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<(u64, MsgId)> {
        if offset >= self.log_end_offset {
            // Kafka always cuts the epoch cache at the log end, even when no record goes: a
            // broker that led an epoch without writing must not keep announcing it.
            let leo = self.log_end_offset;
            self.epochs.retain(|&(_, start)| start < leo);
            return Vec::new();
        }
        let keep = self.batches.partition_point(|b| b.end_offset() <= offset);
        let mut removed = Vec::new();
        for batch in self.batches.drain(keep..) {
            removed.extend(batch.msgs.iter().enumerate().map(|(i, &m)| (batch.base_offset + i as u64, m)));
        }
        self.log_end_offset = self.batches.last().map_or(0, Batch::end_offset);
        let leo = self.log_end_offset;
        // Kafka's `truncateFromEnd`: epochs that start at or past the new end are gone.
        self.epochs.retain(|&(_, start)| start < leo);
        self.rebuild_producers();
        removed
    }

    /// Batches from the one holding `from`, up to about `max_msgs` records.
    pub fn read(&self, from: u64, max_msgs: usize) -> Vec<Batch> {
        let start = self.batches.partition_point(|b| b.end_offset() <= from);
        let mut out = Vec::new();
        let mut count = 0;
        for batch in &self.batches[start..] {
            if count >= max_msgs && !out.is_empty() {
                break;
            }
            count += batch.msgs.len();
            out.push(batch.clone());
        }
        out
    }

    /// `read`, cut at `upper` (a consumer's high watermark or last stable offset): batches that
    /// start at or above it go, a batch that straddles it keeps its records below it.
    pub fn read_below(&self, from: u64, max_msgs: usize, upper: u64) -> Vec<Batch> {
        let mut batches = self.read(from, max_msgs);
        batches.retain(|b| b.base_offset < upper);
        for b in batches.iter_mut() {
            let keep = (upper - b.base_offset).min(b.msgs.len() as u64) as usize;
            b.msgs = b.msgs[..keep].into();
        }
        batches
    }

    /// The records at offsets `from..to`.
    pub fn records(&self, from: u64, to: u64) -> Vec<(u64, MsgId)> {
        let start = self.batches.partition_point(|b| b.end_offset() <= from);
        let mut out = Vec::new();
        for batch in &self.batches[start..] {
            if batch.base_offset >= to {
                break;
            }
            for (i, &m) in batch.msgs.iter().enumerate() {
                let off = batch.base_offset + i as u64;
                if off >= from && off < to {
                    out.push((off, m));
                }
            }
        }
        out
    }

    /// Every record, offset order.
    pub fn all_records(&self) -> Vec<MsgId> {
        // Sized up front: a final state holds one such copy per replica, and growing it by
        // doubling would keep up to twice the records.
        let mut out = Vec::with_capacity(self.batches.iter().map(|b| b.msgs.len()).sum());
        for b in &self.batches {
            out.extend_from_slice(&b.msgs);
        }
        out
    }

    /// Checks an idempotent batch against the producer state (Kafka's `ProducerStateManager`),
    /// as brokers from 2.5 on do.
    pub fn check_sequence(&self, stamp: ProducerStamp, count: usize) -> SequenceCheck {
        self.check_sequence_with(stamp, count, SequenceRules::CURRENT)
    }

    /// `check_sequence` under a release line's rules.
    pub fn check_sequence_with(&self, stamp: ProducerStamp, count: usize, rules: SequenceRules) -> SequenceCheck {
        let Some(entry) = self.producers.get(&stamp.producer_id) else {
            return match rules.unknown_producer {
                UnknownProducer::AnySequence => SequenceCheck::Append,
                _ if stamp.base_sequence == 0 => SequenceCheck::Append,
                UnknownProducer::UnknownProducerId => SequenceCheck::UnknownProducerId,
                UnknownProducer::OutOfOrder => SequenceCheck::OutOfOrder,
            };
        };
        if stamp.producer_epoch > entry.producer_epoch {
            // A bumped epoch starts its sequences again, at 0 (Kafka's "Invalid sequence number
            // for new epoch" otherwise).
            return if stamp.base_sequence == 0 { SequenceCheck::Append } else { SequenceCheck::OutOfOrder };
        }
        if stamp.producer_epoch < entry.producer_epoch {
            // The fencing-off mutation lets a zombie's batch of an older epoch in, unchecked
            // (its sequences belong to an epoch the entry no longer tracks).
            if mutation::on(Mutation::FencingOff) {
                return SequenceCheck::Append;
            }
            return SequenceCheck::FencedEpoch;
        }
        let last_seq = sequence_add(stamp.base_sequence, count as u32 - 1);
        let mut retained = entry.recent.iter().skip(entry.recent.len().saturating_sub(rules.retained_batches));
        if let Some(&(_, _, offset)) =
            retained.find(|&&(first, last, _)| first == stamp.base_sequence && last == last_seq)
        {
            return SequenceCheck::Duplicate(offset);
        }
        match entry.recent.back() {
            Some(&(_, last, _)) if stamp.base_sequence == sequence_add(last, 1) => SequenceCheck::Append,
            // An entry with an epoch and no batches (a marker moved it: `ProducerStateEntry.update`
            // clears the batch metadata) takes sequence 0 only (`inSequence(-1, seq)`).
            None if stamp.base_sequence == 0 => SequenceCheck::Append,
            _ => SequenceCheck::OutOfOrder,
        }
    }

    fn remember_producer_batch(&mut self, stamp: ProducerStamp, count: usize, base_offset: u64) {
        let entry = self.producers.entry(stamp.producer_id).or_default();
        if stamp.producer_epoch > entry.producer_epoch {
            entry.recent.clear();
            entry.producer_epoch = stamp.producer_epoch;
        }
        entry.recent.push_back((stamp.base_sequence, sequence_add(stamp.base_sequence, count as u32 - 1), base_offset));
        if entry.recent.len() > PRODUCER_BATCHES_RETAINED {
            entry.recent.pop_front();
        }
    }

    /// Drops the idempotent producers' state (only the producer-state-not-rebuilt mutation).
    pub fn forget_producers(&mut self) {
        self.producers.clear();
        self.txns = TxnIndex::default();
    }

    fn rebuild_producers(&mut self) {
        self.producers.clear();
        self.txns = TxnIndex::default();
        let batches = std::mem::take(&mut self.batches);
        for b in &batches {
            self.remember(b);
        }
        self.batches = batches;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(seq: u64) -> MsgId {
        MsgId { producer: 1, seq }
    }

    fn batch(base: u64, epoch: u32, n: u64) -> Batch {
        Batch {
            base_offset: base,
            leader_epoch: epoch,
            msgs: (base..base + n).map(m).collect(),
            stamp: None,
            txn: None,
        }
    }

    #[test]
    fn epoch_cache_answers_end_offsets() {
        let mut log = Log::default();
        log.append(batch(0, 1, 3));
        log.append(batch(3, 1, 2));
        log.append(batch(5, 3, 4));
        assert_eq!(log.end_offset_for_epoch(1), Some((1, 5)));
        assert_eq!(log.end_offset_for_epoch(2), Some((1, 5)));
        assert_eq!(log.end_offset_for_epoch(3), Some((3, 9)));
        assert_eq!(log.end_offset_for_epoch(7), None, "above the latest epoch: UNDEFINED");
        assert_eq!(log.end_offset_for_epoch(0), Some((0, 0)), "below the first: the first epoch's start");
        assert_eq!(Log::default().end_offset_for_epoch(0), None, "an empty cache knows nothing");
        // Before KIP-279 the leader answered with the start of the next epoch only.
        assert_eq!(log.end_offset_for_epoch_v0(3), Some(9));
        assert_eq!(log.end_offset_for_epoch_v0(2), Some(5));
        assert_eq!(log.end_offset_for_epoch_v0(1), Some(5));
        assert_eq!(log.end_offset_for_epoch_v0(0), None, "below the first epoch: UNDEFINED");
        assert_eq!(log.end_offset_for_epoch_v0(4), None, "above the latest: UNDEFINED");
    }

    #[test]
    fn truncation_removes_whole_batches() {
        let mut log = Log::default();
        log.append(batch(0, 1, 3));
        log.append(batch(3, 2, 3));
        let removed = log.truncate_to(4);
        assert_eq!(removed.len(), 3);
        assert_eq!(removed[0], (3, m(3)));
        assert_eq!(log.log_end_offset(), 3);
        assert_eq!(log.epoch_cache(), &[(1, 0)]);
    }

    #[test]
    fn duplicates_are_recognised_after_rebuild() {
        let mut log = Log::default();
        let stamp = ProducerStamp { producer_id: 7, producer_epoch: 0, base_sequence: 0 };
        log.append(Batch { stamp: Some(stamp), ..batch(0, 1, 2) });
        assert_eq!(log.check_sequence(stamp, 2), SequenceCheck::Duplicate(0));
        let next = ProducerStamp { base_sequence: 2, ..stamp };
        assert_eq!(log.check_sequence(next, 1), SequenceCheck::Append);
        let gap = ProducerStamp { base_sequence: 5, ..stamp };
        assert_eq!(log.check_sequence(gap, 1), SequenceCheck::OutOfOrder);
        log.append(batch(2, 1, 1));
        log.truncate_to(2);
        assert_eq!(log.check_sequence(stamp, 2), SequenceCheck::Duplicate(0));
    }
}
