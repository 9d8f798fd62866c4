//! The result of replaying one file: the scenario, the file as the user named it, each seed's
//! run (trace hash and the checker's verdict) and the judgement of `expect` across them. It is
//! a borrowed view, so the CLI keeps ownership of what it ran and a report of one seed is just
//! another view of the same data ([`FileResult::only`]).

use crate::command::replay_command;
use crate::counts::Counts;
use crate::story::{stories, Story};
use losslab_model::judge::{judge, Judgement};
use losslab_model::{FindingClass, Scenario, Verdict};
use std::collections::BTreeMap;

/// One seed's run, as the reports need it: no history, which only the Markdown report reads.
///
/// Made whole by [`SeedRun::new`]; [`SeedRun::bound`] then cuts it to a size that does not
/// grow with the run's findings, so that a replay of any number of seeds holds only a few
/// findings of each: the counts and the judgement never change, and the cut is recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRun {
    pub seed: u64,
    pub trace_hash: String,
    /// The checker's verdict; its `counts` always count every finding, its `findings` may have
    /// been cut (see `findings_left_out`).
    pub verdict: Verdict,
    pub counts: Counts,
    /// The findings told as stories, class by class; cut like the findings.
    pub stories: Vec<Story>,
    /// Per class, how many stories the whole verdict told (those cut included).
    pub stories_told: BTreeMap<FindingClass, u64>,
    /// Per class, how many findings `bound` cut from `verdict.findings` (classes cut only).
    pub findings_left_out: BTreeMap<FindingClass, u64>,
}

impl SeedRun {
    pub fn new(seed: u64, trace_hash: String, verdict: Verdict) -> SeedRun {
        let counts = Counts::of(&verdict);
        let stories = stories(&verdict.findings);
        let mut stories_told = BTreeMap::new();
        for story in &stories {
            *stories_told.entry(story.class()).or_default() += 1;
        }
        SeedRun { seed, trace_hash, verdict, counts, stories, stories_told, findings_left_out: BTreeMap::new() }
    }

    /// The run without its findings and stories: what a summary table needs (its counts, which
    /// the judgement reads) and nothing that grows with the findings.
    pub fn counts_only(mut self) -> SeedRun {
        self.verdict.findings = Vec::new();
        self.stories = Vec::new();
        self
    }

    /// Keeps the first `findings_per_class` findings and `stories_per_class` stories of each
    /// class, recording how many findings were left out.
    pub fn bound(&mut self, findings_per_class: usize, stories_per_class: usize) {
        let mut kept: BTreeMap<FindingClass, usize> = BTreeMap::new();
        self.verdict.findings.retain(|finding| {
            let n = kept.entry(finding.class).or_default();
            *n += 1;
            *n <= findings_per_class
        });
        for (class, n) in kept {
            let cut = n.saturating_sub(findings_per_class) as u64;
            if cut > 0 {
                *self.findings_left_out.entry(class).or_default() += cut;
            }
        }
        let mut kept: BTreeMap<FindingClass, usize> = BTreeMap::new();
        self.stories.retain(|story| {
            let n = kept.entry(story.class()).or_default();
            *n += 1;
            *n <= stories_per_class
        });
        self.verdict.findings.shrink_to_fit();
        self.stories.shrink_to_fit();
    }
}

/// One file's replay.
#[derive(Clone, Debug)]
pub struct FileResult<'a> {
    pub scenario: &'a Scenario,
    /// The file as given on the command line: reports quote it in the replay command.
    pub file: &'a str,
    /// In seed order.
    pub runs: &'a [SeedRun],
    pub judgement: Judgement,
}

impl<'a> FileResult<'a> {
    pub fn new(scenario: &'a Scenario, file: &'a str, runs: &'a [SeedRun]) -> FileResult<'a> {
        let judgement = judge(&scenario.expect, runs.iter().map(|run| &run.verdict));
        FileResult { scenario, file, runs, judgement }
    }

    /// The same file with only `run`, judged on its own: what `--seed N` alone would show.
    pub fn only(&self, run: &'a SeedRun) -> FileResult<'a> {
        FileResult::new(self.scenario, self.file, std::slice::from_ref(run))
    }

    pub fn seeds(&self) -> Vec<u64> {
        self.runs.iter().map(|run| run.seed).collect()
    }

    /// `1` for one seed, `1..3` for several (seeds are always consecutive).
    pub fn seed_range(&self) -> String {
        match (self.runs.first(), self.runs.last()) {
            (Some(first), Some(last)) if first.seed != last.seed => {
                format!("{}..{}", first.seed, last.seed)
            }
            (Some(first), _) => first.seed.to_string(),
            _ => String::new(),
        }
    }

    /// Sums over the seeds.
    pub fn total_counts(&self) -> Counts {
        Counts::sum(self.runs.iter().map(|run| &run.counts))
    }

    /// The command that replays exactly these seeds.
    pub fn replay_command(&self) -> String {
        let first = self.runs.first().map_or(self.scenario.seed, |run| run.seed);
        replay_command(self.file, first, self.runs.len())
    }
}
