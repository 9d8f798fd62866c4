//! What the producer conformance modules share: Kafka's client test setups in losslab terms.
//!
//! - `TransactionManagerTest` drives the `TransactionManager` by hand: `Books` holds a
//!   `Sequencer` and the batches the test wrote (`writeIdempotentBatchWithValue`: one record,
//!   stamped and in flight), applying every renumbering the sequencer hands back, as Kafka's
//!   batches are renumbered in place. `tp0` and `tp1` are partitions 0 and 1.
//! - `SenderTest` drives a `Sender` with a mocked network: `Rig` is the `Sender` with the test's
//!   settings (`delivery.timeout.ms` 1500, `request.timeout.ms` 5000, `linger.ms` 0, no retry
//!   backoff in the accumulator, retries unbounded, producer id 343434 at epoch 0, both
//!   partitions led by broker 1, already connected). Kafka's `runOnce` is `run`: the sender's
//!   work, then the poll that delivers what the test queued with `respond` / `respond_seq`
//!   (`client.respond`) or `disconnect` (`client.disconnect` + `client.backoff`) and completes a
//!   connection attempt. What each record's future learned is in `outcome`.

use losslab_model::config::Acks;
use losslab_model::MsgId;
use losslab_sim::client::producer::{
    Accumulator, Effect, Expiry, Leaders, RetryBackoff, Sender, SenderConfig, SeqBatch, Sequencer, SequencerRules,
};
use losslab_sim::protocol::{KafkaError, ProducerStamp};
use std::collections::BTreeMap;

pub const TP0: u32 = 0;
pub const TP1: u32 = 1;
/// `SenderTest`'s producer id.
pub const SENDER_PID: u64 = 343_434;

// ------------------------------------------------------------------ TransactionManagerTest

/// The sequencer and the batches a `TransactionManagerTest` wrote.
pub struct Books {
    pub seq: Sequencer,
    pub batches: BTreeMap<u64, SeqBatch>,
    next_id: u64,
}

impl Books {
    /// `initializeIdempotentProducerId(producerId, epoch)`.
    pub fn new(producer_id: u64, epoch: u32) -> Books {
        Books {
            seq: Sequencer::with_epoch(SequencerRules::CURRENT, producer_id, epoch),
            batches: BTreeMap::new(),
            next_id: 0,
        }
    }

    /// `writeIdempotentBatchWithValue(tp)`: a one-record batch stamped at drain and in flight.
    pub fn write(&mut self, partition: u32) -> u64 {
        self.next_id += 1;
        let mut batch = SeqBatch { id: self.next_id, partition, stamp: None, count: 1, reopened: false };
        batch.stamp = Some(self.seq.stamp_new_batch(&batch));
        self.batches.insert(batch.id, batch);
        batch.id
    }

    pub fn batch(&self, id: u64) -> SeqBatch {
        self.batches[&id]
    }

    pub fn stamp(&self, id: u64) -> ProducerStamp {
        self.batches[&id].stamp.expect("written batches are stamped")
    }

    /// `handleCompletedBatch(b, response)`.
    pub fn complete(&mut self, id: u64, base_offset: Option<u64>) {
        let b = self.batch(id);
        self.seq.on_completed(&b, base_offset);
        self.apply();
    }

    /// `handleFailedBatch(b, exception, adjustSequenceNumbers)`.
    pub fn fail(&mut self, id: u64, error: KafkaError, adjust: bool) {
        let b = self.batch(id);
        self.seq.on_failed(&b, error, adjust);
        self.apply();
    }

    /// `canRetry(response, b)`.
    pub fn can_retry(&mut self, id: u64, error: KafkaError) -> bool {
        let b = self.batch(id);
        let retry = self.seq.can_retry(&b, error);
        self.apply();
        retry
    }

    /// `markSequenceUnresolved(b)`.
    pub fn mark_unresolved(&mut self, id: u64) {
        let b = self.batch(id);
        self.seq.mark_unresolved(&b);
        self.apply();
    }

    /// What one turn of the sender loop does first: `maybeResolveSequences`, then
    /// `bumpIdempotentEpochAndResetIdIfNeeded` (the tests' `runUntil(...)`).
    pub fn run(&mut self) {
        self.seq.maybe_resolve();
        self.seq.bump_if_needed();
        self.apply();
    }

    /// `bumpIdempotentEpochAndResetIdIfNeeded()` alone.
    pub fn bump(&mut self) {
        self.seq.bump_if_needed();
        self.apply();
    }

    pub fn epoch(&self) -> u32 {
        self.seq.producer_id_and_epoch().expect("a producer id").epoch
    }

    fn apply(&mut self) {
        for r in self.seq.take_rewrites() {
            let b = self.batches.get_mut(&r.batch).expect("the sequencer renumbers only batches it was given");
            b.stamp = Some(r.stamp);
            b.reopened = true;
        }
    }
}

// ------------------------------------------------------------------ SenderTest

/// Leaders as a mocked metadata: every partition on broker 1, epoch 0 unless changed.
#[derive(Clone, Debug, Default)]
pub struct FixedLeaders(pub BTreeMap<u32, (u32, u32)>);

impl Leaders for FixedLeaders {
    fn leader(&self, partition: u32) -> Option<u32> {
        self.0.get(&partition).map(|l| l.0)
    }

    fn leader_epoch(&self, partition: u32) -> Option<u32> {
        self.0.get(&partition).map(|l| l.1)
    }
}

/// The settings of `SenderTest.setupWithTransactionState`.
pub fn sender_test_config(idempotent: bool) -> SenderConfig {
    SenderConfig {
        acks: Acks::All,
        retries: i32::MAX as u64,
        max_in_flight: 5,
        expiry: Expiry::Delivery { timeout_us: 1_500_000 },
        delivery_timeout_us: Some(1_500_000),
        request_timeout_us: 5_000_000,
        retry_backoff: RetryBackoff::constant(0),
        idempotence: idempotent.then_some(SequencerRules::CURRENT),
        oldest_first_on_disconnect: true,
        leader_hints: true,
        drain_index_per_node: true,
    }
}

/// What the mocked network delivers at the next poll.
enum Delivery {
    Answer(u64, Result<u64, KafkaError>),
    Disconnect(u32),
}

pub struct Rig {
    pub sender: Sender,
    pub now_us: u64,
    pub leaders: FixedLeaders,
    /// Each record's future: `Ok(offset)` (`None` for acks=0) or the exception.
    pub outcome: BTreeMap<MsgId, Result<Option<u64>, KafkaError>>,
    /// Every produce request written, oldest first: (corr, partition, stamp).
    pub sent: Vec<(u64, u32, Option<ProducerStamp>)>,
    next_msg: u64,
    /// Answers and disconnects `client.poll` will deliver, in order.
    deliveries: Vec<Delivery>,
    /// Connection attempts made while the broker backs off (`client.backoff(node, ms)`).
    pending_connects: Vec<u64>,
    connect_after_us: u64,
}

impl Rig {
    pub fn new(cfg: SenderConfig) -> Rig {
        // batch.size 16 KB of 100-byte records, 1 MB of buffer.memory (`SenderTest`'s pool).
        let accumulator = Accumulator::new(163, 16_384, 0, 1024 * 1024);
        let leaders = FixedLeaders([(TP0, (1, 0)), (TP1, (1, 0))].into_iter().collect());
        let mut sender = Sender::new(cfg, accumulator, SENDER_PID, 7);
        // `prepareAndReceiveInitProducerId` left a connection to the broker.
        sender.assume_connected(1);
        Rig {
            sender,
            now_us: 1_000_000,
            leaders,
            outcome: BTreeMap::new(),
            sent: Vec::new(),
            next_msg: 0,
            deliveries: Vec::new(),
            pending_connects: Vec::new(),
            connect_after_us: 0,
        }
    }

    /// `SenderTest` with a `TransactionManager` (idempotent) or without.
    pub fn sender_test(idempotent: bool) -> Rig {
        Rig::new(sender_test_config(idempotent))
    }

    /// `appendToAccumulator(tp)`: one record into the partition's open batch (or a new one).
    pub fn append(&mut self, partition: u32) -> MsgId {
        self.next_msg += 1;
        let msg = MsgId { producer: 1, seq: self.next_msg };
        self.sender.accumulator.append(partition, msg, self.now_us);
        msg
    }

    /// `sender.runOnce()`: `sendProducerData` (resolve, bump, drain, expire), then `client.poll`,
    /// which delivers the answers and disconnects queued since. A broker not backing off is
    /// connected at once, as MockClient does.
    pub fn run(&mut self) {
        // MockClient connects at once when the broker is not backing off.
        if self.now_us >= self.connect_after_us {
            self.pending_connects.clear();
            self.sender.assume_connected(1);
        }
        self.sender.run_once(self.now_us, &self.leaders);
        self.take();
        for d in std::mem::take(&mut self.deliveries) {
            match d {
                Delivery::Answer(corr, result) => self.sender.on_response(corr, result, self.now_us),
                Delivery::Disconnect(broker) => {
                    self.sender.on_disconnect(broker, KafkaError::NetworkException, self.now_us)
                }
            }
            self.take();
        }
    }

    pub fn sleep(&mut self, ms: u64) {
        self.now_us += ms * 1000;
    }

    /// `client.respond(...)`: the answer reaches the sender at its next poll.
    pub fn respond(&mut self, corr: u64, result: Result<u64, KafkaError>) {
        self.deliveries.push(Delivery::Answer(corr, result));
    }

    /// `sendIdempotentProducerResponse(seq, tp, error, offset)`: answers the request in flight
    /// whose batch starts at `seq`.
    pub fn respond_seq(&mut self, partition: u32, seq: u32, result: Result<u64, KafkaError>) {
        let corr = self.corr_of(partition, seq).unwrap_or_else(|| panic!("no request for seq {seq} in flight"));
        self.respond(corr, result);
    }

    pub fn corr_of(&self, partition: u32, seq: u32) -> Option<u64> {
        self.sender
            .in_flight()
            .into_iter()
            .find(|(_, _, b)| b.partition == partition && b.stamp.is_some_and(|s| s.base_sequence == seq))
            .map(|(c, _, _)| c)
    }

    /// The requests in flight, oldest first.
    pub fn in_flight(&self) -> Vec<u64> {
        self.sender.in_flight().into_iter().map(|(c, _, _)| c).collect()
    }

    /// `client.disconnect(node)` (then `client.backoff(node, backoff_ms)`): what was in flight
    /// completes as disconnected at the next poll; a new connection waits out the backoff.
    pub fn disconnect(&mut self, broker: u32, backoff_ms: u64) {
        self.sender.connection_lost(broker);
        self.deliveries.push(Delivery::Disconnect(broker));
        self.connect_after_us = self.now_us + backoff_ms * 1000;
    }

    /// The base sequences of the partition's queued batches, head first (`None`: unsequenced).
    pub fn queued(&self, partition: u32) -> Vec<Option<u32>> {
        self.sender.accumulator.queue(partition).map(|b| b.stamp.map(|s| s.base_sequence)).collect()
    }

    pub fn seq(&self) -> &Sequencer {
        self.sender.sequencer.as_ref().expect("an idempotent rig")
    }

    pub fn epoch(&self) -> u32 {
        self.seq().producer_id_and_epoch().expect("a producer id").epoch
    }

    /// `assertPartitionState(tm, tp, pid, epoch, nextSequence, lastAckedSequence)`, where the
    /// partition's epoch is the one its next new batch would carry once stale state is caught up.
    pub fn partition_state(&self, partition: u32) -> (u32, Option<u32>) {
        (self.seq().sequence_number(partition), self.seq().last_acked_sequence(partition))
    }

    /// Records what the sender did; connection attempts wait for the next poll.
    fn take(&mut self) {
        for e in self.sender.take_effects() {
            match e {
                Effect::Connect { corr, .. } => self.pending_connects.push(corr),
                Effect::Produce { corr, partition, stamp, .. } => self.sent.push((corr, partition, stamp)),
                Effect::Acked { msgs, base_offset, .. } => {
                    for (i, &m) in msgs.iter().enumerate() {
                        self.outcome.insert(m, Ok(base_offset.map(|b| b + i as u64)));
                    }
                }
                Effect::Failed { msgs, error, .. } => {
                    for &m in msgs.iter() {
                        self.outcome.insert(m, Err(error));
                    }
                }
                Effect::Retry { .. } | Effect::IdChanged(_) | Effect::NeedMetadata => {}
            }
        }
    }
}
