//! The small pieces the timeline's data is made of, shared by the model of the broker lanes
//! (`model`) and that of the consumer lanes (`consumer`): fault bands (with a one-way cut's
//! direction), marks of records the checker found, and the helpers that build step lines and
//! offset ranges. Nothing here reads a history or draws.

use losslab_model::NodeName;
use std::collections::BTreeSet;

/// A fault that hit a node, as a band over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    ProcessCrash,
    PowerCrash,
    Pause,
    Cut,
    /// The disk was replaced by an empty one: an instant, drawn as a marker.
    Wipe,
}

impl FaultKind {
    /// The words on a fault's band; `panel` draws them (the key explains each kind at length).
    pub(super) fn label(self) -> &'static str {
        match self {
            FaultKind::ProcessCrash => "process crash",
            FaultKind::PowerCrash => "power loss",
            FaultKind::Pause => "paused",
            FaultKind::Cut => "cut off",
            FaultKind::Wipe => "disk wiped",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub kind: FaultKind,
    pub start_us: u64,
    pub end_us: u64,
    /// A one-way cut (`cut` with `"oneway": true`): which way this node's links stopped.
    pub oneway: Option<OneWay>,
}

/// One direction of a one-way cut, as one side of it saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneWay {
    /// This node is on the cut's first side: what it sends to `peers` is not delivered; when
    /// false, it is on the second side and hears nothing from `peers` (it can still send).
    pub sends: bool,
    pub peers: Vec<NodeName>,
}

/// What a mark says about the lost messages at its offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkKind {
    /// The producer learned they were written (the acknowledging leader's lane).
    Acked,
    /// The replica truncated them from its log.
    Truncated,
    /// A power loss dropped them with the page cache.
    PageCacheLost,
    /// Consumer lanes: the group's committed offset moved past them, never processed (marked
    /// on the lane of the consumer whose commit did it).
    Skipped,
    /// Consumer lanes: processed again (marked at every processing after the first).
    Duplicated,
}

/// Lost messages at consecutive offsets `first..=last` of one lane, at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    pub t_us: u64,
    pub first: u64,
    pub last: u64,
}

/// Appends a step point, replacing one at the same instant.
pub(super) fn push_step<V: PartialEq + Copy>(points: &mut Vec<(u64, V)>, t: u64, v: V) {
    match points.last_mut() {
        Some(last) if last.0 == t => last.1 = v,
        Some(last) if last.1 == v => {}
        _ => points.push((t, v)),
    }
}

/// Consecutive runs of `offsets`: `{1, 2, 3, 7}` as `[(1, 3), (7, 7)]`.
pub(super) fn runs(offsets: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &o in offsets {
        match out.last_mut() {
            Some(run) if run.1 + 1 == o => run.1 = o,
            _ => out.push((o, o)),
        }
    }
    out
}
