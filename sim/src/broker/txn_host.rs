//! The broker's side of transactions. While this broker leads `__transaction_state` it hosts
//! the transaction coordinator (`coordinator::txn`), loaded from its own copy of that log with
//! the partition's leader epoch as coordinator epoch (`TransactionStateManager.loadTransactionsForTxnTopicPartition`);
//! it stops hosting it the moment it stops leading (`onResignation`). The coordinator's records
//! are appended here as leader with `acks=all`, like the group coordinator's, and it hears back
//! once the high watermark covers them (or the transaction's timeout passed, as
//! `appendTransactionToLog` gives `appendRecords` the transaction timeout): so an EndTxn is
//! answered only after its Prepare* is replicated. Its markers go to each partition's leader
//! (`TransactionMarkerChannelManager`: unknown leaders and failed sends retried after 100 ms,
//! requests without an answer after `request.timeout.ms`). As any partition leader, the broker
//! appends the markers it is sent (`ReplicaManager.appendRecords` with `AppendOrigin.COORDINATOR`
//! and `acks=-1`, `KafkaApis.handleWriteTxnMarkersRequest`) and answers once they are replicated;
//! and it records its partitions' last stable offset when it moves.

use super::coordinator::{
    EndTxnRequest, MarkerRequest, ReplyTo, TxnCoordinator, TxnOut, TxnRecord, TxnRules, TxnState,
};
use super::node::{Broker, Marker, Timer, FETCH_REQUEST_TIMEOUT_MS};
use crate::fault::mutation::{self, Mutation};
use crate::protocol::{
    is_internal_partition, KafkaError, Msg, ProducerStamp, TxnBatch, CONTROL_PRODUCER, OFFSETS_PARTITION,
    TXN_STATE_PARTITION,
};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use losslab_model::history::EventKind;
use losslab_model::MsgId;
use std::collections::{BTreeSet, VecDeque};

/// The inter-broker client's `retry.backoff.ms` (100): markers to an unknown or failed leader
/// are sent again after it.
const MARKER_RETRY_MS: u64 = 100;

impl Broker {
    /// After any change to this broker's replica of `__transaction_state`: it loads the
    /// coordinator when it has become the leader, and drops it when it no longer is.
    pub(super) fn txn_role_changed(&mut self) {
        let leading = self.replicas.get(&TXN_STATE_PARTITION).filter(|r| r.is_leader()).map(|r| r.leader_epoch);
        let loaded_epoch = self.txn.coordinator.as_ref().map(|c| c.coordinator_epoch);
        match (leading, loaded_epoch) {
            (Some(epoch), None) => self.load_txn(epoch),
            (Some(epoch), Some(loaded)) if epoch != loaded => {
                self.unload_txn();
                self.load_txn(epoch);
            }
            (None, Some(_)) => self.unload_txn(),
            _ => {}
        }
    }

    fn unload_txn(&mut self) {
        if let Some(c) = self.txn.coordinator.take() {
            c.unload();
        }
        self.txn.appends.clear();
        self.txn.markers.clear();
        self.txn.tick_at = None;
    }

    /// Reads the whole log of `__transaction_state`, to the log end as Kafka's loader does.
    fn load_txn(&mut self, coordinator_epoch: u32) {
        let msgs: Vec<MsgId> = {
            let disk = self.world.disks[self.id as usize - 1].lock().unwrap();
            disk.logs.get(&TXN_STATE_PARTITION).map_or_else(Vec::new, |s| s.log.all_records())
        };
        let records: Vec<TxnRecord> = msgs.into_iter().filter_map(|m| self.world.txn_record(m)).collect();
        let now = self.now_us();
        let s = &self.world.scenario;
        let rules = TxnRules::of(s.kafka_version, &s.broker.txn);
        let (coordinator, outs) = TxnCoordinator::load(self.id, coordinator_epoch, rules, &records, now);
        self.txn.coordinator = Some(coordinator);
        self.txn.load += 1;
        self.txn.appends.clear();
        self.txn.markers.clear();
        self.txn.tick_at = None;
        self.apply_txn(outs, false);
    }

    /// A request of the transaction protocol. A broker that is not the coordinator says so.
    pub(super) fn on_txn_request(&mut self, from: NodeIdx, msg: Msg) {
        let now = self.now_us();
        let Some(c) = self.txn.coordinator.as_mut() else {
            let e = KafkaError::NotCoordinator;
            let answer = match msg {
                Msg::InitProducerId { corr, .. } => Msg::InitProducerIdResponse { corr, result: Err(e) },
                Msg::AddPartitionsToTxn { corr, partitions, verify_only, .. } => {
                    let verified = if verify_only { partitions.iter().map(|&p| (p, Err(e))).collect() } else { vec![] };
                    Msg::AddPartitionsToTxnResponse { corr, result: Err(e), verified }
                }
                Msg::AddOffsetsToTxn { corr, .. } => Msg::AddOffsetsToTxnResponse { corr, result: Err(e) },
                Msg::EndTxn { corr, .. } => Msg::EndTxnResponse { corr, result: Err(e) },
                _ => return,
            };
            self.send(from, answer);
            return;
        };
        let outs = match msg {
            Msg::InitProducerId { corr, transactional_id, timeout_ms, expected, producer } => {
                let fresh = self.world.new_txn_producer_id();
                let reply = ReplyTo { node: from, corr };
                c.on_init_producer_id(now, reply, &transactional_id, timeout_ms, expected, fresh, producer)
            }
            Msg::AddPartitionsToTxn {
                corr,
                transactional_id,
                producer_id,
                epoch,
                partitions,
                verify_only,
                producer,
                txn,
            } => {
                let reply = ReplyTo { node: from, corr };
                if verify_only {
                    c.on_verify(reply, &transactional_id, producer_id, epoch, &partitions)
                } else {
                    let set: BTreeSet<u32> = partitions.into_iter().collect();
                    c.on_add_partitions(now, reply, &transactional_id, producer_id, epoch, &set, producer, txn)
                }
            }
            Msg::AddOffsetsToTxn { corr, transactional_id, producer_id, epoch, producer, txn } => {
                // The group's partition of `__consumer_offsets` joins the transaction
                // (`KafkaApis.handleAddOffsetsToTxnRequest`).
                let set = BTreeSet::from([OFFSETS_PARTITION]);
                let reply = ReplyTo { node: from, corr };
                c.on_add_partitions(now, reply, &transactional_id, producer_id, epoch, &set, producer, txn)
            }
            Msg::EndTxn { corr, transactional_id, producer_id, epoch, commit, producer, txn } => {
                let request = EndTxnRequest { transactional_id, producer_id, epoch, commit, producer, txn };
                c.on_end_txn(now, ReplyTo { node: from, corr }, &request)
            }
            _ => return,
        };
        self.apply_txn(outs, false);
    }

    /// Carries out what the coordinator asked for. `retrying`: the outputs follow a failed
    /// marker write, whose markers go out again after the backoff.
    fn apply_txn(&mut self, outs: Vec<TxnOut>, retrying: bool) {
        let mut queue: VecDeque<TxnOut> = outs.into();
        while let Some(out) = queue.pop_front() {
            match out {
                TxnOut::InitAnswer(to, result) => {
                    self.send(to.node, Msg::InitProducerIdResponse { corr: to.corr, result })
                }
                TxnOut::AddAnswer(to, result) => {
                    self.send(to.node, Msg::AddPartitionsToTxnResponse { corr: to.corr, result, verified: vec![] })
                }
                TxnOut::VerifyAnswer(to, verified) => {
                    let result = Ok(());
                    self.send(to.node, Msg::AddPartitionsToTxnResponse { corr: to.corr, result, verified })
                }
                TxnOut::EndAnswer(to, result) => self.send(to.node, Msg::EndTxnResponse { corr: to.corr, result }),
                TxnOut::Append { op, record } => queue.extend(self.append_for_txn(op, record)),
                TxnOut::Markers(request) if retrying => {
                    let at = self.now_us().saturating_add(MARKER_RETRY_MS * 1000);
                    let load = self.txn.load;
                    self.timers.at(at, Timer::TxnMarkerRetry { load, request });
                }
                TxnOut::Markers(request) => self.send_markers(request),
                TxnOut::Transition(n) => {
                    let offsets_partitions = n.partitions.contains(&OFFSETS_PARTITION);
                    self.record(EventKind::TxnTransition(Box::new(losslab_model::history::TxnTransition {
                        broker: self.id,
                        producer: n.producer,
                        txn: n.txn,
                        producer_id: n.producer_id,
                        epoch: n.epoch.max(0) as u32,
                        from: n.from.name().to_string(),
                        to: n.to.name().to_string(),
                        partitions: n.partitions.into_iter().filter(|&p| !is_internal_partition(p)).collect(),
                        offsets_partitions,
                    })));
                }
            }
        }
        self.schedule_txn_tick();
    }

    /// Appends a coordinator record as leader with `acks=all`. Returns what the coordinator
    /// says if the append fails at once.
    fn append_for_txn(&mut self, op: u64, record: TxnRecord) -> Vec<TxnOut> {
        let (producer_id, epoch, state, timeout_ms) =
            (record.producer_id, record.producer_epoch, record.state, record.timeout_ms);
        let msg = self.world.new_txn_record(record);
        let now = self.now_us();
        let p = TXN_STATE_PARTITION;
        let (broker, state_name, logged_epoch) = (self.id, state.name().to_string(), epoch.max(0) as u32);
        let append = self
            .append_for_coordinator(
                p,
                |_| (vec![msg], None, None),
                |a| {
                    let offset = a.base_offset;
                    Some(EventKind::TxnLogged { broker, producer_id, epoch: logged_epoch, state: state_name, offset })
                },
            )
            .map(|(append, _)| append.end_offset);
        match append {
            Err(e) => {
                let outs = match self.txn.coordinator.as_mut() {
                    Some(c) => c.on_appended(now, op, Err(e)),
                    None => Vec::new(),
                };
                // A completion the coordinator appends again (`retryOnError`) waits for the
                // marker channel's next round (`TransactionMarkerChannelManager`'s
                // `txnLogAppendRetryQueue`), as the markers' retries do: retried in the same
                // instant it would fail the same way without end.
                let (retries, rest): (Vec<TxnOut>, Vec<TxnOut>) =
                    outs.into_iter().partition(|o| matches!(o, TxnOut::Append { .. }));
                for retry in retries {
                    if let TxnOut::Append { op, record } = retry {
                        let at = now.saturating_add(MARKER_RETRY_MS * 1000);
                        self.timers.at(at, Timer::TxnAppendRetry { load: self.txn.load, op, record });
                    }
                }
                rest
            }
            // The markers-before-commit-durable mutation: a Prepare* record counts as written the
            // moment the leader appended it, so markers go out and EndTxn is answered before the
            // followers have it.
            Ok(_)
                if mutation::on(Mutation::MarkersBeforeCommitDurable)
                    && matches!(state, TxnState::PrepareCommit | TxnState::PrepareAbort) =>
            {
                self.after_hw_or_isr_change(p);
                self.wake_fetches(p);
                match self.txn.coordinator.as_mut() {
                    Some(c) => c.on_appended(now, op, Ok(())),
                    None => Vec::new(),
                }
            }
            Ok(end_offset) => {
                self.txn.appends.insert(op, end_offset);
                let load = self.txn.load;
                let deadline = now.saturating_add(timeout_ms.saturating_mul(1000));
                self.timers.at(deadline, Timer::TxnAppendExpire { load, op });
                self.after_hw_or_isr_change(p);
                self.wake_fetches(p);
                Vec::new()
            }
        }
    }

    pub(super) fn retry_txn_append(&mut self, op: u64, record: TxnRecord) {
        self.apply_txn(vec![TxnOut::Append { op, record }], false);
    }

    /// Tells the coordinator about its appends the high watermark now covers.
    pub(super) fn txn_appends_progressed(&mut self) {
        let Some(replica) = self.replicas.get(&TXN_STATE_PARTITION) else { return };
        let done: Vec<(u64, Result<(), KafkaError>)> =
            self.txn.appends.iter().filter_map(|(&op, &end)| replica.acks_all_done(end).map(|r| (op, r))).collect();
        if done.is_empty() {
            return;
        }
        let now = self.now_us();
        let mut outs = Vec::new();
        for (op, result) in done {
            self.txn.appends.remove(&op);
            if let Some(c) = self.txn.coordinator.as_mut() {
                outs.extend(c.on_appended(now, op, result));
            }
        }
        self.apply_txn(outs, false);
    }

    pub(super) fn on_txn_append_expired(&mut self, load: u64, op: u64) {
        if load != self.txn.load || self.txn.appends.remove(&op).is_none() {
            return;
        }
        let now = self.now_us();
        let outs = match self.txn.coordinator.as_mut() {
            Some(c) => c.on_appended(now, op, Err(KafkaError::RequestTimedOut)),
            None => return,
        };
        self.apply_txn(outs, false);
    }

    pub(super) fn on_txn_tick(&mut self, load: u64) {
        if load != self.txn.load {
            return;
        }
        self.txn.tick_at = None;
        let now = self.now_us();
        let outs = match self.txn.coordinator.as_mut() {
            Some(c) => c.on_tick(now),
            None => return,
        };
        self.apply_txn(outs, false);
    }

    fn schedule_txn_tick(&mut self) {
        let Some(next) = self.txn.coordinator.as_ref().and_then(TxnCoordinator::next_deadline) else { return };
        if self.txn.tick_at.is_some_and(|t| t <= next) {
            return;
        }
        self.txn.tick_at = Some(next);
        let load = self.txn.load;
        self.timers.at(next, Timer::TxnTick { load });
    }

    /// Sends each partition's marker to its leader as this broker's metadata knows it; markers
    /// of partitions without a known leader wait for the retry.
    pub(super) fn send_markers(&mut self, request: MarkerRequest) {
        let mut unknown = Vec::new();
        for &partition in &request.partitions {
            let Some(&(Some(leader), _)) = self.metadata.get(&partition) else {
                unknown.push(partition);
                continue;
            };
            self.next_corr += 1;
            let corr = self.next_corr;
            self.txn.markers.insert(corr, (request.transactional_id.clone(), partition, leader));
            let msg = Msg::WriteTxnMarker {
                corr,
                transactional_id: request.transactional_id.clone(),
                partition,
                producer_id: request.producer_id,
                epoch: request.epoch,
                coordinator_epoch: request.coordinator_epoch,
                commit: request.commit,
                producer: request.producer,
                txn: request.txn,
            };
            self.send(self.world.broker_idx(leader), msg);
            let at = self.now_us().saturating_add(FETCH_REQUEST_TIMEOUT_MS * 1000);
            self.timers.at(at, Timer::TxnMarkerTimeout { load: self.txn.load, corr });
        }
        if !unknown.is_empty() {
            let at = self.now_us().saturating_add(MARKER_RETRY_MS * 1000);
            let load = self.txn.load;
            self.timers
                .at(at, Timer::TxnMarkerRetry { load, request: MarkerRequest { partitions: unknown, ..request } });
        }
    }

    /// A leader's answer to a marker (or its loss: a refused or reset connection, a timeout).
    pub(super) fn on_marker_response(&mut self, corr: u64, partition: u32, result: Result<(), KafkaError>) {
        let Some((id, p, _)) = self.txn.markers.remove(&corr) else { return };
        debug_assert_eq!(p, partition);
        let outs = match self.txn.coordinator.as_mut() {
            Some(c) => c.on_marker_written(&id, partition, result),
            None => return,
        };
        self.apply_txn(outs, result.is_err());
    }

    /// The broker `peer` reset its connections: markers in flight to it are lost.
    pub(super) fn markers_lost_to(&mut self, peer: NodeIdx) {
        let lost: Vec<(u64, u32)> = self
            .txn
            .markers
            .iter()
            .filter(|(_, (_, _, leader))| self.world.broker_idx(*leader) == peer)
            .map(|(&corr, (_, p, _))| (corr, *p))
            .collect();
        for (corr, partition) in lost {
            self.on_marker_response(corr, partition, Err(KafkaError::NetworkException));
        }
    }

    /// As a partition's leader: appends a transaction marker (a one-record control batch with the
    /// producer's id and epoch, `p0#<offset>`) with `acks=-1`, answering once it is replicated.
    pub(super) fn on_write_txn_marker(&mut self, from: NodeIdx, corr: u64, partition: u32, m: Marker) {
        let now = self.now_us();
        let stamp =
            ProducerStamp { producer_id: m.producer_id, producer_epoch: m.epoch.max(0) as u32, base_sequence: 0 };
        let batch = TxnBatch::Marker { commit: m.commit, coordinator_epoch: m.coordinator_epoch };
        let (broker, epoch) = (self.id, stamp.producer_epoch);
        let result = self
            .append_for_coordinator(
                partition,
                |log| (vec![MsgId { producer: CONTROL_PRODUCER, seq: log.log_end_offset() }], Some(stamp), Some(batch)),
                |append| {
                    Some(EventKind::MarkerWritten {
                        broker,
                        partition,
                        producer: m.producer,
                        producer_id: m.producer_id,
                        epoch,
                        commit: m.commit,
                        offset: append.base_offset,
                        txn: m.txn,
                    })
                },
            )
            .map(|(append, _)| append.end_offset);
        match result {
            Err(e) => self.send(from, Msg::WriteTxnMarkerResponse { corr, partition, result: Err(e) }),
            Ok(end) => {
                self.txn.written.entry(partition).or_default().push((from, corr, end));
                if partition == OFFSETS_PARTITION {
                    self.group.txn_markers.insert(end, (m.producer_id, m.commit));
                }
                let at = now.saturating_add(FETCH_REQUEST_TIMEOUT_MS * 1000);
                self.timers.at(at, Timer::MarkerExpire { partition, corr, from });
                self.after_hw_or_isr_change(partition);
                self.wake_fetches(partition);
            }
        }
    }

    /// Answers the markers the high watermark now covers.
    pub(super) fn markers_progressed(&mut self, partition: u32) {
        let Some(waiting) = self.txn.written.get_mut(&partition) else { return };
        let Some(replica) = self.replicas.get(&partition) else { return };
        let mut answers = Vec::new();
        let mut settled = Vec::new();
        waiting.retain(|&(from, corr, end)| match replica.acks_all_done(end) {
            None => true,
            Some(result) => {
                settled.push((end, result.is_ok()));
                answers.push((from, corr, result));
                false
            }
        });
        if partition == OFFSETS_PARTITION {
            for (end, ok) in settled {
                if let Some((producer_id, commit)) = self.group.txn_markers.remove(&end).filter(|_| ok) {
                    self.group_txn_completed(producer_id, commit);
                }
            }
        }
        for (from, corr, result) in answers {
            self.send(from, Msg::WriteTxnMarkerResponse { corr, partition, result });
        }
    }

    pub(super) fn on_marker_expired(&mut self, partition: u32, corr: u64, from: NodeIdx) {
        let Some(waiting) = self.txn.written.get_mut(&partition) else { return };
        if let Some(i) = waiting.iter().position(|&(f, c, _)| f == from && c == corr) {
            waiting.remove(i);
            self.send(from, Msg::WriteTxnMarkerResponse { corr, partition, result: Err(KafkaError::RequestTimedOut) });
        }
    }

    /// Records a led topic partition's last stable offset when it moved (runs with transactions
    /// only, so that other histories do not change).
    pub(super) fn note_last_stable_offset(&mut self, partition: u32) {
        if is_internal_partition(partition) || !self.world.transactions_on() {
            return;
        }
        let lso = {
            let Some(r) = self.replicas.get(&partition).filter(|r| r.is_leader()) else { return };
            let disk = self.world.disks[self.id as usize - 1].lock().unwrap();
            let Some(s) = disk.logs.get(&partition) else { return };
            s.log.txns().last_stable_offset(r.high_watermark)
        };
        if self.txn.lso.insert(partition, lso) != Some(lso) {
            self.record(EventKind::LastStableOffset { broker: self.id, partition, lso });
        }
    }
}
