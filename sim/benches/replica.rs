//! The replica state machine on its hot path: a leader appending batches and answering a
//! follower's fetches, the work every replicated write costs.

use criterion::{criterion_group, criterion_main, Criterion};
use losslab_model::config::Acks;
use losslab_model::{KafkaVersion, MsgId};
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::{Replica, ReplicaRules};
use losslab_sim::protocol::{FetchData, PartitionState};

fn rules() -> ReplicaRules {
    ReplicaRules {
        version: KafkaVersion::DEFAULT,
        min_insync_replicas: 2,
        replica_lag_time_max_ms: 30_000,
        mode: losslab_model::config::MetadataMode::KRaft,
    }
}

fn state(leader: u32) -> PartitionState {
    PartitionState {
        partition: 0,
        replicas: vec![1, 2, 3],
        leader: Some(leader),
        leader_epoch: 1,
        partition_epoch: 1,
        isr: vec![1, 2, 3],
        elr: vec![],
        last_known_elr: vec![],
    }
}

fn replicate(batches: u64) {
    let (mut leader_log, mut follower_log) = (Log::default(), Log::default());
    let mut leader = Replica::recover(1, 0, &leader_log, 0, rules());
    let mut follower = Replica::recover(2, 0, &follower_log, 0, rules());
    leader.apply_state(&mut leader_log, &state(1), 0);
    follower.apply_state(&mut follower_log, &state(1), 0);
    let msgs: losslab_model::MsgIds = (0..5).map(|seq| MsgId { producer: 1, seq }).collect();
    for i in 0..batches {
        leader.append_as_leader(&mut leader_log, &msgs, None, Acks::All).unwrap();
        let offset = follower_log.log_end_offset();
        let epoch = follower_log.latest_epoch();
        let fetch = leader.fetch_as_leader(&leader_log, 2, offset, epoch, 1, i * 1000).unwrap();
        if let FetchData::Records { batches, high_watermark } = fetch.data {
            follower.append_as_follower(&mut follower_log, batches, high_watermark);
        }
    }
}

fn bench(c: &mut Criterion) {
    c.bench_function("replicate 1000 batches of 5 to one follower", |b| b.iter(|| replicate(1000)));
}

criterion_group!(benches, bench);
criterion_main!(benches);
