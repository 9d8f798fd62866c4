//! The data behind every summary chart, before any drawing: the results with a known
//! configuration ([`Known`], with Kafka's defaults for what a result does not name), runs and
//! findings added up over the results a chart puts together ([`Tally`]), and the order in which
//! setting values are shown. Kept apart from the renderers so that each chart reads the same
//! tallies and none of them imports another.

use crate::charts::input::ConfigResult;
use crate::charts::style;
use crate::settings::key_settings;
use losslab_model::Scenario;
use std::collections::BTreeMap;

/// The class every durability chart counts: acknowledged messages that were lost anyway.
pub(super) const LOST_ACKED: &str = "lost_acked";

/// The results with a known configuration, with Kafka's defaults for what they do not name.
pub(super) struct Known<'a> {
    pub(super) results: Vec<&'a ConfigResult>,
    unknown: usize,
    defaults: BTreeMap<String, String>,
}

impl<'a> Known<'a> {
    pub(super) fn of(all: &'a [ConfigResult]) -> Known<'a> {
        let defaults = Scenario::parse("defaults", "defaults", "{}")
            .map(|s| {
                key_settings(&s)
                    .into_iter()
                    .flat_map(|g| g.settings.into_iter().map(|(k, v)| (k.to_string(), v)))
                    .collect()
            })
            .unwrap_or_default();
        let results: Vec<&ConfigResult> = all.iter().filter(|r| r.config.is_some() && r.runs > 0).collect();
        Known { unknown: all.len() - results.len(), results, defaults }
    }

    pub(super) fn get(&self, r: &ConfigResult, key: &str) -> String {
        r.config
            .as_ref()
            .and_then(|c| c.get(key))
            .or_else(|| self.defaults.get(key))
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    /// What the subtitle says about the input.
    pub(super) fn note(&self, used: u64, runs: u64) -> String {
        let mut note = format!(
            "{} configuration{}, {} runs",
            style::thousands(used),
            if used == 1 { "" } else { "s" },
            style::thousands(runs)
        );
        if self.unknown > 0 {
            note.push_str(&format!(" ({} result(s) without a known configuration or runs left out)", self.unknown));
        }
        note
    }
}

/// Runs and findings added up over the results that share a chart's settings.
#[derive(Clone, Debug, Default)]
pub(super) struct Tally {
    pub(super) configs: u64,
    pub(super) runs: u64,
    pub(super) runs_with: BTreeMap<&'static str, u64>,
    messages: BTreeMap<&'static str, u64>,
    /// Whether every result had message counts.
    pub(super) all_messages: bool,
    /// explore judged some loss here a broken guarantee / every loss here permitted.
    pub(super) broken: bool,
    pub(super) permitted: bool,
}

impl Tally {
    pub(super) fn add(&mut self, r: &ConfigResult, classes: &[&'static str]) {
        if self.configs == 0 {
            self.all_messages = true;
            self.permitted = true;
        }
        self.configs += 1;
        self.runs += r.runs;
        for &class in classes {
            *self.runs_with.entry(class).or_default() += r.runs_with(class);
            match &r.messages {
                Some(m) => *self.messages.entry(class).or_default() += m.get(class).copied().unwrap_or(0),
                None => self.all_messages = false,
            }
            if let Some(f) = r.found.get(class).filter(|f| f.runs > 0) {
                self.broken |= f.permitted == Some(false);
                self.permitted &= f.permitted == Some(true);
            }
        }
    }

    pub(super) fn share(&self, class: &str) -> f64 {
        match self.runs {
            0 => 0.0,
            runs => self.runs_with.get(class).copied().unwrap_or(0) as f64 / runs as f64,
        }
    }

    pub(super) fn per_run(&self, class: &str) -> f64 {
        match self.runs {
            0 => 0.0,
            runs => self.messages.get(class).copied().unwrap_or(0) as f64 / runs as f64,
        }
    }
}

pub(super) fn acks_order(acks: &str) -> (u8, String) {
    match acks {
        "0" => (0, String::new()),
        "1" => (1, String::new()),
        "all" => (2, String::new()),
        other => (3, other.to_string()),
    }
}

/// Sorts numerically where the values are numbers, then as text.
pub(super) fn numeric_order(v: &str) -> (u8, u64, String) {
    match v.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, v.to_string()),
    }
}

/// The flush policy in words, with a sort key: fsync every N messages and/or every M ms, or
/// never (Kafka's default: the OS writes back on its own). `log.flush.interval.ms` only counts
/// when the log flusher runs: with Kafka's default `log.flush.scheduler.interval.ms` it never
/// checks it, and the label says so rather than promise an fsync.
pub(super) fn flush_policy(known: &Known, r: &ConfigResult) -> ((u64, u64), String) {
    let messages = known.get(r, "log.flush.interval.messages").parse::<u64>().unwrap_or(u64::MAX);
    let scheduler_ms = known.get(r, "log.flush.scheduler.interval.ms").parse::<u64>().unwrap_or(u64::MAX);
    let ms = known.get(r, "log.flush.interval.ms").parse::<u64>().ok();
    let never = messages >= i64::MAX as u64;
    let label = match (never, ms) {
        (true, None) => "no fsync (OS writeback only)".to_string(),
        (true, Some(ms)) if scheduler_ms >= i64::MAX as u64 => format!("{ms} ms, flusher never runs"),
        (true, Some(ms)) if scheduler_ms > ms => format!("fsync every {ms} ms, checked every {scheduler_ms} ms"),
        (true, Some(ms)) => format!("fsync every {ms} ms"),
        (false, ms) => {
            let every = match messages {
                1 => "fsync every message".to_string(),
                n => format!("fsync every {} messages", style::thousands(n)),
            };
            match ms {
                Some(ms) if scheduler_ms >= i64::MAX as u64 => format!("{every} ({ms} ms never checked)"),
                Some(ms) => format!("{every} or {ms} ms"),
                None => every,
            }
        }
    };
    ((messages, ms.unwrap_or(u64::MAX)), label)
}
