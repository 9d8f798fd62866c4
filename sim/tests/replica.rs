//! Unit and property tests for the pure replication state machine (`replica`, `log`):
//! leader append, follower fetch with leader-epoch divergence detection, ISR shrink and
//! expansion through AlterPartition, the high watermark, acks=all completion, the pre-KIP-101
//! truncation to the high watermark, KAFKA-15583 and idempotent deduplication.
//!
//! Everything here drives `Replica` the way `broker.rs` does, but synchronously: a fetch is a
//! request answered at once, a controller push is applied when the test says so.

use losslab_model::config::Acks;
use losslab_model::{KafkaVersion, MsgId};
use losslab_sim::log::{Batch, Log, SequenceCheck};
use losslab_sim::protocol::{FetchData, KafkaError, PartitionState, ProducerStamp};
use losslab_sim::replica::{FollowerFetch, LeaderAppend, Replica, ReplicaRules, Role, StateChange, Truncation};

const P: u32 = 0;
const LAG_MS: u64 = 100;
const LAG_US: u64 = LAG_MS * 1000;
const BROKERS: [u32; 3] = [1, 2, 3];

const V0_10: KafkaVersion = KafkaVersion::new(0, 10);
const V0_11: KafkaVersion = KafkaVersion::new(0, 11);
const V3_6: KafkaVersion = KafkaVersion::new(3, 6);
const V3_7: KafkaVersion = KafkaVersion::new(3, 7);

fn rules(version: KafkaVersion, min_isr: u32) -> ReplicaRules {
    ReplicaRules { version, min_insync_replicas: min_isr, replica_lag_time_max_ms: LAG_MS }
}

fn state(leader: u32, leader_epoch: u32, partition_epoch: u32, isr: &[u32]) -> PartitionState {
    PartitionState {
        partition: P,
        replicas: BROKERS.to_vec(),
        leader: Some(leader),
        leader_epoch,
        partition_epoch,
        isr: isr.to_vec(),
        elr: vec![],
    }
}

fn msg(seq: u64) -> MsgId {
    MsgId { producer: 1, seq }
}

/// A batch of `n` records `msg(base)..`, for building logs by hand.
fn batch(base: u64, epoch: u32, n: u64) -> Batch {
    Batch { base_offset: base, leader_epoch: epoch, msgs: (base..base + n).map(msg).collect(), stamp: None }
}

fn log_of(batches: &[Batch]) -> Log {
    let mut log = Log::default();
    for b in batches {
        log.append(b.clone());
    }
    log
}

/// One broker's replica of the partition and its log.
#[derive(Clone, Debug)]
struct Node {
    replica: Replica,
    log: Log,
}

/// Three brokers' replicas of partition 0, driven synchronously.
#[derive(Clone, Debug)]
struct Cluster {
    nodes: Vec<Node>,
    rules: ReplicaRules,
    now_us: u64,
    next_msg: u64,
    /// Harness shortcut: a broker that stops leading forgets epoch-cache entries past its log
    /// end up front (the replica now does this itself on its first truncation, as Kafka's
    /// `truncateTo` does). Off unless a test turns it on.
    forget_batchless_epochs: bool,
}

impl Cluster {
    fn new(version: KafkaVersion, min_isr: u32) -> Cluster {
        Cluster::with_logs(version, min_isr, [Log::default(), Log::default(), Log::default()], [0, 0, 0])
    }

    /// Brokers whose logs and high-watermark checkpoints are as given, just recovered.
    fn with_logs(version: KafkaVersion, min_isr: u32, logs: [Log; 3], hws: [u64; 3]) -> Cluster {
        let rules = rules(version, min_isr);
        let nodes = logs
            .into_iter()
            .zip(hws)
            .zip(BROKERS)
            .map(|((log, hw), b)| Node { replica: Replica::recover(b, P, &log, hw, rules.clone()), log })
            .collect();
        Cluster { nodes, rules, now_us: 0, next_msg: 1000, forget_batchless_epochs: false }
    }

    fn node(&self, b: u32) -> &Node {
        &self.nodes[b as usize - 1]
    }

    fn node_mut(&mut self, b: u32) -> &mut Node {
        &mut self.nodes[b as usize - 1]
    }

    fn replica(&self, b: u32) -> &Replica {
        &self.node(b).replica
    }

    fn hw(&self, b: u32) -> u64 {
        self.replica(b).high_watermark
    }

    fn leo(&self, b: u32) -> u64 {
        self.node(b).log.log_end_offset()
    }

    fn records(&self, b: u32) -> Vec<MsgId> {
        self.node(b).log.all_records()
    }

    /// Applies a controller push to `b` as the broker does: a pre-KIP-101 follower cuts its log
    /// to its high watermark.
    fn apply(&mut self, b: u32, st: &PartitionState) -> StateChange {
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

    fn apply_all(&mut self, st: &PartitionState) -> Vec<StateChange> {
        BROKERS.iter().map(|&b| self.apply(b, st)).collect()
    }

    fn new_msgs(&mut self, n: usize) -> Vec<MsgId> {
        let msgs = (self.next_msg..self.next_msg + n as u64).map(msg).collect();
        self.next_msg += n as u64;
        msgs
    }

    fn produce_msgs(
        &mut self,
        b: u32,
        msgs: &[MsgId],
        stamp: Option<ProducerStamp>,
        acks: Acks,
    ) -> Result<LeaderAppend, KafkaError> {
        let n = self.node_mut(b);
        n.replica.append_as_leader(&mut n.log, msgs, stamp, acks)
    }

    /// The leader `b` appends `n` new records.
    fn produce(&mut self, b: u32, n: usize, acks: Acks) -> Result<LeaderAppend, KafkaError> {
        let msgs = self.new_msgs(n);
        self.produce_msgs(b, &msgs, None, acks)
    }

    /// Follower `f` asks its leader for records from its log end; the answer is not applied.
    /// `None` when `f` knows no other leader.
    fn fetch_raw(&mut self, f: u32) -> Option<Result<FollowerFetch, KafkaError>> {
        let leader = self.replica(f).leader().filter(|&l| l != f)?;
        let fnode = self.node(f);
        let fetch_offset = fnode.log.log_end_offset();
        let last_fetched_epoch =
            if self.rules.version.truncates_by_leader_epoch() { fnode.log.latest_epoch() } else { None };
        let current_leader_epoch = fnode.replica.leader_epoch;
        let now = self.now_us;
        let l = self.node_mut(leader);
        Some(l.replica.fetch_as_leader(&l.log, f, fetch_offset, last_fetched_epoch, current_leader_epoch, now))
    }

    /// Follower `f` handles its leader's answer as the broker does.
    fn handle(&mut self, f: u32, answer: &FollowerFetch) {
        let n = self.node_mut(f);
        match &answer.data {
            FetchData::Records { batches, high_watermark } => {
                n.replica.append_as_follower(&mut n.log, batches.clone(), *high_watermark);
            }
            FetchData::Diverging { epoch, end_offset } => {
                let t = n.replica.truncation_for(&n.log, *epoch, *end_offset);
                n.replica.truncate(&mut n.log, t.to_offset);
            }
            FetchData::OutOfRange { log_end_offset } => {
                n.replica.truncate(&mut n.log, *log_end_offset);
            }
        }
    }

    /// One fetch round trip of follower `f`.
    fn fetch(&mut self, f: u32) -> Result<FollowerFetch, KafkaError> {
        let answer = self.fetch_raw(f).unwrap_or_else(|| panic!("b{f} has no leader to fetch from"))?;
        self.handle(f, &answer);
        Ok(answer)
    }

    /// Leader `b`'s periodic ISR shrink check, now.
    fn shrink_isr(&mut self, b: u32) -> Option<Vec<u32>> {
        let now = self.now_us;
        let n = self.node_mut(b);
        n.replica.maybe_shrink_isr(&n.log, now)
    }

    /// A process restart: the log stays, the in-memory HW is the checkpoint.
    fn restart(&mut self, b: u32) {
        let rules = self.rules.clone();
        let n = self.node_mut(b);
        n.replica = Replica::recover(b, P, &n.log, n.replica.high_watermark, rules);
    }
}

fn records_of(answer: &FollowerFetch) -> Vec<Batch> {
    match &answer.data {
        FetchData::Records { batches, .. } => batches.clone(),
        other => panic!("expected records, got {other:?}"),
    }
}

fn pending_isr(r: &Replica) -> Option<Vec<u32>> {
    match &r.role {
        Role::Leader { pending_isr, .. } => pending_isr.clone(),
        Role::Follower { .. } => None,
    }
}

/// A leader `1` at epoch 1 with ISR `isr`, every broker told.
fn cluster_led_by_1(version: KafkaVersion, min_isr: u32, isr: &[u32]) -> Cluster {
    let mut c = Cluster::new(version, min_isr);
    let changes = c.apply_all(&state(1, 1, 1, isr));
    assert_eq!(changes[0], StateChange::BecameLeader);
    c
}

// ------------------------------------------------------------------------------------------
// Leader append, acks=all, the high watermark
// ------------------------------------------------------------------------------------------

#[test]
fn acks_all_with_isr_below_min_isr_is_not_enough_replicas() {
    let mut c = cluster_led_by_1(V3_6, 2, &[1]);
    assert_eq!(c.produce(1, 2, Acks::All), Err(KafkaError::NotEnoughReplicas));
    assert_eq!(c.leo(1), 0, "a rejected acks=all batch is not appended");
    // acks=1 and acks=0 do not look at min.insync.replicas.
    assert!(c.produce(1, 2, Acks::Leader).is_ok());
    assert!(c.produce(1, 1, Acks::None).is_ok());
    assert_eq!(c.leo(1), 3);
    // With the ISR at min.insync.replicas, acks=all is accepted.
    let mut c = cluster_led_by_1(V3_6, 2, &[1, 2]);
    assert!(c.produce(1, 2, Acks::All).is_ok());
}

#[test]
fn only_the_leader_appends() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    assert_eq!(c.produce(2, 1, Acks::Leader), Err(KafkaError::NotLeaderOrFollower));
    assert_eq!(c.replica(2).acks_all_done(0), Some(Err(KafkaError::NotLeaderOrFollower)));
    // A replica that was never told anything is no leader either.
    let mut fresh = Cluster::new(V3_6, 1);
    assert_eq!(fresh.produce(1, 1, Acks::Leader), Err(KafkaError::NotLeaderOrFollower));
}

#[test]
fn hw_advances_only_when_every_isr_follower_fetched_past_the_offset() {
    let mut c = cluster_led_by_1(V3_6, 2, &[1, 2, 3]);
    let a = c.produce(1, 3, Acks::All).unwrap();
    assert_eq!(a, LeaderAppend { base_offset: 0, end_offset: 3, duplicate: false, hw_moved: None });
    assert_eq!(c.hw(1), 0);
    assert_eq!(c.replica(1).acks_all_done(3), None, "waits for the ISR");

    // b2 fetches from 0: it gets the batch, but the leader only learns it has it next time.
    let f = c.fetch(2).unwrap();
    assert_eq!(records_of(&f).len(), 1);
    assert_eq!(f.hw_moved, None);
    assert_eq!(c.leo(2), 3);
    // b2 fetches from 3: b2 is past the offset, b3 is not.
    let f = c.fetch(2).unwrap();
    assert_eq!(f.hw_moved, None);
    assert_eq!(c.hw(1), 0);
    assert_eq!(c.replica(1).acks_all_done(3), None);

    assert_eq!(c.fetch(3).unwrap().hw_moved, None);
    assert_eq!(c.hw(1), 0);
    // b3's second fetch proves it has offsets 0..3: the HW moves, and the answer carries it.
    let f = c.fetch(3).unwrap();
    assert_eq!(f.hw_moved, Some(3));
    assert_eq!(c.hw(1), 3);
    assert_eq!(c.replica(1).acks_all_done(3), Some(Ok(())));
    // The followers learn the HW from the answers to their fetches.
    c.fetch(2).unwrap();
    c.fetch(3).unwrap();
    assert_eq!((c.hw(2), c.hw(3)), (3, 3));
}

#[test]
fn a_fetch_answer_carries_the_hw_from_before_that_fetch() {
    // Kafka's Partition.readRecords takes `initialHighWatermark` before
    // updateFollowerFetchState moves it: the follower's HW lags the leader's by one fetch,
    // which is the window of KIP-101's first scenario.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 2, Acks::All).unwrap();
    c.fetch(2).unwrap();
    let f = c.fetch(2).unwrap();
    assert_eq!(f.hw_moved, Some(2));
    assert_eq!(f.data, FetchData::Records { batches: vec![], high_watermark: 0 });
    assert_eq!(c.hw(2), 0);
    c.fetch(2).unwrap();
    assert_eq!(c.hw(2), 2);
}

#[test]
fn hw_is_the_smallest_log_end_of_the_isr_not_of_the_replicas() {
    // b3 is not in the ISR: its log end does not hold the HW back.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 4, Acks::All).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.fetch(2).unwrap().hw_moved, Some(4));
    assert_eq!(c.leo(3), 0);
    // A leader alone in its ISR moves the HW as it appends.
    let mut c = cluster_led_by_1(V3_6, 1, &[1]);
    assert_eq!(c.produce(1, 2, Acks::Leader).unwrap().hw_moved, Some(2));
}

#[test]
fn acks_all_done_is_not_enough_replicas_after_append_when_the_isr_shrank() {
    for version in [V3_6, V3_7] {
        let mut c = cluster_led_by_1(version, 2, &[1, 2, 3]);
        c.produce(1, 3, Acks::All).unwrap();
        // Nobody fetches; both followers fall out of sync.
        c.now_us = LAG_US + 1;
        let proposal = c.shrink_isr(1);
        assert_eq!(proposal, Some(vec![1]));
        assert_eq!(c.replica(1).isr(), &[1, 2, 3], "nothing changes before the controller accepts");
        assert_eq!(c.replica(1).acks_all_done(3), None);

        let accepted = state(1, 1, 2, &[1]);
        let n = c.node_mut(1);
        let moved = n.replica.on_alter_partition(&n.log, &[1], 1, Ok(&accepted));
        assert_eq!(c.replica(1).isr(), &[1]);
        assert_eq!(c.replica(1).partition_epoch, 2);
        if version.freezes_hw_below_min_isr() {
            // KAFKA-15583: the HW stays below min.insync.replicas, the write keeps waiting.
            assert_eq!(moved, None, "{version}");
            assert_eq!(c.hw(1), 0);
            assert_eq!(c.replica(1).acks_all_done(3), None);
        } else {
            // The leader alone commits the write, but it is not replicated enough.
            assert_eq!(moved, Some(3), "{version}");
            assert_eq!(c.replica(1).acks_all_done(3), Some(Err(KafkaError::NotEnoughReplicasAfterAppend)));
        }
        // New acks=all writes are refused.
        assert_eq!(c.produce(1, 1, Acks::All), Err(KafkaError::NotEnoughReplicas));
    }
}

#[test]
fn acks_all_done_counts_the_maximal_isr_while_an_expansion_is_pending() {
    // min.insync.replicas=2, ISR {1}: an acks=1 write is committed on 3.6 but not enough
    // replicas. Once b2 is being added (pending), the maximal ISR has two members.
    let mut c = cluster_led_by_1(V3_6, 2, &[1]);
    c.produce(1, 2, Acks::Leader).unwrap();
    assert_eq!(c.replica(1).acks_all_done(2), Some(Err(KafkaError::NotEnoughReplicasAfterAppend)));
    let f = c.fetch(2).unwrap();
    assert_eq!(f.isr_proposal, None, "b2 at 0 is below the HW 2");
    let f = c.fetch(2).unwrap();
    assert_eq!(f.isr_proposal, Some(vec![1, 2]));
    assert_eq!(c.replica(1).isr(), &[1]);
    assert_eq!(c.replica(1).acks_all_done(2), Some(Ok(())));
}

#[test]
fn kafka_15583_freezes_hw_below_min_isr_from_3_7() {
    for (version, moved) in [(V3_6, Some(2)), (V3_7, None), (KafkaVersion::new(4, 1), None)] {
        let mut c = cluster_led_by_1(version, 2, &[1]);
        let a = c.produce(1, 2, Acks::Leader).unwrap();
        assert_eq!(a.hw_moved, moved, "{version}");
        // b2 catches up and is proposed; the HW waits for the controller on 3.7 since the ISR
        // itself (not the maximal ISR) is what is compared with min.insync.replicas.
        let first = c.fetch(2).unwrap();
        let second = c.fetch(2).unwrap();
        if moved.is_none() {
            assert_eq!(first.isr_proposal.or(second.isr_proposal), Some(vec![1, 2]));
            assert_eq!(c.hw(1), 0, "{version}");
            let n = c.node_mut(1);
            let hw = n.replica.on_alter_partition(&n.log, &[1, 2], 1, Ok(&state(1, 1, 2, &[1, 2])));
            assert_eq!(hw, Some(2), "{version}");
        } else {
            assert_eq!(c.hw(1), 2);
        }
    }
}

#[test]
fn the_hw_never_goes_back_and_a_reelected_leader_waits_for_its_followers_again() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 2, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.hw(1), 2);
    // The same broker leads again at a newer epoch: follower state is reset.
    let changes = c.apply_all(&state(1, 2, 2, &[1, 2]));
    assert_eq!(changes[0], StateChange::BecameLeader);
    assert_eq!(c.node(1).log.epoch_cache(), &[(1, 0), (2, 2)]);
    assert_eq!(c.hw(1), 2, "the HW does not go back");
    c.produce(1, 1, Acks::All).unwrap();
    assert_eq!(c.hw(1), 2);
    let f = c.fetch(2).unwrap();
    assert_eq!(f.hw_moved, None, "b2's log end is unknown until this fetch");
    assert_eq!(c.fetch(2).unwrap().hw_moved, Some(3));
}

// ------------------------------------------------------------------------------------------
// ISR shrink and expansion (AlterPartition)
// ------------------------------------------------------------------------------------------

#[test]
fn a_lagging_follower_is_proposed_out_and_nothing_changes_until_the_controller_accepts() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.produce(1, 2, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap(); // b2 caught up at t=0; b3 never fetches.

    c.now_us = LAG_US;
    assert_eq!(c.shrink_isr(1), None, "exactly the lag is still in sync");
    c.now_us = LAG_US + 1;
    assert_eq!(c.shrink_isr(1), Some(vec![1, 2]));
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1, 2]));
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(c.shrink_isr(1), None, "one change in flight at a time");
    assert_eq!(c.hw(1), 0, "b3 still holds the HW back");
    assert_eq!(c.fetch(2).unwrap().hw_moved, None);

    // The controller rejects: the ISR stays, the leader may ask again.
    let n = c.node_mut(1);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1, 2], 1, Err(KafkaError::InvalidUpdateVersion)), None);
    assert_eq!(pending_isr(c.replica(1)), None);
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(c.shrink_isr(1), Some(vec![1, 2]));

    // The controller accepts: the ISR shrinks and the HW moves to b2's log end.
    let accepted = state(1, 1, 2, &[1, 2]);
    let n = c.node_mut(1);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1, 2], 1, Ok(&accepted)), Some(2));
    assert_eq!(c.replica(1).isr(), &[1, 2]);
    assert_eq!(pending_isr(c.replica(1)), None);
    assert_eq!(c.replica(1).partition_epoch, 2);
    // The controller's push of the same state changes nothing more.
    let changes = c.apply_all(&accepted);
    assert_eq!(changes[0], StateChange::Ignored);
    assert_eq!(changes[1], StateChange::IsrUpdated, "a follower only notes the new ISR");
}

#[test]
fn a_follower_at_the_leaders_log_end_is_never_out_of_sync() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.fetch(2).unwrap();
    c.fetch(3).unwrap();
    // Nothing to replicate: both followers are at the log end however long ago they fetched.
    c.now_us = 100 * LAG_US;
    assert_eq!(c.shrink_isr(1), None);
}

#[test]
fn a_follower_that_keeps_reaching_the_previous_fetchs_log_end_stays_in_sync() {
    // Kafka's updateFetchState: a follower whose fetch reaches the leader's log end as of its
    // previous fetch counts as caught up at that previous fetch, though the leader keeps
    // appending and the follower is never at the log end when it fetches.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    for _ in 0..10 {
        c.now_us += LAG_US / 2;
        c.produce(1, 1, Acks::Leader).unwrap();
        c.fetch(2).unwrap();
        c.fetch(3).unwrap();
        let Role::Leader { followers, .. } = &c.replica(1).role else { panic!() };
        assert!(followers[&2].log_end_offset < Some(c.leo(1)), "never at the log end as the leader sees it");
        assert_eq!(c.shrink_isr(1), None);
    }
    // b3 stops fetching: once it has not been caught up for the lag, it is proposed out.
    for _ in 0..3 {
        c.now_us += LAG_US / 2;
        c.produce(1, 1, Acks::Leader).unwrap();
        c.fetch(2).unwrap();
    }
    assert_eq!(c.shrink_isr(1), Some(vec![1, 2]));
}

#[test]
fn a_caught_up_follower_outside_the_isr_is_proposed_in() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 3, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.hw(1), 3);
    // b3 at 0 is below the HW: no proposal.
    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, None);
    // b3 at 3 reached the HW: proposed in.
    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, Some(vec![1, 2, 3]));
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1, 2, 3]));
    assert_eq!(c.replica(1).isr(), &[1, 2]);
    assert_eq!(c.fetch(3).unwrap().isr_proposal, None, "one change in flight at a time");

    // While the expansion is pending, b3 already counts for the HW (maximal ISR).
    c.produce(1, 2, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.hw(1), 3, "b3 has not fetched past 3 yet");
    assert_eq!(c.fetch(3).unwrap().hw_moved, None);
    assert_eq!(c.fetch(3).unwrap().hw_moved, Some(5));

    let n = c.node_mut(1);
    n.replica.on_alter_partition(&n.log, &[1, 2, 3], 1, Ok(&state(1, 1, 2, &[1, 2, 3])));
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(pending_isr(c.replica(1)), None);
}

#[test]
fn a_follower_is_proposed_in_only_once_it_reaches_the_current_leader_epoch() {
    // b2 has offsets 0..3 of epoch 1 but a HW of 0; it becomes sole leader at epoch 2, whose
    // first offset is 3. b3 (empty) at 0 reaches the HW but not the epoch start.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 3, Acks::Leader).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.hw(2), 0);
    let changes = c.apply_all(&state(2, 2, 2, &[2]));
    assert_eq!(changes[1], StateChange::BecameLeader);
    assert_eq!(c.node(2).log.epoch_cache(), &[(1, 0), (2, 3)]);
    assert_eq!(c.hw(2), 0);

    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, None, "b3 at 0 is before the epoch-2 start offset 3");
    assert_eq!(f.hw_moved, Some(3), "b2 alone in its ISR");
    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, Some(vec![2, 3]));
}

#[test]
fn alter_partition_answers_for_another_leader_epoch_change_nothing() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.now_us = LAG_US + 1;
    c.produce(1, 1, Acks::Leader).unwrap();
    assert_eq!(c.shrink_isr(1), Some(vec![1]));
    // An answer carrying an older leader epoch (from before a re-election) is not applied.
    let n = c.node_mut(1);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1], 1, Ok(&state(1, 0, 9, &[1]))), None);
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(pending_isr(c.replica(1)), None);
    // A follower ignores AlterPartition answers altogether.
    let n = c.node_mut(2);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1], 1, Ok(&state(1, 1, 2, &[1]))), None);
    assert_eq!(c.replica(2).isr(), &[] as &[u32]);
}

// ------------------------------------------------------------------------------------------
// Leader epochs, divergence and truncation
// ------------------------------------------------------------------------------------------

#[test]
fn kip_101_a_follower_with_records_the_new_leader_lacks_truncates_to_the_epoch_end() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.produce(1, 1, Acks::All).unwrap();
    for f in [2, 3, 2, 3] {
        c.fetch(f).unwrap();
    }
    assert_eq!(c.hw(1), 1);
    // b1 appends offsets 1..3 (one batch) that nobody fetches, then loses the leadership.
    c.produce(1, 2, Acks::All).unwrap();
    let changes = c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
    assert_eq!(
        changes,
        vec![
            StateChange::BecameFollower { truncate_to_hw: None },
            StateChange::BecameLeader,
            StateChange::BecameFollower { truncate_to_hw: None }
        ]
    );
    c.produce(2, 1, Acks::All).unwrap(); // offset 1 at epoch 2
    assert_eq!(c.node(2).log.epoch_cache(), &[(1, 0), (2, 1)]);

    // b1 fetches from 3 with last epoch 1; on b2 epoch 1 ends at 1.
    let f = c.fetch_raw(1).unwrap().unwrap();
    assert_eq!(
        f,
        FollowerFetch { data: FetchData::Diverging { epoch: 1, end_offset: 1 }, hw_moved: None, isr_proposal: None }
    );
    assert_eq!(c.replica(1).truncation_for(&c.node(1).log, 1, 1), Truncation { to_offset: 1 });
    c.handle(1, &f);
    assert_eq!(c.leo(1), 1);
    assert_eq!(c.node(1).log.epoch_cache(), &[(1, 0)]);
    // The next fetch is not diverging and brings b2's epoch-2 record.
    let f = c.fetch(1).unwrap();
    assert_eq!(records_of(&f).len(), 1);
    assert_eq!(c.records(1), c.records(2));
    assert_eq!(c.node(1).log.epoch_cache(), c.node(2).log.epoch_cache());
    // b3 was at the leader's end for epoch 1 already: no divergence.
    let f = c.fetch(3).unwrap();
    assert!(matches!(f.data, FetchData::Records { .. }));
    assert_eq!(c.records(3), c.records(2));
}

#[test]
fn kip_279_a_follower_without_the_leaders_epoch_truncates_in_steps() {
    // b3 wrote epoch 3 at offsets 2..4 (as a leader nobody followed); b1 has epoch 2 at 2..3
    // and now leads at epoch 4.
    let b1 = log_of(&[batch(0, 1, 2), batch(2, 2, 1)]);
    let b3 = log_of(&[batch(0, 1, 2), batch(2, 3, 2)]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, Log::default(), b3], [2, 0, 2]);
    c.apply_all(&state(1, 4, 4, &[1, 2, 3]));
    assert_eq!(c.node(1).log.epoch_cache(), &[(1, 0), (2, 2), (4, 3)]);

    let f = c.fetch_raw(3).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 2, end_offset: 3 });
    // b3 has no epoch 2: it cuts to the end of its epoch 1 (offset 2) and asks again.
    assert_eq!(c.replica(3).truncation_for(&c.node(3).log, 2, 3), Truncation { to_offset: 2 });
    c.handle(3, &f);
    assert_eq!(c.leo(3), 2);
    let f = c.fetch(3).unwrap();
    assert_eq!(records_of(&f), vec![batch(2, 2, 1)]);
    assert_eq!(c.node(3).log.batches(), c.node(1).log.batches());
}

#[test]
fn a_follower_with_no_epoch_at_or_below_the_leaders_answer_truncates_everything() {
    // b3 only has epoch-5 records (an unclean leader's); b1's log is epoch 3 at 0..4 and it
    // leads at epoch 6. They diverge at offset 0.
    let b1 = log_of(&[batch(0, 3, 4)]);
    let b3 = log_of(&[Batch { msgs: vec![msg(900), msg(901)], ..batch(0, 5, 2) }]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, Log::default(), b3], [0, 0, 0]);
    c.apply_all(&state(1, 6, 6, &[1]));
    let f = c.fetch_raw(3).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 3, end_offset: 4 });
    assert_eq!(c.replica(3).truncation_for(&c.node(3).log, 3, 4), Truncation { to_offset: 0 });
    c.handle(3, &f);
    c.fetch(3).unwrap();
    assert_eq!(c.records(3), c.records(1));
}

#[test]
fn a_follower_with_an_epoch_older_than_the_leaders_log_gets_the_leaders_first_offset() {
    // The leader's log starts at epoch 4; the follower fetches with last epoch 2.
    let b1 = log_of(&[batch(0, 4, 3)]);
    let b2 = log_of(&[batch(0, 2, 1)]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, b2, Log::default()], [0, 0, 0]);
    c.apply_all(&state(1, 5, 5, &[1, 2]));
    let f = c.fetch_raw(2).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 2, end_offset: 0 });
    c.handle(2, &f);
    assert_eq!(c.leo(2), 0);
    c.fetch(2).unwrap();
    assert_eq!(c.node(2).log.batches(), c.node(1).log.batches());
}

#[test]
fn a_follower_ahead_within_the_leaders_epoch_is_diverging_too() {
    // Same last epoch, but the follower has more of it than the leader: the leader's end.
    let b1 = log_of(&[batch(0, 1, 2)]);
    let b2 = log_of(&[batch(0, 1, 2), batch(2, 1, 3)]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, b2, Log::default()], [0, 0, 0]);
    c.apply_all(&state(1, 2, 2, &[1, 2]));
    let f = c.fetch_raw(2).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 1, end_offset: 2 });
    c.handle(2, &f);
    assert_eq!(c.leo(2), 2);
}

#[test]
fn truncation_cuts_whole_batches_and_the_hw_follows() {
    let b2 = log_of(&[batch(0, 1, 3), batch(3, 1, 3)]);
    let mut c = Cluster::with_logs(V3_6, 1, [Log::default(), b2, Log::default()], [0, 6, 0]);
    assert_eq!(c.hw(2), 6);
    let n = c.node_mut(2);
    let removed = n.replica.truncate(&mut n.log, 4);
    assert_eq!(removed.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3, 4, 5]);
    assert_eq!(c.leo(2), 3);
    assert_eq!(c.hw(2), 3);
}

#[test]
fn recovery_clamps_the_hw_checkpoint_to_the_log_end() {
    let log = log_of(&[batch(0, 1, 2)]);
    let r = Replica::recover(1, P, &log, 10, rules(V3_6, 1));
    assert_eq!(r.high_watermark, 2);
    assert!(!r.is_leader());
    assert_eq!(r.leader(), None);
}

#[test]
fn pre_kip_101_a_new_follower_truncates_to_its_hw() {
    for (version, expected) in [(V0_10, Some(3)), (V0_11, None), (V3_6, None)] {
        let log = log_of(&[batch(0, 1, 5)]);
        let mut c = Cluster::with_logs(version, 1, [log.clone(), log, Log::default()], [5, 3, 0]);
        let n = c.node_mut(2);
        let change = n.replica.apply_state(&mut n.log, &state(1, 2, 2, &[1, 2]), 0);
        assert_eq!(change, StateChange::BecameFollower { truncate_to_hw: expected }, "{version}");
        // A replica of a leaderless partition fetches from nobody, so has nothing to cut.
        let n = c.node_mut(3);
        let leaderless = PartitionState { leader: None, ..state(1, 2, 2, &[1]) };
        let change = n.replica.apply_state(&mut n.log, &leaderless, 0);
        assert_eq!(change, StateChange::BecameFollower { truncate_to_hw: None }, "{version}");
    }
}

#[test]
fn pre_kip_101_fetches_carry_no_epoch_so_divergence_goes_unseen() {
    // KIP-101's second scenario, run on 0.10 and on 3.6. b1 leads with m0 m1 (HW 2); b2 has
    // both but only learned HW 1 (b3's fetch moved the HW after b2's). b2 restarts, then b1
    // fails and b2 leads (clean: it is in the ISR). b2 writes m2; b1 and b3 follow it.
    for version in [V0_10, V3_6] {
        let mut c = cluster_led_by_1(version, 1, &[1, 2, 3]);
        for _ in 0..2 {
            c.produce(1, 1, Acks::All).unwrap();
            for f in [2, 3, 2, 3] {
                c.fetch(f).unwrap();
            }
        }
        assert_eq!(c.hw(1), 2);
        assert_eq!(c.hw(2), 1);
        let committed = c.records(1);

        c.restart(2);
        c.apply(2, &state(1, 1, 1, &[1, 2, 3]));
        c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
        c.produce(2, 1, Acks::Leader).unwrap();
        for _ in 0..3 {
            c.fetch(1).unwrap();
            c.fetch(3).unwrap();
        }
        if version.truncates_by_leader_epoch() {
            assert_eq!(c.records(1), c.records(2), "{version}");
            assert_eq!(c.records(3), c.records(2), "{version}");
            assert_eq!(c.records(2)[..2], committed[..], "{version}: nothing committed is lost");
        } else {
            // b2 cut m1 at its restart and wrote m2 at offset 1; b1 and b3 keep m1 there and
            // fetch from 2: the logs diverge and the committed m1 is gone from the leader.
            assert_eq!(c.leo(1), c.leo(2));
            assert_ne!(c.records(1), c.records(2), "{version}: the logs diverge");
            assert!(!c.records(2).contains(&committed[1]), "{version}: the committed m1 is lost");
        }
    }
}

#[test]
fn pre_kip_101_a_follower_past_the_leaders_log_end_is_out_of_range() {
    let b1 = log_of(&[batch(0, 1, 2)]);
    let b2 = log_of(&[batch(0, 1, 2), batch(2, 1, 2)]);
    let mut c = Cluster::with_logs(V0_10, 1, [b1, b2, Log::default()], [2, 4, 0]);
    c.apply_all(&state(1, 2, 2, &[1, 2]));
    // 0.10: b2 cut to its HW 4 when it became a follower (nothing), then fetches from 4.
    let f = c.fetch(2).unwrap();
    assert_eq!(f.data, FetchData::OutOfRange { log_end_offset: 2 });
    assert_eq!(c.leo(2), 2);
    assert_eq!(c.hw(2), 2);
}

// ------------------------------------------------------------------------------------------
// Partition states from the controller
// ------------------------------------------------------------------------------------------

#[test]
fn stale_partition_states_are_ignored() {
    let mut c = Cluster::new(V3_6, 1);
    assert_eq!(c.apply(2, &state(1, 3, 5, &[1, 2, 3])), StateChange::BecameFollower { truncate_to_hw: None });
    assert_eq!(c.replica(2).leader(), Some(1));
    assert_eq!(c.apply(2, &state(3, 2, 9, &[3])), StateChange::Ignored, "older leader epoch");
    assert_eq!(c.apply(2, &state(1, 3, 5, &[1])), StateChange::Ignored, "same partition epoch");
    assert_eq!(c.apply(2, &state(1, 3, 4, &[1])), StateChange::Ignored, "older partition epoch");
    assert_eq!(c.replica(2).leader(), Some(1));
    assert_eq!((c.replica(2).leader_epoch, c.replica(2).partition_epoch), (3, 5));
    assert_eq!(c.apply(2, &state(1, 3, 6, &[1, 2])), StateChange::IsrUpdated);
    assert_eq!(c.replica(2).partition_epoch, 6);

    assert_eq!(c.apply(1, &state(1, 3, 5, &[1, 2, 3])), StateChange::BecameLeader);
    assert_eq!(c.apply(1, &state(1, 3, 6, &[1, 3])), StateChange::IsrUpdated);
    assert_eq!(c.replica(1).isr(), &[1, 3]);
    assert_eq!(c.apply(1, &state(1, 3, 6, &[1])), StateChange::Ignored);
    assert_eq!(c.apply(1, &state(2, 2, 7, &[2])), StateChange::Ignored);
    assert_eq!(c.replica(1).isr(), &[1, 3]);
    assert!(c.replica(1).is_leader());
    assert_eq!(c.apply(1, &state(2, 4, 7, &[1, 2])), StateChange::BecameFollower { truncate_to_hw: None });
    assert_eq!(c.replica(1).leader(), Some(2));
    assert_eq!(c.replica(1).isr(), &[] as &[u32]);
}

#[test]
fn a_leader_is_fenced_by_epochs() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.apply(1, &state(1, 2, 2, &[1, 2, 3]));
    let log = c.node(1).log.clone();
    let r = &mut c.node_mut(1).replica;
    assert_eq!(r.fetch_as_leader(&log, 2, 0, None, 1, 0), Err(KafkaError::FencedLeaderEpoch));
    assert_eq!(r.fetch_as_leader(&log, 2, 0, None, 3, 0), Err(KafkaError::UnknownLeaderEpoch));
    assert_eq!(r.fetch_as_leader(&log, 7, 0, None, 2, 0), Err(KafkaError::NotLeaderOrFollower), "not a replica");
    assert!(r.fetch_as_leader(&log, 2, 0, None, 2, 0).is_ok());
    let log = c.node(2).log.clone();
    let r = &mut c.node_mut(2).replica;
    assert_eq!(r.fetch_as_leader(&log, 3, 0, None, 1, 0), Err(KafkaError::NotLeaderOrFollower));
    assert_eq!(r.fetch_for_consumer(&log, 0, 10), Err(KafkaError::NotLeaderOrFollower));
}

// ------------------------------------------------------------------------------------------
// Consumers and idempotent producers
// ------------------------------------------------------------------------------------------

#[test]
fn consumers_read_only_below_the_hw() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 3, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    c.produce(1, 3, Acks::All).unwrap();
    let n = c.node(1);
    assert_eq!(n.replica.high_watermark, 3);
    let read = n.replica.fetch_for_consumer(&n.log, 1, 100).unwrap();
    let FetchData::Records { batches, high_watermark } = read else { panic!() };
    assert_eq!(high_watermark, 3);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].msgs, c.records(1)[..3]);
    // Between the HW and the log end there is nothing to read yet; past the end is out of
    // range, answered with the HW.
    let read = n.replica.fetch_for_consumer(&n.log, 4, 100).unwrap();
    assert_eq!(read, FetchData::Records { batches: vec![], high_watermark: 3 });
    assert_eq!(n.replica.fetch_for_consumer(&n.log, 7, 100), Ok(FetchData::OutOfRange { log_end_offset: 3 }));

    // A batch straddling the HW is cut at the HW (a new leader keeps its HW checkpoint,
    // which need not be at a batch boundary).
    let log = log_of(&[batch(0, 1, 5)]);
    let mut c = Cluster::with_logs(V3_6, 1, [log, Log::default(), Log::default()], [2, 0, 0]);
    c.apply_all(&state(1, 2, 2, &[1, 2]));
    let n = c.node(1);
    assert_eq!(n.replica.high_watermark, 2);
    let FetchData::Records { batches, .. } = n.replica.fetch_for_consumer(&n.log, 0, 100).unwrap() else { panic!() };
    assert_eq!(batches, vec![Batch { msgs: vec![msg(0), msg(1)], ..batch(0, 1, 5) }]);
}

fn stamp(producer_epoch: u32, base_sequence: u32) -> ProducerStamp {
    ProducerStamp { producer_id: 7, producer_epoch, base_sequence }
}

#[test]
fn a_duplicate_idempotent_batch_gets_its_original_offset() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    let a = c.new_msgs(3);
    let b = c.new_msgs(2);
    let r = c.produce_msgs(1, &a, Some(stamp(0, 0)), Acks::All).unwrap();
    assert_eq!((r.base_offset, r.end_offset, r.duplicate), (0, 3, false));
    c.produce(1, 1, Acks::All).unwrap(); // someone else's record at 3
    let r = c.produce_msgs(1, &b, Some(stamp(0, 3)), Acks::All).unwrap();
    assert_eq!((r.base_offset, r.end_offset, r.duplicate), (4, 6, false));

    let r = c.produce_msgs(1, &a, Some(stamp(0, 0)), Acks::All).unwrap();
    assert_eq!(r, LeaderAppend { base_offset: 0, end_offset: 3, duplicate: true, hw_moved: None });
    let r = c.produce_msgs(1, &b, Some(stamp(0, 3)), Acks::Leader).unwrap();
    assert_eq!(r, LeaderAppend { base_offset: 4, end_offset: 6, duplicate: true, hw_moved: None });
    assert_eq!(c.leo(1), 6, "nothing appended twice");

    // A gap in the sequence, or an old batch no longer among the retained ones, is refused.
    let gap = c.new_msgs(1);
    assert_eq!(c.produce_msgs(1, &gap, Some(stamp(0, 9)), Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    // A bumped producer epoch starts again.
    let r = c.produce_msgs(1, &gap, Some(stamp(1, 0)), Acks::All).unwrap();
    assert_eq!((r.base_offset, r.duplicate), (6, false));

    // The followers rebuild the producer state from what they fetch: after a failover the new
    // leader recognizes the retry too.
    c.fetch(2).unwrap();
    c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
    let r = c.produce_msgs(2, &gap, Some(stamp(1, 0)), Acks::Leader).unwrap();
    assert_eq!(r, LeaderAppend { base_offset: 6, end_offset: 7, duplicate: true, hw_moved: None });
}

#[test]
fn a_duplicate_is_checked_against_the_retained_batches_only() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1]);
    let mut sent = Vec::new();
    for i in 0..6u32 {
        let m = c.new_msgs(1);
        c.produce_msgs(1, &m, Some(stamp(0, i)), Acks::Leader).unwrap();
        sent.push(m);
    }
    // Kafka keeps the last five batches per producer: the first is too old to be recognized.
    assert_eq!(c.produce_msgs(1, &sent[0], Some(stamp(0, 0)), Acks::Leader), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(c.produce_msgs(1, &sent[1], Some(stamp(0, 1)), Acks::Leader).unwrap().base_offset, 1);
    assert_eq!(c.node(1).log.check_sequence(stamp(0, 6), 1), SequenceCheck::Append);
}

// ------------------------------------------------------------------------------------------
// Suspected bugs: kept as ignored tests (see the report).
// ------------------------------------------------------------------------------------------

#[test]
fn pre_kip_101_an_isr_only_update_does_not_truncate_a_follower() {
    // Kafka 0.10 truncates to the HW in makeFollower only when the leader changed (and at
    // startup). An ISR change of the same leader does not cut a follower's log.
    let mut c = cluster_led_by_1(V0_10, 1, &[1, 2, 3]);
    c.produce(1, 2, Acks::Leader).unwrap();
    c.fetch(2).unwrap();
    assert_eq!((c.leo(2), c.hw(2)), (2, 0));
    let change = c.apply(2, &state(1, 1, 2, &[1, 2]));
    assert_ne!(change, StateChange::BecameFollower { truncate_to_hw: Some(0) });
    assert_eq!(c.leo(2), 2, "b2 keeps the records it fetched from the same leader");
}

#[test]
fn a_follower_drops_an_epoch_it_led_without_writing() {
    // b1 writes m0 at epoch 1 and nobody fetches it. b2 (empty) leads epoch 2 and writes
    // nothing; b1 leads again at epoch 3 before anyone fetched from b2. b2's cache is
    // [(2, 0)] with no batches; it fetches from 0 with no last epoch (its log is empty), gets
    // the epoch-1 batch, and appending it assigns epoch 1 after epoch 2.
    // Kafka sends the cache's latest epoch (2), gets a diverging answer and truncates, and its
    // truncateTo always cuts the epoch cache at the log end ("we may have a conflicting epoch
    // entry at the end of the log ... if this broker was a leader and ... failed to append").
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.produce(1, 1, Acks::Leader).unwrap();
    c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
    assert_eq!(c.node(2).log.epoch_cache(), &[(2, 0)]);
    c.apply_all(&state(1, 3, 3, &[1, 2, 3]));
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.node(2).log.batches(), c.node(1).log.batches());
}

#[test]
fn with_kafkas_epoch_cache_truncation_a_follower_drops_an_epoch_it_led_without_writing() {
    // The same story with the harness forgetting batchless epochs on becoming a follower.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.forget_batchless_epochs = true;
    c.produce(1, 1, Acks::Leader).unwrap();
    c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
    c.apply_all(&state(1, 3, 3, &[1, 2, 3]));
    assert_eq!(c.node(2).log.epoch_cache(), &[] as &[(u32, u64)]);
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.node(2).log.batches(), c.node(1).log.batches());
}

#[test]
fn a_stale_alter_partition_error_leaves_the_pending_expansion_alone() {
    // Kafka's Partition ignores an AlterPartition answer unless its pending state is still the
    // one that request proposed ("this response is out of date so we ignore it").
    //
    // b1 proposes dropping b2 (A, at partition epoch 1); the controller fences b2 itself
    // (partition epoch 2, pushed), which clears A; b3 catches up and b1 proposes adding it (B,
    // at partition epoch 2). A's answer arrives: rejected, its partition epoch is stale. B is
    // accepted.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.now_us = LAG_US + 1;
    assert_eq!(c.shrink_isr(1), Some(vec![1]));
    assert_eq!(c.apply(1, &state(1, 1, 2, &[1])), StateChange::IsrUpdated);
    assert_eq!(c.fetch(3).unwrap().isr_proposal, Some(vec![1, 3]));
    let n = c.node_mut(1);
    n.replica.on_alter_partition(&n.log, &[1], 1, Err(KafkaError::InvalidUpdateVersion));
    // B is still in flight, so b3 must still hold the HW back.
    c.produce(1, 2, Acks::All).unwrap();
    let n = c.node_mut(1);
    n.replica.on_alter_partition(&n.log, &[1, 3], 2, Ok(&state(1, 1, 3, &[1, 3])));
    assert_eq!(c.replica(1).isr(), &[1, 3]);
    assert!(c.hw(1) <= c.leo(3), "HW {} past the new ISR member b3 at {}", c.hw(1), c.leo(3));
}

#[test]
fn a_late_alter_partition_answer_leaves_the_pending_expansion_alone() {
    // b1 proposes adding b2 (A); the controller accepts and pushes partition epoch 2 before
    // answering; the push arrives first, b3 catches up and b1 proposes adding it (B); then A's
    // answer arrives. B is accepted later.
    let mut c = cluster_led_by_1(V3_6, 1, &[1]);
    assert_eq!(c.fetch(2).unwrap().isr_proposal, Some(vec![1, 2]));
    let a = state(1, 1, 2, &[1, 2]);
    assert_eq!(c.apply(1, &a), StateChange::IsrUpdated);
    assert_eq!(c.fetch(3).unwrap().isr_proposal, Some(vec![1, 2, 3]));
    let n = c.node_mut(1);
    n.replica.on_alter_partition(&n.log, &[1, 2], 1, Ok(&a));
    // B is still in flight, so b3 must still hold the HW back.
    c.produce(1, 2, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    let n = c.node_mut(1);
    n.replica.on_alter_partition(&n.log, &[1, 2, 3], 2, Ok(&state(1, 1, 3, &[1, 2, 3])));
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert!(c.hw(1) <= c.leo(3), "HW {} past the new ISR member b3 at {}", c.hw(1), c.leo(3));
}

#[test]
fn pre_kip_101_a_follower_takes_older_epoch_batches_after_newer_ones() {
    // Before KIP-101 nothing detects that b1's offsets 0..3 (epoch 3, written while it led)
    // differ from b2's (epoch 1); b1 fetches from its log end and appends b2's epoch-1 batch
    // at 3 after its own epoch-3 batch. Kafka 0.10 had no leader epochs in its log and simply
    // appended (the logs stay diverged, which is what 0.10 scenarios are about).
    let b1 = log_of(&[batch(0, 3, 3)]);
    let b2 = log_of(&[batch(0, 1, 3), batch(3, 1, 1)]);
    let mut c = Cluster::with_logs(V0_10, 1, [b1, b2, Log::default()], [3, 3, 0]);
    c.apply_all(&state(2, 4, 4, &[1, 2]));
    assert_eq!(c.leo(1), 3, "cut to its HW, which is its log end");
    c.fetch(1).unwrap();
    assert_eq!(c.leo(1), 4);
}

#[test]
fn a_batch_of_a_fenced_producer_epoch_is_not_a_duplicate() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1]);
    let new_epoch = c.new_msgs(2);
    c.produce_msgs(1, &new_epoch, Some(stamp(1, 0)), Acks::Leader).unwrap();
    // A batch of epoch 0 with sequences 0..1 arrives late: Kafka answers INVALID_PRODUCER_EPOCH.
    let zombie = c.new_msgs(2);
    let r = c.produce_msgs(1, &zombie, Some(stamp(0, 0)), Acks::Leader);
    assert!(
        !matches!(r, Ok(LeaderAppend { duplicate: true, .. })),
        "zombie acked as a duplicate of other records: {r:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Property tests: one partition, three replicas, random operations.
// ------------------------------------------------------------------------------------------

mod model {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::Config;
    use std::collections::VecDeque;

    const PRODUCER: u64 = 9;

    #[derive(Clone, Debug)]
    enum Op {
        /// A produce request to the controller's leader (`target: None`) or to any broker.
        Append {
            target: Option<u8>,
            n: u8,
            acks: Acks,
            stamped: bool,
        },
        /// The idempotent producer resends one of its last batches of the current epoch.
        Retry {
            back: u8,
            acks: Acks,
        },
        Fetch {
            follower: u8,
        },
        Tick {
            ms: u64,
        },
        /// Every replica that thinks it leads runs its ISR shrink check.
        ShrinkCheck,
        /// The controller answers the oldest AlterPartition in flight.
        AlterResponse {
            accept: bool,
            deliver: u8,
        },
        /// A clean election from the controller's ISR, pushed at once to the brokers in
        /// `deliver` (a bit per broker) and queued for the others.
        Elect {
            candidate: u8,
            deliver: u8,
        },
        /// A broker applies the oldest push queued for it.
        Deliver {
            broker: u8,
        },
        /// A follower's process restarts (the log stays); from 2.2 the controller fences it
        /// out of the ISR.
        Restart {
            broker: u8,
            deliver: u8,
        },
    }

    fn acks() -> impl Strategy<Value = Acks> {
        prop_oneof![Just(Acks::None), Just(Acks::Leader), Just(Acks::All)]
    }

    fn deliver() -> impl Strategy<Value = u8> {
        prop_oneof![3 => Just(0b111u8), 1 => 0u8..8]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (proptest::option::weighted(0.15, 0u8..3), 1u8..=3, acks(), any::<bool>())
                .prop_map(|(target, n, acks, stamped)| Op::Append { target, n, acks, stamped }),
            1 => (0u8..3, acks()).prop_map(|(back, acks)| Op::Retry { back, acks }),
            8 => (0u8..3).prop_map(|follower| Op::Fetch { follower }),
            2 => (0u64..=150).prop_map(|ms| Op::Tick { ms }),
            2 => Just(Op::ShrinkCheck),
            2 => (proptest::bool::weighted(0.8), deliver()).prop_map(|(accept, deliver)| Op::AlterResponse { accept, deliver }),
            1 => (0u8..3, deliver()).prop_map(|(candidate, deliver)| Op::Elect { candidate, deliver }),
            1 => (0u8..3).prop_map(|broker| Op::Deliver { broker }),
            1 => (0u8..3, deliver()).prop_map(|(broker, deliver)| Op::Restart { broker, deliver }),
        ]
    }

    fn version() -> impl Strategy<Value = KafkaVersion> {
        proptest::sample::select(vec![
            V0_11,
            KafkaVersion::new(2, 1),
            KafkaVersion::new(2, 8),
            V3_6,
            V3_7,
            KafkaVersion::new(4, 1),
        ])
    }

    struct Alter {
        broker: u32,
        leader_epoch: u32,
        partition_epoch: u32,
        isr: Vec<u32>,
    }

    struct AcksWait {
        broker: u32,
        leader_epoch: u32,
        base: u64,
        end: u64,
        msgs: Vec<MsgId>,
    }

    struct Sim {
        c: Cluster,
        /// Whether to check the durability properties (not before KIP-101, which loses data).
        safety: bool,
        /// Harness shortcuts (only the 0.10 property uses them): forget batchless epochs on
        /// becoming a follower, drop AlterPartition answers that are not for the pending
        /// proposal, and drop 0.10 fetch answers that would append an older epoch after a newer.
        workarounds: bool,
        ctrl: PartitionState,
        inbox: [VecDeque<PartitionState>; 3],
        alters: VecDeque<Alter>,
        /// The longest prefix of the log any leader ever exposed below its HW.
        committed: Vec<MsgId>,
        producer_epoch: u32,
        next_sequence: u32,
        stamped: Vec<(Vec<MsgId>, ProducerStamp)>,
        acks_waiting: Vec<AcksWait>,
        seen_epoch: [u32; 3],
        leader_hw: [Option<(u32, u64)>; 3],
    }

    fn idx(b: u32) -> usize {
        b as usize - 1
    }

    impl Sim {
        fn new(version: KafkaVersion, min_isr: u32, workarounds: bool) -> Sim {
            let mut c = Cluster::new(version, min_isr);
            c.forget_batchless_epochs = workarounds;
            let mut sim = Sim {
                c,
                safety: version.truncates_by_leader_epoch(),
                workarounds,
                // As the controller creates a topic: epoch 0, the first replica leads.
                ctrl: state(1, 0, 0, &BROKERS),
                inbox: Default::default(),
                alters: VecDeque::new(),
                committed: Vec::new(),
                producer_epoch: 0,
                next_sequence: 0,
                stamped: Vec::new(),
                acks_waiting: Vec::new(),
                seen_epoch: [0; 3],
                leader_hw: [None; 3],
            };
            let ctrl = sim.ctrl.clone();
            sim.push(&ctrl, 0b111);
            sim.check();
            sim
        }

        fn min_isr(&self) -> u32 {
            self.c.rules.min_insync_replicas
        }

        /// The controller pushes `st` to every broker; those in `deliver` apply everything
        /// queued for them now (links are FIFO).
        fn push(&mut self, st: &PartitionState, deliver: u8) {
            for b in BROKERS {
                self.inbox[idx(b)].push_back(st.clone());
                if deliver & (1 << idx(b)) != 0 {
                    while self.deliver_one(b) {}
                }
            }
        }

        fn deliver_one(&mut self, b: u32) -> bool {
            let Some(st) = self.inbox[idx(b)].pop_front() else { return false };
            self.c.apply(b, &st);
            // One push can make a leader move its HW (a smaller ISR) and the next one make it a
            // follower: what it exposed in between counts.
            self.absorb_exposed();
            true
        }

        /// No two leaders ever expose different records below their HW; `committed` grows to
        /// the longest prefix exposed.
        fn absorb_exposed(&mut self) {
            if !self.safety {
                return;
            }
            for b in BROKERS {
                let n = self.c.node(b);
                if !n.replica.is_leader() {
                    continue;
                }
                let hw = n.replica.high_watermark as usize;
                let exposed: Vec<MsgId> = n.log.records(0, hw as u64).into_iter().map(|r| r.1).collect();
                let k = hw.min(self.committed.len());
                assert_eq!(exposed[..k], self.committed[..k], "b{b} exposes other records below its HW");
                if hw > self.committed.len() {
                    self.committed = exposed;
                }
            }
        }

        fn current_leader(&self) -> Option<u32> {
            let l = self.ctrl.leader?;
            let r = self.c.replica(l);
            (r.is_leader() && r.leader_epoch == self.ctrl.leader_epoch).then_some(l)
        }

        fn step(&mut self, op: &Op) {
            match *op {
                Op::Append { target, n, acks, stamped } => {
                    let b = target.map_or(self.ctrl.leader.unwrap(), |t| u32::from(t) + 1);
                    let msgs = self.c.new_msgs(n as usize);
                    let stamp = stamped.then_some(ProducerStamp {
                        producer_id: PRODUCER,
                        producer_epoch: self.producer_epoch,
                        base_sequence: self.next_sequence,
                    });
                    let result = self.append(b, &msgs, stamp, acks);
                    match result {
                        Ok(a) => {
                            assert!(!a.duplicate, "a fresh batch is no duplicate: {a:?}");
                            if let Some(s) = stamp {
                                self.next_sequence += u32::from(n);
                                self.stamped.push((msgs, s));
                            }
                        }
                        Err(KafkaError::OutOfOrderSequenceNumber) => {
                            // KIP-360: bump the epoch and number from zero again.
                            self.producer_epoch += 1;
                            self.next_sequence = 0;
                            self.stamped.clear();
                        }
                        Err(_) => {}
                    }
                }
                Op::Retry { back, acks } => {
                    if self.stamped.is_empty() {
                        return;
                    }
                    let i = self.stamped.len() - 1 - (back as usize % self.stamped.len());
                    let (msgs, stamp) = self.stamped[i].clone();
                    let b = self.ctrl.leader.unwrap();
                    let _ = self.append(b, &msgs, Some(stamp), acks);
                }
                Op::Fetch { follower } => {
                    let f = u32::from(follower) + 1;
                    let Some(leader) = self.c.replica(f).leader().filter(|&l| l != f) else { return };
                    let leader_leo = self.c.leo(leader);
                    let fetch_offset = self.c.leo(f);
                    let Some(result) = self.c.fetch_raw(f) else { return };
                    let Ok(answer) = result else { return };
                    match &answer.data {
                        FetchData::Records { batches, high_watermark } => {
                            assert!(*high_watermark <= leader_leo);
                            if let Some(first) = batches.first() {
                                assert!(first.base_offset <= fetch_offset && fetch_offset < first.end_offset());
                            }
                        }
                        FetchData::Diverging { end_offset, .. } => assert!(*end_offset <= leader_leo),
                        FetchData::OutOfRange { log_end_offset } => {
                            assert!(
                                !self.c.rules.version.truncates_by_leader_epoch(),
                                "KIP-101 never needs OutOfRange"
                            );
                            assert_eq!(*log_end_offset, leader_leo);
                        }
                    }
                    if self.workarounds && !self.c.rules.version.truncates_by_leader_epoch() {
                        // Drop answers that would append an older epoch after a newer one.
                        let latest = self.c.node(f).log.latest_epoch();
                        if let FetchData::Records { batches, .. } = &answer.data {
                            if batches.iter().any(|b| Some(b.leader_epoch) < latest) {
                                return;
                            }
                        }
                    }
                    self.c.handle(f, &answer);
                    if let Some(isr) = answer.isr_proposal {
                        assert!(isr.contains(&leader) && isr.contains(&f));
                        self.propose(leader, isr);
                    }
                }
                Op::Tick { ms } => self.c.now_us += ms * 1000,
                Op::ShrinkCheck => {
                    let now = self.c.now_us;
                    for b in BROKERS {
                        let n = self.c.node_mut(b);
                        if let Some(isr) = n.replica.maybe_shrink_isr(&n.log, now) {
                            assert!(isr.contains(&b));
                            self.propose(b, isr);
                        }
                    }
                }
                Op::AlterResponse { accept, deliver } => {
                    let Some(a) = self.alters.pop_front() else { return };
                    let result = if self.ctrl.leader != Some(a.broker) || self.ctrl.leader_epoch != a.leader_epoch {
                        Err(KafkaError::FencedLeaderEpoch)
                    } else if self.ctrl.partition_epoch != a.partition_epoch || !accept {
                        Err(KafkaError::InvalidUpdateVersion)
                    } else {
                        self.ctrl.isr = a.isr.clone();
                        self.ctrl.partition_epoch += 1;
                        Ok(self.ctrl.clone())
                    };
                    let r = self.c.replica(a.broker);
                    // Kafka's Partition ignores an answer unless its pending state is still the
                    // one this request proposed.
                    let current = pending_isr(r).as_ref() == Some(&a.isr)
                        && r.leader_epoch == a.leader_epoch
                        && r.partition_epoch == a.partition_epoch;
                    if !self.workarounds || current {
                        let n = self.c.node_mut(a.broker);
                        n.replica.on_alter_partition(
                            &n.log,
                            &a.isr,
                            a.partition_epoch,
                            result.as_ref().map_err(|e| *e),
                        );
                    }
                    if let Ok(st) = result {
                        assert!(current, "the controller accepted a proposal the leader no longer has pending");
                        assert_eq!(self.c.replica(a.broker).isr(), &st.isr[..], "an accepted ISR is applied");
                        self.push(&st, deliver);
                    }
                }
                Op::Elect { candidate, deliver } => {
                    let isr = self.ctrl.isr.clone();
                    let leader = isr[candidate as usize % isr.len()];
                    self.ctrl.leader = Some(leader);
                    self.ctrl.leader_epoch += 1;
                    self.ctrl.partition_epoch += 1;
                    let st = self.ctrl.clone();
                    self.push(&st, deliver);
                }
                Op::Deliver { broker } => {
                    self.deliver_one(u32::from(broker) + 1);
                }
                Op::Restart { broker, deliver } => {
                    let b = u32::from(broker) + 1;
                    if self.ctrl.leader == Some(b) {
                        return;
                    }
                    self.c.restart(b);
                    self.inbox[idx(b)].clear();
                    self.leader_hw[idx(b)] = None;
                    if self.c.rules.version.fences_restarted_broker() && self.ctrl.isr.contains(&b) {
                        self.ctrl.isr.retain(|&r| r != b);
                        self.ctrl.partition_epoch += 1;
                    }
                    let st = self.ctrl.clone();
                    self.push(&st, deliver | (1 << idx(b)));
                }
            }
        }

        fn propose(&mut self, broker: u32, isr: Vec<u32>) {
            let r = self.c.replica(broker);
            let (leader_epoch, partition_epoch) = (r.leader_epoch, r.partition_epoch);
            self.alters.push_back(Alter { broker, leader_epoch, partition_epoch, isr });
        }

        fn append(
            &mut self,
            b: u32,
            msgs: &[MsgId],
            stamp: Option<ProducerStamp>,
            acks: Acks,
        ) -> Result<LeaderAppend, KafkaError> {
            let r = self.c.replica(b);
            let was_leader = r.is_leader();
            let under_min_isr = (r.isr().len() as u32) < self.min_isr();
            let leader_epoch = r.leader_epoch;
            let leo = self.c.leo(b);
            let already_in_log = self.c.records(b).contains(&msgs[0]);
            let result = self.c.produce_msgs(b, msgs, stamp, acks);
            match &result {
                Err(KafkaError::NotLeaderOrFollower) => assert!(!was_leader),
                Err(KafkaError::NotEnoughReplicas) => assert!(was_leader && acks == Acks::All && under_min_isr),
                Err(KafkaError::OutOfOrderSequenceNumber) => assert!(stamp.is_some()),
                Err(e) => panic!("unexpected {e:?}"),
                Ok(a) => {
                    assert!(was_leader);
                    assert!(!(acks == Acks::All && under_min_isr), "acks=all below min.insync.replicas accepted");
                    assert_eq!(a.end_offset - a.base_offset, msgs.len() as u64);
                    let at: Vec<MsgId> =
                        self.c.node(b).log.records(a.base_offset, a.end_offset).into_iter().map(|r| r.1).collect();
                    assert_eq!(at, msgs, "the answer's offsets hold the batch");
                    if a.duplicate {
                        assert!(stamp.is_some());
                        assert_eq!(self.c.leo(b), leo, "a duplicate appends nothing");
                    } else {
                        assert!(!already_in_log, "an idempotent retry appended twice");
                        assert_eq!(a.base_offset, leo);
                    }
                    if acks == Acks::All {
                        self.acks_waiting.push(AcksWait {
                            broker: b,
                            leader_epoch,
                            base: a.base_offset,
                            end: a.end_offset,
                            msgs: msgs.to_vec(),
                        });
                    }
                }
            }
            result
        }

        /// Every invariant and, from KIP-101 on, the durability properties.
        fn check(&mut self) {
            for b in BROKERS {
                let Node { replica: r, log } = self.c.node(b);
                let i = idx(b);
                assert!(r.high_watermark <= log.log_end_offset(), "b{b}: HW > LEO");
                assert!(r.leader_epoch >= self.seen_epoch[i], "b{b}: leader epoch went back");
                self.seen_epoch[i] = r.leader_epoch;
                assert!(r.leader_epoch <= self.ctrl.leader_epoch, "b{b}: an epoch the controller never made");
                check_log(b, log);
                if let Role::Leader { isr, pending_isr, followers } = &r.role {
                    assert!(isr.contains(&b), "b{b}: leader not in its ISR {isr:?}");
                    if let Some(p) = pending_isr {
                        assert!(p.contains(&b), "b{b}: leader not in its pending ISR {p:?}");
                    }
                    assert_eq!(log.latest_epoch(), Some(r.leader_epoch), "b{b}: a leader's epoch starts in its log");
                    for (f, v) in followers {
                        assert!(
                            v.log_end_offset.is_none_or(|o| o <= log.log_end_offset()),
                            "b{b}: b{f}'s log end past the leader's"
                        );
                    }
                    if let Some((epoch, hw)) = self.leader_hw[i] {
                        if epoch == r.leader_epoch {
                            assert!(r.high_watermark >= hw, "b{b}: the leader's HW went back from {hw}");
                        }
                    }
                    self.leader_hw[i] = Some((r.leader_epoch, r.high_watermark));
                } else {
                    self.leader_hw[i] = None;
                }
            }
            if !self.safety {
                return;
            }
            self.absorb_exposed();
            // Every replica agrees with what was committed below its own HW.
            for b in BROKERS {
                let n = self.c.node(b);
                let hw = n.replica.high_watermark as usize;
                assert!(hw <= self.committed.len(), "b{b}'s HW {hw} above anything a leader exposed");
                let mine: Vec<MsgId> = n.log.records(0, hw as u64).into_iter().map(|r| r.1).collect();
                assert_eq!(mine, self.committed[..hw], "b{b} disagrees below its HW");
            }
            // The leader the controller elected (once it knows) has every committed record,
            // and so has every member of its ISR below its HW.
            if let Some(l) = self.current_leader() {
                let n = self.c.node(l);
                let have: Vec<MsgId> = n.log.records(0, self.committed.len() as u64).into_iter().map(|r| r.1).collect();
                assert_eq!(have, self.committed, "the leader b{l} lost committed records");
                let hw = n.replica.high_watermark;
                for &m in n.replica.isr() {
                    let mlog = &self.c.node(m).log;
                    assert!(mlog.log_end_offset() >= hw, "ISR member b{m} ends below the HW {hw}");
                    let theirs: Vec<MsgId> = mlog.records(0, hw).into_iter().map(|r| r.1).collect();
                    assert_eq!(theirs, self.committed[..hw as usize], "ISR member b{m} differs below the HW");
                }
            }
            // acks=all writes that completed are committed where the answer said.
            let waiting = std::mem::take(&mut self.acks_waiting);
            for w in waiting {
                let r = self.c.replica(w.broker);
                if !r.is_leader() || r.leader_epoch != w.leader_epoch {
                    continue;
                }
                match r.acks_all_done(w.end) {
                    None => self.acks_waiting.push(w),
                    Some(Ok(())) => {
                        assert!(self.committed.len() as u64 >= w.end);
                        assert_eq!(
                            self.committed[w.base as usize..w.end as usize],
                            w.msgs[..],
                            "an acked write is not committed"
                        );
                    }
                    Some(Err(e)) => assert_eq!(e, KafkaError::NotEnoughReplicasAfterAppend),
                }
            }
        }

        /// Heals everything: deliver every push, accept every ISR change, let the followers
        /// fetch until nothing changes. Then (from KIP-101) every replica has the leader's log,
        /// the ISR is complete and the HW is the log end.
        fn settle(&mut self) {
            for _ in 0..30 {
                for b in BROKERS {
                    while self.deliver_one(b) {}
                }
                while !self.alters.is_empty() {
                    self.step(&Op::AlterResponse { accept: true, deliver: 0b111 });
                }
                for f in 0..3 {
                    self.step(&Op::Fetch { follower: f });
                }
                self.check();
            }
            let l = self.current_leader().expect("the elected leader leads");
            if !self.safety {
                // Before KIP-101 divergent logs need not converge: a follower whose log end
                // falls inside one of the leader's batches takes nothing more.
                return;
            }
            let leader = self.c.node(l);
            let mut isr = leader.replica.isr().to_vec();
            isr.sort_unstable();
            assert_eq!(isr, BROKERS, "every replica rejoined the ISR");
            assert_eq!(leader.replica.high_watermark, leader.log.log_end_offset(), "the HW reached the log end");
            for b in BROKERS {
                let n = self.c.node(b);
                assert_eq!(n.replica.high_watermark, leader.replica.high_watermark, "b{b} knows the HW");
                assert_eq!(n.log.batches(), leader.log.batches(), "b{b} converged to the leader's log");
            }
        }
    }

    /// Offsets are dense from 0, batches are non-empty, epochs only go up, the epoch cache is
    /// sorted and agrees with the batches' epochs.
    fn check_log(b: u32, log: &Log) {
        let mut next = 0;
        let mut last_epoch = 0;
        for batch in log.batches() {
            assert_eq!(batch.base_offset, next, "b{b}: offsets are dense");
            assert!(!batch.msgs.is_empty(), "b{b}: empty batch");
            assert!(batch.leader_epoch >= last_epoch, "b{b}: batch epochs went back");
            last_epoch = batch.leader_epoch;
            next = batch.end_offset();
            let cached = log.epoch_cache().iter().rev().find(|e| e.1 <= batch.base_offset);
            assert_eq!(
                cached.map(|e| e.0),
                Some(batch.leader_epoch),
                "b{b}: epoch cache disagrees at {}",
                batch.base_offset
            );
        }
        assert_eq!(log.log_end_offset(), next, "b{b}: LEO");
        for w in log.epoch_cache().windows(2) {
            assert!(w[0].0 < w[1].0, "b{b}: epoch cache epochs not increasing: {:?}", log.epoch_cache());
            assert!(w[0].1 <= w[1].1, "b{b}: epoch start offsets went back: {:?}", log.epoch_cache());
        }
        if let Some(&(_, start)) = log.epoch_cache().last() {
            assert!(start <= log.log_end_offset(), "b{b}: an epoch starts past the log end");
        }
    }

    fn run(version: KafkaVersion, min_isr: u32, workarounds: bool, ops: &[Op]) {
        let mut sim = Sim::new(version, min_isr, workarounds);
        for op in ops {
            sim.step(op);
            sim.check();
        }
        sim.settle();
    }

    proptest! {
        #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]

        /// With the harness working around the suspected bugs (see
        /// `a_follower_drops_an_epoch_it_led_without_writing` and
        /// `a_stale_alter_partition_error_leaves_the_pending_expansion_alone`).
        #[test]
        fn replication_keeps_its_invariants_and_loses_nothing_committed(
            version in version(),
            min_isr in 1u32..=3,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            run(version, min_isr, false, &ops);
        }

        /// Before 0.11 a log carries no leader epochs, so a diverged follower may append an older
        /// epoch's batches after newer ones; the harness drops those answers so that the
        /// epoch-cache checks stay meaningful for the other invariants.
        #[test]
        fn pre_kip_101_replication_keeps_its_invariants(
            min_isr in 1u32..=3,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            run(V0_10, min_isr, true, &ops);
        }

        /// The same, exactly as the broker drives the replica.
        #[test]
        fn replication_as_the_broker_drives_it(
            version in prop_oneof![Just(V0_10), version()],
            min_isr in 1u32..=3,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            run(version, min_isr, false, &ops);
        }
    }
}
