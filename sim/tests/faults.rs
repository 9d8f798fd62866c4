//! Each fault the nemesis can inject, run through the whole cluster on small inline scenarios,
//! with the outcome Kafka's rules predict: what must lose acknowledged messages, what must not,
//! and what must leave the run stuck. These pin the simulator's faithfulness, not its speed.

use losslab_model::{check, FindingClass, Scenario};

/// Runs `json` for `seeds` and returns, per seed, the count of `class`.
fn counts(json: &str, seeds: std::ops::Range<u64>, class: FindingClass) -> Vec<u64> {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    let seeds: Vec<u64> = seeds.collect();
    losslab_sim::run_seeds(&scenario, &seeds, 2)
        .iter()
        .map(|run| check(&run.history, &run.final_state).counts[class.as_str()])
        .collect()
}

fn some(v: &[u64]) -> bool {
    v.iter().any(|&n| n > 0)
}

fn none(v: &[u64]) -> bool {
    v.iter().all(|&n| n == 0)
}

#[test]
fn power_loss_on_a_single_broker_drops_its_page_cache() {
    let losing = r#"{"brokers": 1, "faults": [
        {"after_acked": 500, "action": "crash", "node": "b1", "mode": "power"},
        {"delay_ms": 2000, "action": "restart", "node": "b1"}]}"#;
    assert!(some(&counts(losing, 1..3, FindingClass::LostAcked)));
    let fsync = r#"{"brokers": 1, "broker": {"log.flush.interval.messages": 1}, "faults": [
        {"after_acked": 500, "action": "crash", "node": "b1", "mode": "power"},
        {"delay_ms": 2000, "action": "restart", "node": "b1"}]}"#;
    assert!(none(&counts(fsync, 1..3, FindingClass::LostAcked)));
}

#[test]
fn a_process_crash_keeps_the_page_cache() {
    let json = r#"{"brokers": 1, "faults": [
        {"after_acked": 500, "action": "crash", "node": "b1", "mode": "process"},
        {"delay_ms": 2000, "action": "restart", "node": "b1"}]}"#;
    assert!(none(&counts(json, 1..3, FindingClass::LostAcked)));
}

#[test]
fn a_follower_losing_power_costs_nothing_with_min_isr_2() {
    let json = r#"{"topic": {"min.insync.replicas": 2}, "faults": [
        {"after_acked": 400, "action": "crash", "node": "follower", "mode": "power"},
        {"delay_ms": 3000, "action": "restart", "node": "brokers"}]}"#;
    assert!(none(&counts(json, 1..3, FindingClass::LostAcked)));
}

#[test]
fn a_paused_leader_loses_nothing_with_acks_all() {
    let json = r#"{"faults": [
        {"after_acked": 300, "action": "pause", "node": "leader"},
        {"delay_ms": 15000, "action": "resume", "node": "b1"}]}"#;
    assert!(none(&counts(json, 1..3, FindingClass::LostAcked)));
    assert!(none(&counts(json, 1..3, FindingClass::Stuck)));
}

#[test]
fn an_isolated_leader_with_acks_1_loses_what_it_acknowledged_alone() {
    let json = r#"{"producer": {"acks": "1"}, "network": {"latency.ms.min": 10, "latency.ms.max": 30},
        "faults": [{"after_acked": 300, "action": "isolate", "node": "leader"},
                   {"delay_ms": 15000, "action": "heal"}]}"#;
    assert!(some(&counts(json, 1..4, FindingClass::LostAcked)));
    assert!(none(&counts(json, 1..4, FindingClass::Stuck)));
}

#[test]
fn a_producer_crash_loses_its_accumulator_unnoticed() {
    let json = r#"{"producer": {"linger.ms": 200}, "faults": [
        {"after_sent": 300, "action": "crash", "node": "p1"},
        {"delay_ms": 1000, "action": "restart", "node": "p1"}]}"#;
    assert!(some(&counts(json, 1..3, FindingClass::LostUnnoticed)));
    assert!(none(&counts(json, 1..3, FindingClass::LostAcked)));
}

#[test]
fn min_isr_above_the_isr_fails_writes_instead_of_losing_them() {
    let json = r#"{"topic": {"min.insync.replicas": 3}, "producer": {"delivery.timeout.ms": 40000},
        "workload": {"messages": 200},
        "faults": [{"after_acked": 50, "action": "crash", "node": "follower"}]}"#;
    assert!(some(&counts(json, 1..2, FindingClass::LostFailed)));
    assert!(none(&counts(json, 1..2, FindingClass::LostAcked)));
}

#[test]
fn a_run_that_cannot_finish_is_stuck_not_hung() {
    // linger.ms far beyond the run: records wait in the accumulator forever.
    let json = r#"{"producer": {"linger.ms": 1000000000, "delivery.timeout.ms": 2147483647},
        "workload": {"messages": 10}}"#;
    assert!(some(&counts(json, 1..2, FindingClass::Stuck)));
}

#[test]
fn unclean_election_loses_what_only_the_old_leader_had() {
    // Followers die, the controller fences them and the ISR shrinks to the leader, which then
    // acknowledges alone (min.insync.replicas=1); the leader dies and a stale follower returns.
    let steps = r#""faults": [
        {"after_acked": 300, "action": "crash", "node": "followers"},
        {"delay_ms": 12000, "action": "crash", "node": "leader"},
        {"delay_ms": 1000, "action": "restart", "node": "b2"},
        {"delay_ms": 15000, "action": "restart", "node": "brokers"}]"#;
    let unclean = format!(
        r#"{{"topic": {{"unclean.leader.election.enable": true}}, "workload": {{"messages": 20000}}, {steps}}}"#
    );
    assert!(some(&counts(&unclean, 1..3, FindingClass::LostAcked)));
    let clean = format!(r#"{{"workload": {{"messages": 20000}}, {steps}}}"#);
    assert!(none(&counts(&clean, 1..3, FindingClass::LostAcked)));
}

/// acks=all answers a batch only once the leader's high watermark covers it, and the history must
/// show that high watermark: every acknowledged batch follows a `HighWatermark` event of its
/// partition past its last offset. A follower crash makes the controller shrink the ISR, which
/// raises the leader's high watermark without any fetch (the event was once missing there).
#[test]
fn every_acks_all_acknowledgement_follows_a_recorded_high_watermark_that_covers_it() {
    use losslab_model::history::EventKind;
    let json = r#"{"topic": {"min.insync.replicas": 2}, "workload": {"messages": 2000, "rate_per_sec": 1000},
        "faults": [{"at_ms": 500, "action": "crash", "node": "follower"}]}"#;
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    for run in losslab_sim::run_seeds(&scenario, &[1, 2, 3, 4], 2) {
        let mut hw_max = std::collections::BTreeMap::new();
        let mut acked = 0;
        for e in &run.history.events {
            match &e.kind {
                EventKind::HighWatermark { partition, hw, .. } => {
                    let h = hw_max.entry(*partition).or_insert(0);
                    *h = (*h).max(*hw);
                }
                EventKind::Acked { partition, base_offset: Some(base), msgs, .. } => {
                    let end = base + msgs.len() as u64;
                    let hw = hw_max.get(partition).copied().unwrap_or(0);
                    assert!(
                        hw >= end,
                        "seed {}: batch ending at {end} acked at {} us, recorded HW {hw}",
                        run.seed,
                        e.t_us
                    );
                    acked += 1;
                }
                _ => {}
            }
        }
        assert!(acked > 0, "seed {}: nothing acknowledged", run.seed);
    }
}
