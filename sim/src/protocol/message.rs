//! The messages simulated nodes exchange: the subset of Kafka's requests that decides
//! durability (Produce, Fetch, Metadata, AlterPartition, broker registration and heartbeats,
//! the controller's partition-state pushes, the consumer-group protocol and offset commits),
//! and what the operating system tells a process about its connections. Messages travel as
//! values through the runtime's network; nothing is serialized.

use super::error::KafkaError;
use super::group::{CommittedOffsets, JoinResult, MemberId};
use super::partition::PartitionState;
use super::record::{AbortedTxn, Batch, ProducerStamp};
use losslab_model::config::Acks;
use losslab_model::MsgIds;
use std::collections::BTreeMap;

/// What a fetch answers when it has no error.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchData {
    /// Records from the fetch offset (possibly none) and the leader's high watermark.
    Records { batches: Vec<Batch>, high_watermark: u64 },
    /// A `read_committed` consumer's answer (0.11+): records below the last stable offset, the
    /// aborted transactions overlapping them (`FetchResponse.abortedTransactions`), the high
    /// watermark and the last stable offset.
    Committed { batches: Vec<Batch>, aborted: Vec<AbortedTxn>, high_watermark: u64, last_stable_offset: u64 },
    /// The fetcher's log diverges from the leader's: its last fetched epoch ends at
    /// `end_offset` on the leader (KIP-101/KIP-279, truncate-on-fetch of KIP-595).
    Diverging { epoch: u32, end_offset: u64 },
    /// The fetch offset is past the leader's log end (`OFFSET_OUT_OF_RANGE`).
    OutOfRange { log_end_offset: u64 },
    /// 0.11-1.1 (OffsetsForLeaderEpoch v0, before KIP-279): the offset the leader gives for the
    /// follower's latest epoch, `None` for UNDEFINED_EPOCH_OFFSET; the follower truncates once.
    EpochEnd { end_offset: Option<u64> },
}

/// What a transactional produce request says of its transaction: `ProduceRequest.transactionalId`,
/// and whether the client speaks transaction version 2 (Produce v12, KIP-890 part 2, 4.0), so
/// the leader adds the partition to the transaction itself instead of only verifying it.
/// `producer`/`txn` are simulation tags for the history; no rule reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceTxn {
    pub transactional_id: String,
    pub add_partition: bool,
    pub producer: u32,
    pub txn: Option<u64>,
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
        msgs: MsgIds,
        stamp: Option<ProducerStamp>,
        /// The client's connection to this broker, counted up each time it breaks: a broker that
        /// closed a connection ignores what was still written on it.
        connection: u64,
        /// A transactional batch's request header (`RecordBatch.isTransactional`, 0.11+);
        /// `None` for any other batch.
        transaction: Option<ProduceTxn>,
    },
    ProduceResponse {
        corr: u64,
        partition: u32,
        result: Result<u64, KafkaError>,
        /// KIP-951 (3.7): with NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH, the leader and
        /// leader epoch the broker knows of.
        current_leader: Option<(u32, u32)>,
    },
    /// The broker closed the client's connection `connection` on purpose: `KafkaApis` does so
    /// after an error on an `acks=0` produce request, whose client expects no answer. The client
    /// sees a disconnect.
    ConnectionClosed {
        connection: u64,
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
        /// A follower's broker epoch (its registered incarnation), as Kafka's fetch carries it
        /// from 3.5 for KIP-903; 0 for consumers.
        broker_epoch: u64,
        max_wait_ms: u64,
        /// A consumer's `isolation.level=read_committed` (`FetchIsolation.TXN_COMMITTED`, 0.11+).
        read_committed: bool,
    },
    FetchResponse {
        corr: u64,
        partition: u32,
        result: Result<FetchData, KafkaError>,
    },

    /// A consumer validating its position (KIP-320, 2.3): where does `leader_epoch` end in the
    /// leader's log? `current_leader_epoch` is fenced as a fetch's is.
    OffsetsForLeaderEpoch {
        corr: u64,
        partition: u32,
        current_leader_epoch: Option<u32>,
        leader_epoch: u32,
    },
    /// `Ok(None)`: UNDEFINED (no epoch at or below the one asked for).
    OffsetsForLeaderEpochResponse {
        corr: u64,
        partition: u32,
        result: Result<Option<(u32, u64)>, KafkaError>,
    },

    // ---- brokers <-> controller (KRaft, or ZooKeeper and its controller) ----
    /// Broker registration (KRaft `BrokerRegistration`; ZooKeeper: creating the broker's
    /// ephemeral znode). `clean_epoch`: the broker epoch its clean-shutdown marker holds, if it
    /// shut down cleanly last time (KIP-966's `previousBrokerEpoch`).
    Register {
        broker: u32,
        incarnation: u64,
        clean_epoch: Option<u64>,
    },
    /// `Err`: the earlier incarnation's session is still valid (KRaft
    /// DUPLICATE_BROKER_REGISTRATION; ZooKeeper NODEEXISTS).
    RegisterResponse {
        result: Result<(), KafkaError>,
    },
    /// KRaft heartbeat (ZooKeeper: the session's ping). `want_fence`: the broker has not yet
    /// caught up with the metadata; `want_shutdown`: it is in a controlled shutdown.
    Heartbeat {
        broker: u32,
        incarnation: u64,
        want_fence: bool,
        want_shutdown: bool,
    },
    /// `ineligible`: brokers fenced or shutting down, which may not join an ISR.
    HeartbeatResponse {
        fenced: bool,
        shut_down_now: bool,
        ineligible: Vec<u32>,
    },
    /// ZooKeeper mode: `ControlledShutdownRequest`.
    ControlledShutdown {
        broker: u32,
        incarnation: u64,
    },
    /// The partitions the broker still leads (the controller found no other ISR member).
    ControlledShutdownResponse {
        remaining: Vec<u32>,
    },
    /// ZooKeeper mode: a broker that shut down closes its session, so its znode goes at once.
    SessionClosed {
        broker: u32,
        incarnation: u64,
    },
    /// The ISR a leader proposes, with the broker epoch it saw from each member (KIP-903).
    AlterPartition {
        broker: u32,
        partition: u32,
        leader_epoch: u32,
        partition_epoch: u32,
        new_isr: Vec<u32>,
        member_epochs: Vec<(u32, u64)>,
    },
    /// The answer echoes what was requested, so a leader can tell a stale answer.
    AlterPartitionResponse {
        partition: u32,
        requested_isr: Vec<u32>,
        requested_partition_epoch: u32,
        result: Result<PartitionState, KafkaError>,
    },
    /// The controller pushes a partition's state to a broker, stamped with the broker epoch it
    /// has registered for it (KIP-380: a broker drops a push meant for its earlier self).
    PartitionUpdate {
        state: PartitionState,
        broker_epoch: u64,
        /// Brokers fenced or shutting down as of this state (KRaft's metadata image applies broker
        /// fencing before the partition changes that follow from it).
        ineligible: Vec<u32>,
    },

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
        /// `group.instance.id` (KIP-345, 2.3): `None` for a dynamic member.
        instance: Option<String>,
        /// The subscription's owned partitions and their generation (KIP-429: a cooperative
        /// member keeps them while it rejoins; an eager one has given them up and sends none).
        owned: Vec<u32>,
        owned_generation: Option<u32>,
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
        instance: Option<String>,
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
        /// The leader epoch committed with an offset (KIP-320, OffsetCommit v6, 2.1): the epoch
        /// of the last consumed record, for the partitions that have one.
        epochs: BTreeMap<u32, u32>,
        instance: Option<String>,
    },
    OffsetCommitResponse {
        corr: u64,
        result: Result<(), KafkaError>,
    },
    OffsetFetch {
        corr: u64,
        partitions: Vec<u32>,
        /// KIP-447 (2.5+ consumers, always set): a partition with a pending transactional offset
        /// is answered UNSTABLE_OFFSET_COMMIT instead of its last committed offset.
        require_stable: bool,
    },
    /// The committed offset of each requested partition (`None`: the group has none), with
    /// the leader epoch committed with it (2.1+).
    OffsetFetchResponse {
        corr: u64,
        result: Result<CommittedOffsets, KafkaError>,
    },

    // ---- transactional producers <-> the transaction coordinator (the broker leading
    // `__transaction_state`), and the coordinator -> partition leaders (issue 16). `producer`
    // and `txn` are simulation tags for the history: no rule reads them. ----
    /// InitProducerId with a transactional id; `expected` is KIP-360's current producer id and
    /// epoch (2.5+), sent to bump after an abortable error.
    InitProducerId {
        corr: u64,
        transactional_id: String,
        timeout_ms: u64,
        expected: Option<(u64, i32)>,
        producer: u32,
    },
    InitProducerIdResponse {
        corr: u64,
        result: Result<(u64, i32), KafkaError>,
    },
    /// AddPartitionsToTxn; `verify_only` (v4, KIP-890 part 1, 3.6+) comes from a partition
    /// leader asking whether the partitions are in the transaction.
    AddPartitionsToTxn {
        corr: u64,
        transactional_id: String,
        producer_id: u64,
        epoch: i32,
        partitions: Vec<u32>,
        verify_only: bool,
        producer: u32,
        txn: Option<u64>,
    },
    /// `verified`: for a `verify_only` request, the answer per partition.
    AddPartitionsToTxnResponse {
        corr: u64,
        result: Result<(), KafkaError>,
        verified: Vec<(u32, Result<(), KafkaError>)>,
    },
    /// AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction.
    AddOffsetsToTxn {
        corr: u64,
        transactional_id: String,
        producer_id: u64,
        epoch: i32,
        producer: u32,
        txn: Option<u64>,
    },
    AddOffsetsToTxnResponse {
        corr: u64,
        result: Result<(), KafkaError>,
    },
    /// TxnOffsetCommit (`sendOffsetsToTransaction`) to the group coordinator: the offsets are
    /// written as a transactional batch of (`producer_id`, `epoch`) and stay pending until that
    /// producer id's marker on `__consumer_offsets`. `member`/`generation`/`instance` are the
    /// consumer's group metadata (KIP-447, 2.5+; `None` with the older `groupId` form).
    TxnOffsetCommit {
        corr: u64,
        transactional_id: String,
        producer_id: u64,
        epoch: i32,
        member: Option<MemberId>,
        generation: Option<u32>,
        instance: Option<String>,
        offsets: Vec<(u32, u64)>,
        producer: u32,
        txn: Option<u64>,
    },
    TxnOffsetCommitResponse {
        corr: u64,
        result: Result<(), KafkaError>,
    },
    EndTxn {
        corr: u64,
        transactional_id: String,
        producer_id: u64,
        epoch: i32,
        commit: bool,
        producer: u32,
        txn: Option<u64>,
    },
    /// The producer id and epoch to go on with (TV2 moves the epoch).
    EndTxnResponse {
        corr: u64,
        result: Result<(u64, i32), KafkaError>,
    },
    /// WriteTxnMarkers for one partition (Kafka groups a coordinator's markers per leader in
    /// one request; here each partition's marker travels alone, see docs/NOTES.md).
    WriteTxnMarker {
        corr: u64,
        transactional_id: String,
        partition: u32,
        producer_id: u64,
        epoch: i32,
        coordinator_epoch: u32,
        commit: bool,
        producer: u32,
        txn: Option<u64>,
    },
    WriteTxnMarkerResponse {
        corr: u64,
        partition: u32,
        result: Result<(), KafkaError>,
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
    /// An operator asks the process to shut down gracefully (`kafka-server-stop.sh`, SIGTERM;
    /// a client app calling `close()`).
    Stop,
    /// An operator asks the controller for a leader election (`kafka-leader-election`).
    Elect {
        partition: u32,
        unclean: bool,
    },
}
