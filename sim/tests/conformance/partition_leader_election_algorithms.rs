//! Kafka's `PartitionLeaderElectionAlgorithmsTest` (3.7.0,
//! core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala): the
//! ZooKeeper-mode controller's elections, against `election::apply` with ZooKeeper rules.
//!
//! `offlinePartitionLeaderElection(assignment, isr, live, unclean)` is a Normal election on a
//! partition without a leader; `preferredReplicaPartitionLeaderElection` a Preferred one on a
//! partition whose leader is the other replica (Kafka's `None`: no change);
//! `controlledShutdownPartitionLeaderElection` the change `controller/node.rs` makes for a
//! ZooKeeper controlled shutdown: the shutting-down brokers leave the ISR and may not lead.
//! Reassignment elections are not modelled.

use crate::common::V3_7;
use crate::fixtures::{build, registration};
use losslab_model::config::MetadataMode;
use losslab_model::history::ElectionKind;
use losslab_sim::controller::election::{Election, Outcome, Rules};
use losslab_sim::protocol::PartitionState;

fn zk_rules(unclean: bool) -> Rules {
    Rules {
        min_insync_replicas: 1,
        elr: false,
        unclean,
        mode: MetadataMode::ZooKeeper,
        bump_epoch_on_shrink: false,
        keep_last_isr_member: V3_7.keeps_last_isr_member(),
    }
}

const ASSIGNMENT: [u32; 2] = [2, 4];

/// Applies the election to a partition of `ASSIGNMENT` with `isr` and `leader`: (new state, outcome).
fn elect(
    isr: &[u32],
    leader: Option<u32>,
    target_isr: &[u32],
    election: Election,
    acceptable: &dyn Fn(u32) -> bool,
    unclean: bool,
) -> (PartitionState, Outcome) {
    let mut st = registration(&ASSIGNMENT, isr, leader);
    let outcome = build(&mut st, target_isr, election, acceptable, &[], zk_rules(unclean));
    (st, outcome)
}

/// `offlinePartitionLeaderElection`: the partition's leader is gone.
fn offline(isr: &[u32], live: &[u32], unclean: bool) -> (Option<u32>, Outcome) {
    let (st, outcome) = elect(isr, None, isr, Election::Normal, &|r| live.contains(&r), unclean);
    (st.leader, outcome)
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testOfflinePartitionLeaderElection (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// The first live ISR member leads.
#[test]
fn test_offline_partition_leader_election() {
    assert_eq!(offline(&[2, 4], &[4], false).0, Some(4));
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testOfflinePartitionLeaderElectionLastIsrOfflineUncleanLeaderElectionDisabled (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// With the ISR offline and unclean election off there is no leader, and no unclean election.
#[test]
fn test_offline_partition_leader_election_last_isr_offline_unclean_leader_election_disabled() {
    let (leader, outcome) = offline(&[2], &[4], false);
    assert_eq!(leader, None);
    assert_ne!(outcome.election, Some(ElectionKind::Unclean));
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testOfflinePartitionLeaderElectionLastIsrOfflineUncleanLeaderElectionEnabled (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// With unclean election on, a live replica outside the ISR leads, counted as unclean.
#[test]
fn test_offline_partition_leader_election_last_isr_offline_unclean_leader_election_enabled() {
    let (leader, outcome) = offline(&[2], &[4], true);
    assert_eq!(leader, Some(4));
    assert_eq!(outcome.election, Some(ElectionKind::Unclean));
}

/// `preferredReplicaPartitionLeaderElection` on a partition led by `leader`.
fn preferred(isr: &[u32], leader: Option<u32>, live: &[u32]) -> (PartitionState, Outcome) {
    elect(isr, leader, isr, Election::Preferred, &|r| live.contains(&r), false)
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testPreferredReplicaPartitionLeaderElection (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// The preferred replica, live and in the ISR, takes the leadership.
#[test]
fn test_preferred_replica_partition_leader_election() {
    let (st, outcome) = preferred(&[2, 4], Some(4), &[2, 4]);
    assert_eq!(st.leader, Some(2));
    assert_eq!(outcome.election, Some(ElectionKind::Clean));
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testPreferredReplicaPartitionLeaderElectionPreferredReplicaInIsrNotLive (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// A preferred replica that is not live is not elected.
#[test]
fn test_preferred_replica_partition_leader_election_preferred_replica_in_isr_not_live() {
    let (st, outcome) = preferred(&[2], None, &[]);
    assert_eq!((st.leader, outcome.changed), (None, false));
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testPreferredReplicaPartitionLeaderElectionPreferredReplicaNotInIsrLive (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// A preferred replica outside the ISR is not elected: the leader stays.
#[test]
fn test_preferred_replica_partition_leader_election_preferred_replica_not_in_isr_live() {
    let (st, outcome) = preferred(&[4], Some(4), &[2, 4]);
    assert_eq!((st.leader, outcome.changed), (Some(4), false));
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testPreferredReplicaPartitionLeaderElectionPreferredReplicaNotInIsrNotLive (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// With an empty ISR and nothing live, nobody is elected.
#[test]
fn test_preferred_replica_partition_leader_election_preferred_replica_not_in_isr_not_live() {
    let (st, outcome) = preferred(&[], None, &[]);
    assert_eq!((st.leader, outcome.changed), (None, false));
}

/// The controlled shutdown of `shutting_down` on a partition of `ASSIGNMENT` led by 2.
fn controlled_shutdown(isr: &[u32], shutting_down: &[u32]) -> Option<u32> {
    let target: Vec<u32> = isr.iter().copied().filter(|r| !shutting_down.contains(r)).collect();
    let live = [2, 4];
    let acceptable = |r: u32| live.contains(&r) && !shutting_down.contains(&r);
    elect(isr, Some(2), &target, Election::Normal, &acceptable, false).0.leader
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testControlledShutdownPartitionLeaderElection (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// The leadership moves to a live ISR member that is not shutting down.
#[test]
fn test_controlled_shutdown_partition_leader_election() {
    assert_eq!(controlled_shutdown(&[2, 4], &[2]), Some(4));
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testControlledShutdownPartitionLeaderElectionLastIsrShuttingDown (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// The last ISR member shutting down leaves nobody to elect.
#[test]
fn test_controlled_shutdown_partition_leader_election_last_isr_shutting_down() {
    assert_eq!(controlled_shutdown(&[2], &[2]), None);
}

/// Kafka: PartitionLeaderElectionAlgorithmsTest.testControlledShutdownPartitionLeaderElectionAllIsrSimultaneouslyShutdown (3.7.0, core/src/test/scala/unit/kafka/controller/PartitionLeaderElectionAlgorithmsTest.scala)
/// The whole ISR shutting down at once leaves nobody to elect.
#[test]
fn test_controlled_shutdown_partition_leader_election_all_isr_simultaneously_shutdown() {
    assert_eq!(controlled_shutdown(&[2, 4], &[2, 4]), None);
}
