//! The `producer` section: Kafka's producer properties with the defaults of the scenario's
//! release line, and the rules Kafka's `ProducerConfig` and `KafkaProducer` enforce across them
//! (the idempotent producer's requirements by release, `delivery.timeout.ms` against
//! `linger.ms` + `request.timeout.ms`, `buffer.memory` against what one batch reserves). A key
//! that does not exist in the release line (`enable.idempotence=true` before 0.11,
//! `delivery.timeout.ms` before 2.1, `retry.backoff.max.ms` before 3.7) is refused: Kafka would
//! ignore it with a warning and run without what the file asks for, which is never what its
//! author meant.

use super::config::{open, PRODUCER};
use super::obj::{describe, Obj, Result, INT, LONG};
use crate::config::{Acks, OnFailure, ProducerConfig, SendMode};
use crate::error::ScenarioError;
use crate::version::KafkaVersion;
use serde_json::Value;

const SEND_MODES: [(&str, SendMode); 3] =
    [("callback", SendMode::Callback), ("fire-and-forget", SendMode::FireAndForget), ("sync", SendMode::Sync)];
const ON_FAILURE: [(&str, OnFailure); 2] = [("log", OnFailure::Log), ("resend", OnFailure::Resend)];
/// `acks` as Kafka's validator accepts it (`all`, `-1`, `0`, `1`), case-sensitive as there.
const ACKS: [(&str, Acks); 4] = [("all", Acks::All), ("-1", Acks::All), ("1", Acks::Leader), ("0", Acks::None)];

/// Kafka allows at most this many unacknowledged requests for idempotence: a broker remembers
/// the sequence numbers of a producer's last five batches.
const IN_FLIGHT_FOR_IDEMPOTENCE: u32 = 5;
/// `buffer.memory`'s default, 32 MiB, in every release (`ProducerConfig`).
const BUFFER_MEMORY_DEFAULT: u64 = 32 * 1024 * 1024;
/// `max.block.ms`'s default, in every release.
const MAX_BLOCK_MS_DEFAULT: u64 = 60_000;
/// `retry.backoff.max.ms`'s default (`CommonClientConfigs.DEFAULT_RETRY_BACKOFF_MAX_MS`, 3.7).
const RETRY_BACKOFF_MAX_MS_DEFAULT: u64 = 1_000;

pub(super) fn producer(top: &Obj, version: KafkaVersion, message_bytes: u64) -> Result<ProducerConfig> {
    let o = open(top, &PRODUCER)?;
    let txn = super::txn_keys::producer_txn(&o, version)?;
    let explicit = transactional_idempotence(&o, explicit_idempotence(&o, version)?, txn.transactional_id.is_some())?;
    // Before 3.0 the idempotent producer is opt-in; asking for it makes Kafka override the unset
    // `acks` to all, `retries` to 2147483647 and (0.11) `max.in.flight` to 1
    // (`KafkaProducer.configureAcks/Retries/InflightRequests`, `ProducerConfig.maybeOverrideAcksAndRetries`).
    let asked_before_3 = explicit == Some(true) && !version.producer_defaults_to_idempotence();
    let acks_default =
        if version.producer_defaults_to_idempotence() || asked_before_3 { Acks::All } else { Acks::Leader };
    let retries_default = if asked_before_3 { INT } else { version.producer_retries_default() };
    let in_flight_default = if asked_before_3 && version.idempotence_needs_one_in_flight() { 1 } else { 5 };
    refuse_unknown_before(&o, "delivery.timeout.ms", version.has_delivery_timeout(), version, "2.1 (KIP-91)")?;
    refuse_unknown_before(&o, "retry.backoff.max.ms", version.exponential_retry_backoff(), version, "3.7 (KIP-580)")?;
    let mut config = ProducerConfig {
        acks: acks(&o, acks_default)?,
        enable_idempotence: false,
        retries: o.uint("retries", 0..=INT, retries_default)?,
        max_in_flight_requests_per_connection: o.uint(
            "max.in.flight.requests.per.connection",
            1..=INT,
            in_flight_default,
        )?,
        delivery_timeout_ms: o.uint("delivery.timeout.ms", 0..=INT, 120_000)?,
        request_timeout_ms: o.uint("request.timeout.ms", 0..=INT, 30_000)?,
        retry_backoff_ms: o.uint("retry.backoff.ms", 0..=LONG, 100)?,
        linger_ms: o.uint("linger.ms", 0..=LONG, version.producer_linger_ms_default())?,
        batch_size: o.uint("batch.size", 1..=INT, 16_384)?,
        app_send: o.choice("app.send", &SEND_MODES, SendMode::Callback)?,
        app_on_failure: o.choice("app.on.failure", &ON_FAILURE, OnFailure::Log)?,
        retry_backoff_max_ms: o.uint("retry.backoff.max.ms", 0..=LONG, RETRY_BACKOFF_MAX_MS_DEFAULT)?,
        buffer_memory: o.uint("buffer.memory", 0..=LONG, BUFFER_MEMORY_DEFAULT)?,
        max_block_ms: o.uint("max.block.ms", 0..=LONG, MAX_BLOCK_MS_DEFAULT)?,
        transactional_id: txn.transactional_id,
        transaction_timeout_ms: txn.transaction_timeout_ms,
        app_transaction_records: txn.app_transaction_records,
        app_transaction_abort_every: txn.app_transaction_abort_every,
    };
    config.enable_idempotence = idempotence(&o, version, explicit, &config)?;
    if version.has_delivery_timeout() {
        config.delivery_timeout_ms = delivery_timeout(&o, &config)?;
    }
    buffer_memory(&o, &config, message_bytes)?;
    Ok(config)
}

/// `enable.idempotence` as the file sets it. Before 0.11 the key does not exist: Kafka would log
/// "The configuration 'enable.idempotence' was supplied but isn't a known config." and run
/// without idempotence, so `true` is refused (`false` is what happens anyway).
fn explicit_idempotence(o: &Obj, version: KafkaVersion) -> Result<Option<bool>> {
    let explicit = o.opt_bool("enable.idempotence")?;
    if explicit == Some(true) && !version.has_idempotent_producer() {
        return Err(o.fail(
            "enable.idempotence",
            format!(
                "is true, but Kafka {version} has no idempotent producer (KIP-98 arrived in 0.11): its producer \
                 ignores the key (\"The configuration 'enable.idempotence' was supplied but isn't a known \
                 config.\") and retries can store a record twice; remove it, or set `kafka.version` to \"0.11\" \
                 or later"
            ),
        ));
    }
    Ok(explicit)
}

/// `transactional.id` implies idempotence (0.11 `KafkaProducer.configureTransactionState`,
/// 2.8+ `ProducerConfig.idempotenceEnabled`/`postProcessAndValidateIdempotenceConfigs`): it counts
/// as asking for it, and an explicit `enable.idempotence=false` beside it is refused.
fn transactional_idempotence(o: &Obj, explicit: Option<bool>, transactional: bool) -> Result<Option<bool>> {
    if !transactional {
        return Ok(explicit);
    }
    if explicit == Some(false) {
        return Err(o.fail(
            "enable.idempotence",
            "is false, but `transactional.id` is set; Kafka refuses this (\"Cannot set a transactional.id without \
             also enabling idempotence.\"): remove one of them",
        ));
    }
    Ok(Some(true))
}

/// A key the release line's producer does not know: refused, naming the release that brought it.
fn refuse_unknown_before(o: &Obj, key: &str, exists: bool, version: KafkaVersion, since: &str) -> Result<()> {
    if exists || !o.has(key) {
        return Ok(());
    }
    Err(o.fail(
        key,
        format!(
            "is set, but Kafka {version}'s producer has no such setting (it arrived in {since}) and would ignore \
             it (\"The configuration '{key}' was supplied but isn't a known config.\"); remove it, or set \
             `kafka.version` to a line that has it"
        ),
    ))
}

/// `acks`: one of Kafka's strings, or the same as a number.
fn acks(o: &Obj, default: Acks) -> Result<Acks> {
    let Some(value) = o.get("acks") else {
        return Ok(default);
    };
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    ACKS.iter().find(|(name, _)| *name == text).map(|&(_, acks)| acks).ok_or_else(|| {
        o.fail("acks", format!("must be one of \"all\", \"-1\", \"1\", \"0\" (or -1, 1, 0), got {}", describe(value)))
    })
}

/// A setting the idempotent producer cannot live with, in Kafka's words.
struct Conflict {
    key: &'static str,
    value: String,
    kafka: String,
    /// Kafka 4.0 refuses a large `max.in.flight` even when idempotence is only the default.
    fatal_by_default: bool,
}

/// Whether idempotence is actually on, following `ProducerConfig`: an explicit `false` turns it
/// off; an explicit `true` with a conflicting setting is refused. From 3.0 the default `true`
/// quietly yields to a conflict (except where Kafka 4.0 made that an error too); before 3.0 the
/// default is off.
fn idempotence(o: &Obj, version: KafkaVersion, explicit: Option<bool>, config: &ProducerConfig) -> Result<bool> {
    if explicit == Some(false) || (explicit.is_none() && !version.producer_defaults_to_idempotence()) {
        return Ok(false);
    }
    let conflicts = idempotence_conflicts(version, config);
    if let Some(c) = conflicts.iter().find(|c| explicit.is_some() || c.fatal_by_default) {
        return Err(idempotence_error(o, version, explicit.is_some(), c));
    }
    Ok(conflicts.is_empty())
}

/// Kafka's checks, in Kafka's order.
fn idempotence_conflicts(version: KafkaVersion, config: &ProducerConfig) -> Vec<Conflict> {
    let in_flight = config.max_in_flight_requests_per_connection;
    let (in_flight_limit, in_flight_message) = if version.idempotence_needs_one_in_flight() {
        (
            1,
            "Must set max.in.flight.requests.per.connection to 1 in order to use the idempotent producer. Otherwise \
             we cannot guarantee idempotence."
                .to_string(),
        )
    } else if version.rejects_in_flight_above_5() {
        (
            IN_FLIGHT_FOR_IDEMPOTENCE,
            format!(
                "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. \
                 Current value is {in_flight}."
            ),
        )
    } else {
        (
            IN_FLIGHT_FOR_IDEMPOTENCE,
            "Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer.".to_string(),
        )
    };
    let checks = [
        Conflict {
            key: "retries",
            value: "0".to_string(),
            kafka: "Must set retries to non-zero when using the idempotent producer.".to_string(),
            fatal_by_default: false,
        },
        Conflict {
            key: "acks",
            value: format!("\"{}\"", config.acks.as_kafka()),
            kafka: "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee \
                    idempotence."
                .to_string(),
            fatal_by_default: false,
        },
        Conflict {
            key: "max.in.flight.requests.per.connection",
            value: in_flight.to_string(),
            kafka: in_flight_message,
            fatal_by_default: version.rejects_in_flight_above_5(),
        },
    ];
    let hits = [config.retries == 0, config.acks != Acks::All, in_flight > in_flight_limit];
    checks.into_iter().zip(hits).filter(|&(_, hit)| hit).map(|(c, _)| c).collect()
}

fn idempotence_error(o: &Obj, version: KafkaVersion, explicit: bool, c: &Conflict) -> ScenarioError {
    let fix = format!("change `{}` or set `enable.idempotence` to false", c.key);
    if explicit && !o.has("enable.idempotence") {
        // Asked for by `transactional.id`. From 3.0 Kafka first turns the default idempotence
        // off quietly, then refuses the transactional id (`ProducerConfig` 3.9 l. 609-612).
        let kafka = if version.producer_defaults_to_idempotence() {
            "Cannot set a transactional.id without also enabling idempotence."
        } else {
            c.kafka.as_str()
        };
        return o.fail(
            "transactional.id",
            format!(
                "is set, which needs the idempotent producer, but `{}` is {}; Kafka refuses this (\"{kafka}\"): \
                 change `{}`",
                c.key, c.value, c.key
            ),
        );
    }
    if explicit {
        o.fail(
            "enable.idempotence",
            format!("is true, but `{}` is {}; Kafka refuses this (\"{}\"): {fix}", c.key, c.value, c.kafka),
        )
    } else {
        o.fail(
            c.key,
            format!(
                "is {}, but the producer is idempotent by default and Kafka {version} refuses this (\"{}\"): {fix}",
                c.value, c.kafka
            ),
        )
    }
}

/// `KafkaProducer.configureDeliveryTimeout`: an explicit `delivery.timeout.ms` below
/// `linger.ms` + `request.timeout.ms` is refused; the default is raised to that sum instead.
fn delivery_timeout(o: &Obj, config: &ProducerConfig) -> Result<u64> {
    // Kafka computes in ints: linger.ms is capped to INT, and so is the sum.
    let floor = (config.linger_ms.min(INT) + config.request_timeout_ms).min(INT);
    if config.delivery_timeout_ms >= floor {
        return Ok(config.delivery_timeout_ms);
    }
    if !o.has("delivery.timeout.ms") {
        return Ok(floor);
    }
    Err(o.fail(
        "delivery.timeout.ms",
        format!(
            "is {}, below `linger.ms` + `request.timeout.ms` ({} + {} = {floor}); Kafka refuses this \
             (\"delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms\")",
            config.delivery_timeout_ms, config.linger_ms, config.request_timeout_ms
        ),
    ))
}

/// Every batch reserves max(`batch.size`, one record's upper bound) from `buffer.memory`
/// (`RecordAccumulator.append`); a pool smaller than that makes every `send()` throw
/// (`BufferPool.allocate`: "Attempt to allocate ... bytes, but there is a hard limit of ...").
fn buffer_memory(o: &Obj, config: &ProducerConfig, message_bytes: u64) -> Result<()> {
    let need = config.batch_reservation_bytes(message_bytes);
    if config.buffer_memory >= need {
        return Ok(());
    }
    Err(o.fail(
        "buffer.memory",
        format!(
            "is {}, below the {need} bytes one batch reserves (`batch.size` {}, or a {message_bytes}-byte record \
             with its batch header, whichever is larger): every send() would throw (\"Attempt to allocate {need} \
             bytes, but there is a hard limit of {} on memory allocations.\"); raise it to at least {need}",
            config.buffer_memory, config.batch_size, config.buffer_memory
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn producer_of(value: Value, version: KafkaVersion) -> std::result::Result<ProducerConfig, String> {
        let file = json!({ "producer": value });
        let top = Obj::top("x.json", &file).unwrap().check_keys(&["producer"], |_| None).unwrap();
        producer(&top, version, 100).map_err(|e| e.message)
    }

    fn idempotent(value: Value, version: KafkaVersion) -> std::result::Result<bool, String> {
        producer_of(value, version).map(|p| p.enable_idempotence)
    }

    const V0_10: KafkaVersion = KafkaVersion::new(0, 10);
    const V0_11: KafkaVersion = KafkaVersion::new(0, 11);
    const V2_0: KafkaVersion = KafkaVersion::new(2, 0);
    const V2_8: KafkaVersion = KafkaVersion::new(2, 8);
    const V3_0: KafkaVersion = KafkaVersion::new(3, 0);
    const V3_6: KafkaVersion = KafkaVersion::new(3, 6);
    const V3_9: KafkaVersion = KafkaVersion::new(3, 9);
    const V4_1: KafkaVersion = KafkaVersion::DEFAULT;

    #[test]
    fn idempotence_yields_quietly_unless_asked_for() {
        assert_eq!(idempotent(json!({}), V4_1), Ok(true));
        assert_eq!(idempotent(json!({"acks": "1"}), V4_1), Ok(false));
        assert_eq!(idempotent(json!({"acks": 0}), V4_1), Ok(false));
        assert_eq!(idempotent(json!({"retries": 0}), V4_1), Ok(false));
        assert_eq!(idempotent(json!({"acks": "-1", "enable.idempotence": false}), V4_1), Ok(false));
        assert_eq!(idempotent(json!({"max.in.flight.requests.per.connection": 6}), V3_9), Ok(false));
    }

    #[test]
    fn idempotence_asked_for_must_be_possible() {
        let err = idempotent(json!({"acks": "1", "enable.idempotence": true}), V4_1).unwrap_err();
        assert!(err.starts_with("`producer.enable.idempotence` in x.json is true, but `acks` is \"1\""), "{err}");
        assert!(err.contains("Must set acks to all in order to use the idempotent producer"), "{err}");
        let err = idempotent(json!({"retries": 0, "enable.idempotence": true}), V4_1).unwrap_err();
        assert!(err.contains("Must set retries to non-zero"), "{err}");
        let err = idempotent(json!({"max.in.flight.requests.per.connection": 6, "enable.idempotence": true}), V3_9);
        assert!(err.unwrap_err().contains("Must set max.in.flight.requests.per.connection to at most 5"));
    }

    #[test]
    fn kafka_4_refuses_large_in_flight_even_by_default() {
        let err = idempotent(json!({"max.in.flight.requests.per.connection": 6}), V4_1).unwrap_err();
        assert!(err.starts_with("`producer.max.in.flight.requests.per.connection` in x.json is 6, but the producer is idempotent by default and Kafka 4.1 refuses this"), "{err}");
        // Kafka checks in-flight even after acks already turned idempotence off.
        assert!(idempotent(json!({"acks": "1", "max.in.flight.requests.per.connection": 6}), V4_1).is_err());
        let off = json!({"max.in.flight.requests.per.connection": 6, "enable.idempotence": false});
        assert_eq!(idempotent(off, V4_1), Ok(false));
    }

    /// C9: acks=1, no idempotence and (before 2.1) no retries by default before 3.0; linger.ms
    /// 5 from 4.0. "3.0" behaves as 3.0.1 (KAFKA-13598).
    #[test]
    fn defaults_follow_the_release_line() {
        let p = |v| producer_of(json!({}), v).unwrap();
        let row = |c: ProducerConfig| (c.acks, c.enable_idempotence, c.retries, c.linger_ms);
        assert_eq!(row(p(V0_10)), (Acks::Leader, false, 0, 0));
        assert_eq!(row(p(V2_0)), (Acks::Leader, false, 0, 0));
        assert_eq!(row(p(KafkaVersion::new(2, 1))), (Acks::Leader, false, INT, 0));
        assert_eq!(row(p(V2_8)), (Acks::Leader, false, INT, 0));
        assert_eq!(row(p(V3_0)), (Acks::All, true, INT, 0));
        assert_eq!(row(p(V3_9)), (Acks::All, true, INT, 0));
        assert_eq!(row(p(KafkaVersion::new(4, 0))), (Acks::All, true, INT, 5));
        // A key set in the file wins over the line's default.
        assert_eq!(
            producer_of(json!({"acks": "all", "linger.ms": 7}), V2_0).map(|c| (c.acks, c.linger_ms)),
            Ok((Acks::All, 7))
        );
        let d = p(V4_1);
        assert_eq!((d.buffer_memory, d.max_block_ms, d.retry_backoff_max_ms), (33_554_432, 60_000, 1_000));
    }

    /// Before 3.0, asking for idempotence overrides the unset acks, retries and (0.11) in-flight.
    #[test]
    fn idempotence_asked_for_before_3_0_overrides_unset_keys() {
        let c = producer_of(json!({"enable.idempotence": true}), V2_0).unwrap();
        assert_eq!(
            (c.enable_idempotence, c.acks, c.retries, c.max_in_flight_requests_per_connection),
            (true, Acks::All, INT, 5)
        );
        let c = producer_of(json!({"enable.idempotence": true}), V0_11).unwrap();
        assert_eq!(c.max_in_flight_requests_per_connection, 1, "0.11 forces one request in flight");
        let err = idempotent(json!({"enable.idempotence": true, "max.in.flight.requests.per.connection": 2}), V0_11);
        assert!(err
            .unwrap_err()
            .contains("Must set max.in.flight.requests.per.connection to 1 in order to use the idempotent producer"));
        let err = idempotent(json!({"enable.idempotence": true, "acks": "1"}), V2_8).unwrap_err();
        assert!(err.contains("Must set acks to all"), "{err}");
        assert_eq!(
            idempotent(json!({"enable.idempotence": true, "max.in.flight.requests.per.connection": 5}), V2_0),
            Ok(true)
        );
    }

    #[test]
    fn keys_a_release_line_does_not_have_are_refused() {
        let err = idempotent(json!({"enable.idempotence": true}), V0_10).unwrap_err();
        assert!(
            err.starts_with("`producer.enable.idempotence` in x.json is true, but Kafka 0.10 has no idempotent producer (KIP-98 arrived in 0.11)"),
            "{err}"
        );
        assert_eq!(idempotent(json!({"enable.idempotence": false}), V0_10), Ok(false));
        let err = producer_of(json!({"delivery.timeout.ms": 60000}), V2_0).unwrap_err();
        assert!(err.starts_with("`producer.delivery.timeout.ms` in x.json is set, but Kafka 2.0's producer has no such setting (it arrived in 2.1 (KIP-91))"), "{err}");
        let err = producer_of(json!({"retry.backoff.max.ms": 500}), V3_6).unwrap_err();
        assert!(err.contains("(it arrived in 3.7 (KIP-580))"), "{err}");
        assert!(producer_of(json!({"retry.backoff.max.ms": 500}), KafkaVersion::new(3, 7)).is_ok());
    }

    #[test]
    fn a_transactional_id_asks_for_idempotence() {
        let c = producer_of(json!({"transactional.id": "tx"}), V2_0).unwrap();
        assert_eq!((c.enable_idempotence, c.acks, c.retries), (true, Acks::All, INT), "as if enable.idempotence=true");
        assert_eq!(c.transactional_id_of(2).as_deref(), Some("tx-2"));
        let err = producer_of(json!({"transactional.id": "tx", "enable.idempotence": false}), V4_1).unwrap_err();
        assert!(err.starts_with("`producer.enable.idempotence` in x.json is false, but `transactional.id` is set; Kafka refuses this (\"Cannot set a transactional.id without also enabling idempotence.\")"), "{err}");
        let err = producer_of(json!({"transactional.id": "tx", "acks": "1"}), V4_1).unwrap_err();
        assert_eq!(err, "`producer.transactional.id` in x.json is set, which needs the idempotent producer, but `acks` is \"1\"; Kafka refuses this (\"Cannot set a transactional.id without also enabling idempotence.\"): change `acks`");
        let err = producer_of(json!({"transactional.id": "tx", "acks": "1"}), V2_0).unwrap_err();
        assert!(err.contains("Must set acks to all in order to use the idempotent producer"), "{err}");
    }

    #[test]
    fn delivery_timeout_follows_kafka() {
        let err = producer_of(json!({"delivery.timeout.ms": 1000}), V4_1).unwrap_err();
        assert_eq!(
            err,
            "`producer.delivery.timeout.ms` in x.json is 1000, below `linger.ms` + `request.timeout.ms` \
             (5 + 30000 = 30005); Kafka refuses this (\"delivery.timeout.ms should be equal to or larger \
             than linger.ms + request.timeout.ms\")"
        );
        // Not set: raised to the sum, with a warning in Kafka.
        let p = producer_of(json!({"request.timeout.ms": 200000}), V4_1).unwrap();
        assert_eq!(p.delivery_timeout_ms, 200_005);
        let p = producer_of(json!({"linger.ms": LONG, "request.timeout.ms": 1}), V4_1).unwrap();
        assert_eq!(p.delivery_timeout_ms, INT);
    }

    #[test]
    fn buffer_memory_must_hold_one_batch() {
        let err = producer_of(json!({"buffer.memory": 16383}), V4_1).unwrap_err();
        assert!(
            err.starts_with("`producer.buffer.memory` in x.json is 16383, below the 16384 bytes one batch reserves"),
            "{err}"
        );
        assert!(producer_of(json!({"buffer.memory": 16384}), V4_1).is_ok());
        let c = producer_of(json!({"batch.size": 100}), V4_1).unwrap();
        assert_eq!(c.batch_reservation_bytes(100), 182, "a record larger than batch.size gets a batch of its own");
    }

    #[test]
    fn acks_accepts_kafka_strings_and_numbers() {
        for (value, want) in [(json!("all"), Acks::All), (json!("-1"), Acks::All), (json!(-1), Acks::All)] {
            assert_eq!(producer_of(json!({ "acks": value, "enable.idempotence": true }), V4_1).unwrap().acks, want);
        }
        assert_eq!(producer_of(json!({"acks": 1}), V4_1).unwrap().acks, Acks::Leader);
        assert_eq!(producer_of(json!({"acks": "0"}), V4_1).unwrap().acks, Acks::None);
        for bad in [json!("ALL"), json!(2), json!(1.0), json!(true), json!("one")] {
            let err = producer_of(json!({ "acks": bad }), V4_1).unwrap_err();
            assert!(err.starts_with("`producer.acks` in x.json must be one of \"all\", \"-1\", \"1\", \"0\""), "{err}");
        }
    }
}
