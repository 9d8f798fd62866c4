//! `losslab chart INPUT... --out DIR`: the charts over many configurations (reports::charts::
//! summary), from `losslab explore --json` output, from `losslab replay --json` output, or from
//! a directory of either. A directory is read one level deep: its `*.json` and `*.jsonl` files
//! that hold results (other JSON, such as the scenario files explore writes, is skipped with a
//! note), and `*/summary.json` of a `losslab replay --out` directory, whose runs' histories
//! also give the produce latency. A replay object's configuration is the scenario file it
//! names, looked up as given, then beside the input. Invalid input is reported with the file
//! and line, and exits with status 2 before anything is written.

use crate::status::Status;
use losslab_model::{Event, Scenario};
use losslab_reports::charts::input::{self, ConfigResult, Record, ReplayResult};
use losslab_reports::charts::summary;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// `losslab explore --json` or `losslab replay --json` output (JSON lines), or a directory
    /// of such files (a `losslab replay --out` or `losslab explore --out` directory too).
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,

    /// Where to write the charts (SVG); created if missing.
    #[arg(long, value_name = "DIR", required = true)]
    out: PathBuf,

    /// Also write every chart as a PNG beside its SVG (twice its size, drawn with the bundled
    /// font, the same bytes on every machine).
    #[arg(long)]
    png: bool,
}

pub fn run(args: &Args) -> Status {
    match chart(args) {
        Ok(()) => Status::Passed,
        Err(messages) => {
            for message in messages {
                eprintln!("error: {message}");
            }
            Status::Invalid
        }
    }
}

fn chart(args: &Args) -> Result<(), Vec<String>> {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for path in &args.inputs {
        match load(path) {
            Ok(mut r) => results.append(&mut r),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let lineup = summary::render_all(&results).map_err(|e| vec![e.to_string()])?;
    let charts = &lineup.charts;
    fs::create_dir_all(&args.out).map_err(|e| vec![format!("cannot create {}: {e}", args.out.display())])?;
    for chart in charts {
        let path = args.out.join(&chart.file_name);
        fs::write(&path, &chart.svg).map_err(|e| vec![format!("cannot write {}: {e}", path.display())])?;
        if args.png {
            crate::out::write_png(&path, &chart.svg).map_err(|e| vec![e])?;
        }
        println!("{}: {}", path.display(), chart.title);
    }
    // A chart with fewer than two categories compares nothing: listed, not written.
    for left_out in &lineup.not_drawn {
        println!("{} ({}): {}", left_out.file_name, left_out.title, left_out.reason);
    }
    Ok(())
}

/// Every result under `path`, or every problem with it.
fn load(path: &Path) -> Result<Vec<ConfigResult>, Vec<String>> {
    let meta = fs::metadata(path).map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
    if !meta.is_dir() {
        let text = read(path).map_err(|e| vec![e])?;
        let records = input::parse_document(&path.display().to_string(), &text)
            .map_err(|e| vec![format!("{}: {}", located(path, e.line), e.message)])?;
        return Ok(records.into_iter().map(|r| resolve(r, path, None)).collect());
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(path)
        .map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for entry in &entries {
        let summary = entry.join("summary.json");
        if entry.is_dir() && summary.is_file() {
            // A `losslab replay --out` directory: the file's object, and its runs' histories.
            match load_summary(&summary, entry) {
                Ok(mut r) => results.append(&mut r),
                Err(e) => errors.push(e),
            }
        } else if entry.is_file() && has_extension(entry, &["json", "jsonl"]) {
            match load_lenient(entry) {
                Ok(mut r) => results.append(&mut r),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if results.is_empty() {
        return Err(vec![format!(
            "{} holds no explore or replay results (*.json or *.jsonl files of their --json output, or */summary.json)",
            path.display()
        )]);
    }
    Ok(results)
}

/// A file in a directory: results if it holds results, skipped with a note if it is other JSON.
fn load_lenient(path: &Path) -> Result<Vec<ConfigResult>, String> {
    let text = read(path)?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let value = serde_json::from_str(&text).or_else(|_| serde_json::from_str(first));
    if !value.is_ok_and(|v| input::looks_like_results(&v)) {
        eprintln!("note: skipped {}: not explore or replay output", path.display());
        return Ok(Vec::new());
    }
    let records = input::parse_document(&path.display().to_string(), &text)
        .map_err(|e| format!("{}: {}", located(path, e.line), e.message))?;
    Ok(records.into_iter().map(|r| resolve(r, path, None)).collect())
}

fn load_summary(summary: &Path, dir: &Path) -> Result<Vec<ConfigResult>, String> {
    let text = read(summary)?;
    let records = input::parse_document(&summary.display().to_string(), &text)
        .map_err(|e| format!("{}: {}", located(summary, e.line), e.message))?;
    let latency = input::p99_ms(history_latencies(dir));
    Ok(records.into_iter().map(|r| resolve(r, summary, latency)).collect())
}

/// The produce latencies of every `seed-*/history.jsonl` under `dir`, pooled.
fn history_latencies(dir: &Path) -> Vec<u64> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut seeds: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path().join("history.jsonl"))).collect();
    seeds.sort();
    let mut all = Vec::new();
    for history in seeds.iter().filter(|p| p.is_file()) {
        let Ok(text) = fs::read_to_string(history) else { continue };
        // Only sends and acknowledgements matter; other lines are not even parsed.
        let events: Vec<Event> = text
            .lines()
            .filter(|l| l.contains("\"type\":\"send\"") || l.contains("\"type\":\"acked\""))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        all.extend(input::produce_latencies_us(&events));
    }
    all
}

/// An explore result as it is; a replay object with its scenario file's configuration.
fn resolve(record: Record, input: &Path, latency: Option<f64>) -> ConfigResult {
    match record {
        Record::Explore(result) => result,
        Record::Replay(replay) => {
            let scenario = scenario_of(&replay, input);
            ConfigResult::from_replay(&replay, scenario.as_ref(), latency)
        }
    }
}

/// The scenario a replay ran: its `file` as given (relative to where the replay ran), else
/// beside the input or one directory up. A note says when its configuration stays unknown.
fn scenario_of(replay: &ReplayResult, input: &Path) -> Option<Scenario> {
    let file = Path::new(&replay.file);
    let base = input.parent().unwrap_or(Path::new(""));
    let candidates = [file.to_path_buf(), base.join(file), base.parent().unwrap_or(base).join(file)];
    let Some(found) = candidates.iter().find(|p| p.is_file()) else {
        eprintln!(
            "note: {}: cannot find scenario file {}; `{}` is left out of the charts",
            replay.origin, replay.file, replay.scenario
        );
        return None;
    };
    match Scenario::from_file(found) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("note: {}: {e}; `{}` is left out of the charts", replay.origin, replay.scenario);
            None
        }
    }
}

/// An input file, refused past `INPUT_BYTES_MAX` (16 MiB) so that `/dev/zero` cannot fill memory.
fn read(path: &Path) -> Result<String, String> {
    losslab_model::input::read_text(path)
}

fn located(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    }
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e))
}
