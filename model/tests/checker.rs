//! The checker on small hand-built runs. Each test tells a run the way a reader would: what
//! the app sent, what the replicas did, which faults struck, what the final logs hold; then it
//! checks the verdict and that the explanation names the cause.

use losslab_model::history::{
    ElectionKind, Event, EventKind, FinalPartition, FinalReplica, FinalState, History, MsgId, NodeName, TruncateReason,
};
use losslab_model::{check, CrashMode, Finding, FindingClass, Verdict};

// ---- a tiny story builder ----

fn m(producer: u32, seq: u64) -> MsgId {
    MsgId { producer, seq }
}

/// Producer 1's records `from..=to`.
fn p1(from: u64, to: u64) -> Vec<MsgId> {
    (from..=to).map(|s| m(1, s)).collect()
}

const B1: NodeName = NodeName::Broker(1);
const B2: NodeName = NodeName::Broker(2);
const P1: NodeName = NodeName::Producer(1);
const C1: NodeName = NodeName::Consumer(1);

struct Run {
    history: History,
    final_state: FinalState,
    now_us: u64,
}

impl Run {
    fn new(settings: &[(&str, &str)]) -> Run {
        let mut history = History::default();
        history.meta.scenario = "test".into();
        history.meta.kafka_version = "4.1".into();
        history.meta.producers = 1;
        history.meta.settings = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Run { history, final_state: FinalState::default(), now_us: 0 }
    }

    fn with_consumers(mut self, consumers: u32) -> Run {
        self.history.meta.consumers = consumers;
        self
    }

    /// Moves the clock to `ms` milliseconds.
    fn at(&mut self, ms: u64) -> &mut Run {
        self.now_us = ms * 1000;
        self
    }

    fn record(&mut self, node: NodeName, kind: EventKind) -> &mut Run {
        self.history.events.push(Event { t_us: self.now_us, node, kind });
        self
    }

    // the app and the producer client

    fn send(&mut self, msgs: &[MsgId]) -> &mut Run {
        for &msg in msgs {
            self.record(P1, EventKind::Send { msg, partition: 0, resend_of: None });
        }
        self
    }

    /// The app sends `msg` again as the new record `resend` (`app.on.failure=resend`).
    fn resend(&mut self, resend: MsgId, msg: MsgId) -> &mut Run {
        self.record(P1, EventKind::Send { msg: resend, partition: 0, resend_of: Some(msg) })
    }

    fn request(&mut self, broker: u32, batch: u64, attempt: u32, msgs: &[MsgId]) -> &mut Run {
        let kind = EventKind::ProduceRequest { broker, partition: 0, batch, attempt, msgs: msgs.to_vec() };
        self.record(P1, kind)
    }

    fn retry(&mut self, batch: u64, attempt: u32, error: &str) -> &mut Run {
        let kind = EventKind::ProduceRetry { partition: 0, batch, attempt, error: error.into() };
        self.record(P1, kind)
    }

    fn ack(&mut self, batch: u64, base_offset: Option<u64>, msgs: &[MsgId], app_notified: bool) -> &mut Run {
        let kind = EventKind::Acked { partition: 0, batch, base_offset, msgs: msgs.to_vec(), app_notified };
        self.record(P1, kind)
    }

    fn fail(&mut self, batch: u64, error: &str, msgs: &[MsgId]) -> &mut Run {
        let kind =
            EventKind::Failed { partition: 0, batch, error: error.into(), msgs: msgs.to_vec(), app_notified: true };
        self.record(P1, kind)
    }

    // replicas, disks and the controller

    fn elect(&mut self, leader: Option<u32>, leader_epoch: u32, kind: ElectionKind, isr: &[u32]) -> &mut Run {
        let kind = EventKind::Election { partition: 0, leader, leader_epoch, kind, isr: isr.to_vec() };
        self.record(NodeName::Controller, kind)
    }

    fn isr_change(&mut self, isr: &[u32], cause: &str) -> &mut Run {
        let kind = EventKind::PartitionChange {
            partition: 0,
            leader: isr.first().copied(),
            leader_epoch: 1,
            partition_epoch: 2,
            isr: isr.to_vec(),
            elr: vec![],
            cause: cause.into(),
        };
        self.record(NodeName::Controller, kind)
    }

    fn append(
        &mut self,
        broker: u32,
        base_offset: u64,
        leader_epoch: u32,
        msgs: &[MsgId],
        as_leader: bool,
    ) -> &mut Run {
        let kind =
            EventKind::Append { broker, partition: 0, base_offset, leader_epoch, msgs: msgs.to_vec(), as_leader };
        self.record(NodeName::Broker(broker), kind)
    }

    fn truncate(&mut self, broker: u32, to_offset: u64, removed: &[MsgId], reason: TruncateReason) -> &mut Run {
        let removed = removed.iter().enumerate().map(|(i, &msg)| (to_offset + i as u64, msg)).collect();
        let kind = EventKind::Truncate { broker, partition: 0, to_offset, removed, reason };
        self.record(NodeName::Broker(broker), kind)
    }

    fn flush(&mut self, broker: u32, durable_offset: u64) -> &mut Run {
        let kind = EventKind::Flush { broker, partition: 0, durable_offset, by: "os writeback".into() };
        self.record(NodeName::Broker(broker), kind)
    }

    fn page_cache_lost(&mut self, broker: u32, durable_offset: u64, lost: &[MsgId]) -> &mut Run {
        let lost = lost.iter().enumerate().map(|(i, &msg)| (durable_offset + i as u64, msg)).collect();
        let kind = EventKind::PageCacheLost { broker, partition: 0, durable_offset, lost };
        self.record(NodeName::Broker(broker), kind)
    }

    fn not_enough_replicas(&mut self, broker: u32, isr: &[u32]) -> &mut Run {
        let kind = EventKind::NotEnoughReplicas { broker, partition: 0, isr: isr.to_vec(), after_append: false };
        self.record(NodeName::Broker(broker), kind)
    }

    // faults

    fn crash(&mut self, node: NodeName, mode: CrashMode) -> &mut Run {
        self.record(node, EventKind::Crash { node, mode })
    }

    fn restart(&mut self, node: NodeName) -> &mut Run {
        self.record(node, EventKind::Restart { node })
    }

    // the consumer group

    fn poll(&mut self, consumer: u32, from: u64, to: u64) -> &mut Run {
        self.record(NodeName::Consumer(consumer), EventKind::Polled { consumer, partition: 0, offsets: (from, to) })
    }

    fn process(&mut self, consumer: u32, offset: u64, msg: MsgId) -> &mut Run {
        self.record(NodeName::Consumer(consumer), EventKind::Processed { consumer, partition: 0, offset, msg })
    }

    fn commit(&mut self, consumer: u32, offset: u64) -> &mut Run {
        self.record(NodeName::Consumer(consumer), EventKind::Committed { consumer, partition: 0, offset })
    }

    // the end

    /// Partition 0 ends with `leader` holding `log` below its high watermark, and every broker
    /// of `replicas` holding the same.
    fn final_log(&mut self, leader: u32, leader_epoch: u32, log: &[MsgId], replicas: &[u32]) -> &mut Run {
        let replicas = replicas
            .iter()
            .map(|&broker| FinalReplica {
                broker,
                log_end_offset: log.len() as u64,
                high_watermark: log.len() as u64,
                log: log.to_vec(),
            })
            .collect();
        self.final_state.partitions = vec![FinalPartition {
            partition: 0,
            leader: Some(leader),
            leader_epoch,
            isr: vec![leader],
            log: log.to_vec(),
            replicas,
        }];
        self
    }

    fn check(&self) -> Verdict {
        check(&self.history, &self.final_state)
    }
}

fn of_class(verdict: &Verdict, class: FindingClass) -> Vec<&Finding> {
    verdict.findings.iter().filter(|f| f.class == class).collect()
}

/// The only finding of `class`, with every other class empty.
fn only(verdict: &Verdict, class: FindingClass) -> Vec<Finding> {
    let others: Vec<&Finding> = verdict.findings.iter().filter(|f| f.class != class).collect();
    assert!(others.is_empty(), "unexpected findings: {others:#?}");
    of_class(verdict, class).into_iter().cloned().collect()
}

fn assert_mentions(finding: &Finding, words: &[&str]) {
    for word in words {
        assert!(finding.explanation.contains(word), "`{word}` missing from: {}", finding.explanation);
    }
}

fn leader_epoch(leader: u32, leader_epoch: u32) -> TruncateReason {
    TruncateReason::LeaderEpoch { leader, leader_epoch }
}

// ---- lost_acked ----

#[test]
fn acks1_leader_crash_loses_what_only_the_leader_had() {
    let mut run = Run::new(&[("acks", "1"), ("min.insync.replicas", "1")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2, 3]);
    run.at(1000).send(&p1(0, 1)).request(1, 1, 1, &p1(0, 1)).append(1, 0, 1, &p1(0, 1), true);
    run.at(1010).append(2, 0, 1, &p1(0, 1), false).append(3, 0, 1, &p1(0, 1), false);
    run.at(1020).ack(1, Some(0), &p1(0, 1), true);
    // p1#2 is acknowledged by b1 alone; b1 crashes before the followers fetch it.
    run.at(1200).send(&p1(2, 2)).request(1, 2, 1, &p1(2, 2));
    run.at(1203).append(1, 2, 1, &p1(2, 2), true);
    run.at(1204).ack(2, Some(2), &p1(2, 2), true);
    run.at(1210).crash(B1, CrashMode::Process);
    run.at(10_200).elect(Some(2), 2, ElectionKind::Clean, &[2, 3]);
    run.at(15_000).restart(B1);
    run.at(15_012).truncate(1, 2, &p1(2, 2), leader_epoch(2, 2));
    run.final_log(2, 2, &p1(0, 1), &[1, 2, 3]);

    let verdict = run.check();
    let lost = only(&verdict, FindingClass::LostAcked);
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].message, Some(m(1, 2)));
    assert_eq!(lost[0].partition, Some(0));
    assert_mentions(
        &lost[0],
        &[
            "p1#2 was acknowledged at 1.204 s (acks=1, min.insync.replicas=1, partition 0, offset \
            2)",
            "b1 appended it at offset 2 in leader epoch 1 at 1.203 s; no other replica ever held \
            it",
            "b1 crashed (process) at 1.210 s and restarted at 15.000 s",
            "elected b2 leader of partition 0 in epoch 2 at 10.200 s (clean, ISR [2, 3]); b2 did \
            not hold it",
            "b1 truncated offset 2 at 15.012 s to match leader epoch 2 of b2",
            "The final log of partition 0 (leader b2, epoch 2, 2 records) does not contain it",
        ],
    );
    // The story is told in the order it happened.
    let e = &lost[0].explanation;
    assert!(e.find("crashed").unwrap() < e.find("elected").unwrap());
    assert!(e.find("elected").unwrap() < e.find("truncated").unwrap());
    assert_eq!((verdict.sent, verdict.acked, verdict.failed), (3, 3, 0));
}

#[test]
fn power_loss_takes_acknowledged_records_still_in_the_page_cache() {
    let mut run = Run::new(&[("acks", "all"), ("log.flush.interval.messages", "9223372036854775807")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).send(&p1(0, 3)).request(1, 1, 1, &p1(0, 3)).append(1, 0, 1, &p1(0, 3), true);
    run.at(110).ack(1, Some(0), &p1(0, 3), true);
    run.at(500).flush(1, 2);
    run.at(2000).crash(B1, CrashMode::Power);
    run.at(5000).restart(B1).page_cache_lost(1, 2, &p1(2, 3));
    run.at(5100).elect(Some(1), 2, ElectionKind::Clean, &[1]);
    run.final_log(1, 2, &p1(0, 1), &[1]);

    let lost = only(&run.check(), FindingClass::LostAcked);
    let ids: Vec<_> = lost.iter().map(|f| f.message).collect();
    assert_eq!(ids, vec![Some(m(1, 2)), Some(m(1, 3))]);
    assert_mentions(
        &lost[1],
        &[
            "acks=all",
            "offset 3",
            "b1 lost power at 2.000 s and its page cache with offsets 2..4 of partition 0, not yet \
            flushed",
            "its last flush, at 0.500 s, made offsets below 2 durable",
            "log.flush.interval.messages=9223372036854775807",
        ],
    );
    // The power cut is told once, as the loss of the page cache.
    assert!(!lost[1].explanation.contains("crashed (power)"), "{}", lost[1].explanation);
}

#[test]
fn a_shrunk_isr_and_a_wiped_disk_lose_an_acks_all_record() {
    let mut run = Run::new(&[("acks", "all"), ("min.insync.replicas", "1")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(3000).isr_change(&[1], "b2 fell behind");
    run.at(4000).send(&p1(0, 0)).append(1, 0, 1, &p1(0, 0), true).ack(1, Some(0), &p1(0, 0), true);
    run.at(4100).crash(B1, CrashMode::Power);
    let wiped = EventKind::Wiped { broker: 1, lost: vec![(0, 0)] };
    run.at(4200).record(B1, wiped);
    run.at(6000).elect(Some(2), 2, ElectionKind::Unclean, &[1]);
    run.final_log(2, 2, &[], &[1, 2]);

    let lost = only(&run.check(), FindingClass::LostAcked);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "min.insync.replicas=1",
            "At 3.000 s the controller set the ISR of partition 0 to [1] (b2 fell behind)",
            "b1's disk was wiped at 4.200 s, losing offset 0 of partition 0",
            "b1 crashed (power) at 4.100 s",
        ],
    );
}

#[test]
fn kip101_a_follower_truncates_to_its_high_watermark_and_is_elected() {
    let mut run = Run::new(&[("acks", "all"), ("min.insync.replicas", "1")]);
    run.history.meta.kafka_version = "0.10".into();
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 1)).append(1, 0, 1, &p1(0, 1), true).append(2, 0, 1, &p1(0, 1), false).ack(
        1,
        Some(0),
        &p1(0, 1),
        true,
    );
    run.at(200).crash(B2, CrashMode::Process);
    run.at(300).restart(B2).truncate(2, 1, &p1(1, 1), TruncateReason::HighWatermark);
    run.at(400).crash(B1, CrashMode::Process);
    run.at(500).elect(Some(2), 2, ElectionKind::Clean, &[2]);
    run.at(900).restart(B1).truncate(1, 1, &p1(1, 1), leader_epoch(2, 2));
    run.final_log(2, 2, &p1(0, 0), &[1, 2]);

    let lost = only(&run.check(), FindingClass::LostAcked);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "b2 copied it at offset 1 in leader epoch 1 at 0.100 s",
            "b2 crashed (process) at 0.200 s and restarted at 0.300 s",
            "b2 truncated offset 1 at 0.300 s to its checkpointed high watermark 1 (before \
            KIP-101; kafka.version 0.10)",
            "b1 crashed (process) at 0.400 s and restarted at 0.900 s",
            "elected b2 leader of partition 0 in epoch 2 at 0.500 s (clean, ISR [2]); b2 did not \
            hold it",
        ],
    );
}

// ---- lost_unnoticed ----

#[test]
fn fire_and_forget_loses_records_the_app_never_hears_about() {
    let mut run = Run::new(&[("acks", "1"), ("app.send", "fire-and-forget")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 0)).append(1, 0, 1, &p1(0, 0), true).ack(1, Some(0), &p1(0, 0), false);
    run.at(200).crash(B1, CrashMode::Process);
    run.at(300).elect(Some(2), 2, ElectionKind::Clean, &[2]);
    run.at(900).restart(B1).truncate(1, 0, &p1(0, 0), leader_epoch(2, 2));
    run.final_log(2, 2, &[], &[1, 2]);

    let verdict = run.check();
    let lost = only(&verdict, FindingClass::LostUnnoticed);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "p1#0 was handed to send() at 0.100 s for partition 0",
            "the client learned it succeeded at 0.100 s, but the app does not look at outcomes",
            "app.send=fire-and-forget",
            "truncated offset 0",
        ],
    );
    // The client saw the acknowledgement, so it counts as acked, yet it is not lost_acked.
    assert_eq!(verdict.acked, 1);
    assert_eq!(verdict.counts["lost_acked"], 0);
}

#[test]
fn acks0_records_that_never_reached_a_broker_go_unnoticed() {
    let mut run = Run::new(&[("acks", "0"), ("app.send", "fire-and-forget")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1]);
    run.at(100).crash(B1, CrashMode::Process);
    run.at(120).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).ack(1, None, &p1(0, 0), false);
    run.at(900).restart(B1);
    run.final_log(1, 1, &[], &[1]);

    let lost = only(&run.check(), FindingClass::LostUnnoticed);
    assert_mentions(
        &lost[0],
        &[
            "acks=0",
            "It never reached a broker: the client's last request for it (batch 1, attempt 1)",
            "went to b1 at 0.120 s",
        ],
    );
}

#[test]
fn records_held_by_a_crashed_producer_are_lost_unnoticed() {
    let mut run = Run::new(&[("acks", "all"), ("linger.ms", "5")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2, 3]);
    run.at(1000).send(&p1(0, 2));
    run.at(1500).crash(P1, CrashMode::Process).record(P1, EventKind::ProducerLost { msgs: p1(0, 2) });
    run.final_log(1, 1, &[], &[1, 2, 3]);

    let lost = only(&run.check(), FindingClass::LostUnnoticed);
    assert_eq!(lost.len(), 3);
    assert_mentions(
        &lost[1],
        &[
            "p1#1 was handed to send() at 1.000 s",
            "p1 crashed at 1.500 s still holding it and 2 other records",
            "It never reached a broker: the client never sent a request for it",
        ],
    );
}

// ---- lost_failed ----

#[test]
fn a_write_refused_for_lack_of_replicas_fails_and_the_app_is_told() {
    let mut run = Run::new(&[("acks", "all"), ("min.insync.replicas", "3")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).send(&p1(0, 0)).request(1, 1, 1, &p1(0, 0)).not_enough_replicas(1, &[1, 2]);
    run.at(101).retry(1, 1, "NOT_ENOUGH_REPLICAS");
    run.at(300).request(1, 1, 2, &p1(0, 0)).not_enough_replicas(1, &[1, 2]);
    run.at(301).retry(1, 2, "NOT_ENOUGH_REPLICAS");
    run.at(120_100).fail(1, "DELIVERY_TIMEOUT", &p1(0, 0));
    run.final_log(1, 1, &[], &[1, 2]);

    let verdict = run.check();
    let lost = only(&verdict, FindingClass::LostFailed);
    assert_eq!(lost.len(), 1);
    assert_mentions(
        &lost[0],
        &[
            "p1#0 failed at 120.100 s with DELIVERY_TIMEOUT and the app was told",
            "min.insync.replicas=3",
            "The client retried batch 1: attempt 1 got NOT_ENOUGH_REPLICAS at 0.101 s",
            "b1 rejected writes to partition 0 with NOT_ENOUGH_REPLICAS 2 times from 0.100 s to \
            0.300 s",
            "ISR was [1, 2]",
        ],
    );
    assert_eq!((verdict.sent, verdict.acked, verdict.failed), (1, 0, 1));
}

// ---- duplicated and reordered ----

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

// ---- duplicated across records: the app resends what the client reported failed ----

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
    run.at(3101).record(P1, EventKind::Send { msg: m(1, 1000), partition: 1, resend_of: Some(m(1, 0)) });
    let appended = EventKind::Append {
        broker: 2,
        partition: 1,
        base_offset: 0,
        leader_epoch: 1,
        msgs: vec![m(1, 1000)],
        as_leader: true,
    };
    run.at(3150).record(B2, appended);
    run.final_log(1, 1, &p1(0, 0), &[1, 2]);
    let mut other = run.final_state.partitions[0].clone();
    (other.partition, other.leader, other.log) = (1, Some(2), vec![m(1, 1000)]);
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

// ---- the consumer group ----

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

// ---- replicas and the run ----

#[test]
fn replicas_that_disagree_below_their_high_watermarks_diverge() {
    let mut run = Run::new(&[("unclean.leader.election.enable", "true")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).append(1, 0, 1, &p1(0, 1), true).append(2, 0, 1, &p1(0, 0), false);
    run.at(200).crash(B1, CrashMode::Process);
    run.at(300).elect(Some(2), 2, ElectionKind::Unclean, &[1]);
    run.at(400).append(2, 1, 2, &[m(1, 5)], true);
    run.final_log(2, 2, &[m(1, 0), m(1, 5)], &[2]);
    run.final_state.partitions[0]
        .replicas
        .insert(0, FinalReplica { broker: 1, log_end_offset: 2, high_watermark: 2, log: vec![m(1, 0), m(1, 1)] });

    let verdict = run.check();
    let diverged = of_class(&verdict, FindingClass::Divergence);
    assert_eq!(diverged.len(), 1);
    assert_eq!((diverged[0].message, diverged[0].partition), (None, Some(0)));
    assert_mentions(
        diverged[0],
        &[
            "b1 and b2 hold different records at offset 1 of partition 0, below both their high \
            watermarks (2 and 2)",
            "b1 has p1#1, b2 has p1#5",
            "b1 appended p1#1 at offset 1 in leader epoch 1 at 0.100 s",
            "The controller elected b2 leader of partition 0 in epoch 2 at 0.300 s (unclean, \
            unclean.leader.election.enable=true, ISR [1])",
        ],
    );
}

#[test]
fn a_final_phase_that_does_not_converge_is_stuck() {
    let mut run = Run::new(&[]);
    run.at(50_000).record(NodeName::Controller, EventKind::FinalPhase);
    run.final_state.stuck = true;
    run.final_state.stuck_reason = Some("partition 0 has no leader: its only ISR member b1 is wiped".into());
    run.final_state.end_us = 170_000_000;

    let stuck = only(&run.check(), FindingClass::Stuck);
    assert_eq!(stuck.len(), 1);
    assert_eq!((stuck[0].message, stuck[0].partition), (None, None));
    assert_mentions(
        &stuck[0],
        &["The final phase, started at 50.000 s, did not converge by 170.000 s", "its only ISR member b1 is wiped"],
    );
}

// ---- clean runs and the shape of the verdict ----

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
fn counts_name_all_nine_classes_even_for_an_empty_run() {
    let verdict = check(&History::default(), &FinalState::default());
    let keys: Vec<&str> = verdict.counts.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = FindingClass::ALL.iter().map(|c| c.as_str()).collect();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(keys.len(), 9);
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

// ---- any history ----

mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    fn msg() -> impl Strategy<Value = MsgId> {
        (1u32..3, 0u64..6).prop_map(|(p, s)| m(p, s))
    }

    fn msgs() -> impl Strategy<Value = Vec<MsgId>> {
        prop::collection::vec(msg(), 0..4)
    }

    fn placed() -> impl Strategy<Value = Vec<(u64, MsgId)>> {
        prop::collection::vec((0u64..8, msg()), 0..4)
    }

    fn node() -> impl Strategy<Value = NodeName> {
        prop_oneof![
            (1u32..4).prop_map(NodeName::Broker),
            Just(NodeName::Controller),
            (1u32..3).prop_map(NodeName::Producer),
            (1u32..3).prop_map(NodeName::Consumer),
        ]
    }

    fn election_kind() -> impl Strategy<Value = ElectionKind> {
        prop_oneof![
            Just(ElectionKind::Clean),
            Just(ElectionKind::Elr),
            Just(ElectionKind::Unclean),
            Just(ElectionKind::Offline),
        ]
    }

    fn mode() -> impl Strategy<Value = CrashMode> {
        prop_oneof![Just(CrashMode::Process), Just(CrashMode::Power)]
    }

    /// Any event of the kinds the checker reads, over a small world so that they collide.
    fn kind() -> impl Strategy<Value = EventKind> {
        let b = 1u32..4;
        let p = 0u32..2;
        prop_oneof![
            // Resends may name any record, themselves included, and form cycles.
            (msg(), p.clone(), prop::option::of(msg())).prop_map(|(msg, partition, resend_of)| EventKind::Send {
                msg,
                partition,
                resend_of
            }),
            (b.clone(), p.clone(), 0u64..3, 1u32..3, msgs()).prop_map(|(broker, partition, batch, attempt, msgs)| {
                EventKind::ProduceRequest { broker, partition, batch, attempt, msgs }
            }),
            (p.clone(), 0u64..3, prop::option::of(0u64..8), msgs(), any::<bool>()).prop_map(
                |(partition, batch, base_offset, msgs, app_notified)| {
                    EventKind::Acked { partition, batch, base_offset, msgs, app_notified }
                }
            ),
            (p.clone(), 0u64..3, msgs(), any::<bool>()).prop_map(|(partition, batch, msgs, app_notified)| {
                EventKind::Failed { partition, batch, error: "E".into(), msgs, app_notified }
            }),
            (p.clone(), 0u64..3, 1u32..3).prop_map(|(partition, batch, attempt)| {
                EventKind::ProduceRetry { partition, batch, attempt, error: "E".into() }
            }),
            msgs().prop_map(|msgs| EventKind::ProducerLost { msgs }),
            (b.clone(), p.clone(), 0u64..8, 1u32..4, msgs(), any::<bool>()).prop_map(
                |(broker, partition, base_offset, leader_epoch, msgs, as_leader)| {
                    EventKind::Append { broker, partition, base_offset, leader_epoch, msgs, as_leader }
                }
            ),
            (b.clone(), p.clone(), 0u64..8, placed(), b.clone(), 1u32..4, any::<bool>()).prop_map(
                |(broker, partition, to_offset, removed, leader, leader_epoch, by_hw)| {
                    EventKind::Truncate {
                        broker,
                        partition,
                        to_offset,
                        removed,
                        reason: if by_hw {
                            TruncateReason::HighWatermark
                        } else {
                            TruncateReason::LeaderEpoch { leader, leader_epoch }
                        },
                    }
                }
            ),
            (b.clone(), p.clone(), 0u64..8, placed()).prop_map(|(broker, partition, durable_offset, lost)| {
                EventKind::PageCacheLost { broker, partition, durable_offset, lost }
            }),
            (b.clone(), prop::collection::vec((0u32..2, 0u64..8), 0..4))
                .prop_map(|(broker, lost)| EventKind::Wiped { broker, lost }),
            (b.clone(), p.clone(), 0u64..8).prop_map(|(broker, partition, durable_offset)| {
                EventKind::Flush { broker, partition, durable_offset, by: "fsync".into() }
            }),
            (b.clone(), p.clone(), any::<bool>()).prop_map(|(broker, partition, after_append)| {
                EventKind::NotEnoughReplicas { broker, partition, isr: vec![broker], after_append }
            }),
            (p.clone(), prop::option::of(b.clone()), 1u32..4, election_kind()).prop_map(
                |(partition, leader, leader_epoch, kind)| {
                    EventKind::Election { partition, leader, leader_epoch, kind, isr: leader.into_iter().collect() }
                }
            ),
            (p.clone(), prop::collection::vec(b.clone(), 0..3)).prop_map(|(partition, isr)| {
                EventKind::PartitionChange {
                    partition,
                    leader: isr.first().copied(),
                    leader_epoch: 1,
                    partition_epoch: 1,
                    isr,
                    elr: vec![],
                    cause: "c".into(),
                }
            }),
            (1u32..3, p.clone(), 0u64..8, 0u64..8).prop_map(|(consumer, partition, from, to)| {
                EventKind::Polled { consumer, partition, offsets: (from, to) }
            }),
            (1u32..3, p.clone(), 0u64..8, msg()).prop_map(|(consumer, partition, offset, msg)| {
                EventKind::Processed { consumer, partition, offset, msg }
            }),
            (1u32..3, p.clone(), 0u64..8)
                .prop_map(|(consumer, partition, offset)| { EventKind::Committed { consumer, partition, offset } }),
            (node(), mode()).prop_map(|(node, mode)| EventKind::Crash { node, mode }),
            node().prop_map(|node| EventKind::Restart { node }),
            Just(EventKind::FinalPhase),
            any::<bool>().prop_map(|ok| EventKind::Converged { ok, detail: "d".into() }),
        ]
    }

    fn replica() -> impl Strategy<Value = FinalReplica> {
        (1u32..4, 0u64..8, prop::collection::vec(msg(), 0..6)).prop_map(|(broker, high_watermark, log)| FinalReplica {
            broker,
            log_end_offset: log.len() as u64,
            high_watermark,
            log,
        })
    }

    fn final_state() -> impl Strategy<Value = FinalState> {
        let partition = (
            0u32..3,
            prop::option::of(1u32..4),
            prop::collection::vec(msg(), 0..6),
            prop::collection::vec(replica(), 0..3),
        )
            .prop_map(|(partition, leader, log, replicas)| FinalPartition {
                partition,
                leader,
                leader_epoch: 1,
                isr: vec![],
                log,
                replicas,
            });
        (prop::collection::vec(partition, 0..3), any::<bool>()).prop_map(|(partitions, stuck)| FinalState {
            partitions,
            stuck,
            stuck_reason: None,
            end_us: 9,
        })
    }

    proptest! {
        /// Whatever the history, the checker answers: every class counted, counts matching
        /// the findings, findings sorted and explained, and the same answer twice.
        #[test]
        fn any_history_gets_a_consistent_verdict(
            events in prop::collection::vec((0u64..5_000_000, node(), kind()), 0..40),
            final_state in final_state(),
            consumers in 0u32..2,
        ) {
            let mut history = History::default();
            history.meta.consumers = consumers;
            history.events = events
                .into_iter()
                .map(|(t_us, node, kind)| Event { t_us, node, kind })
                .collect();
            let verdict = check(&history, &final_state);
            prop_assert_eq!(verdict.counts.len(), 9);
            let counted: u64 = verdict.counts.values().sum();
            prop_assert_eq!(counted, verdict.findings.len() as u64);
            prop_assert!(verdict.findings.iter().all(|f| !f.explanation.is_empty()));
            let key = |f: &Finding| (f.class, f.partition, f.message);
            prop_assert!(verdict.findings.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
            prop_assert_eq!(check(&history, &final_state), verdict);
        }
    }
}

// ---- scale ----

/// Many messages lost the same way: linear work, one finding each, all told alike.
#[test]
fn a_large_loss_is_judged_in_linear_time() {
    const N: u64 = 200_000;
    let mut run = Run::new(&[("acks", "1")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    for batch in 0..N / 100 {
        let msgs = p1(batch * 100, batch * 100 + 99);
        run.at(1 + batch).send(&msgs).append(1, batch * 100, 1, &msgs, true).ack(batch, Some(batch * 100), &msgs, true);
    }
    run.at(5000).crash(B1, CrashMode::Process).elect(Some(2), 2, ElectionKind::Clean, &[2]);
    run.at(6000).restart(B1).truncate(1, 0, &p1(0, N - 1), leader_epoch(2, 2));
    run.final_log(2, 2, &[], &[1, 2]);

    let started = std::time::Instant::now();
    let verdict = run.check();
    assert_eq!(verdict.counts["lost_acked"], N);
    assert_mentions(&verdict.findings[N as usize - 1], &["b1 truncated offsets 0..200000 at 6.000 s"]);
    // Generous: quadratic work over 200,000 messages would take minutes.
    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
}
