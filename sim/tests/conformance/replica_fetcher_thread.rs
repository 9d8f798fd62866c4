//! Kafka's `ReplicaFetcherThreadTest` (3.7.0,
//! core/src/test/scala/unit/kafka/server/ReplicaFetcherThreadTest.scala): where a follower
//! truncates given the leader's answer. Kafka mocks the follower's `UnifiedLog`
//! (`latestEpoch`, `endOffsetForEpoch`, `logEndOffset`); here a real `Log` is built that gives
//! the same answers (checked first), and the truncation offset is `Replica::truncation_for`.
//! Where Kafka mocks the leader's answer, a real losslab leader gives it if it can, else the
//! answer is built by hand.

use crate::common::{batch, log_of, Cluster, V3_7};
use crate::fixtures::{cluster_with, follower, leader_and_isr, replica_rules, seed, V0_11, V2_0, V2_6};
use losslab_model::config::MetadataMode;
use losslab_model::KafkaVersion;
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::FollowerFetch;
use losslab_sim::protocol::FetchData;

/// A leader (broker 1) at `leader_epoch` and a follower (broker 2) told of it, of `version`.
fn leader_and_follower(
    version: KafkaVersion,
    leader: Log,
    leader_epoch: u32,
    replica: Log,
    replica_hw: u64,
) -> Cluster {
    let rules = replica_rules(version, 1, MetadataMode::KRaft);
    let mut c = cluster_with(rules, [leader, replica, Log::default()], [0, replica_hw, 0]);
    let state = leader_and_isr(1, leader_epoch, 1, &[1, 2], &[1, 2]);
    c.apply(1, &state);
    c.apply(2, &state);
    c
}

/// Kafka: ReplicaFetcherThreadTest.shouldFetchLeaderEpochSecondTimeIfLeaderRepliesWithEpochNotKnownToFollower (3.7.0, core/src/test/scala/unit/kafka/server/ReplicaFetcherThreadTest.scala)
/// A leader epoch the follower lacks: cut to the follower's end of the epoch below, then ask again.
#[test]
fn should_fetch_leader_epoch_second_time_if_leader_replies_with_epoch_not_known_to_follower() {
    // Two partitions: the leader answers (4, 155) then (3, 101), and (4, 143) then (3, 102).
    for (first, second) in [(155, 101), (143, 102)] {
        // Latest epoch 5, log end 200; endOffsetForEpoch(4) = endOffsetForEpoch(3) = (3, 120).
        let mut log = log_of(&[batch(0, 3, 120), batch(120, 5, 80)]);
        let mut r = follower(V2_6, &mut log, 198);
        assert_eq!((log.latest_epoch(), log.log_end_offset()), (Some(5), 200));
        assert_eq!(log.end_offset_for_epoch(4), Some((3, 120)));
        assert_eq!(log.end_offset_for_epoch(3), Some((3, 120)));
        // Loop 1: not complete, another OffsetsForLeaderEpoch follows.
        let to = r.truncation_for(&log, 4, first).to_offset;
        assert_eq!(to, 120);
        r.truncate(&mut log, to);
        // Loop 2: the epoch both know.
        assert_eq!(r.truncation_for(&log, 3, second).to_offset, second);
    }
}

/// Kafka: ReplicaFetcherThreadTest.shouldTruncateToOffsetSpecifiedInEpochOffsetResponse (3.7.0, core/src/test/scala/unit/kafka/server/ReplicaFetcherThreadTest.scala)
/// The follower's own epoch: cut to the leader's end of it.
#[test]
fn should_truncate_to_offset_specified_in_epoch_offset_response() {
    // Latest epoch 5, log end 200, endOffsetForEpoch(5) = (5, 200).
    let mut log = log_of(&[batch(0, 5, 200)]);
    let r = follower(V2_6, &mut log, 199);
    assert_eq!(log.end_offset_for_epoch(5), Some((5, 200)));
    assert_eq!(r.truncation_for(&log, 5, 156).to_offset, 156);
    assert_eq!(r.truncation_for(&log, 5, 172).to_offset, 172);
}

/// Kafka: ReplicaFetcherThreadTest.shouldUseLeaderEndOffsetIfInterBrokerVersionBelow20 (3.7.0, core/src/test/scala/unit/kafka/server/ReplicaFetcherThreadTest.scala)
/// Before 2.0 the leader answers an end offset without an epoch, and the follower cuts there once.
#[test]
fn should_use_leader_end_offset_if_inter_broker_version_below_20() {
    for leader_end in [155, 143] {
        // The leader's epoch 5 ends at `leader_end` (OffsetsForLeaderEpoch v0 answers just that).
        let leader = log_of(&[batch(0, 3, 120), batch(120, 5, leader_end - 120), batch(leader_end, 6, 1)]);
        // Epoch 5 in single-record batches, so that truncation can cut anywhere in it.
        let mut replica = log_of(&[batch(0, 3, 120)]);
        seed(&mut replica, 80, 5);
        let mut c = leader_and_follower(V0_11, leader, 7, replica, 198);
        let first = c.fetch(2).unwrap();
        assert_eq!(first.data, FetchData::EpochEnd { end_offset: Some(leader_end) });
        assert_eq!(c.leo(2), leader_end);
        // Loop 2: no more epoch requests, a plain fetch.
        assert!(matches!(c.fetch(2).unwrap().data, FetchData::Records { .. }));
    }
}

/// Kafka: ReplicaFetcherThreadTest.shouldTruncateToInitialFetchOffsetIfLeaderReturnsUndefinedOffset (3.7.0, core/src/test/scala/unit/kafka/server/ReplicaFetcherThreadTest.scala)
/// A leader that cannot place the follower's epoch (UNDEFINED_EPOCH_OFFSET): cut to the high watermark.
#[test]
fn should_truncate_to_initial_fetch_offset_if_leader_returns_undefined_offset() {
    // Kafka mocks the answer (IBP 2.6). A 2.0 leader gives it for real: elected at epoch 6, it
    // caches the epoch only at its first append, so epoch 5 is above its latest (3).
    let leader = log_of(&[batch(0, 3, 150)]);
    let replica = log_of(&[batch(0, 3, 100), batch(100, 5, 50)]);
    let mut c = leader_and_follower(V2_0, leader, 6, replica, 100);
    assert_eq!(c.node(2).log.latest_epoch(), Some(5));
    let first = c.fetch(2).unwrap();
    assert_eq!(first.data, FetchData::EpochEnd { end_offset: None });
    assert_eq!(c.leo(2), 100);
}

/// Kafka: ReplicaFetcherThreadTest.testTruncateOnFetchDoesNotUpdateHighWatermark (3.7.0, core/src/test/scala/unit/kafka/server/ReplicaFetcherThreadTest.scala)
/// A diverging-epoch answer truncates and leaves the high watermark alone, whatever the leader's.
#[test]
fn test_truncate_on_fetch_does_not_update_high_watermark() {
    // Log end 150, high watermark 130, latest epoch 5, endOffsetForEpoch(4) = (4, 149); a batch
    // boundary at 140, as losslab (like Kafka) truncates whole batches.
    let replica = log_of(&[batch(0, 4, 140), batch(140, 4, 9), batch(149, 5, 1)]);
    let mut c = leader_and_follower(V3_7, Log::default(), 5, replica, 130);
    assert_eq!(c.node(2).log.end_offset_for_epoch(4), Some((4, 149)));
    assert_eq!((c.leo(2), c.hw(2)), (150, 130));
    // The mocked answer: diverging at (4, 140), high watermark 160 (losslab's diverging answer
    // carries none).
    let answer =
        FollowerFetch { data: FetchData::Diverging { epoch: 4, end_offset: 140 }, hw_moved: None, isr_proposal: None };
    c.handle(2, &answer);
    assert_eq!((c.leo(2), c.hw(2)), (140, 130));
}
