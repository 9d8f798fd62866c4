//! The consumer rules of issue 15 through the whole cluster: `close()` against a crash, static
//! membership (a rejoin without a rebalance, the old member id fenced), cooperative rebalancing
//! (partitions that do not move are never given up), KIP-320 (2.3 seeks back where 2.2 skips;
//! `auto.offset.reset=none` raises), and the awaited join-prepare commit. Each pins the events
//! and texts the checker's explanations rely on.

use losslab_model::history::{EventKind, NodeName};
use losslab_model::{check, FindingClass, Scenario};
use losslab_sim::RunOutput;

fn runs(json: &str, seeds: std::ops::Range<u64>) -> Vec<RunOutput> {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    let seeds: Vec<u64> = seeds.collect();
    losslab_sim::run_seeds(&scenario, &seeds, 2)
}

fn count(run: &RunOutput, class: FindingClass) -> u64 {
    check(&run.history, &run.final_state).counts[class.as_str()]
}

fn kinds(run: &RunOutput) -> impl Iterator<Item = (u64, &EventKind)> {
    run.history.events.iter().map(|e| (e.t_us, &e.kind))
}

/// Two after-process consumers on two partitions; c1 gets `action` at 8.5 s.
fn two_consumers(action: &str, consumer: &str) -> String {
    let mode = if action == "crash" { r#", "mode": "process""# } else { "" };
    format!(
        r#"{{"topic": {{"partitions": 2}},
            "consumer": {{"enable.auto.commit": false, "app.commit": "after-process", "app.process.ms": 2 {consumer}}},
            "workload": {{"consumers": 2, "messages": 20000, "rate_per_sec": 1000}},
            "faults": [{{"at_ms": 8500, "action": "{action}", "node": "c1"{mode}}}]}}"#
    )
}

#[test]
fn close_commits_and_leaves_where_a_crash_replays() {
    for run in runs(&two_consumers("crash", ""), 1..3) {
        assert!(count(&run, FindingClass::ConsumerDuplicated) > 0, "the uncommitted batch is replayed");
        assert!(!kinds(&run).any(|(_, k)| matches!(k, EventKind::LeftGroup { consumer: 1, .. })));
    }
    for run in runs(&two_consumers("stop", ""), 1..3) {
        assert_eq!(count(&run, FindingClass::ConsumerDuplicated), 0);
        assert_eq!(count(&run, FindingClass::ConsumerSkipped), 0);
        let left = kinds(&run)
            .find(|(_, k)| matches!(k, EventKind::LeftGroup { consumer: 1, .. }))
            .expect("close() sends LeaveGroup");
        let EventKind::LeftGroup { reason, .. } = left.1 else { unreachable!() };
        assert_eq!(reason, "the consumer is being closed");
        let stopped = kinds(&run)
            .find(|(_, k)| matches!(k, EventKind::Stopped { node: NodeName::Consumer(1) }))
            .expect("the process exits");
        assert_eq!(stopped.0, left.0, "it exits right after LeaveGroup");
        // The coordinator removes it at once and hands its partition to c2 before the final
        // phase (a crashed member would hold it for session.timeout.ms).
        let removed = kinds(&run)
            .find(|(_, k)| matches!(k, EventKind::MemberRemoved { consumer: 1, reason, .. } if reason == "the consumer is being closed"))
            .expect("removed on LeaveGroup");
        assert!(removed.0 - left.0 < 100_000);
        assert!(kinds(&run).any(|(t, k)| t > removed.0
            && t < 20_000_000
            && matches!(k, EventKind::GroupRebalanced { assignment, .. } if assignment == &vec![(2, vec![0, 1])])));
    }
}

/// c1 stops and starts again 3 s later; two async workers per app.
fn stop_and_return(consumer: &str) -> String {
    format!(
        r#"{{"topic": {{"partitions": 2}},
            "consumer": {{"enable.auto.commit": false, "app.commit": "after-process", "app.processing": "async",
                          "app.workers": 2, "app.process.ms": 2 {consumer}}},
            "workload": {{"consumers": 2, "messages": 20000, "rate_per_sec": 1000}},
            "faults": [{{"at_ms": 8500, "action": "stop", "node": "c1"}}, {{"delay_ms": 3000, "action": "restart", "node": "c1"}}]}}"#
    )
}

#[test]
fn static_membership_rejoins_without_a_rebalance() {
    for run in runs(&stop_and_return(r#", "group.instance.id": "reader""#), 1..3) {
        assert_eq!(count(&run, FindingClass::ConsumerDuplicated), 0);
        assert!(!kinds(&run).any(|(_, k)| matches!(k, EventKind::LeftGroup { .. })), "a static member never leaves");
        let rebalances: Vec<u64> =
            kinds(&run).filter(|(_, k)| matches!(k, EventKind::GroupRebalanced { .. })).map(|(t, _)| t).collect();
        assert_eq!(rebalances.len(), 1, "only the first join rebalances: {rebalances:?}");
        let fenced = kinds(&run)
            .find_map(|(_, k)| match k {
                EventKind::MemberRemoved { consumer: 1, reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .expect("the old member id is replaced");
        assert!(fenced.starts_with("fenced: static member reader-1 rejoined as member c1-"), "{fenced}");
        let back: Vec<(u32, Vec<u32>)> = kinds(&run)
            .filter_map(|(t, k)| match k {
                EventKind::Assigned { consumer: 1, generation, partitions } if t > 11_000_000 => {
                    Some((*generation, partitions.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(back.first(), Some(&(1, vec![0])), "the same generation and partition");
    }
    for run in runs(&stop_and_return(""), 1..3) {
        assert!(count(&run, FindingClass::ConsumerDuplicated) > 0);
        let rebalances = kinds(&run).filter(|(_, k)| matches!(k, EventKind::GroupRebalanced { .. })).count();
        assert!(rebalances >= 2, "the leave and the return rebalance the group ({rebalances})");
    }
}

#[test]
fn a_static_member_gone_past_its_session_is_removed() {
    // No LeaveGroup: its partition waits for session.timeout.ms (10 s here), then moves.
    let json = r#"{"topic": {"partitions": 2}, "consumer": {"group.instance.id": "reader", "session.timeout.ms": 10000},
        "workload": {"consumers": 2, "messages": 30000, "rate_per_sec": 1000},
        "faults": [{"at_ms": 8000, "action": "stop", "node": "c1"}]}"#;
    for run in runs(json, 1..2) {
        let stopped = kinds(&run)
            .find(|(_, k)| matches!(k, EventKind::Stopped { node: NodeName::Consumer(1) }))
            .map(|(t, _)| t)
            .expect("c1 closes");
        let (removed, reason) = kinds(&run)
            .find_map(|(t, k)| match k {
                EventKind::MemberRemoved { consumer: 1, reason, .. } => Some((t, reason.clone())),
                _ => None,
            })
            .expect("its session expires");
        assert_eq!(reason, "sent no heartbeat within session.timeout.ms (10000 ms)");
        assert!(removed >= stopped + 9_000_000 && removed <= stopped + 11_000_000, "{stopped} -> {removed}");
        assert!(kinds(&run).any(|(t, k)| t > removed
            && matches!(k, EventKind::GroupRebalanced { assignment, .. } if assignment == &vec![(2, vec![0, 1])])));
    }
}

#[test]
fn cooperative_rebalance_keeps_unmoved_partitions() {
    let json = r#"{"topic": {"partitions": 3},
        "consumer": {"partition.assignment.strategy": "cooperative-sticky"},
        "workload": {"consumers": 2, "messages": 20000, "rate_per_sec": 1000},
        "faults": [{"at_ms": 8000, "action": "stop", "node": "c2"}, {"delay_ms": 3000, "action": "restart", "node": "c2"}]}"#;
    for run in runs(json, 1..3) {
        let c1: Vec<Vec<u32>> = kinds(&run)
            .filter_map(|(_, k)| match k {
                EventKind::Assigned { consumer: 1, partitions, .. } => Some(partitions.clone()),
                _ => None,
            })
            .collect();
        // Sticky from nothing, then everything when c2 leaves, then it gives up only one (it keeps
        // the first `maxQuota` of what it owns, `ConstrainedAssignmentBuilder`).
        assert_eq!(c1[..3], [vec![0, 2], vec![0, 1, 2], vec![0, 1]], "{c1:?}");
        let after_return: Vec<Vec<(u32, Vec<u32>)>> = kinds(&run)
            .filter_map(|(t, k)| match k {
                EventKind::GroupRebalanced { assignment, .. } if t > 11_000_000 => Some(assignment.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(after_return[0], vec![(1, vec![0, 1]), (2, vec![])], "partition 2 is held back while c1 owns it");
        assert_eq!(after_return[1], vec![(1, vec![0, 1]), (2, vec![2])], "then handed over");
        assert_eq!(count(&run, FindingClass::ConsumerSkipped), 0);
    }
}

/// The catalogue's kip320-truncation at `version`, with `consumer` keys.
fn truncation(version: &str, consumer: &str) -> String {
    format!(
        r#"{{"kafka.version": "{version}", "consumer": {{{consumer}}},
            "topic": {{"replication.factor": 2, "unclean.leader.election.enable": true}},
            "workload": {{"messages": 20000, "rate_per_sec": 500}},
            "faults": [{{"at_ms": 4000, "action": "cut", "between": [["b2"], ["b1"]]}},
                       {{"when_isr_size": 1, "at_ms": 24000, "action": "crash", "node": "c1"}},
                       {{"action": "crash", "node": "b1"}},
                       {{"delay_ms": 1000, "action": "heal"}},
                       {{"delay_ms": 15000, "action": "restart", "node": "b1"}},
                       {{"delay_ms": 118000, "action": "restart", "node": "c1"}}]}}"#
    )
}

#[test]
fn kip320_seeks_back_at_2_3_where_2_2_skips() {
    for run in runs(&truncation("2.2", ""), 1..3) {
        assert!(count(&run, FindingClass::ConsumerSkipped) > 1000);
        assert!(!kinds(&run).any(|(_, k)| matches!(k, EventKind::TruncationDetected { .. })));
    }
    for run in runs(&truncation("2.3", ""), 1..3) {
        assert_eq!(count(&run, FindingClass::ConsumerSkipped), 0);
        let detected: Vec<(u64, Option<u64>, String)> = kinds(&run)
            .filter_map(|(_, k)| match k {
                EventKind::TruncationDetected { consumer: 1, partition: 0, position, end_offset, action } => {
                    Some((*position, *end_offset, action.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(detected.len(), 1, "{detected:?}");
        let (position, end, action) = &detected[0];
        let end = end.expect("the leader placed the epoch");
        assert!(end < *position && *position - end > 1000, "{position} -> {end}");
        assert_eq!(action, &format!("sought back to offset {end} (epoch 0), the first offset known to diverge"));
        // And the group resumed there: the next poll starts at the divergence point.
        assert!(kinds(&run).any(
            |(_, k)| matches!(k, EventKind::Polled { consumer: 1, partition: 0, offsets, .. } if offsets.0 == end)
        ));
    }
}

#[test]
fn without_a_reset_policy_the_truncation_is_raised_and_the_app_dies() {
    for run in runs(&truncation("2.3", r#""auto.offset.reset": "none""#), 1..2) {
        let (t, error) = kinds(&run)
            .find_map(|(t, k)| match k {
                EventKind::ConsumerFailed { consumer: 1, error } => Some((t, error.clone())),
                _ => None,
            })
            .expect("poll() throws");
        let numbers: Vec<u64> = error.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
        assert!(
            error.starts_with("LogTruncationException: truncation detected on partition 0 at offset ")
                && error.contains(", divergent offset ")
                && error.ends_with("(epoch 0), and auto.offset.reset=none"),
            "{error}"
        );
        // [partition, position, divergent offset, epoch]: the log diverged well below the position.
        assert!(numbers.len() == 4 && numbers[2] + 1000 < numbers[1], "{error}");
        assert!(kinds(&run).any(|(u, k)| u == t
            && matches!(k, EventKind::TruncationDetected { action, .. } if action == "raised LogTruncationException (auto.offset.reset=none)")));
        assert!(kinds(&run).any(|(u, k)| u == t && matches!(k, EventKind::Stopped { node: NodeName::Consumer(1) })));
        // Every restart dies the same way: an operator has to move the group's offset.
        assert_eq!(count(&run, FindingClass::Stuck), 1);
    }
}

#[test]
fn the_rejoin_waits_for_its_join_prepare_commit() {
    // c2 leaves at 8 s; c1 (auto-commit, 5 s interval) rejoins and first commits its position:
    // the coordinator writes that commit before it completes the rebalance, and the commit is
    // never refused as REBALANCE_IN_PROGRESS (the join waits for the answer).
    let json = r#"{"topic": {"partitions": 2}, "workload": {"consumers": 2, "messages": 20000, "rate_per_sec": 1000},
        "faults": [{"at_ms": 8000, "action": "stop", "node": "c2"}]}"#;
    for run in runs(json, 1..3) {
        let removed = kinds(&run)
            .find(|(_, k)| matches!(k, EventKind::MemberRemoved { consumer: 2, .. }))
            .map(|(t, _)| t)
            .expect("c2 leaves");
        let rebalanced = kinds(&run)
            .find(|(t, k)| *t > removed && matches!(k, EventKind::GroupRebalanced { .. }))
            .map(|(t, _)| t)
            .expect("the group rebalances");
        let commits: Vec<u64> = kinds(&run)
            .filter(|(t, k)| *t > removed && *t <= rebalanced && matches!(k, EventKind::Committed { consumer: 1, .. }))
            .map(|(t, _)| t)
            .collect();
        assert!(!commits.is_empty(), "c1's join-prepare commit lands before the rebalance completes");
        assert!(!kinds(&run).any(|(_, k)| matches!(k, EventKind::CommitFailed { consumer: 1, .. })));
        assert_eq!(count(&run, FindingClass::ConsumerDuplicated), 0);
    }
}

/// KIP-394 (2.2): c1 joins, crashes before the first generation completes, and its restarted
/// incarnation waits out the rebalance (the dead member holds it until its session expires,
/// 45 s). The waiting JoinGroup outlasts request.timeout.ms and is sent again: with the member
/// id MEMBER_ID_REQUIRED gave it (2.2+), or, before 2.2, not before Kafka's join timeout
/// (max.poll.interval.ms + 5 s). Either way the group never holds c1 twice.
#[test]
fn a_consumer_waiting_out_a_rebalance_is_one_member() {
    for version in ["2.1", "3.9"] {
        let json = format!(
            r#"{{"kafka.version": "{version}", "topic": {{"partitions": 2}}, "consumer": {{"session.timeout.ms": 45000}},
                "workload": {{"messages": 8000, "rate_per_sec": 500, "consumers": 2}},
                "faults": [{{"at_ms": 5000, "action": "crash", "node": "c1"}},
                           {{"delay_ms": 3000, "action": "restart", "node": "c1"}}]}}"#
        );
        for run in runs(&json, 1..3) {
            let assignments: Vec<Vec<u32>> = kinds(&run)
                .filter_map(|(_, k)| match k {
                    EventKind::GroupRebalanced { assignment, .. } => Some(assignment.iter().map(|(c, _)| *c).collect()),
                    _ => None,
                })
                .collect();
            assert!(assignments.len() >= 2, "{version}: {assignments:?}");
            for members in &assignments {
                let distinct: std::collections::BTreeSet<u32> = members.iter().copied().collect();
                assert_eq!(distinct.len(), members.len(), "{version}: a consumer is two members: {assignments:?}");
            }
            assert_eq!(count(&run, FindingClass::ConsumerSkipped), 0);
        }
    }
}
