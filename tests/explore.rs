//! `losslab explore` end to end: it finds the loss an unsafe configuration permits, writes a
//! shrunk counterexample that `losslab replay` reproduces, finds nothing a safe configuration
//! forbids, and catches every deliberate protocol mutation within a bounded number of seeds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn losslab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_losslab")).args(args).output().expect("losslab runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("losslab-explore-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The last stdout line of `--json`: one object per configuration.
fn last_json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().expect("a JSON line")).expect("valid JSON")
}

/// A configuration long enough for Kafka's timeouts (session 9 s) to matter within a run.
const SAFE: &str = r#"{"topic": {"min.insync.replicas": 2}, "broker": {"log.flush.interval.messages": 1},
    "producer": {"linger.ms": 50}, "workload": {"messages": 4000, "rate_per_sec": 200}}"#;

#[test]
fn acks_1_loses_and_the_counterexample_replays() {
    let dir = temp_dir("acks1");
    let config = write(&dir, "acks1.json", r#"{"producer": {"acks": "1"}, "workload": {"messages": 1000}}"#);
    let out_dir = dir.join("out").display().to_string();
    let out = losslab(&["explore", "--config", &config, "--seeds", "40", "--out", &out_dir, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a permitted loss is not a failure: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = last_json(&out);
    let lost = &line["found"]["lost_acked"];
    assert!(lost["runs"].as_u64().unwrap() > 0, "{line}");
    assert_eq!(lost["permitted"], true);
    let scenario = lost["scenario"].as_str().expect("a counterexample file").to_string();
    let replay = losslab(&["replay", &scenario]);
    assert_eq!(
        replay.status.code(),
        Some(0),
        "the shrunk file reproduces: {}",
        String::from_utf8_lossy(&replay.stdout)
    );
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(text.contains("\"lost_acked\": \"some\""), "{text}");
}

#[test]
fn the_safe_configuration_loses_nothing_acknowledged_under_crashes_pauses_and_cuts() {
    let dir = temp_dir("safe");
    let config = write(&dir, "safe.json", SAFE);
    let out_dir = dir.join("out").display().to_string();
    let out = losslab(&[
        "explore",
        "--config",
        &config,
        "--seeds",
        "60",
        "--faults",
        "crash,pause,cut,isolate",
        "--out",
        &out_dir,
        "--json",
    ]);
    let line = last_json(&out);
    assert_eq!(line["found"]["lost_acked"]["runs"], 0, "{line}");
    assert_eq!(line["found"]["lost_acked"]["permitted"], false);
    assert_eq!(line["invariants_broken"], 0, "{line}");
    assert_eq!(out.status.code(), Some(0), "{line}");
}

/// The safe configuration with two producers: an old leader's unreplicated tail then holds
/// records the new leader stores elsewhere, which is what makes a mistaken truncation visible.
const SAFE_TWO_PRODUCERS: &str = r#"{"topic": {"min.insync.replicas": 2},
    "broker": {"log.flush.interval.messages": 1}, "producer": {"linger.ms": 50},
    "workload": {"producers": 2, "messages": 2000, "rate_per_sec": 200}}"#;

/// Explores `config` with `mutation` for 64 seeds; the verdict line and whether a guarantee
/// broke (a finding the prediction forbids, or a broken invariant), which must exit 1.
fn explore_mutation(dir: &std::path::Path, config: &str, mutation: &str) -> (serde_json::Value, bool) {
    let out_dir = dir.join(mutation).display().to_string();
    let args =
        ["explore", "--config", config, "--seeds", "64", "--faults", "crash,power,pause,cut,isolate", "--mutation"];
    let out = losslab(&[&args[..], &[mutation, "--out", &out_dir, "--json"]].concat());
    let line = last_json(&out);
    let broken = line["found"]
        .as_object()
        .unwrap()
        .values()
        .any(|v| v["runs"].as_u64().unwrap_or(0) > 0 && v["permitted"] == false);
    let caught = broken || line["invariants_broken"].as_u64().unwrap_or(0) > 0;
    if caught {
        assert_eq!(out.status.code(), Some(1), "a broken guarantee exits 1 ({mutation})");
    }
    (line, caught)
}

#[test]
fn every_mutation_is_caught_on_the_safe_configurations() {
    let list = losslab(&["explore", "--config", "unused.json", "--mutation", "list"]);
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout).lines().map(str::to_string).collect();
    assert!(names.len() >= 8, "{names:?}");
    let dir = temp_dir("mutations");
    let configs = [write(&dir, "safe.json", SAFE), write(&dir, "safe-two-producers.json", SAFE_TWO_PRODUCERS)];
    for name in &names {
        let mut lines = Vec::new();
        let caught = configs.iter().any(|config| {
            let (line, caught) = explore_mutation(&dir, config, name);
            lines.push(line);
            caught
        });
        assert!(caught, "mutation {name} not caught within 64 seeds on either safe configuration: {lines:?}");
    }
}

#[test]
fn a_grid_explores_every_combination() {
    let dir = temp_dir("grid");
    let config = write(
        &dir,
        "grid.json",
        r#"{"producer": {"acks": ["1", "all"]}, "topic": {"min.insync.replicas": [1, 2]}, "workload": {"messages": 300}}"#,
    );
    let out_dir = dir.join("out").display().to_string();
    let out =
        losslab(&["explore", "--config", &config, "--seeds", "3", "--faults", "crash", "--out", &out_dir, "--json"]);
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l["runs"] == 3 && l["config"]["producer"]["acks"].is_string()));
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let dir = temp_dir("bad");
    let config = write(&dir, "ok.json", "{}");
    let out = losslab(&["explore", "--config", &config, "--faults", "crash,fire"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fire"));
    let bad = write(&dir, "bad.json", r#"{"producer": {"acks": ["1", "two"]}}"#);
    let out = losslab(&["explore", "--config", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
    let out = losslab(&["explore", "--config", &config, "--mutation", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
}
