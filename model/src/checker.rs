//! The checker: history + final state -> findings. Placeholder until implemented.
use crate::finding::Verdict;
use crate::history::{FinalState, History};

pub fn check(_history: &History, _final_state: &FinalState) -> Verdict {
    Verdict::default()
}
