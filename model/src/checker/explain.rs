//! Explanations: the sentences every finding is told in, built only from the history.
//!
//! A finding's explanation is a headline (what the client and the app concluded), then the
//! steps that decided the message's fate in the order they happened, then a closing sentence
//! (usually what the final log holds). Each anomaly module decides which steps matter; the
//! wording of each kind of step lives here, once, so that a crash or an election reads the
//! same in every finding. Steps are keyed by the event they tell, so the same crash reached
//! from two replicas is told once, and the story comes out in history order.

use super::index::{first_after, last_before, Index, MsgFacts, Placement, Span};
use crate::fault::CrashMode;
use crate::history::{ElectionKind, EventKind, MsgId, NodeName, TruncateReason};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// How many items a list in a sentence shows before summing up the rest.
pub(super) const LIST_MAX: usize = 3;

/// The steps of one explanation, in history order.
#[derive(Default)]
pub(super) struct Story {
    steps: BTreeMap<(u32, u32), String>,
    notes: u32,
    /// The remarks told so far, so that each is told once.
    remarks: BTreeSet<String>,
}

impl Story {
    /// Tells what event `at` did; an event already told is not told again.
    pub(super) fn tell(&mut self, at: u32, sentence: String) {
        self.steps.entry((at, 0)).or_insert(sentence);
    }

    /// Adds a remark placed at event `at` that is not that event's own sentence.
    pub(super) fn note(&mut self, at: u32, sentence: String) {
        self.notes += 1;
        self.steps.insert((at, self.notes), sentence);
    }

    /// Adds a remark placed at event `at`, unless the same remark was made already (a rule that
    /// explains the loss on every replica).
    pub(super) fn remark(&mut self, at: u32, sentence: String) {
        if self.remarks.insert(sentence.clone()) {
            self.note(at, sentence);
        }
    }

    pub(super) fn has_told(&self, at: u32) -> bool {
        self.steps.contains_key(&(at, 0))
    }

    /// Headline, steps, closing, as sentences.
    pub(super) fn render(self, headline: &str, closing: &str) -> String {
        let mut text = String::new();
        for sentence in std::iter::once(headline)
            .chain(self.steps.values().map(String::as_str))
            .chain(std::iter::once(closing))
            .filter(|s| !s.is_empty())
        {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(sentence);
            if !sentence.ends_with('.') {
                text.push('.');
            }
        }
        text
    }
}

// ---- small pieces ----

/// `offset 41` or `offsets 41..57` (end exclusive, like a log end offset).
pub(super) fn offsets(span: Span) -> String {
    if span.end <= span.start.saturating_add(1) {
        format!("offset {}", span.start)
    } else {
        format!("offsets {}..{}", span.start, span.end)
    }
}

/// `41` or `41..57`: a range without the word.
fn bare(span: Span) -> String {
    if span.end <= span.start.saturating_add(1) {
        span.start.to_string()
    } else {
        format!("{}..{}", span.start, span.end)
    }
}

/// `offsets 41..57`, or `offsets 41..45 and 50..57` for several ranges.
fn ranges_text(ranges: &[Span]) -> String {
    match ranges {
        [one] => offsets(*one),
        _ => format!("offsets {}", bare_list(ranges)),
    }
}

/// `41..45 and 50..57`; past [`LIST_MAX`] ranges, `41..45, 50..57, 60 and 4 more ranges up to 99`.
fn bare_list(ranges: &[Span]) -> String {
    let mut items: Vec<String> = ranges.iter().take(LIST_MAX).map(|&r| bare(r)).collect();
    if let (true, Some(last)) = (ranges.len() > LIST_MAX, ranges.last()) {
        items.push(format!("{} more ranges up to {}", ranges.len() - LIST_MAX, last.end));
    }
    and_list(&items)
}

/// `[2, 3]`.
pub(super) fn broker_list(ids: &[u32]) -> String {
    let names: Vec<String> = ids.iter().map(u32::to_string).collect();
    format!("[{}]", names.join(", "))
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The settings among `keys` that the run recorded, as `key=value`, in the order asked.
pub(super) fn settings(ix: &Index, keys: &[&str]) -> Vec<String> {
    keys.iter().filter_map(|k| ix.setting(k).map(|v| format!("{k}={v}"))).collect()
}

/// `(a, b, c)` of the non-empty parts, or nothing when there are none.
pub(super) fn parens(parts: &[String]) -> String {
    let parts: Vec<&str> = parts.iter().map(String::as_str).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn broker(id: u32) -> NodeName {
    NodeName::Broker(id)
}

fn mode_word(mode: CrashMode) -> &'static str {
    match mode {
        CrashMode::Process => "process",
        CrashMode::Power => "power",
    }
}

// ---- the producer side ----

/// The headline part that says where the client put the message: partition and offset.
pub(super) fn acked_offset(ix: &Index, event: u32, pos: u32) -> Option<u64> {
    match &ix.event(event).kind {
        EventKind::Acked { base_offset: Some(base), .. } => Some(base.saturating_add(u64::from(pos))),
        _ => None,
    }
}

/// The error a `Failed` event gave.
pub(super) fn failure_error<'h>(ix: &Index<'h>, event: u32) -> &'h str {
    match &ix.event(event).kind {
        EventKind::Failed { error, .. } => error,
        _ => "an unknown error",
    }
}

/// "The client retried batch 7: attempt 1 got REQUEST_TIMED_OUT at 1.000 s; ..."; keyed at
/// the first retry.
pub(super) fn tell_retries(ix: &Index, facts: &MsgFacts, story: &mut Story) {
    let Some(batch) = ix.batch_of(facts) else {
        return;
    };
    let retries = ix.retries(batch);
    let Some(&first) = retries.first() else {
        return;
    };
    story.tell(first, retries_sentence(ix, batch.1, retries));
}

/// The retries of one batch, summed up after [`LIST_MAX`].
pub(super) fn retries_sentence(ix: &Index, batch: u64, retries: &[u32]) -> String {
    let told: Vec<String> = retries.iter().take(LIST_MAX).map(|&r| retry(ix, r)).collect();
    let mut text = format!("The client retried batch {batch}: {}", told.join("; "));
    if let (true, Some(&last)) = (retries.len() > LIST_MAX, retries.last()) {
        let _ = write!(text, "; and {} more, the last: {}", retries.len() - LIST_MAX, retry(ix, last));
    }
    text
}

fn retry(ix: &Index, event: u32) -> String {
    match &ix.event(event).kind {
        EventKind::ProduceRetry { attempt, error, .. } => {
            format!("attempt {attempt} got {error} at {}", ix.time(event))
        }
        _ => String::new(),
    }
}

/// Why a message the client carried never reached a replica.
pub(super) fn never_reached(ix: &Index, facts: &MsgFacts) -> String {
    match facts.request.map(|r| (r.event, &ix.event(r.event).kind)) {
        Some((event, EventKind::ProduceRequest { broker, batch, attempt, .. })) => format!(
            "It never reached a broker: the client's last request for it (batch {batch}, attempt \
            {attempt}) went to b{broker} at {} and no replica appended it",
            ix.time(event)
        ),
        _ => "It never reached a broker: the client never sent a request for it".to_string(),
    }
}

// ---- replicas ----

/// "b1 appended it at offset 41 in leader epoch 1 at 1.203 s" (a follower "copied" it).
pub(super) fn placement(ix: &Index, subject: &str, p: &Placement) -> String {
    let verb = if p.as_leader { "appended" } else { "copied" };
    format!(
        "b{} {verb} {subject} at offset {} in leader epoch {} at {}",
        p.broker,
        p.offset,
        p.leader_epoch,
        ix.time(p.event)
    )
}

/// Tells how event `event` (a truncation, a page-cache loss or a wipe) took the record of
/// `placed` away from its replica. A page-cache loss is told at the power cut that caused it.
pub(super) fn tell_removal(ix: &Index, story: &mut Story, event: u32, placed: &Placement) {
    let (broker_id, partition) = (placed.broker, placed.partition);
    let e = ix.event(event);
    let when = ix.time(event);
    let (at, sentence) = match &e.kind {
        EventKind::Truncate { to_offset, reason, .. } => {
            let span = ix.span(event).unwrap_or(Span { start: *to_offset, end: *to_offset });
            let why = match reason {
                TruncateReason::LeaderEpoch { leader, leader_epoch } => {
                    format!("to match leader epoch {leader_epoch} of b{leader}")
                }
                TruncateReason::HighWatermark => {
                    let by_epoch = crate::version::KafkaVersion::parse(&ix.history.meta.kafka_version)
                        .is_some_and(|v| v.truncates_by_leader_epoch());
                    let rule = if by_epoch {
                        // 0.11-2.7: the leader answered UNDEFINED_EPOCH_OFFSET for its epoch.
                        "its leader could not say where its leader epoch ends"
                    } else {
                        "before KIP-101"
                    };
                    format!("to its own high watermark {to_offset} ({rule}{})", parens_inline(&settings_of_version(ix)))
                }
                TruncateReason::Recovery => {
                    return story.tell(event, recovery_sentence(ix, event, broker_id, *to_offset, placed));
                }
            };
            (event, format!("b{broker_id} truncated {} at {when} {why}", offsets(span)))
        }
        EventKind::PageCacheLost { durable_offset, .. } => {
            let mut ranges = ix.ranges(event);
            if ranges.is_empty() {
                ranges.push(Span { start: *durable_offset, end: *durable_offset });
            }
            let power_cut = power_cut_before(ix, broker_id, event, placed.event);
            let lost = match power_cut {
                Some(c) => format!("b{broker_id} lost power at {} and its page cache", ix.time(c)),
                None => format!("b{broker_id} lost its page cache at {when}"),
            };
            let (mut flushed, upto) = match last_before(ix.flushes(broker_id, partition), event) {
                Some(f) => {
                    // What the flush covered and is still in the log (a truncation since may
                    // have cut below it).
                    let upto = match ix.event(f).kind {
                        EventKind::Flush { durable_offset: upto, .. } => upto.min(*durable_offset),
                        _ => *durable_offset,
                    };
                    (format!("its last flush, at {}, made offsets below {upto} durable", ix.time(f)), upto)
                }
                None if *durable_offset == 0 => ("no flush was recorded".to_string(), 0),
                None => {
                    (format!("no flush was recorded; offsets below {durable_offset} were on disk"), *durable_offset)
                }
            };
            // A power cut in the middle of a writeback: what it had written since the last flush.
            let mut under_way = Vec::new();
            if *durable_offset > upto {
                under_way.push(format!("offsets {upto}..{durable_offset}"));
            }
            if ranges.len() > 1 {
                under_way.push("the records between these ranges".to_string());
            }
            if !under_way.is_empty() {
                let _ = write!(flushed, "; the OS writeback under way had written {}", and_list(&under_way));
            }
            let policy = settings(ix, &["log.flush.interval.messages", "log.flush.interval.ms", "os.dirty.expire.ms"]);
            let at = power_cut.unwrap_or(event);
            if let Some(remark) = flusher_remark(ix) {
                story.remark(at, remark);
            }
            (
                at,
                format!(
                    "{lost} with {} of partition {partition}, not yet flushed ({flushed}{})",
                    ranges_text(&ranges),
                    policy.iter().map(|s| format!("; {s}")).collect::<String>()
                ),
            )
        }
        EventKind::Wiped { .. } => {
            let what = ix
                .wipe_span(broker_id, event, partition)
                .map_or_else(String::new, |s| format!(", losing {} of partition {partition}", offsets(s)));
            (event, format!("b{broker_id}'s disk was wiped at {when}{what}"))
        }
        _ => return,
    };
    story.tell(at, sentence);
}

/// The power cut behind a loss at event `event` on `broker`: its last crash before, after it
/// wrote the record (event `written`), if that crash was a power loss.
fn power_cut_before(ix: &Index, broker_id: u32, event: u32, written: u32) -> Option<u32> {
    last_before(ix.crashes(broker(broker_id)), event)
        .filter(|&c| c > written && matches!(ix.event(c).kind, EventKind::Crash { mode: CrashMode::Power, .. }))
}

/// "b1 lost power at 12.300 s; the OS had written offsets 40..60 back but not 35..40; log
/// recovery at 20.000 s truncated at offset 35, the first batch that failed its checksum, and
/// discarded 40..60".
fn recovery_sentence(ix: &Index, event: u32, broker_id: u32, to_offset: u64, placed: &Placement) -> String {
    let ranges = ix.ranges(event);
    let first_written = ranges.first().map_or(to_offset, |r| r.start);
    let discarded = bare_list(&ranges);
    let power = match power_cut_before(ix, broker_id, event, placed.event) {
        Some(c) => format!("b{broker_id} lost power at {}", ix.time(c)),
        None => format!("b{broker_id} had lost power"),
    };
    format!(
        "{power}; the OS had written {} back but not {}; log recovery at {} truncated at offset {to_offset}, \
        the first batch that failed its checksum, and discarded {discarded}",
        ranges_text(&ranges),
        bare(Span { start: to_offset, end: first_written }),
        ix.time(event)
    )
}

/// Why `log.flush.interval.ms` did not save the page cache: Kafka's log flusher checks it only
/// when it runs (`LogManager.flushDirtyLogs`, scheduled 30 s after start, then every
/// `log.flush.scheduler.interval.ms`).
fn flusher_remark(ix: &Index) -> Option<String> {
    let flush_ms = ix.setting("log.flush.interval.ms")?;
    let then = match ix.setting("log.flush.scheduler.interval.ms")? {
        "9223372036854775807" => "then every log.flush.scheduler.interval.ms=9223372036854775807 ms (Kafka's \
            default), which never comes: it runs once"
            .to_string(),
        period => format!("then every log.flush.scheduler.interval.ms={period} ms"),
    };
    Some(format!(
        "Kafka checks log.flush.interval.ms={flush_ms} only when its log flusher runs: 30 s after the broker \
        starts (log.initial.task.delay.ms), {then}"
    ))
}

fn settings_of_version(ix: &Index) -> Vec<String> {
    let version = &ix.history.meta.kafka_version;
    if version.is_empty() {
        Vec::new()
    } else {
        vec![format!("kafka.version {version}")]
    }
}

fn parens_inline(parts: &[String]) -> String {
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

/// Tells the first crash of `node` after event `after` and before `before` (if any), with the
/// restart that followed it.
pub(super) fn tell_crash_between(ix: &Index, story: &mut Story, node: NodeName, after: u32, before: Option<u32>) {
    let Some(crash) = first_after(ix.crashes(node), after) else {
        return;
    };
    if before.is_some_and(|b| crash > b) {
        return;
    }
    story.tell(crash, crash_sentence(ix, node, crash));
}

/// "b1 crashed (process) at 1.210 s and restarted at 15.000 s".
pub(super) fn crash_sentence(ix: &Index, node: NodeName, crash: u32) -> String {
    let mode = match ix.event(crash).kind {
        EventKind::Crash { mode, .. } => mode_word(mode),
        _ => "process",
    };
    let mut text = format!("{node} crashed ({mode}) at {}", ix.time(crash));
    if let Some(restart) = first_after(ix.restarts(node), crash) {
        let _ = write!(text, " and restarted at {}", ix.time(restart));
    }
    text
}

/// Tells election `event`; with `facts`, also whether the new leader held the message then.
pub(super) fn tell_election(ix: &Index, story: &mut Story, event: u32, facts: Option<&MsgFacts>) {
    if story.has_told(event) {
        return;
    }
    let EventKind::Election { partition, leader, leader_epoch, kind, isr } = &ix.event(event).kind else {
        return;
    };
    let when = ix.time(event);
    let isr = format!("ISR {}", broker_list(isr));
    let sentence = match leader {
        None => format!(
            "Partition {partition} went offline at {when}: the controller found no replica to \
            elect in epoch {leader_epoch} ({isr})"
        ),
        Some(leader) => {
            let how = match kind {
                ElectionKind::Clean => vec!["clean".to_string()],
                ElectionKind::Offline => vec!["offline".to_string()],
                ElectionKind::Elr => vec!["from the eligible leader replicas, KIP-966".to_string()],
                ElectionKind::LastKnownLeader => {
                    vec!["the last known leader, KIP-966's fallback when ISR and ELR are empty".to_string()]
                }
                ElectionKind::Unclean => {
                    let mut how = vec!["unclean".to_string()];
                    how.extend(settings(ix, &["unclean.leader.election.enable"]));
                    how
                }
            };
            let lacked = match facts {
                Some(f) if !ix.holds(f, *leader, event) => {
                    // The last ISR member leads whatever it lost, unless eligible leader replicas
                    // (KIP-966) let a replica that left the ISR earlier lead instead.
                    let last_member = *kind == ElectionKind::Clean
                        && isr_members(&ix.event(event).kind) == 1
                        && ix.setting("eligible.leader.replicas.enable") == Some("false");
                    let why = if last_member {
                        " (it was the last ISR member, and without eligible leader replicas, KIP-966, no \
                        other replica may lead)"
                    } else {
                        ""
                    };
                    format!("; b{leader} did not hold it{why}")
                }
                _ => String::new(),
            };
            format!(
                "The controller elected b{leader} leader of partition {partition} in epoch \
                {leader_epoch} at {when} ({}, {isr}){lacked}",
                how.join(", ")
            )
        }
    };
    story.tell(event, sentence);
}

fn isr_members(kind: &EventKind) -> usize {
    match kind {
        EventKind::Election { isr, .. } => isr.len(),
        _ => 0,
    }
}

/// The closing sentence for a message missing from the final log: what that log is ("leader
/// b2, epoch 2, 57 records"), and which replicas still hold the message outside it.
pub(super) fn not_in_final_log(ix: &Index, msg: MsgId, facts: &MsgFacts) -> String {
    let Some(partition) = facts.partition else {
        return "No event names the partition it was meant for".to_string();
    };
    let Some(fp) = ix.final_partition(partition) else {
        return format!("Partition {partition} is missing from the final state, so it has no final log");
    };
    let leader = fp.leader.map_or_else(|| "no leader".to_string(), |l| format!("leader b{l}"));
    let mut text = format!(
        "The final log of partition {partition} ({leader}, epoch {}, {} records) does not contain \
        it",
        fp.leader_epoch,
        fp.log.len()
    );
    // A replica may still hold it, above the leader's high watermark or at an offset where
    // the final log has something else.
    let mut still: Vec<String> = Vec::new();
    let mut told = std::collections::BTreeSet::new();
    for p in ix.placements(facts).filter(|p| p.partition == partition) {
        let Some(replica) = fp.replicas.iter().find(|r| r.broker == p.broker) else {
            continue;
        };
        let at = usize::try_from(p.offset).ok();
        let holds = at.and_then(|o| replica.log.get(o)) == Some(&msg);
        if !holds || !told.insert(p.broker) {
            continue;
        }
        let b = p.broker;
        still.push(match fp.at_offset(p.offset) {
            Some(other) => format!("b{b} still holds it at offset {}, where the final log has {other}", p.offset),
            None => format!("b{b} still holds it at offset {}, beyond the final log's end", p.offset),
        });
    }
    if !still.is_empty() {
        let _ = write!(text, "; {}", and_list(&still));
    }
    text
}
