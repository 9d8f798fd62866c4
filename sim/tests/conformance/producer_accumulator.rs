//! Kafka's `RecordAccumulatorTest` (3.7.0 and 2.0.0, clients/src/test/java/org/apache/kafka/
//! clients/producer/internals/RecordAccumulatorTest.java) against `Accumulator`. Kafka's
//! `accum.ready(...)` for a single partition is `head_sendable`: `Some(true)` when its leader
//! would be ready, `Some(false)` while it lingers, `None` while it backs off. `drain` of that
//! partition is `drain_head`; `expiredBatches` is `expire` under the release line's rule. Record
//! sizes do not matter here: a batch holds `CAPACITY` records (Kafka's `expectedNumAppends`).

use losslab_model::MsgId;
use losslab_sim::client::producer::{Accumulator, Appended, Expiry, RetryBackoff};

const P1: u32 = 1;
const P2: u32 = 2;
const CAPACITY: usize = 10;
const T0_US: u64 = 1_000_000_000;

fn msg(i: u64) -> MsgId {
    MsgId { producer: 1, seq: i }
}

fn accumulator(linger_ms: u64) -> Accumulator {
    Accumulator::new(CAPACITY, 1_086, linger_ms * 1000, 10 * 1_086)
}

fn ms(x: u64) -> u64 {
    T0_US + x * 1000
}

/// Kafka: RecordAccumulatorTest.testLinger (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/RecordAccumulatorTest.java)
/// A batch with room becomes sendable after `linger.ms` (10 ms), and holds the one record.
#[test]
fn test_linger() {
    let mut a = accumulator(10);
    a.append(P1, msg(0), ms(0));
    assert_eq!(a.head_sendable(P1, ms(0)), Some(false), "not ready while lingering");
    assert_eq!(a.head_sendable(P1, ms(10)), Some(true));
    let batch = a.drain_head(P1).expect("one batch");
    assert_eq!(batch.msgs, [msg(0)]);
}

/// Kafka: RecordAccumulatorTest.testFull (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/RecordAccumulatorTest.java)
/// Records fill one batch without making it sendable (linger 10 ms, no time passes); the record
/// that does not fit opens a second batch and the first is then sendable, with every record.
#[test]
fn test_full() {
    let mut a = accumulator(10);
    for i in 0..CAPACITY as u64 - 1 {
        a.append(P1, msg(i), ms(0));
        assert_eq!(a.queue(P1).count(), 1);
        assert_eq!(a.head_sendable(P1, ms(0)), Some(false), "no partition ready");
    }
    a.append(P1, msg(9), ms(0));
    assert_eq!(a.append(P1, msg(10), ms(0)), Appended::To { batch: 2, new_batch: true, full: false });
    assert_eq!(a.queue(P1).count(), 2);
    assert_eq!(a.head_sendable(P1, ms(0)), Some(true));
    let batch = a.drain_head(P1).expect("the full batch");
    assert_eq!(batch.msgs, (0..CAPACITY as u64).map(msg).collect::<Vec<_>>());
}

/// Kafka: RecordAccumulatorTest.testRetryBackoff (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/RecordAccumulatorTest.java)
/// A re-enqueued batch backs off while a fresh batch of another partition is sendable; after the
/// backoff's upper bound (the retry backoff plus 20% jitter) it is sendable again.
#[test]
fn test_retry_backoff() {
    let linger_ms = i32::MAX as u64 / 16;
    let retry_backoff_ms = i32::MAX as u64 / 8;
    let backoff = RetryBackoff::exponential(retry_backoff_ms, retry_backoff_ms * 10);
    let mut a = accumulator(linger_ms);
    a.append(P1, msg(0), ms(0));
    assert_eq!(a.head_sendable(P1, ms(linger_ms + 1)), Some(true));
    let batch = a.drain_head(P1).expect("drained");
    a.reenqueue(batch, ms(0), backoff.backoff_ms(0, 0.999) * 1000);
    a.append(P2, msg(1), ms(0));
    assert_eq!(a.head_sendable(P1, ms(linger_ms + 1)), None, "P1 backs off");
    assert_eq!(a.head_sendable(P2, ms(linger_ms + 1)), Some(true), "P2 does not");
    let upper = (retry_backoff_ms as f64 * 1.2) as u64;
    assert_eq!(a.head_sendable(P1, ms(upper + 1)), Some(true));
}

/// Kafka: RecordAccumulatorTest.testExponentialRetryBackoff (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/RecordAccumulatorTest.java)
/// KIP-580: each retry backs off `retry.backoff.ms` (100) times 2 per earlier retry, with 20%
/// jitter, up to `retry.backoff.max.ms` (1000): the batch is held before the lower bound and
/// sendable after the upper one, for draws anywhere in the jitter's range.
#[test]
fn test_exponential_retry_backoff() {
    let linger_ms = i32::MAX as u64 / 16;
    let backoff = RetryBackoff::exponential(100, 1000);
    for unit in [0.0, 0.5, 0.999] {
        let mut a = accumulator(linger_ms);
        a.append(P1, msg(0), ms(0));
        assert_eq!(a.head_sendable(P1, ms(linger_ms + 1)), Some(true), "no backoff before the first attempt");
        let mut batch = a.drain_head(P1).expect("drained");
        // Kafka loops while the last upper bound is below 80% of the maximum: retries 0 to 3.
        for i in 0..4 {
            let wait = backoff.backoff_ms(batch.attempts, unit);
            a.reenqueue(batch, ms(0), wait * 1000);
            let lower = (100.0 * 2f64.powi(i) * 0.8) as u64;
            let upper = (100.0 * 2f64.powi(i) * 1.2) as u64;
            assert_eq!(a.head_sendable(P1, ms(lower - 1)), None, "retry {i} ({unit}) backs off");
            assert_eq!(a.head_sendable(P1, ms(upper + 1)), Some(true), "retry {i} ({unit}) is over");
            batch = a.drain_head(P1).expect("drained again");
        }
        // From the fifth retry the exponent stops at log2(max / initial): 1000 ms with its jitter,
        // never above the maximum.
        let fifth = backoff.backoff_ms(batch.attempts, unit);
        assert!((800..=1000).contains(&fifth), "{fifth}");
        assert_eq!(batch.attempts, 4);
    }
}

/// Kafka: RecordAccumulatorTest.testExpiredBatches (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/RecordAccumulatorTest.java)
/// From 2.1 (KIP-91) batches waiting in the accumulator expire `delivery.timeout.ms` (3200) after
/// their creation whether or not their partition is muted: here both, the full one and the open one.
#[test]
fn test_expired_batches() {
    let mut a = accumulator(30);
    for i in 0..=CAPACITY as u64 {
        a.append(P1, msg(i), ms(0));
    }
    assert_eq!(a.head_sendable(P1, ms(0)), Some(true), "full");
    let rule = Expiry::Delivery { timeout_us: 3_200_000 };
    let muted = |_| true;
    assert!(a.expire(ms(3200) - 1, rule, &muted).is_empty());
    let expired = a.expire(ms(3201), rule, &muted);
    assert_eq!(expired.len(), 2, "expired even though the partition is muted");
    assert!(a.expire(ms(3201), rule, &|_| false).is_empty());
    assert!(a.head(P1).is_none());
}

/// Kafka: RecordAccumulatorTest.testExpiredBatchesRetry (3.7.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/RecordAccumulatorTest.java)
/// A batch re-enqueued after a round trip expires in the accumulator at its delivery timeout only
/// if its partition is muted; unmuted, the sender drains it again first.
#[test]
fn test_expired_batches_retry() {
    let rule = Expiry::Delivery { timeout_us: 3_200_000 };
    for mute in [false, true] {
        let mut a = accumulator(3000);
        a.append(P1, msg(0), ms(0));
        assert_eq!(a.head_sendable(P1, ms(3000)), Some(true));
        let batch = a.drain_head(P1).expect("drained");
        a.reenqueue(batch, ms(4000), 0);
        let now = ms(4000 + 3200 - 1000);
        if !mute {
            // `accum.drain`: an unmuted partition gives its head to the sender.
            assert!(a.drain_head(P1).is_some());
        }
        assert_eq!(a.expire(now, rule, &|_| mute).len(), usize::from(mute));
    }
}

/// Kafka: RecordAccumulatorTest.testExpiredBatches (2.0.0, clients/src/test/java/org/apache/kafka/clients/producer/internals/RecordAccumulatorTest.java)
/// Before KIP-91 (`ProducerBatch.maybeExpire`, request timeout 60 ms, linger 3000 ms, retry
/// backoff 100 ms): a full batch expires 60 ms after its last append, an open one 60 ms after
/// its creation plus linger, a retried one 60 ms after its last attempt plus the backoff; never
/// while its partition is muted.
#[test]
fn test_expired_batches_before_kip_91() {
    let rule = Expiry::Request { timeout_us: 60_000, linger_us: 3_000_000, retry_backoff_us: 100_000 };
    let mut a = accumulator(3000);
    for i in 0..=CAPACITY as u64 {
        a.append(P1, msg(i), ms(0));
    }
    assert_eq!(a.expire(ms(61), rule, &|_| true).len(), 0, "not while muted");
    assert_eq!(a.expire(ms(61), rule, &|_| false).len(), 1, "the full batch, 61 ms after its last append");
    assert_eq!(a.expire(ms(61 + 3000 + 61), rule, &|_| true).len(), 0);
    assert_eq!(a.expire(ms(61 + 3000 + 61), rule, &|_| false).len(), 1, "the open one, after creation + linger");
    // A retried batch.
    let t = 61 + 3000 + 61;
    a.append(P1, msg(20), ms(t));
    let batch = a.drain_head(P1).expect("drained after linger");
    a.reenqueue(batch, ms(t + 3000 + 1000), 100_000);
    let retried = t + 3000 + 1000;
    assert!(a.expire(ms(retried + 60 + 100), rule, &|_| false).is_empty(), "not yet");
    assert!(a.expire(ms(retried + 60 + 100 + 1), rule, &|_| true).is_empty(), "not while muted");
    assert_eq!(a.expire(ms(retried + 60 + 100 + 1), rule, &|_| false).len(), 1);
}
