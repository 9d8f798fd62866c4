//! `losslab explore`'s command line under the mistakes and sizes issue 17 measured: the same
//! argument checks as `replay` (exit 2 before anything runs), seeds and grid points generated
//! lazily (a count of 2^64 - 1 seeds or a 16-million-point grid starts at once, in little
//! memory), Ctrl-C printing the table of what finished (exit 130), `--out` checked first and
//! created only when a counterexample is written, and `--mutation list` without `--config`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn losslab(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_losslab")).current_dir(dir).args(args).output().expect("losslab runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("losslab-explore-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Loses acknowledged records within a few seeds (acks=1 under crashes).
const UNSAFE: &str = r#"{"producer": {"acks": "1"}, "workload": {"messages": 300}}"#;

#[test]
fn seed_ranges_and_jobs_are_checked_as_replay_checks_them() {
    let dir = temp_dir("args");
    std::fs::write(dir.join("c.json"), "{}").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--seed", "18446744073709551614", "--seeds", "5"],
            "error: 5 seeds from seed 18446744073709551614 go past the largest seed, 18446744073709551615",
        ),
        (&["--seeds", "0"], "error: --seeds must be at least 1"),
        (&["--jobs", "0"], "0 is not in 1..=1024"),
        (&["--jobs", "1025"], "1025 is not in 1..=1024"),
        (&["--jobs", "10000"], "10000 is not in 1..=1024"),
    ];
    for (flags, message) in cases {
        let out = losslab(&dir, &[&["explore", "--config", "c.json"], flags].concat());
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{flags:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{flags:?}: nothing runs");
    }
    // The last seed there is, alone, and the most jobs allowed.
    let out = losslab(
        &dir,
        &[
            "explore",
            "--config",
            "c.json",
            "--seed",
            "18446744073709551615",
            "--jobs",
            "1024",
            "--seeds",
            "1",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"runs\":1"));
}

#[test]
fn mutation_list_needs_no_config_and_anything_else_does() {
    let dir = temp_dir("list");
    let out = losslab(&dir, &["explore", "--mutation", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).lines().any(|l| l == "hw-ignores-isr"));
    let out = losslab(&dir, &["explore", "--seeds", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error: --config FILE is required (only `--mutation list` runs without it)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn out_is_checked_before_the_first_run_and_created_only_to_write() {
    let dir = temp_dir("out");
    std::fs::write(dir.join("unsafe.json"), UNSAFE).unwrap();
    std::fs::write(dir.join("safe.json"), "{}").unwrap();
    std::fs::write(dir.join("a-file"), "").unwrap();
    // Under a regular file: refused at once, before any run (no table).
    let start = Instant::now();
    let out = losslab(&dir, &["explore", "--config", "unsafe.json", "--seeds", "100000", "--out", "a-file/out"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("error: --out a-file/out: a-file is not a directory"), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && start.elapsed() < Duration::from_secs(20));
    // Without --out: findings, but nothing written, not even the old default `explore-out/`.
    let out = losslab(&dir, &["explore", "--config", "unsafe.json", "--seeds", "8", "--faults", "crash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("lost_acked"));
    assert!(stderr(&out).contains("counterexample(s) not written: pass --out DIR"), "{}", stderr(&out));
    assert!(!dir.join("explore-out").exists());
    // With --out and no finding: the directory is not created.
    let out =
        losslab(&dir, &["explore", "--config", "safe.json", "--seeds", "2", "--faults", "pause", "--out", "new/dir"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!dir.join("new").exists(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_endless_config_is_refused_naming_it() {
    let dir = temp_dir("zero");
    let out = losslab(&dir, &["explore", "--config", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("error: cannot read /dev/zero: it is larger than 16 MiB"), "{}", stderr(&out));
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_losslab"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("losslab starts")
}

/// Resident memory of a running process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Lets `child` run for `secs`, checks its memory, presses Ctrl-C and collects it.
fn interrupt_after(child: Child, secs: u64) -> (Output, u64) {
    std::thread::sleep(Duration::from_secs(secs));
    let rss = rss_kib(child.id());
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(kill.success());
    (child.wait_with_output().expect("losslab exits"), rss)
}

#[test]
fn ctrl_c_prints_the_table_so_far_and_exits_130_whatever_the_seed_count() {
    let dir = temp_dir("sigint");
    std::fs::write(dir.join("unsafe.json"), UNSAFE).unwrap();
    // 2^64 - 1 seeds used to panic (capacity overflow) before the first run.
    let child = spawn(&dir, &["explore", "--config", "unsafe.json", "--seeds", "18446744073709551615", "--jobs", "1"]);
    let (out, rss) = interrupt_after(child, 3);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}{}", stderr(&out));
    assert!(stdout.starts_with("interrupted (Ctrl-C): the runs that finished\n"), "{stdout}");
    assert!(stdout.contains("| default (interrupted) |"), "{stdout}");
    assert!(stderr(&out).contains("interrupted: "), "{}", stderr(&out));
    assert!(rss < 200 * 1024, "{rss} KiB after 3 s");
    // --json: the configuration cut short is still printed, marked.
    let child = spawn(&dir, &["explore", "--config", "unsafe.json", "--seeds", "1000000", "--json", "--jobs", "1"]);
    let (out, _) = interrupt_after(child, 2);
    assert_eq!(out.status.code(), Some(130));
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("one JSON line");
    assert_eq!(line["interrupted"], true);
    assert!(line["runs"].as_u64().is_some_and(|n| (1..1_000_000).contains(&n)), "{line}");
}

#[test]
fn a_sixteen_million_point_grid_starts_at_once_in_little_memory() {
    let dir = temp_dir("grid");
    let values: Vec<String> = (1..=64).map(|i| (i * 10).to_string()).collect();
    let list = format!("[{}]", values.join(","));
    let config = format!(
        r#"{{"producer": {{"linger.ms": {list}, "batch.size": {list}}}, "consumer": {{"max.poll.records": {list}}}, "broker": {{"replica.fetch.wait.max.ms": {list}}}, "workload": {{"messages": 100}}}}"#
    );
    std::fs::write(dir.join("grid.json"), config).unwrap();
    let child = spawn(&dir, &["explore", "--config", "grid.json", "--seeds", "1", "--json", "--jobs", "1"]);
    let (out, rss) = interrupt_after(child, 3);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(lines >= 2, "configurations finished and printed as they went: {lines}");
    assert!(rss < 200 * 1024, "{rss} KiB after 3 s");
}
