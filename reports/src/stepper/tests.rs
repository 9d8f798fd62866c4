//! The moments read from a small history: what becomes a moment, what is merged, the states.

use super::model::{steps, MomentKind, Segment, MOMENTS_MAX};
use super::page::section;
use losslab_model::history::{ElectionKind, Event, EventKind, History, NodeName, PartitionChange};
use losslab_model::{CrashMode, MsgId};
use std::collections::BTreeSet;

fn m(seq: u64) -> MsgId {
    MsgId { producer: 1, seq }
}

fn at(t_us: u64, kind: EventKind) -> Event {
    Event { t_us, node: NodeName::Controller, kind }
}

fn append(t_us: u64, broker: u32, base: u64, n: u64, epoch: u32) -> Event {
    let msgs: Vec<MsgId> = (base..base + n).map(m).collect();
    at(
        t_us,
        EventKind::Append {
            broker,
            partition: 0,
            base_offset: base,
            leader_epoch: epoch,
            msgs: msgs.into(),
            as_leader: broker == 1,
        },
    )
}

fn acked(t_us: u64, from: u64, n: u64) -> Event {
    let msgs: Vec<MsgId> = (from..from + n).map(m).collect();
    at(
        t_us,
        EventKind::Acked { partition: 0, batch: from, base_offset: Some(from), msgs: msgs.into(), app_notified: true },
    )
}

/// acks=1: b1 leads and acknowledges 0..6, b2 copies 0..4, b1 crashes, b2 is elected and b1
/// comes back and truncates to 4: 4 and 5 are lost.
fn acks1() -> History {
    let events = vec![
        append(1_000, 1, 0, 4, 0),
        acked(1_100, 0, 4),
        append(1_200, 2, 0, 4, 0),
        at(1_300, EventKind::HighWatermark { broker: 1, partition: 0, hw: 4 }),
        append(1_400, 1, 4, 2, 0),
        acked(1_500, 4, 1),
        acked(1_600, 5, 1),
        at(2_000, EventKind::Crash { node: NodeName::Broker(1), mode: CrashMode::Process }),
        at(
            2_100,
            EventKind::PartitionChange(Box::new(PartitionChange {
                partition: 0,
                leader: None,
                leader_epoch: 0,
                partition_epoch: 1,
                isr: vec![2],
                elr: vec![],
                cause: "b1 fenced".into(),
            })),
        ),
        at(
            2_200,
            EventKind::Election {
                partition: 0,
                leader: Some(2),
                leader_epoch: 1,
                kind: ElectionKind::Clean,
                isr: vec![2],
            },
        ),
        append(2_300, 2, 4, 1, 1),
        at(3_000, EventKind::Restart { node: NodeName::Broker(1) }),
        at(
            3_100,
            EventKind::Truncate {
                broker: 1,
                partition: 0,
                to_offset: 4,
                removed: vec![(4, m(4)), (5, m(5))],
                reason: losslab_model::history::TruncateReason::LeaderEpoch { leader: 2, leader_epoch: 1 },
            },
        ),
        append(3_200, 1, 4, 1, 1),
    ];
    History { meta: Default::default(), events }
}

#[test]
fn the_moments_of_an_acks_1_loss_in_order_with_their_states() {
    let lost: BTreeSet<MsgId> = [m(4), m(5)].into_iter().collect();
    let s = steps(&acks1(), 0, &lost);
    let kinds: Vec<MomentKind> = s.moments.iter().map(|x| x.kind).collect();
    use MomentKind::*;
    // The two acknowledgements of lost records are one moment; the first, of kept ones, none.
    assert_eq!(kinds, [LostAck, Fault, Isr, Election, Fault, Truncation]);
    assert_eq!(s.moments[0].lost, Some((m(4), m(5), 2)));
    assert_eq!(
        s.moments[0].text,
        "0.001 s to 0.001 s: the producer was told 2 records were written (p1#4..p1#5): all are lost later"
    );
    let acked = &s.moments[0].state;
    assert_eq!(acked.replicas[0].segments, [Segment { start: 0, end: 6, epoch: 0 }]);
    assert_eq!((acked.replicas[0].high_watermark, acked.replicas[1].log_end_offset()), (4, 4));
    assert_eq!(s.moments[1].state.replicas[0].down, Some("crashed"));
    assert_eq!(s.moments[2].text, "0.002 s: the ISR became {b2} (b1 fenced)");
    assert_eq!((s.moments[3].state.leader, s.moments[3].state.leader_epoch), (Some(2), 1));
    assert_eq!(s.moments[4].state.replicas[0].down, None, "b1 restarted");
    let truncated = &s.moments[5];
    assert_eq!(truncated.text, "0.003 s: b1 truncated its log to offset 4 to match leader epoch 1 of b2, removing 2 records (2 of them acknowledged and now lost)");
    assert_eq!(truncated.state.replicas[0].segments, [Segment { start: 0, end: 4, epoch: 0 }]);
    assert_eq!(
        truncated.state.replicas[1].segments,
        [Segment { start: 0, end: 4, epoch: 0 }, Segment { start: 4, end: 5, epoch: 1 }]
    );
    assert_eq!(s.offsets_max, 6);
}

#[test]
fn another_partition_has_only_the_faults() {
    let s = steps(&acks1(), 1, &BTreeSet::new());
    assert!(s.moments.iter().all(|x| x.kind == MomentKind::Fault), "{:?}", s.moments);
    assert_eq!(s.offsets_max, 0);
}

#[test]
fn moments_are_capped_and_the_rest_counted() {
    let events: Vec<Event> = (0..MOMENTS_MAX as u64 + 7)
        .flat_map(|i| {
            [
                at(i * 10, EventKind::Pause { node: NodeName::Broker(1) }),
                at(i * 10 + 5, EventKind::Resume { node: NodeName::Broker(1) }),
            ]
        })
        .collect();
    let s = steps(&History { meta: Default::default(), events }, 0, &BTreeSet::new());
    assert_eq!(s.moments.len(), MOMENTS_MAX);
    assert_eq!(s.left_out, 2 * (MOMENTS_MAX as u64 + 7) - MOMENTS_MAX as u64);
}

#[test]
fn the_section_lists_every_moment_without_script_and_escapes_its_data() {
    let lost: BTreeSet<MsgId> = [m(4), m(5)].into_iter().collect();
    let mut history = acks1();
    history.events.push(at(
        4_000,
        EventKind::GroupRebalanced { broker: 1, generation: 2, assignment: vec![], cause: "</script>".into() },
    ));
    let html = section(&steps(&history, 0, &lost), 4_000);
    assert_eq!(html.matches("<li id=\"moment-").count(), 7);
    assert!(html.contains("<li id=\"moment-6\" class=\"rebalance\">0.004 s: the group rebalanced into generation 2 (&lt;/script&gt;)</li>"));
    assert_eq!(html.matches("</script>").count(), 2, "the data cannot close its script element: {html}");
    assert_eq!(html, section(&steps(&history, 0, &lost), 4_000), "the same bytes twice");
    assert_eq!(section(&steps(&History::default(), 0, &lost), 0), "", "no moment, no section");
}

#[test]
fn faults_are_told_in_words_and_a_wipe_empties_the_log() {
    let b1 = NodeName::Broker(1);
    let events = vec![
        append(1_000, 1, 0, 5, 0),
        at(2_000, EventKind::Crash { node: b1, mode: CrashMode::Power }),
        at(2_050, EventKind::PageCacheLost { broker: 1, partition: 3, durable_offset: 2, lost: vec![(2, m(2))] }),
        at(2_100, EventKind::Cut { from: vec![b1], to: vec![NodeName::Broker(2), NodeName::Broker(3)], oneway: true }),
        at(2_200, EventKind::Wiped { broker: 1, lost: vec![(0, 5)] }),
        at(2_300, EventKind::Heal { all: true }),
    ];
    let s = steps(&History { meta: Default::default(), events }, 3, &BTreeSet::new());
    assert_eq!(s.partition, 3);
    let texts: Vec<&str> = s.moments.iter().map(|x| x.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "0.002 s: b1 power lost",
            "0.002 s: b1 lost its page cache: 1 record above offset 2 never flushed to disk",
            "0.002 s: network cut: b1 -> b2, b3",
            "0.002 s: b1's disk was replaced by an empty one",
            "0.002 s: the network healed"
        ]
    );
    let s = steps(
        &History {
            meta: Default::default(),
            events: vec![append(1_000, 1, 0, 5, 0), at(2_200, EventKind::Wiped { broker: 1, lost: vec![(0, 5)] })],
        },
        0,
        &BTreeSet::new(),
    );
    assert_eq!(s.moments[0].state.replicas[0].segments, [], "the wipe took every record");
}

#[test]
fn a_log_keeps_its_newest_epochs_and_truncation_at_a_boundary_leaves_no_empty_run() {
    // 30 one-record batches, each in a new epoch: the oldest runs merge into the first.
    let mut events: Vec<Event> = (0..30).map(|i| append(1_000 + i, 1, i, 1, i as u32)).collect();
    events.push(at(5_000, EventKind::Pause { node: NodeName::Broker(1) }));
    let s = steps(&History { meta: Default::default(), events: events.clone() }, 0, &BTreeSet::new());
    let segments = &s.moments[0].state.replicas[0].segments;
    assert_eq!(segments.len(), 24);
    assert_eq!(segments[0], Segment { start: 0, end: 7, epoch: 0 });
    assert_eq!(segments[23], Segment { start: 29, end: 30, epoch: 29 });
    // Truncating exactly where a run starts removes that run whole.
    events.push(at(
        6_000,
        EventKind::Truncate {
            broker: 1,
            partition: 0,
            to_offset: 29,
            removed: vec![(29, m(29))],
            reason: losslab_model::history::TruncateReason::HighWatermark,
        },
    ));
    let s = steps(&History { meta: Default::default(), events }, 0, &BTreeSet::new());
    let last = s.moments.last().unwrap();
    assert_eq!(last.text, "0.006 s: b1 truncated its log to offset 29 to its high watermark, removing 1 record");
    assert_eq!(last.state.replicas[0].segments.last(), Some(&Segment { start: 28, end: 29, epoch: 28 }));
    assert_eq!(last.state.replicas[0].segments.len(), 23);
}

/// Events of another partition change nothing here; the consumers' positions and the group's
/// commits are this partition's.
#[test]
fn only_the_partitions_own_events_count_and_consumers_are_followed() {
    let lost: BTreeSet<MsgId> = [m(1)].into_iter().collect();
    let c1 = NodeName::Consumer(1);
    let mut events = Vec::new();
    for p in [1, 0] {
        let ev = |t: u64, kind: EventKind| at(t + u64::from(p), kind);
        events.extend([
            ev(
                100,
                EventKind::Append {
                    broker: 1,
                    partition: p,
                    base_offset: 0,
                    leader_epoch: 0,
                    msgs: vec![m(0), m(1)].into(),
                    as_leader: true,
                },
            ),
            ev(200, EventKind::HighWatermark { broker: 1, partition: p, hw: 2 }),
            ev(
                300,
                EventKind::Acked {
                    partition: p,
                    batch: 1,
                    base_offset: Some(0),
                    msgs: vec![m(0), m(1)].into(),
                    app_notified: true,
                },
            ),
            ev(
                400,
                EventKind::Resumed(Box::new(losslab_model::history::Resumed {
                    consumer: 1,
                    generation: 1,
                    partition: p,
                    offset: Some(0),
                    committed: None,
                    reset: None,
                })),
            ),
            ev(500, EventKind::Processed { consumer: 1, partition: p, offset: 0, msg: m(0) }),
            ev(600, EventKind::Committed { consumer: 1, partition: p, offset: 1 }),
        ]);
    }
    events.extend([
        at(
            700,
            EventKind::PageCacheLost { broker: 1, partition: 1, durable_offset: 0, lost: vec![(0, m(0)), (1, m(1))] },
        ),
        at(800, EventKind::Recovered { broker: 1, partition: 1, log_end_offset: 0, hw_checkpoint: 0 }),
        at(900, EventKind::Stop { node: c1 }),
    ]);
    events.sort_by_key(|e| e.t_us);
    let s = steps(&History { meta: Default::default(), events }, 0, &lost);
    let texts: Vec<&str> = s.moments.iter().map(|x| x.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "0.000 s: the producer was told 1 record was written (p1#1): it is lost later",
            "0.000 s: c1 committed offset 1",
            "0.000 s: c1 was asked to stop"
        ]
    );
    let end = &s.moments[2].state;
    assert_eq!(end.replicas[0].segments, [Segment { start: 0, end: 2, epoch: 0 }], "partition 1's page cache");
    assert_eq!(end.replicas[0].high_watermark, 2);
    assert_eq!((end.consumers[0].position, end.consumers[0].down, end.committed), (Some(1), true, Some(1)));
    let acked = &s.moments[0].state;
    assert_eq!((acked.consumers.len(), acked.committed), (0, None), "no consumer had partition 0 yet");
}
