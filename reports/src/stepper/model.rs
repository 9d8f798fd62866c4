//! The run as a sequence of key moments for one partition, each with the cluster as it stood
//! right after it: every replica's log as runs of offsets by leader epoch, its high watermark,
//! whether its process was down, the ISR and leader, and each consumer's position and the
//! group's committed offset. Read from the history alone, in its order; no drawing here.
//!
//! Moments are the events a lecturer stops at: faults, ISR changes, elections, the
//! acknowledgement of a record the checker later found lost, truncations and page-cache losses,
//! commits and rebalances. Runs of acknowledgements (or commits) with nothing else between them
//! are one moment, so a loss of 3,000 records is a handful of stops, not thousands; at most
//! [`MOMENTS_MAX`] are kept.

use losslab_model::history::{fmt_time, ElectionKind, EventKind, History, NodeName, TruncateReason};
use losslab_model::MsgId;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many moments per partition: the page stays small whatever the run.
pub const MOMENTS_MAX: usize = 200;
/// At most this many runs of one epoch per replica log: older runs merge into the first.
const SEGMENTS_MAX: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MomentKind {
    Fault,
    Isr,
    Election,
    LostAck,
    Truncation,
    Commit,
    Rebalance,
}

impl MomentKind {
    /// The CSS class and the key's word for it.
    pub fn name(self) -> &'static str {
        match self {
            MomentKind::Fault => "fault",
            MomentKind::Isr => "isr",
            MomentKind::Election => "election",
            MomentKind::LostAck => "lost-ack",
            MomentKind::Truncation => "truncation",
            MomentKind::Commit => "commit",
            MomentKind::Rebalance => "rebalance",
        }
    }
}

/// Offsets `start..end` written in leader epoch `epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    pub epoch: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaView {
    pub broker: u32,
    pub segments: Vec<Segment>,
    pub high_watermark: u64,
    /// `crashed`, `power lost`, `paused`, `stopped`; `None` while it runs.
    pub down: Option<&'static str>,
}

impl ReplicaView {
    pub fn log_end_offset(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.end)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerView {
    pub consumer: u32,
    /// The next offset it will process on the partition, once it has one.
    pub position: Option<u64>,
    pub down: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    pub isr: Vec<u32>,
    pub replicas: Vec<ReplicaView>,
    pub consumers: Vec<ConsumerView>,
    /// The group's committed offset for the partition.
    pub committed: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moment {
    pub t_us: u64,
    pub kind: MomentKind,
    pub text: String,
    /// The lost records this moment acknowledged or took away (first and last, and how many).
    pub lost: Option<LostSpan>,
    pub state: Snapshot,
}

/// The moments of `partition`, and how many were left out past [`MOMENTS_MAX`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Steps {
    pub partition: u32,
    pub moments: Vec<Moment>,
    pub left_out: u64,
    /// The highest offset any replica reached: the width of every drawn log.
    pub offsets_max: u64,
}

#[derive(Default)]
struct State {
    leader: Option<u32>,
    leader_epoch: u32,
    isr: Vec<u32>,
    logs: BTreeMap<u32, Vec<Segment>>,
    hw: BTreeMap<u32, u64>,
    down: BTreeMap<NodeName, &'static str>,
    positions: BTreeMap<u32, u64>,
    consumers: BTreeSet<u32>,
    committed: Option<u64>,
}

impl State {
    fn log(&mut self, broker: u32) -> &mut Vec<Segment> {
        self.logs.entry(broker).or_default()
    }

    fn append(&mut self, broker: u32, base: u64, n: u64, epoch: u32) {
        let log = self.log(broker);
        cut(log, base);
        match log.last_mut() {
            Some(last) if last.epoch == epoch && last.end == base => last.end = base + n,
            _ => log.push(Segment { start: base, end: base + n, epoch }),
        }
        if log.len() > SEGMENTS_MAX {
            // Old history: the first two runs become one (drawn in the first's epoch).
            let second = log.remove(1);
            log[0].end = second.end;
        }
    }

    fn truncate(&mut self, broker: u32, to: u64) {
        cut(self.log(broker), to);
        let hw = self.hw.entry(broker).or_default();
        *hw = (*hw).min(to);
    }

    fn snapshot(&self) -> Snapshot {
        let replicas = self
            .logs
            .iter()
            .map(|(&broker, segments)| ReplicaView {
                broker,
                segments: segments.clone(),
                high_watermark: self.hw.get(&broker).copied().unwrap_or(0),
                down: self.down.get(&NodeName::Broker(broker)).copied(),
            })
            .collect();
        let consumers = self
            .consumers
            .iter()
            .map(|&c| ConsumerView {
                consumer: c,
                position: self.positions.get(&c).copied(),
                down: self.down.contains_key(&NodeName::Consumer(c)),
            })
            .collect();
        Snapshot {
            leader: self.leader,
            leader_epoch: self.leader_epoch,
            isr: self.isr.clone(),
            replicas,
            consumers,
            committed: self.committed,
        }
    }
}

/// Drops every offset from `to` on.
fn cut(log: &mut Vec<Segment>, to: u64) {
    log.retain(|s| s.start < to);
    if let Some(last) = log.last_mut() {
        last.end = last.end.min(to);
    }
}

fn node(n: NodeName) -> String {
    n.to_string()
}

fn nodes(ns: &[NodeName]) -> String {
    ns.iter().map(|&n| node(n)).collect::<Vec<_>>().join(", ")
}

fn brokers(bs: &[u32]) -> String {
    match bs.is_empty() {
        true => "nobody".to_string(),
        false => bs.iter().map(|b| format!("b{b}")).collect::<Vec<_>>().join(", "),
    }
}

/// Reads `partition`'s moments from `history`; `lost` are the records the checker found lost
/// (acknowledged and then gone), whose acknowledgements are moments.
pub fn steps(history: &History, partition: u32, lost: &BTreeSet<MsgId>) -> Steps {
    let mut st = State::default();
    let mut out = Steps { partition, ..Steps::default() };
    for event in &history.events {
        let t = event.t_us;
        let when = fmt_time(t);
        let mut moment: Option<(MomentKind, String, Option<LostSpan>)> = None;
        match &event.kind {
            EventKind::Append { broker, partition: p, base_offset, leader_epoch, msgs, .. } if *p == partition => {
                st.append(*broker, *base_offset, msgs.len() as u64, *leader_epoch);
                out.offsets_max = out.offsets_max.max(base_offset + msgs.len() as u64);
            }
            EventKind::HighWatermark { broker, partition: p, hw } if *p == partition => {
                st.hw.insert(*broker, *hw);
            }
            EventKind::Truncate { broker, partition: p, to_offset, removed, reason } if *p == partition => {
                st.truncate(*broker, *to_offset);
                let gone: Vec<MsgId> = removed.iter().map(|&(_, m)| m).filter(|m| lost.contains(m)).collect();
                let why = match reason {
                    TruncateReason::LeaderEpoch { leader, leader_epoch } => {
                        format!("to match leader epoch {leader_epoch} of b{leader}")
                    }
                    TruncateReason::HighWatermark => "to its high watermark".to_string(),
                    TruncateReason::Recovery => "in log recovery after the power cut".to_string(),
                };
                let text = format!(
                    "b{broker} truncated its log to offset {to_offset} {why}, removing {}{}",
                    records(removed.len() as u64),
                    if gone.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} of them acknowledged and now lost)", gone.len())
                    }
                );
                moment = Some((MomentKind::Truncation, text, span(&gone)));
            }
            EventKind::PageCacheLost { broker, partition: p, durable_offset, lost: dropped } if *p == partition => {
                st.truncate(*broker, *durable_offset);
                let gone: Vec<MsgId> = dropped.iter().map(|&(_, m)| m).filter(|m| lost.contains(m)).collect();
                let text = format!(
                    "b{broker} lost its page cache: {} above offset {durable_offset} never flushed to disk",
                    records(dropped.len() as u64)
                );
                moment = Some((MomentKind::Truncation, text, span(&gone)));
            }
            EventKind::Recovered { broker, partition: p, log_end_offset, .. } if *p == partition => {
                st.truncate(*broker, *log_end_offset);
            }
            EventKind::Wiped { broker, .. } => {
                st.truncate(*broker, 0);
                moment = Some((MomentKind::Fault, format!("b{broker}'s disk was replaced by an empty one"), None));
            }
            EventKind::PartitionChange(c) if c.partition == partition => {
                let isr_changed = c.isr != st.isr;
                st.isr = c.isr.clone();
                st.leader = c.leader;
                st.leader_epoch = c.leader_epoch;
                if isr_changed {
                    let text = format!("the ISR became {{{}}} ({})", brokers(&c.isr), c.cause);
                    moment = Some((MomentKind::Isr, text, None));
                }
            }
            EventKind::Election { partition: p, leader, leader_epoch, kind, isr } if *p == partition => {
                st.leader = *leader;
                st.leader_epoch = *leader_epoch;
                st.isr = isr.clone();
                let how = match kind {
                    ElectionKind::Clean => "a clean election, from the ISR",
                    ElectionKind::Elr => "from the eligible leader replicas (KIP-966)",
                    ElectionKind::Unclean => "an UNCLEAN election, from outside the ISR",
                    ElectionKind::LastKnownLeader => "the last known leader, elected uncleanly (KIP-966)",
                    ElectionKind::Offline => "no replica could be elected",
                };
                let text = match leader {
                    Some(l) => format!("b{l} was elected leader for epoch {leader_epoch} ({how})"),
                    None => "no replica could be elected: the partition is offline".to_string(),
                };
                moment = Some((MomentKind::Election, text, None));
            }
            EventKind::Acked { partition: p, msgs, .. } if *p == partition => {
                let gone: Vec<MsgId> = msgs.iter().copied().filter(|m| lost.contains(m)).collect();
                if let Some((first, last, n)) = span(&gone) {
                    let text = told_written(n, first, last);
                    moment = Some((MomentKind::LostAck, text, Some((first, last, n))));
                }
            }
            EventKind::Crash { node: n, mode } => {
                let how = match mode {
                    losslab_model::CrashMode::Power => "power lost",
                    _ => "crashed",
                };
                st.down.insert(*n, how);
                moment = Some((MomentKind::Fault, format!("{} {how}", node(*n)), None));
            }
            EventKind::Pause { node: n } => {
                st.down.insert(*n, "paused");
                moment = Some((MomentKind::Fault, format!("{} paused", node(*n)), None));
            }
            EventKind::Stop { node: n } => {
                st.down.insert(*n, "stopped");
                moment = Some((MomentKind::Fault, format!("{} was asked to stop", node(*n)), None));
            }
            EventKind::Restart { node: n } | EventKind::Resume { node: n } => {
                st.down.remove(n);
                moment = Some((MomentKind::Fault, format!("{} is back", node(*n)), None));
            }
            EventKind::Cut { from, to, oneway } => {
                let arrow = if *oneway { "->" } else { "<->" };
                moment = Some((MomentKind::Fault, format!("network cut: {} {arrow} {}", nodes(from), nodes(to)), None));
            }
            EventKind::Heal { .. } => moment = Some((MomentKind::Fault, "the network healed".to_string(), None)),
            EventKind::Processed { consumer, partition: p, offset, .. } if *p == partition => {
                st.consumers.insert(*consumer);
                st.positions.insert(*consumer, offset + 1);
            }
            EventKind::Resumed(r) if r.partition == partition => {
                st.consumers.insert(r.consumer);
                if let Some(o) = r.offset {
                    st.positions.insert(r.consumer, o);
                }
            }
            EventKind::Committed { consumer, partition: p, offset } if *p == partition => {
                st.committed = Some(*offset);
                moment = Some((MomentKind::Commit, format!("c{consumer} committed offset {offset}"), None));
            }
            EventKind::GroupRebalanced { generation, cause, .. } => {
                let text = format!("the group rebalanced into generation {generation} ({cause})");
                moment = Some((MomentKind::Rebalance, text, None));
            }
            _ => {}
        }
        if let Some((kind, text, lost_span)) = moment {
            push(
                &mut out,
                Moment { t_us: t, kind, text: format!("{when}: {text}"), lost: lost_span, state: st.snapshot() },
            );
        }
    }
    out
}

/// "the producer was told 298 records were written (p1#804..p1#1101): all are lost later".
fn told_written(n: u64, first: MsgId, last: MsgId) -> String {
    match n {
        1 => format!("the producer was told 1 record was written ({first}): it is lost later"),
        n => format!("the producer was told {n} records were written ({first}..{last}): all are lost later"),
    }
}

/// "1 record", "304 records".
fn records(n: u64) -> String {
    match n {
        1 => "1 record".to_string(),
        n => format!("{n} records"),
    }
}

/// The lost records a moment names: the first, the last and how many.
type LostSpan = (MsgId, MsgId, u64);

/// First, last and count of `records`, if any.
fn span(records: &[MsgId]) -> Option<LostSpan> {
    Some((*records.first()?, *records.last()?, records.len() as u64))
}

/// Adds `m`, merged into the previous moment when both are acknowledgements of lost records or
/// both commits, and counted as left out past the cap.
fn push(out: &mut Steps, m: Moment) {
    if let Some(prev) = out.moments.last_mut() {
        if prev.kind == m.kind && matches!(m.kind, MomentKind::LostAck | MomentKind::Commit) {
            if m.kind == MomentKind::LostAck {
                let (first, _, n) = prev.lost.expect("a lost-ack moment names records");
                let (_, last, more) = m.lost.expect("a lost-ack moment names records");
                prev.lost = Some((first, last, n + more));
                let (a, b) = (fmt_time(prev.t_us), fmt_time(m.t_us));
                prev.text = format!("{a} to {b}: {}", told_written(n + more, first, last));
            } else {
                prev.text = m.text;
            }
            prev.state = m.state;
            return;
        }
    }
    if out.moments.len() >= MOMENTS_MAX {
        out.left_out += 1;
        return;
    }
    out.moments.push(m);
}
