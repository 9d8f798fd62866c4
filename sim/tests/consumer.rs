//! The consumer group through the whole cluster, on small inline scenarios: consumers crash
//! mid-work under each commit strategy, go silent, poll too slowly, lose their coordinator or
//! their committed offsets, and each run must show the finding classes Kafka's rules predict
//! (and the group events that explain them).

use losslab_model::history::EventKind;
use losslab_model::{check, FindingClass, Scenario};
use losslab_sim::RunOutput;

fn runs(json: &str, seeds: std::ops::Range<u64>) -> Vec<RunOutput> {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    let seeds: Vec<u64> = seeds.collect();
    losslab_sim::run_seeds(&scenario, &seeds, 2)
}

/// Per run, the count of `class`.
fn counts(runs: &[RunOutput], class: FindingClass) -> Vec<u64> {
    runs.iter().map(|r| check(&r.history, &r.final_state).counts[class.as_str()]).collect()
}

/// Per run, how many events `f` matches.
fn events(runs: &[RunOutput], f: impl Fn(&EventKind) -> bool) -> Vec<usize> {
    runs.iter().map(|r| r.history.events.iter().filter(|e| f(&e.kind)).count()).collect()
}

fn some(v: &[u64]) -> bool {
    v.iter().any(|&n| n > 0)
}

fn none(v: &[u64]) -> bool {
    v.iter().all(|&n| n == 0)
}

/// A producer at 1000 records/s for 5 s, and c1 crashing (process) at `at_ms`, back a second
/// later.
fn crash_c1(consumer: &str, at_ms: u64) -> String {
    format!(
        r#"{{"consumer": {consumer}, "workload": {{"messages": 5000}},
        "faults": [{{"at_ms": {at_ms}, "action": "crash", "node": "c1"}},
                   {{"delay_ms": 1000, "action": "restart", "node": "c1"}}]}}"#
    )
}

#[test]
fn auto_commit_of_an_async_queue_skips_what_the_crash_took() {
    let json = crash_c1(r#"{"app.processing": "async", "app.workers": 2, "app.process.ms": 5}"#, 8000);
    let r = runs(&json, 1..3);
    assert!(counts(&r, FindingClass::ConsumerSkipped).iter().all(|&n| n > 1000), "the queue is lost");
    assert!(none(&counts(&r, FindingClass::Stuck)));
    // After the restart the group resumed from the committed offset, past the queued records.
    assert!(events(
        &r,
        |k| matches!(k, EventKind::Resumed(r) if r.consumer == 1 && r.reset.is_none() && r.offset.is_some_and(|o| o > 3000))
    )
    .iter()
    .all(|&n| n > 0));

    let fixed = crash_c1(
        r#"{"enable.auto.commit": false, "app.commit": "after-process", "app.processing": "async",
            "app.workers": 2, "app.process.ms": 5}"#,
        8000,
    );
    let r = runs(&fixed, 1..3);
    assert!(none(&counts(&r, FindingClass::ConsumerSkipped)), "only the processed prefix is committed");
    assert!(none(&counts(&r, FindingClass::Stuck)));
}

#[test]
fn committing_before_processing_skips_the_rest_of_an_interrupted_batch() {
    let json = crash_c1(r#"{"enable.auto.commit": false, "app.commit": "before-process", "app.process.ms": 2}"#, 6500);
    let r = runs(&json, 1..3);
    assert!(some(&counts(&r, FindingClass::ConsumerSkipped)));
    assert!(none(&counts(&r, FindingClass::ConsumerDuplicated)), "a committed batch is never replayed");
    assert!(none(&counts(&r, FindingClass::Stuck)));
}

#[test]
fn committing_after_processing_replays_an_interrupted_batch_and_never_skips() {
    let json = crash_c1(r#"{"enable.auto.commit": false, "app.commit": "after-process", "app.process.ms": 2}"#, 6500);
    let r = runs(&json, 1..3);
    assert!(some(&counts(&r, FindingClass::ConsumerDuplicated)));
    assert!(none(&counts(&r, FindingClass::ConsumerSkipped)));
    // Auto-commit with a sync app commits only what earlier polls returned, all processed.
    let auto = crash_c1(r#"{"app.process.ms": 2, "auto.commit.interval.ms": 1000}"#, 6500);
    let r = runs(&auto, 1..3);
    assert!(some(&counts(&r, FindingClass::ConsumerDuplicated)));
    assert!(none(&counts(&r, FindingClass::ConsumerSkipped)));
}

#[test]
fn a_rebalance_assigns_partition_ranges_in_member_order() {
    let json = r#"{"topic": {"partitions": 4}, "workload": {"consumers": 2, "messages": 1000}}"#;
    for run in runs(json, 1..3) {
        let assignments: Vec<&Vec<(u32, Vec<u32>)>> = run
            .history
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::GroupRebalanced { assignment, .. } => Some(assignment),
                _ => None,
            })
            .collect();
        assert_eq!(assignments, vec![&vec![(1, vec![0, 1]), (2, vec![2, 3])]], "seed {}", run.seed);
        assert!(check(&run.history, &run.final_state).findings.is_empty(), "seed {}", run.seed);
    }
}

#[test]
fn a_silent_consumer_is_removed_after_its_session_and_its_partitions_move() {
    let json = r#"{"topic": {"partitions": 2}, "consumer": {"session.timeout.ms": 6000},
        "workload": {"consumers": 2, "messages": 3000},
        "faults": [{"at_ms": 8000, "action": "pause", "node": "c1"},
                   {"delay_ms": 12000, "action": "resume", "node": "c1"}]}"#;
    let r = runs(json, 1..3);
    let removed = events(
        &r,
        |k| matches!(k, EventKind::MemberRemoved { consumer: 1, reason, .. } if reason.contains("session.timeout.ms")),
    );
    assert!(removed.iter().all(|&n| n > 0), "{removed:?}");
    let taken_over =
        events(&r, |k| matches!(k, EventKind::Assigned { consumer: 2, partitions, .. } if partitions == &[0, 1]));
    assert!(taken_over.iter().all(|&n| n > 0), "c2 takes over c1's partition");
    assert!(none(&counts(&r, FindingClass::ConsumerSkipped)));
    assert!(none(&counts(&r, FindingClass::Stuck)));
}

#[test]
fn a_sync_batch_slower_than_max_poll_interval_makes_the_member_leave() {
    // 300 records a partition at 10 ms each: the first batch takes 3 s, max.poll.interval.ms is
    // 2 s. The heartbeat thread leaves the group, the app's commit after the batch fails, the
    // partition goes to the other member, which starts over from the same committed offset:
    // Kafka's rebalance livelock.
    let slow = r#"{"topic": {"partitions": 2}, "consumer": {"max.poll.interval.ms": 2000, "app.process.ms": 10,
        "enable.auto.commit": false, "app.commit": "after-process"}, "workload": {"consumers": 2, "messages": 600}}"#;
    let r = runs(slow, 1..2);
    assert!(events(&r, |k| matches!(k, EventKind::LeftGroup { .. })).iter().all(|&n| n > 0));
    let commit_failed =
        events(&r, |k| matches!(k, EventKind::CommitFailed { error, .. } if error.contains("CommitFailedException")));
    assert!(commit_failed.iter().all(|&n| n > 0), "{commit_failed:?}");
    assert!(some(&counts(&r, FindingClass::ConsumerDuplicated)));
    assert!(some(&counts(&r, FindingClass::Stuck)), "the group never gets past the first batch");

    // The same processing on async workers: the app polls at once and stays in the group.
    let async_app =
        slow.replace(r#""app.process.ms": 10"#, r#""app.process.ms": 10, "app.processing": "async", "app.workers": 1"#);
    let r = runs(&async_app, 1..3);
    assert!(events(&r, |k| matches!(k, EventKind::LeftGroup { .. })).iter().all(|&n| n == 0));
    assert!(none(&counts(&r, FindingClass::Stuck)));
    assert!(none(&counts(&r, FindingClass::ConsumerSkipped)));
    assert!(none(&counts(&r, FindingClass::ConsumerDuplicated)));
}

#[test]
fn the_coordinator_moves_with_the_leader_of_the_offsets_partition() {
    // b3 leads __consumer_offsets; its crash moves the group to another broker, which loads it
    // from its own replica of the log.
    let json = r#"{"topic": {"partitions": 2}, "consumer": {"auto.commit.interval.ms": 1000},
        "workload": {"consumers": 2, "messages": 4000},
        "faults": [{"at_ms": 7000, "action": "crash", "node": "b3"},
                   {"delay_ms": 20000, "action": "restart", "node": "b3"}]}"#;
    let r = runs(json, 1..3);
    let moved = events(&r, |k| matches!(k, EventKind::GroupLoaded { broker, .. } if *broker != 3));
    assert!(moved.iter().all(|&n| n > 0), "{moved:?}");
    assert!(none(&counts(&r, FindingClass::ConsumerSkipped)));
    assert!(none(&counts(&r, FindingClass::Stuck)));
}

#[test]
fn unflushed_commits_die_with_the_power_of_every_offsets_replica() {
    // Five brokers: partition 0 lives on b1, b2, b3 and __consumer_offsets on b5, b1, b2. All
    // replicas of the offsets partition lose power; b3 keeps the records. Without fsync the
    // commits (and the group) were only in page caches: the group starts over from offset 0.
    let json = r#"{"brokers": 5, "consumer": {"enable.auto.commit": false, "app.commit": "after-process"},
        "workload": {"messages": 4000},
        "faults": [{"at_ms": 6000, "action": "crash", "node": ["b5", "b1", "b2"], "mode": "power"},
                   {"delay_ms": 2000, "action": "restart", "node": "brokers"}]}"#;
    let r = runs(json, 1..3);
    assert!(some(&counts(&r, FindingClass::ConsumerDuplicated)));
    assert!(none(&counts(&r, FindingClass::LostAcked)));
    // At the start, and again after the power loss: the coordinator finds only offset 0.
    let found_zero = events(&r, |k| matches!(k, EventKind::GroupLoaded { committed, .. } if committed == &[(0, 0)]));
    assert!(found_zero.iter().all(|&n| n >= 2), "{found_zero:?}");

    let fsync = json.replace(r#""brokers": 5,"#, r#""brokers": 5, "broker": {"log.flush.interval.messages": 1},"#);
    let r = runs(&fsync, 1..3);
    assert!(none(&counts(&r, FindingClass::ConsumerDuplicated)), "flushed commits and group survive");
    assert!(none(&counts(&r, FindingClass::Stuck)));
}

#[test]
fn a_missing_committed_offset_is_reset_as_auto_offset_reset_says() {
    // Every replica of __consumer_offsets (b5, b1, b2) is wiped: the group has no committed
    // offset any more, and the consumer, rejoining, resets.
    let json = r#"{"brokers": 5, "consumer": {"auto.offset.reset": "latest", "auto.commit.interval.ms": 1000},
        "workload": {"messages": 6000},
        "faults": [{"at_ms": 4000, "action": "crash", "node": ["b5", "b1", "b2"]},
                   {"action": "wipe", "node": ["b5", "b1", "b2"]},
                   {"delay_ms": 1000, "action": "restart", "node": "brokers"}]}"#;
    let r = runs(json, 1..3);
    assert!(some(&counts(&r, FindingClass::ConsumerSkipped)), "latest jumps over what was not processed");
    let reset = events(&r, |k| matches!(k, EventKind::Resumed(r) if r.reset.as_deref() == Some("latest")));
    assert!(reset.iter().all(|&n| n > 0));

    let earliest = json.replace(r#""latest""#, r#""earliest""#);
    let r = runs(&earliest, 1..3);
    assert!(none(&counts(&r, FindingClass::ConsumerSkipped)), "earliest starts over");
    assert!(some(&counts(&r, FindingClass::ConsumerDuplicated)));
}
