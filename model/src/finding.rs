//! Findings: what the checker concludes, one per message (or per run for `stuck`), each with a
//! causal explanation in sentences built from the history.

use crate::history::MsgId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The finding classes of the scenario format's `expect` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingClass {
    LostAcked,
    LostUnnoticed,
    LostFailed,
    Duplicated,
    Reordered,
    ConsumerSkipped,
    ConsumerDuplicated,
    ConsumedLost,
    Divergence,
    Stuck,
    /// Issue 16: a consumer processed a record whose transaction was aborted or never committed.
    AbortedRead,
    /// Issue 16 (per transaction): told committed, and only partly stored or partly processed.
    TornTransaction,
    /// Issue 16 (`app.output`): an input in the final log with no output in the final `out`.
    PipelineLost,
    /// Issue 16 (`app.output`): more than one output for an input in the final `out`.
    PipelineDuplicated,
}

impl FindingClass {
    pub const ALL: [FindingClass; 14] = [
        FindingClass::LostAcked,
        FindingClass::LostUnnoticed,
        FindingClass::LostFailed,
        FindingClass::Duplicated,
        FindingClass::Reordered,
        FindingClass::ConsumerSkipped,
        FindingClass::ConsumerDuplicated,
        FindingClass::ConsumedLost,
        FindingClass::Divergence,
        FindingClass::Stuck,
        FindingClass::AbortedRead,
        FindingClass::TornTransaction,
        FindingClass::PipelineLost,
        FindingClass::PipelineDuplicated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingClass::LostAcked => "lost_acked",
            FindingClass::LostUnnoticed => "lost_unnoticed",
            FindingClass::LostFailed => "lost_failed",
            FindingClass::Duplicated => "duplicated",
            FindingClass::Reordered => "reordered",
            FindingClass::ConsumerSkipped => "consumer_skipped",
            FindingClass::ConsumerDuplicated => "consumer_duplicated",
            FindingClass::ConsumedLost => "consumed_lost",
            FindingClass::Divergence => "divergence",
            FindingClass::Stuck => "stuck",
            FindingClass::AbortedRead => "aborted_read",
            FindingClass::TornTransaction => "torn_transaction",
            FindingClass::PipelineLost => "pipeline_lost",
            FindingClass::PipelineDuplicated => "pipeline_duplicated",
        }
    }

    pub fn parse(text: &str) -> Option<FindingClass> {
        FindingClass::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Whether this class breaks a durability or ordering promise (as opposed to a failure the
    /// app was told about).
    pub fn is_violation(self) -> bool {
        !matches!(self, FindingClass::LostFailed)
    }
}

impl fmt::Display for FindingClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub class: FindingClass,
    /// The message concerned; `None` for per-run findings (`stuck`) and per-offset ones
    /// (`divergence` names the offset in its explanation).
    pub message: Option<MsgId>,
    pub partition: Option<u32>,
    /// What happened to the message, step by step, with simulated times.
    pub explanation: String,
}

/// Everything the checker concluded about one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub findings: Vec<Finding>,
    /// Per class, how many findings (every class present, zeros included).
    pub counts: std::collections::BTreeMap<String, u64>,
    /// Records handed to `send()`.
    pub sent: u64,
    /// Records the client learned succeeded.
    pub acked: u64,
    /// Records the client gave up on.
    pub failed: u64,
    /// Fault steps that did nothing in this run (issue 17): a scenario whose steps miss their
    /// targets tests less than it says, so every report names them. Absent from JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idle_steps: Vec<IdleStep>,
}

/// A fault step that did nothing: it fired on no node ("restart of nobody": its target was in
/// no state the action applies to, or resolved to no node), or it never fired because its
/// trigger did not hold within the safety phase (then it stands for itself and every later
/// step, which wait on it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IdleStep {
    /// 1-based, as the scenario file's `faults` list is read.
    pub step: usize,
    /// The step's action (`restart`, `cut`...).
    pub action: String,
    /// True when it never fired; false when it fired on nobody.
    pub never_fired: bool,
    /// The history's own words for it ("restart of nobody", "steps 3.. never fired: ...").
    pub detail: String,
}
