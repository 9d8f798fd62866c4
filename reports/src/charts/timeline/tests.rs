//! Tests of the timeline: what [`Timeline::of`] reads from a small acks=1 history, and that
//! the drawn SVG has every part and is the same bytes twice.

use super::model::{runs, Band, FaultKind, Leadership, Mark, MarkKind, Timeline, TxnMarker};
use super::page::render;
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
