//! Kafka's `ReplicaManagerTest` (3.7.0, core/src/test/scala/unit/kafka/server/ReplicaManagerTest.scala):
//! the cases that `Replica` decides. Kafka's brokers 0, 1, 2 are brokers 1, 2, 3.

use crate::common::V3_7;
use crate::fixtures::{fetch_follower, make_leader, partition_test};
use losslab_model::config::Acks;
use losslab_sim::broker::log::Log;
use losslab_sim::protocol::FetchData;

/// Kafka: ReplicaManagerTest.testFetchBeyondHighWatermark (3.7.0, core/src/test/scala/unit/kafka/server/ReplicaManagerTest.scala)
/// Followers may fetch above the high watermark; consumers get no error and no records there.
#[test]
fn test_fetch_beyond_high_watermark() {
    let mut c = partition_test(V3_7, 1, Log::default(), 0);
    make_leader(&mut c, 0, 0, &[1, 2, 3], &[1, 2, 3]);
    for _ in 1..=2 {
        c.produce(1, 1, Acks::Leader).unwrap();
    }
    assert_eq!(c.hw(1), 0);
    let follower_fetch = fetch_follower(&mut c, 2, 1);
    assert!(matches!(&follower_fetch.data, FetchData::Records { batches, .. } if !batches.is_empty()));
    let consumer_fetch = c.replica(1).fetch_for_consumer(&c.node(1).log, 1, 100_000);
    assert_eq!(consumer_fetch, Ok(FetchData::Records { batches: vec![], high_watermark: 0 }));
}
