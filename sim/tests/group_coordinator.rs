//! The group coordinator's state machine (`broker::coordinator::group`) on its own: joins,
//! the initial rebalance delay, sessions, rebalance timeouts, commit validation and replication,
//! loading from the log, and unloading, as Kafka's classic `GroupCoordinator` does them.

use losslab_model::history::EventKind;
use losslab_sim::broker::coordinator::group::range_assign;
use losslab_sim::broker::coordinator::{Coordinator, GroupState, Out, ReplyTo};
use losslab_sim::protocol::{JoinResult, KafkaError, MemberId, OffsetsRecord, StoredMember};

const S: u64 = 1_000_000;

fn reply(corr: u64) -> ReplyTo {
    ReplyTo { node: 9, corr }
}

fn empty(partitions: u32) -> Coordinator {
    Coordinator::load(1, partitions, &[], 0).0
}

fn joined(out: &[Out]) -> Vec<(u64, Result<JoinResult, KafkaError>)> {
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

/// Joins `consumers` new members at time 0 and runs the group to Stable.
fn stable(partitions: u32, consumers: u32) -> (Coordinator, Vec<MemberId>) {
    let mut c = empty(partitions);
    for i in 1..=consumers {
        c.on_join(0, reply(i as u64), i, None, i as u64, 10_000, 60_000);
    }
    // A second member within the initial delay pushes the join back by another delay.
    let mut out = c.on_tick(3 * S);
    if append_op(&out).is_none() {
        out = c.on_tick(6 * S);
    }
    let op = append_op(&out).expect("the generation is written");
    let out = c.on_appended(6 * S, op, Ok(()));
    let ids = joined(&out).into_iter().map(|(_, r)| r.unwrap().member).collect();
    (c, ids)
}

#[test]
fn an_empty_group_waits_the_initial_delay_then_assigns_ranges() {
    let mut c = empty(5);
    let out = c.on_join(0, reply(1), 1, None, 7, 10_000, 60_000);
    assert!(joined(&out).is_empty());
    assert_eq!(c.state(), GroupState::PreparingRebalance);
    c.on_join(1000, reply(2), 2, None, 8, 10_000, 60_000);
    // The delay restarts once because a member arrived within it.
    assert!(append_op(&c.on_tick(3 * S)).is_none());
    let out = c.on_tick(6 * S);
    let op = append_op(&out).expect("generation 1 is written");
    assert_eq!(c.state(), GroupState::CompletingRebalance);
    assert!(joined(&out).is_empty(), "members learn their assignment once it is replicated");
    let out = c.on_appended(6 * S + 10, op, Ok(()));
    let answers = joined(&out);
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].1.as_ref().unwrap().partitions, vec![0, 1, 2]);
    assert_eq!(answers[1].1.as_ref().unwrap().partitions, vec![3, 4]);
    assert_eq!(c.generation(), 1);
    assert_eq!(c.state(), GroupState::Stable);
}

#[test]
fn range_assignment_is_deterministic_and_complete() {
    assert_eq!(range_assign(1, 2), vec![vec![0], vec![]]);
    assert_eq!(range_assign(4, 2), vec![vec![0, 1], vec![2, 3]]);
    assert_eq!(range_assign(7, 3), vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
    assert!(range_assign(3, 0).is_empty());
}

#[test]
fn a_silent_member_is_removed_after_its_session_and_the_rest_rebalance() {
    let (mut c, ids) = stable(2, 2);
    let t = 6 * S;
    // c2 keeps heartbeating, c1 goes silent.
    let hb = c.on_heartbeat(t + 5 * S, reply(10), ids[1], 1);
    assert_eq!(hb, vec![Out::HeartbeatAnswer(reply(10), Ok(()))]);
    let out = c.on_tick(t + 10 * S);
    assert!(out.iter().any(|o| matches!(o, Out::Record(EventKind::MemberRemoved { consumer: 1, .. }))));
    assert_eq!(c.state(), GroupState::PreparingRebalance);
    // c2 learns of the rebalance from its heartbeat and rejoins.
    let hb = c.on_heartbeat(t + 11 * S, reply(11), ids[1], 1);
    assert_eq!(hb, vec![Out::HeartbeatAnswer(reply(11), Err(KafkaError::RebalanceInProgress))]);
    let out = c.on_join(t + 11 * S, reply(12), 2, Some(ids[1]), 99, 10_000, 60_000);
    let op = append_op(&out).expect("every remaining member rejoined: generation 2");
    let out = c.on_appended(t + 11 * S, op, Ok(()));
    let answers = joined(&out);
    assert_eq!(answers, vec![(12, Ok(JoinResult { member: ids[1], generation: 2, partitions: vec![0, 1] }))]);
}

#[test]
fn commits_from_a_stale_generation_or_unknown_member_are_rejected() {
    let (mut c, ids) = stable(2, 2);
    let t = 7 * S;
    let out = c.on_commit(t, reply(1), 1, Some(ids[0]), Some(0), vec![(0, 5)]);
    assert_eq!(out, vec![Out::CommitAnswer(reply(1), Err(KafkaError::IllegalGeneration))]);
    let stranger = MemberId { consumer: 3, serial: 77 };
    let out = c.on_commit(t, reply(2), 3, Some(stranger), Some(1), vec![(0, 5)]);
    assert_eq!(out, vec![Out::CommitAnswer(reply(2), Err(KafkaError::UnknownMemberId))]);
    // While preparing a rebalance, the current generation may still commit.
    c.on_leave(t, ids[1], "left");
    assert_eq!(c.state(), GroupState::PreparingRebalance);
    let out = c.on_commit(t, reply(3), 1, Some(ids[0]), Some(1), vec![(0, 5)]);
    assert!(append_op(&out).is_some());
}

#[test]
fn commits_while_the_next_generation_is_written_get_rebalance_in_progress() {
    let (mut c, ids) = stable(2, 2);
    let t = 7 * S;
    // c2 leaves; c1 rejoins; generation 2 is being written.
    c.on_leave(t, ids[1], "left");
    let out = c.on_join(t, reply(5), 1, Some(ids[0]), 0, 10_000, 60_000);
    assert!(append_op(&out).is_some());
    assert_eq!(c.state(), GroupState::CompletingRebalance);
    let out = c.on_commit(t, reply(6), 1, Some(ids[0]), Some(2), vec![(0, 9)]);
    assert_eq!(out, vec![Out::CommitAnswer(reply(6), Err(KafkaError::RebalanceInProgress))]);
    let out = c.on_commit(t, reply(7), 1, Some(ids[0]), Some(1), vec![(0, 9)]);
    assert_eq!(out, vec![Out::CommitAnswer(reply(7), Err(KafkaError::IllegalGeneration))]);
    let hb = c.on_heartbeat(t, reply(8), ids[0], 2);
    assert_eq!(hb, vec![Out::HeartbeatAnswer(reply(8), Err(KafkaError::RebalanceInProgress))]);
}

#[test]
fn a_commit_counts_only_once_replicated() {
    let (mut c, ids) = stable(1, 1);
    let out = c.on_commit(4 * S, reply(1), 1, Some(ids[0]), Some(1), vec![(0, 40)]);
    let op = append_op(&out).unwrap();
    assert_eq!(c.committed(&[0]), vec![(0, None)]);
    let out = c.on_appended(4 * S + 10, op, Ok(()));
    assert!(out.contains(&Out::CommitAnswer(reply(1), Ok(()))));
    assert!(out.contains(&Out::Record(EventKind::Committed { consumer: 1, partition: 0, offset: 40 })));
    assert_eq!(c.committed(&[0]), vec![(0, Some(40))]);
    // A commit whose write fails leaves the committed offset alone.
    let out = c.on_commit(5 * S, reply(2), 1, Some(ids[0]), Some(1), vec![(0, 90)]);
    let op = append_op(&out).unwrap();
    let out = c.on_appended(5 * S, op, Err(KafkaError::NotLeaderOrFollower));
    assert_eq!(out, vec![Out::CommitAnswer(reply(2), Err(KafkaError::NotCoordinator))]);
    assert_eq!(c.committed(&[0]), vec![(0, Some(40))]);
}

#[test]
fn a_member_that_does_not_rejoin_in_time_is_dropped() {
    let (mut c, ids) = stable(2, 2);
    let t = 7 * S;
    // c3 joins: a rebalance; c1 rejoins, c2 never does (its app is stuck in processing).
    c.on_join(t, reply(5), 3, None, 50, 10_000, 60_000);
    c.on_join(t, reply(6), 1, Some(ids[0]), 0, 10_000, 60_000);
    // c2 keeps heartbeating (its heartbeat thread runs), so only the rebalance timeout ends it.
    for k in 1..7 {
        c.on_heartbeat(t + k * 9 * S, reply(7), ids[1], 1);
    }
    let out = c.on_tick(t + 60 * S);
    assert!(out.iter().any(|o| matches!(o, Out::Record(EventKind::MemberRemoved { consumer: 2, .. }))));
    let op = append_op(&out).unwrap();
    let answers = joined(&c.on_appended(t + 60 * S, op, Ok(())));
    let parts: Vec<Vec<u32>> = answers.into_iter().map(|(_, r)| r.unwrap().partitions).collect();
    assert_eq!(parts, vec![vec![0], vec![1]]);
    assert_eq!(c.generation(), 2);
}

#[test]
fn a_new_coordinator_loads_offsets_and_the_stable_group() {
    let (mut c, ids) = stable(1, 1);
    let op = append_op(&c.on_commit(4 * S, reply(1), 1, Some(ids[0]), Some(1), vec![(0, 12)])).unwrap();
    c.on_appended(4 * S, op, Ok(()));
    let log = vec![
        OffsetsRecord::Commit { consumer: 0, partition: 0, offset: 0, leader_epoch: None },
        OffsetsRecord::Group {
            generation: 1,
            members: vec![StoredMember {
                id: ids[0],
                session_timeout_ms: 10_000,
                rebalance_timeout_ms: 60_000,
                partitions: vec![0],
                instance: None,
            }],
        },
        OffsetsRecord::Commit { consumer: 1, partition: 0, offset: 12, leader_epoch: None },
    ];
    let (mut next, out) = Coordinator::load(2, 1, &log, 5 * S);
    assert_eq!(out, vec![Out::Record(EventKind::GroupLoaded { broker: 2, generation: 1, committed: vec![(0, 12)] })]);
    assert_eq!(next.state(), GroupState::Stable);
    let hb = next.on_heartbeat(6 * S, reply(2), ids[0], 1);
    assert_eq!(hb, vec![Out::HeartbeatAnswer(reply(2), Ok(()))]);
    assert_eq!(next.committed(&[0]), vec![(0, Some(12))]);
}

#[test]
fn unloading_answers_every_waiting_request_not_coordinator() {
    let mut c = empty(1);
    c.on_join(0, reply(1), 1, None, 1, 10_000, 60_000);
    let out = c.unload();
    assert_eq!(joined(&out), vec![(1, Err(KafkaError::NotCoordinator))]);
}

#[test]
fn the_last_member_leaving_empties_the_group() {
    let (mut c, ids) = stable(1, 1);
    let out = c.on_leave(5 * S, ids[0], "its app did not call poll()");
    assert!(append_op(&out).is_some(), "the empty generation is written");
    assert_eq!(c.state(), GroupState::Empty);
    assert_eq!(c.generation(), 2);
    let out = c.on_heartbeat(6 * S, reply(1), ids[0], 1);
    assert_eq!(out, vec![Out::HeartbeatAnswer(reply(1), Err(KafkaError::UnknownMemberId))]);
}

#[test]
fn commits_keep_their_leader_epoch_through_a_reload() {
    use losslab_sim::broker::coordinator::group::CommitRequest;
    let (mut c, ids) = stable(1, 1);
    let request = CommitRequest {
        consumer: 1,
        member: Some(ids[0]),
        generation: Some(1),
        offsets: vec![(0, 40)],
        epochs: [(0, 7)].into_iter().collect(),
        instance: None,
    };
    let out = c.on_commit_request(7 * S, reply(5), request);
    let (op, records) = out
        .iter()
        .find_map(|o| match o {
            Out::Append { op, records } => Some((*op, records.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(records, vec![OffsetsRecord::Commit { consumer: 1, partition: 0, offset: 40, leader_epoch: Some(7) }]);
    assert_eq!(c.committed_with_epochs(&[0]), vec![(0, None, None)], "visible only once replicated");
    c.on_appended(7 * S, op, Ok(()));
    assert_eq!(c.committed_with_epochs(&[0]), vec![(0, Some(40), Some(7))]);
    let (next, _) = Coordinator::load(2, 1, &records, 8 * S);
    assert_eq!(next.committed_with_epochs(&[0]), vec![(0, Some(40), Some(7))]);
}

#[test]
fn a_cooperative_member_with_a_new_subscription_rebalances_a_stable_group() {
    use losslab_model::config::{Assignor, RebalanceProtocol};
    use losslab_sim::broker::coordinator::assignor::Owned;
    use losslab_sim::broker::coordinator::group::JoinRequest;
    let (mut c, ids) = stable(3, 2);
    c.set_assignment(Assignor::CooperativeSticky, RebalanceProtocol::Cooperative);
    let rejoin = |owned: Vec<u32>| JoinRequest {
        consumer: 1,
        member: Some(ids[0]),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 60_000,
        owned: Owned { partitions: owned, generation: Some(1) },
        ..Default::default()
    };
    // The same (empty) subscription as its last join: answered at once, no rebalance.
    let out = c.on_join_request(7 * S, reply(5), rejoin(vec![]));
    assert_eq!(joined(&out).len(), 1, "{out:?} {ids:?}");
    assert_eq!(c.state(), GroupState::Stable);
    // What it owns changed: the metadata no longer matches (`updateMemberAndRebalance`).
    let out = c.on_join_request(7 * S, reply(6), rejoin(vec![0, 1]));
    assert!(joined(&out).is_empty());
    assert_eq!(c.state(), GroupState::PreparingRebalance);
}
