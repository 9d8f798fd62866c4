//! Records the consumer group processed that the final logs no longer hold (`consumed_lost`).
//! A consumer reads only below its leader's high watermark, so such a record had reached every
//! in-sync replica: it was committed in Kafka's sense, and still went away. Kafka's promise
//! ("a committed message will not be lost, as long as at least one in-sync replica remains
//! alive", design docs, 'Replication') does not cover what took it: an unclean election, a
//! power loss without fsync on every replica that had it, a wiped disk, a truncation to a high
//! watermark before KIP-101. And "every in-sync replica" can be one broker: before 3.7 the
//! high watermark advanced even with the ISR below `min.insync.replicas` (KAFKA-15583). What
//! the app did with the record downstream cannot be undone, which is why this class matters
//! beyond the loss class it overlaps.
//!
//! The story is the processing, then the same account of how the record went away that the
//! loss classes give (who appended it, what removed it, the elections that led there).

use super::explain::{self, not_in_final_log, parens, settings, Story};
use super::index::{last_before, Index};
use super::loss;
use crate::finding::{Finding, FindingClass};
use crate::history::{EventKind, MsgId};

/// The settings that decide whether a record below the high watermark can still be lost.
const COMMITTED_SETTINGS: &[&str] = &["unclean.leader.election.enable"];

/// Processed by the group, and in no final log.
pub(super) fn consumed_lost(ix: &Index) -> Vec<Finding> {
    // A transactional record held behind an ABORT marker (or in a transaction never closed) was
    // never a committed record: a read_uncommitted consumer that processed it made an
    // `aborted_read`, not a loss. (A committed transaction whose COMMIT marker is missing from
    // the final log is `lost_acked` / `torn_transaction`.)
    let uncommitted: std::collections::BTreeSet<MsgId> =
        ix.final_state.partitions.iter().flat_map(|p| p.uncommitted.iter().copied()).collect();
    ix.msgs
        .iter()
        .filter(|(_, facts)| facts.final_copies == 0)
        .filter(|(msg, _)| !uncommitted.contains(msg))
        .filter_map(|(msg, facts)| {
            let processings: Vec<u32> = ix.processings(facts).collect();
            let &first = processings.first()?;
            let EventKind::Processed { consumer, partition, offset, .. } = ix.event(first).kind else {
                return None;
            };
            let more = match processings.len() {
                1 => String::new(),
                n => format!(" (and {} more time{})", n - 1, if n == 2 { "" } else { "s" }),
            };
            let head = format!(
                "{msg} was processed by c{consumer} at {} (offset {offset} of partition {partition}){more}, \
                and it is not in the final log{}",
                ix.time(first),
                parens(&settings(ix, COMMITTED_SETTINGS))
            );
            let mut story = Story::default();
            let isr = match isr_at(ix, partition, first) {
                Some(isr) => format!(" (the ISR was {})", explain::broker_list(&isr)),
                None => String::new(),
            };
            story.tell(
                first,
                format!(
                    "A consumer reads only below the high watermark, so when c{consumer} read it at {} \
                    every in-sync replica of partition {partition} had it{isr}",
                    ix.time(first)
                ),
            );
            loss::tell_fate(ix, facts, &mut story);
            let explanation = story.render(&head, &not_in_final_log(ix, msg, facts));
            Some(Finding {
                class: FindingClass::ConsumedLost,
                message: Some(msg),
                partition: Some(partition),
                explanation,
            })
        })
        .collect()
}

/// The ISR the controller last recorded for `partition` before event `at`.
fn isr_at(ix: &Index, partition: u32, at: u32) -> Option<Vec<u32>> {
    let change = last_before(ix.partition_changes(partition), at);
    let election = last_before(ix.elections(partition), at);
    match ix.event(change.max(election)?).kind {
        EventKind::PartitionChange(ref c) => Some(c.isr.clone()),
        EventKind::Election { ref isr, .. } => Some(isr.clone()),
        _ => None,
    }
}
