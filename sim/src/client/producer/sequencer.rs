//! The idempotent producer's bookkeeping: Kafka's `TransactionManager` without transactions
//! (`TxnPartitionEntry`, `bumpIdempotentProducerEpoch`, `canRetry`, `handleFailedBatch`,
//! `maybeResolveSequences`). It owns the producer id and epoch, and per partition the next
//! sequence, the last acknowledged sequence and offset, and the batches in flight in sequence
//! order (drained at least once and not yet completed, including those waiting in the
//! accumulator for a retry). It decides whether a batch may be drained, which stamp a new batch
//! gets, whether a failed one may be retried, when the epoch must be bumped (2.5+) or the
//! producer id reset (1.0-2.4), and which in-flight batches that renumbers.
//!
//! It never sees a batch, only `SeqBatch` views; a renumbering is handed back as `Rewrite`s for
//! the sender to apply wherever the batch is. The transactional half of `TransactionManager`
//! (coordinator, AddPartitions, EndTxn, abortable errors) belongs beside it, not inside: the
//! `rules` and the entry points here are the ones a transactional producer shares.

use crate::protocol::{sequence_add, KafkaError, ProducerStamp};
use losslab_model::KafkaVersion;
use std::collections::{BTreeMap, BTreeSet};

/// Kafka's `Short.MAX_VALUE`: the last producer epoch; bumping past it needs a new producer id.
pub const MAX_EPOCH: u32 = 32_767;

/// The bookkeeping rules of a release line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequencerRules {
    /// KIP-360 (2.5): a gap bumps the epoch and renumbers the failing partition; before, the
    /// producer id is reset (a new id, every partition from 0).
    pub bumps_epoch: bool,
    /// KAFKA-5494 (1.0): `canRetry`, drain holds and unresolved sequences; 0.11 has none of them.
    pub resolves_sequences: bool,
    /// Before 2.7 (KAFKA-9911): INVALID_PRODUCER_EPOCH is fatal for the producer.
    pub invalid_epoch_fatal: bool,
}

impl SequencerRules {
    /// The rules of the newest lines.
    pub const CURRENT: SequencerRules =
        SequencerRules { bumps_epoch: true, resolves_sequences: true, invalid_epoch_fatal: false };

    pub fn of(version: KafkaVersion) -> SequencerRules {
        SequencerRules {
            bumps_epoch: version.producer_bumps_epoch(),
            resolves_sequences: version.producer_resolves_sequences(),
            invalid_epoch_fatal: version.invalid_producer_epoch_is_fatal(),
        }
    }
}

/// A producer id with its epoch (Kafka's `ProducerIdAndEpoch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PidEpoch {
    pub producer_id: u64,
    pub epoch: u32,
}

impl PidEpoch {
    fn of(stamp: ProducerStamp) -> PidEpoch {
        PidEpoch { producer_id: stamp.producer_id, epoch: stamp.producer_epoch }
    }
}

/// A batch as the bookkeeping sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqBatch {
    pub id: u64,
    pub partition: u32,
    pub stamp: Option<ProducerStamp>,
    pub count: u32,
    /// Kafka's `sequenceHasBeenReset()`: renumbered since it was last drained.
    pub reopened: bool,
}

impl SeqBatch {
    fn last_sequence(&self) -> Option<u32> {
        self.stamp.map(|s| sequence_add(s.base_sequence, self.count.saturating_sub(1)))
    }
}

/// A batch renumbered in place (`ProducerBatch.resetProducerState`): its new stamp. The batch is
/// then "reopened" until it is drained again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewrite {
    pub batch: u64,
    pub stamp: ProducerStamp,
}

/// What the producer did to its id or epoch, for the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdChange {
    pub producer_id: Option<u64>,
    pub epoch: u32,
    /// The partitions renumbered from 0 (empty for a reset: every partition starts again).
    pub partitions: Vec<u32>,
    pub reason: &'static str,
}

/// Kafka's `TxnPartitionEntry`.
#[derive(Clone, Debug, Default)]
struct Entry {
    /// The id and epoch this partition's sequences belong to (`None`: Kafka's NONE, a fresh entry).
    pid_epoch: Option<PidEpoch>,
    next_sequence: u32,
    last_acked: Option<u32>,
    last_acked_offset: Option<u64>,
    /// (pid, epoch, base sequence) -> (batch, record count), Kafka's `inflightBatchesBySequence`.
    in_flight: BTreeMap<(u64, u32, u32), (u64, u32)>,
}

#[derive(Clone, Debug)]
pub struct Sequencer {
    rules: SequencerRules,
    producer: Option<PidEpoch>,
    entries: BTreeMap<u32, Entry>,
    /// Partitions with an expired batch whose fate is unknown: the next sequence after it (2.5+
    /// keeps the largest; 1.0-2.4 only whether one exists).
    unresolved: BTreeMap<u32, u32>,
    rewrite: BTreeSet<u32>,
    bump_required: bool,
    fatal: Option<KafkaError>,
    rewrites: Vec<Rewrite>,
    changes: Vec<IdChange>,
}

impl Sequencer {
    pub fn new(rules: SequencerRules, producer_id: u64) -> Sequencer {
        Sequencer {
            rules,
            producer: Some(PidEpoch { producer_id, epoch: 0 }),
            entries: BTreeMap::new(),
            unresolved: BTreeMap::new(),
            rewrite: BTreeSet::new(),
            bump_required: false,
            fatal: None,
            rewrites: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// Starts at `epoch` (Kafka's tests start where they please).
    pub fn with_epoch(rules: SequencerRules, producer_id: u64, epoch: u32) -> Sequencer {
        let mut s = Sequencer::new(rules, producer_id);
        s.producer = Some(PidEpoch { producer_id, epoch });
        s
    }

    pub fn rules(&self) -> SequencerRules {
        self.rules
    }

    pub fn producer_id_and_epoch(&self) -> Option<PidEpoch> {
        self.producer
    }

    /// Waiting for InitProducerId: after a reset (before 2.5) or an exhausted epoch.
    pub fn needs_producer_id(&self) -> bool {
        self.producer.is_none()
    }

    /// InitProducerId answered (`InitProducerIdHandler`): a new id at epoch 0. Partitions waiting
    /// for a bump that could not happen without an id are renumbered now.
    pub fn set_producer_id(&mut self, producer_id: u64) {
        debug_assert!(self.producer.is_none(), "a producer id is replaced only after a reset");
        self.producer = Some(PidEpoch { producer_id, epoch: 0 });
        self.changes.push(IdChange {
            producer_id: Some(producer_id),
            epoch: 0,
            partitions: Vec::new(),
            reason: "a new producer id (InitProducerId)",
        });
        if self.bump_required {
            self.renumber_requested();
        }
    }

    /// A transactional producer before its InitProducerId: nothing is drained yet.
    pub fn clear_producer_id(&mut self) {
        self.producer = None;
    }

    /// A transactional producer's InitProducerId answered (`InitProducerIdHandler.handleResponse`:
    /// `setProducerIdAndEpoch`, and on an epoch bump `resetSequenceNumbers`). Nothing is in flight
    /// then (EndTxn waited for every batch), so every partition starts again at sequence 0.
    pub fn set_producer_id_and_epoch(&mut self, producer_id: u64, epoch: u32) {
        let next = PidEpoch { producer_id, epoch };
        if self.producer == Some(next) {
            return;
        }
        self.producer = Some(next);
        self.entries.clear();
        self.unresolved.clear();
        self.rewrite.clear();
        self.bump_required = false;
        self.changes.push(IdChange {
            producer_id: Some(producer_id),
            epoch,
            partitions: Vec::new(),
            reason: "InitProducerId (transactional)",
        });
    }

    /// `transitionToFatalError`: nothing is bumped or renumbered any more.
    pub fn transition_to_fatal_error(&mut self, error: KafkaError) {
        self.fatal = Some(error);
    }

    /// The error that made the producer unusable (before 2.7: INVALID_PRODUCER_EPOCH).
    pub fn fatal(&self) -> Option<KafkaError> {
        self.fatal
    }

    /// Renumberings since the last call, for the sender to apply to its batches.
    pub fn take_rewrites(&mut self) -> Vec<Rewrite> {
        std::mem::take(&mut self.rewrites)
    }

    /// Id and epoch changes since the last call.
    pub fn take_changes(&mut self) -> Vec<IdChange> {
        std::mem::take(&mut self.changes)
    }

    // ------------------------------------------------------------------ queries (Kafka's names)

    /// `sequenceNumber(tp)`: the base sequence the partition's next new batch gets.
    pub fn sequence_number(&self, partition: u32) -> u32 {
        self.entries.get(&partition).map_or(0, |e| e.next_sequence)
    }

    pub fn last_acked_sequence(&self, partition: u32) -> Option<u32> {
        self.entries.get(&partition).and_then(|e| e.last_acked)
    }

    pub fn last_acked_offset(&self, partition: u32) -> Option<u64> {
        self.entries.get(&partition).and_then(|e| e.last_acked_offset)
    }

    pub fn has_in_flight(&self, partition: u32) -> bool {
        self.entries.get(&partition).is_some_and(|e| !e.in_flight.is_empty())
    }

    /// `nextBatchBySequence(tp)`: the in-flight batch with the lowest (pid, epoch, sequence).
    pub fn next_batch_by_sequence(&self, partition: u32) -> Option<u64> {
        self.entries.get(&partition)?.in_flight.values().next().map(|&(id, _)| id)
    }

    /// `firstInFlightSequence(tp)`.
    pub fn first_in_flight_sequence(&self, partition: u32) -> Option<u32> {
        self.entries.get(&partition)?.in_flight.keys().next().map(|k| k.2)
    }

    /// `producerIdAndEpoch(tp)`: the id and epoch the partition's sequences belong to.
    pub fn partition_producer_id_and_epoch(&self, partition: u32) -> Option<PidEpoch> {
        self.entries.get(&partition).and_then(|e| e.pid_epoch)
    }

    /// `hasStaleProducerIdAndEpoch(tp)`: the partition's sequences belong to an older id or epoch.
    pub fn has_stale_producer_id_and_epoch(&self, partition: u32) -> bool {
        self.entries.get(&partition).and_then(|e| e.pid_epoch) != self.producer
    }

    pub fn is_unresolved(&self, partition: u32) -> bool {
        self.unresolved.contains_key(&partition)
    }

    pub fn epoch_bump_required(&self) -> bool {
        self.bump_required
    }

    /// `isNextSequence(tp, s)`: `s` follows the last acknowledged sequence.
    fn is_next_sequence(&self, partition: u32, sequence: u32) -> bool {
        i64::from(sequence) - self.last_acked_sequence(partition).map_or(-1, i64::from) == 1
    }

    fn matches_producer(&self, batch: &SeqBatch) -> bool {
        batch.stamp.is_some_and(|s| Some(PidEpoch::of(s)) == self.producer)
    }

    // ------------------------------------------------------------------ draining

    /// The negation of `RecordAccumulator.shouldStopDrainBatchesForPartition`: whether the head
    /// of a partition's queue may be drained now.
    pub fn may_drain(&self, head: &SeqBatch) -> bool {
        if self.producer.is_none() {
            return false;
        }
        let p = head.partition;
        if head.stamp.is_none() {
            // KAFKA-12152 (2.8): no new batch while batches of an older epoch are in flight.
            if self.rules.bumps_epoch && self.has_in_flight(p) && self.has_stale_producer_id_and_epoch(p) {
                return false;
            }
            if self.rules.resolves_sequences && self.is_unresolved(p) {
                return false;
            }
        }
        if !self.rules.resolves_sequences {
            return true;
        }
        // A retried batch waits until it is the lowest sequence in flight: one at a time.
        match (self.first_in_flight_sequence(p), head.stamp) {
            (Some(first), Some(stamp)) => stamp.base_sequence == first,
            _ => true,
        }
    }

    /// Stamps a new batch at drain (`drainBatchesForOneNode`): from 2.5 the partition first
    /// catches up with a bumped epoch if nothing of the old one is in flight
    /// (`maybeUpdateProducerIdAndEpoch`), then it gets the next sequence and is in flight.
    pub fn stamp_new_batch(&mut self, batch: &SeqBatch) -> ProducerStamp {
        assert!(batch.stamp.is_none(), "a sequenced batch keeps its stamp: a new one could be a duplicate");
        let producer = self.producer.expect("drained only with a producer id (may_drain)");
        let p = batch.partition;
        self.maybe_update_producer_id_and_epoch(p);
        let entry = self.entries.entry(p).or_default();
        if entry.pid_epoch.is_none() {
            entry.pid_epoch = Some(producer);
        }
        let stamp = ProducerStamp {
            producer_id: producer.producer_id,
            producer_epoch: producer.epoch,
            base_sequence: entry.next_sequence,
        };
        entry.next_sequence = sequence_add(entry.next_sequence, batch.count);
        entry.in_flight.insert((stamp.producer_id, stamp.producer_epoch, stamp.base_sequence), (batch.id, batch.count));
        stamp
    }

    /// `maybeUpdateProducerIdAndEpoch(tp)` (2.8, KAFKA-12152): a partition whose sequences belong
    /// to an older epoch, with nothing of it in flight, starts again at 0 under the current one.
    pub fn maybe_update_producer_id_and_epoch(&mut self, partition: u32) {
        let Some(producer) = self.producer else { return };
        if self.fatal.is_none()
            && self.rules.bumps_epoch
            && self.has_stale_producer_id_and_epoch(partition)
            && !self.has_in_flight(partition)
        {
            self.start_sequences_at_beginning(partition, producer);
        }
    }

    // ------------------------------------------------------------------ outcomes

    /// `handleCompletedBatch`: also for a batch that had already expired (its late answer).
    pub fn on_completed(&mut self, batch: &SeqBatch, base_offset: Option<u64>) {
        if !self.rules.bumps_epoch && !self.matches_producer(batch) {
            // 1.0-2.4: "Ignoring completed batch ... since the producerId has been reset internally".
            return;
        }
        let Some(last) = batch.last_sequence() else { return };
        let entry = self.entries.entry(batch.partition).or_default();
        if entry.last_acked.is_none_or(|l| last > l) {
            entry.last_acked = Some(last);
        }
        if let Some(offset) = base_offset.map(|b| b + u64::from(batch.count) - 1) {
            if entry.last_acked_offset.is_none_or(|l| offset > l) {
                entry.last_acked_offset = Some(offset);
            }
        }
        self.remove_in_flight(batch);
    }

    /// `handleFailedBatch`: the batch failed to the app. `adjust` is false when its fate is
    /// unknown (retries exhausted, expired): then its sequence may have been taken.
    pub fn on_failed(&mut self, batch: &SeqBatch, error: KafkaError, adjust: bool) {
        if error == KafkaError::ProducerFenced {
            self.fatal = Some(error);
        }
        let gap = matches!(error, KafkaError::OutOfOrderSequenceNumber | KafkaError::UnknownProducerId);
        if !self.rules.resolves_sequences {
            // 0.11 `Sender.failBatch`: an OUT_OF_ORDER for the current id resets it.
            self.remove_in_flight(batch);
            if gap && self.matches_producer(batch) {
                self.reset_producer_id("OUT_OF_ORDER_SEQUENCE_NUMBER: a gap in the log");
            }
            return;
        }
        if !self.rules.bumps_epoch {
            if !self.matches_producer(batch) {
                return;
            }
            if gap {
                // 2.4: "Reset the producerId since we have hit an irrecoverable exception".
                self.reset_producer_id(if error == KafkaError::UnknownProducerId {
                    "UNKNOWN_PRODUCER_ID: the broker lost the producer's state"
                } else {
                    "OUT_OF_ORDER_SEQUENCE_NUMBER: a gap in the log"
                });
            } else {
                self.remove_in_flight(batch);
                if adjust {
                    self.adjust_sequences_due_to_failed_batch(batch);
                }
            }
            return;
        }
        self.remove_in_flight(batch);
        if self.fatal.is_some() {
            return;
        }
        // `UnknownProducerIdException` is an `OutOfOrderSequenceException`: both bump.
        if gap || adjust {
            self.request_epoch_bump(batch.partition);
        }
    }

    /// `TransactionManager.canRetry` as the release line's `Sender.canRetry` uses it (the sender
    /// checks the delivery timeout, `retries` and whether the batch is done first). From 2.5:
    /// OUT_OF_ORDER for a batch that is not next waits for the earlier one; for the next batch it
    /// means the broker lost records, so the epoch is bumped and the batch retried at once.
    pub fn can_retry(&mut self, batch: &SeqBatch, error: KafkaError) -> bool {
        let p = batch.partition;
        let Some(stamp) = batch.stamp else { return error.is_retriable() };
        if !self.rules.resolves_sequences {
            return error.is_retriable();
        }
        if !self.rules.bumps_epoch {
            // 1.0-2.4: `RetriableException || tm.canRetry`, and tm.canRetry refuses an old id.
            if error.is_retriable() {
                return true;
            }
            if !self.matches_producer(batch) {
                return false;
            }
            return match error {
                KafkaError::OutOfOrderSequenceNumber => {
                    !self.is_unresolved(p) && (batch.reopened || !self.is_next_sequence(p, stamp.base_sequence))
                }
                KafkaError::UnknownProducerId => {
                    // The log start offset is always 0 here: nothing acknowledged is still in the
                    // log only when nothing was acknowledged.
                    if batch.reopened {
                        return true;
                    }
                    if self.last_acked_offset(p).is_none() {
                        let producer = self.producer.expect("matches_producer");
                        self.start_sequences_at_beginning(p, producer);
                        return true;
                    }
                    false
                }
                _ => false,
            };
        }
        match error {
            KafkaError::UnknownProducerId => {
                if !batch.reopened {
                    self.request_epoch_bump(p);
                }
                true
            }
            KafkaError::OutOfOrderSequenceNumber => {
                let unresolved = self.unresolved.get(&p).copied();
                if unresolved.is_none() && (batch.reopened || !self.is_next_sequence(p, stamp.base_sequence)) {
                    return true;
                }
                if unresolved.is_none_or(|next| next == stamp.base_sequence) {
                    self.request_epoch_bump(p);
                }
                true
            }
            _ => error.is_retriable(),
        }
    }

    /// `markSequenceUnresolved`: a batch that was sent and retried expired; until the batches in
    /// flight settle whether its sequence was taken, no new batch of the partition is drained.
    pub fn mark_unresolved(&mut self, batch: &SeqBatch) {
        let Some(last) = batch.last_sequence() else { return };
        if !self.rules.resolves_sequences {
            // 0.11: an expired batch that had been retried resets the producer id.
            self.reset_producer_id("a batch that had been retried expired");
            return;
        }
        let next = sequence_add(last, 1);
        let slot = self.unresolved.entry(batch.partition).or_insert(next);
        *slot = (*slot).max(next);
    }

    /// `maybeResolveSequences` (2.5+) / `resetProducerIdIfNeeded` (1.0-2.4), at the start of
    /// every sender run: an unresolved partition with nothing in flight is resolved if its last
    /// acknowledged sequence is the one before the next; otherwise the gap is real.
    pub fn maybe_resolve(&mut self) {
        let drained: Vec<u32> = self.unresolved.keys().copied().filter(|&p| !self.has_in_flight(p)).collect();
        for p in drained {
            let resolved = self.is_next_sequence(p, self.sequence_number(p));
            self.unresolved.remove(&p);
            if resolved {
                continue;
            }
            if self.rules.bumps_epoch {
                self.request_epoch_bump(p);
            } else {
                self.reset_producer_id("an expired batch left a gap in the sequences");
                return;
            }
        }
    }

    /// `bumpIdempotentEpochAndResetIdIfNeeded`, after `maybe_resolve` in every sender run: a
    /// local epoch bump (no request), and the partitions that asked for it renumbered from 0.
    pub fn bump_if_needed(&mut self) {
        if !self.bump_required || self.fatal.is_some() {
            return;
        }
        let Some(current) = self.producer else { return };
        if current.epoch >= MAX_EPOCH {
            // `resetIdempotentProducerId`: InitProducerId for a new id; the renumbering waits for it.
            self.producer = None;
            self.changes.push(IdChange {
                producer_id: None,
                epoch: current.epoch,
                partitions: Vec::new(),
                reason: "the epoch is exhausted",
            });
            return;
        }
        self.producer = Some(PidEpoch { epoch: current.epoch + 1, ..current });
        self.renumber_requested();
    }

    // ------------------------------------------------------------------ internals

    fn request_epoch_bump(&mut self, partition: u32) {
        self.bump_required = true;
        self.rewrite.insert(partition);
    }

    fn renumber_requested(&mut self) {
        let producer = self.producer.expect("renumbered under a producer id");
        let partitions: Vec<u32> = std::mem::take(&mut self.rewrite).into_iter().collect();
        for &p in &partitions {
            self.start_sequences_at_beginning(p, producer);
            self.unresolved.remove(&p);
        }
        self.bump_required = false;
        self.changes.push(IdChange {
            producer_id: Some(producer.producer_id),
            epoch: producer.epoch,
            partitions,
            reason: "a sequence gap (KIP-360 epoch bump)",
        });
    }

    /// `TxnPartitionEntry.startSequencesAtBeginning`: the partition's in-flight batches renumbered
    /// from 0 in sequence order under `producer`, nothing acknowledged yet.
    fn start_sequences_at_beginning(&mut self, partition: u32, producer: PidEpoch) {
        let entry = self.entries.entry(partition).or_default();
        let mut sequence = 0;
        let mut renumbered = BTreeMap::new();
        for &(id, count) in entry.in_flight.values() {
            let stamp = ProducerStamp {
                producer_id: producer.producer_id,
                producer_epoch: producer.epoch,
                base_sequence: sequence,
            };
            renumbered.insert((stamp.producer_id, stamp.producer_epoch, sequence), (id, count));
            self.rewrites.push(Rewrite { batch: id, stamp });
            sequence = sequence_add(sequence, count);
        }
        entry.in_flight = renumbered;
        entry.pid_epoch = Some(producer);
        entry.next_sequence = sequence;
        entry.last_acked = None;
    }

    /// 1.0-2.4 `adjustSequencesDueToFailedBatch`: a batch the broker refused for sure leaves its
    /// sequences free; the later ones in flight move down by its size.
    fn adjust_sequences_due_to_failed_batch(&mut self, batch: &SeqBatch) {
        let (Some(failed), Some(entry)) = (batch.stamp, self.entries.get_mut(&batch.partition)) else { return };
        entry.next_sequence = entry.next_sequence.saturating_sub(batch.count);
        let mut moved = BTreeMap::new();
        for (&(pid, epoch, base), &(id, count)) in &entry.in_flight {
            let base = if base < failed.base_sequence {
                base
            } else {
                let stamp =
                    ProducerStamp { producer_id: pid, producer_epoch: epoch, base_sequence: base - batch.count };
                self.rewrites.push(Rewrite { batch: id, stamp });
                stamp.base_sequence
            };
            moved.insert((pid, epoch, base), (id, count));
        }
        entry.in_flight = moved;
    }

    /// 1.0-2.4 `resetProducerId` (and 0.11's): a new id, every partition's sequences forgotten.
    fn reset_producer_id(&mut self, reason: &'static str) {
        let epoch = self.producer.map_or(0, |p| p.epoch);
        self.producer = None;
        self.entries.clear();
        self.unresolved.clear();
        self.changes.push(IdChange { producer_id: None, epoch, partitions: Vec::new(), reason });
    }

    fn remove_in_flight(&mut self, batch: &SeqBatch) {
        let (Some(stamp), Some(entry)) = (batch.stamp, self.entries.get_mut(&batch.partition)) else { return };
        let key = (stamp.producer_id, stamp.producer_epoch, stamp.base_sequence);
        if entry.in_flight.get(&key).is_some_and(|&(id, _)| id == batch.id) {
            entry.in_flight.remove(&key);
        }
    }
}
