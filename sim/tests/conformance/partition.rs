//! Kafka's `PartitionTest` (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala):
//! partition states from the controller, the epoch cache and fetch validation on the leader.
//! The ISR and high-watermark cases of the same class are in `partition_isr`.
//!
//! `makeLeader` / `makeFollower` is `Replica::apply_state`: Kafka's `true` is
//! `BecameLeader` / `BecameFollower`, `false` is `IsrUpdated` / `Ignored`. Broker 101 (the local
//! one) is broker 1, 102 is 2, 103 is 3.

use crate::common::{batch, log_of, Cluster, V3_7};
use crate::fixtures::{fetch_follower, leader_and_isr, make_leader, partition_test, seeded, sleep_ms, view, T0_US};
use losslab_model::config::Acks;
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::{Role, StateChange};
use losslab_sim::protocol::{FetchData, KafkaError};

const FOLLOWER: StateChange = StateChange::BecameFollower { truncate_to_hw: None };

/// Broker 2 fetches from leader 1 at `fetch_offset` with its last fetched epoch and leader epoch.
fn read(c: &mut Cluster, last_fetched_epoch: u32, fetch_offset: u64, leader_epoch: u32) -> FetchData {
    let now = c.now_us;
    let n = c.node_mut(1);
    n.replica.fetch_as_leader(&n.log, 2, fetch_offset, Some(last_fetched_epoch), leader_epoch, now).unwrap().data
}

/// Kafka: PartitionTest.testLastFetchedOffsetValidation (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// The leader answers a follower's (last fetched epoch, fetch offset) with the diverging epoch's end.
#[test]
fn test_last_fetched_offset_validation() {
    let log =
        log_of(&[batch(0, 0, 2), batch(2, 3, 3), batch(5, 3, 3), batch(8, 4, 5), batch(13, 7, 1), batch(14, 9, 3)]);
    assert_eq!(log.log_end_offset(), 17);
    let mut c = partition_test(V3_7, 1, log, 0);
    make_leader(&mut c, 10, 1, &[1, 2], &[1, 2]);
    let diverging = |epoch, end_offset| FetchData::Diverging { epoch, end_offset };
    assert_eq!(read(&mut c, 2, 5, 10), diverging(0, 2));
    assert_eq!(read(&mut c, 0, 4, 10), diverging(0, 2));
    assert_eq!(read(&mut c, 6, 6, 10), diverging(4, 13));
    assert_eq!(read(&mut c, 5, 9, 10), diverging(4, 13));
    assert_eq!(read(&mut c, 10, 18, 10), diverging(10, 17));
    for (last_fetched_epoch, fetch_offset) in [(0, 2), (7, 14), (9, 17), (10, 17)] {
        let data = read(&mut c, last_fetched_epoch, fetch_offset, 10);
        assert!(matches!(data, FetchData::Records { .. }), "({last_fetched_epoch}, {fetch_offset}): {data:?}");
    }
    // An epoch larger than any the leader knows: OffsetOutOfRangeException.
    assert!(matches!(read(&mut c, 11, 5, 10), FetchData::OutOfRange { .. }));
}

/// Kafka: PartitionTest.testMakeLeaderUpdatesEpochCache (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A new leader's epoch starts at its log end, which is where that epoch ends.
#[test]
fn test_make_leader_updates_epoch_cache() {
    let log = log_of(&[batch(0, 0, 2), batch(2, 5, 2)]);
    let mut c = partition_test(V3_7, 1, log, 0);
    make_leader(&mut c, 8, 1, &[1, 2], &[1, 2]);
    assert_eq!(c.leo(1), 4);
    assert_eq!(c.node(1).log.end_offset_for_epoch(8), Some((8, 4)));
}

/// Kafka: PartitionTest.testLeaderEpochValidationOnLeader (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A leader refuses a fetch from an older (fenced) or newer (unknown) leader epoch.
#[test]
fn test_leader_epoch_validation_on_leader() {
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    make_leader(&mut c, 5, 1, &[1, 2], &[1, 2]);
    let mut send_fetch = |leader_epoch: u32| {
        let n = c.node_mut(1);
        n.replica.fetch_as_leader(&n.log, 2, 0, None, leader_epoch, T0_US).map(|f| f.data)
    };
    // Kafka's fetch without a leader epoch skips the check; losslab always sends one.
    assert_eq!(send_fetch(5), Ok(FetchData::Records { batches: vec![], high_watermark: 0 }));
    assert_eq!(send_fetch(4), Err(KafkaError::FencedLeaderEpoch));
    assert_eq!(send_fetch(6), Err(KafkaError::UnknownLeaderEpoch));
}

/// Kafka: PartitionTest.testMakeFollowerWithNoLeaderIdChange (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower takes a newer leader epoch of the same leader as a change, the same epoch again not.
#[test]
fn test_make_follower_with_no_leader_id_change() {
    // Kafka's brokers 101 (local), 1 (the leader), 0 and 2 are brokers 1, 2, 3 and 4.
    let replicas = [3, 2, 4, 1];
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    c.apply(1, &leader_and_isr(2, 1, 1, &replicas, &replicas));
    assert_eq!(c.apply(1, &leader_and_isr(2, 4, 1, &replicas, &replicas)), FOLLOWER);
    assert_eq!(c.apply(1, &leader_and_isr(2, 4, 1, &replicas, &replicas)), StateChange::Ignored);
}

/// Kafka: PartitionTest.testIsUnderMinIsr (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// With min.insync.replicas 2, an ISR of one is under min ISR: acks=all writes are refused.
#[test]
fn test_is_under_min_isr() {
    // losslab has no isUnderMinIsr; the leader's acks=all check is what it decides.
    let mut c = partition_test(V3_7, 2, Log::default(), 0);
    make_leader(&mut c, 0, 1, &[1, 2], &[1, 2]);
    assert!(c.produce(1, 1, Acks::All).is_ok());
    make_leader(&mut c, 1, 2, &[1], &[1, 2]);
    assert_eq!(c.produce(1, 1, Acks::All), Err(KafkaError::NotEnoughReplicas));
    assert!(c.produce(1, 1, Acks::Leader).is_ok());
}

/// Kafka: PartitionTest.testUpdateFollowerFetchState (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower's log end follows its fetches; it is caught up only once it reaches the leader's end.
#[test]
fn test_update_follower_fetch_state() {
    let mut c = partition_test(V3_7, 1, seeded(6, 4), 0);
    make_leader(&mut c, 5, 1, &[1, 2], &[1, 2]);
    let initialize_time_us = c.now_us;
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (None, initialize_time_us));
    sleep_ms(&mut c, 500);
    fetch_follower(&mut c, 2, 3);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(3), initialize_time_us));
    sleep_ms(&mut c, 500);
    fetch_follower(&mut c, 2, 6);
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (Some(6), c.now_us));
}

/// Kafka: PartitionTest.testUseCheckpointToInitializeHighWatermark (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A new leader starts from its checkpointed high watermark.
#[test]
fn test_use_checkpoint_to_initialize_high_watermark() {
    let mut c = partition_test(V3_7, 1, seeded(6, 5), 4);
    make_leader(&mut c, 6, 1, &[1, 2], &[1, 2]);
    assert_eq!(c.hw(1), 4);
}

/// Kafka: PartitionTest.testDoNotResetReplicaStateIfLeaderEpochIsNotBumped (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A newer partition epoch with the same leader epoch keeps the leader's view of its followers.
#[test]
fn test_do_not_reset_replica_state_if_leader_epoch_is_not_bumped() {
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    assert_eq!(make_leader(&mut c, 8, 1, &[1], &[1, 2]), StateChange::BecameLeader);
    assert_eq!((c.replica(1).partition_epoch, c.replica(1).leader_epoch, c.replica(1).isr()), (1, 8, &[1][..]));
    // Not in the ISR: unknown log end, never caught up.
    assert_eq!((view(&c, 2).log_end_offset, view(&c, 2).last_caught_up_us), (None, 0));
    fetch_follower(&mut c, 2, 0);
    let fetched = view(&c, 2);
    assert_eq!((fetched.log_end_offset, fetched.last_caught_up_us), (Some(0), c.now_us));
    assert_eq!(make_leader(&mut c, 8, 2, &[1], &[1, 2]), StateChange::IsrUpdated);
    assert_eq!((c.replica(1).partition_epoch, c.replica(1).leader_epoch, c.replica(1).isr()), (2, 8, &[1][..]));
    assert_eq!(view(&c, 2), fetched);
}

/// Kafka: PartitionTest.testDoNotUpdateEpochStartOffsetIfLeaderEpochIsNotBumped (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A newer partition epoch with the same leader epoch leaves the epoch's start offset alone.
#[test]
fn test_do_not_update_epoch_start_offset_if_leader_epoch_is_not_bumped() {
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    assert_eq!(make_leader(&mut c, 8, 1, &[1], &[1, 2]), StateChange::BecameLeader);
    assert_eq!(c.node(1).log.epoch_cache().last(), Some(&(8, 0)));
    c.node_mut(1).log.append(batch(0, 8, 2));
    assert_eq!(make_leader(&mut c, 8, 2, &[1], &[1, 2]), StateChange::IsrUpdated);
    assert_eq!((c.replica(1).partition_epoch, c.replica(1).leader_epoch), (2, 8));
    assert_eq!(c.node(1).log.epoch_cache().last(), Some(&(8, 0)));
}

/// Kafka: PartitionTest.testIgnoreLeaderPartitionStateChangeWithOlderPartitionEpoch (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A leader ignores a state with an older partition epoch.
#[test]
fn test_ignore_leader_partition_state_change_with_older_partition_epoch() {
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    assert_eq!(make_leader(&mut c, 8, 1, &[1], &[1]), StateChange::BecameLeader);
    assert_eq!(make_leader(&mut c, 8, 0, &[1], &[1]), StateChange::Ignored);
    assert_eq!((c.replica(1).partition_epoch, c.replica(1).leader_epoch), (1, 8));
}

/// Kafka: PartitionTest.testIgnoreFollowerPartitionStateChangeWithOlderPartitionEpoch (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A follower ignores a state that is not newer.
#[test]
fn test_ignore_follower_partition_state_change_with_older_partition_epoch() {
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    let state = leader_and_isr(2, 8, 1, &[1, 2], &[1, 2]);
    assert_eq!(c.apply(1, &state), FOLLOWER);
    assert_eq!(c.apply(1, &state), StateChange::Ignored);
    assert_eq!((c.replica(1).partition_epoch, c.replica(1).leader_epoch), (1, 8));
}

/// Kafka: PartitionTest.testFollowerShouldNotHaveAnyRemoteReplicaStates (3.7.0, core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
/// A leader that becomes a follower forgets its ISR and its view of the other replicas.
#[test]
fn test_follower_should_not_have_any_remote_replica_states() {
    let replicas = [1, 2, 3];
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    assert_eq!(make_leader(&mut c, 1, 1, &replicas, &replicas), StateChange::BecameLeader);
    let r = c.replica(1);
    assert_eq!((r.partition_epoch, r.leader_epoch, r.leader(), r.isr()), (1, 1, Some(1), &replicas[..]));
    let Role::Leader { followers, .. } = &r.role else { panic!("not leading") };
    assert_eq!(followers.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(c.apply(1, &leader_and_isr(2, 2, 2, &replicas, &replicas)), FOLLOWER);
    let r = c.replica(1);
    assert_eq!((r.partition_epoch, r.leader_epoch, r.leader(), r.isr()), (2, 2, Some(2), &[][..]));
    assert_eq!(r.role, Role::Follower { leader: Some(2) });
    assert_eq!(r.replicas, replicas);
}
