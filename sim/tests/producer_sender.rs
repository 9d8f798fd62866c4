//! The producer's sender and sequencer by release line, through the pure `Sender` configured
//! from a scenario (`SenderConfig::of`), with the mocked network of the conformance rig: the
//! retry backoff (KIP-580), the leader hint that skips it (KIP-951), INVALID_PRODUCER_EPOCH
//! before and after KAFKA-9911, and the 0.11 / 1.0-2.4 producer-id resets that KIP-360 replaced.

#[allow(dead_code)]
#[path = "conformance/producer_fixtures.rs"]
mod producer_fixtures;

use losslab_model::Scenario;
use losslab_sim::client::producer::SenderConfig;
use losslab_sim::protocol::KafkaError;
use producer_fixtures::{Rig, TP0};

fn rig(version: &str, producer: &str) -> Rig {
    let json = format!(r#"{{"kafka.version": "{version}", "producer": {{{producer}}}}}"#);
    let scenario = Scenario::parse("inline.json", "inline", &json).unwrap_or_else(|e| panic!("{e}"));
    Rig::new(SenderConfig::of(&scenario))
}

/// Answers every attempt of one batch with NOT_LEADER_OR_FOLLOWER and returns how long each
/// retry backed off (from the answer to the next request), in ms.
fn backoffs_ms(rig: &mut Rig, retries: usize) -> Vec<u64> {
    rig.append(TP0);
    rig.run();
    let mut waits = Vec::new();
    for _ in 0..retries {
        let corr = *rig.in_flight().first().expect("a request in flight");
        rig.respond(corr, Err(KafkaError::NotLeaderOrFollower));
        rig.run();
        let answered = rig.now_us;
        while rig.in_flight().is_empty() {
            let next = rig.sender.next_deadline_us(rig.now_us).expect("a retry is due");
            assert!(next > rig.now_us, "a deadline in the future");
            rig.now_us = next;
            rig.run();
        }
        waits.push((rig.now_us - answered) / 1000);
    }
    waits
}

/// KIP-580 (3.7): `retry.backoff.ms` doubling to `retry.backoff.max.ms`, with jitter; 3.6: constant.
#[test]
fn retry_backoff_is_constant_before_3_7_and_exponential_from_it() {
    let old = backoffs_ms(&mut rig("3.6", ""), 8);
    assert_eq!(old, [100; 8]);
    let new = backoffs_ms(&mut rig("3.7", ""), 8);
    for (i, &wait) in new.iter().enumerate() {
        let term = (100.0 * 2f64.powf((i as f64).min(10f64.log2()))).min(1000.0);
        let (lo, hi) = ((term * 0.8) as u64, ((term * 1.2) as u64).min(1000));
        assert!((lo..=hi).contains(&wait), "retry {i}: {wait} ms not in {lo}..={hi}: {new:?}");
    }
    assert!(new[..4].windows(2).all(|w| w[1] > w[0]), "{new:?}");
    let capped = backoffs_ms(&mut rig("3.7", r#""retry.backoff.ms": 50, "retry.backoff.max.ms": 200"#), 6);
    assert!(capped.iter().all(|&w| w <= 200) && capped[5] >= 160, "{capped:?}");
}

/// KIP-951 (3.7, `RecordAccumulator.shouldBackoff`): a retry that goes to a new leader (its
/// partition's leader epoch rose since the last attempt) is not held back; 3.6 waits its backoff.
#[test]
fn a_retry_to_a_new_leader_skips_its_backoff_from_3_7() {
    for (version, skips) in [("3.6", false), ("3.7", true)] {
        let mut r = rig(version, r#""retry.backoff.ms": 500"#);
        r.append(TP0);
        r.run();
        let corr = r.in_flight()[0];
        r.respond(corr, Err(KafkaError::NotLeaderOrFollower));
        r.leaders.0.insert(TP0, (1, 1));
        r.run(); // the answer is read; the metadata names epoch 1 for the partition
        r.sleep(1);
        r.run();
        assert_eq!(!r.in_flight().is_empty(), skips, "{version}");
    }
}

/// KAFKA-9911 (2.7): INVALID_PRODUCER_EPOCH fails its batch and the epoch is bumped; before, it
/// is a fatal ProducerFencedException: every batch the producer holds fails, and so does every
/// later record.
#[test]
fn invalid_producer_epoch_is_fatal_before_2_7() {
    for (version, fatal) in [("2.6", true), ("2.7", false)] {
        let mut r = rig(version, r#""enable.idempotence": true, "linger.ms": 0"#);
        let first = r.append(TP0);
        r.run();
        let second = r.append(TP0);
        r.run();
        let corr = r.in_flight()[0];
        r.respond(corr, Err(KafkaError::InvalidProducerEpoch));
        r.run();
        r.run();
        if fatal {
            assert_eq!(r.outcome.get(&first), Some(&Err(KafkaError::ProducerFenced)), "{version}");
            assert_eq!(r.outcome.get(&second), Some(&Err(KafkaError::ProducerFenced)), "{version}");
            let later = r.append(TP0);
            r.run();
            assert_eq!(r.outcome.get(&later), Some(&Err(KafkaError::ProducerFenced)), "{version}");
        } else {
            assert_eq!(r.outcome.get(&first), Some(&Err(KafkaError::InvalidProducerEpoch)), "{version}");
            assert!(!r.outcome.contains_key(&second), "{version}: the rest goes on");
            assert_eq!(r.epoch(), 1, "{version}: a failed batch with retries left bumps the epoch");
        }
    }
}

/// 1.0-2.4 (`TransactionManager.canRetry`, 2.4.0): UNKNOWN_PRODUCER_ID when nothing the producer
/// had acknowledged is still in the log (here: nothing acknowledged yet) restarts the
/// partition's sequences at 0 under the same id and retries; after an acknowledged offset the
/// batch fails and the producer id is reset.
#[test]
fn unknown_producer_id_before_2_5() {
    let mut r = rig("2.4", r#""enable.idempotence": true, "linger.ms": 0"#);
    let first = r.append(TP0);
    r.run();
    r.append(TP0);
    r.run();
    let corr = r.corr_of(TP0, 1).expect("the second batch is out");
    r.respond(corr, Err(KafkaError::UnknownProducerId));
    r.run();
    assert!(!r.outcome.contains_key(&first));
    // `startSequencesAtBeginning`: the partition's batches in flight numbered again from 0 in
    // order (the first, still out, keeps 0; the second 1), reopened, under the same id.
    assert_eq!(r.queued(TP0), [Some(1)]);
    assert!(r.sender.accumulator.head(TP0).expect("queued").reopened);
    let pid = r.seq().producer_id_and_epoch().expect("kept").producer_id;

    let mut r = rig("2.4", r#""enable.idempotence": true, "linger.ms": 0"#);
    r.append(TP0);
    r.run();
    let corr = r.in_flight()[0];
    r.respond(corr, Ok(0));
    r.run();
    let second = r.append(TP0);
    r.run();
    let corr = r.in_flight()[0];
    r.respond(corr, Err(KafkaError::UnknownProducerId));
    r.run();
    assert_eq!(r.outcome.get(&second), Some(&Err(KafkaError::UnknownProducerId)));
    assert!(r.seq().needs_producer_id(), "the producer id was reset");
    r.sender.set_producer_id(pid + 1);
    let third = r.append(TP0);
    r.run();
    let stamp = r.sent.last().and_then(|s| s.2).expect("stamped");
    assert_eq!((stamp.producer_id, stamp.producer_epoch, stamp.base_sequence), (pid + 1, 0, 0));
    assert!(!r.outcome.contains_key(&third));
}

/// 0.11 (`Sender.failBatch`, no `TransactionManager.canRetry`): OUT_OF_ORDER_SEQUENCE_NUMBER
/// fails the batch and resets the producer id. From 1.0 (KAFKA-5494) a batch that is not next
/// after the last acknowledged sequence is retried: an earlier one is still on its way.
#[test]
fn out_of_order_fails_on_0_11_and_waits_from_1_0() {
    let mut r = rig("0.11", r#""enable.idempotence": true"#);
    let only = r.append(TP0);
    r.run();
    let corr = r.in_flight()[0];
    r.respond(corr, Err(KafkaError::OutOfOrderSequenceNumber));
    r.run();
    assert_eq!(r.outcome.get(&only), Some(&Err(KafkaError::OutOfOrderSequenceNumber)));
    assert!(r.seq().needs_producer_id());

    let mut r = rig("1.0", r#""enable.idempotence": true, "linger.ms": 0"#);
    r.append(TP0);
    r.run();
    let second = r.append(TP0);
    r.run();
    let corr = r.corr_of(TP0, 1).expect("two in flight");
    r.respond(corr, Err(KafkaError::OutOfOrderSequenceNumber));
    r.run();
    assert!(!r.outcome.contains_key(&second));
    assert_eq!(r.queued(TP0), [Some(1)], "requeued with its sequence");
    assert!(!r.seq().needs_producer_id());
}
