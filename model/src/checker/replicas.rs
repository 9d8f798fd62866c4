//! Replica agreement at the end of the run: two replicas of a partition must hold the same
//! record at every offset below both their high watermarks (`divergence`). Kafka's
//! truncation protocol exists to guarantee exactly this; a divergence means a replica kept a
//! record from a term that lost, and a consumer may read different data depending on which
//! replica leads. One finding per partition and replica pair, at the first differing offset.

use super::explain::{self, Story};
use super::index::Index;
use crate::finding::{Finding, FindingClass};
use crate::history::{FinalPartition, FinalReplica, MsgId};

/// Replicas holding different records below both their high watermarks.
pub(super) fn divergence(ix: &Index) -> Vec<Finding> {
    let mut findings = Vec::new();
    for fp in ix.partitions.values() {
        let mut replicas: Vec<&FinalReplica> = fp.replicas.iter().collect();
        replicas.sort_by_key(|r| r.broker);
        for (i, a) in replicas.iter().enumerate() {
            for b in &replicas[i + 1..] {
                findings.extend(diverge(ix, fp, a, b));
            }
        }
    }
    findings
}

/// The first offset where `a` and `b` differ below both high watermarks, explained.
fn diverge(ix: &Index, fp: &FinalPartition, a: &FinalReplica, b: &FinalReplica) -> Option<Finding> {
    let limit =
        [a.high_watermark, b.high_watermark, a.log.len() as u64, b.log.len() as u64].into_iter().min().unwrap_or(0)
            as usize;
    let differs = |o: &usize| a.log[*o] != b.log[*o];
    let first = (0..limit).find(differs)?;
    let count = (first..limit).filter(differs).count();
    let (ra, rb) = (a.log[first], b.log[first]);
    let partition = fp.partition;
    let head = format!(
        "b{} and b{} hold different records at offset {first} of partition {partition}, below both \
        their high watermarks ({} and {}): b{} has {ra}, b{} has {rb}",
        a.broker, b.broker, a.high_watermark, b.high_watermark, a.broker, b.broker
    );
    let mut story = Story::default();
    for (replica, msg) in [(a, ra), (b, rb)] {
        tell_origin(ix, &mut story, partition, replica.broker, first as u64, msg);
    }
    let closing = if count > 1 {
        format!("{count} offsets differ between them below both high watermarks")
    } else {
        String::new()
    };
    Some(Finding {
        class: FindingClass::Divergence,
        message: None,
        partition: Some(partition),
        explanation: story.render(&head, &closing),
    })
}

/// How `msg` came to be at `offset` on `broker`: its append there, and the election that
/// started the leader epoch it was written in.
fn tell_origin(ix: &Index, story: &mut Story, partition: u32, broker: u32, offset: u64, msg: MsgId) {
    let Some(facts) = ix.msgs.get(msg) else {
        return;
    };
    let here =
        ix.placements(facts).filter(|p| p.broker == broker && p.partition == partition && p.offset == offset).last();
    let Some(p) = here else {
        story.note(u32::MAX, format!("No append of {msg} at offset {offset} by b{broker} was recorded"));
        return;
    };
    story.tell(p.event, explain::placement(ix, &msg.to_string(), &p));
    if let Some(e) = ix.election_of_epoch(partition, p.leader_epoch) {
        explain::tell_election(ix, story, e, None);
    }
}
