//! A run frees everything it built when it ends. madsim frees a task only when it finishes or
//! its executor drops it, and a task's future holds the world: a run that left one waiting would
//! keep its whole world (logs, disks, history) alive, and a sweep of many seeds would grow
//! without bound. This file is its own test binary so that no other test's runs are counted.

use losslab_model::Scenario;

#[test]
fn every_run_frees_its_world() {
    // Crashes (a killed task), a pause held to the end of the safety phase, a cut, a power loss
    // and a consumer group: every kind of task a run leaves behind.
    let json = r#"{
        "workload": {"messages": 400, "consumers": 1},
        "faults": [
            {"at_ms": 300, "action": "crash", "node": "b1"},
            {"at_ms": 400, "action": "pause", "node": "b2"},
            {"at_ms": 500, "action": "cut", "between": [["b3"], ["c1"]]},
            {"at_ms": 600, "action": "crash", "node": "p1", "mode": "power"},
            {"at_ms": 900, "action": "restart", "node": ["b1", "p1"]}
        ]
    }"#;
    let scenario = Scenario::parse("memory.json", "memory", json).expect("valid");
    for seed in 1..=4 {
        losslab_sim::run(&scenario, seed);
    }
    assert_eq!(losslab_sim::runtime::world::live_worlds(), 0, "a run kept its world alive after it ended");
}
