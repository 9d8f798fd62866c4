//! Power loss and log recovery: records lost with the page cache, records the OS had written
//! back but log recovery discarded because an earlier batch was missing (an out-of-order
//! writeback cut by the power), and why `log.flush.interval.ms` alone did not save them.

use crate::story::{assert_mentions, m, only, p1, Run, B1, B2};
use losslab_model::history::{ElectionKind, EventKind, MsgId, NodeName, TruncateReason};
use losslab_model::{CrashMode, FindingClass};

/// b1 alone holds p1#0..59, acknowledged; the OS wrote back 0..35 and, out of order, 40..60 but
/// not 35..40 when the power went at 12.3 s; recovery at 20 s cuts the log at 35.
fn out_of_order_cut(settings: &[(&str, &str)]) -> Run {
    let mut run = Run::new(settings);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 59)).request(1, 1, 1, &p1(0, 59)).append(1, 0, 1, &p1(0, 59), true);
    run.at(110).ack(1, Some(0), &p1(0, 59), true);
    run.at(5000).flush(1, 35);
    run.at(12_300).crash(B1, CrashMode::Power).page_cache_lost(1, 35, &p1(35, 39));
    run.at(20_000).restart(B1);
    let removed: Vec<(u64, MsgId)> = (40..60).map(|o| (o, m(1, o))).collect();
    let reason = TruncateReason::Recovery;
    run.record(B1, EventKind::Truncate { broker: 1, partition: 0, to_offset: 35, removed, reason });
    run.at(20_100).elect(Some(1), 2, ElectionKind::Clean, &[1]);
    run.final_log(1, 2, &p1(0, 34), &[1]);
    run
}

#[test]
fn records_recovery_discarded_after_a_missing_batch_are_explained_as_such() {
    let run = out_of_order_cut(&[("acks", "all"), ("log.flush.interval.messages", "9223372036854775807")]);
    let lost = only(&run.check(), FindingClass::LostAcked);
    assert_eq!(lost.len(), 25);
    let discarded = lost.iter().find(|f| f.message == Some(m(1, 45))).expect("p1#45 is lost");
    assert_mentions(
        discarded,
        &[
            "b1 lost power at 12.300 s; the OS had written offsets 40..60 back but not 35..40; log recovery at \
            20.000 s truncated at offset 35, the first batch that failed its checksum, and discarded 40..60",
            "b1 crashed (power) at 12.300 s and restarted at 20.000 s",
        ],
    );
    assert!(!discarded.explanation.contains("page cache"), "{}", discarded.explanation);
    // A record of the missing batch went with the page cache, told as before.
    let cached = lost.iter().find(|f| f.message == Some(m(1, 37))).expect("p1#37 is lost");
    assert_mentions(
        cached,
        &["b1 lost power at 12.300 s and its page cache with offsets 35..40 of partition 0, not yet flushed \
            (its last flush, at 5.000 s, made offsets below 35 durable"],
    );
    assert!(!cached.explanation.contains("log recovery"), "{}", cached.explanation);
}

#[test]
fn a_page_cache_lost_around_records_written_back_says_the_writeback_was_under_way() {
    let mut run = Run::new(&[("acks", "all")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 9)).request(1, 1, 1, &p1(0, 9)).append(1, 0, 1, &p1(0, 9), true);
    run.at(110).ack(1, Some(0), &p1(0, 9), true);
    run.at(5000).flush(1, 2);
    let lost: Vec<(u64, MsgId)> = [3, 4, 7, 8, 9].iter().map(|&o| (o, m(1, o))).collect();
    run.at(6000).crash(B1, CrashMode::Power);
    run.record(B1, EventKind::PageCacheLost { broker: 1, partition: 0, durable_offset: 3, lost });
    run.at(7000).restart(B1);
    let removed: Vec<(u64, MsgId)> = [5, 6].iter().map(|&o| (o, m(1, o))).collect();
    let reason = TruncateReason::Recovery;
    run.record(B1, EventKind::Truncate { broker: 1, partition: 0, to_offset: 3, removed, reason });
    run.final_log(1, 2, &p1(0, 2), &[1]);
    let lost = only(&run.check(), FindingClass::LostAcked);
    let cached = lost.iter().find(|f| f.message == Some(m(1, 8))).expect("p1#8 is lost");
    assert_mentions(
        cached,
        &["its page cache with offsets 3..5 and 7..10 of partition 0, not yet flushed (its last flush, at 5.000 \
            s, made offsets below 2 durable; the OS writeback under way had written offsets 2..3 and the records \
            between these ranges)"],
    );
}

#[test]
fn log_flush_interval_ms_alone_is_explained_by_the_flusher_schedule_once() {
    let settings = [
        ("acks", "all"),
        ("log.flush.interval.ms", "1000"),
        ("log.flush.scheduler.interval.ms", "9223372036854775807"),
    ];
    let mut run = Run::new(&settings);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).append(1, 0, 1, &p1(0, 0), true);
    run.at(105).append(2, 0, 1, &p1(0, 0), false);
    run.at(30_000).flush(1, 1).flush(2, 1);
    run.at(40_100).send(&p1(1, 1)).request(1, 2, 1, &p1(1, 1)).append(1, 1, 1, &p1(1, 1), true);
    run.at(40_105).append(2, 1, 1, &p1(1, 1), false);
    run.at(40_110).ack(2, Some(1), &p1(1, 1), true);
    run.at(45_000).crash(B1, CrashMode::Power).crash(B2, CrashMode::Power);
    run.page_cache_lost(1, 1, &p1(1, 1)).page_cache_lost(2, 1, &p1(1, 1));
    run.record(
        NodeName::Controller,
        EventKind::Election {
            partition: 0,
            leader: None,
            leader_epoch: 2,
            kind: ElectionKind::Offline,
            isr: vec![1, 2],
        },
    );
    run.final_log(1, 2, &p1(0, 0), &[1, 2]);
    let lost = only(&run.check(), FindingClass::LostAcked);
    let remark = "Kafka checks log.flush.interval.ms=1000 only when its log flusher runs: 30 s after the broker \
        starts (log.initial.task.delay.ms), then every log.flush.scheduler.interval.ms=9223372036854775807 ms \
        (Kafka's default), which never comes: it runs once";
    assert_mentions(&lost[0], &[remark, "b1 lost power at 45.000 s", "b2 lost power at 45.000 s"]);
    assert_eq!(lost[0].explanation.matches(remark).count(), 1, "told once for both replicas");
}
