//! The producer's ordering and exactly-once promises, judged on the final logs: a record
//! stored twice (`duplicated`: a retry of a batch the broker had already stored, without
//! idempotence), and two acknowledged records of one producer stored in the opposite order to
//! their sends (`reordered`: a failed request retried after a later one succeeded, with more
//! than one request in flight). Both explanations centre on the batch that was retried.

use super::explain::{self, and_list, parens, settings, Story, LIST_MAX};
use super::index::{between, Index, MsgFacts, Placement};
use crate::finding::{Finding, FindingClass};
use crate::history::MsgId;
use std::collections::BTreeMap;

/// The producer settings that decide duplicates and ordering.
const ORDER_SETTINGS: &[&str] = &["enable.idempotence", "max.in.flight.requests.per.connection", "retries", "acks"];

/// Stored at more than one offset of the final log.
pub(super) fn duplicated(ix: &Index) -> Vec<Finding> {
    ix.copies
        .iter()
        .map(|(&msg, places)| {
            let facts = ix.msgs.get(msg);
            let partition = places.first().map(|&(p, _)| p);
            let head = format!(
                "{msg} is stored {} times in the final logs, at {}{}",
                places.len(),
                places_text(places),
                parens(&settings(ix, ORDER_SETTINGS))
            );
            let mut story = Story::default();
            if let Some(facts) = facts {
                tell_copies(ix, facts, &mut story);
            }
            let explanation = story.render(&head, "");
            Finding { class: FindingClass::Duplicated, message: Some(msg), partition, explanation }
        })
        .collect()
}

/// `offsets 0 and 1 of partition 0`, or each place with its partition when they differ.
fn places_text(places: &[(u32, u64)]) -> String {
    match places.first() {
        Some(&(partition, _)) if places.iter().all(|&(p, _)| p == partition) => {
            let offsets: Vec<String> = places.iter().map(|(_, o)| o.to_string()).collect();
            format!("offsets {} of partition {partition}", and_list(&offsets))
        }
        _ => {
            let each: Vec<String> = places.iter().map(|(p, o)| format!("offset {o} of partition {p}")).collect();
            and_list(&each)
        }
    }
}

/// How the copies came to be: the leader appends (each copy starts as one), the retries of
/// the message's batch, the leader changes between the first and the last copy, and what the
/// client concluded.
fn tell_copies(ix: &Index, facts: &MsgFacts, story: &mut Story) {
    let led: Vec<Placement> = ix.placements(facts).filter(|p| p.as_leader).collect();
    // Followers copy what leaders appended; without leader appends, every append is a copy.
    let appends: Vec<Placement> = if led.is_empty() { ix.placements(facts).collect() } else { led };
    for p in &appends {
        story.tell(p.event, explain::placement(ix, "it", p));
    }
    explain::tell_retries(ix, facts, story);
    if let (Some(first), Some(last)) = (appends.first(), appends.last()) {
        for &e in between(ix.elections(first.partition), first.event, last.event).iter().take(LIST_MAX) {
            explain::tell_election(ix, story, e, None);
        }
    }
    if let Some(outcome) = ix.outcome(facts) {
        let what = if outcome.acked { "learned it succeeded" } else { "gave it up" };
        story.tell(outcome.event, format!("The client {what} at {}", ix.time(outcome.event)));
    }
}

/// An acknowledged record that landed before a record its producer sent earlier, to the same
/// partition. One pass per producer in send order (`seq` order, as a producer numbers its
/// sends), remembering per partition the highest final offset so far and whose it was: a
/// record below that mark is reordered against the record that set it.
pub(super) fn reordered(ix: &Index) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut producer = None;
    let mut highest: BTreeMap<u32, (u64, MsgId)> = BTreeMap::new();
    for (msg, facts) in ix.msgs.iter() {
        if producer != Some(msg.producer) {
            producer = Some(msg.producer);
            highest.clear();
        }
        let Some((partition, offset)) = acked_place(ix, facts) else {
            continue;
        };
        match highest.get(&partition) {
            Some(&(top, earlier)) if offset < top => {
                findings.push(reordering(ix, msg, facts, earlier, partition, offset, top));
            }
            _ => {
                highest.insert(partition, (offset, msg));
            }
        }
    }
    findings
}

/// Where an acknowledged record sits in the final log of the partition it was sent to.
fn acked_place(ix: &Index, facts: &MsgFacts) -> Option<(u32, u64)> {
    ix.ever_acked(facts)?;
    let (partition, offset) = facts.final_at?;
    (facts.partition.is_none_or(|p| p == partition)).then_some((partition, offset))
}

fn reordering(
    ix: &Index,
    msg: MsgId,
    facts: &MsgFacts,
    earlier: MsgId,
    partition: u32,
    offset: u64,
    earlier_offset: u64,
) -> Finding {
    let earlier_facts = ix.msgs.get(earlier);
    let describe = |m: MsgId, f: Option<&MsgFacts>| {
        let batch = f.and_then(|f| ix.batch_of(f)).map(|b| format!("batch {}", b.1));
        let sent = f.and_then(|f| f.send).map(|s| format!("sent at {}", ix.time(s)));
        let acked = f.and_then(|f| ix.ever_acked(f)).map(|r| format!("acknowledged at {}", ix.time(r.event)));
        format!("{m}{}", parens(&[batch, sent, acked].into_iter().flatten().collect::<Vec<_>>()))
    };
    let head = format!(
        "{} is stored at offset {offset} of partition {partition}, before {}, which its producer \
        sent earlier and which is stored at offset {earlier_offset}{}",
        describe(msg, Some(facts)),
        describe(earlier, earlier_facts),
        parens(&settings(ix, ORDER_SETTINGS))
    );
    let mut story = Story::default();
    // The leader appends that put both records where they are.
    for (m, f, at) in [(msg, Some(facts), offset), (earlier, earlier_facts, earlier_offset)] {
        let Some(f) = f else { continue };
        let subject = m.to_string();
        for p in ix.placements(f).filter(|p| p.as_leader && p.partition == partition && p.offset == at) {
            story.tell(p.event, explain::placement(ix, &subject, &p));
        }
    }
    let closing = match earlier_facts.and_then(|f| ix.batch_of(f)) {
        Some(batch) if !ix.retries(batch).is_empty() => {
            let retries = ix.retries(batch);
            story.tell(retries[0], explain::retries_sentence(ix, batch.1, retries));
            format!("The retry of batch {} was stored after the later batch that had succeeded", batch.1)
        }
        Some(batch) => format!("No retry of batch {} was recorded", batch.1),
        None => format!("No batch of {earlier} was recorded"),
    };
    Finding {
        class: FindingClass::Reordered,
        message: Some(msg),
        partition: Some(partition),
        explanation: story.render(&head, &closing),
    }
}
