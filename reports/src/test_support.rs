//! Hand-built inputs for the renderers' unit tests: a scenario with the format's defaults and
//! runs with chosen findings, so that each test states only what it is about.

use crate::result::SeedRun;
use losslab_model::config::{Acks, CommitStrategy, OffsetReset, OnFailure, Processing, SendMode};
use losslab_model::{
    BrokerConfig, ConsumerConfig, Expect, Finding, FindingClass, KafkaVersion, MsgId, NetworkConfig, ProducerConfig,
    Scenario, TopicConfig, Verdict, Workload,
};

/// A scenario with the defaults of the scenario format and no expectations.
pub fn scenario() -> Scenario {
    Scenario {
        name: "test-scenario".into(),
        description: "A scenario built in code.".into(),
        source: String::new(),
        file: "x.json".into(),
        kafka_version: KafkaVersion::DEFAULT,
        brokers: 3,
        seed: 1,
        topic: TopicConfig {
            partitions: 1,
            replication_factor: 3,
            min_insync_replicas: 1,
            unclean_leader_election_enable: false,
        },
        broker: BrokerConfig {
            log_flush_interval_messages: i64::MAX as u64,
            log_flush_interval_ms: None,
            replica_lag_time_max_ms: 30_000,
            replica_fetch_wait_max_ms: 500,
            replica_high_watermark_checkpoint_interval_ms: 5_000,
            broker_session_timeout_ms: 9_000,
            broker_heartbeat_interval_ms: 2_000,
            eligible_leader_replicas_enable: true,
            os_dirty_expire_ms: 30_000,
            os_dirty_writeback_ms: 5_000,
        },
        producer: ProducerConfig {
            acks: Acks::All,
            enable_idempotence: true,
            retries: i32::MAX as u64,
            max_in_flight_requests_per_connection: 5,
            delivery_timeout_ms: 120_000,
            request_timeout_ms: 30_000,
            retry_backoff_ms: 100,
            linger_ms: 5,
            batch_size: 16_384,
            app_send: SendMode::Callback,
            app_on_failure: OnFailure::Log,
        },
        consumer: ConsumerConfig {
            group_id: "g1".into(),
            enable_auto_commit: true,
            auto_commit_interval_ms: 5_000,
            auto_offset_reset: OffsetReset::Latest,
            max_poll_records: 500,
            max_poll_interval_ms: 300_000,
            session_timeout_ms: 45_000,
            app_processing: Processing::Sync,
            app_workers: 4,
            app_process_ms: 1,
            app_commit: CommitStrategy::None,
        },
        workload: Workload { producers: 1, consumers: 1, messages: 1_000, rate_per_sec: 1_000, message_bytes: 100 },
        network: NetworkConfig { latency_ms_min: 1, latency_ms_max: 5 },
        faults: Vec::new(),
        expect: Expect::new(),
    }
}

/// A finding of `class` about producer 1's record `seq` in partition 0.
pub fn finding(class: FindingClass, seq: u64) -> Finding {
    Finding {
        class,
        message: Some(MsgId { producer: 1, seq }),
        partition: Some(0),
        explanation: format!("p1#{seq} was acked by b1 at 1.204 s; b1 crashed at 1.210 s."),
    }
}

/// One seed's run holding `findings`, with counts filled in as the checker does.
pub fn run(seed: u64, findings: &[Finding]) -> SeedRun {
    let mut verdict =
        Verdict { findings: findings.to_vec(), sent: 1_000, acked: 990, failed: 10, ..Verdict::default() };
    for class in FindingClass::ALL {
        let n = findings.iter().filter(|f| f.class == class).count() as u64;
        verdict.counts.insert(class.as_str().into(), n);
    }
    SeedRun::new(seed, "0123456789abcdef".into(), verdict)
}
