//! Kafka's `PartitionTest` (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala),
//! continued: ISR expansion and shrink through AlterPartition, and the leader's high watermark.
//!
//! `alterPartitionManager.isrUpdates` (an AlterPartition in flight) is the leader's pending ISR;
//! `completeIsrUpdate` / `failIsrUpdate` are `on_alter_partition` with the controller's answer.
//! Kafka's retries of an AlterPartition happen in the broker shell, not in `Replica`.

use crate::common::{pending_isr, Cluster, V3_7};
use crate::fixtures::{
    cluster_with, complete_isr_update, fail_isr_update, fetch_follower, leader_and_isr, make_leader, maximal_isr,
    maybe_shrink_isr, partition_test, replica_rules, seed, seeded, sleep_ms, view, KAFKA_LAG_MS,
};
use losslab_model::config::{Acks, MetadataMode};
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::StateChange;
use losslab_sim::protocol::KafkaError;
use std::collections::BTreeSet;

/// 10 records at epoch 4; broker 1 leads at epoch 5 with `isr` of `replicas`, partition epoch 1.
fn leader_of_ten(isr: &[u32], replicas: &[u32]) -> Cluster {
    leader_of_ten_with(MetadataMode::KRaft, 1, isr, replicas)
}

fn leader_of_ten_with(mode: MetadataMode, min_isr: u32, isr: &[u32], replicas: &[u32]) -> Cluster {
    let rules = replica_rules(V3_7, min_isr, mode);
    let mut c = cluster_with(rules, [seeded(10, 4), Log::default(), Log::default()], [0, 0, 0]);
    assert_eq!(make_leader(&mut c, 5, 1, isr, replicas), StateChange::BecameLeader);
    c
}

fn ineligible(c: &mut Cluster, brokers: &[u32]) {
    c.node_mut(1).replica.set_ineligible(brokers.iter().copied().collect::<BTreeSet<u32>>());
}

/// `handleAlterIsrFailure`: leader alone in its ISR of [1, 2], follower 2 reaches the log end,
/// the expansion is in flight, and the controller answers `error`.
fn expansion_failed(error: KafkaError) -> Cluster {
    let mut c = leader_of_ten(&[1], &[1, 2]);
    assert_eq!(c.hw(1), 10, "makeLeader moves the high watermark of a leader alone in its ISR");
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (None, 0));
    let proposal = fetch_follower(&mut c, 2, 10).isr_proposal;
    assert_eq!(proposal, Some(vec![1, 2]));
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1, 2]));
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(10), c.now_us));
    fail_isr_update(&mut c, error);
    c
}

/// Kafka: PartitionTest.testFollowerDoesNotJoinISRUntilCaughtUpToOffsetWithinCurrentLeaderEpoch (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower joins the ISR only once it reaches the start of the leader's current epoch.
#[test]
fn test_follower_does_not_join_isr_until_caught_up_to_offset_within_current_leader_epoch() {
    let replicas = [1, 2, 3];
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    assert_eq!(make_leader(&mut c, 8, 1, &[1, 3], &replicas), StateChange::BecameLeader);
    let last_offset_of_first_batch = c.produce(1, 2, Acks::None).unwrap().end_offset - 1;
    c.produce(1, 3, Acks::None).unwrap();
    assert_eq!(c.hw(1), 0);
    // The ISR member 3 moves the high watermark.
    fetch_follower(&mut c, 3, 0);
    fetch_follower(&mut c, 3, last_offset_of_first_batch);
    assert_eq!(c.hw(1), last_offset_of_first_batch);
    // Broker 1 follows 3 at epoch 9, then leads again at epoch 10.
    c.apply(1, &leader_and_isr(3, 9, 1, &[1, 3], &replicas));
    assert_eq!(make_leader(&mut c, 10, 1, &[1, 3], &replicas), StateChange::BecameLeader);
    let current_leader_epoch_start_offset = c.leo(1);
    c.produce(1, 2, Acks::None).unwrap();
    // Follower 2, outside the ISR, fetching below the epoch's start does not join.
    assert_eq!(fetch_follower(&mut c, 2, 0).isr_proposal, None);
    assert_eq!(fetch_follower(&mut c, 2, last_offset_of_first_batch).isr_proposal, None);
    assert_eq!(c.replica(1).isr(), &[1, 3]);
    // From the epoch's start it does.
    let proposal = fetch_follower(&mut c, 2, current_leader_epoch_start_offset).isr_proposal;
    assert_eq!(c.replica(1).isr(), &[1, 3]);
    assert_eq!(maximal_isr(c.replica(1)), vec![1, 2, 3]);
    assert_eq!(proposal, Some(vec![1, 2, 3]));
}

/// Kafka: PartitionTest.testIsrExpansion (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower that reaches the high watermark is proposed; the ISR grows once the controller accepts.
#[test]
fn test_isr_expansion() {
    let mut c = leader_of_ten(&[1], &[1, 2]);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (None, 0));
    assert_eq!(fetch_follower(&mut c, 2, 3).isr_proposal, None);
    assert_eq!(c.replica(1).isr(), &[1]);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(3), 0));
    assert_eq!(fetch_follower(&mut c, 2, 10).isr_proposal, Some(vec![1, 2]));
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1, 2]));
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(10), c.now_us));
    complete_isr_update(&mut c, 2);
    assert_eq!(c.replica(1).isr(), &[1, 2]);
}

/// Kafka: PartitionTest.testIsrNotExpandedIfUpdateFails (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// An expansion the controller refuses with INVALID_UPDATE_VERSION leaves the ISR and stays pending.
#[test]
fn test_isr_not_expanded_if_update_fails() {
    let c = expansion_failed(KafkaError::InvalidUpdateVersion);
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1, 2]));
}

/// Kafka: PartitionTest.testAlterIsrInvalidVersion (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// After INVALID_UPDATE_VERSION the ISR is the committed one and the maximal ISR the pending one.
#[test]
fn test_alter_isr_invalid_version() {
    let c = expansion_failed(KafkaError::InvalidUpdateVersion);
    assert_eq!(c.replica(1).isr(), &[1]);
    assert_eq!(maximal_isr(c.replica(1)), vec![1, 2]);
}

/// The `brokerState` cases of `testHighWatermarkIncreasesWithFencedOrShutdownFollower`: the
/// follower catches up, the leader appends 10 more, the controller shrinks the ISR to the leader.
fn hw_after_shrink_with_follower(follower_ineligible: bool) -> u64 {
    let mut c = leader_of_ten(&[1, 2], &[1, 2]);
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1, 2][..], vec![1, 2]));
    fetch_follower(&mut c, 2, 10);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(10), c.now_us));
    assert_eq!(c.hw(1), 10);
    if follower_ineligible {
        ineligible(&mut c, &[2]);
    }
    seed(&mut c.node_mut(1).log, 10, 5);
    assert_eq!(make_leader(&mut c, 5, 2, &[1], &[1, 2]), StateChange::IsrUpdated);
    assert!(c.replica(1).is_leader());
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1]));
    c.hw(1)
}

/// Kafka: PartitionTest.testHighWatermarkIncreasesWithFencedOrShutdownFollower("unfenced") (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A caught-up follower just removed from the ISR still holds the high watermark back.
#[test]
fn test_high_watermark_increases_with_fenced_or_shutdown_follower_unfenced() {
    assert_eq!(hw_after_shrink_with_follower(false), 10);
}

/// Kafka: PartitionTest.testHighWatermarkIncreasesWithFencedOrShutdownFollower("fenced", "shutdown") (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A fenced or shutting-down follower (the controller's ineligible set) does not.
#[test]
fn test_high_watermark_increases_with_fenced_or_shutdown_follower_fenced() {
    assert_eq!(hw_after_shrink_with_follower(true), 20);
}

/// The shared steps of `testIsrNotExpandedIfReplicaIsFencedOrShutdown` and
/// `testIsrNotExpandedIfReplicaIsInControlledShutdown`: the controller refuses the expansion
/// (INELIGIBLE_REPLICA), the leader learns that the follower is ineligible and stops proposing
/// it, then learns it is back and proposes it again.
fn isr_not_expanded_while_ineligible(mode: MetadataMode) {
    let mut c = leader_of_ten_with(mode, 1, &[1], &[1, 2]);
    assert_eq!(fetch_follower(&mut c, 2, 10).isr_proposal, Some(vec![1, 2]));
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(10), c.now_us));
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1, 2]));
    fail_isr_update(&mut c, KafkaError::IneligibleReplica);
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1]));
    assert_eq!(pending_isr(c.replica(1)), None);
    ineligible(&mut c, &[2]);
    assert_eq!(fetch_follower(&mut c, 2, 10).isr_proposal, None);
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1]));
    ineligible(&mut c, &[]);
    assert_eq!(fetch_follower(&mut c, 2, 10).isr_proposal, Some(vec![1, 2]));
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1, 2]));
    complete_isr_update(&mut c, 1);
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1, 2][..], vec![1, 2]));
    assert_eq!(pending_isr(c.replica(1)), None);
}

/// Kafka: PartitionTest.testIsrNotExpandedIfReplicaIsFencedOrShutdown("kraft") (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A KRaft leader does not propose a fenced follower, and does once it is unfenced.
#[test]
fn test_isr_not_expanded_if_replica_is_fenced_or_shutdown_kraft() {
    isr_not_expanded_while_ineligible(MetadataMode::KRaft);
}

/// Kafka: PartitionTest.testIsrNotExpandedIfReplicaIsFencedOrShutdown("zk") (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A ZooKeeper-mode leader does not propose a follower its metadata says is not alive.
#[test]
fn test_isr_not_expanded_if_replica_is_fenced_or_shutdown_zk() {
    isr_not_expanded_while_ineligible(MetadataMode::ZooKeeper);
}

/// Kafka: PartitionTest.testIsrNotExpandedIfReplicaIsInControlledShutdown (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A KRaft leader does not propose a follower in controlled shutdown (the same ineligible set).
#[test]
fn test_isr_not_expanded_if_replica_is_in_controlled_shutdown() {
    isr_not_expanded_while_ineligible(MetadataMode::KRaft);
}

/// The leader of 10 records with ISR [1, 2] whose follower never fetched, past the lag.
fn shrink_pending() -> Cluster {
    let mut c = leader_of_ten(&[1, 2], &[1, 2]);
    assert_eq!(c.hw(1), 0);
    sleep_ms(&mut c, KAFKA_LAG_MS + 1);
    assert_eq!(maybe_shrink_isr(&mut c), Some(vec![1]));
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1, 2][..], vec![1, 2]));
    c
}

/// Kafka: PartitionTest.testRetryShrinkIsr (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A shrink whose AlterPartition fails with a network error stays pending until it is accepted.
#[test]
fn test_retry_shrink_isr() {
    let mut c = shrink_pending();
    fail_isr_update(&mut c, KafkaError::NetworkException);
    assert_eq!(c.replica(1).partition_epoch, 1);
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1]), "retried with the same request");
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1, 2][..], vec![1, 2]));
    assert_eq!(c.hw(1), 0);
    complete_isr_update(&mut c, 2);
    assert_eq!(c.replica(1).partition_epoch, 2);
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1][..], vec![1]));
    assert_eq!(c.hw(1), c.leo(1));
}

/// Kafka: PartitionTest.testIsrNotShrunkIfUpdateFails (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A shrink refused with INVALID_UPDATE_VERSION leaves the ISR, still pending, and the HW at 0.
#[test]
fn test_isr_not_shrunk_if_update_fails() {
    let mut c = shrink_pending();
    assert_eq!(c.hw(1), 0);
    fail_isr_update(&mut c, KafkaError::InvalidUpdateVersion);
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1]), "still PendingShrinkIsr");
    assert_eq!(c.replica(1).isr(), &[1, 2]);
    assert_eq!(c.hw(1), 0);
}

/// Kafka: PartitionTest.testMaybeShrinkIsr (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower that never fetched counts as caught up at first, and is dropped after the lag.
#[test]
fn test_maybe_shrink_isr() {
    let mut c = leader_of_ten(&[1, 2, 3], &[1, 2, 3]);
    let initialize_time_us = c.now_us;
    assert_eq!(c.hw(1), 0);
    fetch_follower(&mut c, 2, 10);
    assert_eq!((view(&c, 3).log_end_offset, view(&c, 3).last_caught_up_us), (None, initialize_time_us));
    assert_eq!(maybe_shrink_isr(&mut c), None);
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    sleep_ms(&mut c, KAFKA_LAG_MS + 1);
    assert_eq!(maybe_shrink_isr(&mut c), Some(vec![1, 2]));
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1, 2, 3][..], vec![1, 2, 3]));
    assert_eq!(c.hw(1), 0);
    complete_isr_update(&mut c, 2);
    assert_eq!(c.replica(1).partition_epoch, 2);
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1, 2][..], vec![1, 2]));
    assert_eq!(c.hw(1), c.leo(1));
}

/// Kafka: PartitionTest.testHighWatermarkAdvanceShouldNotAdvanceWhenUnderMinISR (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// From 3.7 the high watermark waits while the ISR is below min.insync.replicas, even if the maximal ISR is not.
#[test]
fn test_high_watermark_advance_should_not_advance_when_under_min_isr() {
    let mut c = leader_of_ten_with(MetadataMode::KRaft, 3, &[1, 2], &[1, 2, 3]);
    assert_eq!(c.hw(1), 0);
    fetch_follower(&mut c, 2, 10);
    assert_eq!(c.hw(1), 0);
    let proposal = fetch_follower(&mut c, 3, 10).isr_proposal;
    assert_eq!(c.hw(1), 0);
    assert_eq!(maximal_isr(c.replica(1)).len(), 3);
    assert_eq!(proposal, Some(vec![1, 2, 3]));
    complete_isr_update(&mut c, 2);
    assert_eq!(c.hw(1), c.leo(1));
}

/// Kafka: PartitionTest.testAlterIsrLeaderAndIsrRace (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A newer partition state for the same leader epoch settles a pending shrink (first half of the test).
#[test]
fn test_alter_isr_leader_and_isr_race() {
    let mut c = shrink_pending();
    assert_eq!(make_leader(&mut c, 5, 2, &[1, 2], &[1, 2]), StateChange::IsrUpdated);
    assert_eq!(c.hw(1), 0);
    assert_eq!(pending_isr(c.replica(1)), None, "ISR should be committed and not inflight");
    // Kafka then refuses a new shrink until the old AlterPartition is answered: the broker
    // shell's one-request-in-flight rule (NOT_EXPRESSED.md).
}

/// Kafka: PartitionTest.testShouldNotShrinkIsrIfPreviousFetchIsCaughtUp (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower that reaches the log end the leader had at its previous fetch stays in sync.
#[test]
fn test_should_not_shrink_isr_if_previous_fetch_is_caught_up() {
    let mut c = leader_of_ten(&[1, 2], &[1, 2]);
    let initialize_time_us = c.now_us;
    assert_eq!(c.hw(1), 0);
    sleep_ms(&mut c, 5000);
    let first_fetch_time_us = c.now_us;
    fetch_follower(&mut c, 2, 5);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(5), initialize_time_us));
    assert_eq!(c.hw(1), 5);
    sleep_ms(&mut c, 5001);
    seed(&mut c.node_mut(1).log, 5, 5);
    fetch_follower(&mut c, 2, 10);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(10), first_fetch_time_us));
    assert_eq!(c.hw(1), 10);
    assert_eq!(maybe_shrink_isr(&mut c), None);
    assert_eq!(c.replica(1).isr(), &[1, 2]);
}

/// Kafka: PartitionTest.testShouldNotShrinkIsrIfFollowerCaughtUpToLogEnd (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower at the leader's log end is never out of sync, however long ago it fetched.
#[test]
fn test_should_not_shrink_isr_if_follower_caught_up_to_log_end() {
    let mut c = leader_of_ten(&[1, 2], &[1, 2]);
    assert_eq!(c.hw(1), 0);
    fetch_follower(&mut c, 2, 10);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(10), c.now_us));
    assert_eq!(c.hw(1), 10);
    sleep_ms(&mut c, 30_001);
    assert_eq!(maybe_shrink_isr(&mut c), None);
    assert_eq!(c.replica(1).isr(), &[1, 2]);
}

/// Kafka: PartitionTest.testSingleInFlightAlterIsr (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// While an expansion is in flight the leader proposes no shrink.
#[test]
fn test_single_in_flight_alter_isr() {
    let mut c = leader_of_ten(&[1, 2, 3], &[1, 2, 3, 4]);
    assert_eq!(c.hw(1), 0);
    assert_eq!(fetch_follower(&mut c, 4, 10).isr_proposal, Some(vec![1, 2, 3, 4]));
    assert_eq!((c.replica(1).isr(), maximal_isr(c.replica(1))), (&[1, 2, 3][..], vec![1, 2, 3, 4]));
    sleep_ms(&mut c, KAFKA_LAG_MS + 1);
    assert_eq!(maybe_shrink_isr(&mut c), None);
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1, 2, 3, 4]));
}
