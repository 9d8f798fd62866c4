//! The read_committed cases of Kafka's `FetcherTest` and `CompletedFetchTest` (3.9.0-rc3,
//! clients/src/test/java/org/apache/kafka/clients/consumer/internals/) and
//! `UnifiedLogTest.testFetchUpToLastStableOffset` (3.9.0-rc3, core/src/test/scala/unit/kafka/log/
//! UnifiedLogTest.scala), against `client::consumer::isolation::returned_records` over batches
//! a real `Log` holds, read as `Replica::fetch_committed_for_consumer` reads them
//! (`Log::read_below` the last stable offset, `TxnIndex::aborted_txns`).

use losslab_model::MsgId;
use losslab_sim::broker::log::Log;
use losslab_sim::client::consumer::isolation::returned_records;
use losslab_sim::protocol::{Batch, ProducerStamp, TxnBatch, CONTROL_PRODUCER};

fn msg(pid: u64, seq: u64) -> MsgId {
    MsgId { producer: pid as u32, seq }
}

fn append(log: &mut Log, pid: u64, n: u64, txn: Option<TxnBatch>) {
    let base = log.log_end_offset();
    let msgs = if matches!(txn, Some(TxnBatch::Marker { .. })) {
        vec![MsgId { producer: CONTROL_PRODUCER, seq: base }]
    } else {
        (0..n).map(|i| msg(pid, base + i)).collect()
    };
    let stamp = Some(ProducerStamp { producer_id: pid, producer_epoch: 0, base_sequence: 0 });
    log.append(Batch { base_offset: base, leader_epoch: 0, msgs: msgs.into(), stamp, txn });
}

const DATA: Option<TxnBatch> = Some(TxnBatch::Data);
const COMMIT: Option<TxnBatch> = Some(TxnBatch::Marker { commit: true, coordinator_epoch: 0 });
const ABORT: Option<TxnBatch> = Some(TxnBatch::Marker { commit: false, coordinator_epoch: 0 });

fn committed_read(log: &Log, from: u64, hw: u64) -> (Vec<u64>, u64) {
    let lso = log.txns().last_stable_offset(hw);
    let batches = log.read_below(from, 1000, lso);
    let upper = batches.last().map_or(from, Batch::end_offset);
    let aborted = log.txns().aborted_txns(from, upper);
    let (records, position) = returned_records(&batches, &aborted, true);
    (records.into_iter().map(|(o, _)| o).collect(), position)
}

/// Kafka: FetcherTest.testReadCommittedWithCommittedAndAbortedTransactions (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/consumer/internals/FetcherTest.java)
/// Only committed records come back; the position moves past aborted batches and markers.
#[test]
fn test_read_committed_with_committed_and_aborted_transactions() {
    let mut log = Log::default();
    append(&mut log, 1, 2, DATA); // 0-1 pid 1 aborted
    append(&mut log, 2, 2, DATA); // 2-3 pid 2 committed
    append(&mut log, 1, 1, ABORT); // 4
    append(&mut log, 2, 1, COMMIT); // 5
    append(&mut log, 3, 1, None); // 6 plain
    let (offsets, position) = committed_read(&log, 0, 7);
    assert_eq!(offsets, vec![2, 3, 6]);
    assert_eq!(position, 7);
}

/// Kafka: FetcherTest.testMultipleAbortMarkers (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/consumer/internals/FetcherTest.java)
/// A second ABORT marker of the same producer id with nothing between is harmless.
#[test]
fn test_multiple_abort_markers() {
    let mut log = Log::default();
    append(&mut log, 1, 2, DATA);
    append(&mut log, 1, 1, ABORT);
    append(&mut log, 1, 1, ABORT);
    append(&mut log, 1, 1, DATA);
    append(&mut log, 1, 1, COMMIT);
    assert_eq!(committed_read(&log, 0, 6), (vec![4], 6));
}

/// Kafka: FetcherTest.testReadCommittedAbortMarkerWithNoData (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/consumer/internals/FetcherTest.java)
#[test]
fn test_read_committed_abort_marker_with_no_data() {
    let mut log = Log::default();
    append(&mut log, 1, 1, ABORT);
    append(&mut log, 1, 2, DATA);
    append(&mut log, 1, 1, COMMIT);
    assert_eq!(committed_read(&log, 0, 4), (vec![1, 2], 4));
}

/// Kafka: FetcherTest.testReturnAbortedTransactionsInUncommittedMode (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/consumer/internals/FetcherTest.java)
/// read_uncommitted returns aborted records too, never markers.
#[test]
fn test_return_aborted_transactions_in_uncommitted_mode() {
    let mut log = Log::default();
    append(&mut log, 1, 2, DATA);
    append(&mut log, 1, 1, ABORT);
    let batches = log.read_below(0, 1000, 3);
    let (records, position) = returned_records(&batches, &[], false);
    assert_eq!(records, vec![(0, msg(1, 0)), (1, msg(1, 1))]);
    assert_eq!(position, 3);
}

/// Kafka: UnifiedLogTest.testFetchUpToLastStableOffset (3.9.0-rc3, core/src/test/scala/unit/kafka/log/UnifiedLogTest.scala)
/// A read_committed fetch stops at the LSO: an open transaction hides everything after it,
/// other producers' data included, until its marker is below the high watermark.
#[test]
fn test_fetch_up_to_last_stable_offset() {
    let mut log = Log::default();
    append(&mut log, 1, 2, DATA); // 0-1 open
    append(&mut log, 2, 2, None); // 2-3 plain
    assert_eq!(committed_read(&log, 0, 4), (vec![], 0));
    append(&mut log, 1, 1, COMMIT); // 4
    assert_eq!(committed_read(&log, 0, 4).0, Vec::<u64>::new(), "marker above the HW");
    assert_eq!(committed_read(&log, 0, 5), (vec![0, 1, 2, 3], 5));
}

/// Kafka: CompletedFetchTest.testAbortedTransactionRecordsRemoved (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/consumer/internals/CompletedFetchTest.java)
/// and FetcherTest.testConsumerPositionUpdatedWhenSkippingAbortedTransactions.
#[test]
fn test_aborted_transaction_records_removed() {
    let mut log = Log::default();
    append(&mut log, 1, 3, DATA);
    append(&mut log, 1, 1, ABORT);
    assert_eq!(committed_read(&log, 0, 4), (vec![], 4));
}
