//! The run history: a flat, time-ordered list of everything observable that happened in a run,
//! in the spirit of Jepsen's histories. The simulator's recorder writes it; the checker, the
//! reports and the charts read it. Every event carries its simulated time in microseconds.
//!
//! Outcomes follow Jepsen's rule: a timeout is not a failure. A producer batch whose outcome is
//! unknown produces no outcome event until the client itself decides (a later success, or a
//! failure after `delivery.timeout.ms`).

mod boxed;

pub use boxed::{PartitionChange, ProducerIdChange, Resumed, TxnTransition};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A record the workload produced: producer `p{producer}`'s `seq`-th record (`p1#17`).
/// A record the app resends after a failure is a new record with a new `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MsgId {
    pub producer: u32,
    pub seq: u64,
}

/// A batch's record ids, shared: the producer's batch, its produce request, the leader's and
/// each follower's log and the events that name them hold one copy between them (a
/// 1,000,000-message run would otherwise keep eight).
pub type MsgIds = std::sync::Arc<[MsgId]>;

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}#{}", self.producer, self.seq)
    }
}

impl MsgId {
    /// Parses `p1#17`.
    pub fn parse(text: &str) -> Option<MsgId> {
        let rest = text.strip_prefix('p')?;
        let (p, s) = rest.split_once('#')?;
        Some(MsgId { producer: p.parse().ok()?, seq: s.parse().ok()? })
    }
}

/// A node of the simulated cluster, named as scenario files name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeName {
    Broker(u32),
    Controller,
    Producer(u32),
    Consumer(u32),
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeName::Broker(i) => write!(f, "b{i}"),
            NodeName::Controller => write!(f, "controller"),
            NodeName::Producer(i) => write!(f, "p{i}"),
            NodeName::Consumer(i) => write!(f, "c{i}"),
        }
    }
}

impl NodeName {
    /// Parses `b1`, `controller`, `p2`, `c1` (numbers start at 1).
    pub fn parse(text: &str) -> Option<NodeName> {
        if text == "controller" {
            return Some(NodeName::Controller);
        }
        let (kind, num) = text.split_at(text.find(|c: char| c.is_ascii_digit())?);
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || num.starts_with('0') {
            return None;
        }
        let n: u32 = num.parse().ok()?;
        match kind {
            "b" => Some(NodeName::Broker(n)),
            "p" => Some(NodeName::Producer(n)),
            "c" => Some(NodeName::Consumer(n)),
            _ => None,
        }
    }
}

impl Serialize for NodeName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NodeName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        NodeName::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("bad node name `{text}`")))
    }
}

/// Why a replica cut the tail of its log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TruncateReason {
    /// The leader of `leader_epoch` (KIP-101 / KIP-279 / fetch with diverging epoch) ends the
    /// follower's last common epoch at `to_offset`.
    LeaderEpoch { leader: u32, leader_epoch: u32 },
    /// Before KIP-101 (and 0.11-2.7 when the leader cannot place the follower's epoch): truncate
    /// to the replica's own high watermark.
    HighWatermark,
    /// Log recovery at startup after a power cut (`LogLoader.recoverLog`): the batch at
    /// `to_offset` never reached the disk, so it fails its checksum; recovery cuts the log there
    /// and discards the records the OS had written back after it.
    Recovery,
}

/// How a leader came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionKind {
    /// From the ISR.
    Clean,
    /// From the eligible leader replicas (KIP-966).
    Elr,
    /// A live replica outside the ISR: `unclean.leader.election.enable` or an unclean `elect`.
    Unclean,
    /// KIP-966's fallback: with ISR and ELR empty, the last leader before the ISR emptied, elected
    /// as an unclean leader (the ISR becomes it alone).
    LastKnownLeader,
    /// No replica could be elected: the partition is offline.
    Offline,
}

/// What happened; see [`Event`] for when and where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    // ---- the application and the producer client ----
    /// The app handed `msg` to `send()`. `resend_of` names the failed record the app sends
    /// again (`app.on.failure=resend`): a new record with the same payload.
    Send {
        msg: MsgId,
        partition: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resend_of: Option<MsgId>,
        /// The producer-local transaction number (1, 2, ... per producer over the whole run,
        /// across restarts) of a transactional record; `None` without `transactional.id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        txn: Option<u64>,
    },
    /// The client sent a produce request for a batch (`attempt` 1 is the first try).
    ProduceRequest {
        broker: u32,
        partition: u32,
        batch: u64,
        attempt: u32,
        msgs: MsgIds,
    },
    /// The client learned the batch succeeded (`base_offset` is `None` for `acks=0`).
    /// `app_notified` is false when the app does not look (fire-and-forget).
    Acked {
        partition: u32,
        batch: u64,
        base_offset: Option<u64>,
        msgs: MsgIds,
        app_notified: bool,
    },
    /// The client gave the batch up with `error`; the records may still have been stored.
    Failed {
        partition: u32,
        batch: u64,
        error: String,
        msgs: MsgIds,
        app_notified: bool,
    },
    /// A produce request's answer was an error the client retries, or did not come in time.
    ProduceRetry {
        partition: u32,
        batch: u64,
        attempt: u32,
        error: String,
    },
    /// The producer process died with these records sent to `send()` but not yet acknowledged.
    ProducerLost {
        msgs: Vec<MsgId>,
    },
    /// The idempotent producer changed its id or epoch: a bumped `epoch` with `partitions`
    /// renumbered from sequence 0 (KIP-360, 2.5+), its id dropped after a sequence gap
    /// (`producer_id` is `None`: 1.0-2.4 reset the id), or a new id taken (`partitions` empty).
    ProducerIdChange(Box<ProducerIdChange>),

    // ---- replicas ----
    /// A replica appended records at `base_offset..` stamped with `leader_epoch`.
    Append {
        broker: u32,
        partition: u32,
        base_offset: u64,
        leader_epoch: u32,
        msgs: MsgIds,
        as_leader: bool,
    },
    /// A replica's high watermark moved to `hw`.
    HighWatermark {
        broker: u32,
        partition: u32,
        hw: u64,
    },
    /// A replica removed `removed` (offset, record) from its log, leaving `to_offset` as its LEO.
    Truncate {
        broker: u32,
        partition: u32,
        to_offset: u64,
        removed: Vec<(u64, MsgId)>,
        reason: TruncateReason,
    },
    /// A leader rejected a write because the ISR is smaller than `min.insync.replicas`.
    NotEnoughReplicas {
        broker: u32,
        partition: u32,
        isr: Vec<u32>,
        after_append: bool,
    },
    /// A replica became leader or follower of `leader_epoch`.
    BecameLeader {
        broker: u32,
        partition: u32,
        leader_epoch: u32,
    },
    BecameFollower {
        broker: u32,
        partition: u32,
        leader: Option<u32>,
        leader_epoch: u32,
    },

    // ---- disks ----
    /// Everything below `durable_offset` of the partition is on the platter: Kafka flushed it
    /// (`by` names the trigger: `log.flush.interval.messages`, `log.flush.interval.ms`, a clean
    /// shutdown) or an OS writeback pass finished (`os writeback`).
    Flush {
        broker: u32,
        partition: u32,
        durable_offset: u64,
        by: String,
    },
    /// Power loss dropped the page cache: `lost` are the records that were only in the page
    /// cache, and `durable_offset` is where the durable prefix of the log of `partition` ends.
    /// The OS may have written back records past it (writeback completes in any order): they
    /// stay on disk until log recovery discards them (`Truncate` with reason `recovery`).
    PageCacheLost {
        broker: u32,
        partition: u32,
        durable_offset: u64,
        lost: Vec<(u64, MsgId)>,
    },
    /// A restarted broker recovered its log from disk.
    Recovered {
        broker: u32,
        partition: u32,
        log_end_offset: u64,
        hw_checkpoint: u64,
    },
    /// The broker's disk was replaced by an empty one.
    Wiped {
        broker: u32,
        lost: Vec<(u32, u64)>,
    },

    // ---- the controller ----
    /// The controller's record of a partition changed.
    PartitionChange(Box<PartitionChange>),
    /// A leader election.
    Election {
        partition: u32,
        leader: Option<u32>,
        leader_epoch: u32,
        kind: ElectionKind,
        isr: Vec<u32>,
    },
    /// The controller fenced a broker (missed heartbeats, or a new incarnation registered).
    /// The controller accepted a broker's registration; `clean`: it had shut down cleanly (its
    /// clean-shutdown marker names its last registered epoch).
    Registered {
        broker: u32,
        clean: bool,
    },
    /// The controller refused a registration: the earlier incarnation's session is still valid.
    RegistrationRefused {
        broker: u32,
        error: String,
    },
    /// The controller handled a broker's controlled shutdown; `remaining`: partitions it still
    /// leads (ZooKeeper mode found no other ISR member to take them).
    ControlledShutdown {
        broker: u32,
        remaining: Vec<u32>,
    },
    /// The broker flushed every log, wrote its clean-shutdown marker and exits.
    CleanShutdown {
        broker: u32,
    },
    Fenced {
        broker: u32,
        reason: String,
    },
    /// The controller accepted a broker's registration / heartbeat after it was fenced.
    Unfenced {
        broker: u32,
    },

    // ---- the consumer group ----
    // (The simulator's `__consumer_offsets` is partition 4294967295: its replica events,
    // `Append` and the like, carry the coordinator's records as `p0#N`.)
    /// A consumer's `poll()` returned offsets `from..to` of `partition`: the records `msgs`, in
    /// offset order. The identities tell the checker which record a poll returned, since after a
    /// truncation another record can sit at the same offset (histories written before they were
    /// recorded have none).
    Polled {
        consumer: u32,
        partition: u32,
        offsets: (u64, u64),
        #[serde(default, skip_serializing_if = "<[MsgId]>::is_empty")]
        msgs: MsgIds,
    },
    Processed {
        consumer: u32,
        partition: u32,
        offset: u64,
        msg: MsgId,
    },
    /// The group's committed offset of `partition` became `offset`: the coordinator wrote the
    /// commit to `__consumer_offsets` and the write was replicated (recorded by the coordinator's
    /// broker; older histories recorded it at the consumer when it sent the commit).
    Committed {
        consumer: u32,
        partition: u32,
        offset: u64,
    },
    /// A commit the consumer sent (or tried to) failed with `error` (Kafka's name, or the
    /// client's exception): the group's committed offsets did not move.
    CommitFailed {
        consumer: u32,
        #[serde(default)]
        generation: Option<u32>,
        offsets: Vec<(u32, u64)>,
        error: String,
    },
    /// The broker leading `__consumer_offsets` became the group coordinator and loaded the
    /// group from that log: its generation and the committed offset of each partition.
    GroupLoaded {
        broker: u32,
        generation: u32,
        #[serde(default)]
        committed: Vec<(u32, u64)>,
    },
    /// The coordinator completed a rebalance: generation `generation` assigns each member
    /// consumer its partitions. `cause` says what started the rebalance.
    GroupRebalanced {
        broker: u32,
        generation: u32,
        #[serde(default)]
        assignment: Vec<(u32, Vec<u32>)>,
        #[serde(default)]
        cause: String,
    },
    /// The coordinator removed a member from the group (no heartbeat within
    /// `session.timeout.ms`, it left, or it did not rejoin a rebalance in time).
    MemberRemoved {
        broker: u32,
        consumer: u32,
        generation: u32,
        reason: String,
    },
    /// The consumer left its group on its own: its app had not called `poll()` within
    /// `max.poll.interval.ms`.
    LeftGroup {
        consumer: u32,
        generation: u32,
        reason: String,
    },
    /// The consumer received its assignment for `generation`.
    Assigned {
        consumer: u32,
        generation: u32,
        partitions: Vec<u32>,
    },
    /// The consumer set its position on an assigned partition: the group's committed offset,
    /// or, when there is none or it is out of range, what `auto.offset.reset` says (`reset`
    /// names it; `offset` is `None` when `auto.offset.reset=none` left it without a position).
    Resumed(Box<Resumed>),
    /// KIP-320 (2.3): a consumer validated its position on `partition` (after a leader change,
    /// or a seek to a committed offset that carries an epoch) and the leader's log ends below it
    /// for the position's epoch, at `end_offset` (`None`: the leader could not say). `action` is
    /// what the consumer did: sought back to `end_offset`, reset per `auto.offset.reset`, or
    /// raised LogTruncationException (`auto.offset.reset=none`).
    TruncationDetected {
        consumer: u32,
        partition: u32,
        position: u64,
        end_offset: Option<u64>,
        action: String,
    },
    /// A consumer's app died of an exception it did not catch (LogTruncationException from
    /// `poll()`, FencedInstanceIdException): its process exits without `close()`.
    ConsumerFailed {
        consumer: u32,
        error: String,
    },

    // ---- transactions (issue 16): see `txn` below for the conventions ----
    /// The app called `beginTransaction()` for transaction `txn` of `producer`.
    TxnBegun {
        producer: u32,
        txn: u64,
    },
    /// `commitTransaction()` / `abortTransaction()` returned or threw; `msgs` are the records
    /// the transaction held. With it the producer records one `Acked { app_notified: true,
    /// batch: 0, base_offset: None }` (`Committed`) or `Failed { app_notified: true, batch: 0 }`
    /// (otherwise) per partition of those records.
    TxnEnded {
        producer: u32,
        txn: u64,
        outcome: TxnOutcome,
        msgs: Vec<MsgId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A transaction coordinator decided a new state for a transactional id (`from` and `to`
    /// are Kafka's `TransactionState` names: Empty, Ongoing, PrepareCommit, PrepareAbort,
    /// CompleteCommit, CompleteAbort, PrepareEpochFence, Dead). `producer` and `txn` are tags
    /// the simulation carries on requests for explanations only. `offsets_partitions`: the
    /// group's `__consumer_offsets` partition is in the transaction.
    TxnTransition(Box<TxnTransition>),
    /// The coordinator's record of `state` was appended to `__transaction_state` at `offset`
    /// (partition [`TXN_STATE_PARTITION`] in replica events).
    TxnLogged {
        broker: u32,
        producer_id: u64,
        epoch: u32,
        state: String,
        offset: u64,
    },
    /// A partition leader appended a COMMIT (`commit`) or ABORT control record at `offset`.
    MarkerWritten {
        broker: u32,
        partition: u32,
        producer: u32,
        producer_id: u64,
        epoch: u32,
        commit: bool,
        offset: u64,
        txn: Option<u64>,
    },
    /// A leader's last stable offset moved to `lso`.
    LastStableOffset {
        broker: u32,
        partition: u32,
        lso: u64,
    },
    /// A pipeline app (`app.output`) of consumer `consumer` handed the output record for
    /// `input` to its producer, for partition `partition` of `out` (+ [`OUT_PARTITION_BASE`]).
    Output {
        consumer: u32,
        input: MsgId,
        partition: u32,
        txn: Option<u64>,
    },
    /// A consumer's OffsetFetch with `requireStable` (KIP-447, 2.5+) was answered
    /// UNSTABLE_OFFSET_COMMIT: an offset of `partitions` is pending in an open transaction; the
    /// consumer asks again at its next `poll()`.
    OffsetFetchUnstable {
        consumer: u32,
        partitions: Vec<u32>,
    },

    // ---- faults (the nemesis) ----
    /// Fault step `step` (0-based) fired; `detail` says what it did to whom.
    Step {
        step: usize,
        action: String,
        detail: String,
    },
    Crash {
        // `target` on the wire: the event's own `node` is flattened beside it.
        #[serde(rename = "target")]
        node: NodeName,
        mode: crate::fault::CrashMode,
    },
    Restart {
        // `target` on the wire: the event's own `node` is flattened beside it.
        #[serde(rename = "target")]
        node: NodeName,
    },
    /// An operator asked the node to stop gracefully.
    Stop {
        // `target` on the wire: the event's own `node` is flattened beside it.
        #[serde(rename = "target")]
        node: NodeName,
    },
    /// The node finished its graceful shutdown and its process exited.
    Stopped {
        // `target` on the wire: the event's own `node` is flattened beside it.
        #[serde(rename = "target")]
        node: NodeName,
    },
    Pause {
        // `target` on the wire: the event's own `node` is flattened beside it.
        #[serde(rename = "target")]
        node: NodeName,
    },
    Resume {
        // `target` on the wire: the event's own `node` is flattened beside it.
        #[serde(rename = "target")]
        node: NodeName,
    },
    Cut {
        from: Vec<NodeName>,
        to: Vec<NodeName>,
        oneway: bool,
    },
    /// Links from `from` to `to` (and back unless `oneway`) deliver `latency_ms` later.
    Slow {
        from: Vec<NodeName>,
        to: Vec<NodeName>,
        oneway: bool,
        latency_ms: u64,
    },
    Heal {
        all: bool,
    },
    /// The workload is done and every step fired: the final phase starts.
    FinalPhase,
    /// The final phase converged (or not, then the run is stuck).
    Converged {
        ok: bool,
        detail: String,
    },
}

/// How a transaction ended for the app (`TxnEnded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnOutcome {
    /// `commitTransaction()` returned.
    Committed,
    /// The app aborted and `abortTransaction()` returned.
    Aborted,
    /// Commit or abort threw, or the producer was fenced: the app treats the records as failed.
    Failed,
}

impl TxnOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TxnOutcome::Committed => "committed",
            TxnOutcome::Aborted => "aborted",
            TxnOutcome::Failed => "failed",
        }
    }
}

/// Conventions of transactional histories (issue 16):
/// - Topic `out` (the pipeline's output): every event about one of its partitions, and its final
///   partitions in [`FinalState::out`], carry `partition + OUT_PARTITION_BASE`, so that no event
///   needs a topic field; the checker keeps them apart from the input topic's.
/// - The transactional producer inside consumer `cN` (`app.output`) is producer
///   `PIPELINE_PRODUCER_BASE + N` in `TxnBegun`, `TxnEnded`, `TxnTransition` and `MarkerWritten`.
/// - `__consumer_offsets` is partition [`OFFSETS_PARTITION`], `__transaction_state`
///   [`TXN_STATE_PARTITION`], in replica events.
/// - A control record (marker) in an `Append`, a `Truncate` or a replica's final log is
///   `p0#<offset>`, as `__consumer_offsets` records are `p0#N`: no producer numbers records 0.
pub const OUT_PARTITION_BASE: u32 = 1_000_000;
/// See [`OUT_PARTITION_BASE`].
pub const PIPELINE_PRODUCER_BASE: u32 = 1_000_000;
/// `__consumer_offsets` as histories show it.
pub const OFFSETS_PARTITION: u32 = u32::MAX;
/// `__transaction_state` as histories show it.
pub const TXN_STATE_PARTITION: u32 = u32::MAX - 1;

/// Whether `partition` (as events carry it) is a partition of topic `out`.
pub fn is_out_partition(partition: u32) -> bool {
    partition >= OUT_PARTITION_BASE && partition - OUT_PARTITION_BASE < OUT_PARTITION_BASE
}

/// One event: when (simulated microseconds since the start), where, what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub t_us: u64,
    pub node: NodeName,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What the checker needs to know about the run beyond its events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub scenario: String,
    pub seed: u64,
    pub kafka_version: String,
    /// How many producers and consumers the workload ran (the consumer classes are judged only
    /// when there was a consumer group).
    pub producers: u32,
    pub consumers: u32,
    /// Settings worth quoting in explanations: `acks`, `min.insync.replicas`, ...
    pub settings: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub meta: RunMeta,
    pub events: Vec<Event>,
}

impl History {
    /// The stable hash of the history: the same file, seed and losslab version give the same
    /// hash on every machine.
    pub fn trace_hash(&self) -> String {
        // The events' JSON lines go through one buffer: fed to the hasher a few bytes at a
        // time (as serde writes them) they cost more than the whole simulation.
        const FLUSH_BYTES: usize = 1 << 16;
        let mut hasher = blake3::Hasher::new();
        let mut buf = Vec::with_capacity(FLUSH_BYTES + 1024);
        for event in &self.events {
            serde_json::to_writer(&mut buf, event).expect("events serialize");
            buf.push(b'\n');
            if buf.len() >= FLUSH_BYTES {
                hasher.update(&buf);
                buf.clear();
            }
        }
        hasher.update(&buf);
        hasher.finalize().to_hex()[..16].to_string()
    }
}

/// One replica's state at the end of the final phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalReplica {
    pub broker: u32,
    pub log_end_offset: u64,
    pub high_watermark: u64,
    /// The record at each offset from 0.
    pub log: MsgIds,
}

/// A partition at the end of the final phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalPartition {
    pub partition: u32,
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    pub isr: Vec<u32>,
    /// The final log: what the leader holds below its high watermark and counts as stored
    /// (non-transactional records, and transactional ones whose COMMIT marker is in the log),
    /// in offset order.
    pub log: MsgIds,
    pub replicas: Vec<FinalReplica>,
    /// The offset of each record of `log`, when they are not 0, 1, 2, ... (markers and
    /// uncommitted records take offsets); empty when `log` is dense from offset 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offsets: Vec<u64>,
    /// Transactional records below the high watermark whose transaction has no COMMIT marker
    /// there (aborted, or open), in offset order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncommitted: Vec<MsgId>,
}

impl FinalPartition {
    /// The offset of `log[i]`.
    pub fn offset_of(&self, i: usize) -> u64 {
        self.offsets.get(i).copied().unwrap_or(i as u64)
    }

    /// The record `log` holds at `offset`, if any.
    pub fn at_offset(&self, offset: u64) -> Option<MsgId> {
        if self.offsets.is_empty() {
            return self.log.get(usize::try_from(offset).ok()?).copied();
        }
        self.offsets.binary_search(&offset).ok().and_then(|i| self.log.get(i)).copied()
    }
}

/// The cluster after the final phase: what the checker compares the history against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalState {
    pub partitions: Vec<FinalPartition>,
    /// The final phase did not converge within its bound; `stuck_reason` says what was missing.
    pub stuck: bool,
    pub stuck_reason: Option<String>,
    pub end_us: u64,
    /// Topic `out`'s final partitions (numbered `partition + OUT_PARTITION_BASE`), present
    /// whenever `app.output` is not `none`; their `log` holds, for each output record, the id of
    /// the input record it was produced for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out: Vec<FinalPartition>,
}

/// Formats simulated microseconds as seconds with millisecond precision: `1.204 s`.
pub fn fmt_time(t_us: u64) -> String {
    format!("{}.{:03} s", t_us / 1_000_000, (t_us / 1000) % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::CrashMode;

    #[test]
    fn an_event_stays_small() {
        // A run keeps every event (a 1,000,000-message run has over a million): a variant with
        // more than 56 bytes of fields belongs in a box, like `PartitionChange`.
        assert_eq!(std::mem::size_of::<Event>(), 80);
    }

    #[test]
    fn every_event_round_trips_through_json() {
        let n = NodeName::Broker(1);
        for kind in [
            EventKind::Crash { node: n, mode: CrashMode::Power },
            EventKind::Restart { node: n },
            EventKind::Pause { node: n },
            EventKind::Resume { node: n },
            EventKind::Send { msg: MsgId { producer: 1, seq: 2 }, partition: 0, resend_of: None, txn: None },
            EventKind::Send { msg: MsgId { producer: 1, seq: 2 }, partition: 0, resend_of: None, txn: Some(3) },
            EventKind::TxnEnded {
                producer: 1,
                txn: 3,
                outcome: TxnOutcome::Failed,
                msgs: vec![MsgId { producer: 1, seq: 2 }],
                error: Some("ProducerFencedException".into()),
            },
            EventKind::MarkerWritten {
                broker: 1,
                partition: OUT_PARTITION_BASE,
                producer: PIPELINE_PRODUCER_BASE + 1,
                producer_id: 7,
                epoch: 2,
                commit: true,
                offset: 40,
                txn: None,
            },
        ] {
            let event = Event { t_us: 5, node: NodeName::Controller, kind };
            let line = serde_json::to_string(&event).unwrap();
            let back: Event = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(back, event);
        }
    }

    /// A boxed variant is written as the others are: flat, with its `type`.
    #[test]
    fn a_boxed_event_is_written_flat() {
        let resumed =
            Resumed { consumer: 1, generation: 2, partition: 0, offset: Some(7), committed: None, reset: None };
        let event = Event { t_us: 5, node: NodeName::Consumer(1), kind: EventKind::Resumed(Box::new(resumed)) };
        let line = serde_json::to_string(&event).unwrap();
        assert_eq!(
            line,
            r#"{"t_us":5,"node":"c1","type":"resumed","consumer":1,"generation":2,"partition":0,"offset":7,"committed":null,"reset":null}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), event);
        // Histories written before the box, without the defaulted fields, still read.
        let old = r#"{"t_us":5,"node":"c1","type":"resumed","consumer":1,"generation":2,"partition":0,"offset":7}"#;
        assert_eq!(serde_json::from_str::<Event>(old).unwrap(), event);
    }

    /// Without transactions nothing new is written: old histories and trace hashes stay.
    #[test]
    fn non_transactional_events_serialize_as_before() {
        let send = EventKind::Send { msg: MsgId { producer: 1, seq: 2 }, partition: 0, resend_of: None, txn: None };
        let line = serde_json::to_string(&Event { t_us: 5, node: NodeName::Producer(1), kind: send }).unwrap();
        assert_eq!(line, r#"{"t_us":5,"node":"p1","type":"send","msg":{"producer":1,"seq":2},"partition":0}"#);
        let state = FinalState::default();
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            r#"{"partitions":[],"stuck":false,"stuck_reason":null,"end_us":0}"#
        );
        assert!(is_out_partition(OUT_PARTITION_BASE + 3) && !is_out_partition(3));
        assert!(!is_out_partition(OFFSETS_PARTITION) && !is_out_partition(TXN_STATE_PARTITION));
    }
}
