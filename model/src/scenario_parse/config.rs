//! The configuration sections of a scenario (`topic`, `broker`, `consumer`, `workload`,
//! `network`, and the key list of `producer`, whose values `producer` reads): their keys, Kafka's
//! defaults and bounds, and the rules Kafka itself enforces across keys
//! (`replica.fetch.wait.max.ms` against `replica.lag.time.max.ms`). A file Kafka would refuse is
//! refused here, with Kafka's own words, so that a scenario never simulates a configuration no
//! real cluster could run.
//!
//! Bounds follow Kafka's types (`INT` properties stop at 2147483647, `LONG` ones at
//! 9223372036854775807); losslab's own keys get bounds that keep a run finite and meaningful.

use super::obj::{Obj, Result, INT, LONG};
use crate::config::{
    BrokerConfig, CommitStrategy, ConsumerConfig, MetadataMode, NetworkConfig, OffsetReset, Processing, TopicConfig,
    Workload, WritebackOrder,
};
use crate::version::KafkaVersion;

/// One configuration object and the keys it may hold.
pub(super) struct Section {
    pub name: &'static str,
    pub keys: &'static [&'static str],
}

pub(super) const TOPIC: Section = Section {
    name: "topic",
    keys: &["partitions", "replication.factor", "min.insync.replicas", "unclean.leader.election.enable"],
};

pub(super) const BROKER: Section = Section {
    name: "broker",
    keys: &[
        "process.roles",
        "log.flush.interval.messages",
        "log.flush.interval.ms",
        "log.flush.scheduler.interval.ms",
        "replica.lag.time.max.ms",
        "replica.fetch.wait.max.ms",
        "replica.high.watermark.checkpoint.interval.ms",
        "broker.session.timeout.ms",
        "broker.heartbeat.interval.ms",
        "zookeeper.session.timeout.ms",
        "eligible.leader.replicas.enable",
        "eligible.leader.replicas.version",
        "os.dirty.expire.ms",
        "os.dirty.writeback.ms",
        "os.writeback.order",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "transaction.max.timeout.ms",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        "transaction.partition.verification.enable",
    ],
};

pub(super) const PRODUCER: Section = Section {
    name: "producer",
    keys: &[
        "acks",
        "enable.idempotence",
        "retries",
        "max.in.flight.requests.per.connection",
        "delivery.timeout.ms",
        "request.timeout.ms",
        "retry.backoff.ms",
        "linger.ms",
        "batch.size",
        "app.send",
        "app.on.failure",
        "retry.backoff.max.ms",
        "buffer.memory",
        "max.block.ms",
        "transactional.id",
        "transaction.timeout.ms",
        "app.transaction.records",
        "app.transaction.abort.every",
    ],
};

pub(super) const CONSUMER: Section = Section {
    name: "consumer",
    keys: &[
        "group.id",
        "enable.auto.commit",
        "auto.commit.interval.ms",
        "auto.offset.reset",
        "max.poll.records",
        "max.poll.interval.ms",
        "session.timeout.ms",
        "app.processing",
        "app.workers",
        "app.process.ms",
        "app.commit",
        "group.instance.id",
        "partition.assignment.strategy",
        "isolation.level",
        "app.output",
    ],
};

pub(super) const WORKLOAD: Section =
    Section { name: "workload", keys: &["producers", "consumers", "messages", "rate_per_sec", "message.bytes"] };

pub(super) const NETWORK: Section = Section { name: "network", keys: &["latency.ms.min", "latency.ms.max"] };

pub(super) const SECTIONS: [&Section; 6] = [&TOPIC, &BROKER, &PRODUCER, &CONSUMER, &WORKLOAD, &NETWORK];

const OFFSET_RESETS: [(&str, OffsetReset); 3] =
    [("earliest", OffsetReset::Earliest), ("latest", OffsetReset::Latest), ("none", OffsetReset::None)];
const PROCESSING: [(&str, Processing); 2] = [("sync", Processing::Sync), ("async", Processing::Async)];
const COMMITS: [(&str, CommitStrategy); 3] = [
    ("none", CommitStrategy::None),
    ("after-process", CommitStrategy::AfterProcess),
    ("before-process", CommitStrategy::BeforeProcess),
];

/// Above this the producer refuses a record (Kafka's default `max.request.size`).
const MAX_MESSAGE_BYTES: u64 = 1_048_576;
/// One record a microsecond: the finest pace simulated time can express.
const MAX_RATE_PER_SEC: u64 = 1_000_000;
const MAX_MESSAGES: u64 = 10_000_000;
/// Simulated worker threads of one consumer app.
const MAX_APP_WORKERS: u64 = 1024;

/// Opens `section` under the top level, refusing unknown keys.
pub(super) fn open<'a>(top: &Obj<'a>, section: &Section) -> Result<Obj<'a>> {
    top.child(section.name)?.check_keys(section.keys, |key| placement_hint(key, section.name))
}

/// Where a key belongs when it is another section's (`min.insync.replicas` pasted into
/// `broker` from server.properties), or when a top-level key spells a section's key with a
/// dotted prefix (`"producer.acks"`). `here` is the section the key was found in, `""` for the
/// top level.
pub(super) fn placement_hint(key: &str, here: &str) -> Option<String> {
    if here.is_empty() {
        if let Some((section, inner)) = key.split_once('.') {
            if SECTIONS.iter().any(|s| s.name == section && s.keys.contains(&inner)) {
                return Some(format!("; keys of `{section}` go inside it: \"{section}\": {{\"{inner}\": …}}"));
            }
        }
    }
    SECTIONS
        .iter()
        .find(|s| s.name != here && s.keys.contains(&key))
        .map(|s| format!("; `{key}` belongs in `{}`", s.name))
}

const WRITEBACK_ORDERS: [(&str, WritebackOrder); 2] =
    [("any", WritebackOrder::Any), ("offset", WritebackOrder::Offset)];
/// `process.roles` values a broker of this lab can have (a controller-only node holds no data).
const PROCESS_ROLES: [(&str, ()); 3] = [("broker", ()), ("broker,controller", ()), ("controller,broker", ())];

pub(super) fn topic(top: &Obj, brokers: u32, version: KafkaVersion) -> Result<TopicConfig> {
    let o = open(top, &TOPIC)?;
    let replication_factor = o.uint("replication.factor", 1..=INT, brokers.min(3))?;
    if replication_factor > brokers {
        return Err(o.fail(
            "replication.factor",
            format!("is {replication_factor}, but the cluster has only {brokers} brokers (`brokers`)"),
        ));
    }
    Ok(TopicConfig {
        partitions: o.uint("partitions", 1..=64, 1)?,
        replication_factor,
        // Above the replication factor is allowed, as in Kafka: every acks=all write then fails.
        min_insync_replicas: o.uint("min.insync.replicas", 1..=INT, 1)?,
        // KIP-106: false from 0.11, true before.
        unclean_leader_election_enable: o
            .boolean("unclean.leader.election.enable", version.unclean_election_default())?,
    })
}

pub(super) fn broker(top: &Obj, version: KafkaVersion, brokers: u32) -> Result<BrokerConfig> {
    let o = open(top, &BROKER)?;
    let config = BrokerConfig {
        metadata_mode: metadata_mode(&o, version)?,
        log_flush_interval_messages: o.uint("log.flush.interval.messages", 1..=LONG, LONG)?,
        log_flush_interval_ms: o.nullable_uint("log.flush.interval.ms", 0..=LONG)?,
        // A zero period would spin the flusher forever at one instant of simulated time.
        log_flush_scheduler_interval_ms: o.uint("log.flush.scheduler.interval.ms", 1..=LONG, LONG)?,
        // Kafka checks the ISR every replica.lag.time.max.ms / 2; zero would never let it rest.
        replica_lag_time_max_ms: o.uint(
            "replica.lag.time.max.ms",
            1..=LONG,
            version.replica_lag_time_max_ms_default(),
        )?,
        replica_fetch_wait_max_ms: o.uint("replica.fetch.wait.max.ms", 0..=INT, 500)?,
        // Periodic tasks: a zero period would spin forever at one instant of simulated time.
        replica_high_watermark_checkpoint_interval_ms: o.uint(
            "replica.high.watermark.checkpoint.interval.ms",
            1..=LONG,
            5_000,
        )?,
        broker_session_timeout_ms: o.uint("broker.session.timeout.ms", 1..=INT, 9_000)?,
        broker_heartbeat_interval_ms: o.uint("broker.heartbeat.interval.ms", 1..=INT, 2_000)?,
        zookeeper_session_timeout_ms: zookeeper_session_timeout(&o, version)?,
        eligible_leader_replicas_enable: elr(&o, version)?,
        os_dirty_expire_ms: o.uint("os.dirty.expire.ms", 0..=INT, 30_000)?,
        os_dirty_writeback_ms: o.uint("os.dirty.writeback.ms", 1..=INT, 5_000)?,
        os_writeback_order: o.choice("os.writeback.order", &WRITEBACK_ORDERS, WritebackOrder::Any)?,
        txn: super::txn_keys::broker_txn(&o, version, brokers)?,
    };
    if config.replica_fetch_wait_max_ms > config.replica_lag_time_max_ms {
        return Err(o.fail(
            "replica.fetch.wait.max.ms",
            format!(
                "is {}, above `replica.lag.time.max.ms` ({}); Kafka refuses this (\"replica.fetch.wait.max.ms \
                 should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR\")",
                config.replica_fetch_wait_max_ms, config.replica_lag_time_max_ms
            ),
        ));
    }
    Ok(config)
}

/// ZooKeeper through 3.9 unless `process.roles` is set (KRaft exists from 2.8); KRaft only from
/// 4.0, where `process.roles` is required and says nothing new.
fn metadata_mode(o: &Obj, version: KafkaVersion) -> Result<MetadataMode> {
    let key = "process.roles";
    if o.opt_choice(key, &PROCESS_ROLES)?.is_none() {
        return Ok(if version.kraft_only() { MetadataMode::KRaft } else { MetadataMode::ZooKeeper });
    }
    if !version.has_kraft() {
        return Err(o.fail(
            key,
            format!(
                "is set, but Kafka {version} has no KRaft mode (KIP-500 arrived in 2.8); remove it to run with \
                 ZooKeeper, or set `kafka.version` to \"2.8\" or later"
            ),
        ));
    }
    Ok(MetadataMode::KRaft)
}

/// `zookeeper.session.timeout.ms`: 6000 before 2.5, 18000 from 2.5 (KIP-537); Kafka 4.0 has no
/// ZooKeeper, so a 4.x file that sets it is refused rather than silently running without it.
fn zookeeper_session_timeout(o: &Obj, version: KafkaVersion) -> Result<u64> {
    let key = "zookeeper.session.timeout.ms";
    if o.has(key) && version.kraft_only() {
        return Err(o.fail(
            key,
            format!(
                "is set, but Kafka {version} has no ZooKeeper (removed in 4.0): brokers are fenced after \
                 `broker.session.timeout.ms`; remove it, or set `kafka.version` to \"3.9\" or earlier"
            ),
        ));
    }
    o.uint(key, 1..=INT, version.zookeeper_session_timeout_ms_default())
}

/// KIP-966: on only from 4.0; the default by version. From 4.0 Kafka switches it with the feature
/// `eligible.leader.replicas.version` (KAFKA-18062: 0 off, 1 on); `eligible.leader.replicas.enable`,
/// the 3.7-3.9 internal controller config, is accepted as the same switch.
fn elr(o: &Obj, version: KafkaVersion) -> Result<bool> {
    let old = "eligible.leader.replicas.enable";
    let feature = "eligible.leader.replicas.version";
    let by_feature: Option<u64> = o.opt_uint(feature, 0..=1)?;
    let by_config = o.opt_bool(old)?;
    let asked = match (by_feature.map(|v| v == 1), by_config) {
        (Some(a), Some(b)) if a != b => {
            return Err(o.fail(
                feature,
                format!("is {}, but `{old}` is {b}: they are the same switch; keep one", by_feature.unwrap_or(0)),
            ))
        }
        (a, b) => a.or(b),
    };
    let key = if by_feature.is_some() { feature } else { old };
    match asked {
        Some(true) if !version.supports_elr() => Err(o.fail(
            key,
            format!(
                "is {}, but Kafka {version} has no eligible leader replicas (KIP-966 arrived in 4.0); \
                 remove it or set `kafka.version` to \"4.0\" or later",
                if key == feature { "1" } else { "true" }
            ),
        )),
        Some(enabled) => Ok(enabled),
        None => Ok(version.elr_default()),
    }
}

pub(super) fn consumer(top: &Obj, version: KafkaVersion) -> Result<ConsumerConfig> {
    let o = open(top, &CONSUMER)?;
    let group_id = o.string("group.id", "g1")?;
    if group_id.is_empty() {
        return Err(o.fail("group.id", "must not be empty: the consumers need a group to commit offsets to"));
    }
    let txn = super::txn_keys::consumer_txn(&o, version)?;
    let app_commit = o.choice("app.commit", &COMMITS, CommitStrategy::None)?;
    super::txn_keys::check_app_commit(&o, txn.app_output, app_commit)?;
    Ok(ConsumerConfig {
        group_id,
        enable_auto_commit: o.boolean("enable.auto.commit", super::txn_keys::auto_commit_default(txn.app_output))?,
        auto_commit_interval_ms: o.uint("auto.commit.interval.ms", 0..=INT, 5_000)?,
        auto_offset_reset: o.choice("auto.offset.reset", &OFFSET_RESETS, OffsetReset::Latest)?,
        max_poll_records: o.uint("max.poll.records", 1..=INT, 500)?,
        max_poll_interval_ms: o.uint("max.poll.interval.ms", 1..=INT, 300_000)?,
        session_timeout_ms: o.uint("session.timeout.ms", 1..=INT, version.consumer_session_timeout_ms_default())?,
        app_processing: o.choice("app.processing", &PROCESSING, Processing::Sync)?,
        app_workers: o.uint("app.workers", 1..=MAX_APP_WORKERS, 4)?,
        app_process_ms: o.uint("app.process.ms", 0..=INT, 1)?,
        app_commit,
        group_instance_id: super::group_keys::group_instance_id(&o, version)?,
        partition_assignment_strategy: super::group_keys::assignment_strategy(&o, version)?,
        isolation_level: txn.isolation_level,
        app_output: txn.app_output,
    })
}

pub(super) fn workload(top: &Obj) -> Result<Workload> {
    let o = open(top, &WORKLOAD)?;
    Ok(Workload {
        producers: o.uint("producers", 1..=9, 1)?,
        consumers: o.uint("consumers", 0..=9, 1)?,
        messages: o.uint("messages", 0..=MAX_MESSAGES, 1_000)?,
        rate_per_sec: o.uint("rate_per_sec", 1..=MAX_RATE_PER_SEC, 1_000)?,
        message_bytes: o.uint("message.bytes", 1..=MAX_MESSAGE_BYTES, 100)?,
    })
}

pub(super) fn network(top: &Obj) -> Result<NetworkConfig> {
    let o = open(top, &NETWORK)?;
    let config = NetworkConfig {
        latency_ms_min: o.uint("latency.ms.min", 0..=INT, 1)?,
        latency_ms_max: o.uint("latency.ms.max", 0..=INT, 5)?,
    };
    if config.latency_ms_min > config.latency_ms_max {
        return Err(o.fail(
            "latency.ms.min",
            format!("({}) must not exceed `latency.ms.max` ({})", config.latency_ms_min, config.latency_ms_max),
        ));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misplaced_keys_say_where_they_belong() {
        assert_eq!(
            placement_hint("min.insync.replicas", "broker").as_deref(),
            Some("; `min.insync.replicas` belongs in `topic`")
        );
        assert_eq!(placement_hint("acks", "").as_deref(), Some("; `acks` belongs in `producer`"));
        assert_eq!(
            placement_hint("producer.acks", "").as_deref(),
            Some("; keys of `producer` go inside it: \"producer\": {\"acks\": …}")
        );
        assert_eq!(placement_hint("producer.acks", "producer"), None);
        assert_eq!(placement_hint("nothing", ""), None);
    }
}
