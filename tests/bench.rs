//! `losslab bench --json`: the command the performance issue is checked with. Speed is not
//! asserted here (a test must not time anything); the shape is: one JSON object on the last
//! line with every measure, each a positive number (or null for a probe `--quick` skips).

use serde_json::Value;
use std::process::Command;

#[test]
fn bench_json_prints_every_measure_on_its_last_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_losslab"))
        .args(["bench", "--json", "--quick", "--messages", "2000", "--runs-per-core", "4", "--explore-seeds", "6"])
        .output()
        .expect("the losslab binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let last = stdout.lines().last().expect("a last line");
    let json: Value = serde_json::from_str(last).expect("the last line is one JSON object");
    for key in [
        "floor_ratio",
        "runs_per_sec",
        "sim_wall_ratio",
        "explore_speedup_2_jobs",
        "explore_seconds_1_job",
        "explore_seconds_2_jobs",
        "peak_rss_mib_100k",
    ] {
        assert!(json[key].as_f64().is_some_and(|v| v > 0.0), "{key} in {json}");
    }
    assert!(json["peak_rss_mib_1m"].is_null(), "--quick skips the 1,000,000-message probe: {json}");
    assert!(json["peak_rss_mib_replay_1000_seeds_json"].is_null(), "--quick skips the replay probe: {json}");
    // Issue 17's targets are printed beside the figures.
    assert_eq!(json["targets"]["runs_per_sec"], ">= 400");
    assert_eq!(json["targets"]["peak_rss_mib_1m"], "< 200");
    assert_eq!(json["targets"]["peak_rss_mib_replay_1000_seeds_json"], "< 100");
}
