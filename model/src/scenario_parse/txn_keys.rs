//! The keys of transactions (issue 16, KIP-98): `transactional.id`, `transaction.timeout.ms`
//! and the app's `app.transaction.*` in `producer`; `isolation.level` and `app.output` in
//! `consumer`; the transaction coordinator's keys in `broker`; and the rules Kafka enforces
//! across them. Kept apart from `config` and `producer` so that those stay one line a key.
//!
//! Every key is refused on a release line that lacks it (before 0.11 there are no
//! transactions; `transaction.partition.verification.enable` arrived in 3.6), as the other
//! sections do: Kafka would ignore it with a warning and run without what the file asks for.

use super::obj::{Obj, Result, INT};
use crate::config::{AppOutput, CommitStrategy, IsolationLevel, TxnBrokerConfig};
use crate::version::KafkaVersion;

const ISOLATION_LEVELS: [(&str, IsolationLevel); 2] =
    [("read_uncommitted", IsolationLevel::ReadUncommitted), ("read_committed", IsolationLevel::ReadCommitted)];
const APP_OUTPUTS: [(&str, AppOutput); 3] =
    [("none", AppOutput::None), ("plain", AppOutput::Plain), ("transactional", AppOutput::Transactional)];

/// Records one transaction may hold: as many as a producer may send.
const MAX_TXN_RECORDS: u64 = 10_000_000;

/// The producer's transaction keys, as read.
#[derive(Debug)]
pub(super) struct ProducerTxn {
    pub transactional_id: Option<String>,
    pub transaction_timeout_ms: u64,
    pub app_transaction_records: u64,
    pub app_transaction_abort_every: u64,
}

/// A key of a release line without transactions: refused, naming the release that has them.
fn refuse_before_transactions(o: &Obj, key: &str, version: KafkaVersion) -> Result<()> {
    if version.has_transactions() || !o.has(key) {
        return Ok(());
    }
    Err(o.fail(
        key,
        format!(
            "is set, but Kafka {version} has no transactions (KIP-98 arrived in 0.11) and would ignore it \
             (\"The configuration '{key}' was supplied but isn't a known config.\"); remove it, or set \
             `kafka.version` to \"0.11\" or later"
        ),
    ))
}

pub(super) fn producer_txn(o: &Obj, version: KafkaVersion) -> Result<ProducerTxn> {
    for key in ["transactional.id", "transaction.timeout.ms"] {
        refuse_before_transactions(o, key, version)?;
    }
    let transactional_id = match o.opt_str("transactional.id", "a string")? {
        // `ConfigDef.NonEmptyString`.
        Some("") => {
            return Err(o.fail(
                "transactional.id",
                "must not be empty (Kafka: \"Invalid value  for configuration transactional.id: String must be \
                 non-empty\"); remove it for a producer without transactions",
            ))
        }
        other => other.map(str::to_string),
    };
    // The app's keys mean nothing without transactions: refused rather than silently unused.
    if transactional_id.is_none() {
        for key in ["app.transaction.records", "app.transaction.abort.every"] {
            if o.has(key) {
                return Err(o.fail(
                    key,
                    "is set, but the producer has no `transactional.id`, so its app sends no transactions; \
                     set `transactional.id` or remove it",
                ));
            }
        }
    }
    Ok(ProducerTxn {
        transactional_id,
        // Kafka's INT; InitProducerId refuses 0 (INVALID_TRANSACTION_TIMEOUT), checked in `cross_checks`.
        transaction_timeout_ms: o.uint("transaction.timeout.ms", 0..=INT, 60_000)?,
        app_transaction_records: o.uint("app.transaction.records", 1..=MAX_TXN_RECORDS, 10)?,
        app_transaction_abort_every: o.uint("app.transaction.abort.every", 0..=INT, 0)?,
    })
}

/// The consumer's transaction keys, as read.
pub(super) struct ConsumerTxn {
    pub isolation_level: IsolationLevel,
    pub app_output: AppOutput,
}

pub(super) fn consumer_txn(o: &Obj, version: KafkaVersion) -> Result<ConsumerTxn> {
    refuse_before_transactions(o, "isolation.level", version)?;
    let app_output = o.choice("app.output", &APP_OUTPUTS, AppOutput::None)?;
    if app_output == AppOutput::Transactional && !version.has_transactions() {
        return Err(o.fail(
            "app.output",
            format!(
                "is \"transactional\", but Kafka {version} has no transactions (KIP-98 arrived in 0.11); use \
                 \"plain\", or set `kafka.version` to \"0.11\" or later"
            ),
        ));
    }
    Ok(ConsumerTxn {
        isolation_level: o.choice("isolation.level", &ISOLATION_LEVELS, IsolationLevel::ReadUncommitted)?,
        app_output,
    })
}

/// `enable.auto.commit`'s default: off when the app commits its own offsets as part of the
/// pipeline (`app.output`), as Kafka's consume-transform-produce examples set it; Kafka's
/// `true` otherwise. An explicit value wins.
pub(super) fn auto_commit_default(app_output: AppOutput) -> bool {
    app_output == AppOutput::None
}

/// `app.commit` with a pipeline: the pipeline commits its offsets itself (plain: once the
/// outputs are acknowledged, which is what `after-process` means; transactional: in the
/// transaction), so only those values are accepted.
pub(super) fn check_app_commit(o: &Obj, app_output: AppOutput, commit: CommitStrategy) -> Result<()> {
    let fits = match app_output {
        AppOutput::None => true,
        AppOutput::Plain => commit != CommitStrategy::BeforeProcess,
        AppOutput::Transactional => commit == CommitStrategy::None,
    };
    if fits || !o.has("app.commit") {
        return Ok(());
    }
    let how = match app_output {
        AppOutput::Transactional => "in the transaction (`sendOffsetsToTransaction`)",
        _ => "once its outputs are acknowledged",
    };
    Err(o.fail(
        "app.commit",
        format!(
            "cannot be set with `app.output` \"{}\": the pipeline app commits its offsets {how}",
            app_output.as_str()
        ),
    ))
}

pub(super) fn broker_txn(o: &Obj, version: KafkaVersion, brokers: u32) -> Result<TxnBrokerConfig> {
    for key in [
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "transaction.max.timeout.ms",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    ] {
        refuse_before_transactions(o, key, version)?;
    }
    let verification = "transaction.partition.verification.enable";
    if o.has(verification) && !version.verifies_transactional_partitions() {
        return Err(o.fail(
            verification,
            format!(
                "is set, but Kafka {version} has no partition verification (KIP-890 part 1 arrived in 3.6) and \
                 would ignore it; remove it, or set `kafka.version` to \"3.6\" or later"
            ),
        ));
    }
    let rf_key = "transaction.state.log.replication.factor";
    let replication_factor: u32 = o.uint(rf_key, 1..=i16::MAX as u64, brokers.min(3))?;
    if replication_factor > brokers {
        // 0.11+ does not cap it (KIP-115): creating `__transaction_state` fails and
        // FindCoordinator answers COORDINATOR_NOT_AVAILABLE for ever (`KafkaApis.createInternalTopic`,
        // `AutoTopicCreationManager`): no transaction could ever start.
        return Err(o.fail(
            rf_key,
            format!(
                "is {replication_factor}, but the cluster has only {brokers} brokers (`brokers`): Kafka could never \
                 create __transaction_state (\"Number of alive brokers '{brokers}' does not meet the required \
                 replication factor '{replication_factor}' for the transactions state topic\"), so no transaction \
                 could start; lower it"
            ),
        ));
    }
    Ok(TxnBrokerConfig {
        transaction_state_log_replication_factor: replication_factor,
        transaction_state_log_min_isr: o.uint("transaction.state.log.min.isr", 1..=INT, replication_factor.min(2))?,
        transaction_max_timeout_ms: o.uint("transaction.max.timeout.ms", 1..=INT, 900_000)?,
        // A zero period would spin the timeout scan forever at one instant of simulated time.
        transaction_abort_timed_out_transaction_cleanup_interval_ms: o.uint(
            "transaction.abort.timed.out.transaction.cleanup.interval.ms",
            1..=INT,
            version.txn_abort_cleanup_interval_ms_default(),
        )?,
        transaction_partition_verification_enable: o
            .boolean(verification, version.verifies_transactional_partitions())?,
    })
}

/// `transaction.timeout.ms` against the broker: InitProducerId answers INVALID_TRANSACTION_TIMEOUT
/// unless `0 < timeout <= transaction.max.timeout.ms` (`TransactionCoordinator.handleInitProducerId`),
/// a fatal error: the producer could never start a transaction. Checked when some producer is
/// transactional (`transactional.id`, or the pipeline of `app.output` "transactional").
pub(super) fn check_timeout(o: &Obj, timeout_ms: u64, max_timeout_ms: u64) -> Result<()> {
    if timeout_ms > 0 && timeout_ms <= max_timeout_ms {
        return Ok(());
    }
    Err(o.fail(
        "transaction.timeout.ms",
        format!(
            "is {timeout_ms}, but the transaction coordinator accepts only 1 to `transaction.max.timeout.ms` \
             ({max_timeout_ms}): initTransactions() would fail with INVALID_TRANSACTION_TIMEOUT (\"The transaction \
             timeout is larger than the maximum value allowed by the broker (as configured by \
             transaction.max.timeout.ms).\") and no transaction could start"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn section(name: &str, value: Value) -> Value {
        json!({ name: value })
    }

    fn open<'a>(file: &'a Value, name: &str, keys: &[&'static str]) -> Obj<'a> {
        let top = Obj::top("x.json", file).unwrap().check_keys(&["producer", "consumer", "broker"], |_| None).unwrap();
        top.child(name).unwrap().check_keys(keys, |_| None).unwrap()
    }

    const PRODUCER_KEYS: [&str; 4] =
        ["transactional.id", "transaction.timeout.ms", "app.transaction.records", "app.transaction.abort.every"];
    const BROKER_KEYS: [&str; 5] = [
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "transaction.max.timeout.ms",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        "transaction.partition.verification.enable",
    ];

    fn producer(value: Value, version: KafkaVersion) -> std::result::Result<ProducerTxn, String> {
        let file = section("producer", value);
        producer_txn(&open(&file, "producer", &PRODUCER_KEYS), version).map_err(|e| e.message)
    }

    fn broker(value: Value, version: KafkaVersion, brokers: u32) -> std::result::Result<TxnBrokerConfig, String> {
        let file = section("broker", value);
        broker_txn(&open(&file, "broker", &BROKER_KEYS), version, brokers).map_err(|e| e.message)
    }

    const V0_10: KafkaVersion = KafkaVersion::new(0, 10);
    const V2_4: KafkaVersion = KafkaVersion::new(2, 4);
    const V3_5: KafkaVersion = KafkaVersion::new(3, 5);
    const V4_1: KafkaVersion = KafkaVersion::DEFAULT;

    #[test]
    fn producer_defaults_are_kafkas() {
        let p = producer(json!({}), V4_1).unwrap();
        assert_eq!(
            (p.transactional_id, p.transaction_timeout_ms, p.app_transaction_records, p.app_transaction_abort_every),
            (None, 60_000, 10, 0)
        );
        let p = producer(json!({"transactional.id": "tx", "app.transaction.abort.every": 3}), V4_1).unwrap();
        assert_eq!((p.transactional_id.as_deref(), p.app_transaction_abort_every), (Some("tx"), 3));
    }

    #[test]
    fn producer_keys_are_refused_where_they_mean_nothing() {
        let err = producer(json!({"transactional.id": "tx"}), V0_10).unwrap_err();
        assert!(
            err.starts_with("`producer.transactional.id` in x.json is set, but Kafka 0.10 has no transactions (KIP-98 arrived in 0.11)"),
            "{err}"
        );
        let err = producer(json!({"transactional.id": ""}), V4_1).unwrap_err();
        assert!(err.contains("String must be non-empty"), "{err}");
        let err = producer(json!({"app.transaction.records": 5}), V4_1).unwrap_err();
        assert_eq!(err, "`producer.app.transaction.records` in x.json is set, but the producer has no `transactional.id`, so its app sends no transactions; set `transactional.id` or remove it");
        assert!(producer(json!({"transactional.id": "t", "app.transaction.records": 0}), V4_1).is_err());
    }

    #[test]
    fn broker_defaults_follow_the_release_and_the_cluster() {
        let b = broker(json!({}), V4_1, 3).unwrap();
        assert_eq!(b, TxnBrokerConfig::default());
        let b = broker(json!({}), V2_4, 1).unwrap();
        assert_eq!(
            (
                b.transaction_state_log_replication_factor,
                b.transaction_state_log_min_isr,
                b.transaction_abort_timed_out_transaction_cleanup_interval_ms,
                b.transaction_partition_verification_enable
            ),
            (1, 1, 60_000, false)
        );
        let err = broker(json!({"transaction.state.log.replication.factor": 3}), V4_1, 2).unwrap_err();
        assert!(
            err.starts_with(
                "`broker.transaction.state.log.replication.factor` in x.json is 3, but the cluster has only 2 brokers"
            ),
            "{err}"
        );
        let err = broker(json!({"transaction.partition.verification.enable": false}), V3_5, 3).unwrap_err();
        assert!(err.contains("(KIP-890 part 1 arrived in 3.6)"), "{err}");
        let b = broker(json!({"transaction.partition.verification.enable": false}), KafkaVersion::new(3, 6), 3);
        assert!(!b.unwrap().transaction_partition_verification_enable);
        let err = broker(json!({"transaction.max.timeout.ms": 5}), V0_10, 3).unwrap_err();
        assert!(err.contains("Kafka 0.10 has no transactions"), "{err}");
    }

    #[test]
    fn the_timeout_must_fit_the_brokers_maximum() {
        let file = section("producer", json!({}));
        let o = open(&file, "producer", &PRODUCER_KEYS);
        assert!(check_timeout(&o, 900_000, 900_000).is_ok());
        let err = check_timeout(&o, 900_001, 900_000).unwrap_err().message;
        assert!(err.starts_with("`producer.transaction.timeout.ms` in x.json is 900001, but the transaction coordinator accepts only 1 to `transaction.max.timeout.ms` (900000)"), "{err}");
        assert!(check_timeout(&o, 0, 900_000).is_err());
    }
}
