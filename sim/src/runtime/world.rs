//! The world of one run: everything that outlives a node's process. Disks (a crash kills the
//! process, not the disk), the controller's metadata log (KRaft keeps it replicated and
//! durable), the network, the recorder, what each producer's app has handed to `send()`, and
//! which nodes are up. Nodes reach it through an `Arc`; only the nemesis changes node status.
//!
//! With a consumer group, the world also creates `__consumer_offsets` (one partition, see
//! `coordinator`) next to the topic, and keeps the contents of its records: a record in that
//! partition's logs is `p0#N`, and `offsets_records[N]` is what it says. The logs decide which
//! records exist where; the table only spells them out, as the bytes of a record would.
//!
//! With a transactional producer the world likewise creates `__transaction_state` (one
//! partition, `TXN_STATE_PARTITION`) and keeps its records' contents in `txn_records`.

use crate::broker::coordinator::TxnRecord;
use crate::broker::disk::Disk;
use crate::controller::store::ControllerStore;
use crate::protocol::{
    Batch, OffsetsRecord, PartitionState, OFFSETS_PARTITION, OFFSETS_PRODUCER, OFFSETS_REPLICATION_FACTOR,
    TXN_STATE_PARTITION,
};
use crate::runtime::network::{Network, NodeIdx};
use crate::runtime::recorder::Recorder;
use losslab_model::history::{MsgId, NodeName};
use losslab_model::Scenario;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Whether a node's process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Up,
    Paused,
    Crashed,
    /// Asked to stop gracefully (SIGTERM): still running its shutdown.
    Stopping,
    /// Stopped gracefully: the process exited on its own.
    Stopped,
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
    /// Transactions the app has begun (`beginTransaction()`), over every incarnation: the last
    /// one's number (issue 16).
    pub txns: u64,
}

/// What a running consumer publishes for the final phase, which reads it to know when the
/// group has drained every partition: its generation once it is a stable member of the group,
/// and for each partition assigned to it the next offset its app would process (everything
/// below is processed).
#[derive(Debug, Default)]
pub struct ConsumerProgress {
    /// How many times the consumer's process started.
    pub starts: u64,
    pub generation: Option<u32>,
    pub processed_to: BTreeMap<u32, u64>,
    /// Transactions its pipeline's producer has begun (`app.output=transactional`), over every
    /// incarnation: the last one's number.
    pub pipeline_txns: u64,
}

/// What a running broker's replica looks like from outside (for the final phase and the final
/// state; no node reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaObs {
    pub high_watermark: u64,
    pub leader_epoch: u32,
    pub is_leader: bool,
}

/// What each record of an internal partition says: record `p0#N` of the partition's logs is
/// entry `N` (the logs carry ids, the contents live here, shared by every replica).
struct InternalRecords<T>(Mutex<Vec<T>>);

impl<T: Clone> InternalRecords<T> {
    fn push(&self, record: T) -> MsgId {
        let mut records = self.0.lock().unwrap();
        records.push(record);
        MsgId { producer: OFFSETS_PRODUCER, seq: records.len() as u64 - 1 }
    }

    /// `None` for anything that is not one of these records.
    fn get(&self, msg: MsgId) -> Option<T> {
        if msg.producer != OFFSETS_PRODUCER {
            return None;
        }
        let index = usize::try_from(msg.seq).ok()?;
        self.0.lock().unwrap().get(index).cloned()
    }
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
    /// What each record of `__consumer_offsets` says (`p0#N` is entry `N`).
    offsets_records: InternalRecords<OffsetsRecord>,
    /// Member ids the group coordinators hand out, unique over the run.
    next_member_serial: AtomicU64,
    /// What each record of `__transaction_state` says (`p0#N` is entry `N`).
    txn_records: InternalRecords<TxnRecord>,
    /// Producer ids the transaction coordinators hand out (`ProducerIdManager`), unique over
    /// the run and apart from the idempotent producers' (counted down from the top).
    next_txn_producer_id: AtomicU64,
}

/// Worlds not yet dropped, in this process. A run must free its world (and with it its logs,
/// history and tasks) when it ends; `sim/tests/memory.rs` holds it to that.
static LIVE_WORLDS: AtomicUsize = AtomicUsize::new(0);

pub fn live_worlds() -> usize {
    LIVE_WORLDS.load(Ordering::SeqCst)
}

impl Drop for World {
    fn drop(&mut self) {
        LIVE_WORLDS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl World {
    pub fn new(scenario: Scenario) -> Arc<World> {
        LIVE_WORLDS.fetch_add(1, Ordering::SeqCst);
        let start = crate::runtime::clock::now();
        let b = scenario.brokers as usize;
        let p = scenario.workload.producers as usize;
        let c = scenario.workload.consumers as usize;
        let mut names: Vec<NodeName> = (1..=b as u32).map(NodeName::Broker).collect();
        names.push(NodeName::Controller);
        names.extend((1..=p as u32).map(NodeName::Producer));
        names.extend((1..=c as u32).map(NodeName::Consumer));
        // The supervisor (nemesis) also has an inbox: it talks to the controller like an
        // operator's admin client. It is named the controller in the history, never cut.
        names.push(NodeName::Controller);
        let n = names.len();
        let net = Arc::new(Network::new(n, scenario.network.latency_ms_min, scenario.network.latency_ms_max, start));
        let messages = scenario.workload.messages;
        let mut controller = ControllerStore::new(&scenario);
        let mut disks: Vec<Disk> = (0..b).map(|_| Disk::default()).collect();
        let mut offsets_records = Vec::new();
        if c > 0 {
            let state = offsets_partition(&scenario);
            bootstrap_offsets(&scenario, &state, &mut disks, &mut offsets_records);
            controller.partitions.insert(OFFSETS_PARTITION, state);
        }
        if transactions_on(&scenario) {
            controller.partitions.insert(TXN_STATE_PARTITION, txn_state_partition(&scenario));
        }
        World {
            disks: disks.into_iter().map(Mutex::new).collect(),
            controller: Mutex::new(controller),
            offsets_records: InternalRecords(Mutex::new(offsets_records)),
            next_member_serial: AtomicU64::new(1),
            txn_records: InternalRecords(Mutex::new(Vec::new())),
            next_txn_producer_id: AtomicU64::new(1 << 40),
            producers: (0..p)
                .map(|_| Mutex::new(ProducerProgress { next_resend_seq: messages, ..Default::default() }))
                .collect(),
            consumers: (0..c).map(|_| Mutex::new(ConsumerProgress::default())).collect(),
            status: Mutex::new(vec![NodeStatus::Up; n]),
            next_incarnation: AtomicU64::new(1),
            observed: Mutex::new(BTreeMap::new()),
            started: Mutex::new(BTreeSet::new()),
            recorder: Recorder::new(start),
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

    /// A process exited after a graceful shutdown: its OS closes its connections (peers hear
    /// at once) and refuses new ones until it starts again.
    pub fn node_stopped(&self, idx: NodeIdx) {
        self.status.lock().unwrap()[idx] = NodeStatus::Stopped;
        self.net.unregister(idx, true);
        let name = self.names[idx];
        self.record(name, losslab_model::history::EventKind::Stopped { node: name });
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

    /// A fresh member id serial for a group coordinator to hand out.
    pub fn new_member_serial(&self) -> u64 {
        self.next_member_serial.fetch_add(1, Ordering::Relaxed)
    }

    /// Stores a new record of `__consumer_offsets` and returns the id it has in the logs.
    pub fn new_offsets_record(&self, record: OffsetsRecord) -> MsgId {
        self.offsets_records.push(record)
    }

    /// What the record `msg` of `__consumer_offsets` says (`None` for anything else).
    pub fn offsets_record(&self, msg: MsgId) -> Option<OffsetsRecord> {
        self.offsets_records.get(msg)
    }

    /// Stores a new record of `__transaction_state` and returns the id it has in the logs.
    pub fn new_txn_record(&self, record: TxnRecord) -> MsgId {
        self.txn_records.push(record)
    }

    /// What the record `msg` of `__transaction_state` says.
    pub fn txn_record(&self, msg: MsgId) -> Option<TxnRecord> {
        self.txn_records.get(msg)
    }

    /// A fresh producer id for a transaction coordinator to hand out.
    pub fn new_txn_producer_id(&self) -> u64 {
        self.next_txn_producer_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether the run has transactions (and so `__transaction_state`).
    pub fn transactions_on(&self) -> bool {
        transactions_on(&self.scenario)
    }

    /// The partitions of the workload's topic (not `__consumer_offsets`).
    pub fn topic_partitions(&self) -> std::ops::Range<u32> {
        0..self.scenario.topic.partitions
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

/// The min ISR of an internal partition, `None` for a topic partition. `__transaction_state`:
/// `transaction.state.log.min.isr` (`TransactionStateManager.transactionTopicConfigs`).
/// `__consumer_offsets` sets no `min.insync.replicas` of its own (`GroupMetadataManager`'s topic
/// configs), so it has the broker-wide one; the lab takes the scenario's, capped at the offsets
/// topic's replication factor, so that a topic with more replicas than the offsets topic (4
/// brokers, `replication.factor` 4, `min.insync.replicas` 4) cannot leave the group without a
/// writable coordinator (issue 17).
pub fn internal_min_insync_replicas(s: &Scenario, partition: u32) -> Option<u32> {
    match partition {
        OFFSETS_PARTITION => {
            Some(s.effective_min_insync_replicas().min(OFFSETS_REPLICATION_FACTOR.min(s.brokers.max(1))))
        }
        TXN_STATE_PARTITION => Some(s.txn_state_min_insync_replicas()),
        _ => None,
    }
}

/// `__consumer_offsets` as the first consumer's FindCoordinator creates it: replicas from the
/// last broker on (Kafka spreads its 50 partitions over the brokers; this puts the group's
/// coordinator away from the first broker, which leads partition 0), all in sync.
fn offsets_partition(s: &Scenario) -> PartitionState {
    let brokers = s.brokers;
    let rf = OFFSETS_REPLICATION_FACTOR.min(brokers);
    let replicas: Vec<u32> = (0..rf).map(|i| (brokers - 1 + i) % brokers + 1).collect();
    PartitionState::created(OFFSETS_PARTITION, replicas)
}

/// The group existed before the workload: it had consumed the empty topic and committed
/// offset 0 of every partition, and those commits are on every replica of the offsets
/// partition, flushed. So a consumer that crashes before its first commit of a partition
/// resumes at 0 (as the group's committed offset), and `auto.offset.reset` decides only when
/// a committed offset is missing (a wiped disk) or out of range (an unclean election).
fn bootstrap_offsets(s: &Scenario, state: &PartitionState, disks: &mut [Disk], records: &mut Vec<OffsetsRecord>) {
    let msgs: Vec<MsgId> = (0..s.topic.partitions)
        .map(|partition| {
            records.push(OffsetsRecord::Commit { consumer: 0, partition, offset: 0, leader_epoch: None });
            MsgId { producer: OFFSETS_PRODUCER, seq: records.len() as u64 - 1 }
        })
        .collect();
    for &b in &state.replicas {
        let stored = disks[b as usize - 1].log_mut(OFFSETS_PARTITION);
        stored.log.append(Batch { base_offset: 0, leader_epoch: 0, msgs: msgs.clone().into(), stamp: None, txn: None });
        stored.flush();
        stored.hw_checkpoint = stored.log.log_end_offset();
    }
}

/// A producer with `transactional.id`, or a transactional pipeline, needs the coordinator.
pub fn transactions_on(s: &Scenario) -> bool {
    (s.workload.producers > 0 && s.producer.transactional_id.is_some())
        || (s.workload.consumers > 0 && s.consumer.app_output == losslab_model::config::AppOutput::Transactional)
}

/// `__transaction_state` as the first transactional producer's FindCoordinator creates it
/// (`TransactionStateManager`/`AutoTopicCreationManager`): `transaction.state.log.replication.factor`
/// replicas, capped at the brokers there are (the lab's choice, as for the offsets topic), from
/// the second broker on so that the transaction coordinator is neither partition 0's leader nor
/// the group coordinator on three brokers; all in sync, empty.
fn txn_state_partition(s: &Scenario) -> PartitionState {
    let brokers = s.brokers;
    let rf = s.broker.txn.transaction_state_log_replication_factor.clamp(1, brokers);
    let replicas: Vec<u32> = (0..rf).map(|i| (1 + i) % brokers + 1).collect();
    PartitionState::created(TXN_STATE_PARTITION, replicas)
}
