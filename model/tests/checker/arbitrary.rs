//! Any history: proptest builds histories and final states over a small world (so that events
//! collide: resends in cycles, truncations of nothing, elections without a leader) and checks
//! that the checker always answers consistently.

use crate::story::m;
use losslab_model::history::{
    ElectionKind, Event, EventKind, FinalPartition, FinalReplica, FinalState, History, MsgId, NodeName, TruncateReason,
};
use losslab_model::{check, CrashMode, Finding, FindingClass};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn msg() -> impl Strategy<Value = MsgId> {
    (1u32..3, 0u64..6).prop_map(|(p, s)| m(p, s))
}

fn msgs() -> impl Strategy<Value = Vec<MsgId>> {
    prop::collection::vec(msg(), 0..4)
}

fn placed() -> impl Strategy<Value = Vec<(u64, MsgId)>> {
    prop::collection::vec((0u64..8, msg()), 0..4)
}

fn node() -> impl Strategy<Value = NodeName> {
    prop_oneof![
        (1u32..4).prop_map(NodeName::Broker),
        Just(NodeName::Controller),
        (1u32..3).prop_map(NodeName::Producer),
        (1u32..3).prop_map(NodeName::Consumer),
    ]
}

fn election_kind() -> impl Strategy<Value = ElectionKind> {
    prop_oneof![
        Just(ElectionKind::Clean),
        Just(ElectionKind::Elr),
        Just(ElectionKind::Unclean),
        Just(ElectionKind::LastKnownLeader),
        Just(ElectionKind::Offline),
    ]
}

fn mode() -> impl Strategy<Value = CrashMode> {
    prop_oneof![Just(CrashMode::Process), Just(CrashMode::Power)]
}

/// Any event of the kinds the checker reads, over a small world so that they collide.
fn kind() -> impl Strategy<Value = EventKind> {
    let b = 1u32..4;
    let p = 0u32..2;
    prop_oneof![
        // Resends may name any record, themselves included, and form cycles.
        (msg(), p.clone(), prop::option::of(msg())).prop_map(|(msg, partition, resend_of)| EventKind::Send {
            msg,
            partition,
            resend_of,
            txn: None,
        }),
        (b.clone(), p.clone(), 0u64..3, 1u32..3, msgs()).prop_map(|(broker, partition, batch, attempt, msgs)| {
            EventKind::ProduceRequest { broker, partition, batch, attempt, msgs: msgs.into() }
        }),
        (p.clone(), 0u64..3, prop::option::of(0u64..8), msgs(), any::<bool>()).prop_map(
            |(partition, batch, base_offset, msgs, app_notified)| {
                EventKind::Acked { partition, batch, base_offset, msgs: msgs.into(), app_notified }
            }
        ),
        (p.clone(), 0u64..3, msgs(), any::<bool>()).prop_map(|(partition, batch, msgs, app_notified)| {
            EventKind::Failed { partition, batch, error: "E".into(), msgs: msgs.into(), app_notified }
        }),
        (p.clone(), 0u64..3, 1u32..3).prop_map(|(partition, batch, attempt)| {
            EventKind::ProduceRetry { partition, batch, attempt, error: "E".into() }
        }),
        msgs().prop_map(|msgs| EventKind::ProducerLost { msgs }),
        (b.clone(), p.clone(), 0u64..8, 1u32..4, msgs(), any::<bool>()).prop_map(
            |(broker, partition, base_offset, leader_epoch, msgs, as_leader)| {
                EventKind::Append { broker, partition, base_offset, leader_epoch, msgs: msgs.into(), as_leader }
            }
        ),
        (b.clone(), p.clone(), 0u64..8, placed(), b.clone(), 1u32..4, any::<bool>()).prop_map(
            |(broker, partition, to_offset, removed, leader, leader_epoch, by_hw)| {
                EventKind::Truncate {
                    broker,
                    partition,
                    to_offset,
                    removed,
                    reason: if by_hw {
                        TruncateReason::HighWatermark
                    } else {
                        TruncateReason::LeaderEpoch { leader, leader_epoch }
                    },
                }
            }
        ),
        (b.clone(), p.clone(), 0u64..8, placed()).prop_map(|(broker, partition, durable_offset, lost)| {
            EventKind::PageCacheLost { broker, partition, durable_offset, lost }
        }),
        (b.clone(), prop::collection::vec((0u32..2, 0u64..8), 0..4))
            .prop_map(|(broker, lost)| EventKind::Wiped { broker, lost }),
        (b.clone(), p.clone(), 0u64..8).prop_map(|(broker, partition, durable_offset)| {
            EventKind::Flush { broker, partition, durable_offset, by: "fsync".into() }
        }),
        (b.clone(), p.clone(), any::<bool>()).prop_map(|(broker, partition, after_append)| {
            EventKind::NotEnoughReplicas { broker, partition, isr: vec![broker], after_append }
        }),
        (p.clone(), prop::option::of(b.clone()), 1u32..4, election_kind()).prop_map(
            |(partition, leader, leader_epoch, kind)| {
                EventKind::Election { partition, leader, leader_epoch, kind, isr: leader.into_iter().collect() }
            }
        ),
        (p.clone(), prop::collection::vec(b.clone(), 0..3)).prop_map(|(partition, isr)| {
            EventKind::PartitionChange(Box::new(losslab_model::history::PartitionChange {
                partition,
                leader: isr.first().copied(),
                leader_epoch: 1,
                partition_epoch: 1,
                isr,
                elr: vec![],
                cause: "c".into(),
            }))
        }),
        (1u32..3, p.clone(), 0u64..8, 0u64..8).prop_map(|(consumer, partition, from, to)| {
            EventKind::Polled { consumer, partition, offsets: (from, to), msgs: vec![].into() }
        }),
        (1u32..3, p.clone(), 0u64..8, msg()).prop_map(|(consumer, partition, offset, msg)| {
            EventKind::Processed { consumer, partition, offset, msg }
        }),
        (1u32..3, p.clone(), 0u64..8)
            .prop_map(|(consumer, partition, offset)| { EventKind::Committed { consumer, partition, offset } }),
        (node(), mode()).prop_map(|(node, mode)| EventKind::Crash { node, mode }),
        node().prop_map(|node| EventKind::Restart { node }),
        Just(EventKind::FinalPhase),
        any::<bool>().prop_map(|ok| EventKind::Converged { ok, detail: "d".into() }),
    ]
}

fn replica() -> impl Strategy<Value = FinalReplica> {
    (1u32..4, 0u64..8, prop::collection::vec(msg(), 0..6)).prop_map(|(broker, high_watermark, log)| FinalReplica {
        broker,
        log_end_offset: log.len() as u64,
        high_watermark,
        log: log.into(),
    })
}

fn final_state() -> impl Strategy<Value = FinalState> {
    let partition = (
        0u32..3,
        prop::option::of(1u32..4),
        prop::collection::vec(msg(), 0..6),
        prop::collection::vec(replica(), 0..3),
    )
        .prop_map(|(partition, leader, log, replicas)| FinalPartition {
            partition,
            leader,
            leader_epoch: 1,
            isr: vec![],
            log: log.into(),
            replicas,
            offsets: vec![],
            uncommitted: vec![],
        });
    (prop::collection::vec(partition, 0..3), any::<bool>()).prop_map(|(partitions, stuck)| FinalState {
        partitions,
        stuck,
        stuck_reason: None,
        end_us: 9,
        out: vec![],
    })
}

proptest! {
    #![proptest_config(ProptestConfig { rng_seed: RngSeed::Fixed(167), ..ProptestConfig::default() })]

    /// Whatever the history, the checker answers: every class counted, counts matching
    /// the findings, findings sorted and explained, and the same answer twice.
    #[test]
    fn any_history_gets_a_consistent_verdict(
        events in prop::collection::vec((0u64..5_000_000, node(), kind()), 0..40),
        final_state in final_state(),
        consumers in 0u32..2,
    ) {
        let mut history = History::default();
        history.meta.consumers = consumers;
        history.events = events
            .into_iter()
            .map(|(t_us, node, kind)| Event { t_us, node, kind })
            .collect();
        let verdict = check(&history, &final_state);
        prop_assert_eq!(verdict.counts.len(), FindingClass::ALL.len());
        let counted: u64 = verdict.counts.values().sum();
        prop_assert_eq!(counted, verdict.findings.len() as u64);
        prop_assert!(verdict.findings.iter().all(|f| !f.explanation.is_empty()));
        let key = |f: &Finding| (f.class, f.partition, f.message);
        prop_assert!(verdict.findings.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
        prop_assert_eq!(check(&history, &final_state), verdict);
    }
}
