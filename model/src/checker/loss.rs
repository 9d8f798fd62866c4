//! Lost messages: sent, and not in the final log. Which class a loss falls in depends only on
//! what the app was told: an acknowledgement it saw (`lost_acked`, a broken promise), a
//! failure it saw (`lost_failed`, no promise broken), or nothing (`lost_unnoticed`: the app
//! did not look, or its producer died first).
//!
//! The three classes share the story of how the record went away, told replica by replica:
//! who appended it, what removed it (truncation after an election, a page cache lost with the
//! power, a wiped disk), the crashes and elections that led there, and what the final log
//! holds instead. Only the headline and a few class-specific steps differ.

use super::explain::{
    self, acked_offset, failure_error, never_reached, not_in_final_log, parens, settings, Story, LIST_MAX,
};
use super::index::{between, last_before, Index, MsgFacts, Outcome};
use super::txns::{held_uncommitted, markers_at};
use crate::finding::{Finding, FindingClass};
use crate::history::{EventKind, MsgId, NodeName};

/// Settings that decide whether an acknowledgement means the record is safe.
const ACK_SETTINGS: &[&str] = &["acks", "min.insync.replicas"];

/// Acknowledged to the app, and gone.
pub(super) fn lost_acked(ix: &Index) -> Vec<Finding> {
    lost(ix, FindingClass::LostAcked)
}

/// Failed, and the app was told: the client kept its promise of telling the truth.
pub(super) fn lost_failed(ix: &Index) -> Vec<Finding> {
    lost(ix, FindingClass::LostFailed)
}

/// Gone, and the app never heard of it: it did not look, or its producer died holding it.
pub(super) fn lost_unnoticed(ix: &Index) -> Vec<Finding> {
    lost(ix, FindingClass::LostUnnoticed)
}

/// What the app was told about a message, which decides its loss class.
enum Told {
    Acked(Outcome),
    Failed(Outcome),
    /// Nothing; the client may still have learned an outcome the app did not look at.
    Nothing(Option<Outcome>),
}

impl Told {
    fn of(outcome: Option<Outcome>) -> Told {
        match outcome {
            Some(o) if o.notified && o.acked => Told::Acked(o),
            Some(o) if o.notified => Told::Failed(o),
            other => Told::Nothing(other),
        }
    }

    fn class(&self) -> FindingClass {
        match self {
            Told::Acked(_) => FindingClass::LostAcked,
            Told::Failed(_) => FindingClass::LostFailed,
            Told::Nothing(_) => FindingClass::LostUnnoticed,
        }
    }
}

/// The findings of one loss class: every produced message missing from the final logs whose
/// outcome puts it in `class`, with its headline and the shared story of how it went away.
fn lost(ix: &Index, class: FindingClass) -> Vec<Finding> {
    let markers = markers_at(ix);
    ix.msgs
        .iter()
        .filter(|(_, facts)| facts.produced && facts.final_copies == 0)
        .filter_map(|(msg, facts)| {
            let told = Told::of(ix.outcome(facts));
            if told.class() != class {
                return None;
            }
            let mut story = Story::default();
            let head = match told {
                Told::Acked(o) => acked_headline(ix, msg, facts, o, &mut story),
                Told::Failed(o) => failed_headline(ix, msg, facts, o, &mut story),
                Told::Nothing(o) => unnoticed_headline(ix, msg, facts, o, &mut story),
            };
            tell_fate(ix, facts, &mut story);
            let closing = facts
                .partition
                .and_then(|p| held_uncommitted(ix, &markers, msg, p))
                .unwrap_or_else(|| not_in_final_log(ix, msg, facts));
            let explanation = story.render(&head, &closing);
            Some(Finding { class, message: Some(msg), partition: facts.partition, explanation })
        })
        .collect()
}

/// "p1#17 was acknowledged at 1.204 s (acks=1, partition 0, offset 41)", and the ISR then.
fn acked_headline(ix: &Index, msg: MsgId, facts: &MsgFacts, o: Outcome, story: &mut Story) -> String {
    tell_isr_at(ix, facts, o.event, story);
    let mut parts = settings(ix, ACK_SETTINGS);
    parts.extend(facts.partition.map(|p| format!("partition {p}")));
    parts.push(match acked_offset(ix, o.event, o.pos) {
        Some(offset) => format!("offset {offset}"),
        None => "no offset returned".to_string(),
    });
    format!("{msg} was acknowledged at {}{}", ix.time(o.event), parens(&parts))
}

/// "p1#17 failed at 121.0 s with ... and the app was told", and the rejections behind it.
fn failed_headline(ix: &Index, msg: MsgId, facts: &MsgFacts, o: Outcome, story: &mut Story) -> String {
    tell_not_enough_replicas(ix, facts, o.event, story);
    let mut parts = settings(ix, &["acks", "min.insync.replicas", "delivery.timeout.ms"]);
    parts.extend(facts.partition.map(|p| format!("partition {p}")));
    let error = failure_error(ix, o.event);
    format!("{msg} failed at {} with {error} and the app was told{}", ix.time(o.event), parens(&parts))
}

/// Why the app never heard: it does not look at outcomes, or its producer died first.
fn unnoticed_headline(ix: &Index, msg: MsgId, facts: &MsgFacts, outcome: Option<Outcome>, story: &mut Story) -> String {
    let sent = sent_clause(ix, msg, facts);
    let not_looking = format!("but the app does not look at outcomes{}", parens(&settings(ix, &["app.send", "acks"])));
    match outcome {
        Some(o) if o.acked => {
            format!("{sent}; the client learned it succeeded at {}, {not_looking}", ix.time(o.event))
        }
        Some(o) => {
            tell_not_enough_replicas(ix, facts, o.event, story);
            let error = failure_error(ix, o.event);
            format!("{sent}; the client gave it up at {} with {error}, {not_looking}", ix.time(o.event))
        }
        None => match producer_lost(ix, facts) {
            Some((event, others)) => {
                let others = match others {
                    0 => String::new(),
                    n => format!(" and {n} other records"),
                };
                format!(
                    "{sent}; {} crashed at {} still holding it{others}, before the client learned \
                     any outcome, so the app was never told",
                    ix.event(event).node,
                    ix.time(event)
                )
            }
            None => format!("{sent}, and no outcome was ever recorded for it"),
        },
    }
}

/// The headline's first words, for a message whose outcome the app never learned.
fn sent_clause(ix: &Index, msg: MsgId, facts: &MsgFacts) -> String {
    let partition = facts.partition.map(|p| format!(" for partition {p}")).unwrap_or_default();
    match facts.send {
        Some(send) => format!("{msg} was handed to send() at {}{partition}", ix.time(send)),
        None => format!("{msg} was produced{partition} (no send() was recorded)"),
    }
}

/// The `ProducerLost` event that dropped the message, and how many other records it dropped.
fn producer_lost(ix: &Index, facts: &MsgFacts) -> Option<(u32, usize)> {
    facts.refs.iter().find_map(|r| match &ix.event(r.event).kind {
        EventKind::ProducerLost { msgs } => Some((r.event, msgs.len().saturating_sub(1))),
        _ => None,
    })
}

/// How the message went away: each replica's append, what removed it there and the crash
/// that preceded, and the elections that made a replica without it the leader.
pub(super) fn tell_fate(ix: &Index, facts: &MsgFacts, story: &mut Story) {
    explain::tell_retries(ix, facts, story);
    let placements: Vec<_> = ix.placements(facts).collect();
    let Some(first) = placements.first() else {
        let at = facts.request.map(|r| r.event).or(facts.send).unwrap_or(0);
        story.note(at, never_reached(ix, facts));
        return;
    };
    let alone = placements.iter().all(|p| p.broker == first.broker);
    let mut removed_any = false;
    for p in &placements {
        let mut sentence = explain::placement(ix, "it", p);
        if alone {
            sentence.push_str("; no other replica ever held it");
        }
        story.tell(p.event, sentence);
        let removal = ix.removal(facts, p);
        if let Some(r) = removal {
            removed_any = true;
            explain::tell_removal(ix, story, r, p);
            tell_elections_before(ix, facts, story, p.partition, first.event, r);
        }
        explain::tell_crash_between(ix, story, NodeName::Broker(p.broker), p.event, removal);
    }
    if !removed_any {
        // Nothing took it away from a replica that had it: then the elections after it was
        // written decided which replica's log became the final one.
        let elections = between(ix.elections(first.partition), first.event, u32::MAX);
        for &e in elections.iter().take(LIST_MAX) {
            explain::tell_election(ix, story, e, Some(facts));
        }
    }
}

/// The election behind a removal: the one that started the leader epoch a truncation matched,
/// and the last one before the removal (if after the message was first written).
fn tell_elections_before(ix: &Index, facts: &MsgFacts, story: &mut Story, partition: u32, since: u32, removal: u32) {
    if let EventKind::Truncate { reason: crate::history::TruncateReason::LeaderEpoch { leader_epoch, .. }, .. } =
        &ix.event(removal).kind
    {
        if let Some(e) = ix.election_of_epoch(partition, *leader_epoch) {
            explain::tell_election(ix, story, e, Some(facts));
        }
    }
    if let Some(e) = last_before(ix.elections(partition), removal).filter(|&e| e > since) {
        explain::tell_election(ix, story, e, Some(facts));
    }
}

/// For an acknowledged record: the ISR the controller recorded when it was acknowledged, when
/// that ISR was smaller than the replica set (then `acks=all` meant fewer copies).
fn tell_isr_at(ix: &Index, facts: &MsgFacts, acked: u32, story: &mut Story) {
    let Some(partition) = facts.partition else {
        return;
    };
    let Some(change) = last_before(ix.partition_changes(partition), acked) else {
        return;
    };
    let EventKind::PartitionChange(c) = &ix.event(change).kind else {
        return;
    };
    let (isr, cause) = (&c.isr, &c.cause);
    let replicas = ix.final_partition(partition).map_or(0, |fp| fp.replicas.len());
    if isr.len() >= replicas {
        return;
    }
    story.tell(
        change,
        format!(
            "At {} the controller set the ISR of partition {partition} to {} ({cause}), as it \
            still was when the record was acknowledged",
            ix.time(change),
            explain::broker_list(isr)
        ),
    );
}

/// For a failed record: the leader's NOT_ENOUGH_REPLICAS rejections while the client tried it.
fn tell_not_enough_replicas(ix: &Index, facts: &MsgFacts, failed: u32, story: &mut Story) {
    let Some(partition) = facts.partition else {
        return;
    };
    let since = facts.send.or(facts.request.map(|r| r.event)).unwrap_or(0);
    let rejections = between(ix.not_enough_replicas(partition), since, failed);
    let Some(&last) = rejections.last() else {
        return;
    };
    let EventKind::NotEnoughReplicas { broker, isr, after_append, .. } = &ix.event(last).kind else {
        return;
    };
    let error = if *after_append { "NOT_ENOUGH_REPLICAS_AFTER_APPEND" } else { "NOT_ENOUGH_REPLICAS" };
    let when = match rejections {
        [only] => format!("at {}", ix.time(*only)),
        [first, ..] => format!("{} times from {} to {}", rejections.len(), ix.time(*first), ix.time(last)),
        [] => return,
    };
    story.tell(
        last,
        format!(
            "b{broker} rejected writes to partition {partition} with {error} {when}; the last time \
            its ISR was {}{}",
            explain::broker_list(isr),
            parens(&settings(ix, &["min.insync.replicas"]))
        ),
    );
}
