//! The controller: the cluster's single source of truth for who leads each partition and who is
//! in its ISR, as KRaft's active controller is. It tracks broker liveness (heartbeats, fencing
//! after `broker.session.timeout.ms`), accepts ISR changes only through AlterPartition checked
//! against the leader and partition epochs (so a leader that cannot reach it cannot shrink its
//! ISR), elects leaders (from the ISR; with unclean election from any live replica), bumps the
//! leader epoch on every election, and pushes every change to the brokers. The consumer group's
//! coordinator is not here: the broker leading `__consumer_offsets` hosts it (`coordinator`).
//!
//! Its state, the `ControllerStore`, lives in the `World`: KRaft's metadata log is replicated
//! and durable, so a controller crash loses none of it.

use super::election;
use super::store::ControllerStore;
use crate::protocol::{KafkaError, Msg, PartitionState};
use crate::runtime::actor::{Actor, Timers};
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use losslab_model::history::{ElectionKind, EventKind, NodeName};
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
                b.last_heartbeat_us = now;
            }
        }
        let mut c = Controller { me: world.controller_idx(), world, timers: Timers::default() };
        c.timers.at(now.saturating_add(SESSION_CHECK_MS.saturating_mul(1000)), ());
        let partitions: Vec<u32> = c.world.controller.lock().unwrap().partitions.keys().copied().collect();
        for p in partitions {
            c.push(p);
        }
        c
    }

    fn record(&self, kind: EventKind) {
        self.world.record(NodeName::Controller, kind);
    }

    fn rules(&self, operator_unclean: bool) -> election::Rules {
        let s = &self.world.scenario;
        election::Rules {
            min_insync_replicas: s.topic.min_insync_replicas,
            elr: s.broker.eligible_leader_replicas_enable,
            unclean: operator_unclean || s.topic.unclean_leader_election_enable,
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, ControllerStore> {
        self.world.controller.lock().unwrap()
    }

    /// Sends a partition's state to every broker (KRaft brokers all replay the metadata log).
    fn push(&self, partition: u32) {
        let Some(state) = self.store().partitions.get(&partition).cloned() else { return };
        for b in 1..=self.world.scenario.brokers {
            self.world.net.send(self.me, self.world.broker_idx(b), Msg::PartitionUpdate(state.clone()));
        }
    }

    fn changed(&self, partition: u32, cause: String) {
        let state = self.store().partitions[&partition].clone();
        self.record(EventKind::PartitionChange {
            partition,
            leader: state.leader,
            leader_epoch: state.leader_epoch,
            partition_epoch: state.partition_epoch,
            isr: state.isr.clone(),
            elr: state.elr.clone(),
            cause,
        });
        self.push(partition);
    }

    fn on_register(&mut self, from: NodeIdx, broker: u32, incarnation: u64) {
        let now = self.world.now_us();
        let fences = self.world.scenario.kafka_version.rejects_stale_broker_epochs();
        let previous = self.store().brokers.get(&broker).and_then(|b| b.incarnation);
        if previous.is_some_and(|p| p != incarnation) && fences {
            // KIP-380 / KRaft: a new incarnation fences the old one first, so the broker leaves
            // every ISR it was in and must catch up before it rejoins.
            self.fence(broker, "it registered again after a restart, which fences its earlier incarnation");
            if self.rules(false).elr {
                self.forget_unclean(broker);
            }
        }
        {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            rec.incarnation = Some(incarnation);
            rec.last_heartbeat_us = now;
        }
        self.world.net.send(self.me, from, Msg::HeartbeatResponse { fenced: false });
        let partitions: Vec<u32> = self.store().partitions.keys().copied().collect();
        for p in &partitions {
            let state = self.store().partitions[p].clone();
            self.world.net.send(self.me, from, Msg::PartitionUpdate(state));
        }
        self.unfence(broker);
    }

    fn on_heartbeat(&mut self, from: NodeIdx, broker: u32, incarnation: u64) {
        let now = self.world.now_us();
        let current = {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            let current = rec.incarnation == Some(incarnation);
            if current {
                rec.last_heartbeat_us = now;
            }
            current
        };
        if !current {
            return;
        }
        self.unfence(broker);
        self.world.net.send(self.me, from, Msg::HeartbeatResponse { fenced: false });
        // KRaft brokers keep fetching the metadata log: one that missed pushes while it was cut
        // off (but not long enough to be fenced) catches up with its next heartbeat.
        let states: Vec<PartitionState> = self.store().partitions.values().cloned().collect();
        for state in states {
            self.world.net.send(self.me, from, Msg::PartitionUpdate(state));
        }
    }

    /// KIP-966: a broker back from an unclean shutdown (every crash here is one) may have lost
    /// its unflushed tail, so it leaves ISR and ELR everywhere.
    fn forget_unclean(&mut self, broker: u32) {
        let partitions: Vec<u32> = self.store().partitions.keys().copied().collect();
        for p in partitions {
            let changed = {
                let mut store = self.store();
                let store = &mut *store;
                let last_known = store.last_known_elr.entry(p).or_default();
                let st = store.partitions.get_mut(&p).unwrap();
                let changed = election::remove_unclean(st, broker, last_known);
                if changed {
                    st.partition_epoch += 1;
                }
                changed
            };
            if changed {
                self.changed(p, format!("b{broker} came back from an unclean shutdown and left ISR and ELR (KIP-966)"));
            }
        }
    }

    fn unfence(&mut self, broker: u32) {
        let was_fenced = {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            std::mem::replace(&mut rec.fenced, false)
        };
        if !was_fenced {
            return;
        }
        self.record(EventKind::Unfenced { broker });
        // A broker back from a cut may have missed pushes: it replays the metadata it missed
        // (KRaft brokers fetch the metadata log), here as a push of every partition.
        let partitions: Vec<u32> = self.store().partitions.keys().copied().collect();
        for p in partitions {
            let state = self.store().partitions[&p].clone();
            self.world.net.send(self.me, self.world.broker_idx(broker), Msg::PartitionUpdate(state));
        }
        // Partitions waiting for a leader may have one now.
        let offline: Vec<u32> =
            self.store().partitions.values().filter(|s| s.leader.is_none()).map(|s| s.partition).collect();
        for p in offline {
            self.elect(p, false, "a replica came back");
        }
    }

    /// Fences a broker: it leaves every ISR (unless it is the last member: Kafka never empties
    /// an ISR) and every partition it led gets a new leader.
    fn fence(&mut self, broker: u32, reason: &str) {
        {
            let mut store = self.store();
            let rec = store.brokers.entry(broker).or_default();
            if rec.fenced {
                return;
            }
            rec.fenced = true;
        }
        self.record(EventKind::Fenced { broker, reason: reason.to_string() });
        let partitions: Vec<u32> =
            self.store().partitions.values().filter(|s| s.replicas.contains(&broker)).map(|s| s.partition).collect();
        for p in partitions {
            let leads = self.store().partitions[&p].leader == Some(broker);
            if leads {
                self.elect(p, false, &format!("b{broker} was fenced"));
            } else {
                let rules = self.rules(false);
                let removed = {
                    let mut store = self.store();
                    let st = store.partitions.get_mut(&p).unwrap();
                    let removed = election::remove_fenced(st, broker, rules);
                    if removed {
                        st.partition_epoch += 1;
                    }
                    removed
                };
                if removed {
                    self.changed(p, format!("b{broker} was fenced and left the ISR"));
                }
            }
        }
    }

    /// Elects a leader for `partition` among live replicas: from the ISR; else, if unclean
    /// election is enabled (or an operator asked for it), any live replica; else none (the
    /// partition waits offline, its ISR kept).
    fn elect(&mut self, partition: u32, operator_unclean: bool, cause: &str) {
        let rules = self.rules(operator_unclean);
        let outcome = {
            let mut store = self.store();
            let live: Vec<u32> =
                store.brokers.iter().filter(|(_, r)| !r.fenced && r.incarnation.is_some()).map(|(&b, _)| b).collect();
            let last_known = store.last_known_elr.get(&partition).cloned().unwrap_or_default();
            let st = store.partitions.get_mut(&partition).unwrap();
            let (leader, kind) = election::choose(st, &live, rules, false, &last_known);
            if leader.is_none() && st.leader.is_none() {
                None
            } else {
                election::apply(st, leader, kind, &live, rules);
                Some((leader, st.leader_epoch, kind, st.isr.clone()))
            }
        };
        if let Some((leader, leader_epoch, kind, isr)) = outcome {
            self.record(EventKind::Election { partition, leader, leader_epoch, kind, isr });
            self.changed(partition, format!("election: {cause}"));
        }
    }

    fn on_alter_partition(
        &mut self,
        from: NodeIdx,
        broker: u32,
        partition: u32,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: Vec<u32>,
    ) {
        let rules = self.rules(false);
        let result = {
            let mut store = self.store();
            let live: Vec<u32> = store.brokers.iter().filter(|(_, r)| !r.fenced).map(|(&b, _)| b).collect();
            match store.partitions.get_mut(&partition) {
                None => Err(KafkaError::InvalidUpdateVersion),
                Some(st) if st.leader != Some(broker) || st.leader_epoch != leader_epoch => {
                    Err(KafkaError::FencedLeaderEpoch)
                }
                Some(st) if st.partition_epoch != partition_epoch => Err(KafkaError::InvalidUpdateVersion),
                // KIP-841: a fenced broker cannot join an ISR; the leader must stay in it.
                Some(st)
                    if !new_isr.contains(&broker)
                        || new_isr.iter().any(|r| !st.isr.contains(r) && !live.contains(r)) =>
                {
                    Err(KafkaError::InvalidUpdateVersion)
                }
                Some(st) => {
                    let before = st.isr.clone();
                    election::set_isr(st, new_isr.clone(), rules);
                    st.partition_epoch += 1;
                    Ok((st.clone(), before))
                }
            }
        };
        match result {
            Ok((state, before)) => {
                let cause = if state.isr.len() < before.len() {
                    format!("b{broker} shrank the ISR (followers not caught up within replica.lag.time.max.ms)")
                } else {
                    format!("b{broker} expanded the ISR (a follower caught up)")
                };
                self.changed(partition, cause);
                let answer = Msg::AlterPartitionResponse {
                    partition,
                    requested_isr: new_isr,
                    requested_partition_epoch: partition_epoch,
                    result: Ok(state),
                };
                self.world.net.send(self.me, from, answer);
            }
            Err(e) => {
                let answer = Msg::AlterPartitionResponse {
                    partition,
                    requested_isr: new_isr,
                    requested_partition_epoch: partition_epoch,
                    result: Err(e),
                };
                self.world.net.send(self.me, from, answer);
            }
        }
    }

    fn on_elect(&mut self, partition: u32, unclean: bool) {
        let (leader, preferred, preferred_ok) = {
            let store = self.store();
            let Some(st) = store.partitions.get(&partition) else { return };
            let preferred = st.replicas[0];
            (st.leader, preferred, st.isr.contains(&preferred) && store.is_live(preferred))
        };
        let leader_live = leader.is_some_and(|l| self.store().is_live(l));
        if unclean {
            if !leader_live {
                self.elect(partition, true, "an operator asked for an unclean election");
            }
        } else if !leader_live {
            self.elect(partition, false, "an operator asked for an election");
        } else if preferred_ok && leader != Some(preferred) {
            {
                let mut store = self.store();
                let st = store.partitions.get_mut(&partition).unwrap();
                st.leader = Some(preferred);
                st.leader_epoch += 1;
                st.partition_epoch += 1;
            }
            let st = self.store().partitions[&partition].clone();
            self.record(EventKind::Election {
                partition,
                leader: st.leader,
                leader_epoch: st.leader_epoch,
                kind: ElectionKind::Clean,
                isr: st.isr.clone(),
            });
            self.changed(partition, "an operator asked for the preferred leader".into());
        }
    }

    fn check_sessions(&mut self) {
        let now = self.world.now_us();
        let timeout_us = self.world.scenario.broker.broker_session_timeout_ms.saturating_mul(1000);
        let expired: Vec<u32> = self
            .store()
            .brokers
            .iter()
            .filter(|(_, r)| !r.fenced && now.saturating_sub(r.last_heartbeat_us) > timeout_us)
            .map(|(&b, _)| b)
            .collect();
        for b in expired {
            self.fence(b, "it sent no heartbeat within broker.session.timeout.ms");
        }
        self.timers.at(now.saturating_add(SESSION_CHECK_MS.saturating_mul(1000)), ());
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
            Msg::Register { broker, incarnation } => self.on_register(from, broker, incarnation),
            Msg::Heartbeat { broker, incarnation } => self.on_heartbeat(from, broker, incarnation),
            Msg::AlterPartition { broker, partition, leader_epoch, partition_epoch, new_isr } => {
                self.on_alter_partition(from, broker, partition, leader_epoch, partition_epoch, new_isr)
            }
            Msg::Elect { partition, unclean } => self.on_elect(partition, unclean),
            _ => {}
        }
    }

    fn on_timer(&mut self, _: ()) {
        self.check_sessions();
    }
}
