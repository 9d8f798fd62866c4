//! The broker's side of the consumer group: while this broker leads the group's partition of
//! `__consumer_offsets` it hosts the group coordinator (`coordinator::group`), loaded from its
//! own copy of that log; it stops hosting it the moment it stops leading. The coordinator's
//! writes (offset commits, the group's metadata) are appended here as leader, like a produce
//! request with `acks=all`: they go through the same replica, page cache, flush policy and
//! follower fetches as any record, and the coordinator hears back once the high watermark
//! covers them or `offsets.commit.timeout.ms` passed.

use super::coordinator::assignor::Owned;
use super::coordinator::group::{CommitRequest, JoinRequest};
use super::coordinator::{Coordinator, Out, ReplyTo, OFFSETS_COMMIT_TIMEOUT_MS};
use super::node::{Broker, Timer};
use crate::protocol::{KafkaError, Msg, OffsetsRecord, OFFSETS_PARTITION};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use losslab_model::config::Acks;
use losslab_model::history::{EventKind, NodeName};
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
        let msgs: Vec<MsgId> = {
            let disk = self.world.disks[self.id as usize - 1].lock().unwrap();
            // Transaction markers (`p0#<offset>`) are no records of the group's (Kafka's loader
            // skips control batches, `GroupMetadataManager.doLoadGroupsAndOffsets`).
            disk.logs.get(&OFFSETS_PARTITION).map_or_else(Vec::new, |s| {
                s.log.batches().iter().filter(|b| !b.is_marker()).flat_map(|b| b.msgs.iter().copied()).collect()
            })
        };
        let records: Vec<OffsetsRecord> = msgs.into_iter().filter_map(|m| self.world.offsets_record(m)).collect();
        let now = self.now_us();
        let (mut coordinator, outs) = Coordinator::load(self.id, self.world.scenario.topic.partitions, &records, now);
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
            Msg::OffsetFetch { corr, partitions } => {
                let result = Ok(c.committed_with_epochs(&partitions));
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
                Out::Record(kind) => self.record(kind),
                Out::Append { op, records } => queue.extend(self.append_for_group(op, records)),
            }
        }
        self.schedule_group_tick();
    }

    /// Appends the coordinator's records as leader with `acks=all`. Returns what the coordinator
    /// says if the append fails at once.
    fn append_for_group(&mut self, op: u64, records: Vec<OffsetsRecord>) -> Vec<Out> {
        let msgs: Vec<MsgId> = records.into_iter().map(|r| self.world.new_offsets_record(r)).collect();
        let flush_every = self.world.scenario.broker.log_flush_interval_messages;
        let now = self.now_us();
        let p = OFFSETS_PARTITION;
        let appended = self.with_log(p, |r, s| {
            let result = r.append_as_leader(&mut s.log, &msgs, None, Acks::All);
            if result.is_ok() {
                s.note_append(msgs.len() as u64, now);
            }
            let flushed = if s.unflushed_messages >= flush_every { s.flush() } else { None };
            (result, r.leader_epoch, r.isr().to_vec(), flushed)
        });
        let append = match appended {
            None => Err(KafkaError::NotLeaderOrFollower),
            Some((Err(e), _, isr, _)) => {
                if e == KafkaError::NotEnoughReplicas {
                    self.record(EventKind::NotEnoughReplicas {
                        broker: self.id,
                        partition: p,
                        isr,
                        after_append: false,
                    });
                }
                Err(e)
            }
            Some((Ok(append), leader_epoch, _, flushed)) => {
                self.record(EventKind::Append {
                    broker: self.id,
                    partition: p,
                    base_offset: append.base_offset,
                    leader_epoch,
                    msgs,
                    as_leader: true,
                });
                self.record_flush(p, flushed, "log.flush.interval.messages");
                if let Some(hw) = append.hw_moved {
                    self.record(EventKind::HighWatermark { broker: self.id, partition: p, hw });
                }
                Ok(append.end_offset)
            }
        };
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
