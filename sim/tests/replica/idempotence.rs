//! Consumers and idempotent producers.

use super::common::*;
use losslab_model::config::Acks;
use losslab_sim::broker::log::{Log, SequenceCheck};
use losslab_sim::broker::replica::LeaderAppend;
use losslab_sim::protocol::{Batch, FetchData, KafkaError};

#[test]
fn consumers_read_only_below_the_hw() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2]);
    c.produce(1, 3, Acks::All).unwrap();
    c.fetch(2).unwrap();
    c.fetch(2).unwrap();
    c.produce(1, 3, Acks::All).unwrap();
    let n = c.node(1);
    assert_eq!(n.replica.high_watermark, 3);
    let read = n.replica.fetch_for_consumer(&n.log, 1, 100).unwrap();
    let FetchData::Records { batches, high_watermark } = read else { panic!() };
    assert_eq!(high_watermark, 3);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].msgs[..], c.records(1)[..3]);
    // Between the HW and the log end there is nothing to read yet; past the end is out of
    // range, answered with the HW.
    let read = n.replica.fetch_for_consumer(&n.log, 4, 100).unwrap();
    assert_eq!(read, FetchData::Records { batches: vec![], high_watermark: 3 });
    assert_eq!(n.replica.fetch_for_consumer(&n.log, 7, 100), Ok(FetchData::OutOfRange { log_end_offset: 3 }));

    // A batch straddling the HW is cut at the HW (a new leader keeps its HW checkpoint,
    // which need not be at a batch boundary).
    let log = log_of(&[batch(0, 1, 5)]);
    let mut c = Cluster::with_logs(V3_6, 1, [log, Log::default(), Log::default()], [2, 0, 0]);
    c.apply_all(&state(1, 2, 2, &[1, 2]));
    let n = c.node(1);
    assert_eq!(n.replica.high_watermark, 2);
    let FetchData::Records { batches, .. } = n.replica.fetch_for_consumer(&n.log, 0, 100).unwrap() else { panic!() };
    assert_eq!(batches, vec![Batch { msgs: vec![msg(0), msg(1)].into(), ..batch(0, 1, 5) }]);
}

#[test]
fn a_duplicate_idempotent_batch_gets_its_original_offset() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1, 2, 3]);
    let a = c.new_msgs(3);
    let b = c.new_msgs(2);
    let r = c.produce_msgs(1, &a, Some(stamp(0, 0)), Acks::All).unwrap();
    assert_eq!((r.base_offset, r.end_offset, r.duplicate), (0, 3, false));
    c.produce(1, 1, Acks::All).unwrap(); // someone else's record at 3
    let r = c.produce_msgs(1, &b, Some(stamp(0, 3)), Acks::All).unwrap();
    assert_eq!((r.base_offset, r.end_offset, r.duplicate), (4, 6, false));

    let r = c.produce_msgs(1, &a, Some(stamp(0, 0)), Acks::All).unwrap();
    assert_eq!(r, LeaderAppend { base_offset: 0, end_offset: 3, duplicate: true, hw_moved: None });
    let r = c.produce_msgs(1, &b, Some(stamp(0, 3)), Acks::Leader).unwrap();
    assert_eq!(r, LeaderAppend { base_offset: 4, end_offset: 6, duplicate: true, hw_moved: None });
    assert_eq!(c.leo(1), 6, "nothing appended twice");

    // A gap in the sequence, or an old batch no longer among the retained ones, is refused.
    let gap = c.new_msgs(1);
    assert_eq!(c.produce_msgs(1, &gap, Some(stamp(0, 9)), Acks::All), Err(KafkaError::OutOfOrderSequenceNumber));
    // A bumped producer epoch starts again.
    let r = c.produce_msgs(1, &gap, Some(stamp(1, 0)), Acks::All).unwrap();
    assert_eq!((r.base_offset, r.duplicate), (6, false));

    // The followers rebuild the producer state from what they fetch: after a failover the new
    // leader recognizes the retry too.
    c.fetch(2).unwrap();
    c.apply_all(&state(2, 2, 2, &[1, 2, 3]));
    let r = c.produce_msgs(2, &gap, Some(stamp(1, 0)), Acks::Leader).unwrap();
    assert_eq!(r, LeaderAppend { base_offset: 6, end_offset: 7, duplicate: true, hw_moved: None });
}

#[test]
fn a_duplicate_is_checked_against_the_retained_batches_only() {
    let mut c = cluster_led_by_1(V3_6, 1, &[1]);
    let mut sent = Vec::new();
    for i in 0..6u32 {
        let m = c.new_msgs(1);
        c.produce_msgs(1, &m, Some(stamp(0, i)), Acks::Leader).unwrap();
        sent.push(m);
    }
    // Kafka keeps the last five batches per producer: the first is too old to be recognized.
    assert_eq!(c.produce_msgs(1, &sent[0], Some(stamp(0, 0)), Acks::Leader), Err(KafkaError::OutOfOrderSequenceNumber));
    assert_eq!(c.produce_msgs(1, &sent[1], Some(stamp(0, 1)), Acks::Leader).unwrap().base_offset, 1);
    assert_eq!(c.node(1).log.check_sequence(stamp(0, 6), 1), SequenceCheck::Append);
}
