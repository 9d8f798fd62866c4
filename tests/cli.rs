//! The `losslab replay` contract, tested on the built binary: exit statuses, error messages that
//! name the file, the one-line JSON object per file, seed ranges, the readable verdict's last
//! line and the files `--out` writes. These are the promises scripts outside this repository
//! rely on (scenario-format.md, "`losslab replay`"), so they are checked from the outside, as a
//! script would see them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const QUIET: &str = "tests/fixtures/cli/quiet.json";
const QUIET_EXPECTS_LOSS: &str = "tests/fixtures/cli/quiet-expects-loss.json";
const MALFORMED: &str = "tests/fixtures/cli/malformed.json";
const UNKNOWN_KEY: &str = "tests/fixtures/cli/unknown-key.json";
const ACKS1: &str = "tests/fixtures/cli/acks1-leader-crash.json";
const ACKS1_EXPECTS_NONE: &str = "tests/fixtures/cli/acks1-leader-crash-expects-none.json";

/// Every class of the contract's `counts`, plus the producer totals.
const COUNT_KEYS: [&str; 12] = [
    "sent",
    "acked",
    "failed",
    "lost_acked",
    "lost_unnoticed",
    "lost_failed",
    "duplicated",
    "reordered",
    "consumer_skipped",
    "consumer_duplicated",
    "divergence",
    "stuck",
];

/// Runs `losslab ARGS...` from the package root, where the fixture paths are relative to.
fn losslab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_losslab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the losslab binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// The JSON objects of a `--json` run, one per line.
fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output).lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

fn seeds(object: &Value) -> Vec<u64> {
    let seeds = object["seeds"].as_array().expect("seeds is an array");
    seeds.iter().map(|s| s.as_u64().expect("a seed")).collect()
}

/// A fresh, empty directory for one test's `--out`.
fn out_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Asserts invalid input: status 2, nothing on stdout, and stderr naming each of `names`.
fn assert_invalid(output: &Output, names: &[&str]) {
    let err = stderr(output);
    assert_eq!(status(output), 2, "stderr: {err}");
    assert_eq!(stdout(output), "", "invalid input prints nothing on stdout");
    for name in names {
        assert!(err.contains(name), "stderr does not name {name}: {err}");
    }
}

#[test]
fn a_malformed_file_is_invalid_input_named_with_its_line() {
    let output = losslab(&["replay", MALFORMED]);
    assert_invalid(&output, &[MALFORMED, "line 3"]);
}

#[test]
fn an_unknown_key_is_invalid_input_naming_file_and_key() {
    let output = losslab(&["replay", UNKNOWN_KEY]);
    assert_invalid(&output, &[UNKNOWN_KEY, "`ack`", "`acks`"]);
}

#[test]
fn a_nonexistent_file_is_invalid_input() {
    let missing = "tests/fixtures/cli/no-such-file.json";
    let output = losslab(&["replay", missing]);
    assert_invalid(&output, &[missing]);
}

#[test]
fn bad_flags_are_usage_errors_with_status_2() {
    let cases: [&[&str]; 9] = [
        &[],
        &["explode"],
        &["replay"],
        &["replay", "--seeds", "0", QUIET],
        &["replay", "--seed", "abc", QUIET],
        &["replay", "--seed", "-1", QUIET],
        &["replay", "--jobs", "0", QUIET],
        &["replay", "--jobs", "1025", QUIET],
        &["replay", "--frobnicate", QUIET],
    ];
    for args in cases {
        let output = losslab(args);
        assert_eq!(status(&output), 2, "losslab {args:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), "", "losslab {args:?}");
    }
}

#[test]
fn seeds_past_the_largest_are_invalid_input() {
    let max = u64::MAX.to_string();
    let output = losslab(&["replay", QUIET, "--seed", &max, "--seeds", "2"]);
    assert_invalid(&output, &[QUIET]);
}

#[test]
fn every_file_is_validated_before_any_runs() {
    let dir = out_dir("validated-first");
    let out = dir.to_str().unwrap();
    let output = losslab(&["replay", QUIET, UNKNOWN_KEY, MALFORMED, "--out", out]);
    assert_invalid(&output, &[UNKNOWN_KEY, MALFORMED]);
    assert!(!dir.exists(), "nothing may run, so nothing is written");
}

#[test]
fn json_prints_one_contract_object_per_file() {
    let output = losslab(&["replay", QUIET, QUIET_EXPECTS_LOSS, "--json"]);
    let objects = json_lines(&output);
    assert_eq!(objects.len(), 2, "{}", stdout(&output));
    for (object, file) in objects.iter().zip([QUIET, QUIET_EXPECTS_LOSS]) {
        let keys: Vec<&str> = object.as_object().unwrap().keys().map(String::as_str).collect();
        for key in ["scenario", "file", "seeds", "passed", "counts", "expect", "runs"] {
            assert!(keys.contains(&key), "{key} missing from {object}");
        }
        assert_eq!(object["file"], file);
        for key in COUNT_KEYS {
            assert!(object["counts"][key].is_u64(), "counts.{key} missing: {object}");
        }
        for run in object["runs"].as_array().unwrap() {
            assert!(run["seed"].is_u64(), "{run}");
            assert!(run["trace_hash"].as_str().is_some_and(|h| !h.is_empty()), "{run}");
            for key in COUNT_KEYS {
                assert!(run["counts"][key].is_u64(), "runs[].counts.{key} missing: {run}");
            }
            assert!(run["findings"].is_array(), "{run}");
        }
    }
    assert_eq!(objects[0]["scenario"], "cli-quiet");
    assert_eq!(objects[0]["expect"]["lost_acked"]["want"], "none");
    assert_eq!(objects[1]["expect"]["lost_acked"]["want"], "some");
}

#[test]
fn seeds_count_from_the_file_seed_or_the_flag() {
    let from_file = json_lines(&losslab(&["replay", QUIET, "--seeds", "3", "--json"]));
    assert_eq!(seeds(&from_file[0]), [5, 6, 7]);
    let from_flag = json_lines(&losslab(&["replay", QUIET, "--seed", "10", "--seeds", "3", "--json"]));
    assert_eq!(seeds(&from_flag[0]), [10, 11, 12]);
    let run_seeds: Vec<u64> =
        from_flag[0]["runs"].as_array().unwrap().iter().map(|run| run["seed"].as_u64().unwrap()).collect();
    assert_eq!(run_seeds, [10, 11, 12]);
    let default = json_lines(&losslab(&["replay", QUIET, "--json"]));
    assert_eq!(seeds(&default[0]), [5]);
}

#[test]
fn the_same_file_and_seed_give_the_same_output() {
    let args = ["replay", QUIET, "--seeds", "2", "--json", "--jobs", "2"];
    let first = losslab(&args);
    let again = losslab(&["replay", QUIET, "--seeds", "2", "--json", "--jobs", "1"]);
    assert_eq!(status(&first), 0, "{}", stderr(&first));
    assert_eq!(stdout(&first), stdout(&again));
}

#[test]
fn the_readable_verdict_ends_with_the_replay_command() {
    let output = losslab(&["replay", QUIET]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let last = text.lines().last().expect("some output").trim();
    assert_eq!(last, format!("losslab replay {QUIET} --seed 5"), "{text}");
    let several = stdout(&losslab(&["replay", QUIET, "--seed", "2", "--seeds", "3"]));
    let last = several.lines().last().unwrap().trim();
    assert_eq!(last, format!("losslab replay {QUIET} --seed 2 --seeds 3"));
}

#[test]
fn several_files_end_with_a_summary_table() {
    let output = losslab(&["replay", QUIET, QUIET_EXPECTS_LOSS]);
    let text = stdout(&output);
    assert_eq!(status(&output), 1, "{text}");
    let table_header =
        text.lines().find(|line| line.contains("findings, summed over the seeds")).expect("a summary table");
    assert!(table_header.contains("scenario") && table_header.contains("expect"));
    let row = |name: &str| text.lines().find(|l| l.starts_with(&format!("| {name} "))).unwrap();
    assert!(row("cli-quiet").ends_with("| met     |"), "{text}");
    assert!(row("cli-quiet-expects-loss").ends_with("| NOT MET |"), "{text}");
    assert!(row("total: 2 files").ends_with("| 1 met   |"), "{text}");
    assert!(text.ends_with("\n1 of 2 files met their expectations\n"), "{text}");
}

#[test]
fn every_expectation_met_exits_0() {
    let output = losslab(&["replay", QUIET, "--seeds", "2", "--json"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    assert_eq!(json_lines(&output)[0]["passed"], true);
}

#[test]
fn an_unmet_expectation_exits_1() {
    let output = losslab(&["replay", QUIET, QUIET_EXPECTS_LOSS, "--json"]);
    assert_eq!(status(&output), 1, "{}", stderr(&output));
    let objects = json_lines(&output);
    assert_eq!(objects[0]["passed"], true);
    assert_eq!(objects[1]["passed"], false);
    assert_eq!(objects[1]["expect"]["lost_acked"]["met"], false);
}

#[test]
fn out_writes_every_seed_and_a_summary() {
    let dir = out_dir("writes");
    let out = dir.to_str().unwrap();
    let output = losslab(&["replay", QUIET, "--seeds", "2", "--out", out]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let scenario_dir = dir.join("cli-quiet");
    for seed in [5, 6] {
        let seed_dir = scenario_dir.join(format!("seed-{seed}"));
        let report = std::fs::read_to_string(seed_dir.join("report.md")).unwrap();
        assert!(report.contains(&format!("losslab replay {QUIET} --seed {seed}")), "{report}");
        let history = std::fs::read_to_string(seed_dir.join("history.jsonl")).unwrap();
        assert!(!history.is_empty());
        for line in history.lines() {
            let event: Value = serde_json::from_str(line).unwrap();
            assert!(event["t_us"].is_u64() && event["type"].is_string(), "{line}");
        }
        let final_state: Value = read_json(&seed_dir.join("final.json"));
        assert!(final_state["partitions"].is_array());
        let verdict: Value = read_json(&seed_dir.join("verdict.json"));
        assert_eq!(seeds(&verdict), [seed]);
    }
    let summary = read_json(&scenario_dir.join("summary.json"));
    let json = json_lines(&losslab(&["replay", QUIET, "--seeds", "2", "--json"]));
    assert_eq!(summary, json[0], "summary.json is the --json object");
}

#[test]
fn an_acks1_leader_crash_loses_acknowledged_records() {
    let output = losslab(&["replay", ACKS1, "--seeds", "3", "--json"]);
    assert_eq!(status(&output), 0, "{}", stderr(&output));
    let object = &json_lines(&output)[0];
    assert!(object["counts"]["lost_acked"].as_u64().unwrap() > 0, "{object}");
    let finding = object["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["findings"].as_array().unwrap())
        .find(|f| f["class"] == "lost_acked")
        .expect("a lost_acked finding");
    assert!(finding["message"].as_str().unwrap().starts_with("p1#"), "{finding}");
    assert!(!finding["explanation"].as_str().unwrap().is_empty(), "{finding}");
}

#[test]
fn a_loss_where_none_is_expected_exits_1_and_explains_it() {
    let output = losslab(&["replay", ACKS1_EXPECTS_NONE, "--seeds", "3"]);
    let text = stdout(&output);
    assert_eq!(status(&output), 1, "{text}");
    assert!(text.contains("NOT MET"), "{text}");
    assert!(text.contains(": lost_acked p1#"), "{text}");
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
