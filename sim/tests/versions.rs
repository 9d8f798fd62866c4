//! The release lines of `kafka.version`, each rule shown by running the same faults under two
//! lines and seeing the difference the rule makes (scenario-format.md, "Versions").

use losslab_model::history::{ElectionKind, EventKind};
use losslab_model::{check, Scenario};

fn run(json: &str, seed: u64) -> losslab_sim::RunOutput {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    losslab_sim::run(&scenario, seed)
}

fn lost_acked(json: &str, seeds: std::ops::Range<u64>) -> u64 {
    seeds
        .map(|seed| {
            let r = run(json, seed);
            check(&r.history, &r.final_state).counts["lost_acked"]
        })
        .sum()
}

fn with_version(template: &str, version: &str) -> String {
    template.replace("VERSION", version)
}

/// KIP-101: two leader failures in a row; the second leader's follower truncates to its high
/// watermark when it starts following, before it could fetch again, and is then elected
/// (scenarios/kip101-hw-truncation.json).
const KIP101: &str = r#"{"kafka.version": "VERSION", "topic": {"unclean.leader.election.enable": false},
    "producer": {"acks": "all", "batch.size": 100}, "workload": {"messages": 3000}, "faults": [
    {"after_acked": 1000, "action": "crash", "node": "leader"},
    {"when_isr_size": 2, "action": "crash", "node": "leader"},
    {"delay_ms": 20000, "action": "restart", "node": "brokers"}]}"#;

#[test]
fn kip_101_truncation_by_leader_epoch_keeps_what_0_10_loses() {
    assert!(lost_acked(&with_version(KIP101, "0.10"), 1..3) > 0);
    assert_eq!(lost_acked(&with_version(KIP101, "0.11"), 1..3), 0);
    assert_eq!(lost_acked(&with_version(KIP101, "2.0"), 1..3), 0);
}

/// The controller's events about broker `b` after the start (its first registration), in
/// order, as short words.
fn lifecycle_of(r: &losslab_sim::RunOutput, b: u32) -> Vec<String> {
    r.history
        .events
        .iter()
        .filter(|e| e.t_us > 100_000)
        .filter_map(|e| match &e.kind {
            EventKind::RegistrationRefused { broker, error } if *broker == b => Some(format!("refused {error}")),
            EventKind::Registered { broker, .. } if *broker == b => Some("registered".into()),
            EventKind::Fenced { broker, .. } if *broker == b => Some("fenced".into()),
            EventKind::BecameFollower { broker, .. } if *broker == b => Some("follows".into()),
            _ => None,
        })
        .collect()
}

fn quick_restart(version: &str, broker: &str) -> String {
    format!(
        r#"{{"kafka.version": "{version}", {broker} "workload": {{"messages": 500}}, "faults": [
        {{"after_acked": 200, "action": "crash", "node": "b3"}},
        {{"delay_ms": 500, "action": "restart", "node": "b3"}}]}}"#
    )
}

/// ZooKeeper mode (every line before 4.0 by default): a broker restarted while its earlier
/// session lives cannot create its znode (NODEEXISTS) until the session expires, and the
/// controller removes it from its ISRs then (`KafkaZkClient.registerBroker`, `onBrokerFailure`).
#[test]
fn b4_a_zookeeper_broker_restarted_within_its_session_waits_for_it_to_expire() {
    for version in ["0.10", "2.1", "2.4", "3.9"] {
        let r = run(&quick_restart(version, ""), 1);
        let life = lifecycle_of(&r, 3);
        let first = |w: &str| life.iter().position(|l| l.starts_with(w));
        assert_eq!(life[0], "refused NODEEXISTS", "{version}: {life:?}");
        assert!(first("fenced") < first("registered"), "{version}: registered only after expiry: {life:?}");
    }
}

/// KRaft (`ClusterControlManager.registerBroker`): DUPLICATE_BROKER_REGISTRATION while the earlier
/// incarnation's session is valid; the broker retries until it was fenced.
#[test]
fn b8_a_kraft_broker_restarted_within_its_session_is_refused_until_fenced() {
    let kraft = r#""broker": {"process.roles": "broker"},"#;
    for (version, broker) in [("3.9", kraft), ("4.1", "")] {
        let r = run(&quick_restart(version, broker), 1);
        let life = lifecycle_of(&r, 3);
        let first = |w: &str| life.iter().position(|l| l.starts_with(w));
        assert_eq!(life[0], "refused DUPLICATE_BROKER_REGISTRATION", "{version}: {life:?}");
        assert!(first("fenced") < first("registered"), "{version}: {life:?}");
    }
}

/// KIP-380 (2.2): the controller stamps partition states with the broker epoch it registered;
/// before 2.2 a restarted broker applied a state the controller meant for its earlier incarnation.
/// Here b3 restarts quickly (its registration refused until its session expires) while the
/// controller, after b1's session expired, tells every broker b2 now leads.
#[test]
fn kip_380_a_restarted_broker_ignores_state_meant_for_its_earlier_self_from_2_2() {
    let json = |v: &str| {
        format!(
            r#"{{"kafka.version": "{v}", "workload": {{"messages": 3000}}, "faults": [
            {{"after_acked": 300, "action": "crash", "node": "b1"}},
            {{"delay_ms": 1000, "action": "crash", "node": "b3"}},
            {{"delay_ms": 500, "action": "restart", "node": "b3"}},
            {{"delay_ms": 20000, "action": "restart", "node": "b1"}}]}}"#
        )
    };
    let follows_before_registering = |v: &str| {
        let life = lifecycle_of(&run(&json(v), 1), 3);
        let registered = life.iter().position(|l| l == "registered").expect("b3 registers in the end");
        life[..registered].iter().any(|l| l == "follows")
    };
    assert!(follows_before_registering("2.1"));
    assert!(!follows_before_registering("2.2"));
}

/// KIP-966's last replica standing: b3 dies, b2 is cut off, b1 (the last ISR member) loses power.
const LAST_STANDING: &str = r#"{"kafka.version": "VERSION", BROKER "topic": {"min.insync.replicas": 2},
    "workload": {"messages": 2000}, "faults": [
    {"after_acked": 500, "action": "crash", "node": "b3"},
    {"delay_ms": 12000, "action": "isolate", "node": "b2"},
    {"delay_ms": 12000, "action": "crash", "node": "b1", "mode": "power"},
    {"delay_ms": 12000, "action": "restart", "node": "b1"},
    {"delay_ms": 5000, "action": "heal"}]}"#;

fn last_standing(version: &str, broker: &str) -> String {
    LAST_STANDING.replace("VERSION", version).replace("BROKER", broker)
}

#[test]
fn kip_966_eligible_leader_replicas_keep_what_3_6_loses() {
    assert!(lost_acked(&last_standing("3.6", ""), 1..3) > 0);
    assert!(lost_acked(&last_standing("3.9", ""), 1..3) > 0, "KAFKA-15583 alone does not help");
    assert!(lost_acked(&last_standing("4.0", ""), 1..3) > 0, "4.0 has ELR off by default");
    let on = r#""broker": {"eligible.leader.replicas.enable": true},"#;
    assert_eq!(lost_acked(&last_standing("4.0", on), 1..3), 0);
    assert_eq!(lost_acked(&last_standing("4.1", ""), 1..3), 0);
    let off = r#""broker": {"eligible.leader.replicas.enable": false},"#;
    assert!(lost_acked(&last_standing("4.1", off), 1..3) > 0);
    // And the fix is an election from the ELR.
    let r = run(&last_standing("4.1", ""), 1);
    assert!(r.history.events.iter().any(|e| matches!(e.kind, EventKind::Election { kind: ElectionKind::Elr, .. })));
}

#[test]
fn kafka_15583_freezes_the_high_watermark_below_min_isr() {
    // Followers paused: the leader, alone in its ISR after replica.lag.time.max.ms, takes acks=1
    // writes. From 3.7 its high watermark stays put while ISR < min.insync.replicas.
    let json = |v: &str| {
        format!(
            r#"{{"kafka.version": "{v}", "topic": {{"min.insync.replicas": 2}}, "producer": {{"acks": "1"}},
            "broker": {{"replica.lag.time.max.ms": 2000, "replica.fetch.wait.max.ms": 500}},
            "workload": {{"messages": 6000}},
            "faults": [{{"after_acked": 500, "action": "pause", "node": "followers"}},
                       {{"delay_ms": 4000, "action": "resume", "node": "followers"}}]}}"#
        )
    };
    let leader_hw_max = |v: &str, from_us: u64, to_us: u64| {
        let r = run(&json(v), 1);
        let hws: Vec<u64> = r
            .history
            .events
            .iter()
            .filter(|e| e.t_us >= from_us && e.t_us < to_us)
            .filter_map(|e| match e.kind {
                EventKind::HighWatermark { broker: 1, hw, .. } => Some(hw),
                _ => None,
            })
            .collect();
        hws.len()
    };
    // Between the shrink (~2.5 s) and the resume (~4.5 s) only 3.6 moves the HW.
    assert!(leader_hw_max("3.6", 3_000_000, 4_400_000) > 0);
    assert_eq!(leader_hw_max("3.7", 3_000_000, 4_400_000), 0);
}

/// B2 (`Partition.effectiveMinIsr`, 3.7): `min.insync.replicas` above the replication factor
/// counts as the replication factor. Before 3.7 every acks=all write fails with
/// NOT_ENOUGH_REPLICAS; from 3.7 they succeed once every replica has them.
#[test]
fn min_isr_above_the_replication_factor_is_capped_from_3_7() {
    let json = |v: &str| {
        format!(
            r#"{{"kafka.version": "{v}", "topic": {{"min.insync.replicas": 4}}, "workload": {{"messages": 200}},
            "producer": {{"delivery.timeout.ms": 40000}}}}"#
        )
    };
    let acked = |v: &str| {
        let r = run(&json(v), 1);
        r.history.events.iter().filter(|e| matches!(e.kind, EventKind::Acked { .. })).count()
    };
    assert_eq!(acked("3.6"), 0, "before 3.7 no acks=all write succeeds");
    assert!(acked("3.7") > 0, "from 3.7 the cap lets them through");
}
