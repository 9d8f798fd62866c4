//! `losslab replay FILE...`: run scenario files for a range of seeds, check every run, judge
//! each file's `expect`, and report. The command's output and exit status are a public
//! contract (scenario-format.md, "`losslab replay`"), so this module keeps its promises in
//! one place: every file is validated before anything runs (a typo in the tenth file must not
//! cost the nine runs before it), `--json` prints exactly one line per file and nothing else,
//! and the status is 0 when every expectation is met, 1 when one is not, 2 on invalid input or
//! when standard output or `--out` cannot be written, 130 after Ctrl-C.
//!
//! Memory and output do not grow with the findings: each seed is checked, written under
//! `--out` and cut to its bounds (`SeedRun::bound`: 20 findings and 5 stories per class, the
//! counts intact) on the worker that ran it, as soon as it finishes, and its history dropped;
//! only the cut runs of the current file are held until its verdict is printed. Ctrl-C stops
//! new seeds from starting, lets those under way finish, and reports the seeds that finished
//! (always the first ones of a file) as if they had been asked for.

use crate::index;
use crate::interrupt;
use crate::out;
use crate::status::Status;
use losslab_model::{check, Scenario};
use losslab_reports::{json, table, verdict, FileResult, SeedRun};
use losslab_sim::RunOutput;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The most runs at a time (`--jobs` of `replay` and `explore`): each is an OS thread, and
/// `--jobs 10000` used to start 10,000.
pub const JOBS_MAX: u64 = 1024;

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

    /// With --out: also write every SVG as a PNG beside it (twice its size, drawn with the
    /// bundled font, the same bytes on every machine).
    #[arg(long, requires = "out")]
    png: bool,

    /// How many seeds to simulate at once, 1 to 1024 [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=JOBS_MAX))]
    jobs: Option<u64>,

    /// List every finding in `--json` and `verdict.json`/`summary.json`, not only the first 20
    /// of each class per seed (memory and output then grow with the findings).
    #[arg(long)]
    all_findings: bool,
}

/// A file that passed validation, with the seeds it will run.
struct FileRun {
    /// As given on the command line: reports quote it in the replay command.
    file: String,
    scenario: Scenario,
    first_seed: u64,
    /// How many seeds, from `first_seed`; the last, `first_seed + count - 1`, does not overflow.
    count: u64,
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
        out::prepare(dir, files.iter().map(|file| &file.scenario))?;
    }
    interrupt::watch();
    let threads = args.jobs.map_or_else(cores, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut stdout = io::stdout().lock();
    let mut all_runs: Vec<Vec<SeedRun>> = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let runs = run_file(file, threads, args)?;
        if runs.is_empty() {
            break;
        }
        let result = FileResult::new(&file.scenario, &file.file, &runs);
        print_result(&mut stdout, &result, args.json, index == 0)?;
        if let Some(dir) = &args.out {
            out::write_summary(dir, &result)?;
        }
        // The table and the Ctrl-C note need only each seed's counts: memory stays that of one
        // file's findings whatever the number of files.
        all_runs.push(runs.into_iter().map(SeedRun::counts_only).collect());
        if interrupt::requested() {
            break;
        }
    }
    // After Ctrl-C too: the summaries written so far are what finished.
    if let Some(dir) = &args.out {
        index::write_replay(dir)?;
    }
    let results: Vec<FileResult> =
        files.iter().zip(&all_runs).map(|(file, runs)| FileResult::new(&file.scenario, &file.file, runs)).collect();
    if !args.json && results.len() > 1 {
        emit(&mut stdout, &format!("\n{}\n", table::summary(&results)))?;
    }
    if interrupt::requested() {
        eprintln!("{}", interrupted(&files, &all_runs));
        return Ok(Status::Interrupted);
    }
    let passed = results.iter().all(|result| result.judgement.passed);
    Ok(if passed { Status::Passed } else { Status::NotMet })
}

/// What a Ctrl-C left undone, for standard error: the report above covers only what finished.
fn interrupted(files: &[FileRun], done: &[Vec<SeedRun>]) -> String {
    let ran: Vec<String> = files
        .iter()
        .zip(done)
        .filter(|(file, runs)| runs.len() as u64 != file.count)
        .map(|(file, runs)| format!("{} of {} seeds of {}", runs.len(), file.count, file.file))
        .collect();
    let not_run = files.len() - done.len();
    let mut parts = ran;
    if not_run > 0 {
        parts.push(format!("{not_run} of {} files not run", files.len()));
    }
    match parts.is_empty() {
        true => "interrupted: every run had finished; the report above is complete".to_string(),
        false => format!("interrupted: the report above covers only what finished ({})", parts.join("; ")),
    }
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
    first_seed.checked_add(args.seeds - 1).ok_or_else(|| {
        format!("{file}: {} seeds from seed {first_seed} go past the largest seed, {}", args.seeds, u64::MAX)
    })?;
    Ok(FileRun { file, scenario, first_seed, count: args.seeds })
}

/// Scenario errors already name their file; this keeps the promise if one ever does not.
fn naming_file(file: &str, message: String) -> String {
    match message.contains(file) {
        true => message,
        false => format!("{file}: {message}"),
    }
}

/// Runs and checks every seed of `file`, in seed order, until done or interrupted. Each run is
/// checked, written under `--out` and bounded on its worker as it finishes; only the bounded
/// runs come back.
fn run_file(file: &FileRun, threads: usize, args: &Args) -> Result<Vec<SeedRun>, Invalid> {
    // The first write error (or broken invariant) stops the file: no new seed starts.
    let failed: Mutex<Option<Failure>> = Mutex::new(None);
    let fail = |failure: Failure| {
        let mut first = failed.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(failure);
    };
    let stop = || interrupt::requested() || failed.lock().unwrap_or_else(|e| e.into_inner()).is_some();
    let bound = |run: &mut SeedRun| {
        let findings = if args.all_findings { usize::MAX } else { json::FINDINGS_PER_CLASS };
        run.bound(findings, verdict::STORIES_SHOWN_PER_CLASS);
    };
    let then = |outcome: Result<RunOutput, String>| -> Option<SeedRun> {
        let output = outcome.map_err(|message| fail(Failure::Broken(message))).ok()?;
        let verdict = check(&output.history, &output.final_state);
        let mut run = SeedRun::new(output.seed, output.trace_hash.clone(), verdict);
        match &args.out {
            Some(dir) => out::write_run(dir, &file.scenario, &file.file, &mut run, &output, args.png, &bound)
                .map_err(|message| fail(Failure::Write(message)))
                .ok()?,
            None => bound(&mut run),
        }
        Some(run)
    };
    let mut runs = Vec::new();
    losslab_sim::run_stream(&file.scenario, file.first_seed, file.count, threads, &stop, &then, &mut |run| {
        // A copy made here, on this thread: the worker's allocations sit among the freed
        // history of its run and would pin those pages (1,000 seeds of unclean-election: 60 MiB
        // peak without the copy, 47 MiB with it).
        runs.extend(run.clone())
    });
    match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        None => Ok(runs),
        Some(Failure::Write(message)) => Err(Invalid::from(message)),
        // A simulation's own assertion: a bug in losslab, not in the input.
        Some(Failure::Broken(message)) => panic!("{message}"),
    }
}

/// Why a file's seeds stopped early.
enum Failure {
    /// `--out` could not be written (a full disk, a vanished directory).
    Write(String),
    /// An invariant broke inside a simulation.
    Broken(String),
}

/// One JSON line, or the readable verdict set off from the one before by a blank line (a
/// separator rather than a trailing blank line, so the output ends with the replay command).
fn print_result(stdout: &mut impl Write, result: &FileResult, as_json: bool, first: bool) -> Result<(), Invalid> {
    let text = match (as_json, first) {
        (true, _) => {
            let mut buffered = io::BufWriter::new(&mut *stdout);
            return json::write_line(&mut buffered, result)
                .and_then(|()| buffered.flush())
                .map_err(|e| Invalid::from(format!("cannot write to standard output: {e}")));
        }
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
