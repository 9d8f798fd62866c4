//! The checker over a large recorded history: 100,000 records sent, acknowledged and stored,
//! a tenth of them lost to a truncation, so both the clean path and the explanations are timed.

use criterion::{criterion_group, criterion_main, Criterion};
use losslab_model::history::{
    ElectionKind, Event, EventKind, FinalPartition, FinalReplica, MsgId, NodeName, TruncateReason,
};
use losslab_model::{check, FinalState, History};

fn history(records: u64) -> (History, FinalState) {
    let mut events = Vec::new();
    let msg = |seq| MsgId { producer: 1, seq };
    let ev = |t_us, node, kind| Event { t_us, node, kind };
    for seq in 0..records {
        let t = seq * 1000;
        events.push(ev(
            t,
            NodeName::Producer(1),
            EventKind::Send { msg: msg(seq), partition: 0, resend_of: None, txn: None },
        ));
        let append = EventKind::Append {
            broker: 1,
            partition: 0,
            base_offset: seq,
            leader_epoch: 1,
            msgs: vec![msg(seq)].into(),
            as_leader: true,
        };
        events.push(ev(t + 10, NodeName::Broker(1), append));
        let acked = EventKind::Acked {
            partition: 0,
            batch: seq,
            base_offset: Some(seq),
            msgs: vec![msg(seq)].into(),
            app_notified: true,
        };
        events.push(ev(t + 20, NodeName::Producer(1), acked));
    }
    let kept = records - records / 10;
    let end = records * 1000;
    let election = EventKind::Election {
        partition: 0,
        leader: Some(2),
        leader_epoch: 2,
        kind: ElectionKind::Clean,
        isr: vec![2, 3],
    };
    events.push(ev(end, NodeName::Controller, election));
    let removed = (kept..records).map(|s| (s, msg(s))).collect();
    let reason = TruncateReason::LeaderEpoch { leader: 2, leader_epoch: 2 };
    events.push(ev(
        end + 10,
        NodeName::Broker(1),
        EventKind::Truncate { broker: 1, partition: 0, to_offset: kept, removed, reason },
    ));
    let log: Vec<MsgId> = (0..kept).map(msg).collect();
    let replica = |broker| FinalReplica { broker, log_end_offset: kept, high_watermark: kept, log: log.clone().into() };
    let partition = FinalPartition {
        partition: 0,
        leader: Some(2),
        leader_epoch: 2,
        isr: vec![1, 2, 3],
        log: log.clone().into(),
        replicas: vec![replica(1), replica(2), replica(3)],
        offsets: vec![],
        uncommitted: vec![],
    };
    let history = History { events, ..History::default() };
    (history, FinalState { partitions: vec![partition], ..FinalState::default() })
}

fn bench(c: &mut Criterion) {
    let (h, f) = history(100_000);
    c.bench_function("check 100,000 records, 10,000 lost", |b| b.iter(|| check(&h, &f)));
}

criterion_group!(benches, bench);
criterion_main!(benches);
