//! The result of replaying one file: the scenario, the file as the user named it, each seed's
//! run (trace hash and the checker's verdict) and the judgement of `expect` across them. It is
//! a borrowed view, so the CLI keeps ownership of what it ran and a report of one seed is just
//! another view of the same data ([`FileResult::only`]).

use crate::command::replay_command;
use crate::counts::Counts;
use losslab_model::judge::{judge, Judgement};
use losslab_model::{Scenario, Verdict};

/// One seed's run, as the reports need it: no history, which only the Markdown report reads.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRun {
    pub seed: u64,
    pub trace_hash: String,
    pub verdict: Verdict,
    pub counts: Counts,
}

impl SeedRun {
    pub fn new(seed: u64, trace_hash: String, verdict: Verdict) -> SeedRun {
        let counts = Counts::of(&verdict);
        SeedRun { seed, trace_hash, verdict, counts }
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
