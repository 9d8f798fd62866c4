//! The simulated Kafka cluster on madsim. Placeholder API until implemented.

use losslab_model::{FinalState, History, Scenario};

/// One seed's run: the recorded history, the cluster's final state, the trace hash.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub seed: u64,
    pub history: History,
    pub final_state: FinalState,
    pub trace_hash: String,
}

/// Runs `scenario` with `seed` on a fresh OS thread (madsim keeps thread-local state).
pub fn run(scenario: &Scenario, seed: u64) -> RunOutput {
    let _ = scenario;
    let history = History::default();
    let trace_hash = history.trace_hash();
    RunOutput { seed, history, final_state: FinalState::default(), trace_hash }
}

/// Runs every seed, `jobs` at a time (one OS thread each), results in seed order.
pub fn run_seeds(scenario: &Scenario, seeds: &[u64], jobs: usize) -> Vec<RunOutput> {
    let _ = jobs;
    seeds.iter().map(|&s| run(scenario, s)).collect()
}
