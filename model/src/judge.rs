//! Judging a scenario's `expect` against the verdicts of its seeds. The rule is the scenario
//! format's: `"some"` holds when at least one seed shows the class (a loss scenario must prove
//! the loss is reachable), `"none"` when no seed does (a fixed twin must hold on every seed).
//! Classes the scenario does not name are still counted, so that reports can show them, but
//! they never decide whether the run passed.
//!
//! This lives in the model, beside the checker, because it is a rule of the format and not a
//! matter of presentation: the CLI, the reports and any other tool must judge the same way.

use crate::finding::{FindingClass, Verdict};
use crate::scenario::{Expect, Expectation};
use std::collections::BTreeMap;

/// How one class fared across the seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassJudgement {
    /// What the scenario expects; `None` when it does not name the class.
    pub want: Option<Expectation>,
    /// How many seeds showed at least one finding of the class.
    pub seeds_showing: usize,
    /// Whether the expectation holds; `None` when the class is not judged.
    pub met: Option<bool>,
}

/// The judgement of a whole run (every seed of one file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// How many seeds were judged.
    pub seeds: usize,
    /// Every finding class, named in `expect` or not.
    pub classes: BTreeMap<FindingClass, ClassJudgement>,
    /// Every named expectation holds.
    pub passed: bool,
}

impl Judgement {
    /// The judged classes only: `(class, want, met)`, in class order.
    pub fn expectations(&self) -> impl Iterator<Item = (FindingClass, Expectation, bool)> + '_ {
        self.classes.iter().filter_map(|(&class, j)| Some((class, j.want?, j.met?)))
    }

    /// How many named expectations do not hold.
    pub fn unmet(&self) -> usize {
        self.expectations().filter(|&(_, _, met)| !met).count()
    }
}

/// How many findings of `class` a verdict holds. The checker fills `counts` for every class;
/// counting the findings themselves covers a verdict built elsewhere without counts.
pub fn class_count(verdict: &Verdict, class: FindingClass) -> u64 {
    match verdict.counts.get(class.as_str()) {
        Some(&count) => count,
        None => verdict.findings.iter().filter(|f| f.class == class).count() as u64,
    }
}

/// Judges `expect` against the verdicts of every seed of a run.
pub fn judge<'a>(expect: &Expect, verdicts: impl IntoIterator<Item = &'a Verdict>) -> Judgement {
    let verdicts: Vec<&Verdict> = verdicts.into_iter().collect();
    let classes: BTreeMap<FindingClass, ClassJudgement> = FindingClass::ALL
        .into_iter()
        .map(|class| (class, judge_class(expect.get(&class).copied(), class, &verdicts)))
        .collect();
    let passed = classes.values().all(|j| j.met != Some(false));
    Judgement { seeds: verdicts.len(), classes, passed }
}

fn judge_class(want: Option<Expectation>, class: FindingClass, verdicts: &[&Verdict]) -> ClassJudgement {
    let seeds_showing = verdicts.iter().filter(|v| class_count(v, class) > 0).count();
    let met = want.map(|want| match want {
        Expectation::Some => seeds_showing > 0,
        Expectation::None => seeds_showing == 0,
    });
    ClassJudgement { want, seeds_showing, met }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;

    fn verdict_with(classes: &[FindingClass]) -> Verdict {
        let findings = classes
            .iter()
            .map(|&class| Finding { class, message: None, partition: Some(0), explanation: String::new() })
            .collect();
        Verdict { findings, ..Verdict::default() }
    }

    fn expect(pairs: &[(FindingClass, Expectation)]) -> Expect {
        pairs.iter().copied().collect()
    }

    #[test]
    fn some_holds_when_one_seed_shows_the_class() {
        let seeds = [verdict_with(&[]), verdict_with(&[FindingClass::LostAcked])];
        let j = judge(&expect(&[(FindingClass::LostAcked, Expectation::Some)]), &seeds);
        assert!(j.passed);
        assert_eq!(j.classes[&FindingClass::LostAcked].seeds_showing, 1);
        assert_eq!(j.classes[&FindingClass::LostAcked].met, Some(true));
    }

    #[test]
    fn some_fails_when_no_seed_shows_the_class() {
        let seeds = [verdict_with(&[]), verdict_with(&[FindingClass::LostFailed])];
        let j = judge(&expect(&[(FindingClass::LostAcked, Expectation::Some)]), &seeds);
        assert!(!j.passed);
        assert_eq!(j.unmet(), 1);
    }

    #[test]
    fn none_fails_when_any_seed_shows_the_class() {
        let seeds = [verdict_with(&[]), verdict_with(&[FindingClass::Duplicated])];
        let j = judge(&expect(&[(FindingClass::Duplicated, Expectation::None)]), &seeds);
        assert!(!j.passed);
        assert_eq!(j.classes[&FindingClass::Duplicated].met, Some(false));
    }

    #[test]
    fn none_holds_when_no_seed_shows_the_class() {
        let seeds = [verdict_with(&[FindingClass::LostFailed]), verdict_with(&[])];
        let j = judge(&expect(&[(FindingClass::LostAcked, Expectation::None)]), &seeds);
        assert!(j.passed);
    }

    #[test]
    fn classes_not_named_are_counted_but_not_judged() {
        let seeds = [verdict_with(&[FindingClass::Stuck])];
        let j = judge(&Expect::new(), &seeds);
        assert!(j.passed);
        let stuck = j.classes[&FindingClass::Stuck];
        assert_eq!((stuck.want, stuck.met, stuck.seeds_showing), (None, None, 1));
        assert_eq!(j.expectations().count(), 0);
        assert_eq!(j.classes.len(), FindingClass::ALL.len());
    }

    #[test]
    fn every_expectation_must_hold_to_pass() {
        let seeds = [verdict_with(&[FindingClass::LostAcked])];
        let want =
            expect(&[(FindingClass::LostAcked, Expectation::Some), (FindingClass::Divergence, Expectation::Some)]);
        let j = judge(&want, &seeds);
        assert!(!j.passed);
        let judged: Vec<_> = j.expectations().collect();
        assert_eq!(
            judged,
            vec![
                (FindingClass::LostAcked, Expectation::Some, true),
                (FindingClass::Divergence, Expectation::Some, false),
            ]
        );
    }

    #[test]
    fn counts_take_precedence_over_the_findings_list() {
        let mut v = verdict_with(&[]);
        v.counts.insert("lost_acked".into(), 3);
        assert_eq!(class_count(&v, FindingClass::LostAcked), 3);
        assert_eq!(class_count(&v, FindingClass::Duplicated), 0);
        let j = judge(&expect(&[(FindingClass::LostAcked, Expectation::Some)]), [&v]);
        assert!(j.passed);
    }

    #[test]
    fn no_seeds_means_nothing_was_shown() {
        let want =
            expect(&[(FindingClass::LostAcked, Expectation::Some), (FindingClass::Duplicated, Expectation::None)]);
        let j = judge(&want, std::iter::empty());
        assert_eq!(j.seeds, 0);
        assert_eq!(j.unmet(), 1);
    }
}
