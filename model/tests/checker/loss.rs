//! The three loss classes on hand-built runs: `lost_acked` (a record the app was told is safe
//! and is gone), `lost_unnoticed` (gone, and the app never looked) and `lost_failed` (gone,
//! and the app was told it failed), plus a loss at scale that must be judged in linear time.

use crate::story::{assert_mentions, leader_epoch, m, only, p1, Run, B1, B2, P1};
use losslab_model::history::{ElectionKind, EventKind, TruncateReason};
use losslab_model::{CrashMode, FindingClass};

// ---- lost_acked ----

#[test]
fn acks1_leader_crash_loses_what_only_the_leader_had() {
    let mut run = Run::new(&[("acks", "1"), ("min.insync.replicas", "1")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2, 3]);
    run.at(1000).send(&p1(0, 1)).request(1, 1, 1, &p1(0, 1)).append(1, 0, 1, &p1(0, 1), true);
    run.at(1010).append(2, 0, 1, &p1(0, 1), false).append(3, 0, 1, &p1(0, 1), false);
    run.at(1020).ack(1, Some(0), &p1(0, 1), true);
    // p1#2 is acknowledged by b1 alone; b1 crashes before the followers fetch it.
    run.at(1200).send(&p1(2, 2)).request(1, 2, 1, &p1(2, 2));
    run.at(1203).append(1, 2, 1, &p1(2, 2), true);
    run.at(1204).ack(2, Some(2), &p1(2, 2), true);
    run.at(1210).crash(B1, CrashMode::Process);
    run.at(10_200).elect(Some(2), 2, ElectionKind::Clean, &[2, 3]);
    run.at(15_000).restart(B1);
    run.at(15_012).truncate(1, 2, &p1(2, 2), leader_epoch(2, 2));
    run.final_log(2, 2, &p1(0, 1), &[1, 2, 3]);

    let verdict = run.check();
    let lost = only(&verdict, FindingClass::LostAcked);
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].message, Some(m(1, 2)));
    assert_eq!(lost[0].partition, Some(0));
    assert_mentions(
        &lost[0],
        &[
            "p1#2 was acknowledged at 1.204 s (acks=1, min.insync.replicas=1, partition 0, offset \
            2)",
            "b1 appended it at offset 2 in leader epoch 1 at 1.203 s; no other replica ever held \
            it",
            "b1 crashed (process) at 1.210 s and restarted at 15.000 s",
            "elected b2 leader of partition 0 in epoch 2 at 10.200 s (clean, ISR [2, 3]); b2 did \
            not hold it",
            "b1 truncated offset 2 at 15.012 s to match leader epoch 2 of b2",
            "The final log of partition 0 (leader b2, epoch 2, 2 records) does not contain it",
        ],
    );
    // The story is told in the order it happened.
    let e = &lost[0].explanation;
    assert!(e.find("crashed").unwrap() < e.find("elected").unwrap());
    assert!(e.find("elected").unwrap() < e.find("truncated").unwrap());
    assert_eq!((verdict.sent, verdict.acked, verdict.failed), (3, 3, 0));
}

#[test]
fn power_loss_takes_acknowledged_records_still_in_the_page_cache() {
    let mut run = Run::new(&[("acks", "all"), ("log.flush.interval.messages", "9223372036854775807")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 3)).request(1, 1, 1, &p1(0, 3)).append(1, 0, 1, &p1(0, 3), true);
    run.at(110).ack(1, Some(0), &p1(0, 3), true);
    run.at(500).flush(1, 2);
    run.at(2000).crash(B1, CrashMode::Power);
    run.at(5000).restart(B1).page_cache_lost(1, 2, &p1(2, 3));
    run.at(5100).elect(Some(1), 2, ElectionKind::Clean, &[1]);
    run.final_log(1, 2, &p1(0, 1), &[1]);

    let lost = only(&run.check(), FindingClass::LostAcked);
    let ids: Vec<_> = lost.iter().map(|f| f.message).collect();
    assert_eq!(ids, vec![Some(m(1, 2)), Some(m(1, 3))]);
    assert_mentions(
        &lost[1],
        &[
            "acks=all",
            "offset 3",
            "b1 lost power at 2.000 s and its page cache with offsets 2..4 of partition 0, not yet \
            flushed",
            "its last flush, at 0.500 s, made offsets below 2 durable",
            "log.flush.interval.messages=9223372036854775807",
        ],
    );
    // The power cut is told once, as the loss of the page cache.
    assert!(!lost[1].explanation.contains("crashed (power)"), "{}", lost[1].explanation);
}

#[test]
fn a_shrunk_isr_and_a_wiped_disk_lose_an_acks_all_record() {
    let mut run = Run::new(&[("acks", "all"), ("min.insync.replicas", "1")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(3000).isr_change(&[1], "b2 fell behind");
    run.at(4000).send(&p1(0, 0)).append(1, 0, 1, &p1(0, 0), true).ack(1, Some(0), &p1(0, 0), true);
    run.at(4100).crash(B1, CrashMode::Power);
    let wiped = EventKind::Wiped { broker: 1, lost: vec![(0, 0)] };
    run.at(4200).record(B1, wiped);
    run.at(6000).elect(Some(2), 2, ElectionKind::Unclean, &[1]);
    run.final_log(2, 2, &[], &[1, 2]);

    let lost = only(&run.check(), FindingClass::LostAcked);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "min.insync.replicas=1",
            "At 3.000 s the controller set the ISR of partition 0 to [1] (b2 fell behind)",
            "b1's disk was wiped at 4.200 s, losing offset 0 of partition 0",
            "b1 crashed (power) at 4.100 s",
        ],
    );
}

#[test]
fn kip101_a_follower_truncates_to_its_high_watermark_and_is_elected() {
    let mut run = Run::new(&[("acks", "all"), ("min.insync.replicas", "1")]);
    run.history.meta.kafka_version = "0.10".into();
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 1)).append(1, 0, 1, &p1(0, 1), true).append(2, 0, 1, &p1(0, 1), false).ack(
        1,
        Some(0),
        &p1(0, 1),
        true,
    );
    run.at(200).crash(B2, CrashMode::Process);
    run.at(300).restart(B2).truncate(2, 1, &p1(1, 1), TruncateReason::HighWatermark);
    run.at(400).crash(B1, CrashMode::Process);
    run.at(500).elect(Some(2), 2, ElectionKind::Clean, &[2]);
    run.at(900).restart(B1).truncate(1, 1, &p1(1, 1), leader_epoch(2, 2));
    run.final_log(2, 2, &p1(0, 0), &[1, 2]);

    let lost = only(&run.check(), FindingClass::LostAcked);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "b2 copied it at offset 1 in leader epoch 1 at 0.100 s",
            "b2 crashed (process) at 0.200 s and restarted at 0.300 s",
            "b2 truncated offset 1 at 0.300 s to its own high watermark 1 (before \
            KIP-101; kafka.version 0.10)",
            "b1 crashed (process) at 0.400 s and restarted at 0.900 s",
            "elected b2 leader of partition 0 in epoch 2 at 0.500 s (clean, ISR [2]); b2 did not \
            hold it",
        ],
    );
}

// ---- lost_unnoticed ----

#[test]
fn fire_and_forget_loses_records_the_app_never_hears_about() {
    let mut run = Run::new(&[("acks", "1"), ("app.send", "fire-and-forget")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 0)).append(1, 0, 1, &p1(0, 0), true).ack(1, Some(0), &p1(0, 0), false);
    run.at(200).crash(B1, CrashMode::Process);
    run.at(300).elect(Some(2), 2, ElectionKind::Clean, &[2]);
    run.at(900).restart(B1).truncate(1, 0, &p1(0, 0), leader_epoch(2, 2));
    run.final_log(2, 2, &[], &[1, 2]);

    let verdict = run.check();
    let lost = only(&verdict, FindingClass::LostUnnoticed);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "p1#0 was handed to send() at 0.100 s for partition 0",
            "the client learned it succeeded at 0.100 s, but the app does not look at outcomes",
            "app.send=fire-and-forget",
            "truncated offset 0",
        ],
    );
    // The client saw the acknowledgement, so it counts as acked, yet it is not lost_acked.
    assert_eq!(verdict.acked, 1);
    assert_eq!(verdict.counts["lost_acked"], 0);
}

#[test]
fn acks0_records_that_never_reached_a_broker_go_unnoticed() {
    let mut run = Run::new(&[("acks", "0"), ("app.send", "fire-and-forget")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).crash(B1, CrashMode::Process);
    run.at(120).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).ack(1, None, &p1(0, 0), false);
    run.at(900).restart(B1);
    run.final_log(1, 1, &[], &[1]);

    let lost = only(&run.check(), FindingClass::LostUnnoticed);
    assert_mentions(
        &lost[0],
        &[
            "acks=0",
            "It never reached a broker: the client's last request for it (batch 1, attempt 1)",
            "went to b1 at 0.120 s",
        ],
    );
}

#[test]
fn records_held_by_a_crashed_producer_are_lost_unnoticed() {
    let mut run = Run::new(&[("acks", "all"), ("linger.ms", "5")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2, 3]);
    run.at(1000).send(&p1(0, 2));
    run.at(1500).crash(P1, CrashMode::Process).record(P1, EventKind::ProducerLost { msgs: p1(0, 2) });
    run.final_log(1, 1, &[], &[1, 2, 3]);

    let lost = only(&run.check(), FindingClass::LostUnnoticed);
    assert_eq!(lost.len(), 3);
    assert_mentions(
        &lost[1],
        &[
            "p1#1 was handed to send() at 1.000 s",
            "p1 crashed at 1.500 s still holding it and 2 other records",
            "It never reached a broker: the client never sent a request for it",
        ],
    );
}

// ---- lost_failed ----

#[test]
fn a_write_refused_for_lack_of_replicas_fails_and_the_app_is_told() {
    let mut run = Run::new(&[("acks", "all"), ("min.insync.replicas", "3")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).not_enough_replicas(1, &[1, 2]);
    run.at(101).retry(1, 1, "NOT_ENOUGH_REPLICAS");
    run.at(300).request(1, 1, 2, &p1(0, 0)).not_enough_replicas(1, &[1, 2]);
    run.at(301).retry(1, 2, "NOT_ENOUGH_REPLICAS");
    run.at(120_100).fail(1, "DELIVERY_TIMEOUT", &p1(0, 0));
    run.final_log(1, 1, &[], &[1, 2]);

    let verdict = run.check();
    let lost = only(&verdict, FindingClass::LostFailed);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "p1#0 failed at 120.100 s with DELIVERY_TIMEOUT and the app was told",
            "min.insync.replicas=3",
            "The client retried batch 1: attempt 1 got NOT_ENOUGH_REPLICAS at 0.101 s",
            "b1 rejected writes to partition 0 with NOT_ENOUGH_REPLICAS 2 times from 0.100 s to \
            0.300 s",
            "ISR was [1, 2]",
        ],
    );
    assert_eq!((verdict.sent, verdict.acked, verdict.failed), (1, 0, 1));
}

// ---- scale ----

/// Many messages lost the same way: linear work, one finding each, all told alike.
#[test]
fn a_large_loss_is_judged_in_linear_time() {
    const N: u64 = 200_000;
    let mut run = Run::new(&[("acks", "1")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    for batch in 0..N / 100 {
        let msgs = p1(batch * 100, batch * 100 + 99);
        run.at(1 + batch).send(&msgs).append(1, batch * 100, 1, &msgs, true).ack(batch, Some(batch * 100), &msgs, true);
    }
    run.at(5000).crash(B1, CrashMode::Process).elect(Some(2), 2, ElectionKind::Clean, &[2]);
    run.at(6000).restart(B1).truncate(1, 0, &p1(0, N - 1), leader_epoch(2, 2));
    run.final_log(2, 2, &[], &[1, 2]);

    let started = std::time::Instant::now();
    let verdict = run.check();
    assert_eq!(verdict.counts["lost_acked"], N);
    assert_mentions(&verdict.findings[N as usize - 1], &["b1 truncated offsets 0..200000 at 6.000 s"]);
    // Generous: quadratic work over 200,000 messages would take minutes.
    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
}
