//! Graceful broker stops (`"action": "stop"`, a controlled shutdown as `kafka-server-stop.sh` does
//! it) and slow links (`"action": "slow"`), through the whole cluster: what the controller does
//! with the stopping broker's partitions in each metadata mode, and that a slow link delays
//! without losing.

use losslab_model::history::{EventKind, NodeName};
use losslab_model::{check, Scenario};

fn run(json: &str, seed: u64) -> losslab_sim::RunOutput {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    losslab_sim::run(&scenario, seed)
}

fn kinds(r: &losslab_sim::RunOutput) -> impl Iterator<Item = (u64, &NodeName, &EventKind)> {
    r.history.events.iter().map(|e| (e.t_us, &e.node, &e.kind))
}

/// The leader stops: its leadership moves to another ISR member before it exits, it flushes and
/// marks its logs clean, and it registers as a clean restart afterwards.
#[test]
fn a_stopping_leader_hands_over_first_and_comes_back_clean() {
    for (version, broker) in [("4.1", ""), ("3.9", ""), ("3.9", r#""broker": {"process.roles": "broker"},"#)] {
        let json = format!(
            r#"{{"kafka.version": "{version}", {broker} "workload": {{"messages": 3000}}, "faults": [
            {{"after_acked": 1000, "action": "stop", "node": "leader"}},
            {{"delay_ms": 12000, "action": "restart", "node": "b1"}}]}}"#
        );
        let r = run(&json, 1);
        let at = |pick: &dyn Fn(&EventKind) -> bool| kinds(&r).find(|(_, _, k)| pick(k)).map(|(t, _, _)| t);
        let elected = at(&|k| matches!(k, EventKind::Election { partition: 0, leader: Some(2), .. }));
        let exited = at(&|k| matches!(k, EventKind::Stopped { node: NodeName::Broker(1) }));
        let clean = at(&|k| matches!(k, EventKind::CleanShutdown { broker: 1 }));
        assert!(elected.is_some() && clean.is_some(), "{version} {broker}");
        assert!(elected < exited, "{version} {broker}: leadership moved before the process exited");
        assert!(
            kinds(&r).any(|(_, _, k)| matches!(k, EventKind::Registered { broker: 1, clean: true })),
            "{version} {broker}: the restart is a clean one"
        );
        let v = check(&r.history, &r.final_state);
        assert_eq!(v.counts["lost_acked"], 0, "{version} {broker}");
    }
}

/// A broker that is the only ISR member of a partition stops. KRaft removes it from every ISR at
/// once, so the partition has no leader from the controlled shutdown on
/// (`handleBrokerInControlledShutdown`); ZooKeeper finds no other ISR member to move the
/// leadership to and lets the broker keep leading until it exits (`doControlledShutdown` answers
/// the partition as remaining, three tries, five seconds apart).
#[test]
fn a_sole_isr_member_stops_differently_under_kraft_and_zookeeper() {
    // The followers die first and are fenced, so the ISR shrinks to b1 alone.
    let json = |broker: &str| {
        format!(
            r#"{{"kafka.version": "3.9", {broker} "workload": {{"messages": 3000}},
            "faults": [{{"after_acked": 1000, "action": "crash", "node": "followers"}},
                       {{"when_isr_size": 1, "action": "stop", "node": "b1"}},
                       {{"delay_ms": 30000, "action": "restart", "node": "brokers"}}]}}"#
        )
    };
    let kraft = run(&json(r#""broker": {"process.roles": "broker"},"#), 1);
    let offline_at_shutdown = kinds(&kraft).any(|(_, _, k)| {
        matches!(k, EventKind::PartitionChange(c) if c.partition == 0 && c.leader.is_none() && c.cause.contains("controlled shutdown"))
    });
    assert!(offline_at_shutdown, "KRaft takes the partition offline at the controlled shutdown");
    let zk = run(&json(""), 1);
    let remaining: Vec<&Vec<u32>> = kinds(&zk)
        .filter_map(|(_, _, k)| match k {
            EventKind::ControlledShutdown { broker: 1, remaining } => Some(remaining),
            _ => None,
        })
        .collect();
    assert_eq!(remaining.len(), 4, "the first try and three retries: {remaining:?}");
    assert!(remaining.iter().all(|r| r.contains(&0)), "partition 0 stays with b1: {remaining:?}");
}

/// A slow link delays what crosses it, in order, and loses nothing: with acks=all and every
/// follower behind a slow link, acknowledgements wait for it.
#[test]
fn a_slow_link_delays_and_loses_nothing() {
    let json = r#"{"workload": {"messages": 2000}, "faults": [
        {"after_acked": 500, "action": "slow", "between": [["leader"], ["followers"]], "latency_ms": 2000},
        {"delay_ms": 5000, "action": "heal"}]}"#;
    let r = run(json, 1);
    let slowed = kinds(&r).find(|(_, _, k)| matches!(k, EventKind::Slow { latency_ms: 2000, .. })).map(|(t, _, _)| t);
    let slowed = slowed.expect("the slow step is recorded");
    // A batch sent after the slowdown is acknowledged only once a follower fetched it across it.
    let (sent, id) = kinds(&r)
        .find_map(|(t, _, k)| match k {
            EventKind::ProduceRequest { batch, .. } if t > slowed + 10_000 => Some((t, *batch)),
            _ => None,
        })
        .expect("the producer goes on");
    let acked = kinds(&r)
        .find_map(|(t, _, k)| matches!(k, EventKind::Acked { batch, .. } if *batch == id).then_some(t))
        .expect("the batch is acknowledged");
    assert!(acked - sent >= 2_000_000, "acks=all waits for the slowed follower ({} us)", acked - sent);
    let v = check(&r.history, &r.final_state);
    assert_eq!((v.counts["lost_acked"], v.counts["stuck"]), (0, 0));
}
