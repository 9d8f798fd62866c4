//! The run-level finding: the final phase (heal, restart, elect, catch up, drain) did not
//! converge within its bound, so the final logs are not a settled answer. Told once per run,
//! with the reason the run recorded.

use super::index::Index;
use crate::finding::{Finding, FindingClass};
use crate::history::{fmt_time, EventKind};

/// The final phase did not converge.
pub(super) fn stuck(ix: &Index) -> Vec<Finding> {
    if !ix.final_state.stuck {
        return Vec::new();
    }
    let started = ix.final_phase.map(|e| format!(", started at {},", ix.time(e))).unwrap_or_default();
    let reason = ix.final_state.stuck_reason.as_deref().unwrap_or("no reason was recorded");
    let mut explanation =
        format!("The final phase{started} did not converge by {}: {reason}.", fmt_time(ix.final_state.end_us));
    if let Some(e) = ix.converged {
        if let EventKind::Converged { ok: false, detail } = &ix.event(e).kind {
            if !detail.is_empty() && detail != reason {
                explanation.push_str(&format!(" At {} the run recorded: {detail}.", ix.time(e)));
            }
        }
    }
    // An app that died of an exception it did not catch dies again at each restart (a
    // LogTruncationException without a reset policy): name the last death of each consumer.
    let mut deaths = std::collections::BTreeMap::new();
    for e in &ix.history.events {
        if let EventKind::ConsumerFailed { consumer, error } = &e.kind {
            deaths.insert(*consumer, (e.t_us, error));
        }
    }
    for (consumer, (t_us, error)) in deaths {
        explanation.push_str(&format!(" c{consumer}'s app last died at {}: {error}.", fmt_time(t_us)));
    }
    vec![Finding { class: FindingClass::Stuck, message: None, partition: None, explanation }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, FinalState, History, NodeName};

    #[test]
    fn a_stuck_run_names_the_last_exception_each_consumer_died_of() {
        let mut history = History::default();
        for (ms, error) in [(1000, "first"), (9000, "LogTruncationException: truncation detected")] {
            let kind = EventKind::ConsumerFailed { consumer: 1, error: error.to_string() };
            history.events.push(Event { t_us: ms * 1000, node: NodeName::Consumer(1), kind });
        }
        let final_state = FinalState {
            stuck: true,
            stuck_reason: Some("c1 is not a stable member of the group yet".into()),
            end_us: 10_000_000,
            ..FinalState::default()
        };
        let findings = stuck(&Index::build(&history, &final_state));
        assert_eq!(
            findings[0].explanation,
            "The final phase did not converge by 10.000 s: c1 is not a stable member of the group yet. \
             c1's app last died at 9.000 s: LogTruncationException: truncation detected."
        );
    }
}
