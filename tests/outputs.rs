//! What `losslab replay` leaves behind, tested on the built binary as a script would see it:
//! output bounded whatever the findings (`--json` lists at most 20 findings per class and seed
//! and counts the rest; the verdict tells ranges of records with one story once), files under
//! `--out` that are whole or absent, a reused `--out` without stale seeds, Ctrl-C that reports
//! what finished and exits 130, and write errors (a closed standard output, an unwritable
//! directory) that exit 2 with a message instead of panicking or passing silently.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const QUIET: &str = "tests/fixtures/cli/quiet.json";
/// acks=1 and a leader crash: dozens of lost_acked and reordered records per seed.
const ACKS1: &str = "tests/fixtures/cli/acks1-leader-crash.json";
const ACKS1_NAME: &str = "cli-acks1-leader-crash";
/// `json::FINDINGS_PER_CLASS`, as the contract's documentation states it.
const FINDINGS_PER_CLASS: usize = 20;

fn losslab() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_losslab"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn run(args: &[&str]) -> Output {
    losslab().args(args).output().expect("the losslab binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn out_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outputs").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every path under `dir` whose name ends in `.tmp`.
fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.to_string_lossy().ends_with(".tmp") {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(tmp_files(&path));
        }
    }
    found
}

/// The seeds of the `seed-<N>` directories in `dir`, sorted.
fn seed_dirs(dir: &Path) -> Vec<u64> {
    let mut seeds: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_prefix("seed-").map(|n| n.parse().unwrap_or_else(|_| panic!("{name}"))))
        .collect();
    seeds.sort_unstable();
    seeds
}

fn seeds_of(object: &Value) -> Vec<u64> {
    object["seeds"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect()
}

#[test]
fn json_lists_at_most_20_findings_per_class_and_seed_and_counts_the_rest() {
    let output = run(&["replay", ACKS1, "--seeds", "3", "--json"]);
    assert_eq!(status(&output), 0, "{}", text(&output.stderr));
    let object: Value = serde_json::from_str(text(&output.stdout).trim_end()).unwrap();
    let mut cut_somewhere = false;
    for run in object["runs"].as_array().unwrap() {
        let mut listed: BTreeMap<String, u64> = BTreeMap::new();
        for finding in run["findings"].as_array().unwrap() {
            *listed.entry(finding["class"].as_str().unwrap().to_string()).or_default() += 1;
        }
        let left_out = run["findings_left_out"].as_object().expect("findings_left_out is an object");
        for (class, count) in run["counts"].as_object().unwrap() {
            if ["sent", "acked", "failed"].contains(&class.as_str()) {
                continue;
            }
            let count = count.as_u64().unwrap();
            let shown = listed.get(class).copied().unwrap_or(0);
            let cut = left_out.get(class).map_or(0, |n| n.as_u64().unwrap());
            assert_eq!(shown, count.min(FINDINGS_PER_CLASS as u64), "{class} in {run}");
            assert_eq!(shown + cut, count, "{class}: listed and left out add up to the count");
            cut_somewhere |= cut > 0;
        }
    }
    assert!(cut_somewhere, "the fixture loses more than {FINDINGS_PER_CLASS} records in some seed");

    let all = run(&["replay", ACKS1, "--seeds", "3", "--json", "--all-findings"]);
    let object: Value = serde_json::from_str(text(&all.stdout).trim_end()).unwrap();
    for run in object["runs"].as_array().unwrap() {
        assert_eq!(run["findings_left_out"], serde_json::json!({}), "{run}");
        let lost = run["findings"].as_array().unwrap().iter().filter(|f| f["class"] == "lost_acked").count();
        assert_eq!(lost as u64, run["counts"]["lost_acked"].as_u64().unwrap());
    }
}

/// Each range title in the verdict: `  seed S: CLASS pA#X..pA#Y, N records (partition P)`.
fn range_titles(verdict: &str) -> Vec<(u64, String, u64)> {
    verdict
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("  seed ")?;
            let (seed, rest) = rest.split_once(": ")?;
            let (class, rest) = rest.split_once(' ')?;
            if class == "..." {
                return None;
            }
            let records = match rest.split_once(", ") {
                Some((range, rest)) => {
                    assert!(range.contains(".."), "a range names its first and last record: {line}");
                    rest.strip_suffix(" (partition 0)")?.strip_suffix(" records")?.parse().ok()?
                }
                None => {
                    assert!(rest.ends_with(" (partition 0)") && !rest.contains(".."), "{line}");
                    1
                }
            };
            Some((seed.parse().unwrap(), class.to_string(), records))
        })
        .collect()
}

#[test]
fn the_verdict_tells_each_range_of_one_story_once_and_covers_every_record() {
    let verdict = text(&run(&["replay", ACKS1, "--seeds", "3"]).stdout);
    let json = text(&run(&["replay", ACKS1, "--seeds", "3", "--json"]).stdout);
    let object: Value = serde_json::from_str(json.trim_end()).unwrap();
    assert!(verdict.contains(
        "\nfindings\n  (a range is told for its first record; the others differ only in ids, offsets and own \
         times)\n  seed 1: lost_acked p1#"
    ));
    let titles = range_titles(&verdict);
    assert!(titles.iter().any(|(_, _, records)| *records > 1), "{verdict}");
    for run in object["runs"].as_array().unwrap() {
        let seed = run["seed"].as_u64().unwrap();
        let told: u64 =
            titles.iter().filter(|(s, class, _)| *s == seed && class == "lost_acked").map(|(_, _, n)| n).sum();
        let more = format!("  seed {seed}: ... and ");
        let hidden: u64 = verdict
            .lines()
            .filter_map(|l| l.strip_prefix(&more)?.split_once(" more lost_acked records"))
            .map(|(n, _)| n.parse::<u64>().unwrap())
            .sum();
        assert_eq!(told + hidden, run["counts"]["lost_acked"].as_u64().unwrap(), "seed {seed}: {verdict}");
    }
    // One explanation per range, not per record.
    let explanations = verdict.matches(" was acknowledged at ").count();
    assert!(explanations <= titles.len(), "{explanations} explanations for {} ranges", titles.len());
}

#[test]
fn report_md_tells_ranges_and_out_leaves_no_tmp_files() {
    let dir = out_dir("report-ranges");
    let output = run(&["replay", ACKS1, "--seeds", "2", "--out", dir.to_str().unwrap()]);
    assert_eq!(status(&output), 0, "{}", text(&output.stderr));
    let scenario_dir = dir.join(ACKS1_NAME);
    let report = std::fs::read_to_string(scenario_dir.join("seed-1/report.md")).unwrap();
    let range = report.lines().find(|l| l.starts_with("- **p1#") && l.contains(" records (partition 0): p1#"));
    let range = range.unwrap_or_else(|| panic!("no range in {report}"));
    assert!(range.contains("..p1#"), "{range}");
    let html = std::fs::read_to_string(scenario_dir.join("seed-1/report.html")).unwrap();
    assert!(html.contains(" records (partition 0): p1#"), "report.html tells ranges too");
    let verdict = read_json(&scenario_dir.join("seed-1/verdict.json"));
    assert!(verdict["runs"][0]["findings_left_out"].is_object());
    assert_eq!(tmp_files(&dir), Vec::<PathBuf>::new());
}

#[test]
fn a_reused_out_dir_loses_the_stale_seeds_of_the_files_run_and_nothing_else() {
    let dir = out_dir("stale");
    let scenario_dir = dir.join("cli-quiet");
    for stale in ["seed-1", "seed-99", "seed-7.tmp"] {
        std::fs::create_dir_all(scenario_dir.join(stale)).unwrap();
        std::fs::write(scenario_dir.join(stale).join("report.md"), "old").unwrap();
    }
    std::fs::write(scenario_dir.join("summary.json"), "{\"old\": true}").unwrap();
    std::fs::write(scenario_dir.join("summary.json.tmp"), "half").unwrap();
    std::fs::write(scenario_dir.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(dir.join("other-scenario/seed-1")).unwrap();

    let output = run(&["replay", QUIET, "--seeds", "2", "--out", dir.to_str().unwrap()]);
    assert_eq!(status(&output), 0, "{}", text(&output.stderr));
    assert_eq!(seed_dirs(&scenario_dir), [5, 6], "only this run's seeds are left");
    assert_eq!(seeds_of(&read_json(&scenario_dir.join("summary.json"))), [5, 6]);
    assert_eq!(std::fs::read_to_string(scenario_dir.join("notes.txt")).unwrap(), "mine");
    assert!(dir.join("other-scenario/seed-1").is_dir(), "another scenario's directory is not touched");
    assert_eq!(tmp_files(&dir), Vec::<PathBuf>::new());
}

#[test]
fn ctrl_c_reports_what_finished_writes_a_consistent_summary_and_exits_130() {
    let dir = out_dir("sigint");
    std::fs::create_dir_all(&dir).unwrap();
    let stdout = std::fs::File::create(dir.join("stdout.jsonl")).unwrap();
    let stderr = std::fs::File::create(dir.join("stderr.txt")).unwrap();
    let out = dir.join("out");
    let mut child = losslab()
        .args(["replay", ACKS1, "--seeds", "100000", "--jobs", "2", "--json", "--out", out.to_str().unwrap()])
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    let scenario_dir = out.join(ACKS1_NAME);
    let started = Instant::now();
    while !scenario_dir.join("seed-3").exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "no seed finished in 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("losslab did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");

    let summary = read_json(&scenario_dir.join("summary.json"));
    let seeds = seeds_of(&summary);
    assert!(seeds.len() >= 3 && seeds.len() < 100_000, "{seeds:?}");
    assert_eq!(seeds, (1..=seeds.len() as u64).collect::<Vec<_>>(), "the seeds that finished are the first ones");
    assert_eq!(seed_dirs(&scenario_dir), seeds, "a directory for each seed in the summary, and no other");
    for seed in &seeds {
        assert!(scenario_dir.join(format!("seed-{seed}/verdict.json")).is_file());
    }
    assert_eq!(tmp_files(&out), Vec::<PathBuf>::new());
    // index.html is rewritten after Ctrl-C too: a link per seed that finished (issue 18).
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    let linked = index.matches("/report.html\"").count();
    assert_eq!(linked, seeds.len(), "{index}");
    let printed = std::fs::read_to_string(dir.join("stdout.jsonl")).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 1, "{printed}");
    assert_eq!(serde_json::from_str::<Value>(lines[0]).unwrap(), summary, "stdout reports what summary.json holds");
    let n = seeds.len();
    assert!(
        stderr.contains(&format!(
            "interrupted: the report above covers only what finished ({n} of 100000 seeds of {ACKS1})"
        )),
        "{stderr}"
    );
}

#[test]
fn a_closed_standard_output_is_an_error_with_status_2() {
    // A run of some length, so that the write comes well after the read end is closed here
    // (and in any test's child forked meanwhile, which holds it until its exec).
    let mut child = losslab()
        .args(["replay", ACKS1, "--seeds", "4", "--jobs", "1", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(status(&output), 2, "{stderr}");
    assert!(stderr.contains("error: cannot write to standard output: Broken pipe"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_out_dir_that_cannot_be_made_is_refused_before_anything_runs() {
    let dir = out_dir("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let out = file.join("out");
    let output = run(&["replay", QUIET, "--out", out.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(status(&output), 2, "{stderr}");
    assert_eq!(text(&output.stdout), "", "nothing ran");
    assert!(stderr.contains(&format!("error: cannot create {}", out.join("cli-quiet").display())), "{stderr}");
}
