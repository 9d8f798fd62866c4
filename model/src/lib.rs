//! losslab's pure core: what a scenario says, what a run recorded, and what the checker
//! concludes from it. Nothing here links the simulator, so a history recorded anywhere (a
//! simulated run, or one converted from a real cluster test) can be judged and explained.

pub mod checker;
pub mod config;
pub mod error;
pub mod explore;
pub mod fault;
pub mod finding;
pub mod guarantee;
pub mod history;
pub mod input;
pub mod judge;
pub mod predict;
pub mod scenario;
mod scenario_parse;
pub mod suggest;
pub mod version;

pub use checker::check;
pub use config::{BrokerConfig, ConsumerConfig, NetworkConfig, ProducerConfig, TopicConfig, Workload};
pub use error::ScenarioError;
pub use fault::{Action, CrashMode, FaultStep, NodeRef, Target, Trigger};
pub use finding::{Finding, FindingClass, IdleStep, Verdict};
pub use history::{Event, EventKind, FinalState, History, MsgId, MsgIds, NodeName};
pub use scenario::{Expect, Expectation, Scenario};
pub use version::KafkaVersion;
