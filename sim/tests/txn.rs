//! Transactions through the cluster (issue 16). So far: the final state's view of a log with
//! transactions (`txn_index::committed_view`), which the checker reads as "stored": markers are
//! never records, a transaction's records count only once its COMMIT marker is below the high
//! watermark, aborted and open ones are `uncommitted`.

use losslab_model::MsgId;
use losslab_sim::broker::txn_index::committed_view;
use losslab_sim::protocol::{Batch, ProducerStamp, TxnBatch};

fn m(producer: u32, seq: u64) -> MsgId {
    MsgId { producer, seq }
}

fn batch(base_offset: u64, msgs: Vec<MsgId>, pid: Option<u64>, txn: Option<TxnBatch>) -> Batch {
    let stamp = pid.map(|producer_id| ProducerStamp { producer_id, producer_epoch: 0, base_sequence: 0 });
    Batch { base_offset, leader_epoch: 0, msgs, stamp, txn }
}

fn marker(offset: u64, pid: u64, commit: bool) -> Batch {
    batch(offset, vec![m(0, offset)], Some(pid), Some(TxnBatch::Marker { commit, coordinator_epoch: 0 }))
}

#[test]
fn a_log_without_transactions_is_unchanged_and_dense() {
    let batches = vec![batch(0, vec![m(1, 0), m(1, 1)], None, None), batch(2, vec![m(1, 2)], Some(7), None)];
    assert_eq!(committed_view(&batches, 3), (vec![m(1, 0), m(1, 1), m(1, 2)], vec![], vec![]));
    assert_eq!(committed_view(&batches, 1), (vec![m(1, 0)], vec![], vec![]));
}

#[test]
fn committed_records_count_aborted_and_open_ones_are_uncommitted_markers_are_neither() {
    let data = Some(TxnBatch::Data);
    let batches = vec![
        batch(0, vec![m(1, 0), m(1, 1)], Some(10), data),
        batch(2, vec![m(2, 0)], Some(20), data),
        batch(3, vec![m(3, 0)], None, None),
        marker(4, 10, true),
        marker(5, 20, false),
        batch(6, vec![m(1, 2)], Some(10), data),
    ];
    let (log, offsets, uncommitted) = committed_view(&batches, 7);
    assert_eq!(log, vec![m(1, 0), m(1, 1), m(3, 0)]);
    assert_eq!(offsets, vec![0, 1, 3]);
    assert_eq!(uncommitted, vec![m(2, 0), m(1, 2)]);
}

#[test]
fn a_commit_marker_at_or_above_the_high_watermark_does_not_commit() {
    let batches = vec![batch(0, vec![m(1, 0)], Some(10), Some(TxnBatch::Data)), marker(1, 10, true)];
    assert_eq!(committed_view(&batches, 1), (vec![], vec![], vec![m(1, 0)]));
    assert_eq!(committed_view(&batches, 2), (vec![m(1, 0)], vec![], vec![]));
}
