//! Kafka's sticky-assignor tests (`AbstractStickyAssignorTest`, run there for both
//! `StickyAssignor` and `CooperativeStickyAssignor`, and `CooperativeStickyAssignorTest`),
//! translated onto `broker::coordinator::assignor`. One topic: Kafka's `tp(topic, i)` is
//! partition `i`; `consumer1..` are the member keys; `subscription(topics, generation)` without
//! owned partitions is `Owned::default()`. `sticky_assign` is the StickyAssignor run,
//! `cooperative_sticky_assign` the cooperative one (partitions changing owner held back). Read at
//! 3.7.0, `clients/src/test/java/org/apache/kafka/clients/consumer/internals/AbstractStickyAssignorTest.java`
//! and `clients/src/test/java/org/apache/kafka/clients/consumer/CooperativeStickyAssignorTest.java`.

use losslab_sim::broker::coordinator::assignor::{cooperative_sticky_assign, sticky_assign, Owned, StickyAssignment};
use std::collections::BTreeMap;

fn owns(partitions: &[u32], generation: u32) -> Owned {
    Owned { partitions: partitions.to_vec(), generation: Some(generation) }
}

fn members(list: &[(&'static str, Owned)]) -> BTreeMap<&'static str, Owned> {
    list.iter().cloned().collect()
}

fn of(a: &StickyAssignment<&'static str>, member: &str) -> Vec<u32> {
    a.assignment[member].clone()
}

/// Re-runs the cooperative assignor with each member owning what it was given, until nothing
/// is transferring (Kafka's `verifyValidityAndBalance` follow-up rounds), at most 4 rounds.
fn settle(partitions: u32, mut m: BTreeMap<&'static str, Owned>, generation: u32) -> StickyAssignment<&'static str> {
    for round in 0..4 {
        let a = cooperative_sticky_assign(partitions, &m);
        if a.transferring.is_empty() {
            return a;
        }
        for (k, v) in &a.assignment {
            m.insert(k, owns(v, generation + round + 1));
        }
    }
    panic!("the cooperative assignment did not settle in 4 rounds");
}

fn balanced(a: &StickyAssignment<&'static str>) -> bool {
    let sizes: Vec<usize> = a.assignment.values().map(Vec::len).collect();
    sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1
}

/// Kafka: AbstractStickyAssignorTest.testTwoConsumersOneTopicTwoPartitions (3.7.0).
#[test]
fn two_consumers_one_topic_two_partitions() {
    let m = members(&[("consumer1", Owned::default()), ("consumer2", Owned::default())]);
    for a in [sticky_assign(2, &m), cooperative_sticky_assign(2, &m)] {
        assert_eq!(of(&a, "consumer1"), [0]);
        assert_eq!(of(&a, "consumer2"), [1]);
        assert!(a.transferring.is_empty());
    }
}

/// Kafka: AbstractStickyAssignorTest.testAddRemoveConsumerOneTopic (3.7.0), with
/// CooperativeStickyAssignorTest's first round: partition 2 is transferring to consumer2, which
/// gets it only once consumer1 gave it up.
#[test]
fn add_remove_consumer_one_topic() {
    let a = sticky_assign(3, &members(&[("consumer1", Owned::default())]));
    assert_eq!(of(&a, "consumer1"), [0, 1, 2]);

    let m = members(&[("consumer1", owns(&[0, 1, 2], 1)), ("consumer2", owns(&[], 1))]);
    let sticky = sticky_assign(3, &m);
    assert_eq!(sticky.transferring, BTreeMap::from([(2, "consumer2")]));
    assert_eq!((of(&sticky, "consumer1"), of(&sticky, "consumer2")), (vec![0, 1], vec![2]));
    let first = cooperative_sticky_assign(3, &m);
    assert_eq!((of(&first, "consumer1"), of(&first, "consumer2")), (vec![0, 1], vec![]));
    let last = settle(3, m, 1);
    assert_eq!((of(&last, "consumer1"), of(&last, "consumer2")), (vec![0, 1], vec![2]));

    let a = sticky_assign(3, &members(&[("consumer2", owns(&[2], 1))]));
    assert_eq!(of(&a, "consumer2"), [0, 1, 2]);
    assert!(a.transferring.is_empty());
}

/// Kafka: AbstractStickyAssignorTest.testStickiness (3.7.0), one topic: 3 partitions over 4
/// consumers; when a consumer with a partition leaves, the others keep theirs.
#[test]
fn stickiness() {
    let m = members(&[
        ("consumer1", Owned::default()),
        ("consumer2", Owned::default()),
        ("consumer3", Owned::default()),
        ("consumer4", Owned::default()),
    ]);
    let a = sticky_assign(3, &m);
    assert!(a.assignment.values().all(|v| v.len() <= 1));
    let holder = *a.assignment.iter().find(|(_, v)| v.len() == 1).unwrap().0;
    let before = a.assignment.clone();
    let rest: BTreeMap<&str, Owned> =
        before.iter().filter(|(k, _)| **k != holder).map(|(k, v)| (*k, owns(v, 1))).collect();
    let b = sticky_assign(3, &rest);
    assert!(b.transferring.is_empty());
    for (k, v) in &b.assignment {
        assert_eq!(v.len(), 1, "{k} has exactly one");
        if !before[k].is_empty() {
            assert_eq!(&before[k], v, "{k} keeps its partition");
        }
    }
}

/// Kafka: AbstractStickyAssignorTest.testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration
/// and CooperativeStickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer
/// (3.7.0): partition 0, claimed by two members of one generation, belongs to neither.
#[test]
fn partition_claimed_twice_in_one_generation() {
    let m = members(&[("consumer1", owns(&[0, 1], 1)), ("consumer2", owns(&[0, 2], 1)), ("consumer3", owns(&[], 1))]);
    let sticky = sticky_assign(3, &m);
    assert_eq!(sticky.transferring, BTreeMap::from([(0, "consumer3")]));
    assert_eq!(
        (of(&sticky, "consumer1"), of(&sticky, "consumer2"), of(&sticky, "consumer3")),
        (vec![1], vec![2], vec![0])
    );
    let first = cooperative_sticky_assign(3, &m);
    assert_eq!((of(&first, "consumer1"), of(&first, "consumer2"), of(&first, "consumer3")), (vec![1], vec![2], vec![]));
}

/// Kafka: AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration
/// (and ...WithNoGeneration) (3.7.0), two topics of 3 flattened to partitions 0-5: the claims
/// of generation 9 yield to generation 10's.
#[test]
fn owned_partitions_are_invalidated_for_consumer_with_stale_generation() {
    for stale in [Some(9), None] {
        let m = members(&[
            ("consumer1", owns(&[0, 2, 4], 10)),
            ("consumer2", Owned { partitions: vec![0, 2, 4], generation: stale }),
        ]);
        let a = cooperative_sticky_assign(6, &m);
        assert_eq!((of(&a, "consumer1"), of(&a, "consumer2")), (vec![0, 2, 4], vec![1, 3, 5]));
        assert!(a.transferring.is_empty());
    }
}

/// Kafka: AbstractStickyAssignorTest.testEnsurePartitionsAssignedToHighestGeneration (3.7.0),
/// three topics of 3 flattened to 0-8.
#[test]
fn ensure_partitions_assigned_to_highest_generation() {
    let m = members(&[
        ("consumer1", owns(&[0, 3, 6], 10)),
        ("consumer2", owns(&[1, 4, 7], 9)),
        ("consumer3", owns(&[4, 6, 8], 8)),
    ]);
    let a = cooperative_sticky_assign(9, &m);
    assert_eq!(
        (of(&a, "consumer1"), of(&a, "consumer2"), of(&a, "consumer3")),
        (vec![0, 3, 6], vec![1, 4, 7], vec![2, 5, 8])
    );
    assert!(a.transferring.is_empty());
}

/// Kafka: AbstractStickyAssignorTest.testReassignmentAfterOneConsumerAdded (3.7.0): 20
/// partitions over 9 then 10 consumers owning nothing: balanced, nothing transferring.
#[test]
fn reassignment_after_one_consumer_added() {
    const NAMES: [&str; 10] = [
        "consumer01",
        "consumer02",
        "consumer03",
        "consumer04",
        "consumer05",
        "consumer06",
        "consumer07",
        "consumer08",
        "consumer09",
        "consumer10",
    ];
    let nine: BTreeMap<&str, Owned> = NAMES[..9].iter().map(|&n| (n, Owned::default())).collect();
    let a = sticky_assign(20, &nine);
    assert!(balanced(&a) && a.assignment.values().all(|v| (2..=3).contains(&v.len())));
    assert!(a.transferring.is_empty());
    let ten: BTreeMap<&str, Owned> = NAMES.iter().map(|&n| (n, Owned::default())).collect();
    let b = sticky_assign(20, &ten);
    assert!(b.assignment.values().all(|v| v.len() == 2));
    assert!(b.transferring.is_empty());
}
