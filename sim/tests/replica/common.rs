//! The harness every replica test shares: three brokers' replicas of partition 0 and their
//! logs, driven synchronously the way the broker shell drives them.

use losslab_model::config::Acks;
use losslab_model::{KafkaVersion, MsgId};
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::{FollowerFetch, LeaderAppend, Replica, ReplicaRules, Role, StateChange};
use losslab_sim::protocol::{Batch, FetchData, KafkaError, PartitionState, ProducerStamp};

pub const P: u32 = 0;
pub const LAG_MS: u64 = 100;
pub const LAG_US: u64 = LAG_MS * 1000;
pub const BROKERS: [u32; 3] = [1, 2, 3];

pub const V0_10: KafkaVersion = KafkaVersion::new(0, 10);
pub const V0_11: KafkaVersion = KafkaVersion::new(0, 11);
pub const V3_6: KafkaVersion = KafkaVersion::new(3, 6);
pub const V3_7: KafkaVersion = KafkaVersion::new(3, 7);

pub fn rules(version: KafkaVersion, min_isr: u32) -> ReplicaRules {
    ReplicaRules {
        version,
        min_insync_replicas: min_isr,
        replica_lag_time_max_ms: LAG_MS,
        mode: losslab_model::config::MetadataMode::KRaft,
    }
}

pub fn state(leader: u32, leader_epoch: u32, partition_epoch: u32, isr: &[u32]) -> PartitionState {
    PartitionState {
        partition: P,
        replicas: BROKERS.to_vec(),
        leader: Some(leader),
        leader_epoch,
        partition_epoch,
        isr: isr.to_vec(),
        elr: vec![],
        last_known_elr: vec![],
    }
}

pub fn msg(seq: u64) -> MsgId {
    MsgId { producer: 1, seq }
}

/// A batch of `n` records `msg(base)..`, for building logs by hand.
pub fn batch(base: u64, epoch: u32, n: u64) -> Batch {
    Batch { base_offset: base, leader_epoch: epoch, msgs: (base..base + n).map(msg).collect(), stamp: None, txn: None }
}

pub fn log_of(batches: &[Batch]) -> Log {
    let mut log = Log::default();
    for b in batches {
        log.append(b.clone());
    }
    log
}

/// One broker's replica of the partition and its log.
#[derive(Clone, Debug)]
pub struct Node {
    pub replica: Replica,
    pub log: Log,
}

/// Three brokers' replicas of partition 0, driven synchronously.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub rules: ReplicaRules,
    pub now_us: u64,
    pub next_msg: u64,
    /// Harness shortcut: a broker that stops leading forgets epoch-cache entries past its log
    /// end up front (the replica now does this itself on its first truncation, as Kafka's
    /// `truncateTo` does). Off unless a test turns it on.
    pub forget_batchless_epochs: bool,
}

impl Cluster {
    pub fn new(version: KafkaVersion, min_isr: u32) -> Cluster {
        Cluster::with_logs(version, min_isr, [Log::default(), Log::default(), Log::default()], [0, 0, 0])
    }

    /// Brokers whose logs and high-watermark checkpoints are as given, just recovered.
    pub fn with_logs(version: KafkaVersion, min_isr: u32, logs: [Log; 3], hws: [u64; 3]) -> Cluster {
        let rules = rules(version, min_isr);
        let nodes = logs
            .into_iter()
            .zip(hws)
            .zip(BROKERS)
            .map(|((log, hw), b)| Node { replica: Replica::recover(b, P, &log, hw, rules.clone()), log })
            .collect();
        Cluster { nodes, rules, now_us: 0, next_msg: 1000, forget_batchless_epochs: false }
    }

    pub fn node(&self, b: u32) -> &Node {
        &self.nodes[b as usize - 1]
    }

    pub fn node_mut(&mut self, b: u32) -> &mut Node {
        &mut self.nodes[b as usize - 1]
    }

    pub fn replica(&self, b: u32) -> &Replica {
        &self.node(b).replica
    }

    pub fn hw(&self, b: u32) -> u64 {
        self.replica(b).high_watermark
    }

    pub fn leo(&self, b: u32) -> u64 {
        self.node(b).log.log_end_offset()
    }

    pub fn records(&self, b: u32) -> Vec<MsgId> {
        self.node(b).log.all_records()
    }

    /// Applies a controller push to `b` as the broker does: a pre-KIP-101 follower cuts its log
    /// to its high watermark.
    pub fn apply(&mut self, b: u32, st: &PartitionState) -> StateChange {
        let now = self.now_us;
        let forget = self.forget_batchless_epochs;
        let n = self.node_mut(b);
        let change = n.replica.apply_state(&mut n.log, st, now);
        if let StateChange::BecameFollower { truncate_to_hw } = change {
            if let Some(hw) = truncate_to_hw {
                n.replica.truncate(&mut n.log, hw);
            }
            if forget && n.log.epoch_cache().last().is_some_and(|e| e.1 >= n.log.log_end_offset()) {
                n.log = log_of(n.log.batches());
            }
        }
        change
    }

    pub fn apply_all(&mut self, st: &PartitionState) -> Vec<StateChange> {
        BROKERS.iter().map(|&b| self.apply(b, st)).collect()
    }

    pub fn new_msgs(&mut self, n: usize) -> Vec<MsgId> {
        let msgs = (self.next_msg..self.next_msg + n as u64).map(msg).collect();
        self.next_msg += n as u64;
        msgs
    }

    pub fn produce_msgs(
        &mut self,
        b: u32,
        msgs: &[MsgId],
        stamp: Option<ProducerStamp>,
        acks: Acks,
    ) -> Result<LeaderAppend, KafkaError> {
        let n = self.node_mut(b);
        n.replica.append_as_leader(&mut n.log, &msgs.into(), stamp, acks)
    }

    /// The leader `b` appends `n` new records.
    pub fn produce(&mut self, b: u32, n: usize, acks: Acks) -> Result<LeaderAppend, KafkaError> {
        let msgs = self.new_msgs(n);
        self.produce_msgs(b, &msgs, None, acks)
    }

    /// Follower `f` asks its leader for records from its log end; the answer is not applied.
    /// `None` when `f` knows no other leader.
    pub fn fetch_raw(&mut self, f: u32) -> Option<Result<FollowerFetch, KafkaError>> {
        let leader = self.replica(f).leader().filter(|&l| l != f)?;
        let fnode = self.node(f);
        let fetch_offset = fnode.log.log_end_offset();
        // As the broker's fetcher: the epoch goes out while the follower checks its log (always
        // from 2.8).
        let checks = fnode.replica.truncation_pending || self.rules.version.checks_divergence_on_every_fetch();
        let last_fetched_epoch =
            if self.rules.version.truncates_by_leader_epoch() && checks { fnode.log.latest_epoch() } else { None };
        let current_leader_epoch = fnode.replica.leader_epoch;
        let now = self.now_us;
        let l = self.node_mut(leader);
        Some(l.replica.fetch_as_leader(&l.log, f, fetch_offset, last_fetched_epoch, current_leader_epoch, now))
    }

    /// Follower `f` handles its leader's answer as the broker does.
    pub fn handle(&mut self, f: u32, answer: &FollowerFetch) {
        let n = self.node_mut(f);
        match &answer.data {
            FetchData::Records { batches, high_watermark } => {
                n.replica.truncation_pending = false;
                n.replica.append_as_follower(&mut n.log, batches.clone(), *high_watermark);
            }
            FetchData::EpochEnd { end_offset } => {
                let to = end_offset.unwrap_or(n.replica.high_watermark);
                n.replica.truncate(&mut n.log, to);
                n.replica.truncation_pending = false;
            }
            FetchData::Diverging { epoch, end_offset } => {
                let t = n.replica.truncation_for(&n.log, *epoch, *end_offset);
                n.replica.truncate(&mut n.log, t.to_offset);
            }
            FetchData::Committed { .. } => unreachable!("followers never fetch read_committed"),
            FetchData::OutOfRange { log_end_offset } => {
                n.replica.truncate(&mut n.log, *log_end_offset);
            }
        }
    }

    /// One fetch round trip of follower `f`.
    pub fn fetch(&mut self, f: u32) -> Result<FollowerFetch, KafkaError> {
        let answer = self.fetch_raw(f).unwrap_or_else(|| panic!("b{f} has no leader to fetch from"))?;
        self.handle(f, &answer);
        Ok(answer)
    }

    /// Leader `b`'s periodic ISR shrink check, now.
    pub fn shrink_isr(&mut self, b: u32) -> Option<Vec<u32>> {
        let now = self.now_us;
        let n = self.node_mut(b);
        n.replica.maybe_shrink_isr(&n.log, now)
    }

    /// A process restart: the log stays, the in-memory HW is the checkpoint.
    pub fn restart(&mut self, b: u32) {
        let rules = self.rules.clone();
        let n = self.node_mut(b);
        n.replica = Replica::recover(b, P, &n.log, n.replica.high_watermark, rules);
    }
}

pub fn records_of(answer: &FollowerFetch) -> Vec<Batch> {
    match &answer.data {
        FetchData::Records { batches, .. } => batches.clone(),
        other => panic!("expected records, got {other:?}"),
    }
}

pub fn pending_isr(r: &Replica) -> Option<Vec<u32>> {
    match &r.role {
        Role::Leader { pending_isr, .. } => pending_isr.clone(),
        Role::Follower { .. } => None,
    }
}

/// A leader `1` at epoch 1 with ISR `isr`, every broker told.
pub fn cluster_led_by_1(version: KafkaVersion, min_isr: u32, isr: &[u32]) -> Cluster {
    let mut c = Cluster::new(version, min_isr);
    let changes = c.apply_all(&state(1, 1, 1, isr));
    assert_eq!(changes[0], StateChange::BecameLeader);
    c
}

pub fn stamp(producer_epoch: u32, base_sequence: u32) -> ProducerStamp {
    ProducerStamp { producer_id: 7, producer_epoch, base_sequence }
}
