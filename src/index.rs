//! `DIR/index.html` of `replay --out DIR` and `explore --out DIR`, rewritten when the command
//! ends (Ctrl-C included, with what finished). Replay's is built from every
//! `DIR/<scenario>/summary.json` on disk, not from this run alone, so scenarios written into the
//! same `DIR` by earlier runs stay listed; a `summary.json` that cannot be read is left out of
//! the page (it is not this command's to judge). The page itself is `losslab_reports::index`;
//! it is written atomically (`out::write_atomically`).

use crate::out;
use losslab_reports::index::{self, ConfigEntry, FileEntry, SeedEntry};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Writes `dir/index.html` over every scenario directory of `dir` with a `summary.json`.
pub fn write_replay(dir: &Path) -> Result<(), String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("summary.json").is_file())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    let files: Vec<FileEntry> = names.iter().filter_map(|name| file_entry(dir, name)).collect();
    write(dir, &index::replay_page(&files))
}

/// One scenario directory's entry, from its `summary.json`.
fn file_entry(dir: &Path, name: &str) -> Option<FileEntry> {
    let text = fs::read_to_string(dir.join(name).join("summary.json")).ok()?;
    let summary: Value = serde_json::from_str(&text).ok()?;
    let expect: Vec<(String, bool)> = summary["expect"]
        .as_object()
        .map(|e| e.iter().map(|(class, want)| (class.clone(), want["want"] == "some")).collect())
        .unwrap_or_default();
    let seeds = summary["runs"]
        .as_array()?
        .iter()
        .filter_map(|run| {
            let seed = run["seed"].as_u64()?;
            let counts: BTreeMap<String, u64> =
                run["counts"].as_object()?.iter().filter_map(|(class, n)| Some((class.clone(), n.as_u64()?))).collect();
            // The rule of `model::judge` on one seed: `some` needs the class, `none` its absence.
            let passed = (!expect.is_empty())
                .then(|| expect.iter().all(|(class, some)| *some == (counts.get(class).copied().unwrap_or(0) > 0)));
            let report = format!("{name}/seed-{seed}/report.html");
            let report = dir.join(&report).is_file().then_some(report);
            Some(SeedEntry { seed, counts, passed, report })
        })
        .collect();
    Some(FileEntry {
        scenario: summary["scenario"].as_str().unwrap_or(name).to_string(),
        file: summary["file"].as_str().unwrap_or("").to_string(),
        passed: summary["passed"].as_bool().unwrap_or(false),
        has_expect: !expect.is_empty(),
        seeds,
    })
}

/// Writes `dir/index.html` over `configs` (this run's) and every `*.json` file in `dir`. Explore
/// creates `dir` only to write a counterexample, so a run that found nothing into a missing
/// `dir` writes no index either.
pub fn write_explore(dir: &Path, configs: &[ConfigEntry]) -> Result<(), String> {
    if !dir.is_dir() {
        return Ok(());
    }
    let mut others: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().to_str().map(str::to_string))
        .filter(|name| name.ends_with(".json"))
        .collect();
    others.sort();
    write(dir, &index::explore_page(configs, &others))
}

fn write(dir: &Path, page: &str) -> Result<(), String> {
    out::write_atomically(&dir.join("index.html"), |file| file.write_all(page.as_bytes()))
}
