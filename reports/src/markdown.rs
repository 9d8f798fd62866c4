//! `report.md`: the Markdown report of one run (one file, one seed), written under `--out` for
//! people who want to read, share or teach a run rather than script against it. Unlike the
//! terminal verdict it tells every story (`story`: a range of consecutive records whose
//! explanations differ only in ids and offsets is one story, told for its first record), so
//! every finding is covered by a line, and it adds the fault timeline from the history, because
//! "what fired when" is the first question about any loss.

use crate::result::{FileResult, SeedRun};
use crate::settings::key_settings;
use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::Table;
use losslab_model::history::fmt_time;
use losslab_model::{EventKind, FindingClass, History};

/// The report of `run`, one of `result`'s seeds, judged on its own; `history` is its history.
pub fn run_report(result: &FileResult, run: &SeedRun, history: &History) -> String {
    let one = result.only(run);
    let sections = [
        header(&one, run),
        settings(&one),
        counts(run),
        expectations(&one),
        idle_steps(&one),
        timeline(history),
        findings(run),
        replay(&one),
    ];
    let mut text = sections.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n\n");
    text.push('\n');
    text
}

fn header(result: &FileResult, run: &SeedRun) -> String {
    let s = result.scenario;
    let mut lines = vec![format!("# {}, seed {}", s.name, run.seed), String::new()];
    if !s.description.is_empty() {
        lines.extend([s.description.clone(), String::new()]);
    }
    lines.push(format!("- file: `{}`", result.file));
    if !s.source.is_empty() {
        lines.push(format!("- source: {}", s.source));
    }
    lines.push(format!("- trace hash: `{}`", run.trace_hash));
    let outcome = match result.judgement.passed {
        true => "every expectation met",
        false => "NOT MET",
    };
    lines.push(format!("- result: {outcome}"));
    lines.join("\n")
}

fn settings(result: &FileResult) -> String {
    let rows = key_settings(result.scenario).into_iter().flat_map(|group| {
        group.settings.into_iter().map(move |(key, value)| vec![group.name.to_string(), key.to_string(), value])
    });
    section("Settings", table(&["group", "setting", "value"], rows))
}

fn counts(run: &SeedRun) -> String {
    let keys = crate::counts::OUTCOMES.into_iter().chain(FindingClass::ALL.map(FindingClass::as_str));
    let rows = keys.map(|key| vec![key.to_string(), run.counts.get(key).to_string()]);
    section("Counts", table(&["", "count"], rows))
}

fn expectations(result: &FileResult) -> String {
    let rows: Vec<Vec<String>> = result
        .judgement
        .expectations()
        .map(|(class, want, met)| {
            let found = result.total_counts().class(class);
            let met = if met { "met" } else { "NOT MET" };
            vec![class.to_string(), want.as_str().to_string(), found.to_string(), met.to_string()]
        })
        .collect();
    let body = match rows.is_empty() {
        true => "The scenario names no expectation.".to_string(),
        false => table(&["class", "want", "found", "met"], rows),
    };
    section("Expectations", body)
}

/// Fault steps that did nothing in this run (issue 17); empty (no section) when there are none.
fn idle_steps(result: &FileResult) -> String {
    let lines = crate::idle::lines(result);
    match lines.is_empty() {
        true => String::new(),
        false => section(
            "Fault steps that did nothing",
            lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"),
        ),
    }
}

/// The fault steps as they fired, then the final phase and whether it converged.
fn timeline(history: &History) -> String {
    let lines: Vec<String> = history
        .events
        .iter()
        .filter_map(|event| {
            let what = match &event.kind {
                EventKind::Step { step, action, detail } => {
                    // The detail already says what the action did, to whom.
                    let what = if detail.is_empty() { action } else { detail };
                    format!("step {}: {what}", step + 1)
                }
                EventKind::FinalPhase => "final phase: heal, restart, drain".to_string(),
                EventKind::Converged { ok, detail } => {
                    let state = if *ok { "converged" } else { "did NOT converge" };
                    format!("{state}: {detail}")
                }
                _ => return None,
            };
            Some(format!("- {}: {what}", fmt_time(event.t_us)))
        })
        .collect();
    let body = match lines.is_empty() {
        true => "The history records no fault step.".to_string(),
        false => lines.join("\n"),
    };
    section("Faults", body)
}

fn findings(run: &SeedRun) -> String {
    let by_class: Vec<String> = FindingClass::ALL.into_iter().filter_map(|class| class_findings(run, class)).collect();
    let body = match by_class.is_empty() {
        true => "No findings.".to_string(),
        false => by_class.join("\n\n"),
    };
    section("Findings", body)
}

fn class_findings(run: &SeedRun, class: FindingClass) -> Option<String> {
    let items: Vec<String> = run
        .stories
        .iter()
        .filter(|story| story.class() == class)
        .map(|story| {
            let partition = story.first.partition.map(|p| format!(" (partition {p})")).unwrap_or_default();
            format!("- **{}**{}{partition}: {}", story.subject(), story.records_suffix(), story.first.explanation)
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    let records = run.counts.class(class);
    let told = run.stories_told.get(&class).copied().unwrap_or(0);
    let mut text = format!("### {class} ({records})\n\n{}", items.join("\n"));
    let cut = told.saturating_sub(items.len() as u64);
    if cut > 0 {
        text.push_str(&format!("\n\n… and {cut} more stories, not kept in this report."));
    }
    Some(text)
}

fn replay(result: &FileResult) -> String {
    section("Replay", format!("```\n{}\n```", result.replay_command()))
}

fn section(title: &str, body: String) -> String {
    format!("## {title}\n\n{body}")
}

/// A Markdown table; cells have `|` escaped so that a value cannot break the table.
fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_style(ASCII_MARKDOWN);
    table.set_header(header.to_vec());
    for row in rows {
        table.add_row(row.into_iter().map(|cell| cell.replace('|', "\\|")).collect::<Vec<_>>());
    }
    table.trim_fmt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{finding, run, scenario};
    use losslab_model::{Event, Expectation, NodeName};

    fn history() -> History {
        let step = EventKind::Step { step: 0, action: "crash".into(), detail: "b1 (process)".into() };
        History {
            events: vec![Event { t_us: 1_210_000, node: NodeName::Controller, kind: step }],
            ..History::default()
        }
    }

    #[test]
    fn reports_one_seed_with_every_finding_and_the_replay_command() {
        let mut s = scenario();
        s.expect.insert(FindingClass::LostAcked, Expectation::Some);
        let many: Vec<_> = (0..8).map(|i| finding(FindingClass::LostAcked, i)).collect();
        let runs = [run(1, &[]), run(2, &many)];
        let result = FileResult::new(&s, "x.json", &runs);
        let md = run_report(&result, &runs[1], &history());
        assert!(md.starts_with("# test-scenario, seed 2\n"), "{md}");
        assert_eq!(md.matches("- **p1#").count(), 1, "{md}");
        assert!(md.contains("- **p1#0..p1#7**, 8 records (partition 0): p1#0 was acked"), "{md}");
        assert!(md.contains("### lost_acked (8)"), "{md}");
        assert!(md.contains("| lost_acked | some | 8     | met |"), "{md}");
        assert!(md.contains("- 1.210 s: step 1: b1 (process)"), "{md}");
        assert!(md.contains("| producer | acks"), "{md}");
        assert!(md.ends_with("```\nlosslab replay x.json --seed 2\n```\n"), "{md}");
    }

    #[test]
    fn a_seed_judged_alone_can_fail_where_the_run_passed() {
        let mut s = scenario();
        s.expect.insert(FindingClass::LostAcked, Expectation::Some);
        let runs = [run(1, &[]), run(2, &[finding(FindingClass::LostAcked, 1)])];
        let result = FileResult::new(&s, "x.json", &runs);
        assert!(result.judgement.passed);
        let md = run_report(&result, &runs[0], &History::default());
        assert!(md.contains("- result: NOT MET"), "{md}");
        assert!(md.contains("The history records no fault step."), "{md}");
        assert!(md.contains("No findings."), "{md}");
    }
}
