//! Kafka's `TransactionManagerTest`, idempotent (non-transactional) cases (3.7.0,
//! clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java),
//! against `Sequencer` through `Books` (see `producer_fixtures`). Kafka's `producerId` 13131 and
//! `epoch` 1 are the defaults where the test does not set its own.

use crate::producer_fixtures::{Books, TP0, TP1};
use losslab_sim::client::producer::SeqBatch;
use losslab_sim::protocol::KafkaError;

const PRODUCER_ID: u64 = 13_131;
const EPOCH: u32 = 1;

/// Kafka: TransactionManagerTest.testDefaultSequenceNumber (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// A partition's sequences start at 0 and move by the records written.
#[test]
fn test_default_sequence_number() {
    let mut b = Books::new(PRODUCER_ID, EPOCH);
    assert_eq!(b.seq.sequence_number(TP0), 0);
    for _ in 0..3 {
        b.write(TP0);
    }
    assert_eq!(b.seq.sequence_number(TP0), 3);
}

/// Kafka: TransactionManagerTest.testSequenceNumberOverflow (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// Sequences wrap to 0 after Int.MaxValue: MAX + 100 is 99, + MAX again is 98 (`sequence_add`,
/// what `incrementSequenceNumber` uses).
#[test]
fn test_sequence_number_overflow() {
    use losslab_sim::protocol::sequence_add;
    let max = i32::MAX as u32;
    let s = sequence_add(0, max);
    assert_eq!(s, max);
    let s = sequence_add(s, 100);
    assert_eq!(s, 99);
    assert_eq!(sequence_add(s, max), 98);
}

/// Kafka: TransactionManagerTest.testBumpEpochAndResetSequenceNumbersAfterUnknownProducerId (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// UNKNOWN_PRODUCER_ID for b2 after b1 was acknowledged at offset 500 (log start 500: not below
/// it) is retried with an epoch bump; b2..b5 are renumbered 0..3 under epoch 2.
#[test]
fn test_bump_epoch_and_reset_sequence_numbers_after_unknown_producer_id() {
    let mut b = Books::new(PRODUCER_ID, EPOCH);
    let ids: Vec<u64> = (0..5).map(|_| b.write(TP0)).collect();
    assert_eq!(b.seq.sequence_number(TP0), 5);
    b.complete(ids[0], Some(500));
    assert!(b.can_retry(ids[1], KafkaError::UnknownProducerId));
    b.run();
    assert_eq!(b.epoch(), 2);
    for (i, &id) in ids[1..].iter().enumerate() {
        let s = b.stamp(id);
        assert_eq!((s.producer_epoch, s.base_sequence), (2, i as u32), "b{}", i + 2);
        assert!(b.batch(id).reopened);
    }
}

/// Kafka: TransactionManagerTest.testBumpEpochAfterTimeoutWithoutPendingInflightRequests (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// Marking a completed batch unresolved resolves at once; a timed-out batch with nothing else in
/// flight leaves a real gap, and the epoch goes from 5 to 6.
#[test]
fn test_bump_epoch_after_timeout_without_pending_inflight_requests() {
    let mut b = Books::new(15, 5);
    b.bump();
    assert_eq!(b.epoch(), 5, "nothing to resolve, nothing bumped");
    assert_eq!(b.seq.sequence_number(TP0), 0);
    let b1 = b.write(TP0);
    assert_eq!(b.seq.sequence_number(TP0), 1);
    b.complete(b1, Some(500));
    assert_eq!(b.seq.last_acked_sequence(TP0), Some(0));
    b.mark_unresolved(b1);
    b.seq.maybe_resolve();
    assert_eq!(b.epoch(), 5);
    assert!(!b.seq.is_unresolved(TP0));
    let b2 = b.write(TP0);
    assert_eq!(b.seq.sequence_number(TP0), 2);
    b.mark_unresolved(b2);
    b.fail(b2, KafkaError::DeliveryTimeout, false);
    assert!(b.seq.is_unresolved(TP0));
    b.seq.maybe_resolve();
    assert!(!b.seq.is_unresolved(TP0));
    b.run();
    assert_eq!(b.epoch(), 6);
}

/// Kafka: TransactionManagerTest.testNoProducerIdResetAfterLastInFlightBatchSucceeds (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// b1 and b2 time out, b3 succeeds: its acknowledgement covers their sequences, so the partition
/// is resolved without a bump and its next sequence stays 3.
#[test]
fn test_no_producer_id_reset_after_last_in_flight_batch_succeeds() {
    let mut b = Books::new(15, 5);
    let (b1, b2, b3) = (b.write(TP0), b.write(TP0), b.write(TP0));
    assert_eq!(b.seq.sequence_number(TP0), 3);
    b.mark_unresolved(b1);
    b.fail(b1, KafkaError::DeliveryTimeout, false);
    assert!(b.seq.is_unresolved(TP0));
    b.bump();
    assert_eq!(b.epoch(), 5);
    b.fail(b2, KafkaError::DeliveryTimeout, false);
    b.bump();
    assert_eq!(b.epoch(), 5);
    assert!(b.seq.is_unresolved(TP0));
    b.complete(b3, Some(500));
    b.seq.maybe_resolve();
    assert_eq!(b.epoch(), 5);
    assert!(!b.seq.is_unresolved(TP0));
    assert_eq!(b.seq.sequence_number(TP0), 3);
}

/// Kafka: TransactionManagerTest.testEpochBumpAfterLastInflightBatchFails (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// b1 times out, b2 succeeds (still unresolved: b3 is out), b3 times out: the gap is real, the
/// epoch goes to 2 and the partition starts again at 0.
#[test]
fn test_epoch_bump_after_last_inflight_batch_fails() {
    let mut b = Books::new(PRODUCER_ID, EPOCH);
    let (b1, b2, b3) = (b.write(TP0), b.write(TP0), b.write(TP0));
    b.mark_unresolved(b1);
    b.fail(b1, KafkaError::DeliveryTimeout, false);
    b.complete(b2, Some(500));
    b.bump();
    assert_eq!(b.epoch(), EPOCH);
    assert!(b.seq.is_unresolved(TP0));
    b.fail(b3, KafkaError::DeliveryTimeout, false);
    b.run();
    assert_eq!(b.epoch(), 2);
    assert!(!b.seq.is_unresolved(TP0));
    assert_eq!(b.seq.sequence_number(TP0), 0);
}

/// Kafka: TransactionManagerTest.testNoFailedBatchHandlingWhenTxnManagerIsInFatalError (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// OUT_OF_ORDER bumps the epoch (5 to 6); once the manager is in a fatal state a failure with
/// adjustment bumps nothing.
#[test]
fn test_no_failed_batch_handling_when_txn_manager_is_in_fatal_error() {
    let mut b = Books::new(15, 5);
    let b1 = b.write(TP0);
    b.fail(b1, KafkaError::OutOfOrderSequenceNumber, false);
    b.bump();
    assert_eq!(b.epoch(), 6);
    b.seq.transition_to_fatal_error(KafkaError::ProducerFenced);
    let b2 = b.write(TP0);
    b.fail(b2, KafkaError::DeliveryTimeout, true);
    b.bump();
    assert_eq!(b.epoch(), 6);
}

/// The shared beginning of `testHealthyPartitionRetriesDuringEpochBump` and
/// `testFailedInflightBatchAfterEpochBump`: tp0 b1-b3 and tp1 b1-b2 written, both b1s
/// acknowledged at 500, UNKNOWN_PRODUCER_ID for tp0b2 bumps the epoch to 2. Returns (tp0b2, tp1b2).
fn bumped_while_tp1_is_in_flight(b: &mut Books) -> (u64, u64) {
    let tp0b1 = b.write(TP0);
    let tp0b2 = b.write(TP0);
    b.write(TP0);
    let tp1b1 = b.write(TP1);
    let tp1b2 = b.write(TP1);
    assert_eq!((b.seq.sequence_number(TP0), b.seq.sequence_number(TP1)), (3, 2));
    b.complete(tp0b1, Some(500));
    b.complete(tp1b1, Some(500));
    assert!(b.can_retry(tp0b2, KafkaError::UnknownProducerId));
    b.run();
    assert_eq!(b.epoch(), 2);
    // tp0's batches were renumbered under the new epoch; tp1's were not.
    assert_eq!(b.seq.next_batch_by_sequence(TP0), Some(tp0b2));
    assert_eq!(b.seq.first_in_flight_sequence(TP0), Some(0));
    let s = b.stamp(tp0b2);
    assert_eq!((s.base_sequence, s.producer_epoch, b.batch(tp0b2).reopened), (0, 2, true));
    assert_eq!(b.seq.next_batch_by_sequence(TP1), Some(tp1b2));
    assert_eq!(b.seq.first_in_flight_sequence(TP1), Some(1));
    let s = b.stamp(tp1b2);
    assert_eq!((s.base_sequence, s.producer_epoch, b.batch(tp1b2).reopened), (1, EPOCH, false));
    // A new tp1 batch is not drained while tp1 has batches of the old epoch in flight.
    let new_tp1 = SeqBatch { id: 99, partition: TP1, stamp: None, count: 1, reopened: false };
    assert!(!b.seq.may_drain(&new_tp1));
    (tp0b2, tp1b2)
}

/// The rest of `testHealthyPartitionRetriesDuringEpochBump` and
/// `testFailedInflightBatchAfterEpochBump` (identical from here in 3.7.0): tp1's old-epoch batch
/// gets NOT_LEADER_OR_FOLLOWER, is retried with its old epoch and sequence, and completes; tp1
/// then starts again at 0 under epoch 2 and its next batch goes out with sequence 0.
fn retry_the_old_epoch_batch_and_move_on(b: &mut Books, tp1b2: u64) {
    assert!(b.can_retry(tp1b2, KafkaError::NotLeaderOrFollower));
    assert!(b.seq.may_drain(&b.batch(tp1b2)), "the old-epoch batch drains again as it is");
    assert_eq!(b.stamp(tp1b2).producer_epoch, EPOCH);
    b.complete(tp1b2, Some(500));
    b.seq.maybe_update_producer_id_and_epoch(TP1);
    assert!(!b.seq.has_in_flight(TP1));
    assert_eq!(b.seq.sequence_number(TP1), 0);
    let tp1b3 = b.write(TP1);
    assert_eq!(b.seq.next_batch_by_sequence(TP1), Some(tp1b3));
    let s = b.stamp(tp1b3);
    assert_eq!((s.producer_epoch, s.base_sequence), (EPOCH + 1, 0));
    b.complete(tp1b3, Some(500));
    assert!(!b.seq.has_in_flight(TP1));
    assert_eq!(b.seq.sequence_number(TP1), 1);
}

/// Kafka: TransactionManagerTest.testHealthyPartitionRetriesDuringEpochBump (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// A bump caused by tp0 renumbers only tp0 (KIP-360 per partition); tp1's in-flight batch keeps
/// its epoch and sequence and holds tp1's new batches back until it completes (KAFKA-12152).
#[test]
fn test_healthy_partition_retries_during_epoch_bump() {
    let mut b = Books::new(PRODUCER_ID, EPOCH);
    let (_, tp1b2) = bumped_while_tp1_is_in_flight(&mut b);
    retry_the_old_epoch_batch_and_move_on(&mut b, tp1b2);
}

/// Kafka: TransactionManagerTest.testFailedInflightBatchAfterEpochBump (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// The same steps as `testHealthyPartitionRetriesDuringEpochBump` in 3.7.0 (the test's name
/// promises a failure its body does not contain).
#[test]
fn test_failed_inflight_batch_after_epoch_bump() {
    let mut b = Books::new(PRODUCER_ID, EPOCH);
    let (_, tp1b2) = bumped_while_tp1_is_in_flight(&mut b);
    retry_the_old_epoch_batch_and_move_on(&mut b, tp1b2);
}
