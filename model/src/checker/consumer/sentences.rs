//! The sentences the group's explanations are made of ("c1 polled offsets 0..8 of partition 0
//! at 0.100 s, which included it"), and the small lookups they need on the group's events.

use super::group::Group;
use crate::checker::index::Index;
use crate::history::{self, EventKind, NodeName};

pub(super) fn processed_at(ix: &Index, event: u32) -> Option<(u32, u64)> {
    match ix.event(event).kind {
        EventKind::Processed { partition, offset, .. } => Some((partition, offset)),
        _ => None,
    }
}

pub(super) fn consumer_of(ix: &Index, poll: u32) -> Option<NodeName> {
    match ix.event(poll).kind {
        EventKind::Polled { consumer, .. } => Some(NodeName::Consumer(consumer)),
        _ => None,
    }
}

pub(super) fn committed_offset(ix: &Index, commit: u32) -> Option<u64> {
    match ix.event(commit).kind {
        EventKind::Committed { offset, .. } => Some(offset),
        _ => None,
    }
}

pub(super) fn resumed_offset(ix: &Index, event: u32) -> Option<u64> {
    match ix.event(event).kind {
        EventKind::Resumed(ref r) => r.offset,
        _ => None,
    }
}

pub(super) fn is_reset(ix: &Index, event: u32) -> bool {
    matches!(&ix.event(event).kind, EventKind::Resumed(r) if r.reset.is_some())
}

/// "c1 polled offsets 0..500 of partition 0 at 1.000 s, which included it".
pub(super) fn poll_sentence(ix: &Index, poll: u32, remark: &str) -> String {
    match ix.event(poll).kind {
        EventKind::Polled { consumer, partition, offsets: (from, to), .. } => {
            format!("c{consumer} polled offsets {from}..{to} of partition {partition} at {}, {remark}", ix.time(poll))
        }
        _ => String::new(),
    }
}

/// "c1 committed offset 500 of partition 0 at 2.000 s, past it".
pub(super) fn commit_sentence(ix: &Index, commit: u32, remark: &str) -> String {
    match ix.event(commit).kind {
        EventKind::Committed { consumer, partition, offset } => {
            format!("c{consumer} committed offset {offset} of partition {partition} at {}, {remark}", ix.time(commit))
        }
        _ => String::new(),
    }
}

/// The commit that moved the group past a skipped record, with how far its consumer had
/// processed the partition by then: "..., past it, when c1 had processed partition 0 only up
/// to offset 1202".
pub(super) fn commit_past_sentence(ix: &Index, g: &Group, commit: u32) -> String {
    let mut text = commit_sentence(ix, commit, "past it");
    if let EventKind::Committed { consumer, partition, offset } = ix.event(commit).kind {
        match g.processed_up_to(consumer, partition, commit) {
            Some(done) if done.saturating_add(1) < offset => {
                text.push_str(&format!(
                    ", when c{consumer} had processed partition {partition} only up to offset {done} \
                    (offsets {}..{offset} were polled, not yet processed)",
                    done + 1
                ));
            }
            None if consumer > 0 => {
                text.push_str(&format!(", before c{consumer} had processed any record of partition {partition}"));
            }
            _ => {}
        }
    }
    text
}

/// "c1 found at 161.028 s that partition 0's log diverged below its position 7490 (the
/// leader's log for that epoch ends at offset 1870) and sought back to offset 1870 ...".
pub(super) fn truncation_sentence(ix: &Index, event: u32) -> String {
    let EventKind::TruncationDetected { consumer, partition, position, end_offset, action } = &ix.event(event).kind
    else {
        return String::new();
    };
    let end = match end_offset {
        Some(end) => format!("the leader's log for that epoch ends at offset {end}"),
        None => "the leader knows no end for that epoch".to_string(),
    };
    format!(
        "c{consumer} found at {} that partition {partition}'s log had diverged below its position {position} \
        ({end}) and {action}",
        ix.time(event)
    )
}

/// "c1 resumed partition 0 at offset 1840, the group's committed offset, at 15.055 s
/// (generation 3), past it".
pub(super) fn resumed_sentence(ix: &Index, event: u32, remark: &str) -> String {
    let EventKind::Resumed(r) = &ix.event(event).kind else {
        return String::new();
    };
    let history::Resumed { consumer, generation, partition, offset, committed, reset } = r.as_ref();
    let when = ix.time(event);
    let Some(offset) = offset else {
        return format!(
            "c{consumer} found no usable offset for partition {partition} at {when} and auto.offset.reset=none \
            left it without a position"
        );
    };
    let from = match (reset, committed) {
        (None, _) => "the group's committed offset".to_string(),
        (Some(policy), Some(c)) => format!("auto.offset.reset={policy}, as offset {c} was out of range"),
        (Some(policy), None) => format!("auto.offset.reset={policy}, as the group had no committed offset"),
    };
    format!("c{consumer} resumed partition {partition} at offset {offset} ({from}) at {when} in generation {generation}, {remark}")
}
