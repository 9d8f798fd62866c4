//! The transactional cases of Kafka's `TransactionManagerTest` (3.9.0-rc3,
//! clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
//! against `client::producer::TxnManager`. Kafka's tests drive a `Sender` against a mock client;
//! here the test plays the Sender: it takes `next_request` and answers it with `on_response`.

use losslab_sim::client::producer::{ClientTxnState, TxnClientRules, TxnManager, TxnReaction, TxnRequest};
use losslab_sim::protocol::KafkaError;

const PID: u64 = 13_131;
const EPOCH: i32 = 1;
const BACKOFF: u64 = 100;

fn ready(rules: TxnClientRules) -> TxnManager {
    let mut t = TxnManager::new(rules);
    t.initialize().unwrap();
    assert_eq!(t.next_request(false), Some(TxnRequest::InitProducerId { bump: None }));
    assert_eq!(t.on_response(Ok(Some((PID, EPOCH))), BACKOFF), TxnReaction::Done);
    assert_eq!(t.state, ClientTxnState::Ready);
    t
}

/// begin, send to partition 0, AddPartitions answered NONE.
fn in_txn_with_p0(rules: TxnClientRules) -> TxnManager {
    let mut t = ready(rules);
    t.begin().unwrap();
    t.maybe_add_partition(0).unwrap();
    assert!(!t.send_to_partition_allowed(0), "not before AddPartitions");
    assert_eq!(t.next_request(false), Some(TxnRequest::AddPartitions(vec![0])));
    assert_eq!(t.on_response(Ok(None), BACKOFF), TxnReaction::Done);
    assert!(t.send_to_partition_allowed(0));
    t
}

/// Kafka: TransactionManagerTest.testEndTxnNotSentIfIncompleteBatches (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
#[test]
fn test_end_txn_not_sent_if_incomplete_batches() {
    let mut t = in_txn_with_p0(TxnClientRules::V3_9);
    assert!(t.begin_commit().unwrap());
    assert_eq!(t.next_request(true), None);
    assert_eq!(t.next_request(false), Some(TxnRequest::EndTxn { commit: true }));
    assert_eq!(t.on_response(Ok(None), BACKOFF), TxnReaction::Done);
    assert_eq!(t.state, ClientTxnState::Ready);
}

/// Kafka: TransactionManagerTest.testDisallowCommitOnProduceFailure (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// and testAllowAbortOnProduceFailure: a failed batch makes commit throw; abort goes through
/// and (2.5+, KIP-360) bumps the epoch with InitProducerId after the EndTxn.
#[test]
fn test_disallow_commit_allow_abort_on_produce_failure() {
    let mut t = in_txn_with_p0(TxnClientRules::V3_9);
    assert_eq!(
        t.on_batch_failed(KafkaError::OutOfOrderSequenceNumber),
        TxnReaction::Abortable(KafkaError::OutOfOrderSequenceNumber)
    );
    assert_eq!(t.begin_commit(), Err(KafkaError::OutOfOrderSequenceNumber));
    assert!(t.begin_abort().unwrap());
    assert_eq!(t.next_request(false), Some(TxnRequest::EndTxn { commit: false }));
    t.on_response(Ok(None), BACKOFF);
    assert_eq!(t.state, ClientTxnState::Initializing);
    assert_eq!(t.next_request(false), Some(TxnRequest::InitProducerId { bump: Some((PID, EPOCH)) }));
    t.on_response(Ok(Some((PID, EPOCH + 1))), BACKOFF);
    assert_eq!((t.state, t.producer_id_and_epoch), (ClientTxnState::Ready, Some((PID, EPOCH + 1))));
}

/// Kafka: TransactionManagerTest.testAddPartitionToTransactionOverridesRetryBackoffForConcurrentTransactions (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// KAFKA-5477: the first AddPartitions of a transaction retries CONCURRENT_TRANSACTIONS after 20 ms.
#[test]
fn test_add_partition_overrides_retry_backoff_for_concurrent_transactions() {
    let mut t = ready(TxnClientRules::V3_9);
    t.begin().unwrap();
    t.maybe_add_partition(0).unwrap();
    t.next_request(false);
    assert_eq!(
        t.on_response(Err(KafkaError::ConcurrentTransactions), BACKOFF),
        TxnReaction::Retry { backoff_ms: 20, find_coordinator: false }
    );
    assert_eq!(t.next_request(false), Some(TxnRequest::AddPartitions(vec![0])));
}

/// Kafka: TransactionManagerTest.testProducerFencedInAddPartitionToTxn (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// and testInvalidProducerEpochConvertToProducerFencedInEndTxn: fenced by the coordinator is fatal.
#[test]
fn test_producer_fenced_is_fatal() {
    let mut t = ready(TxnClientRules::V3_9);
    t.begin().unwrap();
    t.maybe_add_partition(0).unwrap();
    t.next_request(false);
    assert_eq!(
        t.on_response(Err(KafkaError::TxnProducerFenced), BACKOFF),
        TxnReaction::Fatal(KafkaError::ProducerFenced)
    );
    assert_eq!(t.state, ClientTxnState::FatalError);
    assert_eq!(t.begin_abort(), Err(KafkaError::ProducerFenced));
    let mut t = in_txn_with_p0(TxnClientRules::V3_9);
    t.begin_commit().unwrap();
    t.next_request(false);
    assert_eq!(
        t.on_response(Err(KafkaError::InvalidProducerEpoch), BACKOFF),
        TxnReaction::Fatal(KafkaError::ProducerFenced)
    );
}

/// Kafka: TransactionManagerTest.testInvalidProducerEpochFromProduce (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// A produce INVALID_PRODUCER_EPOCH is abortable from 2.7, fatal before.
#[test]
fn test_invalid_producer_epoch_from_produce() {
    let mut t = in_txn_with_p0(TxnClientRules::V3_9);
    assert_eq!(
        t.on_batch_failed(KafkaError::InvalidProducerEpoch),
        TxnReaction::Abortable(KafkaError::InvalidProducerEpoch)
    );
    let old = TxnClientRules { invalid_epoch_on_produce_fatal: true, ..TxnClientRules::V3_9 };
    let mut t = in_txn_with_p0(old);
    assert_eq!(t.on_batch_failed(KafkaError::InvalidProducerEpoch), TxnReaction::Fatal(KafkaError::ProducerFenced));
}

/// Kafka: TransactionManagerTest.testLookupCoordinatorOnDisconnectAfterSend (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// A disconnect (or request timeout) re-finds the coordinator and sends the same request again:
/// the retry that makes a late original EndTxn possible.
#[test]
fn test_lookup_coordinator_on_disconnect_after_send() {
    let mut t = in_txn_with_p0(TxnClientRules::V3_9);
    t.begin_commit().unwrap();
    assert_eq!(t.next_request(false), Some(TxnRequest::EndTxn { commit: true }));
    assert_eq!(
        t.on_response(Err(KafkaError::ClientRequestTimeout), BACKOFF),
        TxnReaction::Retry { backoff_ms: BACKOFF, find_coordinator: true }
    );
    assert_eq!(t.next_request(false), Some(TxnRequest::EndTxn { commit: true }));
}

/// Kafka: TransactionManagerTest.testIllegalGenerationInTxnOffsetCommitByGroupMetadata (3.9.0-rc3, clients/src/test/java/org/apache/kafka/clients/producer/internals/TransactionManagerTest.java)
/// and testUnknownMemberIdInTxnOffsetCommitByGroupMetadata: KIP-447 fencing is abortable.
#[test]
fn test_illegal_generation_in_txn_offset_commit() {
    let mut t = in_txn_with_p0(TxnClientRules::V3_9);
    t.send_offsets().unwrap();
    assert_eq!(t.next_request(false), Some(TxnRequest::AddOffsets));
    t.on_response(Ok(None), BACKOFF);
    assert_eq!(t.next_request(false), Some(TxnRequest::TxnOffsetCommit));
    assert_eq!(
        t.on_response(Err(KafkaError::IllegalGeneration), BACKOFF),
        TxnReaction::Abortable(KafkaError::IllegalGeneration)
    );
    assert_eq!(t.state, ClientTxnState::AbortableError);
}

/// Kafka: TransactionManagerTest.testTransitionToFatalErrorWhenRetriedBatchIsExpired-like state
/// table (TransactionManager.State.isTransitionValid, 3.9.0-rc3): the legal sources of each state.
#[test]
fn state_transition_table() {
    use ClientTxnState::*;
    assert!(Ready.can_transition_to(InTransaction));
    assert!(!CommittingTransaction.can_transition_to(AbortingTransaction), "no abort after a commit began");
    assert!(AbortableError.can_transition_to(AbortingTransaction));
    assert!(!FatalError.can_transition_to(Ready));
    assert!(AbortingTransaction.can_transition_to(Initializing));
}

/// TV2 (4.0, KIP-890 part 2, PRs #17698/#17402): no AddPartitionsToTxn; the EndTxn answer's epoch is adopted.
#[test]
fn tv2_sends_no_add_partitions_and_adopts_the_end_txn_epoch() {
    let tv2 = TxnClientRules { tv2: true, ..TxnClientRules::V3_9 };
    let mut t = ready(tv2);
    t.begin().unwrap();
    t.maybe_add_partition(0).unwrap();
    assert!(t.send_to_partition_allowed(0));
    t.begin_commit().unwrap();
    assert_eq!(t.next_request(false), Some(TxnRequest::EndTxn { commit: true }));
    t.on_response(Ok(Some((PID, EPOCH + 1))), BACKOFF);
    assert_eq!(t.producer_id_and_epoch, Some((PID, EPOCH + 1)));
}
