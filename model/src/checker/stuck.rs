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
    vec![Finding { class: FindingClass::Stuck, message: None, partition: None, explanation }]
}
