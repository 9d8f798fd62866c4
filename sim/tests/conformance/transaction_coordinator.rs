//! Kafka's `TransactionMetadataTest` and `TransactionCoordinatorTest` (3.9.0-rc3,
//! core/src/test/scala/unit/kafka/coordinator/transaction/; the TV2 cases from trunk of
//! October 2024) against `broker::coordinator::txn_metadata` and `broker::coordinator::txn`.
//! Kafka's tests mock the state manager and complete appends through a captured callback; here
//! the coordinator asks for an `Append` and the test answers it with `on_appended`. Kafka's
//! `producerId` 10, `producerEpoch` 1, `transactionalId` "known" and a 1 ms timeout.

use losslab_sim::broker::coordinator::txn::{EndTxnRequest, TxnCoordinator, TxnOut, TxnRules};
use losslab_sim::broker::coordinator::txn_metadata::{TxnMetadata, TxnState, MAX_EPOCH, NO_EPOCH};
use losslab_sim::broker::coordinator::ReplyTo;
use losslab_sim::protocol::KafkaError;
use std::collections::BTreeSet;

const ID: &str = "known";
const PID: u64 = 10;
const EPOCH: i32 = 1;
const TIMEOUT_MS: u64 = 1;
const TO: ReplyTo = ReplyTo { node: 1, corr: 7 };

fn parts(p: &[u32]) -> BTreeSet<u32> {
    p.iter().copied().collect()
}

fn meta(state: TxnState, epoch: i32, last_epoch: i32) -> TxnMetadata {
    let mut m = TxnMetadata::new(ID, PID, TIMEOUT_MS, 0);
    m.producer_epoch = epoch;
    m.last_producer_epoch = last_epoch;
    m.state = state;
    if state == TxnState::Ongoing || state.is_prepare() {
        m.partitions = parts(&[0]);
        m.start_us = Some(0);
    }
    m
}

fn coordinator_with(m: TxnMetadata, rules: TxnRules) -> TxnCoordinator {
    let mut c = TxnCoordinator::new(1, 0, rules, 0);
    c.insert(m);
    c
}

fn appends(outs: &[TxnOut]) -> Vec<(u64, TxnState, i32)> {
    outs.iter()
        .filter_map(|o| match o {
            TxnOut::Append { op, record } => Some((*op, record.state, record.producer_epoch)),
            _ => None,
        })
        .collect()
}

fn end(epoch: i32, commit: bool) -> EndTxnRequest {
    EndTxnRequest { transactional_id: ID.into(), producer_id: PID, epoch, commit, producer: 1, txn: Some(1) }
}

fn end_answer(outs: &[TxnOut]) -> Option<Result<(u64, i32), KafkaError>> {
    outs.iter().find_map(|o| match o {
        TxnOut::EndAnswer(_, r) => Some(*r),
        _ => None,
    })
}

fn init_answer(outs: &[TxnOut]) -> Option<Result<(u64, i32), KafkaError>> {
    outs.iter().find_map(|o| match o {
        TxnOut::InitAnswer(_, r) => Some(*r),
        _ => None,
    })
}

fn add_answer(outs: &[TxnOut]) -> Option<Result<(), KafkaError>> {
    outs.iter().find_map(|o| match o {
        TxnOut::AddAnswer(_, r) => Some(*r),
        _ => None,
    })
}

/// Kafka: TransactionMetadataTest.testInitializeEpoch (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// A fresh metadata (epoch -1) bumps to epoch 0 in Empty, last epoch -1.
#[test]
fn test_initialize_epoch() {
    let mut m = TxnMetadata::new(ID, 23423, 30_000, 0);
    let t = m.prepare_increment_epoch(30_000, None, 1).unwrap().unwrap();
    m.complete_transition(&t).unwrap();
    assert_eq!((m.producer_epoch, m.last_producer_epoch, m.state), (0, NO_EPOCH, TxnState::Empty));
}

/// Kafka: TransactionMetadataTest.testNormalEpochBump (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// Epoch 735 bumps to 736 with no expected epoch; the last epoch stays -1.
#[test]
fn test_normal_epoch_bump() {
    let mut m = meta(TxnState::Empty, 735, NO_EPOCH);
    let t = m.prepare_increment_epoch(30_000, None, 1).unwrap().unwrap();
    m.complete_transition(&t).unwrap();
    assert_eq!((m.producer_epoch, m.last_producer_epoch), (736, NO_EPOCH));
}

/// Kafka: TransactionMetadataTest.testBumpEpochNotAllowedIfEpochsExhausted (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// At Short.MaxValue - 1 the epoch cannot be bumped.
#[test]
fn test_bump_epoch_not_allowed_if_epochs_exhausted() {
    let mut m = meta(TxnState::Empty, MAX_EPOCH - 1, NO_EPOCH);
    assert!(m.is_producer_epoch_exhausted());
    assert!(m.prepare_increment_epoch(30_000, None, 1).is_err());
}

/// Kafka: TransactionMetadataTest.testFenceProducerAfterEpochsExhausted (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// Fencing is still possible at MAX - 1: it takes the epoch to MAX.
#[test]
fn test_fence_producer_after_epochs_exhausted() {
    let mut m = meta(TxnState::Ongoing, MAX_EPOCH - 1, NO_EPOCH);
    let t = m.prepare_fence_epoch(true).unwrap();
    assert_eq!((t.producer_epoch, t.state), (MAX_EPOCH, TxnState::PrepareEpochFence));
}

/// Kafka: TransactionMetadataTest.testFenceProducerNotAllowedIfItWouldOverflow (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
#[test]
fn test_fence_producer_not_allowed_if_it_would_overflow() {
    let mut m = meta(TxnState::Ongoing, MAX_EPOCH, NO_EPOCH);
    assert!(m.prepare_fence_epoch(true).is_err());
}

/// Kafka: TransactionMetadataTest.testRotateProducerIdInOngoingState (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// (and the PrepareAbort / PrepareCommit variants): no producer-id rotation with a transaction pending.
#[test]
fn test_rotate_producer_id_in_ongoing_state() {
    for s in [TxnState::Ongoing, TxnState::PrepareAbort, TxnState::PrepareCommit] {
        let mut m = meta(s, MAX_EPOCH - 1, NO_EPOCH);
        assert!(m.prepare_producer_id_rotation(9893, 30_000, 1, true).is_err(), "{s:?}");
    }
}

/// Kafka: TransactionMetadataTest.testEpochBumpWithCurrentEpochProvided (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// KIP-360: expected == current: epoch+1, last = the old epoch.
#[test]
fn test_epoch_bump_with_current_epoch_provided() {
    let mut m = meta(TxnState::Empty, 735, NO_EPOCH);
    let t = m.prepare_increment_epoch(30_000, Some(735), 1).unwrap().unwrap();
    m.complete_transition(&t).unwrap();
    assert_eq!((m.producer_epoch, m.last_producer_epoch), (736, 735));
}

/// Kafka: TransactionMetadataTest.testAttemptedEpochBumpWithLastEpoch (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// expected == last epoch: a retry of a bump that succeeded; no bump.
#[test]
fn test_attempted_epoch_bump_with_last_epoch() {
    let mut m = meta(TxnState::Empty, 735, 734);
    let t = m.prepare_increment_epoch(30_000, Some(734), 1).unwrap().unwrap();
    m.complete_transition(&t).unwrap();
    assert_eq!((m.producer_epoch, m.last_producer_epoch), (735, 734));
}

/// Kafka: TransactionMetadataTest.testAttemptedEpochBumpWithFencedEpoch (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
#[test]
fn test_attempted_epoch_bump_with_fenced_epoch() {
    let mut m = meta(TxnState::Empty, 735, 734);
    assert_eq!(m.prepare_increment_epoch(30_000, Some(733), 1).unwrap(), Err(()));
}

/// Kafka: TransactionCoordinatorTest.shouldInitPidWithEpochZeroForNewTransactionalId (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// The first InitProducerId: a new producer id at epoch 0, answered after the append.
#[test]
fn should_init_pid_with_epoch_zero_for_new_transactional_id() {
    let mut c = TxnCoordinator::new(1, 0, TxnRules::V3_9, 0);
    let outs = c.on_init_producer_id(0, TO, "new", 60_000, None, 0, 1);
    assert_eq!(init_answer(&outs), None, "not before the append is replicated");
    let (op, state, epoch) = appends(&outs)[0];
    assert_eq!((state, epoch), (TxnState::Empty, 0));
    let outs = c.on_appended(1, op, Ok(()));
    assert_eq!(init_answer(&outs), Some(Ok((0, 0))));
}

/// Kafka: TransactionCoordinatorTest.shouldRespondWithConcurrentTransactionsOnAddPartitionsWhenStateIsPrepareCommit (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// (and ...PrepareAbort): the previous transaction is still writing markers.
#[test]
fn should_respond_with_concurrent_transactions_on_add_partitions_when_state_is_prepare() {
    for s in [TxnState::PrepareCommit, TxnState::PrepareAbort] {
        let mut c = coordinator_with(meta(s, EPOCH, NO_EPOCH), TxnRules::V3_9);
        let outs = c.on_add_partitions(0, TO, ID, PID, EPOCH, &parts(&[1]), 1, None);
        assert_eq!(add_answer(&outs), Some(Err(KafkaError::ConcurrentTransactions)), "{s:?}");
    }
}

/// Kafka: TransactionCoordinatorTest.shouldRespondWithProducerFencedOnAddPartitionsWhenEpochsAreDifferent (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
#[test]
fn should_respond_with_producer_fenced_on_add_partitions_when_epochs_are_different() {
    let mut c = coordinator_with(meta(TxnState::Empty, 10, NO_EPOCH), TxnRules::V3_9);
    let outs = c.on_add_partitions(0, TO, ID, PID, 0, &parts(&[1]), 1, None);
    assert_eq!(add_answer(&outs), Some(Err(KafkaError::TxnProducerFenced)));
}

/// Kafka: TransactionCoordinatorTest.shouldRespondWithSuccessOnAddPartitionsWhenStateIsCompleteCommit (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// (and ...CompleteAbort, ...Empty): AddPartitions starts a new Ongoing transaction, timed from now.
#[test]
fn should_respond_with_success_on_add_partitions_when_state_is_complete() {
    for s in [TxnState::CompleteCommit, TxnState::CompleteAbort, TxnState::Empty] {
        let mut c = coordinator_with(meta(s, EPOCH, NO_EPOCH), TxnRules::V3_9);
        let outs = c.on_add_partitions(5_000, TO, ID, PID, EPOCH, &parts(&[1]), 1, Some(2));
        let (op, state, _) = appends(&outs)[0];
        assert_eq!(state, TxnState::Ongoing);
        let outs = c.on_appended(6_000, op, Ok(()));
        assert_eq!(add_answer(&outs), Some(Ok(())));
        let m = c.metadata(ID).unwrap();
        assert_eq!((m.state, m.start_us, m.partitions.clone()), (TxnState::Ongoing, Some(5_000), parts(&[1])), "{s:?}");
    }
}

/// Kafka: TransactionCoordinatorTest.shouldRespondWithErrorsNoneOnAddPartitionWhenNoErrorsAndPartitionsTheSame (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// Ongoing and the partitions already in: NONE at once, nothing appended.
#[test]
fn should_respond_with_errors_none_on_add_partition_when_partitions_the_same() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let outs = c.on_add_partitions(0, TO, ID, PID, EPOCH, &parts(&[0]), 1, None);
    assert_eq!(add_answer(&outs), Some(Ok(())));
    assert!(appends(&outs).is_empty());
}

/// Kafka: TransactionCoordinatorTest.testVerifyPartitionHandling (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// and shouldRespondWithInvalidTxnStateWhenVerifyOnlyAndPartitionNotPresent: verifyOnly answers
/// per partition and changes nothing; 3.8+ says TRANSACTION_ABORTABLE, 3.6-3.7 INVALID_TXN_STATE.
#[test]
fn test_verify_partition_handling() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let outs = c.on_verify(TO, ID, PID, EPOCH, &[0, 1]);
    assert_eq!(outs, vec![TxnOut::VerifyAnswer(TO, vec![(0, Ok(())), (1, Err(KafkaError::TransactionAbortable))])]);
    assert_eq!(c.metadata(ID).unwrap().partitions, parts(&[0]));
    let rules = TxnRules { verification_abortable: false, ..TxnRules::V3_9 };
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), rules);
    let outs = c.on_verify(TO, ID, PID, EPOCH, &[1]);
    assert_eq!(outs, vec![TxnOut::VerifyAnswer(TO, vec![(1, Err(KafkaError::InvalidTxnState))])]);
    let outs = c.on_verify(TO, ID, PID, EPOCH - 1, &[0]);
    assert_eq!(outs, vec![TxnOut::VerifyAnswer(TO, vec![(0, Err(KafkaError::TxnProducerFenced))])]);
}

/// Kafka: TransactionCoordinatorTest.shouldReturnOkOnEndTxnWhenStatusIsCompleteCommitAndResultIsCommit (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// The "retry of a finished EndTxn" rule: NONE, nothing appended (what lets a late EndTxn pass).
#[test]
fn should_return_ok_on_end_txn_when_status_is_complete_commit_and_result_is_commit() {
    let mut c = coordinator_with(meta(TxnState::CompleteCommit, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let outs = c.on_end_txn(0, TO, &end(EPOCH, true));
    assert_eq!(end_answer(&outs), Some(Ok((PID, EPOCH))));
    assert!(appends(&outs).is_empty());
}

/// Kafka: TransactionCoordinatorTest.shouldReturnInvalidTxnRequestOnEndTxnRequestWhenStatusIsCompleteAbortAndResultIsNotAbort (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
#[test]
fn should_return_invalid_txn_state_when_complete_abort_and_commit() {
    let mut c = coordinator_with(meta(TxnState::CompleteAbort, EPOCH, NO_EPOCH), TxnRules::V3_9);
    assert_eq!(end_answer(&c.on_end_txn(0, TO, &end(EPOCH, true))), Some(Err(KafkaError::InvalidTxnState)));
}

/// Kafka: TransactionCoordinatorTest.shouldReturnConcurrentTxnRequestOnEndTxnRequestWhenStatusIsPrepareCommit (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// and shouldReturnInvalidTxnRequestOnEndTxnRequestWhenStatusIsPrepareAbort.
#[test]
fn should_return_concurrent_on_end_txn_when_prepare_commit_and_invalid_when_prepare_abort() {
    let mut c = coordinator_with(meta(TxnState::PrepareCommit, EPOCH, NO_EPOCH), TxnRules::V3_9);
    assert_eq!(end_answer(&c.on_end_txn(0, TO, &end(EPOCH, true))), Some(Err(KafkaError::ConcurrentTransactions)));
    let mut c = coordinator_with(meta(TxnState::PrepareAbort, EPOCH, NO_EPOCH), TxnRules::V3_9);
    assert_eq!(end_answer(&c.on_end_txn(0, TO, &end(EPOCH, true))), Some(Err(KafkaError::InvalidTxnState)));
}

/// Kafka: TransactionCoordinatorTest.shouldAppendPrepareCommitToLogOnEndTxnWhenStatusIsOngoingAndResultIsCommit (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// plus TransactionMarkerChannelManagerTest.shouldCompleteAppendToLogOnEndTxnWhenSendMarkersSucceed:
/// PrepareCommit is appended; once durable the client gets NONE and the markers go out; once
/// every marker is written CompleteCommit is appended.
#[test]
fn should_append_prepare_commit_then_markers_then_complete() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let outs = c.on_end_txn(0, TO, &end(EPOCH, true));
    assert_eq!(end_answer(&outs), None);
    let (op, state, _) = appends(&outs)[0];
    assert_eq!(state, TxnState::PrepareCommit);
    let outs = c.on_appended(1, op, Ok(()));
    assert_eq!(end_answer(&outs), Some(Ok((PID, EPOCH))));
    let markers: Vec<_> =
        outs.iter().filter_map(|o| if let TxnOut::Markers(m) = o { Some(m.clone()) } else { None }).collect();
    assert_eq!((markers[0].partitions.clone(), markers[0].commit, markers[0].epoch), (vec![0], true, EPOCH));
    // While the markers are written, the next transaction waits.
    let outs = c.on_add_partitions(2, TO, ID, PID, EPOCH, &parts(&[1]), 1, None);
    assert_eq!(add_answer(&outs), Some(Err(KafkaError::ConcurrentTransactions)));
    // A retriable marker error re-queues the partition (TransactionMarkerRequestCompletionHandlerTest.shouldRetryPartitionWhenNotLeaderOrFollowerError).
    let outs = c.on_marker_written(ID, 0, Err(KafkaError::NotLeaderOrFollower));
    assert!(matches!(&outs[..], [TxnOut::Markers(m)] if m.partitions == vec![0]));
    let outs = c.on_marker_written(ID, 0, Ok(()));
    let (op, state, _) = appends(&outs)[0];
    assert_eq!(state, TxnState::CompleteCommit);
    c.on_appended(3, op, Ok(()));
    assert_eq!(c.metadata(ID).unwrap().state, TxnState::CompleteCommit);
    assert!(c.metadata(ID).unwrap().partitions.is_empty());
}

/// Kafka: TransactionCoordinatorTest.shouldReturnInvalidEpochOnEndTxnWhenEpochIsLarger (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// and ...WhenEpochIsSmaller: 2.6+ (KAFKA-9600) any other epoch is PRODUCER_FENCED; before 2.6
/// only a smaller one.
#[test]
fn should_return_invalid_epoch_on_end_txn_when_epoch_differs() {
    for e in [EPOCH + 1, EPOCH - 1] {
        let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
        assert_eq!(end_answer(&c.on_end_txn(0, TO, &end(e, true))), Some(Err(KafkaError::TxnProducerFenced)));
    }
    let old = TxnRules { endtxn_requires_equal_epoch: false, producer_fenced_code: false, ..TxnRules::V3_9 };
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), old);
    assert_eq!(end_answer(&c.on_end_txn(0, TO, &end(EPOCH - 1, true))), Some(Err(KafkaError::InvalidProducerEpoch)));
    assert_eq!(appends(&c.on_end_txn(0, TO, &end(EPOCH + 1, true))).len(), 1, "2.5 accepts a larger epoch");
}

/// Kafka: TransactionCoordinatorTest.shouldWaitForCommitToCompleteOnHandleInitPidAndExistingTransactionInPrepareCommitState (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
#[test]
fn should_wait_for_commit_to_complete_on_init_pid_in_prepare_commit() {
    let mut c = coordinator_with(meta(TxnState::PrepareCommit, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let outs = c.on_init_producer_id(0, TO, ID, 10, None, 99, 1);
    assert_eq!(init_answer(&outs), Some(Err(KafkaError::ConcurrentTransactions)));
}

/// Kafka: TransactionCoordinatorTest.shouldAbortTransactionOnHandleInitPidWhenExistingTransactionInOngoingState (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// Zombie fencing: the Ongoing transaction is aborted with epoch+1 and the new incarnation is
/// told CONCURRENT_TRANSACTIONS; its retry (after the abort completes) gets epoch+2.
#[test]
fn should_abort_transaction_on_init_pid_when_ongoing() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, EPOCH - 1), TxnRules::V3_9);
    let outs = c.on_init_producer_id(0, TO, ID, TIMEOUT_MS, None, 99, 2);
    let (op, state, epoch) = appends(&outs)[0];
    assert_eq!((state, epoch), (TxnState::PrepareAbort, EPOCH + 1));
    assert_eq!(c.metadata(ID).unwrap().last_producer_epoch, NO_EPOCH);
    let outs = c.on_appended(1, op, Ok(()));
    assert_eq!(init_answer(&outs), Some(Err(KafkaError::ConcurrentTransactions)));
    let marker = outs.iter().find_map(|o| if let TxnOut::Markers(m) = o { Some(m.clone()) } else { None }).unwrap();
    assert_eq!((marker.commit, marker.epoch), (false, EPOCH + 1));
    let outs = c.on_marker_written(ID, 0, Ok(()));
    let (op, _, _) = appends(&outs)[0];
    c.on_appended(2, op, Ok(()));
    let outs = c.on_init_producer_id(3, TO, ID, TIMEOUT_MS, None, 99, 2);
    let (op, _, _) = appends(&outs)[0];
    assert_eq!(init_answer(&c.on_appended(4, op, Ok(()))), Some(Ok((PID, EPOCH + 2))));
    // The zombie's EndTxn with the old epoch is fenced.
    assert_eq!(end_answer(&c.on_end_txn(5, TO, &end(EPOCH, true))), Some(Err(KafkaError::TxnProducerFenced)));
}

/// Kafka: TransactionCoordinatorTest.shouldNotRepeatedlyBumpEpochDueToInitPidDuringOngoingTxnIfAppendToLogFails (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// A failed fence append leaves the bumped epoch in memory and does not bump it again.
#[test]
fn should_not_repeatedly_bump_epoch_if_fence_append_fails() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, EPOCH - 1), TxnRules::V3_9);
    let outs = c.on_init_producer_id(0, TO, ID, TIMEOUT_MS, None, 99, 2);
    let (op, _, epoch) = appends(&outs)[0];
    assert_eq!(epoch, EPOCH + 1);
    let outs = c.on_appended(1, op, Err(KafkaError::NotEnoughReplicas));
    assert_eq!(init_answer(&outs), Some(Err(KafkaError::CoordinatorNotAvailable)));
    assert!(c.metadata(ID).unwrap().has_failed_epoch_fence);
    let outs = c.on_init_producer_id(2, TO, ID, TIMEOUT_MS, None, 99, 2);
    let (_, state, epoch) = appends(&outs)[0];
    assert_eq!((state, epoch), (TxnState::PrepareAbort, EPOCH + 1), "not bumped twice");
}

/// Kafka: TransactionCoordinatorTest.testInitProducerIdStaleCurrentEpochProvided (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
#[test]
fn test_init_producer_id_stale_current_epoch_provided() {
    let mut c = coordinator_with(meta(TxnState::Empty, 10, 9), TxnRules::V3_9);
    let outs = c.on_init_producer_id(0, TO, ID, TIMEOUT_MS, Some((PID, 8)), 99, 1);
    assert_eq!(init_answer(&outs), Some(Err(KafkaError::TxnProducerFenced)));
}

/// Kafka: TransactionCoordinatorTest.shouldAbortExpiredTransactionsInOngoingStateAndBumpEpoch (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// The scan after `transaction.abort.timed.out.transaction.cleanup.interval.ms` (10 s) aborts it
/// with epoch+1; 0.11.0.0-0.11.0.1 keep the epoch (KAFKA-6119).
#[test]
fn should_abort_expired_transactions_and_bump_epoch() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
    assert_eq!(c.next_deadline(), Some(10_000_000));
    let outs = c.on_tick(10_000_000);
    let (_, state, epoch) = appends(&outs)[0];
    assert_eq!((state, epoch), (TxnState::PrepareAbort, EPOCH + 1));
    let old = TxnRules { timeout_abort_bumps_epoch: false, ..TxnRules::V3_9 };
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), old);
    let (_, _, epoch) = appends(&c.on_tick(10_000_000))[0];
    assert_eq!(epoch, EPOCH);
}

/// Kafka: TransactionCoordinatorTest.shouldNotAbortExpiredTransactionsThatHaveAPendingStateTransition (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionCoordinatorTest.scala)
/// and TransactionStateManagerTest.shouldOnlyConsiderTransactionsInTheOngoingStateToAbort.
#[test]
fn should_not_abort_expired_transactions_with_a_pending_transition() {
    let mut m = meta(TxnState::Ongoing, EPOCH, NO_EPOCH);
    m.pending = Some(TxnState::PrepareCommit);
    let mut c = coordinator_with(m, TxnRules::V3_9);
    assert!(appends(&c.on_tick(10_000_000)).is_empty());
    let mut c = coordinator_with(meta(TxnState::CompleteCommit, EPOCH, NO_EPOCH), TxnRules::V3_9);
    assert!(c.on_tick(10_000_000).is_empty());
}

/// Kafka: TransactionStateManagerTest.shouldWriteTxnMarkersForTransactionInPreparedCommitState (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionStateManagerTest.scala)
/// (and ...PreparedAbortState, testLoadAndRemoveTransactionsForPartition): loading keeps the last
/// record per id, re-sends the markers of a Prepare*, and leaves an Ongoing one open.
#[test]
fn should_write_txn_markers_for_prepared_transactions_after_load() {
    let mut m = meta(TxnState::Ongoing, EPOCH, NO_EPOCH);
    let ongoing = m.current();
    m.state = TxnState::PrepareCommit;
    let prepared = m.current();
    let other = TxnMetadata { transactional_id: "other".into(), ..meta(TxnState::Ongoing, 3, NO_EPOCH) }.current();
    let (c, outs) = TxnCoordinator::load(2, 5, TxnRules::V3_9, &[ongoing, prepared, other], 0);
    assert!(
        matches!(&outs[..], [TxnOut::Markers(r)] if r.commit && r.coordinator_epoch == 5 && r.transactional_id == ID)
    );
    assert_eq!(c.metadata("other").unwrap().state, TxnState::Ongoing);
    assert_eq!(c.metadata(ID).unwrap().last_producer_epoch, NO_EPOCH, "not persisted");
}

/// Kafka: TransactionStateManagerTest.testAppendFailToCoordinatorNotAvailableError (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionStateManagerTest.scala)
/// and testAppendFailToNotCoordinatorError, testPendingStateNotResetOnRetryAppend: append errors
/// map to COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR and clear the pending state, except the
/// completion, which is appended again.
#[test]
fn test_append_fail_errors_and_retry() {
    let mut c = coordinator_with(meta(TxnState::Empty, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let outs = c.on_add_partitions(0, TO, ID, PID, EPOCH, &parts(&[0]), 1, None);
    let (op, _, _) = appends(&outs)[0];
    assert_eq!(
        add_answer(&c.on_appended(1, op, Err(KafkaError::NotLeaderOrFollower))),
        Some(Err(KafkaError::NotCoordinator))
    );
    assert_eq!(c.metadata(ID).unwrap().pending, None);
    let outs = c.on_add_partitions(0, TO, ID, PID, EPOCH, &parts(&[0]), 1, None);
    let (op, _, _) = appends(&outs)[0];
    assert_eq!(
        add_answer(&c.on_appended(1, op, Err(KafkaError::RequestTimedOut))),
        Some(Err(KafkaError::CoordinatorNotAvailable))
    );
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let (op, _, _) = appends(&c.on_end_txn(0, TO, &end(EPOCH, false)))[0];
    c.on_appended(1, op, Ok(()));
    let (op, state, _) = appends(&c.on_marker_written(ID, 0, Ok(())))[0];
    assert_eq!(state, TxnState::CompleteAbort);
    let outs = c.on_appended(2, op, Err(KafkaError::NotEnoughReplicas));
    assert_eq!(appends(&outs)[0].1, TxnState::CompleteAbort, "retried");
    assert_eq!(c.metadata(ID).unwrap().pending, Some(TxnState::CompleteAbort));
}

/// Kafka: TransactionMarkerRequestCompletionHandlerTest.shouldCompleteDelayedOperationWhenInvalidProducerEpoch (3.9.0-rc3, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMarkerRequestCompletionHandlerTest.scala)
/// (and ...CoordinatorEpochFenced): a newer epoch owns the partition; this transaction's markers stop.
#[test]
fn should_stop_markers_when_invalid_producer_epoch() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let (op, _, _) = appends(&c.on_end_txn(0, TO, &end(EPOCH, true)))[0];
    c.on_appended(1, op, Ok(()));
    assert!(c.on_marker_written(ID, 0, Err(KafkaError::InvalidProducerEpoch)).is_empty());
    assert!(c.on_marker_written(ID, 0, Ok(())).is_empty(), "nothing is sent for it any more");
}

/// Kafka: TransactionMetadataTest.testEpochBumpOnEndTxn (trunk 2024-10, core/src/test/scala/unit/kafka/coordinator/transaction/TransactionMetadataTest.scala)
/// and TransactionCoordinatorTest.shouldReturnInvalidTxnRequestOnEndTxnV2IfNotEndTxnV2Retry: under
/// TV2 (4.0) the Prepare* carries epoch+1; the answer carries it; an EndTxn with the old epoch
/// (a late one, or the next transaction's at the stored epoch in Complete*) is PRODUCER_FENCED,
/// a retry (epoch + 1 == stored) is NONE.
#[test]
fn test_epoch_bump_on_end_txn_tv2() {
    let tv2 = TxnRules { tv2: true, ..TxnRules::V3_9 };
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), tv2);
    let (op, state, epoch) = appends(&c.on_end_txn(0, TO, &end(EPOCH, true)))[0];
    assert_eq!((state, epoch), (TxnState::PrepareCommit, EPOCH + 1));
    assert_eq!(end_answer(&c.on_appended(1, op, Ok(()))), Some(Ok((PID, EPOCH + 1))));
    assert_eq!(c.metadata(ID).unwrap().last_producer_epoch, EPOCH);
    let (op, _, _) = appends(&c.on_marker_written(ID, 0, Ok(())))[0];
    c.on_appended(2, op, Ok(()));
    assert_eq!(end_answer(&c.on_end_txn(3, TO, &end(EPOCH, true))), Some(Ok((PID, EPOCH + 1))), "a retry");
    assert_eq!(end_answer(&c.on_end_txn(3, TO, &end(EPOCH + 1, true))), Some(Err(KafkaError::TxnProducerFenced)));
    // The next transaction runs at epoch+1; the late EndTxn of the first one is fenced.
    let (op, _, _) = appends(&c.on_add_partitions(4, TO, ID, PID, EPOCH + 1, &parts(&[0]), 1, Some(2)))[0];
    c.on_appended(5, op, Ok(()));
    assert_eq!(end_answer(&c.on_end_txn(6, TO, &end(EPOCH, true))), Some(Err(KafkaError::TxnProducerFenced)));
}

/// Research 5.2 (KAFKA-17754, TV1): the same late EndTxn under 3.9 commits the next transaction.
/// Not a Kafka unit test: the consequence of the state table above.
#[test]
fn late_end_txn_commits_the_next_transaction_under_tv1() {
    let mut c = coordinator_with(meta(TxnState::Ongoing, EPOCH, NO_EPOCH), TxnRules::V3_9);
    let (op, _, _) = appends(&c.on_end_txn(0, TO, &end(EPOCH, true)))[0];
    c.on_appended(1, op, Ok(()));
    let (op, _, _) = appends(&c.on_marker_written(ID, 0, Ok(())))[0];
    c.on_appended(2, op, Ok(()));
    let (op, _, _) = appends(&c.on_add_partitions(4, TO, ID, PID, EPOCH, &parts(&[0]), 1, Some(2)))[0];
    c.on_appended(5, op, Ok(()));
    let (_, state, _) = appends(&c.on_end_txn(6, TO, &end(EPOCH, true)))[0];
    assert_eq!(state, TxnState::PrepareCommit, "the late EndTxn of T1 commits T2");
}

/// The release lines' rules (research section 9): 3.9 is `V3_9`; 0.11 compares EndTxn epochs
/// for equality but keeps the epoch on a timeout abort; 2.5 accepts a larger EndTxn epoch and
/// says INVALID_PRODUCER_EPOCH; 3.7 says INVALID_TXN_STATE on a failed verification; 4.0 is TV2.
#[test]
fn rules_follow_the_release_lines() {
    use losslab_model::config::TxnBrokerConfig;
    use losslab_model::KafkaVersion;
    let v = |s: &str| KafkaVersion::parse(s).expect("a known line");
    let b = TxnBrokerConfig::default();
    assert_eq!(TxnRules::of(v("3.9"), &b), TxnRules::V3_9);
    let r = TxnRules::of(v("0.11"), &b);
    assert!(r.endtxn_requires_equal_epoch && !r.timeout_abort_bumps_epoch && !r.producer_fenced_code);
    let r = TxnRules::of(v("2.5"), &b);
    assert!(!r.endtxn_requires_equal_epoch && r.timeout_abort_bumps_epoch && !r.producer_fenced_code);
    assert!(!TxnRules::of(v("3.7"), &b).verification_abortable);
    assert!(TxnRules::of(v("4.0"), &b).tv2 && !TxnRules::of(v("3.9"), &b).tv2);
}
