//! The idempotent producer's sequence rules on the broker side, as Kafka's
//! `ProducerStateManager` / `ProducerAppendInfo` apply them to a client's produce request:
//!
//! - the next batch in sequence (last sequence + 1) appends;
//! - a retry of one of the last 5 batches of the producer (same epoch, same first and last
//!   sequence) is a duplicate, answered with the offset the batch already has, and nothing is
//!   appended;
//! - an older retry, or a gap, is OUT_OF_ORDER_SEQUENCE_NUMBER;
//! - a newer producer epoch starts the sequences again; an older one is INVALID_PRODUCER_EPOCH;
//! - a producer the log does not know appends at any sequence (its state may have been lost
//!   with the batches that carried it);
//! - the state is rebuilt from the batches the log keeps, so it survives truncation, and a
//!   follower that copied the stamped batches deduplicates exactly as the leader did once it
//!   leads.
//!
//! First against `Log::check_sequence` (what the leader asks before appending), then through
//! `Replica::append_as_leader`, the way `broker.rs` calls it.

use losslab_model::config::Acks;
use losslab_model::{KafkaVersion, MsgId};
use losslab_sim::broker::log::{Log, SequenceCheck, PRODUCER_BATCHES_RETAINED};
use losslab_sim::broker::replica::{LeaderAppend, Replica, ReplicaRules, StateChange};
use losslab_sim::protocol::{Batch, FetchData, KafkaError, PartitionState, ProducerStamp};

const P: u32 = 0;
const PID: u64 = 7;
const V4_1: KafkaVersion = KafkaVersion::new(4, 1);

fn stamp(producer_epoch: u32, base_sequence: u32) -> ProducerStamp {
    ProducerStamp { producer_id: PID, producer_epoch, base_sequence }
}

fn msgs(from: u64, n: u64) -> losslab_model::MsgIds {
    (from..from + n).map(|seq| MsgId { producer: 1, seq }).collect()
}

/// What a leader does with a client's idempotent batch of `n` records: asks the producer
/// state, and appends (in leader epoch 1) when it says so.
fn produce(log: &mut Log, s: ProducerStamp, n: u64) -> SequenceCheck {
    let check = log.check_sequence(s, n as usize);
    if check == SequenceCheck::Append {
        let base_offset = log.log_end_offset();
        log.append(Batch { base_offset, leader_epoch: 1, msgs: msgs(base_offset, n), stamp: Some(s), txn: None });
    }
    check
}

/// A log holding `batches` batches of `n` records each from producer `PID`, epoch 0, in
/// sequence from 0: batch `i` has sequences `i*n .. i*n+n-1` at offsets `i*n ..`.
fn log_with_batches(batches: u32, n: u32) -> Log {
    let mut log = Log::default();
    for i in 0..batches {
        assert_eq!(produce(&mut log, stamp(0, i * n), u64::from(n)), SequenceCheck::Append);
    }
    log
}

// ---- the log's producer state ----

#[test]
fn the_next_batch_in_sequence_appends() {
    let mut log = Log::default();
    assert_eq!(produce(&mut log, stamp(0, 0), 3), SequenceCheck::Append);
    assert_eq!(produce(&mut log, stamp(0, 3), 2), SequenceCheck::Append);
    assert_eq!(produce(&mut log, stamp(0, 5), 1), SequenceCheck::Append);
    assert_eq!(log.log_end_offset(), 6);
    assert_eq!(log.batches().iter().map(|b| b.base_offset).collect::<Vec<_>>(), vec![0, 3, 5]);
}

#[test]
fn a_retry_of_any_of_the_last_five_batches_is_a_duplicate_at_its_first_offset() {
    assert_eq!(PRODUCER_BATCHES_RETAINED, 5, "Kafka retains five batches per producer");
    // Eight batches of two records: sequences 0..16 at offsets 0..16.
    let mut log = log_with_batches(8, 2);
    let before = log.clone();
    for i in 3..8u32 {
        let base = i * 2;
        assert_eq!(produce(&mut log, stamp(0, base), 2), SequenceCheck::Duplicate(u64::from(base)), "batch {i}");
    }
    assert_eq!(log, before, "a duplicate appends nothing");
}

#[test]
fn a_retry_older_than_the_last_five_batches_is_out_of_order() {
    let mut log = log_with_batches(8, 2);
    let before = log.clone();
    for i in 0..3u32 {
        assert_eq!(produce(&mut log, stamp(0, i * 2), 2), SequenceCheck::OutOfOrder, "batch {i}");
    }
    assert_eq!(log, before);
}

#[test]
fn a_batch_that_matches_a_retained_one_only_in_part_is_out_of_order() {
    // A duplicate must match both the first and the last sequence of a retained batch.
    let mut log = log_with_batches(3, 2);
    assert_eq!(produce(&mut log, stamp(0, 2), 1), SequenceCheck::OutOfOrder);
    assert_eq!(produce(&mut log, stamp(0, 2), 3), SequenceCheck::OutOfOrder);
    assert_eq!(produce(&mut log, stamp(0, 3), 1), SequenceCheck::OutOfOrder);
    assert_eq!(log.log_end_offset(), 6);
}

#[test]
fn a_gap_is_out_of_order() {
    let mut log = log_with_batches(2, 2);
    // Sequences 0..4 are in the log; 4 is next.
    assert_eq!(produce(&mut log, stamp(0, 5), 1), SequenceCheck::OutOfOrder);
    assert_eq!(produce(&mut log, stamp(0, 6), 2), SequenceCheck::OutOfOrder);
    assert_eq!(produce(&mut log, stamp(0, 4), 1), SequenceCheck::Append);
    // After the gap is filled, the batch that was refused is next in sequence.
    assert_eq!(produce(&mut log, stamp(0, 5), 1), SequenceCheck::Append);
    assert_eq!(log.log_end_offset(), 6);
}

#[test]
fn a_bumped_producer_epoch_starts_its_sequences_again() {
    let mut log = log_with_batches(3, 1);
    // KIP-360: after a failed batch the producer bumps its epoch and numbers from zero.
    assert_eq!(produce(&mut log, stamp(1, 0), 2), SequenceCheck::Append);
    assert_eq!(produce(&mut log, stamp(1, 2), 1), SequenceCheck::Append);
    // The new epoch's batches deduplicate; its sequences go on from its own.
    assert_eq!(produce(&mut log, stamp(1, 0), 2), SequenceCheck::Duplicate(3));
    assert_eq!(produce(&mut log, stamp(1, 4), 1), SequenceCheck::OutOfOrder);
    // Another bump starts again, even where the sequence would have been a duplicate.
    assert_eq!(produce(&mut log, stamp(2, 0), 2), SequenceCheck::Append);
    assert_eq!(log.log_end_offset(), 8);
}

/// Kafka's `ProducerAppendInfo.checkSequence`: "if (producerEpoch != updatedEntry.producerEpoch())
/// { if (appendFirstSeq != 0) { if (updatedEntry.producerEpoch() != NO_PRODUCER_EPOCH) throw
/// new OutOfOrderSequenceException("Invalid sequence number for new epoch ...") } }": a known
/// producer's new epoch must start at sequence 0. The sim accepts any first sequence.
#[test]
fn a_bumped_producer_epoch_must_start_at_sequence_zero() {
    let mut log = log_with_batches(3, 1);
    assert_eq!(produce(&mut log, stamp(1, 1), 1), SequenceCheck::OutOfOrder);
    assert_eq!(produce(&mut log, stamp(1, 7), 1), SequenceCheck::OutOfOrder);
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(produce(&mut log, stamp(1, 0), 1), SequenceCheck::Append);
}

#[test]
fn an_older_producer_epoch_is_fenced() {
    let mut log = log_with_batches(2, 1);
    assert_eq!(produce(&mut log, stamp(1, 0), 1), SequenceCheck::Append);
    let before = log.clone();
    // A retry of epoch 0's last batch is not a duplicate any more, and neither is its next.
    assert_eq!(produce(&mut log, stamp(0, 1), 1), SequenceCheck::FencedEpoch);
    assert_eq!(produce(&mut log, stamp(0, 2), 1), SequenceCheck::FencedEpoch);
    assert_eq!(log, before);
}

#[test]
fn an_unknown_producer_appends_at_any_sequence() {
    let mut log = log_with_batches(2, 1);
    let other = |base_sequence| ProducerStamp { producer_id: PID + 1, producer_epoch: 3, base_sequence };
    assert_eq!(produce(&mut log, other(42), 2), SequenceCheck::Append);
    // From then on it is known: in sequence, duplicates and gaps as for any producer.
    assert_eq!(produce(&mut log, other(42), 2), SequenceCheck::Duplicate(2));
    assert_eq!(produce(&mut log, other(45), 1), SequenceCheck::OutOfOrder);
    assert_eq!(produce(&mut log, other(44), 1), SequenceCheck::Append);
    // Producers are independent: PID's state did not move.
    assert_eq!(produce(&mut log, stamp(0, 1), 1), SequenceCheck::Duplicate(1));
    assert_eq!(produce(&mut log, stamp(0, 2), 1), SequenceCheck::Append);
}

#[test]
fn unstamped_batches_do_not_touch_the_producer_state() {
    let mut log = log_with_batches(2, 1);
    let base_offset = log.log_end_offset();
    log.append(Batch { base_offset, leader_epoch: 1, msgs: msgs(base_offset, 3), stamp: None, txn: None });
    assert_eq!(produce(&mut log, stamp(0, 1), 1), SequenceCheck::Duplicate(1));
    assert_eq!(produce(&mut log, stamp(0, 2), 1), SequenceCheck::Append);
    assert_eq!(log.log_end_offset(), 6);
}

// ---- truncation ----

#[test]
fn the_producer_state_is_rebuilt_from_the_batches_a_truncation_leaves() {
    // Seven one-record batches: sequences 0..7 at offsets 0..7; batches 2..7 are retained.
    let mut log = log_with_batches(7, 1);
    assert_eq!(log.check_sequence(stamp(0, 0), 1), SequenceCheck::OutOfOrder);
    assert_eq!(log.check_sequence(stamp(0, 6), 1), SequenceCheck::Duplicate(6));

    let removed = log.truncate_to(5);
    assert_eq!(removed.len(), 2);
    // The last five batches left (sequences 0..5) are the ones remembered now: batch 0, too
    // old before, is a duplicate again; the removed batches are next in sequence, not
    // duplicates, since the log no longer has them.
    for seq in 0..5u32 {
        assert_eq!(log.check_sequence(stamp(0, seq), 1), SequenceCheck::Duplicate(u64::from(seq)), "seq {seq}");
    }
    assert_eq!(log.check_sequence(stamp(0, 6), 1), SequenceCheck::OutOfOrder);
    assert_eq!(produce(&mut log, stamp(0, 5), 1), SequenceCheck::Append);
    assert_eq!(produce(&mut log, stamp(0, 6), 1), SequenceCheck::Append);
    assert_eq!(log.log_end_offset(), 7);
}

#[test]
fn a_truncation_that_removes_a_bumped_epoch_brings_the_older_epoch_back() {
    let mut log = log_with_batches(3, 1);
    assert_eq!(produce(&mut log, stamp(1, 0), 1), SequenceCheck::Append);
    assert_eq!(log.check_sequence(stamp(0, 2), 1), SequenceCheck::FencedEpoch);
    log.truncate_to(3);
    // The log holds epoch 0's batches only: what it knows is epoch 0.
    assert_eq!(log.check_sequence(stamp(0, 2), 1), SequenceCheck::Duplicate(2));
    assert_eq!(log.check_sequence(stamp(0, 3), 1), SequenceCheck::Append);
    assert_eq!(log.check_sequence(stamp(1, 0), 1), SequenceCheck::Append);
}

#[test]
fn a_truncation_of_every_batch_forgets_the_producer() {
    let mut log = log_with_batches(4, 1);
    log.truncate_to(0);
    assert_eq!(log.log_end_offset(), 0);
    // Unknown again: any sequence and any epoch append.
    assert_eq!(log.check_sequence(stamp(0, 9), 1), SequenceCheck::Append);
    assert_eq!(produce(&mut log, stamp(0, 2), 1), SequenceCheck::Append);
    assert_eq!(produce(&mut log, stamp(0, 2), 1), SequenceCheck::Duplicate(0));
}

#[test]
fn a_truncation_inside_a_batch_removes_the_whole_batch_and_its_sequences() {
    let mut log = log_with_batches(3, 2);
    // Offset 3 is inside batch 1 (offsets 2..4, sequences 2..4): the batch goes whole.
    assert_eq!(log.truncate_to(3).len(), 4);
    assert_eq!(log.log_end_offset(), 2);
    assert_eq!(log.check_sequence(stamp(0, 0), 2), SequenceCheck::Duplicate(0));
    assert_eq!(log.check_sequence(stamp(0, 2), 2), SequenceCheck::Append);
}

// ---- through the replica ----

fn rules(min_insync_replicas: u32) -> ReplicaRules {
    ReplicaRules {
        version: V4_1,
        min_insync_replicas,
        replica_lag_time_max_ms: 30_000,
        mode: losslab_model::config::MetadataMode::KRaft,
    }
}

fn state(leader: u32, leader_epoch: u32, isr: &[u32]) -> PartitionState {
    PartitionState {
        partition: P,
        replicas: vec![1, 2, 3],
        leader: Some(leader),
        leader_epoch,
        partition_epoch: leader_epoch,
        isr: isr.to_vec(),
        elr: vec![],
        last_known_elr: vec![],
    }
}

/// A broker's replica and its log, as the broker holds them.
struct Node {
    replica: Replica,
    log: Log,
}

impl Node {
    /// A replica recovered from an empty disk, then told `state` by the controller.
    fn new(broker: u32, state: &PartitionState, min_isr: u32) -> Node {
        let mut log = Log::default();
        let mut replica = Replica::recover(broker, P, &log, 0, rules(min_isr));
        let change = replica.apply_state(&mut log, state, 0);
        let want = if state.leader == Some(broker) {
            StateChange::BecameLeader
        } else {
            StateChange::BecameFollower { truncate_to_hw: None }
        };
        assert_eq!(change, want);
        Node { replica, log }
    }

    /// A client's produce request of `n` records stamped `s` (`None`: not idempotent).
    fn produce(&mut self, s: Option<ProducerStamp>, n: u64, acks: Acks) -> Result<LeaderAppend, KafkaError> {
        let from = self.log.log_end_offset();
        self.replica.append_as_leader(&mut self.log, &msgs(from, n), s, acks)
    }

    /// Copies everything `leader` has past this follower's log end, as a follower fetch does.
    fn fetch_from(&mut self, leader: &mut Node, now_us: u64) {
        let fetch_offset = self.log.log_end_offset();
        let answer = leader
            .replica
            .fetch_as_leader(
                &leader.log,
                self.replica.broker,
                fetch_offset,
                self.log.last_batch_epoch(),
                self.replica.leader_epoch,
                now_us,
            )
            .expect("the leader answers");
        let FetchData::Records { batches, high_watermark } = answer.data else {
            panic!("expected records, got {:?}", answer.data);
        };
        self.replica.append_as_follower(&mut self.log, batches, high_watermark);
    }
}

fn appended(base_offset: u64, end_offset: u64) -> LeaderAppend {
    LeaderAppend { base_offset, end_offset, duplicate: false, hw_moved: Some(end_offset) }
}

fn duplicate(base_offset: u64, end_offset: u64) -> LeaderAppend {
    LeaderAppend { base_offset, end_offset, duplicate: true, hw_moved: None }
}

#[test]
fn a_leader_appends_in_sequence_and_answers_a_retry_with_the_original_offset() {
    let mut b1 = Node::new(1, &state(1, 1, &[1]), 1);
    assert_eq!(b1.produce(Some(stamp(0, 0)), 3, Acks::All), Ok(appended(0, 3)));
    assert_eq!(b1.produce(Some(stamp(0, 3)), 2, Acks::All), Ok(appended(3, 5)));
    // The retry of the first batch: success at its offsets, nothing appended.
    assert_eq!(b1.produce(Some(stamp(0, 0)), 3, Acks::All), Ok(duplicate(0, 3)));
    assert_eq!(b1.produce(Some(stamp(0, 3)), 2, Acks::Leader), Ok(duplicate(3, 5)));
    assert_eq!(b1.log.log_end_offset(), 5);
    assert_eq!(b1.replica.high_watermark, 5);
    assert_eq!(b1.log.all_records()[..], msgs(0, 5)[..]);
}

#[test]
fn a_leader_refuses_gaps_old_retries_and_fenced_epochs() {
    let mut b1 = Node::new(1, &state(1, 1, &[1]), 1);
    for seq in 0..6 {
        assert!(b1.produce(Some(stamp(0, seq)), 1, Acks::All).is_ok());
    }
    let leo = b1.log.log_end_offset();
    assert_eq!(b1.produce(Some(stamp(0, 7)), 1, Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(b1.produce(Some(stamp(0, 0)), 1, Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(b1.produce(Some(stamp(0, 1)), 1, Acks::All), Ok(duplicate(1, 2)));
    assert_eq!(b1.produce(Some(stamp(1, 0)), 1, Acks::All), Ok(appended(leo, leo + 1)));
    assert_eq!(b1.produce(Some(stamp(0, 5)), 1, Acks::All), Err(KafkaError::InvalidProducerEpoch));
    assert_eq!(b1.produce(Some(stamp(0, 6)), 1, Acks::All), Err(KafkaError::InvalidProducerEpoch));
    assert_eq!(b1.log.log_end_offset(), leo + 1);
}

#[test]
fn a_leader_accepts_an_unknown_producer_at_any_sequence() {
    let mut b1 = Node::new(1, &state(1, 1, &[1]), 1);
    assert_eq!(b1.produce(Some(stamp(4, 1000)), 2, Acks::All), Ok(appended(0, 2)));
    assert_eq!(b1.produce(Some(stamp(4, 1000)), 2, Acks::All), Ok(duplicate(0, 2)));
}

#[test]
fn without_a_stamp_a_retry_is_stored_again() {
    let mut b1 = Node::new(1, &state(1, 1, &[1]), 1);
    assert_eq!(b1.produce(None, 2, Acks::All), Ok(appended(0, 2)));
    let retry = msgs(0, 2);
    let again = b1.replica.append_as_leader(&mut b1.log, &retry, None, Acks::All);
    assert_eq!(again, Ok(appended(2, 4)));
    assert_eq!(b1.log.all_records(), [msgs(0, 2), msgs(0, 2)].concat());
}

#[test]
fn the_min_isr_check_comes_before_deduplication() {
    // As in Kafka's Partition.appendRecordsToLeader, an acks=all write is refused below
    // min.insync.replicas before the log looks at sequences: a retry gets NOT_ENOUGH_REPLICAS
    // even when it is a duplicate.
    let mut b1 = Node::new(1, &state(1, 1, &[1, 2]), 2);
    assert!(b1.produce(Some(stamp(0, 0)), 1, Acks::Leader).is_ok());
    let shrunk = PartitionState { partition_epoch: 2, ..state(1, 1, &[1]) };
    assert_eq!(b1.replica.apply_state(&mut b1.log, &shrunk, 1), StateChange::IsrUpdated);
    assert_eq!(b1.produce(Some(stamp(0, 0)), 1, Acks::All), Err(KafkaError::NotEnoughReplicas));
    assert_eq!(b1.produce(Some(stamp(0, 0)), 1, Acks::Leader).map(|a| a.duplicate), Ok(true));
}

#[test]
fn a_follower_refuses_produce_requests() {
    let mut b2 = Node::new(2, &state(1, 1, &[1, 2]), 1);
    assert_eq!(b2.produce(Some(stamp(0, 0)), 1, Acks::All), Err(KafkaError::NotLeaderOrFollower));
    assert_eq!(b2.log.log_end_offset(), 0);
}

#[test]
fn a_follower_that_copied_the_batches_deduplicates_like_the_old_leader_after_failover() {
    let isr = [1, 2];
    let mut b1 = Node::new(1, &state(1, 1, &isr), 1);
    let mut b2 = Node::new(2, &state(1, 1, &isr), 1);
    // Seven batches of two records, epoch 0, then a bumped epoch's two batches.
    let mut stamps: Vec<(ProducerStamp, u64)> = (0..7).map(|i| (stamp(0, i * 2), 2)).collect();
    stamps.extend([(stamp(1, 0), 3), (stamp(1, 3), 1)]);
    let mut offsets = Vec::new();
    for &(s, n) in &stamps {
        let a = b1.produce(Some(s), n, Acks::Leader).expect("appended");
        offsets.push((a.base_offset, a.end_offset));
    }
    b2.fetch_from(&mut b1, 1_000);
    assert_eq!(b2.log.batches(), b1.log.batches(), "the follower holds the stamped batches");

    // What each broker would answer, for every batch sent and for the batches next to them.
    let mut probes: Vec<(ProducerStamp, u64)> = stamps.clone();
    probes.extend([(stamp(1, 4), 1), (stamp(1, 5), 1), (stamp(0, 14), 2), (stamp(2, 0), 1), (stamp(2, 9), 1)]);
    for &(s, n) in &probes {
        assert_eq!(b2.log.check_sequence(s, n as usize), b1.log.check_sequence(s, n as usize), "{s:?} x{n}");
    }

    // b1 dies; the controller makes b2 leader of epoch 2. The client retries what it had in
    // flight: the batches b2 copied are duplicates at the offsets b1 gave them.
    let failover = state(2, 2, &[2]);
    assert_eq!(b2.replica.apply_state(&mut b2.log, &failover, 2_000), StateChange::BecameLeader);
    let leo = b2.log.log_end_offset();
    for (i, &(s, n)) in stamps.iter().enumerate().skip(2) {
        let (base, end) = offsets[i];
        let answer = b2.produce(Some(s), n, Acks::All);
        if s.producer_epoch == 0 {
            // Epoch 1 fenced epoch 0 on b1; b2 learned the same from the batches.
            assert_eq!(answer, Err(KafkaError::InvalidProducerEpoch), "batch {i}");
        } else {
            assert_eq!(answer, Ok(duplicate(base, end)), "batch {i}");
        }
    }
    assert_eq!(b2.log.log_end_offset(), leo, "no retry was stored twice");
    assert_eq!(b2.produce(Some(stamp(1, 5)), 1, Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(b2.produce(Some(stamp(1, 4)), 1, Acks::All), Ok(appended(leo, leo + 1)));
}

#[test]
fn a_new_leader_that_missed_the_last_batches_appends_their_retries_once() {
    let isr = [1, 2];
    let mut b1 = Node::new(1, &state(1, 1, &isr), 1);
    let mut b2 = Node::new(2, &state(1, 1, &isr), 1);
    for seq in 0..3 {
        b1.produce(Some(stamp(0, seq)), 1, Acks::Leader).expect("appended");
    }
    b2.fetch_from(&mut b1, 1_000);
    // Two more batches reach b1 only, then b1 dies and b2 leads.
    for seq in 3..5 {
        b1.produce(Some(stamp(0, seq)), 1, Acks::Leader).expect("appended");
    }
    assert_eq!(b2.replica.apply_state(&mut b2.log, &state(2, 2, &[2]), 2_000), StateChange::BecameLeader);
    // b2 lacks sequence 3 and 4: their retries are next in sequence there and are stored,
    // once; a retry of what b2 has is a duplicate.
    assert_eq!(b2.produce(Some(stamp(0, 4)), 1, Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(b2.produce(Some(stamp(0, 3)), 1, Acks::All), Ok(appended(3, 4)));
    assert_eq!(b2.produce(Some(stamp(0, 4)), 1, Acks::All), Ok(appended(4, 5)));
    assert_eq!(b2.produce(Some(stamp(0, 4)), 1, Acks::All), Ok(duplicate(4, 5)));
    assert_eq!(b2.produce(Some(stamp(0, 2)), 1, Acks::All), Ok(duplicate(2, 3)));

    // b1 comes back as b2's follower: its own sequences 3 and 4 are cut (leader epoch 1 ends
    // at 3 on b2) and it copies b2's. Its producer state is rebuilt from what it keeps and what
    // it copies, and answers as b2's does.
    assert_eq!(
        b1.replica.apply_state(&mut b1.log, &state(2, 3, &[1, 2]), 3_000),
        StateChange::BecameFollower { truncate_to_hw: None }
    );
    assert_eq!(b2.replica.apply_state(&mut b2.log, &state(2, 3, &[1, 2]), 3_000), StateChange::BecameLeader);
    let diverging = b2
        .replica
        .fetch_as_leader(&b2.log, 1, b1.log.log_end_offset(), b1.log.last_batch_epoch(), 3, 3_100)
        .expect("answered");
    let FetchData::Diverging { epoch, end_offset } = diverging.data else {
        panic!("expected a diverging answer, got {:?}", diverging.data);
    };
    let cut = b1.replica.truncation_for(&b1.log, epoch, end_offset);
    assert_eq!(cut.to_offset, 3);
    let removed = b1.replica.truncate(&mut b1.log, cut.to_offset);
    assert_eq!(removed.len(), 2);
    assert_eq!(b1.log.check_sequence(stamp(0, 3), 1), SequenceCheck::Append, "b1 forgot what it cut");
    b1.fetch_from(&mut b2, 3_200);
    assert_eq!(b1.log.batches(), b2.log.batches());
    for seq in 0..7 {
        assert_eq!(b1.log.check_sequence(stamp(0, seq), 1), b2.log.check_sequence(stamp(0, seq), 1), "seq {seq}");
    }
}

// ---- sequence numbers at the top of their range ----

/// Kafka's sequences are int32 and wrap to 0 after Integer.MAX_VALUE
/// (`ProducerAppendInfo.inSequence`: nextSeq == 0 && lastSeq == Integer.MAX_VALUE). The sim's
/// are u32 and wrap only after u32::MAX. Unreachable in practice (2^31 records from one
/// producer epoch to one partition), kept as a note.
#[test]
fn the_sequence_after_i32_max_is_zero() {
    let mut log = Log::default();
    assert_eq!(produce(&mut log, stamp(0, i32::MAX as u32), 1), SequenceCheck::Append);
    assert_eq!(produce(&mut log, stamp(0, 0), 1), SequenceCheck::Append);
}
