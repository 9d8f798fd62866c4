//! The producer's semantics through the whole cluster: outcomes the client reports versus what
//! the log ends up holding, resends, and what a sync app does after a crash.

use losslab_model::history::{EventKind, MsgId, NodeName};
use losslab_model::{check, FindingClass, Scenario};
use std::collections::BTreeSet;

fn run(json: &str, seed: u64) -> losslab_sim::RunOutput {
    let scenario = Scenario::parse("inline.json", "inline", json).unwrap_or_else(|e| panic!("{e}"));
    losslab_sim::run(&scenario, seed)
}

fn final_log(run: &losslab_sim::RunOutput) -> BTreeSet<MsgId> {
    run.final_state.partitions.iter().flat_map(|p| p.log.iter().copied()).collect()
}

/// The leader has the records but cannot commit them while its followers are cut off; the
/// client gives them up after delivery.timeout.ms; the cut heals and they are committed after
/// all. A failure the client reports is an unknown outcome for the log, not a loss.
#[test]
fn a_record_reported_failed_can_still_be_committed() {
    let json = r#"{"topic": {"min.insync.replicas": 2},
        "producer": {"request.timeout.ms": 2000, "delivery.timeout.ms": 3000},
        "workload": {"messages": 1000},
        "faults": [{"after_acked": 300, "action": "cut", "between": [["leader"], ["followers"]]},
                   {"delay_ms": 6000, "action": "heal"}]}"#;
    let run = run(json, 1);
    let stored = final_log(&run);
    let failed: Vec<MsgId> = run
        .history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Failed { msgs, .. } => Some(msgs.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(!failed.is_empty(), "some records were given up");
    let committed_anyway = failed.iter().filter(|m| stored.contains(m)).count();
    assert!(committed_anyway > 0, "some records reported failed are in the final log");
    let verdict = check(&run.history, &run.final_state);
    assert_eq!(verdict.counts["lost_failed"] as usize, failed.len() - committed_anyway);
    assert_eq!(verdict.counts["lost_acked"], 0);
}

#[test]
fn the_app_resends_a_failed_record_as_a_new_record() {
    let json = r#"{"producer": {"app.on.failure": "resend", "request.timeout.ms": 2000, "delivery.timeout.ms": 3000},
        "workload": {"messages": 1000},
        "faults": [{"after_acked": 300, "action": "crash", "node": "leader"},
                   {"delay_ms": 15000, "action": "restart", "node": "brokers"}]}"#;
    let run = run(json, 1);
    let resends: Vec<(MsgId, MsgId)> = run
        .history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Send { msg, resend_of: Some(of), .. } => Some((*msg, *of)),
            _ => None,
        })
        .collect();
    assert!(!resends.is_empty(), "failed records were resent");
    assert!(resends.iter().all(|(msg, of)| msg.seq >= 1000 && of != msg), "a resend is a new record");
    let stored = final_log(&run);
    assert!(resends.iter().any(|(msg, _)| stored.contains(msg)), "resends reach the log");
}

#[test]
fn a_sync_app_sends_again_what_it_never_saw_confirmed() {
    let json = r#"{"producer": {"app.send": "sync", "linger.ms": 50}, "workload": {"messages": 200},
        "faults": [{"after_sent": 60, "action": "crash", "node": "p1"},
                   {"delay_ms": 500, "action": "restart", "node": "p1"}]}"#;
    for seed in 1..4 {
        let run = run(json, seed);
        let verdict = check(&run.history, &run.final_state);
        assert_eq!(verdict.counts[FindingClass::LostUnnoticed.as_str()], 0, "seed {seed}");
        let stored = final_log(&run);
        assert_eq!(stored.len(), 200, "seed {seed}: every record is in the log");
    }
}

#[test]
fn acks_0_gets_no_offset() {
    let run = run(r#"{"producer": {"acks": "0"}, "workload": {"messages": 100}}"#, 1);
    let acked: Vec<Option<u64>> = run
        .history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Acked { base_offset, .. } => Some(*base_offset),
            _ => None,
        })
        .collect();
    assert!(!acked.is_empty() && acked.iter().all(Option::is_none));
}

// ---- issue 15: the producer as Kafka's really behaves ----

fn events(run: &losslab_sim::RunOutput) -> impl Iterator<Item = (u64, &EventKind)> {
    run.history.events.iter().map(|e| (e.t_us, &e.kind))
}

fn verdict(run: &losslab_sim::RunOutput) -> losslab_model::Verdict {
    check(&run.history, &run.final_state)
}

/// `KafkaProducer.close()` versus a crash, with up to a second of records in the accumulator
/// (`linger.ms=1000`, a batch.size they do not fill): the crash loses them without telling the app; close() delivers them first
/// and the process exits afterwards (`Stop`, then `Stopped`). Restarted, the app goes on.
#[test]
fn close_delivers_the_accumulator_and_a_crash_loses_it() {
    let json = |action: &str| {
        format!(
            r#"{{"producer": {{"linger.ms": 1000, "batch.size": 131072}}, "workload": {{"messages": 2000, "rate_per_sec": 500}},
            "faults": [{{"after_sent": 700, "action": "{action}", "node": "p1"}},
                       {{"delay_ms": 1000, "action": "restart", "node": "p1"}}]}}"#
        )
    };
    let crashed = run(&json("crash"), 1);
    let lost: usize = events(&crashed)
        .filter_map(|(_, k)| match k {
            EventKind::ProducerLost { msgs } => Some(msgs.len()),
            _ => None,
        })
        .sum();
    assert!((100..=500).contains(&lost), "up to a second of records (linger.ms) was in the accumulator: {lost}");
    assert_eq!(verdict(&crashed).counts["lost_unnoticed"] as usize, lost);

    let stopped = run(&json("stop"), 1);
    let at = |pick: &dyn Fn(&EventKind) -> bool| events(&stopped).find(|(_, k)| pick(k)).map(|(t, _)| t);
    let stop = at(&|k| matches!(k, EventKind::Stop { node: NodeName::Producer(1) })).expect("stopped");
    let exited = at(&|k| matches!(k, EventKind::Stopped { node: NodeName::Producer(1) })).expect("exited");
    let sent_before: BTreeSet<MsgId> = events(&stopped)
        .filter(|&(t, _)| t <= stop)
        .filter_map(|(_, k)| match k {
            EventKind::Send { msg, .. } => Some(*msg),
            _ => None,
        })
        .collect();
    let acked_before_exit: BTreeSet<MsgId> = events(&stopped)
        .filter(|&(t, _)| t <= exited)
        .filter_map(|(_, k)| match k {
            EventKind::Acked { msgs, .. } => Some(msgs.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(sent_before.len() >= 700);
    assert!(sent_before.is_subset(&acked_before_exit), "close() delivered everything before the exit");
    assert!(exited - stop < 200_000, "close() does not wait for linger.ms: {} us", exited - stop);
    // The stop reaches the app within a network latency (at most 5 ms); no send() after that.
    assert!(!events(&stopped).any(|(t, k)| t > stop + 5_000 && t < exited && matches!(k, EventKind::Send { .. })));
    let sent_before_exit = events(&stopped).filter(|&(t, k)| t < exited && matches!(k, EventKind::Send { .. })).count();
    assert_eq!(sent_before_exit, acked_before_exit.len(), "every record sent before the exit was delivered");
    assert!(!events(&stopped).any(|(_, k)| matches!(k, EventKind::ProducerLost { .. })));
    let v = verdict(&stopped);
    assert_eq!((v.counts["lost_unnoticed"], v.counts["lost_failed"], v.counts["lost_acked"]), (0, 0, 0));
    assert_eq!(final_log(&stopped).len(), 2000, "restarted, the app sent the rest");
}

/// The records `send()` failed for lack of `buffer.memory` (batch 0: they never joined a batch).
fn buffer_failures(run: &losslab_sim::RunOutput) -> Vec<(u64, MsgId, String, bool)> {
    events(run)
        .filter_map(|(t, k)| match k {
            EventKind::Failed { batch: 0, msgs, error, app_notified, .. } if error.contains("Failed to allocate") => {
                Some((t, msgs[0], error.clone(), *app_notified))
            }
            _ => None,
        })
        .collect()
}

const BUFFER_OUTAGE: &str = r#""workload": {"messages": 6000, "rate_per_sec": 200, "message.bytes": 1000},
    "faults": [{"after_acked": 500, "action": "isolate", "node": "p1"}, {"delay_ms": DELAY, "action": "heal"}]"#;

fn buffer_json(version: &str, producer: &str, delay_ms: u64) -> String {
    let outage = BUFFER_OUTAGE.replace("DELAY", &delay_ms.to_string());
    format!(r#"{{"kafka.version": "{version}", "producer": {{"buffer.memory": 1048576 {producer}}}, {outage}}}"#)
}

/// `buffer.memory` exhausted with `max.block.ms=0`: `send()` does not wait, and the record fails
/// with BufferExhaustedException through its callback and future, not by throwing; a
/// fire-and-forget app never hears of it (`lost_unnoticed`). 1 MiB holds 64 batches of
/// `batch.size` (16 records of 1000 bytes): about five seconds of the outage.
#[test]
fn a_full_buffer_fails_records_through_the_callback_not_send() {
    let r = run(&buffer_json("4.1", r#", "max.block.ms": 0, "app.send": "fire-and-forget""#, 10_000), 1);
    let failures = buffer_failures(&r);
    assert!(failures.len() > 500, "{}", failures.len());
    let (t, msg, error, notified) = &failures[0];
    assert_eq!(
        error,
        "BufferExhaustedException: Failed to allocate 16384 bytes within the configured max blocking time 0 ms."
    );
    assert!(!notified);
    let sent_at = events(&r).find_map(|(t, k)| matches!(k, EventKind::Send { msg: m, .. } if m == msg).then_some(t));
    assert_eq!(sent_at, Some(*t), "no blocking at all");
    // The first records fail too: before the first metadata answer, `send()` cannot even learn
    // the topic's partitions (`waitOnMetadata`, "Topic not present in metadata after 0 ms.").
    let metadata_failures = events(&r)
        .filter(|(_, k)| matches!(k, EventKind::Failed { batch: 0, error, .. } if error.ends_with("Topic not present in metadata after 0 ms.")))
        .count();
    assert!(metadata_failures > 0);
    let v = verdict(&r);
    assert_eq!(v.counts["lost_unnoticed"] as usize, failures.len() + metadata_failures);
    assert_eq!(v.counts["lost_acked"], 0);
    // Before 2.6 (KAFKA-3720) the same failure is a plain TimeoutException.
    let old = run(&buffer_json("2.5", r#", "max.block.ms": 0, "app.send": "fire-and-forget""#, 10_000), 1);
    assert_eq!(
        buffer_failures(&old)[0].2,
        "TimeoutException: Failed to allocate memory within the configured max blocking time 0 ms."
    );
}

/// With the default `max.block.ms` (60 s) `send()` blocks the app, which sends nothing else
/// meanwhile; a record still blocked after 60 s fails to its callback (`lost_failed`), and
/// nothing is lost unnoticed.
#[test]
fn a_blocked_send_fails_after_max_block_ms_and_the_callback_tells_the_app() {
    let r = run(&buffer_json("4.1", "", 70_000), 1);
    let failures = buffer_failures(&r);
    assert!(!failures.is_empty());
    let (failed_at, msg, error, notified) = &failures[0];
    assert!(error.ends_with("within the configured max blocking time 60000 ms."), "{error}");
    assert!(notified);
    let sent_at = events(&r)
        .find_map(|(t, k)| matches!(k, EventKind::Send { msg: m, .. } if m == msg).then_some(t))
        .expect("sent");
    assert_eq!(failed_at - sent_at, 60_000_000, "exactly max.block.ms");
    assert!(
        !events(&r).any(|(t, k)| t > sent_at && t < *failed_at && matches!(k, EventKind::Send { .. })),
        "the app is blocked: no other send() meanwhile"
    );
    let v = verdict(&r);
    assert_eq!(v.counts["lost_unnoticed"], 0);
    assert_eq!(v.counts["lost_failed"] as usize, failures.len());
}

/// C9: before 3.0 the producer defaults to acks=1 without idempotence (KIP-679 from 3.0; "3.0"
/// stands for 3.0.1, KAFKA-13598). The same held-back answer (a one-way cut longer than
/// `request.timeout.ms`) makes a retry store records twice with 2.8's defaults, not with 3.0's.
#[test]
fn producer_defaults_follow_the_release_line() {
    let json = |v: &str| {
        format!(
            r#"{{"kafka.version": "{v}", "producer": {{"request.timeout.ms": 3000}}, "workload": {{"messages": 2000}},
            "faults": [{{"after_acked": 500, "action": "cut", "between": [["leader"], ["p1"]], "oneway": true}},
                       {{"delay_ms": 4000, "action": "heal"}}]}}"#
        )
    };
    for (v, acks, idempotence, duplicates) in [("2.8", "1", "false", true), ("3.0", "all", "true", false)] {
        let r = run(&json(v), 1);
        let s = &r.history.meta.settings;
        assert_eq!((s["acks"].as_str(), s["enable.idempotence"].as_str()), (acks, idempotence), "{v}");
        assert_eq!(verdict(&r).counts["duplicated"] > 0, duplicates, "{v}");
    }
}

/// C5, KIP-91 (`Sender.getExpiredInflightBatches`): a batch in flight whose answer is held back
/// fails at exactly `delivery.timeout.ms` after its creation, with its request still out, and its
/// late answer does not tell the app twice. Its records linger for `linger.ms` (1 s) before it
/// goes out, so the delivery deadline (creation + 6 s) comes with the request timeout (sending +
/// 5 s), and the expiry, checked first, decides. Before 2.1 nothing in flight expires: with
/// 2.0's defaults (no retries) the batch fails when its request times out.
#[test]
fn an_in_flight_batch_expires_at_delivery_timeout() {
    let json = |v: &str, producer: &str| {
        format!(
            r#"{{"kafka.version": "{v}", "producer": {{"linger.ms": 1000, "request.timeout.ms": 5000 {producer}}},
            "workload": {{"messages": 1000, "rate_per_sec": 100}},
            "faults": [{{"after_acked": 100, "action": "cut", "between": [["leader"], ["p1"]], "oneway": true}},
                       {{"delay_ms": 8000, "action": "heal"}}]}}"#
        )
    };
    let r = run(&json("4.1", r#", "delivery.timeout.ms": 6000"#), 1);
    let (failed_at, batch, msgs) = events(&r)
        .find_map(|(t, k)| match k {
            EventKind::Failed { batch, msgs, error, .. } if error.starts_with("DELIVERY_TIMEOUT") => {
                Some((t, *batch, msgs.clone()))
            }
            _ => None,
        })
        .expect("a batch expired");
    let created = events(&r)
        .find_map(|(t, k)| matches!(k, EventKind::Send { msg, .. } if *msg == msgs[0]).then_some(t))
        .expect("sent");
    assert_eq!(failed_at - created, 6_000_000, "exactly delivery.timeout.ms after its creation");
    let requests: Vec<u64> = events(&r)
        .filter_map(|(t, k)| matches!(k, EventKind::ProduceRequest { batch: b, .. } if *b == batch).then_some(t))
        .collect();
    assert_eq!(requests, [created + 1_000_000], "sent once, after linger.ms, and in flight when it expired");
    assert!(!events(&r).any(|(_, k)| matches!(k, EventKind::ProduceRetry { batch: b, .. } if *b == batch)));
    assert!(!events(&r).any(|(_, k)| matches!(k, EventKind::Acked { batch: b, .. } if *b == batch)));

    let old = run(&json("2.0", ""), 1);
    let first_failure = events(&old).find_map(|(_, k)| match k {
        EventKind::Failed { error, .. } => Some(error.clone()),
        _ => None,
    });
    assert_eq!(first_failure.as_deref(), Some("no answer within request.timeout.ms"));
}

/// An unclean election leaves a leader that has the producer's state but lost its acknowledged
/// records. The next batch gets OUT_OF_ORDER_SEQUENCE_NUMBER once.
fn lost_records_json(version: &str) -> String {
    format!(
        r#"{{"kafka.version": "{version}", "topic": {{"unclean.leader.election.enable": true}},
        "producer": {{"enable.idempotence": true}}, "workload": {{"messages": 8000, "rate_per_sec": 200}},
        "faults": [{{"after_acked": 300, "action": "isolate", "node": "b3"}},
                   {{"delay_ms": 12000, "action": "crash", "node": ["b1", "b2"]}},
                   {{"delay_ms": 1000, "action": "heal"}},
                   {{"delay_ms": 15000, "action": "restart", "node": "brokers"}}]}}"#
    )
}

fn out_of_order(run: &losslab_sim::RunOutput) -> Vec<u64> {
    events(run)
        .filter_map(|(_, k)| match k {
            EventKind::ProduceRetry { batch, error, .. } | EventKind::Failed { batch, error, .. }
                if error == "OUT_OF_ORDER_SEQUENCE_NUMBER" =>
            {
                Some(*batch)
            }
            _ => None,
        })
        .collect()
}

/// C2, KIP-360 (2.5+, `TransactionManager.canRetry`): OUT_OF_ORDER for the batch right after the
/// last acknowledged one means the broker lost records: the producer bumps its epoch, renumbers
/// that partition from 0 and retries at once, once; nothing fails. 1.0-2.4 fail the batch and
/// take a new producer id instead.
#[test]
fn out_of_order_for_the_next_batch_bumps_the_epoch() {
    let r = run(&lost_records_json("4.1"), 1);
    let bumps: Vec<_> = events(&r)
        .filter_map(|(_, k)| match k {
            EventKind::ProducerIdChange(c) => Some((c.epoch, c.partitions.clone(), c.reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(bumps, [(1, vec![0], "a sequence gap (KIP-360 epoch bump)".to_string())]);
    // The batch after the last acknowledged one, and at most the four others in flight behind it
    // (not next: retried without a bump), each once: no retry storm until delivery.timeout.ms.
    let batches = out_of_order(&r);
    assert!((1..=5).contains(&batches.len()), "{batches:?}");
    assert_eq!(batches.iter().collect::<BTreeSet<_>>().len(), batches.len(), "each once: {batches:?}");
    for b in &batches {
        assert!(events(&r).any(|(_, k)| matches!(k, EventKind::Acked { batch, .. } if batch == b)));
    }
    assert!(!events(&r).any(|(_, k)| matches!(k, EventKind::Failed { .. })));

    let old = run(&lost_records_json("2.4"), 1);
    let reasons: Vec<String> = events(&old)
        .filter_map(|(_, k)| match k {
            EventKind::ProducerIdChange(c) => Some(c.reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons[..2], ["OUT_OF_ORDER_SEQUENCE_NUMBER: a gap in the log", "a new producer id (InitProducerId)"]);
    assert!(events(&old)
        .any(|(_, k)| matches!(k, EventKind::Failed { error, .. } if error == "OUT_OF_ORDER_SEQUENCE_NUMBER")));
    assert!(verdict(&old).counts["lost_failed"] > 0);
}

/// C6: a client sends nothing over a connection the broker's machine refuses (its process died):
/// with acks=0, nothing goes to the dead leader after its crash; the records wait for the new
/// leader instead of counting as sent into a refused connection.
#[test]
fn acks_0_sends_nothing_to_a_dead_leader() {
    let json = r#"{"producer": {"acks": "0"}, "workload": {"messages": 3000},
        "faults": [{"after_acked": 500, "action": "crash", "node": "leader"},
                   {"delay_ms": 15000, "action": "restart", "node": "brokers"}]}"#;
    let r = run(json, 1);
    let crash = events(&r).find_map(|(t, k)| matches!(k, EventKind::Crash { .. }).then_some(t)).expect("crashed");
    assert!(!events(&r).any(|(t, k)| t > crash && matches!(k, EventKind::ProduceRequest { broker: 1, .. })));
    assert!(verdict(&r).counts["lost_acked"] < 50, "only what b1 took and no follower had copied");
}

/// C6 (`KafkaApis.handleProduceRequest`): an error on an acks=0 request closes the connection,
/// so the client learns that the leader moved; with no answers to read it would not otherwise
/// notice. b1 stops, b2 leads, b1 comes back and a preferred election gives the partition back
/// to b1 while b2 lives on: the client stops sending to b2 within a round trip of b2's demotion.
#[test]
fn acks_0_error_closes_the_connection() {
    let json = r#"{"producer": {"acks": "0"}, "workload": {"messages": 30000},
        "faults": [{"after_acked": 1000, "action": "stop", "node": "leader"},
                   {"delay_ms": 2000, "action": "restart", "node": "b1"},
                   {"when_isr_size": 3, "action": "elect", "partition": 0}]}"#;
    let r = run(json, 1);
    // b2 follows b1 again in the preferred election's epoch (2).
    let demoted = events(&r)
        .find_map(|(t, k)| {
            matches!(k, EventKind::BecameFollower { broker: 2, partition: 0, leader: Some(1), leader_epoch } if *leader_epoch >= 2)
                .then_some(t)
        })
        .expect("b2 follows again");
    let to_b2_after: Vec<u64> = events(&r)
        .filter_map(|(t, k)| (t > demoted && matches!(k, EventKind::ProduceRequest { broker: 2, .. })).then_some(t))
        .collect();
    assert!(!to_b2_after.is_empty(), "the client did send to the old leader first");
    assert!(to_b2_after.iter().all(|&t| t < demoted + 30_000), "{demoted}: {to_b2_after:?}");
    assert!(events(&r).any(|(t, k)| t > demoted && matches!(k, EventKind::ProduceRequest { broker: 1, .. })));
    assert!(verdict(&r).counts["lost_acked"] < 100);
}

/// The app sends at `rate_per_sec` even above 1,000 per second, where the run loop wakes at
/// most once a millisecond: the schedule is fixed-rate, so late sends catch up.
#[test]
fn the_app_keeps_rates_above_one_per_millisecond() {
    for (rate, messages) in [(20_000u64, 10_000u64), (1_500, 1_500), (250, 500)] {
        let json = format!(r#"{{"workload": {{"messages": {messages}, "rate_per_sec": {rate}}}}}"#);
        let run = run(&json, 1);
        let sends: Vec<u64> =
            run.history.events.iter().filter(|e| matches!(e.kind, EventKind::Send { .. })).map(|e| e.t_us).collect();
        assert_eq!(sends.len() as u64, messages);
        let span_us = sends[sends.len() - 1] - sends[0];
        let expected_us = (messages - 1) * (1_000_000 / rate);
        assert!(
            span_us >= expected_us && span_us <= expected_us + expected_us / 50 + 2_000,
            "{rate}/s: {messages} sends took {span_us} us, expected about {expected_us}"
        );
    }
}

/// After a `send()` that blocked (here for metadata while every broker is down), the app's
/// rate starts again from the moment `send()` returned: it does not burst to catch up the
/// sends its fixed-rate schedule missed while it waited.
#[test]
fn after_a_blocked_send_the_rate_starts_again() {
    let json = r#"{"workload": {"messages": 600, "rate_per_sec": 100},
        "faults": [{"at_ms": 0, "action": "crash", "node": "brokers"},
                   {"delay_ms": 5000, "action": "restart", "node": "brokers"}]}"#;
    let run = run(json, 1);
    let sends: Vec<u64> =
        run.history.events.iter().filter(|e| matches!(e.kind, EventKind::Send { .. })).map(|e| e.t_us).collect();
    assert!(sends[1] > 5_000_000, "the first send() blocked until the brokers were back: {:?}", &sends[..3]);
    let densest = sends.windows(3).map(|w| w[2] - w[0]).min().unwrap();
    assert!(densest >= 19_000, "three sends within {densest} us: the app burst after waiting");
}
