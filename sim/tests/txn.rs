//! Transactions through the cluster (issue 16): the final state's view of a log with
//! transactions (`txn_index::committed_view`), which the checker reads as "stored": markers are
//! never records, a transaction's records count only once its COMMIT marker is below the high
//! watermark, aborted and open ones are `uncommitted`.

use losslab_model::MsgId;
use losslab_sim::broker::txn_index::committed_view;
use losslab_sim::protocol::{Batch, ProducerStamp, TxnBatch};

fn m(producer: u32, seq: u64) -> MsgId {
    MsgId { producer, seq }
}

fn batch(base_offset: u64, msgs: Vec<MsgId>, pid: Option<u64>, txn: Option<TxnBatch>) -> Batch {
    let stamp = pid.map(|producer_id| ProducerStamp { producer_id, producer_epoch: 0, base_sequence: 0 });
    Batch { base_offset, leader_epoch: 0, msgs: msgs.into(), stamp, txn }
}

fn marker(offset: u64, pid: u64, commit: bool) -> Batch {
    batch(offset, vec![m(0, offset)], Some(pid), Some(TxnBatch::Marker { commit, coordinator_epoch: 0 }))
}

#[test]
fn a_log_without_transactions_is_unchanged_and_dense() {
    let batches = vec![batch(0, vec![m(1, 0), m(1, 1)], None, None), batch(2, vec![m(1, 2)], Some(7), None)];
    assert_eq!(committed_view(&batches, 3), (vec![m(1, 0), m(1, 1), m(1, 2)], vec![], vec![]));
    assert_eq!(committed_view(&batches, 1), (vec![m(1, 0)], vec![], vec![]));
}

#[test]
fn committed_records_count_aborted_and_open_ones_are_uncommitted_markers_are_neither() {
    let data = Some(TxnBatch::Data);
    let batches = vec![
        batch(0, vec![m(1, 0), m(1, 1)], Some(10), data),
        batch(2, vec![m(2, 0)], Some(20), data),
        batch(3, vec![m(3, 0)], None, None),
        marker(4, 10, true),
        marker(5, 20, false),
        batch(6, vec![m(1, 2)], Some(10), data),
    ];
    let (log, offsets, uncommitted) = committed_view(&batches, 7);
    assert_eq!(log, vec![m(1, 0), m(1, 1), m(3, 0)]);
    assert_eq!(offsets, vec![0, 1, 3]);
    assert_eq!(uncommitted, vec![m(2, 0), m(1, 2)]);
}

#[test]
fn a_commit_marker_at_or_above_the_high_watermark_does_not_commit() {
    let batches = vec![batch(0, vec![m(1, 0)], Some(10), Some(TxnBatch::Data)), marker(1, 10, true)];
    assert_eq!(committed_view(&batches, 1), (vec![], vec![], vec![m(1, 0)]));
    assert_eq!(committed_view(&batches, 2), (vec![m(1, 0)], vec![], vec![]));
}

// ---------------------------------------------------------------- through the whole cluster

use losslab_model::history::{EventKind, NodeName, TxnOutcome};
use losslab_model::{check, FindingClass, Scenario};
use losslab_sim::RunOutput;
use std::collections::BTreeSet;

/// Seeds each cluster test runs over.
const SEEDS: std::ops::Range<u64> = 1..4;

fn runs(json: &str) -> Vec<RunOutput> {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    let seeds: Vec<u64> = SEEDS.collect();
    losslab_sim::run_seeds(&scenario, &seeds, 2)
}

/// A transactional producer (`transactional.id` "tx", 10 records per transaction), acks=all,
/// min ISR 2, 3.9, with `producer`, `consumer` and `faults` merged in.
fn txn_scenario(producer: &str, consumer: &str, faults: &str, messages: u64) -> String {
    txn_scenario_on("3.9", producer, consumer, faults, messages)
}

fn txn_scenario_on(version: &str, producer: &str, consumer: &str, faults: &str, messages: u64) -> String {
    format!(
        r#"{{"kafka.version": "{version}", "topic": {{"min.insync.replicas": 2}},
        "producer": {{"acks": "all", "transactional.id": "tx", "app.transaction.records": 10 {producer}}},
        "consumer": {{ {consumer} }},
        "workload": {{"messages": {messages}, "rate_per_sec": 200}},
        "faults": [{faults}]}}"#
    )
}

fn count(r: &RunOutput, class: FindingClass) -> u64 {
    check(&r.history, &r.final_state).counts[class.as_str()]
}

/// The records of every transaction that ended with `outcome`.
fn ended(r: &RunOutput, outcome: TxnOutcome) -> Vec<Vec<MsgId>> {
    r.history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TxnEnded { outcome: o, msgs, .. } if *o == outcome => Some(msgs.clone()),
            _ => None,
        })
        .collect()
}

fn final_log(r: &RunOutput) -> BTreeSet<MsgId> {
    r.final_state.partitions.iter().flat_map(|p| p.log.iter().copied()).collect()
}

fn final_uncommitted(r: &RunOutput) -> BTreeSet<MsgId> {
    r.final_state.partitions.iter().flat_map(|p| p.uncommitted.iter().copied()).collect()
}

/// Records the app was told about (`app_notified`): acknowledged, failed.
fn notified(r: &RunOutput) -> (BTreeSet<MsgId>, BTreeSet<MsgId>) {
    let (mut acked, mut failed) = (BTreeSet::new(), BTreeSet::new());
    for e in &r.history.events {
        match &e.kind {
            EventKind::Acked { msgs, app_notified: true, batch, .. } => {
                assert_eq!(*batch, 0, "a transactional record reaches the app only with its commit");
                acked.extend(msgs.iter().copied());
            }
            EventKind::Failed { msgs, app_notified: true, .. } => failed.extend(msgs.iter().copied()),
            _ => {}
        }
    }
    (acked, failed)
}

#[test]
fn committed_transactions_are_in_the_final_log_and_acknowledged_at_the_commit() {
    for r in runs(&txn_scenario("", "", "", 200)) {
        let committed = ended(&r, TxnOutcome::Committed);
        assert_eq!(committed.len(), 20, "200 records in transactions of 10, none aborted");
        assert!(ended(&r, TxnOutcome::Aborted).is_empty() && ended(&r, TxnOutcome::Failed).is_empty());
        let log = final_log(&r);
        let (acked, failed) = notified(&r);
        for m in committed.iter().flatten() {
            assert!(log.contains(m) && acked.contains(m), "{m} committed: stored and acknowledged");
        }
        assert_eq!(acked.len(), 200);
        assert!(failed.is_empty() && final_uncommitted(&r).is_empty());
        // Every record was sent inside its transaction, and each transaction began before it ended.
        let sends = r.history.events.iter().filter(|e| matches!(e.kind, EventKind::Send { txn: Some(_), .. }));
        assert_eq!(sends.count(), 200);
        let begun = r.history.events.iter().filter(|e| matches!(e.kind, EventKind::TxnBegun { producer: 1, .. }));
        assert_eq!(begun.count(), 20);
        // The produce answers are not the app's: recorded as not notified.
        assert!(r.history.events.iter().any(|e| matches!(e.kind, EventKind::Acked { app_notified: false, .. })));
        assert_eq!(count(&r, FindingClass::LostAcked), 0);
        assert_eq!(r.history.meta.settings.get("transactional.id").map(String::as_str), Some("tx"));
        assert_eq!(r.history.meta.settings.get("kafka.version").map(String::as_str), Some("3.9"));
    }
}

#[test]
fn aborted_transactions_are_uncommitted_and_their_records_failed() {
    for r in runs(&txn_scenario(r#", "app.transaction.abort.every": 2"#, "", "", 200)) {
        let aborted = ended(&r, TxnOutcome::Aborted);
        assert_eq!(aborted.len(), 10, "every second transaction of 20");
        assert_eq!(ended(&r, TxnOutcome::Committed).len(), 10);
        let (log, uncommitted) = (final_log(&r), final_uncommitted(&r));
        let (acked, failed) = notified(&r);
        let mut stored_aborted = 0;
        for m in aborted.iter().flatten() {
            assert!(!log.contains(m), "{m} of an aborted transaction is not stored");
            assert!(failed.contains(m) && !acked.contains(m), "{m} failed for the app");
            stored_aborted += usize::from(uncommitted.contains(m));
        }
        // What reached a leader before the abort is in the log behind an ABORT marker; what was
        // still in the accumulator was aborted there (`abortUndrainedBatches`).
        assert!(stored_aborted > 0, "some aborted records reached the log");
        assert_eq!(acked.len(), 100);
        let aborts =
            r.history.events.iter().filter(|e| matches!(e.kind, EventKind::MarkerWritten { commit: false, .. }));
        assert!(aborts.count() >= 10);
        assert_eq!(count(&r, FindingClass::LostAcked), 0);
        assert_eq!(count(&r, FindingClass::TornTransaction), 0);
    }
}

#[test]
fn read_uncommitted_processes_aborted_records_read_committed_does_not() {
    let abort = r#", "app.transaction.abort.every": 2"#;
    for r in runs(&txn_scenario(abort, r#""isolation.level": "read_uncommitted""#, "", 200)) {
        assert!(count(&r, FindingClass::AbortedRead) > 0, "read_uncommitted reads aborted records");
        // An aborted record was never a committed one: reading it is not a loss.
        assert_eq!(count(&r, FindingClass::ConsumedLost), 0, "aborted reads are not consumed_lost");
        assert_eq!(r.history.meta.settings.get("isolation.level").map(String::as_str), Some("read_uncommitted"));
    }
    for r in runs(&txn_scenario(abort, r#""isolation.level": "read_committed""#, "", 200)) {
        assert_eq!(count(&r, FindingClass::AbortedRead), 0);
        let aborted: BTreeSet<MsgId> = ended(&r, TxnOutcome::Aborted).into_iter().flatten().collect();
        let processed: Vec<MsgId> = r
            .history
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Processed { msg, .. } => Some(*msg),
                _ => None,
            })
            .collect();
        assert!(processed.len() >= 100, "the committed records were processed");
        assert!(processed.iter().all(|m| !aborted.contains(m)));
        assert_eq!(r.history.meta.settings.get("isolation.level").map(String::as_str), Some("read_committed"));
    }
}

#[test]
fn a_leader_crash_mid_transaction_loses_no_committed_record_with_acks_all_and_min_isr_2() {
    let faults = r#"{"at_ms": 600, "action": "crash", "node": "leader", "mode": "process"},
                    {"delay_ms": 5000, "action": "restart", "node": "brokers"}"#;
    for r in runs(&txn_scenario("", r#""isolation.level": "read_committed""#, faults, 400)) {
        let crashed = r.history.events.iter().any(|e| matches!(e.kind, EventKind::Crash { .. }));
        assert!(crashed, "the fault fired");
        let committed: Vec<MsgId> = ended(&r, TxnOutcome::Committed).into_iter().flatten().collect();
        assert!(!committed.is_empty());
        let log = final_log(&r);
        assert!(committed.iter().all(|m| log.contains(m)), "every committed record is stored");
        for class in [FindingClass::LostAcked, FindingClass::TornTransaction, FindingClass::AbortedRead] {
            assert_eq!(count(&r, class), 0, "{}", class.as_str());
        }
        assert_eq!(count(&r, FindingClass::Stuck), 0);
    }
}

/// The fault target `txn-coordinator` is the leader of `__transaction_state`; crashing it
/// mid-workload hands the coordinator to the next leader, which loads the transactions from its
/// copy of the log and carries on: nothing acknowledged is lost, no transaction is torn, and the
/// run converges.
#[test]
fn a_crashed_transaction_coordinator_is_replaced_by_the_next_leader() {
    let faults = r#"{"after_acked": 100, "action": "crash", "node": "txn-coordinator"},
                    {"delay_ms": 10000, "action": "restart", "node": "brokers"}"#;
    for r in runs(&txn_scenario("", "", faults, 400)) {
        let events = &r.history.events;
        let crashed = events
            .iter()
            .find_map(|e| match e.kind {
                EventKind::Crash { node: NodeName::Broker(b), .. } => Some((e.t_us, b)),
                _ => None,
            })
            .expect("the step crashed a broker");
        let coordinator_before = events
            .iter()
            .filter(|e| e.t_us < crashed.0)
            .filter_map(|e| match &e.kind {
                EventKind::TxnTransition(t) => Some(t.broker),
                _ => None,
            })
            .next_back()
            .expect("a coordinator acted before the crash");
        assert_eq!(crashed.1, coordinator_before, "txn-coordinator names the coordinator's broker");
        assert!(
            events
                .iter()
                .any(|e| e.t_us > crashed.0 && matches!(&e.kind, EventKind::TxnTransition(t) if t.broker != crashed.1)),
            "another broker coordinates after the crash"
        );
        assert_eq!(count(&r, FindingClass::LostAcked), 0);
        assert_eq!(count(&r, FindingClass::TornTransaction), 0);
        assert_eq!(count(&r, FindingClass::Stuck), 0);
        assert!(count(&r, FindingClass::LostFailed) < 400, "the producer goes on after the move");
    }
}

/// Every release line with transactions commits and aborts: 0.11 (KIP-98), 2.5 (KIP-360/447),
/// 3.5 (no verification), 3.6 and 3.9 (KIP-890 part 1: the leader verifies each partition with
/// the coordinator before the first write of a transaction), 4.0 and 4.1 (part 2: the client
/// sends no AddPartitionsToTxn, the leader adds the partition; without that every EndTxn is
/// INVALID_TXN_STATE and the open transaction holds the LSO).
#[test]
fn every_release_line_commits_and_aborts_transactions() {
    let abort = r#", "app.transaction.abort.every": 2"#;
    for version in ["0.11", "2.5", "3.5", "3.6", "3.9", "4.0", "4.1"] {
        for r in runs(&txn_scenario_on(version, abort, r#""isolation.level": "read_committed""#, "", 200)) {
            assert_eq!(ended(&r, TxnOutcome::Committed).len(), 10, "{version}: 10 of 20 transactions commit");
            assert_eq!(ended(&r, TxnOutcome::Aborted).len(), 10, "{version}: 10 abort");
            let (acked, _) = notified(&r);
            assert_eq!(acked.len(), 100, "{version}");
            for class in [FindingClass::LostAcked, FindingClass::AbortedRead, FindingClass::TornTransaction] {
                assert_eq!(count(&r, class), 0, "{version}: {}", class.as_str());
            }
            let processed = r.history.events.iter().filter(|e| matches!(e.kind, EventKind::Processed { .. })).count();
            assert!(processed >= 100, "{version}: read_committed reads the committed records past the aborts");
            // TV2: the partitions joined the coordinator's transaction through their leader.
            let joined = r.history.events.iter().any(
                |e| matches!(&e.kind, EventKind::TxnTransition(t) if t.to == "Ongoing" && !t.partitions.is_empty()),
            );
            assert!(joined, "{version}: the coordinator's transactions hold the data partition");
        }
    }
}

/// KAFKA-17754's late marker (research 5.5): the coordinator's COMMIT marker for partition 0
/// waits on a cut between it and the leader; after `request.timeout.ms` it re-sends the marker
/// on a new connection, which goes first at the heal; the original goes at its own connection's
/// next TCP retransmission (`Network::abandon`), when a later transaction is open on the
/// partition. With transaction version 1 (3.9) every transaction of the producer has the same
/// epoch, so the stale marker commits the open transaction's first records, and the app then
/// aborts that transaction: an aborted read. With version 2 (4.0) each transaction has its own
/// epoch and the stale marker is refused (INVALID_PRODUCER_EPOCH).
#[test]
fn a_late_marker_commits_a_later_transaction_under_tv1_and_is_fenced_under_tv2() {
    let scenario = |version: &str| {
        format!(
            r#"{{"kafka.version": "{version}", "broker": {{"replica.lag.time.max.ms": 2000}},
            "producer": {{"transactional.id": "tx", "app.transaction.records": 50, "app.transaction.abort.every": 2}},
            "consumer": {{"isolation.level": "read_committed"}},
            "workload": {{"messages": 3000, "rate_per_sec": 100}},
            "faults": [{{"after_sent": 249, "action": "cut", "between": [["txn-coordinator"], ["leader"]], "oneway": true}},
                       {{"delay_ms": 35000, "action": "heal"}}]}}"#
        )
    };
    for r in runs(&scenario("3.9")) {
        assert!(
            count(&r, FindingClass::AbortedRead) > 0,
            "3.9: the stale COMMIT marker commits part of an aborted transaction"
        );
        let text = check(&r.history, &r.final_state)
            .findings
            .into_iter()
            .find(|f| f.class == FindingClass::AbortedRead)
            .map(|f| f.explanation)
            .unwrap_or_default();
        assert!(text.contains("That marker closed the transaction open on partition 0"), "{text}");
    }
    // 4.0 refuses a marker from two or more transactions back (seeds 1-3 here); the very next
    // transaction shares the marker's epoch and stays exposed until KIP-1228 (seed 5 of the
    // catalogue's `txn-late-marker-fixed`).
    for r in runs(&scenario("4.0")) {
        assert_eq!(count(&r, FindingClass::AbortedRead), 0, "4.0: the stale marker's epoch is older");
        assert_eq!(count(&r, FindingClass::TornTransaction), 0);
    }
}

/// `transaction.state.log.min.isr` is `__transaction_state`'s own min ISR
/// (`TransactionStateManager.transactionTopicConfigs`): with 3 and a replica down, the
/// coordinator cannot write its log and no transaction commits until the replica is back; with
/// the default 2 they go on. The data topic's `min.insync.replicas` is 1 in both.
#[test]
fn the_transaction_log_has_its_own_min_isr() {
    let scenario = |min_isr: u32| {
        format!(
            r#"{{"kafka.version": "3.9", "broker": {{"transaction.state.log.min.isr": {min_isr}}},
            "producer": {{"transactional.id": "tx", "app.transaction.records": 10}},
            "workload": {{"messages": 9000, "rate_per_sec": 100}},
            "faults": [{{"at_ms": 2000, "action": "crash", "node": "b3"}},
                       {{"delay_ms": 60000, "action": "restart", "node": "b3"}}]}}"#
        )
    };
    let commits_between = |r: &RunOutput, from_us: u64, to_us: u64| {
        r.history
            .events
            .iter()
            .filter(|e| (from_us..to_us).contains(&e.t_us))
            .filter(|e| matches!(e.kind, EventKind::TxnEnded { outcome: TxnOutcome::Committed, .. }))
            .count()
    };
    for r in runs(&scenario(3)) {
        assert_eq!(commits_between(&r, 35_000_000, 62_000_000), 0, "the ISR of __transaction_state is below 3");
        assert!(commits_between(&r, 70_000_000, 90_000_000) > 0, "b3 is back: commits resume");
    }
    for r in runs(&scenario(2)) {
        // Once the data partition's ISR has shrunk too (30 s), 2 of 3 replicas are enough.
        assert!(commits_between(&r, 35_000_000, 62_000_000) > 0, "2 of 3 replicas are enough");
    }
}

/// KAFKA-6119 (catalogue `txn-zombie-timeout`): a producer paused past
/// `transaction.timeout.ms`. 0.11 aborts the transaction at the producer's own epoch and has no
/// partition verification, so the zombie's later records open a transaction the coordinator does
/// not know, which the restarted producer's first COMMIT marker closes: an aborted read. 1.0
/// bumps the epoch and fences the zombie.
#[test]
fn a_zombie_past_its_transaction_timeout_is_fenced_from_1_0() {
    let scenario = |version: &str| {
        format!(
            r#"{{"kafka.version": "{version}",
            "producer": {{"transactional.id": "orders", "app.transaction.records": 50, "transaction.timeout.ms": 5000}},
            "consumer": {{"isolation.level": "read_committed"}},
            "workload": {{"messages": 2000, "rate_per_sec": 200}},
            "faults": [{{"after_sent": 525, "action": "pause", "node": "p1"}},
                       {{"delay_ms": 70000, "action": "resume", "node": "p1"}}]}}"#
        )
    };
    for r in runs(&scenario("0.11")) {
        assert!(count(&r, FindingClass::AbortedRead) > 0, "0.11: the zombie's records become visible");
    }
    for r in runs(&scenario("1.0")) {
        assert_eq!(count(&r, FindingClass::AbortedRead), 0, "1.0: the zombie is fenced");
    }
}

/// Issue 17: `__consumer_offsets` has 3 replicas; a topic with 4 and `min.insync.replicas` 4
/// must not leave the group's coordinator unable to write (its min ISR is capped at the offsets
/// topic's replication factor): without faults the group forms and reads everything.
#[test]
fn the_offsets_topic_min_isr_is_capped_at_its_replication_factor() {
    let scenario = Scenario::parse(
        "inline.json",
        "inline",
        r#"{"brokers": 4, "topic": {"replication.factor": 4, "min.insync.replicas": 4}, "workload": {"messages": 300}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for r in losslab_sim::run_seeds(&scenario, &[1, 2], 2) {
        assert_eq!(count(&r, FindingClass::Stuck), 0);
        assert_eq!(count(&r, FindingClass::ConsumerSkipped), 0);
    }
}

/// KAFKA-18575 (4.0): explore's counterexamples from before it was modelled (seeds 17 and 26).
/// A TV2 batch that finds the previous transaction still open on the partition at an older epoch
/// must not join it: the leader answers CONCURRENT_TRANSACTIONS and the client retries once the
/// previous transaction's marker is written.
#[test]
fn a_tv2_batch_never_joins_the_previous_transaction_still_open_on_the_partition() {
    for (json, seed) in
        [(include_str!("fixtures/kafka-18575-seed17.json"), 17), (include_str!("fixtures/kafka-18575-seed26.json"), 26)]
    {
        let scenario = Scenario::parse("fixture.json", "fixture", json).unwrap_or_else(|e| panic!("{e}"));
        for r in losslab_sim::run_seeds(&scenario, &[seed], 1) {
            for class in [FindingClass::LostAcked, FindingClass::AbortedRead, FindingClass::TornTransaction] {
                assert_eq!(count(&r, class), 0, "seed {seed}: {}", class.as_str());
            }
        }
    }
}

/// 4.0's leader adds the partition for a TV2 client whatever `transaction.partition.verification.enable`
/// says: with it off, transactions still commit (without the add, every EndTxn would be
/// INVALID_TXN_STATE).
#[test]
fn tv2_adds_partitions_even_with_verification_disabled() {
    let json = r#"{"kafka.version": "4.1", "broker": {"transaction.partition.verification.enable": false},
        "producer": {"transactional.id": "tx", "app.transaction.records": 10},
        "workload": {"messages": 100, "rate_per_sec": 200}}"#;
    for r in runs(json) {
        assert_eq!(ended(&r, TxnOutcome::Committed).len(), 10);
    }
}

/// KAFKA-17754's anomaly A (research 5.2): an EndTxn(COMMIT) on a slow link is re-sent after
/// `request.timeout.ms` on a new connection; a late copy commits a later transaction's first
/// records early. From 3.6 the leader then verifies that transaction's next batch with the
/// coordinator, which no longer has the partition in a transaction: the batch is refused,
/// INVALID_TXN_STATE before 3.8 and TRANSACTION_ABORTABLE from 3.8 (KAFKA-16314), and the
/// commit throws. On 4.0 the late EndTxn carries an older epoch and is fenced: nothing fails.
#[test]
fn a_late_end_txn_commits_early_and_verification_refuses_the_rest_until_tv2() {
    let scenario = |version: &str| {
        format!(
            r#"{{"kafka.version": "{version}",
            "producer": {{"transactional.id": "tx", "app.transaction.records": 50, "request.timeout.ms": 1000}},
            "consumer": {{"isolation.level": "read_committed"}},
            "workload": {{"messages": 2000, "rate_per_sec": 500}},
            "faults": [{{"after_sent": 249, "action": "slow", "between": [["p1"], ["txn-coordinator"]], "latency_ms": 3000}},
                       {{"delay_ms": 8000, "action": "heal"}}]}}"#
        )
    };
    let refused_with = |r: &RunOutput| -> BTreeSet<String> {
        r.history
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Failed { error, app_notified: false, .. } => Some(error.clone()),
                _ => None,
            })
            .collect()
    };
    let errors_3_7: BTreeSet<String> = runs(&scenario("3.7")).iter().flat_map(refused_with).collect();
    assert!(errors_3_7.contains("INVALID_TXN_STATE"), "{errors_3_7:?}");
    let errors_3_9: BTreeSet<String> = runs(&scenario("3.9")).iter().flat_map(refused_with).collect();
    assert!(errors_3_9.contains("TRANSACTION_ABORTABLE"), "{errors_3_9:?}");
    for r in runs(&scenario("4.0")) {
        assert!(refused_with(&r).is_empty(), "4.0: the late EndTxn is fenced");
        assert!(ended(&r, TxnOutcome::Failed).is_empty());
    }
}
