//! `losslab replay FILE...`: run scenario files for a range of seeds, check every run, judge
//! each file's `expect`, and report. The command's output and exit status are a public
//! contract (scenario-format.md, "`losslab replay`"), so this module keeps its promises in
//! one place: every file is validated before anything runs (a typo in the tenth file must not
//! cost the nine runs before it), `--json` prints exactly one line per file and nothing else,
//! and the status is 0 when every expectation is met, 1 when one is not, 2 on invalid input.

use crate::out;
use crate::status::Status;
use losslab_model::{check, Scenario};
use losslab_reports::{json, table, verdict, FileResult, SeedRun};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Scenario files (JSON; see the scenario format).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,

    /// The first seed [default: the file's `seed`].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// How many consecutive seeds to run, from the first.
    #[arg(long, value_name = "COUNT", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,

    /// Print one JSON object per file, each on its own line, and nothing else.
    #[arg(long)]
    json: bool,

    /// Also write each run's report, history, final state and verdict under DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// How many seeds to simulate at once [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    jobs: Option<u64>,
}

/// A file that passed validation, with the seeds it will run.
struct FileRun {
    /// As given on the command line: reports quote it in the replay command.
    file: String,
    scenario: Scenario,
    first_seed: u64,
    last_seed: u64,
}

/// Invalid input: one message per problem, each naming the file or flag concerned.
struct Invalid(Vec<String>);

impl From<String> for Invalid {
    fn from(message: String) -> Invalid {
        Invalid(vec![message])
    }
}

/// Runs the command and reports invalid input on standard error.
pub fn run(args: &Args) -> Status {
    match replay(args) {
        Ok(status) => status,
        Err(Invalid(messages)) => {
            for message in messages {
                eprintln!("error: {message}");
            }
            Status::Invalid
        }
    }
}

fn replay(args: &Args) -> Result<Status, Invalid> {
    let files = load_all(args)?;
    if let Some(dir) = &args.out {
        out::check_distinct(dir, files.iter().map(|file| &file.scenario))?;
    }
    let threads = args.jobs.map_or_else(cores, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut stdout = io::stdout().lock();
    let mut all_runs = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let runs = run_file(file, threads, args.out.as_deref())?;
        let result = FileResult::new(&file.scenario, &file.file, &runs);
        print_result(&mut stdout, &result, args.json, index == 0)?;
        if let Some(dir) = &args.out {
            out::write_summary(dir, &result)?;
        }
        all_runs.push(runs);
    }
    let results: Vec<FileResult> =
        files.iter().zip(&all_runs).map(|(file, runs)| FileResult::new(&file.scenario, &file.file, runs)).collect();
    if !args.json && results.len() > 1 {
        emit(&mut stdout, &format!("\n{}\n", table::summary(&results)))?;
    }
    let passed = results.iter().all(|result| result.judgement.passed);
    Ok(if passed { Status::Passed } else { Status::NotMet })
}

/// Validates every file; on any error, reports every invalid file and runs nothing.
fn load_all(args: &Args) -> Result<Vec<FileRun>, Invalid> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in &args.files {
        match load(path, args) {
            Ok(file) => files.push(file),
            Err(message) => errors.push(message),
        }
    }
    match errors.is_empty() {
        true => Ok(files),
        false => Err(Invalid(errors)),
    }
}

fn load(path: &Path, args: &Args) -> Result<FileRun, String> {
    let file = path.display().to_string();
    let scenario = Scenario::from_file(path).map_err(|e| naming_file(&file, e.to_string()))?;
    let first_seed = args.seed.unwrap_or(scenario.seed);
    let last_seed = first_seed.checked_add(args.seeds - 1).ok_or_else(|| {
        format!("{file}: {} seeds from seed {first_seed} go past the largest seed, {}", args.seeds, u64::MAX)
    })?;
    Ok(FileRun { file, scenario, first_seed, last_seed })
}

/// Scenario errors already name their file; this keeps the promise if one ever does not.
fn naming_file(file: &str, message: String) -> String {
    match message.contains(file) {
        true => message,
        false => format!("{file}: {message}"),
    }
}

/// Runs and checks every seed of `file`, writing each run under `out` as it goes. Seeds run in
/// batches so that only a batch's histories are in memory at once, however many seeds there are.
fn run_file(file: &FileRun, threads: usize, out: Option<&Path>) -> Result<Vec<SeedRun>, Invalid> {
    let batch = threads.saturating_mul(4).max(1);
    let mut seeds = file.first_seed..=file.last_seed;
    let mut runs = Vec::new();
    loop {
        let batch_seeds: Vec<u64> = seeds.by_ref().take(batch).collect();
        if batch_seeds.is_empty() {
            return Ok(runs);
        }
        let outputs = losslab_sim::run_seeds(&file.scenario, &batch_seeds, threads);
        let batch_runs: Vec<SeedRun> = outputs
            .iter()
            .map(|o| SeedRun::new(o.seed, o.trace_hash.clone(), check(&o.history, &o.final_state)))
            .collect();
        if let Some(dir) = out {
            let result = FileResult::new(&file.scenario, &file.file, &batch_runs);
            out::write_runs(dir, &result, &outputs)?;
        }
        runs.extend(batch_runs);
    }
}

/// One JSON line, or the readable verdict set off from the one before by a blank line (a
/// separator rather than a trailing blank line, so the output ends with the replay command).
fn print_result(stdout: &mut impl Write, result: &FileResult, as_json: bool, first: bool) -> Result<(), Invalid> {
    let text = match (as_json, first) {
        (true, _) => format!("{}\n", json::line(result)),
        (false, true) => verdict::render(result),
        (false, false) => format!("\n{}", verdict::render(result)),
    };
    emit(stdout, &text)
}

/// Writes and flushes, so that each file's verdict appears as soon as it is known.
fn emit(stdout: &mut impl Write, text: &str) -> Result<(), Invalid> {
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Invalid::from(format!("cannot write to standard output: {e}")))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
