//! `timeline.svg`: how one partition lived through a run, read from its history. One lane per
//! broker over simulated time shows the replica's log end offset (LEO) and high watermark (HW),
//! the periods it led with their leader epochs, and the faults that hit it (process crash, power
//! loss, pause, cut, wiped disk) as shaded or hatched bands. A panel on top shows the
//! controller's ISR size and its elections. Every message the checker found lost is marked
//! twice: where the producer was told it was written, and where a replica took it away
//! (truncation, or the page cache dropped by a power loss).
//!
//! [`Timeline::of`] reads the history into plain data (unit-tested); [`render`] draws it.

use super::chart::ChartError;
use super::style::{self, Area, Marker, Pattern};
use losslab_model::fault::CrashMode;
use losslab_model::history::{fmt_time, ElectionKind};
use losslab_model::{EventKind, Finding, FindingClass, History, MsgId, NodeName};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::{BTreeMap, BTreeSet};

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
    fn label(self) -> &'static str {
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
}

/// A period in which a broker believed it led the partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leadership {
    pub start_us: u64,
    pub end_us: u64,
    pub leader_epoch: u32,
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
}

/// Lost messages at consecutive offsets `first..=last` of one lane, at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    pub t_us: u64,
    pub first: u64,
    pub last: u64,
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

/// Open fault bands per node, closed by the matching recovery event.
#[derive(Default)]
struct Open {
    crash: BTreeMap<NodeName, (FaultKind, u64)>,
    pause: BTreeMap<NodeName, u64>,
    /// Cuts in the order they were made: the nodes each one cut off.
    cuts: Vec<(Vec<NodeName>, u64)>,
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
        // The chart ends with the last event it draws: a consumer group still draining its
        // backlog would otherwise squeeze everything that matters into the left edge.
        let end_us = history.events.iter().filter(|e| drawn(&e.kind, partition)).map(|e| e.t_us).max().unwrap_or(0);
        let run_end_us = history.events.iter().map(|e| e.t_us).max().unwrap_or(0);

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
                    l.faults.push(Band { kind: FaultKind::Wipe, start_us: t, end_us: t });
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
                EventKind::PartitionChange { partition: p, isr: members, elr: eligible, .. } if *p == partition => {
                    push_step(&mut isr, t, members.len() as u32);
                    push_step(&mut elr, t, eligible.len() as u32);
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
                        close(&mut lanes, &mut controller_faults, *node, kind, start, t);
                    }
                }
                EventKind::Pause { node } => {
                    open.pause.insert(*node, t);
                }
                EventKind::Resume { node } => {
                    if let Some(start) = open.pause.remove(node) {
                        close(&mut lanes, &mut controller_faults, *node, FaultKind::Pause, start, t);
                    }
                }
                EventKind::Cut { from, to, .. } => {
                    // The side named first is the one cut off (`isolate` names the node first);
                    // when it holds no broker or controller, the other side is shown instead.
                    let shown = |side: &[NodeName]| {
                        side.iter()
                            .copied()
                            .filter(|n| matches!(n, NodeName::Broker(_) | NodeName::Controller))
                            .collect()
                    };
                    let mut nodes: Vec<NodeName> = shown(from);
                    if nodes.is_empty() {
                        nodes = shown(to);
                    }
                    open.cuts.push((nodes, t));
                }
                EventKind::Heal { all } => {
                    // A partial heal does not say which cut it restored: the latest one is closed.
                    let healed = match all {
                        true => std::mem::take(&mut open.cuts),
                        false => open.cuts.pop().into_iter().collect(),
                    };
                    for (nodes, start) in healed {
                        for node in nodes {
                            close(&mut lanes, &mut controller_faults, node, FaultKind::Cut, start, t);
                        }
                    }
                }
                EventKind::FinalPhase => final_phase_us = Some(t),
                _ => {}
            }
        }
        // Whatever is still open lasts to the end of the run.
        for (node, (kind, start)) in std::mem::take(&mut open.crash) {
            close(&mut lanes, &mut controller_faults, node, kind, start, end_us);
        }
        for (node, start) in std::mem::take(&mut open.pause) {
            close(&mut lanes, &mut controller_faults, node, FaultKind::Pause, start, end_us);
        }
        for (nodes, start) in std::mem::take(&mut open.cuts) {
            for node in nodes {
                close(&mut lanes, &mut controller_faults, node, FaultKind::Cut, start, end_us);
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
        let max_offset = lanes
            .iter()
            .flat_map(|l| l.leo.iter().map(|p| p.1).chain(l.hw.iter().flatten().map(|p| p.1)))
            .chain(lanes.iter().flat_map(|l| l.marks.iter().map(|m| m.last + 1)))
            .max()
            .unwrap_or(0)
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
        | PartitionChange { partition: p, .. }
        | Election { partition: p, .. } => *p == partition,
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

/// Ends a fault band of `node`: on its lane for a broker, in the controller panel for the
/// controller; faults of clients are not drawn here.
fn close(
    lanes: &mut BTreeMap<u32, Lane>,
    controller: &mut Vec<Band>,
    node: NodeName,
    kind: FaultKind,
    start_us: u64,
    end_us: u64,
) {
    let band = Band { kind, start_us, end_us };
    match node {
        NodeName::Broker(b) => lane_mut(lanes, b).faults.push(band),
        NodeName::Controller => controller.push(band),
        _ => {}
    }
}

/// Appends a step point, replacing one at the same instant.
fn push_step<V: PartialEq + Copy>(points: &mut Vec<(u64, V)>, t: u64, v: V) {
    match points.last_mut() {
        Some(last) if last.0 == t => last.1 = v,
        Some(last) if last.1 == v => {}
        _ => points.push((t, v)),
    }
}

/// Consecutive runs of `offsets`: `{1, 2, 3, 7}` as `[(1, 3), (7, 7)]`.
fn runs(offsets: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &o in offsets {
        match out.last_mut() {
            Some(run) if run.1 + 1 == o => run.1 = o,
            _ => out.push((o, o)),
        }
    }
    out
}

// ---- drawing ----

const WIDTH: u32 = 1200;
const HEADER_H: u32 = 78;
const CONTROLLER_H: u32 = 150;
const LANE_H: u32 = 150;
const LEGEND_H: u32 = 168;
const Y_LABELS_W: u32 = 84;

const LEADER_FILL: RGBColor = RGBColor(222, 235, 247);
const LEADER_INK: RGBColor = RGBColor(33, 80, 140);
const HW_INK: RGBColor = RGBColor(33, 102, 172);
const PAUSE_INK: RGBColor = RGBColor(106, 61, 154);
const CUT_INK: RGBColor = RGBColor(140, 81, 10);
const ACKED_INK: RGBColor = RGBColor(230, 97, 1);
const REMOVED_INK: RGBColor = RGBColor(165, 15, 21);
const MIN_ISR_INK: RGBColor = RGBColor(165, 15, 21);

/// The timeline of partition `partition` as an SVG document.
pub fn render(history: &History, findings: &[Finding], partition: u32) -> Result<String, ChartError> {
    render_timeline(&Timeline::of(history, findings, partition))
}

pub fn render_timeline(tl: &Timeline) -> Result<String, ChartError> {
    let lanes = tl.lanes.len().max(1) as u32;
    let height = HEADER_H + CONTROLLER_H + lanes * LANE_H + LEGEND_H;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut breaks = vec![HEADER_H, HEADER_H + CONTROLLER_H];
        breaks.extend((1..=lanes).map(|i| HEADER_H + CONTROLLER_H + i * LANE_H));
        let areas = root.split_by_breakpoints::<u32, u32, _, _>([], breaks);
        let subtitle = subtitle(tl);
        style::header(&areas[0], &tl.title, &subtitle)?;
        let end_s = (tl.end_us.max(1) as f64 / 1e6) * 1.03;
        controller_panel(&root, &areas[1], tl, end_s)?;
        if tl.lanes.is_empty() {
            style::no_data(&areas[2], &[&format!("No replica of partition {} appears in the history.", tl.partition)])?;
        }
        for (i, lane) in tl.lanes.iter().enumerate() {
            let last = i + 1 == tl.lanes.len();
            lane_panel(&root, &areas[2 + i], tl, lane, end_s, last)?;
        }
        legend(&areas[areas.len() - 1], tl)?;
        root.present()?;
    }
    Ok(svg)
}

fn subtitle(tl: &Timeline) -> String {
    let mut parts =
        vec![format!("One lane per broker over simulated time; the run ended at {}", fmt_time(tl.run_end_us))];
    match (tl.lost_acked, tl.lost_other) {
        (0, 0) => parts.push("no message was lost".to_string()),
        (acked, 0) => parts.push(format!("{} acknowledged messages lost", style::thousands(acked as u64))),
        (0, other) => parts.push(format!("{} unacknowledged messages lost", style::thousands(other as u64))),
        (acked, other) => parts.push(format!(
            "{} acknowledged and {} unacknowledged messages lost",
            style::thousands(acked as u64),
            style::thousands(other as u64)
        )),
    }
    if tl.never_stored > 0 {
        parts.push(format!(
            "{} of them never reached a broker and are not marked",
            style::thousands(tl.never_stored as u64)
        ));
    }
    parts.join("; ")
}

fn time_formatter(end_s: f64) -> impl Fn(&f64) -> String {
    move |x: &f64| match end_s {
        e if e < 5.0 => format!("{x:.2}"),
        e if e < 50.0 => format!("{x:.1}"),
        _ => format!("{x:.0}"),
    }
}

fn controller_panel(root: &Area, area: &Area, tl: &Timeline, end_s: f64) -> Result<(), ChartError> {
    let most = tl.isr.iter().map(|p| p.1).chain(tl.min_insync_replicas).max().unwrap_or(1).max(1);
    let y_max = most as f64 + 1.6;
    let mut chart = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(24)
        .margin_top(6)
        .x_label_area_size(24)
        .y_label_area_size(Y_LABELS_W)
        .build_cartesian_2d(0f64..end_s, 0f64..y_max)?;
    let fmt = time_formatter(end_s);
    let y_fmt = |y: &f64| if y.fract() == 0.0 && *y <= most as f64 { format!("{y:.0}") } else { String::new() };
    chart
        .configure_mesh()
        .x_labels(12)
        .y_labels((most as usize + 2).min(12))
        .x_label_formatter(&fmt)
        .y_label_formatter(&y_fmt)
        .y_desc("ISR size (replicas)")
        .axis_desc_style(style::text(style::LABEL_SIZE, style::BLACK_INK))
        .label_style(style::text(style::SMALL_SIZE, style::DARK_GREY))
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID)
        .draw()?;
    for band in &tl.controller_faults {
        fault_band(root, &chart, band, tl.end_us, y_max, "controller ")?;
    }
    if let Some(min) = tl.min_insync_replicas {
        chart.draw_series(DashedLineSeries::new(
            [(0.0, min as f64), (end_s, min as f64)],
            8,
            5,
            MIN_ISR_INK.stroke_width(2),
        ))?;
        let label = format!("min.insync.replicas = {min}");
        // At the left, where the final phase's label never is.
        let (x, y) = chart.backend_coord(&(0.0, min as f64));
        root.draw(&Text::new(
            label,
            (x + 6, y - 2),
            style::anchored(style::text(style::SMALL_SIZE, MIN_ISR_INK), HPos::Left, VPos::Bottom),
        ))?;
    }
    if tl.elr.iter().any(|p| p.1 > 0) {
        chart.draw_series(DashedLineSeries::new(steps(&tl.elr, end_s), 2, 4, style::MID_GREY.stroke_width(2)))?;
    }
    chart.draw_series(LineSeries::new(steps(&tl.isr, end_s), style::BLACK_INK.stroke_width(2)))?;
    // Elections: a tick and a label, staggered on three rows so that close ones stay readable.
    let px_per_s = chart.plotting_area().dim_in_pixel().0 as f64 / end_s;
    let mut last_x_on_row = [f64::NEG_INFINITY; 3];
    for (i, e) in tl.elections.iter().enumerate().take(60) {
        let x = e.t_us as f64 / 1e6;
        let label = match e.leader {
            Some(b) => format!("epoch {}: b{b} ({})", e.leader_epoch, election_kind(e.kind)),
            None => format!("epoch {}: no leader", e.leader_epoch),
        };
        let row = (0..3).find(|&r| (x - last_x_on_row[r]) * px_per_s > 170.0).unwrap_or(i % 3);
        last_x_on_row[row] = x;
        let y = y_max - 0.05 - row as f64 * 0.5;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, y)],
            LEADER_INK.mix(0.5).stroke_width(1),
        )))?;
        let anchor = if (end_s - x) * px_per_s < 170.0 { HPos::Right } else { HPos::Left };
        chart.draw_series(std::iter::once(Text::new(
            label,
            (x, y),
            style::anchored(style::text(style::SMALL_SIZE, LEADER_INK), anchor, VPos::Top),
        )))?;
    }
    if let Some(t) = tl.final_phase_us {
        final_phase_line(root, &chart, t, y_max, true)?;
    }
    Ok(())
}

fn election_kind(kind: ElectionKind) -> &'static str {
    match kind {
        ElectionKind::Clean => "from the ISR",
        ElectionKind::Elr => "from the ELR",
        ElectionKind::Unclean => "UNCLEAN",
        ElectionKind::Offline => "offline",
    }
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

fn final_phase_line(root: &Area, chart: &Chart, t_us: u64, y_max: f64, labelled: bool) -> Result<(), ChartError> {
    let x = t_us as f64 / 1e6;
    chart.plotting_area().draw(&DashedPathElement::new(
        vec![(x, 0.0), (x, y_max)],
        3,
        3,
        style::DARK_GREY.stroke_width(1),
    ))?;
    if labelled {
        // Beside the line, on whichever side has room.
        let right_edge = chart.backend_coord(&(chart.x_range().end, 0.0)).0;
        let at = chart.backend_coord(&(x, y_max * 0.38));
        let (dx, anchor) = if right_edge - at.0 < 230 { (-4, HPos::Right) } else { (4, HPos::Left) };
        root.draw(&Text::new(
            "final phase: heal, restart, drain".to_string(),
            (at.0 + dx, at.1),
            style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), anchor, VPos::Top),
        ))?;
    }
    Ok(())
}

/// A step line through `points`, held to `end_s`.
fn steps<V: Copy + ToF64>(points: &[(u64, V)], end_s: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2 + 1);
    for (i, &(t, v)) in points.iter().enumerate() {
        let x = t as f64 / 1e6;
        if i > 0 {
            out.push((x, points[i - 1].1.to_f64()));
        }
        out.push((x, v.to_f64()));
    }
    if let Some(&(_, v)) = points.last() {
        out.push((end_s, v.to_f64()));
    }
    out
}

/// Offsets (`u64`) and replica counts (`u32`) as chart coordinates.
trait ToF64 {
    fn to_f64(self) -> f64;
}

impl ToF64 for u64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl ToF64 for u32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

fn lane_panel(root: &Area, area: &Area, tl: &Timeline, lane: &Lane, end_s: f64, last: bool) -> Result<(), ChartError> {
    // Headroom above the highest offset for the leadership labels.
    let y_max = tl.max_offset as f64 * 1.3;
    let mut chart = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(24)
        .margin_top(6)
        .x_label_area_size(if last { 44 } else { 24 })
        .y_label_area_size(Y_LABELS_W)
        .build_cartesian_2d(0f64..end_s, 0f64..y_max)?;
    let fmt = time_formatter(end_s);
    let y_fmt = |y: &f64| format!("{y:.0}");
    let desc = format!("b{}: offset", lane.broker);
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(12)
        .y_labels(4)
        .x_label_formatter(&fmt)
        .y_label_formatter(&y_fmt)
        .y_desc(desc)
        .axis_desc_style(style::bold(style::LABEL_SIZE, style::BLACK_INK))
        .label_style(style::text(style::SMALL_SIZE, style::DARK_GREY))
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID);
    if last {
        mesh.x_desc("simulated time (s)");
    }
    mesh.draw()?;

    for period in &lane.leadership {
        let (x0, x1) = (period.start_us as f64 / 1e6, band_end(period.end_us, tl.end_us, end_s));
        chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, y_max)], LEADER_FILL.filled())))?;
        let width_px = chart.backend_coord(&(x1, 0.0)).0 - chart.backend_coord(&(x0, 0.0)).0;
        let label = match width_px {
            w if w >= 110 => format!("leader, epoch {}", period.leader_epoch),
            w if w >= 26 => format!("e{}", period.leader_epoch),
            _ => String::new(),
        };
        if !label.is_empty() {
            let (px, py) = chart.backend_coord(&(x0, y_max));
            root.draw(&Text::new(
                label,
                (px + 4, py + 3),
                style::anchored(style::bold(style::SMALL_SIZE, LEADER_INK), HPos::Left, VPos::Top),
            ))?;
        }
    }
    for band in &lane.faults {
        fault_band(root, &chart, band, tl.end_us, y_max, "")?;
    }
    if let Some(t) = tl.final_phase_us {
        final_phase_line(root, &chart, t, y_max, false)?;
    }
    // Thin the lines to a few points per pixel column: the picture is the same, the file small.
    let px = chart.plotting_area().dim_in_pixel().0.max(1) as u64;
    let bucket = (tl.end_us / px / 2).max(1);
    chart.draw_series(LineSeries::new(
        steps(&style::thin_steps(&lane.leo, bucket), end_s),
        style::BLACK_INK.stroke_width(2),
    ))?;
    for (i, segment) in lane.hw.iter().enumerate() {
        let thin = style::thin_steps(segment, bucket);
        let mut points = steps(&thin, end_s);
        // A segment ends where the next incarnation's begins (or at a crash): not at the end.
        let next_start = lane.hw.get(i + 1).and_then(|s| s.first()).map(|p| p.0);
        let crash_end = lane
            .faults
            .iter()
            .filter(|b| matches!(b.kind, FaultKind::ProcessCrash | FaultKind::PowerCrash))
            .map(|b| b.start_us)
            .filter(|&s| segment.first().is_some_and(|p| p.0 <= s))
            .min();
        if let Some(stop) = crash_end.or(next_start) {
            let stop_s = stop as f64 / 1e6;
            points.retain(|p| p.0 <= stop_s);
            if let Some(&(_, v)) = points.last() {
                points.push((stop_s, v));
            }
        }
        chart.draw_series(DashedLineSeries::new(points, 7, 4, HW_INK.stroke_width(2)))?;
    }
    for group in mark_groups(&chart, &lane.marks) {
        draw_marks(root, &chart, group)?;
    }
    Ok(())
}

/// Marks of one kind a few pixels apart whose offsets follow on from each other (the batches
/// of one acknowledged stretch) are drawn as one path: the same picture, far fewer elements.
fn mark_groups<'m>(chart: &Chart, marks: &'m [Mark]) -> Vec<&'m [Mark]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=marks.len() {
        let joins = marks.get(i).is_some_and(|m| {
            let prev = &marks[i - 1];
            let px = |t: u64| chart.backend_coord(&(t as f64 / 1e6, 0.0)).0;
            m.kind == prev.kind && px(m.t_us) - px(prev.t_us) <= 4 && m.first <= prev.last + 1
        });
        if !joins {
            groups.push(&marks[start..i]);
            start = i;
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

fn draw_marks(root: &Area, chart: &Chart, group: &[Mark]) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (group.first(), group.last()) else { return Ok(()) };
    let (ink, marker, fill) = match first.kind {
        MarkKind::Acked => (ACKED_INK, Marker::Circle, Some(WHITE)),
        MarkKind::Truncated | MarkKind::PageCacheLost => (REMOVED_INK, Marker::Cross, None),
    };
    let at = |t: u64, offset: u64| chart.backend_coord(&(t as f64 / 1e6, offset as f64 + 0.5));
    let mut path: Vec<(i32, i32)> = Vec::with_capacity(group.len() * 2);
    for m in group {
        for p in [at(m.t_us, m.first), at(m.t_us, m.last)] {
            if path.last() != Some(&p) {
                path.push(p);
            }
        }
    }
    let (bottom, top) = (at(first.t_us, first.first), at(last.t_us, last.last));
    if path.len() > 1 {
        root.draw(&PathElement::new(path, ink.stroke_width(3)))?;
    }
    style::draw_marker(root, marker, top, 4, fill, ink)?;
    if (bottom.1 - top.1).abs() > 6 || (bottom.0 - top.0).abs() > 6 {
        style::draw_marker(root, marker, bottom, 4, fill, ink)?;
    }
    Ok(())
}

/// A fault band over the whole height of a panel: a pattern per kind (and a label), so that
/// kinds differ in greyscale too.
fn fault_band(
    root: &Area,
    chart: &Chart,
    band: &Band,
    end_us: u64,
    y_max: f64,
    prefix: &str,
) -> Result<(), ChartError> {
    let (x0, x1) = (band.start_us as f64 / 1e6, band_end(band.end_us, end_us, chart.x_range().end));
    let (p0, p1) = (chart.backend_coord(&(x0, y_max)), chart.backend_coord(&(x1, 0.0)));
    let p1 = (p1.0.max(p0.0 + 2), p1.1);
    match band.kind {
        FaultKind::Wipe => {
            root.draw(&PathElement::new(vec![(p0.0, p0.1), (p0.0, p1.1)], style::BLACK_INK.stroke_width(3)))?;
            style::draw_marker(root, Marker::Diamond, (p0.0, p0.1 + 8), 5, Some(style::BLACK_INK), style::BLACK_INK)?;
        }
        kind => {
            let (fill, pattern, ink, alpha, spacing) = fault_look(kind);
            style::fill_pattern(root, p0, p1, Pattern::Solid, fill.mix(alpha), 1, None)?;
            style::fill_pattern(root, p0, p1, pattern, ink.mix(0.85), spacing, Some(ink.mix(0.9).stroke_width(1)))?;
        }
    }
    let label = format!("{prefix}{}", band.kind.label());
    let width = (label.chars().count() as f64 * style::SMALL_SIZE * 0.5) as i32 + 8;
    let (lx, ly) = (p0.0 + if band.kind == FaultKind::Wipe { 4 } else { 3 }, p1.1 - 20);
    root.draw(&Rectangle::new([(lx, ly), (lx + width, ly + 17)], WHITE.mix(0.92).filled()))?;
    root.draw(&Text::new(
        label,
        (lx + 4, ly + 2),
        style::anchored(style::bold(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top),
    ))?;
    Ok(())
}

/// Where a band ending at `t_us` ends on the x axis: one still open when the chart ends runs
/// to the axis's end.
fn band_end(t_us: u64, end_us: u64, end_s: f64) -> f64 {
    match t_us >= end_us {
        true => end_s,
        false => t_us as f64 / 1e6,
    }
}

/// Underlay colour, pattern, pattern ink, underlay opacity and pattern spacing of a fault kind.
fn fault_look(kind: FaultKind) -> (RGBColor, Pattern, RGBColor, f64, i32) {
    match kind {
        FaultKind::ProcessCrash => (style::MID_GREY, Pattern::Diagonal, style::DARK_GREY, 0.25, 9),
        FaultKind::PowerCrash => (style::DARK_GREY, Pattern::Cross, style::BLACK_INK, 0.45, 9),
        FaultKind::Pause => (PAUSE_INK, Pattern::Vertical, PAUSE_INK, 0.08, 6),
        FaultKind::Cut => (CUT_INK, Pattern::Horizontal, CUT_INK, 0.08, 6),
        FaultKind::Wipe => (style::BLACK_INK, Pattern::Solid, style::BLACK_INK, 1.0, 1),
    }
}

/// The key: every line, band and mark the lanes use, drawn as they appear there.
fn legend(area: &Area, tl: &Timeline) -> Result<(), ChartError> {
    let label = |x: i32, y: i32, text: &str| -> Result<(), ChartError> {
        area.draw(&Text::new(
            text.to_string(),
            (x, y),
            style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center),
        ))?;
        Ok(())
    };
    area.draw(&Text::new(
        "Key".to_string(),
        (16, 8),
        style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top),
    ))?;
    let cols = [16, 410, 800];
    let rows = [44, 72, 100, 128];
    let swatch = |col: usize, row: usize| (cols[col], rows[row]);

    // Lines.
    let (x, y) = swatch(0, 0);
    area.draw(&PathElement::new(vec![(x, y), (x + 40, y)], style::BLACK_INK.stroke_width(2)))?;
    label(x + 50, y, "log end offset (LEO): where the replica's log ends")?;
    let (x, y) = swatch(0, 1);
    style::dashed(area, (x, y), x + 40, HW_INK.stroke_width(2), 7, 4)?;
    label(x + 50, y, "high watermark (HW): committed below it")?;
    let (x, y) = swatch(0, 2);
    area.draw(&Rectangle::new([(x, y - 9), (x + 40, y + 9)], LEADER_FILL.filled()))?;
    label(x + 50, y, "the broker leads, in that leader epoch")?;
    let (x, y) = swatch(0, 3);
    area.draw(&PathElement::new(vec![(x, y), (x + 40, y)], style::BLACK_INK.stroke_width(2)))?;
    style::dashed(area, (x, y + 7), x + 40, MIN_ISR_INK.stroke_width(2), 8, 5)?;
    label(x + 50, y, "top panel: ISR size, and min.insync.replicas (dashed)")?;

    // Faults.
    for (i, kind) in
        [FaultKind::ProcessCrash, FaultKind::PowerCrash, FaultKind::Pause, FaultKind::Cut].into_iter().enumerate()
    {
        let (x, y) = swatch(1, i);
        let (fill, pattern, ink, alpha, spacing) = fault_look(kind);
        style::fill_pattern(area, (x, y - 10), (x + 40, y + 10), Pattern::Solid, fill.mix(alpha), 1, None)?;
        style::fill_pattern(
            area,
            (x, y - 10),
            (x + 40, y + 10),
            pattern,
            ink.mix(0.85),
            spacing,
            Some(ink.stroke_width(1)),
        )?;
        let text = match kind {
            FaultKind::ProcessCrash => "process crash: the OS keeps the page cache",
            FaultKind::PowerCrash => "power loss: unflushed writes are gone",
            FaultKind::Pause => "paused (a long GC pause, SIGSTOP)",
            _ => "cut off from the rest of the cluster",
        };
        label(x + 50, y, text)?;
    }

    // Marks.
    let (x, y) = swatch(2, 0);
    area.draw(&PathElement::new(vec![(x + 20, y - 9), (x + 20, y + 9)], ACKED_INK.stroke_width(3)))?;
    style::draw_marker(area, Marker::Circle, (x + 20, y - 9), 4, Some(WHITE), ACKED_INK)?;
    style::draw_marker(area, Marker::Circle, (x + 20, y + 9), 4, Some(WHITE), ACKED_INK)?;
    label(x + 50, y, "acknowledged to the producer, later lost")?;
    let (x, y) = swatch(2, 1);
    area.draw(&PathElement::new(vec![(x + 20, y - 9), (x + 20, y + 9)], REMOVED_INK.stroke_width(3)))?;
    style::draw_marker(area, Marker::Cross, (x + 20, y - 9), 4, None, REMOVED_INK)?;
    style::draw_marker(area, Marker::Cross, (x + 20, y + 9), 4, None, REMOVED_INK)?;
    label(x + 50, y, "lost message taken away: truncated,")?;
    label(x + 50, y + 16, "or dropped by a power loss")?;
    let (x, y) = swatch(2, 3);
    area.draw(&PathElement::new(vec![(x + 20, y - 10), (x + 20, y + 10)], style::BLACK_INK.stroke_width(3)))?;
    style::draw_marker(area, Marker::Diamond, (x + 20, y - 4), 5, Some(style::BLACK_INK), style::BLACK_INK)?;
    label(x + 50, y, "disk wiped (replaced by an empty one)")?;
    let _ = tl;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use losslab_model::history::RunMeta;
    use losslab_model::Event;

    fn at(t_us: u64, node: NodeName, kind: EventKind) -> Event {
        Event { t_us, node, kind }
    }

    fn m(seq: u64) -> MsgId {
        MsgId { producer: 1, seq }
    }

    fn lost(seq: u64) -> Finding {
        Finding {
            class: FindingClass::LostAcked,
            message: Some(m(seq)),
            partition: Some(0),
            explanation: String::new(),
        }
    }

    /// acks=1: b1 leads and acknowledges 0..4, b2 has only 0..2, b1 crashes, b2 leads epoch 1,
    /// b1 restarts and truncates 2..4.
    pub(crate) fn history() -> History {
        use EventKind::*;
        let b = NodeName::Broker;
        let mut meta = RunMeta { scenario: "t".into(), seed: 3, ..RunMeta::default() };
        meta.settings.insert("replication.factor".into(), "2".into());
        meta.settings.insert("min.insync.replicas".into(), "1".into());
        let append = |broker, base, seqs: std::ops::Range<u64>, epoch, as_leader| Append {
            broker,
            partition: 0,
            base_offset: base,
            leader_epoch: epoch,
            msgs: seqs.map(m).collect(),
            as_leader,
        };
        let events = vec![
            at(0, b(1), BecameLeader { broker: 1, partition: 0, leader_epoch: 0 }),
            at(0, b(2), BecameFollower { broker: 2, partition: 0, leader: Some(1), leader_epoch: 0 }),
            at(1_000, b(1), append(1, 0, 0..4, 0, true)),
            at(2_000, b(2), append(2, 0, 0..2, 0, false)),
            at(2_500, b(1), HighWatermark { broker: 1, partition: 0, hw: 2 }),
            at(
                3_000,
                NodeName::Producer(1),
                Acked {
                    partition: 0,
                    batch: 1,
                    base_offset: Some(0),
                    msgs: (0..4).map(m).collect(),
                    app_notified: true,
                },
            ),
            at(4_000, b(2), Pause { node: b(2) }),
            at(4_500, b(2), Resume { node: b(2) }),
            at(5_000, b(1), Crash { node: b(1), mode: CrashMode::Process }),
            at(
                6_000,
                NodeName::Controller,
                Election { partition: 0, leader: Some(2), leader_epoch: 1, kind: ElectionKind::Clean, isr: vec![2] },
            ),
            at(
                6_000,
                NodeName::Controller,
                PartitionChange {
                    partition: 0,
                    leader: Some(2),
                    leader_epoch: 1,
                    partition_epoch: 1,
                    isr: vec![2],
                    elr: vec![],
                    cause: "election".into(),
                },
            ),
            at(6_100, b(2), BecameLeader { broker: 2, partition: 0, leader_epoch: 1 }),
            at(8_000, b(1), Restart { node: b(1) }),
            at(8_000, b(1), Recovered { broker: 1, partition: 0, log_end_offset: 4, hw_checkpoint: 0 }),
            at(8_500, b(1), BecameFollower { broker: 1, partition: 0, leader: Some(2), leader_epoch: 1 }),
            at(
                9_000,
                b(1),
                Truncate {
                    broker: 1,
                    partition: 0,
                    to_offset: 2,
                    removed: vec![(2, m(2)), (3, m(3))],
                    reason: losslab_model::history::TruncateReason::LeaderEpoch { leader: 2, leader_epoch: 1 },
                },
            ),
            at(9_500, NodeName::Controller, FinalPhase),
            at(10_000, NodeName::Controller, Converged { ok: true, detail: String::new() }),
        ];
        History { meta, events }
    }

    #[test]
    fn reads_lanes_leaders_faults_and_lost_messages() {
        let tl = Timeline::of(&history(), &[lost(2), lost(3)], 0);
        // The chart ends with the last event it draws; the run went on to its convergence.
        assert_eq!((tl.end_us, tl.run_end_us), (9_500, 10_000));
        assert_eq!(tl.max_offset, 4);
        assert_eq!(tl.lanes.iter().map(|l| l.broker).collect::<Vec<_>>(), vec![1, 2]);
        let b1 = &tl.lanes[0];
        assert_eq!(b1.leo, vec![(0, 0), (1_000, 4), (9_000, 2)]);
        assert_eq!(b1.hw, vec![vec![(0, 0), (2_500, 2)], vec![(8_000, 0)]]);
        assert_eq!(b1.leadership, vec![Leadership { start_us: 0, end_us: 5_000, leader_epoch: 0 }]);
        assert_eq!(b1.faults, vec![Band { kind: FaultKind::ProcessCrash, start_us: 5_000, end_us: 8_000 }]);
        assert_eq!(
            b1.marks,
            vec![
                Mark { kind: MarkKind::Acked, t_us: 3_000, first: 2, last: 3 },
                Mark { kind: MarkKind::Truncated, t_us: 9_000, first: 2, last: 3 },
            ]
        );
        let b2 = &tl.lanes[1];
        assert_eq!(b2.leadership, vec![Leadership { start_us: 6_100, end_us: 9_500, leader_epoch: 1 }]);
        assert_eq!(b2.faults, vec![Band { kind: FaultKind::Pause, start_us: 4_000, end_us: 4_500 }]);
        assert_eq!(tl.isr, vec![(0, 2), (6_000, 1)]);
        assert_eq!(tl.elections.len(), 1);
        assert_eq!(tl.min_insync_replicas, Some(1));
        assert_eq!(tl.final_phase_us, Some(9_500));
        assert_eq!((tl.lost_acked, tl.lost_other, tl.never_stored), (2, 0, 0));
    }

    #[test]
    fn renders_the_same_bytes_twice_with_every_part() {
        let findings = [lost(2), lost(3)];
        let a = render(&history(), &findings, 0).unwrap();
        let b = render(&history(), &findings, 0).unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with("<svg "), "{}", &a[..80]);
        for needle in [
            "t, seed 3: partition 0",
            "b1: offset",
            "b2: offset",
            "process crash",
            "paused",
            "leader",
            "simulated time (s)",
            "min.insync.replicas = 1",
            "epoch 1: b2",
        ] {
            assert!(a.contains(needle), "missing {needle}");
        }
    }

    #[test]
    fn every_replica_gets_a_lane_and_only_replicas_do() {
        let mut h = history();
        let follower = EventKind::BecameFollower { broker: 3, partition: 0, leader: Some(1), leader_epoch: 0 };
        h.events.insert(2, at(0, NodeName::Broker(3), follower));
        h.events.push(at(
            9_600,
            NodeName::Broker(4),
            EventKind::Crash { node: NodeName::Broker(4), mode: CrashMode::Power },
        ));
        let tl = Timeline::of(&h, &[], 0);
        assert_eq!(tl.lanes.iter().map(|l| l.broker).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(Timeline::of(&h, &[], 1).lanes, Vec::new(), "no replica of partition 1");
    }

    #[test]
    fn an_empty_history_still_renders() {
        let svg = render(&History::default(), &[], 0).unwrap();
        assert!(svg.contains("No replica of partition 0"), "{svg}");
    }

    #[test]
    fn runs_group_consecutive_offsets() {
        let set: BTreeSet<u64> = [1, 2, 3, 7, 9, 10].into_iter().collect();
        assert_eq!(runs(&set), vec![(1, 3), (7, 7), (9, 10)]);
    }
}
