//! Leader append, acks=all, the high watermark.

use super::common::*;
use losslab_model::config::Acks;
use losslab_model::KafkaVersion;
use losslab_sim::broker::replica::{LeaderAppend, StateChange};
use losslab_sim::protocol::{FetchData, KafkaError};

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

/// B7 (`ReplicaFetcherThread.processPartitionData`): a follower takes min(leader HW, own log end)
/// on every fetch, so its high watermark falls when a new leader's is behind what the old leader
/// had told it.
#[test]
fn a_followers_hw_falls_to_a_new_leaders() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.produce(1, 4, Acks::All).unwrap();
    for f in [2, 3, 2, 3] {
        c.fetch(f).unwrap(); // the leader learns both log ends: its HW is 4
    }
    c.fetch(2).unwrap(); // b2 learns HW 4; b3 still knows 0
    assert_eq!((c.hw(1), c.hw(2), c.hw(3)), (4, 4, 0));
    // b3 leads epoch 2 with its HW of 0 (it can move only once b2 fetched from it).
    c.apply_all(&state(3, 2, 2, &[2, 3]));
    assert_eq!(c.hw(3), 0);
    c.fetch(2).unwrap();
    assert_eq!(c.hw(2), 0, "b2 takes its new leader's lower HW");
}

/// B14 (`Partition.maybeIncrementLeaderHW`, KAFKA-4485 and KAFKA-15021): the HW also waits for a
/// follower outside the ISR that was caught up within `replica.lag.time.max.ms`; from 3.6 only
/// if it may join the ISR (not fenced, not shutting down).
#[test]
fn the_hw_waits_for_caught_up_followers_outside_the_isr_if_eligible() {
    for (version, ineligible, want) in [(V3_6, false, 0), (V3_6, true, 2), (KafkaVersion::new(3, 5), true, 0)] {
        let mut c = cluster_led_by_1(version, 1, &[1, 2, 3]);
        c.fetch(3).unwrap(); // b3 caught up at t=0 (the log is empty)
                             // The ISR shrinks to {1, 2} by the controller; b3 is caught up but outside it.
        c.apply_all(&state(1, 1, 2, &[1, 2]));
        if ineligible {
            c.node_mut(1).replica.set_ineligible([3].into_iter().collect());
        }
        c.produce(1, 2, Acks::All).unwrap();
        c.fetch(2).unwrap();
        c.fetch(2).unwrap();
        assert_eq!(c.hw(1), want, "{version}, b3 ineligible: {ineligible}");
    }
}
