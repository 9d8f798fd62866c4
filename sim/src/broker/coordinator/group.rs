//! The group coordinator: Kafka's classic consumer-group protocol for the run's one group, as a
//! pure state machine (no async, no simulator), in the manner of `replica`. The broker that
//! leads the group's partition of `__consumer_offsets` hosts it; a broker that stops leading
//! that partition drops it, and the next leader loads the group again from its own copy of the
//! log. Nothing else survives a move: members reconnect, and their heartbeats keep them in.
//!
//! The group goes Empty -> PreparingRebalance -> CompletingRebalance -> Stable, as in Kafka's
//! `GroupCoordinator`. A join (or a member removed: no heartbeat within its
//! `session.timeout.ms`, a LeaveGroup, no rejoin within the rebalance timeout, which is its
//! `max.poll.interval.ms`) starts a rebalance; it completes once every member has rejoined or
//! the rebalance timeout passed, after `group.initial.rebalance.delay.ms` for a group that was
//! empty. Completing bumps the generation, assigns partitions with Kafka's range assignor, and
//! writes the group's metadata to the log; once that write is replicated the group is Stable and
//! every member gets its assignment. Kafka's client-side leader election and SyncGroup round
//! trip are folded into the JoinGroup answer: the assignor is deterministic, so only the timing
//! of one round trip differs.
//!
//! Offset commits are validated as Kafka validates them (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
//! REBALANCE_IN_PROGRESS while completing a rebalance; accepted while preparing one), written
//! to the log with `acks=all`, and only become the group's committed offsets (and answered)
//! once replicated: a commit the coordinator loses with its broker is lost, and one that was
//! replicated but never answered may still come back when the next coordinator loads the log.
//! The broker turns [`Out`] into messages, log appends and history events.

use super::assignor::Owned;
use crate::protocol::{JoinResult, KafkaError, MemberId, OffsetsRecord};
use losslab_model::config::{Assignor, RebalanceProtocol};
use losslab_model::history::EventKind;
use std::collections::BTreeMap;

pub use super::assignor::range_assign;
pub use super::txn_offsets::LogEntry;

/// `offsets.commit.timeout.ms`: how long a commit waits for its replication.
pub const OFFSETS_COMMIT_TIMEOUT_MS: u64 = 5_000;
/// `group.initial.rebalance.delay.ms`: an empty group waits this long for more members.
pub const INITIAL_REBALANCE_DELAY_MS: u64 = 3_000;

/// Where an answer goes: the requesting node and its correlation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReplyTo {
    pub node: usize,
    pub corr: u64,
}

/// What the coordinator asks its broker to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// The answer to a JoinGroup, with the member id the coordinator holds for the member (a
    /// member whose join failed after it got an id rejoins with it, as Kafka's does).
    JoinAnswer(ReplyTo, Option<MemberId>, Result<JoinResult, KafkaError>),
    HeartbeatAnswer(ReplyTo, Result<(), KafkaError>),
    CommitAnswer(ReplyTo, Result<(), KafkaError>),
    /// The answer to a TxnOffsetCommit (`txn_commit`).
    TxnCommitAnswer(ReplyTo, Result<(), KafkaError>),
    /// Append `records` as one transactional batch of (`producer_id`, `epoch`) to
    /// `__consumer_offsets` with `acks=all` (`GroupMetadataManager.storeOffsets` for a
    /// TxnOffsetCommit), then call [`Coordinator::on_appended`] with `op`.
    TxnAppend {
        op: u64,
        records: Vec<OffsetsRecord>,
        producer_id: u64,
        epoch: u32,
    },
    /// Append `records` to `__consumer_offsets` as leader with `acks=all`, then call
    /// [`Coordinator::on_appended`] with `op` once the high watermark covers them (or it failed).
    Append {
        op: u64,
        records: Vec<OffsetsRecord>,
    },
    /// An event for the history.
    Record(EventKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    /// The new generation's metadata is being written.
    CompletingRebalance,
    Stable,
}

#[derive(Clone, Debug)]
pub(super) struct Member {
    pub(super) id: MemberId,
    pub(super) session_timeout_us: u64,
    pub(super) rebalance_timeout_us: u64,
    pub(super) last_heartbeat_us: u64,
    /// A JoinGroup waiting for the rebalance to complete.
    pub(super) awaiting_join: Option<ReplyTo>,
    pub(super) partitions: Vec<u32>,
    /// `group.instance.id`: a static member (KIP-345).
    pub(super) instance: Option<String>,
    /// What its last JoinGroup said it owns (cooperative members).
    pub(super) owned: Owned,
}

#[derive(Clone, Debug)]
pub(super) enum Pending {
    Commit {
        reply: ReplyTo,
        consumer: u32,
        offsets: Vec<(u32, u64)>,
        epochs: BTreeMap<u32, u32>,
        /// Where the commit sits among the coordinator's writes (`txn_commit`).
        order: u64,
    },
    /// A TxnOffsetCommit's transactional batch (`txn_commit`).
    TxnCommit {
        reply: ReplyTo,
        producer_id: u64,
        partitions: Vec<u32>,
    },
    Group {
        generation: u32,
    },
    /// The group's metadata written after a static member replaced its old member id.
    Persist,
}

/// A JoinGroup as the coordinator reads it.
#[derive(Clone, Debug, Default)]
pub struct JoinRequest {
    pub consumer: u32,
    /// `None` for a member without an id yet.
    pub member: Option<MemberId>,
    /// The id a new member gets (unique over the run).
    pub serial: u64,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    pub instance: Option<String>,
    pub owned: Owned,
}

/// An OffsetCommit as the coordinator reads it.
#[derive(Clone, Debug, Default)]
pub struct CommitRequest {
    pub consumer: u32,
    pub member: Option<MemberId>,
    pub generation: Option<u32>,
    pub offsets: Vec<(u32, u64)>,
    pub epochs: BTreeMap<u32, u32>,
    pub instance: Option<String>,
}

/// The join phase of a rebalance.
#[derive(Clone, Copy, Debug)]
pub(super) struct JoinPhase {
    deadline_us: u64,
    /// Kafka's InitialDelayedJoin (the group was empty): it completes only at the deadline,
    /// pushed back while members keep arriving, never past `budget_end_us`.
    initial: bool,
    budget_end_us: u64,
    pub(super) new_member_added: bool,
}

#[derive(Clone, Debug)]
pub struct Coordinator {
    pub(super) broker: u32,
    pub(super) topic_partitions: u32,
    pub(super) state: GroupState,
    pub(super) generation: u32,
    pub(super) members: BTreeMap<MemberId, Member>,
    pub(super) committed: BTreeMap<u32, u64>,
    /// The leader epoch committed with each offset (KIP-320), where there was one.
    pub(super) committed_epochs: BTreeMap<u32, u32>,
    /// Transactional offsets pending until their producer id's marker (`txn_commit`).
    pub(super) txn_offsets: super::txn_offsets::TxnOffsets,
    /// Where each committed offset's record sits among the offsets partition's writes (the
    /// record's index when loaded, then counted on by `log_order`): a pending transactional
    /// offset replaces it only if it is newer (`CommitRecordMetadataAndOffset.olderThan`).
    pub(super) committed_at: BTreeMap<u32, u64>,
    pub(super) log_order: u64,
    /// The consumer whose TxnOffsetCommit a producer id last wrote (for the history's `Committed`).
    pub(super) txn_writers: BTreeMap<u64, u32>,
    /// Static members: `group.instance.id` -> the member id it holds now.
    pub(super) instances: BTreeMap<String, MemberId>,
    pub(super) assignor: Assignor,
    pub(super) protocol: RebalanceProtocol,
    pub(super) join: Option<JoinPhase>,
    /// What started the rebalance in progress.
    cause: String,
    pub(super) pending: BTreeMap<u64, Pending>,
    next_op: u64,
    /// KIP-394 (2.2): a new dynamic member first gets an id and must join again with it.
    pub(super) require_known_member_id: bool,
    /// Ids handed out with MEMBER_ID_REQUIRED, and when each expires (its session timeout)
    /// unless the member joins with it (`GroupMetadata.pendingMembers`).
    pub(super) pending_members: BTreeMap<MemberId, u64>,
}

impl Coordinator {
    /// A broker that became leader of the group's offsets partition loads the group from its
    /// log (`records` in log order, up to its log end, as Kafka's loader reads).
    pub fn load(broker: u32, topic_partitions: u32, records: &[OffsetsRecord], now_us: u64) -> (Coordinator, Vec<Out>) {
        let entries: Vec<LogEntry> = records.iter().cloned().map(LogEntry::Record).collect();
        Coordinator::load_log(broker, topic_partitions, &entries, now_us)
    }

    /// `load` from a log that may hold transactional offsets and markers (`txn_commit`).
    pub fn load_log(broker: u32, topic_partitions: u32, records: &[LogEntry], now_us: u64) -> (Coordinator, Vec<Out>) {
        let mut c = Coordinator {
            broker,
            topic_partitions,
            state: GroupState::Empty,
            generation: 0,
            members: BTreeMap::new(),
            committed: BTreeMap::new(),
            committed_epochs: BTreeMap::new(),
            txn_offsets: Default::default(),
            committed_at: BTreeMap::new(),
            log_order: records.len() as u64,
            txn_writers: BTreeMap::new(),
            instances: BTreeMap::new(),
            assignor: Assignor::Range,
            protocol: RebalanceProtocol::Eager,
            join: None,
            cause: String::new(),
            pending: BTreeMap::new(),
            next_op: 0,
            require_known_member_id: false,
            pending_members: BTreeMap::new(),
        };
        for (i, entry) in records.iter().enumerate() {
            let LogEntry::Record(record) = entry else {
                c.load_txn_entry(i as u64, entry);
                continue;
            };
            match record {
                OffsetsRecord::Commit { partition, offset, leader_epoch, .. } => {
                    c.committed_at.insert(*partition, i as u64);
                    c.committed.insert(*partition, *offset);
                    match leader_epoch {
                        Some(e) => c.committed_epochs.insert(*partition, *e),
                        None => c.committed_epochs.remove(partition),
                    };
                }
                OffsetsRecord::Group { generation, members } => {
                    c.generation = *generation;
                    c.members = members
                        .iter()
                        .map(|m| {
                            let member = Member {
                                id: m.id,
                                session_timeout_us: m.session_timeout_ms.saturating_mul(1000),
                                rebalance_timeout_us: m.rebalance_timeout_ms.saturating_mul(1000),
                                // Kafka schedules every loaded member's session from the load.
                                last_heartbeat_us: now_us,
                                awaiting_join: None,
                                partitions: m.partitions.clone(),
                                instance: m.instance.clone(),
                                owned: Owned::default(),
                            };
                            (m.id, member)
                        })
                        .collect();
                    c.instances = members.iter().filter_map(|m| m.instance.clone().map(|i| (i, m.id))).collect();
                }
            }
        }
        c.state = if c.members.is_empty() { GroupState::Empty } else { GroupState::Stable };
        let event = EventKind::GroupLoaded {
            broker,
            generation: c.generation,
            committed: c.committed.iter().map(|(&p, &o)| (p, o)).collect(),
        };
        (c, vec![Out::Record(event)])
    }

    /// KIP-394 (2.2): new dynamic members must join twice, the second time with the id the
    /// first answer gave them.
    pub fn require_known_member_id(&mut self, on: bool) {
        self.require_known_member_id = on;
    }

    /// The ids handed out with MEMBER_ID_REQUIRED that no member has joined with yet.
    pub fn pending_members(&self) -> Vec<MemberId> {
        self.pending_members.keys().copied().collect()
    }

    /// The assignor the members' configuration selects, and the protocol they all support.
    pub fn set_assignment(&mut self, assignor: Assignor, protocol: RebalanceProtocol) {
        self.assignor = assignor;
        self.protocol = protocol;
    }

    /// OffsetFetch with the leader epoch committed with each offset.
    pub fn committed_with_epochs(&self, partitions: &[u32]) -> Vec<(u32, Option<u64>, Option<u32>)> {
        partitions
            .iter()
            .map(|&p| (p, self.committed.get(&p).copied(), self.committed_epochs.get(&p).copied()))
            .collect()
    }

    /// The member id a static member's instance id holds now.
    pub fn instance_member(&self, instance: &str) -> Option<MemberId> {
        self.instances.get(instance).copied()
    }

    pub fn state(&self) -> GroupState {
        self.state
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The members and their partitions, in member order.
    pub fn assignment(&self) -> Vec<(MemberId, Vec<u32>)> {
        self.members.values().map(|m| (m.id, m.partitions.clone())).collect()
    }

    /// OffsetFetch: the committed offset of each partition (Kafka answers whatever the group's
    /// state; commits still being replicated are not visible yet).
    pub fn committed(&self, partitions: &[u32]) -> Vec<(u32, Option<u64>)> {
        partitions.iter().map(|&p| (p, self.committed.get(&p).copied())).collect()
    }

    /// When [`Coordinator::on_tick`] next has something to do: the end of the join phase, or
    /// the first session to expire.
    pub fn next_deadline(&self) -> Option<u64> {
        let sessions = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none())
            .map(|m| m.last_heartbeat_us.saturating_add(m.session_timeout_us));
        let join = self.join.filter(|_| self.state == GroupState::PreparingRebalance).map(|j| j.deadline_us);
        let pending = self.pending_members.values().copied();
        sessions.chain(join).chain(pending).min()
    }

    /// Heartbeat, answered as Kafka's `handleHeartbeat` does.
    pub fn on_heartbeat(&mut self, now_us: u64, reply: ReplyTo, member: MemberId, generation: u32) -> Vec<Out> {
        self.on_heartbeat_from(now_us, reply, member, None, generation)
    }

    /// Heartbeat from a member that may be static (`instance`).
    pub fn on_heartbeat_from(
        &mut self,
        now_us: u64,
        reply: ReplyTo,
        member: MemberId,
        instance: Option<&str>,
        generation: u32,
    ) -> Vec<Out> {
        if let Some(e) = self.fenced(Some(member), instance) {
            return vec![Out::HeartbeatAnswer(reply, Err(e))];
        }
        let result = match self.members.get_mut(&member) {
            None => Err(KafkaError::UnknownMemberId),
            Some(_) if generation != self.generation => Err(KafkaError::IllegalGeneration),
            Some(m) => match self.state {
                GroupState::Empty => Err(KafkaError::UnknownMemberId),
                GroupState::CompletingRebalance => Err(KafkaError::RebalanceInProgress),
                GroupState::PreparingRebalance => {
                    m.last_heartbeat_us = now_us;
                    Err(KafkaError::RebalanceInProgress)
                }
                GroupState::Stable => {
                    m.last_heartbeat_us = now_us;
                    Ok(())
                }
            },
        };
        vec![Out::HeartbeatAnswer(reply, result)]
    }

    /// LeaveGroup: the member goes at once (a member the group does not know is ignored).
    pub fn on_leave(&mut self, now_us: u64, member: MemberId, reason: &str) -> Vec<Out> {
        let mut out = Vec::new();
        if self.members.contains_key(&member) {
            self.remove_member(now_us, member, reason, &mut out);
        } else if self.pending_members.remove(&member).is_some() {
            // `removePendingMemberAndUpdateGroup`: the rebalance no longer waits for it.
            self.try_complete_join(now_us, &mut out);
        }
        out
    }

    /// OffsetCommit, validated as Kafka's `doCommitOffsets` does; accepted commits are written
    /// to the log and answered once replicated.
    pub fn on_commit(
        &mut self,
        now_us: u64,
        reply: ReplyTo,
        consumer: u32,
        member: Option<MemberId>,
        generation: Option<u32>,
        offsets: Vec<(u32, u64)>,
    ) -> Vec<Out> {
        let request = CommitRequest { consumer, member, generation, offsets, ..Default::default() };
        self.on_commit_request(now_us, reply, request)
    }

    /// OffsetCommit with its leader epochs and instance id (`doCommitOffsets`; a static
    /// member's old member id is fenced first).
    pub fn on_commit_request(&mut self, now_us: u64, reply: ReplyTo, request: CommitRequest) -> Vec<Out> {
        let CommitRequest { consumer, member, generation, offsets, epochs, instance } = request;
        let mut out = Vec::new();
        if let Some(e) = self.fenced(member, instance.as_deref()) {
            out.push(Out::CommitAnswer(reply, Err(e)));
            return out;
        }
        let verdict = match (member, generation) {
            // Outside the group protocol: only an empty group takes it.
            (_, None) if self.state == GroupState::Empty => Ok(()),
            (None, _) | (_, None) => Err(KafkaError::UnknownMemberId),
            (Some(id), Some(g)) => match self.members.get_mut(&id) {
                None => Err(KafkaError::UnknownMemberId),
                Some(_) if g != self.generation => Err(KafkaError::IllegalGeneration),
                Some(m) => match self.state {
                    // Kafka accepts commits while preparing a rebalance: members commit in
                    // onJoinPrepare before they rejoin.
                    GroupState::Stable | GroupState::PreparingRebalance => {
                        m.last_heartbeat_us = now_us;
                        Ok(())
                    }
                    GroupState::CompletingRebalance | GroupState::Empty => Err(KafkaError::RebalanceInProgress),
                },
            },
        };
        match verdict {
            Err(e) => out.push(Out::CommitAnswer(reply, Err(e))),
            Ok(()) if offsets.is_empty() => out.push(Out::CommitAnswer(reply, Ok(()))),
            Ok(()) => {
                let records = offsets
                    .iter()
                    .map(|&(partition, offset)| OffsetsRecord::Commit {
                        consumer,
                        partition,
                        offset,
                        leader_epoch: epochs.get(&partition).copied(),
                    })
                    .collect();
                self.log_order += 1;
                let order = self.log_order;
                let op = self.op(Pending::Commit { reply, consumer, offsets, epochs, order });
                out.push(Out::Append { op, records });
            }
        }
        out
    }

    /// An append the coordinator asked for is replicated (`Ok`) or failed. Storage errors are
    /// mapped as Kafka's `GroupMetadataManager` maps them.
    pub fn on_appended(&mut self, now_us: u64, op: u64, result: Result<(), KafkaError>) -> Vec<Out> {
        let mut out = Vec::new();
        let result = result.map_err(storage_error);
        match self.pending.remove(&op) {
            None => {}
            Some(Pending::Persist) => {}
            Some(Pending::TxnCommit { reply, producer_id, partitions }) => {
                if result.is_err() {
                    self.txn_offsets.fail(producer_id, &partitions);
                }
                out.push(Out::TxnCommitAnswer(reply, result));
            }
            Some(Pending::Commit { reply, consumer, offsets, epochs, order }) => {
                if result.is_ok() {
                    for &(partition, offset) in &offsets {
                        self.committed_at.insert(partition, order);
                        self.committed.insert(partition, offset);
                        match epochs.get(&partition) {
                            Some(&e) => self.committed_epochs.insert(partition, e),
                            None => self.committed_epochs.remove(&partition),
                        };
                        out.push(Out::Record(EventKind::Committed { consumer, partition, offset }));
                    }
                }
                out.push(Out::CommitAnswer(reply, result));
            }
            Some(Pending::Group { generation }) => {
                if self.state != GroupState::CompletingRebalance || generation != self.generation {
                    // A newer rebalance overtook this one (Kafka ignores the stale callback).
                    return out;
                }
                match result {
                    Ok(()) => {
                        self.state = GroupState::Stable;
                        let assignment: Vec<(u32, Vec<u32>)> =
                            self.members.values().map(|m| (m.id.consumer, m.partitions.clone())).collect();
                        out.push(Out::Record(EventKind::GroupRebalanced {
                            broker: self.broker,
                            generation,
                            assignment,
                            cause: std::mem::take(&mut self.cause),
                        }));
                        for m in self.members.values_mut() {
                            m.last_heartbeat_us = now_us;
                            if let Some(reply) = m.awaiting_join.take() {
                                let result = JoinResult { member: m.id, generation, partitions: m.partitions.clone() };
                                out.push(Out::JoinAnswer(reply, Some(m.id), Ok(result)));
                            }
                        }
                    }
                    Err(e) => {
                        // Kafka's resetAndPropagateAssignmentError, then a new rebalance.
                        for m in self.members.values_mut() {
                            m.last_heartbeat_us = now_us;
                            if let Some(reply) = m.awaiting_join.take() {
                                out.push(Out::JoinAnswer(reply, Some(m.id), Err(e)));
                            }
                        }
                        self.state = GroupState::Stable;
                        self.prepare_rebalance(
                            now_us,
                            format!("writing generation {generation} failed ({})", e.name()),
                        );
                    }
                }
            }
        }
        out
    }

    /// Expires sessions and ends a join phase whose time is up.
    pub fn on_tick(&mut self, now_us: u64) -> Vec<Out> {
        let mut out = Vec::new();
        let expired: Vec<MemberId> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && now_us >= m.last_heartbeat_us.saturating_add(m.session_timeout_us))
            .map(|m| m.id)
            .collect();
        for id in expired {
            let ms = self.members[&id].session_timeout_us / 1000;
            let reason = format!("sent no heartbeat within session.timeout.ms ({ms} ms)");
            self.remove_member(now_us, id, &reason, &mut out);
        }
        // A pending id nobody joined with expires silently (`DelayedHeartbeat` with `isPending`).
        self.pending_members.retain(|_, &mut expires_us| now_us < expires_us);
        self.try_complete_join(now_us, &mut out);
        out
    }

    /// The broker stops leading the offsets partition: every waiting request is answered
    /// NOT_COORDINATOR, and the members will find the next coordinator.
    pub fn unload(self) -> Vec<Out> {
        let mut out = Vec::new();
        for m in self.members.values() {
            if let Some(reply) = m.awaiting_join {
                out.push(Out::JoinAnswer(reply, Some(m.id), Err(KafkaError::NotCoordinator)));
            }
        }
        for pending in self.pending.values() {
            match pending {
                Pending::Commit { reply, .. } => out.push(Out::CommitAnswer(*reply, Err(KafkaError::NotCoordinator))),
                Pending::TxnCommit { reply, .. } => {
                    out.push(Out::TxnCommitAnswer(*reply, Err(KafkaError::NotCoordinator)))
                }
                _ => {}
            }
        }
        out
    }

    // ---- internals ----

    pub(super) fn op(&mut self, pending: Pending) -> u64 {
        self.next_op += 1;
        self.pending.insert(self.next_op, pending);
        self.next_op
    }

    fn remove_member(&mut self, now_us: u64, id: MemberId, reason: &str, out: &mut Vec<Out>) {
        let Some(m) = self.members.remove(&id) else { return };
        if let Some(instance) = &m.instance {
            if self.instances.get(instance) == Some(&id) {
                self.instances.remove(instance);
            }
        }
        if let Some(reply) = m.awaiting_join {
            out.push(Out::JoinAnswer(reply, None, Err(KafkaError::UnknownMemberId)));
        }
        out.push(Out::Record(EventKind::MemberRemoved {
            broker: self.broker,
            consumer: id.consumer,
            generation: self.generation,
            reason: reason.to_string(),
        }));
        match self.state {
            GroupState::Empty => {}
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(now_us, format!("c{} {reason}", id.consumer));
                // Kafka's join purgatory completes at once when everyone left has rejoined
                // (or no one is left).
                self.try_complete_join(now_us, out);
            }
            GroupState::PreparingRebalance => self.try_complete_join(now_us, out),
        }
    }

    /// Kafka's `prepareRebalance`: from Empty with the initial delay, else waiting up to the
    /// longest rebalance timeout of the members for all of them to rejoin.
    pub(super) fn prepare_rebalance(&mut self, now_us: u64, cause: String) {
        if self.state == GroupState::PreparingRebalance {
            return;
        }
        let rebalance_timeout_us = self.members.values().map(|m| m.rebalance_timeout_us).max().unwrap_or(0);
        let phase = if self.state == GroupState::Empty {
            let delay_us = INITIAL_REBALANCE_DELAY_MS * 1000;
            JoinPhase {
                deadline_us: now_us.saturating_add(delay_us.min(rebalance_timeout_us.max(1))),
                initial: true,
                budget_end_us: now_us.saturating_add(rebalance_timeout_us.max(delay_us)),
                new_member_added: false,
            }
        } else {
            JoinPhase {
                deadline_us: now_us.saturating_add(rebalance_timeout_us),
                initial: false,
                budget_end_us: 0,
                new_member_added: false,
            }
        };
        self.join = Some(phase);
        self.cause = cause;
        self.state = GroupState::PreparingRebalance;
    }

    pub(super) fn try_complete_join(&mut self, now_us: u64, out: &mut Vec<Out>) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let Some(mut join) = self.join else { return };
        let due = now_us >= join.deadline_us;
        if join.initial {
            if !due {
                return;
            }
            if join.new_member_added && now_us < join.budget_end_us {
                // InitialDelayedJoin: another member came; wait another delay (within budget).
                let delay_us = INITIAL_REBALANCE_DELAY_MS * 1000;
                join.deadline_us = now_us.saturating_add(delay_us).min(join.budget_end_us);
                join.new_member_added = false;
                self.join = Some(join);
                return;
            }
        } else if !due && !self.has_all_members_joined() {
            return;
        }
        self.complete_join(now_us, out);
    }

    /// `hasAllMembersJoined` (2.2): every member rejoined and no handed-out id is pending.
    fn has_all_members_joined(&self) -> bool {
        self.members.values().all(|m| m.awaiting_join.is_some()) && self.pending_members.is_empty()
    }

    /// Kafka's `onCompleteJoin`: members that did not rejoin go, the generation moves on, and
    /// the new generation's metadata is written.
    fn complete_join(&mut self, now_us: u64, out: &mut Vec<Out>) {
        let gone: Vec<MemberId> = self.members.values().filter(|m| m.awaiting_join.is_none()).map(|m| m.id).collect();
        for id in gone {
            let ms = self.members[&id].rebalance_timeout_us / 1000;
            if let Some(m) = self.members.remove(&id) {
                if let Some(instance) = m.instance {
                    self.instances.remove(&instance);
                }
            }
            out.push(Out::Record(EventKind::MemberRemoved {
                broker: self.broker,
                consumer: id.consumer,
                generation: self.generation,
                reason: format!(
                    "did not rejoin the rebalance within its rebalance timeout (max.poll.interval.ms, {ms} ms)"
                ),
            }));
        }
        self.join = None;
        self.generation += 1;
        let generation = self.generation;
        for (id, partitions) in self.assign() {
            let m = self.members.get_mut(&id).expect("assigned to a member");
            m.partitions = partitions;
            m.last_heartbeat_us = now_us;
        }
        let stored = self.stored_members();
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            out.push(Out::Record(EventKind::GroupRebalanced {
                broker: self.broker,
                generation,
                assignment: Vec::new(),
                cause: std::mem::take(&mut self.cause),
            }));
            // Kafka writes the empty group and only warns if that fails.
            let op = self.op(Pending::Group { generation });
            out.push(Out::Append { op, records: vec![OffsetsRecord::Group { generation, members: stored }] });
        } else {
            self.state = GroupState::CompletingRebalance;
            let op = self.op(Pending::Group { generation });
            out.push(Out::Append { op, records: vec![OffsetsRecord::Group { generation, members: stored }] });
        }
    }
}

/// How Kafka's `GroupMetadataManager` reports a failed write of the offsets log.
fn storage_error(e: KafkaError) -> KafkaError {
    match e {
        KafkaError::NotEnoughReplicas | KafkaError::NotEnoughReplicasAfterAppend => KafkaError::CoordinatorNotAvailable,
        KafkaError::NotLeaderOrFollower | KafkaError::FencedLeaderEpoch => KafkaError::NotCoordinator,
        other => other,
    }
}
