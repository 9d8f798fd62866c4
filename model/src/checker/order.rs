//! The producer's ordering and exactly-once promises, judged on the final logs: a record
//! stored twice (`duplicated`: a retry of a batch the broker had already stored, without
//! idempotence; or a record the client reported failed that was stored after all, and that
//! the app sent again as a new record, `app.on.failure=resend`), and two acknowledged records of one producer stored in the opposite order to
//! their sends (`reordered`: a failed request retried after a later one succeeded, with more
//! than one request in flight). Both explanations centre on the batch that was retried.

use super::explain::{self, and_list, failure_error, parens, settings, Story, LIST_MAX};
use super::index::{between, Index, MsgFacts, Placement, ResendDup};
use crate::finding::{Finding, FindingClass};
use crate::history::{EventKind, MsgId};
use std::collections::BTreeMap;

/// The producer settings that decide duplicates and ordering.
const ORDER_SETTINGS: &[&str] = &["enable.idempotence", "max.in.flight.requests.per.connection", "retries", "acks"];

/// The settings that decide whether a record reported failed is sent again as a new record.
const RESEND_SETTINGS: &[&str] = &["app.on.failure", "enable.idempotence", "acks", "delivery.timeout.ms"];

/// Stored at more than one offset of the final log, or a resend stored while an earlier record
/// of its chain (the record the app first sent, or a resend before it) is stored too: the
/// app's payload is then in the log twice although each record is there once. One finding per
/// record; a resend also stored at several offsets is told once, as a resend.
pub(super) fn duplicated(ix: &Index) -> Vec<Finding> {
    let mut findings: Vec<Finding> = ix
        .copies
        .iter()
        .filter(|(msg, _)| !ix.resend_dups.contains_key(msg))
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
                tell_copies(ix, "it", facts, &mut story);
            }
            let explanation = story.render(&head, "");
            Finding { class: FindingClass::Duplicated, message: Some(msg), partition, explanation }
        })
        .collect();
    findings.extend(ix.resend_dups.iter().filter_map(|(&msg, dup)| resent_duplicate(ix, msg, dup)));
    findings
}

/// A resend stored while an earlier record of its chain is stored too. The headline names the
/// failure the client reported for the first copy and where both copies are; the steps tell
/// who appended the first copy, the retries of its batch, each resend on the way and the
/// failure behind it, and who appended the resend.
fn resent_duplicate(ix: &Index, msg: MsgId, dup: &ResendDup) -> Option<Finding> {
    let facts = ix.msgs.get(msg)?;
    let (partition, offset) = facts.final_at?;
    let original = dup.original;
    let first = ix.msgs.get(original)?;
    let (o_partition, o_offset) = first.final_at?;
    let mut story = Story::default();

    // The resends between the original and this one (at most LIST_MAX, the nearest to this
    // one), in the order the app sent them.
    let mut links: Vec<MsgId> = Vec::new();
    let mut at = facts.resend_of;
    while let Some(link) = at.filter(|&l| l != original && links.len() < LIST_MAX) {
        links.push(link);
        at = ix.msgs.get(link).and_then(|f| f.resend_of);
    }
    links.reverse();
    let names: Vec<String> = links.iter().map(MsgId::to_string).collect();
    let via = match dup.between as usize {
        0 => String::new(),
        n if n <= links.len() => format!(" by way of {}", and_list(&names)),
        n => format!(" by way of {n} resends, the last {}", and_list(&names)),
    };

    // Who stored the first copy, and why the client gave it up all the same.
    let appended = stored_by(ix, first, o_partition, o_offset);
    let stored_first = appended.map_or_else(String::new, |p| {
        let verb = if p.as_leader { "appended" } else { "copied" };
        format!(" ({verb} by b{} at {})", p.broker, ix.time(p.event))
    });
    if let Some(p) = &appended {
        story.tell(p.event, explain::placement(ix, &original.to_string(), p));
    }
    explain::tell_retries(ix, first, &mut story);
    let failure = failure_of(ix, first);
    let reported = match failure {
        Some(f) => format!("{original} was reported failed with {} at {} and yet", failure_error(ix, f), ix.time(f)),
        None => original.to_string(),
    };

    // Each resend on the way, and the failure that made the app resend it again.
    let mut parent = links.first().and_then(|&l| ix.msgs.get(l)).and_then(|f| f.resend_of).unwrap_or(original);
    for &link in links.iter().chain(std::iter::once(&msg)) {
        let Some(link_facts) = ix.msgs.get(link) else { continue };
        if let Some(send) = link_facts.send {
            story.tell(send, format!("The app resent {parent} as {link} at {}", ix.time(send)));
        }
        if let Some(f) = failure_of(ix, link_facts).filter(|_| link != msg) {
            let error = failure_error(ix, f);
            story.tell(f, format!("The client reported {link} failed with {error} at {}", ix.time(f)));
        }
        parent = link;
    }

    // The resend's own copy and what the client concluded about it.
    if let Some(p) = stored_by(ix, facts, partition, offset) {
        story.tell(p.event, explain::placement(ix, &msg.to_string(), &p));
    }
    if let Some(acked) = ix.ever_acked(facts) {
        story.tell(acked.event, format!("The client learned {msg} succeeded at {}", ix.time(acked.event)));
    }
    if let Some(places) = ix.copies.get(&msg) {
        let sentence =
            format!("{msg} itself is stored {} times in the final logs, at {}", places.len(), places_text(places));
        story.note(u32::MAX, sentence);
        tell_copies(ix, &msg.to_string(), facts, &mut story);
    }

    let head = format!(
        "{msg} is a resend of {original}{via}, and both are in the final logs: {reported} is stored at \
        offset {o_offset} of partition {o_partition}{stored_first}, and the resend {msg} is stored at \
        offset {offset} of partition {partition}{}",
        parens(&settings(ix, RESEND_SETTINGS))
    );
    let closing = match failure {
        Some(_) => "The app resent a record the client had reported failed, but the first copy had been stored",
        None => "The app resent a record, but the first copy had been stored",
    };
    Some(Finding {
        class: FindingClass::Duplicated,
        message: Some(msg),
        partition: Some(partition),
        explanation: story.render(&head, closing),
    })
}

/// The append that put the record at `offset` of `partition`: a leader's, else a follower's.
fn stored_by(ix: &Index, facts: &MsgFacts, partition: u32, offset: u64) -> Option<Placement> {
    let mut here = ix.placements(facts).filter(|p| p.partition == partition && p.offset == offset);
    let first = here.next()?;
    if first.as_leader {
        return Some(first);
    }
    Some(here.find(|p| p.as_leader).unwrap_or(first))
}

/// The `Failed` event that gave the record up: the first the app was told of, else the first.
fn failure_of(ix: &Index, facts: &MsgFacts) -> Option<u32> {
    let failed = |e: &u32| matches!(ix.event(*e).kind, EventKind::Failed { .. });
    let notified = |e: &u32| matches!(ix.event(*e).kind, EventKind::Failed { app_notified: true, .. });
    let mut failures = facts.refs.iter().map(|r| r.event).filter(failed);
    let first = failures.next()?;
    if notified(&first) {
        return Some(first);
    }
    Some(failures.find(notified).unwrap_or(first))
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
fn tell_copies(ix: &Index, subject: &str, facts: &MsgFacts, story: &mut Story) {
    let led: Vec<Placement> = ix.placements(facts).filter(|p| p.as_leader).collect();
    // Followers copy what leaders appended; without leader appends, every append is a copy.
    let appends: Vec<Placement> = if led.is_empty() { ix.placements(facts).collect() } else { led };
    for p in &appends {
        story.tell(p.event, explain::placement(ix, subject, p));
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
    let later_batch = ix.batch_of(facts);
    let closing = match earlier_facts.and_then(|f| ix.batch_of(f)) {
        Some(batch) if !ix.retries(batch).is_empty() => {
            let retries = ix.retries(batch);
            story.tell(retries[0], explain::retries_sentence(ix, batch.1, retries));
            match later_batch.filter(|&later| later != batch && !ix.retries(later).is_empty()) {
                // Both failed: each failed batch goes back to the front of its queue
                // (`RecordAccumulator.reenqueue`, addFirst), so the later one was sent first.
                Some(later) => format!(
                    "Both batches were retried: the client put each failed batch back at the front of \
                    its queue (RecordAccumulator.reenqueue without idempotence), so batch {} went ahead \
                    of batch {} and was stored first",
                    later.1, batch.1
                ),
                None => {
                    format!("The retry of batch {} was stored after the later batch that had succeeded", batch.1)
                }
            }
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
