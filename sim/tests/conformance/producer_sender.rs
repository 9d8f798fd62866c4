//! Kafka's `SenderTest` (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/
//! SenderTest.java) against the pure `Sender` through `Rig` (see `producer_fixtures`). Kafka's
//! `sender.runOnce()` is `rig.run()`; `client.respond(...)` answers the oldest request in flight
//! (`respond`) or the one carrying a given sequence (`respond_seq`, as
//! `sendIdempotentProducerResponse` checks it). One difference in form: Kafka puts the batches of
//! several partitions for one broker into one request; losslab sends one request per batch
//! (audit C11), so where a test answers "the request" for two partitions, it answers two.

use crate::producer_fixtures::{sender_test_config, Rig, SENDER_PID, TP0, TP1};
use losslab_sim::client::producer::PidEpoch;
use losslab_sim::protocol::KafkaError;

fn pid_epoch(epoch: u32) -> Option<PidEpoch> {
    Some(PidEpoch { producer_id: SENDER_PID, epoch })
}

/// Kafka: SenderTest.testIdempotenceWithMultipleInflights (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// Two requests in flight with sequences 0 and 1; each answer moves the last acknowledged
/// sequence and completes its record with its offset.
#[test]
fn test_idempotence_with_multiple_inflights() {
    let mut rig = Rig::sender_test(true);
    assert_eq!(rig.seq().sequence_number(TP0), 0);
    let r1 = rig.append(TP0);
    rig.run();
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.partition_state(TP0), (1, None));
    let r2 = rig.append(TP0);
    rig.run();
    assert_eq!(rig.in_flight().len(), 2);
    assert_eq!(rig.partition_state(TP0), (2, None));
    assert!(rig.outcome.is_empty());
    rig.respond_seq(TP0, 0, Ok(0));
    rig.run(); // receive response 0
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(0));
    assert_eq!(rig.outcome.get(&r1), Some(&Ok(Some(0))));
    assert!(!rig.outcome.contains_key(&r2));
    rig.respond_seq(TP0, 1, Ok(1));
    rig.run(); // receive response 1
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(1));
    assert!(rig.in_flight().is_empty());
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
    assert_eq!(rig.outcome.get(&r2), Some(&Ok(Some(1))));
}

/// Kafka: SenderTest.testIdempotenceWithMultipleInflightsRetriedInOrder (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// Three in flight; 0 gets LEADER_NOT_AVAILABLE (here NOT_LEADER_OR_FOLLOWER, also retriable),
/// 1 and 2 get OUT_OF_ORDER_SEQUENCE_NUMBER (not next: retried without a bump). The retries go out
/// one at a time in sequence order, and a 4th record waits until they are through.
#[test]
fn test_idempotence_with_multiple_inflights_retried_in_order() {
    let mut rig = Rig::sender_test(true);
    let r: Vec<_> = (0..3)
        .map(|_| {
            let m = rig.append(TP0);
            rig.run();
            m
        })
        .collect();
    assert_eq!(rig.in_flight().len(), 3);
    assert_eq!(rig.partition_state(TP0), (3, None));
    rig.respond_seq(TP0, 0, Err(KafkaError::NotLeaderOrFollower));
    rig.run(); // receive response 0
    let r4 = rig.append(TP0);
    assert_eq!(rig.in_flight().len(), 2);
    assert_eq!(rig.seq().last_acked_sequence(TP0), None);
    rig.respond_seq(TP0, 1, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run(); // resend request 0 (the lowest sequence), receive response 1
    rig.respond_seq(TP0, 2, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run(); // receive response 2
    assert_eq!(rig.seq().last_acked_sequence(TP0), None);
    assert_eq!(rig.in_flight().len(), 1);
    rig.run(); // nothing: one request in flight while retrying
    assert_eq!(rig.seq().sequence_number(TP0), 3, "the 4th batch was not drained");
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.epoch(), 0, "no bump: none of them was next after an acknowledged sequence");
    for (seq, msg) in r.iter().enumerate() {
        rig.respond_seq(TP0, seq as u32, Ok(seq as u64));
        rig.run(); // receive the answer
        assert_eq!(rig.seq().last_acked_sequence(TP0), Some(seq as u32));
        assert_eq!(rig.outcome.get(msg), Some(&Ok(Some(seq as u64))));
        if seq < 2 {
            assert!(rig.in_flight().is_empty());
            assert_eq!(rig.sender.in_flight_batches(TP0), 0);
            rig.run(); // send the next retry
        }
        assert_eq!(rig.in_flight().len(), 1);
        assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    }
    // The last answer's run already sent the 4th batch: out of "retry" mode.
    rig.respond_seq(TP0, 3, Ok(3));
    rig.run();
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(3));
    assert_eq!(rig.outcome.get(&r4), Some(&Ok(Some(3))));
}

/// Kafka: SenderTest.testEpochBumpOnOutOfOrderSequenceForNextBatch (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// A two-record batch is acknowledged (last acked 1); OUT_OF_ORDER for the batch at sequence 2,
/// the one right after it, means the broker lost records: the epoch is bumped and the batch is
/// resent as sequence 0 (audit C2).
#[test]
fn test_epoch_bump_on_out_of_order_sequence_for_next_batch() {
    let mut rig = Rig::sender_test(true);
    let r1 = rig.append(TP0);
    rig.append(TP0);
    rig.run();
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.seq().sequence_number(TP0), 2, "the next sequence counts both records");
    rig.respond_seq(TP0, 0, Ok(0));
    rig.run();
    rig.append(TP0);
    rig.run();
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.partition_state(TP0), (3, Some(1)));
    assert_eq!(rig.outcome.get(&r1), Some(&Ok(Some(0))));
    rig.respond_seq(TP0, 2, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run();
    rig.run();
    assert_eq!(rig.epoch(), 1);
    assert_eq!(rig.seq().sequence_number(TP0), 1);
    assert_eq!(rig.seq().first_in_flight_sequence(TP0), Some(0));
}

/// Kafka: SenderTest.testEpochBumpOnOutOfOrderSequenceForNextBatchWhenThereIsNoBatchInFlight (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// The bump caused by tp0 leaves tp1's state alone (stale) until tp1's next batch, which then
/// starts at sequence 0 under the new epoch.
#[test]
fn test_epoch_bump_on_out_of_order_sequence_for_next_batch_when_there_is_no_batch_in_flight() {
    let mut rig = Rig::sender_test(true);
    let state = |rig: &Rig, p| (rig.seq().partition_producer_id_and_epoch(p), rig.partition_state(p));
    rig.append(TP0);
    rig.run();
    assert_eq!(state(&rig, TP0), (pid_epoch(0), (1, None)));
    rig.respond_seq(TP0, 0, Ok(0));
    rig.run();
    assert_eq!(state(&rig, TP0), (pid_epoch(0), (1, Some(0))));
    rig.append(TP1);
    rig.run();
    assert_eq!(state(&rig, TP1), (pid_epoch(0), (1, None)));
    rig.respond_seq(TP1, 0, Ok(0));
    rig.run();
    assert_eq!(state(&rig, TP1), (pid_epoch(0), (1, Some(0))));
    rig.append(TP0);
    rig.run();
    assert_eq!(state(&rig, TP0), (pid_epoch(0), (2, Some(0))));
    rig.respond_seq(TP0, 1, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run(); // receive
    rig.run(); // bump the epoch and retry
    assert_eq!(rig.epoch(), 1);
    assert_eq!(state(&rig, TP0), (pid_epoch(1), (1, None)));
    assert_eq!(state(&rig, TP1), (pid_epoch(0), (1, Some(0))));
    assert!(rig.seq().has_stale_producer_id_and_epoch(TP1));
    rig.respond_seq(TP0, 0, Ok(1));
    rig.run();
    assert_eq!(state(&rig, TP0), (pid_epoch(1), (1, Some(0))));
    rig.append(TP1);
    rig.run();
    assert_eq!(state(&rig, TP1), (pid_epoch(1), (1, None)));
    assert!(!rig.seq().has_stale_producer_id_and_epoch(TP1));
    rig.respond_seq(TP1, 0, Ok(1));
    rig.run();
    assert_eq!(state(&rig, TP1), (pid_epoch(1), (1, Some(0))));
}

/// Kafka: SenderTest.testCorrectHandlingOfOutOfOrderResponses (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// The answer to the second request comes first (OUT_OF_ORDER), then the first
/// (NOT_LEADER_OR_FOLLOWER): both are requeued in sequence order and resent one at a time.
#[test]
fn test_correct_handling_of_out_of_order_responses() {
    let mut rig = Rig::sender_test(true);
    let r1 = rig.append(TP0);
    rig.run();
    let r2 = rig.append(TP0);
    rig.run();
    let [first, second] = rig.in_flight()[..] else { panic!("two requests in flight") };
    rig.respond(second, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run(); // receive response 1
    assert_eq!(rig.queued(TP0), [Some(1)], "the second batch is queued");
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.seq().last_acked_sequence(TP0), None);
    rig.respond(first, Err(KafkaError::NotLeaderOrFollower));
    rig.run(); // receive response 0
    assert_eq!(rig.queued(TP0), [Some(0), Some(1)], "both requeued in sequence order");
    assert_eq!(rig.seq().last_acked_sequence(TP0), None);
    assert!(rig.in_flight().is_empty() && rig.outcome.is_empty());
    rig.run(); // send request 0
    assert_eq!(rig.in_flight().len(), 1);
    rig.run(); // nothing: one in flight while retrying
    assert_eq!(rig.in_flight().len(), 1);
    rig.respond_seq(TP0, 0, Ok(0));
    rig.run();
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(0));
    assert!(rig.in_flight().is_empty());
    assert_eq!(rig.outcome.get(&r1), Some(&Ok(Some(0))));
    rig.run(); // send request 1
    assert_eq!(rig.in_flight().len(), 1);
    rig.respond_seq(TP0, 1, Ok(1));
    rig.run();
    assert!(rig.in_flight().is_empty());
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(1));
    assert_eq!(rig.outcome.get(&r2), Some(&Ok(Some(1))));
}

/// Kafka: SenderTest.testCorrectHandlingOfOutOfOrderResponsesWhenSecondSucceeds (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// The second request succeeds first (last acked 1), the first times out and is resent: its late
/// success leaves the last acknowledged sequence at 1.
#[test]
fn test_correct_handling_of_out_of_order_responses_when_second_succeeds() {
    let mut rig = Rig::sender_test(true);
    let r1 = rig.append(TP0);
    rig.run();
    let r2 = rig.append(TP0);
    rig.run();
    let [first, second] = rig.in_flight()[..] else { panic!("two requests in flight") };
    rig.respond(second, Ok(1));
    rig.run(); // receive response 1
    assert_eq!(rig.outcome.get(&r2), Some(&Ok(Some(1))));
    assert!(!rig.outcome.contains_key(&r1));
    assert!(rig.queued(TP0).is_empty());
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(1));
    rig.respond(first, Err(KafkaError::RequestTimedOut));
    rig.run(); // receive response 0
    assert_eq!(rig.queued(TP0), [Some(0)]);
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(1));
    assert!(rig.in_flight().is_empty());
    rig.run(); // resend request 0
    assert_eq!(rig.in_flight().len(), 1);
    rig.respond_seq(TP0, 0, Ok(0));
    rig.run();
    assert!(rig.queued(TP0).is_empty() && rig.in_flight().is_empty());
    assert_eq!(rig.seq().last_acked_sequence(TP0), Some(1));
    assert_eq!(rig.outcome.get(&r1), Some(&Ok(Some(0))));
}

/// Kafka: SenderTest.testExpiryOfUnsentBatchesShouldNotCauseUnresolvedSequences (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// A batch never sent (the broker disconnected and backing off) expires after 10 s:
/// TimeoutException, and its partition is not unresolved, as nothing was sent (audit C1).
#[test]
fn test_expiry_of_unsent_batches_should_not_cause_unresolved_sequences() {
    let mut rig = Rig::sender_test(true);
    let r1 = rig.append(TP0);
    rig.sleep(10_000);
    rig.disconnect(1, 10);
    rig.run();
    assert_eq!(rig.outcome.get(&r1), Some(&Err(KafkaError::DeliveryTimeout)));
    assert!(!rig.seq().is_unresolved(TP0));
}

/// Kafka: SenderTest.testExpiryOfFirstBatchShouldNotCauseUnresolvedSequencesIfFutureBatchesSucceed (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// The first batch (retried after REQUEST_TIMED_OUT) expires and leaves the partition unresolved;
/// a third batch waits; the second succeeds at sequence 1, which settles it without a bump, and
/// the third goes out with sequence 2.
#[test]
fn test_expiry_of_first_batch_should_not_cause_unresolved_sequences_if_future_batches_succeed() {
    let mut rig = Rig::sender_test(true);
    let r1 = rig.append(TP0);
    rig.run(); // send request
    rig.sleep(1000);
    let r2 = rig.append(TP0);
    rig.run(); // send request
    assert_eq!(rig.in_flight().len(), 2);
    assert_eq!(rig.sender.in_flight_batches(TP0), 2);
    rig.respond_seq(TP0, 0, Err(KafkaError::RequestTimedOut));
    rig.run(); // receive the first response
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    rig.sleep(600);
    rig.disconnect(1, 10);
    rig.run(); // expire the first batch
    assert_eq!(rig.outcome.get(&r1), Some(&Err(KafkaError::DeliveryTimeout)));
    assert!(rig.seq().is_unresolved(TP0));
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
    let r3 = rig.append(TP0);
    rig.sleep(20);
    assert!(!rig.outcome.contains_key(&r2));
    rig.run(); // send the second request again
    rig.respond_seq(TP0, 1, Ok(1));
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    rig.run(); // receive the second response; the third waits while unresolved
    assert_eq!(rig.outcome.get(&r2), Some(&Ok(Some(1))));
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
    assert_eq!(rig.queued(TP0), [None]);
    assert!(rig.in_flight().is_empty());
    assert_eq!(rig.seq().sequence_number(TP0), 2);
    assert!(rig.seq().is_unresolved(TP0));
    rig.run(); // resolve without a bump, send the pending request
    assert!(!rig.seq().is_unresolved(TP0));
    assert_eq!(rig.epoch(), 0);
    assert!(rig.queued(TP0).is_empty());
    assert_eq!(rig.in_flight().len(), 1);
    assert!(!rig.outcome.contains_key(&r3));
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    assert_eq!(rig.sent.last().map(|s| s.2.map(|st| st.base_sequence)), Some(Some(2)));
}

/// Kafka: SenderTest.testExpiryOfFirstBatchShouldCauseEpochBumpIfFutureBatchesFail (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// The expired first batch leaves the partition unresolved; the second (the next after the
/// unresolved range) then gets OUT_OF_ORDER: the gap is real, the epoch is bumped and the
/// partition renumbered.
#[test]
fn test_expiry_of_first_batch_should_cause_epoch_bump_if_future_batches_fail() {
    let mut rig = Rig::sender_test(true);
    let r1 = rig.append(TP0);
    rig.run(); // send request
    rig.sleep(1000);
    let r2 = rig.append(TP0);
    rig.run(); // send request
    assert_eq!(rig.in_flight().len(), 2);
    rig.respond_seq(TP0, 0, Err(KafkaError::NotLeaderOrFollower));
    rig.run(); // receive the first response
    rig.sleep(1000);
    rig.disconnect(1, 10);
    rig.run(); // expire the first batch
    assert_eq!(rig.outcome.get(&r1), Some(&Err(KafkaError::DeliveryTimeout)));
    assert!(rig.seq().is_unresolved(TP0));
    rig.append(TP0);
    rig.sleep(20);
    assert!(!rig.outcome.contains_key(&r2));
    rig.run(); // send the second request again
    rig.respond_seq(TP0, 1, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run(); // receive it: the third stays queued
    assert_eq!(rig.queued(TP0).len(), 2, "the second batch is requeued before the new one");
    rig.run();
    assert_eq!(rig.epoch(), 1);
    assert_eq!(rig.seq().sequence_number(TP0), 1);
    assert!(!rig.seq().is_unresolved(TP0));
}

/// Kafka: SenderTest.testExpiryOfAllSentBatchesShouldCauseUnresolvedSequences (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// A batch that got NOT_LEADER_OR_FOLLOWER expires before its retry: unresolved, nothing queued;
/// the next run bumps the epoch and clears it.
#[test]
fn test_expiry_of_all_sent_batches_should_cause_unresolved_sequences() {
    let mut rig = Rig::sender_test(true);
    let r1 = rig.append(TP0);
    rig.run(); // send request
    rig.respond_seq(TP0, 0, Err(KafkaError::NotLeaderOrFollower));
    rig.run(); // receive the response
    assert_eq!(rig.seq().sequence_number(TP0), 1);
    rig.sleep(15_000);
    rig.disconnect(1, 10);
    rig.run(); // expire the batch
    assert_eq!(rig.outcome.get(&r1), Some(&Err(KafkaError::DeliveryTimeout)));
    assert!(rig.seq().is_unresolved(TP0));
    assert!(rig.in_flight().is_empty() && rig.queued(TP0).is_empty());
    assert_eq!(rig.seq().producer_id_and_epoch(), pid_epoch(0));
    rig.run(); // bump the epoch and clear the unresolved sequences
    assert_eq!(rig.epoch(), 1);
    assert!(!rig.seq().is_unresolved(TP0));
}

/// Kafka: SenderTest.testBatchesDrainedWithOldProducerIdShouldSucceedOnSubsequentRetry (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// tp1 gets NOT_LEADER_OR_FOLLOWER while tp0 gets OUT_OF_ORDER (a bump): tp1's batch is resent
/// with the old epoch, fails again, succeeds on the next retry; tp1's next sequence stays 1 until
/// its next batch is drained. Retries 10; Kafka's one request for both partitions is two here.
#[test]
fn test_batches_drained_with_old_producer_id_should_succeed_on_subsequent_retry() {
    let mut cfg = sender_test_config(true);
    cfg.retries = 10;
    let mut rig = Rig::new(cfg);
    let out_of_order = rig.append(TP0);
    let successful = rig.append(TP1);
    rig.run(); // send
    assert_eq!(rig.in_flight().len(), 2);
    rig.respond_seq(TP1, 0, Err(KafkaError::NotLeaderOrFollower));
    rig.respond_seq(TP0, 0, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run();
    assert!(!rig.outcome.contains_key(&out_of_order));
    rig.run(); // bump the epoch, send tp1 with the old producer epoch
    assert_eq!(rig.epoch(), 1);
    let tp1_stamp =
        rig.sender.in_flight().into_iter().find(|(_, _, b)| b.partition == TP1).and_then(|(_, _, b)| b.stamp);
    assert_eq!(tp1_stamp.map(|s| (s.producer_epoch, s.base_sequence)), Some((0, 0)), "resent as it was");
    assert!(!rig.outcome.contains_key(&successful));
    rig.respond_seq(TP1, 0, Err(KafkaError::NotLeaderOrFollower));
    rig.run();
    assert!(!rig.outcome.contains_key(&successful));
    rig.run(); // retry one more time
    rig.respond_seq(TP1, 0, Ok(0));
    rig.run();
    assert_eq!(rig.outcome.get(&successful), Some(&Ok(Some(0))));
    assert_eq!(rig.seq().sequence_number(TP1), 1, "reset only when tp1's next batch is drained");
}

/// Kafka: SenderTest.testBumpEpochWhenOutOfOrderSequenceReceived (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// OUT_OF_ORDER for the first batch (nothing acknowledged: it is next) bumps the epoch; the batch
/// is in flight again and its record not done.
#[test]
fn test_bump_epoch_when_out_of_order_sequence_received() {
    let mut cfg = sender_test_config(true);
    cfg.retries = 10;
    let mut rig = Rig::new(cfg);
    let r = rig.append(TP0);
    rig.run();
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    rig.respond_seq(TP0, 0, Err(KafkaError::OutOfOrderSequenceNumber));
    rig.run(); // receive the out of order sequence error
    rig.run(); // bump the epoch
    assert!(!rig.outcome.contains_key(&r));
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    assert_eq!(rig.epoch(), 1);
}

/// Kafka: SenderTest.testSequenceNumberIncrement (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// The first request carries sequence 0, producer id 343434, epoch 0; its success acknowledges
/// sequence 0 and the next is 1.
#[test]
fn test_sequence_number_increment() {
    let mut rig = Rig::sender_test(true);
    let r = rig.append(TP0);
    rig.run(); // send
    let (corr, _, stamp) = rig.sent[0];
    let stamp = stamp.expect("idempotent batches are stamped");
    assert_eq!((stamp.producer_id, stamp.producer_epoch, stamp.base_sequence), (SENDER_PID, 0, 0));
    rig.respond(corr, Ok(0));
    rig.run(); // receive response
    assert_eq!(rig.outcome.get(&r), Some(&Ok(Some(0))));
    assert_eq!(rig.partition_state(TP0), (1, Some(0)));
}

/// Kafka: SenderTest.testInflightBatchesExpireOnDeliveryTimeout (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// A batch in flight past `delivery.timeout.ms` expires in the run before its (successful)
/// answer is read: the record fails with a timeout (KIP-91, audit C5).
#[test]
fn test_inflight_batches_expire_on_delivery_timeout() {
    let mut cfg = sender_test_config(false);
    cfg.max_in_flight = 1;
    let mut rig = Rig::new(cfg);
    let r = rig.append(TP0);
    rig.run(); // send request
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    let corr = rig.in_flight()[0];
    rig.respond(corr, Ok(0));
    rig.sleep(1500);
    rig.run(); // expire, then receive the response
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
    assert_eq!(rig.outcome.get(&r), Some(&Err(KafkaError::DeliveryTimeout)));
}

/// Kafka: SenderTest.testWhenFirstBatchExpireNoSendSecondBatchIfGuaranteeOrder (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// With one request in flight the partition is muted: a second batch waits, even after the first
/// expired in flight, until the first's answer unmutes the partition.
#[test]
fn test_when_first_batch_expire_no_send_second_batch_if_guarantee_order() {
    let mut cfg = sender_test_config(false);
    cfg.max_in_flight = 1;
    let mut rig = Rig::new(cfg);
    rig.append(TP0);
    rig.run(); // send request
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    let corr = rig.in_flight()[0];
    rig.sleep(750);
    rig.append(TP0);
    rig.run(); // muted: nothing sent
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    rig.sleep(750); // the first batch expires
    rig.respond(corr, Ok(0));
    rig.run(); // expire it, receive its answer
    assert!(rig.in_flight().is_empty());
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
    rig.run(); // the second batch only
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
}

/// Kafka: SenderTest.testExpiredBatchDoesNotRetry (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// A batch that expired in flight is not retried when its retriable error arrives.
#[test]
fn test_expired_batch_does_not_retry() {
    let mut rig = Rig::sender_test(false);
    let r = rig.append(TP0);
    rig.run(); // send request
    assert_eq!(rig.in_flight().len(), 1);
    let corr = rig.in_flight()[0];
    rig.sleep(1500);
    rig.respond(corr, Err(KafkaError::NotLeaderOrFollower));
    rig.run(); // expire the batch, receive the error, do not requeue
    assert_eq!(rig.outcome.get(&r), Some(&Err(KafkaError::DeliveryTimeout)));
    assert!(rig.in_flight().is_empty() && rig.queued(TP0).is_empty());
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
    rig.run();
    rig.run(); // nothing is sent again
    assert!(rig.in_flight().is_empty() && rig.queued(TP0).is_empty());
}

/// Kafka: SenderTest.testRetries (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// retries=1 without idempotence: one disconnect is retried and succeeds; a second record sees
/// two disconnects and fails with NetworkException. Each retry takes three runs: receive the
/// error, reconnect, resend.
#[test]
fn test_retries() {
    let mut cfg = sender_test_config(false);
    cfg.retries = 1;
    let mut rig = Rig::new(cfg);
    let first = rig.append(TP0);
    rig.run(); // send produce request
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    rig.disconnect(1, 0);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1, "in flight until the disconnect is read");
    rig.run(); // receive error
    assert!(rig.in_flight().is_empty());
    rig.run(); // reconnect
    rig.run(); // resend
    assert_eq!(rig.in_flight().len(), 1);
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    let corr = rig.in_flight()[0];
    rig.respond(corr, Ok(0));
    rig.run();
    assert_eq!(rig.outcome.get(&first), Some(&Ok(Some(0))), "retried and completed");
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
    let second = rig.append(TP0);
    rig.run(); // send produce request
    assert_eq!(rig.sender.in_flight_batches(TP0), 1);
    for i in 0..2 {
        rig.disconnect(1, 0);
        rig.run(); // receive error
        assert_eq!(rig.sender.in_flight_batches(TP0), 0);
        rig.run(); // reconnect
        rig.run(); // resend
        assert_eq!(rig.sender.in_flight_batches(TP0), if i > 0 { 0 } else { 1 });
    }
    rig.run();
    assert_eq!(rig.outcome.get(&second), Some(&Err(KafkaError::NetworkException)));
    assert_eq!(rig.sender.in_flight_batches(TP0), 0);
}

/// Kafka: SenderTest.testCanRetryWithoutIdempotence (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/SenderTest.java)
/// Without idempotence a non-retriable error fails the record at once. Kafka's error is
/// TOPIC_AUTHORIZATION_FAILED, which losslab has not; INVALID_PRODUCER_EPOCH is another plain
/// `ApiException`.
#[test]
fn test_can_retry_without_idempotence() {
    let mut rig = Rig::sender_test(false);
    let r = rig.append(TP0);
    rig.run(); // send produce request
    assert_eq!(rig.sent[0].2, None, "no idempotent records");
    let corr = rig.in_flight()[0];
    assert!(!rig.outcome.contains_key(&r));
    rig.respond(corr, Err(KafkaError::InvalidProducerEpoch));
    rig.run();
    assert_eq!(rig.outcome.get(&r), Some(&Err(KafkaError::InvalidProducerEpoch)));
    assert!(rig.in_flight().is_empty() && rig.queued(TP0).is_empty());
}
