//! The consumer group's promises, judged per record of the final logs: every record processed
//! (`consumer_skipped` when not: the group's committed position moved past a record no one
//! processed, or it started past it) and each processed once (`consumer_duplicated` when not:
//! a consumer processed it and the group's position did not move past it before another
//! consumer, or the same one after a restart or a rebalance, was handed it again).
//!
//! Explanations walk the group's bookmark: the polls that returned the record, the commit
//! that moved past it (and how far the committing consumer had processed by then), the
//! consumer's crash or removal from the group, the rebalances, a commit that failed or that a
//! new coordinator did not find in `__consumer_offsets`, and where the group resumed. The group
//! events (`Resumed`, `Assigned`, `GroupRebalanced`, ...) are gathered in one pass, only when
//! there is a finding to explain; histories without them get the shorter story.

use super::explain::{self, parens, settings, Story, LIST_MAX};
use super::index::{first_after, last_before, Index, MsgFacts};
use crate::finding::{Finding, FindingClass};
use crate::history::{EventKind, MsgId, NodeName};
use group::Group;
use sentences::{
    commit_past_sentence, commit_sentence, committed_offset, consumer_of, is_reset, poll_sentence, processed_at,
    resumed_offset, resumed_sentence, truncation_sentence,
};

mod group;
mod sentences;

/// A record as a consumer processed it: which one, and where it sat then.
#[derive(Clone, Copy)]
struct Consumed {
    msg: MsgId,
    partition: u32,
    offset: u64,
}

/// The consumer settings that decide when the group's position moves.
const GROUP_SETTINGS: &[&str] =
    &["enable.auto.commit", "auto.commit.interval.ms", "app.processing", "app.commit", "auto.offset.reset"];

/// In a final log, never processed.
pub(super) fn consumer_skipped(ix: &Index) -> Vec<Finding> {
    let mut group: Option<Group> = None;
    ix.msgs
        .iter()
        .filter(|(_, facts)| facts.final_copies > 0 && ix.processings(facts).next().is_none())
        .filter_map(|(msg, facts)| {
            let (partition, offset) = facts.final_at?;
            let g = group.get_or_insert_with(|| Group::build(ix));
            let head = format!(
                "{msg} is at offset {offset} of partition {partition}'s final log, but no consumer \
                processed it{}",
                parens(&settings(ix, GROUP_SETTINGS))
            );
            let mut story = Story::default();
            tell_skip(ix, g, partition, offset, msg, &mut story);
            Some(Finding {
                class: FindingClass::ConsumerSkipped,
                message: Some(msg),
                partition: Some(partition),
                explanation: story.render(&head, ""),
            })
        })
        .collect()
}

/// Why the group never processed `msg` at offset `offset`: the polls that returned it and what
/// happened to their consumer, or where the group's first poll started; polls that read
/// another record at that offset before a truncation replaced it; the commit past it; and
/// where the group resumed past it.
fn tell_skip(ix: &Index, g: &Group, partition: u32, offset: u64, msg: MsgId, story: &mut Story) {
    let polls = ix.polls_returning(partition, offset, msg, u32::MAX);
    let others: Vec<u32> =
        ix.polls_covering(partition, offset, u32::MAX).into_iter().filter(|e| !polls.contains(e)).collect();
    for &poll in others.iter().take(LIST_MAX) {
        let held = match ix.poll_record_at(poll, offset) {
            Some(other) => format!("when offset {offset} held another record, {other}"),
            None => format!("when offset {offset} held another record"),
        };
        story.tell(poll, poll_sentence(ix, poll, &held));
    }
    for &poll in polls.iter().take(LIST_MAX) {
        story.tell(poll, poll_sentence(ix, poll, "which included it"));
        if let Some(consumer) = consumer_of(ix, poll) {
            explain::tell_crash_between(ix, story, consumer, poll, None);
            if let NodeName::Consumer(c) = consumer {
                tell_removal_between(ix, g, story, c, poll, None);
            }
            if g.resumed(partition).is_empty() {
                tell_resume(ix, story, partition, consumer, poll);
            }
        }
    }
    if polls.is_empty() && others.is_empty() {
        match ix.polls(partition).first() {
            Some(&first) => story.tell(first, poll_sentence(ix, first, "the group's first poll of it")),
            None => story.note(0, format!("No consumer ever polled partition {partition}")),
        }
    }
    let commit = ix.first_commit_past(partition, offset);
    match commit {
        Some(commit) => story.tell(commit, commit_past_sentence(ix, g, commit)),
        None => story.note(u32::MAX, format!("No commit of partition {partition} ever moved past it")),
    }
    // Where a consumer started on the partition past the record: after the commit past it
    // (the group's bookmark), or, without one, anywhere (a reset).
    let since = commit.or(polls.first().copied()).or(others.first().copied()).unwrap_or(0);
    let resumed = g.resumed(partition);
    let start = resumed.partition_point(|&e| e <= since);
    let past = resumed[start..].iter().copied().find(|&e| resumed_offset(ix, e).is_some_and(|o| o > offset));
    let past = past.or_else(|| {
        // A reset past it before any commit (auto.offset.reset=latest on a missing offset).
        resumed.iter().copied().find(|&e| resumed_offset(ix, e).is_some_and(|o| o > offset) && is_reset(ix, e))
    });
    if let Some(e) = g.truncation_over(ix, partition, offset, since) {
        story.tell(e, truncation_sentence(ix, e));
    }
    if let Some(e) = past {
        // Before 2.3 nothing checks a committed offset against a log that diverged below it.
        let unvalidated = !others.is_empty()
            && !is_reset(ix, e)
            && crate::version::KafkaVersion::parse(&ix.history.meta.kafka_version)
                .is_some_and(|v| !v.consumers_detect_truncation());
        let remark = if unvalidated {
            "past it: before 2.3 (KIP-320) a consumer does not validate its position against the leader's log, \
            so nothing noticed that the log had diverged below the committed offset"
        } else {
            "past it"
        };
        story.tell(e, resumed_sentence(ix, e, remark));
    }
}

/// Where the group resumed `partition` after `consumer` crashed: its next poll of it (for
/// histories without `Resumed` events).
fn tell_resume(ix: &Index, story: &mut Story, partition: u32, consumer: NodeName, since: u32) {
    let Some(crash) = first_after(ix.crashes(consumer), since) else {
        return;
    };
    if let Some(next) = first_after(ix.polls(partition), crash) {
        story.tell(next, poll_sentence(ix, next, "the first poll of it after the crash"));
    }
}

/// Tells the first time `consumer` left or was removed from the group after event `after`
/// (and before `before`, if given).
fn tell_removal_between(ix: &Index, g: &Group, story: &mut Story, consumer: u32, after: u32, before: Option<u32>) {
    let Some(e) = first_after(g.removed(consumer), after) else { return };
    if before.is_some_and(|b| e > b) {
        return;
    }
    let sentence = match &ix.event(e).kind {
        EventKind::MemberRemoved { broker, reason, generation, .. } => format!(
            "The coordinator b{broker} removed c{consumer} from the group (generation {generation}) at {}: it \
            {reason}",
            ix.time(e)
        ),
        EventKind::LeftGroup { reason, .. } => {
            format!("c{consumer} left the group at {}: {reason}", ix.time(e))
        }
        _ => return,
    };
    story.tell(e, sentence);
}

/// Processed more than once.
pub(super) fn consumer_duplicated(ix: &Index) -> Vec<Finding> {
    let mut group: Option<Group> = None;
    ix.msgs
        .iter()
        .filter_map(|(msg, facts)| {
            let processings: Vec<u32> = ix.processings(facts).collect();
            (processings.len() > 1).then(|| {
                let g = group.get_or_insert_with(|| Group::build(ix));
                duplicate_processing(ix, g, msg, facts, &processings)
            })
        })
        .collect()
}

fn duplicate_processing(ix: &Index, g: &Group, msg: MsgId, facts: &MsgFacts, processings: &[u32]) -> Finding {
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
        tell_replay(ix, g, &mut story, Consumed { msg, partition, offset }, first, second);
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
/// consumer's crash or removal from the group, its failed commits, the group's last commit
/// before the replay (not past the record, or lost with a coordinator), where the group
/// resumed, and the poll that returned it again.
fn tell_replay(ix: &Index, g: &Group, story: &mut Story, at: Consumed, first: u32, second: u32) {
    let Consumed { msg, partition, offset } = at;
    let first_node = ix.event(first).node;
    explain::tell_crash_between(ix, story, first_node, first, Some(second));
    if let NodeName::Consumer(c) = first_node {
        // Leaving the group and a failed commit matter from the poll that first delivered it
        // (a slow batch can outlast the membership before the record is reached).
        let delivered = ix.polls_returning(partition, offset, msg, first).last().copied().unwrap_or(first);
        tell_removal_between(ix, g, story, c, delivered, Some(second));
        tell_failed_commit(ix, g, story, c, partition, delivered, second);
    }
    // A consumer that processed it without owning the partition: its queue outlived its
    // assignment.
    if let NodeName::Consumer(c) = ix.event(second).node {
        if let Some(a) = last_before(g.assigned(c), second) {
            if let EventKind::Assigned { partitions, generation, .. } = &ix.event(a).kind {
                if !partitions.contains(&partition) {
                    story.note(
                        second,
                        format!(
                            "c{c} processed it at {} although partition {partition} was no longer \
                            assigned to it (generation {generation} since {}): its queue outlived \
                            the assignment",
                            ix.time(second),
                            ix.time(a)
                        ),
                    );
                }
            }
        }
    }
    match last_before(ix.commits(partition), second) {
        Some(commit) => {
            story.tell(commit, commit_sentence(ix, commit, "the group's last commit before the replay"));
            if committed_offset(ix, commit).is_some_and(|o| o > offset) {
                tell_lost_commit(ix, g, story, partition, commit, second);
            }
        }
        None => story.note(second, format!("No commit of partition {partition} preceded the replay")),
    }
    let resumed = g.resumed(partition);
    let start = resumed.partition_point(|&e| e <= first);
    let end = resumed.partition_point(|&e| e < second);
    if let Some(&e) = resumed[start..end].iter().rev().find(|&&e| resumed_offset(ix, e).is_some_and(|o| o <= offset)) {
        story.tell(e, resumed_sentence(ix, e, "before it"));
    }
    if let Some(e) = g.truncation_over(ix, partition, offset, first).filter(|&e| e < second) {
        story.tell(e, truncation_sentence(ix, e));
    }
    if let Some(&poll) = ix.polls_returning(partition, offset, msg, second).last().filter(|&&p| p > first) {
        story.tell(poll, poll_sentence(ix, poll, "which returned it again"));
    }
}

/// The first commit of `consumer` that failed between the two processings and named
/// `partition`.
fn tell_failed_commit(
    ix: &Index,
    g: &Group,
    story: &mut Story,
    consumer: u32,
    partition: u32,
    after: u32,
    before: u32,
) {
    let failed = g.failed(consumer);
    let start = failed.partition_point(|&e| e <= after);
    for &e in &failed[start..] {
        if e > before {
            break;
        }
        if let EventKind::CommitFailed { offsets, error, .. } = &ix.event(e).kind {
            if let Some(&(_, o)) = offsets.iter().find(|(p, _)| *p == partition) {
                story.tell(
                    e,
                    format!(
                        "c{consumer}'s commit of offset {o} of partition {partition} failed at {}: {error}",
                        ix.time(e)
                    ),
                );
                return;
            }
        }
    }
}

/// A commit past the record that the group nonetheless did not resume from: a coordinator
/// that loaded the group later found an older offset in `__consumer_offsets`.
fn tell_lost_commit(ix: &Index, g: &Group, story: &mut Story, partition: u32, commit: u32, before: u32) {
    let Some(committed) = committed_offset(ix, commit) else { return };
    let start = g.loads.partition_point(|&e| e <= commit);
    for &e in &g.loads[start..] {
        if e > before {
            break;
        }
        if let EventKind::GroupLoaded { broker, committed: loaded, .. } = &ix.event(e).kind {
            let found = loaded.iter().find(|(p, _)| *p == partition).map(|&(_, o)| o);
            if found.is_none_or(|o| o < committed) {
                let found = found.map_or_else(|| "no committed offset".to_string(), |o| format!("offset {o}"));
                story.tell(
                    e,
                    format!(
                        "b{broker} became the group's coordinator at {} and found {found} for partition \
                        {partition} in its copy of __consumer_offsets: the commit of {committed} was lost",
                        ix.time(e)
                    ),
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::CrashMode;
    use crate::history::{Event, FinalPartition, FinalState, History};

    fn m(seq: u64) -> MsgId {
        MsgId { producer: 1, seq }
    }

    /// A group run on partition 0 whose final log holds `p1#0..n`.
    struct Run {
        history: History,
        final_state: FinalState,
    }

    impl Run {
        fn new(n: u64, settings: &[(&str, &str)]) -> Run {
            let mut history = History::default();
            history.meta.consumers = 1;
            history.meta.settings = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let log: Vec<MsgId> = (0..n).map(m).collect();
            let final_state = FinalState {
                partitions: vec![FinalPartition {
                    partition: 0,
                    leader: Some(1),
                    leader_epoch: 1,
                    isr: vec![1],
                    log: log.into(),
                    replicas: vec![],
                    offsets: vec![],
                    uncommitted: vec![],
                }],
                ..FinalState::default()
            };
            Run { history, final_state }
        }

        fn at(&mut self, ms: u64, node: NodeName, kind: EventKind) -> &mut Run {
            self.history.events.push(Event { t_us: ms * 1000, node, kind });
            self
        }

        fn poll(&mut self, ms: u64, from: u64, to: u64) -> &mut Run {
            let msgs = (from..to).map(m).collect();
            self.at(
                ms,
                NodeName::Consumer(1),
                EventKind::Polled { consumer: 1, partition: 0, offsets: (from, to), msgs },
            )
        }

        fn process(&mut self, ms: u64, offsets: std::ops::Range<u64>) -> &mut Run {
            for o in offsets {
                let kind = EventKind::Processed { consumer: 1, partition: 0, offset: o, msg: m(o) };
                self.at(ms, NodeName::Consumer(1), kind);
            }
            self
        }

        fn commit(&mut self, ms: u64, offset: u64) -> &mut Run {
            self.at(ms, NodeName::Broker(3), EventKind::Committed { consumer: 1, partition: 0, offset })
        }

        fn resume(&mut self, ms: u64, offset: u64, committed: Option<u64>, reset: Option<&str>) -> &mut Run {
            let kind = EventKind::Resumed(Box::new(crate::history::Resumed {
                consumer: 1,
                generation: 2,
                partition: 0,
                offset: Some(offset),
                committed,
                reset: reset.map(str::to_string),
            }));
            self.at(ms, NodeName::Consumer(1), kind)
        }

        fn findings(&self, f: fn(&Index) -> Vec<Finding>) -> Vec<Finding> {
            let ix = Index::build(&self.history, &self.final_state);
            f(&ix)
        }
    }

    fn crash_and_restart(run: &mut Run, crash_ms: u64, restart_ms: u64) {
        run.at(
            crash_ms,
            NodeName::Consumer(1),
            EventKind::Crash { node: NodeName::Consumer(1), mode: CrashMode::Process },
        );
        run.at(restart_ms, NodeName::Consumer(1), EventKind::Restart { node: NodeName::Consumer(1) });
    }

    #[test]
    fn a_skip_tells_how_far_the_consumer_had_processed_and_where_the_group_resumed() {
        let mut run = Run::new(10, &[("app.processing", "async")]);
        run.poll(100, 0, 8).process(150, 0..3).commit(200, 8);
        crash_and_restart(&mut run, 300, 400);
        run.at(
            9000,
            NodeName::Broker(3),
            EventKind::MemberRemoved {
                broker: 3,
                consumer: 1,
                generation: 1,
                reason: "sent no heartbeat within session.timeout.ms (10000 ms)".into(),
            },
        );
        run.resume(9100, 8, Some(8), None).poll(9200, 8, 10).process(9300, 8..10);
        let skipped = run.findings(consumer_skipped);
        let ids: Vec<_> = skipped.iter().map(|f| f.message.unwrap()).collect();
        assert_eq!(ids, (3..8).map(m).collect::<Vec<_>>());
        let text = &skipped[0].explanation;
        for needle in [
            "c1 polled offsets 0..8 of partition 0 at 0.100 s, which included it",
            "c1 committed offset 8 of partition 0 at 0.200 s, past it, when c1 had processed partition 0 only up to offset 2 (offsets 3..8 were polled, not yet processed)",
            "c1 crashed (process) at 0.300 s and restarted at 0.400 s",
            "The coordinator b3 removed c1 from the group (generation 1) at 9.000 s: it sent no heartbeat",
            "c1 resumed partition 0 at offset 8 (the group's committed offset) at 9.100 s in generation 2, past it",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in {text}");
        }
    }

    #[test]
    fn a_reset_past_records_is_a_skip_with_its_reason() {
        let mut run = Run::new(6, &[("auto.offset.reset", "latest")]);
        run.poll(100, 0, 2).process(110, 0..2).resume(500, 5, None, Some("latest")).poll(600, 5, 6).process(610, 5..6);
        let skipped = run.findings(consumer_skipped);
        assert_eq!(skipped.len(), 3);
        assert!(
            skipped[0].explanation.contains(
                "c1 resumed partition 0 at offset 5 (auto.offset.reset=latest, as the group had no committed offset)"
            ),
            "{}",
            skipped[0].explanation
        );
    }

    #[test]
    fn a_replay_after_a_lost_commit_names_the_coordinator_that_lost_it() {
        let mut run = Run::new(4, &[("app.commit", "after-process")]);
        run.poll(100, 0, 4).process(110, 0..4).commit(120, 4);
        run.at(5000, NodeName::Broker(1), EventKind::GroupLoaded { broker: 1, generation: 0, committed: vec![(0, 0)] });
        run.resume(6000, 0, Some(0), None).poll(6100, 0, 4).process(6200, 0..4);
        let dups = run.findings(consumer_duplicated);
        assert_eq!(dups.len(), 4);
        let text = &dups[0].explanation;
        for needle in [
            "c1 committed offset 4 of partition 0 at 0.120 s, the group's last commit before the replay",
            "b1 became the group's coordinator at 5.000 s and found offset 0 for partition 0 in its copy of __consumer_offsets: the commit of 4 was lost",
            "c1 resumed partition 0 at offset 0 (the group's committed offset) at 6.000 s in generation 2, before it",
            "c1 polled offsets 0..4 of partition 0 at 6.100 s, which returned it again",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in {text}");
        }
    }

    #[test]
    fn a_replay_after_leaving_the_group_names_the_leave_and_the_failed_commit() {
        let mut run = Run::new(3, &[("app.processing", "sync"), ("app.commit", "after-process")]);
        run.poll(100, 0, 3).process(3000, 0..3);
        run.at(
            2100,
            NodeName::Consumer(1),
            EventKind::LeftGroup {
                consumer: 1,
                generation: 1,
                reason: "its app had not called poll() for max.poll.interval.ms (2000 ms)".into(),
            },
        );
        run.history.events.sort_by_key(|e| e.t_us);
        run.at(
            3001,
            NodeName::Consumer(1),
            EventKind::CommitFailed {
                consumer: 1,
                generation: None,
                offsets: vec![(0, 3)],
                error: "CommitFailedException: the consumer is not part of an active group".into(),
            },
        );
        run.resume(4000, 0, Some(0), None).poll(4100, 0, 3).process(4200, 0..3);
        let dups = run.findings(consumer_duplicated);
        assert_eq!(dups.len(), 3);
        let text = &dups[0].explanation;
        for needle in [
            "c1 left the group at 2.100 s: its app had not called poll() for max.poll.interval.ms",
            "c1's commit of offset 3 of partition 0 failed at 3.001 s: CommitFailedException",
            "No commit of partition 0 preceded the replay",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in {text}");
        }
    }

    /// A run whose log diverged below the group's committed offset 8: c1 read offsets 0..8 when
    /// offsets 4..8 held p2's records; the final log holds p1#0..10.
    fn diverged_below_the_commit(version: &str) -> Run {
        let mut run = Run::new(10, &[]);
        run.history.meta.kafka_version = version.to_string();
        let read: Vec<MsgId> = (0..4).map(m).chain((0..4).map(|seq| MsgId { producer: 2, seq })).collect();
        run.at(
            100,
            NodeName::Consumer(1),
            EventKind::Polled { consumer: 1, partition: 0, offsets: (0, 8), msgs: read.into() },
        );
        run.process(150, 0..4).commit(200, 8);
        run
    }

    #[test]
    fn before_2_3_a_skip_over_a_diverged_log_says_nothing_validated_the_committed_offset() {
        let mut run = diverged_below_the_commit("2.2");
        run.resume(5000, 8, Some(8), None).poll(5100, 8, 10).process(5200, 8..10);
        let skipped = run.findings(consumer_skipped);
        assert_eq!(skipped.iter().map(|f| f.message.unwrap()).collect::<Vec<_>>(), (4..8).map(m).collect::<Vec<_>>());
        let text = &skipped[0].explanation;
        for needle in [
            "c1 polled offsets 0..8 of partition 0 at 0.100 s, when offset 4 held another record, p2#0",
            "c1 resumed partition 0 at offset 8 (the group's committed offset) at 5.000 s in generation 2, past it: \
             before 2.3 (KIP-320) a consumer does not validate its position against the leader's log, so nothing \
             noticed that the log had diverged below the committed offset",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in {text}");
        }
        // A reset past it is not the unvalidated committed offset: no remark either.
        let mut run = diverged_below_the_commit("2.2");
        run.resume(5000, 8, Some(12), Some("latest")).poll(5100, 8, 10).process(5200, 8..10);
        let text = &run.findings(consumer_skipped)[0].explanation;
        assert!(text.ends_with("as offset 12 was out of range) at 5.000 s in generation 2, past it."), "{text}");
        // From 2.3 the same story has no such remark (the consumer would have validated).
        let mut run = diverged_below_the_commit("2.3");
        run.resume(5000, 8, Some(8), None).poll(5100, 8, 10).process(5200, 8..10);
        let text = &run.findings(consumer_skipped)[0].explanation;
        assert!(text.ends_with("in generation 2, past it."), "{text}");
    }

    #[test]
    fn a_replay_after_a_seek_back_names_the_detected_truncation() {
        let mut run = Run::new(10, &[]);
        run.history.meta.kafka_version = "2.3".to_string();
        run.poll(100, 0, 8).process(150, 0..8).commit(200, 8);
        run.at(
            3000,
            NodeName::Consumer(1),
            EventKind::TruncationDetected {
                consumer: 1,
                partition: 0,
                position: 8,
                end_offset: Some(5),
                action: "sought back to offset 5 (epoch 0), the first offset known to diverge".into(),
            },
        );
        run.poll(3100, 5, 10).process(3200, 5..10);
        let dups = run.findings(consumer_duplicated);
        assert_eq!(dups.iter().map(|f| f.message.unwrap()).collect::<Vec<_>>(), (5..8).map(m).collect::<Vec<_>>());
        let needle = "c1 found at 3.000 s that partition 0's log had diverged below its position 8 (the leader's \
                      log for that epoch ends at offset 5) and sought back to offset 5 (epoch 0), the first offset \
                      known to diverge";
        assert!(dups[0].explanation.contains(needle), "{}", dups[0].explanation);
        // A detection whose divergence point is above the record did not move back over it.
        let mut run = Run::new(10, &[]);
        run.poll(100, 0, 8).process(150, 0..8).commit(200, 8);
        run.at(
            3000,
            NodeName::Consumer(1),
            EventKind::TruncationDetected {
                consumer: 1,
                partition: 0,
                position: 8,
                end_offset: Some(7),
                action: "sought back to offset 7 (epoch 0), the first offset known to diverge".into(),
            },
        );
        run.resume(3050, 5, Some(5), None).poll(3100, 5, 10).process(3200, 5..10);
        let dups = run.findings(consumer_duplicated);
        assert!(!dups[0].explanation.contains("found at 3.000 s"), "{}", dups[0].explanation);
    }
}
