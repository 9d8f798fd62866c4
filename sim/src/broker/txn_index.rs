//! A partition's transactions, as its log implies them: Kafka's transactional half of
//! `ProducerStateManager` / `ProducerAppendInfo` (`currentTxnFirstOffset`, the coordinator
//! epoch per producer id, `ongoingTxns`, `unreplicatedTxns`) and the aborted-transaction index
//! (`TransactionIndex`), 3.9.0-rc3, `storage/.../internals/log/`; the same rules since 0.11.
//!
//! A transaction on a partition is simply [the first transactional batch of a producer id after
//! its last marker, the next marker of that producer id]: nothing ties it to the coordinator's
//! idea of a transaction (research txn-rules.md 3.1). The last stable offset is the first
//! offset of the oldest transaction whose marker is not yet below the high watermark, capped by
//! the high watermark (`UnifiedLog.lastStableOffset`). Everything here is rebuilt from the
//! batches after a truncation (`truncateAndReload`), so a new leader knows what its log implies.

use crate::fault::mutation::{self, Mutation};
pub use crate::protocol::AbortedTxn;
use losslab_model::MsgId;
use std::collections::BTreeMap;

/// A transaction a marker closed (`CompletedTxn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletedTxn {
    pub producer_id: u64,
    pub first_offset: u64,
    pub marker_offset: u64,
    pub aborted: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TxnIndex {
    /// Per producer id: the first offset of its open transaction on this partition.
    open: BTreeMap<u64, u64>,
    /// Per producer id: the coordinator epoch of its last marker (`checkCoordinatorEpoch`).
    coordinator_epochs: BTreeMap<u64, u32>,
    /// `ongoingTxns`: first offset -> producer id.
    ongoing: BTreeMap<u64, u64>,
    /// Completed transactions by marker offset -> first offset (`unreplicatedTxns` are those
    /// whose marker is at or above the high watermark).
    completed: BTreeMap<u64, u64>,
    aborted: Vec<AbortedTxn>,
}

impl TxnIndex {
    /// The first offset of the producer's open transaction here, if any (`hasOngoingTransaction`
    /// asks only whether there is one: by producer id, whatever the epoch).
    pub fn open_txn(&self, producer_id: u64) -> Option<u64> {
        self.open.get(&producer_id).copied()
    }

    pub fn coordinator_epoch(&self, producer_id: u64) -> Option<u32> {
        self.coordinator_epochs.get(&producer_id).copied()
    }

    /// `ProducerAppendInfo.appendDataBatch`: a transactional batch with no open transaction of
    /// its producer id opens one at its base offset.
    pub fn on_data(&mut self, producer_id: u64, base_offset: u64, transactional: bool) {
        if transactional && !self.open.contains_key(&producer_id) {
            self.open.insert(producer_id, base_offset);
            self.ongoing.insert(base_offset, producer_id);
        }
    }

    /// `appendEndTxnMarker` + `completeTxn` + `LogSegment.updateTxnIndex`: the marker closes the
    /// producer's open transaction here, if it has one (a marker that closes nothing is still
    /// appended and still moves the epochs).
    pub fn on_marker(
        &mut self,
        producer_id: u64,
        marker_offset: u64,
        commit: bool,
        coordinator_epoch: u32,
    ) -> Option<CompletedTxn> {
        self.coordinator_epochs.insert(producer_id, coordinator_epoch);
        let first_offset = self.open.remove(&producer_id)?;
        self.ongoing.remove(&first_offset);
        let completed = CompletedTxn { producer_id, first_offset, marker_offset, aborted: !commit };
        if !commit {
            // `lastStableOffset(completedTxn)`: the oldest other open transaction, else the marker + 1.
            let lso = self.ongoing.keys().next().copied().unwrap_or(marker_offset + 1);
            self.aborted.push(AbortedTxn {
                producer_id,
                first_offset,
                last_offset: marker_offset,
                last_stable_offset: lso,
            });
        }
        self.completed.insert(marker_offset, first_offset);
        Some(completed)
    }

    /// `firstUnstableOffset` for a high watermark: the oldest open transaction, or the oldest
    /// completed one whose marker the high watermark does not yet cover.
    pub fn first_unstable_offset(&self, high_watermark: u64) -> Option<u64> {
        let ongoing = self.ongoing.keys().next().copied();
        let unreplicated = self.completed.range(high_watermark..).map(|(_, &first)| first).min();
        match (ongoing, unreplicated) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// `UnifiedLog.lastStableOffset`: min(first unstable offset, high watermark).
    pub fn last_stable_offset(&self, high_watermark: u64) -> u64 {
        if mutation::on(Mutation::LsoIgnoresOpenTransactions) {
            return high_watermark;
        }
        self.first_unstable_offset(high_watermark).map_or(high_watermark, |f| f.min(high_watermark))
    }

    /// `collectAbortedTxns(fetchOffset, upperBoundOffset)`: the aborted transactions that
    /// overlap [from, upper), scanning in marker order until an entry's last stable offset
    /// reaches `upper`.
    pub fn aborted_txns(&self, from: u64, upper: u64) -> Vec<AbortedTxn> {
        let start = self.aborted.partition_point(|a| a.last_offset < from);
        let mut out = Vec::new();
        for a in &self.aborted[start..] {
            if a.first_offset < upper {
                out.push(*a);
            }
            if a.last_stable_offset >= upper {
                break;
            }
        }
        out
    }

    /// Every aborted transaction, in marker order.
    pub fn all_aborted(&self) -> &[AbortedTxn] {
        &self.aborted
    }
}

/// One producer id's verification in progress (`VerificationStateEntry`, 3.6+): the guard the
/// coordinator's answer must bring back, and the lowest sequence seen while verifying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerificationEntry {
    pub guard: u64,
    pub lowest_sequence: u32,
    pub epoch: u32,
}

/// KIP-890 part 1 on a partition leader (3.6+, `UnifiedLog.maybeStartTransactionVerification`,
/// `verificationGuard`, `ProducerStateManager.verificationStates`): kept in the broker's memory,
/// not in the log, so a restarted broker starts with none, as Kafka's does. A guard is a unique
/// number (Kafka: a unique object), so an answer to an older verification never verifies a
/// newer one (the ABA race of `UnifiedLog` l. 1057-1068).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verifications {
    next_guard: u64,
    entries: BTreeMap<u64, VerificationEntry>,
}

impl Verifications {
    /// `maybeStartTransactionVerification`: `None` (Kafka's SENTINEL: no verification needed)
    /// when the producer id has a transaction open here, else the guard of its entry, created
    /// if absent; the lowest sequence follows `maybeUpdateLowestSequenceAndEpoch`.
    pub fn start(&mut self, index: &TxnIndex, producer_id: u64, sequence: u32, epoch: u32) -> Option<u64> {
        if index.open_txn(producer_id).is_some() {
            return None;
        }
        let next = self.next_guard + 1;
        let entry = self.entries.entry(producer_id).or_insert(VerificationEntry {
            guard: next,
            lowest_sequence: sequence,
            epoch,
        });
        if entry.guard == next {
            self.next_guard = next;
        }
        if epoch == entry.epoch && sequence < entry.lowest_sequence {
            entry.lowest_sequence = sequence;
        }
        if epoch > entry.epoch {
            entry.epoch = epoch;
            entry.lowest_sequence = sequence;
        }
        Some(entry.guard)
    }

    pub fn entry(&self, producer_id: u64) -> Option<VerificationEntry> {
        self.entries.get(&producer_id).copied()
    }

    /// The append-time check (`analyzeAndValidateProducerState` l. 1052-1071): a transactional
    /// batch with no open transaction of its producer id is written only with the guard of the
    /// current verification ("Record was not part of an ongoing transaction": INVALID_TXN_STATE).
    /// KAFKA-14920: while verifying, a batch above the lowest sequence seen is out of order.
    pub fn check_append(
        &self,
        index: &TxnIndex,
        producer_id: u64,
        first_sequence: u32,
        guard: Option<u64>,
    ) -> Result<(), crate::protocol::KafkaError> {
        use crate::protocol::KafkaError;
        if index.open_txn(producer_id).is_some() {
            return Ok(());
        }
        let Some(entry) = self.entries.get(&producer_id) else { return Err(KafkaError::InvalidTxnState) };
        if guard != Some(entry.guard) {
            return Err(KafkaError::InvalidTxnState);
        }
        if first_sequence > entry.lowest_sequence {
            return Err(KafkaError::OutOfOrderSequenceNumber);
        }
        Ok(())
    }

    /// After a successful transactional append (`UnifiedLog` l. 2112-2114).
    pub fn clear(&mut self, producer_id: u64) {
        self.entries.remove(&producer_id);
    }
}

/// What a log holds below `high_watermark` as the contract counts it: `(log, offsets,
/// uncommitted)`. `log` has the non-transactional records and the transactional records whose
/// producer id's next marker below the high watermark is a COMMIT, in offset order, with their
/// offsets; `uncommitted` the transactional records whose transaction was aborted or has no
/// marker there; markers are in neither. `offsets` is empty when `log` is dense from 0 (always
/// so for a log without transactions).
pub fn committed_view(batches: &[crate::protocol::Batch], high_watermark: u64) -> (Vec<MsgId>, Vec<u64>, Vec<MsgId>) {
    use crate::protocol::TxnBatch;
    let mut log: Vec<(u64, MsgId)> = Vec::new();
    let mut uncommitted: Vec<(u64, MsgId)> = Vec::new();
    let mut open: BTreeMap<u64, Vec<(u64, MsgId)>> = BTreeMap::new();
    for b in batches.iter().take_while(|b| b.base_offset < high_watermark) {
        let below =
            b.msgs.iter().enumerate().map(|(i, &m)| (b.base_offset + i as u64, m)).filter(|&(o, _)| o < high_watermark);
        let pid = b.stamp.map(|s| s.producer_id);
        match (b.txn, pid) {
            (Some(TxnBatch::Data), Some(pid)) => open.entry(pid).or_default().extend(below),
            (Some(TxnBatch::Marker { commit, .. }), Some(pid)) => {
                let records = open.remove(&pid).unwrap_or_default();
                if commit {
                    log.extend(records)
                } else {
                    uncommitted.extend(records)
                }
            }
            _ => log.extend(below),
        }
    }
    uncommitted.extend(open.into_values().flatten());
    log.sort_unstable_by_key(|&(o, _)| o);
    uncommitted.sort_unstable_by_key(|&(o, _)| o);
    let dense = log.iter().enumerate().all(|(i, &(o, _))| o == i as u64);
    let offsets = if dense { Vec::new() } else { log.iter().map(|&(o, _)| o).collect() };
    (log.into_iter().map(|(_, m)| m).collect(), offsets, uncommitted.into_iter().map(|(_, m)| m).collect())
}
