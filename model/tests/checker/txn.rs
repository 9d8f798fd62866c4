//! The transaction classes (issue 16) on hand-built histories: `aborted_read` (Jepsen's G1a:
//! the producer's view decides, an indefinite commit counts only if nothing committed it),
//! `torn_transaction` (told committed, stored or processed in part, with Jepsen's bound on what
//! a reader had reached), the pipeline's `pipeline_lost` and `pipeline_duplicated`, and lost
//! committed records as `lost_acked`. Explanations are pinned where their wording matters.

use super::story::{m, of_class, p1, Run, B1, C1, P1};
use losslab_model::history::{
    EventKind, FinalPartition, FinalReplica, MsgId, NodeName, TxnOutcome, OUT_PARTITION_BASE, PIPELINE_PRODUCER_BASE,
};
use losslab_model::FindingClass;

const B2: NodeName = NodeName::Broker(2);

fn send(run: &mut Run, msg: MsgId, partition: u32, txn: u64) {
    run.record(P1, EventKind::Send { msg, partition, resend_of: None, txn: Some(txn) });
}

fn append(run: &mut Run, partition: u32, base_offset: u64, msgs: &[MsgId]) {
    let kind =
        EventKind::Append { broker: 1, partition, base_offset, leader_epoch: 1, msgs: msgs.into(), as_leader: true };
    run.record(B1, kind);
}

fn transition(run: &mut Run, txn: u64, from: &str, to: &str, partitions: &[u32]) {
    let kind = EventKind::TxnTransition(Box::new(losslab_model::history::TxnTransition {
        broker: 2,
        producer: 1,
        txn: Some(txn),
        producer_id: 7,
        epoch: 0,
        from: from.into(),
        to: to.into(),
        partitions: partitions.to_vec(),
        offsets_partitions: false,
    }));
    run.record(B2, kind);
}

fn marker(run: &mut Run, partition: u32, offset: u64, commit: bool, txn: u64) {
    let kind = EventKind::MarkerWritten {
        broker: 1,
        partition,
        producer: 1,
        producer_id: 7,
        epoch: 0,
        commit,
        offset,
        txn: Some(txn),
    };
    run.record(B1, kind);
}

/// The app's end of transaction `txn` and the producer's per-partition outcomes beside it.
fn end(run: &mut Run, txn: u64, outcome: TxnOutcome, msgs: &[MsgId], partitions: &[u32], error: Option<&str>) {
    let kind = EventKind::TxnEnded { producer: 1, txn, outcome, msgs: msgs.to_vec(), error: error.map(Into::into) };
    run.record(P1, kind);
    for &partition in partitions {
        let kind = match outcome {
            TxnOutcome::Committed => {
                EventKind::Acked { partition, batch: 0, base_offset: None, msgs: msgs.into(), app_notified: true }
            }
            _ => EventKind::Failed {
                partition,
                batch: 0,
                error: error.unwrap_or("TransactionAbortedException").into(),
                msgs: msgs.into(),
                app_notified: true,
            },
        };
        run.record(P1, kind);
    }
}

fn process(run: &mut Run, consumer: u32, partition: u32, offset: u64, msg: MsgId) {
    run.record(NodeName::Consumer(consumer), EventKind::Processed { consumer, partition, offset, msg });
}

fn poll(run: &mut Run, partition: u32, from: u64, to: u64, msgs: &[MsgId]) {
    run.record(C1, EventKind::Polled { consumer: 1, partition, offsets: (from, to), msgs: msgs.into() });
}

fn partition(number: u32, log: &[MsgId], offsets: &[u64], uncommitted: &[MsgId]) -> FinalPartition {
    FinalPartition {
        partition: number,
        leader: Some(1),
        leader_epoch: 1,
        isr: vec![1],
        log: log.into(),
        replicas: vec![],
        offsets: offsets.to_vec(),
        uncommitted: uncommitted.to_vec(),
    }
}

/// Transaction 1 of p1 holds p1#0 and p1#1 on partition 0, and ends with `outcome`.
fn one_transaction(isolation: &str, outcome: TxnOutcome) -> Run {
    let mut run = Run::new(&[("isolation.level", isolation)]).with_consumers(1);
    run.at(1000).record(P1, EventKind::TxnBegun { producer: 1, txn: 1 });
    for msg in p1(0, 1) {
        send(&mut run, msg, 0, 1);
    }
    run.at(1010);
    transition(&mut run, 1, "Empty", "Ongoing", &[0]);
    append(&mut run, 0, 0, &p1(0, 1));
    // The produce response: the app is not told until the commit.
    let kind =
        EventKind::Acked { partition: 0, batch: 1, base_offset: Some(0), msgs: p1(0, 1).into(), app_notified: false };
    run.record(P1, kind);
    run.at(1100);
    poll(&mut run, 0, 0, 2, &p1(0, 1));
    process(&mut run, 1, 0, 0, m(1, 0));
    process(&mut run, 1, 0, 1, m(1, 1));
    let commit = outcome == TxnOutcome::Committed;
    let (prepare, complete) =
        if commit { ("PrepareCommit", "CompleteCommit") } else { ("PrepareAbort", "CompleteAbort") };
    run.at(1200);
    transition(&mut run, 1, "Ongoing", prepare, &[0]);
    run.at(1210);
    marker(&mut run, 0, 2, commit, 1);
    transition(&mut run, 1, prepare, complete, &[]);
    end(&mut run, 1, outcome, &p1(0, 1), &[0], None);
    let final_log = if commit { p1(0, 1) } else { vec![] };
    let uncommitted = if commit { vec![] } else { p1(0, 1) };
    run.final_state.partitions = vec![partition(0, &final_log, &[], &uncommitted)];
    run
}

#[test]
fn a_read_uncommitted_consumer_reading_an_aborted_transaction_is_an_aborted_read() {
    let verdict = one_transaction("read_uncommitted", TxnOutcome::Aborted).check();
    let aborted = of_class(&verdict, FindingClass::AbortedRead);
    assert_eq!(aborted.len(), 2, "{:#?}", verdict.findings);
    assert_eq!(aborted[0].message, Some(m(1, 0)));
    assert_eq!(
        aborted[0].explanation,
        "p1#0 was processed by c1 at 1.100 s (offset 0 of partition 0, isolation.level=read_uncommitted), and its \
         transaction 1 of p1 was aborted: the app aborted it and abortTransaction() returned at 1.210 s. p1 began \
         transaction 1 of p1 at 1.000 s. The transaction coordinator on b2 moved transaction 1 of p1 (producer id 7, \
         epoch 0) from Empty to Ongoing at 1.010 s, holding partition 0. A read_uncommitted consumer reads up to the \
         high watermark: records of aborted and open transactions included (KIP-98; Kafka's `Fetcher` filters \
         aborted transactions only for read_committed). The transaction coordinator on b2 moved transaction 1 of p1 \
         (producer id 7, epoch 0) from Ongoing to PrepareAbort at 1.200 s, holding partition 0. b1 wrote an ABORT \
         marker for transaction 1 of p1 (producer id 7, epoch 0) at offset 2 of partition 0 at 1.210 s. The \
         transaction coordinator on b2 moved transaction 1 of p1 (producer id 7, epoch 0) from PrepareAbort to \
         CompleteAbort at 1.210 s. The final log of partition 0 holds it as not committed (its transaction has no \
         COMMIT marker there)."
    );
    // The app was told the records failed: no promise broken on the producer side, and the
    // produce response to their batch does not count as an acknowledgement.
    assert_eq!(of_class(&verdict, FindingClass::LostFailed).len(), 2);
    assert_eq!((verdict.sent, verdict.acked, verdict.failed), (2, 0, 2));
    assert!(of_class(&verdict, FindingClass::TornTransaction).is_empty());
}

/// An aborted record stays in the log behind its ABORT marker: the loss story says so, and
/// names the marker, instead of "beyond the final log's end".
#[test]
fn an_aborted_record_is_told_as_held_behind_its_abort_marker() {
    let mut run = one_transaction("read_committed", TxnOutcome::Aborted);
    let held = vec![m(1, 0), m(1, 1), MsgId { producer: 0, seq: 2 }];
    run.final_state.partitions[0].replicas =
        vec![FinalReplica { broker: 1, log_end_offset: 3, high_watermark: 3, log: held.into() }];
    let verdict = run.check();
    let failed = of_class(&verdict, FindingClass::LostFailed);
    assert_eq!(failed.len(), 2);
    assert!(
        failed[1].explanation.ends_with(
            "The final log of partition 0 (leader b1, epoch 1, 0 records) holds it at offset 1, inside a transaction \
             that did not commit: b1 wrote an ABORT marker for transaction 1 of p1 (producer id 7, epoch 0) at offset \
             2 of partition 0 at 1.210 s. A record behind an ABORT marker is not counted as stored, and \
             read_committed consumers skip it."
        ),
        "{}",
        failed[1].explanation
    );
    // Without a marker after it, the transaction is still open there.
    let log = &mut run.final_state.partitions[0].replicas[0].log;
    *log = log[..log.len() - 1].into();
    run.history.events.retain(|e| !matches!(e.kind, EventKind::MarkerWritten { .. }));
    let verdict = run.check();
    assert!(of_class(&verdict, FindingClass::LostFailed)[0].explanation.ends_with(
        "holds it at offset 0, inside a transaction with no marker after it there: still open, it is not counted as \
         stored, and it holds the last stable offset back for read_committed consumers."
    ));
}

/// KAFKA-6119: the app's commit failed (indefinite on its own), but the coordinator had aborted
/// the transaction (PrepareAbort): its decision is final, so records of it that a later marker
/// made visible and a consumer read are an aborted read. Without that abort the failure stays
/// indefinite and reading the records is no finding.
#[test]
fn a_failed_transaction_the_coordinator_aborted_is_an_aborted_read_when_read() {
    let mut run = one_transaction("read_committed", TxnOutcome::Aborted);
    for e in &mut run.history.events {
        if let EventKind::TxnEnded { outcome, error, .. } = &mut e.kind {
            *outcome = TxnOutcome::Failed;
            *error = Some("fatal: INVALID_TXN_STATE".into());
        }
    }
    run.final_state.partitions = vec![partition(0, &p1(0, 1), &[], &[])];
    let verdict = run.check();
    assert_eq!(of_class(&verdict, FindingClass::AbortedRead).len(), 2, "{:#?}", verdict.findings);
    run.history.events.retain(
        |e| !matches!(&e.kind, EventKind::TxnTransition(t) if t.to == "PrepareAbort" || t.to == "CompleteAbort"),
    );
    let verdict = run.check();
    assert!(of_class(&verdict, FindingClass::AbortedRead).is_empty(), "{:#?}", verdict.findings);
}

#[test]
fn a_committed_transaction_read_is_no_aborted_read() {
    let verdict = one_transaction("read_committed", TxnOutcome::Committed).check();
    assert!(verdict.findings.is_empty(), "{:#?}", verdict.findings);
    assert_eq!((verdict.sent, verdict.acked), (2, 2));
}

/// Jepsen's `:info`: a commit that threw is indefinite; the final log decides.
#[test]
fn a_failed_commit_is_an_aborted_read_only_if_nothing_committed_it() {
    let mut committed_after_all = one_transaction("read_uncommitted", TxnOutcome::Committed);
    for e in &mut committed_after_all.history.events {
        if let EventKind::TxnEnded { outcome, error, .. } = &mut e.kind {
            *outcome = TxnOutcome::Failed;
            *error = Some("TimeoutException".into());
        }
    }
    let verdict = committed_after_all.check();
    assert!(of_class(&verdict, FindingClass::AbortedRead).is_empty(), "{:#?}", verdict.findings);

    let mut failed = one_transaction("read_uncommitted", TxnOutcome::Aborted);
    for e in &mut failed.history.events {
        if let EventKind::TxnEnded { outcome, error, .. } = &mut e.kind {
            *outcome = TxnOutcome::Failed;
            *error = Some("ProducerFencedException".into());
        }
    }
    let verdict = failed.check();
    let aborted = of_class(&verdict, FindingClass::AbortedRead);
    assert_eq!(aborted.len(), 2);
    assert!(
        aborted[0].explanation.contains(
            "and its transaction 1 of p1 never committed: it failed at 1.210 s with ProducerFencedException, and the \
             app treated its records as failed."
        ),
        "{}",
        aborted[0].explanation
    );
}

/// KAFKA-17754's anomaly A on 3.6-3.9: a late EndTxn(COMMIT) of transaction 1 commits what
/// transaction 2 had written; the app then aborts transaction 2, yet a read_committed consumer
/// read its record.
#[test]
fn a_late_commit_marker_makes_an_aborted_transaction_visible_to_read_committed() {
    let mut run = Run::new(&[("isolation.level", "read_committed"), ("kafka.version", "3.9")]).with_consumers(1);
    run.at(1000).record(P1, EventKind::TxnBegun { producer: 1, txn: 1 });
    send(&mut run, m(1, 0), 0, 1);
    append(&mut run, 0, 0, &[m(1, 0)]);
    marker(&mut run, 0, 1, true, 1);
    end(&mut run, 1, TxnOutcome::Committed, &[m(1, 0)], &[0], None);
    run.at(2000).record(P1, EventKind::TxnBegun { producer: 1, txn: 2 });
    send(&mut run, m(1, 1), 0, 2);
    append(&mut run, 0, 2, &[m(1, 1)]);
    // The delayed EndTxn of transaction 1 arrives: the coordinator commits what is open.
    run.at(2500);
    transition(&mut run, 1, "Ongoing", "PrepareCommit", &[0]);
    marker(&mut run, 0, 3, true, 1);
    run.at(2600);
    poll(&mut run, 0, 2, 4, &[m(1, 1)]);
    process(&mut run, 1, 0, 2, m(1, 1));
    run.at(3000);
    end(&mut run, 2, TxnOutcome::Aborted, &[m(1, 1)], &[0], None);
    run.final_state.partitions = vec![partition(0, &[m(1, 0), m(1, 1)], &[0, 2], &[])];
    let verdict = run.check();
    let aborted = of_class(&verdict, FindingClass::AbortedRead);
    assert_eq!(aborted.len(), 1, "{:#?}", verdict.findings);
    let text = &aborted[0].explanation;
    assert!(text.starts_with("p1#1 was processed by c1 at 2.600 s (offset 2 of partition 0, isolation.level=read_committed, kafka.version=3.9), and its transaction 2 of p1 was aborted"), "{text}");
    assert!(text.contains("b1 wrote a COMMIT marker for transaction 1 of p1 (producer id 7, epoch 0) at offset 3 of partition 0 at 2.500 s. That marker closed the transaction open on partition 0 for p1's producer id, which held transaction 2 of p1: a marker names a producer id and epoch, not a transaction"), "{text}");
    assert!(
        text.contains("KAFKA-17754") && text.ends_with("The final log of partition 0 holds it as committed."),
        "{text}"
    );
    // Told aborted: no torn transaction in the contract's sense; the record is stored though
    // the app was told it failed, which is no loss.
    assert!(of_class(&verdict, FindingClass::TornTransaction).is_empty());
    assert!(of_class(&verdict, FindingClass::LostAcked).is_empty());
}

/// Transaction 1 of p1: p1#0 to partition 0, p1#1 to partition 1; committed; the final logs
/// hold what `stored` says.
fn two_partitions(stored: [bool; 2]) -> Run {
    let mut run = Run::new(&[("isolation.level", "read_committed")]).with_consumers(1);
    run.at(1000).record(P1, EventKind::TxnBegun { producer: 1, txn: 1 });
    send(&mut run, m(1, 0), 0, 1);
    send(&mut run, m(1, 1), 1, 1);
    run.at(1010);
    append(&mut run, 0, 0, &[m(1, 0)]);
    append(&mut run, 1, 0, &[m(1, 1)]);
    run.at(1100);
    transition(&mut run, 1, "Ongoing", "PrepareCommit", &[0, 1]);
    marker(&mut run, 0, 1, true, 1);
    end(&mut run, 1, TxnOutcome::Committed, &p1(0, 1), &[], None);
    run.record(
        P1,
        EventKind::Acked { partition: 0, batch: 0, base_offset: None, msgs: vec![m(1, 0)].into(), app_notified: true },
    );
    run.record(
        P1,
        EventKind::Acked { partition: 1, batch: 0, base_offset: None, msgs: vec![m(1, 1)].into(), app_notified: true },
    );
    let log = |i: usize| if stored[i] { vec![m(1, i as u64)] } else { vec![] };
    run.final_state.partitions = vec![partition(0, &log(0), &[], &[]), partition(1, &log(1), &[], &[])];
    run
}

#[test]
fn a_committed_transaction_stored_in_part_is_torn_and_its_lost_part_lost_acked() {
    let verdict = two_partitions([true, false]).check();
    let torn = of_class(&verdict, FindingClass::TornTransaction);
    assert_eq!(torn.len(), 1, "{:#?}", verdict.findings);
    assert_eq!(torn[0].message, Some(m(1, 0)));
    assert_eq!(
        torn[0].explanation,
        "transaction 1 of p1 (2 records) was committed: commitTransaction() returned at 1.100 s; only 1 of its \
         records are in the final logs: p1#0 (partition 0) are, p1#1 (partition 1) are not. b1 appended p1#1 at \
         offset 0 in leader epoch 1 at 1.010 s. The transaction coordinator on b2 moved transaction 1 of p1 \
         (producer id 7, epoch 0) from Ongoing to PrepareCommit at 1.100 s, holding partition 0 and partition 1. b1 \
         wrote a COMMIT marker for transaction 1 of p1 (producer id 7, epoch 0) at offset 1 of partition 0 at \
         1.100 s. No marker of transaction 1 of p1 was recorded on partition 1."
    );
    let lost = of_class(&verdict, FindingClass::LostAcked);
    assert_eq!(lost.iter().map(|f| f.message).collect::<Vec<_>>(), [Some(m(1, 1))]);
}

#[test]
fn a_transaction_stored_whole_or_lost_whole_is_not_torn() {
    for stored in [[true, true], [false, false]] {
        let verdict = two_partitions(stored).check();
        assert!(of_class(&verdict, FindingClass::TornTransaction).is_empty(), "{stored:?}: {:#?}", verdict.findings);
    }
}

/// Jepsen's bound: a reader that never got past a record is no evidence of a torn read.
#[test]
fn a_committed_transaction_read_in_part_is_torn_only_once_the_group_read_past_the_rest() {
    let mut run = two_partitions([true, true]);
    run.at(1200);
    poll(&mut run, 0, 0, 2, &[m(1, 0)]);
    process(&mut run, 1, 0, 0, m(1, 0));
    let not_yet = run.check();
    assert!(of_class(&not_yet, FindingClass::TornTransaction).is_empty(), "{:#?}", not_yet.findings);
    run.at(1300);
    poll(&mut run, 1, 0, 2, &[]);
    let verdict = run.check();
    let torn = of_class(&verdict, FindingClass::TornTransaction);
    assert_eq!(torn.len(), 1, "{:#?}", verdict.findings);
    let text = &torn[0].explanation;
    assert!(text.contains("all its records are in the final logs, but the consumer group processed only 1 of them: p1#0 (partition 0) were processed, p1#1 (partition 1) were not, though the group read past them"), "{text}");
    assert!(
        text.contains("c1 polled offsets 0..2 of partition 1 at 1.300 s (isolation.level=read_committed)"),
        "{text}"
    );
    assert!(
        of_class(&verdict, FindingClass::ConsumerSkipped).len() == 1,
        "the skipped record is also consumer_skipped"
    );
}

// ---- the pipeline ----

fn output(run: &mut Run, consumer: u32, input: MsgId, txn: Option<u64>) {
    let kind = EventKind::Output { consumer, input, partition: OUT_PARTITION_BASE, txn };
    run.record(NodeName::Consumer(consumer), kind);
}

/// p1#0 and p1#1 in partition 0; c1 processes both and writes outputs; `out` ends with `out_log`.
fn pipeline(app_output: &str, out_log: &[MsgId]) -> Run {
    let mut run = Run::new(&[("app.output", app_output)]).with_consumers(2);
    run.at(1000).send(&p1(0, 1));
    append(&mut run, 0, 0, &p1(0, 1));
    run.at(1100);
    process(&mut run, 1, 0, 0, m(1, 0));
    output(&mut run, 1, m(1, 0), None);
    process(&mut run, 1, 0, 1, m(1, 1));
    output(&mut run, 1, m(1, 1), None);
    run.final_state.partitions = vec![partition(0, &p1(0, 1), &[], &[])];
    run.final_state.out = vec![partition(OUT_PARTITION_BASE, out_log, &[], &[])];
    run
}

#[test]
fn an_input_processed_again_after_a_crash_has_two_outputs() {
    let mut run = pipeline("plain", &[m(1, 0), m(1, 1), m(1, 0)]);
    run.at(1200).crash(C1, losslab_model::CrashMode::Process);
    run.at(5000).record(
        NodeName::Consumer(2),
        EventKind::Resumed(Box::new(losslab_model::history::Resumed {
            consumer: 2,
            generation: 2,
            partition: 0,
            offset: Some(0),
            committed: Some(0),
            reset: None,
        })),
    );
    process(&mut run, 2, 0, 0, m(1, 0));
    output(&mut run, 2, m(1, 0), None);
    let verdict = run.check();
    let dup = of_class(&verdict, FindingClass::PipelineDuplicated);
    assert_eq!(dup.len(), 1, "{:#?}", verdict.findings);
    assert_eq!(
        dup[0].explanation,
        "The final log of out holds 2 outputs for p1#0 (offset 0 of partition 0 of out and offset 2 of partition 0 \
         of out) (app.output=plain). c1 processed it at 1.100 s (offset 0 of partition 0). c1 handed an output for \
         it to its producer for partition 0 of out at 1.100 s. c1 crashed (process) at 1.200 s. c2 resumed \
         partition 0 at offset 0 at 5.000 s. c2 processed it at 5.000 s (offset 0 of partition 0). The group's \
         committed offset of partition 0 had not moved past offset 0 when it was processed again. c2 handed an \
         output for it to its producer for partition 0 of out at 5.000 s. The plain pipeline commits its offsets \
         only after its outputs are acknowledged, so an input processed again after a crash or a rebalance is \
         written again: at least once."
    );
    assert!(of_class(&verdict, FindingClass::PipelineLost).is_empty());
}

#[test]
fn an_input_whose_output_is_missing_is_pipeline_lost() {
    let mut run = pipeline("transactional", &[m(1, 0)]);
    // c1's transaction for p1#1 was aborted; its offsets moved on regardless (say, auto-commit).
    for e in &mut run.history.events {
        if let EventKind::Output { input, txn, .. } = &mut e.kind {
            *txn = Some(1 + input.seq);
        }
    }
    let kind = EventKind::TxnEnded {
        producer: PIPELINE_PRODUCER_BASE + 1,
        txn: 2,
        outcome: TxnOutcome::Aborted,
        msgs: vec![m(1, 1)],
        error: None,
    };
    run.at(1150).record(C1, kind);
    run.at(1200).commit(1, 2);
    let verdict = run.check();
    let lost = of_class(&verdict, FindingClass::PipelineLost);
    assert_eq!(lost.len(), 1, "{:#?}", verdict.findings);
    assert_eq!(lost[0].message, Some(m(1, 1)));
    assert_eq!(
        lost[0].explanation,
        "p1#1 is in the final log of partition 0 (offset 1), and no output for it is in the final log of out \
         (app.output=transactional). c1 processed it at 1.100 s (offset 1 of partition 0). c1 handed an output for \
         it to its producer for partition 0 of out at 1.100 s, in transaction 2 of c1's producer (where the app \
         aborted it and abortTransaction() returned at 1.150 s). The group's committed offset of partition 0 moved \
         past it to 2 at 1.200 s (c1). The final log of out holds no output for it."
    );
    assert!(of_class(&verdict, FindingClass::PipelineDuplicated).is_empty());
}

#[test]
fn without_a_pipeline_there_is_nothing_to_lose_or_duplicate() {
    let mut run = pipeline("plain", &[]);
    run.final_state.out.clear();
    let verdict = run.check();
    assert!(of_class(&verdict, FindingClass::PipelineLost).is_empty());
    assert!(of_class(&verdict, FindingClass::PipelineDuplicated).is_empty());
    // One output each: nothing either.
    let verdict = pipeline("plain", &p1(0, 1)).check();
    assert!(of_class(&verdict, FindingClass::PipelineLost).is_empty());
    assert!(of_class(&verdict, FindingClass::PipelineDuplicated).is_empty());
}
