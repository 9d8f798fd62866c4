//! ISR shrink and expansion (AlterPartition).

use super::common::*;
use losslab_model::config::Acks;
use losslab_sim::broker::replica::{Role, StateChange};
use losslab_sim::protocol::KafkaError;

#[test]
fn a_lagging_follower_is_proposed_out_and_nothing_changes_until_the_controller_accepts() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.produce(1, 2, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap(); // b2 caught up at t=0; b3 never fetches.

    c.now_us = LAG_US;
    assert_eq!(c.shrink_isr(1), None, "exactly the lag is still in sync");
    c.now_us = LAG_US + 1;
    assert_eq!(c.shrink_isr(1), Some(vec![1, 2]));
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1, 2]));
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(c.shrink_isr(1), None, "one change in flight at a time");
    assert_eq!(c.hw(1), 0, "b3 still holds the HW back");
    assert_eq!(c.fetch(2).unwrap().hw_moved, None);

    // An error that leaves the leader unsure whether the change was applied keeps it pending
    // until the controller's next state (`Partition.handleAlterPartitionError`).
    let n = c.node_mut(1);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1, 2], 1, Err(KafkaError::InvalidUpdateVersion)), None);
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1, 2]));
    assert_eq!(c.shrink_isr(1), None, "still one change in flight");
    // A refusal that surely was not applied reverts to the committed ISR: the leader may ask again.
    let n = c.node_mut(1);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1, 2], 1, Err(KafkaError::IneligibleReplica)), None);
    assert_eq!(pending_isr(c.replica(1)), None);
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(c.shrink_isr(1), Some(vec![1, 2]));

    // The controller accepts: the ISR shrinks and the HW moves to b2's log end.
    let accepted = state(1, 1, 2, &[1, 2]);
    let n = c.node_mut(1);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1, 2], 1, Ok(&accepted)), Some(2));
    assert_eq!(c.replica(1).isr(), &[1, 2]);
    assert_eq!(pending_isr(c.replica(1)), None);
    assert_eq!(c.replica(1).partition_epoch, 2);
    // The controller's push of the same state changes nothing more.
    let changes = c.apply_all(&accepted);
    assert_eq!(changes[0], StateChange::Ignored);
    assert_eq!(changes[1], StateChange::IsrUpdated, "a follower only notes the new ISR");
}

#[test]
fn a_follower_at_the_leaders_log_end_is_never_out_of_sync() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.fetch(2).unwrap();
    c.fetch(3).unwrap();
    // Nothing to replicate: both followers are at the log end however long ago they fetched.
    c.now_us = 100 * LAG_US;
    assert_eq!(c.shrink_isr(1), None);
}

#[test]
fn a_follower_that_keeps_reaching_the_previous_fetchs_log_end_stays_in_sync() {
    // Kafka's updateFetchState: a follower whose fetch reaches the leader's log end as of its
    // previous fetch counts as caught up at that previous fetch, though the leader keeps
    // appending and the follower is never at the log end when it fetches.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    for _ in 0..10 {
        c.now_us += LAG_US / 2;
        c.produce(1, 1, Acks::Leader).unwrap();
        c.fetch(2).unwrap();
        c.fetch(3).unwrap();
        let Role::Leader { followers, .. } = &c.replica(1).role else { panic!() };
        assert!(followers[&2].log_end_offset < Some(c.leo(1)), "never at the log end as the leader sees it");
        assert_eq!(c.shrink_isr(1), None);
    }
    // b3 stops fetching: once it has not been caught up for the lag, it is proposed out.
    for _ in 0..3 {
        c.now_us += LAG_US / 2;
        c.produce(1, 1, Acks::Leader).unwrap();
        c.fetch(2).unwrap();
    }
    assert_eq!(c.shrink_isr(1), Some(vec![1, 2]));
}

#[test]
fn a_caught_up_follower_outside_the_isr_is_proposed_in() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 3, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.hw(1), 3);
    // b3 at 0 is below the HW: no proposal.
    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, None);
    // b3 at 3 reached the HW: proposed in.
    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, Some(vec![1, 2, 3]));
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1, 2, 3]));
    assert_eq!(c.replica(1).isr(), &[1, 2]);
    assert_eq!(c.fetch(3).unwrap().isr_proposal, None, "one change in flight at a time");

    // While the expansion is pending, b3 already counts for the HW (maximal ISR).
    c.produce(1, 2, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.hw(1), 3, "b3 has not fetched past 3 yet");
    assert_eq!(c.fetch(3).unwrap().hw_moved, None);
    assert_eq!(c.fetch(3).unwrap().hw_moved, Some(5));

    let n = c.node_mut(1);
    n.replica.on_alter_partition(&n.log, &[1, 2, 3], 1, Ok(&state(1, 1, 2, &[1, 2, 3])));
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(pending_isr(c.replica(1)), None);
}

#[test]
fn a_follower_is_proposed_in_only_once_it_reaches_the_current_leader_epoch() {
    // b2 has offsets 0..3 of epoch 1 but a HW of 0; it becomes sole leader at epoch 2, whose
    // first offset is 3. b3 (empty) at 0 reaches the HW but not the epoch start.
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 3, Acks::Leader).unwrap();
    c.fetch(2).unwrap();
    assert_eq!(c.hw(2), 0);
    let changes = c.apply_all(&state(2, 2, 2, &[2]));
    assert_eq!(changes[1], StateChange::BecameLeader);
    assert_eq!(c.node(2).log.epoch_cache(), &[(1, 0), (2, 3)]);
    assert_eq!(c.hw(2), 3, "makeLeader moves the HW at once: b2 is alone in its ISR");

    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, None, "b3 at 0 is before the epoch-2 start offset 3");
    assert_eq!(f.hw_moved, None);
    let f = c.fetch(3).unwrap();
    assert_eq!(f.isr_proposal, Some(vec![2, 3]));
}

#[test]
fn alter_partition_answers_for_another_leader_epoch_change_nothing() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    c.now_us = LAG_US + 1;
    c.produce(1, 1, Acks::Leader).unwrap();
    assert_eq!(c.shrink_isr(1), Some(vec![1]));
    // An answer carrying an older leader epoch (from before a re-election) is not applied.
    let n = c.node_mut(1);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1], 1, Ok(&state(1, 0, 9, &[1]))), None);
    assert_eq!(c.replica(1).isr(), &[1, 2, 3]);
    assert_eq!(pending_isr(c.replica(1)), Some(vec![1]), "pending until the controller's next state");
    // A follower ignores AlterPartition answers altogether.
    let n = c.node_mut(2);
    assert_eq!(n.replica.on_alter_partition(&n.log, &[1], 1, Ok(&state(1, 1, 2, &[1]))), None);
    assert_eq!(c.replica(2).isr(), &[] as &[u32]);
}
