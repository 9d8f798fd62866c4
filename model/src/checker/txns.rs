//! Transactions (issue 16) as the history tells them: per transaction (a producer's number for
//! it), its records, how the app's call ended, what the transaction coordinator decided and
//! which markers reached which partition; per input record, the pipeline's outputs and where
//! the final `out` logs hold them. Gathered in one pass, apart from the main index, so that a
//! history without transactions costs one scan and nothing else.
//!
//! Transactions are named after the producer that ran them (`transaction 3 of p1`, `transaction
//! 4 of c2's producer`): Kafka itself has no transaction number before transaction version 2 (a
//! transaction is a producer id and epoch, the coordinator's state and whatever markers close
//! it), which is exactly why the anomalies of late requests exist. The `producer`/`txn` tags of
//! coordinator and marker events are the simulation's, carried for these explanations.

use super::explain::{and_list, Story, LIST_MAX};
use super::index::Index;
use crate::history::{
    self, is_out_partition, EventKind, MsgId, TxnOutcome, PIPELINE_PRODUCER_BASE, TXN_STATE_PARTITION,
};
use std::collections::BTreeMap;

/// A transaction: the producer number of its events, and the producer's count for it.
pub(super) type TxnKey = (u32, u64);

#[derive(Default)]
pub(super) struct TxnFacts {
    pub begun: Option<u32>,
    /// The `TxnEnded` event.
    pub ended: Option<u32>,
    pub outcome: Option<TxnOutcome>,
    /// Its records: those `TxnEnded` names, else those whose `Send` names it, in order.
    pub msgs: Vec<MsgId>,
    /// `TxnTransition` events tagged with it.
    pub transitions: Vec<u32>,
    /// `MarkerWritten` events tagged with it.
    pub markers: Vec<u32>,
}

/// Where the final `out` logs hold an output: (partition as events carry it, offset).
pub(super) type OutPlace = (u32, u64);

#[derive(Default)]
pub(super) struct Txns {
    pub txns: BTreeMap<TxnKey, TxnFacts>,
    pub of_msg: BTreeMap<MsgId, TxnKey>,
    /// `Output` events per input record, in history order.
    pub outputs: BTreeMap<MsgId, Vec<u32>>,
    /// Every place the final `out` logs hold an output for an input record.
    pub out_copies: BTreeMap<MsgId, Vec<OutPlace>>,
    /// Events about `out` partitions that name an input record (appends, truncations), for the
    /// story of an output.
    pub out_events: BTreeMap<MsgId, Vec<u32>>,
    /// `MarkerWritten` per partition, whatever their tags.
    pub markers: BTreeMap<u32, Vec<u32>>,
    /// `Resumed` events per partition (where a consumer started after a rebalance).
    resumed: BTreeMap<u32, Vec<u32>>,
    /// The run had a pipeline (`app.output`): the final state has `out` partitions.
    pub pipeline: bool,
}

impl Txns {
    pub(super) fn build(ix: &Index) -> Txns {
        let mut t = Txns { pipeline: !ix.final_state.out.is_empty(), ..Txns::default() };
        for (i, event) in ix.history.events.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            t.index_event(i, &event.kind);
        }
        for fp in &ix.final_state.out {
            for (i, input) in fp.log.iter().enumerate() {
                t.out_copies.entry(*input).or_default().push((fp.partition, fp.offset_of(i)));
            }
        }
        t
    }

    fn index_event(&mut self, i: u32, kind: &EventKind) {
        match kind {
            EventKind::Send { msg, txn: Some(txn), .. } => {
                let key = (msg.producer, *txn);
                self.of_msg.insert(*msg, key);
                let facts = self.txns.entry(key).or_default();
                if !facts.msgs.contains(msg) && facts.ended.is_none() {
                    facts.msgs.push(*msg);
                }
            }
            EventKind::TxnBegun { producer, txn } => {
                self.txns.entry((*producer, *txn)).or_default().begun.get_or_insert(i);
            }
            EventKind::TxnEnded { producer, txn, outcome, msgs, .. } => {
                let key = (*producer, *txn);
                let facts = self.txns.entry(key).or_default();
                if facts.ended.is_none() {
                    facts.ended = Some(i);
                    facts.outcome = Some(*outcome);
                    if !msgs.is_empty() {
                        facts.msgs = msgs.clone();
                    }
                }
                if *producer < PIPELINE_PRODUCER_BASE {
                    for msg in msgs {
                        self.of_msg.entry(*msg).or_insert(key);
                    }
                }
            }
            EventKind::TxnTransition(t) if t.txn.is_some() => {
                let txn = t.txn.expect("matched Some");
                self.txns.entry((t.producer, txn)).or_default().transitions.push(i);
            }
            EventKind::MarkerWritten { partition, producer, txn, .. } => {
                self.markers.entry(*partition).or_default().push(i);
                if let Some(txn) = txn {
                    self.txns.entry((*producer, *txn)).or_default().markers.push(i);
                }
            }
            EventKind::Output { input, .. } => self.outputs.entry(*input).or_default().push(i),
            EventKind::Resumed(r) => self.resumed.entry(r.partition).or_default().push(i),
            EventKind::Append { partition, .. } | EventKind::Truncate { partition, .. }
                if is_out_partition(*partition) =>
            {
                for msg in msgs_of(kind) {
                    let list = self.out_events.entry(msg).or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn resumed(&self, partition: u32) -> &[u32] {
        self.resumed.get(&partition).map_or(&[], Vec::as_slice)
    }

    pub(super) fn get(&self, key: TxnKey) -> Option<&TxnFacts> {
        self.txns.get(&key)
    }

    /// The COMMIT markers tagged with `key` that reached `partition`.
    pub(super) fn commit_markers(&self, ix: &Index, key: TxnKey, partition: u32) -> Vec<u32> {
        self.get(key).map_or_else(Vec::new, |f| {
            f.markers.iter().copied().filter(|&m| marker(ix, m).is_some_and(|(p, c)| p == partition && c)).collect()
        })
    }
}

/// The records an `Append` or `Truncate` names.
fn msgs_of(kind: &EventKind) -> Vec<MsgId> {
    match kind {
        EventKind::Append { msgs, .. } => msgs.to_vec(),
        EventKind::Truncate { removed, .. } => removed.iter().map(|(_, m)| *m).collect(),
        _ => Vec::new(),
    }
}

/// (partition, commit) of a `MarkerWritten` event.
fn marker(ix: &Index, event: u32) -> Option<(u32, bool)> {
    match ix.event(event).kind {
        EventKind::MarkerWritten { partition, commit, .. } => Some((partition, commit)),
        _ => None,
    }
}

// ---- the words ----

/// `transaction 3 of p1`, `transaction 4 of c2's producer`.
pub(super) fn txn_name((producer, txn): TxnKey) -> String {
    if producer > PIPELINE_PRODUCER_BASE {
        format!("transaction {txn} of c{}'s producer", producer - PIPELINE_PRODUCER_BASE)
    } else {
        format!("transaction {txn} of p{producer}")
    }
}

/// A partition as a reader knows it: `partition 2`, `partition 2 of out`, `__consumer_offsets`.
pub(super) fn partition_name(partition: u32) -> String {
    if is_out_partition(partition) {
        format!("partition {} of out", partition - crate::history::OUT_PARTITION_BASE)
    } else if partition == crate::history::OFFSETS_PARTITION {
        "the group's __consumer_offsets partition".to_string()
    } else if partition == TXN_STATE_PARTITION {
        "__transaction_state".to_string()
    } else {
        format!("partition {partition}")
    }
}

/// What the app's call said: "commitTransaction() returned at 3.100 s".
pub(super) fn ending(ix: &Index, facts: &TxnFacts) -> String {
    let Some(end) = facts.ended else {
        return "it never ended: no commitTransaction() or abortTransaction() returned".to_string();
    };
    let error = match &ix.event(end).kind {
        EventKind::TxnEnded { error: Some(e), .. } => format!(" with {e}"),
        _ => String::new(),
    };
    match facts.outcome {
        Some(TxnOutcome::Committed) => format!("commitTransaction() returned at {}", ix.time(end)),
        Some(TxnOutcome::Aborted) => format!("the app aborted it and abortTransaction() returned at {}", ix.time(end)),
        _ => format!("it failed at {}{error}, and the app treated its records as failed", ix.time(end)),
    }
}

/// Tells the coordinator's decisions about the transaction: up to `LIST_MAX` * 2 transitions.
pub(super) fn tell_transitions(ix: &Index, facts: &TxnFacts, key: TxnKey, story: &mut Story) {
    for &e in facts.transitions.iter().take(LIST_MAX * 2) {
        if let EventKind::TxnTransition(t) = &ix.event(e).kind {
            let history::TxnTransition { broker, producer_id, epoch, from, to, partitions, offsets_partitions, .. } =
                t.as_ref();
            let mut parts: Vec<String> = partitions.iter().map(|&p| partition_name(p)).collect();
            if *offsets_partitions {
                parts.push("the group's offsets".to_string());
            }
            let holding = if parts.is_empty() { String::new() } else { format!(", holding {}", and_list(&parts)) };
            story.tell(
                e,
                format!(
                    "The transaction coordinator on b{broker} moved {} (producer id {producer_id}, epoch {epoch}) \
                     from {from} to {to} at {}{holding}",
                    txn_name(key),
                    ix.time(e)
                ),
            );
        }
    }
}

/// "b1 wrote a COMMIT marker for transaction 3 of p1 (producer id 7, epoch 0) at offset 57 of
/// partition 0 at 3.200 s".
pub(super) fn marker_sentence(ix: &Index, event: u32) -> String {
    let EventKind::MarkerWritten { broker, partition, producer, producer_id, epoch, commit, offset, txn } =
        &ix.event(event).kind
    else {
        return String::new();
    };
    let what = if *commit { "COMMIT" } else { "ABORT" };
    let whose = match txn {
        Some(t) => format!("for {}", txn_name((*producer, *t))),
        None => format!("of p{producer}'s producer id"),
    };
    format!(
        "b{broker} wrote an {what} marker {whose} (producer id {producer_id}, epoch {epoch}) at offset {offset} of {} \
         at {}",
        partition_name(*partition),
        ix.time(event)
    )
    .replace("an COMMIT", "a COMMIT")
}

/// Tells the elections of `__transaction_state` (the coordinator moving) between two events.
pub(super) fn tell_coordinator_moves(ix: &Index, from: u32, to: u32, story: &mut Story) {
    for &e in super::index::between(ix.elections(TXN_STATE_PARTITION), from, to).iter().take(LIST_MAX) {
        if let EventKind::Election { leader, leader_epoch, .. } = &ix.event(e).kind {
            let who = leader.map_or_else(|| "no broker".to_string(), |l| format!("b{l}"));
            story.tell(
                e,
                format!(
                    "At {} {who} became leader of __transaction_state in epoch {leader_epoch}, and so the \
                     transaction coordinator: it loads the transactions from that log (Prepare* states are \
                     completed, Ongoing ones kept)",
                    ix.time(e)
                ),
            );
        }
    }
}

/// `MarkerWritten` events by (partition, offset), in history order: several leaders may have
/// written at one offset before a truncation.
pub(super) type MarkersAt = BTreeMap<(u32, u64), Vec<u32>>;

pub(super) fn markers_at(ix: &Index) -> MarkersAt {
    let mut at = MarkersAt::new();
    for (i, event) in ix.history.events.iter().enumerate() {
        if let EventKind::MarkerWritten { partition, offset, .. } = event.kind {
            at.entry((partition, offset)).or_default().push(i as u32);
        }
    }
    at
}

/// The closing sentence for a record the final log holds inside a transaction that did not
/// commit (`FinalPartition.uncommitted`): the ABORT marker behind which it stays, or the
/// transaction still open there. `None` when the final log does not hold it at all.
pub(super) fn held_uncommitted(ix: &Index, markers: &MarkersAt, msg: MsgId, partition: u32) -> Option<String> {
    let fp = ix.final_partition(partition)?;
    if !fp.uncommitted.contains(&msg) {
        return None;
    }
    let leader = fp.leader.map_or_else(|| "no leader".to_string(), |l| format!("leader b{l}"));
    let head = format!(
        "The final log of partition {partition} ({leader}, epoch {}, {} records) holds it",
        fp.leader_epoch,
        fp.log.len()
    );
    // Its offset and the first marker of its producer after it, in the final leader's log.
    let log = fp.replicas.iter().find(|r| Some(r.broker) == fp.leader).map(|r| &r.log[..]).unwrap_or(&[]);
    let Some(offset) = log.iter().position(|&m| m == msg) else {
        return Some(format!("{head} only inside a transaction that did not commit: it is not counted as stored"));
    };
    let marker = log.iter().enumerate().skip(offset + 1).find_map(|(o, _)| {
        let events = markers.get(&(partition, o as u64))?;
        events.iter().rev().copied().find(
            |&e| matches!(ix.event(e).kind, EventKind::MarkerWritten { producer, .. } if producer == msg.producer),
        )
    });
    Some(match marker {
        Some(e) => format!(
            "{head} at offset {offset}, inside a transaction that did not commit: {}. A record behind an ABORT \
             marker is not counted as stored, and read_committed consumers skip it",
            marker_sentence(ix, e)
        ),
        None => format!(
            "{head} at offset {offset}, inside a transaction with no marker after it there: still open, it is not \
             counted as stored, and it holds the last stable offset back for read_committed consumers"
        ),
    })
}
