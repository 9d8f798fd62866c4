//! The summary table printed after the verdicts when several files are replayed: one row per
//! file with the findings summed over its seeds and whether its expectations held, a totals row,
//! and a closing line ("36 of 36 files met their expectations"), so that a sweep over the
//! catalogue can be read at a glance.
//!
//! It fits [`WIDTH`] columns (issue 17: one column per class made it 281 wide): the findings are
//! one column listing only the classes found (`lost_acked=12 reordered=3`), wrapped when a row
//! needs more room; a file's settings are in its verdict above.

use crate::counts::Counts;
use crate::result::FileResult;
use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table};

/// The table's width in columns, as the verdict's.
pub const WIDTH: u16 = 100;

/// The table, one row per file and a totals row, then the closing line; no trailing newline.
pub fn summary(results: &[FileResult]) -> String {
    let mut table = Table::new();
    // No lines between rows: a sweep over the catalogue is dozens of rows.
    table.load_style(ASCII_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_width(WIDTH);
    table.set_header(["scenario", "seeds", "findings, summed over the seeds", "expect"]);
    table.add_rows(results.iter().map(row));
    let met = results.iter().filter(|r| r.judgement.passed).count();
    let runs: usize = results.iter().map(|r| r.runs.len()).sum();
    let total = Counts::sum(results.iter().map(|r| r.total_counts()).collect::<Vec<_>>().iter());
    table.add_row([
        format!("total: {} files", results.len()),
        format!("{runs} runs"),
        found(&total),
        format!("{met} met"),
    ]);
    // Names and seed ranges whole; the findings wrap.
    for (index, column) in table.column_iter_mut().enumerate() {
        if index != 2 {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
        if index == 1 {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let closing = format!("{met} of {} files met their expectations", results.len());
    format!("{}\n{closing}", table.trim_fmt())
}

fn row(result: &FileResult) -> Vec<String> {
    let outcome = if result.judgement.passed { "met" } else { "NOT MET" };
    vec![result.scenario.name.clone(), result.seed_range(), found(&result.total_counts()), outcome.to_string()]
}

/// `lost_acked=12 reordered=3`, or `-` when nothing was found.
fn found(counts: &Counts) -> String {
    let found: Vec<String> = counts.classes_found().map(|(class, n)| format!("{class}={n}")).collect();
    match found.is_empty() {
        true => "-".to_string(),
        false => found.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{finding, run, scenario};
    use losslab_model::{Expectation, FindingClass};

    #[test]
    fn one_row_per_file_with_findings_outcome_totals_and_a_closing_line() {
        let a = scenario();
        let mut b = scenario();
        b.name = "other".into();
        b.expect.insert(FindingClass::Duplicated, Expectation::Some);
        let runs_a = [run(1, &[finding(FindingClass::LostAcked, 1)]), run(2, &[finding(FindingClass::Reordered, 2)])];
        let runs_b = [run(7, &[])];
        let text = summary(&[FileResult::new(&a, "a.json", &runs_a), FileResult::new(&b, "b.json", &runs_b)]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("scenario") && lines[1].contains("findings"), "{text}");
        let row_a = lines.iter().find(|l| l.contains("test-scenario")).unwrap();
        assert!(
            row_a.contains("1..2") && row_a.contains("lost_acked=1 reordered=1") && row_a.contains("| met "),
            "{text}"
        );
        let row_b = lines.iter().find(|l| l.contains("other")).unwrap();
        assert!(row_b.contains("| -  ") && row_b.contains("NOT MET"), "{text}");
        let total = lines.iter().find(|l| l.contains("total: 2 files")).unwrap();
        assert!(
            total.contains("3 runs") && total.contains("lost_acked=1 reordered=1") && total.contains("1 met"),
            "{text}"
        );
        assert_eq!(lines.last(), Some(&"1 of 2 files met their expectations"));
    }

    /// Issue 17: the catalogue's table was 281 columns wide.
    #[test]
    fn every_line_fits_100_columns_however_many_classes_are_found() {
        let mut s = scenario();
        // As long as the catalogue's longest name (39 characters).
        s.name = "consumer-after-process-duplicates-fixed".into();
        let every: Vec<_> = FindingClass::ALL.iter().enumerate().map(|(i, &c)| finding(c, i as u64)).collect();
        let runs: Vec<_> = (1..=1000).map(|seed| run(seed, &every)).collect();
        let results: Vec<FileResult> = (0..36).map(|_| FileResult::new(&s, "x.json", &runs)).collect();
        let text = summary(&results);
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest <= 100, "{widest} columns:\n{text}");
        assert!(text.contains("pipeline_duplicated=36000") && text.contains("consumer_duplicated=36000"), "{text}");
        assert!(text.ends_with("36 of 36 files met their expectations"), "{text}");
    }
}
