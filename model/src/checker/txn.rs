//! The transaction classes after Jepsen's Kafka checker (`jepsen.tests.kafka`): `aborted_read`
//! (Jepsen's G1a: a read of a write whose transaction failed) and `torn_transaction` (a
//! transaction the producer was told committed, seen only in part; Jepsen reports its parts as
//! lost writes). Lost committed records are `lost_acked` already: the producer records an
//! app-visible `Acked` per partition when `commitTransaction()` returns.
//!
//! Verdicts rest on the producer's view and the final logs, never on the scenario's `expect`:
//! - aborted read: a consumer processed a record whose transaction the app aborted
//!   (`abortTransaction()` returned), or whose transaction never committed (its commit failed or
//!   never happened, and no final log holds the record as committed, and no COMMIT marker of
//!   the transaction reached its partition). A failed commit whose records are committed after
//!   all is indefinite (Jepsen's `:info`), not an aborted read.
//! - torn transaction: told committed, and only some of its records are in the final logs; or
//!   all are, and the consumer group processed some but not the others although it read past
//!   them (Jepsen's bound: a reader that had not caught up is not evidence).
//!
//! Lost committed records are not judged here: `lost_acked` finds them, since the producer
//! records an app-visible `Acked` per partition when `commitTransaction()` returned.
//!
//! Explanations say which transaction, what the app was told and when, what the coordinator
//! decided, which markers reached which partition (or did not), and what the consumer read
//! under which isolation level.

use super::explain::{self, and_list, parens, settings, Story, LIST_MAX};
use super::index::{Index, MsgFacts};
use super::txns::{ending, marker_sentence, partition_name, tell_coordinator_moves, tell_transitions, txn_name};
use super::txns::{TxnKey, Txns};
use crate::finding::{Finding, FindingClass};
use crate::history::{EventKind, MsgId, TxnOutcome, PIPELINE_PRODUCER_BASE};
use std::collections::BTreeSet;

/// Settings that decide what a consumer may read of transactional data.
const READ_SETTINGS: &[&str] = &["isolation.level", "kafka.version"];

/// Whether the app was never told the transaction committed and nothing committed it after all:
/// the judgement of an aborted read, from the producer's view and the final log alone.
fn never_committed(ix: &Index, tx: &Txns, key: TxnKey, msg: MsgId, facts: &MsgFacts) -> bool {
    match tx.get(key).and_then(|f| f.outcome) {
        Some(TxnOutcome::Aborted) => true,
        Some(TxnOutcome::Committed) => false,
        // Failed or never ended: indefinite unless the coordinator aborted it (its decision is
        // final: what a later marker makes visible is an aborted read) or nothing committed it.
        _ => {
            let transitions = tx.get(key).map_or(&[][..], |f| f.transitions.as_slice());
            if moved_to(ix, transitions, "PrepareAbort") && !committed_by_coordinator(ix, transitions) {
                return msg.producer != 0;
            }
            facts.final_copies == 0
                && facts.partition.is_none_or(|p| tx.commit_markers(ix, key, p).is_empty())
                && !tx.get(key).is_some_and(|f| committed_by_coordinator(ix, &f.transitions))
                && msg.producer != 0
        }
    }
}

/// The coordinator moved the transaction to PrepareCommit (the commit is decided from then on).
fn committed_by_coordinator(ix: &Index, transitions: &[u32]) -> bool {
    moved_to(ix, transitions, "PrepareCommit")
}

fn moved_to(ix: &Index, transitions: &[u32], state: &str) -> bool {
    transitions.iter().any(|&e| matches!(&ix.event(e).kind, EventKind::TxnTransition(t) if t.to == state))
}

pub(super) fn aborted_read(ix: &Index, tx: &Txns) -> Vec<Finding> {
    tx.of_msg
        .iter()
        .filter(|(_, key)| key.0 < PIPELINE_PRODUCER_BASE)
        .filter_map(|(&msg, &key)| {
            let facts = ix.msgs.get(msg)?;
            let first = ix.processings(facts).next()?;
            if !never_committed(ix, tx, key, msg, facts) {
                return None;
            }
            let explanation = aborted_story(ix, tx, key, msg, facts, first);
            Some(Finding {
                class: FindingClass::AbortedRead,
                message: Some(msg),
                partition: facts.partition,
                explanation,
            })
        })
        .collect()
}

fn aborted_story(ix: &Index, tx: &Txns, key: TxnKey, msg: MsgId, facts: &MsgFacts, first: u32) -> String {
    let EventKind::Processed { consumer, partition, offset, .. } = ix.event(first).kind else {
        return String::new();
    };
    let txn = tx.get(key);
    let how = match txn {
        Some(f) if f.outcome == Some(TxnOutcome::Aborted) => format!("was aborted: {}", ending(ix, f)),
        Some(f) if f.ended.is_some() => format!("never committed: {}", ending(ix, f)),
        _ => format!("never committed: {}", never_ended(ix, key)),
    };
    let head = format!(
        "{msg} was processed by c{consumer} at {} (offset {offset} of partition {partition}{}), and its {} {how}",
        ix.time(first),
        settings(ix, READ_SETTINGS).iter().map(|s| format!(", {s}")).collect::<String>(),
        txn_name(key),
    );
    let mut story = Story::default();
    if let Some(f) = txn {
        if let Some(b) = f.begun {
            story.tell(b, format!("p{} began {} at {}", key.0, txn_name(key), ix.time(b)));
        }
        tell_transitions(ix, f, key, &mut story);
        for &m in f.markers.iter().filter(|&&m| marker_partition(ix, m) == Some(partition)) {
            story.tell(m, marker_sentence(ix, m));
        }
    }
    tell_read(ix, tx, key, facts, first, partition, &mut story);
    let closing = final_log_sentence(ix, msg, facts, partition);
    story.render(&head, &closing)
}

/// "p1 crashed at 2.000 s, in the middle of it" or that no end was recorded.
fn never_ended(ix: &Index, key: TxnKey) -> String {
    let node = crate::history::NodeName::Producer(key.0);
    match ix.crashes(node).first() {
        Some(&c) => format!("its producer crashed at {} before the app ended it", ix.time(c)),
        None => "no commitTransaction() or abortTransaction() returned for it".to_string(),
    }
}

fn marker_partition(ix: &Index, event: u32) -> Option<u32> {
    match ix.event(event).kind {
        EventKind::MarkerWritten { partition, .. } => Some(partition),
        _ => None,
    }
}

/// Why the consumer could read it: under read_uncommitted, by design; under read_committed, the
/// COMMIT marker of the same producer that made the partition's open transaction visible.
fn tell_read(ix: &Index, tx: &Txns, key: TxnKey, facts: &MsgFacts, first: u32, partition: u32, story: &mut Story) {
    if ix.setting("isolation.level") != Some("read_committed") {
        story.remark(
            first,
            "A read_uncommitted consumer reads up to the high watermark: records of aborted and open transactions \
             included (KIP-98; Kafka's `Fetcher` filters aborted transactions only for read_committed)"
                .to_string(),
        );
        return;
    }
    let appended = ix.placements(facts).find(|p| p.partition == partition).map_or(0, |p| p.event);
    let markers = tx.markers.get(&partition).map_or(&[][..], Vec::as_slice);
    let visible = markers.iter().copied().filter(|&m| m > appended && m < first).find(
        |&m| matches!(ix.event(m).kind, EventKind::MarkerWritten { producer, commit: true, .. } if producer == key.0),
    );
    let Some(m) = visible else {
        story.remark(
            first,
            format!(
                "A read_committed consumer reads below the last stable offset, yet no COMMIT marker of p{} reached \
                 {} between the record's append and this read",
                key.0,
                partition_name(partition)
            ),
        );
        return;
    };
    story.tell(m, marker_sentence(ix, m));
    let tagged = matches!(ix.event(m).kind, EventKind::MarkerWritten { txn: Some(t), .. } if t == key.1);
    if !tagged {
        story.note(
            m,
            format!(
                "That marker closed the transaction open on {} for p{}'s producer id, which held {}: a marker names \
                 a producer id and epoch, not a transaction, so a late EndTxn or marker of another transaction with \
                 the same epoch commits whatever is open (KAFKA-17754; from transaction version 2, KIP-890, 4.0, every \
                 transaction has its own epoch, so only the previous transaction's own markers still match, until \
                 KIP-1228)",
                partition_name(partition),
                key.0,
                txn_name(key)
            ),
        );
    }
}

/// What the final log of the record's partition makes of it.
fn final_log_sentence(ix: &Index, msg: MsgId, facts: &MsgFacts, partition: u32) -> String {
    let Some(fp) = ix.final_partition(partition) else {
        return format!("Partition {partition} is missing from the final state");
    };
    if facts.final_copies > 0 {
        format!("The final log of partition {partition} holds it as committed")
    } else if fp.uncommitted.contains(&msg) {
        format!("The final log of partition {partition} holds it as not committed (its transaction has no COMMIT marker there)")
    } else {
        format!("The final log of partition {partition} does not hold it")
    }
}

// ---- torn transactions ----

pub(super) fn torn_transaction(ix: &Index, tx: &Txns) -> Vec<Finding> {
    tx.txns
        .iter()
        .filter(|(key, f)| key.0 < PIPELINE_PRODUCER_BASE && f.outcome == Some(TxnOutcome::Committed))
        .filter(|(_, f)| !f.msgs.is_empty())
        .filter_map(|(&key, f)| {
            let stored: Vec<MsgId> = f.msgs.iter().copied().filter(|&m| copies(ix, m) > 0).collect();
            let missing: Vec<MsgId> = f.msgs.iter().copied().filter(|&m| copies(ix, m) == 0).collect();
            let explanation = if !stored.is_empty() && !missing.is_empty() {
                torn_in_log(ix, tx, key, &stored, &missing)
            } else if missing.is_empty() && ix.history.meta.consumers > 0 {
                torn_in_reads(ix, tx, key, &f.msgs)?
            } else {
                return None;
            };
            Some(Finding {
                class: FindingClass::TornTransaction,
                message: f.msgs.first().copied(),
                partition: None,
                explanation,
            })
        })
        .collect()
}

fn copies(ix: &Index, msg: MsgId) -> u32 {
    ix.msgs.get(msg).map_or(0, |f| f.final_copies)
}

fn partition_of(ix: &Index, msg: MsgId) -> Option<u32> {
    ix.msgs.get(msg).and_then(|f| f.partition)
}

/// "p1#3 and p1#4 (partition 1)": records with their partitions, summed up past `LIST_MAX`.
fn records(ix: &Index, msgs: &[MsgId]) -> String {
    let mut items: Vec<String> = msgs.iter().take(LIST_MAX).map(|m| m.to_string()).collect();
    if msgs.len() > LIST_MAX {
        items.push(format!("{} more", msgs.len() - LIST_MAX));
    }
    let parts: BTreeSet<u32> = msgs.iter().filter_map(|&m| partition_of(ix, m)).collect();
    let parts: Vec<String> = parts.into_iter().map(|p| p.to_string()).collect();
    let label = if parts.len() == 1 { "partition" } else { "partitions" };
    format!("{} ({label} {})", and_list(&items), and_list(&parts))
}

fn headline(ix: &Index, tx: &Txns, key: TxnKey, msgs: usize) -> String {
    let ended = tx.get(key).map_or_else(String::new, |f| ending(ix, f));
    format!("{} ({msgs} records) was committed: {ended}", txn_name(key))
}

fn torn_in_log(ix: &Index, tx: &Txns, key: TxnKey, stored: &[MsgId], missing: &[MsgId]) -> String {
    let head = format!(
        "{}; only {} of its records are in the final logs: {} are, {} are not",
        headline(ix, tx, key, stored.len() + missing.len()),
        stored.len(),
        records(ix, stored),
        records(ix, missing)
    );
    let mut story = Story::default();
    tell_decisions(ix, tx, key, stored.iter().chain(missing), &mut story);
    for &m in missing.iter().take(LIST_MAX) {
        if let Some(facts) = ix.msgs.get(m) {
            tell_missing(ix, m, facts, &mut story);
        }
    }
    story.render(&head, "")
}

/// How a missing record of the transaction went away: each replica's append of it, what removed
/// it there, or that it never reached a broker (the story `lost_acked` tells, naming the record).
fn tell_missing(ix: &Index, msg: MsgId, facts: &MsgFacts, story: &mut Story) {
    let placements: Vec<_> = ix.placements(facts).collect();
    if placements.is_empty() {
        let at = facts.request.map(|r| r.event).or(facts.send).unwrap_or(0);
        story.note(at, format!("{msg}: {}", explain::never_reached(ix, facts)));
        return;
    }
    for p in &placements {
        story.tell(p.event, explain::placement(ix, &msg.to_string(), p));
        if let Some(r) = ix.removal(facts, p) {
            explain::tell_removal(ix, story, r, p);
        }
    }
}

/// The coordinator's decisions and, per partition of the records, the markers of the
/// transaction that reached it (or that none did).
fn tell_decisions<'a>(ix: &Index, tx: &Txns, key: TxnKey, msgs: impl Iterator<Item = &'a MsgId>, story: &mut Story) {
    let Some(f) = tx.get(key) else { return };
    tell_transitions(ix, f, key, story);
    let partitions: BTreeSet<u32> = msgs.filter_map(|&m| partition_of(ix, m)).collect();
    let start = f.begun.unwrap_or(0);
    let end = f.ended.unwrap_or(u32::MAX);
    for p in partitions {
        let here: Vec<u32> = f.markers.iter().copied().filter(|&m| marker_partition(ix, m) == Some(p)).collect();
        if here.is_empty() {
            story.note(end, format!("No marker of {} was recorded on partition {p}", txn_name(key)));
        }
        for m in here {
            story.tell(m, marker_sentence(ix, m));
        }
    }
    tell_coordinator_moves(ix, start, u32::MAX, story);
}

/// All records stored; the group processed some and, past the others, did not process them.
fn torn_in_reads(ix: &Index, tx: &Txns, key: TxnKey, msgs: &[MsgId]) -> Option<String> {
    let processed: Vec<MsgId> = msgs.iter().copied().filter(|&m| processed(ix, m)).collect();
    if processed.is_empty() || processed.len() == msgs.len() {
        return None;
    }
    let skipped: Vec<MsgId> = msgs.iter().copied().filter(|&m| !processed.contains(&m)).collect();
    // Jepsen's bound: only a record the group read past counts as not processed.
    let mut passes = Vec::new();
    for &m in &skipped {
        let (partition, offset) = ix.msgs.get(m)?.final_at?;
        passes.push(read_past(ix, partition, offset)?);
    }
    let head = format!(
        "{}; all its records are in the final logs, but the consumer group processed only {} of them: {} were \
         processed, {} were not, though the group read past them",
        headline(ix, tx, key, msgs.len()),
        processed.len(),
        records(ix, &processed),
        records(ix, &skipped)
    );
    let mut story = Story::default();
    tell_decisions(ix, tx, key, msgs.iter(), &mut story);
    for &poll in passes.iter().take(LIST_MAX) {
        if let EventKind::Polled { consumer, partition, offsets: (from, to), .. } = ix.event(poll).kind {
            story.tell(
                poll,
                format!(
                    "c{consumer} polled offsets {from}..{to} of partition {partition} at {}{}",
                    ix.time(poll),
                    parens(&settings(ix, &["isolation.level"]))
                ),
            );
        }
    }
    Some(story.render(&head, ""))
}

fn processed(ix: &Index, msg: MsgId) -> bool {
    ix.msgs.get(msg).is_some_and(|f| ix.processings(f).next().is_some())
}

/// The first poll of `partition` that returned offsets past `offset`.
fn read_past(ix: &Index, partition: u32, offset: u64) -> Option<u32> {
    ix.polls(partition)
        .iter()
        .copied()
        .find(|&e| matches!(ix.event(e).kind, EventKind::Polled { offsets: (_, to), .. } if to > offset))
}
