//! The transactional cases of Kafka's `ProducerStateManagerTest` (3.9.0-rc3,
//! storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
//! and `UnifiedLogTest` (3.9.0-rc3, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
//! against `broker::log` and `broker::txn_index`: markers, the epochs they move, open
//! transactions, the last stable offset and the aborted-transaction index. Kafka appends with
//! an origin (CLIENT checks, COORDINATOR skips the sequence check, REPLICATION checks nothing);
//! here a client append goes through `Replica::append_txn_as_leader`'s checks
//! (`check_sequence`, `check_txn_data`, `check_marker`) and `Log::append` is REPLICATION.

use losslab_model::MsgId;
use losslab_sim::broker::log::{Log, SequenceCheck};
use losslab_sim::broker::txn_index::AbortedTxn;
use losslab_sim::protocol::{Batch, KafkaError, ProducerStamp, TxnBatch, CONTROL_PRODUCER};

fn stamp(pid: u64, epoch: u32, seq: u32) -> ProducerStamp {
    ProducerStamp { producer_id: pid, producer_epoch: epoch, base_sequence: seq }
}

/// A client's transactional (or plain) data batch of `n` records: checked, then appended.
fn data(log: &mut Log, pid: u64, epoch: u32, seq: u32, n: u64, transactional: bool) -> Result<u64, KafkaError> {
    let s = stamp(pid, epoch, seq);
    match log.check_sequence(s, n as usize) {
        SequenceCheck::Append => {}
        SequenceCheck::FencedEpoch => return Err(KafkaError::InvalidProducerEpoch),
        SequenceCheck::OutOfOrder => return Err(KafkaError::OutOfOrderSequenceNumber),
        other => panic!("{other:?}"),
    }
    log.check_txn_data(pid, transactional)?;
    let base = log.log_end_offset();
    let msgs = (0..n).map(|i| MsgId { producer: pid as u32, seq: base + i }).collect();
    log.append(Batch {
        base_offset: base,
        leader_epoch: 0,
        msgs,
        stamp: Some(s),
        txn: transactional.then_some(TxnBatch::Data),
    });
    Ok(base)
}

/// A coordinator's marker (`AppendOrigin.COORDINATOR`).
fn marker(log: &mut Log, pid: u64, epoch: u32, commit: bool, coordinator_epoch: u32) -> Result<u64, KafkaError> {
    log.check_marker(pid, epoch, coordinator_epoch)?;
    let base = log.log_end_offset();
    let msgs = vec![MsgId { producer: CONTROL_PRODUCER, seq: base }];
    let txn = Some(TxnBatch::Marker { commit, coordinator_epoch });
    log.append(Batch { base_offset: base, leader_epoch: 0, msgs: msgs.into(), stamp: Some(stamp(pid, epoch, 0)), txn });
    Ok(base)
}

/// Kafka: ProducerStateManagerTest.testControlRecordBumpsProducerEpoch (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// and testOutOfSequenceAfterControlRecordEpochBump: a marker with a higher epoch moves the
/// entry's epoch; the next data must start at sequence 0, and the old epoch is fenced.
#[test]
fn test_control_record_bumps_producer_epoch() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 1, true).unwrap();
    marker(&mut log, 1, 1, false, 1).unwrap();
    assert_eq!(log.producer_epoch(1), Some(1));
    assert_eq!(data(&mut log, 1, 1, 1, 1, true), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(data(&mut log, 1, 0, 1, 1, true), Err(KafkaError::InvalidProducerEpoch));
    assert_eq!(data(&mut log, 1, 1, 0, 1, true), Ok(2));
}

/// Kafka: ProducerStateManagerTest.testNonTransactionalAppendWithOngoingTransaction (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
#[test]
fn test_non_transactional_append_with_ongoing_transaction() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 1, true).unwrap();
    assert_eq!(data(&mut log, 1, 0, 1, 1, false), Err(KafkaError::InvalidTxnState));
}

/// Kafka: ProducerStateManagerTest.testProducerStateAfterFencingAbortMarker (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// The fencing ABORT (epoch+1) closes the transaction and keeps the fence.
#[test]
fn test_producer_state_after_fencing_abort_marker() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 1, true).unwrap();
    marker(&mut log, 1, 1, false, 0).unwrap();
    assert_eq!(log.txns().open_txn(1), None);
    assert_eq!(log.producer_epoch(1), Some(1));
    assert_eq!(data(&mut log, 1, 0, 1, 1, true), Err(KafkaError::InvalidProducerEpoch));
}

/// Kafka: ProducerStateManagerTest.testFirstUnstableOffset (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// and UnifiedLogTest.testFetchUpToLastStableOffset: the first unstable offset follows open
/// transactions, then completed ones whose marker the high watermark does not cover yet.
#[test]
fn test_first_unstable_offset() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 2, true).unwrap(); // 0-1
    data(&mut log, 2, 0, 0, 1, true).unwrap(); // 2
    assert_eq!(log.txns().first_unstable_offset(3), Some(0));
    let m = marker(&mut log, 1, 0, true, 0).unwrap(); // 3
    assert_eq!(log.txns().first_unstable_offset(3), Some(0), "marker not yet below the HW");
    assert_eq!(log.txns().last_stable_offset(3), 0);
    assert_eq!(log.txns().first_unstable_offset(m + 1), Some(2));
    marker(&mut log, 2, 0, false, 0).unwrap(); // 4
    assert_eq!(log.txns().first_unstable_offset(5), None);
    assert_eq!(log.txns().last_stable_offset(5), 5);
}

/// Kafka: ProducerStateManagerTest.testOldEpochForControlRecord (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// and UnifiedLogTest.testEndTxnWithFencedProducerEpoch.
#[test]
fn test_old_epoch_for_control_record() {
    let mut log = Log::default();
    data(&mut log, 1, 3, 0, 1, true).unwrap();
    assert_eq!(marker(&mut log, 1, 1, true, 0), Err(KafkaError::InvalidProducerEpoch));
}

/// Kafka: ProducerStateManagerTest.testCoordinatorFencing (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// and UnifiedLogTest.testZombieCoordinatorFenced.
#[test]
fn test_coordinator_fencing() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 1, true).unwrap();
    marker(&mut log, 1, 0, true, 3).unwrap();
    data(&mut log, 1, 0, 1, 1, true).unwrap();
    assert_eq!(marker(&mut log, 1, 0, true, 2), Err(KafkaError::TransactionCoordinatorFenced));
}

/// Kafka: ProducerStateManagerTest.testAppendTxnMarkerWithNoProducerState (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// A marker for an unknown producer id is accepted and creates its entry (a marker that closes nothing).
#[test]
fn test_append_txn_marker_with_no_producer_state() {
    let mut log = Log::default();
    marker(&mut log, 9, 2, true, 1).unwrap();
    assert_eq!(log.producer_epoch(9), Some(2));
    assert_eq!(log.txns().first_unstable_offset(1), None);
}

/// Kafka: ProducerStateManagerTest.testLastStableOffsetCompletedTxn (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// and UnifiedLogTest.testTransactionIndexUpdated: an aborted transaction is indexed with the LSO
/// at its marker (the oldest other open transaction, else marker + 1); a committed one is not.
#[test]
fn test_transaction_index_updated() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 1, true).unwrap(); // 0
    data(&mut log, 2, 0, 0, 1, true).unwrap(); // 1
    marker(&mut log, 1, 0, false, 0).unwrap(); // 2: LSO 1 (pid 2 still open)
    marker(&mut log, 2, 0, true, 0).unwrap(); // 3: committed, not indexed
    data(&mut log, 1, 0, 1, 1, true).unwrap(); // 4
    marker(&mut log, 1, 0, false, 0).unwrap(); // 5: LSO 6
    assert_eq!(
        log.txns().all_aborted(),
        &[
            AbortedTxn { producer_id: 1, first_offset: 0, last_offset: 2, last_stable_offset: 1 },
            AbortedTxn { producer_id: 1, first_offset: 4, last_offset: 5, last_stable_offset: 6 },
        ]
    );
    assert_eq!(log.txns().aborted_txns(3, 6).len(), 1, "only the one overlapping [3, 6)");
}

/// Kafka: UnifiedLogTest.testLastStableOffsetWithMixedProducerData (3.9.0-rc3, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// One open transaction holds the LSO over other producers' data, transactional or not.
#[test]
fn test_last_stable_offset_with_mixed_producer_data() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 1, true).unwrap();
    data(&mut log, 2, 0, 0, 3, false).unwrap();
    assert_eq!(log.txns().last_stable_offset(4), 0);
    marker(&mut log, 1, 0, true, 0).unwrap();
    assert_eq!(log.txns().last_stable_offset(5), 5);
}

/// Kafka: UnifiedLogTest.testTruncateBelowFirstUnstableOffset (3.9.0-rc3, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// Truncation rebuilds the state: a marker cut away reopens its transaction; a transaction cut
/// away entirely is gone.
#[test]
fn test_truncate_below_first_unstable_offset() {
    let mut log = Log::default();
    data(&mut log, 1, 0, 0, 2, true).unwrap();
    marker(&mut log, 1, 0, true, 0).unwrap();
    log.truncate_to(2);
    assert_eq!(log.txns().open_txn(1), Some(0), "the marker went: a hanging transaction");
    log.truncate_to(0);
    assert_eq!(log.txns().open_txn(1), None);
    assert_eq!(log.txns().last_stable_offset(0), 0);
}

/// Research 5.5 (a late duplicate marker, all versions to 4.1): a marker with the partition's
/// current epoch closes whatever transaction that producer id has open.
#[test]
fn late_duplicate_marker_closes_the_next_transaction() {
    let mut log = Log::default();
    data(&mut log, 1, 1, 0, 1, true).unwrap();
    marker(&mut log, 1, 1, true, 0).unwrap();
    data(&mut log, 1, 1, 1, 1, true).unwrap();
    marker(&mut log, 1, 1, true, 0).unwrap();
    assert_eq!(log.txns().open_txn(1), None, "T2 committed by T1's duplicate marker");
}

/// Kafka: UnifiedLogTest.testTransactionIsOngoingAndVerificationGuard (3.9.0-rc3, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// The guard: created when no transaction is open, verifies only itself, cleared by the first
/// transactional append (then no verification is needed: SENTINEL), a new one after the marker.
#[test]
fn test_transaction_is_ongoing_and_verification_guard() {
    use losslab_sim::broker::txn_index::Verifications;
    let mut log = Log::default();
    let mut v = Verifications::default();
    let guard = v.start(log.txns(), 1, 0, 5);
    assert!(guard.is_some());
    assert_eq!(v.start(log.txns(), 1, 0, 5), guard, "the same entry while verifying");
    assert_eq!(v.check_append(log.txns(), 1, 0, Some(guard.unwrap() + 1)), Err(KafkaError::InvalidTxnState));
    assert_eq!(v.check_append(log.txns(), 1, 0, guard), Ok(()));
    data(&mut log, 1, 5, 0, 1, true).unwrap();
    v.clear(1);
    assert_eq!(v.start(log.txns(), 1, 1, 5), None, "a transaction is open: SENTINEL");
    marker(&mut log, 1, 5, true, 0).unwrap();
    let next = v.start(log.txns(), 1, 1, 5);
    assert!(next.is_some() && next != guard, "a new guard after the marker");
    assert_eq!(v.check_append(log.txns(), 1, 1, guard), Err(KafkaError::InvalidTxnState), "a stale guard");
}

/// Kafka: ProducerStateManagerTest.testThrowOutOfOrderSequenceWithVerificationSequenceCheck (3.9.0-rc3, storage/src/test/java/org/apache/kafka/storage/internals/log/ProducerStateManagerTest.java)
/// KAFKA-14920: while verifying, a batch above the lowest sequence seen is OUT_OF_ORDER_SEQUENCE.
#[test]
fn test_throw_out_of_order_sequence_with_verification_sequence_check() {
    use losslab_sim::broker::txn_index::Verifications;
    let log = Log::default();
    let mut v = Verifications::default();
    let guard = v.start(log.txns(), 1, 1, 0);
    assert_eq!(v.start(log.txns(), 1, 0, 0), guard);
    assert_eq!(v.entry(1).unwrap().lowest_sequence, 0);
    assert_eq!(v.check_append(log.txns(), 1, 1, guard), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(v.check_append(log.txns(), 1, 0, guard), Ok(()));
}
