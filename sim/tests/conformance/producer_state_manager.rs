//! Kafka's `ProducerStateManagerTest` (3.7.0 and 2.4.0, core/src/test/scala/unit/kafka/log/
//! ProducerStateManagerTest.scala) and the idempotence cases of `UnifiedLogTest` (3.7.0,
//! core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala): the broker's producer state.
//!
//! Kafka splits the check in two: `UnifiedLog.analyzeAndValidateProducerState` answers a retry of
//! one of the last five batches with its original offsets, and `ProducerAppendInfo` refuses
//! everything else out of sequence. losslab's `Log::check_sequence` does both, so Kafka's
//! "duplicates are checked separately and should result in OutOfOrderSequence if appended" is a
//! `Duplicate` here. `AppendOrigin.REPLICATION` (no validation) is `Log::append`, which is what a
//! follower's `Replica::append_as_follower` calls. Offsets start at 0 in losslab; Kafka's are
//! shifted where the test starts elsewhere.

use crate::common::{cluster_led_by_1, V3_7};
use losslab_model::config::Acks;
use losslab_model::{KafkaVersion, MsgId};
use losslab_sim::broker::log::{Log, SequenceCheck, SequenceRules};
use losslab_sim::protocol::{Batch, KafkaError, ProducerStamp};

const PID: u64 = 1;

fn stamp(epoch: u32, base_sequence: u32) -> ProducerStamp {
    ProducerStamp { producer_id: PID, producer_epoch: epoch, base_sequence }
}

fn msgs(from: u64, n: u64) -> Vec<MsgId> {
    (from..from + n).map(|seq| MsgId { producer: 1, seq }).collect()
}

/// `append(stateManager, pid, epoch, seq, offset)` from a client: checked, then appended if in
/// sequence. Returns the check.
fn client_append(log: &mut Log, s: ProducerStamp, n: u64) -> SequenceCheck {
    let check = log.check_sequence(s, n as usize);
    if check == SequenceCheck::Append {
        replicate(log, s, n);
    }
    check
}

/// `AppendOrigin.REPLICATION`: appended without a check.
fn replicate(log: &mut Log, s: ProducerStamp, n: u64) {
    let base_offset = log.log_end_offset();
    log.append(Batch { base_offset, leader_epoch: 0, msgs: msgs(base_offset, n).into(), stamp: Some(s), txn: None });
}

/// Kafka: ProducerStateManagerTest.testBasicIdMapping (3.7.0, core/src/test/scala/unit/kafka/log/ProducerStateManagerTest.scala)
/// In-sequence appends, a duplicate, a gap, a new epoch from 0, and the old epoch fenced.
#[test]
fn test_basic_id_mapping() {
    let mut log = Log::default();
    assert_eq!(client_append(&mut log, stamp(0, 0), 1), SequenceCheck::Append);
    assert_eq!(client_append(&mut log, stamp(0, 1), 1), SequenceCheck::Append);
    // Kafka: the duplicate is answered by UnifiedLog before ProducerAppendInfo sees it.
    assert_eq!(client_append(&mut log, stamp(0, 1), 1), SequenceCheck::Duplicate(1));
    assert_eq!(client_append(&mut log, stamp(0, 5), 1), SequenceCheck::OutOfOrder);
    assert_eq!(client_append(&mut log, stamp(1, 0), 1), SequenceCheck::Append);
    assert_eq!(client_append(&mut log, stamp(0, 0), 1), SequenceCheck::FencedEpoch);
    assert_eq!(log.log_end_offset(), 3);
}

/// Kafka: ProducerStateManagerTest.testProducerSequenceWrapAround (3.7.0, core/src/test/scala/unit/kafka/log/ProducerStateManagerTest.scala)
/// After sequence Int.MaxValue comes 0.
#[test]
fn test_producer_sequence_wrap_around() {
    let mut log = Log::default();
    replicate(&mut log, stamp(15, i32::MAX as u32), 1);
    assert_eq!(client_append(&mut log, stamp(15, 0), 1), SequenceCheck::Append);
}

/// Kafka: ProducerStateManagerTest.testProducerSequenceInvalidWrapAround (3.7.0, core/src/test/scala/unit/kafka/log/ProducerStateManagerTest.scala)
/// After Int.MaxValue, 1 is a gap.
#[test]
fn test_producer_sequence_invalid_wrap_around() {
    let mut log = Log::default();
    replicate(&mut log, stamp(15, i32::MAX as u32), 1);
    assert_eq!(client_append(&mut log, stamp(15, 1), 1), SequenceCheck::OutOfOrder);
}

/// Kafka: ProducerStateManagerTest.testProducerSequenceWithWrapAroundBatchRecord (3.7.0, core/src/test/scala/unit/kafka/log/ProducerStateManagerTest.scala)
/// A batch of 21 records from Int.MaxValue - 10 ends at sequence 9 (Kafka's offsets 2000-2020
/// are 0-20 here): its retry is a duplicate and sequence 10 is next.
#[test]
fn test_producer_sequence_with_wrap_around_batch_record() {
    let mut log = Log::default();
    replicate(&mut log, stamp(15, i32::MAX as u32 - 10), 21);
    assert_eq!(log.check_sequence(stamp(15, i32::MAX as u32 - 10), 21), SequenceCheck::Duplicate(0));
    assert_eq!(log.check_sequence(stamp(15, 10), 1), SequenceCheck::Append);
    assert_eq!(log.check_sequence(stamp(15, 9), 1), SequenceCheck::OutOfOrder);
}

/// Kafka: ProducerStateManagerTest.testNoValidationOnFirstEntryWhenLoadingLog (3.7.0, core/src/test/scala/unit/kafka/log/ProducerStateManagerTest.scala)
/// A replicated first entry at sequence 16 is taken as it is; 17 follows it.
#[test]
fn test_no_validation_on_first_entry_when_loading_log() {
    let mut log = Log::default();
    replicate(&mut log, stamp(5, 16), 1);
    assert_eq!(log.check_sequence(stamp(5, 16), 1), SequenceCheck::Duplicate(0));
    assert_eq!(log.check_sequence(stamp(5, 17), 1), SequenceCheck::Append);
}

/// Kafka: ProducerStateManagerTest.testAcceptAppendWithSequenceGapsOnReplica (3.7.0, core/src/test/scala/unit/kafka/log/ProducerStateManagerTest.scala)
/// A client's gap is refused and leaves the state at sequence 0; a replica takes the same gap.
#[test]
fn test_accept_append_with_sequence_gaps_on_replica() {
    let mut log = Log::default();
    assert_eq!(client_append(&mut log, stamp(0, 0), 1), SequenceCheck::Append);
    assert_eq!(client_append(&mut log, stamp(0, 3), 1), SequenceCheck::OutOfOrder);
    assert_eq!(log.check_sequence(stamp(0, 1), 1), SequenceCheck::Append, "the last sequence is still 0");
    replicate(&mut log, stamp(0, 3), 1);
    assert_eq!(log.check_sequence(stamp(0, 4), 1), SequenceCheck::Append, "the last sequence is now 3");
}

/// Kafka: ProducerStateManagerTest.testStartOffset (2.4.0, core/src/test/scala/unit/kafka/log/ProducerStateManagerTest.scala)
/// Brokers 1.0-2.4: a producer whose batches are no longer in the log (Kafka: below the reloaded
/// start offset; here: truncated away) is unknown, and a non-zero sequence from it is
/// UNKNOWN_PRODUCER_ID; sequence 0 starts it again. From 2.5 any sequence is accepted; 0.11
/// answers OUT_OF_ORDER_SEQUENCE_NUMBER.
#[test]
fn test_start_offset() {
    let pid2 = ProducerStamp { producer_id: 2, producer_epoch: 0, base_sequence: 0 };
    let mut log = Log::default();
    replicate(&mut log, pid2, 1);
    log.truncate_to(0);
    let seq1 = ProducerStamp { base_sequence: 1, ..pid2 };
    let v2_4 = SequenceRules::of(KafkaVersion::new(2, 4));
    assert_eq!(log.check_sequence_with(seq1, 1, v2_4), SequenceCheck::UnknownProducerId);
    assert_eq!(log.check_sequence_with(pid2, 1, v2_4), SequenceCheck::Append);
    assert_eq!(log.check_sequence_with(seq1, 1, SequenceRules::of(KafkaVersion::new(2, 5))), SequenceCheck::Append);
    assert_eq!(
        log.check_sequence_with(seq1, 1, SequenceRules::of(KafkaVersion::new(0, 11))),
        SequenceCheck::OutOfOrder
    );
}

/// Kafka: UnifiedLogTest.testDuplicateAppends (3.7.0, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// Through the leader: a duplicate of the tail (single or multi-record) gets the original
/// offsets; a partial duplicate and a duplicate older than the last five batches are
/// OUT_OF_ORDER_SEQUENCE_NUMBER; the 4th batch from the tail is still a duplicate.
#[test]
fn test_duplicate_appends() {
    let mut c = cluster_led_by_1(V3_7, 1, &[1, 2, 3]);
    let s = |seq: u32| Some(ProducerStamp { producer_id: PID, producer_epoch: 0, base_sequence: seq });
    for seq in 0..6u64 {
        let a = c.produce_msgs(1, &msgs(100 + seq, 1), s(seq as u32), Acks::All).unwrap();
        assert_eq!(a.base_offset, seq);
    }
    let multi = msgs(200, 3);
    let first = c.produce_msgs(1, &multi, s(6), Acks::All).unwrap();
    assert_eq!((first.base_offset, first.end_offset, first.duplicate), (6, 9, false));
    let again = c.produce_msgs(1, &multi, s(6), Acks::All).unwrap();
    assert_eq!((again.base_offset, again.end_offset, again.duplicate), (6, 9, true));
    assert_eq!(c.produce_msgs(1, &msgs(300, 2), s(7), Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    let fourth = c.produce_msgs(1, &msgs(102, 1), s(2), Acks::All).unwrap();
    assert_eq!((fourth.base_offset, fourth.duplicate), (2, true));
    assert_eq!(c.produce_msgs(1, &msgs(101, 1), s(1), Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    let tail = c.produce_msgs(1, &msgs(400, 1), s(9), Acks::All).unwrap();
    let dup = c.produce_msgs(1, &msgs(400, 1), s(9), Acks::All).unwrap();
    assert_eq!((tail.base_offset, dup.base_offset, dup.duplicate), (9, 9, true));
    assert_eq!(c.leo(1), 10);
}

/// Kafka: UnifiedLogTest.testOldProducerEpoch (3.7.0, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// An append from an epoch older than the log's is INVALID_PRODUCER_EPOCH.
#[test]
fn test_old_producer_epoch() {
    let mut c = cluster_led_by_1(V3_7, 1, &[1, 2, 3]);
    c.produce_msgs(1, &msgs(0, 1), Some(stamp(1, 0)), Acks::All).unwrap();
    assert_eq!(c.produce_msgs(1, &msgs(1, 1), Some(stamp(0, 0)), Acks::All), Err(KafkaError::InvalidProducerEpoch));
}

/// Kafka: UnifiedLogTest.testDuplicateAppendToFollower (3.7.0, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// A follower does not validate: the same sequences at new offsets are appended.
#[test]
fn test_duplicate_append_to_follower() {
    let mut log = Log::default();
    replicate(&mut log, stamp(0, 0), 2);
    replicate(&mut log, stamp(0, 0), 2);
    assert_eq!(log.log_end_offset(), 4);
}
