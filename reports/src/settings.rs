//! The settings worth quoting when a report says what was run: the ones that decide whether a
//! message survives (replication, acknowledgement, flushing, elections, commits), under Kafka's
//! own property names so that a reader can compare them with their own cluster. Everything
//! else a scenario may set is still in the file; a report is not a copy of it.

use losslab_model::config::{CommitStrategy, OnFailure, Processing, SendMode, WritebackOrder};
use losslab_model::Scenario;

/// One group of settings, named after the scenario file's object they come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingGroup {
    pub name: &'static str,
    pub settings: Vec<(&'static str, String)>,
}

/// The key settings of a scenario, grouped as in the file. The consumer group appears only
/// when the workload has consumers, and faults only when there are fault steps.
pub fn key_settings(s: &Scenario) -> Vec<SettingGroup> {
    let groups = [
        Some(cluster(s)),
        Some(rules(s)),
        Some(topic(s)),
        Some(broker(s)),
        Some(producer(s)),
        (s.workload.consumers > 0).then(|| consumer(s)),
        Some(workload(s)),
        (!s.faults.is_empty()).then(|| faults(s)),
    ];
    groups.into_iter().flatten().collect()
}

/// The key settings that differ from Kafka's defaults, as `key=value`: what makes this scenario
/// different, for the summary table. The release line is compared with the newest; every other
/// setting with the defaults of the scenario's own line (0.10's `replica.lag.time.max.ms=10000`
/// is no change). Workload, network and faults are left out: they say how the scenario is run,
/// not what it configures.
pub fn changed_settings(s: &Scenario) -> Vec<String> {
    let Ok(newest) = Scenario::parse("defaults", "defaults", "{}") else { return Vec::new() };
    let line = format!(r#"{{"kafka.version": "{}"}}"#, s.kafka_version);
    let Ok(of_line) = Scenario::parse("defaults", "defaults", &line) else { return Vec::new() };
    let (newest, of_line) = (key_settings(&newest), key_settings(&of_line));
    let skip = ["workload", "faults", "rules", "consumer"];
    key_settings(s)
        .into_iter()
        .filter(|g| !skip.contains(&g.name))
        .flat_map(|g| {
            let defaults = if g.name == "cluster" { &newest } else { &of_line };
            let default_group = defaults.iter().find(|d| d.name == g.name);
            g.settings
                .into_iter()
                .filter(move |(k, v)| default_group.is_none_or(|d| !d.settings.contains(&(*k, v.clone()))))
                .map(|(k, v)| format!("{k}={v}"))
        })
        .collect()
}

fn group(name: &'static str, settings: Vec<(&'static str, String)>) -> SettingGroup {
    SettingGroup { name, settings }
}

fn cluster(s: &Scenario) -> SettingGroup {
    group("cluster", vec![("kafka.version", s.kafka_version.to_string()), ("brokers", s.brokers.to_string())])
}

/// The release line's replication rules, by the KIP (or JIRA) behind each: `KIP-101=on`.
fn rules(s: &Scenario) -> SettingGroup {
    let rules = s.kafka_version.rules(s.broker.metadata_mode, s.broker.eligible_leader_replicas_enable);
    group("rules", rules.into_iter().map(|r| (r.name, if r.on { "on" } else { "off" }.to_string())).collect())
}

fn topic(s: &Scenario) -> SettingGroup {
    let t = &s.topic;
    group(
        "topic",
        vec![
            ("partitions", t.partitions.to_string()),
            ("replication.factor", t.replication_factor.to_string()),
            ("min.insync.replicas", t.min_insync_replicas.to_string()),
            ("unclean.leader.election.enable", t.unclean_leader_election_enable.to_string()),
        ],
    )
}

fn broker(s: &Scenario) -> SettingGroup {
    let b = &s.broker;
    let mut settings = vec![("log.flush.interval.messages", b.log_flush_interval_messages.to_string())];
    if let Some(ms) = b.log_flush_interval_ms {
        settings.push(("log.flush.interval.ms", ms.to_string()));
    }
    // The flusher's period decides whether `log.flush.interval.ms` ever applies (B1).
    if b.log_flush_interval_ms.is_some() || b.log_flush_scheduler_interval_ms != i64::MAX as u64 {
        settings.push(("log.flush.scheduler.interval.ms", b.log_flush_scheduler_interval_ms.to_string()));
    }
    settings.push(("replica.lag.time.max.ms", b.replica_lag_time_max_ms.to_string()));
    if b.os_writeback_order == WritebackOrder::Offset {
        settings.push(("os.writeback.order", "offset".to_string()));
    }
    settings.push(("eligible.leader.replicas.enable", b.eligible_leader_replicas_enable.to_string()));
    group("broker", settings)
}

fn producer(s: &Scenario) -> SettingGroup {
    let p = &s.producer;
    group(
        "producer",
        vec![
            ("acks", p.acks.as_kafka().to_string()),
            ("enable.idempotence", p.enable_idempotence.to_string()),
            ("retries", p.retries.to_string()),
            ("max.in.flight.requests.per.connection", p.max_in_flight_requests_per_connection.to_string()),
            ("app.send", send_mode(p.app_send).to_string()),
            ("app.on.failure", on_failure(p.app_on_failure).to_string()),
        ],
    )
}

fn consumer(s: &Scenario) -> SettingGroup {
    let c = &s.consumer;
    group(
        "consumer",
        vec![
            ("enable.auto.commit", c.enable_auto_commit.to_string()),
            ("app.processing", processing(c.app_processing).to_string()),
            ("app.commit", commit(c.app_commit).to_string()),
        ],
    )
}

fn workload(s: &Scenario) -> SettingGroup {
    let w = &s.workload;
    group(
        "workload",
        vec![
            ("producers", w.producers.to_string()),
            ("consumers", w.consumers.to_string()),
            ("messages", w.messages.to_string()),
            ("rate_per_sec", w.rate_per_sec.to_string()),
        ],
    )
}

/// The fault schedule in brief: the actions in the order they fire.
fn faults(s: &Scenario) -> SettingGroup {
    let actions: Vec<&str> = s.faults.iter().map(|step| step.action.name()).collect();
    group("faults", vec![("steps", actions.join(", "))])
}

// The app.* values as a scenario file spells them.

fn send_mode(mode: SendMode) -> &'static str {
    match mode {
        SendMode::Callback => "callback",
        SendMode::FireAndForget => "fire-and-forget",
        SendMode::Sync => "sync",
    }
}

fn on_failure(mode: OnFailure) -> &'static str {
    match mode {
        OnFailure::Log => "log",
        OnFailure::Resend => "resend",
    }
}

fn processing(mode: Processing) -> &'static str {
    match mode {
        Processing::Sync => "sync",
        Processing::Async => "async",
    }
}

fn commit(mode: CommitStrategy) -> &'static str {
    match mode {
        CommitStrategy::None => "none",
        CommitStrategy::AfterProcess => "after-process",
        CommitStrategy::BeforeProcess => "before-process",
    }
}

#[cfg(test)]
mod changed_tests {
    use super::*;

    fn parse(json: &str) -> Scenario {
        Scenario::parse("t.json", "t", json).unwrap()
    }

    #[test]
    fn only_settings_that_differ_from_kafkas_defaults_are_named() {
        assert!(changed_settings(&parse("{}")).is_empty());
        let s =
            parse(r#"{"producer": {"acks": "1"}, "topic": {"min.insync.replicas": 2}, "workload": {"messages": 5}}"#);
        let changed = changed_settings(&s);
        assert!(changed.contains(&"acks=1".to_string()), "{changed:?}");
        assert!(changed.contains(&"min.insync.replicas=2".to_string()), "{changed:?}");
        assert!(!changed.iter().any(|c| c.starts_with("messages")), "{changed:?}");
    }

    #[test]
    fn a_release_lines_own_defaults_are_no_change() {
        let old = changed_settings(&parse(r#"{"kafka.version": "0.10"}"#));
        assert_eq!(old, ["kafka.version=0.10"], "0.10's lag and unclean defaults are its own");
        let lag =
            changed_settings(&parse(r#"{"kafka.version": "0.10", "broker": {"replica.lag.time.max.ms": 30000}}"#));
        assert!(lag.contains(&"replica.lag.time.max.ms=30000".to_string()), "{lag:?}");
        let flusher = changed_settings(&parse(r#"{"broker": {"log.flush.scheduler.interval.ms": 100}}"#));
        assert_eq!(flusher, ["log.flush.scheduler.interval.ms=100"]);
        let order = changed_settings(&parse(r#"{"broker": {"os.writeback.order": "offset"}}"#));
        assert_eq!(order, ["os.writeback.order=offset"]);
    }
}
