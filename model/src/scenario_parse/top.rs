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
/// the default `name`.
fn parse(file: &str, stem: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
    let value = json::read(file, text)?;
    let top = Obj::top(file, &value)?.check_keys(&TOP_KEYS, |key| config::placement_hint(key, ""))?;
    let kafka_version = version(&top)?;
    let brokers = top.uint("brokers", 1..=9, 3u32)?;
    let topic = config::topic(&top, brokers, kafka_version)?;
    let workload = config::workload(&top)?;
    let cluster = faults::Cluster::new(brokers, &topic, &workload);
    let scenario = Scenario {
        name: top.string("name", stem)?,
        description: top.string("description", "")?,
        source: top.string("source", "")?,
        file: file.to_string(),
        kafka_version,
        brokers,
        seed: top.uint("seed", 0..=u64::MAX, 1)?,
        broker: config::broker(&top, kafka_version, brokers)?,
        producer: super::producer::producer(&top, kafka_version, workload.message_bytes)?,
        consumer: config::consumer(&top, kafka_version)?,
        network: config::network(&top)?,
        faults: faults::faults(&top, &cluster)?,
        expect: expect::expect(&top)?,
        topic,
        workload,
    };
    txn_cross_checks(&top, &scenario)?;
    Ok(scenario)
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
