//! The scenario format as a contract: a minimal file resolves to exactly the defaults of
//! scenario-format.md's tables, a file setting every key resolves to exactly what it says, every
//! class of mistake is refused with a message naming the file and the key, the fixtures under
//! tests/fixtures behave as their folder says, and no input at all makes the parser panic.

use losslab_model::config::{
    Acks, AppOutput, Assignor, CommitStrategy, IsolationLevel, MetadataMode, OffsetReset, OnFailure, Processing,
    SendMode, TxnBrokerConfig, WritebackOrder,
};
use losslab_model::{
    Action, BrokerConfig, ConsumerConfig, CrashMode, Expectation, FaultStep, FindingClass, KafkaVersion, NetworkConfig,
    NodeRef, ProducerConfig, Scenario, Target, TopicConfig, Trigger, Workload,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::RngSeed;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn parse(text: &str) -> Result<Scenario, String> {
    Scenario::parse("x.json", "x", text).map_err(|e| e.message)
}

fn parse_json(value: Value) -> Result<Scenario, String> {
    parse(&value.to_string())
}

fn error(value: Value) -> String {
    parse_json(value).expect_err("the file should be refused")
}

fn fixtures(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(folder)
}

fn name(n: &str) -> NodeRef {
    NodeRef::Name(n.to_string())
}

/// Every default of scenario-format.md, for a cluster of three brokers on 4.1.
fn defaults() -> Scenario {
    Scenario {
        name: "x".into(),
        description: String::new(),
        source: String::new(),
        file: "x.json".into(),
        kafka_version: KafkaVersion::new(4, 1),
        brokers: 3,
        seed: 1,
        topic: TopicConfig {
            partitions: 1,
            replication_factor: 3,
            min_insync_replicas: 1,
            unclean_leader_election_enable: false,
        },
        broker: BrokerConfig {
            metadata_mode: MetadataMode::KRaft,
            log_flush_interval_messages: 9_223_372_036_854_775_807,
            log_flush_interval_ms: None,
            log_flush_scheduler_interval_ms: 9_223_372_036_854_775_807,
            replica_lag_time_max_ms: 30_000,
            replica_fetch_wait_max_ms: 500,
            replica_high_watermark_checkpoint_interval_ms: 5_000,
            broker_session_timeout_ms: 9_000,
            broker_heartbeat_interval_ms: 2_000,
            zookeeper_session_timeout_ms: 18_000,
            eligible_leader_replicas_enable: true,
            os_dirty_expire_ms: 30_000,
            os_dirty_writeback_ms: 5_000,
            os_writeback_order: WritebackOrder::Any,
            txn: TxnBrokerConfig::default(),
        },
        producer: ProducerConfig {
            acks: Acks::All,
            enable_idempotence: true,
            retries: 2_147_483_647,
            max_in_flight_requests_per_connection: 5,
            delivery_timeout_ms: 120_000,
            request_timeout_ms: 30_000,
            retry_backoff_ms: 100,
            linger_ms: 5,
            batch_size: 16_384,
            app_send: SendMode::Callback,
            app_on_failure: OnFailure::Log,
            retry_backoff_max_ms: 1_000,
            buffer_memory: 33_554_432,
            max_block_ms: 60_000,
            transactional_id: None,
            transaction_timeout_ms: 60_000,
            app_transaction_records: 10,
            app_transaction_abort_every: 0,
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
            group_instance_id: None,
            partition_assignment_strategy: vec![Assignor::Range, Assignor::CooperativeSticky],
            isolation_level: IsolationLevel::ReadUncommitted,
            app_output: AppOutput::None,
        },
        workload: Workload { producers: 1, consumers: 1, messages: 1_000, rate_per_sec: 1_000, message_bytes: 100 },
        network: NetworkConfig { latency_ms_min: 1, latency_ms_max: 5 },
        faults: Vec::new(),
        expect: Default::default(),
    }
}

#[test]
fn an_empty_object_resolves_every_default() {
    assert_eq!(parse("{}"), Ok(defaults()));
    assert_eq!(parse(" \n{ }\n"), Ok(defaults()));
}

#[test]
fn name_defaults_to_the_stem_and_file_is_kept() {
    let s = Scenario::parse("scenarios/acks1.json", "acks1", "{}").unwrap();
    assert_eq!((s.name.as_str(), s.file.as_str()), ("acks1", "scenarios/acks1.json"));
    let s = Scenario::parse("a.json", "a", r#"{"name": "named"}"#).unwrap();
    assert_eq!(s.name, "named");
}

#[test]
fn replication_factor_defaults_to_at_most_three() {
    for (brokers, want) in [(1, 1), (2, 2), (3, 3), (9, 3)] {
        assert_eq!(parse_json(json!({ "brokers": brokers })).unwrap().topic.replication_factor, want);
    }
}

#[test]
fn eligible_leader_replicas_default_by_version() {
    for (version, want) in [("0.10", false), ("3.9", false), ("4.0", false), ("4.1", true)] {
        let s = parse_json(json!({ "kafka.version": version })).unwrap();
        assert_eq!(s.broker.eligible_leader_replicas_enable, want, "{version}");
    }
    let s = parse_json(json!({"kafka.version": "4.0", "broker": {"eligible.leader.replicas.enable": true}}));
    assert!(s.unwrap().broker.eligible_leader_replicas_enable);
    let s = parse_json(json!({"broker": {"eligible.leader.replicas.enable": false}}));
    assert!(!s.unwrap().broker.eligible_leader_replicas_enable);
    let s = parse_json(json!({"kafka.version": "3.9", "broker": {"eligible.leader.replicas.enable": false}}));
    assert!(s.is_ok());
}

#[test]
fn log_flush_interval_ms_accepts_null_and_a_number() {
    let s = parse_json(json!({"broker": {"log.flush.interval.ms": null}})).unwrap();
    assert_eq!(s.broker.log_flush_interval_ms, None);
    let s = parse_json(json!({"broker": {"log.flush.interval.ms": 1000}})).unwrap();
    assert_eq!(s.broker.log_flush_interval_ms, Some(1000));
}

#[test]
fn a_file_with_every_key_resolves_to_exactly_what_it_says() {
    let s = Scenario::from_file(&fixtures("valid/every-key.json")).unwrap();
    let mut want = defaults();
    want.name = "every-key".into();
    want.description = "Every key of the scenario format, each set away from its default. A parsing fixture: \
                        its expectations are not a claim about what the run shows."
        .into();
    want.source = "scenario-format.md".into();
    want.file = s.file.clone();
    want.kafka_version = KafkaVersion::new(4, 0);
    want.brokers = 5;
    want.seed = 42;
    want.topic = TopicConfig {
        partitions: 4,
        replication_factor: 4,
        min_insync_replicas: 5,
        unclean_leader_election_enable: true,
    };
    want.broker = BrokerConfig {
        metadata_mode: MetadataMode::KRaft,
        log_flush_interval_messages: 1,
        log_flush_interval_ms: Some(1000),
        log_flush_scheduler_interval_ms: 9_223_372_036_854_775_807,
        replica_lag_time_max_ms: 10_000,
        replica_fetch_wait_max_ms: 250,
        replica_high_watermark_checkpoint_interval_ms: 2_500,
        broker_session_timeout_ms: 6_000,
        broker_heartbeat_interval_ms: 1_000,
        zookeeper_session_timeout_ms: 18_000,
        eligible_leader_replicas_enable: true,
        os_dirty_expire_ms: 15_000,
        os_dirty_writeback_ms: 1_000,
        os_writeback_order: WritebackOrder::Any,
        txn: TxnBrokerConfig::default(),
    };
    want.producer = ProducerConfig {
        acks: Acks::Leader,
        enable_idempotence: false,
        retries: 3,
        max_in_flight_requests_per_connection: 1,
        delivery_timeout_ms: 60_000,
        request_timeout_ms: 20_000,
        retry_backoff_ms: 50,
        linger_ms: 0,
        batch_size: 1024,
        app_send: SendMode::FireAndForget,
        app_on_failure: OnFailure::Resend,
        retry_backoff_max_ms: 500,
        buffer_memory: 1_048_576,
        max_block_ms: 0,
        ..defaults().producer
    };
    want.consumer = ConsumerConfig {
        group_id: "readers".into(),
        enable_auto_commit: false,
        auto_commit_interval_ms: 1_000,
        auto_offset_reset: OffsetReset::Earliest,
        max_poll_records: 50,
        max_poll_interval_ms: 60_000,
        session_timeout_ms: 10_000,
        app_processing: Processing::Async,
        app_workers: 8,
        app_process_ms: 3,
        app_commit: CommitStrategy::BeforeProcess,
        group_instance_id: None,
        partition_assignment_strategy: vec![Assignor::Range, Assignor::CooperativeSticky],
        ..defaults().consumer
    };
    want.workload = Workload { producers: 2, consumers: 2, messages: 500, rate_per_sec: 200, message_bytes: 512 };
    want.network = NetworkConfig { latency_ms_min: 2, latency_ms_max: 20 };
    want.faults = every_key_faults();
    // The classes before issue 16; the transaction classes are in every-txn-key.json.
    want.expect = FindingClass::ALL[..10]
        .iter()
        .map(|&c| {
            let some =
                matches!(c, FindingClass::LostAcked | FindingClass::LostUnnoticed | FindingClass::ConsumerDuplicated);
            (c, if some { Expectation::Some } else { Expectation::None })
        })
        .collect();
    assert_eq!(s, want);
}

/// Issue 16: every key of transactions, and the coordinator targets.
#[test]
fn a_file_with_every_transaction_key_resolves_to_exactly_what_it_says() {
    let s = Scenario::from_file(&fixtures("valid/every-txn-key.json")).unwrap();
    let mut want = defaults();
    want.name = "every-txn-key".into();
    want.description = s.description.clone();
    want.file = s.file.clone();
    want.kafka_version = KafkaVersion::new(3, 9);
    want.brokers = 4;
    want.topic.replication_factor = 3;
    want.broker = BrokerConfig {
        metadata_mode: MetadataMode::ZooKeeper,
        eligible_leader_replicas_enable: false,
        txn: TxnBrokerConfig {
            transaction_state_log_replication_factor: 4,
            transaction_state_log_min_isr: 3,
            transaction_max_timeout_ms: 120_000,
            transaction_abort_timed_out_transaction_cleanup_interval_ms: 2_000,
            transaction_partition_verification_enable: false,
        },
        ..defaults().broker
    };
    want.producer = ProducerConfig {
        linger_ms: 0,
        transactional_id: Some("orders".into()),
        transaction_timeout_ms: 90_000,
        app_transaction_records: 25,
        app_transaction_abort_every: 4,
        ..defaults().producer
    };
    want.consumer = ConsumerConfig {
        // The pipeline commits its own offsets: auto-commit defaults to off with it.
        enable_auto_commit: false,
        isolation_level: IsolationLevel::ReadCommitted,
        app_output: AppOutput::Transactional,
        ..defaults().consumer
    };
    want.faults = vec![
        FaultStep {
            trigger: Trigger { after_acked: Some(100), ..Default::default() },
            action: Action::Crash { node: Target(vec![NodeRef::TxnCoordinator]), mode: CrashMode::Process },
        },
        FaultStep {
            trigger: Trigger { delay_ms: Some(500), ..Default::default() },
            action: Action::Isolate { node: Target(vec![NodeRef::GroupCoordinator]) },
        },
    ];
    want.expect = FindingClass::ALL[10..]
        .iter()
        .map(|&c| (c, if c == FindingClass::PipelineDuplicated { Expectation::Some } else { Expectation::None }))
        .collect();
    assert_eq!(s, want);
}

fn every_key_faults() -> Vec<FaultStep> {
    let t = |refs: Vec<NodeRef>| Target(refs);
    let step = |trigger: Trigger, action: Action| FaultStep { trigger, action };
    let cut_sides = (t(vec![name("b1"), name("controller")]), t(vec![NodeRef::Followers(2)]));
    vec![
        step(
            Trigger { after_acked: Some(100), ..Default::default() },
            Action::Crash { node: t(vec![NodeRef::Leader(0)]), mode: CrashMode::Power },
        ),
        step(
            Trigger { delay_ms: Some(500), ..Default::default() },
            Action::Restart { node: t(vec![NodeRef::Leader(3), name("b5")]) },
        ),
        step(
            Trigger { at_ms: Some(2000), after_sent: Some(400), ..Default::default() },
            Action::Crash { node: t(vec![NodeRef::Follower(1)]), mode: CrashMode::Process },
        ),
        step(Trigger::default(), Action::Wipe { node: t(vec![NodeRef::Follower(1)]) }),
        step(Trigger::default(), Action::Restart { node: t(vec![NodeRef::Brokers]) }),
        step(Trigger { after_sent: Some(600), ..Default::default() }, Action::Pause { node: t(vec![name("p1")]) }),
        step(Trigger { delay_ms: Some(100), ..Default::default() }, Action::Resume { node: t(vec![name("p1")]) }),
        step(
            Trigger { when_isr_size: Some(2), ..Default::default() },
            Action::Cut { from: cut_sides.0.clone(), to: cut_sides.1.clone(), oneway: true },
        ),
        step(Trigger { delay_ms: Some(1000), ..Default::default() }, Action::Heal { between: Some(cut_sides) }),
        step(Trigger::default(), Action::Isolate { node: t(vec![NodeRef::Followers(0)]) }),
        step(Trigger { delay_ms: Some(1000), ..Default::default() }, Action::Heal { between: None }),
        step(Trigger::default(), Action::Elect { partition: 3, unclean: true }),
        step(Trigger::default(), Action::Crash { node: t(vec![name("c2"), name("p2")]), mode: CrashMode::Process }),
    ]
}

#[test]
fn unknown_keys_are_refused_with_the_closest_key() {
    let cases = [
        (json!({"seeed": 2}), "unknown key `seeed` at the top level of x.json; did you mean `seed`?"),
        (json!({"producer": {"ack": "1"}}), "unknown key `ack` in `producer` of x.json; did you mean `acks`?"),
        (
            json!({"producer": {"linger_ms": 1}}),
            "unknown key `linger_ms` in `producer` of x.json; did you mean `linger.ms`?",
        ),
        (json!({"producer": {"compression.type": "lz4"}}), "unknown key `compression.type` in `producer` of x.json"),
        (json!({"workload": {"rate": 5}}), "unknown key `rate` in `workload` of x.json"),
        (
            json!({"topic": {"partition": 2}}),
            "unknown key `partition` in `topic` of x.json; did you mean `partitions`?",
        ),
        (
            json!({"faults": [{"action": "crash", "node": "b1"}, {"at_ms": 1, "action": "heal"}, {"action": "crash", "nod": "b1"}]}),
            "unknown key `nod` in `faults[2]` of x.json; did you mean `node`?",
        ),
        (
            json!({"expect": {"lost_ack": "some"}}),
            "unknown key `lost_ack` in `expect` of x.json; did you mean `lost_acked`?",
        ),
        (
            json!({"expect": {"lost-acked": "some"}}),
            "unknown key `lost-acked` in `expect` of x.json; did you mean `lost_acked`?",
        ),
    ];
    for (file, want) in cases {
        assert_eq!(error(file), want);
    }
}

#[test]
fn misplaced_keys_say_where_they_belong() {
    assert_eq!(
        error(json!({"broker": {"min.insync.replicas": 2}})),
        "unknown key `min.insync.replicas` in `broker` of x.json; `min.insync.replicas` belongs in `topic`"
    );
    assert_eq!(
        error(json!({"producer.acks": "1"})),
        "unknown key `producer.acks` at the top level of x.json; keys of `producer` go inside it: \"producer\": {\"acks\": …}"
    );
}

#[test]
fn a_field_of_another_action_is_refused() {
    assert_eq!(
        error(json!({"faults": [{"action": "pause", "node": "leader", "mode": "power"}]})),
        "key `mode` in `faults[0]` of x.json does not apply to `pause`; only crash takes it"
    );
    assert_eq!(
        error(json!({"faults": [{"action": "crash", "node": "b1", "between": [["b1"], ["b2"]]}]})),
        "key `between` in `faults[0]` of x.json does not apply to `crash`; only cut, heal and slow take it"
    );
}

#[test]
fn malformed_json_is_reported_with_line_and_column() {
    let message = parse("{\n  \"brokers\": 3,\n  \"seed\" 7\n}").unwrap_err();
    assert!(message.starts_with("x.json: malformed JSON at line 3, column 10: expected `:`"), "{message}");
    let message = parse("{\"brokers\": 3,}").unwrap_err();
    assert!(message.starts_with("x.json: malformed JSON at line 1, column 15: trailing comma"), "{message}");
    assert_eq!(parse("").unwrap_err(), "x.json is empty; a scenario is a JSON object (`{}` runs every default)");
    assert_eq!(parse("[]").unwrap_err(), "x.json: the top level must be a JSON object, got an array of 0 elements");
    assert_eq!(parse("3").unwrap_err(), "x.json: the top level must be a JSON object, got 3");
}

#[test]
fn wrong_types_name_the_key_path_and_the_expected_type() {
    let cases = [
        (json!({"producer": {"linger.ms": "5"}}), "`producer.linger.ms` in x.json must be a non-negative integer, got \"5\""),
        (json!({"seed": -1}), "`seed` in x.json must be a non-negative integer, got -1"),
        (json!({"seed": 1.5}), "`seed` in x.json must be a non-negative integer, got 1.5"),
        (json!({"brokers": 10}), "`brokers` in x.json must be an integer from 1 to 9, got 10"),
        (json!({"brokers": "3"}), "`brokers` in x.json must be an integer from 1 to 9, got \"3\""),
        (json!({"name": 3}), "`name` in x.json must be a string, got 3"),
        (json!({"topic": []}), "`topic` in x.json must be an object, got an array of 0 elements"),
        (json!({"topic": {"partitions": 0}}), "`topic.partitions` in x.json must be an integer from 1 to 64, got 0"),
        (json!({"topic": {"unclean.leader.election.enable": "true"}}), "`topic.unclean.leader.election.enable` in x.json must be true or false, got \"true\""),
        (json!({"broker": {"os.dirty.writeback.ms": 0}}), "`broker.os.dirty.writeback.ms` in x.json must be an integer from 1 to 2147483647, got 0"),
        (json!({"producer": {"retries": 3_000_000_000u64}}), "`producer.retries` in x.json must be an integer from 0 to 2147483647, got 3000000000"),
        (json!({"producer": {"app.send": "async"}}), "`producer.app.send` in x.json must be one of \"callback\", \"fire-and-forget\", \"sync\", got \"async\"; did you mean \"sync\"?"),
        (json!({"consumer": {"auto.offset.reset": "smallest"}}), "`consumer.auto.offset.reset` in x.json must be one of \"earliest\", \"latest\", \"none\", got \"smallest\""),
        (json!({"consumer": {"app.commit": "after_process"}}), "`consumer.app.commit` in x.json must be one of \"none\", \"after-process\", \"before-process\", got \"after_process\"; did you mean \"after-process\"?"),
        (json!({"workload": {"messages": 10_000_001}}), "`workload.messages` in x.json must be an integer from 0 to 10000000, got 10000001"),
        (json!({"network": {"latency.ms.min": 9}}), "`network.latency.ms.min` in x.json (9) must not exceed `latency.ms.max` (5)"),
        (json!({"faults": {}}), "`faults` in x.json must be an array of steps, got an object"),
        (json!({"faults": ["crash"]}), "`faults[0]` in x.json must be an object, got \"crash\""),
        (json!({"faults": [{"node": "b1"}]}), "`faults[0]` in x.json has no `action`; add one of crash, restart, wipe, pause, resume, cut, isolate, heal, elect, stop, slow"),
        (json!({"faults": [{"action": "crsh", "node": "b1"}]}), "`faults[0].action` in x.json must be one of \"crash\", \"restart\", \"wipe\", \"pause\", \"resume\", \"cut\", \"isolate\", \"heal\", \"elect\", \"stop\", \"slow\", got \"crsh\"; did you mean \"crash\"?"),
        (json!({"faults": [{"action": "crash", "node": "b1", "mode": "kill"}]}), "`faults[0].mode` in x.json must be one of \"process\", \"power\", got \"kill\""),
        (json!({"faults": [{"action": "crash"}]}), "`faults[0]` in x.json is a `crash` step without `node`; add one, such as \"node\": \"leader\""),
        (json!({"faults": [{"action": "cut"}]}), "`faults[0]` in x.json is a `cut` step without `between`; add one, such as \"between\": [[\"b1\"], [\"b2\", \"b3\"]]"),
        (json!({"faults": [{"action": "cut", "between": [["b1"]]}]}), "`faults[0].between` in x.json must be two node sets, such as [[\"b1\"], [\"b2\", \"b3\"]], got an array of 1 element"),
        (json!({"faults": [{"action": "crash", "node": []}]}), "`faults[0].node` in x.json is an empty list; name at least one node"),
        (json!({"faults": [{"action": "crash", "node": 1}]}), "`faults[0].node` in x.json must be a node name or a list of node names, got 1"),
        (json!({"faults": [{"action": "elect", "partition": 1}]}), "`faults[0].partition` in x.json is 1, but the topic has only 1 partition (numbered from 0)"),
        (json!({"faults": [{"action": "heal", "when_isr_size": 4}]}), "`faults[0].when_isr_size` in x.json is 4, but an ISR has 1 to 3 members (`replication.factor`; Kafka never empties an ISR), so the step would never fire"),
        (json!({"expect": {"stuck": "never"}}), "`expect.stuck` in x.json must be one of \"none\", \"some\", got \"never\""),
    ];
    for (file, want) in cases {
        assert_eq!(error(file), want);
    }
}

#[test]
fn idempotence_follows_kafkas_producer_rules() {
    let idempotent =
        |producer: Value| parse_json(json!({ "producer": producer })).map(|s| s.producer.enable_idempotence);
    assert_eq!(idempotent(json!({})), Ok(true));
    assert_eq!(idempotent(json!({"acks": "1"})), Ok(false));
    assert_eq!(idempotent(json!({"acks": 0})), Ok(false));
    assert_eq!(idempotent(json!({"retries": 0})), Ok(false));
    assert_eq!(idempotent(json!({"enable.idempotence": false})), Ok(false));
    assert_eq!(
        idempotent(json!({"acks": "1", "enable.idempotence": true})).unwrap_err(),
        "`producer.enable.idempotence` in x.json is true, but `acks` is \"1\"; Kafka refuses this (\"Must set acks \
         to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.\"): change \
         `acks` or set `enable.idempotence` to false"
    );
    let err = idempotent(json!({"retries": 0, "enable.idempotence": true})).unwrap_err();
    assert!(err.contains("Must set retries to non-zero when using the idempotent producer."), "{err}");
    let err = idempotent(json!({"max.in.flight.requests.per.connection": 6})).unwrap_err();
    assert!(err.contains("Current value is 6."), "{err}");
    let old = parse_json(json!({"kafka.version": "3.9", "producer": {"max.in.flight.requests.per.connection": 6}}));
    assert!(!old.unwrap().producer.enable_idempotence);
}

#[test]
fn delivery_timeout_must_cover_linger_and_request_timeout() {
    assert_eq!(
        error(json!({"producer": {"delivery.timeout.ms": 10000}})),
        "`producer.delivery.timeout.ms` in x.json is 10000, below `linger.ms` + `request.timeout.ms` (5 + 30000 = \
         30005); Kafka refuses this (\"delivery.timeout.ms should be equal to or larger than linger.ms + \
         request.timeout.ms\")"
    );
    let s = parse_json(json!({"producer": {"delivery.timeout.ms": 30005}})).unwrap();
    assert_eq!(s.producer.delivery_timeout_ms, 30005);
}

#[test]
fn nodes_outside_the_cluster_are_refused() {
    let cases = [
        (json!({"faults": [{"action": "crash", "node": "b7"}]}), "`faults[0].node` in x.json names `b7`, but the cluster has brokers b1 to b3"),
        (json!({"brokers": 1, "faults": [{"action": "crash", "node": ["b1", "b2"]}]}), "`faults[0].node` in x.json names `b2`, but the cluster has brokers b1"),
        (json!({"faults": [{"action": "pause", "node": "p2"}]}), "`faults[0].node` in x.json names `p2`, but the workload has producers p1"),
        (json!({"workload": {"consumers": 0}, "faults": [{"action": "crash", "node": "c1"}]}), "`faults[0].node` in x.json names `c1`, but the workload has no consumers (`workload.consumers` is 0)"),
        (json!({"faults": [{"action": "crash", "node": "leader:1"}]}), "`faults[0].node` in x.json names `leader:1`, but the topic has only 1 partition (numbered from 0)"),
        (json!({"faults": [{"action": "cut", "between": [["b1"], ["b9"]]}]}), "`faults[0].between[1]` in x.json names `b9`, but the cluster has brokers b1 to b3"),
        (json!({"faults": [{"action": "crash", "node": "leder"}]}), "`faults[0].node` in x.json names `leder`, which is not a node: nodes are b1 to b3, controller, p1, c1, or leader, followers, follower (each optionally with :P for partition P) and brokers; did you mean `leader`?"),
    ];
    for (file, want) in cases {
        assert_eq!(error(file), want);
    }
}

#[test]
fn versions_are_release_lines() {
    assert_eq!(parse_json(json!({"kafka.version": "3.8"})).unwrap().kafka_version, KafkaVersion::new(3, 8));
    for newer in ["4.2", "5.0"] {
        assert_eq!(
            error(json!({ "kafka.version": newer })),
            format!(
                "`kafka.version` in x.json is \"{newer}\", newer than the newest line losslab knows (4.1); the lines are \
                 0.10, 0.11, 1.0, 1.1, 2.0 to 2.8, 3.0 to 3.9, 4.0 and 4.1"
            )
        );
    }
    for bad in ["0.9", "4", "4.1.0", "latest", ""] {
        assert_eq!(
            error(json!({ "kafka.version": bad })),
            format!("`kafka.version` in x.json must be a Kafka release line \"X.Y\" from \"0.10\" to \"4.1\", such as \"3.9\" or \"4.1\", got \"{bad}\"; the lines are 0.10, 0.11, 1.0, 1.1, 2.0 to 2.8, 3.0 to 3.9, 4.0 and 4.1")
        );
    }
    assert_eq!(
        error(json!({"kafka.version": 3.9})),
        "`kafka.version` in x.json must be a Kafka release line \"X.Y\" from \"0.10\" to \"4.1\", such as \"3.9\" or \"4.1\", got 3.9"
    );
}

#[test]
fn eligible_leader_replicas_need_4_0() {
    assert_eq!(
        error(json!({"kafka.version": "3.9", "broker": {"eligible.leader.replicas.enable": true}})),
        "`broker.eligible.leader.replicas.enable` in x.json is true, but Kafka 3.9 has no eligible leader replicas \
         (KIP-966 arrived in 4.0); remove it or set `kafka.version` to \"4.0\" or later"
    );
}

#[test]
fn kafkas_broker_rules_apply() {
    assert!(error(json!({"topic": {"replication.factor": 4}}))
        .starts_with("`topic.replication.factor` in x.json is 4, but the cluster has only 3 brokers"));
    // Above the replication factor is allowed: acks=all writes then fail, as in Kafka.
    assert_eq!(parse_json(json!({"topic": {"min.insync.replicas": 4}})).unwrap().topic.min_insync_replicas, 4);
    assert!(error(json!({"broker": {"replica.fetch.wait.max.ms": 40000}})).contains("replica.lag.time.max.ms"));
}

#[test]
fn every_valid_fixture_parses() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures("valid")).unwrap() {
        let path = entry.unwrap().path();
        Scenario::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen += 1;
    }
    assert!(seen >= 5);
}

#[test]
fn consumer_defaults_follow_the_release_and_the_file_wins() {
    use losslab_model::config::RebalanceProtocol;
    let parse = |json: &str| Scenario::parse("x.json", "x", json).unwrap().consumer;
    assert_eq!(parse(r#"{"kafka.version": "2.8"}"#).session_timeout_ms, 10_000);
    assert_eq!(parse(r#"{"kafka.version": "3.0"}"#).session_timeout_ms, 45_000);
    assert_eq!(
        parse(r#"{"kafka.version": "2.8", "consumer": {"session.timeout.ms": 45000}}"#).session_timeout_ms,
        45_000
    );
    let c = parse(r#"{"kafka.version": "2.8"}"#);
    assert_eq!((c.partition_assignment_strategy, c.group_instance_id), (vec![Assignor::Range], None));
    // 3.0's default lists cooperative-sticky second: eager range still runs.
    let c = parse("{}");
    assert_eq!((c.assignor(), c.rebalance_protocol()), (Assignor::Range, RebalanceProtocol::Eager));
    let c = parse(r#"{"consumer": {"partition.assignment.strategy": "cooperative-sticky"}}"#);
    assert_eq!((c.assignor(), c.rebalance_protocol()), (Assignor::CooperativeSticky, RebalanceProtocol::Cooperative));
    let c = parse(r#"{"consumer": {"partition.assignment.strategy": ["cooperative-sticky", "range"]}}"#);
    assert_eq!((c.assignor(), c.rebalance_protocol()), (Assignor::CooperativeSticky, RebalanceProtocol::Eager));
    assert_eq!(parse(r#"{"consumer": {"group.instance.id": "app"}}"#).instance_id(3).as_deref(), Some("app-3"));
}

#[test]
fn every_invalid_fixture_is_refused_for_its_reason() {
    let reasons = [
        ("bad-node.json", "names `b7`, but the cluster has brokers b1 to b3"),
        ("bad-version.json", "`kafka.version` in"),
        ("buffer-below-batch.json", "is 1000, below the 16384 bytes one batch reserves"),
        ("delivery-timeout.json", "`producer.delivery.timeout.ms` in"),
        ("duplicate-key.json", "duplicate key `acks`"),
        ("elr-on-3.9.json", "has no eligible leader replicas"),
        ("empty.json", "is empty"),
        ("fault-key-of-other-action.json", "does not apply to `pause`"),
        ("idempotence-acks1.json", "Must set acks to all"),
        ("idempotence-before-0.11.json", "Kafka 0.10 has no idempotent producer (KIP-98 arrived in 0.11)"),
        ("malformed.json", "malformed JSON at line 3, column 10"),
        ("replication-above-brokers.json", "but the cluster has only 2 brokers"),
        ("static-membership-on-2.2.json", "Kafka 2.2 has no static membership (KIP-345 came in 2.3)"),
        ("top-level-array.json", "the top level must be a JSON object"),
        ("unknown-assignor.json", "which is a Kafka assignor losslab does not simulate"),
        ("unknown-key.json", "did you mean `acks`?"),
        ("wrong-type.json", "must be a non-negative integer, got \"5\""),
    ];
    let mut files: Vec<String> = std::fs::read_dir(fixtures("invalid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, reasons.iter().map(|(f, _)| f.to_string()).collect::<Vec<_>>(), "every fixture has a reason");
    for (file, reason) in reasons {
        let path = fixtures("invalid").join(file);
        let err = Scenario::from_file(&path).expect_err(file);
        assert!(err.message.contains(reason), "{file}: {}", err.message);
        assert!(err.message.contains(file), "{file}: the error names the file: {}", err.message);
    }
}

/// Keys and values a scenario could plausibly hold, so that random files reach deep into
/// validation instead of stopping at the first unknown key.
const WORDS: [&str; 24] = [
    "acks",
    "all",
    "1",
    "-1",
    "node",
    "leader",
    "leader:0",
    "followers:9",
    "b1",
    "b9",
    "c1",
    "p1",
    "controller",
    "brokers",
    "crash",
    "cut",
    "heal",
    "elect",
    "between",
    "power",
    "action",
    "4.0",
    "some",
    "",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (0u64..70).prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        proptest::sample::select(WORDS.to_vec()).prop_map(|w| json!(w)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    let keys: Vec<&str> = [
        "brokers",
        "seed",
        "kafka.version",
        "topic",
        "broker",
        "producer",
        "consumer",
        "workload",
        "network",
        "faults",
        "expect",
        "partitions",
        "replication.factor",
        "min.insync.replicas",
        "enable.idempotence",
        "retries",
        "max.in.flight.requests.per.connection",
        "delivery.timeout.ms",
        "linger.ms",
        "log.flush.interval.ms",
        "eligible.leader.replicas.enable",
        "producers",
        "consumers",
        "latency.ms.min",
        "latency.ms.max",
        "at_ms",
        "when_isr_size",
        "partition",
        "unclean",
        "oneway",
        "mode",
        "lost_acked",
    ]
    .into_iter()
    .chain(WORDS)
    .collect();
    proptest::sample::select(keys).prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig { rng_seed: RngSeed::Fixed(586), ..ProptestConfig::default() })]

    #[test]
    fn no_value_makes_the_parser_panic(v in value()) {
        let _ = parse_json(v);
    }

    #[test]
    fn no_text_makes_the_parser_panic(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn a_valid_file_gives_the_same_scenario_every_time(seed in any::<u64>(), brokers in 1u32..=9) {
        let text = json!({"seed": seed, "brokers": brokers, "faults": [{"action": "crash", "node": "leader"}]}).to_string();
        prop_assert_eq!(parse(&text), parse(&text));
    }
}

#[test]
fn random_sections_never_panic() {
    // Whole files whose sections are random objects over real keys: the deepest paths.
    let sections = ["topic", "broker", "producer", "consumer", "workload", "network", "expect"];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (proptest::sample::select(sections.to_vec()), value(), proptest::collection::vec(value(), 0..4));
    for _ in 0..2000 {
        let (section, body, steps) = strategy.new_tree(&mut runner).unwrap().current();
        let _ = parse_json(json!({ section: body, "faults": steps }));
    }
}
