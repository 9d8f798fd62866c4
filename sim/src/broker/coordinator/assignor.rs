//! The partition assignors the group runs, pure functions of the members and what they own, for
//! the run's one topic: Kafka's `RangeAssignor` (eager) and `CooperativeStickyAssignor` (KIP-429,
//! 2.4). The sticky one follows `AbstractStickyAssignor` as of 3.7 for members with equal
//! subscriptions (`allSubscriptionsEqual` + `ConstrainedAssignmentBuilder`): claims of an older
//! generation yield to a newer one, a partition claimed twice in one generation is owned by no
//! one, each member keeps what it owns up to its quota, and the rest goes round-robin to the
//! members below quota. The cooperative variant then holds back every partition that changes
//! owner (`adjustAssignment`): its owner gives it up first, and the rebalance that follows hands
//! it over. In Kafka the group leader's client runs the assignor; losslab folds SyncGroup into
//! the JoinGroup answer, so the coordinator runs it (see `group`).

use std::collections::{BTreeMap, BTreeSet};

/// What a member's JoinGroup subscription says about its past (`Subscription.ownedPartitions`
/// and `generationId`, or the sticky assignor's user data before 2.8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owned {
    pub partitions: Vec<u32>,
    /// The generation the member owned them in; `None`: `DEFAULT_GENERATION` (-1).
    pub generation: Option<u32>,
}

/// A sticky assignor's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickyAssignment<K: Ord> {
    /// Every member's partitions, ascending.
    pub assignment: BTreeMap<K, Vec<u32>>,
    /// `partitionsTransferringOwnership`: partitions taken from a previous owner, and to whom.
    pub transferring: BTreeMap<u32, K>,
}

/// Kafka's RangeAssignor for one topic: members in member-id order, each a contiguous range of
/// partitions, the first `partitions % members` one partition more.
pub fn range_assign(partitions: u32, members: usize) -> Vec<Vec<u32>> {
    let n = members as u32;
    if n == 0 {
        return Vec::new();
    }
    let (per, extra) = (partitions / n, partitions % n);
    (0..n)
        .map(|i| {
            let start = i * per + i.min(extra);
            let len = per + u32::from(i < extra);
            (start..start + len).collect()
        })
        .collect()
}

/// `AbstractStickyAssignor.assignPartitions` for one topic (`StickyAssignor` semantics: a
/// partition changing owner is assigned at once).
pub fn sticky_assign<K: Ord + Clone>(partitions: u32, members: &BTreeMap<K, Owned>) -> StickyAssignment<K> {
    let mut assignment: BTreeMap<K, Vec<u32>> = members.keys().map(|k| (k.clone(), Vec::new())).collect();
    let mut transferring = BTreeMap::new();
    if members.is_empty() {
        return StickyAssignment { assignment, transferring };
    }
    let (owned, doubly_claimed) = valid_claims(partitions, members);
    let n = members.len() as u32;
    let (min_quota, max_quota) = (partitions / n, partitions.div_ceil(n));
    let expected_over_min = (partitions % n) as usize;
    let mut over_min = 0usize;
    let mut revoked: BTreeSet<u32> = BTreeSet::new();
    let mut under_min: Vec<K> = Vec::new();
    let mut exactly_min: Vec<K> = Vec::new();
    let mut assigned: BTreeSet<u32> = BTreeSet::new();
    // assignOwnedPartitions
    for (member, claims) in &owned {
        let mine = assignment.get_mut(member).expect("every member has an entry");
        let claims: Vec<u32> = claims.iter().copied().filter(|p| !doubly_claimed.contains(p)).collect();
        let len = claims.len() as u32;
        if len < min_quota {
            mine.extend(&claims);
            assigned.extend(&claims);
            under_min.push(member.clone());
        } else if len >= max_quota && over_min < expected_over_min {
            over_min += 1;
            if over_min == expected_over_min {
                exactly_min.clear();
            }
            let (keep, give) = claims.split_at(max_quota as usize);
            mine.extend(keep);
            assigned.extend(keep);
            revoked.extend(give);
        } else {
            let (keep, give) = claims.split_at(min_quota as usize);
            mine.extend(keep);
            assigned.extend(keep);
            revoked.extend(give);
            if over_min < expected_over_min {
                exactly_min.push(member.clone());
            }
        }
    }
    under_min.sort();
    exactly_min.sort();
    // assignRoundRobin over the unassigned partitions, ascending.
    let unassigned: Vec<u32> = (0..partitions).filter(|p| !assigned.contains(p)).collect();
    // `next` mirrors Kafka's iterator over the members below quota.
    let mut next = 0usize;
    for &p in &unassigned {
        let from_under = !under_min.is_empty();
        let member = if next < under_min.len() {
            next += 1;
            under_min[next - 1].clone()
        } else if from_under {
            next = 1;
            under_min[0].clone()
        } else {
            assert!(!exactly_min.is_empty(), "no more unfilled consumers to be assigned (Kafka throws)");
            exactly_min.remove(0)
        };
        let mine = assignment.get_mut(&member).expect("member");
        mine.push(p);
        if revoked.contains(&p) || doubly_claimed.contains(&p) {
            transferring.insert(p, member.clone());
        }
        let count = mine.len() as u32;
        if count == min_quota && from_under {
            // `unfilledConsumerIter.remove()`: it has its minimum, and may take one more.
            next -= 1;
            under_min.remove(next);
            exactly_min.push(member);
        }
    }
    for partitions in assignment.values_mut() {
        partitions.sort_unstable();
    }
    StickyAssignment { assignment, transferring }
}

/// `CooperativeStickyAssignor.assignPartitions`: the sticky assignment minus every partition
/// changing owner (`adjustAssignment`); `transferring` says where each will go next round.
pub fn cooperative_sticky_assign<K: Ord + Clone>(partitions: u32, members: &BTreeMap<K, Owned>) -> StickyAssignment<K> {
    let mut a = sticky_assign(partitions, members);
    for (p, to) in &a.transferring {
        if let Some(list) = a.assignment.get_mut(to) {
            list.retain(|x| x != p);
        }
    }
    a
}

/// `allSubscriptionsEqual`: each member's claims that count. A claim from an older generation
/// yields to a newer one; two claims in one generation void the partition for both
/// (`partitionsWithMultiplePreviousOwners`). Claims beyond the topic's partitions are ignored.
fn valid_claims<K: Ord + Clone>(
    partitions: u32,
    members: &BTreeMap<K, Owned>,
) -> (BTreeMap<K, Vec<u32>>, BTreeSet<u32>) {
    let gen = |o: &Owned| o.generation.map_or(-1, i64::from);
    let mut owned: BTreeMap<K, Vec<u32>> = BTreeMap::new();
    let mut owner_of: BTreeMap<u32, K> = BTreeMap::new();
    let mut doubly_claimed = BTreeSet::new();
    for (member, sub) in members {
        owned.insert(member.clone(), Vec::new());
        let mut claims = sub.partitions.clone();
        claims.sort_unstable();
        claims.dedup();
        for p in claims.into_iter().filter(|&p| p < partitions) {
            match owner_of.get(&p).cloned() {
                None => {
                    owned.get_mut(member).expect("inserted").push(p);
                    owner_of.insert(p, member.clone());
                }
                Some(other) => {
                    let (mine, theirs) = (gen(sub), gen(&members[&other]));
                    if mine == theirs {
                        doubly_claimed.insert(p);
                        owned.get_mut(&other).expect("an owner").retain(|&x| x != p);
                        owner_of.insert(p, member.clone());
                    } else if mine > theirs {
                        owned.get_mut(member).expect("inserted").push(p);
                        owned.get_mut(&other).expect("an owner").retain(|&x| x != p);
                        owner_of.insert(p, member.clone());
                    }
                }
            }
        }
    }
    (owned, doubly_claimed)
}
