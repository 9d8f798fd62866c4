//! The timeline as plain data: [`Timeline::of`] reads one partition of a history into lanes
//! (LEO and HW steps, leaderships, fault bands, marks of lost messages; in runs with
//! transactions the COMMIT/ABORT markers a leader wrote and its last stable offset), the
//! controller's ISR and elections, and the counts the subtitle gives. Nothing here draws: the data can be
//! unit-tested without an SVG, and every drawing module imports it without being imported back.

use losslab_model::fault::CrashMode;
use losslab_model::history::ElectionKind;
use losslab_model::{EventKind, Finding, FindingClass, History, MsgId, NodeName};
use std::collections::{BTreeMap, BTreeSet};

use super::axis::Axis;
use super::consumer::Consumers;
pub(super) use super::parts::{push_step, runs};
pub use super::parts::{Band, FaultKind, Mark, MarkKind, OneWay};

/// A period in which a broker believed it led the partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leadership {
    pub start_us: u64,
    pub end_us: u64,
    pub leader_epoch: u32,
}

/// A transaction marker (a COMMIT or ABORT control record) a leader wrote at `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnMarker {
    pub t_us: u64,
    pub offset: u64,
    pub commit: bool,
}

/// One broker's replica of the partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    pub broker: u32,
    /// (time, LEO) at every change, from time 0.
    pub leo: Vec<(u64, u64)>,
    /// (time, HW) at every change, one segment per incarnation of the broker's process.
    pub hw: Vec<Vec<(u64, u64)>>,
    pub leadership: Vec<Leadership>,
    pub faults: Vec<Band>,
    pub marks: Vec<Mark>,
    /// The transaction markers this broker wrote as the partition's leader.
    pub txn_markers: Vec<TxnMarker>,
    /// (time, LSO) at every change this broker recorded as leader (runs with transactions).
    pub lso: Vec<(u64, u64)>,
}

/// An election as the controller recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    pub t_us: u64,
    pub leader_epoch: u32,
    pub leader: Option<u32>,
    pub kind: ElectionKind,
}

/// Everything the timeline draws, read from a history.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    pub title: String,
    pub partition: u32,
    /// The last event the timeline draws; the run itself may go on (`run_end_us`).
    pub end_us: u64,
    pub run_end_us: u64,
    /// The highest offset any lane reaches (at least 1).
    pub max_offset: u64,
    pub lanes: Vec<Lane>,
    /// (time, ISR size) and (time, ELR size) as the controller recorded them.
    pub isr: Vec<(u64, u32)>,
    pub elr: Vec<(u64, u32)>,
    pub elections: Vec<Election>,
    /// Faults of the controller itself.
    pub controller_faults: Vec<Band>,
    pub min_insync_replicas: Option<u32>,
    pub final_phase_us: Option<u64>,
    /// The checker's lost messages of this partition: acknowledged, and not acknowledged.
    pub lost_acked: usize,
    pub lost_other: usize,
    /// Lost messages no replica of this partition ever held (dropped before any broker).
    pub never_stored: usize,
    /// The run used transactions: the chart then draws markers and the LSO, and keys them.
    pub transactions: bool,
    /// The consumers, one lane each below the brokers', and the group's rebalances.
    pub consumers: Consumers,
    /// Time to x, with the long quiet stretches compressed.
    pub axis: Axis,
}

/// A node a cut is drawn on, with the direction it lost for a one-way cut.
type CutNode = (NodeName, Option<OneWay>);

/// Open fault bands per node, closed by the matching recovery event.
#[derive(Default)]
struct Open {
    crash: BTreeMap<NodeName, (FaultKind, u64)>,
    pause: BTreeMap<NodeName, u64>,
    /// Cuts in the order they were made: the nodes each one cut off (and for a one-way cut,
    /// which way).
    cuts: Vec<(Vec<CutNode>, u64)>,
}

impl Timeline {
    /// Reads partition `partition` of `history`; `findings` are the checker's for that run.
    pub fn of(history: &History, findings: &[Finding], partition: u32) -> Timeline {
        let lost: BTreeMap<MsgId, FindingClass> = findings
            .iter()
            .filter(|f| matches!(f.class, FindingClass::LostAcked | FindingClass::LostUnnoticed))
            .filter(|f| f.partition.is_none_or(|p| p == partition))
            .filter_map(|f| f.message.map(|m| (m, f.class)))
            .collect();
        let mut lanes: BTreeMap<u32, Lane> = BTreeMap::new();
        let mut open = Open::default();
        let mut controller_faults = Vec::new();
        let mut consumer_faults: BTreeMap<u32, Vec<Band>> = BTreeMap::new();
        let mut leading: BTreeMap<u32, (u64, u32)> = BTreeMap::new();
        // Lost messages as the leader that appended them placed them: (broker, offset).
        let mut placed: BTreeMap<MsgId, (u32, u64)> = BTreeMap::new();
        let mut stored: BTreeSet<MsgId> = BTreeSet::new();
        let mut raw_marks: BTreeMap<(u32, MarkKind, u64), BTreeSet<u64>> = BTreeMap::new();
        let mut isr = Vec::new();
        let mut elr = Vec::new();
        let mut elections = Vec::new();
        let mut final_phase_us = None;
        // Brokers that hold a replica of the partition: only they get a lane.
        let mut replicas: BTreeSet<u32> = BTreeSet::new();
        // The whole run is on the axis; the quiet stretches are compressed (`Axis`) so that a
        // consumer group draining its backlog does not squeeze what matters into the left edge.
        let run_end_us = history.events.iter().map(|e| e.t_us).max().unwrap_or(0);
        let end_us = run_end_us;
        let busy: Vec<u64> = history.events.iter().filter(|e| drawn(&e.kind, partition)).map(|e| e.t_us).collect();

        for event in &history.events {
            let t = event.t_us;
            if let Some(broker) = replica_of(&event.kind, partition) {
                replicas.insert(broker);
            }
            match &event.kind {
                EventKind::Append { broker, partition: p, base_offset, msgs, as_leader, .. } if *p == partition => {
                    let l = lane_mut(&mut lanes, *broker);
                    push_step(&mut l.leo, t, base_offset + msgs.len() as u64);
                    for (i, msg) in msgs.iter().enumerate() {
                        if lost.contains_key(msg) {
                            stored.insert(*msg);
                            if *as_leader {
                                placed.insert(*msg, (*broker, base_offset + i as u64));
                            }
                        }
                    }
                }
                EventKind::Truncate { broker, partition: p, to_offset, removed, .. } if *p == partition => {
                    let l = lane_mut(&mut lanes, *broker);
                    push_step(&mut l.leo, t, *to_offset);
                    clamp_hw(l, t, *to_offset);
                    for (offset, msg) in removed {
                        if lost.contains_key(msg) {
                            raw_marks.entry((*broker, MarkKind::Truncated, t)).or_default().insert(*offset);
                        }
                    }
                }
                EventKind::PageCacheLost { broker, partition: p, durable_offset, lost: dropped } if *p == partition => {
                    let l = lane_mut(&mut lanes, *broker);
                    push_step(&mut l.leo, t, *durable_offset);
                    clamp_hw(l, t, *durable_offset);
                    for (offset, msg) in dropped {
                        if lost.contains_key(msg) {
                            raw_marks.entry((*broker, MarkKind::PageCacheLost, t)).or_default().insert(*offset);
                        }
                    }
                }
                EventKind::Recovered { broker, partition: p, log_end_offset, hw_checkpoint } if *p == partition => {
                    let l = lane_mut(&mut lanes, *broker);
                    push_step(&mut l.leo, t, *log_end_offset);
                    l.hw.push(vec![(t, *hw_checkpoint)]);
                }
                EventKind::HighWatermark { broker, partition: p, hw } if *p == partition => {
                    let l = lane_mut(&mut lanes, *broker);
                    match l.hw.last_mut() {
                        Some(segment) => push_step(segment, t, *hw),
                        None => l.hw.push(vec![(t, *hw)]),
                    }
                }
                EventKind::Wiped { broker, .. } => {
                    let l = lane_mut(&mut lanes, *broker);
                    push_step(&mut l.leo, t, 0);
                    l.faults.push(Band { kind: FaultKind::Wipe, start_us: t, end_us: t, oneway: None });
                }
                EventKind::BecameLeader { broker, partition: p, leader_epoch } if *p == partition => {
                    lane_mut(&mut lanes, *broker);
                    end_leadership(&mut lanes, &mut leading, *broker, t);
                    leading.insert(*broker, (t, *leader_epoch));
                }
                EventKind::BecameFollower { broker, partition: p, .. } if *p == partition => {
                    lane_mut(&mut lanes, *broker);
                    end_leadership(&mut lanes, &mut leading, *broker, t);
                }
                EventKind::Acked { partition: p, base_offset, msgs, .. } if *p == partition => {
                    for (i, msg) in msgs.iter().enumerate() {
                        if lost.get(msg) != Some(&FindingClass::LostAcked) {
                            continue;
                        }
                        if let Some(&(broker, offset)) = placed.get(msg) {
                            let offset = base_offset.map_or(offset, |base| base + i as u64);
                            raw_marks.entry((broker, MarkKind::Acked, t)).or_default().insert(offset);
                        }
                    }
                }
                EventKind::PartitionChange(c) if c.partition == partition => {
                    push_step(&mut isr, t, c.isr.len() as u32);
                    push_step(&mut elr, t, c.elr.len() as u32);
                }
                EventKind::Election { partition: p, leader, leader_epoch, kind, .. } if *p == partition => {
                    elections.push(Election { t_us: t, leader_epoch: *leader_epoch, leader: *leader, kind: *kind });
                }
                EventKind::Crash { node, mode } => {
                    let kind = match mode {
                        CrashMode::Process => FaultKind::ProcessCrash,
                        CrashMode::Power => FaultKind::PowerCrash,
                    };
                    open.crash.insert(*node, (kind, t));
                    if let NodeName::Broker(b) = node {
                        let l = lane_mut(&mut lanes, *b);
                        // The process's memory, and with it its high watermark, is gone.
                        l.hw.push(Vec::new());
                        end_leadership(&mut lanes, &mut leading, *b, t);
                    }
                }
                EventKind::Restart { node } => {
                    if let Some((kind, start)) = open.crash.remove(node) {
                        close(
                            &mut lanes,
                            &mut controller_faults,
                            &mut consumer_faults,
                            *node,
                            Band { kind, start_us: start, end_us: t, oneway: None },
                        );
                    }
                }
                EventKind::Pause { node } => {
                    open.pause.insert(*node, t);
                }
                EventKind::Resume { node } => {
                    if let Some(start) = open.pause.remove(node) {
                        close(
                            &mut lanes,
                            &mut controller_faults,
                            &mut consumer_faults,
                            *node,
                            Band { kind: FaultKind::Pause, start_us: start, end_us: t, oneway: None },
                        );
                    }
                }
                EventKind::Cut { from, to, oneway } => {
                    open.cuts.push((cut_sides(from, to, *oneway), t));
                }
                EventKind::Heal { all } => {
                    // A partial heal does not say which cut it restored: the latest one is closed.
                    let healed = match all {
                        true => std::mem::take(&mut open.cuts),
                        false => open.cuts.pop().into_iter().collect(),
                    };
                    for (nodes, start) in healed {
                        for (node, oneway) in nodes {
                            let band = Band { kind: FaultKind::Cut, start_us: start, end_us: t, oneway };
                            close(&mut lanes, &mut controller_faults, &mut consumer_faults, node, band);
                        }
                    }
                }
                EventKind::MarkerWritten { broker, partition: p, commit, offset, .. } if *p == partition => {
                    let marker = TxnMarker { t_us: t, offset: *offset, commit: *commit };
                    lane_mut(&mut lanes, *broker).txn_markers.push(marker);
                }
                EventKind::LastStableOffset { broker, partition: p, lso } if *p == partition => {
                    push_step(&mut lane_mut(&mut lanes, *broker).lso, t, *lso);
                }
                EventKind::FinalPhase => final_phase_us = Some(t),
                _ => {}
            }
        }
        // Whatever is still open lasts to the end of the run.
        for (node, (kind, start)) in std::mem::take(&mut open.crash) {
            close(
                &mut lanes,
                &mut controller_faults,
                &mut consumer_faults,
                node,
                Band { kind, start_us: start, end_us, oneway: None },
            );
        }
        for (node, start) in std::mem::take(&mut open.pause) {
            close(
                &mut lanes,
                &mut controller_faults,
                &mut consumer_faults,
                node,
                Band { kind: FaultKind::Pause, start_us: start, end_us, oneway: None },
            );
        }
        for (nodes, start) in std::mem::take(&mut open.cuts) {
            for (node, oneway) in nodes {
                let band = Band { kind: FaultKind::Cut, start_us: start, end_us, oneway };
                close(&mut lanes, &mut controller_faults, &mut consumer_faults, node, band);
            }
        }
        for broker in leading.keys().copied().collect::<Vec<_>>() {
            end_leadership(&mut lanes, &mut leading, broker, end_us);
        }
        for ((broker, kind, t), offsets) in raw_marks {
            if let Some(l) = lanes.get_mut(&broker) {
                l.marks.extend(runs(&offsets).into_iter().map(|(first, last)| Mark { kind, t_us: t, first, last }));
            }
        }
        // Lanes only for brokers that hold a replica of the partition, not for every crash.
        let lanes: Vec<Lane> = lanes
            .into_values()
            .filter(|l| replicas.contains(&l.broker))
            .map(|mut l| {
                l.hw.retain(|segment| !segment.is_empty());
                l
            })
            .collect();
        let consumers = Consumers::of(history, findings, partition, consumer_faults);
        let max_offset = lanes
            .iter()
            .flat_map(|l| l.leo.iter().map(|p| p.1).chain(l.hw.iter().flatten().map(|p| p.1)))
            .chain(lanes.iter().flat_map(|l| l.marks.iter().map(|m| m.last + 1)))
            .max()
            .unwrap_or(0)
            .max(consumers.max_offset())
            .max(1);
        let replicas = history
            .meta
            .settings
            .get("replication.factor")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(lanes.len() as u32);
        if isr.first().is_none_or(|&(t, _)| t > 0) {
            // Every replica starts in the ISR (the topic exists before the workload).
            isr.insert(0, (0, replicas));
            elr.insert(0, (0, 0));
        }
        let lost_acked = lost.values().filter(|c| **c == FindingClass::LostAcked).count();
        let title = match history.meta.scenario.is_empty() {
            true => format!("What happened to partition {partition}"),
            false => format!("{}, seed {}: partition {partition}", history.meta.scenario, history.meta.seed),
        };
        Timeline {
            title,
            partition,
            end_us,
            run_end_us,
            max_offset,
            lanes,
            isr,
            elr,
            elections,
            controller_faults,
            min_insync_replicas: history.meta.settings.get("min.insync.replicas").and_then(|v| v.parse().ok()),
            final_phase_us,
            lost_acked,
            lost_other: lost.len() - lost_acked,
            never_stored: lost.keys().filter(|m| !stored.contains(m)).count(),
            transactions: history.events.iter().any(|e| {
                matches!(
                    e.kind,
                    EventKind::TxnBegun { .. } | EventKind::MarkerWritten { .. } | EventKind::LastStableOffset { .. }
                )
            }),
            consumers,
            axis: Axis::new(end_us, &busy),
        }
    }
}

/// The broker whose replica of `partition` the event is about, if it is about one.
fn replica_of(kind: &EventKind, partition: u32) -> Option<u32> {
    use EventKind::*;
    match kind {
        Append { broker, partition: p, .. }
        | Truncate { broker, partition: p, .. }
        | PageCacheLost { broker, partition: p, .. }
        | Recovered { broker, partition: p, .. }
        | HighWatermark { broker, partition: p, .. }
        | BecameLeader { broker, partition: p, .. }
        | BecameFollower { broker, partition: p, .. } => (*p == partition).then_some(*broker),
        _ => None,
    }
}

/// Whether the timeline draws `kind` (for partition `partition`).
fn drawn(kind: &EventKind, partition: u32) -> bool {
    use EventKind::*;
    match kind {
        Append { partition: p, .. }
        | Truncate { partition: p, .. }
        | PageCacheLost { partition: p, .. }
        | Recovered { partition: p, .. }
        | HighWatermark { partition: p, .. }
        | BecameLeader { partition: p, .. }
        | BecameFollower { partition: p, .. }
        | Acked { partition: p, .. }
        | MarkerWritten { partition: p, .. }
        | LastStableOffset { partition: p, .. }
        | Election { partition: p, .. }
        | Polled { partition: p, .. }
        | Processed { partition: p, .. }
        | Committed { partition: p, .. } => *p == partition,
        Resumed(r) => r.partition == partition,
        GroupRebalanced { .. } | LeftGroup { .. } => true,
        PartitionChange(c) => c.partition == partition,
        Wiped { .. } | Crash { .. } | Restart { .. } | Pause { .. } | Resume { .. } | Cut { .. } | Heal { .. } => true,
        FinalPhase | Step { .. } => true,
        _ => false,
    }
}

fn lane_mut(lanes: &mut BTreeMap<u32, Lane>, broker: u32) -> &mut Lane {
    lanes.entry(broker).or_insert_with(|| Lane {
        broker,
        leo: vec![(0, 0)],
        hw: vec![vec![(0, 0)]],
        leadership: Vec::new(),
        faults: Vec::new(),
        marks: Vec::new(),
        txn_markers: Vec::new(),
        lso: Vec::new(),
    })
}

fn end_leadership(lanes: &mut BTreeMap<u32, Lane>, leading: &mut BTreeMap<u32, (u64, u32)>, broker: u32, t: u64) {
    if let Some((start, epoch)) = leading.remove(&broker) {
        lane_mut(lanes, broker).leadership.push(Leadership { start_us: start, end_us: t, leader_epoch: epoch });
    }
}

/// A replica's high watermark never exceeds its log end (Kafka lowers it when the log is cut,
/// without announcing it): keeps the drawn HW at or below the LEO.
fn clamp_hw(lane: &mut Lane, t: u64, leo: u64) {
    if let Some(segment) = lane.hw.last_mut() {
        if let Some(&(_, hw)) = segment.last() {
            if hw > leo {
                push_step(segment, t, leo);
            }
        }
    }
}

/// Ends a fault band of `node`: on its lane for a broker or a consumer, in the controller panel
/// for the controller; faults of producers are not drawn here.
fn close(
    lanes: &mut BTreeMap<u32, Lane>,
    controller: &mut Vec<Band>,
    consumers: &mut BTreeMap<u32, Vec<Band>>,
    node: NodeName,
    band: Band,
) {
    match node {
        NodeName::Broker(b) => lane_mut(lanes, b).faults.push(band),
        NodeName::Controller => controller.push(band),
        NodeName::Consumer(c) => consumers.entry(c).or_default().push(band),
        NodeName::Producer(_) => {}
    }
}

/// The nodes a cut is drawn on. Two-way: the side named first (`isolate` names the node first),
/// or, when it holds no drawn node, the other side. One-way (`cut` with `"oneway": true`,
/// recorded as `EventKind::Cut { oneway: true }`: links from `from` to `to` stop delivering):
/// both sides, each with the direction it lost.
fn cut_sides(from: &[NodeName], to: &[NodeName], oneway: bool) -> Vec<CutNode> {
    let shown = |side: &[NodeName]| -> Vec<NodeName> {
        side.iter().copied().filter(|n| !matches!(n, NodeName::Producer(_))).collect()
    };
    if oneway {
        let senders = shown(from).into_iter().map(|n| (n, Some(OneWay { sends: true, peers: to.to_vec() })));
        let hearers = shown(to).into_iter().map(|n| (n, Some(OneWay { sends: false, peers: from.to_vec() })));
        return senders.chain(hearers).collect();
    }
    let mut nodes = shown(from);
    if nodes.is_empty() {
        nodes = shown(to);
    }
    nodes.into_iter().map(|n| (n, None)).collect()
}
