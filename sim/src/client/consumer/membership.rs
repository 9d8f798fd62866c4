//! The consumer client's group membership (Kafka's `AbstractCoordinator` and
//! `ConsumerCoordinator`, classic protocol with eager rebalancing): it finds the coordinator
//! (the leader of `__consumer_offsets`, learned from metadata), joins and rejoins, heartbeats
//! from its heartbeat thread every `heartbeat.interval.ms`, reacts to the coordinator's errors,
//! and leaves the group when the app has not called `poll()` for `max.poll.interval.ms`.
//! Before it rejoins, a stable member auto-commits and waits for that commit (`onJoinPrepare`,
//! see `join_prepare`). An eager member gives up every partition before it rejoins; a
//! cooperative one (KIP-429, 2.4) keeps them, keeps fetching them from 2.5, and on the new
//! assignment gives up only those that moved, then rejoins at once so that they can be handed
//! over. A static member (`group.instance.id`, KIP-345) never sends LeaveGroup.

use super::join_prepare::{JoinPrepare, JoinPrepareStep};
use super::node::{
    CommitKind, Consumer, JoinPrepareRun, Membership, Request, Timer, JOIN_GROUP_TIMEOUT_LAPSE_MS, REQUEST_TIMEOUT_MS,
    RETRY_BACKOFF_MS,
};
use crate::client::metadata::METADATA_TIMEOUT_MS;
use crate::protocol::{JoinResult, KafkaError, Msg, OFFSETS_PARTITION};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use losslab_model::config::RebalanceProtocol;
use losslab_model::history::EventKind;
use std::collections::BTreeSet;

impl Consumer {
    pub(super) fn request_metadata(&mut self) {
        let corr = self.corr();
        if self.metadata.request(&self.world, self.me, corr) {
            let at = self.after_us(METADATA_TIMEOUT_MS);
            self.timers.at(at, Timer::MetadataTimeout { corr });
        }
    }

    pub(super) fn on_metadata(&mut self, corr: u64, partitions: Vec<(u32, Option<u32>, u32)>) {
        let missing = self.metadata.on_response(&self.world, corr, partitions);
        if self.coordinator.is_none() {
            // FindCoordinator: the leader of the group's partition of __consumer_offsets.
            self.coordinator = self.metadata.leader(OFFSETS_PARTITION);
        }
        if missing || self.coordinator.is_none() {
            let at = self.after_us(RETRY_BACKOFF_MS);
            self.timers.at(at, Timer::MetadataTimeout { corr: 0 });
        }
        self.maybe_validate_positions();
        self.wake_app();
    }

    /// Kafka's `markCoordinatorUnknown`: the connection to it goes, and every request in flight
    /// on it fails; the next lookup finds the new one.
    pub(super) fn coordinator_lost(&mut self) {
        if self.coordinator.take().is_none() {
            return;
        }
        let lost: Vec<u64> = self.requests.iter().filter(|(_, r)| r.to_coordinator()).map(|(&c, _)| c).collect();
        for corr in lost {
            self.fail_request(corr, KafkaError::NetworkException);
        }
        self.request_metadata();
    }

    pub(super) fn coordinator_idx(&self) -> Option<NodeIdx> {
        self.coordinator.map(|b| self.world.broker_idx(b))
    }

    /// Kafka's `onJoinPrepare` then JoinGroup: a stable member first auto-commits what was
    /// consumed and waits for that commit (C8); then an eager member gives up every partition,
    /// and the member asks to join.
    pub(super) fn start_join(&mut self) {
        if self.join_prepare.is_some() {
            return;
        }
        if self.membership == Membership::Stable && self.cfg().enable_auto_commit && self.coordinator.is_some() {
            let timer = JoinPrepare::new(self.now_us(), self.cfg().max_poll_interval_ms);
            self.join_prepare = Some(JoinPrepareRun { timer, attempt: 0, in_flight: true });
            self.timers.at(timer.deadline_us(), Timer::JoinPrepare { attempt: u64::MAX });
            let offsets = self.positions();
            self.send_commit(CommitKind::JoinPrepare, offsets);
            return;
        }
        self.send_join();
    }

    /// The join-prepare commit's outcome (`JoinPrepare::on_result`).
    pub(super) fn on_join_prepare_result(&mut self, result: Result<(), KafkaError>) {
        let Some(run) = self.join_prepare.as_mut() else { return };
        run.in_flight = false;
        let now = self.world.now_us();
        match run.timer.on_result(now, result) {
            JoinPrepareStep::Retry { .. } => {
                run.attempt += 1;
                let attempt = run.attempt;
                let at = self.after_us(RETRY_BACKOFF_MS);
                self.timers.at(at, Timer::JoinPrepare { attempt });
            }
            JoinPrepareStep::Rejoin | JoinPrepareStep::Wait => {
                self.join_prepare = None;
                self.send_join();
            }
        }
    }

    /// A join-prepare retry is due (`attempt`), or its timer expired (`u64::MAX`).
    pub(super) fn on_join_prepare_timer(&mut self, attempt: u64) {
        let now = self.now_us();
        let Some(run) = self.join_prepare.as_mut() else { return };
        if attempt == u64::MAX {
            if run.timer.on_pending(now) == JoinPrepareStep::Rejoin {
                // "joinPrepare timeout. Will continue to join group" (the commit may still land).
                self.join_prepare = None;
                self.send_join();
            }
            return;
        }
        if run.attempt != attempt || run.in_flight {
            return;
        }
        run.in_flight = true;
        let offsets = self.positions();
        self.send_commit(CommitKind::JoinPrepare, offsets);
    }

    /// Whether this member keeps its partitions while it rejoins (cooperative), and fetches
    /// them meanwhile (2.5+, KAFKA-8421).
    pub(super) fn keeps_partitions_while_joining(&self) -> bool {
        self.cfg().rebalance_protocol() == RebalanceProtocol::Cooperative
            && self.world.scenario.kafka_version.polls_during_rebalance()
    }

    /// Whether `poll()` returns nothing while the join-prepare commit runs: 0.10.1-3.1 commit
    /// synchronously inside `poll()`; from 3.3 an eager member's partitions are pending
    /// revocation (KAFKA-14196); 3.2 kept returning records.
    pub(super) fn fetch_paused_for_join_prepare(&self) -> bool {
        let version = self.world.scenario.kafka_version;
        let eager = self.cfg().rebalance_protocol() == RebalanceProtocol::Eager;
        self.join_prepare.is_some()
            && (!version.join_prepare_commits_async() || (eager && version.pauses_partitions_during_join_prepare()))
    }

    /// JoinGroup: an eager member gives up every partition first; a cooperative one sends what
    /// it owns.
    pub(super) fn send_join(&mut self) {
        let Some(to) = self.coordinator_idx() else {
            self.request_metadata();
            return;
        };
        let cooperative = self.cfg().rebalance_protocol() == RebalanceProtocol::Cooperative;
        // A cooperative member that lost its generation has lost its partitions too
        // (`onJoinPrepare`: `invokePartitionsLost`).
        if !cooperative || self.generation.is_none() {
            self.revoke_all();
        }
        let (owned, owned_generation) =
            if cooperative { (self.assigned.keys().copied().collect(), self.generation) } else { (Vec::new(), None) };
        self.membership = Membership::Joining;
        self.rejoin_needed = false;
        let corr = self.corr();
        let cfg = self.cfg();
        let (session_timeout_ms, rebalance_timeout_ms) = (cfg.session_timeout_ms, cfg.max_poll_interval_ms);
        let msg = Msg::JoinGroup {
            corr,
            consumer: self.id,
            member: self.member,
            session_timeout_ms,
            rebalance_timeout_ms,
            instance: self.instance.clone(),
            owned,
            owned_generation,
        };
        // Kafka's client waits max.poll.interval.ms + 5 s for this answer (`joinGroupTimeoutMs`,
        // 2.0; before, request.timeout.ms was 305 s). From 2.2 (KIP-394) the member always has
        // its id when it waits, so the simulation waits request.timeout.ms and asks again with
        // that id (it keeps its place in the rebalance): a coordinator dying silently
        // mid-rebalance does not hold the group for minutes. Before 2.2 a second JoinGroup
        // without an id would be a second member, so the client waits as Kafka's does.
        let timeout_ms = if self.member.is_some() || self.world.scenario.kafka_version.requires_known_member_id() {
            REQUEST_TIMEOUT_MS
        } else {
            rebalance_timeout_ms.saturating_add(JOIN_GROUP_TIMEOUT_LAPSE_MS)
        };
        self.request(to, corr, Request::Join, msg, timeout_ms);
        self.publish_progress();
    }

    pub(super) fn revoke_all(&mut self) {
        let fetches: Vec<u64> =
            self.assigned.values().flat_map(|a| a.fetch_in_flight.into_iter().chain(a.validation_in_flight)).collect();
        for corr in fetches {
            self.requests.remove(&corr);
        }
        self.assigned.clear();
        self.ready.clear();
    }

    pub(super) fn on_join_response(&mut self, result: Result<JoinResult, KafkaError>) {
        if self.membership != Membership::Joining {
            return;
        }
        match result {
            Ok(JoinResult { member, generation, partitions }) => {
                self.member = Some(member);
                self.generation = Some(generation);
                self.membership = Membership::Stable;
                self.record(EventKind::Assigned { consumer: self.id, generation, partitions: partitions.clone() });
                // `onJoinComplete`: partitions owned and no longer assigned are revoked (all of
                // them were already, for an eager member); a cooperative member that gave some
                // up rejoins at once ("need to revoke partitions and re-join").
                let new: BTreeSet<u32> = partitions.iter().copied().collect();
                let revoked: Vec<u32> = self.assigned.keys().copied().filter(|p| !new.contains(p)).collect();
                for p in &revoked {
                    if let Some(a) = self.assigned.remove(p) {
                        for corr in a.fetch_in_flight.into_iter().chain(a.validation_in_flight) {
                            self.requests.remove(&corr);
                        }
                    }
                    self.ready.retain(|r| r != p);
                }
                for p in new {
                    self.assigned.entry(p).or_default();
                }
                if !revoked.is_empty() && self.cfg().rebalance_protocol() == RebalanceProtocol::Cooperative {
                    self.rejoin_needed = true;
                }
                self.heartbeat_in_flight = false;
                self.fetch_committed();
                self.publish_progress();
                self.wake_app();
            }
            Err(KafkaError::MemberIdRequired) => {
                // KIP-394: the answer carried the id (taken by `on_response`); join again at
                // once with it (`ensureActiveGroup` retries MemberIdRequiredException without
                // a backoff).
                self.membership = Membership::Unjoined;
                self.send_join();
            }
            Err(e) => {
                self.membership = Membership::Unjoined;
                self.on_group_error(e);
                let at = self.after_us(RETRY_BACKOFF_MS);
                self.wake_app_at(at);
            }
        }
    }

    /// What an error from the coordinator means for membership (Kafka's
    /// `AbstractCoordinator` handlers).
    pub(super) fn on_group_error(&mut self, e: KafkaError) {
        match e {
            KafkaError::UnknownMemberId => {
                self.member = None;
                self.generation = None;
                self.leave_stable();
            }
            KafkaError::IllegalGeneration => {
                self.generation = None;
                self.leave_stable();
            }
            KafkaError::RebalanceInProgress => self.rejoin_needed = true,
            // KIP-345: a newer incarnation took this static member's place; the client raises
            // FencedInstanceIdException, fatal for the consumer.
            KafkaError::FencedInstanceId => {
                self.app_died("FencedInstanceIdException: a newer member with this group.instance.id joined".into())
            }
            KafkaError::NotCoordinator
            | KafkaError::CoordinatorNotAvailable
            | KafkaError::NetworkException
            | KafkaError::ClientRequestTimeout
            | KafkaError::RequestTimedOut => self.coordinator_lost(),
            _ => {}
        }
    }

    /// The member's generation is gone: its partitions are lost (no commit before rejoining).
    /// As in Kafka, the client keeps its assignment until the app's next poll rejoins: a
    /// `commitSync()` before that fails with CommitFailedException.
    pub(super) fn leave_stable(&mut self) {
        if self.membership == Membership::Stable {
            self.membership = Membership::Unjoined;
            self.publish_progress();
        }
        self.rejoin_needed = true;
        self.wake_app();
    }

    pub(super) fn on_heartbeat_timer(&mut self) {
        let at = self.now_us().saturating_add(self.heartbeat_interval_us());
        self.timers.at(at, Timer::Heartbeat);
        if self.membership != Membership::Stable || self.heartbeat_in_flight {
            return;
        }
        let (Some(member), Some(generation), Some(to)) = (self.member, self.generation, self.coordinator_idx()) else {
            if self.coordinator.is_none() {
                self.request_metadata();
            }
            return;
        };
        let corr = self.corr();
        self.heartbeat_in_flight = true;
        self.request(
            to,
            corr,
            Request::Heartbeat,
            Msg::GroupHeartbeat { corr, member, generation, instance: self.instance.clone() },
            REQUEST_TIMEOUT_MS,
        );
    }

    pub(super) fn on_heartbeat_response(&mut self, result: Result<(), KafkaError>) {
        self.heartbeat_in_flight = false;
        if let Err(e) = result {
            if self.membership == Membership::Stable {
                self.on_group_error(e);
                self.wake_app();
            }
        }
    }

    /// The heartbeat thread's poll timer: the app has not called `poll()` for
    /// `max.poll.interval.ms`, so the member leaves the group (Kafka's `maybeLeaveGroup`).
    pub(super) fn on_poll_timeout(&mut self) {
        self.poll_timer_armed = false;
        let deadline = self.last_poll_us.saturating_add(self.cfg().max_poll_interval_ms.saturating_mul(1000));
        if self.now_us() < deadline {
            self.arm_poll_timer();
            return;
        }
        if self.membership != Membership::Stable {
            return;
        }
        let generation = self.generation.unwrap_or(0);
        let ms = self.cfg().max_poll_interval_ms;
        let reason = format!("its app had not called poll() for max.poll.interval.ms ({ms} ms)");
        // A static member sends no LeaveGroup (`maybeLeaveGroup`, 2.3+): the coordinator keeps
        // its partitions until its session times out.
        if self.instance.is_none() {
            self.record(EventKind::LeftGroup { consumer: self.id, generation, reason: reason.clone() });
            if let (Some(member), Some(to)) = (self.member, self.coordinator_idx()) {
                self.world.net.send(self.me, to, Msg::LeaveGroup { member, reason });
            }
        }
        self.member = None;
        self.generation = None;
        self.leave_stable();
    }
}
