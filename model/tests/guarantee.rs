//! `model::predict` for the transaction classes (issue 16, `model::guarantee`): which of them a
//! configuration permits under which faults and release lines, each with its reason. Boundaries
//! pinned: read_committed against read_uncommitted, data loss, the faults that delay requests,
//! the release lines of KIP-890 parts 1 and 2 and of KIP-447, and the two pipelines.

use losslab_model::explore::FaultKind;
use losslab_model::predict::predict;
use losslab_model::{FindingClass, Scenario};
use std::collections::BTreeSet;

fn scenario(json: &str) -> Scenario {
    Scenario::parse("p.json", "p", json).unwrap()
}

fn kinds(list: &str) -> BTreeSet<FaultKind> {
    if list.is_empty() {
        return BTreeSet::new();
    }
    FaultKind::parse_list(list).unwrap()
}

fn permitted(json: &str, faults: &str, class: FindingClass) -> (bool, String) {
    let p = &predict(&scenario(json), &kinds(faults))[&class];
    (p.permitted, p.reason.clone())
}

const TXN: &str = r#""producer": {"transactional.id": "t"}, "topic": {"min.insync.replicas": 2}"#;

#[test]
fn aborted_reads_need_read_uncommitted_or_loss_or_late_requests() {
    let file =
        |consumer: &str, version: &str| format!(r#"{{"kafka.version": "{version}", {TXN}, "consumer": {consumer}}}"#);
    let aborting = r#"{"isolation.level": "read_uncommitted"}"#;
    let p = permitted(&file(aborting, "4.1"), "crash", FindingClass::AbortedRead);
    assert!(p.0 && p.1.contains("read_uncommitted"), "{}", p.1);
    let committed = r#"{"isolation.level": "read_committed"}"#;
    for faults in ["crash", "crash,pause,cut,isolate"] {
        // 4.0+ still allows the late duplicate marker (KIP-1228 came after 4.1).
        let p = permitted(&file(committed, "4.1"), faults, FindingClass::AbortedRead);
        assert_eq!(p.0, faults != "crash", "{faults}: {}", p.1);
    }
    let p = permitted(&file(committed, "3.9"), "cut", FindingClass::AbortedRead);
    assert!(p.0 && p.1.contains("KAFKA-17754") && p.1.contains("verification"), "{}", p.1);
    let p = permitted(&file(committed, "3.5"), "cut", FindingClass::AbortedRead);
    assert!(p.0 && p.1.contains("late produce"), "{}", p.1);
    let p = permitted(&file(committed, "4.0"), "pause", FindingClass::AbortedRead);
    assert!(p.0 && p.1.contains("KIP-1228"), "{}", p.1);
    // Broker data loss breaks read_committed too.
    let p = permitted(&file(committed, "4.1"), "power", FindingClass::AbortedRead);
    assert!(p.0 && p.1.contains("read_committed trusts the markers"), "{}", p.1);
    let p = permitted(&file(committed, "4.1"), "crash", FindingClass::AbortedRead);
    assert!(p.1.contains("last stable offset"), "{}", p.1);
    // No transactions, or an app that never aborts without faults.
    assert!(!permitted(r#"{"consumer": {"isolation.level": "read_uncommitted"}}"#, "cut", FindingClass::AbortedRead).0);
    assert!(!permitted(&file(aborting, "4.1"), "", FindingClass::AbortedRead).0);
}

#[test]
fn torn_transactions_need_loss_or_late_requests() {
    let file = |version: &str| format!(r#"{{"kafka.version": "{version}", {TXN}}}"#);
    assert!(!permitted(&file("4.1"), "crash", FindingClass::TornTransaction).0);
    assert!(permitted(&file("4.1"), "wipe", FindingClass::TornTransaction).0);
    assert!(permitted(&file("3.9"), "isolate", FindingClass::TornTransaction).0);
    let p = permitted(&file("4.0"), "cut", FindingClass::TornTransaction);
    assert!(p.0 && p.1.contains("duplicate WriteTxnMarkers"), "{}", p.1);
    let fsync = format!(r#"{{{TXN}, "broker": {{"log.flush.interval.messages": 1}}}}"#);
    assert!(!permitted(&fsync, "power", FindingClass::TornTransaction).0);
}

#[test]
fn the_plain_pipeline_duplicates_and_the_transactional_one_does_not_absent_loss() {
    let file = |output: &str, extra: &str| {
        format!(
            r#"{{"topic": {{"min.insync.replicas": 2}}, "workload": {{"consumers": 2}}, "consumer": {{"app.output": "{output}"}}{extra}}}"#
        )
    };
    let p = permitted(&file("plain", ""), "crash", FindingClass::PipelineDuplicated);
    assert!(p.0 && p.1.contains("at least once"), "{}", p.1);
    let p = permitted(&file("transactional", ""), "crash,pause,cut,isolate", FindingClass::PipelineDuplicated);
    assert!(!p.0 && p.1.contains("KIP-447"), "{}", p.1);
    assert!(permitted(&file("transactional", ""), "wipe", FindingClass::PipelineDuplicated).0);
    let p = permitted(&file("none", ""), "crash", FindingClass::PipelineDuplicated);
    assert!(!p.0 && p.1.contains("app.output=none"), "{}", p.1);
}

#[test]
fn before_kip_447_a_transactional_pipeline_can_duplicate_on_a_rebalance() {
    let file = r#"{"kafka.version": "2.4", "producer": {"acks": "all"}, "topic": {"min.insync.replicas": 2}, "workload": {"consumers": 2}, "consumer": {"app.output": "transactional"}}"#;
    let p = permitted(file, "crash", FindingClass::PipelineDuplicated);
    assert!(p.0 && p.1.contains("requireStable"), "{}", p.1);
    let one = file.replace(r#""consumers": 2"#, r#""consumers": 1"#);
    assert!(!permitted(&one, "crash", FindingClass::PipelineDuplicated).0, "no member to take over");
}

#[test]
fn pipeline_loss_follows_the_commit_and_the_version() {
    let file = |output: &str, version: &str, extra: &str| {
        format!(
            r#"{{"kafka.version": "{version}", "topic": {{"min.insync.replicas": 2}}, "consumer": {{"app.output": "{output}"{extra}}}}}"#
        )
    };
    assert!(!permitted(&file("plain", "4.1", ""), "crash,cut", FindingClass::PipelineLost).0);
    assert!(!permitted(&file("transactional", "4.1", ""), "crash,cut", FindingClass::PipelineLost).0);
    let p = permitted(&file("transactional", "3.9", ""), "cut", FindingClass::PipelineLost);
    assert!(p.0 && p.1.contains("TxnOffsetCommit"), "{}", p.1);
    let p = permitted(&file("plain", "4.1", r#", "enable.auto.commit": true"#), "crash", FindingClass::PipelineLost);
    assert!(p.0 && p.1.contains("enable.auto.commit"), "{}", p.1);
    assert!(permitted(&file("plain", "4.1", ""), "power", FindingClass::PipelineLost).0);
}
