//! `losslab bench`: how fast the lab is, measured in one process on this machine. The raw madsim
//! floor against losslab replicating the same number of messages (`floor_ratio`), runs per second
//! of the default workload under random faults on every core (`runs_per_sec`), simulated against
//! wall time, how much faster `losslab explore` is with two jobs than with one, and the peak
//! memory of a 1,000,000- and a 100,000-message run (each in a child process, read from the
//! kernel's high-water mark) to show that memory grows linearly.

use crate::status::Status;
use clap::Args as ClapArgs;
use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::Table;
use losslab_model::explore::{self, FaultKind};
use losslab_model::{check, Scenario};
use losslab_sim::RunOptions;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Instant;

#[derive(ClapArgs)]
pub struct Args {
    /// One JSON object on the last line instead of the table.
    #[arg(long)]
    json: bool,
    /// Messages for the floor comparison.
    #[arg(long, default_value_t = 20_000)]
    messages: u64,
    /// Runs per core for runs_per_sec.
    #[arg(long, default_value_t = 100)]
    runs_per_core: u64,
    /// Seeds of the default configuration for the explore speedup (1 job against 2).
    #[arg(long, default_value_t = 300)]
    explore_seeds: u64,
    /// Skip the 1,000,000-message memory probe (it takes a while).
    #[arg(long)]
    quick: bool,
    /// Internal: run one run of this many messages and print the peak RSS in KiB.
    #[arg(long, hide = true)]
    rss_probe: Option<u64>,
    /// Internal: `replay` the catalogue's unclean-election file for this many seeds with
    /// `--json` in this process, then print the peak RSS in KiB on stderr.
    #[arg(long, hide = true)]
    rss_probe_replay: Option<u64>,
}

/// `replay`'s arguments alone, to run it inside a probe process.
#[derive(clap::Parser)]
struct ReplayOnly {
    #[command(flatten)]
    args: crate::replay::Args,
}

/// Targets of issue 17, printed beside the figures.
const TARGET_RUNS_PER_SEC_MIN: f64 = 400.0;
const TARGET_RSS_MIB_1M_MAX: f64 = 200.0;
const TARGET_RSS_MIB_REPLAY_1000_MAX: f64 = 100.0;

fn scenario(json: &str) -> Scenario {
    Scenario::parse("bench.json", "bench", json).expect("the bench scenarios are valid")
}

/// acks=all, RF=3, one producer, no consumer, no faults.
fn replication(messages: u64) -> Scenario {
    scenario(&format!(
        r#"{{"workload": {{"messages": {messages}, "rate_per_sec": 10000, "consumers": 0}}, "producer": {{"acks": "all"}}}}"#
    ))
}

pub fn run(args: &Args) -> Status {
    if let Some(messages) = args.rss_probe {
        let _ = losslab_sim::run(&replication(messages), 1);
        println!("{}", peak_rss_kib().unwrap_or(0));
        return Status::Passed;
    }
    if let Some(seeds) = args.rss_probe_replay {
        return replay_probe_child(seeds);
    }
    let n = args.messages;
    // Best of three each: one run is tens of milliseconds, short enough for noise to matter.
    let floor_wall = (0..3).map(|_| losslab_sim::floor::run(n).0.as_secs_f64()).fold(f64::INFINITY, f64::min);
    let floor_tput = n as f64 / floor_wall;

    let scenario = replication(n);
    let mut wall = f64::INFINITY;
    let mut simulated_s = 0.0;
    for _ in 0..3 {
        let start = Instant::now();
        let out = losslab_sim::run(&scenario, 1);
        wall = wall.min(start.elapsed().as_secs_f64());
        simulated_s = out.final_state.end_us as f64 / 1e6;
    }
    let losslab_tput = n as f64 / wall;
    let sim_wall_ratio = simulated_s / wall;

    let jobs = std::thread::available_parallelism().map_or(1, |c| c.get());
    let base = explore::expand("bench.json", "bench", "{}").expect("defaults expand").remove(0);
    let kinds: BTreeSet<FaultKind> = FaultKind::ALL.into_iter().collect();
    let total = args.runs_per_core * jobs as u64;
    let items: Vec<(Scenario, u64)> = (1..=total)
        .map(|seed| {
            let steps = explore::random_schedule(seed, &kinds, &base.scenario);
            (explore::scenario_with(&base, &steps, "bench", seed).expect("valid schedule"), seed)
        })
        .collect();
    let start = Instant::now();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // A run counts once checked, as explore uses it.
    let _ = losslab_sim::run_all(&items, jobs, RunOptions::default(), &|r| {
        r.map(|run| check(&run.history, &run.final_state).counts.len())
    });
    std::panic::set_hook(hook);
    let runs_per_sec = total as f64 / start.elapsed().as_secs_f64();

    let (explore_1_s, explore_2_s) = (explore_wall_s(args.explore_seeds, 1), explore_wall_s(args.explore_seeds, 2));
    let rss_100k = best_of_three(|| probe(100_000));
    let rss_1m = if args.quick { None } else { best_of_three(|| probe(1_000_000)) };
    let rss_replay = if args.quick { None } else { best_of_three(|| replay_probe(1000)) };
    let result = json!({
        "floor_msgs_per_sec": round(floor_tput),
        "losslab_msgs_per_sec": round(losslab_tput),
        "floor_ratio": round(losslab_tput / floor_tput),
        "runs_per_sec": round(runs_per_sec),
        "jobs": jobs,
        "sim_wall_ratio": round(sim_wall_ratio),
        "explore_seconds_1_job": explore_1_s.map(round),
        "explore_seconds_2_jobs": explore_2_s.map(round),
        "explore_speedup_2_jobs": explore_1_s.zip(explore_2_s).map(|(a, b)| round(a / b)),
        "peak_rss_mib_100k": rss_100k.map(round),
        "peak_rss_mib_1m": rss_1m.map(round),
        "peak_rss_mib_replay_1000_seeds_json": rss_replay.map(round),
        "targets": {
            "runs_per_sec": format!(">= {TARGET_RUNS_PER_SEC_MIN}"),
            "peak_rss_mib_1m": format!("< {TARGET_RSS_MIB_1M_MAX}"),
            "peak_rss_mib_replay_1000_seeds_json": format!("< {TARGET_RSS_MIB_REPLAY_1000_MAX}"),
        },
    });
    if args.json {
        println!("{result}");
    } else {
        let mut table = Table::new();
        table.load_style(ASCII_FULL_CONDENSED);
        table.set_header(["measure", "value", "target"]);
        let targets = result["targets"].clone();
        for (k, v) in result.as_object().expect("an object").iter().filter(|(k, _)| *k != "targets") {
            let target = targets.get(k).and_then(|t| t.as_str()).unwrap_or("").to_string();
            table.add_row([k.clone(), v.to_string(), target]);
        }
        println!("{}", table.trim_fmt());
    }
    Status::Passed
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Wall time of `losslab explore` over `seeds` seeds of the default configuration with `jobs`
/// jobs, best of two (the whole command, as a user runs it: runs, checks, shrinking, files), in
/// a child process.
fn explore_wall_s(seeds: u64, jobs: usize) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let dir = std::env::temp_dir().join(format!("losslab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let config = dir.join("default.json");
    std::fs::write(&config, "{}\n").ok()?;
    let mut best: Option<f64> = None;
    for _ in 0..2 {
        let start = Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("explore")
            .arg("--config")
            .arg(&config)
            .args(["--seeds", &seeds.to_string(), "--jobs", &jobs.to_string(), "--json", "--out"])
            .arg(dir.join("out"))
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        let wall = start.elapsed().as_secs_f64();
        // 1 means a finding Kafka's documentation forbids: still a complete run.
        if !matches!(status.code(), Some(0 | 1)) {
            return None;
        }
        best = Some(best.map_or(wall, |b: f64| b.min(wall)));
    }
    let _ = std::fs::remove_dir_all(&dir);
    best
}

fn best_of_three(f: impl Fn() -> Option<f64>) -> Option<f64> {
    (0..3).filter_map(|_| f()).reduce(f64::min)
}

/// Peak resident memory of `losslab replay scenarios/unclean-election.json --seeds N --json`
/// (the catalogue file, embedded), in MiB, measured in a child process whose stdout is dropped.
fn replay_probe(seeds: u64) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .args(["bench", "--rss-probe-replay", &seeds.to_string()])
        .stdout(std::process::Stdio::null())
        .output()
        .ok()?;
    let kib: f64 = String::from_utf8_lossy(&out.stderr).lines().last()?.trim().parse().ok()?;
    Some(kib / 1024.0)
}

fn replay_probe_child(seeds: u64) -> Status {
    use clap::Parser;
    let dir = std::env::temp_dir().join(format!("losslab-bench-replay-{}", std::process::id()));
    let file = dir.join("unclean-election.json");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&file, include_str!("../scenarios/unclean-election.json")));
    if written.is_err() {
        return Status::Invalid;
    }
    let argv = ["replay".into(), file.display().to_string(), "--seeds".into(), seeds.to_string(), "--json".into()];
    let Ok(parsed) = ReplayOnly::try_parse_from(argv) else { return Status::Invalid };
    let _ = crate::replay::run(&parsed.args);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{}", peak_rss_kib().unwrap_or(0));
    Status::Passed
}

/// Peak resident memory of one run of `messages` messages, in MiB, measured in a child process.
fn probe(messages: u64) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe).args(["bench", "--rss-probe", &messages.to_string()]).output().ok()?;
    let kib: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// The kernel's high-water mark of this process's resident memory (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
