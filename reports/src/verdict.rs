//! The readable verdict of one file, as `losslab replay` prints it: what was run (scenario,
//! description, Kafka version and the settings that decide durability), what each seed showed
//! (trace hash and counts), whether each expectation held, then one explanation per finding,
//! and last the command that replays the run. Findings are capped per class and seed, because
//! a lost leader can take thousands of messages with it and every one of them has the same
//! story; the JSON and the Markdown report keep them all.

use crate::result::{FileResult, SeedRun};
use crate::settings::key_settings;
use crate::text::wrap;
use losslab_model::judge::ClassJudgement;
use losslab_model::{Finding, FindingClass};

/// How many findings of one class one seed's verdict prints before "... and N more".
pub const FINDINGS_SHOWN_PER_CLASS: usize = 5;

/// Lines are wrapped to this many columns.
const WIDTH: usize = 100;

/// The verdict of one file, ending with a newline.
pub fn render(result: &FileResult) -> String {
    let sections =
        [header(result), runs(result), expectations(result), idle_steps(result), findings(result), footer(result)];
    let mut text = sections
        .into_iter()
        .filter(|lines| !lines.is_empty())
        .map(|lines| lines.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n");
    text.push('\n');
    text
}

fn header(result: &FileResult) -> Vec<String> {
    let s = result.scenario;
    let mut lines = vec![format!("{} ({})", s.name, result.file)];
    lines.extend(wrap(&s.description, "  ", WIDTH));
    if !s.source.is_empty() {
        lines.extend(wrap(&format!("source: {}", s.source), "  ", WIDTH));
    }
    for group in key_settings(s) {
        let settings: Vec<String> = group.settings.iter().map(|(key, value)| format!("{key}={value}")).collect();
        let indent = format!("  {:<10}", group.name);
        let body = wrap(&settings.join(" "), &" ".repeat(indent.len()), WIDTH);
        lines.extend(body.into_iter().enumerate().map(|(i, line)| match i {
            0 => format!("{indent}{}", line.trim_start()),
            _ => line,
        }));
    }
    lines
}

fn runs(result: &FileResult) -> Vec<String> {
    let mut lines = vec![format!("seeds {}", result.seed_range())];
    lines.extend(result.runs.iter().map(run_line));
    lines
}

fn run_line(run: &SeedRun) -> String {
    let c = &run.counts;
    let found: Vec<String> = c.classes_found().map(|(class, n)| format!("{class} {n}")).collect();
    let found = match found.is_empty() {
        true => "no findings".to_string(),
        false => found.join("  "),
    };
    format!(
        "  seed {}  trace {}  sent {}  acked {}  failed {}  {found}",
        run.seed,
        run.trace_hash,
        c.get("sent"),
        c.get("acked"),
        c.get("failed"),
    )
}

fn expectations(result: &FileResult) -> Vec<String> {
    let judgement = &result.judgement;
    let mut lines = vec!["expectations".to_string()];
    let judged: Vec<String> =
        judgement.classes.iter().filter_map(|(&class, j)| expectation_line(class, j, judgement.seeds)).collect();
    if judged.is_empty() {
        lines.push("  none named in `expect`".to_string());
    }
    lines.extend(judged);
    lines.extend(unjudged_line(result));
    lines
}

fn expectation_line(class: FindingClass, j: &ClassJudgement, seeds: usize) -> Option<String> {
    let (want, met) = (j.want?, j.met?);
    Some(format!(
        "  {:<20} want {:<5} seen in {} of {seeds} seeds  {}",
        class.as_str(),
        want.as_str(),
        j.seeds_showing,
        met_label(met),
    ))
}

/// Classes the scenario does not name but some seed showed: reported, never judged.
fn unjudged_line(result: &FileResult) -> Option<String> {
    let shown: Vec<String> = result
        .judgement
        .classes
        .iter()
        .filter(|(_, j)| j.want.is_none() && j.seeds_showing > 0)
        .map(|(class, j)| format!("{class} (in {} of {} seeds)", j.seeds_showing, result.judgement.seeds))
        .collect();
    (!shown.is_empty()).then(|| format!("  also seen, not judged: {}", shown.join(", ")))
}

/// Fault steps that did nothing, after the expectations they may have decided (issue 17).
fn idle_steps(result: &FileResult) -> Vec<String> {
    let lines = crate::idle::lines(result);
    if lines.is_empty() {
        return lines;
    }
    let mut out = vec!["fault steps that did nothing".to_string()];
    out.extend(lines.iter().flat_map(|line| wrap(line, "  ", WIDTH)));
    out
}

fn met_label(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

fn findings(result: &FileResult) -> Vec<String> {
    let body: Vec<String> = result.runs.iter().flat_map(seed_findings).collect();
    if body.is_empty() {
        return body;
    }
    let mut lines = vec!["findings".to_string()];
    lines.extend(body);
    lines
}

/// One seed's findings, at most [`FINDINGS_SHOWN_PER_CLASS`] of each class.
fn seed_findings(run: &SeedRun) -> Vec<String> {
    let mut lines = Vec::new();
    for class in FindingClass::ALL {
        let of_class: Vec<&Finding> = run.verdict.findings.iter().filter(|f| f.class == class).collect();
        for finding in of_class.iter().take(FINDINGS_SHOWN_PER_CLASS) {
            lines.push(format!("  seed {}: {}", run.seed, finding_title(finding)));
            lines.extend(wrap(&finding.explanation, "      ", WIDTH));
        }
        let hidden = of_class.len().saturating_sub(FINDINGS_SHOWN_PER_CLASS);
        if hidden > 0 {
            lines.push(format!("  seed {}: ... and {hidden} more {class}", run.seed));
        }
    }
    lines
}

/// `lost_acked p1#17 (partition 0)`; per-run findings have neither message nor partition.
fn finding_title(finding: &Finding) -> String {
    let mut title = finding.class.as_str().to_string();
    if let Some(message) = finding.message {
        title.push_str(&format!(" {message}"));
    }
    if let Some(partition) = finding.partition {
        title.push_str(&format!(" (partition {partition})"));
    }
    title
}

/// The outcome, then the command that replays the run: always the last line.
fn footer(result: &FileResult) -> Vec<String> {
    let judgement = &result.judgement;
    let total = judgement.expectations().count();
    let outcome = match judgement.passed {
        true => format!("PASSED: {total} of {total} expectations met"),
        false => format!("NOT MET: {} of {total} expectations not met", judgement.unmet()),
    };
    vec![outcome, "replay with:".to_string(), format!("  {}", result.replay_command())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{finding, run, scenario};
    use losslab_model::Expectation;

    #[test]
    fn ends_with_the_replay_command() {
        let s = scenario();
        let runs = [run(3, &[]), run(4, &[])];
        let text = render(&FileResult::new(&s, "scenarios/x.json", &runs));
        assert!(text.ends_with("\n  losslab replay scenarios/x.json --seed 3 --seeds 2\n"), "{text}");
    }

    #[test]
    fn shows_settings_hashes_and_expectations() {
        let mut s = scenario();
        s.expect.insert(FindingClass::LostAcked, Expectation::Some);
        let runs = [run(1, &[finding(FindingClass::LostAcked, 17)])];
        let text = render(&FileResult::new(&s, "x.json", &runs));
        assert!(text.starts_with("test-scenario (x.json)\n"), "{text}");
        assert!(text.contains("acks=all"), "{text}");
        assert!(text.contains("min.insync.replicas=1"), "{text}");
        assert!(text.contains("trace 0123456789abcdef"), "{text}");
        assert!(text.contains("lost_acked           want some  seen in 1 of 1 seeds  met"), "{text}");
        assert!(text.contains("seed 1: lost_acked p1#17 (partition 0)"), "{text}");
        assert!(text.contains("PASSED: 1 of 1 expectations met"), "{text}");
    }

    #[test]
    fn caps_findings_per_class_and_seed() {
        let s = scenario();
        let many: Vec<Finding> = (0..8).map(|i| finding(FindingClass::LostAcked, i)).collect();
        let runs = [run(1, &many)];
        let text = render(&FileResult::new(&s, "x.json", &runs));
        assert_eq!(text.matches("seed 1: lost_acked p1#").count(), FINDINGS_SHOWN_PER_CLASS);
        assert!(text.contains("seed 1: ... and 3 more lost_acked"), "{text}");
        assert!(text.contains("also seen, not judged: lost_acked (in 1 of 1 seeds)"), "{text}");
    }

    #[test]
    fn says_which_expectation_failed() {
        let mut s = scenario();
        s.expect.insert(FindingClass::Duplicated, Expectation::None);
        s.expect.insert(FindingClass::LostAcked, Expectation::Some);
        let runs = [run(1, &[finding(FindingClass::Duplicated, 1)])];
        let text = render(&FileResult::new(&s, "x.json", &runs));
        assert!(text.contains("NOT MET: 2 of 2 expectations not met"), "{text}");
        assert!(text.contains("duplicated           want none  seen in 1 of 1 seeds  NOT MET"), "{text}");
    }
}
