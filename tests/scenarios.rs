//! Replays every scenario the repo ships with several seeds and asserts each expectation, as
//! `losslab replay scenarios/*.json --seeds N` would. A failure names the file and the class
//! and prints the command that replays it.

use losslab_model::judge::judge;
use losslab_model::{check, Scenario};
use std::path::PathBuf;

/// Seeds per scenario: enough for a "some" expectation to show on at least one.
const SEEDS: u64 = 4;

fn scenario_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_meets_its_expectations() {
    let files = scenario_files();
    assert!(!files.is_empty(), "scenarios/ holds scenario files");
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut failures = Vec::new();
    for file in &files {
        let scenario = Scenario::from_file(file).unwrap_or_else(|e| panic!("{e}"));
        let seeds: Vec<u64> = (scenario.seed..scenario.seed + SEEDS).collect();
        let runs = losslab_sim::run_seeds(&scenario, &seeds, jobs);
        let verdicts: Vec<_> = runs.iter().map(|r| check(&r.history, &r.final_state)).collect();
        let judgement = judge(&scenario.expect, verdicts.iter());
        for (class, want, met) in judgement.expectations() {
            if !met {
                let seen: Vec<u64> = verdicts.iter().map(|v| v.counts[class.as_str()]).collect();
                failures.push(format!(
                    "{}: expected {class} {} over seeds {seeds:?}, counts per seed {seen:?}; replay: losslab replay {} --seed {} --seeds {SEEDS}",
                    file.display(),
                    want.as_str(),
                    file.display(),
                    scenario.seed,
                ));
            }
        }
    }
    assert!(failures.is_empty(), "unmet expectations:\n{}", failures.join("\n"));
}
