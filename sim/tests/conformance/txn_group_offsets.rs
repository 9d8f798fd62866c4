//! The transactional-offset cases of Kafka's `GroupCoordinatorTest` and `GroupMetadataManagerTest`
//! (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/group/) against
//! `broker::coordinator::txn_offsets::TxnOffsets`. Kafka's tests go through the whole coordinator
//! with a mocked log; here the pending-offset rules are tested alone.

use losslab_sim::broker::coordinator::txn_offsets::{PendingOffset, TxnOffsets};

const PID: u64 = 1000;

fn po(offset: u64, log_offset: u64) -> PendingOffset {
    PendingOffset { offset, log_offset }
}

/// Kafka: GroupCoordinatorTest.testFetchPendingTxnOffsetsWithAbort (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/group/GroupCoordinatorTest.scala)
/// Pending offsets are not committed; the ABORT marker drops them.
#[test]
fn test_fetch_pending_txn_offsets_with_abort() {
    let mut t = TxnOffsets::default();
    t.prepare(PID, &[(0, po(25, 10))]);
    assert!(t.has_pending(0));
    assert_eq!(t.complete(PID, false, |_| None), vec![]);
    assert!(!t.has_pending(0));
}

/// Kafka: GroupCoordinatorTest.testFetchPendingTxnOffsetsWithCommit (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/group/GroupCoordinatorTest.scala)
/// The COMMIT marker materialises them.
#[test]
fn test_fetch_pending_txn_offsets_with_commit() {
    let mut t = TxnOffsets::default();
    t.prepare(PID, &[(0, po(25, 10))]);
    assert_eq!(t.complete(PID, true, |_| None), vec![(0, 25)]);
    assert!(!t.has_pending(0));
}

/// Kafka: GroupMetadataManagerTest.testGroupLoadWithConsumerAndTransactionalOffsetCommitsTransactionWins (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/group/GroupMetadataManagerTest.scala)
/// and GroupMetadataTest's olderThan rule: the later record in the log wins.
#[test]
fn test_transactional_offset_wins_if_later_in_the_log() {
    let mut t = TxnOffsets::default();
    t.prepare(PID, &[(0, po(25, 10)), (1, po(7, 10))]);
    assert_eq!(t.complete(PID, true, |p| if p == 0 { Some(5) } else { Some(12) }), vec![(0, 25)]);
}

/// Research 4.1: pending offsets are keyed by producer id only: any later marker of that
/// producer id decides them, whichever transaction wrote them (the root of anomaly E).
#[test]
fn pending_offsets_are_decided_by_the_next_marker_of_the_producer_id() {
    let mut t = TxnOffsets::default();
    t.prepare(PID, &[(0, po(25, 10))]);
    t.prepare(PID + 1, &[(1, po(3, 11))]);
    assert_eq!(t.complete(PID + 1, true, |_| None), vec![(1, 3)]);
    assert!(t.has_pending(0));
    t.fail(PID, &[0]);
    assert!(!t.has_pending(0));
}
