//! The consumer process: its state (the client's membership, fetch positions and buffers, the
//! app's queue and workers), its start, and the actor that routes messages and timers to the
//! parts in the sibling modules. Everything here dies with the process.

use super::join_prepare::JoinPrepare;
use super::position::{FetchPosition, PartitionPosition};
use crate::client::metadata::MetadataCache;
use crate::client::producer::Producer;
use crate::protocol::{KafkaError, MemberId, Msg};
use crate::runtime::actor::{Actor, Timers};
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use losslab_model::history::{EventKind, MsgId, NodeName};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Kafka's `fetch.max.wait.ms` default.
pub(super) const FETCH_MAX_WAIT_MS: u64 = 500;
/// Kafka's consumer `request.timeout.ms` default.
pub(super) const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// `AbstractCoordinator.JOIN_GROUP_TIMEOUT_LAPSE`: a JoinGroup waits the rebalance timeout
/// plus this.
pub(super) const JOIN_GROUP_TIMEOUT_LAPSE_MS: u64 = 5_000;
/// `retry.backoff.ms`.
pub(super) const RETRY_BACKOFF_MS: u64 = 100;
/// Kafka's `heartbeat.interval.ms` default (at most a third of the session, as Kafka advises).
pub(super) const HEARTBEAT_INTERVAL_MS: u64 = 3_000;
/// The app's `poll(Duration.ofMillis(100))`: how long one call waits for records.
pub(super) const APP_POLL_TIMEOUT_MS: u64 = 100;
/// `default.api.timeout.ms`: how long `commitSync()` retries a retriable error.
pub(super) const DEFAULT_API_TIMEOUT_MS: u64 = 60_000;

#[derive(Debug)]
pub enum Timer {
    /// The app calls `poll()` (`seq` tells stale wake-ups apart).
    AppPoll {
        seq: u64,
    },
    /// A record finished processing: in the app thread (sync) or on a worker (async).
    Processed {
        partition: u32,
        offset: u64,
        msg: MsgId,
        worker: bool,
    },
    /// The app thread finished processing its batch (sync).
    BatchDone,
    /// The heartbeat thread wakes up.
    Heartbeat,
    /// The heartbeat thread's poll timer (`max.poll.interval.ms` after the last poll).
    PollTimeout,
    /// A request got no answer within its timeout.
    RequestTimeout {
        corr: u64,
    },
    MetadataTimeout {
        corr: u64,
    },
    /// `commitSync()` tries again after a retriable error.
    CommitRetry {
        attempt: u64,
    },
    /// The join-prepare commit is sent again after a retriable error, or its timer expires.
    JoinPrepare {
        attempt: u64,
    },
    /// `close()`'s commit retries after a retriable error, or its timer expires.
    Close {
        attempt: u64,
    },
    /// A timer of the pipeline's embedded producer (`pipeline`).
    Pipeline(crate::client::producer::Timer),
}

/// The client's place in the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Membership {
    Unjoined,
    Joining,
    Stable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CommitKind {
    /// Auto-commit inside `poll()` (`commitAsync`-like).
    Auto,
    /// The auto-commit before a rejoin (`onJoinPrepare`), awaited.
    JoinPrepare,
    /// `close()`: the app's last commit, or the auto-commit (`maybeAutoCommitOffsetsSync`).
    Close,
    /// The app's `commitAsync()` (after-process with async workers).
    Async,
    /// The app's `commitSync()`.
    Sync,
}

/// A request in flight and what its answer (or timeout) is for.
#[derive(Clone, Debug)]
pub(super) enum Request {
    Join,
    Heartbeat,
    Commit {
        kind: CommitKind,
        generation: Option<u32>,
        offsets: Vec<(u32, u64)>,
    },
    OffsetFetch {
        generation: u32,
    },
    Fetch {
        partition: u32,
        broker: u32,
    },
    /// OffsetsForLeaderEpoch for the position as it was sent (KIP-320).
    Validate {
        partition: u32,
        broker: u32,
        requested: FetchPosition,
    },
}

impl Request {
    pub(super) fn to_coordinator(&self) -> bool {
        !matches!(self, Request::Fetch { .. } | Request::Validate { .. })
    }
}

/// An assigned partition, as the client tracks it.
#[derive(Debug, Default)]
pub(super) struct Assigned {
    /// The next offset `poll()` returns, its epoch and the leader it was checked against
    /// (`SubscriptionState`); no position until the committed offset or a reset says.
    pub(super) pos: PartitionPosition,
    /// The position is being reset to the log end (`auto.offset.reset=latest`), or the
    /// committed offset is out of range: the next fetch asks past any offset.
    pub(super) resetting: Option<Option<u64>>,
    /// `auto.offset.reset=none` found nothing: `poll()` throws for this partition.
    pub(super) no_offset: bool,
    pub(super) fetch_in_flight: Option<u64>,
    /// OffsetsForLeaderEpoch in flight for this partition.
    pub(super) validation_in_flight: Option<u64>,
    /// Fetched and not yet returned by `poll()`, with the leader epoch of each record's batch.
    pub(super) buffer: VecDeque<(u64, MsgId, u32)>,
}

impl Assigned {
    /// The position's offset, valid or awaiting validation.
    pub(super) fn position(&self) -> Option<u64> {
        self.pos.position().map(|p| p.offset)
    }
}

/// What the app thread is doing.
#[derive(Debug)]
pub(super) enum App {
    /// Inside `poll()`, waiting for records (or for the group).
    Polling,
    /// Processing a polled batch (sync).
    Processing,
    /// Inside `commitSync()`; `then` is what follows it.
    Committing { offsets: Vec<(u32, u64)>, then: Then, deadline_us: u64, attempt: u64 },
}

#[derive(Debug)]
pub(super) enum Then {
    Process(Vec<(u32, u64, MsgId)>),
    Poll,
    /// The app's shutdown goes on (`close`).
    Close,
}

pub struct Consumer {
    pub(super) world: Arc<World>,
    pub(super) id: u32,
    pub(super) me: NodeIdx,
    pub(super) metadata: MetadataCache,
    pub(super) next_corr: u64,
    pub(super) requests: BTreeMap<u64, Request>,
    pub(super) timers: Timers<Timer>,
    // ---- the client: group membership ----
    pub(super) coordinator: Option<u32>,
    pub(super) membership: Membership,
    pub(super) member: Option<MemberId>,
    pub(super) generation: Option<u32>,
    pub(super) rejoin_needed: bool,
    pub(super) heartbeat_in_flight: bool,
    pub(super) last_poll_us: u64,
    pub(super) poll_timer_armed: bool,
    pub(super) last_auto_commit_us: u64,
    // ---- the client: fetching ----
    pub(super) assigned: BTreeMap<u32, Assigned>,
    /// Partitions with fetched records, in the order their fetches came back.
    pub(super) ready: VecDeque<u32>,
    // ---- the app ----
    pub(super) app: App,
    pub(super) poll_seq: u64,
    /// Polled records not yet processed (queued, on a worker, or later in the batch).
    pub(super) pending: BTreeMap<u32, BTreeSet<u64>>,
    pub(super) queue: VecDeque<(u32, u64, MsgId)>,
    pub(super) busy_workers: u32,
    /// What the app last committed per partition (after-process with async workers).
    pub(super) app_committed: BTreeMap<u32, u64>,
    // ---- issue 15: join-prepare, close, static membership ----
    /// The awaited auto-commit before a rejoin (`onJoinPrepare`), while it runs.
    pub(super) join_prepare: Option<JoinPrepareRun>,
    /// `group.instance.id` of this consumer (KIP-345).
    pub(super) instance: Option<String>,
    /// `close()` in progress.
    pub(super) closing: Option<Closing>,
    /// The process exits (closed, or its app died).
    pub(super) exited: bool,
    /// `app.output`: the consume-transform-produce app's producer (issue 16).
    pub(super) pipeline: Option<Pipeline>,
}

/// The pipeline's producer and the batch it is ending.
pub(super) struct Pipeline {
    pub(super) producer: Producer,
    pub(super) transactional: bool,
    /// The batch's offsets, while the app waits for its commit (transactional) or its acks
    /// (plain).
    pub(super) waiting: Option<Vec<(u32, u64)>>,
}

impl Pipeline {
    pub(super) fn start(world: Arc<World>, consumer: u32) -> Option<Pipeline> {
        let output = world.scenario.consumer.app_output;
        if output == losslab_model::config::AppOutput::None {
            return None;
        }
        let transactional = output == losslab_model::config::AppOutput::Transactional;
        let producer = Producer::start_embedded(world, consumer, transactional);
        Some(Pipeline { producer, transactional, waiting: None })
    }
}

/// The join-prepare of one rebalance (see `join_prepare`).
#[derive(Clone, Copy, Debug)]
pub(super) struct JoinPrepareRun {
    pub(super) timer: JoinPrepare,
    pub(super) attempt: u64,
    /// The commit in flight; `false` while backing off after a retriable error.
    pub(super) in_flight: bool,
}

/// Where a graceful shutdown is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Closing {
    /// The app finishes what it holds (the batch in hand, its workers' queue).
    Draining,
    /// The app's own last commit (`commitSync()` before `close()`).
    AppCommit,
    /// `close()`: the auto-commit, bounded by min(30 s, `request.timeout.ms`).
    AutoCommit { deadline_us: u64, attempt: u64 },
}

impl Consumer {
    pub fn start(world: Arc<World>, id: u32) -> Consumer {
        let now = world.now_us();
        let starts = {
            let mut progress = world.consumers[id as usize - 1].lock().unwrap();
            progress.starts += 1;
            progress.starts
        };
        let mut c = Consumer {
            me: world.consumer_idx(id),
            metadata: MetadataCache::new(id % world.scenario.brokers + 1),
            // Answers reach a node, not a connection: each incarnation numbers its requests
            // apart, so that an answer to its crashed predecessor is not taken for its own.
            next_corr: starts << 40,
            requests: BTreeMap::new(),
            timers: Timers::default(),
            coordinator: None,
            membership: Membership::Unjoined,
            member: None,
            generation: None,
            rejoin_needed: false,
            heartbeat_in_flight: false,
            last_poll_us: now,
            poll_timer_armed: false,
            last_auto_commit_us: now,
            assigned: BTreeMap::new(),
            ready: VecDeque::new(),
            app: App::Polling,
            poll_seq: 0,
            pending: BTreeMap::new(),
            queue: VecDeque::new(),
            busy_workers: 0,
            app_committed: BTreeMap::new(),
            join_prepare: None,
            instance: world.scenario.consumer.instance_id(id),
            closing: None,
            exited: false,
            pipeline: Pipeline::start(world.clone(), id),
            id,
            world,
        };
        c.pipeline_move_timers();
        c.publish_progress();
        c.request_metadata();
        c.timers.at(now, Timer::AppPoll { seq: 0 });
        c.timers.at(now.saturating_add(c.heartbeat_interval_us()), Timer::Heartbeat);
        c
    }

    pub(super) fn cfg(&self) -> &losslab_model::ConsumerConfig {
        &self.world.scenario.consumer
    }

    pub(super) fn record(&self, kind: EventKind) {
        self.world.record(NodeName::Consumer(self.id), kind);
    }

    pub(super) fn corr(&mut self) -> u64 {
        self.next_corr += 1;
        self.next_corr
    }

    pub(super) fn heartbeat_interval_us(&self) -> u64 {
        HEARTBEAT_INTERVAL_MS.min(self.cfg().session_timeout_ms / 3).max(1).saturating_mul(1000)
    }

    pub(super) fn after_us(&self, ms: u64) -> u64 {
        self.now_us().saturating_add(ms.saturating_mul(1000))
    }

    /// Sends `msg` and remembers what it is for, with a timeout.
    pub(super) fn request(&mut self, to: NodeIdx, corr: u64, request: Request, msg: Msg, timeout_ms: u64) {
        self.requests.insert(corr, request);
        self.world.net.send(self.me, to, msg);
        let at = self.after_us(timeout_ms);
        self.timers.at(at, Timer::RequestTimeout { corr });
    }

    /// What the final phase reads: the generation while stable, and per assigned partition
    /// the next offset the app would process.
    pub(super) fn publish_progress(&self) {
        if self.pipeline_busy() {
            // The batch's outputs are not written yet: the last published progress stands.
            return;
        }
        let stable = self.membership == Membership::Stable;
        let processed_to: BTreeMap<u32, u64> = self
            .assigned
            .iter()
            .filter_map(|(&p, a)| {
                // A position awaiting validation may be past a truncation: not progress yet.
                let position = a.pos.valid_offset()?;
                let oldest_pending = self.pending.get(&p).and_then(|s| s.first().copied());
                Some((p, oldest_pending.map_or(position, |o| o.min(position))))
            })
            .collect();
        let mut progress = self.world.consumers[self.id as usize - 1].lock().unwrap();
        progress.generation = if stable { self.generation } else { None };
        progress.processed_to = if stable { processed_to } else { BTreeMap::new() };
    }

    pub(super) fn on_response(&mut self, corr: u64, answer: Msg) {
        let Some(request) = self.requests.remove(&corr) else { return };
        match (request, answer) {
            (Request::Join, Msg::JoinGroupResponse { member, result, .. }) => {
                if member.is_some() && self.membership == Membership::Joining {
                    self.member = member;
                }
                self.on_join_response(result)
            }
            (Request::Heartbeat, Msg::GroupHeartbeatResponse { result, .. }) => self.on_heartbeat_response(result),
            (Request::Commit { kind, generation, offsets }, Msg::OffsetCommitResponse { result, .. }) => {
                self.on_commit_response(kind, generation, offsets, result)
            }
            (Request::OffsetFetch { generation }, Msg::OffsetFetchResponse { result, .. }) => {
                self.on_committed_offsets(generation, result)
            }
            (Request::Fetch { partition, .. }, Msg::FetchResponse { result, .. }) => {
                self.on_fetch_response(corr, partition, result)
            }
            (Request::Validate { partition, requested, .. }, Msg::OffsetsForLeaderEpochResponse { result, .. }) => {
                self.on_validation(corr, partition, requested, result)
            }
            _ => {}
        }
    }

    /// A request failed without an answer (timeout, connection refused or reset).
    pub(super) fn fail_request(&mut self, corr: u64, e: KafkaError) {
        let Some(request) = self.requests.remove(&corr) else { return };
        match request {
            Request::Join => self.on_join_response(Err(e)),
            Request::Heartbeat => self.on_heartbeat_response(Err(e)),
            Request::Commit { kind, generation, offsets } => self.on_commit_response(kind, generation, offsets, Err(e)),
            Request::OffsetFetch { generation } => self.on_committed_offsets(generation, Err(e)),
            Request::Fetch { partition, .. } => self.on_fetch_response(corr, partition, Err(e)),
            Request::Validate { partition, requested, .. } => self.on_validation(corr, partition, requested, Err(e)),
        }
    }
}

impl Actor for Consumer {
    type Timer = Timer;

    fn now_us(&self) -> u64 {
        self.world.now_us()
    }

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_msg(&mut self, from: NodeIdx, msg: Msg) {
        if self.pipeline_msg(from, &msg) {
            return;
        }
        match msg {
            Msg::MetadataResponse { corr, partitions } => self.on_metadata(corr, partitions),
            Msg::FetchResponse { corr, .. }
            | Msg::JoinGroupResponse { corr, .. }
            | Msg::GroupHeartbeatResponse { corr, .. }
            | Msg::OffsetCommitResponse { corr, .. }
            | Msg::OffsetFetchResponse { corr, .. }
            | Msg::OffsetsForLeaderEpochResponse { corr, .. } => self.on_response(corr, msg),
            Msg::Stop => self.on_stop(),
            Msg::Refused { msg, .. } => match *msg {
                Msg::Metadata { corr } if self.metadata.on_timeout(&self.world, corr) => self.request_metadata(),
                Msg::Fetch { corr, .. }
                | Msg::JoinGroup { corr, .. }
                | Msg::GroupHeartbeat { corr, .. }
                | Msg::OffsetCommit { corr, .. }
                | Msg::OffsetFetch { corr, .. }
                | Msg::OffsetsForLeaderEpoch { corr, .. } => self.fail_request(corr, KafkaError::NetworkException),
                _ => {}
            },
            Msg::PeerDown { peer } => {
                let lost: Vec<u64> = self
                    .requests
                    .iter()
                    .filter(|(_, r)| match r {
                        Request::Fetch { broker, .. } | Request::Validate { broker, .. } => {
                            self.world.broker_idx(*broker) == peer
                        }
                        _ => false,
                    })
                    .map(|(&c, _)| c)
                    .collect();
                for corr in lost {
                    self.fail_request(corr, KafkaError::NetworkException);
                }
                if self.coordinator_idx() == Some(peer) {
                    self.coordinator_lost();
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::AppPoll { seq } => {
                if seq == self.poll_seq && matches!(self.app, App::Polling) {
                    self.app_poll();
                }
            }
            Timer::Processed { partition, offset, msg, worker } => self.on_processed(partition, offset, msg, worker),
            Timer::BatchDone => self.on_batch_done(),
            Timer::Heartbeat => self.on_heartbeat_timer(),
            Timer::PollTimeout => self.on_poll_timeout(),
            Timer::RequestTimeout { corr } => {
                if self.requests.get(&corr).is_some_and(Request::to_coordinator) {
                    self.fail_request(corr, KafkaError::ClientRequestTimeout);
                } else {
                    self.request_metadata();
                    self.fail_request(corr, KafkaError::ClientRequestTimeout);
                }
            }
            Timer::MetadataTimeout { corr } => {
                if corr == 0 || self.metadata.on_timeout(&self.world, corr) {
                    self.request_metadata();
                }
            }
            Timer::CommitRetry { attempt } => self.on_commit_retry(attempt),
            Timer::JoinPrepare { attempt } => self.on_join_prepare_timer(attempt),
            Timer::Close { attempt } => self.on_close_timer(attempt),
            Timer::Pipeline(timer) => self.pipeline_timer(timer),
        }
    }

    fn finished(&self) -> bool {
        self.exited
    }
}
