//! Duplicates across records: the app resends (`app.on.failure=resend`) what the client
//! reported failed, and the first copy had been stored after all. Covers resends to another
//! partition, resends of resends, chains where only some copies are stored, and a long chain
//! that must be judged in linear time.

use crate::story::{assert_mentions, m, of_class, only, p1, Run, B2, P1};
use losslab_model::history::{ElectionKind, EventKind};
use losslab_model::FindingClass;

const RESEND: &[(&str, &str)] =
    &[("app.on.failure", "resend"), ("enable.idempotence", "true"), ("acks", "all"), ("delivery.timeout.ms", "3000")];

/// p1#0 is appended by b1, whose followers are cut off: the client times out, retries, and
/// gives p1#0 up at 3.100 s. The app resends it as p1#1000; the cut heals and both commit.
fn original_stored_despite_failure(run: &mut Run) {
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).append(1, 0, 1, &p1(0, 0), true);
    run.at(2100).retry(1, 1, "REQUEST_TIMED_OUT");
    run.at(2200).request(1, 1, 2, &p1(0, 0));
    run.at(3100).fail(1, "DELIVERY_TIMEOUT", &p1(0, 0));
}

#[test]
fn a_resend_of_a_record_stored_after_all_is_duplicated() {
    let mut run = Run::new(RESEND);
    original_stored_despite_failure(&mut run);
    run.at(3101).resend(m(1, 1000), m(1, 0)).request(1, 2, 1, &[m(1, 1000)]);
    run.at(6000).append(2, 0, 1, &p1(0, 0), false).append(1, 1, 1, &[m(1, 1000)], true);
    run.at(6010).append(2, 1, 1, &[m(1, 1000)], false).ack(2, Some(1), &[m(1, 1000)], true);
    run.final_log(1, 1, &[m(1, 0), m(1, 1000)], &[1, 2]);

    let verdict = run.check();
    let dup = only(&verdict, FindingClass::Duplicated);
    assert_eq!(dup.len(), 1);
    assert_eq!((dup[0].message, dup[0].partition), (Some(m(1, 1000)), Some(0)));
    assert_mentions(
        &dup[0],
        &[
            "p1#1000 is a resend of p1#0, and both are in the final logs: p1#0 was reported failed \
            with DELIVERY_TIMEOUT at 3.100 s and yet is stored at offset 0 of partition 0 (appended \
            by b1 at 0.100 s), and the resend p1#1000 is stored at offset 1 of partition 0 \
            (app.on.failure=resend, enable.idempotence=true, acks=all, delivery.timeout.ms=3000).",
            "b1 appended p1#0 at offset 0 in leader epoch 1 at 0.100 s",
            "The client retried batch 1: attempt 1 got REQUEST_TIMED_OUT at 2.100 s",
            "The app resent p1#0 as p1#1000 at 3.101 s",
            "b1 appended p1#1000 at offset 1 in leader epoch 1 at 6.000 s",
            "The client learned p1#1000 succeeded at 6.010 s",
        ],
    );
    assert!(
        dup[0]
            .explanation
            .ends_with("The app resent a record the client had reported failed, but the first copy had been stored."),
        "{}",
        dup[0].explanation
    );
    // The story is told in the order it happened.
    let e = &dup[0].explanation;
    assert!(e.find("b1 appended p1#0").unwrap() < e.find("retried").unwrap());
    assert!(e.find("retried").unwrap() < e.find("The app resent").unwrap());
    assert!(e.find("The app resent").unwrap() < e.find("b1 appended p1#1000").unwrap());
    // The original is not lost, and how the client judged each record is unchanged.
    assert_eq!(verdict.counts["lost_failed"], 0);
    assert_eq!((verdict.sent, verdict.acked, verdict.failed), (2, 1, 1));
    assert_eq!(run.check(), verdict, "the checker is deterministic");
}

#[test]
fn a_resend_to_another_partition_duplicates_across_partitions() {
    let mut run = Run::new(RESEND);
    original_stored_despite_failure(&mut run);
    // The partitioner sends the resend to partition 1, led by b2.
    run.at(3101).record(P1, EventKind::Send { msg: m(1, 1000), partition: 1, resend_of: Some(m(1, 0)), txn: None });
    let appended = EventKind::Append {
        broker: 2,
        partition: 1,
        base_offset: 0,
        leader_epoch: 1,
        msgs: vec![m(1, 1000)].into(),
        as_leader: true,
    };
    run.at(3150).record(B2, appended);
    run.final_log(1, 1, &p1(0, 0), &[1, 2]);
    let mut other = run.final_state.partitions[0].clone();
    (other.partition, other.leader, other.log) = (1, Some(2), vec![m(1, 1000)].into());
    run.final_state.partitions.push(other);

    let dup = only(&run.check(), FindingClass::Duplicated);
    assert_eq!(dup.len(), 1);
    assert_eq!((dup[0].message, dup[0].partition), (Some(m(1, 1000)), Some(1)));
    assert_mentions(
        &dup[0],
        &[
            "p1#0 was reported failed with DELIVERY_TIMEOUT at 3.100 s and yet is stored at offset 0 \
            of partition 0",
            "the resend p1#1000 is stored at offset 0 of partition 1",
            "b2 appended p1#1000 at offset 0 in leader epoch 1 at 3.150 s",
        ],
    );
}

#[test]
fn a_resend_of_a_record_that_is_not_stored_is_no_duplicate() {
    let mut run = Run::new(RESEND);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).not_enough_replicas(1, &[1]);
    run.at(3100).fail(1, "NOT_ENOUGH_REPLICAS", &p1(0, 0));
    run.at(3101).resend(m(1, 1000), m(1, 0)).request(1, 2, 1, &[m(1, 1000)]);
    run.at(6000).append(1, 0, 1, &[m(1, 1000)], true).ack(2, Some(0), &[m(1, 1000)], true);
    run.final_log(1, 1, &[m(1, 1000)], &[1, 2]);

    // The original is a loss the app was told about, as it would be without a resend.
    let lost = only(&run.check(), FindingClass::LostFailed);
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].message, Some(m(1, 0)));
    assert_mentions(&lost[0], &["p1#0 failed at 3.100 s with NOT_ENOUGH_REPLICAS and the app was told"]);
}

#[test]
fn a_resend_of_a_resend_is_counted_once() {
    let mut run = Run::new(RESEND);
    original_stored_despite_failure(&mut run);
    // The first resend is refused outright; the app resends the resend, which is stored.
    run.at(3101).resend(m(1, 1000), m(1, 0)).request(1, 2, 1, &[m(1, 1000)]).not_enough_replicas(1, &[1]);
    run.at(6101).fail(2, "NOT_ENOUGH_REPLICAS", &[m(1, 1000)]);
    run.at(6102).resend(m(1, 1001), m(1, 1000)).request(1, 3, 1, &[m(1, 1001)]);
    run.at(7000).append(1, 1, 1, &[m(1, 1001)], true).ack(3, Some(1), &[m(1, 1001)], true);
    run.final_log(1, 1, &[m(1, 0), m(1, 1001)], &[1]);

    let verdict = run.check();
    let dup = of_class(&verdict, FindingClass::Duplicated);
    assert_eq!(dup.len(), 1, "{dup:#?}");
    assert_eq!(dup[0].message, Some(m(1, 1001)));
    assert_mentions(
        dup[0],
        &[
            "p1#1001 is a resend of p1#0 by way of p1#1000, and both are in the final logs: p1#0 was \
            reported failed with DELIVERY_TIMEOUT at 3.100 s",
            "the resend p1#1001 is stored at offset 1 of partition 0",
            "The app resent p1#0 as p1#1000 at 3.101 s",
            "The client reported p1#1000 failed with NOT_ENOUGH_REPLICAS at 6.101 s",
            "The app resent p1#1000 as p1#1001 at 6.102 s",
            "b1 appended p1#1001 at offset 1 in leader epoch 1 at 7.000 s",
        ],
    );
    // The refused resend is a loss the app was told about, as without the chain.
    let lost = of_class(&verdict, FindingClass::LostFailed);
    assert_eq!(lost.iter().map(|f| f.message).collect::<Vec<_>>(), vec![Some(m(1, 1000))]);
    assert_eq!(verdict.findings.len(), 2);
}

#[test]
fn every_stored_resend_of_a_stored_chain_counts_once_against_the_first_copy() {
    let mut run = Run::new(RESEND);
    original_stored_despite_failure(&mut run);
    run.at(3101).resend(m(1, 1000), m(1, 0)).request(1, 2, 1, &[m(1, 1000)]).append(1, 1, 1, &[m(1, 1000)], true);
    run.at(6101).fail(2, "DELIVERY_TIMEOUT", &[m(1, 1000)]);
    run.at(6102).resend(m(1, 1001), m(1, 1000)).request(1, 3, 1, &[m(1, 1001)]);
    run.at(7000).append(1, 2, 1, &[m(1, 1001)], true).ack(3, Some(2), &[m(1, 1001)], true);
    run.final_log(1, 1, &[m(1, 0), m(1, 1000), m(1, 1001)], &[1]);

    // Three copies of one payload: each resend is one extra copy, of the first record.
    let dup = only(&run.check(), FindingClass::Duplicated);
    assert_eq!(dup.iter().map(|f| f.message).collect::<Vec<_>>(), vec![Some(m(1, 1000)), Some(m(1, 1001))]);
    assert_mentions(&dup[0], &["p1#1000 is a resend of p1#0, and both"]);
    assert_mentions(&dup[1], &["p1#1001 is a resend of p1#0 by way of p1#1000, and both"]);
}

#[test]
fn a_resend_duplicates_the_first_stored_record_of_its_chain() {
    let mut run = Run::new(RESEND);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    // p1#0 is refused; its resend p1#1000 is stored but reported failed; p1#1001 resends that.
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).not_enough_replicas(1, &[1]);
    run.at(3100).fail(1, "NOT_ENOUGH_REPLICAS", &p1(0, 0));
    run.at(3101).resend(m(1, 1000), m(1, 0)).request(1, 2, 1, &[m(1, 1000)]).append(1, 0, 1, &[m(1, 1000)], true);
    run.at(6101).fail(2, "DELIVERY_TIMEOUT", &[m(1, 1000)]);
    run.at(6102).resend(m(1, 1001), m(1, 1000)).request(1, 3, 1, &[m(1, 1001)]);
    run.at(7000).append(1, 1, 1, &[m(1, 1001)], true).ack(3, Some(1), &[m(1, 1001)], true);
    run.final_log(1, 1, &[m(1, 1000), m(1, 1001)], &[1]);

    let verdict = run.check();
    let dup = of_class(&verdict, FindingClass::Duplicated);
    assert_eq!(dup.len(), 1);
    assert_mentions(
        dup[0],
        &["p1#1001 is a resend of p1#1000, and both are in the final logs: p1#1000 was reported failed with \
        DELIVERY_TIMEOUT at 6.101 s and yet is stored at offset 0 of partition 0 (appended by b1 at 3.101 s)"],
    );
    assert_eq!(of_class(&verdict, FindingClass::LostFailed).len(), 1, "p1#0 itself is lost, and the app knows");
}

#[test]
fn a_resend_stored_twice_is_one_finding() {
    let mut run = Run::new(&[("app.on.failure", "resend"), ("enable.idempotence", "false")]);
    original_stored_despite_failure(&mut run);
    run.at(3101).resend(m(1, 1000), m(1, 0)).request(1, 2, 1, &[m(1, 1000)]).append(1, 1, 1, &[m(1, 1000)], true);
    run.at(4000).retry(2, 1, "REQUEST_TIMED_OUT").request(1, 2, 2, &[m(1, 1000)]);
    run.at(4001).append(1, 2, 1, &[m(1, 1000)], true).ack(2, Some(2), &[m(1, 1000)], true);
    run.final_log(1, 1, &[m(1, 0), m(1, 1000), m(1, 1000)], &[1]);

    let dup = only(&run.check(), FindingClass::Duplicated);
    assert_eq!(dup.len(), 1);
    assert_mentions(
        &dup[0],
        &[
            "p1#1000 is a resend of p1#0",
            "p1#1000 itself is stored 2 times in the final logs, at offsets 1 and 2 of partition 0",
            "b1 appended p1#1000 at offset 2 in leader epoch 1 at 4.001 s",
            "The client retried batch 2: attempt 1 got REQUEST_TIMED_OUT at 4.000 s",
        ],
    );
}

/// A long chain of stored resends: each finding walks a bounded part of the chain.
#[test]
fn a_long_chain_of_resends_is_judged_in_linear_time() {
    const N: u64 = 50_000;
    let mut run = Run::new(RESEND);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(1).send(&p1(0, 0)).append(1, 0, 1, &p1(0, 0), true).fail(0, "DELIVERY_TIMEOUT", &p1(0, 0));
    for seq in 1..N {
        run.at(1 + seq).resend(m(1, seq), m(1, seq - 1)).append(1, seq, 1, &[m(1, seq)], true);
        run.fail(seq, "DELIVERY_TIMEOUT", &[m(1, seq)]);
    }
    run.final_log(1, 1, &p1(0, N - 1), &[1]);

    let started = std::time::Instant::now();
    let verdict = run.check();
    assert_eq!(verdict.counts["duplicated"], N - 1);
    let last = verdict.findings.last().unwrap();
    assert_eq!(last.message, Some(m(1, N - 1)));
    assert_mentions(
        last,
        &[
            "p1#49999 is a resend of p1#0 by way of 49998 resends, the last p1#49996, p1#49997 and p1#49998",
            "The app resent p1#49998 as p1#49999",
        ],
    );
    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
}
