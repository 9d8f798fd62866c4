//! A retried batch that the broker had already stored (`duplicated`), and one that lands after
//! a later batch (`reordered`): what the producer client's retries do without idempotence.

use crate::story::{assert_mentions, m, only, p1, Run};
use losslab_model::history::ElectionKind;
use losslab_model::FindingClass;

#[test]
fn a_retried_batch_the_broker_already_stored_is_duplicated() {
    let mut run = Run::new(&[("enable.idempotence", "false"), ("retries", "2147483647")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).append(1, 0, 1, &p1(0, 0), true);
    run.at(30_100).retry(1, 1, "REQUEST_TIMED_OUT");
    run.at(30_200).request(1, 1, 2, &p1(0, 0)).append(1, 1, 1, &p1(0, 0), true);
    run.at(30_210).ack(1, Some(1), &p1(0, 0), true);
    run.final_log(1, 1, &[m(1, 0), m(1, 0)], &[1]);

    let dup = only(&run.check(), FindingClass::Duplicated);
    assert_eq!(dup.len(), 1);
    assert_mentions(
        &dup[0],
        &[
            "p1#0 is stored 2 times in the final logs, at offsets 0 and 1 of partition 0",
            "enable.idempotence=false",
            "b1 appended it at offset 0 in leader epoch 1 at 0.100 s",
            "attempt 1 got REQUEST_TIMED_OUT at 30.100 s",
            "b1 appended it at offset 1",
        ],
    );
}

#[test]
fn a_retried_batch_lands_after_a_later_one() {
    let mut run = Run::new(&[("enable.idempotence", "false"), ("max.in.flight.requests.per.connection", "5")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0));
    run.at(101).send(&p1(1, 2)).request(1, 2, 1, &p1(1, 2));
    run.at(105).append(1, 0, 1, &p1(1, 2), true).ack(2, Some(0), &p1(1, 2), true);
    run.at(106).retry(1, 1, "NOT_LEADER_OR_FOLLOWER");
    run.at(210).request(1, 1, 2, &p1(0, 0)).append(1, 2, 1, &p1(0, 0), true).ack(1, Some(2), &p1(0, 0), true);
    run.final_log(1, 1, &[m(1, 1), m(1, 2), m(1, 0)], &[1]);

    let reordered = only(&run.check(), FindingClass::Reordered);
    // Both later records landed before p1#0: one finding each.
    let ids: Vec<_> = reordered.iter().map(|f| f.message).collect();
    assert_eq!(ids, vec![Some(m(1, 1)), Some(m(1, 2))]);
    assert_mentions(
        &reordered[0],
        &[
            "p1#1 (batch 2, sent at 0.101 s, acknowledged at 0.105 s) is stored at offset 0 of \
            partition 0",
            "before p1#0 (batch 1, sent at 0.100 s, acknowledged at 0.210 s)",
            "stored at offset 2",
            "max.in.flight.requests.per.connection=5",
            "The client retried batch 1: attempt 1 got NOT_LEADER_OR_FOLLOWER at 0.106 s",
            "b1 appended p1#0 at offset 2",
        ],
    );
}

#[test]
fn two_failed_batches_go_back_to_the_front_of_the_queue_and_swap() {
    // Without idempotence a failed batch is re-enqueued at the front (RecordAccumulator.reenqueue,
    // addFirst): batch 1 fails first and goes back, then batch 2 fails and goes in front of it.
    let mut run = Run::new(&[("enable.idempotence", "false"), ("max.in.flight.requests.per.connection", "5")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0));
    run.at(101).send(&p1(1, 1)).request(1, 2, 1, &p1(1, 1));
    run.at(106).retry(1, 1, "NETWORK_EXCEPTION").retry(2, 1, "NETWORK_EXCEPTION");
    run.at(210).request(1, 2, 2, &p1(1, 1)).append(1, 0, 1, &p1(1, 1), true).ack(2, Some(0), &p1(1, 1), true);
    run.at(211).request(1, 1, 2, &p1(0, 0)).append(1, 1, 1, &p1(0, 0), true).ack(1, Some(1), &p1(0, 0), true);
    run.final_log(1, 1, &[m(1, 1), m(1, 0)], &[1]);

    let reordered = only(&run.check(), FindingClass::Reordered);
    assert_eq!(reordered.len(), 1);
    assert_mentions(
        &reordered[0],
        &[
            "p1#1 (batch 2, sent at 0.101 s, acknowledged at 0.210 s) is stored at offset 0 of partition 0",
            "Both batches were retried: the client put each failed batch back at the front of its queue \
            (RecordAccumulator.reenqueue without idempotence), so batch 2 went ahead of batch 1 and was \
            stored first",
        ],
    );
    assert!(
        !reordered[0].explanation.contains("after the later batch that had succeeded"),
        "{}",
        reordered[0].explanation
    );
}
