//! The index: everything the checker needs, gathered in one pass over the history and one
//! pass over the final logs, so that judging and explaining a message only looks at that
//! message's own events plus a few binary searches into shared per-partition and per-node
//! lists. Nothing here rescans the history per message: a million-message run stays linear.
//!
//! Event positions are `u32` indices into `history.events`; since the history is in the order
//! things happened, an index is also the tie-breaking timestamp ("before" and "after" below
//! always compare indices, never `t_us`, which can be equal for two events).

use super::table::MsgTable;
use crate::history::{Event, EventKind, FinalPartition, FinalState, History, MsgId, NodeName};
use std::collections::BTreeMap;

/// Where a message appears inside one event: the event's index and the message's position in
/// the event's list (so that an offset is `base_offset + pos`, found without a search).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Ref {
    pub event: u32,
    pub pos: u32,
}

/// A batch as the producer client numbers it: batch numbers are the client's own.
pub(super) type BatchKey = (NodeName, u64);

/// Per message: the events that mention it, in history order, and where the final logs hold it.
#[derive(Default)]
pub(super) struct MsgFacts {
    /// The `Send` event.
    pub send: Option<u32>,
    /// The latest `ProduceRequest` that carried it.
    pub request: Option<Ref>,
    /// The partition the app sent it to (or, without a `Send`, the first one an event names).
    pub partition: Option<u32>,
    /// The producer side knows it: a `Send`, a request or an outcome mentions it.
    pub produced: bool,
    /// `Acked`, `Failed`, `ProducerLost`, `Append`, `Truncate`, `PageCacheLost`, `Processed`.
    pub refs: Vec<Ref>,
    /// The first place it has in a final log, and how many places it has in all.
    pub final_at: Option<(u32, u64)>,
    pub final_copies: u32,
    /// The failed record its `Send` says the app resends (`app.on.failure=resend`).
    pub resend_of: Option<MsgId>,
    /// Where it stands in its chain of resends, once resolved.
    chain: Chain,
}

/// A record's place in its chain of resends (the record the app first sent, its resend, the
/// resend of that, ...), resolved once per record after the pass over the history.
#[derive(Clone, Copy, Debug, Default)]
enum Chain {
    #[default]
    Unresolved,
    /// On the walk being resolved: meeting it again means the `resend_of` links form a cycle.
    Walking,
    /// `depth` links below the head of the chain; `first_stored` is the earliest record of the
    /// chain down to this one that a final log holds, with its own depth.
    Resolved { first_stored: Option<(MsgId, u32)>, depth: u32 },
}

/// A resend stored in a final log while an earlier record of its chain is stored too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ResendDup {
    /// The earliest record of the chain that a final log holds (the head of the chain when it
    /// is stored): the first copy of the payload.
    pub original: MsgId,
    /// How many resends lie between `original` and this record (0: it resends `original`).
    pub between: u32,
}

/// What the client concluded about a message.
#[derive(Clone, Copy, Debug)]
pub(super) struct Outcome {
    pub event: u32,
    pub pos: u32,
    pub acked: bool,
    pub notified: bool,
}

/// One replica's append of a message.
#[derive(Clone, Copy, Debug)]
pub(super) struct Placement {
    pub event: u32,
    pub broker: u32,
    pub partition: u32,
    pub offset: u64,
    pub leader_epoch: u32,
    pub as_leader: bool,
}

/// Offsets `start..end` a `Truncate` or `PageCacheLost` took away (computed once per event).
#[derive(Clone, Copy, Debug)]
pub(super) struct Span {
    pub start: u64,
    pub end: u64,
}

/// A `Wiped` event names (partition, offset) pairs, not messages; kept as ranges per partition.
pub(super) struct Wipe {
    pub event: u32,
    pub ranges: BTreeMap<u32, Vec<Span>>,
}

/// A partition's commits, with the running maximum of committed offsets so that "the first
/// commit past offset o" is a binary search.
#[derive(Default)]
pub(super) struct Commits {
    pub events: Vec<u32>,
    reach: Vec<u64>,
}

/// A partition's polls, by event and by first offset (with the longest poll, so that the polls
/// covering an offset are found in a bounded key range).
#[derive(Default)]
pub(super) struct Polls {
    pub events: Vec<u32>,
    by_start: BTreeMap<u64, Vec<u32>>,
    longest: u64,
}

pub(super) struct Index<'h> {
    pub history: &'h History,
    pub final_state: &'h FinalState,
    pub msgs: MsgTable<MsgFacts>,
    /// Final partitions by number (the first wins if a number repeats).
    pub partitions: BTreeMap<u32, &'h FinalPartition>,
    /// Every place of the messages stored more than once in the final logs.
    pub copies: BTreeMap<MsgId, Vec<(u32, u64)>>,
    /// The stored resends whose payload a final log already holds as an earlier record.
    pub resend_dups: BTreeMap<MsgId, ResendDup>,
    /// The records whose `Send` names a `resend_of`, in history order.
    resends: Vec<MsgId>,
    crashes: BTreeMap<NodeName, Vec<u32>>,
    restarts: BTreeMap<NodeName, Vec<u32>>,
    elections: BTreeMap<u32, Vec<u32>>,
    election_of_epoch: BTreeMap<(u32, u32), u32>,
    changes: BTreeMap<u32, Vec<u32>>,
    not_enough: BTreeMap<u32, Vec<u32>>,
    flushes: BTreeMap<(u32, u32), Vec<u32>>,
    retries: BTreeMap<BatchKey, Vec<u32>>,
    wipes: BTreeMap<u32, Vec<Wipe>>,
    spans: BTreeMap<u32, Span>,
    /// The ranges of the events whose offsets are not one range (a power cut in the middle of
    /// an out-of-order writeback loses records on both sides of ones written back).
    pieces: BTreeMap<u32, Vec<Span>>,
    polls: BTreeMap<u32, Polls>,
    commits: BTreeMap<u32, Commits>,
    pub final_phase: Option<u32>,
    pub converged: Option<u32>,
}

impl<'h> Index<'h> {
    pub(super) fn build(history: &'h History, final_state: &'h FinalState) -> Index<'h> {
        let mut ix = Index {
            history,
            final_state,
            msgs: MsgTable::new(),
            partitions: BTreeMap::new(),
            copies: BTreeMap::new(),
            resend_dups: BTreeMap::new(),
            resends: Vec::new(),
            crashes: BTreeMap::new(),
            restarts: BTreeMap::new(),
            elections: BTreeMap::new(),
            election_of_epoch: BTreeMap::new(),
            changes: BTreeMap::new(),
            not_enough: BTreeMap::new(),
            flushes: BTreeMap::new(),
            retries: BTreeMap::new(),
            wipes: BTreeMap::new(),
            spans: BTreeMap::new(),
            pieces: BTreeMap::new(),
            polls: BTreeMap::new(),
            commits: BTreeMap::new(),
            final_phase: None,
            converged: None,
        };
        for (i, event) in history.events.iter().enumerate() {
            // A history of more than 4 billion events does not fit in memory anyway; the
            // tail past u32 indices is ignored rather than mis-indexed.
            let Ok(i) = u32::try_from(i) else { break };
            ix.index_event(i, event);
        }
        ix.index_final_logs();
        ix.index_resends();
        ix
    }

    fn index_event(&mut self, i: u32, event: &Event) {
        // Topic `out` (issue 16) holds outputs named after their inputs: its events are not
        // the input records' story (the pipeline classes read them on their own).
        if data_partition(&event.kind).is_some_and(crate::history::is_out_partition) {
            return;
        }
        match &event.kind {
            EventKind::Send { msg, partition, resend_of, .. } => {
                let facts = self.msgs.entry(*msg);
                facts.send.get_or_insert(i);
                // The app's choice of partition is authoritative over what later events say.
                facts.partition = Some(*partition);
                facts.produced = true;
                // A record that claims to resend itself is no resend.
                if let Some(of) = resend_of.filter(|of| of != msg) {
                    if facts.resend_of.is_none() {
                        facts.resend_of = Some(of);
                        self.resends.push(*msg);
                    }
                }
            }
            EventKind::ProduceRequest { partition, msgs, .. } => {
                for (pos, msg) in positions(msgs) {
                    let facts = self.msgs.entry(*msg);
                    facts.request = Some(Ref { event: i, pos });
                    facts.partition.get_or_insert(*partition);
                    facts.produced = true;
                }
            }
            EventKind::Acked { partition, msgs, .. } | EventKind::Failed { partition, msgs, .. } => {
                self.refer(i, msgs.iter(), Some(*partition), true);
            }
            EventKind::ProducerLost { msgs } => self.refer(i, msgs.iter(), None, true),
            EventKind::ProduceRetry { batch, .. } => {
                self.retries.entry((event.node, *batch)).or_default().push(i);
            }
            EventKind::Append { partition, msgs, .. } => {
                self.refer(i, msgs.iter(), Some(*partition), false);
            }
            EventKind::Truncate { partition, removed, .. }
            | EventKind::PageCacheLost { partition, lost: removed, .. } => {
                self.refer(i, removed.iter().map(|(_, m)| m), Some(*partition), false);
                if let Some(span) = span_of(removed.iter().map(|(o, _)| *o)) {
                    self.spans.insert(i, span);
                    if span.end - span.start != removed.len() as u64 {
                        self.pieces.insert(i, pieces_of(removed.iter().map(|(o, _)| *o)));
                    }
                }
            }
            EventKind::Processed { partition, msg, .. } => {
                self.refer(i, std::iter::once(msg), Some(*partition), false);
            }
            EventKind::NotEnoughReplicas { partition, .. } => {
                self.not_enough.entry(*partition).or_default().push(i);
            }
            EventKind::Flush { broker, partition, .. } => {
                self.flushes.entry((*broker, *partition)).or_default().push(i);
            }
            EventKind::Wiped { broker, lost } => {
                let wipe = Wipe { event: i, ranges: ranges_by_partition(lost) };
                self.wipes.entry(*broker).or_default().push(wipe);
            }
            EventKind::PartitionChange(c) => {
                self.changes.entry(c.partition).or_default().push(i);
            }
            EventKind::Election { partition, leader_epoch, .. } => {
                self.elections.entry(*partition).or_default().push(i);
                self.election_of_epoch.entry((*partition, *leader_epoch)).or_insert(i);
            }
            EventKind::Polled { partition, offsets: (from, to), .. } => {
                let polls = self.polls.entry(*partition).or_default();
                polls.events.push(i);
                if to > from {
                    polls.by_start.entry(*from).or_default().push(i);
                    polls.longest = polls.longest.max(to - from);
                }
            }
            EventKind::Committed { partition, offset, .. } => {
                let commits = self.commits.entry(*partition).or_default();
                let reach = commits.reach.last().map_or(*offset, |&r| r.max(*offset));
                commits.events.push(i);
                commits.reach.push(reach);
            }
            EventKind::Crash { node, .. } => self.crashes.entry(*node).or_default().push(i),
            EventKind::Restart { node } => self.restarts.entry(*node).or_default().push(i),
            EventKind::FinalPhase => {
                self.final_phase.get_or_insert(i);
            }
            EventKind::Converged { .. } => self.converged = Some(i),
            // The rest (high watermarks, leadership changes as brokers see them, fencing,
            // recovery, cuts, pauses, steps) is context the explanations do not quote.
            _ => {}
        }
    }

    /// Records that event `i` mentions each of `msgs`, at its position in the event's list.
    fn refer<'m>(&mut self, i: u32, msgs: impl Iterator<Item = &'m MsgId>, partition: Option<u32>, produced: bool) {
        for (pos, msg) in msgs.enumerate() {
            let Ok(pos) = u32::try_from(pos) else { break };
            let facts = self.msgs.entry(*msg);
            facts.refs.push(Ref { event: i, pos });
            facts.produced |= produced;
            if facts.partition.is_none() {
                facts.partition = partition;
            }
        }
    }

    fn index_final_logs(&mut self) {
        for fp in &self.final_state.partitions {
            self.partitions.entry(fp.partition).or_insert(fp);
        }
        let partitions: Vec<&FinalPartition> = self.partitions.values().copied().collect();
        for fp in partitions {
            for (i, msg) in fp.log.iter().enumerate() {
                // A transactional partition's log skips the offsets of markers and of records
                // not committed (`FinalPartition::offsets`).
                let place = (fp.partition, fp.offset_of(i));
                let facts = self.msgs.entry(*msg);
                facts.final_copies += 1;
                match facts.final_at {
                    None => facts.final_at = Some(place),
                    Some(first) => self.copies.entry(*msg).or_insert_with(|| vec![first]).push(place),
                }
            }
        }
    }

    /// Finds the resends whose payload was stored twice: a stored resend with an earlier
    /// stored record in its chain. Each record's chain position is resolved once (walks stop
    /// at resolved records), so the work is linear in the number of records.
    fn index_resends(&mut self) {
        for msg in std::mem::take(&mut self.resends) {
            self.resolve_chain(msg);
            let Some(facts) = self.msgs.get(msg) else { continue };
            let (Some(of), Chain::Resolved { depth, .. }, true) =
                (facts.resend_of, facts.chain, facts.final_copies > 0)
            else {
                continue;
            };
            let earlier = match self.msgs.get(of).map(|f| f.chain) {
                Some(Chain::Resolved { first_stored, .. }) => first_stored,
                _ => None,
            };
            // In a cycle of `resend_of` links the earliest stored record can be this one.
            if let Some((original, original_depth)) = earlier.filter(|&(o, _)| o != msg) {
                let between = depth.saturating_sub(original_depth).saturating_sub(1);
                self.resend_dups.insert(msg, ResendDup { original, between });
            }
        }
    }

    /// Resolves the chain position of `start` and of every unresolved record above it.
    fn resolve_chain(&mut self, start: MsgId) {
        let mut path: Vec<MsgId> = Vec::new();
        // The resolved record just above the walk: its earliest stored record and its depth.
        let mut above: Option<(Option<(MsgId, u32)>, u32)> = None;
        let mut at = start;
        loop {
            let Some(facts) = self.msgs.get_mut(at) else {
                // A record no event names heads the chain, and no final log holds it.
                above = Some((None, 0));
                break;
            };
            match facts.chain {
                Chain::Resolved { first_stored, depth } => {
                    above = Some((first_stored, depth));
                    break;
                }
                Chain::Walking => break,
                Chain::Unresolved => {
                    facts.chain = Chain::Walking;
                    path.push(at);
                    match facts.resend_of {
                        Some(of) => at = of,
                        None => break,
                    }
                }
            }
        }
        let (mut first_stored, mut depth) = match above {
            Some((first, depth)) => (first, Some(depth)),
            None => (None, None),
        };
        for &msg in path.iter().rev() {
            let Some(facts) = self.msgs.get_mut(msg) else { continue };
            let d = depth.map_or(0, |d: u32| d.saturating_add(1));
            if first_stored.is_none() && facts.final_copies > 0 {
                first_stored = Some((msg, d));
            }
            facts.chain = Chain::Resolved { first_stored, depth: d };
            depth = Some(d);
        }
    }

    // ---- looking things up ----

    pub(super) fn event(&self, i: u32) -> &'h Event {
        &self.history.events[i as usize]
    }

    pub(super) fn time(&self, i: u32) -> String {
        crate::history::fmt_time(self.event(i).t_us)
    }

    pub(super) fn setting(&self, key: &str) -> Option<&'h str> {
        self.history.meta.settings.get(key).map(String::as_str)
    }

    pub(super) fn final_partition(&self, partition: u32) -> Option<&'h FinalPartition> {
        self.partitions.get(&partition).copied()
    }

    /// The client's conclusion about a message. When events disagree, the one that matters
    /// most for the guarantee wins: an acknowledgement the app saw, then a failure it saw,
    /// then what only the client saw.
    pub(super) fn outcome(&self, facts: &MsgFacts) -> Option<Outcome> {
        let mut best: Option<(u8, Outcome)> = None;
        for r in &facts.refs {
            let (acked, notified) = match &self.event(r.event).kind {
                EventKind::Acked { app_notified, .. } => (true, *app_notified),
                EventKind::Failed { app_notified, .. } => (false, *app_notified),
                _ => continue,
            };
            let rank = u8::from(notified) * 2 + u8::from(acked);
            if best.is_none_or(|(b, _)| rank > b) {
                best = Some((rank, Outcome { event: r.event, pos: r.pos, acked, notified }));
            }
        }
        best.map(|(_, o)| o)
    }

    /// Whether the client ever learned the message succeeded (whether or not the app looked).
    pub(super) fn ever_acked(&self, facts: &MsgFacts) -> Option<Ref> {
        facts.refs.iter().copied().find(|r| matches!(self.event(r.event).kind, EventKind::Acked { .. }))
    }

    /// The batch the client carried the message in: the one of its outcome, else of its
    /// latest request.
    pub(super) fn batch_of(&self, facts: &MsgFacts) -> Option<BatchKey> {
        let from_outcome = self.outcome(facts).map(|o| o.event);
        let event = from_outcome.or(facts.request.map(|r| r.event))?;
        let node = self.event(event).node;
        match &self.event(event).kind {
            EventKind::Acked { batch, .. }
            | EventKind::Failed { batch, .. }
            | EventKind::ProduceRequest { batch, .. } => Some((node, *batch)),
            _ => None,
        }
    }

    pub(super) fn retries(&self, batch: BatchKey) -> &[u32] {
        self.retries.get(&batch).map_or(&[], Vec::as_slice)
    }

    /// Every replica append of the message, in history order.
    pub(super) fn placements<'a>(&'a self, facts: &'a MsgFacts) -> impl Iterator<Item = Placement> + 'a {
        facts.refs.iter().filter_map(move |r| match &self.event(r.event).kind {
            EventKind::Append { broker, partition, base_offset, leader_epoch, as_leader, .. } => Some(Placement {
                event: r.event,
                broker: *broker,
                partition: *partition,
                offset: base_offset.saturating_add(u64::from(r.pos)),
                leader_epoch: *leader_epoch,
                as_leader: *as_leader,
            }),
            _ => None,
        })
    }

    /// The `Processed` events of the message.
    pub(super) fn processings<'a>(&'a self, facts: &'a MsgFacts) -> impl Iterator<Item = u32> + 'a {
        facts.refs.iter().map(|r| r.event).filter(move |&e| matches!(self.event(e).kind, EventKind::Processed { .. }))
    }

    /// The first event after `placement` that took the message away from that replica: a
    /// truncation or page-cache loss naming it at that offset, or a wipe covering the offset.
    pub(super) fn removal(&self, facts: &MsgFacts, placement: &Placement) -> Option<u32> {
        let by_ref = facts.refs.iter().find(|r| {
            r.event > placement.event
                && match &self.event(r.event).kind {
                    EventKind::Truncate { broker, partition, removed, .. }
                    | EventKind::PageCacheLost { broker, partition, lost: removed, .. } => {
                        *broker == placement.broker
                            && *partition == placement.partition
                            && removed.get(r.pos as usize).map(|(o, _)| *o) == Some(placement.offset)
                    }
                    _ => false,
                }
        });
        let wipes = self.wipes.get(&placement.broker).map_or(&[][..], Vec::as_slice);
        let start = wipes.partition_point(|w| w.event <= placement.event);
        let by_wipe = wipes[start..].iter().find(|w| covers(w, placement.partition, placement.offset)).map(|w| w.event);
        match (by_ref.map(|r| r.event), by_wipe) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `broker` held the message just before event `at`.
    pub(super) fn holds(&self, facts: &MsgFacts, broker: u32, at: u32) -> bool {
        self.placements(facts)
            .filter(|p| p.broker == broker && p.event < at)
            .any(|p| self.removal(facts, &p).is_none_or(|r| r > at))
    }

    pub(super) fn span(&self, event: u32) -> Option<Span> {
        self.spans.get(&event).copied()
    }

    /// The offsets a `Truncate` or `PageCacheLost` took away, as ranges in offset order.
    pub(super) fn ranges(&self, event: u32) -> Vec<Span> {
        match self.pieces.get(&event) {
            Some(pieces) => pieces.clone(),
            None => self.span(event).into_iter().collect(),
        }
    }

    /// What a wipe took from one partition, as one span from its lowest to its highest offset.
    pub(super) fn wipe_span(&self, broker: u32, event: u32, partition: u32) -> Option<Span> {
        let wipe = self.wipes.get(&broker)?.iter().find(|w| w.event == event)?;
        let ranges = wipe.ranges.get(&partition)?;
        Some(Span { start: ranges.first()?.start, end: ranges.last()?.end })
    }

    pub(super) fn crashes(&self, node: NodeName) -> &[u32] {
        self.crashes.get(&node).map_or(&[], Vec::as_slice)
    }

    pub(super) fn restarts(&self, node: NodeName) -> &[u32] {
        self.restarts.get(&node).map_or(&[], Vec::as_slice)
    }

    pub(super) fn elections(&self, partition: u32) -> &[u32] {
        self.elections.get(&partition).map_or(&[], Vec::as_slice)
    }

    pub(super) fn election_of_epoch(&self, partition: u32, epoch: u32) -> Option<u32> {
        self.election_of_epoch.get(&(partition, epoch)).copied()
    }

    pub(super) fn partition_changes(&self, partition: u32) -> &[u32] {
        self.changes.get(&partition).map_or(&[], Vec::as_slice)
    }

    pub(super) fn not_enough_replicas(&self, partition: u32) -> &[u32] {
        self.not_enough.get(&partition).map_or(&[], Vec::as_slice)
    }

    pub(super) fn flushes(&self, broker: u32, partition: u32) -> &[u32] {
        self.flushes.get(&(broker, partition)).map_or(&[], Vec::as_slice)
    }

    pub(super) fn polls(&self, partition: u32) -> &[u32] {
        self.polls.get(&partition).map_or(&[], |p| p.events.as_slice())
    }

    pub(super) fn commits(&self, partition: u32) -> &[u32] {
        self.commits.get(&partition).map_or(&[], |c| c.events.as_slice())
    }

    /// The polls of `partition` before event `before` whose offsets include `offset`, in
    /// history order. Polls are read as half-open ranges `from..to`.
    pub(super) fn polls_covering(&self, partition: u32, offset: u64, before: u32) -> Vec<u32> {
        let Some(polls) = self.polls.get(&partition) else {
            return Vec::new();
        };
        if polls.longest == 0 {
            return Vec::new();
        }
        let lowest = offset.saturating_sub(polls.longest - 1);
        let mut found: Vec<u32> = polls
            .by_start
            .range(lowest..=offset)
            .flat_map(|(_, events)| events.iter().copied())
            .filter(|&e| e < before)
            .filter(|&e| match self.event(e).kind {
                EventKind::Polled { offsets: (_, to), .. } => offset < to,
                _ => false,
            })
            .collect();
        found.sort_unstable();
        found
    }

    /// The polls of `partition` before event `before` that returned `msg` at `offset`: matched
    /// by the record's identity where the poll recorded it (after a truncation another record
    /// can have sat at that offset), by the offset alone in histories without identities.
    pub(super) fn polls_returning(&self, partition: u32, offset: u64, msg: MsgId, before: u32) -> Vec<u32> {
        let mut found = self.polls_covering(partition, offset, before);
        found.retain(|&e| self.poll_returned(e, msg) != Some(false));
        found
    }

    /// Whether poll event `poll` returned `msg`; None when the poll did not record its records.
    pub(super) fn poll_returned(&self, poll: u32, msg: MsgId) -> Option<bool> {
        match &self.event(poll).kind {
            EventKind::Polled { msgs, .. } if !msgs.is_empty() => Some(msgs.contains(&msg)),
            _ => None,
        }
    }

    /// The record poll event `poll` returned at `offset`, when it recorded one per offset.
    pub(super) fn poll_record_at(&self, poll: u32, offset: u64) -> Option<MsgId> {
        match &self.event(poll).kind {
            EventKind::Polled { offsets: (from, to), msgs, .. } if msgs.len() as u64 == to.saturating_sub(*from) => {
                msgs.get(usize::try_from(offset.checked_sub(*from)?).ok()?).copied()
            }
            _ => None,
        }
    }

    /// The first commit of `partition` that moved the group past `offset`.
    pub(super) fn first_commit_past(&self, partition: u32, offset: u64) -> Option<u32> {
        let commits = self.commits.get(&partition)?;
        let i = commits.reach.partition_point(|&r| r <= offset);
        commits.events.get(i).copied()
    }
}

/// The partition an event about records of a topic names, if any.
fn data_partition(kind: &EventKind) -> Option<u32> {
    match kind {
        EventKind::Send { partition, .. }
        | EventKind::ProduceRequest { partition, .. }
        | EventKind::Acked { partition, .. }
        | EventKind::Failed { partition, .. }
        | EventKind::ProduceRetry { partition, .. }
        | EventKind::Append { partition, .. }
        | EventKind::Truncate { partition, .. }
        | EventKind::PageCacheLost { partition, .. }
        | EventKind::Processed { partition, .. }
        | EventKind::Polled { partition, .. }
        | EventKind::Committed { partition, .. }
        | EventKind::NotEnoughReplicas { partition, .. }
        | EventKind::Flush { partition, .. }
        | EventKind::Election { partition, .. } => Some(*partition),
        EventKind::PartitionChange(c) => Some(c.partition),
        _ => None,
    }
}

// ---- ordered event lists ----

/// The last event of `list` before `at`.
pub(super) fn last_before(list: &[u32], at: u32) -> Option<u32> {
    let i = list.partition_point(|&e| e < at);
    i.checked_sub(1).map(|i| list[i])
}

/// The first event of `list` after `at`.
pub(super) fn first_after(list: &[u32], at: u32) -> Option<u32> {
    let i = list.partition_point(|&e| e <= at);
    list.get(i).copied()
}

/// The events of `list` strictly between `from` and `to`.
pub(super) fn between(list: &[u32], from: u32, to: u32) -> &[u32] {
    let start = list.partition_point(|&e| e <= from);
    let end = list.partition_point(|&e| e < to).max(start);
    &list[start..end]
}

fn positions(msgs: &[MsgId]) -> impl Iterator<Item = (u32, &MsgId)> {
    msgs.iter().enumerate().map_while(|(pos, m)| u32::try_from(pos).ok().map(|p| (p, m)))
}

fn span_of(offsets: impl Iterator<Item = u64>) -> Option<Span> {
    offsets.fold(None, |span: Option<Span>, o| {
        let end = o.saturating_add(1);
        Some(match span {
            None => Span { start: o, end },
            Some(s) => Span { start: s.start.min(o), end: s.end.max(end) },
        })
    })
}

/// Offsets (in any order, possibly repeated) as sorted, merged ranges.
fn pieces_of(offsets: impl Iterator<Item = u64>) -> Vec<Span> {
    let mut sorted: Vec<u64> = offsets.collect();
    sorted.sort_unstable();
    let mut pieces: Vec<Span> = Vec::new();
    for o in sorted {
        match pieces.last_mut() {
            Some(last) if o <= last.end => last.end = last.end.max(o.saturating_add(1)),
            _ => pieces.push(Span { start: o, end: o.saturating_add(1) }),
        }
    }
    pieces
}

fn ranges_by_partition(lost: &[(u32, u64)]) -> BTreeMap<u32, Vec<Span>> {
    let mut sorted = lost.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: BTreeMap<u32, Vec<Span>> = BTreeMap::new();
    for (partition, offset) in sorted {
        let list = ranges.entry(partition).or_default();
        match list.last_mut() {
            Some(last) if last.end == offset => last.end = offset.saturating_add(1),
            _ => list.push(Span { start: offset, end: offset.saturating_add(1) }),
        }
    }
    ranges
}

fn covers(wipe: &Wipe, partition: u32, offset: u64) -> bool {
    let Some(ranges) = wipe.ranges.get(&partition) else {
        return false;
    };
    let i = ranges.partition_point(|s| s.end <= offset);
    ranges.get(i).is_some_and(|s| s.start <= offset)
}
