//! Kafka's `GroupCoordinatorTest` static-member cases (KIP-345), translated onto the pure group
//! coordinator (`broker::coordinator::group`). `staticMembersJoinAndRebalance` is [`stable`]:
//! consumer 1 is the leader (`leader-instance-id`), consumer 2 the follower
//! (`follower-instance-id`). losslab folds SyncGroup into the JoinGroup answer, so Kafka's
//! `syncGroupFollower(...).memberAssignment` is the join answer's partitions. Read at 3.7.0,
//! `core/src/test/scala/unit/kafka/coordinator/group/GroupCoordinatorTest.scala`.

use losslab_sim::broker::coordinator::group::{CommitRequest, JoinRequest};
use losslab_sim::broker::coordinator::{Coordinator, GroupState, Out, ReplyTo};
use losslab_sim::protocol::{JoinResult, KafkaError, MemberId};

const S: u64 = 1_000_000;
const LEADER: &str = "leader-instance-id";
const FOLLOWER: &str = "follower-instance-id";

fn reply(corr: u64) -> ReplyTo {
    ReplyTo { node: 9, corr }
}

fn join(consumer: u32, member: Option<MemberId>, serial: u64, instance: Option<&str>) -> JoinRequest {
    JoinRequest {
        consumer,
        member,
        serial,
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 60_000,
        instance: instance.map(str::to_string),
        ..Default::default()
    }
}

fn answers(out: &[Out]) -> Vec<(u64, Result<JoinResult, KafkaError>)> {
    out.iter()
        .filter_map(|o| match o {
            Out::JoinAnswer(r, _, res) => Some((r.corr, res.clone())),
            _ => None,
        })
        .collect()
}

fn append_op(out: &[Out]) -> Option<u64> {
    out.iter().find_map(|o| match o {
        Out::Append { op, .. } => Some(*op),
        _ => None,
    })
}

/// `staticMembersJoinAndRebalance`: both static members join as new members, the group
/// completes generation 1 and is Stable. Returns the coordinator and (leader, follower) results.
fn stable() -> (Coordinator, JoinResult, JoinResult) {
    let mut c = Coordinator::load(1, 4, &[], 0).0;
    c.on_join_request(0, reply(1), join(1, None, 11, Some(LEADER)));
    c.on_join_request(0, reply(2), join(2, None, 12, Some(FOLLOWER)));
    let mut out = c.on_tick(3 * S);
    if append_op(&out).is_none() {
        out = c.on_tick(6 * S);
    }
    let out = c.on_appended(6 * S, append_op(&out).expect("generation 1 is written"), Ok(()));
    let mut results: Vec<JoinResult> = answers(&out).into_iter().map(|(_, r)| r.unwrap()).collect();
    results.sort_by_key(|r| r.member.consumer);
    assert_eq!((c.generation(), c.state()), (1, GroupState::Stable));
    let follower = results.pop().unwrap();
    (c, results.pop().unwrap(), follower)
}

/// Kafka: GroupCoordinatorTest.staticMemberRejoinAsFollowerWithUnknownMemberId (3.7.0): the
/// follower rejoins with no member id: same generation, no rebalance, a new member id, its old
/// assignment; the leader stays.
#[test]
fn static_member_rejoin_as_follower_with_unknown_member_id() {
    let (mut c, leader, follower) = stable();
    let out = c.on_join_request(6 * S + 1, reply(3), join(2, None, 13, Some(FOLLOWER)));
    let got = answers(&out);
    assert_eq!(got.len(), 1);
    let result = got[0].1.clone().unwrap();
    assert_eq!(result.generation, follower.generation, "the group has no change");
    assert_eq!(c.state(), GroupState::Stable);
    assert_ne!(result.member, follower.member);
    assert_eq!(result.partitions, follower.partitions);
    assert_eq!(c.instance_member(LEADER), Some(leader.member), "the old leader is not timed out");
    assert_eq!(c.instance_member(FOLLOWER), Some(result.member));
}

/// Kafka: GroupCoordinatorTest.staticMemberReJoinWithExplicitUnknownMemberId (3.7.0): a known
/// instance id with a member id it does not hold is FENCED_INSTANCE_ID.
#[test]
fn static_member_rejoin_with_explicit_unknown_member_id() {
    let (mut c, _, _) = stable();
    let unknown = MemberId { consumer: 2, serial: 999 };
    let out = c.on_join_request(7 * S, reply(3), join(2, Some(unknown), 0, Some(FOLLOWER)));
    assert_eq!(answers(&out), vec![(3, Err(KafkaError::FencedInstanceId))]);
}

/// Kafka: GroupCoordinatorTest.staticMemberCommitOffsetWithInvalidMemberId (3.7.0): the leader's
/// commit is accepted; one naming its instance id with another member id is fenced.
#[test]
fn static_member_commit_offset_with_invalid_member_id() {
    let (mut c, leader, _) = stable();
    let valid = CommitRequest {
        consumer: 1,
        member: Some(leader.member),
        generation: Some(1),
        offsets: vec![(0, 0)],
        instance: Some(LEADER.into()),
        ..Default::default()
    };
    let out = c.on_commit_request(7 * S, reply(3), valid.clone());
    assert!(append_op(&out).is_some(), "accepted and written");
    let invalid = CommitRequest { member: Some(MemberId { consumer: 1, serial: 999 }), ..valid };
    let out = c.on_commit_request(7 * S, reply(4), invalid);
    assert_eq!(out, vec![Out::CommitAnswer(reply(4), Err(KafkaError::FencedInstanceId))]);
}

/// Kafka: GroupCoordinatorTest.staticMemberFenceDuplicateRejoinedFollower (3.7.0): while a third
/// member's join rebalances the group, the old follower rejoins with its member id and a
/// duplicate joins with no member id and the follower's instance id: the old follower's pending
/// join is answered FENCED_INSTANCE_ID at once, the duplicate waits for the rebalance.
#[test]
fn static_member_fence_duplicate_rejoined_follower() {
    let (mut c, _, follower) = stable();
    c.on_join_request(7 * S, reply(3), join(3, None, 14, None));
    assert_eq!(c.state(), GroupState::PreparingRebalance);
    let out = c.on_join_request(7 * S + 1, reply(4), join(2, Some(follower.member), 0, Some(FOLLOWER)));
    assert!(answers(&out).is_empty(), "the old follower waits in the rebalance");
    let out = c.on_join_request(7 * S + 2, reply(5), join(2, None, 15, Some(FOLLOWER)));
    assert_eq!(answers(&out), vec![(4, Err(KafkaError::FencedInstanceId))]);
    assert_eq!(c.state(), GroupState::PreparingRebalance);
    assert_eq!(c.instance_member(FOLLOWER), Some(MemberId { consumer: 2, serial: 15 }));
}

/// Kafka's `GroupCoordinatorTest.setupGroupWithPendingMember` (2.2.0, KIP-394): two dynamic
/// members stable in generation 1 (each joined twice, the second time with the id that
/// MEMBER_ID_REQUIRED gave it); member 1 rejoins (PreparingRebalance); a new member gets an id
/// with a 100 ms session and stays pending; member 2 rejoins. Returns the pending id.
fn group_with_pending_member() -> (Coordinator, MemberId) {
    let mut c = Coordinator::load(1, 4, &[], 0).0;
    c.require_known_member_id(true);
    let mut ids = Vec::new();
    for consumer in 1..=2u32 {
        let out = c.on_join_request(0, reply(consumer as u64), join(consumer, None, consumer as u64, None));
        let handed: Vec<(Option<MemberId>, KafkaError)> = out
            .iter()
            .filter_map(|o| match o {
                Out::JoinAnswer(_, id, Err(e)) => Some((*id, *e)),
                _ => None,
            })
            .collect();
        let id = MemberId { consumer, serial: consumer as u64 };
        assert_eq!(handed, vec![(Some(id), KafkaError::MemberIdRequired)]);
        c.on_join_request(0, reply(10 + consumer as u64), join(consumer, Some(id), 0, None));
        ids.push(id);
    }
    let mut out = c.on_tick(3 * S);
    if append_op(&out).is_none() {
        out = c.on_tick(6 * S);
    }
    c.on_appended(6 * S, append_op(&out).expect("generation 1 is written"), Ok(()));
    assert_eq!(c.state(), GroupState::Stable);
    // Kafka's test rejoins the group leader to start a rebalance; losslab's coordinator assigns
    // itself (no client leader), so member 1 rejoins with another subscription instead
    // (`updateMemberAndRebalance` either way).
    let mut rejoin = join(1, Some(ids[0]), 0, None);
    rejoin.owned.partitions = vec![0];
    c.on_join_request(7 * S, reply(21), rejoin);
    assert_eq!(c.state(), GroupState::PreparingRebalance);
    let mut pending = join(3, None, 3, None);
    pending.session_timeout_ms = 100;
    c.on_join_request(7 * S, reply(22), pending);
    assert_eq!(c.pending_members(), vec![MemberId { consumer: 3, serial: 3 }]);
    c.on_join_request(7 * S, reply(23), join(2, Some(ids[1]), 0, None));
    assert_eq!(c.state(), GroupState::PreparingRebalance, "the rebalance waits for the pending member");
    (c, MemberId { consumer: 3, serial: 3 })
}

/// Kafka: GroupCoordinatorTest.testJoinGroupCompletionWhenPendingMemberJoins (2.2.0): the
/// pending member joins with its id and the rebalance completes with three members.
#[test]
fn join_group_completion_when_pending_member_joins() {
    let (mut c, pending) = group_with_pending_member();
    c.on_join_request(7 * S + 10_000, reply(24), join(3, Some(pending), 0, None));
    assert_eq!(c.state(), GroupState::CompletingRebalance);
    assert_eq!(c.assignment().len(), 3);
    assert!(c.pending_members().is_empty());
}

/// Kafka: GroupCoordinatorTest.testJoinGroupCompletionWhenPendingMemberTimesOut (2.2.0): the
/// pending id's 100 ms session passes; the rebalance completes with the two members.
#[test]
fn join_group_completion_when_pending_member_times_out() {
    let (mut c, _) = group_with_pending_member();
    c.on_tick(7 * S + 100_000 - 1);
    assert_eq!(c.state(), GroupState::PreparingRebalance, "not yet: 1 us before its 100 ms session ends");
    c.on_tick(7 * S + 100_000);
    assert_eq!(c.state(), GroupState::CompletingRebalance);
    assert_eq!(c.assignment().len(), 2);
    assert!(c.pending_members().is_empty());
}

/// Kafka: GroupCoordinatorTest.testPendingMembersLeavesGroup (2.2.0): LeaveGroup with the
/// pending id removes it and the rebalance completes with the two members.
#[test]
fn pending_members_leaves_group() {
    let (mut c, pending) = group_with_pending_member();
    c.on_leave(7 * S + 10_000, pending, "the consumer is being closed");
    assert_eq!(c.state(), GroupState::CompletingRebalance);
    assert_eq!(c.assignment().len(), 2);
    assert!(c.pending_members().is_empty());
}

/// Kafka: GroupCoordinatorTest.testJoinGroupUnknownConsumerNewGroup (2.2.0, with
/// `requireKnownMemberId`): the first JoinGroup without an id creates no member, only a
/// pending id; without KIP-394 (2.1) the same JoinGroup makes a member at once.
#[test]
fn a_join_without_an_id_is_a_pending_member_from_2_2_only() {
    let mut c = Coordinator::load(1, 4, &[], 0).0;
    c.require_known_member_id(true);
    c.on_join_request(0, reply(1), join(1, None, 1, None));
    assert_eq!((c.assignment().len(), c.pending_members().len(), c.state()), (0, 1, GroupState::Empty));
    let mut old = Coordinator::load(1, 4, &[], 0).0;
    old.on_join_request(0, reply(1), join(1, None, 1, None));
    assert_eq!((old.assignment().len(), old.state()), (1, GroupState::PreparingRebalance));
}
