//! The controller's partition-change rules as one pure function, in the manner of Kafka's
//! `PartitionChangeBuilder` (KRaft, read at 3.8.0 and trunk of October 2024): a change proposes a
//! target ISR and says which brokers may lead; `apply` works out the eligible leader replicas, the
//! leader, the leader epoch and KIP-966's last known leader, and bumps the partition epoch when
//! anything changed. ZooKeeper-mode controllers (`KafkaController`, `Election.scala`) follow the
//! same election order; where they differ (the last ISR member, epoch bumps) `Rules` says so.
//! Kept apart from the controller's message handling so that every release line's rule can be
//! tested on its own (see `sim/tests/election.rs` for the cases translated from Kafka's tests).
//!
//! - The ISR never empties without ELR: the last member stays and the partition waits for it
//!   (KRaft writes no empty ISR; ZooKeeper keeps the last member from 1.1, KAFKA-5642, and before
//!   only with unclean election off).
//! - With ELR (KIP-966), members leaving an ISR that falls below min ISR become eligible leader
//!   replicas, unless they are back from an unclean shutdown; an ISR at or above min ISR clears
//!   the ELR. A leader is the first acceptable replica, in replica order, of the ISR, or of the
//!   ELR when the ISR is empty (it becomes the ISR).
//! - The last known leader: the leader at the moment the ISR first empties (ELR on), cleared once
//!   a leader exists, elected only when ISR and ELR are both empty and it is acceptable
//!   (KAFKA-19522), as an unclean election: the ISR becomes it alone.
//! - Unclean election (the topic allows it, or an operator asks): the first acceptable replica.
//! - Leader epochs: every leader change bumps it; KRaft 3.0-3.5 also bumps it when the ISR loses
//!   a member; a ZooKeeper controller bumps it on every change it makes itself (never on the
//!   leader's own AlterPartition).

use crate::fault::mutation::{self, Mutation};
use crate::protocol::PartitionState;
use losslab_model::config::MetadataMode;
use losslab_model::history::ElectionKind;

#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// The effective `min.insync.replicas` (capped at the replication factor from 3.7).
    pub min_insync_replicas: u32,
    /// KIP-966 eligible leader replicas.
    pub elr: bool,
    /// `unclean.leader.election.enable`.
    pub unclean: bool,
    pub mode: MetadataMode,
    /// KRaft before 3.6: an ISR shrink bumps the leader epoch.
    pub bump_epoch_on_shrink: bool,
    /// ZooKeeper from 1.1: removing a dead broker keeps the last ISR member whatever the topic says.
    pub keep_last_isr_member: bool,
}

/// Who asks for the change: the leader's AlterPartition, or the controller itself (failures,
/// fencing, controlled shutdowns, elections).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Leader,
    Controller,
}

/// What kind of election the change may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Election {
    /// Keep a valid leader, else elect one (uncleanly only if the topic allows it).
    Normal,
    /// An operator's preferred-leader election: the first replica if it is valid.
    Preferred,
    /// An operator's unclean election: any acceptable replica if no valid one is left.
    Unclean,
}

/// One proposed change to a partition.
pub struct Change<'a> {
    pub target_isr: Vec<u32>,
    pub origin: Origin,
    pub election: Election,
    /// Whether a broker may lead after this change: registered, not fenced, not shutting down,
    /// not the broker this change removes (Kafka's `isAcceptableLeader`).
    pub acceptable: &'a dyn Fn(u32) -> bool,
    /// Brokers back from an unclean shutdown (KIP-966): they may not stay in or join the ELR.
    pub unclean_shutdown: &'a [u32],
}

/// What `apply` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub changed: bool,
    /// Set when the leader changed: how the new one (or none) came to be.
    pub election: Option<ElectionKind>,
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Applies `change` to `st` under `rules`.
pub fn apply(st: &mut PartitionState, change: &Change, rules: Rules) -> Outcome {
    let before = st.clone();
    let mut target_isr = sorted(change.target_isr.clone());
    if target_isr.is_empty() && !rules.elr {
        // Kafka never writes an empty ISR without ELR: the last member stays.
        let may_empty = rules.mode == MetadataMode::ZooKeeper && !rules.keep_last_isr_member && rules.unclean;
        if !may_empty {
            target_isr = st.isr.clone();
        }
    }
    // KIP-966 bookkeeping (`maybePopulateTargetElr`).
    let mut elr = st.elr.clone();
    if rules.elr {
        if target_isr.len() as u32 >= rules.min_insync_replicas {
            elr.clear();
            st.last_known_elr.clear();
        } else {
            elr.extend(st.isr.iter().copied());
            elr = sorted(elr);
            elr.retain(|r| !target_isr.contains(r) && !change.unclean_shutdown.contains(r));
        }
    }
    let (leader, isr, elr, kind) = elect(st, change, rules, target_isr, elr);
    st.isr = isr;
    st.elr = elr;
    let leader_changed = leader != st.leader;
    st.leader = leader;
    if rules.elr {
        if st.isr.is_empty() && st.leader.is_none() {
            // The leader at the moment the ISR first empties.
            if let Some(old) = before.leader {
                st.last_known_elr = vec![old];
            }
        } else if st.leader.is_some() {
            st.last_known_elr.clear();
        }
    }
    let shrank = before.isr.iter().any(|r| !st.isr.contains(r));
    let changed = *st != before;
    let bump = leader_changed
        || (changed && rules.mode == MetadataMode::ZooKeeper && change.origin == Origin::Controller)
        || (shrank && rules.mode == MetadataMode::KRaft && rules.bump_epoch_on_shrink);
    if bump {
        st.leader_epoch += 1;
    }
    if changed {
        st.partition_epoch += 1;
    }
    Outcome { changed, election: leader_changed.then_some(kind) }
}

/// Kafka's `electAnyLeader` / `electPreferredLeader`: (leader, ISR, ELR, how).
fn elect(
    st: &PartitionState,
    change: &Change,
    rules: Rules,
    isr: Vec<u32>,
    elr: Vec<u32>,
) -> (Option<u32>, Vec<u32>, Vec<u32>, ElectionKind) {
    let acceptable = |r: u32| (change.acceptable)(r) && !change.unclean_shutdown.contains(&r);
    if mutation::on(Mutation::ElectionIgnoresIsr) {
        // The bug: the first live replica leads, in or out of the ISR, and joins it.
        let leader = st.replicas.iter().copied().find(|&r| acceptable(r));
        let mut isr = isr;
        isr.extend(leader.filter(|l| !isr.contains(l)));
        return (leader, sorted(isr), elr, if leader.is_some() { ElectionKind::Clean } else { ElectionKind::Offline });
    }
    let valid = |r: u32| (isr.contains(&r) || (isr.is_empty() && elr.contains(&r))) && acceptable(r);
    let preferred = st.replicas.first().copied().filter(|&r| valid(r));
    let keep = st.leader.filter(|&l| valid(l));
    let first_valid = || st.replicas.iter().copied().find(|&r| valid(r));
    // `electPreferredLeader` tries the first replica, then goes on as `electAnyLeader` does.
    let chosen = match change.election {
        Election::Preferred => preferred.or(keep).or_else(first_valid),
        _ => keep.or_else(first_valid),
    };
    if let Some(leader) = chosen {
        if isr.contains(&leader) {
            return (Some(leader), isr, elr, ElectionKind::Clean);
        }
        // From the ELR: it becomes the ISR.
        let elr = elr.into_iter().filter(|&r| r != leader).collect();
        return (Some(leader), vec![leader], elr, ElectionKind::Elr);
    }
    if rules.elr && isr.is_empty() && elr.is_empty() {
        if let [last] = st.last_known_elr[..] {
            if acceptable(last) {
                return (Some(last), vec![last], vec![], ElectionKind::LastKnownLeader);
            }
        }
    }
    // A preferred-leader election never elects uncleanly, whatever the topic allows.
    let unclean_allowed = match change.election {
        Election::Unclean => true,
        Election::Normal => rules.unclean,
        Election::Preferred => false,
    };
    if unclean_allowed {
        if let Some(leader) = st.replicas.iter().copied().find(|&r| acceptable(r)) {
            return (Some(leader), vec![leader], vec![], ElectionKind::Unclean);
        }
    }
    (None, isr, elr, ElectionKind::Offline)
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
            last_known_elr: vec![],
        }
    }

    const OLD: Rules = Rules {
        min_insync_replicas: 2,
        elr: false,
        unclean: false,
        mode: MetadataMode::KRaft,
        bump_epoch_on_shrink: false,
        keep_last_isr_member: true,
    };
    const NEW: Rules = Rules { elr: true, ..OLD };

    fn remove(s: &mut PartitionState, b: u32, rules: Rules, live: &[u32]) -> Outcome {
        let target: Vec<u32> = s.isr.iter().copied().filter(|&r| r != b).collect();
        let acceptable = |r: u32| r != b && live.contains(&r);
        let change = Change {
            target_isr: target,
            origin: Origin::Controller,
            election: Election::Normal,
            acceptable: &acceptable,
            unclean_shutdown: &[],
        };
        apply(s, &change, rules)
    }

    #[test]
    fn without_elr_the_last_isr_member_stays() {
        let mut s = st(&[1], &[], Some(1));
        let out = remove(&mut s, 1, OLD, &[2, 3]);
        assert_eq!((s.isr.clone(), s.leader, s.leader_epoch), (vec![1], None, 2));
        assert_eq!(out.election, Some(ElectionKind::Offline));
    }

    #[test]
    fn members_leaving_an_isr_below_min_isr_become_eligible() {
        let mut s = st(&[1, 2, 3], &[], Some(1));
        remove(&mut s, 3, NEW, &[1, 2]);
        assert_eq!((s.isr.clone(), s.elr.clone()), (vec![1, 2], vec![]));
        remove(&mut s, 2, NEW, &[1]);
        assert_eq!((s.isr.clone(), s.elr.clone()), (vec![1], vec![2]));
        remove(&mut s, 1, NEW, &[]);
        assert_eq!((s.isr.clone(), s.elr.clone()), (vec![], vec![1, 2]), "with ELR the ISR may empty");
        assert_eq!((s.leader, s.last_known_elr.clone()), (None, vec![1]), "the last leader is remembered");
    }

    #[test]
    fn an_elr_member_is_elected_when_the_isr_is_empty() {
        let mut s = st(&[], &[1, 2], None);
        let acceptable = |r: u32| r == 2;
        let change = Change {
            target_isr: vec![],
            origin: Origin::Controller,
            election: Election::Normal,
            acceptable: &acceptable,
            unclean_shutdown: &[1],
        };
        let out = apply(&mut s, &change, NEW);
        assert_eq!(out.election, Some(ElectionKind::Elr));
        assert_eq!((s.isr.clone(), s.elr.clone(), s.leader), (vec![2], vec![], Some(2)));
    }

    #[test]
    fn the_last_known_leader_is_the_fallback_only_when_acceptable() {
        let mut s = st(&[], &[], None);
        s.last_known_elr = vec![1];
        let dead = |_: u32| false;
        let change = Change {
            target_isr: vec![],
            origin: Origin::Controller,
            election: Election::Normal,
            acceptable: &dead,
            unclean_shutdown: &[],
        };
        assert_eq!(apply(&mut s, &change, NEW).election, None, "a fenced last known leader is not elected");
        let only_1 = |r: u32| r == 1;
        let change = Change { acceptable: &only_1, ..change };
        assert_eq!(apply(&mut s, &change, NEW).election, Some(ElectionKind::LastKnownLeader));
        assert_eq!((s.isr.clone(), s.leader, s.last_known_elr.clone()), (vec![1], Some(1), vec![]));
    }

    #[test]
    fn the_zookeeper_controller_bumps_the_epoch_on_its_own_changes_only() {
        let zk = Rules { mode: MetadataMode::ZooKeeper, ..OLD };
        let mut s = st(&[1, 2, 3], &[], Some(1));
        remove(&mut s, 3, zk, &[1, 2]);
        assert_eq!((s.leader_epoch, s.partition_epoch), (2, 2), "a controller-made shrink bumps");
        let all = |_: u32| true;
        let change = Change {
            target_isr: vec![1],
            origin: Origin::Leader,
            election: Election::Normal,
            acceptable: &all,
            unclean_shutdown: &[],
        };
        apply(&mut s, &change, zk);
        assert_eq!((s.leader_epoch, s.partition_epoch), (2, 3), "the leader's own shrink does not");
        let kraft_3_5 = Rules { bump_epoch_on_shrink: true, ..OLD };
        let mut s = st(&[1, 2, 3], &[], Some(1));
        let change = Change {
            target_isr: vec![1, 2],
            origin: Origin::Leader,
            election: Election::Normal,
            acceptable: &all,
            unclean_shutdown: &[],
        };
        apply(&mut s, &change, kraft_3_5);
        assert_eq!(s.leader_epoch, 2, "KRaft before 3.6 bumps on every shrink");
    }

    #[test]
    fn zookeeper_before_1_1_empties_the_isr_when_unclean_election_is_on() {
        let zk_0_10 = Rules { mode: MetadataMode::ZooKeeper, keep_last_isr_member: false, unclean: true, ..OLD };
        let mut s = st(&[1], &[], Some(1));
        let out = remove(&mut s, 1, zk_0_10, &[2]);
        assert_eq!(out.election, Some(ElectionKind::Unclean), "b2 is elected uncleanly at once");
        assert_eq!((s.isr.clone(), s.leader), (vec![2], Some(2)));
        let zk_1_1 = Rules { keep_last_isr_member: true, ..zk_0_10 };
        let mut s = st(&[1], &[], Some(1));
        remove(&mut s, 1, zk_1_1, &[2]);
        assert_eq!((s.isr.clone(), s.leader), (vec![2], Some(2)), "unclean election still picks b2");
    }

    #[test]
    fn clean_election_comes_first_in_replica_order() {
        let mut s = st(&[2, 3], &[1], None);
        let all = |_: u32| true;
        let change = Change {
            target_isr: vec![2, 3],
            origin: Origin::Controller,
            election: Election::Normal,
            acceptable: &all,
            unclean_shutdown: &[],
        };
        assert_eq!(apply(&mut s, &change, NEW).election, Some(ElectionKind::Clean));
        assert_eq!(s.leader, Some(2));
        let mut s = st(&[2], &[], None);
        let not_2 = |r: u32| r != 2;
        let change = Change { target_isr: vec![2], election: Election::Unclean, acceptable: &not_2, ..change };
        assert_eq!(apply(&mut s, &change, OLD).election, Some(ElectionKind::Unclean));
        assert_eq!((s.leader, s.isr.clone()), (Some(1), vec![1]));
    }
}
