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
    /// The broker is not (or no longer) the group's coordinator.
    NotCoordinator,
    /// The coordinator could not write to `__consumer_offsets` (Kafka maps NOT_ENOUGH_REPLICAS
    /// of the internal write to this).
    CoordinatorNotAvailable,
    /// The member is not in the group (removed, or never joined this coordinator).
    UnknownMemberId,
    /// The request carries a generation the group has moved past.
    IllegalGeneration,
    /// The group is rebalancing: the member must rejoin.
    RebalanceInProgress,
    /// KIP-345 (2.3): a request carries a `group.instance.id` whose member id the coordinator
    /// has replaced (a newer incarnation of the static member joined).
    FencedInstanceId,
    /// The broker does not know the partition (retriable for a commit).
    UnknownTopicOrPartition,
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
            KafkaError::NotCoordinator => "NOT_COORDINATOR",
            KafkaError::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            KafkaError::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            KafkaError::IllegalGeneration => "ILLEGAL_GENERATION",
            KafkaError::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            KafkaError::FencedInstanceId => "FENCED_INSTANCE_ID",
            KafkaError::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
        }
    }

    /// Whether the producer retries a batch that got this error. Every error a produce request
    /// can get in this simulation is retriable except the delivery timeout.
    pub fn is_retriable(self) -> bool {
        // INVALID_PRODUCER_EPOCH answers a batch stamped before the producer bumped its epoch:
        // the client re-stamps it and sends it again, as Kafka's Sender does for stale batches.
        !matches!(self, KafkaError::DeliveryTimeout)
    }
}
