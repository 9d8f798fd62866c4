//! The JoinGroup path of the group coordinator (`GroupCoordinator.handleJoinGroup`): a new
//! member, a known member rejoining, and KIP-394's pending member ids (2.2: a dynamic member's
//! first JoinGroup only gets the id it must join with). Static members' joins are in `members`.
//! Split from `group` to keep each file one noun; the state is `group::Coordinator`'s.

use super::group::{Coordinator, GroupState, JoinRequest, Member, Out, ReplyTo};
use crate::protocol::{JoinResult, KafkaError, MemberId};

impl Coordinator {
    /// JoinGroup from a dynamic member that owns nothing. A new member (`member` is `None`)
    /// gets id `serial`.
    #[allow(clippy::too_many_arguments)]
    pub fn on_join(
        &mut self,
        now_us: u64,
        reply: ReplyTo,
        consumer: u32,
        member: Option<MemberId>,
        serial: u64,
        session_timeout_ms: u64,
        rebalance_timeout_ms: u64,
    ) -> Vec<Out> {
        let request =
            JoinRequest { consumer, member, serial, session_timeout_ms, rebalance_timeout_ms, ..Default::default() };
        self.on_join_request(now_us, reply, request)
    }

    /// JoinGroup (`GroupCoordinator.handleJoinGroup`).
    pub fn on_join_request(&mut self, now_us: u64, reply: ReplyTo, request: JoinRequest) -> Vec<Out> {
        let mut out = Vec::new();
        let session_timeout_us = request.session_timeout_ms.saturating_mul(1000);
        let rebalance_timeout_us = request.rebalance_timeout_ms.saturating_mul(1000);
        if let Some(e) = self.fenced(request.member, request.instance.as_deref()) {
            out.push(Out::JoinAnswer(reply, None, Err(e)));
            return out;
        }
        match request.member {
            None if request.instance.as_ref().is_some_and(|i| self.instances.contains_key(i)) => {
                self.static_rejoin(now_us, reply, request, &mut out);
            }
            None if self.require_known_member_id && request.instance.is_none() => {
                // `doUnknownJoinGroup` (2.2): hand out the id, hold it as pending for a session.
                let id = MemberId { consumer: request.consumer, serial: request.serial };
                self.pending_members.insert(id, now_us.saturating_add(session_timeout_us));
                out.push(Out::JoinAnswer(reply, Some(id), Err(KafkaError::MemberIdRequired)));
            }
            None => {
                let id = MemberId { consumer: request.consumer, serial: request.serial };
                self.add_member_and_rebalance(now_us, reply, id, request, &mut out);
            }
            Some(id) if self.pending_members.contains_key(&id) => {
                // "A rejoining pending member will be accepted" (`doJoinGroup`).
                self.pending_members.remove(&id);
                self.add_member_and_rebalance(now_us, reply, id, request, &mut out);
            }
            Some(id) => {
                let state = self.state;
                let Some(m) = self.members.get_mut(&id) else {
                    out.push(Out::JoinAnswer(reply, None, Err(KafkaError::UnknownMemberId)));
                    return out;
                };
                m.session_timeout_us = session_timeout_us;
                m.rebalance_timeout_us = rebalance_timeout_us;
                m.last_heartbeat_us = now_us;
                // A subscription that changed (a cooperative member that gave partitions up)
                // does not match the member's metadata: `updateMemberAndRebalance`.
                let changed = m.owned.partitions != request.owned.partitions;
                m.owned = request.owned;
                match state {
                    // Kafka answers a follower that rejoins a stable group with its current
                    // assignment, without a rebalance.
                    GroupState::Stable if !changed => {
                        let result =
                            JoinResult { member: id, generation: self.generation, partitions: m.partitions.clone() };
                        out.push(Out::JoinAnswer(reply, Some(id), Ok(result)));
                    }
                    GroupState::Stable => {
                        m.awaiting_join = Some(reply);
                        self.prepare_rebalance(now_us, format!("c{} rejoined with a new subscription", id.consumer));
                        self.try_complete_join(now_us, &mut out);
                    }
                    GroupState::PreparingRebalance | GroupState::CompletingRebalance | GroupState::Empty => {
                        m.awaiting_join = Some(reply);
                        self.try_complete_join(now_us, &mut out);
                    }
                }
            }
        }
        out
    }

    /// `addMemberAndRebalance`: a new member (`id`) waits in the rebalance it starts or joins.
    fn add_member_and_rebalance(
        &mut self,
        now_us: u64,
        reply: ReplyTo,
        id: MemberId,
        request: JoinRequest,
        out: &mut Vec<Out>,
    ) {
        let m = Member {
            id,
            session_timeout_us: request.session_timeout_ms.saturating_mul(1000),
            rebalance_timeout_us: request.rebalance_timeout_ms.saturating_mul(1000),
            last_heartbeat_us: now_us,
            awaiting_join: Some(reply),
            partitions: Vec::new(),
            instance: request.instance.clone(),
            owned: request.owned,
        };
        self.members.insert(id, m);
        if let Some(instance) = request.instance {
            self.instances.insert(instance, id);
        }
        if let Some(join) = self.join.as_mut().filter(|_| self.state == GroupState::PreparingRebalance) {
            join.new_member_added = true;
        }
        self.prepare_rebalance(now_us, format!("c{} joined", id.consumer));
        self.try_complete_join(now_us, out);
    }
}
