//! The tiny story builder every checker test tells its run with: a `Run` that records the
//! events of one partition in time order (the app and the producer client, replicas, disks
//! and the controller, faults, the consumer group) and the final logs, plus the assertions
//! the tests share. It lives in one place so that every test file tells runs the same way.

use losslab_model::history::{
    ElectionKind, Event, EventKind, FinalPartition, FinalReplica, FinalState, History, MsgId, NodeName, TruncateReason,
};
use losslab_model::{check, CrashMode, Finding, FindingClass, Verdict};

pub fn m(producer: u32, seq: u64) -> MsgId {
    MsgId { producer, seq }
}

/// Producer 1's records `from..=to`.
pub fn p1(from: u64, to: u64) -> Vec<MsgId> {
    (from..=to).map(|s| m(1, s)).collect()
}

pub const B1: NodeName = NodeName::Broker(1);
pub const B2: NodeName = NodeName::Broker(2);
pub const P1: NodeName = NodeName::Producer(1);
pub const C1: NodeName = NodeName::Consumer(1);

pub struct Run {
    pub history: History,
    pub final_state: FinalState,
    now_us: u64,
}

impl Run {
    pub fn new(settings: &[(&str, &str)]) -> Run {
        let mut history = History::default();
        history.meta.scenario = "test".into();
        history.meta.kafka_version = "4.1".into();
        history.meta.producers = 1;
        history.meta.settings = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Run { history, final_state: FinalState::default(), now_us: 0 }
    }

    pub fn with_consumers(mut self, consumers: u32) -> Run {
        self.history.meta.consumers = consumers;
        self
    }

    /// Moves the clock to `ms` milliseconds.
    pub fn at(&mut self, ms: u64) -> &mut Run {
        self.now_us = ms * 1000;
        self
    }

    pub fn record(&mut self, node: NodeName, kind: EventKind) -> &mut Run {
        self.history.events.push(Event { t_us: self.now_us, node, kind });
        self
    }

    // the app and the producer client

    pub fn send(&mut self, msgs: &[MsgId]) -> &mut Run {
        for &msg in msgs {
            self.record(P1, EventKind::Send { msg, partition: 0, resend_of: None, txn: None });
        }
        self
    }

    /// The app sends `msg` again as the new record `resend` (`app.on.failure=resend`).
    pub fn resend(&mut self, resend: MsgId, msg: MsgId) -> &mut Run {
        self.record(P1, EventKind::Send { msg: resend, partition: 0, resend_of: Some(msg), txn: None })
    }

    pub fn request(&mut self, broker: u32, batch: u64, attempt: u32, msgs: &[MsgId]) -> &mut Run {
        let kind = EventKind::ProduceRequest { broker, partition: 0, batch, attempt, msgs: msgs.into() };
        self.record(P1, kind)
    }

    pub fn retry(&mut self, batch: u64, attempt: u32, error: &str) -> &mut Run {
        let kind = EventKind::ProduceRetry { partition: 0, batch, attempt, error: error.into() };
        self.record(P1, kind)
    }

    pub fn ack(&mut self, batch: u64, base_offset: Option<u64>, msgs: &[MsgId], app_notified: bool) -> &mut Run {
        let kind = EventKind::Acked { partition: 0, batch, base_offset, msgs: msgs.into(), app_notified };
        self.record(P1, kind)
    }

    pub fn fail(&mut self, batch: u64, error: &str, msgs: &[MsgId]) -> &mut Run {
        let kind =
            EventKind::Failed { partition: 0, batch, error: error.into(), msgs: msgs.into(), app_notified: true };
        self.record(P1, kind)
    }

    // replicas, disks and the controller

    pub fn elect(&mut self, leader: Option<u32>, leader_epoch: u32, kind: ElectionKind, isr: &[u32]) -> &mut Run {
        let kind = EventKind::Election { partition: 0, leader, leader_epoch, kind, isr: isr.to_vec() };
        self.record(NodeName::Controller, kind)
    }

    pub fn isr_change(&mut self, isr: &[u32], cause: &str) -> &mut Run {
        let kind = EventKind::PartitionChange(Box::new(losslab_model::history::PartitionChange {
            partition: 0,
            leader: isr.first().copied(),
            leader_epoch: 1,
            partition_epoch: 2,
            isr: isr.to_vec(),
            elr: vec![],
            cause: cause.into(),
        }));
        self.record(NodeName::Controller, kind)
    }

    pub fn append(
        &mut self,
        broker: u32,
        base_offset: u64,
        leader_epoch: u32,
        msgs: &[MsgId],
        as_leader: bool,
    ) -> &mut Run {
        let kind = EventKind::Append { broker, partition: 0, base_offset, leader_epoch, msgs: msgs.into(), as_leader };
        self.record(NodeName::Broker(broker), kind)
    }

    pub fn truncate(&mut self, broker: u32, to_offset: u64, removed: &[MsgId], reason: TruncateReason) -> &mut Run {
        let removed = removed.iter().enumerate().map(|(i, &msg)| (to_offset + i as u64, msg)).collect();
        let kind = EventKind::Truncate { broker, partition: 0, to_offset, removed, reason };
        self.record(NodeName::Broker(broker), kind)
    }

    pub fn flush(&mut self, broker: u32, durable_offset: u64) -> &mut Run {
        let kind = EventKind::Flush { broker, partition: 0, durable_offset, by: "os writeback".into() };
        self.record(NodeName::Broker(broker), kind)
    }

    pub fn page_cache_lost(&mut self, broker: u32, durable_offset: u64, lost: &[MsgId]) -> &mut Run {
        let lost = lost.iter().enumerate().map(|(i, &msg)| (durable_offset + i as u64, msg)).collect();
        let kind = EventKind::PageCacheLost { broker, partition: 0, durable_offset, lost };
        self.record(NodeName::Broker(broker), kind)
    }

    pub fn not_enough_replicas(&mut self, broker: u32, isr: &[u32]) -> &mut Run {
        let kind = EventKind::NotEnoughReplicas { broker, partition: 0, isr: isr.to_vec(), after_append: false };
        self.record(NodeName::Broker(broker), kind)
    }

    // faults

    pub fn crash(&mut self, node: NodeName, mode: CrashMode) -> &mut Run {
        self.record(node, EventKind::Crash { node, mode })
    }

    pub fn restart(&mut self, node: NodeName) -> &mut Run {
        self.record(node, EventKind::Restart { node })
    }

    // the consumer group

    /// A poll as histories without record identities recorded it.
    pub fn poll(&mut self, consumer: u32, from: u64, to: u64) -> &mut Run {
        self.polled(consumer, from, to, &[])
    }

    /// A poll that returned `msgs` at offsets `from..to`.
    pub fn polled(&mut self, consumer: u32, from: u64, to: u64, msgs: &[MsgId]) -> &mut Run {
        let kind = EventKind::Polled { consumer, partition: 0, offsets: (from, to), msgs: msgs.into() };
        self.record(NodeName::Consumer(consumer), kind)
    }

    pub fn process(&mut self, consumer: u32, offset: u64, msg: MsgId) -> &mut Run {
        self.record(NodeName::Consumer(consumer), EventKind::Processed { consumer, partition: 0, offset, msg })
    }

    pub fn commit(&mut self, consumer: u32, offset: u64) -> &mut Run {
        self.record(NodeName::Consumer(consumer), EventKind::Committed { consumer, partition: 0, offset })
    }

    // the end

    /// Partition 0 ends with `leader` holding `log` below its high watermark, and every broker
    /// of `replicas` holding the same.
    pub fn final_log(&mut self, leader: u32, leader_epoch: u32, log: &[MsgId], replicas: &[u32]) -> &mut Run {
        let replicas = replicas
            .iter()
            .map(|&broker| FinalReplica {
                broker,
                log_end_offset: log.len() as u64,
                high_watermark: log.len() as u64,
                log: log.into(),
            })
            .collect();
        self.final_state.partitions = vec![FinalPartition {
            partition: 0,
            leader: Some(leader),
            leader_epoch,
            isr: vec![leader],
            log: log.into(),
            replicas,
            offsets: vec![],
            uncommitted: vec![],
        }];
        self
    }

    pub fn check(&self) -> Verdict {
        check(&self.history, &self.final_state)
    }
}

pub fn of_class(verdict: &Verdict, class: FindingClass) -> Vec<&Finding> {
    verdict.findings.iter().filter(|f| f.class == class).collect()
}

/// The only finding of `class`, with every other class empty.
pub fn only(verdict: &Verdict, class: FindingClass) -> Vec<Finding> {
    let others: Vec<&Finding> = verdict.findings.iter().filter(|f| f.class != class).collect();
    assert!(others.is_empty(), "unexpected findings: {others:#?}");
    of_class(verdict, class).into_iter().cloned().collect()
}

pub fn assert_mentions(finding: &Finding, words: &[&str]) {
    for word in words {
        assert!(finding.explanation.contains(word), "`{word}` missing from: {}", finding.explanation);
    }
}

pub fn leader_epoch(leader: u32, leader_epoch: u32) -> TruncateReason {
    TruncateReason::LeaderEpoch { leader, leader_epoch }
}
