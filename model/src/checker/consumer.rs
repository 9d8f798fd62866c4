//! The consumer group's promises, judged per record of the final logs: every record processed
//! (`consumer_skipped` when not: the group's committed position moved past a record no one
//! processed, or it started past it) and each processed once (`consumer_duplicated` when not:
//! a consumer processed it and died before the group's position moved past it).
//!
//! Explanations walk the group's bookmark: the polls that returned the record, the commit
//! that moved past it, the consumer crash, and where the group resumed.

use super::explain::{self, parens, settings, Story, LIST_MAX};
use super::index::{first_after, last_before, Index, MsgFacts};
use crate::finding::{Finding, FindingClass};
use crate::history::{EventKind, MsgId, NodeName};

/// The consumer settings that decide when the group's position moves.
const GROUP_SETTINGS: &[&str] =
    &["enable.auto.commit", "auto.commit.interval.ms", "app.processing", "app.commit", "auto.offset.reset"];

/// In a final log, never processed.
pub(super) fn consumer_skipped(ix: &Index) -> Vec<Finding> {
    ix.msgs
        .iter()
        .filter(|(_, facts)| facts.final_copies > 0 && ix.processings(facts).next().is_none())
        .filter_map(|(msg, facts)| {
            let (partition, offset) = facts.final_at?;
            let head = format!(
                "{msg} is at offset {offset} of partition {partition}'s final log, but no consumer \
                processed it{}",
                parens(&settings(ix, GROUP_SETTINGS))
            );
            let mut story = Story::default();
            tell_skip(ix, partition, offset, &mut story);
            Some(Finding {
                class: FindingClass::ConsumerSkipped,
                message: Some(msg),
                partition: Some(partition),
                explanation: story.render(&head, ""),
            })
        })
        .collect()
}

/// Why the group never processed offset `offset`: the polls that returned it and the crash of
/// their consumer, or where the group's first poll started; then the commit past it.
fn tell_skip(ix: &Index, partition: u32, offset: u64, story: &mut Story) {
    let polls = ix.polls_covering(partition, offset, u32::MAX);
    for &poll in polls.iter().take(LIST_MAX) {
        story.tell(poll, poll_sentence(ix, poll, "which included it"));
        if let Some(consumer) = consumer_of(ix, poll) {
            explain::tell_crash_between(ix, story, consumer, poll, None);
            tell_resume(ix, story, partition, consumer, poll);
        }
    }
    if polls.is_empty() {
        match ix.polls(partition).first() {
            Some(&first) => story.tell(first, poll_sentence(ix, first, "the group's first poll of it")),
            None => story.note(0, format!("No consumer ever polled partition {partition}")),
        }
    }
    match ix.first_commit_past(partition, offset) {
        Some(commit) => story.tell(commit, commit_sentence(ix, commit, "past it")),
        None => story.note(u32::MAX, format!("No commit of partition {partition} ever moved past it")),
    }
}

/// Where the group resumed `partition` after `consumer` crashed: its next poll of it.
fn tell_resume(ix: &Index, story: &mut Story, partition: u32, consumer: NodeName, since: u32) {
    let Some(crash) = first_after(ix.crashes(consumer), since) else {
        return;
    };
    if let Some(next) = first_after(ix.polls(partition), crash) {
        story.tell(next, poll_sentence(ix, next, "the first poll of it after the crash"));
    }
}

/// Processed more than once.
pub(super) fn consumer_duplicated(ix: &Index) -> Vec<Finding> {
    ix.msgs
        .iter()
        .filter_map(|(msg, facts)| {
            let processings: Vec<u32> = ix.processings(facts).collect();
            (processings.len() > 1).then(|| duplicate_processing(ix, msg, facts, &processings))
        })
        .collect()
}

fn duplicate_processing(ix: &Index, msg: MsgId, facts: &MsgFacts, processings: &[u32]) -> Finding {
    let places: Vec<(u32, u64)> = processings.iter().filter_map(|&e| processed_at(ix, e)).collect();
    let partition = places.first().map(|&(p, _)| p).or(facts.partition);
    let told: Vec<String> = processings
        .iter()
        .take(LIST_MAX)
        .map(|&e| {
            let offset = processed_at(ix, e).map(|(_, o)| format!(" (offset {o})")).unwrap_or_default();
            format!("by {} at {}{offset}", ix.event(e).node, ix.time(e))
        })
        .collect();
    let more = processings.len().saturating_sub(LIST_MAX);
    let head = format!(
        "{msg} was processed {} times: {}{}{}",
        processings.len(),
        told.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() },
        parens(&settings(ix, GROUP_SETTINGS))
    );
    let mut story = Story::default();
    let (first, second) = (processings[0], processings[1]);
    if let Some((partition, offset)) = processed_at(ix, second) {
        tell_replay(ix, &mut story, first, second, partition, offset);
    }
    let closing = if places.windows(2).any(|w| w[0] != w[1]) {
        "It is stored at more than one offset of the log, and each copy was processed".to_string()
    } else {
        String::new()
    };
    Finding {
        class: FindingClass::ConsumerDuplicated,
        message: Some(msg),
        partition,
        explanation: story.render(&head, &closing),
    }
}

/// Why the record was delivered again between its first and second processing: the first
/// consumer's crash, the group's last commit before the replay (not past the record), and the
/// poll that returned it again.
fn tell_replay(ix: &Index, story: &mut Story, first: u32, second: u32, partition: u32, offset: u64) {
    explain::tell_crash_between(ix, story, ix.event(first).node, first, Some(second));
    match last_before(ix.commits(partition), second) {
        Some(commit) => story.tell(commit, commit_sentence(ix, commit, "the group's last commit before the replay")),
        None => story.note(second, format!("No commit of partition {partition} preceded the replay")),
    }
    if let Some(&poll) = ix.polls_covering(partition, offset, second).last().filter(|&&p| p > first) {
        story.tell(poll, poll_sentence(ix, poll, "which returned it again"));
    }
}

fn processed_at(ix: &Index, event: u32) -> Option<(u32, u64)> {
    match ix.event(event).kind {
        EventKind::Processed { partition, offset, .. } => Some((partition, offset)),
        _ => None,
    }
}

fn consumer_of(ix: &Index, poll: u32) -> Option<NodeName> {
    match ix.event(poll).kind {
        EventKind::Polled { consumer, .. } => Some(NodeName::Consumer(consumer)),
        _ => None,
    }
}

/// "c1 polled offsets 0..500 of partition 0 at 1.000 s, which included it".
fn poll_sentence(ix: &Index, poll: u32, remark: &str) -> String {
    match ix.event(poll).kind {
        EventKind::Polled { consumer, partition, offsets: (from, to) } => {
            format!("c{consumer} polled offsets {from}..{to} of partition {partition} at {}, {remark}", ix.time(poll))
        }
        _ => String::new(),
    }
}

/// "c1 committed offset 500 of partition 0 at 2.000 s, past it".
fn commit_sentence(ix: &Index, commit: u32, remark: &str) -> String {
    match ix.event(commit).kind {
        EventKind::Committed { consumer, partition, offset } => {
            format!("c{consumer} committed offset {offset} of partition {partition} at {}, {remark}", ix.time(commit))
        }
        _ => String::new(),
    }
}
