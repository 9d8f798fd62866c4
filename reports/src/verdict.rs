//! The readable verdict of one file, as `losslab replay` prints it: what was run (scenario,
//! description, Kafka version and the settings that decide durability), what each seed showed
//! (trace hash and counts), whether each expectation held, then one explanation per finding,
//! and last the command that replays the run. Findings are told as stories (`story`): a range
//! of consecutive records whose explanations differ only in their ids and offsets is told once,
//! for its first record. At most [`STORIES_SHOWN_PER_CLASS`] stories of a class are told per
//! seed, then how many records and stories were not: a lost leader can take thousands of
//! messages with it. `report.md` tells every story; `--json` lists the findings themselves.

use crate::result::{FileResult, SeedRun};
use crate::settings::key_settings;
use crate::story::Story;
use crate::text::wrap;
use losslab_model::judge::ClassJudgement;
use losslab_model::FindingClass;

/// How many stories of one class one seed's verdict tells before "... and N more".
pub const STORIES_SHOWN_PER_CLASS: usize = 5;

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
    let mut lines = vec!["findings".to_string(), RANGES_NOTE.to_string()];
    lines.extend(body);
    lines
}

/// Says once how a range is told, so that each range's title can stay short (see `story`).
const RANGES_NOTE: &str =
    "  (a range is told for its first record; the others differ only in ids, offsets and own times)";

/// One seed's stories, at most [`STORIES_SHOWN_PER_CLASS`] of each class.
fn seed_findings(run: &SeedRun) -> Vec<String> {
    let mut lines = Vec::new();
    for class in FindingClass::ALL {
        let of_class: Vec<&Story> = run.stories.iter().filter(|s| s.class() == class).collect();
        let shown = &of_class[..of_class.len().min(STORIES_SHOWN_PER_CLASS)];
        for story in shown {
            lines.push(format!("  seed {}: {}", run.seed, story_title(story)));
            lines.extend(wrap(&story.first.explanation, "      ", WIDTH));
        }
        let records_shown: u64 = shown.iter().map(|s| s.records).sum();
        let stories_shown = shown.len() as u64;
        let records_hidden = run.counts.class(class).saturating_sub(records_shown);
        let stories_hidden = run.stories_told.get(&class).copied().unwrap_or(0).saturating_sub(stories_shown);
        if records_hidden > 0 && stories_hidden > 0 {
            lines.push(format!(
                "  seed {}: ... and {records_hidden} more {class} {} in {stories_hidden} more {}",
                run.seed,
                plural(records_hidden, "record", "records"),
                plural(stories_hidden, "story", "stories"),
            ));
        }
    }
    lines
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `lost_acked p1#805..p1#1104, 300 records (partition 0)`; per-run findings have neither
/// record nor partition.
fn story_title(story: &Story) -> String {
    let mut title = story.class().as_str().to_string();
    if story.first.message.is_some() {
        title.push_str(&format!(" {}", story.subject()));
    }
    title.push_str(&story.records_suffix());
    if let Some(partition) = story.first.partition {
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
    use losslab_model::{Expectation, Finding};

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
    fn tells_a_range_of_records_with_one_story_once() {
        let s = scenario();
        // The test findings' explanations differ only in the record's id.
        let many: Vec<Finding> = (805..=1104).map(|i| finding(FindingClass::LostAcked, i)).collect();
        let runs = [run(1, &many)];
        let text = render(&FileResult::new(&s, "x.json", &runs));
        assert!(text.contains(&format!("\nfindings\n{RANGES_NOTE}\n  seed 1: ")), "{text}");
        assert!(RANGES_NOTE.len() <= WIDTH);
        assert!(text.contains("  seed 1: lost_acked p1#805..p1#1104, 300 records (partition 0)\n"), "{text}");
        assert!(text.contains("      p1#805 was acked by b1 at 1.204 s; b1 crashed at 1.210 s.\n"), "{text}");
        assert_eq!(text.matches("was acked by b1").count(), 1, "{text}");
        assert!(!text.contains("more lost_acked"), "{text}");
        assert!(text.contains("also seen, not judged: lost_acked (in 1 of 1 seeds)"), "{text}");
    }

    #[test]
    fn caps_stories_per_class_and_seed() {
        let s = scenario();
        let mut many: Vec<Finding> = (0..8).map(|i| finding(FindingClass::LostAcked, i)).collect();
        many.extend((20..30).map(|i| finding(FindingClass::LostAcked, i)));
        for (i, f) in many.iter_mut().enumerate().take(8) {
            f.explanation = format!("story {i}");
        }
        let runs = [run(1, &many)];
        let text = render(&FileResult::new(&s, "x.json", &runs));
        assert_eq!(text.matches("seed 1: lost_acked p1#").count(), STORIES_SHOWN_PER_CLASS);
        assert!(text.contains("seed 1: ... and 13 more lost_acked records in 4 more stories"), "{text}");
    }

    #[test]
    fn a_bounded_run_still_counts_what_it_cut() {
        let s = scenario();
        let many: Vec<Finding> = (0..12).map(|i| finding(FindingClass::LostAcked, i * 2)).collect();
        let mut bounded = run(1, &many);
        bounded.bound(3, STORIES_SHOWN_PER_CLASS);
        assert_eq!(bounded.verdict.findings.len(), 3);
        let text = render(&FileResult::new(&s, "x.json", std::slice::from_ref(&bounded)));
        assert!(text.contains("seed 1: lost_acked p1#0..p1#22, 12 records (partition 0)"), "{text}");
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
