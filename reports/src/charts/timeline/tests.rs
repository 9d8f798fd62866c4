//! Tests of the timeline: what [`Timeline::of`] reads from a small acks=1 history (and one with
//! consumers, and one with a one-way cut), that the drawn SVG has every part and is the same
//! bytes twice, the time axis's mapping and the label placement.

use super::axis::Axis;
use super::consumer::{ConsumerLane, Rebalance};
use super::model::{runs, Band, FaultKind, Leadership, Mark, MarkKind, OneWay, Timeline, TxnMarker};
use super::page::render;
use super::place::{place, place_best, Label};
use losslab_model::fault::CrashMode;
use losslab_model::history::{ElectionKind, RunMeta};
use losslab_model::{Event, EventKind, Finding, FindingClass, History, MsgId, NodeName};
use std::collections::BTreeSet;

fn at(t_us: u64, node: NodeName, kind: EventKind) -> Event {
    Event { t_us, node, kind }
}

fn m(seq: u64) -> MsgId {
    MsgId { producer: 1, seq }
}

fn lost(seq: u64) -> Finding {
    Finding { class: FindingClass::LostAcked, message: Some(m(seq)), partition: Some(0), explanation: String::new() }
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
            Acked { partition: 0, batch: 1, base_offset: Some(0), msgs: (0..4).map(m).collect(), app_notified: true },
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
            PartitionChange(Box::new(losslab_model::history::PartitionChange {
                partition: 0,
                leader: Some(2),
                leader_epoch: 1,
                partition_epoch: 1,
                isr: vec![2],
                elr: vec![],
                cause: "election".into(),
            })),
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
    // The whole run is on the axis, to its convergence.
    assert_eq!((tl.end_us, tl.run_end_us), (10_000, 10_000));
    assert_eq!(tl.max_offset, 4);
    assert_eq!(tl.lanes.iter().map(|l| l.broker).collect::<Vec<_>>(), vec![1, 2]);
    let b1 = &tl.lanes[0];
    assert_eq!(b1.leo, vec![(0, 0), (1_000, 4), (9_000, 2)]);
    assert_eq!(b1.hw, vec![vec![(0, 0), (2_500, 2)], vec![(8_000, 0)]]);
    assert_eq!(b1.leadership, vec![Leadership { start_us: 0, end_us: 5_000, leader_epoch: 0 }]);
    assert_eq!(b1.faults, vec![Band { kind: FaultKind::ProcessCrash, start_us: 5_000, end_us: 8_000, oneway: None }]);
    assert_eq!(
        b1.marks,
        vec![
            Mark { kind: MarkKind::Acked, t_us: 3_000, first: 2, last: 3 },
            Mark { kind: MarkKind::Truncated, t_us: 9_000, first: 2, last: 3 },
        ]
    );
    let b2 = &tl.lanes[1];
    assert_eq!(b2.leadership, vec![Leadership { start_us: 6_100, end_us: 10_000, leader_epoch: 1 }]);
    assert_eq!(b2.faults, vec![Band { kind: FaultKind::Pause, start_us: 4_000, end_us: 4_500, oneway: None }]);
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

/// The acks=1 history with a transaction on it: b1 writes a COMMIT marker at offset 4 and an
/// ABORT marker at offset 6 while it leads, and records its last stable offset.
fn txn_history() -> History {
    use EventKind::*;
    let b = NodeName::Broker;
    let mut h = history();
    let marker = |offset, commit| MarkerWritten {
        broker: 1,
        partition: 0,
        producer: 1,
        producer_id: 7,
        epoch: 0,
        commit,
        offset,
        txn: Some(1),
    };
    let lso = |t, lso| at(t, b(1), LastStableOffset { broker: 1, partition: 0, lso });
    let extra = [
        at(0, NodeName::Producer(1), TxnBegun { producer: 1, txn: 1 }),
        lso(0, 0),
        lso(1_000, 0),
        at(2_600, b(1), marker(4, true)),
        lso(2_600, 5),
        at(2_800, b(1), marker(6, false)),
        lso(2_900, 7),
        // A partition the chart does not show.
        at(2_900, b(1), LastStableOffset { broker: 1, partition: 1, lso: 9 }),
    ];
    h.events.extend(extra);
    h.events.sort_by_key(|e| e.t_us);
    h
}

#[test]
fn reads_transaction_markers_and_the_last_stable_offset() {
    let tl = Timeline::of(&txn_history(), &[], 0);
    assert!(tl.transactions);
    let b1 = &tl.lanes[0];
    assert_eq!(
        b1.txn_markers,
        vec![TxnMarker { t_us: 2_600, offset: 4, commit: true }, TxnMarker { t_us: 2_800, offset: 6, commit: false }]
    );
    assert_eq!(b1.lso, vec![(0, 0), (2_600, 5), (2_900, 7)], "steps only where it moved, partition 0 only");
    assert!(tl.lanes[1].txn_markers.is_empty() && tl.lanes[1].lso.is_empty(), "b2 wrote none");
    assert!(!Timeline::of(&history(), &[], 0).transactions, "a run without transactions");
}

/// Runs with transactions key the LSO and both markers and count the markers in the subtitle;
/// runs without them draw exactly what they did before (no key row, the same height).
#[test]
fn draws_markers_and_the_lso_only_in_runs_with_transactions() {
    let with = render(&txn_history(), &[], 0).unwrap();
    for needle in [
        "1 COMMIT and 1 ABORT markers written",
        "last stable offset (LSO, leader): read_committed reads below it",
        "COMMIT marker written (at its offset)",
        "ABORT marker written (at its offset)",
        // The glyphs: a COMMIT triangle and an ABORT square in their inks.
        "fill=\"#1B7837\"",
        "fill=\"#C51B7D\"",
        // The LSO's dotted teal step.
        "stroke=\"#018571\"",
    ] {
        assert!(with.contains(needle), "missing {needle}");
    }
    let without = render(&history(), &[lost(2), lost(3)], 0).unwrap();
    for needle in ["COMMIT", "ABORT", "last stable offset", "#1B7837", "#C51B7D", "#018571"] {
        assert!(!without.contains(needle), "{needle} in a run without transactions");
    }
    let height = |svg: &str| svg.split("height=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    assert_eq!(height(&without), (78 + 150 + 2 * 150 + 168).to_string());
    assert_eq!(height(&with), (78 + 150 + 2 * 150 + 168 + 28).to_string());
}

fn c(seq: u64, class: FindingClass) -> Finding {
    Finding { class, message: Some(m(seq)), partition: Some(0), explanation: String::new() }
}

/// The acks=1 history with a consumer group on it: c1 (generation 1) resumes at 0, polls 0..4,
/// processes 0 and 1, and its auto-commit moves the group to 4 before it crashes; c2 takes the
/// partition in generation 2, resumes at 4 (2 and 3 are skipped), and c1 after its restart
/// processes 1 again in generation 3.
fn consumer_history() -> History {
    use EventKind::*;
    let (c1, c2) = (NodeName::Consumer(1), NodeName::Consumer(2));
    let resumed = |consumer, generation, offset| {
        Resumed(Box::new(losslab_model::history::Resumed {
            consumer,
            generation,
            partition: 0,
            offset: Some(offset),
            committed: Some(offset),
            reset: None,
        }))
    };
    let processed = |consumer, offset| Processed { consumer, partition: 0, offset, msg: m(offset) };
    let mut h = history();
    h.events.extend([
        at(
            1_100,
            NodeName::Broker(1),
            GroupRebalanced { broker: 1, generation: 1, assignment: vec![(1, vec![0])], cause: String::new() },
        ),
        at(1_200, c1, resumed(1, 1, 0)),
        at(
            1_300,
            c1,
            Polled { consumer: 1, partition: 0, offsets: (0, 4), msgs: (0..4).map(m).collect::<Vec<_>>().into() },
        ),
        at(1_400, c1, processed(1, 0)),
        at(1_500, c1, processed(1, 1)),
        at(1_600, NodeName::Broker(1), Committed { consumer: 1, partition: 0, offset: 4 }),
        at(1_700, c1, Crash { node: c1, mode: CrashMode::Process }),
        at(
            2_000,
            NodeName::Broker(1),
            GroupRebalanced { broker: 1, generation: 2, assignment: vec![(2, vec![0])], cause: String::new() },
        ),
        at(2_100, c2, resumed(2, 2, 4)),
        at(2_200, c1, Restart { node: c1 }),
        at(
            2_300,
            NodeName::Broker(1),
            GroupRebalanced { broker: 1, generation: 3, assignment: vec![(1, vec![0])], cause: String::new() },
        ),
        at(2_400, c1, resumed(1, 3, 1)),
        at(2_500, c1, processed(1, 1)),
    ]);
    h.events.sort_by_key(|e| e.t_us);
    h
}

fn consumer_findings() -> Vec<Finding> {
    vec![
        c(2, FindingClass::ConsumerSkipped),
        c(3, FindingClass::ConsumerSkipped),
        c(1, FindingClass::ConsumerDuplicated),
    ]
}

#[test]
fn reads_a_lane_per_consumer_with_position_progress_commits_and_marks() {
    let tl = Timeline::of(&consumer_history(), &consumer_findings(), 0);
    let cs = &tl.consumers;
    assert_eq!(cs.lanes.iter().map(|l| l.consumer).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!((cs.skipped, cs.duplicated, cs.unmarked), (2, 1, 0));
    assert_eq!(
        cs.rebalances,
        vec![
            Rebalance { t_us: 1_100, generation: 1 },
            Rebalance { t_us: 2_000, generation: 2 },
            Rebalance { t_us: 2_300, generation: 3 }
        ]
    );
    let c1: &ConsumerLane = &cs.lanes[0];
    // A segment per resumption: the crash ended the first one.
    assert_eq!(c1.position, vec![vec![(1_200, 0), (1_300, 4)], vec![(2_400, 1)]]);
    assert_eq!(c1.processed, vec![vec![(1_400, 1), (1_500, 2)], vec![(2_500, 2)]]);
    assert_eq!(c1.committed, vec![(1_600, 4)]);
    assert_eq!(c1.faults, vec![Band { kind: FaultKind::ProcessCrash, start_us: 1_700, end_us: 2_200, oneway: None }]);
    // Skipped: where c1's commit moved past them; duplicated: at the second processing.
    assert_eq!(
        c1.marks,
        vec![
            Mark { kind: MarkKind::Skipped, t_us: 1_600, first: 2, last: 3 },
            Mark { kind: MarkKind::Duplicated, t_us: 2_500, first: 1, last: 1 },
        ]
    );
    let c2 = &cs.lanes[1];
    assert_eq!(c2.position, vec![vec![(2_100, 4)]]);
    assert!(c2.marks.is_empty() && c2.committed.is_empty());
    assert!(Timeline::of(&history(), &[], 0).consumers.lanes.is_empty(), "no consumers, no lanes");
}

#[test]
fn draws_consumer_lanes_the_same_bytes_twice_and_names_the_findings() {
    let findings = consumer_findings();
    let a = render(&consumer_history(), &findings, 0).unwrap();
    assert_eq!(a, render(&consumer_history(), &findings, 0).unwrap());
    for needle in [
        "c1: offset",
        "c2: offset",
        "gen 2",
        "2 records skipped by consumers",
        "1 records processed more than once",
        "One lane per broker and per consumer",
        "skipped: committed past, never processed",
        // The processed line and the skipped diamond in their inks.
        "stroke=\"#4D9221\"",
        "stroke=\"#762A83\"",
    ] {
        assert!(a.contains(needle), "missing {needle}");
    }
    // Two lost acknowledged messages would be named; with none lost, the consumer findings are.
    assert!(!a.contains("no message was lost"));
    let height = |svg: &str| svg.split("height=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    assert_eq!(height(&a), (78 + 150 + 4 * 150 + 168 + 2 * 28).to_string());
    let plain = render(&history(), &[], 0).unwrap();
    assert!(plain.contains("no message was lost") && !plain.contains("c1: offset"));
}

#[test]
fn a_one_way_cut_is_drawn_one_way_on_both_sides() {
    use EventKind::*;
    let b = NodeName::Broker;
    let mut h = history();
    h.events.extend([
        at(3_100, NodeName::Controller, Cut { from: vec![b(1)], to: vec![b(2), NodeName::Producer(1)], oneway: true }),
        at(3_900, NodeName::Controller, Heal { all: true }),
        at(4_600, NodeName::Controller, Cut { from: vec![b(2)], to: vec![b(1)], oneway: false }),
        at(4_800, NodeName::Controller, Heal { all: false }),
    ]);
    h.events.sort_by_key(|e| e.t_us);
    let tl = Timeline::of(&h, &[], 0);
    let cuts = |broker: usize| -> Vec<Band> {
        tl.lanes[broker].faults.iter().filter(|f| f.kind == FaultKind::Cut).cloned().collect()
    };
    let way = |sends, peers| Some(OneWay { sends, peers });
    assert_eq!(
        cuts(0),
        vec![Band {
            kind: FaultKind::Cut,
            start_us: 3_100,
            end_us: 3_900,
            oneway: way(true, vec![b(2), NodeName::Producer(1)])
        }]
    );
    assert_eq!(
        cuts(1),
        vec![
            Band { kind: FaultKind::Cut, start_us: 3_100, end_us: 3_900, oneway: way(false, vec![b(1)]) },
            // Two-way, as before: on the side named first only.
            Band { kind: FaultKind::Cut, start_us: 4_600, end_us: 4_800, oneway: None },
        ]
    );
    let svg = render(&h, &[], 0).unwrap();
    for needle in ["→ cut: can&apos;t reach b2,p1", "← cut: hears nothing from b1", "one-way cut (half band)"] {
        assert!(svg.contains(needle), "missing {needle}");
    }
    assert!(!render(&history(), &[], 0).unwrap().contains("one-way"), "keyed only when drawn");
}

/// A 100 s run with events in 0..2 s and at 60 s: the two quiet gaps are compressed to one
/// fixed width each, the busy stretches keep one unit per second, and the map is monotonic.
#[test]
fn the_axis_compresses_quiet_stretches_and_stays_monotonic() {
    let s = 1_000_000;
    let busy: Vec<u64> = (0..=20).map(|i| i * s / 10).chain([60 * s]).collect();
    let axis = Axis::new(100 * s, &busy);
    let quiet: Vec<(u64, u64)> = axis.breaks().map(|q| (q.t0_us, q.t1_us)).collect();
    // Gaps 2..60 s and 60..100 s, each less a 4% margin on either side.
    assert_eq!(quiet, vec![(4_320_000, 57_680_000), (61_600_000, 98_400_000)]);
    let widths: Vec<f64> = axis.breaks().map(|q| q.x1 - q.x0).collect();
    assert!((widths[0] - widths[1]).abs() < 1e-9, "a fixed width: {widths:?}");
    // Kept: 100 s less the compressed 90.16 s; each break is 7% of that.
    assert!((widths[0] - 0.07 * 9.84).abs() < 1e-9, "{widths:?}");
    assert!((axis.x(s) - 1.0).abs() < 1e-9 && (axis.x(2 * s) - 2.0).abs() < 1e-9, "one unit a second");
    assert!((axis.end_x() - (9.84 + 2.0 * 0.07 * 9.84)).abs() < 1e-9);
    let mut last = -1.0;
    for t in (0..=100 * s).step_by(50_000) {
        let x = axis.x(t);
        assert!(x > last, "x({t}) = {x} after {last}");
        last = x;
    }
    assert_eq!(axis.x(200 * s), axis.end_x(), "held at the end");
    // A busy run has no break.
    let steady: Vec<u64> = (0..=100).map(|i| i * s).collect();
    assert_eq!(Axis::new(100 * s, &steady).breaks().count(), 0);
    // Ticks are round, inside the kept stretches, and at least the gap apart.
    let ticks = axis.ticks(1000.0 / axis.end_x(), 70.0);
    assert_eq!(ticks.first().map(|t| t.1.as_str()), Some("0"));
    assert!(ticks.iter().all(|(t, _)| axis.breaks().all(|q| *t <= q.t0_us || *t >= q.t1_us)));
    assert!(ticks.windows(2).all(|w| (axis.x(w[1].0) - axis.x(w[0].0)) * 1000.0 / axis.end_x() >= 70.0));
}

#[test]
fn labels_move_to_a_free_row_or_are_dropped_and_counted() {
    let l = |x0, x1, tick| Label { x0, x1, tick };
    // Plain labels: overlapping ones go one row down; a third overlapping both is dropped.
    let labels = vec![vec![l(0, 100, None)], vec![l(50, 150, None)], vec![l(90, 200, None)], vec![l(300, 400, None)]];
    assert_eq!(place(&labels, 2), (vec![Some((0, 0)), Some((1, 0)), None, Some((0, 0))], 1));
    // 6 px apart is not enough: the gap is kept.
    assert_eq!(place(&[vec![l(0, 100, None)], vec![l(104, 200, None)]], 1).1, 1);
    assert_eq!(place(&[vec![l(0, 100, None)], vec![l(107, 200, None)]], 1).1, 0);
    // Ticked labels ("epoch 2" after "epoch 1"): the second may not sit above the first's
    // row where its tick would cross the first's text, nor below where the first's tick
    // would cross its own; to the left of its tick, below the first, it fits.
    let first = vec![l(100, 220, Some(100))];
    let second = vec![l(150, 270, Some(150)), l(30, 150, Some(150))];
    let (rows, dropped) = place(&[first.clone(), second.clone()], 3);
    assert_eq!((rows, dropped), (vec![Some((0, 0)), Some((1, 0))], 0), "right of its tick, one row down");
    // When the right side has no room (near the edge), the left candidate holds the first
    // label's tick on every row below it, and the top row is taken: dropped, and counted.
    let (rows, dropped) = place(&[first, vec![l(30, 150, Some(150))]], 3);
    assert_eq!((rows, dropped), (vec![Some((0, 0)), None], 1));
    // Both leftward of their ticks, the later one below the earlier: the earlier's tick (at
    // 100) would cross it, so it is dropped; with the earlier one's tick outside it, it fits.
    let (rows, _) = place(&[vec![l(0, 100, Some(100))], vec![l(20, 120, Some(120))]], 2);
    assert_eq!(rows, vec![Some((0, 0)), None]);
    let (rows, _) = place(&[vec![l(0, 100, Some(100))], vec![l(101, 200, Some(200))]], 2);
    assert_eq!(rows, vec![Some((0, 0)), Some((1, 0))]);
}

/// last-replica-standing's "epoch 3" and "epoch 4", 10 px apart near the panel's right edge:
/// greedy in time order drops epoch 4; the best arrangement puts epoch 4 on top, left of its
/// tick, and epoch 3 below it, left of its own, and crosses nothing.
#[test]
fn the_best_placement_stacks_labels_at_the_right_edge() {
    let l = |x0, x1, tick| Label { x0, x1, tick };
    let epoch3 = vec![l(1000, 1130, Some(1000)), l(870, 1000, Some(1000))];
    let epoch4 = vec![l(880, 1010, Some(1010))]; // no room right of it
    let labels = [epoch3, epoch4];
    assert_eq!(place(&labels, 3).1, 1, "greedy drops one");
    assert_eq!(place_best(&labels, 3), (vec![Some((1, 1)), Some((0, 0))], 0));
    // Two elections at one instant (unclean-election's epochs 1 and 2): their ticks share a
    // line along both labels' ends, which crosses neither: one row each.
    let same = [vec![l(500, 640, Some(500))], vec![l(500, 660, Some(500))]];
    assert_eq!(place(&same, 3), (vec![Some((0, 0)), Some((1, 0))], 0));
}

/// The boundary: a gap of exactly 15% of the run stays as it is; one microsecond more is a
/// break.
#[test]
fn a_gap_is_quiet_only_past_the_share() {
    let s = 1_000_000;
    let rest: Vec<u64> = (2..=10).map(|i| i * 10 * s).collect();
    let at_share: Vec<u64> = [0, 15 * s].into_iter().chain(rest.iter().map(|t| t + 5 * s)).collect();
    assert_eq!(Axis::new(100 * s, &at_share).breaks().count(), 0, "{at_share:?}");
    let past: Vec<u64> = [0, 15 * s + 1].into_iter().chain(rest.iter().map(|t| t + 5 * s)).collect();
    let axis = Axis::new(100 * s, &past);
    assert_eq!(
        axis.breaks().map(|q| (q.t0_us, q.t1_us)).collect::<Vec<_>>(),
        vec![(600_000, 14_400_001)],
        "less 4% of the gap each side"
    );
}
