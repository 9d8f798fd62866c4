//! A producer process: the thin actor shell around the pure `Sender`. It runs the sender after
//! every event (a record handed to `send()`, an answer, a broken connection, a timer), turns the
//! sender's effects into messages and history events, keeps the metadata cache, and arms one
//! wake-up timer for the sender's next deadline. The application's side (`app`) adds what
//! `send()` and `close()` do for the app. What the app has handed to `send()` lives in the
//! `World` (`ProducerProgress`), so a restarted producer goes on where its app left off; its
//! accumulator dies with the process.

use super::accumulator::Accumulator;
use super::sender::TxnGate;
use super::sender::{Effect, Leaders, Sender, SenderConfig, HANDSHAKE_CORR_BASE};
use super::transactions::{ClientTxnState, TxnClientRules, TxnManager};
use crate::client::metadata::{MetadataCache, METADATA_TIMEOUT_MS};
use crate::protocol::{KafkaError, Msg, ProduceTxn};
use crate::runtime::actor::{Actor, TimerKey, Timers};
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use losslab_model::history::{EventKind, MsgId, NodeName};
use losslab_model::Scenario;
use madsim::rand::Rng;
use std::sync::Arc;

/// How many sender runs one event may cause at most: each run drains one batch per partition,
/// and the sender runs again while it makes progress (Kafka's I/O thread loops without waiting
/// while a leader has data ready). A safety bound, far above any backlog.
const MAX_ROUNDS: usize = 1_000_000;

#[derive(Debug)]
pub enum Timer {
    /// The app hands its next record to `send()`.
    AppSend,
    /// A `send()` blocked for metadata or memory reaches `max.block.ms`.
    AppBlocked {
        token: u64,
    },
    /// The sender's next deadline (linger, backoff, expiry, request timeout, reconnect).
    Wake,
    MetadataTimeout {
        corr: u64,
    },
    /// A transactional request reaches `request.timeout.ms`.
    TxnTimeout {
        corr: u64,
    },
}

impl Leaders for MetadataCache {
    fn leader(&self, partition: u32) -> Option<u32> {
        MetadataCache::leader(self, partition)
    }

    fn leader_epoch(&self, partition: u32) -> Option<u32> {
        MetadataCache::leader_epoch(self, partition)
    }
}

/// What `send()` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BlockedOn {
    /// `KafkaProducer.waitOnMetadata`: the topic's partitions.
    Metadata,
    /// `BufferPool.allocate`: room for a new batch.
    Memory { bytes: u64 },
}

/// A `send()` in progress that blocks the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Blocked {
    pub(super) msg: MsgId,
    pub(super) partition: u32,
    /// When `send()` was called: `max.block.ms` counts from here, metadata wait included.
    pub(super) since_us: u64,
    pub(super) on: BlockedOn,
    pub(super) token: u64,
}

/// The app's state (its behaviour is in `app`), beside the `World`'s record of what it handed
/// to `send()`.
pub(super) struct App {
    pub(super) partitions: u32,
    /// Before 3.3 (KIP-480) the sticky partition moves on once its batch is sent.
    pub(super) switch_when_sent: bool,
    pub(super) sticky_partition: u32,
    /// Records sent to the sticky partition since it was chosen.
    pub(super) sticky_records: usize,
    pub(super) blocked: Option<Blocked>,
    pub(super) next_token: u64,
    /// `app.send=sync`: the app waits for this record's outcome.
    pub(super) awaiting: Option<MsgId>,
    /// `close()` was called (or will be, once a blocked `send()` returns).
    pub(super) closing: bool,
    /// The app's next `send()`: at most one is armed.
    pub(super) next_send: Option<TimerKey>,
    /// When the current `send()` was due on the app's fixed-rate schedule: the next one is due
    /// one interval later, however late this one ran (the run loop wakes at most once a
    /// millisecond, so rates above 1,000 per second need the schedule to catch up).
    pub(super) send_due_us: u64,
}

/// Correlation ids of transactional requests start here (produce requests count from 1,
/// connection handshakes from 2^62).
const TXN_CORR_BASE: u64 = 1 << 61;

/// Where the app is in its loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TxnPhase {
    /// `initTransactions()` has not returned.
    Initializing,
    /// Between transactions or inside one, sending.
    Running,
    /// `commitTransaction()` has not returned.
    Committing,
    /// `abortTransaction()` has not returned; `reported`: the transaction's end was already
    /// recorded (its commit threw).
    Aborting { reported: bool },
    /// A fatal error: the app sends no more.
    Done,
}

/// The transaction the app has begun and not yet ended.
#[derive(Clone, Debug)]
pub(super) struct OpenTxn {
    pub(super) txn: u64,
    pub(super) records: Vec<(MsgId, u32)>,
}

/// A transactional producer's shell state (its behaviour is in `txn_app`).
pub(super) struct TxnShell {
    pub(super) manager: TxnManager,
    pub(super) transactional_id: String,
    pub(super) coordinator: Option<u32>,
    /// The request on the wire: its correlation id and broker.
    pub(super) in_flight: Option<(u64, u32)>,
    pub(super) next_corr: u64,
    /// A retried request waits until then (its backoff).
    pub(super) not_before_us: u64,
    pub(super) phase: TxnPhase,
    pub(super) open: Option<OpenTxn>,
    /// The sender's connection count per broker when it last sent there: a higher one means
    /// it gave up the previous connection (see `Network::abandon`).
    pub(super) produce_connections: std::collections::BTreeMap<u32, u64>,
}

impl TxnShell {
    pub(super) fn new(transactional_id: String, rules: TxnClientRules) -> TxnShell {
        let mut manager = TxnManager::new(rules);
        manager.initialize().expect("Uninitialized -> Initializing");
        TxnShell {
            manager,
            transactional_id,
            coordinator: None,
            in_flight: None,
            next_corr: TXN_CORR_BASE,
            not_before_us: 0,
            phase: TxnPhase::Initializing,
            open: None,
            produce_connections: Default::default(),
        }
    }

    /// The sender's gate for its next run.
    pub(super) fn gate(&self) -> TxnGate {
        let allowed = if self.manager.state == ClientTxnState::FatalError {
            Default::default()
        } else {
            self.manager.partitions_in_txn.clone()
        };
        TxnGate { allowed, hold: self.in_flight.is_some() }
    }

    /// The app may hand a record to `send()` now.
    pub(super) fn may_send(&self) -> bool {
        self.phase == TxnPhase::Running
    }
}

pub struct Producer {
    pub(super) world: Arc<World>,
    pub(super) id: u32,
    pub(super) me: NodeIdx,
    pub(super) metadata: MetadataCache,
    pub(super) sender: Sender,
    pub(super) app: App,
    /// With a `transactional.id`: the transaction manager's shell and the app's place in its
    /// transactional loop (`txn_app`).
    pub(super) txn: Option<TxnShell>,
    pub(super) timers: Timers<Timer>,
    /// The armed wake-up: when, and its key.
    wake: Option<(u64, TimerKey)>,
    next_metadata_corr: u64,
    /// Who the history says acts: `pN`, or the consumer that embeds this producer.
    pub(super) name: NodeName,
    /// The producer's settings: the scenario's, or the pipeline's (`embedded`).
    pub(super) config: losslab_model::ProducerConfig,
    /// The pipeline's producer inside a consumer (`app.output`): its app is the consumer's.
    pub(super) embedded: Option<super::embedded::Embedded>,
    /// `close()` finished: the process exits.
    pub(super) finished: bool,
    /// `pump` is running; a nested call only asks it for another round.
    pumping: bool,
    pump_again: bool,
}

impl Producer {
    pub fn start(world: Arc<World>, id: u32) -> Producer {
        let now = world.now_us();
        let config = world.scenario.producer.clone();
        let tid = config.transactional_id_of(id);
        let me = world.producer_idx(id);
        let mut producer = Producer::build(world, id, me, NodeName::Producer(id), config, tid, None);
        producer.app.next_send = Some(producer.timers.at(now, Timer::AppSend));
        producer.app.send_due_us = now;
        producer
    }

    /// A producer with its identity, settings and transactional id given: `start`'s, or the
    /// pipeline's inside a consumer (`embedded`), whose app arms no workload.
    pub(super) fn build(
        world: Arc<World>,
        id: u32,
        me: NodeIdx,
        name: NodeName,
        config: losslab_model::ProducerConfig,
        transactional_id: Option<String>,
        embedded: Option<super::embedded::Embedded>,
    ) -> Producer {
        let s = &world.scenario;
        let p = &config;
        let capacity = (p.batch_size / s.workload.message_bytes.max(1)).max(1) as usize;
        let batch_bytes = p.batch_reservation_bytes(s.workload.message_bytes);
        let accumulator = Accumulator::new(capacity, batch_bytes, p.linger_ms.saturating_mul(1000), p.buffer_memory);
        // The producer id comes with the process (InitProducerId at start).
        let producer_id = world.new_incarnation();
        let jitter_seed = madsim::rand::thread_rng().gen::<u64>();
        let sender_config = if embedded.is_some() {
            SenderConfig::of(&Scenario { producer: config.clone(), ..s.clone() })
        } else {
            SenderConfig::of(s)
        };
        let mut sender = Sender::new(sender_config, accumulator, producer_id, jitter_seed);
        // A transactional producer gets its id and epoch from the coordinator (`initTransactions`).
        let txn = transactional_id.map(|tid| {
            if let Some(seq) = sender.sequencer.as_mut() {
                seq.clear_producer_id();
            }
            TxnShell::new(tid, TxnClientRules::of(s.kafka_version))
        });
        // An embedded producer numbers its metadata requests apart from its consumer's.
        let next_metadata_corr = if embedded.is_some() { super::embedded::METADATA_CORR_BASE } else { 0 };
        let mut producer = Producer {
            me,
            metadata: MetadataCache::new(id % s.brokers + 1),
            app: App::new(id, s.topic.partitions, !s.kafka_version.partitioner_switches_by_bytes()),
            sender,
            txn,
            timers: Timers::default(),
            wake: None,
            next_metadata_corr,
            name,
            config,
            embedded,
            finished: false,
            pumping: false,
            pump_again: false,
            id,
            world,
        };
        producer.request_metadata();
        producer
    }

    pub(super) fn cfg(&self) -> &losslab_model::ProducerConfig {
        &self.config
    }

    pub(super) fn record(&self, kind: EventKind) {
        self.world.record(self.name, kind);
    }

    /// Runs the sender and acts on what it did, until it has nothing more to do now; then arms
    /// the wake-up for its next deadline.
    pub(super) fn pump(&mut self) {
        if self.pumping {
            self.pump_again = true;
            return;
        }
        self.pumping = true;
        for _ in 0..MAX_ROUNDS {
            self.pump_again = false;
            let now = self.now_us();
            self.txn_before_run();
            self.sender.run_once(now, &self.metadata);
            if self.txn.is_none() && self.sender.needs_producer_id() {
                // InitProducerId, answered at once (no request is modelled).
                self.sender.set_producer_id(self.world.new_incarnation());
            }
            let effects = self.sender.take_effects();
            // A request for metadata is no progress: the sender asks again every run while a
            // leader is unknown.
            let mut acted = effects.iter().any(|e| !matches!(e, Effect::NeedMetadata));
            for effect in effects {
                self.apply(effect);
            }
            acted |= self.txn_after_run();
            self.app_maybe_unblock();
            if !acted && !self.pump_again {
                break;
            }
        }
        self.pumping = false;
        if self.app.closing() && !self.app.blocked() && self.sender.is_idle() && self.txn_idle() {
            self.finished = true;
        }
        self.arm_wake();
    }

    fn apply(&mut self, effect: Effect) {
        let notified = self.app_notified();
        match effect {
            Effect::Connect { corr, broker } => {
                // The connection's handshake: any request the broker answers will do (Kafka's
                // ApiVersions); a dead process refuses it.
                self.world.net.send(self.me, self.world.broker_idx(broker), Msg::Metadata { corr });
            }
            Effect::Produce { corr, broker, connection, partition, batch, attempt, msgs, stamp } => {
                self.record(EventKind::ProduceRequest { broker, partition, batch, attempt, msgs: msgs.clone() });
                if let Some(t) = self.txn.as_mut() {
                    // A new connection: what the old one still holds on a cut link keeps its
                    // own retransmission timer (a late produce, research 5.4).
                    if t.produce_connections.insert(broker, connection).is_some_and(|c| c < connection) {
                        self.world.net.abandon(self.me, self.world.broker_idx(broker));
                    }
                }
                let cfg = self.cfg();
                let transaction = self.txn.as_ref().map(|t| ProduceTxn {
                    transactional_id: t.transactional_id.clone(),
                    add_partition: t.manager.rules.tv2,
                    producer: self.id,
                    txn: t.open.as_ref().map(|o| o.txn),
                });
                let msg = Msg::Produce {
                    corr,
                    partition,
                    acks: cfg.acks,
                    timeout_ms: cfg.request_timeout_ms,
                    batch,
                    msgs,
                    stamp,
                    connection,
                    transaction,
                };
                self.world.net.send(self.me, self.world.broker_idx(broker), msg);
                self.app.batch_sent(partition);
            }
            // A transactional batch's outcome reaches the app with its transaction's end
            // (`txn_app`): the produce answer is recorded as not notified.
            Effect::Acked { partition, batch, msgs, base_offset } => {
                let app_notified = notified && self.txn.is_none();
                self.record(EventKind::Acked { partition, batch, base_offset, msgs: msgs.clone(), app_notified });
                if self.txn.is_none() {
                    self.outcome(&msgs, false);
                }
            }
            Effect::Failed { partition, batch, msgs, error } => {
                let name = error.name().to_string();
                let app_notified = notified && self.txn.is_none();
                self.record(EventKind::Failed { partition, batch, error: name, msgs: msgs.clone(), app_notified });
                if self.txn.is_none() {
                    self.outcome(&msgs, true);
                } else {
                    self.txn_batch_failed(error);
                }
            }
            Effect::Retry { partition, batch, attempt, error } => {
                self.record(EventKind::ProduceRetry { partition, batch, attempt, error });
            }
            Effect::IdChanged(c) => {
                self.record(EventKind::ProducerIdChange(Box::new(losslab_model::history::ProducerIdChange {
                    producer_id: c.producer_id,
                    epoch: c.epoch,
                    partitions: c.partitions,
                    reason: c.reason.to_string(),
                })))
            }
            Effect::NeedMetadata => self.request_metadata(),
        }
    }

    fn arm_wake(&mut self) {
        let now = self.now_us();
        let Some(at) = self.sender.next_deadline_us(now) else {
            if let Some((_, key)) = self.wake.take() {
                self.timers.remove(key);
            }
            return;
        };
        // Everything due was handled by the run just made: a deadline at or before now would
        // wake the process without anything to do, over and over.
        let at = at.max(now + 1);
        if self.wake.is_some_and(|(t, _)| t == at) {
            return;
        }
        if let Some((_, key)) = self.wake.take() {
            self.timers.remove(key);
        }
        self.wake = Some((at, self.timers.at(at, Timer::Wake)));
    }

    // ---------------------------------------------------------------- metadata

    pub(super) fn request_metadata(&mut self) {
        self.next_metadata_corr += 1;
        let corr = self.next_metadata_corr;
        if self.metadata.request(&self.world, self.me, corr) {
            let now = self.now_us();
            self.timers
                .at(now.saturating_add(METADATA_TIMEOUT_MS.saturating_mul(1000)), Timer::MetadataTimeout { corr });
        }
    }

    fn on_metadata(&mut self, corr: u64, partitions: Vec<(u32, Option<u32>, u32)>) {
        if self.metadata.on_response(&self.world, corr, partitions) {
            // A leader is still unknown: ask again after retry.backoff.ms (`Metadata` refresh
            // backoff).
            let now = self.now_us();
            self.timers.at(now.saturating_add(self.cfg().retry_backoff_ms.saturating_mul(1000)), Timer::Wake);
        }
        self.app_maybe_unblock();
        self.pump();
    }

    fn on_produce_response(
        &mut self,
        corr: u64,
        partition: u32,
        result: Result<u64, KafkaError>,
        hint: Option<(u32, u32)>,
    ) {
        if let Some((leader, epoch)) = hint {
            self.metadata.update_leader(partition, leader, epoch);
        }
        let now = self.now_us();
        self.sender.on_response(corr, result, now);
        self.pump();
    }

    fn broker_of(&self, idx: NodeIdx) -> Option<u32> {
        match self.world.names[idx] {
            NodeName::Broker(b) => Some(b),
            _ => None,
        }
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

    fn on_msg(&mut self, from: NodeIdx, msg: Msg) {
        let now = self.now_us();
        match msg {
            Msg::ProduceResponse { corr, partition, result, current_leader } => {
                self.on_produce_response(corr, partition, result, current_leader)
            }
            Msg::MetadataResponse { corr, .. } if corr >= HANDSHAKE_CORR_BASE => {
                self.sender.on_connected(corr);
                self.pump();
            }
            Msg::MetadataResponse { corr, partitions } => self.on_metadata(corr, partitions),
            Msg::InitProducerIdResponse { corr, result } => self.on_txn_response(corr, result.map(Some)),
            Msg::AddPartitionsToTxnResponse { corr, result, .. } => self.on_txn_response(corr, result.map(|()| None)),
            Msg::EndTxnResponse { corr, result } => self.on_txn_response(corr, result.map(Some)),
            Msg::AddOffsetsToTxnResponse { corr, result } | Msg::TxnOffsetCommitResponse { corr, result } => {
                self.on_txn_response(corr, result.map(|()| None))
            }
            Msg::Refused { msg, .. } => match *msg {
                Msg::Produce { corr, .. } => {
                    self.sender.on_refused(corr, now);
                    self.pump();
                }
                Msg::Metadata { corr } if corr >= HANDSHAKE_CORR_BASE => {
                    self.sender.on_refused(corr, now);
                    self.pump();
                }
                Msg::Metadata { corr } if self.metadata.on_timeout(&self.world, corr) => self.request_metadata(),
                Msg::InitProducerId { corr, .. }
                | Msg::AddPartitionsToTxn { corr, .. }
                | Msg::AddOffsetsToTxn { corr, .. }
                | Msg::TxnOffsetCommit { corr, .. }
                | Msg::EndTxn { corr, .. } => self.on_txn_response(corr, Err(KafkaError::NetworkException)),
                _ => {}
            },
            Msg::PeerDown { peer } => {
                if let Some(b) = self.broker_of(peer) {
                    self.sender.on_disconnect(b, KafkaError::NetworkException, now);
                    self.on_txn_connection_lost(b);
                    self.pump();
                }
            }
            Msg::ConnectionClosed { connection } => {
                let Some(b) = self.broker_of(from) else { return };
                if connection == self.sender.connection(b) {
                    self.sender.on_disconnect(b, KafkaError::NetworkException, now);
                    self.pump();
                }
            }
            Msg::Stop => self.app_close(),
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::AppSend => self.on_app_send(),
            Timer::AppBlocked { token } => self.on_app_blocked_timeout(token),
            Timer::Wake => {
                if self.wake.is_some_and(|(t, _)| t <= self.now_us()) {
                    self.wake = None;
                }
                self.pump();
            }
            Timer::MetadataTimeout { corr } => {
                if self.metadata.on_timeout(&self.world, corr) {
                    self.request_metadata();
                }
            }
            Timer::TxnTimeout { corr } => self.on_txn_timeout(corr),
        }
    }

    fn finished(&self) -> bool {
        self.finished
    }
}
