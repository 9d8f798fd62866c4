//! The disk and the flush policy through the whole cluster, on small inline scenarios: when
//! Kafka's log flusher runs (30 s after the broker starts, then every
//! `log.flush.scheduler.interval.ms`, by default never), the size trigger on leaders and
//! followers, and a power cut in the middle of an out-of-order OS writeback, which log recovery
//! must clean up and the checker must explain.

use losslab_model::history::{Event, EventKind, TruncateReason};
use losslab_model::{check, FindingClass, Scenario};

const S: u64 = 1_000_000;

fn run(json: &str, seed: u64) -> losslab_sim::RunOutput {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    losslab_sim::run(&scenario, seed)
}

/// The times of the `Flush` events by `by` on `broker`, partition 0.
fn flushes(events: &[Event], broker: u32, by: &str) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Flush { broker: b, partition: 0, durable_offset, by: how } if *b == broker && how == by => {
                Some((e.t_us, *durable_offset))
            }
            _ => None,
        })
        .collect()
}

/// The times of the log flusher's flushes, each checked against its due time (the broker
/// handles a due timer when it next wakes, within a few milliseconds) and returned as the due
/// time in whole seconds.
fn flusher_runs_s(events: &[Event]) -> Vec<u64> {
    let times = flushes(events, 1, "log.flush.interval.ms").into_iter().map(|f| f.0);
    times
        .map(|t| {
            let due_s = t / S;
            assert!(t - due_s * S < 10_000, "the flusher ran at {t} us, not on a whole second");
            due_s
        })
        .collect()
}

/// One broker, no consumers, 100 records a second for 40 s, with `broker` settings.
fn forty_seconds(broker: &str) -> String {
    format!(
        r#"{{"brokers": 1, "broker": {{{broker}}},
            "workload": {{"consumers": 0, "messages": 4000, "rate_per_sec": 100}}}}"#
    )
}

#[test]
fn the_flusher_runs_once_30_s_after_the_broker_starts_by_default() {
    let out = run(&forty_seconds(r#""log.flush.interval.ms": 1000"#), 1);
    let flushed = flushes(&out.history.events, 1, "log.flush.interval.ms");
    assert_eq!(flushed.len(), 1, "one run, then never again: {flushed:?}");
    assert_eq!(flushed[0].0, 30 * S);
    assert!(flushed[0].1 > 2900, "it flushed what 30 s appended: {flushed:?}");
    // log.flush.interval.ms alone never flushes anything before the flusher's first run.
    let kafka_flushes = out
        .history
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Flush { by, .. } if by != "os writeback") && e.t_us < 30 * S);
    assert_eq!(kafka_flushes.count(), 0);
}

#[test]
fn the_flusher_starts_again_30_s_after_a_restart() {
    let json = r#"{"brokers": 1, "broker": {"log.flush.interval.ms": 1000},
        "workload": {"consumers": 0, "messages": 5000, "rate_per_sec": 100},
        "faults": [{"at_ms": 10000, "action": "crash", "node": "b1"},
                   {"at_ms": 12000, "action": "restart", "node": "b1"}]}"#;
    let out = run(json, 1);
    assert_eq!(flusher_runs_s(&out.history.events), vec![42], "the crashed process's flusher died with it");
}

#[test]
fn a_scheduler_interval_runs_the_flusher_every_interval() {
    let out = run(&forty_seconds(r#""log.flush.interval.ms": 1000, "log.flush.scheduler.interval.ms": 2000"#), 1);
    assert_eq!(flusher_runs_s(&out.history.events), vec![30, 32, 34, 36, 38, 40]);
}

#[test]
fn without_log_flush_interval_ms_the_flusher_waits_the_scheduler_interval() {
    let out = run(&forty_seconds(r#""log.flush.scheduler.interval.ms": 4000"#), 1);
    assert_eq!(flusher_runs_s(&out.history.events), vec![30, 34, 38]);
}

#[test]
fn the_size_trigger_flushes_leaders_and_followers_every_n_messages() {
    let json = r#"{"broker": {"log.flush.interval.messages": 50},
        "workload": {"consumers": 0, "messages": 1000}}"#;
    let out = run(json, 1);
    for broker in 1..=3 {
        let flushed = flushes(&out.history.events, broker, "log.flush.interval.messages");
        assert!(flushed.len() >= 10, "b{broker} flushed {} times", flushed.len());
        let mut recovery_point = 0;
        for &(_, at) in &flushed {
            assert!(at >= recovery_point + 50, "b{broker} flushed at {at} after {recovery_point}");
            recovery_point = at;
        }
    }
}

/// One broker writing 10 kB records for 40 s: at 35 s the OS writes back the 35 MB it holds,
/// 27 requests of 1.25 MB taking 13 ms each, and at 35.1 s the power goes.
fn power_cut_during_writeback(order: &str) -> String {
    format!(
        r#"{{"brokers": 1, "broker": {{"os.writeback.order": "{order}"}},
            "workload": {{"consumers": 0, "messages": 4000, "rate_per_sec": 100, "message.bytes": 10000}},
            "faults": [{{"at_ms": 35100, "action": "crash", "node": "b1", "mode": "power"}},
                       {{"delay_ms": 2000, "action": "restart", "node": "b1"}}]}}"#
    )
}

#[test]
fn a_power_cut_during_an_out_of_order_writeback_is_explained_as_recovery_discarding_records() {
    let mut explained = 0;
    for seed in 1..=3 {
        let out = run(&power_cut_during_writeback("any"), seed);
        let events = &out.history.events;
        let cut_end = events.iter().find_map(|e| match &e.kind {
            EventKind::PageCacheLost { durable_offset, .. } => Some(*durable_offset),
            _ => None,
        });
        let recovery = events.iter().find_map(|e| match &e.kind {
            EventKind::Truncate { to_offset, removed, reason: TruncateReason::Recovery, .. } => {
                Some((e.t_us, *to_offset, removed.clone()))
            }
            _ => None,
        });
        let Some((at, to_offset, discarded)) = recovery else { continue };
        assert_eq!(at, 37_100_000, "at the restart");
        assert_eq!(Some(to_offset), cut_end, "recovery cuts where the durable prefix ends");
        assert!(discarded.iter().all(|&(o, _)| o > to_offset), "it discards records past the hole");
        let verdict = check(&out.history, &out.final_state);
        let lost: Vec<_> = verdict.findings.iter().filter(|f| f.class == FindingClass::LostAcked).collect();
        let ids: Vec<_> = discarded.iter().map(|&(_, m)| Some(m)).collect();
        for finding in lost.iter().filter(|f| ids.contains(&f.message)) {
            let e = &finding.explanation;
            assert!(e.contains("b1 lost power at 35.100 s; the OS had written offsets"), "{e}");
            assert!(e.contains(&format!("log recovery at 37.100 s truncated at offset {to_offset}")), "{e}");
            assert!(e.contains("the first batch that failed its checksum, and discarded"), "{e}");
            explained += 1;
        }
    }
    assert!(explained > 0, "a seed of 1..=3 discards acknowledged records past a hole");
}

#[test]
fn an_in_order_writeback_never_leaves_records_for_recovery_to_discard() {
    for seed in 1..=3 {
        let out = run(&power_cut_during_writeback("offset"), seed);
        let lost_at_cut = out.history.events.iter().any(|e| matches!(e.kind, EventKind::PageCacheLost { .. }));
        assert!(lost_at_cut, "the power cut lost the page cache");
        let recovered = out
            .history
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Truncate { reason: TruncateReason::Recovery, .. }));
        assert!(!recovered, "seed {seed}: what is on disk is a prefix");
    }
}
