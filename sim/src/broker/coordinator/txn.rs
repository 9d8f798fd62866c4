//! The transaction coordinator: Kafka's `TransactionCoordinator` with the parts of
//! `TransactionStateManager` and `TransactionMarkerChannelManager` that decide outcomes
//! (3.9.0-rc3, `core/.../coordinator/transaction/`; TV2 from trunk of October 2024), as a pure
//! state machine in the manner of the group coordinator. The broker that leads the
//! `__transaction_state` partition hosts it: the coordinator asks for every transition to be
//! appended to that log with `acks=all` ([`TxnOut::Append`]) and applies it (and answers the
//! client) only once the broker reports it replicated ([`TxnCoordinator::on_appended`]), so its
//! state is exactly as durable as the cluster makes that log. After a Prepare* is durable it
//! answers the EndTxn and asks for markers ([`TxnOut::Markers`]); once every partition's leader
//! wrote its marker it appends Complete*. A new leader loads the log
//! ([`TxnCoordinator::load`]) and finishes every Prepare* it finds; Ongoing transactions stay
//! open until their producer ends them or the timeout scan aborts them.

use super::group::ReplyTo;
use super::txn_metadata::{TxnMetadata, TxnRecord, TxnState, NO_EPOCH};
use crate::protocol::KafkaError;
use std::collections::{BTreeMap, BTreeSet};

/// The release line's transaction rules the coordinator needs (one flag per rule; see
/// `TxnRules::of` in the shell for the release each comes from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnRules {
    /// 2.6 (KAFKA-9600): a client's EndTxn must carry exactly the current epoch; before, only an
    /// older epoch is refused.
    pub endtxn_requires_equal_epoch: bool,
    /// 1.0 (KAFKA-6119, also 0.11.0.2): the timeout abort fences with epoch+1.
    pub timeout_abort_bumps_epoch: bool,
    /// 2.7 (KIP-588): coordinator answers say PRODUCER_FENCED; before, INVALID_PRODUCER_EPOCH.
    pub producer_fenced_code: bool,
    /// 3.8 (KAFKA-16314): verification of a partition not in the transaction answers
    /// TRANSACTION_ABORTABLE; 3.6-3.7 INVALID_TXN_STATE.
    pub verification_abortable: bool,
    /// 4.0 (KIP-890 part 2, transaction version 2): every EndTxn bumps the epoch.
    pub tv2: bool,
    /// `transaction.max.timeout.ms`.
    pub max_timeout_ms: u64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`.
    pub abort_scan_interval_ms: u64,
}

impl TxnRules {
    /// A release line's rules with the scenario's broker keys.
    pub fn of(version: losslab_model::KafkaVersion, broker: &losslab_model::config::TxnBrokerConfig) -> TxnRules {
        TxnRules {
            endtxn_requires_equal_epoch: version.endtxn_requires_equal_epoch(),
            timeout_abort_bumps_epoch: version.timeout_abort_bumps_epoch(),
            producer_fenced_code: !version.invalid_producer_epoch_is_fatal(),
            verification_abortable: version.has_transaction_abortable_error(),
            tv2: version.transaction_version_2(),
            max_timeout_ms: broker.transaction_max_timeout_ms,
            abort_scan_interval_ms: broker.transaction_abort_timed_out_transaction_cleanup_interval_ms,
        }
    }

    /// The rules of 3.9 with Kafka's defaults.
    pub const V3_9: TxnRules = TxnRules {
        endtxn_requires_equal_epoch: true,
        timeout_abort_bumps_epoch: true,
        producer_fenced_code: true,
        verification_abortable: true,
        tv2: false,
        max_timeout_ms: 900_000,
        abort_scan_interval_ms: 10_000,
    };
}

/// Which markers to write: one per partition, each to the partition's leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerRequest {
    pub transactional_id: String,
    pub producer_id: u64,
    pub epoch: i32,
    pub coordinator_epoch: u32,
    pub commit: bool,
    pub partitions: Vec<u32>,
    pub producer: u32,
    pub txn: Option<u64>,
}

/// A decided state change, for the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionNote {
    pub producer: u32,
    pub txn: Option<u64>,
    pub producer_id: u64,
    pub epoch: i32,
    pub from: TxnState,
    pub to: TxnState,
    pub partitions: Vec<u32>,
}

/// What the coordinator asks its broker to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnOut {
    /// InitProducerId's answer: producer id and epoch.
    InitAnswer(ReplyTo, Result<(u64, i32), KafkaError>),
    /// AddPartitionsToTxn / AddOffsetsToTxn (and TV2's add from a partition leader).
    AddAnswer(ReplyTo, Result<(), KafkaError>),
    /// AddPartitionsToTxn v4 `verifyOnly` from a partition leader (KIP-890 part 1), per partition.
    VerifyAnswer(ReplyTo, Vec<(u32, Result<(), KafkaError>)>),
    /// EndTxn's answer, with the producer id and epoch to go on with (TV2 moves the epoch).
    EndAnswer(ReplyTo, Result<(u64, i32), KafkaError>),
    /// Append `record` to `__transaction_state` with `acks=all`; call `on_appended(op, ..)`.
    Append {
        op: u64,
        record: TxnRecord,
    },
    /// Write these markers; call `on_marker_written` per partition.
    Markers(MarkerRequest),
    Transition(TransitionNote),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Purpose {
    Init(ReplyTo),
    Add(ReplyTo),
    /// `fence_reply`: an InitProducerId that fenced an Ongoing transaction: it is answered
    /// CONCURRENT_TRANSACTIONS once the abort is durable.
    End {
        reply: Option<ReplyTo>,
        fence: bool,
        fence_reply: bool,
    },
    Complete,
}

#[derive(Clone, Debug)]
struct PendingAppend {
    transactional_id: String,
    record: TxnRecord,
    purpose: Purpose,
}

#[derive(Clone, Debug)]
struct MarkerJob {
    request: MarkerRequest,
    remaining: BTreeSet<u32>,
}

/// An EndTxn as the coordinator reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndTxnRequest {
    pub transactional_id: String,
    pub producer_id: u64,
    pub epoch: i32,
    pub commit: bool,
    pub producer: u32,
    pub txn: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct TxnCoordinator {
    pub broker: u32,
    /// The leader epoch of `__transaction_state` when this coordinator loaded it.
    pub coordinator_epoch: u32,
    pub rules: TxnRules,
    txns: BTreeMap<String, TxnMetadata>,
    appends: BTreeMap<u64, PendingAppend>,
    next_op: u64,
    markers: BTreeMap<String, MarkerJob>,
    /// The Complete* target of each transaction whose markers are being written.
    complete_records: BTreeMap<String, TxnRecord>,
    loaded_us: u64,
    /// Timeout scans run so far (they run every interval from the load).
    scans: u64,
}

impl TxnCoordinator {
    pub fn new(broker: u32, coordinator_epoch: u32, rules: TxnRules, now_us: u64) -> TxnCoordinator {
        TxnCoordinator {
            broker,
            coordinator_epoch,
            rules,
            txns: BTreeMap::new(),
            appends: BTreeMap::new(),
            next_op: 0,
            markers: BTreeMap::new(),
            complete_records: BTreeMap::new(),
            loaded_us: now_us,
            scans: 0,
        }
    }

    /// `loadTransactionsForTxnTopicPartition`: the last record of each transactional id wins
    /// (read to the log end); every Prepare* found is completed: its markers are sent again.
    pub fn load(
        broker: u32,
        coordinator_epoch: u32,
        rules: TxnRules,
        records: &[TxnRecord],
        now_us: u64,
    ) -> (TxnCoordinator, Vec<TxnOut>) {
        let mut c = TxnCoordinator::new(broker, coordinator_epoch, rules, now_us);
        for r in records {
            c.txns.insert(r.transactional_id.clone(), TxnMetadata::from_record(r));
        }
        let mut outs = Vec::new();
        let prepared: Vec<String> =
            c.txns.values().filter(|m| m.state.is_prepare()).map(|m| m.transactional_id.clone()).collect();
        for id in prepared {
            c.start_markers(&id, now_us, &mut outs);
        }
        (c, outs)
    }

    /// `onResignation`: everything in memory goes; in-flight appends are never answered here
    /// (their clients time out or see NOT_COORDINATOR from the broker).
    pub fn unload(self) {}

    pub fn metadata(&self, transactional_id: &str) -> Option<&TxnMetadata> {
        self.txns.get(transactional_id)
    }

    pub fn metadata_mut(&mut self, transactional_id: &str) -> Option<&mut TxnMetadata> {
        self.txns.get_mut(transactional_id)
    }

    /// Puts metadata in the cache directly (tests, as Kafka's tests mock the state manager).
    pub fn insert(&mut self, m: TxnMetadata) {
        self.txns.insert(m.transactional_id.clone(), m);
    }

    pub fn transactional_ids(&self) -> impl Iterator<Item = &TxnMetadata> {
        self.txns.values()
    }

    fn fenced(&self) -> KafkaError {
        if self.rules.producer_fenced_code {
            KafkaError::TxnProducerFenced
        } else {
            KafkaError::InvalidProducerEpoch
        }
    }

    fn append(&mut self, id: &str, record: TxnRecord, purpose: Purpose, outs: &mut Vec<TxnOut>) {
        self.next_op += 1;
        let op = self.next_op;
        self.appends.insert(op, PendingAppend { transactional_id: id.to_string(), record: record.clone(), purpose });
        outs.push(TxnOut::Append { op, record });
    }

    /// `handleInitProducerId` with a transactional id. `fresh_pid` is a producer id the
    /// `ProducerIdManager` would hand out, used only if one is needed. `expected`: the
    /// KIP-360 (2.5) producer id and epoch a client sends to bump after an error.
    #[allow(clippy::too_many_arguments)]
    pub fn on_init_producer_id(
        &mut self,
        now_us: u64,
        reply: ReplyTo,
        transactional_id: &str,
        timeout_ms: u64,
        expected: Option<(u64, i32)>,
        fresh_pid: u64,
        producer: u32,
    ) -> Vec<TxnOut> {
        let mut outs = Vec::new();
        if timeout_ms == 0 || timeout_ms > self.rules.max_timeout_ms {
            outs.push(TxnOut::InitAnswer(reply, Err(KafkaError::InvalidTransactionTimeout)));
            return outs;
        }
        let m = self
            .txns
            .entry(transactional_id.to_string())
            .or_insert_with(|| TxnMetadata::new(transactional_id, fresh_pid, timeout_ms, now_us));
        m.producer = producer;
        let valid_pid = |pe: &(u64, i32)| {
            m.producer_epoch == NO_EPOCH
                || pe.0 == m.producer_id
                || (Some(pe.0) == m.last_producer_id && TxnMetadata::is_epoch_exhausted(pe.1))
        };
        let result = if m.pending.is_some() {
            Err(KafkaError::ConcurrentTransactions)
        } else if !expected.iter().all(valid_pid) {
            Err(self.fenced())
        } else {
            match m.state {
                TxnState::PrepareAbort | TxnState::PrepareCommit => Err(KafkaError::ConcurrentTransactions),
                TxnState::Empty | TxnState::CompleteAbort | TxnState::CompleteCommit => {
                    if m.is_producer_epoch_exhausted() && expected.is_none_or(|e| e.1 == m.producer_epoch) {
                        let t = m.prepare_producer_id_rotation(fresh_pid, timeout_ms, now_us, expected.is_some());
                        Ok(t.expect("rotation from a completed state"))
                    } else {
                        match m.prepare_increment_epoch(timeout_ms, expected.map(|e| e.1), now_us) {
                            Ok(Ok(t)) => Ok(t),
                            Ok(Err(())) => Err(self.fenced()),
                            Err(illegal) => panic!("{}", illegal.0),
                        }
                    }
                }
                TxnState::Ongoing => {
                    // Abort the ongoing transaction with epoch+1 (never returned to anyone) and
                    // answer CONCURRENT_TRANSACTIONS: the client's retry bumps again.
                    let fence = m.prepare_fence_epoch(true).expect("fence from Ongoing");
                    self.note_fence(transactional_id, &fence, &mut outs);
                    let req = EndTxnRequest {
                        transactional_id: transactional_id.to_string(),
                        producer_id: fence.producer_id,
                        epoch: fence.producer_epoch,
                        commit: false,
                        producer,
                        txn: fence.txn,
                    };
                    outs.extend(self.end_transaction(now_us, Some(reply), &req, false, true));
                    return outs;
                }
                TxnState::Dead | TxnState::PrepareEpochFence => {
                    panic!("Found transactionalId {transactional_id} with state {:?}", m.state)
                }
            }
        };
        match result {
            Err(e) => outs.push(TxnOut::InitAnswer(reply, Err(e))),
            Ok(t) => self.append(transactional_id, t, Purpose::Init(reply), &mut outs),
        }
        outs
    }

    fn note_fence(&self, id: &str, fence: &TxnRecord, outs: &mut Vec<TxnOut>) {
        let m = &self.txns[id];
        outs.push(TxnOut::Transition(TransitionNote {
            producer: m.producer,
            txn: m.txn,
            producer_id: fence.producer_id,
            epoch: fence.producer_epoch,
            from: m.state,
            to: TxnState::PrepareEpochFence,
            partitions: m.partitions.iter().copied().collect(),
        }));
    }

    /// `handleAddPartitionsToTransaction` (AddOffsetsToTxn adds the group's offsets partition
    /// through it; a TV2 partition leader adds its partition through it).
    #[allow(clippy::too_many_arguments)]
    pub fn on_add_partitions(
        &mut self,
        now_us: u64,
        reply: ReplyTo,
        transactional_id: &str,
        producer_id: u64,
        epoch: i32,
        partitions: &BTreeSet<u32>,
        producer: u32,
        txn: Option<u64>,
    ) -> Vec<TxnOut> {
        let mut outs = Vec::new();
        let fenced = self.fenced();
        let result = match self.txns.get_mut(transactional_id) {
            None => Err(KafkaError::InvalidProducerIdMapping),
            Some(m) if m.producer_id != producer_id => Err(KafkaError::InvalidProducerIdMapping),
            Some(m) if m.producer_epoch != epoch => Err(fenced),
            Some(m) if m.pending.is_some() || m.state.is_prepare() => Err(KafkaError::ConcurrentTransactions),
            Some(m) if m.state == TxnState::Ongoing && partitions.is_subset(&m.partitions) => {
                outs.push(TxnOut::AddAnswer(reply, Ok(())));
                return outs;
            }
            Some(m) => {
                let mut t = m.prepare_add_partitions(partitions, now_us).expect("add partitions");
                if m.state != TxnState::Ongoing {
                    t.producer = producer;
                    t.txn = txn;
                }
                Ok(t)
            }
        };
        match result {
            Err(e) => outs.push(TxnOut::AddAnswer(reply, Err(e))),
            Ok(t) => self.append(transactional_id, t, Purpose::Add(reply), &mut outs),
        }
        outs
    }

    /// `handleVerifyPartitionsInTransaction` (3.6+, AddPartitionsToTxn v4 `verifyOnly`): is each
    /// partition in the current transaction of this producer id and epoch? No state changes;
    /// the pending state is deliberately not checked.
    pub fn on_verify(
        &mut self,
        reply: ReplyTo,
        transactional_id: &str,
        producer_id: u64,
        epoch: i32,
        partitions: &[u32],
    ) -> Vec<TxnOut> {
        let all = |e: KafkaError| partitions.iter().map(|&p| (p, Err(e))).collect::<Vec<_>>();
        let not_in = if self.rules.verification_abortable {
            KafkaError::TransactionAbortable
        } else {
            KafkaError::InvalidTxnState
        };
        let answer = match self.txns.get(transactional_id) {
            None => all(KafkaError::InvalidProducerIdMapping),
            Some(m) if m.producer_id != producer_id => all(KafkaError::InvalidProducerIdMapping),
            Some(m) if m.producer_epoch != epoch => all(self.fenced()),
            Some(m) if m.state.is_prepare() => all(KafkaError::ConcurrentTransactions),
            Some(m) => {
                partitions.iter().map(|&p| (p, if m.partitions.contains(&p) { Ok(()) } else { Err(not_in) })).collect()
            }
        };
        vec![TxnOut::VerifyAnswer(reply, answer)]
    }

    /// `handleEndTransaction` from a client.
    pub fn on_end_txn(&mut self, now_us: u64, reply: ReplyTo, req: &EndTxnRequest) -> Vec<TxnOut> {
        self.end_transaction(now_us, Some(reply), req, true, false)
    }

    /// `endTransaction` (3.9 l. 500-669; TV2's epoch checks from trunk l. 532-560).
    fn end_transaction(
        &mut self,
        now_us: u64,
        reply: Option<ReplyTo>,
        req: &EndTxnRequest,
        from_client: bool,
        fence_reply: bool,
    ) -> Vec<TxnOut> {
        let mut outs = Vec::new();
        let fenced = self.fenced();
        let rules = self.rules;
        let answer = |outs: &mut Vec<TxnOut>, r: Result<(u64, i32), KafkaError>| {
            if let Some(to) = reply {
                let r = if fence_reply { r.and(Err(KafkaError::ConcurrentTransactions)) } else { r };
                outs.push(if fence_reply { TxnOut::InitAnswer(to, r) } else { TxnOut::EndAnswer(to, r) });
            }
        };
        let Some(m) = self.txns.get_mut(&req.transactional_id) else {
            answer(&mut outs, Err(KafkaError::InvalidProducerIdMapping));
            return outs;
        };
        let epoch = req.epoch;
        let fencing = m.pending == Some(TxnState::PrepareEpochFence);
        let v2 = rules.tv2 && !fencing;
        let valid_epoch = if v2 {
            match m.state {
                TxnState::PrepareCommit
                | TxnState::PrepareAbort
                | TxnState::CompleteCommit
                | TxnState::CompleteAbort => m.producer_epoch == epoch + 1 && m.last_producer_epoch == epoch,
                _ => epoch == m.producer_epoch,
            }
        } else if from_client && rules.endtxn_requires_equal_epoch {
            epoch == m.producer_epoch
        } else {
            epoch >= m.producer_epoch
        };
        let current = (m.producer_id, m.producer_epoch);
        let result: Result<TxnRecord, KafkaError> = if m.producer_id != req.producer_id {
            Err(KafkaError::InvalidProducerIdMapping)
        } else if !valid_epoch {
            Err(fenced)
        } else if m.pending.is_some() && !fencing {
            Err(KafkaError::ConcurrentTransactions)
        } else {
            use TxnState::*;
            match (m.state, req.commit) {
                (Ongoing, commit) => {
                    let next = if commit { PrepareCommit } else { PrepareAbort };
                    if !commit && fencing {
                        // Clear the fence and take its epoch for the abort.
                        m.pending = None;
                        m.producer_epoch = epoch;
                        m.last_producer_epoch = NO_EPOCH;
                    }
                    Ok(m.prepare_abort_or_commit(next, now_us, v2).expect("Ongoing to Prepare*"))
                }
                (CompleteCommit, true) | (CompleteAbort, false) => {
                    answer(&mut outs, Ok(current));
                    return outs;
                }
                (PrepareCommit, true) | (PrepareAbort, false) => Err(KafkaError::ConcurrentTransactions),
                (Dead, _) | (PrepareEpochFence, _) => {
                    panic!("Found transactionalId {} with state {:?}", req.transactional_id, m.state)
                }
                _ => Err(KafkaError::InvalidTxnState),
            }
        };
        match result {
            Err(e) => answer(&mut outs, Err(e)),
            Ok(mut t) => {
                if !from_client {
                    t.txn = m.txn;
                }
                let purpose = Purpose::End { reply, fence: fencing, fence_reply };
                self.append(&req.transactional_id, t, purpose, &mut outs);
            }
        }
        outs
    }

    /// The outcome of an append: `Ok` once replicated to the ISR, or the partition's error.
    /// Errors map as `appendTransactionToLog` maps them.
    pub fn on_appended(&mut self, now_us: u64, op: u64, result: Result<(), KafkaError>) -> Vec<TxnOut> {
        let mut outs = Vec::new();
        let Some(p) = self.appends.remove(&op) else { return outs };
        let id = p.transactional_id.clone();
        let error = result.err().map(|e| match e {
            KafkaError::NotLeaderOrFollower => KafkaError::NotCoordinator,
            KafkaError::NotCoordinator => KafkaError::NotCoordinator,
            _ => KafkaError::CoordinatorNotAvailable,
        });
        let Some(m) = self.txns.get_mut(&id) else { return outs };
        if let Some(e) = error {
            if p.purpose == Purpose::Complete && e == KafkaError::CoordinatorNotAvailable {
                // `retryOnError`: the completion keeps its pending state and is appended again.
                self.append(&id, p.record, Purpose::Complete, &mut outs);
                return outs;
            }
            m.pending = None;
            match p.purpose {
                Purpose::Init(to) => outs.push(TxnOut::InitAnswer(to, Err(e))),
                Purpose::Add(to) => outs.push(TxnOut::AddAnswer(to, Err(e))),
                Purpose::End { reply, fence, fence_reply } => {
                    if fence {
                        m.has_failed_epoch_fence = true;
                    }
                    if let Some(to) = reply {
                        outs.push(if fence_reply {
                            TxnOut::InitAnswer(to, Err(e))
                        } else {
                            TxnOut::EndAnswer(to, Err(e))
                        });
                    }
                }
                Purpose::Complete => {
                    self.markers.remove(&id);
                }
            }
            return outs;
        }
        let from = m.state;
        m.complete_transition(&p.record).unwrap_or_else(|e| panic!("{}", e.0));
        outs.push(TxnOut::Transition(TransitionNote {
            producer: m.producer,
            txn: m.txn,
            producer_id: m.producer_id,
            epoch: m.producer_epoch,
            from,
            to: m.state,
            partitions: p.record.partitions.iter().copied().collect(),
        }));
        match p.purpose {
            Purpose::Init(to) => outs.push(TxnOut::InitAnswer(to, Ok((m.producer_id, m.producer_epoch)))),
            Purpose::Add(to) => outs.push(TxnOut::AddAnswer(to, Ok(()))),
            Purpose::End { reply, fence_reply, .. } => {
                let answer = Ok((m.producer_id, m.producer_epoch));
                if let Some(to) = reply {
                    outs.push(if fence_reply {
                        TxnOut::InitAnswer(to, Err(KafkaError::ConcurrentTransactions))
                    } else {
                        TxnOut::EndAnswer(to, answer)
                    });
                }
                self.start_markers(&id, now_us, &mut outs);
            }
            Purpose::Complete => {
                self.markers.remove(&id);
            }
        }
        outs
    }

    /// `prepareComplete` and `addTxnMarkersToSend`: markers to every partition of the
    /// transaction, with the Prepare* epoch; with none, the completion is appended at once.
    fn start_markers(&mut self, id: &str, now_us: u64, outs: &mut Vec<TxnOut>) {
        let m = self.txns.get_mut(id).expect("present");
        let commit = m.state == TxnState::PrepareCommit;
        let partitions: Vec<u32> = m.partitions.iter().copied().collect();
        let request = MarkerRequest {
            transactional_id: id.to_string(),
            producer_id: m.producer_id,
            epoch: m.producer_epoch,
            coordinator_epoch: self.coordinator_epoch,
            commit,
            partitions: partitions.clone(),
            producer: m.producer,
            txn: m.txn,
        };
        let complete = m.prepare_complete(now_us).expect("Prepare* to Complete*");
        // The Complete* record is appended once every marker is written; keep it with the job.
        self.markers.insert(
            id.to_string(),
            MarkerJob { request: request.clone(), remaining: partitions.iter().copied().collect() },
        );
        self.complete_records.insert(id.to_string(), complete);
        if partitions.is_empty() {
            self.maybe_complete(id, outs);
        } else {
            outs.push(TxnOut::Markers(request));
        }
    }

    fn maybe_complete(&mut self, id: &str, outs: &mut Vec<TxnOut>) {
        let done = self.markers.get(id).is_some_and(|j| j.remaining.is_empty());
        if !done {
            return;
        }
        if let Some(record) = self.complete_records.remove(id) {
            self.append(id, record, Purpose::Complete, outs);
        }
    }

    /// A partition leader's answer to a marker (`TransactionMarkerRequestCompletionHandler`):
    /// written, retried (leader moved, not enough replicas, timeout, disconnect), or given up
    /// (a newer producer epoch or coordinator epoch owns the partition).
    pub fn on_marker_written(&mut self, id: &str, partition: u32, result: Result<(), KafkaError>) -> Vec<TxnOut> {
        let mut outs = Vec::new();
        let Some(job) = self.markers.get_mut(id) else { return outs };
        if !job.remaining.contains(&partition) {
            return outs;
        }
        match result {
            Ok(()) => {
                job.remaining.remove(&partition);
                if let Some(m) = self.txns.get_mut(id) {
                    m.partitions.remove(&partition);
                }
                self.maybe_complete(id, &mut outs);
            }
            Err(KafkaError::InvalidProducerEpoch) | Err(KafkaError::TransactionCoordinatorFenced) => {
                self.markers.remove(id);
                self.complete_records.remove(id);
            }
            Err(_) => {
                let request = MarkerRequest { partitions: vec![partition], ..job.request.clone() };
                outs.push(TxnOut::Markers(request));
            }
        }
        outs
    }

    /// The next instant of the timeout scan, while some transaction is Ongoing.
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.txns.values().any(|m| m.state == TxnState::Ongoing) {
            return None;
        }
        Some(self.next_scan_after(self.loaded_us))
    }

    fn next_scan_after(&self, _now_us: u64) -> u64 {
        self.loaded_us + self.rules.abort_scan_interval_ms * 1000 * (self.scans + 1)
    }

    /// `abortTimedOutTransactions`: every Ongoing transaction open longer than its timeout and
    /// without a pending transition is fenced (epoch+1 from 1.0) and aborted.
    pub fn on_tick(&mut self, now_us: u64) -> Vec<TxnOut> {
        let mut outs = Vec::new();
        while self.next_scan_after(now_us) <= now_us {
            self.scans += 1;
        }
        let expired: Vec<String> = self
            .txns
            .values()
            .filter(|m| {
                m.state == TxnState::Ongoing
                    && m.pending.is_none()
                    && m.start_us.is_some_and(|s| s + m.timeout_ms * 1000 < now_us)
            })
            .map(|m| m.transactional_id.clone())
            .collect();
        for id in expired {
            let bump = self.rules.timeout_abort_bumps_epoch;
            let m = self.txns.get_mut(&id).expect("listed");
            let fence = m.prepare_fence_epoch(bump).expect("fence from Ongoing");
            // 0.11.0.0-0.11.0.1 abort at the same epoch: no fence to tell. (1.0-2.4 bump the
            // epoch without a state of their own; the history names it as 2.5's PrepareEpochFence.)
            if bump {
                self.note_fence(&id, &fence, &mut outs);
            }
            let req = EndTxnRequest {
                transactional_id: id.clone(),
                producer_id: fence.producer_id,
                epoch: fence.producer_epoch,
                commit: false,
                producer: fence.producer,
                txn: fence.txn,
            };
            outs.extend(self.end_transaction(now_us, None, &req, false, false));
        }
        outs
    }
}
