//! A scenario: the validated, fully resolved form of a scenario file, and its `expect` table.
//! The file format is a public contract (../shared/scenario-format.md). These are plain types:
//! reading and validating a file (`Scenario::from_file`, `Scenario::parse`) lives in
//! `scenario_parse`, which depends on them, so that the types never depend on their parser.

use crate::config::{BrokerConfig, ConsumerConfig, NetworkConfig, ProducerConfig, TopicConfig, Workload};
use crate::fault::FaultStep;
use crate::finding::FindingClass;
use crate::version::KafkaVersion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The `min.insync.replicas` Kafka acts on: from 3.7 capped at the replication factor
    /// (`Partition.effectiveMinIsr`, `ReplicationControlManager.getTopicEffectiveMinIsr`), so a
    /// value above it no longer refuses every `acks=all` write.
    /// `__transaction_state`'s min ISR: `transaction.state.log.min.isr`, which Kafka sets as the
    /// topic's `min.insync.replicas` (`TransactionStateManager.transactionTopicConfigs`, 0.11),
    /// capped at its replication factor where the release caps it (3.7).
    pub fn txn_state_min_insync_replicas(&self) -> u32 {
        let min_isr = self.broker.txn.transaction_state_log_min_isr;
        let rf = self.broker.txn.transaction_state_log_replication_factor.clamp(1, self.brokers.max(1));
        if self.kafka_version.caps_min_isr_at_replication_factor() {
            min_isr.min(rf)
        } else {
            min_isr
        }
    }

    pub fn effective_min_insync_replicas(&self) -> u32 {
        let min_isr = self.topic.min_insync_replicas;
        if self.kafka_version.caps_min_isr_at_replication_factor() {
            min_isr.min(self.topic.replication_factor)
        } else {
            min_isr
        }
    }
}
