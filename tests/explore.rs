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
    // The kinds the schedules were drawn from, for `losslab chart` to group latencies by.
    assert_eq!(line["faults"], serde_json::json!(["crash", "pause", "cut", "isolate"]), "{line}");
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

/// The mutations of transactions: they show only on transactional configurations, each pinned by
/// its own test below.
const TXN_MUTATIONS: [&str; 3] = ["markers-before-commit-durable", "lso-ignores-open-transactions", "fencing-off"];

#[test]
fn every_mutation_is_caught_on_the_safe_configurations() {
    let list = losslab(&["explore", "--config", "unused.json", "--mutation", "list"]);
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout).lines().map(str::to_string).collect();
    assert!(names.len() >= 11, "{names:?}");
    assert!(TXN_MUTATIONS.iter().all(|m| names.iter().any(|n| n == m)), "{names:?}");
    let names: Vec<&String> = names.iter().filter(|n| !TXN_MUTATIONS.contains(&n.as_str())).collect();
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

/// The safe configuration with transactions on 3.9: read_committed, every third transaction
/// aborted, transactions long enough (40 records) that aborted ones leave records in the log.
const SAFE_TXN: &str = r#"{"kafka.version": "3.9", "topic": {"min.insync.replicas": 2},
    "broker": {"log.flush.interval.messages": 1},
    "producer": {"linger.ms": 50, "transactional.id": "tx", "app.transaction.records": 40,
                 "app.transaction.abort.every": 3},
    "consumer": {"isolation.level": "read_committed"}, "workload": {"messages": 4000, "rate_per_sec": 200}}"#;

/// Explores `config` over `seeds` from `seed` with `mutation` (or none) and `extra` flags; the
/// verdict line and the exit status.
fn explore_pinned(
    dir: &Path,
    config: &str,
    seed: &str,
    seeds: &str,
    mutation: Option<&str>,
    extra: &[&str],
) -> (serde_json::Value, Option<i32>) {
    let out_dir = dir.join(mutation.unwrap_or("none")).display().to_string();
    let mut args = vec!["explore", "--config", config, "--seed", seed, "--seeds", seeds, "--out", &out_dir, "--json"];
    args.extend_from_slice(extra);
    if let Some(m) = mutation {
        args.extend_from_slice(&["--mutation", m]);
    }
    let out = losslab(&args);
    (last_json(&out), out.status.code())
}

/// Whether `class` showed in a run whose own configuration's prediction forbids it.
fn broken(line: &serde_json::Value, class: &str) -> bool {
    line["found"][class]["runs"].as_u64().unwrap_or(0) > 0 && line["found"][class]["permitted"] == false
}

/// `lso-ignores-open-transactions`: a read_committed consumer reads the records of a transaction
/// still open, which then aborts (`aborted_read`, which predict forbids under crashes and power
/// losses with fsync); the same seeds without the mutation show nothing forbidden.
#[test]
fn lso_ignores_open_transactions_is_caught_as_an_aborted_read() {
    let dir = temp_dir("mut-lso");
    let config = write(&dir, "safe-txn.json", SAFE_TXN);
    let faults = ["--faults", "crash,power"];
    let (line, code) = explore_pinned(&dir, &config, "1", "2", Some("lso-ignores-open-transactions"), &faults);
    assert!(broken(&line, "aborted_read"), "{line}");
    assert_eq!(code, Some(1));
    let (line, code) = explore_pinned(&dir, &config, "1", "2", None, &faults);
    assert_eq!(line["found"]["aborted_read"]["runs"], 0, "{line}");
    assert_eq!(code, Some(0), "{line}");
}

/// `markers-before-commit-durable`: commitTransaction() returns, and markers go out, before
/// PrepareCommit is on the followers of `__transaction_state`; on seed 10 of the safe
/// transactional configuration (3.9, `transaction.timeout.ms` 2000, no wipes: a follower paused
/// for 20 s) a committed transaction loses records (`lost_acked`, forbidden with acks=all and
/// min.insync.replicas=2). Without the mutation the same seed is clean.
#[test]
fn markers_before_commit_durable_is_caught_as_a_lost_commit() {
    let dir = temp_dir("mut-markers");
    let text = SAFE_TXN
        .replace(r#""transactional.id": "tx","#, r#""transactional.id": "tx", "transaction.timeout.ms": 2000,"#);
    let config = write(&dir, "safe-txn-2s.json", &text);
    let faults = ["--faults", "crash,power,pause,cut,isolate"];
    let (line, code) = explore_pinned(&dir, &config, "10", "1", Some("markers-before-commit-durable"), &faults);
    assert!(broken(&line, "lost_acked"), "{line}");
    assert_eq!(code, Some(1));
    let (line, code) = explore_pinned(&dir, &config, "10", "1", None, &faults);
    assert_eq!(line["found"]["lost_acked"]["runs"], 0, "{line}");
    assert_eq!(code, Some(0), "{line}");
}

/// `fencing-off`, found by `--transactions` on the safe configuration: seed 82 draws 4.0 with
/// `transaction.timeout.ms` 2000; a power loss of the leader outlasts the transaction, which the
/// coordinator then aborts without a new epoch, and leaders take writes of an older epoch: a
/// committed transaction loses records (`lost_acked`). Without the mutation the seed is clean.
/// The counterexample file carries the seed's draw.
#[test]
fn fencing_off_is_caught_by_explore_over_transactional_configurations() {
    let dir = temp_dir("mut-fencing");
    let config = write(&dir, "safe.json", SAFE);
    let flags = ["--faults", "crash,power", "--transactions"];
    let (line, code) = explore_pinned(&dir, &config, "82", "1", Some("fencing-off"), &flags);
    assert!(broken(&line, "lost_acked"), "{line}");
    assert_eq!(code, Some(1));
    let path = line["found"]["lost_acked"]["scenario"].as_str().expect("a counterexample").to_string();
    let text = std::fs::read_to_string(&path).unwrap();
    for fragment in [
        r#""transactional.id": "tx""#,
        r#""kafka.version": "4.0""#,
        "losslab explore --transactions with the deliberate bug `fencing-off`",
    ] {
        assert!(text.contains(fragment), "{fragment} in {text}");
    }
    let (line, code) = explore_pinned(&dir, &config, "82", "1", None, &flags);
    assert_eq!(line["found"]["lost_acked"]["runs"], 0, "{line}");
    assert_eq!(code, Some(0), "{line}");
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
