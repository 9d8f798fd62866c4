//! Counts: how many records a run sent, had acknowledged and saw fail, and how many findings of
//! each class it holds. Every report shows the same keys, zeros included, so that a reader (or
//! a script) never has to guess whether a missing class means "none" or "not checked".

use losslab_model::judge::class_count;
use losslab_model::{FindingClass, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;

/// The producer-side totals, in the order readers expect them.
pub const OUTCOMES: [&str; 3] = ["sent", "acked", "failed"];

/// Every outcome and every finding class with its count, keyed by its name in the contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Counts(BTreeMap<&'static str, u64>);

impl Default for Counts {
    /// Every key present, at zero.
    fn default() -> Self {
        let keys = OUTCOMES.into_iter().chain(FindingClass::ALL.map(FindingClass::as_str));
        Counts(keys.map(|key| (key, 0)).collect())
    }
}

impl Counts {
    /// The counts of one seed's verdict.
    pub fn of(verdict: &Verdict) -> Counts {
        let mut counts = Counts::default();
        counts.0.insert("sent", verdict.sent);
        counts.0.insert("acked", verdict.acked);
        counts.0.insert("failed", verdict.failed);
        for class in FindingClass::ALL {
            counts.0.insert(class.as_str(), class_count(verdict, class));
        }
        counts
    }

    /// The sums over several seeds (all zeros for none).
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Counts>) -> Counts {
        let mut total = Counts::default();
        for counts in all {
            for (key, n) in &counts.0 {
                *total.0.entry(key).or_default() += n;
            }
        }
        total
    }

    /// The count under a contract key (`"sent"`, `"lost_acked"`, ...); 0 for an unknown key.
    pub fn get(&self, key: &str) -> u64 {
        self.0.get(key).copied().unwrap_or(0)
    }

    pub fn class(&self, class: FindingClass) -> u64 {
        self.get(class.as_str())
    }

    /// The classes with at least one finding, in class order.
    pub fn classes_found(&self) -> impl Iterator<Item = (FindingClass, u64)> + '_ {
        FindingClass::ALL.into_iter().map(|class| (class, self.class(class))).filter(|&(_, n)| n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(sent: u64, lost_acked: u64) -> Verdict {
        let mut v = Verdict { sent, acked: sent - lost_acked, ..Verdict::default() };
        v.counts.insert("lost_acked".into(), lost_acked);
        v
    }

    #[test]
    fn every_key_is_present_even_at_zero() {
        let counts = Counts::of(&Verdict::default());
        let json = serde_json::to_value(&counts).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3 + FindingClass::ALL.len());
        for class in FindingClass::ALL {
            assert!(keys.contains(&class.as_str()), "{class} missing");
        }
    }

    #[test]
    fn sums_add_every_key() {
        let a = Counts::of(&verdict(10, 2));
        let b = Counts::of(&verdict(5, 1));
        let total = Counts::sum([&a, &b]);
        assert_eq!(total.get("sent"), 15);
        assert_eq!(total.get("acked"), 12);
        assert_eq!(total.class(FindingClass::LostAcked), 3);
        assert_eq!(Counts::sum([]), Counts::default());
    }

    #[test]
    fn only_classes_with_findings_are_listed_as_found() {
        let found: Vec<_> = Counts::of(&verdict(10, 2)).classes_found().collect();
        assert_eq!(found, vec![(FindingClass::LostAcked, 2)]);
    }
}
