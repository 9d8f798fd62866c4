//! The English words of the timeline's newer parts (consumer lanes, breaks, one-way cuts,
//! hidden labels, the consumer findings in the subtitle), in one table so that a translation
//! (`--lang`) finds them in one place. Kafka's names (`enable.auto.commit`, offsets, epochs)
//! stay as they are in every language.

use crate::charts::style::thousands;
use losslab_model::NodeName;

/// A consumer lane's axis title.
pub(super) fn consumer_desc(consumer: u32) -> String {
    format!("c{consumer}: offset")
}

/// The label of a rebalance's tick: the group's new generation.
pub(super) fn generation(generation: u32) -> String {
    format!("gen {generation}")
}

pub(super) const LEFT_GROUP: &str = "left the group";

/// The words under a compressed quiet stretch (two parts, joined by a space on one line).
pub(super) fn quiet(duration_us: u64) -> [String; 2] {
    let s = duration_us as f64 / 1e6;
    let d = if s >= 10.0 { format!("≈ {s:.0} s") } else { format!("≈ {s:.1} s") };
    [d, "quiet".to_string()]
}

/// The label of a one-way cut's band, on a node of either side.
pub(super) fn oneway(sends: bool, peers: &[NodeName]) -> String {
    let mut names: Vec<String> = peers.iter().take(3).map(|n| n.to_string()).collect();
    if peers.len() > 3 {
        names.push("…".to_string());
    }
    match sends {
        true => format!("→ cut: can't reach {}", names.join(",")),
        false => format!("← cut: hears nothing from {}", names.join(",")),
    }
}

/// Labels a lane or panel had no room for.
pub(super) fn hidden(n: usize) -> String {
    format!("+{n} labels hidden")
}

/// The subtitle's opening.
pub(super) fn subtitle_lead(consumers: bool) -> &'static str {
    match consumers {
        true => "One lane per broker and per consumer over simulated time",
        false => "One lane per broker over simulated time",
    }
}

/// What the checker found about the consumers of this partition, for the subtitle.
pub(super) fn consumer_findings(skipped: usize, duplicated: usize, unmarked: usize) -> Vec<String> {
    let mut parts = Vec::new();
    if skipped > 0 {
        parts.push(format!("{} records skipped by consumers", thousands(skipped as u64)));
    }
    if duplicated > 0 {
        parts.push(format!("{} records processed more than once", thousands(duplicated as u64)));
    }
    if unmarked > 0 {
        parts.push(format!("{} skipped ones not marked (no commit past them)", thousands(unmarked as u64)));
    }
    parts
}

/// The key's rows for consumer lanes, one-way cuts and breaks.
pub(super) const KEY_POSITION: &str = "consumer position: where its next fetch starts";
pub(super) const KEY_PROCESSED: &str = "processed: the highest offset its app processed";
pub(super) const KEY_COMMITTED: &str = "committed offset: the group's bookmark (its commits)";
pub(super) const KEY_SKIPPED: &str = "skipped: committed past, never processed";
pub(super) const KEY_DUPLICATED: &str = "processed again (duplicate)";
pub(super) const KEY_REBALANCE: &str = "rebalance: the group's new generation";
pub(super) const KEY_ONEWAY: &str = "one-way cut (half band): the arrow's way is cut";
