//! The consumer group's classes: records a commit skipped past before they were processed
//! (`consumer_skipped`), records processed again after a crash (`consumer_duplicated`), and
//! that neither is judged when the run has no consumer group.

use crate::story::{assert_mentions, m, only, p1, Run, C1};
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
