//! `losslab explore`: throws random fault schedules at a configuration (or a grid of them), on
//! every core, and reports for each finding class how many runs showed it, the first seed that
//! did, and whether Kafka's documentation permits it for this configuration (`model::predict`)
//! or a guarantee broke. For every class found, the first failing run is written as a
//! self-contained scenario file and shrunk (fewer steps, a smaller workload) while it still shows
//! the finding, so that `losslab replay` reproduces it.

use crate::status::Status;
use clap::Args as ClapArgs;
use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use losslab_model::explore::{self, FaultKind, GridPoint};
use losslab_model::history::{EventKind, MsgId};
use losslab_model::predict::{predict, Prediction};
use losslab_model::{check, FindingClass, Scenario};
use losslab_sim::fault::mutation::Mutation;
use losslab_sim::{RunOptions, RunOutput};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// A scenario file whose faults are replaced by random schedules; a value may be a list
    /// (`"acks": ["1", "all"]`) and the grid of all lists is explored.
    #[arg(long)]
    config: PathBuf,
    /// Runs (seeds) per configuration.
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Runs at a time (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Fault kinds to draw from: crash, power, pause, cut, isolate, wipe.
    #[arg(long, default_value = "crash,power,pause,cut,isolate,wipe")]
    faults: String,
    /// Where the shrunk counterexamples are written.
    #[arg(long, default_value = "explore-out")]
    out: PathBuf,
    /// One JSON object per configuration, one per line, instead of the table.
    #[arg(long)]
    json: bool,
    /// Turn on a deliberate protocol bug (`list` prints their names).
    #[arg(long)]
    mutation: Option<String>,
    /// Draw a transactional configuration per seed (transactional.id, the app's transaction
    /// size and aborts, transaction.timeout.ms, isolation.level, kafka.version 0.11-4.1) for
    /// the keys the file does not set; each run is judged by its own configuration's prediction.
    #[arg(long)]
    transactions: bool,
}

struct Invalid(String);

pub fn run(args: &Args) -> Status {
    match explore(args) {
        Ok(status) => status,
        Err(Invalid(message)) => {
            eprintln!("error: {message}");
            Status::Invalid
        }
    }
}

/// What one configuration showed over its seeds.
struct ConfigResult<'a> {
    point: &'a GridPoint,
    runs: u64,
    /// Per class: how many runs showed it and the first seed that did.
    found: BTreeMap<FindingClass, (u64, u64)>,
    /// Per class: how many runs showed it although their own configuration's prediction forbids
    /// it, and the first seed that did (with `--transactions` runs differ in configuration).
    broken: BTreeMap<FindingClass, (u64, u64)>,
    /// Per class, the prediction shown: the first breaking run's, else the first showing run's,
    /// else the first run's; `permitted` is false when some run broke it.
    predictions: BTreeMap<FindingClass, Prediction>,
    latency_ms_p99: Option<f64>,
    scenarios: BTreeMap<FindingClass, PathBuf>,
    /// Runs that stopped on a broken invariant (an assertion in the simulator), with the message.
    invariants: Vec<String>,
}

fn explore(args: &Args) -> Result<Status, Invalid> {
    let mutation = match args.mutation.as_deref() {
        Some("list") => {
            for m in Mutation::ALL {
                println!("{m}");
            }
            return Ok(Status::Passed);
        }
        Some(name) => Some(Mutation::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Mutation::ALL.iter().map(|m| m.name()).collect();
            Invalid(format!("unknown mutation `{name}`; the mutations are {}", names.join(", ")))
        })?),
        None => None,
    };
    let kinds = FaultKind::parse_list(&args.faults).map_err(Invalid)?;
    if args.seeds == 0 {
        return Err(Invalid("--seeds must be at least 1".into()));
    }
    let label = args.config.display().to_string();
    let text = std::fs::read_to_string(&args.config).map_err(|e| Invalid(format!("cannot read {label}: {e}")))?;
    let stem = args.config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let grid = explore::expand(&label, &stem, &text).map_err(|e| Invalid(e.message))?;
    let options = RunOptions { mutation };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);

    let seeds: Vec<u64> = (0..args.seeds).map(|i| args.seed.saturating_add(i)).collect();
    let mut items = Vec::new();
    // Each run's own prediction (they differ only with --transactions).
    let mut predictions = Vec::new();
    for point in &grid {
        for &seed in &seeds {
            let steps = explore::random_schedule(seed, &kinds, &point.scenario);
            let drawn = drawn_point(args, point, seed);
            let scenario =
                explore::scenario_with(&drawn, &steps, &point.scenario.name, seed).map_err(|e| Invalid(e.message))?;
            predictions.push(predict(&scenario, &kinds));
            items.push((scenario, seed));
        }
    }
    let bar = progress(items.len() as u64);
    // A broken invariant panics inside its run; it is reported as a finding, not as a crash of
    // the explorer, so keep the default hook from printing each one (shrinking reruns too).
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // Each run is checked on the worker that ran it: only its summary is kept.
    let outcomes = losslab_sim::run_all(&items, jobs, options, &|outcome| {
        bar.inc(1);
        outcome.map(|run| RunSummary::of(&run))
    });
    bar.finish_and_clear();

    let mut results = Vec::new();
    let mut chains = Vec::new();
    for (i, point) in grid.iter().enumerate() {
        let range = i * seeds.len()..(i + 1) * seeds.len();
        let chunk = &outcomes[range.clone()];
        let runs = chunk.iter().zip(&predictions[range]).filter_map(|(o, p)| o.as_ref().ok().map(|r| (r, p)));
        let mut result = judge_config(point, runs, &kinds);
        result.invariants = chunk.iter().filter_map(|o| o.as_ref().err()).cloned().collect();
        // The counterexample of a broken class is a run that broke it.
        chains.extend(
            result
                .found
                .iter()
                .map(|(&class, &(_, first_seed))| (i, class, result.broken.get(&class).map_or(first_seed, |b| b.1))),
        );
        results.push(result);
    }
    // Shrinking is a chain of reruns per counterexample; the chains run side by side.
    let paths = losslab_sim::pool::map(&chains, jobs, &|_, &(i, class, seed)| {
        write_counterexample(args, &grid[i], &kinds, class, seed, options, i)
    });
    std::panic::set_hook(hook);
    for (&(i, class, _), path) in chains.iter().zip(paths) {
        results[i].scenarios.insert(class, path?);
    }
    if args.json {
        for r in &results {
            println!("{}", json_line(r));
        }
    } else {
        println!("{}", table(&results, mutation, args.transactions));
        for r in &results {
            for (class, path) in &r.scenarios {
                println!("{} {class}: {}", explore::label(&r.point.axes), path.display());
            }
        }
    }
    for r in &results {
        for message in r.invariants.iter().take(3) {
            eprintln!("{}: invariant violated in {message}", explore::label(&r.point.axes));
        }
    }
    let broken = results.iter().any(|r| !r.invariants.is_empty() || !r.broken.is_empty());
    Ok(if broken { Status::NotMet } else { Status::Passed })
}

fn progress(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {per_sec}, eta {eta}") {
        bar.set_style(style);
    }
    bar
}

/// What the explorer keeps of one run: the classes it showed and its produce latencies.
struct RunSummary {
    seed: u64,
    classes: Vec<FindingClass>,
    latencies_us: Vec<u64>,
}

impl RunSummary {
    fn of(run: &RunOutput) -> RunSummary {
        let verdict = check(&run.history, &run.final_state);
        let classes =
            FindingClass::ALL.into_iter().filter(|c| verdict.counts.get(c.as_str()).is_some_and(|&n| n > 0)).collect();
        RunSummary { seed: run.seed, classes, latencies_us: produce_latencies_us(run) }
    }
}

/// `point` with the configuration a run of `seed` uses: its file, or with `--transactions`
/// the file with that seed's transactional draw.
fn drawn_point(args: &Args, point: &GridPoint, seed: u64) -> GridPoint {
    let mut drawn = point.clone();
    if args.transactions {
        drawn.file = explore::with_transactions(&point.file, seed);
    }
    drawn
}

fn judge_config<'a, 'r>(
    point: &'a GridPoint,
    runs: impl Iterator<Item = (&'r RunSummary, &'r BTreeMap<FindingClass, Prediction>)>,
    kinds: &BTreeSet<FaultKind>,
) -> ConfigResult<'a> {
    let mut found: BTreeMap<FindingClass, (u64, u64)> = BTreeMap::new();
    let mut broken: BTreeMap<FindingClass, (u64, u64)> = BTreeMap::new();
    let mut shown: BTreeMap<FindingClass, (u8, u64, Prediction)> = BTreeMap::new();
    let mut latencies_us = Vec::new();
    let mut count = 0;
    for (run, prediction) in runs {
        count += 1;
        // 0: a run that broke the class, 1: a run that showed it, 2: any run; the lowest seed of
        // the best rank gives the prediction shown.
        let mut offer = |class: FindingClass, rank: u8, p: &Prediction| {
            if shown.get(&class).is_none_or(|c| (rank, run.seed) < (c.0, c.1)) {
                shown.insert(class, (rank, run.seed, p.clone()));
            }
        };
        for (&class, p) in prediction {
            offer(class, 2, p);
        }
        for &class in &run.classes {
            let entry = found.entry(class).or_insert((0, run.seed));
            entry.0 += 1;
            entry.1 = entry.1.min(run.seed);
            let p = &prediction[&class];
            if !p.permitted {
                let entry = broken.entry(class).or_insert((0, run.seed));
                entry.0 += 1;
                entry.1 = entry.1.min(run.seed);
            }
            offer(class, if p.permitted { 1 } else { 0 }, p);
        }
        latencies_us.extend_from_slice(&run.latencies_us);
    }
    latencies_us.sort_unstable();
    let latency_ms_p99 = (!latencies_us.is_empty()).then(|| {
        let idx = (latencies_us.len() * 99).div_ceil(100).saturating_sub(1);
        latencies_us[idx] as f64 / 1000.0
    });
    // Without a run (every one broke an invariant), the file's own prediction.
    for (class, p) in predict(&point.scenario, kinds) {
        shown.entry(class).or_insert((3, 0, p));
    }
    let predictions = shown
        .into_iter()
        .map(|(class, (_, _, p))| {
            let permitted = match (broken.contains_key(&class), found.contains_key(&class)) {
                (true, _) => false,
                (false, true) => true,
                (false, false) => p.permitted,
            };
            (class, Prediction { permitted, ..p })
        })
        .collect();
    ConfigResult {
        point,
        runs: count,
        found,
        broken,
        predictions,
        latency_ms_p99,
        scenarios: BTreeMap::new(),
        invariants: Vec::new(),
    }
}

/// From send() to the acknowledgement, for every acknowledged record.
fn produce_latencies_us(run: &RunOutput) -> Vec<u64> {
    let mut out = Vec::new();
    let mut sent: BTreeMap<MsgId, u64> = BTreeMap::new();
    for e in &run.history.events {
        match &e.kind {
            EventKind::Send { msg, .. } => {
                sent.entry(*msg).or_insert(e.t_us);
            }
            EventKind::Acked { msgs, .. } => {
                out.extend(msgs.iter().filter_map(|m| sent.get(m)).map(|&t| e.t_us.saturating_sub(t)));
            }
            _ => {}
        }
    }
    out
}

fn shows(scenario: &Scenario, seed: u64, class: FindingClass, options: RunOptions) -> bool {
    let Ok(run) = losslab_sim::try_run_with(scenario, seed, options) else { return false };
    check(&run.history, &run.final_state).counts.get(class.as_str()).copied().unwrap_or(0) > 0
}

/// Writes the first run that showed `class`, shrunk: the workload halved and steps dropped one
/// at a time while the finding still shows with the same seed.
fn write_counterexample(
    args: &Args,
    point: &GridPoint,
    kinds: &BTreeSet<FaultKind>,
    class: FindingClass,
    seed: u64,
    options: RunOptions,
    config_index: usize,
) -> Result<PathBuf, Invalid> {
    let name = format!("explore-{}-{class}-seed{seed}", slug(&explore::label(&point.axes)));
    let mut steps = explore::random_schedule(seed, kinds, &point.scenario);
    let mut file = drawn_point(args, point, seed).file;
    let build = |file: &Value, steps: &[Value]| -> Option<Scenario> {
        let concrete = explore::with_faults(file, steps, &name, seed);
        Scenario::parse(&name, &name, &serde_json::to_string(&concrete).ok()?).ok()
    };
    let still_shows =
        |file: &Value, steps: &[Value]| build(file, steps).is_some_and(|s| shows(&s, seed, class, options));
    // The workload is halved first: every later rerun is then cheaper (dropping steps on the
    // full workload cost most of the shrinking), and again after the steps are gone.
    let halve = |mut file: Value, steps: &[Value]| -> Value {
        loop {
            let messages =
                file.pointer("/workload/messages").and_then(Value::as_u64).unwrap_or(point.scenario.workload.messages);
            let half = messages / 2;
            if half < 10 {
                return file;
            }
            let mut smaller = file.clone();
            set_messages(&mut smaller, half);
            if !still_shows(&smaller, steps) {
                return file;
            }
            file = smaller;
        }
    };
    file = halve(file, &steps);
    let mut i = steps.len();
    while i > 0 {
        i -= 1;
        let mut fewer = steps.clone();
        fewer.remove(i);
        if still_shows(&file, &fewer) {
            steps = fewer;
        }
    }
    file = halve(file, &steps);
    let mut concrete = explore::with_faults(&file, &steps, &name, seed);
    let obj = concrete.as_object_mut().expect("a scenario is an object");
    let drawn = if args.transactions { " --transactions" } else { "" };
    let how = match options.mutation {
        Some(m) => {
            format!(" with the deliberate bug `{m}` (losslab explore --mutation {m}; replay does not turn it on)")
        }
        None => String::new(),
    };
    obj.insert(
        "description".into(),
        json!(format!(
            "Found by losslab explore{drawn}{how}: configuration {} (grid point {}), seed {seed}, shrunk to the fault steps and workload that still show {class}.",
            explore::label(&point.axes),
            config_index + 1
        )),
    );
    obj.insert("expect".into(), json!({ class.as_str(): "some" }));
    std::fs::create_dir_all(&args.out).map_err(|e| Invalid(format!("cannot create {}: {e}", args.out.display())))?;
    let path = args.out.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&concrete).expect("serializes") + "\n";
    std::fs::write(&path, text).map_err(|e| Invalid(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

fn set_messages(file: &mut Value, messages: u64) {
    let obj = file.as_object_mut().expect("a scenario is an object");
    let workload = obj.entry("workload").or_insert_with(|| json!({}));
    if let Some(w) = workload.as_object_mut() {
        w.insert("messages".into(), json!(messages));
    }
}

fn slug(label: &str) -> String {
    let s: String = label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect();
    s.trim_matches('-').to_string()
}

fn json_line(r: &ConfigResult) -> String {
    let found: serde_json::Map<String, Value> = FindingClass::ALL
        .into_iter()
        .map(|class| {
            let (runs, first_seed) = r.found.get(&class).copied().map_or((0, None), |(n, s)| (n, Some(s)));
            let p = &r.predictions[&class];
            let mut entry = json!({"runs": runs, "permitted": p.permitted, "reason": p.reason});
            if let Some(seed) = first_seed {
                entry["first_seed"] = json!(seed);
            }
            if let Some(&(runs, seed)) = r.broken.get(&class) {
                entry["broken_runs"] = json!(runs);
                entry["first_broken_seed"] = json!(seed);
            }
            if let Some(path) = r.scenarios.get(&class) {
                entry["scenario"] = json!(path.display().to_string());
            }
            (class.as_str().to_string(), entry)
        })
        .collect();
    let mut line = json!({
        "config": explore::config_object(&r.point.file),
        "axes": r.point.axes,
        "runs": r.runs,
        "found": found,
        "invariants_broken": r.invariants.len(),
    });
    if let Some(p99) = r.latency_ms_p99 {
        line["latency_ms_p99"] = json!(p99);
    }
    line.to_string()
}

fn table(results: &[ConfigResult], mutation: Option<Mutation>, transactions: bool) -> String {
    let mut table = Table::new();
    table.load_style(ASCII_FULL_CONDENSED);
    let mut header = vec!["configuration".to_string(), "runs".to_string()];
    header.extend(FindingClass::ALL.iter().map(|c| c.as_str().to_string()));
    table.set_header(header);
    for r in results {
        let mut label = explore::label(&r.point.axes);
        if !r.invariants.is_empty() {
            label = format!("{label} (INVARIANT BROKEN in {} runs)", r.invariants.len());
        }
        let mut row = vec![label, r.runs.to_string()];
        for class in FindingClass::ALL {
            row.push(match r.found.get(&class) {
                None => "-".to_string(),
                Some(&(n, seed)) => match r.broken.get(&class) {
                    None => format!("{n} (seed {seed}) permitted"),
                    Some(&b) if b == (n, seed) => format!("{n} (seed {seed}) GUARANTEE BROKEN"),
                    // With --transactions: only some of the runs that showed it forbid it.
                    Some(&(b, first)) => format!("{n} (seed {seed}), GUARANTEE BROKEN in {b} (seed {first})"),
                },
            });
        }
        table.add_row(row);
    }
    let mut title = match mutation {
        Some(m) => format!("explore with mutation {m}\n"),
        None => String::new(),
    };
    if transactions {
        title.push_str("transactional configurations drawn per seed (--transactions)\n");
    }
    format!("{title}{}", table.trim_fmt())
}
