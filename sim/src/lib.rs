//! The simulated Kafka cluster on madsim: brokers (replica state machines over logs on disks
//! with page caches), a controller, producers and consumers, a network with cuts, and the
//! nemesis that fires a scenario's fault steps. `run` runs one seed and returns the recorded
//! history and the cluster's final state for the checker.

pub mod actor;
pub mod broker;
pub mod clock;
pub mod consumer;
pub mod controller;
pub mod coordinator;
pub mod disk;
pub mod election;
pub mod floor;
pub mod log;
pub mod metadata;
pub mod mutation;
pub mod nemesis;
pub mod network;
pub mod pool;
pub mod producer;
pub mod protocol;
pub mod recorder;
pub mod replica;
pub mod run;
pub mod world;

pub use run::{run, run_all, run_seeds, run_with, try_run_with, RunOptions, RunOutput};
