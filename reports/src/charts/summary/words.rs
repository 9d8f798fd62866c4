//! The English words of the summary charts that are new with issue 18, in one table so that a
//! translation (`--lang zh`) replaces them in one place: each chart's file name, title and
//! one-sentence caption (what to read from it), and why a chart was not drawn.

/// One chart's file name, title and caption.
pub struct ChartWords {
    pub file_name: &'static str,
    pub title: &'static str,
    pub caption: &'static str,
}

pub const HEATMAP: ChartWords = ChartWords {
    file_name: "loss-heatmap.svg",
    title: "Which settings lose acknowledged messages",
    caption: "The darker a cell, the more often the producer was told a message was written and lost it anyway \
              with those acks and min.insync.replicas.",
};

pub const LATENCY: ChartWords = ChartWords {
    file_name: "durability-latency.svg",
    title: "Durability against produce latency",
    caption: "Within one panel (one fault schedule), further right waited longer for acknowledgements and \
              higher up lost acknowledged messages more often.",
};

pub const FLUSH: ChartWords = ChartWords {
    file_name: "flush-power-loss.svg",
    title: "Flush interval against messages lost to power loss",
    caption: "Lower is safer: how many acknowledged messages a power loss took under each broker flush policy.",
};

pub const COMMIT: ChartWords = ChartWords {
    file_name: "consumer-commit.svg",
    title: "Consumer commit strategy against skipped and duplicated records",
    caption: "Dark bars count records never processed and hatched bars records processed twice, for each way \
              the application commits its offsets.",
};

/// Every chart's words, in the order the charts are shown.
pub const ALL: [&ChartWords; 4] = [&HEATMAP, &LATENCY, &FLUSH, &COMMIT];

/// Why a chart was not drawn: nothing to compare.
pub const ONE_CATEGORY: &str = "not drawn: it would show one";
pub const NO_CATEGORY: &str = "not drawn: no";

/// What each chart compares, for the reasons: (one, many).
pub const HEATMAP_UNIT: (&str, &str) = ("cell (acks × min.insync.replicas)", "cells");
pub const LATENCY_UNIT: (&str, &str) = ("configuration under any one fault schedule", "configurations with a latency");
pub const FLUSH_UNIT: (&str, &str) = ("flush policy", "configurations with a power loss");
pub const COMMIT_UNIT: (&str, &str) = ("way of committing", "configurations with consumers");

/// `not drawn: it would show one flush policy (fsync every message)`.
pub fn not_drawn(unit: (&str, &str), only: Option<&str>) -> String {
    match only {
        Some(value) => format!("{ONE_CATEGORY} {} ({value}); nothing to compare", unit.0),
        None => format!("{NO_CATEGORY} {} in the input", unit.1),
    }
}

/// The latency chart's panels.
pub const SCHEDULE_UNKNOWN: &str = "fault schedule not recorded in the input";
pub const SCHEDULE_RANDOM: &str = "explore's random schedules of";
pub const SCHEDULE_NONE: &str = "no faults";
pub const SCHEDULE_LEFT_OUT: &str = "schedule(s) with a single configuration left out";
pub const PANEL_DIFFERS: &str = "differs:";
pub const PANEL_DIFFERS_NOTHING: &str = "no key setting (the workload may)";
