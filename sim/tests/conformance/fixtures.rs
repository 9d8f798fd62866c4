//! What the conformance modules share: Kafka's test setups in losslab terms.
//!
//! - `PartitionTest` (one `Partition` on broker 101, a mock clock, `replica.lag.time.max.ms` at
//!   its default): broker 1 of a `Cluster` whose clock starts at `T0_US`, driven with explicit
//!   fetch offsets as `fetchFollower` does. Broker 101 is broker 1, 102 is 2, 103 is 3.
//! - The controller (`PartitionChangeBuilderTest`, `ReplicationControlManagerTest`,
//!   `PartitionLeaderElectionAlgorithmsTest`): `election::apply` on a `PartitionState`, and
//!   `Controller`, which takes the steps `controller/node.rs` takes around it (fence, unfence,
//!   unclean shutdown, AlterPartition).

use crate::common::{batch, state, Cluster, P};
use losslab_model::config::MetadataMode;
use losslab_model::KafkaVersion;
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::{FollowerFetch, FollowerView, Replica, ReplicaRules, Role, StateChange};
use losslab_sim::controller::election::{self, Change, Election, Origin, Outcome, Rules};
use losslab_sim::protocol::{KafkaError, PartitionState};
use std::collections::BTreeSet;

pub const V0_11: KafkaVersion = KafkaVersion::new(0, 11);
pub const V2_0: KafkaVersion = KafkaVersion::new(2, 0);
pub const V2_6: KafkaVersion = KafkaVersion::new(2, 6);
pub const V3_4: KafkaVersion = KafkaVersion::new(3, 4);
pub const V3_5: KafkaVersion = KafkaVersion::new(3, 5);
pub const V3_8: KafkaVersion = KafkaVersion::new(3, 8);
pub const V4_0: KafkaVersion = KafkaVersion::new(4, 0);

/// Kafka's `Defaults.ReplicaLagTimeMaxMs` (3.7).
pub const KAFKA_LAG_MS: u64 = 30_000;
/// Where the mock clock starts. Kafka's `MockTime` starts at the wall clock: far past any lag, so
/// that a follower's "never caught up" (time 0) is long ago.
pub const T0_US: u64 = 1_000_000_000_000;

// ------------------------------------------------------------------------------ replicas

pub fn replica_rules(version: KafkaVersion, min_isr: u32, mode: MetadataMode) -> ReplicaRules {
    ReplicaRules { version, min_insync_replicas: min_isr, replica_lag_time_max_ms: KAFKA_LAG_MS, mode }
}

/// Three brokers with these logs and high-watermark checkpoints, just recovered under `rules`, the
/// clock at `T0_US`.
pub fn cluster_with(rules: ReplicaRules, logs: [Log; 3], hws: [u64; 3]) -> Cluster {
    let mut c = Cluster::with_logs(rules.version, rules.min_insync_replicas, logs, hws);
    for n in &mut c.nodes {
        n.replica = Replica::recover(n.replica.broker, P, &n.log, n.replica.high_watermark, rules.clone());
    }
    c.rules = rules;
    c.now_us = T0_US;
    c
}

/// KRaft brokers of `version`; broker 1 has `log` (HW checkpoint `hw`), the others nothing.
pub fn partition_test(version: KafkaVersion, min_isr: u32, log: Log, hw: u64) -> Cluster {
    cluster_with(
        replica_rules(version, min_isr, MetadataMode::KRaft),
        [log, Log::default(), Log::default()],
        [hw, 0, 0],
    )
}

/// Broker 1 following broker 2 at leader epoch 1, over `log`, its high watermark `hw`.
pub fn follower(version: KafkaVersion, log: &mut Log, hw: u64) -> Replica {
    let mut r = Replica::recover(1, P, log, hw, replica_rules(version, 1, MetadataMode::KRaft));
    r.apply_state(log, &leader_and_isr(2, 1, 1, &[1, 2], &[1, 2]), T0_US);
    r
}

/// `seedLogData(log, numRecords, leaderEpoch)`: single-record batches appended at the log end.
pub fn seed(log: &mut Log, n: u64, epoch: u32) {
    for _ in 0..n {
        log.append(batch(log.log_end_offset(), epoch, 1));
    }
}

pub fn seeded(n: u64, epoch: u32) -> Log {
    let mut log = Log::default();
    seed(&mut log, n, epoch);
    log
}

/// Kafka's `LeaderAndIsrPartitionState`.
pub fn leader_and_isr(
    leader: u32,
    leader_epoch: u32,
    partition_epoch: u32,
    isr: &[u32],
    replicas: &[u32],
) -> PartitionState {
    PartitionState { replicas: replicas.to_vec(), ..state(leader, leader_epoch, partition_epoch, isr) }
}

/// `partition.makeLeader(...)` on broker 1.
pub fn make_leader(
    c: &mut Cluster,
    leader_epoch: u32,
    partition_epoch: u32,
    isr: &[u32],
    replicas: &[u32],
) -> StateChange {
    c.apply(1, &leader_and_isr(1, leader_epoch, partition_epoch, isr, replicas))
}

/// `fetchFollower(partition, replicaId, fetchOffset)` against leader 1: the follower sends the
/// leader's own epoch (Kafka's test sends none, which skips the check) and no last fetched epoch.
pub fn fetch_follower(c: &mut Cluster, follower: u32, fetch_offset: u64) -> FollowerFetch {
    let now = c.now_us;
    let n = c.node_mut(1);
    let epoch = n.replica.leader_epoch;
    n.replica.fetch_as_leader(&n.log, follower, fetch_offset, None, epoch, now).expect("the fetch is answered")
}

/// The leader's view of `follower` (`assertReplicaState`).
pub fn view(c: &Cluster, follower: u32) -> FollowerView {
    match &c.replica(1).role {
        Role::Leader { followers, .. } => followers[&follower].clone(),
        Role::Follower { .. } => panic!("broker 1 does not lead"),
    }
}

/// `partitionState.maximalIsr`: the ISR plus the members an AlterPartition in flight adds.
pub fn maximal_isr(r: &Replica) -> Vec<u32> {
    let mut all: BTreeSet<u32> = r.isr().iter().copied().collect();
    if let Role::Leader { pending_isr: Some(p), .. } = &r.role {
        all.extend(p.iter().copied());
    }
    all.into_iter().collect()
}

pub fn sleep_ms(c: &mut Cluster, ms: u64) {
    c.now_us += ms * 1000;
}

/// `partition.maybeShrinkIsr()` on broker 1, now.
pub fn maybe_shrink_isr(c: &mut Cluster) -> Option<Vec<u32>> {
    c.shrink_isr(1)
}

/// `alterPartitionManager.completeIsrUpdate(newPartitionEpoch)`: the controller accepts the ISR
/// broker 1 asked for.
pub fn complete_isr_update(c: &mut Cluster, new_partition_epoch: u32) {
    let n = c.node_mut(1);
    let r = &mut n.replica;
    let Role::Leader { pending_isr: Some(requested), .. } = &r.role else { panic!("no AlterPartition in flight") };
    let requested = requested.clone();
    let accepted = leader_and_isr(1, r.leader_epoch, new_partition_epoch, &requested, &r.replicas.clone());
    let requested_epoch = r.partition_epoch;
    r.on_alter_partition(&n.log, &requested, requested_epoch, Ok(&accepted));
}

/// `alterPartitionManager.failIsrUpdate(error)`.
pub fn fail_isr_update(c: &mut Cluster, error: KafkaError) {
    let n = c.node_mut(1);
    let r = &mut n.replica;
    let Role::Leader { pending_isr: Some(requested), .. } = &r.role else { panic!("no AlterPartition in flight") };
    let requested = requested.clone();
    let requested_epoch = r.partition_epoch;
    r.on_alter_partition(&n.log, &requested, requested_epoch, Err(error));
}

// ------------------------------------------------------------------------------ controller

/// The rules a KRaft controller of `version` applies (as `controller/node.rs` builds them), with
/// the unclean topic setting off.
pub fn kraft_rules(version: KafkaVersion, min_isr: u32, elr: bool) -> Rules {
    Rules {
        min_insync_replicas: min_isr,
        elr,
        unclean: false,
        mode: MetadataMode::KRaft,
        bump_epoch_on_shrink: version.kraft_bumps_epoch_on_isr_shrink(),
        keep_last_isr_member: version.keeps_last_isr_member(),
    }
}

/// Kafka's `PartitionRegistration` (ISRs and ELRs sorted, as losslab keeps them).
pub fn registration(replicas: &[u32], isr: &[u32], leader: Option<u32>) -> PartitionState {
    PartitionState { leader, ..leader_and_isr(0, 100, 200, isr, replicas) }
}

/// One `PartitionChangeBuilder.build()` applied to `st`.
pub fn build(
    st: &mut PartitionState,
    target_isr: &[u32],
    election: Election,
    acceptable: &dyn Fn(u32) -> bool,
    unclean_shutdown: &[u32],
    rules: Rules,
) -> Outcome {
    let change =
        Change { target_isr: target_isr.to_vec(), origin: Origin::Controller, election, acceptable, unclean_shutdown };
    election::apply(st, &change, rules)
}

/// The controller's partitions and the live (registered, unfenced) brokers, changed the way
/// `controller/node.rs` changes them: `remove_from_isrs` when a broker is fenced or comes back
/// from an unclean shutdown, `elect_offline` when one is unfenced, `on_alter_partition` for a
/// leader's AlterPartition that passed validation.
pub struct Controller {
    pub partitions: Vec<PartitionState>,
    pub brokers: Vec<u32>,
    pub live: BTreeSet<u32>,
    pub rules: Rules,
}

impl Controller {
    /// `registerBrokers` + `unfenceBrokers` + `createTestTopic`: every partition led by its first
    /// replica, the ISR all its replicas, epochs 0.
    pub fn new(brokers: &[u32], assignments: &[&[u32]], rules: Rules) -> Controller {
        let partitions = assignments
            .iter()
            .enumerate()
            .map(|(p, replicas)| PartitionState {
                partition: p as u32,
                ..leader_and_isr(replicas[0], 0, 0, &sorted(replicas), replicas)
            })
            .collect();
        Controller { partitions, brokers: brokers.to_vec(), live: brokers.iter().copied().collect(), rules }
    }

    fn change(
        &mut self,
        p: usize,
        target_isr: Vec<u32>,
        origin: Origin,
        election: Election,
        excluded: &[u32],
        unclean_shutdown: &[u32],
    ) -> Outcome {
        let live = &self.live;
        let acceptable = |r: u32| live.contains(&r) && !excluded.contains(&r);
        let change = Change { target_isr, origin, election, acceptable: &acceptable, unclean_shutdown };
        election::apply(&mut self.partitions[p], &change, self.rules)
    }

    fn remove_from_isrs(&mut self, b: u32, unclean_shutdown: bool) {
        let unclean: &[u32] = if unclean_shutdown { &[b] } else { &[] };
        for p in 0..self.partitions.len() {
            let s = &self.partitions[p];
            if s.isr.contains(&b) || s.leader == Some(b) || s.elr.contains(&b) {
                let target = s.isr.iter().copied().filter(|&r| r != b).collect();
                self.change(p, target, Origin::Controller, Election::Normal, &[b], unclean);
            }
        }
    }

    /// The controller fences `b` (`handleBrokerFenced`).
    pub fn fence(&mut self, b: u32) {
        if self.live.remove(&b) {
            self.remove_from_isrs(b, false);
        }
    }

    /// `ctx.fenceBrokers(set)`: every other registered broker heartbeats (and is unfenced), then
    /// the stale ones are fenced one at a time, lowest id first (the order the heartbeat manager
    /// finds them in these tests).
    pub fn fence_brokers(&mut self, set: &[u32]) {
        for b in self.brokers.clone() {
            if !set.contains(&b) && !self.live.contains(&b) {
                self.unfence(b);
            }
        }
        for &b in set {
            self.fence(b);
        }
    }

    /// A KRaft controlled shutdown (`handleBrokerInControlledShutdown`): the broker is no longer
    /// live (`is_live` is false while it shuts down) and leaves every ISR at once.
    pub fn controlled_shutdown(&mut self, b: u32) {
        self.fence(b);
    }

    /// `handleBrokerUnfenced`: leaderless partitions may elect it.
    pub fn unfence(&mut self, b: u32) {
        self.live.insert(b);
        for p in 0..self.partitions.len() {
            if self.partitions[p].leader.is_none() {
                let isr = self.partitions[p].isr.clone();
                self.change(p, isr, Origin::Controller, Election::Normal, &[], &[]);
            }
        }
    }

    /// `handleBrokerUncleanShutdown` (KIP-966): it leaves every ISR and ELR.
    pub fn unclean_shutdown(&mut self, b: u32) {
        self.remove_from_isrs(b, true);
    }

    /// A leader's AlterPartition to `isr` that passed validation.
    pub fn alter_partition(&mut self, p: usize, isr: &[u32]) -> Outcome {
        self.change(p, isr.to_vec(), Origin::Leader, Election::Normal, &[], &[])
    }

    /// An operator's election of the given kind on partition `p` (`electLeaders`), when needed.
    pub fn elect(&mut self, p: usize, election: Election) -> Outcome {
        let isr = self.partitions[p].isr.clone();
        self.change(p, isr, Origin::Controller, election, &[], &[])
    }
}

pub fn sorted(v: &[u32]) -> Vec<u32> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v
}
