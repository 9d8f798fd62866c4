//! The simulated Kafka cluster on madsim, grouped by the process each part simulates:
//! `broker` (replica state machines over logs on disks with page caches, and the coordinators
//! a broker hosts), `controller` (liveness, ISR changes, elections), `client` (producers and
//! consumers with the apps around them), plus the `protocol` they speak (wire types, at the
//! bottom: they import nothing above them), the `runtime` they share (actors, network, clock,
//! recorder, the world, one seed's run) and the `fault`s injected from outside. `run` runs one
//! seed and returns the recorded history and the cluster's final state for the checker.

pub mod broker;
pub mod client;
pub mod controller;
pub mod fault;
pub mod protocol;
pub mod runtime;

pub use runtime::floor;
pub use runtime::pool;
pub use runtime::run::{run, run_all, run_seeds, run_stream, run_with, try_run_with, RunOptions, RunOutput};
