//! The run history: a flat, time-ordered list of everything observable that happened in a run,
//! in the spirit of Jepsen's histories. The simulator's recorder writes it; the checker, the
//! reports and the charts read it. Every event carries its simulated time in microseconds.
//!
//! Outcomes follow Jepsen's rule: a timeout is not a failure. A producer batch whose outcome is
//! unknown produces no outcome event until the client itself decides (a later success, or a
//! failure after `delivery.timeout.ms`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A record the workload produced: producer `p{producer}`'s `seq`-th record (`p1#17`).
/// A record the app resends after a failure is a new record with a new `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MsgId {
    pub producer: u32,
    pub seq: u64,
}

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
    },
    /// The client sent a produce request for a batch (`attempt` 1 is the first try).
    ProduceRequest {
        broker: u32,
        partition: u32,
        batch: u64,
        attempt: u32,
        msgs: Vec<MsgId>,
    },
    /// The client learned the batch succeeded (`base_offset` is `None` for `acks=0`).
    /// `app_notified` is false when the app does not look (fire-and-forget).
    Acked {
        partition: u32,
        batch: u64,
        base_offset: Option<u64>,
        msgs: Vec<MsgId>,
        app_notified: bool,
    },
    /// The client gave the batch up with `error`; the records may still have been stored.
    Failed {
        partition: u32,
        batch: u64,
        error: String,
        msgs: Vec<MsgId>,
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
    ProducerIdChange {
        producer_id: Option<u64>,
        epoch: u32,
        partitions: Vec<u32>,
        reason: String,
    },

    // ---- replicas ----
    /// A replica appended records at `base_offset..` stamped with `leader_epoch`.
    Append {
        broker: u32,
        partition: u32,
        base_offset: u64,
        leader_epoch: u32,
        msgs: Vec<MsgId>,
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
    PartitionChange {
        partition: u32,
        leader: Option<u32>,
        leader_epoch: u32,
        partition_epoch: u32,
        isr: Vec<u32>,
        elr: Vec<u32>,
        cause: String,
    },
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
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        msgs: Vec<MsgId>,
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
    Resumed {
        consumer: u32,
        generation: u32,
        partition: u32,
        offset: Option<u64>,
        #[serde(default)]
        committed: Option<u64>,
        #[serde(default)]
        reset: Option<String>,
    },
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
    pub log: Vec<MsgId>,
}

/// A partition at the end of the final phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalPartition {
    pub partition: u32,
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    pub isr: Vec<u32>,
    /// The final log: what the leader holds below its high watermark.
    pub log: Vec<MsgId>,
    pub replicas: Vec<FinalReplica>,
}

/// The cluster after the final phase: what the checker compares the history against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalState {
    pub partitions: Vec<FinalPartition>,
    /// The final phase did not converge within its bound; `stuck_reason` says what was missing.
    pub stuck: bool,
    pub stuck_reason: Option<String>,
    pub end_us: u64,
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
    fn every_event_round_trips_through_json() {
        let n = NodeName::Broker(1);
        for kind in [
            EventKind::Crash { node: n, mode: CrashMode::Power },
            EventKind::Restart { node: n },
            EventKind::Pause { node: n },
            EventKind::Resume { node: n },
            EventKind::Send { msg: MsgId { producer: 1, seq: 2 }, partition: 0, resend_of: None },
        ] {
            let event = Event { t_us: 5, node: NodeName::Controller, kind };
            let line = serde_json::to_string(&event).unwrap();
            let back: Event = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(back, event);
        }
    }
}
