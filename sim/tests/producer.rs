//! The producer's semantics through the whole cluster: outcomes the client reports versus what
//! the log ends up holding, resends, and what a sync app does after a crash.

use losslab_model::history::{EventKind, MsgId};
use losslab_model::{check, FindingClass, Scenario};
use std::collections::BTreeSet;

fn run(json: &str, seed: u64) -> losslab_sim::RunOutput {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    losslab_sim::run(&scenario, seed)
}

fn final_log(run: &losslab_sim::RunOutput) -> BTreeSet<MsgId> {
    run.final_state.partitions.iter().flat_map(|p| p.log.iter().copied()).collect()
}

/// The leader has the records but cannot commit them while its followers are cut off; the
/// client gives them up after delivery.timeout.ms; the cut heals and they are committed after
/// all. A failure the client reports is an unknown outcome for the log, not a loss.
#[test]
fn a_record_reported_failed_can_still_be_committed() {
    let json = r#"{"topic": {"min.insync.replicas": 2},
        "producer": {"request.timeout.ms": 2000, "delivery.timeout.ms": 3000},
        "workload": {"messages": 1000},
        "faults": [{"after_acked": 300, "action": "cut", "between": [["leader"], ["followers"]]},
                   {"delay_ms": 6000, "action": "heal"}]}"#;
    let run = run(json, 1);
    let stored = final_log(&run);
    let failed: Vec<MsgId> = run
        .history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Failed { msgs, .. } => Some(msgs.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(!failed.is_empty(), "some records were given up");
    let committed_anyway = failed.iter().filter(|m| stored.contains(m)).count();
    assert!(committed_anyway > 0, "some records reported failed are in the final log");
    let verdict = check(&run.history, &run.final_state);
    assert_eq!(verdict.counts["lost_failed"] as usize, failed.len() - committed_anyway);
    assert_eq!(verdict.counts["lost_acked"], 0);
}

#[test]
fn the_app_resends_a_failed_record_as_a_new_record() {
    let json = r#"{"producer": {"app.on.failure": "resend", "request.timeout.ms": 2000, "delivery.timeout.ms": 3000},
        "workload": {"messages": 1000},
        "faults": [{"after_acked": 300, "action": "crash", "node": "leader"},
                   {"delay_ms": 15000, "action": "restart", "node": "brokers"}]}"#;
    let run = run(json, 1);
    let resends: Vec<(MsgId, MsgId)> = run
        .history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Send { msg, resend_of: Some(of), .. } => Some((*msg, *of)),
            _ => None,
        })
        .collect();
    assert!(!resends.is_empty(), "failed records were resent");
    assert!(resends.iter().all(|(msg, of)| msg.seq >= 1000 && of != msg), "a resend is a new record");
    let stored = final_log(&run);
    assert!(resends.iter().any(|(msg, _)| stored.contains(msg)), "resends reach the log");
}

#[test]
fn a_sync_app_sends_again_what_it_never_saw_confirmed() {
    let json = r#"{"producer": {"app.send": "sync", "linger.ms": 50}, "workload": {"messages": 200},
        "faults": [{"after_sent": 60, "action": "crash", "node": "p1"},
                   {"delay_ms": 500, "action": "restart", "node": "p1"}]}"#;
    for seed in 1..4 {
        let run = run(json, seed);
        let verdict = check(&run.history, &run.final_state);
        assert_eq!(verdict.counts[FindingClass::LostUnnoticed.as_str()], 0, "seed {seed}");
        let stored = final_log(&run);
        assert_eq!(stored.len(), 200, "seed {seed}: every record is in the log");
    }
}

#[test]
fn acks_0_gets_no_offset() {
    let run = run(r#"{"producer": {"acks": "0"}, "workload": {"messages": 100}}"#, 1);
    let acked: Vec<Option<u64>> = run
        .history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Acked { base_offset, .. } => Some(*base_offset),
            _ => None,
        })
        .collect();
    assert!(!acked.is_empty() && acked.iter().all(Option::is_none));
}
