//! The fault steps that did nothing in a run, read from the history's `step` events: a step
//! the nemesis fired on no node (its detail names "nobody": `sim::fault::nemesis` words every
//! action's targets that way, e.g. "restart of nobody", "cut nobody <-> b2"), and the steps
//! that never fired (the `skipped` event the run records when a trigger did not hold within the
//! safety phase). Issue 17: such a step was visible only in report.md, so an expectation could
//! fail, or pass, for a fault that never happened without the verdict saying so.

use crate::finding::IdleStep;
use crate::history::{EventKind, History};

/// Every idle step, in the order the history recorded them.
pub fn idle_steps(history: &History) -> Vec<IdleStep> {
    history
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Step { step, action, detail } => {
                let never_fired = action == "skipped";
                let nobody = detail.split(|c: char| !c.is_alphanumeric()).any(|word| word == "nobody");
                (never_fired || nobody).then(|| IdleStep {
                    step: step + 1,
                    action: action.clone(),
                    never_fired,
                    detail: detail.clone(),
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, NodeName};

    fn step(step: usize, action: &str, detail: &str) -> Event {
        let kind = EventKind::Step { step, action: action.into(), detail: detail.into() };
        Event { t_us: 1_000, node: NodeName::Controller, kind }
    }

    #[test]
    fn a_step_on_nobody_and_the_steps_never_fired_are_idle_and_others_are_not() {
        let history = History {
            meta: Default::default(),
            events: vec![
                step(0, "crash", "crash (process) of b1"),
                step(1, "restart", "restart of nobody"),
                step(2, "cut", "cut nobody <-> b2, b3"),
                step(3, "heal", "healed b1 <-> b2"),
                // A name that merely contains the word is not idle.
                step(4, "pause", "pause of nobodyish"),
                step(5, "skipped", "steps 6.. never fired: their triggers did not hold within 600 s"),
            ],
        };
        let idle = idle_steps(&history);
        let shown: Vec<(usize, &str, bool)> = idle.iter().map(|s| (s.step, s.action.as_str(), s.never_fired)).collect();
        assert_eq!(shown, [(2, "restart", false), (3, "cut", false), (6, "skipped", true)]);
        assert_eq!(idle[0].detail, "restart of nobody");
    }
}
