//! Input limits (issue 17, item 4): every file losslab reads for a user (a scenario, an explore
//! configuration, a chart input) is read through a bounded reader and refused past 16 MiB with
//! status 2, naming the file, so `/dev/zero` is never read without limit; and no number in a
//! chart input sends the chart into an endless loop (a p99 latency of 1e308 used to spin forever
//! in the log axis's tick generation).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("losslab-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs losslab in `dir`, killed (and the test failed) if it outlives `limit`.
fn losslab_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_losslab"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("losslab starts");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("losslab {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn dev_zero_is_refused_by_replay_and_chart_naming_it() {
    let dir = temp_dir("zero");
    for args in [&["replay", "/dev/zero"][..], &["chart", "/dev/zero", "--out", "charts"]] {
        let out = losslab_within(&dir, args, LIMIT);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out)
                .contains("error: cannot read /dev/zero: it is larger than 16 MiB, the largest input losslab reads"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(!dir.join("charts").exists());
}

#[test]
fn a_scenario_one_byte_past_16_mib_is_refused_and_one_at_it_is_read() {
    let dir = temp_dir("big");
    // Valid JSON padded with spaces: only the size can be wrong.
    let pad = |total: usize| {
        let mut text = vec![b' '; total - 2];
        text.extend_from_slice(b"{}");
        text
    };
    std::fs::write(dir.join("over.json"), pad(16 * 1024 * 1024 + 1)).unwrap();
    std::fs::write(dir.join("at.json"), pad(16 * 1024 * 1024)).unwrap();
    let out = losslab_within(&dir, &["replay", "over.json", "at.json"], LIMIT);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read over.json: it is larger than 16 MiB"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("at.json"), "the file at the bound is valid: {}", stderr(&out));
}

#[test]
fn no_latency_makes_the_chart_loop() {
    let dir = temp_dir("chart");
    let line = |p99: &str| {
        format!(r#"{{"axes":{{}},"config":{{}},"runs":1,"found":{{}},"invariants_broken":0,"latency_ms_p99":{p99}}}"#)
    };
    // The line of the issue: refused, as no simulated run is that slow, and fast.
    std::fs::write(dir.join("huge.jsonl"), line("1e308") + "\n").unwrap();
    let out = losslab_within(&dir, &["chart", "huge.jsonl", "--out", "charts"], LIMIT);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("huge.jsonl:1: `latency_ms_p99` is 1e+308, not a number of milliseconds from 0 to 1e9"),
        "{}",
        stderr(&out)
    );
    // The extremes still allowed are charted, and finish.
    let extremes = [line("0"), line("1e-300"), line("1e9"), line("5e-324"), line("999999999.999")].join("\n");
    std::fs::write(dir.join("extremes.jsonl"), extremes + "\n").unwrap();
    let out = losslab_within(&dir, &["chart", "extremes.jsonl", "--out", "charts"], LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.join("charts/durability-latency.svg").is_file());
    // Counts at the top of u64 too.
    let big = r#"{"config":{},"runs":18446744073709551615,"found":{"lost_acked":{"runs":18446744073709551615,"first_seed":18446744073709551615,"permitted":false}},"latency_ms_p99":1}"#;
    std::fs::write(dir.join("big.jsonl"), format!("{big}\n")).unwrap();
    let out = losslab_within(&dir, &["chart", "big.jsonl", "--out", "charts2"], LIMIT);
    assert!(matches!(out.status.code(), Some(0 | 2)), "{}", stderr(&out));
}
