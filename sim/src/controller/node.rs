//! The controller process: the cluster's single source of truth for who leads each partition and
//! who is in its ISR. It runs either as KRaft's active controller or, before 4.0 unless
//! `process.roles` says KRaft, as the ZooKeeper ensemble together with the broker that acts as
//! controller (Kafka's `KafkaController`); `MetadataMode` picks the rules where they differ:
//!
//! - Liveness: KRaft fences a broker whose heartbeats stop for `broker.session.timeout.ms`
//!   (`BrokerHeartbeatManager`); ZooKeeper expires a session `zookeeper.session.timeout.ms` after
//!   the last ping and the controller runs `onBrokerFailure`.
//! - Registration while the earlier incarnation's session is valid is refused (KRaft
//!   `ClusterControlManager.registerBroker`: DuplicateBrokerRegistrationException; ZooKeeper:
//!   NODEEXISTS on the ephemeral znode); the broker retries. A KRaft registration starts fenced
//!   and is unfenced once the broker has caught up with the metadata; a ZooKeeper one is alive at
//!   once and the controller runs `onBrokerStartup`.
//! - Controlled shutdown: KRaft removes the broker from every ISR at once (a partition whose only
//!   ISR member it is loses its leader); ZooKeeper moves its leaderships to other ISR members and
//!   answers with the partitions it could not move.
//! - KIP-966 (ELR on): a re-registering broker that did not shut down cleanly leaves every ISR and
//!   ELR; one that did is handled as if fenced.
//!
//! Every partition change goes through `election::apply` (Kafka's `PartitionChangeBuilder`) and
//! is pushed to every broker, stamped with the broker epoch the controller has for it. The store
//! (`ControllerStore`) lives in the `World`: the metadata log is durable, a crash loses none of it.

use super::election::{self, Change, Election, Origin, Outcome, Rules};
use super::store::ControllerStore;
use crate::protocol::{KafkaError, Msg, PartitionState};
use crate::runtime::actor::{Actor, Timers};
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use losslab_model::config::MetadataMode;
use losslab_model::history::{EventKind, NodeName};
use std::sync::Arc;

/// How often broker sessions are checked.
const SESSION_CHECK_MS: u64 = 100;

pub struct Controller {
    world: Arc<World>,
    me: NodeIdx,
    timers: Timers<()>,
}

impl Controller {
    pub fn start(world: Arc<World>) -> Controller {
        let now = world.now_us();
        {
            // A new controller gives every broker a fresh session rather than fencing them all
            // for the time it was down.
            let mut store = world.controller.lock().unwrap();
            for b in store.brokers.values_mut() {
                b.last_contact_us = now;
            }
        }
        let mut c = Controller { me: world.controller_idx(), world, timers: Timers::default() };
        c.timers.at(now.saturating_add(SESSION_CHECK_MS.saturating_mul(1000)), ());
        let partitions: Vec<u32> = c.store().partitions.keys().copied().collect();
        for p in partitions {
            c.push(p);
        }
        c
    }

    fn record(&self, kind: EventKind) {
        self.world.record(NodeName::Controller, kind);
    }

    fn mode(&self) -> MetadataMode {
        self.world.scenario.broker.metadata_mode
    }

    fn session_timeout_us(&self) -> u64 {
        let b = &self.world.scenario.broker;
        let ms = match self.mode() {
            MetadataMode::KRaft => b.broker_session_timeout_ms,
            MetadataMode::ZooKeeper => b.zookeeper_session_timeout_ms,
        };
        ms.saturating_mul(1000)
    }

    /// A partition's election rules: `__transaction_state` has its own min ISR and never elects
    /// uncleanly (`TransactionStateManager.transactionTopicConfigs` sets
    /// `unclean.leader.election.enable=false` on it, 0.11).
    fn rules_for(&self, partition: u32) -> Rules {
        let rules = self.rules();
        let s = &self.world.scenario;
        let Some(min_insync_replicas) = crate::runtime::world::internal_min_insync_replicas(s, partition) else {
            return rules;
        };
        let unclean = rules.unclean && partition != crate::protocol::TXN_STATE_PARTITION;
        Rules { min_insync_replicas, unclean, ..rules }
    }

    fn rules(&self) -> Rules {
        let s = &self.world.scenario;
        let v = s.kafka_version;
        Rules {
            min_insync_replicas: s.effective_min_insync_replicas(),
            elr: s.broker.eligible_leader_replicas_enable,
            unclean: s.topic.unclean_leader_election_enable,
            mode: self.mode(),
            bump_epoch_on_shrink: v.kraft_bumps_epoch_on_isr_shrink(),
            keep_last_isr_member: v.keeps_last_isr_member(),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, ControllerStore> {
        self.world.controller.lock().unwrap()
    }

    fn send(&self, to: NodeIdx, msg: Msg) {
        self.world.net.send(self.me, to, msg);
    }

    /// Sends a partition's state to every broker, each stamped with its broker epoch.
    fn push(&self, partition: u32) {
        let Some(state) = self.store().partitions.get(&partition).cloned() else { return };
        for b in 1..=self.world.scenario.brokers {
            self.push_to(b, state.clone());
        }
    }

    fn push_to(&self, broker: u32, state: PartitionState) {
        let (broker_epoch, ineligible) = {
            let store = self.store();
            (store.broker_epoch(broker), store.ineligible(self.mode() == MetadataMode::KRaft))
        };
        self.send(self.world.broker_idx(broker), Msg::PartitionUpdate { state, broker_epoch, ineligible });
    }

    fn push_all_to(&self, broker: u32) {
        let states: Vec<PartitionState> = self.store().partitions.values().cloned().collect();
        for state in states {
            self.push_to(broker, state);
        }
    }

    /// Applies one change to `partition` through the partition-change rules; records and pushes
    /// it if anything changed. `excluded` may not lead in this change whatever its liveness.
    #[allow(clippy::too_many_arguments)]
    fn change(
        &mut self,
        partition: u32,
        target_isr: Vec<u32>,
        origin: Origin,
        election: Election,
        excluded: &[u32],
        unclean_shutdown: &[u32],
        cause: &str,
    ) -> Outcome {
        let rules = self.rules_for(partition);
        let outcome = {
            let mut store = self.store();
            let live: Vec<u32> = store.brokers.keys().copied().filter(|&b| store.is_live(b)).collect();
            let acceptable = |r: u32| live.contains(&r) && !excluded.contains(&r);
            let change = Change { target_isr, origin, election, acceptable: &acceptable, unclean_shutdown };
            let Some(st) = store.partitions.get_mut(&partition) else {
                return Outcome { changed: false, election: None };
            };
            election::apply(st, &change, rules)
        };
        if outcome.changed {
            let state = self.store().partitions[&partition].clone();
            if let Some(kind) = outcome.election {
                let (leader, leader_epoch, isr) = (state.leader, state.leader_epoch, state.isr.clone());
                self.record(EventKind::Election { partition, leader, leader_epoch, kind, isr });
            }
            self.record(EventKind::PartitionChange(Box::new(losslab_model::history::PartitionChange {
                partition,
                leader: state.leader,
                leader_epoch: state.leader_epoch,
                partition_epoch: state.partition_epoch,
                isr: state.isr.clone(),
                elr: state.elr.clone(),
                cause: cause.to_string(),
            })));
            self.push(partition);
        }
        outcome
    }

    /// The partitions a predicate picks, in order.
    fn partitions_where(&self, pick: impl Fn(&PartitionState) -> bool) -> Vec<u32> {
        self.store().partitions.values().filter(|s| pick(s)).map(|s| s.partition).collect()
    }

    /// Removes `broker` from the ISR of every partition it is in, with a new leader where it led
    /// (`onBrokerFailure` / `handleBrokerFenced` / a KRaft controlled shutdown).
    fn remove_from_isrs(&mut self, broker: u32, unclean_shutdown: bool, cause: &str) {
        let unclean: &[u32] = if unclean_shutdown { &[broker] } else { &[] };
        for p in
            self.partitions_where(|s| s.isr.contains(&broker) || s.leader == Some(broker) || s.elr.contains(&broker))
        {
            let target: Vec<u32> = self.store().partitions[&p].isr.iter().copied().filter(|&r| r != broker).collect();
            self.change(p, target, Origin::Controller, Election::Normal, &[broker], unclean, cause);
        }
    }

    /// Elects a leader for every partition without one (a broker came back).
    fn elect_offline(&mut self, cause: &str) {
        for p in self.partitions_where(|s| s.leader.is_none()) {
            let isr = self.store().partitions[&p].isr.clone();
            self.change(p, isr, Origin::Controller, Election::Normal, &[], &[], cause);
        }
    }

    // ---------------------------------------------------------------- registration and liveness

    fn on_register(&mut self, from: NodeIdx, broker: u32, incarnation: u64, clean_epoch: Option<u64>) {
        let now = self.world.now_us();
        let timeout_us = self.session_timeout_us();
        let (same, session_valid, previous, fenced) = {
            let store = self.store();
            let rec = store.brokers.get(&broker).cloned().unwrap_or_default();
            let valid =
                rec.incarnation.is_some() && !rec.fenced && now <= rec.last_contact_us.saturating_add(timeout_us);
            (rec.incarnation == Some(incarnation), valid, rec.incarnation, rec.fenced)
        };
        if same {
            // A resent registration that was already accepted.
            self.send(from, Msg::RegisterResponse { result: Ok(()) });
            self.push_all_to(broker);
            return;
        }
        if session_valid {
            let error = match self.mode() {
                MetadataMode::KRaft => KafkaError::DuplicateBrokerRegistration,
                MetadataMode::ZooKeeper => KafkaError::NodeExists,
            };
            self.record(EventKind::RegistrationRefused { broker, error: error.name().to_string() });
            self.send(from, Msg::RegisterResponse { result: Err(error) });
            return;
        }
        if previous.is_some() && !fenced {
            // Its session expired and the controller has not acted on it yet.
            self.broker_failed(broker, "its session expired");
        }
        let kraft = self.mode() == MetadataMode::KRaft;
        {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            rec.incarnation = Some(incarnation);
            rec.last_contact_us = now;
            rec.shutting_down = false;
            // KRaft registers a broker fenced until it has caught up; ZooKeeper's znode is live.
            rec.fenced = kraft;
        }
        let clean = clean_epoch.is_some() && clean_epoch == previous;
        self.record(EventKind::Registered { broker, clean });
        self.send(from, Msg::RegisterResponse { result: Ok(()) });
        self.push_all_to(broker);
        if previous.is_some() && self.rules().elr {
            // KIP-966: a broker back from an unclean shutdown may have lost its unflushed tail, so
            // it leaves every ISR and ELR; a clean one is handled as if it had been fenced.
            let cause = if clean {
                format!("b{broker} came back from a clean shutdown and left the ISR (KIP-966)")
            } else {
                format!("b{broker} came back from an unclean shutdown and left ISR and ELR (KIP-966)")
            };
            self.remove_from_isrs(broker, !clean, &cause);
        }
        if !kraft {
            // `onBrokerStartup`: partitions waiting for a leader may have one now.
            self.elect_offline(&format!("b{broker} registered"));
        }
    }

    fn on_heartbeat(&mut self, from: NodeIdx, broker: u32, incarnation: u64, want_fence: bool, want_shutdown: bool) {
        let now = self.world.now_us();
        let kraft = self.mode() == MetadataMode::KRaft;
        let (current, fenced, shutting_down) = {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            let current = rec.incarnation == Some(incarnation);
            if current {
                rec.last_contact_us = now;
            }
            (current, rec.fenced, rec.shutting_down)
        };
        if !current {
            // STALE_BROKER_EPOCH: a heartbeat of an earlier incarnation.
            return;
        }
        if kraft && fenced && !want_fence && !want_shutdown {
            self.unfence(broker);
        }
        if !kraft && fenced {
            // A ZooKeeper client whose session expired while it was cut off opens a new session
            // when it reconnects, and the broker registers again (`afterInitializingSession`).
            self.rejoin_after_expiry(broker);
        }
        if kraft && want_shutdown && !shutting_down {
            self.begin_controlled_shutdown(broker);
        }
        let (fenced, shutting_down, ineligible) = {
            let store = self.store();
            let rec = &store.brokers[&broker];
            (rec.fenced, rec.shutting_down, store.ineligible(self.mode() == MetadataMode::KRaft))
        };
        let leads = !self.partitions_where(|s| s.leader == Some(broker)).is_empty();
        self.send(from, Msg::HeartbeatResponse { fenced, shut_down_now: shutting_down && !leads, ineligible });
        if kraft {
            // KRaft brokers keep fetching the metadata log: one that missed pushes while it was
            // cut off catches up with its next heartbeat.
            self.push_all_to(broker);
        }
    }

    fn rejoin_after_expiry(&mut self, broker: u32) {
        {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            rec.fenced = false;
            rec.shutting_down = false;
        }
        self.record(EventKind::Registered { broker, clean: false });
        self.push_all_to(broker);
        self.elect_offline(&format!("b{broker} registered"));
    }

    fn unfence(&mut self, broker: u32) {
        self.store().brokers.entry(broker).or_default().fenced = false;
        self.record(EventKind::Unfenced { broker });
        self.elect_offline(&format!("b{broker} was unfenced"));
    }

    /// The broker's session ended (expired, or closed by a ZooKeeper-mode broker that shut
    /// down): it is fenced (KRaft) or no longer alive (ZooKeeper), leaves every ISR (except one
    /// it is the last member of, without ELR) and every partition it led gets a new leader.
    fn broker_failed(&mut self, broker: u32, reason: &str) {
        {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            if rec.fenced {
                return;
            }
            rec.fenced = true;
            rec.shutting_down = false;
        }
        self.record(EventKind::Fenced { broker, reason: reason.to_string() });
        self.remove_from_isrs(broker, false, &format!("b{broker} was fenced and left the ISR"));
    }

    fn check_sessions(&mut self) {
        let now = self.world.now_us();
        let timeout_us = self.session_timeout_us();
        let expired: Vec<u32> = self
            .store()
            .brokers
            .iter()
            .filter(|(_, r)| r.incarnation.is_some() && !r.fenced && now.saturating_sub(r.last_contact_us) > timeout_us)
            .map(|(&b, _)| b)
            .collect();
        let reason = match self.mode() {
            MetadataMode::KRaft => "it sent no heartbeat within broker.session.timeout.ms",
            MetadataMode::ZooKeeper => "its ZooKeeper session expired (zookeeper.session.timeout.ms)",
        };
        for b in expired {
            self.broker_failed(b, reason);
        }
        self.timers.at(now.saturating_add(SESSION_CHECK_MS.saturating_mul(1000)), ());
    }

    // ---------------------------------------------------------------- controlled shutdown

    /// KRaft (`handleBrokerInControlledShutdown`): the broker leaves every ISR at once; where it
    /// led, the first other live ISR member leads, or nobody.
    fn begin_controlled_shutdown(&mut self, broker: u32) {
        self.store().brokers.entry(broker).or_default().shutting_down = true;
        self.record(EventKind::ControlledShutdown { broker, remaining: vec![] });
        self.remove_from_isrs(broker, false, &format!("b{broker} is shutting down (controlled shutdown)"));
    }

    /// ZooKeeper (`KafkaController.doControlledShutdown`): leaderships move to another live ISR
    /// member where there is one (the ISR loses the broker in the same write); where it only
    /// follows, it leaves the ISR unless it is the last member. Answers what it still leads.
    fn on_controlled_shutdown(&mut self, from: NodeIdx, broker: u32, incarnation: u64) {
        if self.store().brokers.get(&broker).and_then(|r| r.incarnation) != Some(incarnation) {
            return;
        }
        self.store().brokers.entry(broker).or_default().shutting_down = true;
        let cause = format!("b{broker} is shutting down (controlled shutdown)");
        let mut remaining = Vec::new();
        for p in self.partitions_where(|s| s.isr.contains(&broker) || s.leader == Some(broker)) {
            let st = self.store().partitions[&p].clone();
            if st.replicas.len() < 2 {
                continue;
            }
            let target: Vec<u32> = st.isr.iter().copied().filter(|&r| r != broker).collect();
            if st.leader == Some(broker) {
                // Only if another live ISR member can take over; otherwise it keeps leading.
                let mut trial = st.clone();
                let live: Vec<u32> = {
                    let store = self.store();
                    store.brokers.keys().copied().filter(|&b| store.is_live(b)).collect()
                };
                let acceptable = |r: u32| live.contains(&r);
                let change = Change {
                    target_isr: target.clone(),
                    origin: Origin::Controller,
                    election: Election::Normal,
                    acceptable: &acceptable,
                    unclean_shutdown: &[],
                };
                election::apply(&mut trial, &change, Rules { unclean: false, ..self.rules_for(p) });
                if trial.leader.is_none() {
                    remaining.push(p);
                    continue;
                }
            }
            self.change(p, target, Origin::Controller, Election::Normal, &[broker], &[], &cause);
        }
        self.record(EventKind::ControlledShutdown { broker, remaining: remaining.clone() });
        self.send(from, Msg::ControlledShutdownResponse { remaining });
    }

    fn on_session_closed(&mut self, broker: u32, incarnation: u64) {
        if self.store().brokers.get(&broker).and_then(|r| r.incarnation) == Some(incarnation) {
            self.broker_failed(broker, "it shut down and closed its ZooKeeper session");
        }
    }

    // ---------------------------------------------------------------- ISR changes and elections

    fn alter_partition_error(
        &self,
        broker: u32,
        st: &PartitionState,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: &[u32],
        member_epochs: &[(u32, u64)],
    ) -> Option<KafkaError> {
        if st.leader != Some(broker) || st.leader_epoch != leader_epoch {
            return Some(KafkaError::FencedLeaderEpoch);
        }
        if st.partition_epoch != partition_epoch || !new_isr.contains(&broker) {
            return Some(KafkaError::InvalidUpdateVersion);
        }
        let v = self.world.scenario.kafka_version;
        if self.mode() == MetadataMode::KRaft && v.isr_refuses_fenced_brokers() {
            let store = self.store();
            // KIP-841 (3.3): every member must be live; KIP-903 (3.5): named by its current epoch.
            let stale = |r: u32| {
                v.isr_checks_broker_epochs()
                    && member_epochs.iter().find(|(b, _)| *b == r).is_some_and(|&(_, e)| e != store.broker_epoch(r))
            };
            if new_isr.iter().any(|&r| !store.is_live(r) || stale(r)) {
                return Some(KafkaError::IneligibleReplica);
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn on_alter_partition(
        &mut self,
        from: NodeIdx,
        broker: u32,
        partition: u32,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: Vec<u32>,
        member_epochs: Vec<(u32, u64)>,
    ) {
        let st = self.store().partitions.get(&partition).cloned();
        let error = match &st {
            None => Some(KafkaError::InvalidUpdateVersion),
            Some(st) => self.alter_partition_error(broker, st, leader_epoch, partition_epoch, &new_isr, &member_epochs),
        };
        let result = match (error, st) {
            (Some(e), _) => Err(e),
            (None, None) => Err(KafkaError::InvalidUpdateVersion),
            (None, Some(before)) => {
                let cause = if new_isr.len() < before.isr.len() {
                    format!("b{broker} shrank the ISR (followers not caught up within replica.lag.time.max.ms)")
                } else {
                    format!("b{broker} expanded the ISR (a follower caught up)")
                };
                self.change(partition, new_isr.clone(), Origin::Leader, Election::Normal, &[], &[], &cause);
                Ok(self.store().partitions[&partition].clone())
            }
        };
        let answer = Msg::AlterPartitionResponse {
            partition,
            requested_isr: new_isr,
            requested_partition_epoch: partition_epoch,
            result,
        };
        self.send(from, answer);
    }

    /// An operator's election (`kafka-leader-election`): unclean only where the leader is gone,
    /// the preferred leader where the current one is live.
    fn on_elect(&mut self, partition: u32, unclean: bool) {
        let Some(st) = self.store().partitions.get(&partition).cloned() else { return };
        let leader_live = st.leader.is_some_and(|l| self.store().is_live(l));
        let (election, cause) = match (unclean, leader_live) {
            (true, false) => (Election::Unclean, "an operator asked for an unclean election"),
            // ELECTION_NOT_NEEDED: the partition has a live leader.
            (true, true) => return,
            (false, _) => (Election::Preferred, "an operator asked for the preferred leader"),
        };
        self.change(partition, st.isr.clone(), Origin::Controller, election, &[], &[], &format!("election: {cause}"));
    }
}

impl Actor for Controller {
    type Timer = ();

    fn now_us(&self) -> u64 {
        self.world.now_us()
    }

    fn timers(&mut self) -> &mut Timers<()> {
        &mut self.timers
    }

    fn on_msg(&mut self, from: NodeIdx, msg: Msg) {
        match msg {
            Msg::Register { broker, incarnation, clean_epoch } => {
                self.on_register(from, broker, incarnation, clean_epoch)
            }
            Msg::Heartbeat { broker, incarnation, want_fence, want_shutdown } => {
                self.on_heartbeat(from, broker, incarnation, want_fence, want_shutdown)
            }
            Msg::ControlledShutdown { broker, incarnation } => self.on_controlled_shutdown(from, broker, incarnation),
            Msg::SessionClosed { broker, incarnation } => self.on_session_closed(broker, incarnation),
            Msg::AlterPartition { broker, partition, leader_epoch, partition_epoch, new_isr, member_epochs } => {
                self.on_alter_partition(from, broker, partition, leader_epoch, partition_epoch, new_isr, member_epochs)
            }
            Msg::Elect { partition, unclean } => self.on_elect(partition, unclean),
            _ => {}
        }
    }

    fn on_timer(&mut self, _: ()) {
        self.check_sessions();
    }
}
