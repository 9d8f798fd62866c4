//! Kafka's transactional guarantees (issue 16) as rules over a configuration, the kinds of
//! faults a run may see and the release line: for each transaction class, whether it may
//! appear (documented behaviour) or Kafka promises it cannot (a finding is a broken guarantee).
//! `predict` asks here for the transaction classes; kept apart so that the rules of one
//! mechanism stay together with their sources.

use crate::explore::FaultKind;
use crate::finding::FindingClass;
use crate::scenario::Scenario;
use std::collections::BTreeSet;

/// (permitted, why) for one of the transaction classes.
pub fn transactional(_s: &Scenario, _kinds: &BTreeSet<FaultKind>, _class: FindingClass) -> (bool, String) {
    (false, "not yet predicted".to_string())
}
