//! The wire protocol between simulated nodes: the subset of Kafka's requests that decides
//! durability (Produce, Fetch, Metadata, AlterPartition, broker registration and heartbeats,
//! the controller's partition-state pushes, the consumer-group protocol and offset commits)
//! and Kafka's own error codes.
//! Messages travel as values through `network`; nothing is serialized.

use crate::coordinator::{JoinResult, MemberId};
use crate::log::Batch;
use losslab_model::config::Acks;
use losslab_model::MsgId;

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
            KafkaError::NetworkException => "NETWORK_EXCEPTION (connection lost)",
            KafkaError::ClientRequestTimeout => "no answer within request.timeout.ms",
            KafkaError::DeliveryTimeout => "DELIVERY_TIMEOUT (delivery.timeout.ms expired)",
            KafkaError::NotCoordinator => "NOT_COORDINATOR",
            KafkaError::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            KafkaError::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            KafkaError::IllegalGeneration => "ILLEGAL_GENERATION",
            KafkaError::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
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

/// The controller's record of one partition, as pushed to brokers (LeaderAndIsr / KRaft
/// PartitionChangeRecord).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionState {
    pub partition: u32,
    /// Replica assignment, in preference order.
    pub replicas: Vec<u32>,
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    pub partition_epoch: u32,
    pub isr: Vec<u32>,
    pub elr: Vec<u32>,
}

/// The idempotent producer's stamp on a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerStamp {
    pub producer_id: u64,
    pub producer_epoch: u32,
    pub base_sequence: u32,
}

/// What a fetch answers when it has no error.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchData {
    /// Records from the fetch offset (possibly none) and the leader's high watermark.
    Records { batches: Vec<Batch>, high_watermark: u64 },
    /// The fetcher's log diverges from the leader's: its last fetched epoch ends at
    /// `end_offset` on the leader (KIP-101/KIP-279, truncate-on-fetch of KIP-595).
    Diverging { epoch: u32, end_offset: u64 },
    /// The fetch offset is past the leader's log end (`OFFSET_OUT_OF_RANGE`).
    OutOfRange { log_end_offset: u64 },
}

/// Every message a node can receive.
#[derive(Clone, Debug)]
pub enum Msg {
    // ---- clients <-> brokers ----
    Produce {
        corr: u64,
        partition: u32,
        acks: Acks,
        timeout_ms: u64,
        /// The client's batch number (for the history; brokers never use it).
        batch: u64,
        msgs: Vec<MsgId>,
        stamp: Option<ProducerStamp>,
    },
    ProduceResponse {
        corr: u64,
        partition: u32,
        result: Result<u64, KafkaError>,
    },
    Metadata {
        corr: u64,
    },
    MetadataResponse {
        corr: u64,
        partitions: Vec<(u32, Option<u32>, u32)>,
    },
    /// A fetch from a follower (`replica` is set) or a consumer (reads below the HW only).
    Fetch {
        corr: u64,
        partition: u32,
        replica: Option<u32>,
        fetch_offset: u64,
        /// The epoch of the fetcher's last record (None before KIP-101, or an empty log).
        last_fetched_epoch: Option<u32>,
        current_leader_epoch: u32,
        max_wait_ms: u64,
    },
    FetchResponse {
        corr: u64,
        partition: u32,
        result: Result<FetchData, KafkaError>,
    },

    // ---- brokers <-> controller ----
    Register {
        broker: u32,
        incarnation: u64,
    },
    Heartbeat {
        broker: u32,
        incarnation: u64,
    },
    HeartbeatResponse {
        fenced: bool,
    },
    AlterPartition {
        broker: u32,
        partition: u32,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: Vec<u32>,
    },
    /// The answer echoes what was requested, so a leader can tell a stale answer.
    AlterPartitionResponse {
        partition: u32,
        requested_isr: Vec<u32>,
        requested_partition_epoch: u32,
        result: Result<PartitionState, KafkaError>,
    },
    /// The controller pushes a partition's state to every broker.
    PartitionUpdate(PartitionState),

    // ---- consumers <-> the group coordinator (the broker leading `__consumer_offsets`) ----
    /// JoinGroup (with SyncGroup folded in, see `coordinator`): `member` is `None` for a new
    /// member. `session_timeout_ms` and `rebalance_timeout_ms` (`max.poll.interval.ms`) are
    /// the member's own, as in Kafka.
    JoinGroup {
        corr: u64,
        consumer: u32,
        member: Option<MemberId>,
        session_timeout_ms: u64,
        rebalance_timeout_ms: u64,
    },
    /// `member`: the id the coordinator holds for the member, also when the join failed.
    JoinGroupResponse {
        corr: u64,
        member: Option<MemberId>,
        result: Result<JoinResult, KafkaError>,
    },
    GroupHeartbeat {
        corr: u64,
        member: MemberId,
        generation: u32,
    },
    GroupHeartbeatResponse {
        corr: u64,
        result: Result<(), KafkaError>,
    },
    LeaveGroup {
        member: MemberId,
        reason: String,
    },
    /// `member` and `generation` are `None` when the consumer commits outside the group
    /// protocol (Kafka's generation -1); only an empty group accepts that.
    OffsetCommit {
        corr: u64,
        member: Option<MemberId>,
        generation: Option<u32>,
        offsets: Vec<(u32, u64)>,
    },
    OffsetCommitResponse {
        corr: u64,
        result: Result<(), KafkaError>,
    },
    OffsetFetch {
        corr: u64,
        partitions: Vec<u32>,
    },
    /// The committed offset of each requested partition (`None`: the group has none).
    OffsetFetchResponse {
        corr: u64,
        result: Result<Vec<(u32, Option<u64>)>, KafkaError>,
    },

    // ---- what the operating system tells a process about its connections ----
    /// A request could not be delivered: the destination's process is dead on a machine that
    /// is up, so its OS refuses the connection at once.
    Refused {
        to: usize,
        msg: Box<Msg>,
    },
    /// The process at `peer` died on a machine that is up: its OS reset every connection, so
    /// everything in flight to it is lost and its peers learn so at once.
    PeerDown {
        peer: usize,
    },

    // ---- the nemesis ----
    /// An operator asks the controller for a leader election (`kafka-leader-election`).
    Elect {
        partition: u32,
        unclean: bool,
    },
}
