//! Kafka's error codes, the ones that decide durability, named as Kafka names them
//! (`org.apache.kafka.common.protocol.Errors`), plus the client-side failures (a broken
//! connection, a timeout) that Kafka's clients report as exceptions rather than codes.

/// Kafka's error codes that matter for durability, named as Kafka names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaError {
    NotLeaderOrFollower,
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    RequestTimedOut,
    OutOfOrderSequenceNumber,
    InvalidProducerEpoch,
    FencedLeaderEpoch,
    UnknownLeaderEpoch,
    InvalidUpdateVersion,
    /// AlterPartition named a fenced or shutting-down broker, or one by a stale epoch (KIP-841,
    /// KIP-903).
    IneligibleReplica,
    /// KRaft: another incarnation of this broker still has a valid session.
    DuplicateBrokerRegistration,
    /// ZooKeeper: the broker's znode still exists (its earlier session has not expired).
    NodeExists,
    /// The connection broke (reset or refused by the peer's OS).
    NetworkException,
    /// No answer within `request.timeout.ms`: the client dropped the connection.
    ClientRequestTimeout,
    /// `delivery.timeout.ms` passed.
    DeliveryTimeout,
    /// The broker has no state for the producer id and the batch does not start at sequence 0
    /// (brokers 1.0-2.4, `ProducerAppendInfo.checkSequence`).
    UnknownProducerId,
    /// Before 2.7, INVALID_PRODUCER_EPOCH reached the client as `ProducerFencedException`, fatal
    /// for the producer: every batch it holds, and every later one, fails with it.
    ProducerFenced,
    /// Before 2.1 (KIP-91): a batch waited in the accumulator longer than `request.timeout.ms`
    /// (`ProducerBatch.maybeExpire`).
    BatchExpired,
    /// `send()` could not get `buffer.memory` within `max.block.ms` (`BufferPool.allocate`).
    BufferExhausted,
    /// `send()` had no metadata for the topic within `max.block.ms` (`KafkaProducer.waitOnMetadata`).
    MetadataWaitTimeout,
    /// The broker is not (or no longer) the group's coordinator.
    NotCoordinator,
    /// The coordinator could not write to `__consumer_offsets` (Kafka maps NOT_ENOUGH_REPLICAS
    /// of the internal write to this).
    CoordinatorNotAvailable,
    /// The member is not in the group (removed, or never joined this coordinator).
    UnknownMemberId,
    /// KIP-394 (2.2): a JoinGroup without a member id; the answer carries the id to join with.
    MemberIdRequired,
    /// The request carries a generation the group has moved past.
    IllegalGeneration,
    /// The group is rebalancing: the member must rejoin.
    RebalanceInProgress,
    /// KIP-345 (2.3): a request carries a `group.instance.id` whose member id the coordinator
    /// has replaced (a newer incarnation of the static member joined).
    FencedInstanceId,
    /// The broker does not know the partition (retriable for a commit).
    UnknownTopicOrPartition,
    // ---- transactions (0.11+) ----
    /// A transition of the transactional id is in progress (markers still being written).
    ConcurrentTransactions,
    /// The request does not fit the transaction's state (fatal for the client).
    InvalidTxnState,
    /// The coordinator has no such producer id for the transactional id.
    InvalidProducerIdMapping,
    /// `transaction.timeout.ms` above `transaction.max.timeout.ms`.
    InvalidTransactionTimeout,
    /// A marker from a coordinator older than one the partition has seen.
    TransactionCoordinatorFenced,
    /// The coordinator is loading its partition of `__transaction_state`.
    CoordinatorLoadInProgress,
    /// 3.8 (KAFKA-16314): the transaction must be aborted.
    TransactionAbortable,
    /// The coordinator's PRODUCER_FENCED (2.7+, KIP-588): a newer epoch owns the transactional id.
    TxnProducerFenced,
    /// Client side: a batch never drained when the app aborted its transaction
    /// (`TransactionAbortedException`, `Sender` via `abortUndrainedBatches`).
    TransactionAborted,
    /// KIP-447 (2.5): an OffsetFetch with `requireStable` asked for a partition whose offset is
    /// pending in an open transaction (`GroupMetadataManager.getOffsets`); the consumer retries.
    UnstableOffsetCommit,
}

impl KafkaError {
    /// Kafka's name for the error, as it shows in logs and explanations.
    pub fn name(self) -> &'static str {
        match self {
            KafkaError::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            KafkaError::NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
            KafkaError::NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            KafkaError::RequestTimedOut => "REQUEST_TIMED_OUT",
            KafkaError::OutOfOrderSequenceNumber => "OUT_OF_ORDER_SEQUENCE_NUMBER",
            KafkaError::InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
            KafkaError::FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
            KafkaError::UnknownLeaderEpoch => "UNKNOWN_LEADER_EPOCH",
            KafkaError::InvalidUpdateVersion => "INVALID_UPDATE_VERSION",
            KafkaError::IneligibleReplica => "INELIGIBLE_REPLICA",
            KafkaError::DuplicateBrokerRegistration => "DUPLICATE_BROKER_REGISTRATION",
            KafkaError::NodeExists => "NODEEXISTS",
            KafkaError::NetworkException => "NETWORK_EXCEPTION (connection lost)",
            KafkaError::ClientRequestTimeout => "no answer within request.timeout.ms",
            KafkaError::DeliveryTimeout => "DELIVERY_TIMEOUT (delivery.timeout.ms expired)",
            KafkaError::UnknownProducerId => "UNKNOWN_PRODUCER_ID",
            KafkaError::ProducerFenced => "ProducerFencedException (INVALID_PRODUCER_EPOCH, fatal before 2.7)",
            KafkaError::BatchExpired => "TimeoutException (expired in the accumulator after request.timeout.ms)",
            KafkaError::BufferExhausted => "BufferExhaustedException (no buffer.memory within max.block.ms)",
            KafkaError::MetadataWaitTimeout => "TimeoutException (no metadata for the topic within max.block.ms)",
            KafkaError::NotCoordinator => "NOT_COORDINATOR",
            KafkaError::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            KafkaError::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            KafkaError::MemberIdRequired => "MEMBER_ID_REQUIRED",
            KafkaError::IllegalGeneration => "ILLEGAL_GENERATION",
            KafkaError::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            KafkaError::FencedInstanceId => "FENCED_INSTANCE_ID",
            KafkaError::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
            KafkaError::ConcurrentTransactions => "CONCURRENT_TRANSACTIONS",
            KafkaError::InvalidTxnState => "INVALID_TXN_STATE",
            KafkaError::InvalidProducerIdMapping => "INVALID_PRODUCER_ID_MAPPING",
            KafkaError::InvalidTransactionTimeout => "INVALID_TRANSACTION_TIMEOUT",
            KafkaError::TransactionCoordinatorFenced => "TRANSACTION_COORDINATOR_FENCED",
            KafkaError::CoordinatorLoadInProgress => "COORDINATOR_LOAD_IN_PROGRESS",
            KafkaError::TransactionAbortable => "TRANSACTION_ABORTABLE",
            KafkaError::TxnProducerFenced => "PRODUCER_FENCED",
            KafkaError::UnstableOffsetCommit => "UNSTABLE_OFFSET_COMMIT",
            KafkaError::TransactionAborted => "TransactionAbortedException",
        }
    }

    /// Whether the error is a `RetriableException` in Kafka's client (`Errors`): what a producer
    /// without idempotence retries. OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID (its
    /// subclass) and INVALID_PRODUCER_EPOCH are plain `ApiException`s: only the idempotent
    /// producer's `TransactionManager.canRetry` may retry the first two.
    pub fn is_retriable(self) -> bool {
        !matches!(
            self,
            KafkaError::DeliveryTimeout
                | KafkaError::OutOfOrderSequenceNumber
                | KafkaError::UnknownProducerId
                | KafkaError::InvalidProducerEpoch
                | KafkaError::ProducerFenced
                | KafkaError::BatchExpired
                | KafkaError::BufferExhausted
                | KafkaError::MetadataWaitTimeout
                | KafkaError::InvalidTxnState
                | KafkaError::InvalidProducerIdMapping
                | KafkaError::InvalidTransactionTimeout
                | KafkaError::TransactionCoordinatorFenced
                | KafkaError::TransactionAbortable
                | KafkaError::TransactionAborted
                | KafkaError::TxnProducerFenced
        )
    }
}
