//! `losslab explore`: throws random fault schedules at a configuration (or a grid of them), on
//! every core, and reports for each finding class how many runs showed it, the first seed that
//! did, and whether Kafka's documentation permits it for this configuration (`model::predict`)
//! or a guarantee broke. With `--out`, the first failing run of every class found is written as
//! a self-contained scenario file and shrunk (fewer steps, a smaller workload) while it still
//! shows the finding, so that `losslab replay` reproduces it, and `DIR/index.html` lists every
//! configuration with links to them (`index`); without `--out` nothing is written.
//!
//! Memory does not grow with the work (issue 17): grid points and seeds are generated as they
//! are needed, runs go in batches of a few per job and only each configuration's counts (and a
//! histogram of produce latencies) are kept; `--json` prints each configuration's line as soon
//! as it finishes. Ctrl-C stops between batches and prints what finished (exit 130).

use crate::status::Status;
use clap::Args as ClapArgs;
use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use losslab_model::explore::{self, FaultKind, Grid, GridPoint};
use losslab_model::history::{EventKind, MsgId};
use losslab_model::predict::{predict, Prediction};
use losslab_model::{check, FindingClass, Scenario};
use losslab_sim::fault::mutation::Mutation;
use losslab_sim::{RunOptions, RunOutput};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(ClapArgs)]
pub struct Args {
    /// A scenario file whose faults are replaced by random schedules; a value may be a list
    /// (`"acks": ["1", "all"]`) and the grid of all lists is explored.
    /// Required, except with `--mutation list`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Runs (seeds) per configuration.
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Runs at a time (default: one per core; at most 1024).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=crate::replay::JOBS_MAX))]
    jobs: Option<u64>,
    /// Fault kinds to draw from: crash, power, pause, cut, isolate, wipe.
    #[arg(long, default_value = "crash,power,pause,cut,isolate,wipe")]
    faults: String,
    /// Where the shrunk counterexamples are written (created when the first one is; without
    /// `--out` none is written and nothing is shrunk).
    #[arg(long)]
    out: Option<PathBuf>,
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

/// Runs handed to the pool at once, per job: enough to keep every job busy between batches,
/// few enough that Ctrl-C is answered within a few runs.
const BATCH_PER_JOB: usize = 4;

/// Grids up to this many points are validated point by point before anything runs (constant
/// memory, a parse each); a larger grid is checked value by value (`Grid::new`), and a
/// combination that is invalid only together stops the sweep when it is reached.
const POINTS_CHECKED_UP_FRONT: u64 = 4096;

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
    /// Runs that stopped on a broken invariant (an assertion in the simulator), and the first
    /// few messages.
    invariants: u64,
    invariant_messages: Vec<String>,
    /// Ctrl-C came before every seed ran.
    interrupted: bool,
}

/// How many broken-invariant messages a configuration keeps to print.
const INVARIANT_MESSAGES_KEPT: usize = 3;

/// What the table keeps of a configuration once its JSON line is printed: no scenario.
struct Row {
    label: String,
    runs: u64,
    found: BTreeMap<FindingClass, (u64, u64)>,
    broken: BTreeMap<FindingClass, (u64, u64)>,
    scenarios: BTreeMap<FindingClass, PathBuf>,
    invariants: u64,
    invariant_messages: Vec<String>,
    interrupted: bool,
}

impl Row {
    fn of(r: ConfigResult) -> Row {
        Row {
            label: explore::label(&r.point.axes),
            runs: r.runs,
            found: r.found,
            broken: r.broken,
            scenarios: r.scenarios,
            invariants: r.invariants,
            invariant_messages: r.invariant_messages,
            interrupted: r.interrupted,
        }
    }
}

/// One run to do: the configuration's index in the grid and the seed.
type Work = (u64, u64);

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
    let config = args
        .config
        .as_deref()
        .ok_or_else(|| Invalid("--config FILE is required (only `--mutation list` runs without it)".into()))?;
    let kinds = FaultKind::parse_list(&args.faults).map_err(Invalid)?;
    if args.seeds == 0 {
        return Err(Invalid("--seeds must be at least 1".into()));
    }
    // The same check as replay's: a range past u64::MAX used to run the last seed again and again.
    let last_seed = args.seed.checked_add(args.seeds - 1).ok_or_else(|| {
        Invalid(format!("{} seeds from seed {} go past the largest seed, {}", args.seeds, args.seed, u64::MAX))
    })?;
    if let Some(out) = &args.out {
        check_out(out)?;
    }
    let label = config.display().to_string();
    let text = losslab_model::input::read_text(config).map_err(Invalid)?;
    let stem = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let grid = Grid::new(&label, &stem, &text).map_err(|e| Invalid(e.to_string()))?;
    if grid.len() <= POINTS_CHECKED_UP_FRONT {
        for index in 0..grid.len() {
            grid.point(index).map_err(|e| Invalid(e.to_string()))?;
        }
    }
    let options = RunOptions { mutation };
    let jobs = match args.jobs {
        Some(n) => usize::try_from(n).unwrap_or(1),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };

    crate::interrupt::watch();
    let bar = progress(grid.len().saturating_mul(args.seeds));
    // A broken invariant panics inside its run; it is reported as a finding, not as a crash of
    // the explorer, so keep the default hook from printing each one (shrinking reruns too).
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut sweep = Sweep { args, kinds: &kinds, options, jobs, rows: Vec::new(), unwritten: 0 };
    let outcome = sweep.run(&grid, last_seed, &bar);
    std::panic::set_hook(hook);
    bar.finish_and_clear();
    let Sweep { rows, unwritten, .. } = sweep;

    let interrupted = matches!(outcome, Ok(true));
    if let Some(out) = &args.out {
        crate::index::write_explore(out, &index_entries(&rows)).map_err(Invalid)?;
    }
    // After an error, the table of the configurations before it, if any.
    if !args.json && (outcome.is_ok() || !rows.is_empty()) {
        println!("{}", table(&rows, mutation, args.transactions, interrupted));
        for r in &rows {
            for (class, path) in &r.scenarios {
                println!("{} {class}: {}", r.label, path.display());
            }
        }
    }
    for r in &rows {
        for message in &r.invariant_messages {
            eprintln!("{}: invariant violated in {message}", r.label);
        }
    }
    if unwritten > 0 {
        eprintln!(
            "note: {unwritten} counterexample(s) not written: pass --out DIR to write each, shrunk, as a scenario file"
        );
    }
    outcome?;
    if interrupted {
        let runs: u64 = rows.iter().map(|r| r.runs).sum();
        eprintln!("interrupted: {runs} runs of {} configuration(s) reported", rows.len());
        return Ok(Status::Interrupted);
    }
    let broken = rows.iter().any(|r| r.invariants > 0 || !r.broken.is_empty());
    Ok(if broken { Status::NotMet } else { Status::Passed })
}

/// `--out` is checked before the first run (an unwritable one used to lose the whole table at
/// the end) without creating it: an existing directory must take a file, a missing one must
/// have a writable directory above it.
fn check_out(out: &Path) -> Result<(), Invalid> {
    let shown = out.display();
    let mut at = out;
    loop {
        match std::fs::metadata(at) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => return Err(Invalid(format!("--out {shown}: {} is not a directory", at.display()))),
            Err(_) => match at.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => at = parent,
                _ => {
                    at = Path::new(".");
                    break;
                }
            },
        }
    }
    let probe = at.join(format!(".losslab-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| Invalid(format!("--out {shown}: cannot write in {}: {e}", at.display())))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The runs of a whole exploration, configuration after configuration.
struct Sweep<'a> {
    args: &'a Args,
    kinds: &'a BTreeSet<FaultKind>,
    options: RunOptions,
    jobs: usize,
    rows: Vec<Row>,
    /// Counterexamples found but not written (no `--out`).
    unwritten: usize,
}

impl Sweep<'_> {
    /// Runs every (point, seed) in order, in batches, judging each configuration when its last
    /// seed is in; `Ok(true)` when Ctrl-C stopped it. A point invalid only in combination stops
    /// the sweep with its error, after the configurations before it are reported.
    fn run(&mut self, grid: &Grid, last_seed: u64, bar: &ProgressBar) -> Result<bool, Invalid> {
        let first_seed = self.args.seed;
        let mut work = (0..grid.len()).flat_map(|index| (first_seed..=last_seed).map(move |seed| (index, seed)));
        let batch = self.jobs.saturating_mul(BATCH_PER_JOB).max(1);
        // The configurations with runs in flight, in grid order: at most a batch's worth.
        let mut open: BTreeMap<u64, (GridPoint, Accumulator)> = BTreeMap::new();
        loop {
            if crate::interrupt::requested() {
                while let Some((_, (point, acc))) = open.pop_first() {
                    self.finish(&point, acc, true)?;
                }
                return Ok(true);
            }
            let todo: Vec<Work> = work.by_ref().take(batch).collect();
            let Some(&(next_index, _)) = todo.first() else { break };
            // Every configuration before this batch's first is complete.
            while open.first_key_value().is_some_and(|(&i, _)| i < next_index) {
                let (_, (point, acc)) = open.pop_first().expect("checked");
                self.finish(&point, acc, false)?;
            }
            let mut items = Vec::with_capacity(todo.len());
            let mut predictions = Vec::with_capacity(todo.len());
            for &(index, seed) in &todo {
                if !open.contains_key(&index) {
                    let point = grid.point(index).map_err(|e| Invalid(e.to_string()));
                    let point = match point {
                        Ok(point) => point,
                        Err(e) => {
                            self.finish_all(&mut open, index)?;
                            return Err(e);
                        }
                    };
                    open.insert(index, (point, Accumulator::default()));
                }
                let point = &open[&index].0;
                let steps = explore::random_schedule(seed, self.kinds, &point.scenario);
                let drawn = drawn_point(self.args, point, seed);
                let scenario = explore::scenario_with(&drawn, &steps, &point.scenario.name, seed)
                    .map_err(|e| Invalid(e.to_string()))?;
                predictions.push(predict(&scenario, self.kinds));
                items.push((scenario, seed));
            }
            // Each run is checked on the worker that ran it: only its summary is kept.
            let outcomes = losslab_sim::run_all(&items, self.jobs, self.options, &|outcome| {
                bar.inc(1);
                outcome.map(|run| RunSummary::of(&run))
            });
            for ((&(index, _), outcome), prediction) in todo.iter().zip(outcomes).zip(&predictions) {
                let acc = &mut open.get_mut(&index).expect("opened above").1;
                match outcome {
                    Ok(run) => acc.add(&run, prediction),
                    Err(message) => acc.invariant(message),
                }
            }
        }
        self.finish_all(&mut open, u64::MAX)?;
        Ok(false)
    }

    /// Finishes every open configuration before `end` (all of them are complete).
    fn finish_all(&mut self, open: &mut BTreeMap<u64, (GridPoint, Accumulator)>, end: u64) -> Result<(), Invalid> {
        while open.first_key_value().is_some_and(|(&i, _)| i < end) {
            let (_, (point, acc)) = open.pop_first().expect("checked");
            self.finish(&point, acc, false)?;
        }
        Ok(())
    }

    /// Judges one configuration, writes its counterexamples (complete and with `--out` only),
    /// prints its JSON line and keeps its table row.
    fn finish(&mut self, point: &GridPoint, acc: Accumulator, interrupted: bool) -> Result<(), Invalid> {
        let mut result = acc.judge(point, self.kinds);
        result.interrupted = interrupted;
        // The counterexample of a broken class is a run that broke it.
        let chains: Vec<(FindingClass, u64)> = result
            .found
            .iter()
            .map(|(&class, &(_, first_seed))| (class, result.broken.get(&class).map_or(first_seed, |b| b.1)))
            .collect();
        match (&self.args.out, interrupted) {
            (Some(out), false) => {
                let index = self.rows.len();
                // Shrinking is a chain of reruns per counterexample; the chains run side by side.
                let paths = losslab_sim::pool::map(&chains, self.jobs, &|_, &(class, seed)| {
                    write_counterexample(self, out, point, class, seed, index)
                });
                for (&(class, _), path) in chains.iter().zip(paths) {
                    result.scenarios.insert(class, path?);
                }
            }
            (None, false) => self.unwritten += chains.len(),
            (_, true) => {}
        }
        if self.args.json {
            println!("{}", json_line(&result, self.kinds));
        }
        self.rows.push(Row::of(result));
        Ok(())
    }
}

/// The rows as `DIR/index.html` lists them, counterexamples named relative to `DIR`.
fn index_entries(rows: &[Row]) -> Vec<losslab_reports::index::ConfigEntry> {
    rows.iter()
        .map(|r| losslab_reports::index::ConfigEntry {
            label: r.label.clone(),
            runs: r.runs,
            found: r.found.iter().map(|(&class, &(n, _))| (class, (n, r.broken.contains_key(&class)))).collect(),
            scenarios: r
                .scenarios
                .iter()
                .filter_map(|(&class, path)| Some((class, path.file_name()?.to_str()?.to_string())))
                .collect(),
            interrupted: r.interrupted,
        })
        .collect()
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

/// A latency in µs kept to its 11 leading bits (exact below 2,048 µs, within 0.1% above), so
/// that a configuration's histogram has at most a few tens of thousands of buckets however many
/// runs it holds (exact µs grew it by ~3 KB a run). The p99 reported is a bucket's lower bound.
fn latency_bucket_us(us: u64) -> u64 {
    const KEPT_BITS: u32 = 11;
    let shift = (u64::BITS - us.leading_zeros()).saturating_sub(KEPT_BITS);
    us >> shift << shift
}

/// One configuration's runs so far, folded in as they finish: counts, first seeds, the
/// prediction to show, and the produce latencies as a bounded histogram (bucket in µs ->
/// records), so that memory does not grow with the number of seeds.
#[derive(Default)]
struct Accumulator {
    runs: u64,
    found: BTreeMap<FindingClass, (u64, u64)>,
    broken: BTreeMap<FindingClass, (u64, u64)>,
    /// Per class: (rank, seed, prediction); 0: a run that broke the class, 1: a run that showed
    /// it, 2: any run; the lowest seed of the best rank gives the prediction shown.
    shown: BTreeMap<FindingClass, (u8, u64, Prediction)>,
    latencies_us: BTreeMap<u64, u64>,
    invariants: u64,
    invariant_messages: Vec<String>,
}

impl Accumulator {
    fn add(&mut self, run: &RunSummary, prediction: &BTreeMap<FindingClass, Prediction>) {
        self.runs += 1;
        let shown = &mut self.shown;
        let mut offer = |class: FindingClass, rank: u8, p: &Prediction| {
            if shown.get(&class).is_none_or(|c| (rank, run.seed) < (c.0, c.1)) {
                shown.insert(class, (rank, run.seed, p.clone()));
            }
        };
        for (&class, p) in prediction {
            offer(class, 2, p);
        }
        for &class in &run.classes {
            let entry = self.found.entry(class).or_insert((0, run.seed));
            entry.0 += 1;
            entry.1 = entry.1.min(run.seed);
            let p = &prediction[&class];
            if !p.permitted {
                let entry = self.broken.entry(class).or_insert((0, run.seed));
                entry.0 += 1;
                entry.1 = entry.1.min(run.seed);
            }
            offer(class, if p.permitted { 1 } else { 0 }, p);
        }
        for &us in &run.latencies_us {
            *self.latencies_us.entry(latency_bucket_us(us)).or_insert(0) += 1;
        }
    }

    fn invariant(&mut self, message: String) {
        self.invariants += 1;
        if self.invariant_messages.len() < INVARIANT_MESSAGES_KEPT {
            self.invariant_messages.push(message);
        }
    }

    /// The nearest-rank p99 of the histogram, in ms (exact to the bucket).
    fn latency_ms_p99(&self) -> Option<f64> {
        let total: u64 = self.latencies_us.values().sum();
        if total == 0 {
            return None;
        }
        // The same rank as sorting every latency and taking index ceil(n * 0.99) - 1.
        let rank = (u128::from(total) * 99).div_ceil(100).max(1);
        let mut seen = 0u128;
        self.latencies_us.iter().find_map(|(&us, &n)| {
            seen += u128::from(n);
            (seen >= rank).then_some(us as f64 / 1000.0)
        })
    }

    fn judge<'a>(self, point: &'a GridPoint, kinds: &BTreeSet<FaultKind>) -> ConfigResult<'a> {
        let latency_ms_p99 = self.latency_ms_p99();
        let Accumulator { runs, found, broken, mut shown, invariants, invariant_messages, .. } = self;
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
            runs,
            found,
            broken,
            predictions,
            latency_ms_p99,
            scenarios: BTreeMap::new(),
            invariants,
            invariant_messages,
            interrupted: false,
        }
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
    sweep: &Sweep,
    out: &Path,
    point: &GridPoint,
    class: FindingClass,
    seed: u64,
    config_index: usize,
) -> Result<PathBuf, Invalid> {
    let (args, kinds, options) = (sweep.args, sweep.kinds, sweep.options);
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
    // Created with the first file written: a run without findings leaves no directory behind.
    std::fs::create_dir_all(out).map_err(|e| Invalid(format!("cannot create {}: {e}", out.display())))?;
    let path = out.join(format!("{name}.json"));
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

fn json_line(r: &ConfigResult, kinds: &BTreeSet<FaultKind>) -> String {
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
        "invariants_broken": r.invariants,
        // The kinds every seed's random schedule was drawn from: `losslab chart` compares
        // latencies only between configurations under the same kinds of faults.
        "faults": kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
    });
    if let Some(p99) = r.latency_ms_p99 {
        line["latency_ms_p99"] = json!(p99);
    }
    // Only when Ctrl-C cut the configuration short: `runs` is then below `--seeds`.
    if r.interrupted {
        line["interrupted"] = json!(true);
    }
    line.to_string()
}

fn table(results: &[Row], mutation: Option<Mutation>, transactions: bool, interrupted: bool) -> String {
    let mut table = Table::new();
    table.load_style(ASCII_FULL_CONDENSED);
    let mut header = vec!["configuration".to_string(), "runs".to_string()];
    header.extend(FindingClass::ALL.iter().map(|c| c.as_str().to_string()));
    table.set_header(header);
    for r in results {
        let mut label = r.label.clone();
        if r.invariants > 0 {
            label = format!("{label} (INVARIANT BROKEN in {} runs)", r.invariants);
        }
        if r.interrupted {
            label = format!("{label} (interrupted)");
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
    if interrupted {
        title.push_str("interrupted (Ctrl-C): the runs that finished\n");
    }
    format!("{title}{}", table.trim_fmt())
}

#[cfg(test)]
mod tests {
    use super::latency_bucket_us;

    #[test]
    fn latency_buckets_are_exact_below_2048_us_and_within_a_thousandth_above() {
        for us in [0, 1, 2047] {
            assert_eq!(latency_bucket_us(us), us);
        }
        assert_eq!(latency_bucket_us(2048), 2048);
        assert_eq!(latency_bucket_us(2049), 2048);
        assert_eq!(latency_bucket_us(4099), 4096);
        for us in [12_345u64, 987_654_321, u64::MAX] {
            let b = latency_bucket_us(us);
            assert!(b <= us && (us - b) as f64 <= us as f64 / 1024.0, "{us} -> {b}");
        }
    }
}
