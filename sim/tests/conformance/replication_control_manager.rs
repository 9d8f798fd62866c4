//! Kafka's `ReplicationControlManagerTest` (3.8.0,
//! metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java): the
//! controller's partition changes when brokers are fenced, unfenced or come back from an unclean
//! shutdown, when a leader's AlterPartition is accepted and when an operator asks for an
//! election. `fixtures::Controller` takes the steps `controller/node.rs` takes, through
//! `election::apply`. AlterPartition validation (which request is refused, and with which error)
//! lives inside the controller actor and is not covered here (NOT_EXPRESSED.md).

use crate::common::V3_6;
use crate::fixtures::{kraft_rules, Controller, V3_8, V4_0};
use losslab_model::{KafkaVersion, Scenario};
use losslab_sim::controller::election::Election;

/// `createTestTopic("foo", [[0, 1, 2, 3]])` on brokers 0-3 with ELR and `min.insync.replicas` 3.
fn elr_controller(replicas: &[u32], min_isr: u32) -> Controller {
    Controller::new(replicas, &[replicas], kraft_rules(V4_0, min_isr, true))
}

/// Brokers 0-3, min ISR 3, leader 0, after `fenceBrokers(1, 2, 3)`: ISR [0], ELR [2, 3].
fn leader_alone_in_isr() -> Controller {
    let mut c = elr_controller(&[0, 1, 2, 3], 3);
    c.fence_brokers(&[1, 2, 3]);
    assert_eq!(elrs(&c), (vec![2, 3], vec![]));
    c
}

/// ELR and last known ELR of partition 0.
fn elrs(c: &Controller) -> (Vec<u32>, Vec<u32>) {
    (c.partitions[0].elr.clone(), c.partitions[0].last_known_elr.clone())
}

/// Leader, ISR, ELR and last known ELR of partition `p`.
fn state(c: &Controller, p: usize) -> (Option<u32>, Vec<u32>, Vec<u32>, Vec<u32>) {
    let s = &c.partitions[p];
    (s.leader, s.isr.clone(), s.elr.clone(), s.last_known_elr.clone())
}

/// Kafka: ReplicationControlManagerTest.testShrinkAndExpandIsr (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// The leader's AlterPartition shrinks, then expands the ISR.
#[test]
fn test_shrink_and_expand_isr() {
    let mut c = Controller::new(&[0, 1, 2], &[&[0, 1, 2]], kraft_rules(V3_8, 1, false));
    assert_eq!(c.partitions[0].leader, Some(0));
    assert!(c.alter_partition(0, &[0, 1]).changed);
    assert_eq!((c.partitions[0].isr.clone(), c.partitions[0].partition_epoch), (vec![0, 1], 1));
    assert!(c.alter_partition(0, &[0, 1, 2]).changed);
    assert_eq!((c.partitions[0].isr.clone(), c.partitions[0].partition_epoch), (vec![0, 1, 2], 2));
    assert_eq!((c.partitions[0].leader, c.partitions[0].leader_epoch), (Some(0), 0));
}

/// Kafka: ReplicationControlManagerTest.testEligibleLeaderReplicas_ShrinkAndExpandIsr (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// An ISR shrunk below min ISR puts the leavers in the ELR; back at min ISR the ELR empties.
#[test]
fn test_eligible_leader_replicas_shrink_and_expand_isr() {
    let mut c = elr_controller(&[0, 1, 2], 2);
    c.alter_partition(0, &[0]);
    assert_eq!(state(&c, 0), (Some(0), vec![0], vec![1, 2], vec![]));
    c.alter_partition(0, &[0, 1]);
    assert_eq!(state(&c, 0), (Some(0), vec![0, 1], vec![], vec![]));
}

/// Kafka: ReplicationControlManagerTest.testEligibleLeaderReplicas_BrokerFence (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// Fenced brokers join the ELR only when the ISR they leave is below min ISR; unfencing keeps the ELR.
#[test]
fn test_eligible_leader_replicas_broker_fence() {
    let mut c = elr_controller(&[0, 1, 2, 3], 3);
    c.fence_brokers(&[2, 3]);
    assert_eq!(elrs(&c), (vec![3], vec![]));
    c.fence_brokers(&[1, 2, 3]);
    assert_eq!(elrs(&c), (vec![1, 3], vec![]));
    for b in 0..4 {
        c.unfence(b);
    }
    assert_eq!(elrs(&c), (vec![1, 3], vec![]));
}

/// Kafka: ReplicationControlManagerTest.testEligibleLeaderReplicas_EffectiveMinIsr (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// `min.insync.replicas` 5 on a topic of 3 replicas counts as 3.
#[test]
fn test_eligible_leader_replicas_effective_min_isr() {
    let json = r#"{"kafka.version": "4.1", "brokers": 3,
        "topic": {"replication.factor": 3, "min.insync.replicas": 5}}"#;
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scenario.effective_min_insync_replicas(), 3);
}

/// Kafka: ReplicationControlManagerTest.testEligibleLeaderReplicas_CleanElection (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// With the last ISR member fenced, an unfenced ELR member leads and the old leader joins the ELR.
#[test]
fn test_eligible_leader_replicas_clean_election() {
    let mut c = leader_alone_in_isr();
    c.unfence(2);
    c.fence_brokers(&[0, 1]);
    assert_eq!(state(&c, 0), (Some(2), vec![2], vec![0, 3], vec![]));
}

/// Kafka: ReplicationControlManagerTest.testEligibleLeaderReplicas_UncleanShutdown (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// An unclean shutdown leaves the ELR; the last ISR member's makes it the last known leader.
#[test]
fn test_eligible_leader_replicas_unclean_shutdown() {
    let mut c = leader_alone_in_isr();
    c.unclean_shutdown(3);
    assert_eq!(elrs(&c), (vec![2], vec![]));
    c.unclean_shutdown(0);
    assert_eq!(elrs(&c), (vec![2], vec![0]));
}

/// Partitions [1, 2, 3], [2, 3, 4] and [0, 2, 1] on brokers 0-4, each led by its first replica.
fn three_partitions(version: KafkaVersion) -> Controller {
    Controller::new(&[0, 1, 2, 3, 4], &[&[1, 2, 3], &[2, 3, 4], &[0, 2, 1]], kraft_rules(version, 1, false))
}

/// Kafka: ReplicationControlManagerTest.testFenceMultipleBrokers (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// Fencing two brokers shrinks every ISR and moves the leaderships they held.
#[test]
fn test_fence_multiple_brokers() {
    let mut c = three_partitions(V3_8);
    c.fence_brokers(&[2, 3]);
    assert_eq!((c.partitions[0].replicas.clone(), state(&c, 0).0, state(&c, 0).1), (vec![1, 2, 3], Some(1), vec![1]));
    assert_eq!((c.partitions[1].replicas.clone(), state(&c, 1).0, state(&c, 1).1), (vec![2, 3, 4], Some(4), vec![4]));
    assert_eq!((c.partitions[2].replicas.clone(), state(&c, 2).1), (vec![0, 2, 1], vec![0, 1]));
    assert_ne!(c.partitions[2].leader, Some(2));
}

/// Kafka: ReplicationControlManagerTest.testElectUncleanLeaders_WithoutElr (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// An unclean election needs a live replica; once one is back it leads alone, other partitions untouched.
#[test]
fn test_elect_unclean_leaders_without_elr() {
    let mut c = three_partitions(V3_6);
    c.fence_brokers(&[2, 3]);
    c.fence_brokers(&[1, 2, 3]);
    assert_eq!((state(&c, 0).0, state(&c, 0).1), (None, vec![1]));
    assert_eq!((state(&c, 1).0, state(&c, 1).1), (Some(4), vec![4]));
    assert_eq!((state(&c, 2).0, state(&c, 2).1), (Some(0), vec![0]));
    // ELIGIBLE_LEADERS_NOT_AVAILABLE for partition 0; ELECTION_NOT_NEEDED for 1 and 2.
    for p in 0..3 {
        assert!(!c.elect(p, Election::Unclean).changed, "partition {p}");
    }
    c.unfence(2);
    // 2 back in partition 1's ISR: the unclean election must not move its leadership.
    c.alter_partition(1, &[2, 4]);
    assert!(c.elect(0, Election::Unclean).changed);
    assert!(!c.elect(1, Election::Unclean).changed);
    assert!(!c.elect(2, Election::Unclean).changed);
    assert_eq!((state(&c, 0).0, state(&c, 0).1), (Some(2), vec![2]));
    assert_eq!((state(&c, 1).0, state(&c, 1).1), (Some(4), vec![2, 4]));
    assert_eq!((state(&c, 2).0, state(&c, 2).1), (Some(0), vec![0]));
}

/// Kafka: ReplicationControlManagerTest.testPreferredElectionDoesNotTriggerUncleanElection (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// A preferred election never elects uncleanly, even where the topic allows unclean elections.
#[test]
fn test_preferred_election_does_not_trigger_unclean_election() {
    let mut c = Controller::new(&[1, 2, 3, 4], &[&[1, 2, 3]], kraft_rules(V3_8, 1, false));
    c.fence_brokers(&[2, 3]);
    c.fence_brokers(&[1, 2, 3]);
    c.unfence(2);
    assert_eq!((state(&c, 0).0, state(&c, 0).1), (None, vec![1]));
    c.rules.unclean = true; // unclean.leader.election.enable=true on the topic
                            // PREFERRED_LEADER_NOT_AVAILABLE: no change.
    assert!(!c.elect(0, Election::Preferred).changed);
    assert_eq!((state(&c, 0).0, state(&c, 0).1), (None, vec![1]));
}

/// Kafka: ReplicationControlManagerTest.testAlterPartitionShouldRejectFencedBrokers (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// Fencing 3 removes it from the ISR; once unfenced, the leader's expansion to it is applied (the state part).
#[test]
fn test_alter_partition_should_reject_fenced_brokers() {
    let mut c = Controller::new(&[0, 1, 2, 3, 4], &[&[1, 2, 3, 4]], kraft_rules(V3_8, 1, false));
    c.fence(3);
    let s = &c.partitions[0];
    assert_eq!((s.isr.clone(), s.leader, s.leader_epoch, s.partition_epoch), (vec![1, 2, 4], Some(1), 0, 1));
    // The AlterPartition to [1, 2, 3, 4] now is refused with INELIGIBLE_REPLICA by the
    // controller actor's validation (not a pure function: NOT_EXPRESSED.md).
    c.unfence(3);
    c.alter_partition(0, &[1, 2, 3, 4]);
    let s = &c.partitions[0];
    assert_eq!((s.isr.clone(), s.leader, s.leader_epoch, s.partition_epoch), (vec![1, 2, 3, 4], Some(1), 0, 2));
}

/// Kafka: ReplicationControlManagerTest.testProcessBrokerHeartbeatInControlledShutdown (3.8.0, metadata/src/test/java/org/apache/kafka/controller/ReplicationControlManagerTest.java)
/// A KRaft broker asking to shut down leaves the ISR and hands its leadership over (the partition change).
#[test]
fn test_process_broker_heartbeat_in_controlled_shutdown() {
    // MV 3.3-IV2 and 3.3-IV3; the heartbeat and registration records are the actor's.
    let mut c = Controller::new(&[0, 1, 2], &[&[0, 1, 2]], kraft_rules(KafkaVersion::new(3, 3), 1, false));
    c.controlled_shutdown(0);
    assert_eq!((state(&c, 0).0, state(&c, 0).1), (Some(1), vec![1, 2]));
}
