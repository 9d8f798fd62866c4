//! The summary table printed after the verdicts when several files are replayed: one row per
//! file with its finding counts summed over its seeds and whether its expectations held, so
//! that a sweep over the catalogue can be read at a glance.

use crate::result::FileResult;
use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use losslab_model::FindingClass;

/// The table, one row per file, without a trailing newline.
pub fn summary(results: &[FileResult]) -> String {
    let mut table = Table::new();
    // No lines between rows: a sweep over the catalogue is dozens of rows.
    table.load_style(ASCII_FULL_CONDENSED);
    let classes = FindingClass::ALL.map(FindingClass::as_str);
    let header: Vec<&str> = ["scenario", "setting", "seeds"].into_iter().chain(classes).chain(["expect"]).collect();
    table.set_header(header);
    table.add_rows(results.iter().map(row));
    // Counts read best right-aligned; the name, setting, seeds and outcome do not.
    for column in table.column_iter_mut().skip(3).take(classes.len()) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    table.trim_fmt()
}

fn row(result: &FileResult) -> Vec<String> {
    let counts = result.total_counts();
    let outcome = if result.judgement.passed { "met" } else { "NOT MET" };
    let setting = crate::settings::changed_settings(result.scenario).join(" ");
    [result.scenario.name.clone(), setting, result.seed_range()]
        .into_iter()
        .chain(FindingClass::ALL.map(|class| counts.class(class).to_string()))
        .chain([outcome.to_string()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{finding, run, scenario};
    use losslab_model::Expectation;

    #[test]
    fn one_row_per_file_with_counts_and_outcome() {
        let a = scenario();
        let mut b = scenario();
        b.name = "other".into();
        b.expect.insert(FindingClass::Duplicated, Expectation::Some);
        let runs_a = [run(1, &[finding(FindingClass::LostAcked, 1)]), run(2, &[])];
        let runs_b = [run(7, &[])];
        let text = summary(&[FileResult::new(&a, "a.json", &runs_a), FileResult::new(&b, "b.json", &runs_b)]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("lost_acked") && lines[1].contains("consumer_duplicated"), "{text}");
        let row_a = lines.iter().find(|l| l.contains("test-scenario")).unwrap();
        assert!(row_a.contains("1..2") && row_a.contains("met"), "{text}");
        let row_b = lines.iter().find(|l| l.contains("other")).unwrap();
        assert!(row_b.contains("NOT MET"), "{text}");
    }
}
