//! Leader epochs, divergence and truncation; partition states from the controller.

use super::common::*;
use losslab_model::config::Acks;
use losslab_sim::broker::log::Log;
use losslab_sim::broker::replica::{FollowerFetch, Replica, StateChange, Truncation};
use losslab_sim::protocol::{Batch, FetchData, KafkaError, PartitionState};

#[test]
fn kip_101_a_follower_with_records_the_new_leader_lacks_truncates_to_the_epoch_end() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.produce(1, 1, Acks::All).unwrap();
    for f in [2, 3, 2, 3] {
        c.fetch(f).unwrap();
    }
    assert_eq!(c.hw(1), 1);
    // b1 appends offsets 1..3 (one batch) that nobody fetches, then loses the leadership.
    c.produce(1, 2, Acks::All).unwrap();
    let changes = c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
    assert_eq!(
        changes,
        vec![
            StateChange::BecameFollower { truncate_to_hw: None },
            StateChange::BecameLeader,
            StateChange::BecameFollower { truncate_to_hw: None }
        ]
    );
    c.produce(2, 1, Acks::All).unwrap(); // offset 1 at epoch 2
    assert_eq!(c.node(2).log.epoch_cache(), &[(1, 0), (2, 1)]);

    // b1 fetches from 3 with last epoch 1; on b2 epoch 1 ends at 1.
    let f = c.fetch_raw(1).unwrap().unwrap();
    assert_eq!(
        f,
        FollowerFetch { data: FetchData::Diverging { epoch: 1, end_offset: 1 }, hw_moved: None, isr_proposal: None }
    );
    assert_eq!(c.replica(1).truncation_for(&c.node(1).log, 1, 1), Truncation { to_offset: 1 });
    c.handle(1, &f);
    assert_eq!(c.leo(1), 1);
    assert_eq!(c.node(1).log.epoch_cache(), &[(1, 0)]);
    // The next fetch is not diverging and brings b2's epoch-2 record.
    let f = c.fetch(1).unwrap();
    assert_eq!(records_of(&f).len(), 1);
    assert_eq!(c.records(1), c.records(2));
    assert_eq!(c.node(1).log.epoch_cache(), c.node(2).log.epoch_cache());
    // b3 was at the leader's end for epoch 1 already: no divergence.
    let f = c.fetch(3).unwrap();
    assert!(matches!(f.data, FetchData::Records { .. }));
    assert_eq!(c.records(3), c.records(2));
}

#[test]
fn kip_279_a_follower_without_the_leaders_epoch_truncates_in_steps() {
    // b3 wrote epoch 3 at offsets 2..4 (as a leader nobody followed); b1 has epoch 2 at 2..3
    // and now leads at epoch 4.
    let b1 = log_of(&[batch(0, 1, 2), batch(2, 2, 1)]);
    let b3 = log_of(&[batch(0, 1, 2), batch(2, 3, 2)]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, Log::default(), b3], [2, 0, 2]);
    c.apply_all(&state(1, 4, 4, &[1, 2, 3]));
    assert_eq!(c.node(1).log.epoch_cache(), &[(1, 0), (2, 2), (4, 3)]);

    let f = c.fetch_raw(3).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 2, end_offset: 3 });
    // b3 has no epoch 2: it cuts to the end of its epoch 1 (offset 2) and asks again.
    assert_eq!(c.replica(3).truncation_for(&c.node(3).log, 2, 3), Truncation { to_offset: 2 });
    c.handle(3, &f);
    assert_eq!(c.leo(3), 2);
    let f = c.fetch(3).unwrap();
    assert_eq!(records_of(&f), vec![batch(2, 2, 1)]);
    assert_eq!(c.node(3).log.batches(), c.node(1).log.batches());
}

#[test]
fn a_follower_with_no_epoch_at_or_below_the_leaders_answer_truncates_everything() {
    // b3 only has epoch-5 records (an unclean leader's); b1's log is epoch 3 at 0..4 and it
    // leads at epoch 6. They diverge at offset 0.
    let b1 = log_of(&[batch(0, 3, 4)]);
    let b3 = log_of(&[Batch { msgs: vec![msg(900), msg(901)].into(), ..batch(0, 5, 2) }]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, Log::default(), b3], [0, 0, 0]);
    c.apply_all(&state(1, 6, 6, &[1]));
    let f = c.fetch_raw(3).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 3, end_offset: 4 });
    assert_eq!(c.replica(3).truncation_for(&c.node(3).log, 3, 4), Truncation { to_offset: 0 });
    c.handle(3, &f);
    c.fetch(3).unwrap();
    assert_eq!(c.records(3), c.records(1));
}

#[test]
fn a_follower_with_an_epoch_older_than_the_leaders_log_gets_the_leaders_first_offset() {
    // The leader's log starts at epoch 4; the follower fetches with last epoch 2.
    let b1 = log_of(&[batch(0, 4, 3)]);
    let b2 = log_of(&[batch(0, 2, 1)]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, b2, Log::default()], [0, 0, 0]);
    c.apply_all(&state(1, 5, 5, &[1, 2]));
    let f = c.fetch_raw(2).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 2, end_offset: 0 });
    c.handle(2, &f);
    assert_eq!(c.leo(2), 0);
    c.fetch(2).unwrap();
    assert_eq!(c.node(2).log.batches(), c.node(1).log.batches());
}

#[test]
fn a_follower_ahead_within_the_leaders_epoch_is_diverging_too() {
    // Same last epoch, but the follower has more of it than the leader: the leader's end.
    let b1 = log_of(&[batch(0, 1, 2)]);
    let b2 = log_of(&[batch(0, 1, 2), batch(2, 1, 3)]);
    let mut c = Cluster::with_logs(V3_6, 1, [b1, b2, Log::default()], [0, 0, 0]);
    c.apply_all(&state(1, 2, 2, &[1, 2]));
    let f = c.fetch_raw(2).unwrap().unwrap();
    assert_eq!(f.data, FetchData::Diverging { epoch: 1, end_offset: 2 });
    c.handle(2, &f);
    assert_eq!(c.leo(2), 2);
}

#[test]
fn truncation_cuts_whole_batches_and_the_hw_follows() {
    let b2 = log_of(&[batch(0, 1, 3), batch(3, 1, 3)]);
    let mut c = Cluster::with_logs(V3_6, 1, [Log::default(), b2, Log::default()], [0, 6, 0]);
    assert_eq!(c.hw(2), 6);
    let n = c.node_mut(2);
    let removed = n.replica.truncate(&mut n.log, 4);
    assert_eq!(removed.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3, 4, 5]);
    assert_eq!(c.leo(2), 3);
    assert_eq!(c.hw(2), 3);
}

#[test]
fn recovery_clamps_the_hw_checkpoint_to_the_log_end() {
    let log = log_of(&[batch(0, 1, 2)]);
    let r = Replica::recover(1, P, &log, 10, rules(V3_6, 1));
    assert_eq!(r.high_watermark, 2);
    assert!(!r.is_leader());
    assert_eq!(r.leader(), None);
}

#[test]
fn pre_kip_101_a_new_follower_truncates_to_its_hw() {
    for (version, expected) in [(V0_10, Some(3)), (V0_11, None), (V3_6, None)] {
        let log = log_of(&[batch(0, 1, 5)]);
        let mut c = Cluster::with_logs(version, 1, [log.clone(), log, Log::default()], [5, 3, 0]);
        let n = c.node_mut(2);
        let change = n.replica.apply_state(&mut n.log, &state(1, 2, 2, &[1, 2]), 0);
        assert_eq!(change, StateChange::BecameFollower { truncate_to_hw: expected }, "{version}");
        // A replica of a leaderless partition fetches from nobody, so has nothing to cut.
        let n = c.node_mut(3);
        let leaderless = PartitionState { leader: None, ..state(1, 2, 2, &[1]) };
        let change = n.replica.apply_state(&mut n.log, &leaderless, 0);
        assert_eq!(change, StateChange::BecameFollower { truncate_to_hw: None }, "{version}");
    }
}

#[test]
fn pre_kip_101_fetches_carry_no_epoch_so_divergence_goes_unseen() {
    // KIP-101's second scenario, run on 0.10 and on 3.6. b1 leads with m0 m1 (HW 2); b2 has
    // both but only learned HW 1 (b3's fetch moved the HW after b2's). b2 restarts, then b1
    // fails and b2 leads (clean: it is in the ISR). b2 writes m2; b1 and b3 follow it.
    for version in [V0_10, V3_6] {
        let mut c = cluster_led_by_1(version, 1, &[1, 2, 3]);
        for _ in 0..2 {
            c.produce(1, 1, Acks::All).unwrap();
            for f in [2, 3, 2, 3] {
                c.fetch(f).unwrap();
            }
        }
        assert_eq!(c.hw(1), 2);
        assert_eq!(c.hw(2), 1);
        let committed = c.records(1);

        c.restart(2);
        c.apply(2, &state(1, 1, 1, &[1, 2, 3]));
        c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
        c.produce(2, 1, Acks::Leader).unwrap();
        for _ in 0..3 {
            c.fetch(1).unwrap();
            c.fetch(3).unwrap();
        }
        if version.truncates_by_leader_epoch() {
            assert_eq!(c.records(1), c.records(2), "{version}");
            assert_eq!(c.records(3), c.records(2), "{version}");
            assert_eq!(c.records(2)[..2], committed[..], "{version}: nothing committed is lost");
        } else {
            // b2 cut m1 at its restart and wrote m2 at offset 1; b1 and b3 keep m1 there and
            // fetch from 2: the logs diverge and the committed m1 is gone from the leader.
            assert_eq!(c.leo(1), c.leo(2));
            assert_ne!(c.records(1), c.records(2), "{version}: the logs diverge");
            assert!(!c.records(2).contains(&committed[1]), "{version}: the committed m1 is lost");
        }
    }
}

#[test]
fn pre_kip_101_a_follower_past_the_leaders_log_end_is_out_of_range() {
    let b1 = log_of(&[batch(0, 1, 2)]);
    let b2 = log_of(&[batch(0, 1, 2), batch(2, 1, 2)]);
    let mut c = Cluster::with_logs(V0_10, 1, [b1, b2, Log::default()], [2, 4, 0]);
    c.apply_all(&state(1, 2, 2, &[1, 2]));
    // 0.10: b2 cut to its HW 4 when it became a follower (nothing), then fetches from 4.
    let f = c.fetch(2).unwrap();
    assert_eq!(f.data, FetchData::OutOfRange { log_end_offset: 2 });
    assert_eq!(c.leo(2), 2);
    assert_eq!(c.hw(2), 2);
}

#[test]
fn stale_partition_states_are_ignored() {
    let mut c = Cluster::new(V3_6, 1);
    assert_eq!(c.apply(2, &state(1, 3, 5, &[1, 2, 3])), StateChange::BecameFollower { truncate_to_hw: None });
    assert_eq!(c.replica(2).leader(), Some(1));
    assert_eq!(c.apply(2, &state(3, 2, 9, &[3])), StateChange::Ignored, "older leader epoch");
    assert_eq!(c.apply(2, &state(1, 3, 5, &[1])), StateChange::Ignored, "same partition epoch");
    assert_eq!(c.apply(2, &state(1, 3, 4, &[1])), StateChange::Ignored, "older partition epoch");
    assert_eq!(c.replica(2).leader(), Some(1));
    assert_eq!((c.replica(2).leader_epoch, c.replica(2).partition_epoch), (3, 5));
    assert_eq!(c.apply(2, &state(1, 3, 6, &[1, 2])), StateChange::IsrUpdated);
    assert_eq!(c.replica(2).partition_epoch, 6);

    assert_eq!(c.apply(1, &state(1, 3, 5, &[1, 2, 3])), StateChange::BecameLeader);
    assert_eq!(c.apply(1, &state(1, 3, 6, &[1, 3])), StateChange::IsrUpdated);
    assert_eq!(c.replica(1).isr(), &[1, 3]);
    assert_eq!(c.apply(1, &state(1, 3, 6, &[1])), StateChange::Ignored);
    assert_eq!(c.apply(1, &state(2, 2, 7, &[2])), StateChange::Ignored);
    assert_eq!(c.replica(1).isr(), &[1, 3]);
    assert!(c.replica(1).is_leader());
    assert_eq!(c.apply(1, &state(2, 4, 7, &[1, 2])), StateChange::BecameFollower { truncate_to_hw: None });
    assert_eq!(c.replica(1).leader(), Some(2));
    assert_eq!(c.replica(1).isr(), &[] as &[u32]);
}

#[test]
fn a_leader_is_fenced_by_epochs() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.apply(1, &state(1, 2, 2, &[1, 2, 3]));
    let log = c.node(1).log.clone();
    let r = &mut c.node_mut(1).replica;
    assert_eq!(r.fetch_as_leader(&log, 2, 0, None, 1, 0), Err(KafkaError::FencedLeaderEpoch));
    assert_eq!(r.fetch_as_leader(&log, 2, 0, None, 3, 0), Err(KafkaError::UnknownLeaderEpoch));
    assert_eq!(r.fetch_as_leader(&log, 7, 0, None, 2, 0), Err(KafkaError::NotLeaderOrFollower), "not a replica");
    assert!(r.fetch_as_leader(&log, 2, 0, None, 2, 0).is_ok());
    let log = c.node(2).log.clone();
    let r = &mut c.node_mut(2).replica;
    assert_eq!(r.fetch_as_leader(&log, 3, 0, None, 1, 0), Err(KafkaError::NotLeaderOrFollower));
    assert_eq!(r.fetch_for_consumer(&log, 0, 10), Err(KafkaError::NotLeaderOrFollower));
}
