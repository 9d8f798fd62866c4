//! The consumer lanes as plain data: for each consumer of the run, on the drawn partition, its
//! position (where its next fetch starts: set by a `Resumed`, moved by every `Polled`), the
//! highest offset it processed, the group's committed offset as its own commits moved it, and
//! the records the checker found `consumer_skipped` (marked where the commit that moved past
//! the record was made, on the committing consumer's lane) and `consumer_duplicated` (marked at
//! every processing after the first). The rebalances (generation changes) are read here too.
//! Faults of the consumers arrive from `model`, which reads every node's faults in one pass.

use super::parts::{push_step, runs, Band, Mark, MarkKind};
use losslab_model::{EventKind, Finding, FindingClass, History, MsgId, NodeName};
use std::collections::{BTreeMap, BTreeSet};

/// One consumer of the group, on one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerLane {
    pub consumer: u32,
    /// (time, position) at every change; a new segment where the consumer resumed or crashed.
    pub position: Vec<Vec<(u64, u64)>>,
    /// (time, highest processed offset + 1), segmented like `position`.
    pub processed: Vec<Vec<(u64, u64)>>,
    /// (time, committed offset) of the commits this consumer made.
    pub committed: Vec<(u64, u64)>,
    pub faults: Vec<Band>,
    /// When the consumer left the group (its app stopped calling `poll()`).
    pub left_group_us: Vec<u64>,
    pub marks: Vec<Mark>,
}

/// A completed rebalance: the coordinator's new generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rebalance {
    pub t_us: u64,
    pub generation: u32,
}

/// What the consumer lanes draw, and the counts the subtitle gives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumers {
    pub lanes: Vec<ConsumerLane>,
    pub rebalances: Vec<Rebalance>,
    /// The checker's findings of this partition.
    pub skipped: usize,
    pub duplicated: usize,
    /// Skipped records with no commit or resume past them in the history: not marked.
    pub unmarked: usize,
}

impl Consumers {
    /// Reads partition `partition`'s consumers; `faults` are each consumer's fault bands.
    pub fn of(
        history: &History,
        findings: &[Finding],
        partition: u32,
        mut faults: BTreeMap<u32, Vec<Band>>,
    ) -> Consumers {
        let of_class = |class: FindingClass| -> BTreeSet<MsgId> {
            findings
                .iter()
                .filter(|f| f.class == class && f.partition.is_none_or(|p| p == partition))
                .filter_map(|f| f.message)
                .collect()
        };
        let skipped = of_class(FindingClass::ConsumerSkipped);
        let duplicated = of_class(FindingClass::ConsumerDuplicated);
        let mut lanes: BTreeMap<u32, ConsumerLane> = BTreeMap::new();
        let mut rebalances: Vec<Rebalance> = Vec::new();
        // Where each skipped record sits: the offset its last leader append gave it.
        let mut skipped_at: BTreeMap<MsgId, u64> = BTreeMap::new();
        let mut processings: BTreeMap<MsgId, u32> = BTreeMap::new();
        let mut raw: BTreeMap<(u32, MarkKind, u64), BTreeSet<u64>> = BTreeMap::new();
        // (time, consumer, offset) of every commit and resume of the partition.
        let mut commits: Vec<(u64, u32, u64)> = Vec::new();
        let mut resumes: Vec<(u64, u32, u64)> = Vec::new();
        for e in &history.events {
            let t = e.t_us;
            match &e.kind {
                EventKind::Append { partition: p, base_offset, msgs, as_leader: true, .. } if *p == partition => {
                    for (i, m) in msgs.iter().enumerate() {
                        if skipped.contains(m) {
                            skipped_at.insert(*m, base_offset + i as u64);
                        }
                    }
                }
                EventKind::Polled { consumer, partition: p, offsets, .. } if *p == partition => {
                    let l = lane(&mut lanes, *consumer);
                    push_segmented(&mut l.position, t, offsets.1);
                }
                EventKind::Resumed(r) if r.partition == partition => {
                    let l = lane(&mut lanes, r.consumer);
                    if let Some(offset) = r.offset {
                        l.position.push(vec![(t, offset)]);
                        l.processed.push(Vec::new());
                        resumes.push((t, r.consumer, offset));
                    }
                }
                EventKind::Processed { consumer, partition: p, offset, msg } if *p == partition => {
                    let l = lane(&mut lanes, *consumer);
                    let done = l.processed.last().and_then(|s| s.last()).map_or(0, |p| p.1).max(offset + 1);
                    push_segmented(&mut l.processed, t, done);
                    if duplicated.contains(msg) {
                        let n = processings.entry(*msg).or_default();
                        *n += 1;
                        if *n > 1 {
                            raw.entry((*consumer, MarkKind::Duplicated, t)).or_default().insert(*offset);
                        }
                    }
                }
                EventKind::Committed { consumer, partition: p, offset } if *p == partition => {
                    let l = lane(&mut lanes, *consumer);
                    push_step(&mut l.committed, t, *offset);
                    commits.push((t, *consumer, *offset));
                }
                EventKind::Assigned { consumer, .. } | EventKind::LeftGroup { consumer, .. } => {
                    let l = lane(&mut lanes, *consumer);
                    if matches!(e.kind, EventKind::LeftGroup { .. }) {
                        l.left_group_us.push(t);
                    }
                }
                // Recorded once per coordinator that completed it: drawn once.
                EventKind::GroupRebalanced { generation, .. }
                    if rebalances.last().is_none_or(|r| r.generation != *generation) =>
                {
                    rebalances.push(Rebalance { t_us: t, generation: *generation });
                }
                EventKind::Crash { node: NodeName::Consumer(c), .. } => {
                    let l = lane(&mut lanes, *c);
                    // The process's position and its in-flight work are gone with it.
                    l.position.push(Vec::new());
                    l.processed.push(Vec::new());
                }
                _ => {}
            }
        }
        let mut unmarked = 0;
        for &offset in skipped_at.values() {
            // The commit that moved the group past it, else the resume past it (a reset).
            let past = commits.iter().chain(&resumes).find(|&&(_, _, o)| o > offset);
            match past {
                Some(&(t, c, _)) => {
                    raw.entry((c, MarkKind::Skipped, t)).or_default().insert(offset);
                }
                None => unmarked += 1,
            }
        }
        unmarked += skipped.len() - skipped_at.len();
        for (c, bands) in std::mem::take(&mut faults) {
            lane(&mut lanes, c).faults = bands;
        }
        for ((c, kind, t), offsets) in raw {
            let l = lane(&mut lanes, c);
            l.marks.extend(runs(&offsets).into_iter().map(|(first, last)| Mark { kind, t_us: t, first, last }));
        }
        let lanes = lanes
            .into_values()
            .map(|mut l| {
                l.position.retain(|s| !s.is_empty());
                l.processed.retain(|s| !s.is_empty());
                l.marks.sort_by_key(|m| (m.kind, m.t_us, m.first));
                l
            })
            .collect();
        Consumers { lanes, rebalances, skipped: skipped.len(), duplicated: duplicated.len(), unmarked }
    }

    /// The highest offset a consumer lane reaches.
    pub fn max_offset(&self) -> u64 {
        self.lanes
            .iter()
            .flat_map(|l| {
                l.position.iter().flatten().chain(l.processed.iter().flatten()).chain(&l.committed).map(|p| p.1)
            })
            .chain(self.lanes.iter().flat_map(|l| l.marks.iter().map(|m| m.last + 1)))
            .max()
            .unwrap_or(0)
    }
}

fn lane(lanes: &mut BTreeMap<u32, ConsumerLane>, consumer: u32) -> &mut ConsumerLane {
    lanes.entry(consumer).or_insert_with(|| ConsumerLane { consumer, ..ConsumerLane::default() })
}

/// Appends a step to the last segment (starting one if there is none).
fn push_segmented(segments: &mut Vec<Vec<(u64, u64)>>, t: u64, v: u64) {
    match segments.last_mut() {
        Some(s) => push_step(s, t, v),
        None => segments.push(vec![(t, v)]),
    }
}
