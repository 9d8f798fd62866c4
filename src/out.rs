//! `--out DIR`: what a replay leaves on disk for people and tools that come after it. Per file
//! and seed, `DIR/<scenario>/seed-<N>/` holds `report.md` (the readable report), `report.html`
//! (the same run as one self-contained page, with its charts inline), `timeline.svg` (partition
//! 0 over simulated time; `timeline-p<P>.svg` for each other partition), `history.jsonl` (the
//! recorded history, one event per line, as the checker read it), `final.json` (the cluster
//! after the final phase) and `verdict.json` (that seed judged alone, in the contract's JSON
//! shape); with `--png`, each SVG also as PNG beside it (`timeline.png`, drawn by
//! `losslab_reports::png`); `DIR/<scenario>/summary.json` is the whole file's JSON object. With the history and
//! final state on disk, a run can be checked or charted again without simulating it.
//!
//! Nothing is left half-written: a seed's directory is filled as `seed-<N>.tmp/` and renamed
//! when complete, and `summary.json` is written as `summary.json.tmp` and renamed, so a stop
//! (Ctrl-C, a full disk) leaves complete files or none. A reused `DIR` is cleared of what an
//! earlier run left for the same scenarios (`seed-<N>/`, `summary.json` and their `.tmp`s)
//! before anything runs, so that a summary never sits beside seeds it does not list; other
//! files and the directories of other scenarios are left alone.

use losslab_model::{History, Scenario};
use losslab_reports::charts::{timeline, Chart};
use losslab_reports::{html, json, markdown, FileResult, SeedRun};
use losslab_sim::RunOutput;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Refuses to run files whose reports would land in the same directory.
pub fn check_distinct<'a>(dir: &Path, scenarios: impl IntoIterator<Item = &'a Scenario>) -> Result<(), String> {
    let mut seen: BTreeMap<PathBuf, &str> = BTreeMap::new();
    for scenario in scenarios {
        let path = scenario_dir(dir, &scenario.name);
        if let Some(first) = seen.insert(path.clone(), &scenario.name) {
            return Err(format!(
                "scenarios `{first}` and `{}` would both write to {}; give them distinct names",
                scenario.name,
                path.display()
            ));
        }
    }
    Ok(())
}

/// Makes each scenario's directory and removes what an earlier run left there: `seed-<N>/`,
/// `summary.json` and their `.tmp` forms. Run before any simulation, so that an unwritable
/// `DIR` is reported before the work, not after.
pub fn prepare<'a>(dir: &Path, scenarios: impl IntoIterator<Item = &'a Scenario>) -> Result<(), String> {
    for scenario in scenarios {
        let path = scenario_dir(dir, &scenario.name);
        create_dir(&path)?;
        let entries = fs::read_dir(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = entry.path();
            let removed = match (is_seed_dir(&name), name == "summary.json" || name == "summary.json.tmp") {
                (true, _) if stale.is_dir() => fs::remove_dir_all(&stale),
                (_, true) => fs::remove_file(&stale),
                _ => continue,
            };
            removed.map_err(|e| format!("cannot remove {} left by an earlier run: {e}", stale.display()))?;
        }
    }
    Ok(())
}

/// `seed-17` or `seed-17.tmp`.
fn is_seed_dir(name: &str) -> bool {
    let seed = name.strip_prefix("seed-").map(|rest| rest.strip_suffix(".tmp").unwrap_or(rest));
    seed.is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Writes the files of `run`, one seed of `result`'s file, with `output` its run. The reports
/// are written from the whole verdict; `bound` then cuts `run` (see `SeedRun::bound`) before
/// `verdict.json`, which has the `--json` object's bounds.
pub fn write_run(
    dir: &Path,
    scenario: &Scenario,
    file: &str,
    run: &mut SeedRun,
    output: &RunOutput,
    png: bool,
    bound: &dyn Fn(&mut SeedRun),
) -> Result<(), String> {
    let seed_dir = scenario_dir(dir, &scenario.name).join(format!("seed-{}", run.seed));
    let partial = seed_dir.with_extension("tmp");
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(|e| format!("cannot remove {}: {e}", partial.display()))?;
    }
    create_dir(&partial)?;
    let written = write_seed_files(&partial, scenario, file, run, output, png, bound);
    let renamed = written.and_then(|()| {
        if seed_dir.exists() {
            fs::remove_dir_all(&seed_dir).map_err(|e| format!("cannot remove {}: {e}", seed_dir.display()))?;
        }
        fs::rename(&partial, &seed_dir).map_err(|e| format!("cannot rename {}: {e}", partial.display()))
    });
    if renamed.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_dir_all(&partial);
    }
    renamed
}

fn write_seed_files(
    seed_dir: &Path,
    scenario: &Scenario,
    file: &str,
    run: &mut SeedRun,
    output: &RunOutput,
    png: bool,
    bound: &dyn Fn(&mut SeedRun),
) -> Result<(), String> {
    {
        let result = FileResult::new(scenario, file, std::slice::from_ref(run));
        let report = markdown::run_report(&result, run, &output.history);
        write_file(&seed_dir.join("report.md"), report.as_bytes())?;
        let charts = timelines(&result, run, output)?;
        for chart in &charts {
            write_file(&seed_dir.join(&chart.file_name), chart.svg.as_bytes())?;
            if png {
                write_png(&seed_dir.join(&chart.file_name), &chart.svg)?;
            }
        }
        let page = html::run_report(&result, run, &output.history, &charts);
        write_file(&seed_dir.join("report.html"), page.as_bytes())?;
    }
    write_history(&seed_dir.join("history.jsonl"), &output.history)?;
    // Compact: the final logs list every record, which indentation would make huge.
    let final_state = serde_json::to_string(&output.final_state)
        .map_err(|e| format!("cannot encode the final state of seed {}: {e}", run.seed))?;
    write_file(&seed_dir.join("final.json"), format!("{final_state}\n").as_bytes())?;
    bound(run);
    let verdict = json::pretty(&FileResult::new(scenario, file, std::slice::from_ref(run)));
    write_file(&seed_dir.join("verdict.json"), verdict.as_bytes())
}

/// The timeline of every partition of the run: `timeline.svg` for partition 0, which the fault
/// triggers watch, and `timeline-p<P>.svg` for the others.
fn timelines(result: &FileResult, run: &SeedRun, output: &RunOutput) -> Result<Vec<Chart>, String> {
    (0..result.scenario.topic.partitions.max(1))
        .map(|p| {
            let svg = timeline::render(&output.history, &run.verdict.findings, p)
                .map_err(|e| format!("seed {}, partition {p}: {e}", run.seed))?;
            let file_name = match p {
                0 => "timeline.svg".to_string(),
                p => format!("timeline-p{p}.svg"),
            };
            Ok(Chart { file_name, title: format!("Partition {p} over simulated time"), svg })
        })
        .collect()
}

/// Writes `summary.json`: the file's JSON object over every seed.
pub fn write_summary(dir: &Path, result: &FileResult) -> Result<(), String> {
    let scenario_dir = scenario_dir(dir, &result.scenario.name);
    create_dir(&scenario_dir)?;
    write_atomically(&scenario_dir.join("summary.json"), |file| json::write_pretty(file, result))
}

/// The scenario's directory. Names come from user files, so anything that could leave `dir`
/// or trouble a file system (separators, `..`) is replaced.
fn scenario_dir(dir: &Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || "._-".contains(c) {
            true => c,
            false => '_',
        })
        .collect();
    match safe.trim_matches('.').is_empty() {
        true => dir.join(format!("_{safe}")),
        false => dir.join(safe),
    }
}

fn create_dir(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Writes a file inside a seed's `.tmp` directory, which is renamed only when complete.
fn write_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// With `--png`: the PNG of the SVG written at `svg_path`, beside it (`timeline.svg` gives
/// `timeline.png`). Also used by `losslab chart`.
pub fn write_png(svg_path: &Path, svg: &str) -> Result<(), String> {
    let path = svg_path.with_extension("png");
    let bytes = losslab_reports::png::render(svg).map_err(|e| format!("cannot draw {}: {e}", path.display()))?;
    fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes `path` as `path.tmp`, through `write`, then renames it: readers see the old file or
/// the whole new one. Streamed: a summary of many seeds is never held whole.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), String> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".tmp");
    let partial = PathBuf::from(partial);
    let streamed = || -> io::Result<()> {
        let mut file = BufWriter::new(fs::File::create(&partial)?);
        write(&mut file)?;
        file.flush()
    };
    let written = streamed()
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))
        .and_then(|()| fs::rename(&partial, path).map_err(|e| format!("cannot rename {}: {e}", partial.display())));
    if written.is_err() {
        let _ = fs::remove_file(&partial);
    }
    written
}

/// One event per line, in the order recorded.
fn write_history(path: &Path, history: &History) -> Result<(), String> {
    let write = || -> io::Result<()> {
        let mut file = BufWriter::new(fs::File::create(path)?);
        for event in &history.events {
            serde_json::to_writer(&mut file, event)?;
            file.write_all(b"\n")?;
        }
        file.flush()
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_dirs_stay_inside_the_output_dir() {
        let dir = Path::new("out");
        assert_eq!(scenario_dir(dir, "acks1-leader-crash"), dir.join("acks1-leader-crash"));
        assert_eq!(scenario_dir(dir, "../etc/x"), dir.join(".._etc_x"));
        assert_eq!(scenario_dir(dir, ".."), dir.join("_.."));
        assert_eq!(scenario_dir(dir, ""), dir.join("_"));
        assert_eq!(scenario_dir(dir, "a b/c"), dir.join("a_b_c"));
    }

    #[test]
    fn only_seed_directories_are_taken_for_stale() {
        for name in ["seed-1", "seed-17", "seed-17.tmp"] {
            assert!(is_seed_dir(name), "{name}");
        }
        for name in ["seed-", "seed-.tmp", "seed-1x", "seeds-1", "my-seed-1", "seed-1.tmp.tmp", "notes"] {
            assert!(!is_seed_dir(name), "{name}");
        }
    }
}
