//! The broker's side of the consumer group: while this broker leads the group's partition of
//! `__consumer_offsets` it hosts the group coordinator (`coordinator::group`), loaded from its
//! own copy of that log; it stops hosting it the moment it stops leading. The coordinator's
//! writes (offset commits, the group's metadata) are appended here as leader, like a produce
//! request with `acks=all`: they go through the same replica, page cache, flush policy and
//! follower fetches as any record, and the coordinator hears back once the high watermark
//! covers them or `offsets.commit.timeout.ms` passed.

use super::coordinator::assignor::Owned;
use super::coordinator::group::{CommitRequest, JoinRequest};
use super::coordinator::{Coordinator, LogEntry, Out, ReplyTo, TxnCommitRequest, OFFSETS_COMMIT_TIMEOUT_MS};
use super::node::{Broker, Timer, FETCH_REQUEST_TIMEOUT_MS};
use crate::protocol::{
    KafkaError, Msg, OffsetsRecord, ProducerStamp, TxnBatch, OFFSETS_PARTITION, TXN_STATE_PARTITION,
};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use losslab_model::history::NodeName;
use losslab_model::MsgId;
use std::collections::VecDeque;

impl Broker {
    /// After any change to this broker's replica of the offsets partition: it loads the group
    /// when it has become the leader, and drops it when it no longer is.
    pub(super) fn group_role_changed(&mut self) {
        let leading = self.replicas.get(&OFFSETS_PARTITION).is_some_and(|r| r.is_leader());
        match (leading, self.group.coordinator.is_some()) {
            (true, false) => self.load_group(),
            (false, true) => {
                let coordinator = self.group.coordinator.take().expect("checked");
                self.group.appends.clear();
                self.group.tick_at = None;
                let outs = coordinator.unload();
                self.apply_group(outs);
            }
            _ => {}
        }
    }

    /// Reads the whole log of the offsets partition, as Kafka's loader reads to the log end.
    fn load_group(&mut self) {
        // A marker's id (`p0#<offset>`) is no record of the group's: the loader reads the
        // control batch as its producer id's COMMIT or ABORT, and a transactional batch's
        // records as that producer id's pending offsets (`GroupMetadataManager.doLoadGroupsAndOffsets`).
        let entries: Vec<LogEntry> = {
            let disk = self.world.disks[self.id as usize - 1].lock().unwrap();
            let batches = disk.logs.get(&OFFSETS_PARTITION).map_or(&[][..], |s| s.log.batches());
            let mut entries = Vec::new();
            for b in batches {
                let producer_id = b.stamp.map_or(0, |s| s.producer_id);
                match b.txn {
                    Some(TxnBatch::Marker { commit, .. }) => entries.push(LogEntry::Marker { producer_id, commit }),
                    Some(TxnBatch::Data) => entries.extend(
                        b.msgs
                            .iter()
                            .filter_map(|&m| self.world.offsets_record(m))
                            .map(|record| LogEntry::TxnRecord { producer_id, record }),
                    ),
                    None => entries
                        .extend(b.msgs.iter().filter_map(|&m| self.world.offsets_record(m)).map(LogEntry::Record)),
                }
            }
            entries
        };
        let now = self.now_us();
        let (mut coordinator, outs) =
            Coordinator::load_log(self.id, self.world.scenario.topic.partitions, &entries, now);
        let consumer = &self.world.scenario.consumer;
        coordinator.set_assignment(consumer.assignor(), consumer.rebalance_protocol());
        coordinator.require_known_member_id(self.world.scenario.kafka_version.requires_known_member_id());
        self.group.coordinator = Some(coordinator);
        self.group.load += 1;
        self.group.appends.clear();
        self.group.tick_at = None;
        self.apply_group(outs);
    }

    /// A request of the group protocol. A broker that is not the coordinator says so.
    pub(super) fn on_group_request(&mut self, from: NodeIdx, msg: Msg) {
        if matches!(msg, Msg::TxnOffsetCommit { .. }) && self.group.coordinator.is_some() {
            if let Some(msg) = self.verify_txn_offsets(from, msg) {
                self.group_request(from, msg);
            }
            return;
        }
        self.group_request(from, msg);
    }

    fn group_request(&mut self, from: NodeIdx, msg: Msg) {
        let now = self.now_us();
        let consumer_id = match self.world.names[from] {
            NodeName::Consumer(id) => id,
            _ => 0,
        };
        let Some(c) = self.group.coordinator.as_mut() else {
            let e = KafkaError::NotCoordinator;
            let answer = match msg {
                Msg::JoinGroup { corr, member, .. } => Msg::JoinGroupResponse { corr, member, result: Err(e) },
                Msg::GroupHeartbeat { corr, .. } => Msg::GroupHeartbeatResponse { corr, result: Err(e) },
                Msg::OffsetCommit { corr, .. } => Msg::OffsetCommitResponse { corr, result: Err(e) },
                Msg::OffsetFetch { corr, .. } => Msg::OffsetFetchResponse { corr, result: Err(e) },
                Msg::TxnOffsetCommit { corr, .. } => Msg::TxnOffsetCommitResponse { corr, result: Err(e) },
                _ => return,
            };
            self.send(from, answer);
            return;
        };
        let outs = match msg {
            Msg::JoinGroup {
                corr,
                consumer,
                member,
                session_timeout_ms,
                rebalance_timeout_ms,
                instance,
                owned,
                owned_generation,
            } => {
                let serial = if member.is_none() { self.world.new_member_serial() } else { 0 };
                let reply = ReplyTo { node: from, corr };
                let owned = Owned { partitions: owned, generation: owned_generation };
                let request =
                    JoinRequest { consumer, member, serial, session_timeout_ms, rebalance_timeout_ms, instance, owned };
                c.on_join_request(now, reply, request)
            }
            Msg::GroupHeartbeat { corr, member, generation, instance } => {
                c.on_heartbeat_from(now, ReplyTo { node: from, corr }, member, instance.as_deref(), generation)
            }
            Msg::LeaveGroup { member, reason } => c.on_leave(now, member, &reason),
            Msg::OffsetCommit { corr, member, generation, offsets, epochs, instance } => {
                let request = CommitRequest { consumer: consumer_id, member, generation, offsets, epochs, instance };
                c.on_commit_request(now, ReplyTo { node: from, corr }, request)
            }
            Msg::TxnOffsetCommit { corr, producer_id, epoch, member, generation, instance, offsets, .. } => {
                let request = TxnCommitRequest {
                    consumer: consumer_id,
                    producer_id,
                    epoch: epoch.max(0) as u32,
                    member,
                    generation,
                    instance,
                    offsets,
                };
                c.on_txn_commit_request(ReplyTo { node: from, corr }, request)
            }
            Msg::OffsetFetch { corr, partitions, require_stable } => {
                let result = if require_stable && c.unstable(&partitions) {
                    Err(KafkaError::UnstableOffsetCommit)
                } else {
                    Ok(c.committed_with_epochs(&partitions))
                };
                self.send(from, Msg::OffsetFetchResponse { corr, result });
                return;
            }
            _ => return,
        };
        self.apply_group(outs);
    }

    /// Carries out what the coordinator asked for, including what that in turn asks for.
    fn apply_group(&mut self, outs: Vec<Out>) {
        let mut queue: VecDeque<Out> = outs.into();
        while let Some(out) = queue.pop_front() {
            match out {
                Out::JoinAnswer(to, member, result) => {
                    self.send(to.node, Msg::JoinGroupResponse { corr: to.corr, member, result })
                }
                Out::HeartbeatAnswer(to, result) => {
                    self.send(to.node, Msg::GroupHeartbeatResponse { corr: to.corr, result })
                }
                Out::CommitAnswer(to, result) => {
                    self.send(to.node, Msg::OffsetCommitResponse { corr: to.corr, result })
                }
                Out::TxnCommitAnswer(to, result) => {
                    self.send(to.node, Msg::TxnOffsetCommitResponse { corr: to.corr, result })
                }
                Out::Record(kind) => self.record(kind),
                Out::Append { op, records } => queue.extend(self.append_for_group(op, records, None)),
                Out::TxnAppend { op, records, producer_id, epoch } => {
                    queue.extend(self.append_for_group(op, records, Some((producer_id, epoch))))
                }
            }
        }
        self.schedule_group_tick();
    }

    /// Appends the coordinator's records as leader with `acks=all`. Returns what the coordinator
    /// says if the append fails at once.
    /// `txn`: a TxnOffsetCommit's producer id and epoch; its batch is transactional, written
    /// with `AppendOrigin.COORDINATOR` (the producer epoch is checked, sequences are not: the
    /// batch takes the next sequence the partition expects of that producer id).
    fn append_for_group(&mut self, op: u64, records: Vec<OffsetsRecord>, txn: Option<(u64, u32)>) -> Vec<Out> {
        let msgs: Vec<MsgId> = records.into_iter().map(|r| self.world.new_offsets_record(r)).collect();
        let now = self.now_us();
        let p = OFFSETS_PARTITION;
        let build = |log: &super::log::Log| {
            let stamp = txn.map(|(producer_id, producer_epoch)| ProducerStamp {
                producer_id,
                producer_epoch,
                base_sequence: log.next_sequence(producer_id, producer_epoch),
            });
            (msgs, stamp, txn.map(|_| TxnBatch::Data))
        };
        let append = self.append_for_coordinator(p, build, |_| None).map(|(append, _)| append.end_offset);
        match append {
            Err(e) => match self.group.coordinator.as_mut() {
                Some(c) => c.on_appended(now, op, Err(e)),
                None => Vec::new(),
            },
            Ok(end_offset) => {
                self.group.appends.insert(op, end_offset);
                let load = self.group.load;
                let deadline = now.saturating_add(OFFSETS_COMMIT_TIMEOUT_MS * 1000);
                self.timers.at(deadline, Timer::GroupAppendExpire { load, op });
                // The high watermark may already cover it (an ISR of one); followers waiting
                // in a long poll get it now.
                self.after_hw_or_isr_change(p);
                self.wake_fetches(p);
                Vec::new()
            }
        }
    }

    /// Tells the coordinator about its appends that the high watermark now covers (called
    /// whenever the offsets partition's high watermark or ISR may have moved).
    pub(super) fn group_appends_progressed(&mut self) {
        let Some(replica) = self.replicas.get(&OFFSETS_PARTITION) else { return };
        let done: Vec<(u64, Result<(), KafkaError>)> =
            self.group.appends.iter().filter_map(|(&op, &end)| replica.acks_all_done(end).map(|r| (op, r))).collect();
        if done.is_empty() {
            return;
        }
        let now = self.now_us();
        let mut outs = Vec::new();
        for (op, result) in done {
            self.group.appends.remove(&op);
            if let Some(c) = self.group.coordinator.as_mut() {
                outs.extend(c.on_appended(now, op, result));
            }
        }
        self.apply_group(outs);
    }

    /// `offsets.commit.timeout.ms` passed before the append was replicated.
    pub(super) fn on_group_append_expired(&mut self, load: u64, op: u64) {
        if load != self.group.load || self.group.appends.remove(&op).is_none() {
            return;
        }
        let now = self.now_us();
        let outs = match self.group.coordinator.as_mut() {
            Some(c) => c.on_appended(now, op, Err(KafkaError::RequestTimedOut)),
            None => return,
        };
        self.apply_group(outs);
    }

    pub(super) fn on_group_tick(&mut self, load: u64) {
        if load != self.group.load {
            return;
        }
        self.group.tick_at = None;
        let now = self.now_us();
        let outs = match self.group.coordinator.as_mut() {
            Some(c) => c.on_tick(now),
            None => return,
        };
        self.apply_group(outs);
    }

    fn schedule_group_tick(&mut self) {
        let Some(next) = self.group.coordinator.as_ref().and_then(Coordinator::next_deadline) else { return };
        if self.group.tick_at.is_some_and(|t| t <= next) {
            return;
        }
        self.group.tick_at = Some(next);
        let load = self.group.load;
        self.timers.at(next, Timer::GroupTick { load });
    }
}

impl Broker {
    /// A producer id's marker on the offsets partition is written and replicated (KafkaApis'
    /// `maybeSendResponseCallback` -> `GroupCoordinator.onTransactionCompleted`): the group
    /// coordinator hosted here settles that producer id's pending offsets.
    pub(super) fn group_txn_completed(&mut self, producer_id: u64, commit: bool) {
        let outs = match self.group.coordinator.as_mut() {
            Some(c) => c.on_txn_marker(producer_id, commit),
            None => return,
        };
        self.apply_group(outs);
    }
}

impl Broker {
    /// KAFKA-15449 (3.7): the group coordinator verifies a TxnOffsetCommit's offsets partition
    /// with the transaction coordinator before it writes (`handleTxnCommitOffsets` ->
    /// `maybeStartTransactionVerificationForPartition`, verify only); from 4.0 (TV2, TxnOffsetCommit
    /// v5) the same call adds the partition to the transaction, as the client sends no
    /// AddOffsetsToTxn. Returns the request back when it needs no verification: older brokers,
    /// verification off, or the producer id already has a transaction open on the partition.
    fn verify_txn_offsets(&mut self, from: NodeIdx, msg: Msg) -> Option<Msg> {
        let Msg::TxnOffsetCommit { ref transactional_id, producer_id, epoch, producer, txn, .. } = msg else {
            return Some(msg);
        };
        let s = &self.world.scenario;
        let add = s.kafka_version.transaction_version_2();
        let verify =
            s.kafka_version.verifies_txn_offset_commits() && s.broker.txn.transaction_partition_verification_enable;
        if !add && !verify {
            return Some(msg);
        }
        let open = self.with_log(OFFSETS_PARTITION, |_, s| s.log.txns().open_txn(producer_id).is_some());
        if open == Some(true) {
            return Some(msg);
        }
        let Some(&(Some(leader), _)) = self.metadata.get(&TXN_STATE_PARTITION) else {
            self.answer_txn_offsets(from, &msg, Err(KafkaError::CoordinatorNotAvailable));
            return None;
        };
        self.next_corr += 1;
        let ask = self.next_corr;
        let request = Msg::AddPartitionsToTxn {
            corr: ask,
            transactional_id: transactional_id.clone(),
            producer_id,
            epoch,
            partitions: vec![OFFSETS_PARTITION],
            verify_only: !add,
            producer,
            txn,
        };
        self.send(self.world.broker_idx(leader), request);
        self.group.verifying.insert(ask, (from, msg));
        let at = self.now_us().saturating_add(FETCH_REQUEST_TIMEOUT_MS * 1000);
        self.timers.at(at, Timer::VerificationTimeout { corr: ask });
        None
    }

    /// The transaction coordinator's answer to a TxnOffsetCommit's verification (or its loss).
    /// True if `corr` was one.
    pub(super) fn on_txn_offsets_verified(
        &mut self,
        corr: u64,
        result: Result<(), KafkaError>,
        verified: &[(u32, Result<(), KafkaError>)],
    ) -> bool {
        let Some((from, msg)) = self.group.verifying.remove(&corr) else { return false };
        let outcome = result.and(verified.iter().find(|(p, _)| *p == OFFSETS_PARTITION).map_or(Ok(()), |(_, r)| *r));
        match outcome {
            Ok(()) if self.group.coordinator.is_some() => self.group_request(from, msg),
            Ok(()) => self.answer_txn_offsets(from, &msg, Err(KafkaError::NotCoordinator)),
            // `maybeConvertOffsetCommitError`: the coordinator's retriable errors reach the
            // client as ones it retries after finding the coordinator again; a fenced producer
            // as INVALID_PRODUCER_EPOCH.
            Err(e) => {
                let e = match e {
                    KafkaError::ProducerFenced | KafkaError::TxnProducerFenced => KafkaError::InvalidProducerEpoch,
                    KafkaError::ConcurrentTransactions
                    | KafkaError::NetworkException
                    | KafkaError::CoordinatorLoadInProgress
                    | KafkaError::NotCoordinator
                    | KafkaError::RequestTimedOut => KafkaError::CoordinatorNotAvailable,
                    other => other,
                };
                self.answer_txn_offsets(from, &msg, Err(e))
            }
        }
        true
    }

    fn answer_txn_offsets(&mut self, to: NodeIdx, msg: &Msg, result: Result<(), KafkaError>) {
        if let Msg::TxnOffsetCommit { corr, .. } = msg {
            self.send(to, Msg::TxnOffsetCommitResponse { corr: *corr, result });
        }
    }
}
