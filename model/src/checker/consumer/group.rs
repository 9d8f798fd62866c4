//! The consumer group's own events, gathered in one pass over a history (only when there is a
//! finding to explain): resumes, processing reach, removals, failed commits, assignments, loads
//! and detected truncations, each listed in history order so that explanations can find the one
//! before or after an event by bisection.

use crate::checker::index::Index;
use crate::history::EventKind;
use std::collections::BTreeMap;

/// The group's own events, by partition and by consumer, in history order.
#[derive(Default)]
pub(super) struct Group {
    /// `Resumed` events per partition.
    resumed: BTreeMap<u32, Vec<u32>>,
    /// `Processed` events per (consumer, partition), with the highest offset processed so far.
    processed: BTreeMap<(u32, u32), (Vec<u32>, Vec<u64>)>,
    /// `MemberRemoved` and `LeftGroup` per consumer.
    removed: BTreeMap<u32, Vec<u32>>,
    /// `CommitFailed` per consumer.
    failed: BTreeMap<u32, Vec<u32>>,
    /// `Assigned` per consumer.
    assigned: BTreeMap<u32, Vec<u32>>,
    /// `GroupLoaded` events.
    pub(super) loads: Vec<u32>,
    /// `TruncationDetected` per partition (KIP-320 on the client, 2.3+).
    truncations: BTreeMap<u32, Vec<u32>>,
}

impl Group {
    pub(super) fn build(ix: &Index) -> Group {
        let mut g = Group::default();
        for (i, event) in ix.history.events.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            match &event.kind {
                EventKind::Resumed(r) => g.resumed.entry(r.partition).or_default().push(i),
                EventKind::Processed { consumer, partition, offset, .. } => {
                    let (events, reach) = g.processed.entry((*consumer, *partition)).or_default();
                    let r = reach.last().map_or(*offset, |&r: &u64| r.max(*offset));
                    events.push(i);
                    reach.push(r);
                }
                EventKind::MemberRemoved { consumer, .. } | EventKind::LeftGroup { consumer, .. } => {
                    g.removed.entry(*consumer).or_default().push(i)
                }
                EventKind::CommitFailed { consumer, .. } => g.failed.entry(*consumer).or_default().push(i),
                EventKind::Assigned { consumer, .. } => g.assigned.entry(*consumer).or_default().push(i),
                EventKind::GroupLoaded { .. } => g.loads.push(i),
                EventKind::TruncationDetected { partition, .. } => g.truncations.entry(*partition).or_default().push(i),
                _ => {}
            }
        }
        g
    }

    pub(super) fn resumed(&self, partition: u32) -> &[u32] {
        self.resumed.get(&partition).map_or(&[], Vec::as_slice)
    }

    pub(super) fn removed(&self, consumer: u32) -> &[u32] {
        self.removed.get(&consumer).map_or(&[], Vec::as_slice)
    }

    pub(super) fn failed(&self, consumer: u32) -> &[u32] {
        self.failed.get(&consumer).map_or(&[], Vec::as_slice)
    }

    pub(super) fn assigned(&self, consumer: u32) -> &[u32] {
        self.assigned.get(&consumer).map_or(&[], Vec::as_slice)
    }

    /// The first truncation a consumer detected on `partition` after event `since` whose
    /// position was past `offset` and whose divergence point is at or below it: the detection
    /// that moved the consumer back over the record (or, without a reset policy, killed it).
    pub(super) fn truncation_over(&self, ix: &Index, partition: u32, offset: u64, since: u32) -> Option<u32> {
        let events = self.truncations.get(&partition)?;
        events[events.partition_point(|&e| e <= since)..].iter().copied().find(|&e| {
            matches!(&ix.event(e).kind, EventKind::TruncationDetected { position, end_offset, .. }
                if *position > offset && end_offset.is_none_or(|end| end <= offset))
        })
    }

    /// The highest offset of `partition` that `consumer` had processed before event `at`.
    pub(super) fn processed_up_to(&self, consumer: u32, partition: u32, at: u32) -> Option<u64> {
        let (events, reach) = self.processed.get(&(consumer, partition))?;
        let i = events.partition_point(|&e| e < at);
        i.checked_sub(1).map(|i| reach[i])
    }
}
