//! The shape of a verdict rather than one class: a clean run has no findings and every count,
//! counts name all nine classes and match the findings, and odd histories degrade without
//! panicking.

use crate::story::{leader_epoch, m, p1, Run, B1, B2};
use losslab_model::history::{ElectionKind, EventKind, FinalState, History};
use losslab_model::{check, FindingClass};

#[test]
fn a_clean_run_has_no_findings_and_every_count() {
    let mut run = Run::new(&[("acks", "all"), ("min.insync.replicas", "2")]).with_consumers(1);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2, 3]);
    run.at(100).send(&p1(0, 9)).request(1, 1, 1, &p1(0, 9)).append(1, 0, 1, &p1(0, 9), true);
    run.at(105).append(2, 0, 1, &p1(0, 9), false).append(3, 0, 1, &p1(0, 9), false);
    run.at(110).ack(1, Some(0), &p1(0, 9), true);
    run.at(200).poll(1, 0, 10);
    for (offset, msg) in p1(0, 9).into_iter().enumerate() {
        run.process(1, offset as u64, msg);
    }
    run.commit(1, 10);
    run.final_log(1, 1, &p1(0, 9), &[1, 2, 3]);

    let verdict = run.check();
    assert!(verdict.findings.is_empty(), "{:#?}", verdict.findings);
    assert_eq!((verdict.sent, verdict.acked, verdict.failed), (10, 10, 0));
    assert!(verdict.counts.values().all(|&n| n == 0));
    assert_eq!(run.check(), verdict, "the checker is deterministic");
}

#[test]
fn counts_name_every_class_even_for_an_empty_run() {
    let verdict = check(&History::default(), &FinalState::default());
    let keys: Vec<&str> = verdict.counts.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = FindingClass::ALL.iter().map(|c| c.as_str()).collect();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(keys.len(), 14);
}

#[test]
fn counts_match_the_findings() {
    let mut run = Run::new(&[]);
    run.at(100).send(&p1(0, 4));
    run.final_log(1, 1, &[], &[1]);
    let verdict = run.check();
    assert_eq!(verdict.counts["lost_unnoticed"], 5);
    assert_eq!(verdict.counts.values().sum::<u64>(), verdict.findings.len() as u64);
}

#[test]
fn odd_histories_degrade_without_panicking() {
    let mut run = Run::new(&[]).with_consumers(2);
    // Outcomes without sends, an empty truncation, a wipe of nothing, an inverted poll, a
    // retry of an unknown batch, an election with no leader, huge sequence numbers.
    run.at(1).ack(9, Some(u64::MAX), &[m(7, u64::MAX), m(7, 0)], true);
    run.truncate(1, 5, &[], leader_epoch(3, 9));
    run.record(B2, EventKind::Wiped { broker: 2, lost: vec![] });
    run.poll(1, 9, 3).retry(77, 3, "X").elect(None, 4, ElectionKind::Offline, &[]);
    run.process(2, 40, m(3, 3)).process(2, 40, m(3, 3)).commit(2, 0);
    run.append(4, u64::MAX, 1, &[m(7, 1), m(7, 2)], false);
    run.record(B1, EventKind::PageCacheLost { broker: 1, partition: 3, durable_offset: 0, lost: vec![] });
    // The final state names a partition no event mentions, twice, and a replica longer than
    // its high watermark claims.
    run.final_log(1, 1, &[m(7, 1), m(9, 9)], &[1]);
    let extra = run.final_state.partitions[0].clone();
    run.final_state.partitions.push(extra);
    run.final_state.partitions[0].replicas[0].high_watermark = 99;
    let verdict = run.check();
    assert!(!verdict.findings.is_empty());
    assert!(verdict.findings.iter().all(|f| !f.explanation.is_empty()));
}
