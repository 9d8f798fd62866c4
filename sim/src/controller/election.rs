//! The controller's partition-change rules, as pure functions (Kafka's `PartitionChangeBuilder`):
//! how the ISR and the eligible leader replicas (ELR, KIP-966) change when members leave, and
//! whom an election picks. Kept apart from the controller's message handling so that each
//! release line's rule can be unit-tested on its own.
//!
//! Without ELR (before 4.0, or `eligible.leader.replicas.enable=false`) an ISR never empties: its
//! last member stays and the partition waits for it, even if that member comes back from a power
//! loss with less data than replicas that left the ISR earlier. With ELR, a replica that leaves
//! an ISR smaller than `min.insync.replicas` becomes eligible instead: while the ISR is below
//! min ISR the high watermark does not move (KAFKA-15583), so such a replica has every committed
//! record. A broker back from an unclean shutdown may have lost its unflushed tail, so it leaves
//! both ISR and ELR (it is remembered in the last known ELR, the fallback when nobody else is).

use crate::fault::mutation::{self, Mutation};
use crate::protocol::PartitionState;
use losslab_model::history::ElectionKind;

#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub min_insync_replicas: u32,
    /// KIP-966 eligible leader replicas.
    pub elr: bool,
    /// `unclean.leader.election.enable`.
    pub unclean: bool,
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Sets a new ISR. With ELR, the members leaving an ISR that ends up below min ISR become
/// eligible leader replicas; an ISR at or above min ISR needs none, so the ELR is cleared.
pub fn set_isr(st: &mut PartitionState, new_isr: Vec<u32>, rules: Rules) {
    let new_isr = sorted(new_isr);
    if rules.elr {
        if (new_isr.len() as u32) < rules.min_insync_replicas {
            let leaving = st.isr.iter().copied().filter(|r| !new_isr.contains(r));
            st.elr = sorted(st.elr.iter().copied().chain(leaving).collect());
        } else {
            st.elr.clear();
        }
        st.elr.retain(|r| !new_isr.contains(r));
    }
    st.isr = new_isr;
}

/// A fenced broker leaves the ISR; without ELR it stays if it is the last member (Kafka never
/// empties an ISR before KIP-966). Returns whether anything changed.
pub fn remove_fenced(st: &mut PartitionState, broker: u32, rules: Rules) -> bool {
    if !st.isr.contains(&broker) || (!rules.elr && st.isr.len() == 1) {
        return false;
    }
    let rest = st.isr.iter().copied().filter(|&r| r != broker).collect();
    set_isr(st, rest, rules);
    true
}

/// KIP-966: a broker back from an unclean shutdown leaves ISR and ELR; it is remembered in
/// `last_known_elr`. Returns whether anything changed.
pub fn remove_unclean(st: &mut PartitionState, broker: u32, last_known_elr: &mut Vec<u32>) -> bool {
    if !st.isr.contains(&broker) && !st.elr.contains(&broker) {
        return false;
    }
    st.isr.retain(|&r| r != broker);
    st.elr.retain(|&r| r != broker);
    if !last_known_elr.contains(&broker) {
        last_known_elr.push(broker);
    }
    true
}

/// Whom an election picks among the `live` brokers, in replica order: an ISR member; else an
/// eligible leader replica; else, with ELR and nobody in ISR or ELR, a last known ELR member
/// (KIP-966's fallback); else, if unclean election is allowed, any live replica; else nobody.
pub fn choose(
    st: &PartitionState,
    live: &[u32],
    rules: Rules,
    operator_unclean: bool,
    last_known_elr: &[u32],
) -> (Option<u32>, ElectionKind) {
    let first = |pool: &dyn Fn(u32) -> bool| st.replicas.iter().copied().find(|&r| live.contains(&r) && pool(r));
    if mutation::on(Mutation::ElectionIgnoresIsr) {
        return first(&|_| true).map_or((None, ElectionKind::Offline), |l| (Some(l), ElectionKind::Clean));
    }
    if let Some(l) = first(&|r| st.isr.contains(&r)) {
        return (Some(l), ElectionKind::Clean);
    }
    if rules.elr {
        if let Some(l) = first(&|r| st.elr.contains(&r)) {
            return (Some(l), ElectionKind::Elr);
        }
        if st.isr.is_empty() && st.elr.is_empty() {
            if let Some(l) = first(&|r| last_known_elr.contains(&r)) {
                return (Some(l), ElectionKind::Elr);
            }
        }
    }
    if rules.unclean || operator_unclean {
        if let Some(l) = first(&|_| true) {
            return (Some(l), ElectionKind::Unclean);
        }
    }
    (None, ElectionKind::Offline)
}

/// Applies an election's outcome: new leader, epochs bumped, ISR and ELR adjusted.
pub fn apply(st: &mut PartitionState, leader: Option<u32>, kind: ElectionKind, live: &[u32], rules: Rules) {
    st.leader = leader;
    st.leader_epoch += 1;
    st.partition_epoch += 1;
    let live_isr: Vec<u32> = st.isr.iter().copied().filter(|r| live.contains(r)).collect();
    match (kind, leader) {
        (ElectionKind::Clean, _) => {
            // A clean leader is in the ISR (only the election-ignores-isr mutation elects one
            // that is not, and then it joins the ISR as a real such bug would make it).
            let mut isr = live_isr;
            isr.extend(leader.filter(|l| !isr.contains(l)));
            set_isr(st, isr, rules)
        }
        (ElectionKind::Elr, Some(l)) => {
            st.elr.retain(|&r| r != l);
            st.isr = vec![l];
        }
        (ElectionKind::Unclean, Some(l)) => {
            st.isr = vec![l];
            st.elr.clear();
        }
        _ if rules.elr => set_isr(st, live_isr, rules),
        // Without ELR the last member stays and is waited for.
        _ if !live_isr.is_empty() => st.isr = live_isr,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(isr: &[u32], elr: &[u32], leader: Option<u32>) -> PartitionState {
        PartitionState {
            partition: 0,
            replicas: vec![1, 2, 3],
            leader,
            leader_epoch: 1,
            partition_epoch: 1,
            isr: isr.to_vec(),
            elr: elr.to_vec(),
        }
    }

    const OLD: Rules = Rules { min_insync_replicas: 2, elr: false, unclean: false };
    const NEW: Rules = Rules { min_insync_replicas: 2, elr: true, unclean: false };

    #[test]
    fn without_elr_the_last_isr_member_stays() {
        let mut s = st(&[1], &[], Some(1));
        assert!(!remove_fenced(&mut s, 1, OLD));
        assert_eq!(s.isr, vec![1]);
        apply(&mut s, None, ElectionKind::Offline, &[], OLD);
        assert_eq!((s.isr.clone(), s.leader, s.leader_epoch), (vec![1], None, 2));
    }

    #[test]
    fn members_leaving_an_isr_below_min_isr_become_eligible() {
        let mut s = st(&[1, 2, 3], &[], Some(1));
        assert!(remove_fenced(&mut s, 3, NEW));
        assert_eq!((s.isr.clone(), s.elr.clone()), (vec![1, 2], vec![]));
        assert!(remove_fenced(&mut s, 2, NEW));
        assert_eq!((s.isr.clone(), s.elr.clone()), (vec![1], vec![2]));
        assert!(remove_fenced(&mut s, 1, NEW), "with ELR the ISR may empty");
        assert_eq!((s.isr.clone(), s.elr.clone()), (vec![], vec![1, 2]));
        // The ISR back at min ISR clears the ELR.
        set_isr(&mut s, vec![1, 3], NEW);
        assert!(s.elr.is_empty());
    }

    #[test]
    fn an_unclean_shutdown_loses_eligibility_and_an_elr_member_is_elected() {
        // KIP-966's example: b1 was the last ISR member and lost power; b2 left the ISR when it
        // fell below min ISR and has every committed record.
        let mut s = st(&[], &[1, 2], None);
        let mut last_known = vec![];
        assert!(remove_unclean(&mut s, 1, &mut last_known));
        assert_eq!((s.elr.clone(), last_known.clone()), (vec![2], vec![1]));
        assert_eq!(choose(&s, &[1], NEW, false, &last_known), (None, ElectionKind::Offline), "b1 is not eligible");
        assert_eq!(choose(&s, &[1, 2], NEW, false, &last_known), (Some(2), ElectionKind::Elr));
        apply(&mut s, Some(2), ElectionKind::Elr, &[1, 2], NEW);
        assert_eq!((s.isr.clone(), s.elr.clone(), s.leader), (vec![2], vec![], Some(2)));
    }

    #[test]
    fn the_last_known_elr_is_the_fallback_when_isr_and_elr_are_empty() {
        let s = st(&[], &[], None);
        assert_eq!(choose(&s, &[1, 3], NEW, false, &[1]), (Some(1), ElectionKind::Elr));
        assert_eq!(choose(&s, &[3], NEW, false, &[1]), (None, ElectionKind::Offline));
        let unclean = Rules { unclean: true, ..NEW };
        assert_eq!(choose(&s, &[3], unclean, false, &[1]), (Some(3), ElectionKind::Unclean));
    }

    #[test]
    fn clean_election_comes_first_in_replica_order() {
        let s = st(&[2, 3], &[1], None);
        assert_eq!(choose(&s, &[1, 2, 3], NEW, false, &[]), (Some(2), ElectionKind::Clean));
        assert_eq!(choose(&s, &[1, 3], OLD, true, &[]), (Some(3), ElectionKind::Clean));
        let s = st(&[2], &[], None);
        assert_eq!(choose(&s, &[1, 3], OLD, true, &[]), (Some(1), ElectionKind::Unclean));
    }
}
