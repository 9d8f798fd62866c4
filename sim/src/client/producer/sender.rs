//! The producer's I/O thread as a pure state machine (Kafka's `Sender` with the parts of
//! `NetworkClient` that decide durability): each `run_once` resolves sequences and bumps the
//! epoch if needed, drains what is sendable to leaders that can take another request, expires
//! batches past their deadline and breaks connections whose oldest request timed out. Answers
//! complete a batch, retry it or fail it; a broken connection fails what was in flight on it
//! (oldest first from 2.0). It owns the accumulator, the sequencer (with idempotence) and the
//! requests in flight, and reports what the process must do and record as `Effect`s: the actor
//! shell (`node`) turns them into messages and history events.

use super::accumulator::{Accumulator, Expiry, ProducerBatch};
use super::backoff::{Jitter, RetryBackoff};
use super::sequencer::{IdChange, SeqBatch, Sequencer, SequencerRules};
use crate::protocol::{KafkaError, ProducerStamp};
use losslab_model::config::Acks;
use losslab_model::{MsgIds, Scenario};
use std::collections::{BTreeMap, BTreeSet};

/// `reconnect.backoff.max.ms`: how long the client leaves a broker alone after it refused a
/// connection.
pub const RECONNECT_BACKOFF_MS: u64 = 1_000;
/// Correlation ids of connection handshakes start here, far above those of produce requests.
pub const HANDSHAKE_CORR_BASE: u64 = 1 << 62;

/// A connection to a broker, as `NetworkClient` tracks it (absent: not connected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conn {
    /// Connecting: the TCP handshake and the ApiVersions exchange (one round trip here, `corr`).
    Connecting { corr: u64, since_us: u64 },
    /// `NetworkClient.isReady`: requests may go out.
    Ready,
}

/// What the producer knows of partition leaders (its metadata cache).
pub trait Leaders {
    fn leader(&self, partition: u32) -> Option<u32>;
    fn leader_epoch(&self, partition: u32) -> Option<u32>;
}

/// The sender's settings, resolved from the scenario and its release line.
#[derive(Clone, Debug)]
pub struct SenderConfig {
    pub acks: Acks,
    pub retries: u64,
    pub max_in_flight: u32,
    /// How batches waiting in the accumulator expire.
    pub expiry: Expiry,
    /// KIP-91 (2.1): batches in flight expire at `delivery.timeout.ms` too.
    pub delivery_timeout_us: Option<u64>,
    pub request_timeout_us: u64,
    pub retry_backoff: RetryBackoff,
    /// `None` without idempotence.
    pub idempotence: Option<SequencerRules>,
    /// 2.0: a broken connection's requests complete oldest first (before, newest first).
    pub oldest_first_on_disconnect: bool,
    /// KIP-951 (3.7): leader epochs in the metadata let a retry to a new leader skip its backoff.
    pub leader_hints: bool,
    /// KAFKA-13834 (3.3): each broker has its own drain index.
    pub drain_index_per_node: bool,
}

impl SenderConfig {
    pub fn of(s: &Scenario) -> SenderConfig {
        let p = &s.producer;
        let v = s.kafka_version;
        let ms = |x: u64| x.saturating_mul(1000);
        let delivery_timeout_us = v.has_delivery_timeout().then(|| ms(p.delivery_timeout_ms));
        let expiry = match delivery_timeout_us {
            Some(timeout_us) => Expiry::Delivery { timeout_us },
            None => Expiry::Request {
                timeout_us: ms(p.request_timeout_ms),
                linger_us: ms(p.linger_ms),
                retry_backoff_us: ms(p.retry_backoff_ms),
            },
        };
        SenderConfig {
            acks: p.acks,
            retries: p.retries,
            max_in_flight: p.max_in_flight_requests_per_connection,
            expiry,
            delivery_timeout_us,
            request_timeout_us: ms(p.request_timeout_ms),
            retry_backoff: if v.exponential_retry_backoff() {
                RetryBackoff::exponential(p.retry_backoff_ms, p.retry_backoff_max_ms)
            } else {
                RetryBackoff::constant(p.retry_backoff_ms)
            },
            idempotence: p.enable_idempotence.then(|| SequencerRules::of(v)),
            oldest_first_on_disconnect: v.completes_in_flight_oldest_first(),
            leader_hints: v.produce_errors_name_the_new_leader(),
            drain_index_per_node: v.drain_index_per_node(),
        }
    }
}

/// What the process must do or record.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Open a connection to `broker`: one round trip (`corr`) that a dead process refuses.
    Connect { corr: u64, broker: u32 },
    /// Send a produce request for one batch; `attempt` counts the requests that carried it.
    Produce {
        corr: u64,
        broker: u32,
        connection: u64,
        partition: u32,
        batch: u64,
        attempt: u32,
        msgs: MsgIds,
        stamp: Option<ProducerStamp>,
    },
    /// The batch succeeded (`base_offset` is `None` for `acks=0`).
    Acked { partition: u32, batch: u64, msgs: MsgIds, base_offset: Option<u64> },
    /// The batch failed to the app.
    Failed { partition: u32, batch: u64, msgs: MsgIds, error: KafkaError },
    /// The batch goes back for another attempt (or, refused, was never sent).
    Retry { partition: u32, batch: u64, attempt: u32, error: String },
    /// The producer took a new epoch or producer id.
    IdChanged(IdChange),
    /// The metadata is stale: refresh it.
    NeedMetadata,
}

/// A produce request in flight, carrying one batch.
#[derive(Clone, Debug)]
struct Request {
    broker: u32,
    sent_us: u64,
    batch: ProducerBatch,
}

#[derive(Clone, Debug)]
pub struct Sender {
    cfg: SenderConfig,
    pub accumulator: Accumulator,
    pub sequencer: Option<Sequencer>,
    requests: BTreeMap<u64, Request>,
    next_corr: u64,
    /// Per broker: how many times its connection broke (a request names its connection).
    connections: BTreeMap<u32, u64>,
    conn: BTreeMap<u32, Conn>,
    reconnect_at_us: BTreeMap<u32, u64>,
    /// `max.in.flight.requests.per.connection=1`: partitions with a batch in flight
    /// (`guaranteeMessageOrder` mutes them).
    muted: BTreeSet<u32>,
    /// Where each broker's drain starts (one shared index before 3.3).
    drain_index: BTreeMap<u32, usize>,
    jitter: Jitter,
    effects: Vec<Effect>,
    /// A transactional producer's drain gate, set by the shell from its `TxnManager` before
    /// every run (`None`: not transactional).
    pub txn_gate: Option<TxnGate>,
}

/// What a transactional producer's `TransactionManager` lets the sender drain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxnGate {
    /// `isSendToPartitionAllowed`: partitions the coordinator added to the transaction.
    pub allowed: BTreeSet<u32>,
    /// A transactional request is in flight or was just sent: `Sender.runOnce` returns after
    /// `maybeSendAndPollTransactionalRequest` without sending produce data.
    pub hold: bool,
}

impl Sender {
    pub fn new(cfg: SenderConfig, accumulator: Accumulator, producer_id: u64, jitter_seed: u64) -> Sender {
        let sequencer = cfg.idempotence.map(|rules| Sequencer::new(rules, producer_id));
        Sender {
            cfg,
            accumulator,
            sequencer,
            requests: BTreeMap::new(),
            next_corr: 0,
            connections: BTreeMap::new(),
            conn: BTreeMap::new(),
            reconnect_at_us: BTreeMap::new(),
            muted: BTreeSet::new(),
            drain_index: BTreeMap::new(),
            jitter: Jitter::new(jitter_seed),
            effects: Vec::new(),
            txn_gate: None,
        }
    }

    pub fn config(&self) -> &SenderConfig {
        &self.cfg
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// The connection a request to `broker` goes on now.
    pub fn connection(&self, broker: u32) -> u64 {
        self.connections.get(&broker).copied().unwrap_or(0)
    }

    /// Requests on the wire, expired batches' included (`client.inFlightRequestCount()`).
    pub fn requests_in_flight(&self) -> usize {
        self.requests.len()
    }

    /// The requests in flight, oldest first: (correlation id, broker, batch).
    pub fn in_flight(&self) -> Vec<(u64, u32, &ProducerBatch)> {
        self.requests.iter().map(|(&c, r)| (c, r.broker, &r.batch)).collect()
    }

    /// Kafka's `Sender.inFlightBatches(tp)`: batches of `partition` sent and not answered, not
    /// counting those expired meanwhile.
    pub fn in_flight_batches(&self, partition: u32) -> usize {
        self.requests.values().filter(|r| r.batch.partition == partition && !r.batch.done).count()
    }

    /// Nothing left to send and nothing in flight: a closing producer may exit.
    pub fn is_idle(&self) -> bool {
        self.accumulator.is_empty() && self.requests.is_empty()
    }

    /// `Sender.initiateClose`: the accumulator takes no more records and every batch is sendable.
    pub fn initiate_close(&mut self) {
        self.accumulator.closed = true;
    }

    pub fn needs_producer_id(&self) -> bool {
        self.sequencer.as_ref().is_some_and(Sequencer::needs_producer_id)
    }

    /// InitProducerId answered with `producer_id`.
    pub fn set_producer_id(&mut self, producer_id: u64) {
        if let Some(seq) = self.sequencer.as_mut() {
            seq.set_producer_id(producer_id);
        }
        self.after_sequencer();
    }

    // ------------------------------------------------------------------ the loop

    /// `Sender.runOnce`: resolve and bump, drain and send, expire, time out.
    pub fn run_once(&mut self, now_us: u64, leaders: &dyn Leaders) {
        if let Some(seq) = self.sequencer.as_mut() {
            seq.maybe_resolve();
            if let Some(fatal) = seq.fatal() {
                self.abort_everything(fatal);
                return;
            }
            // `bumpIdempotentEpochAndResetIdIfNeeded` is for idempotent producers only: a
            // transactional one bumps through InitProducerId when it aborts.
            if self.txn_gate.is_none() {
                seq.bump_if_needed();
            }
            self.after_sequencer();
        }
        let hold = self.txn_gate.as_ref().is_some_and(|g| g.hold);
        let drained = if hold { Vec::new() } else { self.drain(now_us, leaders) };
        self.expire(now_us);
        for corr in drained {
            self.emit_request(corr);
        }
        self.time_out_requests(now_us);
    }

    /// When something changes by itself (linger, backoff, expiry, request timeout, reconnect).
    pub fn next_deadline_us(&self, now_us: u64) -> Option<u64> {
        let mut at: Vec<u64> = Vec::new();
        for p in self.accumulator.partitions() {
            // A gated partition becomes sendable when the coordinator answers, not by time.
            if self.drain_allowed(p) {
                at.extend(self.accumulator.head_ready_at(p, now_us));
            }
            // Before 2.1 a muted partition's batches do not expire (`expire` skips them).
            if !(matches!(self.cfg.expiry, Expiry::Request { .. }) && self.muted.contains(&p)) {
                at.extend(self.accumulator.head_expires_at(p, self.cfg.expiry));
            }
        }
        if let Some(timeout_us) = self.cfg.delivery_timeout_us {
            let mut seen = BTreeSet::new();
            for r in self.requests.values().filter(|r| !r.batch.done) {
                if seen.insert(r.batch.partition) {
                    at.push(r.batch.created_us.saturating_add(timeout_us));
                }
            }
        }
        let mut brokers = BTreeSet::new();
        for r in self.requests.values() {
            if brokers.insert(r.broker) {
                at.push(r.sent_us.saturating_add(self.cfg.request_timeout_us));
            }
        }
        at.extend(self.reconnect_at_us.values().copied().filter(|&t| t > now_us));
        for c in self.conn.values() {
            if let Conn::Connecting { since_us, .. } = c {
                at.push(since_us.saturating_add(self.cfg.request_timeout_us));
            }
        }
        at.into_iter().min()
    }

    // ------------------------------------------------------------------ draining

    /// `RecordAccumulator.ready` + `drain`: a leader is ready when it takes another request and
    /// some partition it leads has a sendable head; then each of its partitions gives its head
    /// (unless muted, backing off, or held by the sequencer, which stops the leader's drain): one
    /// batch per partition per run, as Kafka's sender loop drains again on its next turn.
    fn drain(&mut self, now_us: u64, leaders: &dyn Leaders) -> Vec<u64> {
        let mut by_leader: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        let partitions: Vec<u32> = self.accumulator.partitions().collect();
        for p in partitions {
            match leaders.leader(p) {
                Some(b) => by_leader.entry(b).or_default().push(p),
                None => self.effects.push(Effect::NeedMetadata),
            }
            if self.cfg.leader_hints {
                let epoch = leaders.leader_epoch(p);
                if let Some(head) = self.accumulator.head_mut(p) {
                    head.maybe_update_leader_epoch(epoch);
                }
            }
        }
        self.connect_where_needed(&by_leader, now_us);
        let mut drained = Vec::new();
        for (&broker, parts) in &by_leader {
            if self.node_ready(broker, parts, now_us) {
                drained.extend(self.drain_node(broker, parts, now_us).unwrap_or_default());
            }
        }
        drained
    }

    /// `client.ready(node)` and `batchReady` for some partition of it.
    fn node_ready(&self, broker: u32, parts: &[u32], now_us: u64) -> bool {
        let in_flight = self.requests.values().filter(|r| r.broker == broker).count();
        self.conn.get(&broker) == Some(&Conn::Ready)
            && in_flight < self.cfg.max_in_flight as usize
            && self.has_sendable(parts, now_us)
    }

    fn has_sendable(&self, parts: &[u32], now_us: u64) -> bool {
        parts.iter().any(|&p| !self.muted.contains(&p) && self.accumulator.head_sendable(p, now_us) == Some(true))
    }

    /// `NetworkClient.ready` → `initiateConnect`: a leader with something to send and no
    /// connection gets one, unless it refused one within `reconnect.backoff.max.ms`. Nothing is
    /// sent to it before the connection is ready, so a dead leader costs no attempt and an
    /// `acks=0` record is not "sent" into a refused connection.
    fn connect_where_needed(&mut self, by_leader: &BTreeMap<u32, Vec<u32>>, now_us: u64) {
        for (&broker, parts) in by_leader {
            let backing_off = self.reconnect_at_us.get(&broker).is_some_and(|&t| t > now_us);
            if self.conn.contains_key(&broker) || backing_off || !self.has_sendable(parts, now_us) {
                continue;
            }
            self.next_corr += 1;
            let corr = HANDSHAKE_CORR_BASE + self.next_corr;
            self.conn.insert(broker, Conn::Connecting { corr, since_us: now_us });
            self.effects.push(Effect::Connect { corr, broker });
        }
    }

    /// The broker `corr`'s handshake went to.
    fn connecting_to(&self, corr: u64) -> Option<u32> {
        self.conn.iter().find(|(_, c)| matches!(c, Conn::Connecting { corr: k, .. } if *k == corr)).map(|(&b, _)| b)
    }

    /// A connection to `broker` that is ready already (a test that starts connected, as Kafka's
    /// do after InitProducerId).
    pub fn assume_connected(&mut self, broker: u32) {
        self.conn.insert(broker, Conn::Ready);
    }

    /// The connection to `broker` is gone, as `NetworkClient` notices before its next poll: nothing
    /// more goes out on it; what was in flight fails when `on_disconnect` delivers it.
    pub fn connection_lost(&mut self, broker: u32) {
        self.conn.remove(&broker);
    }

    /// The handshake `corr` was answered: the connection is ready.
    pub fn on_connected(&mut self, corr: u64) {
        if let Some(b) = self.connecting_to(corr) {
            self.conn.insert(b, Conn::Ready);
        }
    }

    /// One `drainBatchesForOneNode`: the requests created, or `None` if nothing drained.
    fn drain_node(&mut self, broker: u32, parts: &[u32], now_us: u64) -> Option<Vec<u64>> {
        let key = if self.cfg.drain_index_per_node { broker } else { u32::MAX };
        let start = self.drain_index.get(&key).copied().unwrap_or(0) % parts.len();
        let mut corrs = Vec::new();
        for i in 0..parts.len() {
            let index = (start + i) % parts.len();
            let p = parts[index];
            // From 3.3 the index stays on the partition being drained; before, it moves past it.
            let next = if self.cfg.drain_index_per_node { index } else { index + 1 };
            self.drain_index.insert(key, next);
            if self.muted.contains(&p)
                || self.requests.values().filter(|r| r.broker == broker).count() >= self.cfg.max_in_flight as usize
            {
                continue;
            }
            let Some(head) = self.accumulator.head(p) else { continue };
            if self.accumulator.backing_off(head, now_us) {
                continue;
            }
            if !self.drain_allowed(p) {
                // `shouldStopDrainBatchesForPartition`: not in the transaction yet.
                break;
            }
            let view = seq_view(head);
            if self.sequencer.as_ref().is_some_and(|s| !s.may_drain(&view)) {
                break;
            }
            let mut batch = self.accumulator.drain_head(p).expect("a head");
            if batch.stamp.is_none() {
                if let Some(seq) = self.sequencer.as_mut() {
                    batch.stamp = Some(seq.stamp_new_batch(&seq_view(&batch)));
                }
            }
            // A sequenced batch keeps its stamp: "if we change the producer id and sequence here,
            // this attempt will also be accepted, causing a duplicate".
            batch.reopened = false;
            batch.sends += 1;
            self.next_corr += 1;
            let corr = self.next_corr;
            if self.cfg.max_in_flight == 1 {
                self.muted.insert(p);
            }
            self.requests.insert(corr, Request { broker, sent_us: now_us, batch });
            corrs.push(corr);
        }
        (!corrs.is_empty()).then_some(corrs)
    }

    /// Whether the transaction gate (if any) lets `partition` be drained.
    fn drain_allowed(&self, partition: u32) -> bool {
        self.txn_gate.as_ref().is_none_or(|g| !g.hold && g.allowed.contains(&partition))
    }

    /// `RecordAccumulator.abortUndrainedBatches` (an abortable error or an abort): batches
    /// never drained fail with `error`; batches already sent complete as usual.
    pub fn abort_undrained(&mut self, error: KafkaError) {
        for batch in self.accumulator.take_undrained() {
            self.fail(batch, error, false);
        }
    }

    /// `accumulator.hasIncomplete()`: batches not yet answered, sent or not.
    pub fn has_incomplete(&self) -> bool {
        !self.accumulator.is_empty() || self.requests.values().any(|r| !r.batch.done)
    }

    /// Writes the request `corr`; `acks=0` completes it at once, with no answer to wait for.
    fn emit_request(&mut self, corr: u64) {
        let connection = match self.requests.get(&corr) {
            Some(r) => self.connection(r.broker),
            None => return,
        };
        let r = self.requests.get_mut(&corr).expect("looked up above");
        let msgs = r.batch.shared_msgs();
        let b = &r.batch;
        self.effects.push(Effect::Produce {
            corr,
            broker: r.broker,
            connection,
            partition: b.partition,
            batch: b.id,
            attempt: b.sends,
            msgs,
            stamp: b.stamp,
        });
        if self.cfg.acks == Acks::None {
            let r = self.requests.remove(&corr).expect("just sent");
            self.muted.remove(&r.batch.partition);
            self.complete(r.batch, None);
        }
    }

    // ------------------------------------------------------------------ answers

    /// A produce answer (`Sender.completeBatch`).
    pub fn on_response(&mut self, corr: u64, result: Result<u64, KafkaError>, now_us: u64) {
        let Some(r) = self.requests.remove(&corr) else { return };
        self.muted.remove(&r.batch.partition);
        match result {
            Ok(base_offset) => self.complete(r.batch, Some(base_offset)),
            Err(error) => self.retry_or_fail(r.batch, error, now_us),
        }
    }

    fn retry_or_fail(&mut self, mut batch: ProducerBatch, error: KafkaError, now_us: u64) {
        // Before 2.7 INVALID_PRODUCER_EPOCH reaches the client as a fatal ProducerFencedException.
        let error = match (error, self.cfg.idempotence) {
            (KafkaError::InvalidProducerEpoch, Some(rules)) if rules.invalid_epoch_fatal => KafkaError::ProducerFenced,
            _ => error,
        };
        if matches!(
            error,
            KafkaError::NotLeaderOrFollower | KafkaError::FencedLeaderEpoch | KafkaError::NetworkException
        ) {
            // An `InvalidMetadataException`: the leader moved.
            self.effects.push(Effect::NeedMetadata);
        }
        if !self.can_retry(&mut batch, error, now_us) {
            let adjust = u64::from(batch.attempts) < self.cfg.retries;
            self.fail(batch, error, adjust);
            return;
        }
        let renumbered_away = self.sequencer.as_ref().is_some_and(|s| {
            !s.rules().bumps_epoch
                && batch.stamp.is_some_and(|st| {
                    s.producer_id_and_epoch()
                        .is_none_or(|pe| pe.producer_id != st.producer_id || pe.epoch != st.producer_epoch)
                })
        });
        if renumbered_away {
            // Before 2.5: "Attempted to retry sending a batch but the producer id changed ...
            // This batch will be dropped."
            self.fail(batch, KafkaError::OutOfOrderSequenceNumber, false);
            return;
        }
        self.reenqueue(batch, error.name().to_string(), now_us);
    }

    /// `Sender.canRetry`: not past `delivery.timeout.ms`, retries left, not done, and retriable
    /// (with idempotence, as the sequencer decides).
    fn can_retry(&mut self, batch: &mut ProducerBatch, error: KafkaError, now_us: u64) -> bool {
        let timed_out = self.cfg.delivery_timeout_us.is_some_and(|t| now_us >= batch.created_us.saturating_add(t));
        if timed_out || u64::from(batch.attempts) >= self.cfg.retries || batch.done {
            return false;
        }
        let view = seq_view(batch);
        let retry = match self.sequencer.as_mut() {
            Some(seq) => seq.can_retry(&view, error),
            None => error.is_retriable(),
        };
        // Deciding may renumber the partition (1.0-2.4 UNKNOWN_PRODUCER_ID), this batch included.
        self.after_sequencer_with(Some(batch));
        retry
    }

    fn reenqueue(&mut self, batch: ProducerBatch, error: String, now_us: u64) {
        let unit = self.jitter.unit();
        let backoff_us = self.cfg.retry_backoff.backoff_ms(batch.attempts, unit).saturating_mul(1000);
        self.effects.push(Effect::Retry { partition: batch.partition, batch: batch.id, attempt: batch.sends, error });
        self.accumulator.reenqueue(batch, now_us, backoff_us);
    }

    fn complete(&mut self, mut batch: ProducerBatch, base_offset: Option<u64>) {
        if let Some(seq) = self.sequencer.as_mut() {
            seq.on_completed(&seq_view(&batch), base_offset);
        }
        self.after_sequencer();
        if batch.done {
            return;
        }
        self.accumulator.deallocate(&batch);
        let msgs = batch.shared_msgs();
        self.effects.push(Effect::Acked { partition: batch.partition, batch: batch.id, msgs, base_offset });
    }

    /// `Sender.failBatch`: the app is told, the sequencer updates its books, the memory is free.
    /// A batch already done (expired) is not failed twice.
    fn fail(&mut self, mut batch: ProducerBatch, error: KafkaError, adjust: bool) -> ProducerBatch {
        if batch.done {
            return batch;
        }
        batch.done = true;
        if let Some(seq) = self.sequencer.as_mut() {
            seq.on_failed(&seq_view(&batch), error, adjust);
        }
        self.after_sequencer();
        self.accumulator.deallocate(&batch);
        self.effects.push(Effect::Failed {
            partition: batch.partition,
            batch: batch.id,
            msgs: batch.shared_msgs(),
            error,
        });
        batch
    }

    // ------------------------------------------------------------------ connections

    /// The connection to `broker` broke: every request on it fails with `error` and goes through
    /// the retry decision, oldest first from 2.0 (`InFlightRequests.clearAll`), newest first
    /// before; the client asks for new metadata (`NetworkClient.handleServerDisconnect`).
    pub fn on_disconnect(&mut self, broker: u32, error: KafkaError, now_us: u64) {
        *self.connections.entry(broker).or_insert(0) += 1;
        self.conn.remove(&broker);
        self.effects.push(Effect::NeedMetadata);
        let mut dropped: Vec<u64> = self.requests.iter().filter(|(_, r)| r.broker == broker).map(|(&c, _)| c).collect();
        if !self.cfg.oldest_first_on_disconnect {
            dropped.reverse();
        }
        for corr in dropped {
            self.on_response(corr, Err(error), now_us);
        }
    }

    /// The broker's machine refused the connection (its process is down): nothing was sent, so
    /// every request to it goes back to the front of its queue as drained, without counting as
    /// an attempt, and the client leaves the broker alone for `reconnect.backoff.max.ms`.
    pub fn on_refused(&mut self, corr: u64, now_us: u64) {
        let Some(broker) = self.connecting_to(corr).or_else(|| self.requests.get(&corr).map(|r| r.broker)) else {
            return;
        };
        *self.connections.entry(broker).or_insert(0) += 1;
        self.conn.remove(&broker);
        let unsent: Vec<u64> =
            self.requests.iter().filter(|(_, r)| r.broker == broker).map(|(&c, _)| c).rev().collect();
        for c in unsent {
            let mut r = self.requests.remove(&c).expect("listed");
            self.muted.remove(&r.batch.partition);
            r.batch.sends -= 1;
            self.effects.push(Effect::Retry {
                partition: r.batch.partition,
                batch: r.batch.id,
                attempt: r.batch.sends,
                error: "connection refused (nothing sent)".to_string(),
            });
            if r.batch.done {
                // Expired while "in flight": nothing was sent, nothing will answer.
                continue;
            }
            self.accumulator.put_back(r.batch);
        }
        self.reconnect_at_us.insert(broker, now_us.saturating_add(RECONNECT_BACKOFF_MS * 1000));
        self.effects.push(Effect::NeedMetadata);
    }

    /// `NetworkClient.handleTimedOutRequests`: a broker whose oldest request is older than
    /// `request.timeout.ms` loses its connection.
    fn time_out_requests(&mut self, now_us: u64) {
        // A connection attempt without an answer gives up after `request.timeout.ms` (the silent
        // peer of a power cut or a network partition).
        let timeout_us = self.cfg.request_timeout_us;
        let stalled: Vec<u32> = self
            .conn
            .iter()
            .filter(|(_, c)| matches!(c, Conn::Connecting { since_us, .. } if since_us.saturating_add(timeout_us) <= now_us))
            .map(|(&b, _)| b)
            .collect();
        for broker in stalled {
            self.conn.remove(&broker);
            *self.connections.entry(broker).or_insert(0) += 1;
            self.effects.push(Effect::NeedMetadata);
        }
        let mut oldest: BTreeMap<u32, u64> = BTreeMap::new();
        for r in self.requests.values() {
            let t = oldest.entry(r.broker).or_insert(r.sent_us);
            *t = (*t).min(r.sent_us);
        }
        for (broker, sent_us) in oldest {
            if sent_us.saturating_add(self.cfg.request_timeout_us) <= now_us {
                self.on_disconnect(broker, KafkaError::ClientRequestTimeout, now_us);
            }
        }
    }

    // ------------------------------------------------------------------ expiry

    /// `Sender.sendProducerData`'s expiry: batches in the accumulator by the line's rule, and
    /// from 2.1 batches in flight at `delivery.timeout.ms` (their requests stay out). An expired
    /// batch that had been retried leaves its partition unresolved (before, in 0.11, a new id).
    fn expire(&mut self, now_us: u64) {
        let muted = self.muted.clone();
        let mut expired = self.accumulator.expire(now_us, self.cfg.expiry, &|p| muted.contains(&p));
        if let Some(timeout_us) = self.cfg.delivery_timeout_us {
            let mut stopped = BTreeSet::new();
            for r in self.requests.values_mut() {
                let p = r.batch.partition;
                if r.batch.done || stopped.contains(&p) {
                    continue;
                }
                if now_us >= r.batch.created_us.saturating_add(timeout_us) {
                    let mut copy = r.batch.clone();
                    r.batch.done = true;
                    copy.done = false;
                    expired.push(copy);
                } else {
                    stopped.insert(p);
                }
            }
        }
        let error =
            if self.cfg.delivery_timeout_us.is_some() { KafkaError::DeliveryTimeout } else { KafkaError::BatchExpired };
        for batch in expired {
            let in_retry = batch.in_retry();
            let batch = self.fail(batch, error, false);
            if in_retry {
                if let Some(seq) = self.sequencer.as_mut() {
                    seq.mark_unresolved(&seq_view(&batch));
                }
                self.after_sequencer();
            }
        }
    }

    /// A fatal error (before 2.7, INVALID_PRODUCER_EPOCH): `maybeAbortBatches` fails every batch
    /// the producer holds, in flight or not; later records fail the same way.
    fn abort_everything(&mut self, error: KafkaError) {
        for batch in self.accumulator.take_all() {
            self.fail(batch, error, false);
        }
        let corrs: Vec<u64> = self.requests.iter().filter(|(_, r)| !r.batch.done).map(|(&c, _)| c).collect();
        for corr in corrs {
            let mut copy = self.requests[&corr].batch.clone();
            self.requests.get_mut(&corr).expect("listed").batch.done = true;
            copy.done = false;
            self.fail(copy, error, false);
        }
    }

    /// Applies the sequencer's renumberings to the batches wherever they are, and reports id
    /// changes.
    fn after_sequencer(&mut self) {
        self.after_sequencer_with(None);
    }

    /// `after_sequencer`, also for a batch held outside the queues and requests.
    fn after_sequencer_with(&mut self, held: Option<&mut ProducerBatch>) {
        let Some(seq) = self.sequencer.as_mut() else { return };
        let rewrites = seq.take_rewrites();
        let changes = seq.take_changes();
        if !rewrites.is_empty() {
            let stamps: BTreeMap<u64, ProducerStamp> = rewrites.into_iter().map(|r| (r.batch, r.stamp)).collect();
            let queued = self.accumulator.batches_mut();
            let sent = self.requests.values_mut().map(|r| &mut r.batch);
            for b in queued.chain(sent).chain(held) {
                if let Some(&stamp) = stamps.get(&b.id) {
                    b.stamp = Some(stamp);
                    b.reopened = true;
                }
            }
        }
        self.effects.extend(changes.into_iter().map(Effect::IdChanged));
    }
}

/// The sequencer's view of a batch.
pub fn seq_view(b: &ProducerBatch) -> SeqBatch {
    SeqBatch { id: b.id, partition: b.partition, stamp: b.stamp, count: b.record_count(), reopened: b.reopened }
}
