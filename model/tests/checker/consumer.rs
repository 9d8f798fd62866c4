//! The consumer group's classes: records a commit skipped past before they were processed
//! (`consumer_skipped`), records processed again after a crash (`consumer_duplicated`), and
//! that neither is judged when the run has no consumer group.

use crate::story::{assert_mentions, leader_epoch, m, of_class, only, p1, Run, B1, C1};
use losslab_model::history::ElectionKind;
use losslab_model::{CrashMode, FindingClass};

#[test]
fn auto_commit_of_queued_records_skips_them_when_the_consumer_crashes() {
    let mut run = Run::new(&[("enable.auto.commit", "true"), ("app.processing", "async")]).with_consumers(1);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 3)).append(1, 0, 1, &p1(0, 3), true).ack(1, Some(0), &p1(0, 3), true);
    run.at(200).poll(1, 0, 4).process(1, 0, m(1, 0)).process(1, 1, m(1, 1));
    run.at(5200).poll(1, 4, 4).commit(1, 4);
    run.at(5300).crash(C1, CrashMode::Process);
    run.at(6000).restart(C1).poll(1, 4, 4);
    run.final_log(1, 1, &p1(0, 3), &[1]);

    let skipped = only(&run.check(), FindingClass::ConsumerSkipped);
    let ids: Vec<_> = skipped.iter().map(|f| f.message).collect();
    assert_eq!(ids, vec![Some(m(1, 2)), Some(m(1, 3))]);
    assert_mentions(
        &skipped[0],
        &[
            "p1#2 is at offset 2 of partition 0's final log, but no consumer processed it",
            "app.processing=async",
            "c1 polled offsets 0..4 of partition 0 at 0.200 s, which included it",
            "c1 committed offset 4 of partition 0 at 5.200 s, past it",
            "c1 crashed (process) at 5.300 s and restarted at 6.000 s",
        ],
    );
}

#[test]
fn consumer_classes_are_not_judged_without_a_consumer_group() {
    let mut run = Run::new(&[]);
    run.at(100).send(&p1(0, 0)).append(1, 0, 1, &p1(0, 0), true).ack(1, Some(0), &p1(0, 0), true);
    run.final_log(1, 1, &p1(0, 0), &[1]);
    assert!(run.check().findings.is_empty());
}

#[test]
fn a_crash_between_processing_and_commit_replays_records() {
    let mut run = Run::new(&[("enable.auto.commit", "false"), ("app.commit", "after-process")]).with_consumers(1);
    run.at(100).send(&p1(0, 1)).append(1, 0, 1, &p1(0, 1), true).ack(1, Some(0), &p1(0, 1), true);
    run.at(200).poll(1, 0, 2).process(1, 0, m(1, 0)).process(1, 1, m(1, 1));
    run.at(210).crash(C1, CrashMode::Process);
    run.at(900).restart(C1).poll(1, 0, 2).process(1, 0, m(1, 0)).process(1, 1, m(1, 1)).commit(1, 2);
    run.final_log(1, 1, &p1(0, 1), &[1]);

    let dup = only(&run.check(), FindingClass::ConsumerDuplicated);
    assert_eq!(dup.len(), 2);
    assert_mentions(
        &dup[0],
        &[
            "p1#0 was processed 2 times: by c1 at 0.200 s (offset 0), by c1 at 0.900 s (offset 0)",
            "app.commit=after-process",
            "c1 crashed (process) at 0.210 s",
            "No commit of partition 0 preceded the replay",
            "c1 polled offsets 0..2 of partition 0 at 0.900 s, which returned it again",
        ],
    );
}

/// b1 leads epoch 1 with p1#0..3 below its HW (b2 has p1#0..1); c1 polls and processes all
/// four. b2 is elected uncleanly (epoch 2) and b1 truncates to match it; b2 then stores p1#4
/// and p1#5 at offsets 2 and 3, where c1 had read p1#2 and p1#3.
fn processed_then_truncated() -> Run {
    let mut run = Run::new(&[("unclean.leader.election.enable", "true")]).with_consumers(1);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 3)).append(1, 0, 1, &p1(0, 3), true).ack(1, Some(0), &p1(0, 3), true);
    run.at(150).append(2, 0, 1, &p1(0, 1), false);
    run.at(200).isr_change(&[1], "b2 fell behind");
    run.at(300).polled(1, 0, 4, &p1(0, 3));
    for o in 0..4 {
        run.process(1, o, m(1, o));
    }
    run.at(400).commit(1, 4);
    run.at(500).crash(B1, CrashMode::Process);
    run.at(600).elect(Some(2), 2, ElectionKind::Unclean, &[2]);
    run.at(700).send(&p1(4, 5)).append(2, 2, 2, &p1(4, 5), true).ack(2, Some(2), &p1(4, 5), true);
    run.at(900).restart(B1).truncate(1, 2, &p1(2, 3), leader_epoch(2, 2));
    run.at(950).append(1, 2, 2, &p1(4, 5), false);
    run.final_log(2, 2, &[m(1, 0), m(1, 1), m(1, 4), m(1, 5)], &[1, 2]);
    run
}

#[test]
fn a_processed_record_an_unclean_election_removed_is_consumed_lost() {
    let verdict = processed_then_truncated().check();
    let lost = of_class(&verdict, FindingClass::ConsumedLost);
    let ids: Vec<_> = lost.iter().map(|f| f.message).collect();
    assert_eq!(ids, vec![Some(m(1, 2)), Some(m(1, 3))]);
    assert_mentions(
        lost[0],
        &[
            "p1#2 was processed by c1 at 0.300 s (offset 2 of partition 0), and it is not in the final log \
            (unclean.leader.election.enable=true)",
            "A consumer reads only below the high watermark, so when c1 read it at 0.300 s every in-sync \
            replica of partition 0 had it (the ISR was [1])",
            "b1 appended it at offset 2 in leader epoch 1",
            "b1 truncated offsets 2..4 at 0.900 s to match leader epoch 2 of b2",
        ],
    );
    // The same records are acknowledged losses too; consumed_lost is judged only with a group.
    assert_eq!(of_class(&verdict, FindingClass::LostAcked).len(), 2);
}

#[test]
fn a_poll_of_other_records_at_the_offset_is_not_said_to_include_it() {
    let verdict = processed_then_truncated().check();
    let skipped = of_class(&verdict, FindingClass::ConsumerSkipped);
    let ids: Vec<_> = skipped.iter().map(|f| f.message).collect();
    assert_eq!(ids, vec![Some(m(1, 4)), Some(m(1, 5))]);
    assert_mentions(
        skipped[0],
        &[
            "p1#4 is at offset 2 of partition 0's final log, but no consumer processed it",
            "c1 polled offsets 0..4 of partition 0 at 0.300 s, when offset 2 held another record, p1#2",
            "c1 committed offset 4 of partition 0 at 0.400 s, past it",
        ],
    );
    assert!(!skipped[0].explanation.contains("which included it"), "{}", skipped[0].explanation);
}

#[test]
fn without_identities_a_poll_is_matched_by_offset() {
    // Histories written before polls recorded their records: the offsets are all there is.
    let mut run = Run::new(&[]).with_consumers(1);
    run.at(100).send(&p1(0, 1)).append(1, 0, 1, &p1(0, 1), true).ack(1, Some(0), &p1(0, 1), true);
    run.at(200).poll(1, 0, 2).commit(1, 2);
    run.final_log(1, 1, &p1(0, 1), &[1]);
    let skipped = only(&run.check(), FindingClass::ConsumerSkipped);
    assert_mentions(&skipped[0], &["c1 polled offsets 0..2 of partition 0 at 0.200 s, which included it"]);
}
