//! A scenario file, parsed and validated into a [`Scenario`] with every default resolved.
//! The file format is a public contract (../shared/scenario-format.md); validation errors name
//! the file, the key and, for unknown keys, the closest known key.

use crate::config::{BrokerConfig, ConsumerConfig, NetworkConfig, ProducerConfig, TopicConfig, Workload};
use crate::error::ScenarioError;
use crate::fault::FaultStep;
use crate::finding::FindingClass;
use crate::version::KafkaVersion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// `"none"` or `"some"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    None,
    Some,
}

impl Expectation {
    pub fn as_str(self) -> &'static str {
        match self {
            Expectation::None => "none",
            Expectation::Some => "some",
        }
    }
}

/// The `expect` object: per finding class, what the run must show.
pub type Expect = BTreeMap<FindingClass, Expectation>;

/// A validated scenario with every default resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub source: String,
    /// The file it came from, as given on the command line ("" when built in code).
    pub file: String,
    pub kafka_version: KafkaVersion,
    pub brokers: u32,
    pub seed: u64,
    pub topic: TopicConfig,
    pub broker: BrokerConfig,
    pub producer: ProducerConfig,
    pub consumer: ConsumerConfig,
    pub workload: Workload,
    pub network: NetworkConfig,
    pub faults: Vec<FaultStep>,
    pub expect: Expect,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::new(&label, format!("cannot read {label}: {e}")))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Scenario::parse(&label, &stem, &text)
    }

    /// Validates scenario `text`; `file` names it in errors, `stem` is the default `name`.
    pub fn parse(file: &str, stem: &str, text: &str) -> Result<Scenario, ScenarioError> {
        crate::scenario_parse::parse(file, stem, text)
    }
}
