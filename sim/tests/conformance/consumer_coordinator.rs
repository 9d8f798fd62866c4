//! Kafka's `ConsumerCoordinatorTest` join-prepare cases (audit C8: the auto-commit before a
//! rejoin is awaited), translated onto `client::consumer::join_prepare::JoinPrepare`. Kafka's
//! `onJoinPrepare(timer, generation, member)` returning false is `Wait` or `Retry`, true is
//! `Rejoin`; `rebalanceTimeoutMs` is the test's 60000. Read at 3.7.0,
//! `clients/src/test/java/org/apache/kafka/clients/consumer/internals/ConsumerCoordinatorTest.java`.

use losslab_sim::client::consumer::join_prepare::{JoinPrepare, JoinPrepareStep};
use losslab_sim::protocol::KafkaError;

const REBALANCE_TIMEOUT_MS: u64 = 60_000;
const MS: u64 = 1_000;

/// Kafka: ConsumerCoordinatorTest.testOnJoinPrepareWithOffsetCommitShouldSuccessAfterRetry
/// (3.7.0): a retriable error postpones the join; the retried commit succeeds and the join goes on.
#[test]
fn on_join_prepare_with_offset_commit_should_success_after_retry() {
    let jp = JoinPrepare::new(0, REBALANCE_TIMEOUT_MS);
    let step = jp.on_result(100 * MS, Err(KafkaError::UnknownTopicOrPartition));
    assert_eq!(step, JoinPrepareStep::Retry { coordinator_unknown: false });
    assert_eq!(jp.on_result(200 * MS, Ok(())), JoinPrepareStep::Rejoin);
}

/// Kafka: ConsumerCoordinatorTest.testOnJoinPrepareWithOffsetCommitShouldKeepJoinAfterNonRetryableException
/// and testJoinPrepareAndCommitWithUnknownMemberId (3.7.0): UNKNOWN_MEMBER_ID ends the attempt
/// and the member rejoins at once; the coordinator stays known.
#[test]
fn on_join_prepare_keeps_join_after_non_retriable_exception() {
    let jp = JoinPrepare::new(0, REBALANCE_TIMEOUT_MS);
    assert_eq!(jp.on_result(100 * MS, Err(KafkaError::UnknownMemberId)), JoinPrepareStep::Rejoin);
    assert_eq!(jp.on_result(100 * MS, Err(KafkaError::IllegalGeneration)), JoinPrepareStep::Rejoin);
}

/// Kafka: ConsumerCoordinatorTest.testOnJoinPrepareWithOffsetCommitShouldKeepJoinAfterRebalanceTimeout
/// (3.7.0): with no answer the join waits; once the rebalance timeout has passed, a retriable
/// answer no longer holds it back.
#[test]
fn on_join_prepare_keeps_join_after_rebalance_timeout() {
    let jp = JoinPrepare::new(0, REBALANCE_TIMEOUT_MS);
    assert_eq!(jp.on_pending(0), JoinPrepareStep::Wait);
    assert_eq!(jp.on_pending(REBALANCE_TIMEOUT_MS * MS - 1), JoinPrepareStep::Wait);
    let late = REBALANCE_TIMEOUT_MS * MS;
    assert_eq!(jp.on_result(late, Err(KafkaError::UnknownTopicOrPartition)), JoinPrepareStep::Rejoin);
    assert_eq!(jp.on_pending(late), JoinPrepareStep::Rejoin);
}

/// Kafka: ConsumerCoordinatorTest.testJoinPrepareAndCommitWithCoordinatorNotAvailable (3.7.0):
/// COORDINATOR_NOT_AVAILABLE postpones the join and marks the coordinator unknown.
#[test]
fn join_prepare_and_commit_with_coordinator_not_available() {
    let jp = JoinPrepare::new(0, REBALANCE_TIMEOUT_MS);
    let step = jp.on_result(0, Err(KafkaError::CoordinatorNotAvailable));
    assert_eq!(step, JoinPrepareStep::Retry { coordinator_unknown: true });
}
