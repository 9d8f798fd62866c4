//! The fault steps that did nothing (issue 17), worded once for every report: the terminal
//! verdict and `report.md` list them, grouped over seeds, right after the expectations, because
//! an expectation judged on a run whose crash hit nobody says little about the crash. The
//! steps themselves come from the checker (`Verdict::idle_steps`); `--json` carries them per run.

use crate::result::FileResult;
use std::collections::BTreeMap;

/// Lines (without indentation) saying which steps did nothing in which seeds: one per step and
/// wording, its seeds as ranges; none when every step did something in every seed.
pub fn lines(result: &FileResult) -> Vec<String> {
    let mut seeds: BTreeMap<(usize, bool, &str), Vec<u64>> = BTreeMap::new();
    for run in result.runs {
        for step in &run.verdict.idle_steps {
            seeds.entry((step.step, step.never_fired, step.detail.as_str())).or_default().push(run.seed);
        }
    }
    let all = result.runs.len();
    seeds
        .into_iter()
        .map(|((step, never_fired, detail), seeds)| {
            let what = match never_fired {
                // The history says "steps 3.. never fired: WHY"; the step is already named.
                true => {
                    let why = detail.split_once(": ").map_or(detail, |(_, why)| why);
                    format!("step {step} and any after it never fired: {why}")
                }
                false => format!("step {step} did nothing ({detail})"),
            };
            match (all, seeds.len()) {
                (1, _) => what,
                (n, m) if n == m => format!("{what}, in every seed"),
                _ => format!("{what}, in seed{} {}", if seeds.len() == 1 { "" } else { "s" }, seed_ranges(&seeds)),
            }
        })
        .collect()
}

/// How many seed ranges a line lists before "and N more seeds".
const RANGES_SHOWN: usize = 8;

/// Sorted seeds as ranges: `1..3, 5`, the first few only.
fn seed_ranges(seeds: &[u64]) -> String {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for &seed in seeds {
        match ranges.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(seed) => *last = seed,
            _ => ranges.push((seed, seed)),
        }
    }
    let shown: Vec<String> = ranges
        .iter()
        .take(RANGES_SHOWN)
        .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}..{b}") })
        .collect();
    let rest: u64 = ranges.iter().skip(RANGES_SHOWN).map(|&(a, b)| b - a + 1).sum();
    match rest {
        0 => shown.join(", "),
        n => format!("{} and {n} more seed{}", shown.join(", "), if n == 1 { "" } else { "s" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::SeedRun;
    use crate::test_support::{run, scenario};
    use losslab_model::IdleStep;

    fn idle(step: usize, never_fired: bool, detail: &str) -> IdleStep {
        IdleStep { step, action: "restart".into(), never_fired, detail: detail.into() }
    }

    #[test]
    fn idle_steps_are_grouped_over_seeds_as_ranges() {
        let s = scenario();
        let mut runs: Vec<SeedRun> = (1..=6).map(|seed| run(seed, &[])).collect();
        for r in &mut runs[..] {
            r.verdict.idle_steps.push(idle(2, false, "restart of nobody"));
        }
        for seed in [1, 2, 3, 5] {
            runs[seed - 1].verdict.idle_steps.push(idle(
                4,
                true,
                "steps 4.. never fired: their triggers did not hold within 600 s",
            ));
        }
        let result = FileResult::new(&s, "x.json", &runs);
        assert_eq!(
            lines(&result),
            [
                "step 2 did nothing (restart of nobody), in every seed",
                "step 4 and any after it never fired: their triggers did not hold within 600 s, in seeds 1..3, 5",
            ]
        );
        assert_eq!(lines(&result.only(&runs[3])), ["step 2 did nothing (restart of nobody)"]);
        let odd: Vec<u64> = (1..=40).filter(|s| s % 2 == 1).collect();
        assert_eq!(seed_ranges(&odd), "1, 3, 5, 7, 9, 11, 13, 15 and 12 more seeds");
        let quiet = [run(1, &[])];
        assert!(lines(&FileResult::new(&s, "x.json", &quiet)).is_empty());
    }
}
