//! The top level of a scenario file, and the public entry points `Scenario::from_file` and
//! `Scenario::parse`. This module knows the top-level keys and the order in which sections
//! depend on each other (replication defaults on `brokers`, ELR on `kafka.version`, fault
//! targets on the topic and the workload); the sections themselves are read by `config`,
//! `faults` and `expect`. The entry points are an `impl Scenario` here rather than in
//! `scenario.rs` so that the types depend on nothing that parses them.

use super::obj::{self, Obj, Result};
use super::{config, expect, faults, json};
use crate::error::ScenarioError;
use crate::scenario::Scenario;
use crate::version::KafkaVersion;
use std::path::Path;

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> std::result::Result<Scenario, ScenarioError> {
        let label = path.display().to_string();
        // Bounded (issue 17): `/dev/zero` must not be read without limit.
        let text = crate::input::read_text(path).map_err(|message| ScenarioError::new(&label, message))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Scenario::parse(&label, &stem, &text)
    }

    /// Validates scenario `text`; `file` names it in errors, `stem` is the default `name`.
    pub fn parse(file: &str, stem: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
        parse(file, stem, text)
    }
}

const TOP_KEYS: [&str; 14] = [
    "name",
    "description",
    "source",
    "kafka.version",
    "brokers",
    "seed",
    "topic",
    "broker",
    "producer",
    "consumer",
    "workload",
    "network",
    "faults",
    "expect",
];

const VERSION_FORMS: &str = "a Kafka release line \"X.Y\" from \"0.10\" to \"4.1\", such as \"3.9\" or \"4.1\"";

/// Validates scenario `text`; `file` names it in errors and in [`Scenario::file`], `stem` is
/// the default `name`. Every section whose inputs are valid is read even after an error in
/// another, so a file's independent mistakes are reported together (issue 17); a section that
/// depends on an invalid one (the topic on `brokers`, the faults on the topic) is skipped rather
/// than judged against a guess. Within a section, the first error is reported.
fn parse(file: &str, stem: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
    let value = json::read(file, text)?;
    let top = Obj::top(file, &value)?.check_keys(&TOP_KEYS, |key| config::placement_hint(key, ""))?;
    let mut errors = Errors::default();
    // In the order the sections depend on each other, which is the order errors are listed in.
    let kafka_version = errors.take(version(&top));
    let brokers = errors.take(top.uint("brokers", 1..=9, 3u32));
    let topic = match (brokers, kafka_version) {
        (Some(brokers), Some(version)) => errors.take(config::topic(&top, brokers, version)),
        _ => None,
    };
    let workload = errors.take(config::workload(&top));
    let name = errors.take(top.string("name", stem));
    let description = errors.take(top.string("description", ""));
    let source = errors.take(top.string("source", ""));
    let seed = errors.take(top.uint("seed", 0..=u64::MAX, 1));
    let broker = match (kafka_version, brokers) {
        (Some(version), Some(brokers)) => errors.take(config::broker(&top, version, brokers)),
        _ => None,
    };
    let producer = match (kafka_version, &workload) {
        (Some(version), Some(w)) => errors.take(super::producer::producer(&top, version, w.message_bytes)),
        _ => None,
    };
    let consumer = kafka_version.and_then(|version| errors.take(config::consumer(&top, version)));
    let network = errors.take(config::network(&top));
    let faults = match (brokers, &topic, &workload) {
        (Some(brokers), Some(topic), Some(w)) => {
            errors.take(faults::faults(&top, &faults::Cluster::new(brokers, topic, w)))
        }
        _ => None,
    };
    let expect = errors.take(expect::expect(&top));
    let (
        Some(kafka_version),
        Some(brokers),
        Some(topic),
        Some(workload),
        Some(name),
        Some(description),
        Some(source),
        Some(seed),
        Some(broker),
        Some(producer),
        Some(consumer),
        Some(network),
        Some(faults),
        Some(expect),
    ) = (
        kafka_version,
        brokers,
        topic,
        workload,
        name,
        description,
        source,
        seed,
        broker,
        producer,
        consumer,
        network,
        faults,
        expect,
    )
    else {
        return Err(errors.into_error(file));
    };
    let scenario = Scenario {
        name,
        description,
        source,
        file: file.to_string(),
        kafka_version,
        brokers,
        seed,
        broker,
        producer,
        consumer,
        network,
        faults,
        expect,
        topic,
        workload,
    };
    txn_cross_checks(&top, &scenario)?;
    Ok(scenario)
}

/// The errors met so far in one file.
#[derive(Default)]
struct Errors(Vec<ScenarioError>);

impl Errors {
    /// The value, or `None` with its error kept.
    fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }

    /// One error holding every message; a value is missing only after an error, but should
    /// one ever be missing without, the file is still refused rather than the parser panicking.
    fn into_error(self, file: &str) -> ScenarioError {
        let mut all = self.0.into_iter().flat_map(|e| e.messages().map(str::to_string).collect::<Vec<_>>());
        let first = all.next().unwrap_or_else(|| format!("{file}: invalid scenario"));
        ScenarioError { more: all.collect(), ..ScenarioError::new(file, first) }
    }
}

/// The transaction keys that span sections: the producers' `transaction.timeout.ms` against
/// the brokers' `transaction.max.timeout.ms`, when some producer is transactional.
fn txn_cross_checks(top: &Obj, s: &Scenario) -> Result<()> {
    let pipeline = s.consumer.app_output == crate::config::AppOutput::Transactional && s.workload.consumers > 0;
    if s.producer.transactional_id.is_none() && !pipeline {
        return Ok(());
    }
    let o = config::open(top, &config::PRODUCER)?;
    super::txn_keys::check_timeout(&o, s.producer.transaction_timeout_ms, s.broker.txn.transaction_max_timeout_ms)
}

fn version(top: &Obj) -> Result<KafkaVersion> {
    let Some(text) = top.opt_str("kafka.version", VERSION_FORMS)? else {
        return Ok(KafkaVersion::DEFAULT);
    };
    KafkaVersion::parse(text).ok_or_else(|| {
        let newer = text
            .split_once('.')
            .and_then(|(a, b)| Some(KafkaVersion::new(a.parse().ok()?, b.parse().ok()?)))
            .filter(|v| *v > KafkaVersion::NEWEST);
        let why = match newer {
            Some(_) => format!(
                "is \"{}\", newer than the newest line losslab knows ({})",
                obj::shown(text),
                KafkaVersion::NEWEST
            ),
            None => format!("must be {VERSION_FORMS}, got \"{}\"", obj::shown(text)),
        };
        top.fail("kafka.version", format!("{why}; the lines are {}", KafkaVersion::LINES))
    })
}

#[cfg(test)]
mod tests {
    use super::config::SECTIONS;
    use super::*;
    use serde_json::{json, Value};

    fn error(file: Value) -> Option<String> {
        parse("x.json", "x", &file.to_string()).err().map(|e| e.message)
    }

    /// Issue 17: independent mistakes are listed together, in section order; a section that
    /// depends on an invalid one is not judged (no second error caused by the first).
    #[test]
    fn every_independent_error_is_listed() {
        let e = parse(
            "x.json",
            "x",
            r#"{"seed": -1, "producer": {"acks": "two"}, "workload": {"messages": "many"}, "network": {"latency.ms.min": true}}"#,
        )
        .unwrap_err();
        let all: Vec<&str> = e.messages().collect();
        assert_eq!(all.len(), 3, "{all:#?}");
        assert!(all[0].starts_with("`workload.messages` in x.json"), "{all:#?}");
        assert!(all[1].starts_with("`seed` in x.json"), "{all:#?}");
        assert!(all[2].starts_with("`network.latency.ms.min` in x.json"), "{all:#?}");
        assert_eq!(e.to_string(), all.join("\nerror: "));
        // brokers is invalid: the topic (which depends on it) is not judged, the producer is.
        let e =
            parse("x.json", "x", r#"{"brokers": 0, "topic": {"replication.factor": 5}, "producer": {"acks": "two"}}"#)
                .unwrap_err();
        let all: Vec<&str> = e.messages().collect();
        assert_eq!(all.len(), 2, "{all:#?}");
        assert!(
            all[0].starts_with("`brokers` in x.json") && all[1].starts_with("`producer.acks` in x.json"),
            "{all:#?}"
        );
    }

    /// Every declared key is read: a value of the wrong type is refused under its own path.
    /// (A key declared but never read would be accepted and silently ignored.)
    #[test]
    fn every_declared_key_is_read() {
        let refused = |file: Value, path: &str| {
            let want = format!("`{path}` in x.json");
            [json!(true), json!({"x": 1})]
                .into_iter()
                .any(|wrong| error(file_with(&file, wrong)).is_some_and(|e| e.starts_with(&want)))
        };
        for key in TOP_KEYS {
            assert!(refused(json!({ key: null }), key), "{key}");
        }
        for section in SECTIONS {
            for key in section.keys {
                let path = format!("{}.{key}", section.name);
                assert!(refused(json!({ section.name: { *key: null } }), &path), "{path}");
            }
        }
    }

    /// Replaces the single `null` in `file` with `wrong`.
    fn file_with(file: &Value, wrong: Value) -> Value {
        match file {
            Value::Null => wrong,
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), file_with(v, wrong.clone()))).collect())
            }
            other => other.clone(),
        }
    }
}
