//! The resolved configuration of a run: every Kafka property the simulation honours, with
//! Kafka's own default already applied. Parsing and validation live in `scenario`; the fields
//! here are plain values so that the simulator never has to think about defaults.
//!
//! Field names follow the Kafka property they come from, with units last
//! (`replica.lag.time.max.ms` becomes `replica_lag_time_max_ms`).

pub use crate::version::MetadataMode;
use serde::{Deserialize, Serialize};

/// `acks`: how many replicas must have a record before the leader answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Acks {
    /// `acks=0`: the producer does not wait for any answer.
    None,
    /// `acks=1`: the leader answers after its own append.
    Leader,
    /// `acks=all` / `-1`: the leader answers once every ISR member has the record.
    All,
}

impl Acks {
    pub fn as_kafka(self) -> &'static str {
        match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        }
    }
}

/// `app.send`: what the application around the producer does with `send()`'s result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendMode {
    /// The app passes a callback and learns each record's outcome.
    Callback,
    /// The app treats `send()` returning as success and never looks at the outcome.
    FireAndForget,
    /// The app waits for each record's outcome before sending the next.
    Sync,
}

/// `app.on.failure`: what the app does when it learns a record failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnFailure {
    /// The record is given up (logged).
    Log,
    /// The app sends it again as a new record.
    Resend,
}

/// `auto.offset.reset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OffsetReset {
    Earliest,
    Latest,
    None,
}

/// `app.processing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Processing {
    /// Every polled record is processed before the next poll.
    Sync,
    /// Records go to an in-memory queue served by `app.workers` workers; the app polls at once.
    Async,
}

/// `app.commit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitStrategy {
    /// Only auto-commit (if enabled).
    None,
    /// Commit offsets once their records are processed.
    AfterProcess,
    /// Commit what a poll returned, then process it.
    BeforeProcess,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicConfig {
    pub partitions: u32,
    pub replication_factor: u32,
    pub min_insync_replicas: u32,
    pub unclean_leader_election_enable: bool,
}

/// `os.writeback.order`: in what order a writeback's page writes reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WritebackOrder {
    /// As Linux: the block layer and the drive complete a writeback's writes in any order, so a
    /// power cut in the middle can leave a later batch on the platter and an earlier one not.
    Any,
    /// In file order: what is on the platter is always a prefix of the log.
    Offset,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrokerConfig {
    /// ZooKeeper or KRaft, resolved from `kafka.version` and `process.roles`.
    pub metadata_mode: MetadataMode,
    /// `log.flush.interval.messages`: fsync after this many appended messages.
    pub log_flush_interval_messages: u64,
    /// `log.flush.interval.ms`: the flusher fsyncs a log last flushed at least this long ago;
    /// `None`: Kafka's default, the scheduler interval.
    pub log_flush_interval_ms: Option<u64>,
    /// `log.flush.scheduler.interval.ms`: how often the flusher runs after its first run.
    pub log_flush_scheduler_interval_ms: u64,
    pub replica_lag_time_max_ms: u64,
    pub replica_fetch_wait_max_ms: u64,
    pub replica_high_watermark_checkpoint_interval_ms: u64,
    /// KRaft: the controller fences a broker silent for this long.
    pub broker_session_timeout_ms: u64,
    pub broker_heartbeat_interval_ms: u64,
    /// ZooKeeper mode: a broker's session expires this long after its last contact.
    pub zookeeper_session_timeout_ms: u64,
    /// Resolved from `eligible.leader.replicas.enable` and the version's default.
    pub eligible_leader_replicas_enable: bool,
    /// `os.dirty.expire.ms`: the OS writes back dirty pages older than this.
    pub os_dirty_expire_ms: u64,
    /// `os.dirty.writeback.ms`: how often the OS writeback runs.
    pub os_dirty_writeback_ms: u64,
    pub os_writeback_order: WritebackOrder,
    /// The transaction coordinator's keys (issue 16); Kafka's defaults, see [`TxnBrokerConfig`].
    #[serde(default)]
    pub txn: TxnBrokerConfig,
}

/// The broker keys of transactions, with Kafka's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxnBrokerConfig {
    /// `transaction.state.log.replication.factor` (3; the lab's default is capped at `brokers`,
    /// as the topic's `replication.factor` default is).
    pub transaction_state_log_replication_factor: u32,
    /// `transaction.state.log.min.isr` (2; capped at the replication factor by default).
    pub transaction_state_log_min_isr: u32,
    /// `transaction.max.timeout.ms` (900000): InitProducerId refuses a longer
    /// `transaction.timeout.ms` with INVALID_TRANSACTION_TIMEOUT.
    pub transaction_max_timeout_ms: u64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`: 10000 from 2.5, 60000 before.
    pub transaction_abort_timed_out_transaction_cleanup_interval_ms: u64,
    /// `transaction.partition.verification.enable` (KIP-890 part 1, 3.6+; false before: no
    /// verification exists).
    pub transaction_partition_verification_enable: bool,
}

impl Default for TxnBrokerConfig {
    fn default() -> Self {
        TxnBrokerConfig {
            transaction_state_log_replication_factor: 3,
            transaction_state_log_min_isr: 2,
            transaction_max_timeout_ms: 900_000,
            transaction_abort_timed_out_transaction_cleanup_interval_ms: 10_000,
            transaction_partition_verification_enable: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProducerConfig {
    pub acks: Acks,
    /// Resolved: `true` only when idempotence is actually on.
    pub enable_idempotence: bool,
    pub retries: u64,
    pub max_in_flight_requests_per_connection: u32,
    pub delivery_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub retry_backoff_ms: u64,
    pub linger_ms: u64,
    pub batch_size: u64,
    pub app_send: SendMode,
    pub app_on_failure: OnFailure,
    /// `retry.backoff.max.ms` (KIP-580, 3.7): the cap of the exponential retry backoff; before
    /// 3.7 the backoff is `retry.backoff.ms`, constant.
    pub retry_backoff_max_ms: u64,
    /// `buffer.memory`: bytes the accumulator may hold; each batch reserves at least `batch.size`.
    pub buffer_memory: u64,
    /// `max.block.ms`: how long `send()` blocks for metadata or for buffer memory before the
    /// record fails (through its callback or future: `send()` does not throw).
    pub max_block_ms: u64,
    /// `transactional.id` as the file gives it (KIP-98, 0.11): producer `pN` uses `"<value>-N"`
    /// (see [`ProducerConfig::transactional_id_of`]). `None`: not transactional.
    #[serde(default)]
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`: the coordinator aborts a transaction open longer than this.
    #[serde(default = "default_transaction_timeout_ms")]
    pub transaction_timeout_ms: u64,
    /// `app.transaction.records`: records per transaction.
    #[serde(default = "default_app_transaction_records")]
    pub app_transaction_records: u64,
    /// `app.transaction.abort.every`: the app aborts every Nth transaction; 0: never.
    #[serde(default)]
    pub app_transaction_abort_every: u64,
}

fn default_transaction_timeout_ms() -> u64 {
    60_000
}

fn default_app_transaction_records() -> u64 {
    10
}

impl ProducerConfig {
    /// Producer `producer`'s `transactional.id`: the file's value with `-<producer>` appended,
    /// so that several producers of one scenario are distinct transactional ids.
    pub fn transactional_id_of(&self, producer: u32) -> Option<String> {
        self.transactional_id.as_ref().map(|id| format!("{id}-{producer}"))
    }

    /// The bytes of `buffer.memory` a new batch reserves (`RecordAccumulator.append`):
    /// `batch.size`, or one record of `message_bytes` with the v2 batch header and the worst-case
    /// record overhead if that is larger (`DefaultRecordBatch.estimateBatchSizeUpperBound`:
    /// `RECORD_BATCH_OVERHEAD` 61 + `DefaultRecord.MAX_RECORD_OVERHEAD` 21, no key).
    pub fn batch_reservation_bytes(&self, message_bytes: u64) -> u64 {
        self.batch_size.max(61 + 21 + message_bytes)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsumerConfig {
    pub group_id: String,
    pub enable_auto_commit: bool,
    pub auto_commit_interval_ms: u64,
    pub auto_offset_reset: OffsetReset,
    pub max_poll_records: u32,
    pub max_poll_interval_ms: u64,
    pub session_timeout_ms: u64,
    pub app_processing: Processing,
    pub app_workers: u32,
    pub app_process_ms: u64,
    pub app_commit: CommitStrategy,
    /// `group.instance.id` as the file gives it (KIP-345, 2.3): consumer `cN` uses
    /// `"<value>-N"` (see [`ConsumerConfig::instance_id`]). `None`: dynamic members.
    #[serde(default)]
    pub group_instance_id: Option<String>,
    /// `partition.assignment.strategy`, in the file's order (Kafka's default by version).
    #[serde(default = "default_assignors")]
    pub partition_assignment_strategy: Vec<Assignor>,
    /// `isolation.level` (0.11).
    #[serde(default)]
    pub isolation_level: IsolationLevel,
    /// `app.output`: what the app does with each record it processes.
    #[serde(default)]
    pub app_output: AppOutput,
}

/// `isolation.level`: what a fetch may return of transactional data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IsolationLevel {
    /// Everything below the high watermark, records of aborted and open transactions included.
    #[default]
    ReadUncommitted,
    /// Only below the last stable offset, without the records of aborted transactions.
    ReadCommitted,
}

impl IsolationLevel {
    pub fn as_kafka(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "read_uncommitted",
            IsolationLevel::ReadCommitted => "read_committed",
        }
    }
}

/// `app.output`: the consume-transform-produce pipeline of the consumer app (topic `out`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AppOutput {
    /// No output: the app only processes.
    #[default]
    None,
    /// A plain producer writes each output; once those writes are acknowledged the app commits
    /// its offsets (at-least-once).
    Plain,
    /// Outputs and offsets are committed in one transaction (`sendOffsetsToTransaction`).
    Transactional,
}

impl AppOutput {
    pub fn as_str(self) -> &'static str {
        match self {
            AppOutput::None => "none",
            AppOutput::Plain => "plain",
            AppOutput::Transactional => "transactional",
        }
    }
}

fn default_assignors() -> Vec<Assignor> {
    vec![Assignor::Range]
}

/// A partition assignor of `partition.assignment.strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Assignor {
    /// `RangeAssignor`: eager.
    Range,
    /// `CooperativeStickyAssignor` (KIP-429, 2.4): supports the cooperative protocol.
    CooperativeSticky,
}

impl Assignor {
    /// Kafka's protocol name (`ConsumerPartitionAssignor.name()`).
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::CooperativeSticky => "cooperative-sticky",
        }
    }
}

/// `ConsumerPartitionAssignor.RebalanceProtocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RebalanceProtocol {
    /// Every member gives up all its partitions before it rejoins.
    Eager,
    /// Members keep their partitions across a rebalance and give up only those that move
    /// (KIP-429).
    Cooperative,
}

impl ConsumerConfig {
    /// Consumer `consumer`'s `group.instance.id`: the file's value with `-<consumer>` appended,
    /// so that several consumers of one scenario are distinct static members.
    pub fn instance_id(&self, consumer: u32) -> Option<String> {
        self.group_instance_id.as_ref().map(|id| format!("{id}-{consumer}"))
    }

    /// The assignor the group runs: the first of the list (every consumer of a run has the
    /// same list, so the first is the first common one, `AbstractCoordinator`'s selection).
    pub fn assignor(&self) -> Assignor {
        self.partition_assignment_strategy.first().copied().unwrap_or(Assignor::Range)
    }

    /// `ConsumerCoordinator`'s constructor: the highest protocol every configured assignor
    /// supports, so `[range, cooperative-sticky]` (3.0's default) stays eager.
    pub fn rebalance_protocol(&self) -> RebalanceProtocol {
        if !self.partition_assignment_strategy.is_empty()
            && self.partition_assignment_strategy.iter().all(|&a| a == Assignor::CooperativeSticky)
        {
            RebalanceProtocol::Cooperative
        } else {
            RebalanceProtocol::Eager
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub producers: u32,
    pub consumers: u32,
    /// Messages per producer.
    pub messages: u64,
    /// Messages per second per producer.
    pub rate_per_sec: u64,
    pub message_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    pub latency_ms_min: u64,
    pub latency_ms_max: u64,
}
