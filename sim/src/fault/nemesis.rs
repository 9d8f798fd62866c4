//! The nemesis: fires a scenario's fault steps, in order, each once all its triggers hold and
//! never before the step before it. Symbolic targets ("the leader of partition 0") are
//! resolved when the step fires, from the controller's record. It acts from outside the
//! cluster, as a test harness does: madsim kills, restarts, pauses and resumes processes, the
//! disks lose their page cache on a power crash, the network cuts links, and an operator's
//! election request goes to the controller like `kafka-leader-election` would.

use crate::protocol::{Msg, OFFSETS_PARTITION, TXN_STATE_PARTITION};
use crate::runtime::clock::sleep;
use crate::runtime::network::NodeIdx;
use crate::runtime::world::{NodeStatus, World};
use losslab_model::config::SendMode;
use losslab_model::fault::{Action, CrashMode, FaultStep, NodeRef, Target, Trigger};
use losslab_model::history::{EventKind, NodeName};
use madsim::runtime::Handle;
use madsim::task::NodeId;
use madsim::time::Duration;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How often count and ISR triggers are re-checked.
const POLL_MS: u64 = 1;

pub struct Nemesis {
    world: Arc<World>,
    /// madsim's node per node index (the supervisor has none).
    nodes: Vec<Option<NodeId>>,
    last_fired_us: u64,
}

impl Nemesis {
    pub fn new(world: Arc<World>, nodes: Vec<Option<NodeId>>) -> Nemesis {
        Nemesis { world, nodes, last_fired_us: 0 }
    }

    /// Waits for each step's triggers and fires it; gives up on a step (and the rest) once
    /// simulated time passes `deadline_us`. Returns how many steps fired.
    pub async fn run_steps(&mut self, steps: &[FaultStep], deadline_us: u64) -> usize {
        for (i, step) in steps.iter().enumerate() {
            loop {
                let now = self.world.now_us();
                if self.holds(&step.trigger, now) {
                    break;
                }
                if now >= deadline_us {
                    return i;
                }
                let wait_us = self.wait_us(&step.trigger, now).min(deadline_us - now);
                sleep(Duration::from_micros(wait_us)).await;
            }
            self.fire(i, &step.action);
            self.last_fired_us = self.world.now_us();
        }
        steps.len()
    }

    fn holds(&self, t: &Trigger, now: u64) -> bool {
        let (sent, acked) = self.world.sent_and_acked();
        t.at_ms.is_none_or(|ms| now >= ms.saturating_mul(1000))
            && t.delay_ms.is_none_or(|ms| now >= self.last_fired_us.saturating_add(ms.saturating_mul(1000)))
            && t.after_sent.is_none_or(|n| sent >= n)
            && t.after_acked.is_none_or(|n| acked >= n)
            && t.when_isr_size.is_none_or(|n| {
                self.world.controller.lock().unwrap().partitions.get(&0).is_some_and(|p| p.isr.len() as u32 == n)
            })
    }

    /// How long to sleep before checking again: exactly until a time trigger, or a short poll
    /// when the step waits on counts or the ISR.
    fn wait_us(&self, t: &Trigger, now: u64) -> u64 {
        if t.after_sent.is_some() || t.after_acked.is_some() || t.when_isr_size.is_some() {
            return POLL_MS.saturating_mul(1000);
        }
        let at = t
            .at_ms
            .map_or(0, |ms| ms.saturating_mul(1000))
            .max(t.delay_ms.map_or(0, |ms| self.last_fired_us.saturating_add(ms.saturating_mul(1000))));
        at.saturating_sub(now).max(1)
    }

    fn resolve(&self, target: &Target) -> Vec<NodeIdx> {
        let mut out = BTreeSet::new();
        let store = self.world.controller.lock().unwrap();
        for r in &target.0 {
            let followers = |p: &u32| -> Vec<u32> {
                store
                    .partitions
                    .get(p)
                    .map_or(vec![], |s| s.replicas.iter().copied().filter(|&b| Some(b) != s.leader).collect())
            };
            match r {
                NodeRef::Name(name) => {
                    if let Some(n) = NodeName::parse(name) {
                        out.insert(self.world.idx_of(n));
                    }
                }
                NodeRef::Leader(p) => {
                    if let Some(l) = store.partitions.get(p).and_then(|s| s.leader) {
                        out.insert(self.world.broker_idx(l));
                    }
                }
                NodeRef::Followers(p) => out.extend(followers(p).into_iter().map(|b| self.world.broker_idx(b))),
                NodeRef::Follower(p) => out.extend(followers(p).first().map(|&b| self.world.broker_idx(b))),
                NodeRef::Brokers => out.extend((1..=self.world.scenario.brokers).map(|b| self.world.broker_idx(b))),
                // The coordinators live on the leaders of their internal partitions
                // (`GroupMetadataManager.partitionFor` / `TransactionStateManager.partitionFor`:
                // a run has one group and one `__transaction_state` partition). No group or no
                // transactional client: no such partition, no node.
                NodeRef::GroupCoordinator | NodeRef::TxnCoordinator => {
                    let internal =
                        if matches!(r, NodeRef::GroupCoordinator) { OFFSETS_PARTITION } else { TXN_STATE_PARTITION };
                    if let Some(l) = store.partitions.get(&internal).and_then(|s| s.leader) {
                        out.insert(self.world.broker_idx(l));
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    fn names(&self, idxs: &[NodeIdx]) -> String {
        let names: Vec<String> = idxs.iter().map(|&i| self.world.names[i].to_string()).collect();
        if names.is_empty() {
            "nobody".into()
        } else {
            names.join(", ")
        }
    }

    fn fire(&mut self, step: usize, action: &Action) {
        let detail = match action {
            Action::Crash { node, mode } => {
                let up = [NodeStatus::Up, NodeStatus::Paused, NodeStatus::Stopping];
                let hit = self.with_status(node, &up, |n, i| n.crash(i, *mode));
                format!(
                    "crash ({}) of {}",
                    if *mode == CrashMode::Power { "power" } else { "process" },
                    self.names(&hit)
                )
            }
            Action::Restart { node } => {
                let hit = self.with_status(node, &[NodeStatus::Crashed, NodeStatus::Stopped], |n, i| n.restart(i));
                format!("restart of {}", self.names(&hit))
            }
            Action::Wipe { node } => {
                let hit = self.with_status(node, &[NodeStatus::Crashed, NodeStatus::Stopped], |n, i| n.wipe(i));
                format!("wipe of the disk of {}", self.names(&hit))
            }
            Action::Pause { node } => {
                let hit = self.with_status(node, &[NodeStatus::Up], |n, i| n.pause(i));
                format!("pause of {}", self.names(&hit))
            }
            Action::Resume { node } => {
                let hit = self.with_status(node, &[NodeStatus::Paused], |n, i| n.resume(i));
                format!("resume of {}", self.names(&hit))
            }
            Action::Cut { from, to, oneway } => {
                let (a, b) = (self.resolve(from), self.resolve(to));
                self.cut(&a, &b, *oneway)
            }
            Action::Slow { from, to, oneway, latency_ms } => {
                let (a, b) = (self.resolve(from), self.resolve(to));
                self.slow(&a, &b, *oneway, *latency_ms)
            }
            Action::Stop { node } => {
                let hit = self.with_status(node, &[NodeStatus::Up], |n, i| n.stop(i));
                format!("graceful stop of {}", self.names(&hit))
            }
            Action::Isolate { node } => {
                let a = self.resolve(node);
                let others: Vec<NodeIdx> = (0..self.world.supervisor_idx()).filter(|i| !a.contains(i)).collect();
                self.cut(&a, &others, false)
            }
            Action::Heal { between } => self.heal(between.as_ref()),
            Action::Elect { partition, unclean } => {
                let me = self.world.supervisor_idx();
                self.world.net.send(
                    me,
                    self.world.controller_idx(),
                    Msg::Elect { partition: *partition, unclean: *unclean },
                );
                format!(
                    "{} election requested for partition {partition}",
                    if *unclean { "unclean" } else { "preferred" }
                )
            }
        };
        self.world.record(NodeName::Controller, EventKind::Step { step, action: action.name().to_string(), detail });
    }

    /// Applies `f` to the target's nodes whose status is one of `allowed`.
    fn with_status(
        &mut self,
        target: &Target,
        allowed: &[NodeStatus],
        mut f: impl FnMut(&mut Self, NodeIdx),
    ) -> Vec<NodeIdx> {
        let hit: Vec<NodeIdx> =
            self.resolve(target).into_iter().filter(|&i| allowed.contains(&self.world.status_of(i))).collect();
        for &i in &hit {
            f(self, i);
        }
        hit
    }

    fn set_status(&self, idx: NodeIdx, status: NodeStatus) {
        self.world.status.lock().unwrap()[idx] = status;
    }

    pub fn crash(&mut self, idx: NodeIdx, mode: CrashMode) {
        let name = self.world.names[idx];
        if let Some(id) = self.nodes[idx] {
            Handle::current().kill(id);
        }
        self.world.net.unregister(idx, mode == CrashMode::Process);
        self.set_status(idx, NodeStatus::Crashed);
        self.world.record(name, EventKind::Crash { node: name, mode });
        match name {
            NodeName::Broker(b) => {
                self.world.observed.lock().unwrap().retain(|k, _| k.0 != b);
                if mode == CrashMode::Power {
                    let losses = {
                        let mut disk = self.world.disks[b as usize - 1].lock().unwrap();
                        disk.powered_off = true;
                        disk.power_loss()
                    };
                    for l in losses {
                        self.world.record(
                            name,
                            EventKind::PageCacheLost {
                                broker: b,
                                partition: l.partition,
                                durable_offset: l.durable_offset,
                                lost: l.lost,
                            },
                        );
                    }
                }
            }
            NodeName::Producer(p) => {
                let sync = self.world.scenario.producer.app_send == SendMode::Sync;
                let msgs: Vec<_> = {
                    let mut progress = self.world.producers[p as usize - 1].lock().unwrap();
                    let held: Vec<_> = std::mem::take(&mut progress.outstanding).into_iter().collect();
                    if sync {
                        // A sync app treats a record as done only once confirmed: it will send
                        // these again after its restart.
                        progress.replay.extend(held);
                        Vec::new()
                    } else {
                        held
                    }
                };
                if !msgs.is_empty() {
                    self.world.record(name, EventKind::ProducerLost { msgs });
                }
            }
            NodeName::Consumer(c) => {
                // What the dead incarnation published is no longer true: the final phase must
                // wait for the restarted one to join and catch up.
                let mut progress = self.world.consumers[c as usize - 1].lock().unwrap();
                progress.generation = None;
                progress.processed_to.clear();
            }
            _ => {}
        }
    }

    pub fn restart(&mut self, idx: NodeIdx) {
        let name = self.world.names[idx];
        self.set_status(idx, NodeStatus::Up);
        self.world.record(name, EventKind::Restart { node: name });
        if let Some(id) = self.nodes[idx] {
            Handle::current().restart(id);
        }
    }

    fn wipe(&mut self, idx: NodeIdx) {
        if let NodeName::Broker(b) = self.world.names[idx] {
            let lost = self.world.disks[b as usize - 1].lock().unwrap().wipe();
            self.world.record(NodeName::Broker(b), EventKind::Wiped { broker: b, lost });
        }
    }

    fn pause(&mut self, idx: NodeIdx) {
        let name = self.world.names[idx];
        if let Some(id) = self.nodes[idx] {
            Handle::current().pause(id);
        }
        self.set_status(idx, NodeStatus::Paused);
        self.world.record(name, EventKind::Pause { node: name });
    }

    pub fn resume(&mut self, idx: NodeIdx) {
        let name = self.world.names[idx];
        if let Some(id) = self.nodes[idx] {
            Handle::current().resume(id);
        }
        self.set_status(idx, NodeStatus::Up);
        self.world.record(name, EventKind::Resume { node: name });
    }

    fn cut(&mut self, a: &[NodeIdx], b: &[NodeIdx], oneway: bool) -> String {
        // A node named on both sides is left out of the cut.
        let a: Vec<NodeIdx> = a.iter().copied().filter(|i| !b.contains(i)).collect();
        let b: Vec<NodeIdx> = b.iter().copied().filter(|i| !a.contains(i)).collect();
        for &x in &a {
            for &y in &b {
                self.world.net.cut(x, y);
                if !oneway {
                    self.world.net.cut(y, x);
                }
            }
        }
        let names = |v: &[NodeIdx]| v.iter().map(|&i| self.world.names[i]).collect::<Vec<_>>();
        self.world.record(NodeName::Controller, EventKind::Cut { from: names(&a), to: names(&b), oneway });
        format!("cut {} {} {}", self.names(&a), if oneway { "->" } else { "<->" }, self.names(&b))
    }

    fn slow(&mut self, a: &[NodeIdx], b: &[NodeIdx], oneway: bool, latency_ms: u64) -> String {
        let a: Vec<NodeIdx> = a.iter().copied().filter(|i| !b.contains(i)).collect();
        let b: Vec<NodeIdx> = b.iter().copied().filter(|i| !a.contains(i)).collect();
        let extra_us = latency_ms.saturating_mul(1000);
        for &x in &a {
            for &y in &b {
                self.world.net.slow(x, y, extra_us);
                if !oneway {
                    self.world.net.slow(y, x, extra_us);
                }
            }
        }
        let names = |v: &[NodeIdx]| v.iter().map(|&i| self.world.names[i]).collect::<Vec<_>>();
        self.world.record(NodeName::Controller, EventKind::Slow { from: names(&a), to: names(&b), oneway, latency_ms });
        format!("slowed {} {} {} by {latency_ms} ms", self.names(&a), if oneway { "->" } else { "<->" }, self.names(&b))
    }

    fn heal(&mut self, between: Option<&(Target, Target)>) -> String {
        match between {
            None => {
                self.world.net.heal_all();
                self.world.record(NodeName::Controller, EventKind::Heal { all: true });
                "healed every cut and slow link".into()
            }
            Some((x, y)) => {
                let (a, b) = (self.resolve(x), self.resolve(y));
                for &i in &a {
                    for &j in &b {
                        self.world.net.heal(i, j);
                        self.world.net.heal(j, i);
                    }
                }
                self.world.record(NodeName::Controller, EventKind::Heal { all: false });
                format!("healed {} <-> {}", self.names(&a), self.names(&b))
            }
        }
    }

    /// The final phase's first step: every cut heals, paused nodes resume, crashed nodes restart.
    pub fn heal_everything(&mut self) {
        if self.world.net.has_faults() {
            self.world.net.heal_all();
            self.world.record(NodeName::Controller, EventKind::Heal { all: true });
        }
        for idx in 0..self.world.supervisor_idx() {
            match self.world.status_of(idx) {
                NodeStatus::Paused => self.resume(idx),
                NodeStatus::Crashed | NodeStatus::Stopped => self.restart(idx),
                NodeStatus::Up | NodeStatus::Stopping => {}
            }
        }
    }

    /// The final phase restarts a node that finished a graceful stop it began before.
    pub fn restart_stopped(&mut self) {
        for idx in 0..self.world.supervisor_idx() {
            if self.world.status_of(idx) == NodeStatus::Stopped {
                self.restart(idx);
            }
        }
    }

    /// An operator asks the node to shut down gracefully; the node runs its shutdown and exits
    /// on its own (`World::node_stopped`).
    fn stop(&mut self, idx: NodeIdx) {
        let name = self.world.names[idx];
        self.set_status(idx, NodeStatus::Stopping);
        self.world.record(name, EventKind::Stop { node: name });
        self.world.net.send(self.world.supervisor_idx(), idx, Msg::Stop);
    }
}
