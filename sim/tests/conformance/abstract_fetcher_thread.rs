//! Kafka's `AbstractFetcherThreadTest` (3.7.0,
//! core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala), the truncate-on-fetch
//! runs (KIP-595's diverging epoch, losslab's path from 2.8).
//!
//! Kafka's `MockFetcherThread` is broker 2 and its `MockLeaderEndPoint` is broker 1, a real
//! losslab leader: its log, its leader epoch, its high watermark from the checkpoint. The mock
//! leader's high watermark never moves; broker 3 is in the ISR and never fetches, which holds
//! broker 1's there too. The mock's `PartitionState(leaderEpoch)` of the replica is the leader
//! epoch broker 2 was told and sends. A fetch is `Cluster::fetch` (the broker's follower: it
//! appends records, truncates on a diverging epoch or an out-of-range answer). The mock leader
//! sends one batch per fetch; losslab's sends all, so the tests assert end states.

use crate::common::{batch, log_of, Cluster, V0_10, V3_7};
use crate::fixtures::{cluster_with, leader_and_isr, replica_rules};
use losslab_model::config::MetadataMode;
use losslab_model::KafkaVersion;
use losslab_sim::broker::log::Log;
use losslab_sim::protocol::{FetchData, KafkaError};

const ALL: [u32; 3] = [1, 2, 3];

/// The mock leader (broker 1) with `leader_log` at `leader_epoch` and high watermark `leader_hw`;
/// the fetcher (broker 2) with `replica_log` at `replica_epoch`, high watermark `replica_hw`.
fn fetcher(
    version: KafkaVersion,
    (leader_log, leader_epoch, leader_hw): (Log, u32, u64),
    (replica_log, replica_epoch, replica_hw): (Log, u32, u64),
) -> Cluster {
    let rules = replica_rules(version, 1, MetadataMode::KRaft);
    let mut c = cluster_with(rules, [leader_log, replica_log, Log::default()], [leader_hw, replica_hw, 0]);
    c.apply(1, &leader_and_isr(1, leader_epoch, 1, &ALL, &ALL));
    c.apply(2, &leader_and_isr(1, replica_epoch, 1, &ALL, &ALL));
    c
}

/// `fetcher.mockLeader.leaderPartitionState(partition).leaderEpoch = epoch`.
fn set_leader_epoch(c: &mut Cluster, epoch: u32) {
    c.apply(1, &leader_and_isr(1, epoch, 1, &ALL, &ALL));
}

/// `waitUntilTrue(doWork; replica log == leader log)`.
fn fetch_until_logs_match(c: &mut Cluster) {
    for _ in 0..10 {
        c.fetch(2).expect("fetch answered");
        if c.node(2).log.batches() == c.node(1).log.batches() {
            return;
        }
    }
    panic!("Failed to reconcile leader and follower logs");
}

/// One single-record batch per offset, of these epochs.
fn epochs(epochs: &[u32]) -> Log {
    log_of(&epochs.iter().enumerate().map(|(i, &e)| batch(i as u64, e, 1)).collect::<Vec<_>>())
}

/// Kafka: AbstractFetcherThreadTest.testSimpleFetch (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// A follower fetches the leader's records and high watermark.
#[test]
fn test_simple_fetch() {
    let mut c = fetcher(V3_7, (log_of(&[batch(0, 0, 2)]), 0, 2), (Log::default(), 0, 0));
    c.fetch(2).unwrap();
    assert_eq!((c.leo(2), c.hw(2)), (2, 2));
}

/// Kafka: AbstractFetcherThreadTest.testFencedTruncation (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// A follower behind the leader's epoch is fenced and makes no progress.
#[test]
fn test_fenced_truncation() {
    let mut c = fetcher(V3_7, (log_of(&[batch(0, 1, 2)]), 1, 2), (Log::default(), 0, 0));
    assert_eq!(c.fetch(2), Err(KafkaError::FencedLeaderEpoch));
    assert_eq!((c.leo(2), c.hw(2)), (0, 0));
}

/// Kafka: AbstractFetcherThreadTest.testFencedFetch (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// Once the leader's epoch moves on, the follower's next fetch is fenced.
#[test]
fn test_fenced_fetch() {
    let mut c = fetcher(V3_7, (log_of(&[batch(0, 0, 2)]), 0, 2), (Log::default(), 0, 0));
    c.fetch(2).unwrap();
    assert_eq!(c.leo(2), 2);
    set_leader_epoch(&mut c, 1);
    assert_eq!(c.fetch(2), Err(KafkaError::FencedLeaderEpoch));
    assert_eq!(c.leo(2), 2);
}

/// Kafka: AbstractFetcherThreadTest.testUnknownLeaderEpochInTruncation (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// A follower ahead of the leader's epoch waits (UNKNOWN_LEADER_EPOCH) until the leader catches up.
#[test]
fn test_unknown_leader_epoch_in_truncation() {
    let mut c = fetcher(V3_7, (log_of(&[batch(0, 0, 1)]), 0, 2), (Log::default(), 1, 0));
    assert_eq!(c.fetch(2), Err(KafkaError::UnknownLeaderEpoch));
    assert_eq!(c.leo(2), 0);
    set_leader_epoch(&mut c, 1);
    c.fetch(2).unwrap();
    assert_eq!(c.leo(2), 1);
}

/// Kafka: AbstractFetcherThreadTest.testTruncation (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// A follower whose every epoch differs from the leader's truncates step by step to the leader's log.
#[test]
fn test_truncation() {
    let mut c = fetcher(V3_7, (epochs(&[1, 3, 5]), 5, 2), (epochs(&[0, 2, 4]), 5, 0));
    fetch_until_logs_match(&mut c);
    assert_eq!(c.leo(2), c.leo(1));
    assert_eq!(c.hw(2), 2);
}

/// Kafka: AbstractFetcherThreadTest.testTruncateToHighWatermarkIfLeaderEpochRequestNotSupported (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// Without leader epochs (0.10) a new follower truncates to its high watermark.
#[test]
fn test_truncate_to_high_watermark_if_leader_epoch_request_not_supported() {
    let c = fetcher(V0_10, (Log::default(), 5, 0), (epochs(&[0, 2, 4]), 5, 2));
    // Broker 2 cut its log to its high watermark on becoming a follower; it fetches from there.
    assert_eq!((c.leo(2), c.hw(2)), (2, 2));
}

/// Kafka: AbstractFetcherThreadTest.testFollowerFetchOutOfRangeHigh (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// A follower whose fetch offset is past the leader's (emptied) log truncates to the leader's end.
#[test]
fn test_follower_fetch_out_of_range_high() {
    let mut c = fetcher(V3_7, (epochs(&[0, 2, 4]), 4, 2), (epochs(&[0, 2, 4]), 4, 0));
    c.fetch(2).unwrap();
    assert_eq!(c.leo(2), 3);
    // The leader's log changes without a truncation phase on the follower.
    let n = c.node_mut(1);
    n.replica.truncate(&mut n.log, 0);
    assert!(matches!(c.fetch(2).unwrap().data, FetchData::OutOfRange { log_end_offset: 0 }));
    assert_eq!((c.leo(2), c.hw(2)), (0, 0));
}

/// Kafka: AbstractFetcherThreadTest.testDivergingEpochs (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// The first fetch truncates the follower's epoch-4 record; the next ones copy the leader's.
#[test]
fn test_diverging_epochs() {
    let mut c = fetcher(V3_7, (epochs(&[0, 2, 5]), 5, 2), (epochs(&[0, 2, 4]), 5, 0));
    assert_eq!(c.leo(2), 3);
    assert_eq!(c.node(2).log.latest_epoch(), Some(4));
    c.fetch(2).unwrap();
    assert_eq!(c.node(2).log.latest_epoch(), Some(2));
    fetch_until_logs_match(&mut c);
    assert_eq!(c.node(2).log.latest_epoch(), Some(5));
}

/// Kafka: AbstractFetcherThreadTest.testTruncateOnFetchDoesNotProcessPartitionData (3.7.0, core/src/test/scala/unit/kafka/server/AbstractFetcherThreadTest.scala)
/// A diverging answer only truncates: no records, no high-watermark update; then fetching resumes.
#[test]
fn test_truncate_on_fetch_does_not_process_partition_data() {
    let mut c = fetcher(V3_7, (epochs(&[0, 0, 2, 5, 5]), 5, 4), (epochs(&[0, 0, 2, 4, 4, 4]), 5, 1));
    assert_eq!(c.leo(2), 6);
    assert_eq!(c.node(2).log.latest_epoch(), Some(4));
    let first = c.fetch(2).unwrap();
    assert!(matches!(first.data, FetchData::Diverging { .. }), "{first:?}");
    assert_eq!((c.leo(2), c.hw(2)), (3, 1));
    for _ in 0..10 {
        let f = c.fetch(2).unwrap();
        assert!(matches!(f.data, FetchData::Records { .. }), "truncated only once: {f:?}");
        if c.node(2).log.batches() == c.node(1).log.batches() {
            break;
        }
    }
    assert_eq!(c.node(2).log.batches(), c.node(1).log.batches());
    assert_eq!(c.node(2).log.latest_epoch(), Some(5));
    assert_eq!((c.leo(2), c.hw(2)), (5, 4));
}
