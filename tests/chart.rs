//! Charts and reports, tested on the built binary: `losslab chart` over explore-shaped JSON
//! lines, over `losslab replay --json` output and over a `losslab replay --out` directory;
//! invalid input named by file and line with status 2; and the promise that the same input gives
//! the same bytes, with nothing in them that depends on when or where they were drawn (no clock,
//! no absolute path): for the summary charts, and for the timeline and HTML report that
//! `losslab replay --out` writes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ACKS1: &str = "tests/fixtures/cli/acks1-leader-crash.json";
const CHARTS: [&str; 4] = ["loss-heatmap.svg", "durability-latency.svg", "flush-power-loss.svg", "consumer-commit.svg"];

/// Explore's `--json` lines: a small grid, one of them with a broken guarantee.
const EXPLORE: &str = r#"{"config": {"producer": {"acks": "1"}, "topic": {"min.insync.replicas": 1}}, "axes": {"producer.acks": "1"}, "runs": 40, "found": {"lost_acked": {"runs": 31, "first_seed": 2, "permitted": true, "scenario": "out/lost_acked.json"}, "stuck": {"runs": 0, "permitted": true}}, "latency_ms_p99": 6.2}
{"config": {"producer": {"acks": "all"}, "topic": {"min.insync.replicas": 2}}, "axes": {"producer.acks": "all"}, "runs": 40, "found": {"lost_acked": {"runs": 0, "permitted": false}}, "latency_ms_p99": 14.8}
{"config": {"producer": {"acks": "all"}, "topic": {"min.insync.replicas": 2, "unclean.leader.election.enable": true}, "broker": {"log.flush.interval.messages": 1}}, "runs": 40, "found": {"lost_acked": {"runs": 2, "first_seed": 17, "permitted": false}}, "latency_ms_p99": 31.0}
{"config": {"producer": {"acks": "all"}, "consumer": {"app.commit": "before-process", "enable.auto.commit": false}}, "runs": 40, "found": {"consumer_skipped": {"runs": 12, "first_seed": 3, "permitted": true}}}
"#;

fn losslab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_losslab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the losslab binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// A fresh, empty directory for one test.
fn dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chart").join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creates the test directory");
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Nothing in `svg` that depends on where or when it was drawn.
fn assert_portable(name: &str, svg: &str, dirs: &[&Path]) {
    for dir in dirs {
        assert!(!svg.contains(path(dir)), "{name} names the directory {}", dir.display());
    }
    assert!(!svg.contains(env!("CARGO_MANIFEST_DIR")), "{name} names the checkout");
    // A wall-clock year or a date would show up as 20xx- (simulated times are seconds).
    for year in 2020..2100 {
        assert!(!svg.contains(&format!("{year}-")), "{name} holds something like a date");
    }
}

#[test]
fn charts_explore_results_the_same_bytes_every_time() {
    let d = dir("explore");
    let input = d.join("explore.jsonl");
    fs::write(&input, EXPLORE).unwrap();
    let (a, b) = (d.join("a"), d.join("b"));
    for out in [&a, &b] {
        let output = losslab(&["chart", path(&input), "--out", path(out)]);
        assert_eq!(status(&output), 0, "stderr: {}", text(&output.stderr));
        for chart in CHARTS {
            assert!(text(&output.stdout).contains(chart), "stdout names {chart}: {}", text(&output.stdout));
        }
    }
    for chart in CHARTS {
        let (x, y) = (read(&a.join(chart)), read(&b.join(chart)));
        assert_eq!(x, y, "{chart} differs between two runs");
        assert!(x.starts_with("<svg ") && x.trim_end().ends_with("</svg>"), "{chart} is an SVG document");
        assert_portable(chart, &x, &[&d, &a, &b]);
    }
    let heatmap = read(&a.join("loss-heatmap.svg"));
    for needle in ["78%", "31 of 40 runs", "guarantee broken", "permitted", "unclean.leader.election.enable = true"] {
        assert!(heatmap.contains(needle), "the heatmap lacks {needle}");
    }
    let latency = read(&a.join("durability-latency.svg"));
    assert!(latency.contains("acks=1"), "points are labelled with explore's axes");
    assert!(!latency.contains("No produce latency"));
    let commit = read(&a.join("consumer-commit.svg"));
    assert!(commit.contains("app.commit=before-process") && commit.contains("30%"), "12 of 40 runs skipped");
}

#[test]
fn invalid_input_names_the_file_and_line_and_writes_nothing() {
    let d = dir("invalid");
    let input = d.join("bad.jsonl");
    let first = EXPLORE.lines().next().unwrap();
    fs::write(&input, format!("{first}\n{{\"config\": {{}}, \"runs\": \"many\"}}\n")).unwrap();
    let out = d.join("out");
    let output = losslab(&["chart", path(&input), "--out", path(&out)]);
    let err = text(&output.stderr);
    assert_eq!(status(&output), 2, "stderr: {err}");
    assert!(err.contains(&format!("{}:2", input.display())), "names file and line: {err}");
    assert!(err.contains("`runs`"), "says what is wrong: {err}");
    assert!(!out.exists(), "nothing is written for invalid input");

    fs::write(&input, "this is not JSON\n").unwrap();
    let output = losslab(&["chart", path(&input), "--out", path(&out)]);
    assert_eq!(status(&output), 2);
    assert!(text(&output.stderr).contains(":1: not JSON"), "{}", text(&output.stderr));

    let missing = d.join("missing.jsonl");
    let output = losslab(&["chart", path(&missing), "--out", path(&out)]);
    assert_eq!(status(&output), 2);
    assert!(text(&output.stderr).contains("missing.jsonl"), "{}", text(&output.stderr));

    let empty = dir("invalid-empty-dir");
    let output = losslab(&["chart", path(&empty), "--out", path(&out)]);
    assert_eq!(status(&output), 2);
    assert!(text(&output.stderr).contains("holds no explore or replay results"), "{}", text(&output.stderr));

    let output = losslab(&["chart", path(&input)]);
    assert_eq!(status(&output), 2, "--out is required");
}

#[test]
fn charts_a_directory_of_replay_json_lines_and_skips_other_json() {
    let d = dir("replay-json");
    let replay = losslab(&["replay", ACKS1, "--json"]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    fs::write(d.join("acks1.jsonl"), &replay.stdout).unwrap();
    // A scenario file among the results, as explore's --out directory has: skipped.
    fs::copy(ACKS1, d.join("a-scenario.json")).unwrap();
    let out = d.join("charts");
    let output = losslab(&["chart", path(&d), "--out", path(&out)]);
    assert_eq!(status(&output), 0, "stderr: {}", text(&output.stderr));
    assert!(text(&output.stderr).contains("skipped"), "{}", text(&output.stderr));
    // One configuration compares nothing: no chart is drawn, and the output says why.
    let stdout = text(&output.stdout);
    for chart in CHARTS {
        assert!(!out.join(chart).exists(), "{chart} drawn for one configuration");
        assert!(stdout.contains(&format!("{chart} (")), "stdout lists {chart}: {stdout}");
    }
    let heatmap = "loss-heatmap.svg (Which settings lose acknowledged messages): not drawn: it would show one cell";
    assert!(stdout.contains(heatmap), "{stdout}");
    assert!(stdout.contains("acks=1, min.insync.replicas=1"), "{stdout}");
    // --json lines carry no history: no latency to chart.
    let latency =
        "durability-latency.svg (Durability against produce latency): not drawn: no configurations with a latency";
    assert!(stdout.contains(latency), "{stdout}");
}

#[test]
fn charts_a_replay_out_directory_with_latency_from_the_histories() {
    let d = dir("replay-out");
    // acks=1 and its acks=all twin, under the same fault schedule.
    let all = d.join("acks-all.json");
    let twin = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join(ACKS1))
        .replace("\"acks\": \"1\"", "\"acks\": \"all\"")
        .replace("cli-acks1-leader-crash", "cli-acksall-leader-crash")
        .replace("\"lost_acked\": \"some\"", "\"lost_acked\": \"none\"");
    fs::write(&all, twin).unwrap();
    let runs = d.join("runs");
    let replay = losslab(&["replay", ACKS1, path(&all), "--seeds", "2", "--out", path(&runs)]);
    assert!(matches!(status(&replay), 0 | 1), "{}", text(&replay.stderr));
    let out = d.join("charts");
    let output = losslab(&["chart", path(&runs), "--out", path(&out)]);
    assert_eq!(status(&output), 0, "stderr: {}", text(&output.stderr));
    let latency = read(&out.join("durability-latency.svg"));
    assert!(
        latency.contains("cli-acks1-leader-crash"),
        "the latency comes from history.jsonl; labelled with the scenario"
    );
    assert!(
        latency.contains("faults: crash leader") && latency.contains("differs: acks"),
        "one panel, its schedule named"
    );
    assert!(read(&out.join("loss-heatmap.svg")).contains("of 2 runs"));
}

#[test]
fn replay_out_writes_the_same_timeline_and_html_report_every_time() {
    let d = dir("replay-twice");
    let (a, b) = (d.join("a"), d.join("b"));
    for out in [&a, &b] {
        let output = losslab(&["replay", ACKS1, "--out", path(out)]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    for file in ["timeline.svg", "report.html"] {
        let rel = Path::new("cli-acks1-leader-crash").join("seed-1").join(file);
        let (x, y) = (read(&a.join(&rel)), read(&b.join(&rel)));
        assert_eq!(x, y, "{file} differs between two runs");
        assert_portable(file, &x, &[&d, &a, &b]);
    }
    let svg = read(&a.join("cli-acks1-leader-crash/seed-1/timeline.svg"));
    for needle in [
        "b1: offset",
        "b2: offset",
        "b3: offset",
        "ISR size",
        "process crash",
        "leader, epoch 1",
        "acknowledged messages lost",
    ] {
        assert!(svg.contains(needle), "the timeline lacks {needle}");
    }
    let html = read(&a.join("cli-acks1-leader-crash/seed-1/report.html"));
    assert!(html.contains("<svg "), "the timeline is inline");
    // Self-contained: its only scripts are inline (the step-through), nothing is fetched.
    assert!(!html.contains("<script src") && !html.contains("<link") && !html.contains("src=\""), "self-contained");
}

#[test]
fn a_scenario_written_outside_the_repo_gets_a_timeline_per_partition() {
    let d = dir("outside");
    let scenario = d.join("two-partitions.json");
    let text = r#"{
      "name": "outside two partitions",
      "description": "Written outside the repository: acks=1, two partitions, the leader loses power.",
      "brokers": 3,
      "topic": {"partitions": 2},
      "producer": {"acks": "1"},
      "workload": {"messages": 600, "rate_per_sec": 1000, "consumers": 0},
      "faults": [
        {"after_acked": 200, "action": "crash", "node": "leader", "mode": "power"},
        {"delay_ms": 12000, "action": "restart", "node": "brokers"}
      ]
    }"#;
    fs::write(&scenario, text).unwrap();
    let out = d.join("out");
    let output = losslab(&["replay", path(&scenario), "--out", path(&out)]);
    assert!(matches!(status(&output), 0 | 1), "{}", text_of(&output));
    // The name has a space: the directory is made safe.
    let seed = out.join("outside_two_partitions").join("seed-1");
    for file in ["timeline.svg", "timeline-p1.svg", "report.html"] {
        assert!(seed.join(file).is_file(), "{file} missing under {}", seed.display());
    }
    let p1 = read(&seed.join("timeline-p1.svg"));
    assert!(p1.contains("partition 1") && p1.contains("power loss"), "partition 1's timeline shows the power loss");
    let html = read(&seed.join("report.html"));
    assert_eq!(html.matches("<svg ").count(), 2, "both timelines inline");
    assert!(html.contains("outside two partitions, seed 1"));
}

fn text_of(output: &Output) -> String {
    format!("stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr))
}
