//! A producer process: the application that hands records to `send()` at the workload's rate,
//! and the Kafka client under it. The client batches records per partition in its accumulator
//! (`linger.ms`, `batch.size`), sends at most `max.in.flight.requests.per.connection` requests
//! per broker, retries retriable errors after `retry.backoff.ms` until `delivery.timeout.ms`,
//! refreshes metadata when a leader moves, and stamps batches with producer id and sequence
//! when idempotence is on. A request that gets no answer within `request.timeout.ms` breaks
//! the connection and every request on it is retried: its outcome was unknown, not failed.
//!
//! What the app has handed to `send()` is tracked in the `World` (`ProducerProgress`), so a
//! restarted producer goes on where its app left off; its accumulator dies with the process.

use crate::client::metadata::{MetadataCache, METADATA_TIMEOUT_MS};
use crate::protocol::{KafkaError, Msg, ProducerStamp};
use crate::runtime::actor::{Actor, TimerKey, Timers};
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use losslab_model::config::{Acks, OnFailure, SendMode};
use losslab_model::history::{EventKind, MsgId, NodeName};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// `reconnect.backoff.max.ms`: how long the client leaves a broker alone after it refused a
/// connection.
const RECONNECT_BACKOFF_MS: u64 = 1_000;

#[derive(Debug)]
pub enum Timer {
    /// The app hands its next record to `send()`.
    AppSend,
    /// A batch's `linger.ms` is up.
    Linger {
        partition: u32,
        batch: u64,
    },
    /// Something may be sendable now (a retry backoff ended).
    Drain,
    RequestTimeout {
        corr: u64,
    },
    DeliveryTimeout {
        partition: u32,
        batch: u64,
    },
    MetadataTimeout {
        corr: u64,
    },
}

#[derive(Clone, Debug)]
struct ProducerBatch {
    id: u64,
    partition: u32,
    msgs: Vec<MsgId>,
    created_us: u64,
    attempts: u32,
    /// No more records join it (full, or lingered).
    closed: bool,
    retry_at_us: u64,
    stamp: Option<ProducerStamp>,
}

struct InFlight {
    broker: u32,
    batch: ProducerBatch,
}

pub struct Producer {
    world: Arc<World>,
    id: u32,
    me: NodeIdx,
    producer_id: u64,
    producer_epoch: u32,
    metadata: MetadataCache,
    accumulator: BTreeMap<u32, VecDeque<ProducerBatch>>,
    in_flight: BTreeMap<u64, InFlight>,
    next_sequence: BTreeMap<u32, u32>,
    /// Brokers that refused a connection, left alone until then.
    backoff_until_us: BTreeMap<u32, u64>,
    sticky_partition: u32,
    /// `app.send=sync`: the app waits for this record's outcome.
    awaiting: Option<MsgId>,
    next_batch: u64,
    next_corr: u64,
    timers: Timers<Timer>,
    /// The app's next `send()`: at most one is armed.
    app_send_timer: Option<TimerKey>,
}

impl Producer {
    pub fn start(world: Arc<World>, id: u32) -> Producer {
        let now = world.now_us();
        let mut p = Producer {
            me: world.producer_idx(id),
            producer_id: world.new_incarnation(),
            producer_epoch: 0,
            metadata: MetadataCache::new(id % world.scenario.brokers + 1),
            accumulator: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            next_sequence: BTreeMap::new(),
            backoff_until_us: BTreeMap::new(),
            sticky_partition: (id - 1) % world.scenario.topic.partitions,
            awaiting: None,
            next_batch: 0,
            next_corr: 0,
            timers: Timers::default(),
            app_send_timer: None,
            id,
            world,
        };
        p.request_metadata();
        p.app_send_timer = Some(p.timers.at(now, Timer::AppSend));
        p
    }

    fn cfg(&self) -> &losslab_model::ProducerConfig {
        &self.world.scenario.producer
    }

    fn record(&self, kind: EventKind) {
        self.world.record(NodeName::Producer(self.id), kind);
    }

    fn app_notified(&self) -> bool {
        self.cfg().app_send != SendMode::FireAndForget
    }

    // ---------------------------------------------------------------- the application

    fn on_app_send(&mut self) {
        if self.awaiting.is_some() {
            return;
        }
        let Some((msg, resend_of)) = self.next_record() else { return };
        let partition = self.sticky_partition;
        self.record(EventKind::Send { msg, partition, resend_of });
        if self.cfg().app_send == SendMode::Sync {
            self.awaiting = Some(msg);
        }
        self.accumulate(partition, msg);
        self.drain();
        if self.awaiting.is_none() {
            self.schedule_app_send();
        }
    }

    /// The record the app hands to `send()` next, and the failed record it resends, if any:
    /// first what a crashed `app.send=sync` app had not seen confirmed (the same record again:
    /// its work was not done), then failed records to resend (new records), then the workload.
    fn next_record(&mut self) -> Option<(MsgId, Option<MsgId>)> {
        let messages = self.world.scenario.workload.messages;
        let mut progress = self.world.producers[self.id as usize - 1].lock().unwrap();
        let (msg, resend_of) = if let Some(msg) = progress.replay.pop_front() {
            (msg, None)
        } else if let Some(failed) = progress.to_resend.pop_front() {
            progress.next_resend_seq += 1;
            (MsgId { producer: self.id, seq: progress.next_resend_seq - 1 }, Some(failed))
        } else if progress.next_seq < messages {
            progress.next_seq += 1;
            (MsgId { producer: self.id, seq: progress.next_seq - 1 }, None)
        } else {
            return None;
        };
        progress.outstanding.insert(msg);
        progress.sent += 1;
        Some((msg, resend_of))
    }

    fn schedule_app_send(&mut self) {
        let interval_us = 1_000_000 / self.world.scenario.workload.rate_per_sec.max(1);
        let now = self.now_us();
        if let Some(key) = self.app_send_timer.take() {
            self.timers.remove(key);
        }
        self.app_send_timer = Some(self.timers.at(now.saturating_add(interval_us.max(1)), Timer::AppSend));
    }

    /// The app learns a record's outcome (or would, if it looked).
    fn outcome(&mut self, msgs: &[MsgId], failed: bool) {
        let resend = failed && self.cfg().app_on_failure == OnFailure::Resend && self.app_notified();
        {
            let mut progress = self.world.producers[self.id as usize - 1].lock().unwrap();
            for m in msgs {
                progress.outstanding.remove(m);
                if resend {
                    progress.to_resend.push_back(*m);
                }
            }
            if !failed {
                progress.acked += msgs.len() as u64;
            }
        }
        if self.awaiting.is_some_and(|a| msgs.contains(&a)) {
            self.awaiting = None;
            self.schedule_app_send();
        } else if resend {
            self.schedule_app_send();
        }
    }

    // ---------------------------------------------------------------- the accumulator

    fn batch_capacity(&self) -> usize {
        let bytes = self.world.scenario.workload.message_bytes.max(1);
        (self.cfg().batch_size / bytes).max(1) as usize
    }

    fn accumulate(&mut self, partition: u32, msg: MsgId) {
        let capacity = self.batch_capacity();
        let now = self.now_us();
        let queue = self.accumulator.entry(partition).or_default();
        let open = queue.back_mut().filter(|b| !b.closed && b.attempts == 0);
        let batch = match open {
            Some(b) => b,
            None => {
                self.next_batch += 1;
                let id = self.next_batch;
                queue.push_back(ProducerBatch {
                    id,
                    partition,
                    msgs: Vec::new(),
                    created_us: now,
                    attempts: 0,
                    closed: false,
                    retry_at_us: 0,
                    stamp: None,
                });
                let linger_us = self.world.scenario.producer.linger_ms.saturating_mul(1000);
                let delivery_us = self.world.scenario.producer.delivery_timeout_ms.saturating_mul(1000);
                self.timers.at(now.saturating_add(linger_us), Timer::Linger { partition, batch: id });
                self.timers.at(now.saturating_add(delivery_us), Timer::DeliveryTimeout { partition, batch: id });
                self.accumulator.get_mut(&partition).unwrap().back_mut().unwrap()
            }
        };
        batch.msgs.push(msg);
        if batch.msgs.len() >= capacity {
            batch.closed = true;
            self.next_sticky_partition();
        }
    }

    /// The sticky partitioner (KIP-480): records without keys stick to a partition until its
    /// batch is full or sent.
    fn next_sticky_partition(&mut self) {
        self.sticky_partition = (self.sticky_partition + 1) % self.world.scenario.topic.partitions;
    }

    fn in_flight_to(&self, broker: u32) -> usize {
        self.in_flight.values().filter(|f| f.broker == broker).count()
    }

    /// Sends every batch that is ready, has a known leader and fits the in-flight limit.
    fn drain(&mut self) {
        let now = self.now_us();
        let max_in_flight = self.cfg().max_in_flight_requests_per_connection as usize;
        let partitions: Vec<u32> = self.accumulator.keys().copied().collect();
        let mut need_metadata = false;
        for p in partitions {
            while let Some(head) = self.accumulator.get(&p).and_then(|q| q.front()) {
                if !head.closed || head.retry_at_us > now {
                    break;
                }
                let Some(leader) = self.metadata.leader(p) else {
                    need_metadata = true;
                    break;
                };
                // With one request in flight Kafka mutes the partition to keep order.
                let muted = max_in_flight == 1 && self.in_flight.values().any(|f| f.batch.partition == p);
                let backing_off = self.backoff_until_us.get(&leader).is_some_and(|&t| t > now);
                if muted || backing_off || self.in_flight_to(leader) >= max_in_flight {
                    break;
                }
                let batch = self.accumulator.get_mut(&p).unwrap().pop_front().unwrap();
                self.send_batch(leader, batch);
            }
        }
        if need_metadata {
            self.request_metadata();
        }
    }

    fn send_batch(&mut self, leader: u32, mut batch: ProducerBatch) {
        let cfg = self.cfg().clone();
        batch.attempts += 1;
        if cfg.enable_idempotence && batch.stamp.is_none_or(|s| s.producer_epoch != self.producer_epoch) {
            let seq = self.next_sequence.entry(batch.partition).or_insert(0);
            batch.stamp = Some(ProducerStamp {
                producer_id: self.producer_id,
                producer_epoch: self.producer_epoch,
                base_sequence: *seq,
            });
            *seq = crate::protocol::sequence_add(*seq, batch.msgs.len() as u32);
        }
        self.next_corr += 1;
        let corr = self.next_corr;
        self.record(EventKind::ProduceRequest {
            broker: leader,
            partition: batch.partition,
            batch: batch.id,
            attempt: batch.attempts,
            msgs: batch.msgs.clone(),
        });
        let msg = Msg::Produce {
            corr,
            partition: batch.partition,
            acks: cfg.acks,
            timeout_ms: cfg.request_timeout_ms,
            batch: batch.id,
            msgs: batch.msgs.clone(),
            stamp: batch.stamp,
        };
        self.world.net.send(self.me, self.world.broker_idx(leader), msg);
        if batch.partition == self.sticky_partition {
            self.next_sticky_partition();
        }
        if cfg.acks == Acks::None {
            // acks=0: the send is done once the request is written; no answer will come.
            self.succeed(batch, None);
            return;
        }
        let now = self.now_us();
        self.timers.at(now.saturating_add(cfg.request_timeout_ms.saturating_mul(1000)), Timer::RequestTimeout { corr });
        self.in_flight.insert(corr, InFlight { broker: leader, batch });
    }

    fn succeed(&mut self, batch: ProducerBatch, base_offset: Option<u64>) {
        self.record(EventKind::Acked {
            partition: batch.partition,
            batch: batch.id,
            base_offset,
            msgs: batch.msgs.clone(),
            app_notified: self.app_notified(),
        });
        self.outcome(&batch.msgs, false);
    }

    fn fail(&mut self, batch: ProducerBatch, error: KafkaError) {
        self.record(EventKind::Failed {
            partition: batch.partition,
            batch: batch.id,
            error: error.name().to_string(),
            msgs: batch.msgs.clone(),
            app_notified: self.app_notified(),
        });
        if self.cfg().enable_idempotence {
            // KIP-360: a failed batch leaves a sequence gap; the producer bumps its epoch and
            // numbers what follows from zero again.
            self.producer_epoch += 1;
            self.next_sequence.clear();
        }
        self.outcome(&batch.msgs, true);
    }

    /// A retriable error: back into the accumulator (in order), unless retries or the delivery
    /// timeout are spent.
    fn retry_or_fail(&mut self, mut batch: ProducerBatch, error: KafkaError) {
        let now = self.now_us();
        let cfg = self.cfg();
        let expired = now >= batch.created_us.saturating_add(cfg.delivery_timeout_ms.saturating_mul(1000));
        if !error.is_retriable() || u64::from(batch.attempts) > cfg.retries || expired {
            let error = if expired { KafkaError::DeliveryTimeout } else { error };
            self.fail(batch, error);
            return;
        }
        self.record(EventKind::ProduceRetry {
            partition: batch.partition,
            batch: batch.id,
            attempt: batch.attempts,
            error: error.name().to_string(),
        });
        batch.retry_at_us = now.saturating_add(cfg.retry_backoff_ms.saturating_mul(1000));
        batch.closed = true;
        let idempotent = self.cfg().enable_idempotence;
        let queue = self.accumulator.entry(batch.partition).or_default();
        if idempotent {
            // `RecordAccumulator.reenqueue` with a transaction manager: in sequence order
            // (`insertInSequenceOrder`), which for one partition is creation order.
            let pos = queue.iter().position(|b| b.id > batch.id).unwrap_or(queue.len());
            queue.insert(pos, batch);
        } else {
            // Without one, `addFirst`: each failed batch goes to the front as its failure comes
            // in, so batches that fail together go back reversed, and a batch sent after this one
            // that succeeded stays ahead of it in the log. The reordering max.in.flight > 1
            // without idempotence allows.
            queue.push_front(batch);
        }
        self.timers
            .at(now.saturating_add(self.world.scenario.producer.retry_backoff_ms.saturating_mul(1000)), Timer::Drain);
        if matches!(
            error,
            KafkaError::NotLeaderOrFollower | KafkaError::NetworkException | KafkaError::FencedLeaderEpoch
        ) {
            self.request_metadata();
        }
    }

    fn on_produce_response(&mut self, corr: u64, result: Result<u64, KafkaError>) {
        let Some(f) = self.in_flight.remove(&corr) else { return };
        match result {
            Ok(base_offset) => self.succeed(f.batch, Some(base_offset)),
            Err(e) => self.retry_or_fail(f.batch, e),
        }
        self.drain();
    }

    /// No answer within `request.timeout.ms`: the client drops the connection, and every request
    /// in flight on it is retried with an unknown outcome.
    fn on_request_timeout(&mut self, corr: u64) {
        let Some(broker) = self.in_flight.get(&corr).map(|f| f.broker) else { return };
        self.disconnect(broker, KafkaError::ClientRequestTimeout);
    }

    /// The connection to `broker` broke: every request in flight on it fails with
    /// NETWORK_EXCEPTION and is re-enqueued (`NetworkClient.cancelInFlightRequests`). From 2.0
    /// `InFlightRequests.clearAll` hands them back oldest first (before, newest first), and each
    /// goes to the front of its partition's queue.
    fn disconnect(&mut self, broker: u32, error: KafkaError) {
        let mut dropped: Vec<u64> =
            self.in_flight.iter().filter(|(_, f)| f.broker == broker).map(|(&c, _)| c).collect();
        if !self.world.scenario.kafka_version.completes_in_flight_oldest_first() {
            dropped.reverse();
        }
        // `NetworkClient.handleServerDisconnect`: a broken connection asks for new metadata.
        self.request_metadata();
        for c in dropped {
            let f = self.in_flight.remove(&c).unwrap();
            self.retry_or_fail(f.batch, error);
        }
        self.drain();
    }

    fn on_refused(&mut self, msg: Msg) {
        match msg {
            Msg::Produce { corr, .. } => {
                let Some(broker) = self.in_flight.get(&corr).map(|f| f.broker) else { return };
                // The connection was refused: Kafka's `NetworkClient` would not have sent anything
                // over it (`ready()` is false), so every request to that broker goes back to the
                // front of its queue as it was drained, without counting as an attempt, and the
                // client refreshes its metadata (`handleServerDisconnect`).
                let unsent: Vec<u64> =
                    self.in_flight.iter().filter(|(_, f)| f.broker == broker).map(|(&c, _)| c).rev().collect();
                for c in unsent {
                    let mut f = self.in_flight.remove(&c).expect("listed");
                    f.batch.attempts -= 1;
                    self.record(EventKind::ProduceRetry {
                        partition: f.batch.partition,
                        batch: f.batch.id,
                        attempt: f.batch.attempts,
                        error: "connection refused (nothing sent)".to_string(),
                    });
                    self.accumulator.entry(f.batch.partition).or_default().push_front(f.batch);
                }
                let now = self.now_us();
                self.backoff_until_us.insert(broker, now + RECONNECT_BACKOFF_MS.saturating_mul(1000));
                self.timers.at(now.saturating_add(RECONNECT_BACKOFF_MS.saturating_mul(1000)), Timer::Drain);
                self.request_metadata();
                self.drain();
            }
            Msg::Metadata { corr } if self.metadata.on_timeout(&self.world, corr) => self.request_metadata(),
            _ => {}
        }
    }

    fn on_delivery_timeout(&mut self, partition: u32, batch: u64) {
        let Some(queue) = self.accumulator.get_mut(&partition) else { return };
        if let Some(i) = queue.iter().position(|b| b.id == batch) {
            let b = queue.remove(i).unwrap();
            self.fail(b, KafkaError::DeliveryTimeout);
        }
    }

    // ---------------------------------------------------------------- metadata

    fn request_metadata(&mut self) {
        self.next_corr += 1;
        let corr = self.next_corr;
        if self.metadata.request(&self.world, self.me, corr) {
            let now = self.now_us();
            self.timers
                .at(now.saturating_add(METADATA_TIMEOUT_MS.saturating_mul(1000)), Timer::MetadataTimeout { corr });
        }
    }

    fn on_metadata(&mut self, corr: u64, partitions: Vec<(u32, Option<u32>, u32)>) {
        if self.metadata.on_response(&self.world, corr, partitions) {
            // Kafka refreshes metadata after retry.backoff.ms while a leader is unknown.
            let now = self.now_us();
            self.timers.at(now.saturating_add(self.cfg().retry_backoff_ms.saturating_mul(1000)), Timer::Drain);
        }
        self.drain();
    }
}

impl Actor for Producer {
    type Timer = Timer;

    fn now_us(&self) -> u64 {
        self.world.now_us()
    }

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_msg(&mut self, _from: NodeIdx, msg: Msg) {
        match msg {
            Msg::ProduceResponse { corr, result, .. } => self.on_produce_response(corr, result),
            Msg::MetadataResponse { corr, partitions } => self.on_metadata(corr, partitions),
            Msg::Refused { msg, .. } => self.on_refused(*msg),
            Msg::PeerDown { peer } => {
                if let NodeName::Broker(b) = self.world.names[peer] {
                    self.disconnect(b, KafkaError::NetworkException);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::AppSend => self.on_app_send(),
            Timer::Linger { partition, batch } => {
                let mut closed_sticky = false;
                if let Some(b) = self.accumulator.get_mut(&partition).and_then(|q| q.iter_mut().find(|b| b.id == batch))
                {
                    closed_sticky = !b.closed && partition == self.sticky_partition;
                    b.closed = true;
                }
                if closed_sticky {
                    self.next_sticky_partition();
                }
                self.drain();
            }
            Timer::Drain => self.drain(),
            Timer::RequestTimeout { corr } => self.on_request_timeout(corr),
            Timer::DeliveryTimeout { partition, batch } => {
                self.on_delivery_timeout(partition, batch);
                self.drain();
            }
            Timer::MetadataTimeout { corr } => {
                if self.metadata.on_timeout(&self.world, corr) {
                    self.request_metadata();
                }
            }
        }
    }
}
