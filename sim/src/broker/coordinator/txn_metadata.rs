//! One transactional id's state at its transaction coordinator: Kafka's `TransactionMetadata`
//! (`core/.../coordinator/transaction/TransactionMetadata.scala`, 3.9.0-rc3; the states and
//! their valid previous states since 0.11, `PrepareEpochFence` since 2.5 with KIP-360). Every
//! change is two-phase, as in Kafka: a `prepare_*` method computes the target ([`TxnRecord`],
//! Kafka's `TxnTransitMetadata`, also what `__transaction_state` stores) and sets the pending
//! state; the coordinator appends the target to its log; once the append is replicated
//! [`TxnMetadata::complete_transition`] applies it. Kafka throws `IllegalStateException` where a
//! transition is impossible; here those are `Err(TxnIllegal)` so the callers can assert on them.
//!
//! Epochs are Kafka's `short` as `i32`, with `NO_EPOCH` (-1) for "none yet".

use crate::fault::mutation::{self, Mutation};
use std::collections::BTreeSet;

/// `RecordBatch.NO_PRODUCER_EPOCH`.
pub const NO_EPOCH: i32 = -1;
/// `Short.MaxValue`: the last producer epoch.
pub const MAX_EPOCH: i32 = i16::MAX as i32;

/// Kafka's `TransactionState` (ids as in `TransactionState.fromId`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    Dead,
    /// Pending-only: never completed, never written (2.5+, KIP-360).
    PrepareEpochFence,
}

impl TxnState {
    /// Kafka's name, as history events carry it.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    /// `TransactionState.validPreviousStates` (3.9 `TransactionMetadata.scala` l. 79-163).
    pub fn valid_previous(self) -> &'static [TxnState] {
        use TxnState::*;
        match self {
            Empty => &[Empty, CompleteCommit, CompleteAbort],
            Ongoing => &[Ongoing, Empty, CompleteCommit, CompleteAbort],
            PrepareCommit => &[Ongoing],
            PrepareAbort => &[Ongoing, PrepareEpochFence],
            CompleteCommit => &[PrepareCommit],
            CompleteAbort => &[PrepareAbort],
            Dead => &[Empty, CompleteAbort, CompleteCommit],
            PrepareEpochFence => &[Ongoing],
        }
    }

    pub fn is_prepare(self) -> bool {
        matches!(self, TxnState::PrepareCommit | TxnState::PrepareAbort)
    }
}

/// A transition's target, and the value of a `__transaction_state` record
/// (`TransactionLogValue`: producer id and epoch, timeout, state, partitions, timestamps;
/// v1's tagged fields). `producer` and `txn` are simulation tags carried on the client's requests
/// for explanations: nothing decides anything by them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnRecord {
    pub transactional_id: String,
    pub producer_id: u64,
    pub last_producer_id: Option<u64>,
    pub producer_epoch: i32,
    /// Not persisted by Kafka (a loaded record has -1, `TransactionLog.readTxnRecordValue`):
    /// [`TxnMetadata::from_record`] drops it.
    pub last_producer_epoch: i32,
    pub timeout_ms: u64,
    pub state: TxnState,
    pub partitions: BTreeSet<u32>,
    /// `txnStartTimestamp` in µs of simulated time, `None` for -1.
    pub start_us: Option<u64>,
    pub update_us: u64,
    /// The client ended this transaction with transaction version 2 (4.0, KIP-890 part 2;
    /// `clientTransactionVersion` in the v1 record).
    pub client_tv2: bool,
    pub producer: u32,
    pub txn: Option<u64>,
}

/// A transition Kafka refuses with `IllegalStateException`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnIllegal(pub String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnMetadata {
    pub transactional_id: String,
    pub producer_id: u64,
    pub last_producer_id: Option<u64>,
    pub producer_epoch: i32,
    pub last_producer_epoch: i32,
    pub timeout_ms: u64,
    pub state: TxnState,
    pub partitions: BTreeSet<u32>,
    pub start_us: Option<u64>,
    pub update_us: u64,
    pub pending: Option<TxnState>,
    /// A fencing append failed after the epoch was bumped in memory: the next fence does not
    /// bump again (KAFKA-9666, 2.7).
    pub has_failed_epoch_fence: bool,
    pub client_tv2: bool,
    pub producer: u32,
    pub txn: Option<u64>,
}

impl TxnMetadata {
    /// A transactional id seen for the first time (`handleInitProducerId`, metadata created
    /// with epoch -1 in Empty).
    pub fn new(transactional_id: &str, producer_id: u64, timeout_ms: u64, now_us: u64) -> TxnMetadata {
        TxnMetadata {
            transactional_id: transactional_id.to_string(),
            producer_id,
            last_producer_id: None,
            producer_epoch: NO_EPOCH,
            last_producer_epoch: NO_EPOCH,
            timeout_ms,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            start_us: None,
            update_us: now_us,
            pending: None,
            has_failed_epoch_fence: false,
            client_tv2: false,
            producer: 0,
            txn: None,
        }
    }

    /// The metadata a loading coordinator builds from a record (`lastProducerEpoch` is not
    /// persisted: -1).
    pub fn from_record(r: &TxnRecord) -> TxnMetadata {
        TxnMetadata {
            transactional_id: r.transactional_id.clone(),
            producer_id: r.producer_id,
            last_producer_id: r.last_producer_id,
            producer_epoch: r.producer_epoch,
            last_producer_epoch: NO_EPOCH,
            timeout_ms: r.timeout_ms,
            state: r.state,
            partitions: r.partitions.clone(),
            start_us: r.start_us,
            update_us: r.update_us,
            pending: None,
            has_failed_epoch_fence: false,
            client_tv2: r.client_tv2,
            producer: r.producer,
            txn: r.txn,
        }
    }

    /// `isEpochExhausted`: epoch >= Short.MaxValue - 1.
    pub fn is_epoch_exhausted(epoch: i32) -> bool {
        epoch >= MAX_EPOCH - 1
    }

    pub fn is_producer_epoch_exhausted(&self) -> bool {
        Self::is_epoch_exhausted(self.producer_epoch)
    }

    fn has_pending_transaction(&self) -> bool {
        matches!(self.state, TxnState::Ongoing | TxnState::PrepareAbort | TxnState::PrepareCommit)
    }

    /// The current state as a record (Kafka's `prepareNoTransit`).
    pub fn current(&self) -> TxnRecord {
        TxnRecord {
            transactional_id: self.transactional_id.clone(),
            producer_id: self.producer_id,
            last_producer_id: self.last_producer_id,
            producer_epoch: self.producer_epoch,
            last_producer_epoch: self.last_producer_epoch,
            timeout_ms: self.timeout_ms,
            state: self.state,
            partitions: self.partitions.clone(),
            start_us: self.start_us,
            update_us: self.update_us,
            client_tv2: self.client_tv2,
            producer: self.producer,
            txn: self.txn,
        }
    }

    /// `prepareTransitionTo`: checks the pending state and the valid previous states.
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &mut self,
        state: TxnState,
        producer_id: u64,
        epoch: i32,
        last_epoch: i32,
        timeout_ms: u64,
        partitions: BTreeSet<u32>,
        start_us: Option<u64>,
        now_us: u64,
    ) -> Result<TxnRecord, TxnIllegal> {
        if let Some(p) = self.pending {
            return Err(TxnIllegal(format!(
                "Preparing transaction state transition to {} while it already a pending state {}",
                state.name(),
                p.name()
            )));
        }
        if state != TxnState::Dead && epoch < 0 {
            return Err(TxnIllegal(format!("Illegal new producer epoch {epoch}")));
        }
        if !state.valid_previous().contains(&self.state) {
            return Err(TxnIllegal(format!(
                "Preparing transaction state transition to {} failed since the target state {} is not a valid previous state of the current state {}",
                state.name(),
                state.name(),
                self.state.name()
            )));
        }
        self.pending = Some(state);
        let last_producer_id =
            if producer_id != self.producer_id { Some(self.producer_id) } else { self.last_producer_id };
        Ok(TxnRecord {
            producer_id,
            last_producer_id,
            producer_epoch: epoch,
            last_producer_epoch: last_epoch,
            timeout_ms,
            state,
            partitions,
            start_us,
            update_us: now_us,
            ..self.current()
        })
    }

    /// `prepareFenceProducerEpoch`: epoch+1 (unless a previous fence failed to append), to
    /// PrepareEpochFence. `bump`: false for 0.11.0.0-0.11.0.1's timeout abort (KAFKA-6119).
    pub fn prepare_fence_epoch(&mut self, bump: bool) -> Result<TxnRecord, TxnIllegal> {
        if self.producer_epoch == MAX_EPOCH {
            return Err(TxnIllegal(
                "Cannot fence producer with epoch equal to Short.MaxValue since this would overflow".into(),
            ));
        }
        // The fencing-off mutation fences without a new epoch.
        let bump = bump && !mutation::on(Mutation::FencingOff);
        let epoch = if self.has_failed_epoch_fence || !bump { self.producer_epoch } else { self.producer_epoch + 1 };
        let (id, timeout, parts, start, now) =
            (self.producer_id, self.timeout_ms, self.partitions.clone(), self.start_us, self.update_us);
        self.prepare(TxnState::PrepareEpochFence, id, epoch, NO_EPOCH, timeout, parts, start, now)
    }

    /// `prepareIncrementProducerEpoch`: InitProducerId's bump; with an expected epoch (KIP-360,
    /// 2.5) a retry of a bump that succeeded returns the current epoch, anything else but the
    /// current epoch is PRODUCER_FENCED (`Ok(Err(()))`).
    pub fn prepare_increment_epoch(
        &mut self,
        timeout_ms: u64,
        expected: Option<i32>,
        now_us: u64,
    ) -> Result<Result<TxnRecord, ()>, TxnIllegal> {
        if self.is_producer_epoch_exhausted() {
            return Err(TxnIllegal(format!(
                "Cannot allocate any more producer epochs for producerId {}",
                self.producer_id
            )));
        }
        // The fencing-off mutation: the epoch stays (only a new id's first epoch, 0, is handed out).
        let fencing_off = mutation::on(Mutation::FencingOff) && self.producer_epoch != NO_EPOCH;
        let bumped = if fencing_off { self.producer_epoch } else { self.producer_epoch + 1 };
        let (next, last) = match expected {
            None => (bumped, NO_EPOCH),
            Some(e) if self.producer_epoch == NO_EPOCH || e == self.producer_epoch => (bumped, self.producer_epoch),
            Some(e) if e == self.last_producer_epoch => (self.producer_epoch, self.last_producer_epoch),
            Some(_) => return Ok(Err(())),
        };
        let id = self.producer_id;
        self.prepare(TxnState::Empty, id, next, last, timeout_ms, BTreeSet::new(), None, now_us).map(Ok)
    }

    /// `prepareProducerIdRotation`: a new producer id at epoch 0 (the epoch is exhausted).
    pub fn prepare_producer_id_rotation(
        &mut self,
        new_producer_id: u64,
        timeout_ms: u64,
        now_us: u64,
        record_last_epoch: bool,
    ) -> Result<TxnRecord, TxnIllegal> {
        if self.has_pending_transaction() {
            return Err(TxnIllegal("Cannot rotate producer ids while a transaction is still pending".into()));
        }
        let last = if record_last_epoch { self.producer_epoch } else { NO_EPOCH };
        self.prepare(TxnState::Empty, new_producer_id, 0, last, timeout_ms, BTreeSet::new(), None, now_us)
    }

    /// `prepareAddPartitions`: Ongoing with the union; the start time is set when a new
    /// transaction starts (from Empty or Complete*).
    pub fn prepare_add_partitions(&mut self, added: &BTreeSet<u32>, now_us: u64) -> Result<TxnRecord, TxnIllegal> {
        let start = match self.state {
            TxnState::Empty | TxnState::CompleteAbort | TxnState::CompleteCommit => Some(now_us),
            _ => self.start_us,
        };
        let parts: BTreeSet<u32> = self.partitions.union(added).copied().collect();
        let (id, epoch, last, timeout) =
            (self.producer_id, self.producer_epoch, self.last_producer_epoch, self.timeout_ms);
        self.prepare(TxnState::Ongoing, id, epoch, last, timeout, parts, start, now_us)
    }

    /// `prepareAbortOrCommit`. `bump_epoch` (TV2, 4.0: trunk `TransactionMetadata.scala`
    /// l. 332-342): the Prepare* record carries epoch+1 and remembers the old epoch.
    pub fn prepare_abort_or_commit(
        &mut self,
        state: TxnState,
        now_us: u64,
        bump_epoch: bool,
    ) -> Result<TxnRecord, TxnIllegal> {
        let (epoch, last) = if bump_epoch {
            (self.producer_epoch + 1, self.producer_epoch)
        } else {
            (self.producer_epoch, self.last_producer_epoch)
        };
        let (id, timeout, parts, start) = (self.producer_id, self.timeout_ms, self.partitions.clone(), self.start_us);
        let mut r = self.prepare(state, id, epoch, last, timeout, parts, start, now_us)?;
        r.client_tv2 = bump_epoch;
        Ok(r)
    }

    /// `prepareComplete`: CompleteCommit/CompleteAbort with no partitions; clears a failed fence.
    pub fn prepare_complete(&mut self, now_us: u64) -> Result<TxnRecord, TxnIllegal> {
        let state =
            if self.state == TxnState::PrepareCommit { TxnState::CompleteCommit } else { TxnState::CompleteAbort };
        self.has_failed_epoch_fence = false;
        let (id, epoch, last, timeout, start) =
            (self.producer_id, self.producer_epoch, self.last_producer_epoch, self.timeout_ms, self.start_us);
        self.prepare(state, id, epoch, last, timeout, BTreeSet::new(), start, now_us)
    }

    /// `completeTransitionTo`: applies a replicated transition, with Kafka's sanity checks.
    pub fn complete_transition(&mut self, t: &TxnRecord) -> Result<(), TxnIllegal> {
        let fail = |m: &TxnMetadata| {
            TxnIllegal(format!(
                "TransactionalId {} failed transition to state {:?} from {}",
                m.transactional_id,
                t.state,
                m.state.name()
            ))
        };
        let Some(to) = self.pending else {
            return Err(TxnIllegal(format!(
                "TransactionalId {} completing transaction state transition while it does not have a pending state",
                self.transactional_id
            )));
        };
        if to != t.state {
            return Err(fail(self));
        }
        let same_epoch = t.producer_epoch == self.producer_epoch && t.producer_id == self.producer_id;
        match to {
            TxnState::Empty => {
                let valid_bump = t.producer_epoch == self.producer_epoch + 1 || t.producer_id != self.producer_id;
                if (self.producer_epoch != t.producer_epoch && !valid_bump)
                    || !t.partitions.is_empty()
                    || t.start_us.is_some()
                {
                    return Err(fail(self));
                }
                self.timeout_ms = t.timeout_ms;
                self.producer_epoch = t.producer_epoch;
                self.last_producer_epoch = t.last_producer_epoch;
                self.producer_id = t.producer_id;
                self.last_producer_id = t.last_producer_id;
            }
            TxnState::Ongoing => {
                if !same_epoch || !self.partitions.is_subset(&t.partitions) || self.timeout_ms != t.timeout_ms {
                    return Err(fail(self));
                }
                self.start_us = t.start_us;
                self.partitions.extend(t.partitions.iter().copied());
                self.producer = t.producer;
                self.txn = t.txn;
            }
            TxnState::PrepareAbort | TxnState::PrepareCommit => {
                // TV2 moves the epoch here (Kafka trunk checks the bumped epoch instead).
                let epoch_ok = same_epoch || (t.client_tv2 && t.producer_epoch == self.producer_epoch + 1);
                if !epoch_ok || self.partitions != t.partitions || self.start_us != t.start_us {
                    return Err(fail(self));
                }
                self.producer_epoch = t.producer_epoch;
                self.last_producer_epoch = t.last_producer_epoch;
                self.client_tv2 = t.client_tv2;
            }
            TxnState::CompleteAbort | TxnState::CompleteCommit => {
                if !same_epoch || t.start_us.is_none() {
                    return Err(fail(self));
                }
                self.start_us = t.start_us;
                self.partitions.clear();
            }
            TxnState::PrepareEpochFence | TxnState::Dead => return Err(fail(self)),
        }
        self.update_us = t.update_us;
        self.pending = None;
        self.state = to;
        Ok(())
    }
}
