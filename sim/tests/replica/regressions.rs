//! Suspected bugs: kept as ignored tests (see the report).

use super::common::*;
use losslab_model::config::Acks;
use losslab_model::KafkaVersion;
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::{LeaderAppend, StateChange};
use losslab_sim::protocol::KafkaError;

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

#[test]
fn before_fetch_fencing_a_delayed_push_can_make_a_replica_lead_an_older_epoch_than_its_log() {
    // Found by `pre_kip_101_replication_keeps_its_invariants`. b3 leads epoch 1; the controller
    // elects b2 (epoch 2) and then b3 again (epoch 3), and only b3 has heard. b2, still
    // following b3 at epoch 1, fetches an epoch-3 batch: before KIP-320 (2.1) the leader
    // serves a fetch whatever epoch the follower knows. The delayed epoch-2 push then makes b2
    // leader of an epoch older than its log's; Kafka accepts that (no check before 2.1), and
    // b2's first append as leader cuts the epoch cache back.
    for version in [V0_10, V0_11, KafkaVersion::new(2, 0)] {
        let mut c = Cluster::new(version, 1);
        let e1 = state(3, 1, 1, &[1, 2, 3]);
        c.apply_all(&e1);
        c.apply(3, &state(2, 2, 2, &[1, 2, 3]));
        c.apply(3, &state(3, 3, 3, &[1, 2, 3]));
        c.produce(3, 1, Acks::Leader).unwrap();
        c.fetch(2).unwrap();
        assert_eq!(c.node(2).log.latest_epoch(), Some(3), "{version}: b2 took the epoch-3 batch");
        c.apply(2, &state(2, 2, 2, &[1, 2, 3]));
        assert!(c.replica(2).is_leader(), "{version}");
        c.produce(2, 1, Acks::Leader).unwrap();
        assert_eq!(c.node(2).log.latest_epoch(), Some(2), "{version}: the cache is cut back to epoch 2");
    }
}

#[test]
fn from_fetch_fencing_the_follower_cannot_take_a_newer_epochs_batch() {
    // The same story from 2.1: b3 refuses b2's fetch at epoch 1 (FENCED_LEADER_EPOCH).
    let mut c = Cluster::new(KafkaVersion::new(2, 1), 1);
    c.apply_all(&state(3, 1, 1, &[1, 2, 3]));
    c.apply(3, &state(2, 2, 2, &[1, 2, 3]));
    c.apply(3, &state(3, 3, 3, &[1, 2, 3]));
    c.produce(3, 1, Acks::Leader).unwrap();
    assert_eq!(c.fetch(2).err(), Some(KafkaError::FencedLeaderEpoch));
    assert_eq!(c.leo(2), 0);
}
