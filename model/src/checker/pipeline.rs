//! The pipeline's promises (`app.output`, issue 16): every input record in the final log has
//! exactly one output in the final log of `out`. `pipeline_lost`: none (the group's offsets
//! moved past the input while its output was lost, aborted or never written);
//! `pipeline_duplicated`: more than one (the input was processed again after a crash or a
//! rebalance, and the earlier output stayed). Kafka's exactly-once pipeline (KIP-98, KIP-447)
//! commits the outputs and the offsets in one transaction so that neither happens; the plain
//! pipeline commits its offsets after its outputs are acknowledged, which allows duplicates.
//!
//! Only outputs the final `out` log counts are counted: the sim puts a transactional output
//! there only with its COMMIT marker. Explanations walk the input's processings, each output and
//! its transaction, the commits of the group's offsets and the crashes and resumptions between.

use super::explain::{self, settings, Story, LIST_MAX};
use super::index::{last_before, Index, MsgFacts};
use super::txns::{ending, partition_name, txn_name, Txns};
use crate::finding::{Finding, FindingClass};
use crate::history::{EventKind, MsgId, NodeName, PIPELINE_PRODUCER_BASE};

/// Settings that decide how the pipeline commits.
const PIPELINE_SETTINGS: &[&str] = &["app.output", "enable.auto.commit", "isolation.level"];

pub(super) fn pipeline_lost(ix: &Index, tx: &Txns) -> Vec<Finding> {
    if !tx.pipeline {
        return Vec::new();
    }
    ix.msgs
        .iter()
        .filter(|(_, f)| f.produced && f.final_copies > 0)
        .filter(|(msg, _)| tx.out_copies.get(msg).is_none_or(Vec::is_empty))
        .map(|(msg, facts)| {
            let (partition, offset) = facts.final_at.unwrap_or((0, 0));
            let head = format!(
                "{msg} is in the final log of partition {partition} (offset {offset}), and no output for it is in the \
                 final log of out{}",
                explain::parens(&settings(ix, PIPELINE_SETTINGS))
            );
            let mut story = Story::default();
            tell_processing(ix, facts, &mut story);
            tell_outputs(ix, tx, msg, &mut story);
            if let Some(c) = ix.first_commit_past(partition, offset) {
                if let EventKind::Committed { consumer, offset: to, .. } = ix.event(c).kind {
                    story.tell(
                        c,
                        format!(
                            "The group's committed offset of partition {partition} moved past it to {to} at {} (c{consumer})",
                            ix.time(c)
                        ),
                    );
                }
            }
            let closing = match ix.processings(facts).next() {
                Some(_) => "The final log of out holds no output for it".to_string(),
                None => "The consumer group never processed it, and the final log of out holds no output for it"
                    .to_string(),
            };
            Finding {
                class: FindingClass::PipelineLost,
                message: Some(msg),
                partition: Some(partition),
                explanation: story.render(&head, &closing),
            }
        })
        .collect()
}

pub(super) fn pipeline_duplicated(ix: &Index, tx: &Txns) -> Vec<Finding> {
    if !tx.pipeline {
        return Vec::new();
    }
    tx.out_copies
        .iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(&msg, places)| {
            let shown: Vec<String> =
                places.iter().take(LIST_MAX).map(|&(p, o)| format!("offset {o} of {}", partition_name(p))).collect();
            let head = format!(
                "The final log of out holds {} outputs for {msg} ({}){}",
                places.len(),
                explain::and_list(&shown),
                explain::parens(&settings(ix, PIPELINE_SETTINGS))
            );
            let mut story = Story::default();
            let facts = ix.msgs.get(msg);
            if let Some(f) = facts {
                tell_processing(ix, f, &mut story);
            }
            tell_outputs(ix, tx, msg, &mut story);
            tell_replay(ix, tx, facts, &mut story);
            let closing = if ix.setting("app.output") == Some("plain") {
                "The plain pipeline commits its offsets only after its outputs are acknowledged, so an input \
                 processed again after a crash or a rebalance is written again: at least once"
            } else {
                ""
            };
            Finding {
                class: FindingClass::PipelineDuplicated,
                message: Some(msg),
                partition: facts.and_then(|f| f.partition),
                explanation: story.render(&head, closing),
            }
        })
        .collect()
}

/// "c1 processed it at 1.000 s (and 1 more time)".
fn tell_processing(ix: &Index, facts: &MsgFacts, story: &mut Story) {
    for e in ix.processings(facts).take(LIST_MAX) {
        if let EventKind::Processed { consumer, partition, offset, .. } = ix.event(e).kind {
            story.tell(
                e,
                format!("c{consumer} processed it at {} (offset {offset} of partition {partition})", ix.time(e)),
            );
        }
    }
}

/// Each output the app wrote for `msg`, its transaction's end, and what replicas of `out` did
/// with it.
fn tell_outputs(ix: &Index, tx: &Txns, msg: MsgId, story: &mut Story) {
    let outputs = tx.outputs.get(&msg).map_or(&[][..], Vec::as_slice);
    if outputs.is_empty() {
        if let Some(f) = ix.msgs.get(msg) {
            if let Some(e) = ix.processings(f).next() {
                story.note(e, "No output for it was handed to a producer".to_string());
            }
        }
        return;
    }
    for &e in outputs.iter().take(LIST_MAX) {
        let EventKind::Output { consumer, partition, txn, .. } = ix.event(e).kind else { continue };
        let mut sentence = format!(
            "c{consumer} handed an output for it to its producer for {} at {}",
            partition_name(partition),
            ix.time(e)
        );
        if let Some(t) = txn {
            let key = (PIPELINE_PRODUCER_BASE + consumer, t);
            let ended =
                tx.get(key).map_or_else(|| "which never ended".to_string(), |f| format!("where {}", ending(ix, f)));
            sentence.push_str(&format!(", in {} ({ended})", txn_name(key)));
        }
        story.tell(e, sentence);
        explain::tell_crash_between(ix, story, NodeName::Consumer(consumer), e, None);
    }
    for &e in tx.out_events.get(&msg).map_or(&[][..], Vec::as_slice).iter().take(LIST_MAX) {
        match &ix.event(e).kind {
            EventKind::Append { broker, partition, base_offset, as_leader: true, .. } => story.tell(
                e,
                format!(
                    "b{broker} appended an output for it at {} (from offset {base_offset}) at {}",
                    partition_name(*partition),
                    ix.time(e)
                ),
            ),
            EventKind::Truncate { broker, partition, to_offset, .. } => story.tell(
                e,
                format!(
                    "b{broker} truncated {} to offset {to_offset} at {}, removing an output for it",
                    partition_name(*partition),
                    ix.time(e)
                ),
            ),
            _ => {}
        }
    }
}

/// Why the input was processed again: the consumer that processed it first crashed (or left),
/// and the next one resumed the partition from a committed offset below it.
fn tell_replay(ix: &Index, tx: &Txns, facts: Option<&MsgFacts>, story: &mut Story) {
    let Some(f) = facts else { return };
    let processings: Vec<u32> = ix.processings(f).collect();
    let (Some(&first), Some(&second)) = (processings.first(), processings.get(1)) else { return };
    let EventKind::Processed { consumer, partition, offset, .. } = ix.event(first).kind else { return };
    explain::tell_crash_between(ix, story, NodeName::Consumer(consumer), first, Some(second));
    match ix.first_commit_past(partition, offset) {
        Some(c) if c < second => {}
        _ => story.note(
            second,
            format!("The group's committed offset of partition {partition} had not moved past offset {offset} when it was processed again"),
        ),
    }
    if let Some(r) = last_before(tx.resumed(partition), second).filter(|&r| r > first) {
        if let EventKind::Resumed(ref resumed) = ix.event(r).kind {
            let (consumer, Some(at)) = (resumed.consumer, resumed.offset) else { return };
            story.tell(r, format!("c{consumer} resumed partition {partition} at offset {at} at {}", ix.time(r)));
        }
    }
}
