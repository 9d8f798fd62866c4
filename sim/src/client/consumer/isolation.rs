//! What a consumer returns from fetched batches under its `isolation.level`: Kafka's
//! `CompletedFetch` record filtering (3.9.0-rc3, `clients/.../consumer/internals/CompletedFetch.java`
//! l. 186-243, 355-390; the same logic in `Fetcher.PartitionRecords` since 0.11). Control
//! records (transaction markers) are never returned. Under `read_committed` the broker answered
//! only up to the last stable offset and sent the aborted transactions overlapping the range;
//! a batch of a producer id whose aborted transaction has begun (its first offset at or before
//! the batch's last offset) is skipped until that producer id's ABORT marker. The position moves
//! past everything skipped. A pure function, so the rules can be tested without a simulator.

use crate::protocol::{AbortedTxn, Batch, TxnBatch};
use losslab_model::MsgId;
use std::collections::BTreeSet;

/// The records to return, with their offsets, and the position after the batches.
pub fn returned_records(batches: &[Batch], aborted: &[AbortedTxn], read_committed: bool) -> (Vec<(u64, MsgId)>, u64) {
    let mut pending: Vec<AbortedTxn> = aborted.to_vec();
    pending.sort_by_key(|a| (a.first_offset, a.producer_id));
    let mut pending = pending.into_iter().peekable();
    let mut aborted_pids: BTreeSet<u64> = BTreeSet::new();
    let mut out = Vec::new();
    let mut position = batches.first().map_or(0, |b| b.base_offset);
    for batch in batches {
        position = batch.end_offset();
        if read_committed {
            if let Some(stamp) = batch.stamp {
                let last_offset = batch.end_offset() - 1;
                while let Some(a) = pending.next_if(|a| a.first_offset <= last_offset) {
                    aborted_pids.insert(a.producer_id);
                }
                match batch.txn {
                    Some(TxnBatch::Marker { commit: false, .. }) => {
                        aborted_pids.remove(&stamp.producer_id);
                    }
                    Some(TxnBatch::Data) if aborted_pids.contains(&stamp.producer_id) => continue,
                    _ => {}
                }
            }
        }
        if batch.is_marker() {
            continue;
        }
        out.extend(batch.msgs.iter().enumerate().map(|(i, &m)| (batch.base_offset + i as u64, m)));
    }
    (out, position)
}
