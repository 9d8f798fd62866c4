//! The world of one run: everything that outlives a node's process. Disks (a crash kills the
//! process, not the disk), the controller's metadata log (KRaft keeps it replicated and
//! durable), the network, the recorder, what each producer's app has handed to `send()`, and
//! which nodes are up. Nodes reach it through an `Arc`; only the nemesis changes node status.

use crate::controller::ControllerStore;
use crate::disk::Disk;
use crate::network::{Network, NodeIdx};
use crate::recorder::Recorder;
use losslab_model::history::{MsgId, NodeName};
use losslab_model::Scenario;
use madsim::runtime::NodeHandle;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Whether a node's process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Up,
    Paused,
    Crashed,
}

/// What a producer's application has done so far. It lives outside the producer process: it is
/// the app's source of work, so a restarted producer goes on with the records not yet handed to
/// `send()`, and whatever its crashed incarnation held in memory is gone.
#[derive(Debug, Default)]
pub struct ProducerProgress {
    /// The next workload record to hand to `send()` (0-based `seq`).
    pub next_seq: u64,
    /// The next `seq` for a record the app resends after a failure (numbered after the workload).
    pub next_resend_seq: u64,
    /// Handed to `send()`, outcome not yet learned.
    pub outstanding: BTreeSet<MsgId>,
    /// Failed records the app will resend as new records (`app.on.failure=resend`).
    pub to_resend: VecDeque<MsgId>,
    /// Records an `app.send=sync` app handed to `send()` but never saw confirmed before its
    /// process crashed: it sends them again after the restart (at-least-once).
    pub replay: VecDeque<MsgId>,
    pub sent: u64,
    pub acked: u64,
}

/// What a consumer's application has processed, per partition: the next offset it would
/// process. Read by the final phase to know when the group has drained every partition.
#[derive(Debug, Default)]
pub struct ConsumerProgress {
    pub processed_to: BTreeMap<u32, u64>,
}

/// What a running broker's replica looks like from outside (for the final phase and the final
/// state; no node reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaObs {
    pub high_watermark: u64,
    pub leader_epoch: u32,
    pub is_leader: bool,
}

pub struct World {
    pub scenario: Scenario,
    /// Node index -> name: brokers, the controller, producers, consumers, then the supervisor.
    pub names: Vec<NodeName>,
    pub net: Arc<Network>,
    pub recorder: Recorder,
    /// Broker `b{i}`'s disk at index `i - 1`.
    pub disks: Vec<Mutex<Disk>>,
    pub controller: Mutex<ControllerStore>,
    pub producers: Vec<Mutex<ProducerProgress>>,
    pub consumers: Vec<Mutex<ConsumerProgress>>,
    pub status: Mutex<Vec<NodeStatus>>,
    /// (broker, partition) -> the replica's in-memory state, while its broker runs.
    pub observed: Mutex<BTreeMap<(u32, u32), ReplicaObs>>,
    /// Nodes that have started at least once.
    started: Mutex<BTreeSet<NodeIdx>>,
    /// Every process start gets a new incarnation number (broker registration epochs).
    next_incarnation: AtomicU64,
}

impl World {
    pub fn new(scenario: Scenario, wire: NodeHandle) -> Arc<World> {
        let b = scenario.brokers as usize;
        let p = scenario.workload.producers as usize;
        let c = scenario.workload.consumers as usize;
        let mut names: Vec<NodeName> = (1..=b as u32).map(NodeName::Broker).collect();
        names.push(NodeName::Controller);
        names.extend((1..=p as u32).map(NodeName::Producer));
        names.extend((1..=c as u32).map(NodeName::Consumer));
        // The supervisor (nemesis) also has a mailbox: it talks to the controller like an
        // operator's admin client. It is named the controller in the history, never cut.
        names.push(NodeName::Controller);
        let n = names.len();
        let net = Arc::new(Network::new(n, scenario.network.latency_ms_min, scenario.network.latency_ms_max, wire));
        let messages = scenario.workload.messages;
        World {
            disks: (0..b).map(|_| Mutex::new(Disk::default())).collect(),
            controller: Mutex::new(ControllerStore::new(&scenario)),
            producers: (0..p)
                .map(|_| Mutex::new(ProducerProgress { next_resend_seq: messages, ..Default::default() }))
                .collect(),
            consumers: (0..c).map(|_| Mutex::new(ConsumerProgress::default())).collect(),
            status: Mutex::new(vec![NodeStatus::Up; n]),
            next_incarnation: AtomicU64::new(1),
            observed: Mutex::new(BTreeMap::new()),
            started: Mutex::new(BTreeSet::new()),
            recorder: Recorder::new(),
            names,
            net,
            scenario,
        }
        .into()
    }

    pub fn broker_idx(&self, broker: u32) -> NodeIdx {
        broker as usize - 1
    }

    pub fn controller_idx(&self) -> NodeIdx {
        self.scenario.brokers as usize
    }

    pub fn producer_idx(&self, producer: u32) -> NodeIdx {
        self.controller_idx() + producer as usize
    }

    pub fn consumer_idx(&self, consumer: u32) -> NodeIdx {
        self.controller_idx() + self.scenario.workload.producers as usize + consumer as usize
    }

    pub fn supervisor_idx(&self) -> NodeIdx {
        self.names.len() - 1
    }

    /// The index of a named node.
    pub fn idx_of(&self, name: NodeName) -> NodeIdx {
        match name {
            NodeName::Broker(b) => self.broker_idx(b),
            NodeName::Controller => self.controller_idx(),
            NodeName::Producer(p) => self.producer_idx(p),
            NodeName::Consumer(c) => self.consumer_idx(c),
        }
    }

    pub fn status_of(&self, idx: NodeIdx) -> NodeStatus {
        self.status.lock().unwrap()[idx]
    }

    /// True the first time a node starts, false on every restart.
    pub fn first_start(&self, idx: NodeIdx) -> bool {
        self.started.lock().unwrap().insert(idx)
    }

    pub fn new_incarnation(&self) -> u64 {
        self.next_incarnation.fetch_add(1, Ordering::Relaxed)
    }

    pub fn now_us(&self) -> u64 {
        self.recorder.now_us()
    }

    pub fn record(&self, node: NodeName, kind: losslab_model::history::EventKind) {
        self.recorder.record(node, kind)
    }

    /// Records handed to `send()` and records acknowledged, over every producer.
    pub fn sent_and_acked(&self) -> (u64, u64) {
        self.producers.iter().fold((0, 0), |(s, a), p| {
            let p = p.lock().unwrap();
            (s + p.sent, a + p.acked)
        })
    }
}
