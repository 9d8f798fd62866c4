//! Issue 17, item 7, from the outside: the verdict names every fault step that did nothing
//! (terminal, `--json`, `report.md`), several files end with the totals and "N of M files met
//! their expectations" in a table of at most 100 columns, a file's independent mistakes are all
//! listed, and a Java properties file gets a hint instead of a bare JSON error.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("losslab-verdict-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn losslab(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_losslab")).current_dir(dir).args(args).output().expect("losslab runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Step 1 restarts a broker that is up (nobody to restart), step 3 waits for more records than
/// the workload sends (never fires).
const IDLE: &str = r#"{
  "name": "idle-steps",
  "workload": {"messages": 300, "consumers": 0},
  "faults": [
    {"at_ms": 100, "action": "restart", "node": "b1"},
    {"at_ms": 200, "action": "crash", "node": "leader"},
    {"after_acked": 100000, "action": "restart", "node": "leader"}
  ],
  "expect": {"lost_acked": "none"}
}"#;

#[test]
fn steps_that_did_nothing_are_in_the_verdict_the_json_and_the_report() {
    let dir = temp_dir("idle");
    std::fs::write(dir.join("idle.json"), IDLE).unwrap();
    let out = losslab(&dir, &["replay", "idle.json", "--seeds", "2"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "\nfault steps that did nothing\n  step 1 did nothing (restart of nobody), in every seed\n  step 3 and any after it never fired: their triggers did not hold within 600 s, in every seed\n"
        ),
        "{stdout}"
    );
    let out = losslab(&dir, &["replay", "idle.json", "--json"]);
    let line: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let idle = &line["runs"][0]["idle_steps"];
    assert_eq!(
        idle[0],
        serde_json::json!({"step": 1, "action": "restart", "never_fired": false, "detail": "restart of nobody"})
    );
    assert_eq!(idle[1]["step"], 3);
    assert_eq!(idle[1]["never_fired"], true);
    let out = losslab(&dir, &["replay", "idle.json", "--out", "out"]);
    assert_eq!(out.status.code(), Some(0));
    let report = std::fs::read_to_string(dir.join("out/idle-steps/seed-1/report.md")).unwrap();
    assert!(report.contains("- step 1 did nothing (restart of nobody)\n"), "{report}");
}

#[test]
fn a_run_whose_steps_all_acted_has_no_such_section_nor_key() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = losslab(root, &["replay", "tests/fixtures/cli/acks1-leader-crash.json", "--json"]);
    let line: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert!(line["runs"][0].get("idle_steps").is_none(), "{line}");
    let out = losslab(root, &["replay", "tests/fixtures/cli/acks1-leader-crash.json"]);
    assert!(!text(&out.stdout).contains("fault steps that did nothing"));
}

#[test]
fn several_files_end_with_totals_and_a_count_of_files_met_within_100_columns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        "scenarios/acks1-leader-crash.json",
        "scenarios/acks1-leader-crash-fixed.json",
        "scenarios/consumer-after-process-duplicates-fixed.json",
        "scenarios/kip320-truncation.json",
        "tests/fixtures/cli/quiet-expects-loss.json",
    ];
    let out = losslab(root, &[&["replay"][..], &files, &["--seeds", "2"]].concat());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let table: Vec<&str> = stdout.lines().skip_while(|l| !l.contains("findings, summed over the seeds")).collect();
    assert!(table.len() > 7, "{stdout}");
    for line in &table {
        assert!(line.chars().count() <= 100, "{} columns: {line}", line.chars().count());
    }
    assert!(
        table.iter().any(|l| l.starts_with("| total: 5 files ") && l.contains("10 runs") && l.ends_with("| 4 met   |")),
        "{stdout}"
    );
    assert!(
        table.iter().any(|l| l.starts_with("| consumer-after-process-duplicates-fixed |")),
        "names are not wrapped: {stdout}"
    );
    assert_eq!(table.last(), Some(&"4 of 5 files met their expectations"));
}

#[test]
fn every_independent_error_of_a_file_is_listed() {
    let dir = temp_dir("errors");
    std::fs::write(
        dir.join("bad.json"),
        r#"{"seed": -1, "workload": {"messages": "many"}, "network": {"latency.ms.min": true}}"#,
    )
    .unwrap();
    let out = losslab(&dir, &["replay", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0].starts_with("error: `workload.messages` in bad.json"), "{stderr}");
    assert!(lines[1].starts_with("error: `seed` in bad.json"), "{stderr}");
    assert!(lines[2].starts_with("error: `network.latency.ms.min` in bad.json"), "{stderr}");
}

#[test]
fn a_java_properties_file_gets_a_hint() {
    let dir = temp_dir("properties");
    std::fs::write(dir.join("producer.properties"), "# from Kafka's config/\nacks=all\nretries=3\n").unwrap();
    let out = losslab(&dir, &["replay", "producer.properties"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: producer.properties: malformed JSON at line 1, column 1: expected value; "),
        "{stderr}"
    );
    assert!(stderr.contains("this looks like a Java properties file (`key=value` lines)"), "{stderr}");
}
