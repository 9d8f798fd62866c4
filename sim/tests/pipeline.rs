//! The consume-transform-produce pipeline (`consumer.app.output`, issue 16) through the whole
//! cluster: topic `out` holds one output per input record (its id is the input's), and the
//! checker's `pipeline_lost` / `pipeline_duplicated` judge it. The plain pipeline (outputs
//! acknowledged, then `commitSync()`) duplicates after a consumer crash and loses nothing; the
//! transactional one (KIP-447: outputs and offsets in one transaction) neither duplicates nor
//! loses, on 2.5, 3.9 (AddOffsetsToTxn, 3.7+ verification of the TxnOffsetCommit) and 4.1 (TV2:
//! the group coordinator adds the offsets partition).

use losslab_model::history::{EventKind, MsgId};
use losslab_model::{check, FindingClass, Scenario};
use losslab_sim::RunOutput;
use std::collections::BTreeMap;

const SEEDS: std::ops::Range<u64> = 1..4;

fn runs(json: &str) -> Vec<RunOutput> {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    let seeds: Vec<u64> = SEEDS.collect();
    losslab_sim::run_seeds(&scenario, &seeds, 2)
}

fn count(r: &RunOutput, class: FindingClass) -> u64 {
    check(&r.history, &r.final_state).counts[class.as_str()]
}

/// Two consumers on two partitions, `app.output` as given, 2 ms a record, 3000 records at
/// 1000/s, with `faults` and the version.
fn pipeline(version: &str, output: &str, faults: &str) -> String {
    format!(
        r#"{{"kafka.version": "{version}", "topic": {{"partitions": 2, "min.insync.replicas": 2}},
        "consumer": {{"app.output": "{output}", "isolation.level": "read_committed",
                      "enable.auto.commit": false, "app.process.ms": 2}},
        "workload": {{"messages": 3000, "rate_per_sec": 1000, "consumers": 2}},
        "faults": [{faults}]}}"#
    )
}

/// c1 crashes mid-batch (its group joined at about 6 s) and restarts a second later.
const CRASH: &str = r#"{"at_ms": 7500, "action": "crash", "node": "c1", "mode": "process"},
                       {"delay_ms": 1000, "action": "restart", "node": "c1"}"#;

/// How many outputs the final logs of `out` hold per input record.
fn outputs(r: &RunOutput) -> BTreeMap<MsgId, usize> {
    let mut n = BTreeMap::new();
    for p in &r.final_state.out {
        for m in p.log.iter() {
            *n.entry(*m).or_insert(0) += 1;
        }
    }
    n
}

fn assert_exactly_once(r: &RunOutput, what: &str) {
    assert!(!r.final_state.stuck, "{what} seed {}: stuck: {:?}", r.seed, r.final_state.stuck_reason);
    assert_eq!(r.final_state.out.len(), 2, "out has the input topic's partitions");
    let outs = outputs(r);
    for p in &r.final_state.partitions {
        for m in p.log.iter() {
            assert_eq!(outs.get(m), Some(&1), "{what} seed {}: {m} has one output", r.seed);
        }
    }
    assert_eq!(outs.len(), 3000, "{what} seed {}: no output without an input", r.seed);
    assert_eq!(count(r, FindingClass::PipelineLost), 0, "{what} seed {}", r.seed);
    assert_eq!(count(r, FindingClass::PipelineDuplicated), 0, "{what} seed {}", r.seed);
}

#[test]
fn a_transactional_pipeline_without_faults_writes_one_output_per_input() {
    for version in ["2.5", "3.9", "4.1"] {
        for r in runs(&pipeline(version, "transactional", "")) {
            assert_exactly_once(&r, version);
            let committed = r
                .history
                .events
                .iter()
                .filter(|e| matches!(&e.kind, EventKind::TxnEnded { producer, .. } if *producer > 1_000_000))
                .count();
            assert!(committed >= 2, "{version}: each consumer's producer ran transactions");
        }
    }
}

#[test]
fn a_plain_pipeline_duplicates_after_a_consumer_crash_and_loses_nothing() {
    let runs = runs(&pipeline("3.9", "plain", CRASH));
    for r in &runs {
        assert!(!r.final_state.stuck, "seed {}: {:?}", r.seed, r.final_state.stuck_reason);
        assert_eq!(count(r, FindingClass::PipelineLost), 0, "seed {}", r.seed);
        let outs = outputs(r);
        assert!(r.final_state.partitions.iter().flat_map(|p| p.log.iter()).all(|m| outs.contains_key(m)));
    }
    assert!(
        runs.iter().any(|r| count(r, FindingClass::PipelineDuplicated) > 0),
        "the replayed batch is written again on some seed"
    );
}

#[test]
fn a_transactional_pipeline_under_the_same_crash_is_exactly_once() {
    let mut aborted_outputs = 0;
    for version in ["2.5", "3.9", "4.1"] {
        for r in runs(&pipeline(version, "transactional", CRASH)) {
            assert_exactly_once(&r, version);
            aborted_outputs += r.final_state.out.iter().map(|p| p.uncommitted.len()).sum::<usize>();
        }
    }
    // The crashed incarnation's open transaction is aborted: its outputs stay in `out`,
    // uncommitted, where a read_committed reader skips them.
    assert!(aborted_outputs > 0, "some crashed batch had outputs in the log");
}

/// KIP-447's UNSTABLE_OFFSET_COMMIT, handled: c1 crashes and stays down for 90 s, c2 takes its
/// partition over once c1's session expires; every OffsetFetch answered UNSTABLE_OFFSET_COMMIT
/// (a TxnOffsetCommit of c1's still pending) is asked again until the partition resumes, and
/// the run converges exactly once. (The answer itself is pinned by the conformance cases
/// `txn_group_coordinator::test_fetch_pending_txn_offsets_*`: the crash rarely falls between a
/// TxnOffsetCommit and its marker, a window of a few milliseconds.)
#[test]
fn a_new_owner_resumes_after_the_crashed_owners_transaction_is_settled() {
    let faults = r#"{"at_ms": 7200, "action": "crash", "node": "c1", "mode": "process"},
                    {"at_ms": 90000, "action": "restart", "node": "c1"}"#;
    for r in runs(&pipeline("3.9", "transactional", faults)) {
        let last_unstable = r
            .history
            .events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::OffsetFetchUnstable { .. }))
            .map(|e| e.t_us)
            .max();
        let took_over = r.history.events.iter().find(|e| {
            e.t_us > 50_000_000 && matches!(&e.kind, EventKind::Resumed(r) if r.consumer == 2 && r.partition == 0)
        });
        let took_over = took_over.unwrap_or_else(|| panic!("seed {}: c2 resumed c1's partition", r.seed));
        assert!(last_unstable.is_none_or(|t| t < took_over.t_us), "seed {}: asked until stable", r.seed);
        assert_exactly_once(&r, "3.9");
    }
}
