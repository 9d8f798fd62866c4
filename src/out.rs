//! `--out DIR`: what a replay leaves on disk for people and tools that come after it. Per file
//! and seed, `DIR/<scenario>/seed-<N>/` holds `report.md` (the readable report), `report.html`
//! (the same run as one self-contained page, with its charts inline), `timeline.svg` (partition
//! 0 over simulated time; `timeline-p<P>.svg` for each other partition), `history.jsonl` (the
//! recorded history, one event per line, as the checker read it), `final.json` (the cluster
//! after the final phase) and `verdict.json` (that seed judged alone, in the contract's JSON
//! shape); `DIR/<scenario>/summary.json` is the whole file's JSON object. With the history and
//! final state on disk, a run can be checked or charted again without simulating it.

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

/// Writes the files of every run in `result`; `outputs` are those runs, in the same order.
pub fn write_runs(dir: &Path, result: &FileResult, outputs: &[RunOutput]) -> Result<(), String> {
    for (run, output) in result.runs.iter().zip(outputs) {
        let seed_dir = scenario_dir(dir, &result.scenario.name).join(format!("seed-{}", run.seed));
        create_dir(&seed_dir)?;
        let report = markdown::run_report(result, run, &output.history);
        write_file(&seed_dir.join("report.md"), report.as_bytes())?;
        let charts = timelines(result, run, output)?;
        for chart in &charts {
            write_file(&seed_dir.join(&chart.file_name), chart.svg.as_bytes())?;
        }
        let page = html::run_report(result, run, &output.history, &charts);
        write_file(&seed_dir.join("report.html"), page.as_bytes())?;
        write_history(&seed_dir.join("history.jsonl"), &output.history)?;
        // Compact: the final logs list every record, which indentation would make huge.
        let final_state = serde_json::to_string(&output.final_state)
            .map_err(|e| format!("cannot encode the final state of seed {}: {e}", run.seed))?;
        write_file(&seed_dir.join("final.json"), format!("{final_state}\n").as_bytes())?;
        let verdict = json::pretty(&result.only(run));
        write_file(&seed_dir.join("verdict.json"), verdict.as_bytes())?;
    }
    Ok(())
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
    write_file(&scenario_dir.join("summary.json"), json::pretty(result).as_bytes())
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

fn write_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
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
}
