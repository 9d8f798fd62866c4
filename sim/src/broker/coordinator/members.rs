//! The group coordinator's rules about its members beyond the classic join: static membership
//! (KIP-345, 2.3: a `group.instance.id` keeps its place and assignment across restarts within
//! its session, and fences the member id it replaced) and the assignment of a new generation
//! (the range assignor, or the sticky one over what members own, cooperative or not). Split
//! from `group` to keep each file one noun; the state is `group::Coordinator`'s.

use super::assignor::{cooperative_sticky_assign, range_assign, sticky_assign, Owned};
use super::group::{Coordinator, GroupState, JoinRequest, Out, Pending, ReplyTo};
use crate::protocol::{JoinResult, KafkaError, MemberId, OffsetsRecord, StoredMember};
use losslab_model::config::{Assignor, RebalanceProtocol};
use losslab_model::history::EventKind;
use std::collections::BTreeMap;

impl Coordinator {
    /// The new generation's assignment: the range assignor over members in id order, or the
    /// sticky one over what the members own (cooperative: partitions changing owner held back
    /// until their owner gave them up, `CooperativeStickyAssignor.adjustAssignment`).
    pub(super) fn assign(&self) -> Vec<(MemberId, Vec<u32>)> {
        let ids: Vec<MemberId> = self.members.keys().copied().collect();
        match self.assignor {
            Assignor::Range => ids.iter().copied().zip(range_assign(self.topic_partitions, ids.len())).collect(),
            Assignor::CooperativeSticky => {
                let owned: BTreeMap<MemberId, Owned> = self.members.values().map(|m| (m.id, m.owned.clone())).collect();
                let a = match self.protocol {
                    RebalanceProtocol::Cooperative => cooperative_sticky_assign(self.topic_partitions, &owned),
                    RebalanceProtocol::Eager => sticky_assign(self.topic_partitions, &owned),
                };
                a.assignment.into_iter().collect()
            }
        }
    }

    /// `isStaticMemberFenced` / `validateCurrentMember` (KIP-345): a request that names a static
    /// member's instance id with a member id the instance no longer holds is FENCED_INSTANCE_ID;
    /// a known member id under another instance id is fenced too.
    pub(super) fn fenced(&self, member: Option<MemberId>, instance: Option<&str>) -> Option<KafkaError> {
        let instance = instance?;
        match (self.instances.get(instance), member) {
            (Some(holder), Some(m)) if *holder != m => Some(KafkaError::FencedInstanceId),
            (None, Some(m)) if self.members.contains_key(&m) => Some(KafkaError::FencedInstanceId),
            _ => None,
        }
    }

    /// A static member rejoins under a new member id (`doUnknownJoinGroup` 2.3,
    /// `updateStaticMemberAndRebalance` 3.6): it takes its instance's place and assignment; the
    /// old member id is fenced, and its pending join answered FENCED_INSTANCE_ID. A stable group
    /// answers at once with the current generation, no rebalance; a rebalancing one takes the
    /// member into the rebalance.
    pub(super) fn static_rejoin(&mut self, now_us: u64, reply: ReplyTo, request: JoinRequest, out: &mut Vec<Out>) {
        let instance = request.instance.clone().expect("a static member");
        let old = self.instances[&instance];
        let mut m = self.members.remove(&old).expect("an instance id maps to a member");
        if let Some(stale) = m.awaiting_join.take() {
            out.push(Out::JoinAnswer(stale, Some(old), Err(KafkaError::FencedInstanceId)));
        }
        let id = MemberId { consumer: request.consumer, serial: request.serial };
        m.id = id;
        m.session_timeout_us = request.session_timeout_ms.saturating_mul(1000);
        m.rebalance_timeout_us = request.rebalance_timeout_ms.saturating_mul(1000);
        m.last_heartbeat_us = now_us;
        m.owned = request.owned;
        out.push(Out::Record(EventKind::MemberRemoved {
            broker: self.broker,
            consumer: old.consumer,
            generation: self.generation,
            reason: format!("fenced: static member {instance} rejoined as member c{}-{}", id.consumer, id.serial),
        }));
        self.instances.insert(instance, id);
        match self.state {
            GroupState::Stable => {
                let result = JoinResult { member: id, generation: self.generation, partitions: m.partitions.clone() };
                out.push(Out::JoinAnswer(reply, Some(id), Ok(result)));
                self.members.insert(id, m);
                // The replacement is persisted (the next coordinator must know the new id).
                let generation = self.generation;
                let stored = self.stored_members();
                let op = self.op(Pending::Persist);
                out.push(Out::Append { op, records: vec![OffsetsRecord::Group { generation, members: stored }] });
            }
            GroupState::PreparingRebalance | GroupState::CompletingRebalance | GroupState::Empty => {
                m.awaiting_join = Some(reply);
                self.members.insert(id, m);
                self.try_complete_join(now_us, out);
            }
        }
    }

    pub(super) fn stored_members(&self) -> Vec<StoredMember> {
        self.members
            .values()
            .map(|m| StoredMember {
                id: m.id,
                session_timeout_ms: m.session_timeout_us / 1000,
                rebalance_timeout_ms: m.rebalance_timeout_us / 1000,
                partitions: m.partitions.clone(),
                instance: m.instance.clone(),
            })
            .collect()
    }
}
