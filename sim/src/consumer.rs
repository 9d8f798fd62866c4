//! A consumer process: Kafka's consumer client and the application around it.
//!
//! The client is a member of the group (classic protocol, eager rebalancing): it finds the
//! coordinator (the leader of `__consumer_offsets`, learned from metadata), joins, heartbeats
//! every `heartbeat.interval.ms` from its heartbeat thread, and rejoins when the coordinator
//! says the group is rebalancing or has forgotten it. On rejoining it first auto-commits (if
//! enabled) and gives up all its partitions; with a new assignment it asks the coordinator for
//! the committed offsets and starts there, or where `auto.offset.reset` says. When the app has
//! not called `poll()` for `max.poll.interval.ms` the heartbeat thread leaves the group, as
//! Kafka's does; the app finds out at its next commit (CommitFailedException) or poll (it
//! rejoins as a new member). The fetcher keeps one fetch per assigned partition in flight to its
//! leader, which answers only below the high watermark; `poll()` returns at most
//! `max.poll.records` of what was fetched and auto-commits, every `auto.commit.interval.ms`,
//! the positions that earlier polls returned.
//!
//! The app loops on `poll()`. With `app.processing=sync` it processes each polled batch
//! (`app.process.ms` a record) before polling again; with `async` it hands the records to an
//! in-memory queue served by `app.workers` workers and polls again at once. `app.commit`:
//! `before-process` commits synchronously what a poll returned, then processes it (a batch
//! whose commit fails is dropped: the exception leaves the loop body); `after-process` commits
//! synchronously after each processed batch (sync), or asynchronously, before each poll, the
//! contiguous processed prefix of each partition (async); `none` leaves it to auto-commit.
//! Everything here dies with the process: the queue, the fetched records, the member id.

use crate::actor::{Actor, Timers};
use crate::coordinator::{JoinResult, MemberId, OFFSETS_PARTITION};
use crate::log::Batch;
use crate::metadata::{MetadataCache, METADATA_TIMEOUT_MS};
use crate::network::NodeIdx;
use crate::protocol::{FetchData, KafkaError, Msg};
use crate::world::World;
use losslab_model::config::{CommitStrategy, OffsetReset, Processing};
use losslab_model::history::{EventKind, MsgId, NodeName};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Kafka's `fetch.max.wait.ms` default.
const FETCH_MAX_WAIT_MS: u64 = 500;
/// Kafka's consumer `request.timeout.ms` default.
const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// `retry.backoff.ms`.
const RETRY_BACKOFF_MS: u64 = 100;
/// Kafka's `heartbeat.interval.ms` default (at most a third of the session, as Kafka advises).
const HEARTBEAT_INTERVAL_MS: u64 = 3_000;
/// The app's `poll(Duration.ofMillis(100))`: how long one call waits for records.
const APP_POLL_TIMEOUT_MS: u64 = 100;
/// `default.api.timeout.ms`: how long `commitSync()` retries a retriable error.
const DEFAULT_API_TIMEOUT_MS: u64 = 60_000;

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
}

/// The client's place in the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Membership {
    Unjoined,
    Joining,
    Stable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CommitKind {
    /// Auto-commit, inside `poll()` or before a rebalance (`commitAsync`-like).
    Auto,
    /// The app's `commitAsync()` (after-process with async workers).
    Async,
    /// The app's `commitSync()`.
    Sync,
}

/// A request in flight and what its answer (or timeout) is for.
#[derive(Clone, Debug)]
enum Request {
    Join,
    Heartbeat,
    Commit { kind: CommitKind, generation: Option<u32>, offsets: Vec<(u32, u64)> },
    OffsetFetch { generation: u32 },
    Fetch { partition: u32, broker: u32 },
}

impl Request {
    fn to_coordinator(&self) -> bool {
        !matches!(self, Request::Fetch { .. })
    }
}

/// An assigned partition, as the client tracks it.
#[derive(Debug, Default)]
struct Assigned {
    /// The next offset `poll()` returns; `None` until the committed offset or a reset says.
    position: Option<u64>,
    /// The position is being reset to the log end (`auto.offset.reset=latest`), or the
    /// committed offset is out of range: the next fetch asks past any offset.
    resetting: Option<Option<u64>>,
    /// `auto.offset.reset=none` found nothing: `poll()` throws for this partition.
    no_offset: bool,
    fetch_in_flight: Option<u64>,
    /// Fetched and not yet returned by `poll()`.
    buffer: VecDeque<(u64, MsgId)>,
}

/// What the app thread is doing.
#[derive(Debug)]
enum App {
    /// Inside `poll()`, waiting for records (or for the group).
    Polling,
    /// Processing a polled batch (sync).
    Processing,
    /// Inside `commitSync()`; `then` is what follows it.
    Committing { offsets: Vec<(u32, u64)>, then: Then, deadline_us: u64, attempt: u64 },
}

#[derive(Debug)]
enum Then {
    Process(Vec<(u32, u64, MsgId)>),
    Poll,
}

pub struct Consumer {
    world: Arc<World>,
    id: u32,
    me: NodeIdx,
    metadata: MetadataCache,
    next_corr: u64,
    requests: BTreeMap<u64, Request>,
    timers: Timers<Timer>,
    // ---- the client: group membership ----
    coordinator: Option<u32>,
    membership: Membership,
    member: Option<MemberId>,
    generation: Option<u32>,
    rejoin_needed: bool,
    heartbeat_in_flight: bool,
    last_poll_us: u64,
    poll_timer_armed: bool,
    last_auto_commit_us: u64,
    // ---- the client: fetching ----
    assigned: BTreeMap<u32, Assigned>,
    /// Partitions with fetched records, in the order their fetches came back.
    ready: VecDeque<u32>,
    // ---- the app ----
    app: App,
    poll_seq: u64,
    /// Polled records not yet processed (queued, on a worker, or later in the batch).
    pending: BTreeMap<u32, BTreeSet<u64>>,
    queue: VecDeque<(u32, u64, MsgId)>,
    busy_workers: u32,
    /// What the app last committed per partition (after-process with async workers).
    app_committed: BTreeMap<u32, u64>,
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
            id,
            world,
        };
        c.publish_progress();
        c.request_metadata();
        c.timers.at(now, Timer::AppPoll { seq: 0 });
        c.timers.at(now.saturating_add(c.heartbeat_interval_us()), Timer::Heartbeat);
        c
    }

    fn cfg(&self) -> &losslab_model::ConsumerConfig {
        &self.world.scenario.consumer
    }

    fn record(&self, kind: EventKind) {
        self.world.record(NodeName::Consumer(self.id), kind);
    }

    fn corr(&mut self) -> u64 {
        self.next_corr += 1;
        self.next_corr
    }

    fn heartbeat_interval_us(&self) -> u64 {
        HEARTBEAT_INTERVAL_MS.min(self.cfg().session_timeout_ms / 3).max(1).saturating_mul(1000)
    }

    fn after_us(&self, ms: u64) -> u64 {
        self.now_us().saturating_add(ms.saturating_mul(1000))
    }

    /// Sends `msg` and remembers what it is for, with a timeout.
    fn request(&mut self, to: NodeIdx, corr: u64, request: Request, msg: Msg, timeout_ms: u64) {
        self.requests.insert(corr, request);
        self.world.net.send(self.me, to, msg);
        let at = self.after_us(timeout_ms);
        self.timers.at(at, Timer::RequestTimeout { corr });
    }

    /// What the final phase reads: the generation while stable, and per assigned partition
    /// the next offset the app would process.
    fn publish_progress(&self) {
        let stable = self.membership == Membership::Stable;
        let processed_to: BTreeMap<u32, u64> = self
            .assigned
            .iter()
            .filter_map(|(&p, a)| {
                let position = a.position?;
                let oldest_pending = self.pending.get(&p).and_then(|s| s.first().copied());
                Some((p, oldest_pending.map_or(position, |o| o.min(position))))
            })
            .collect();
        let mut progress = self.world.consumers[self.id as usize - 1].lock().unwrap();
        progress.generation = if stable { self.generation } else { None };
        progress.processed_to = if stable { processed_to } else { BTreeMap::new() };
    }

    // ------------------------------------------------------------ metadata and coordinator

    fn request_metadata(&mut self) {
        let corr = self.corr();
        if self.metadata.request(&self.world, self.me, corr) {
            let at = self.after_us(METADATA_TIMEOUT_MS);
            self.timers.at(at, Timer::MetadataTimeout { corr });
        }
    }

    fn on_metadata(&mut self, corr: u64, partitions: Vec<(u32, Option<u32>, u32)>) {
        let missing = self.metadata.on_response(&self.world, corr, partitions);
        if self.coordinator.is_none() {
            // FindCoordinator: the leader of the group's partition of __consumer_offsets.
            self.coordinator = self.metadata.leader(OFFSETS_PARTITION);
        }
        if missing || self.coordinator.is_none() {
            let at = self.after_us(RETRY_BACKOFF_MS);
            self.timers.at(at, Timer::MetadataTimeout { corr: 0 });
        }
        self.wake_app();
    }

    /// Kafka's `markCoordinatorUnknown`: the connection to it goes, and every request in flight
    /// on it fails; the next lookup finds the new one.
    fn coordinator_lost(&mut self) {
        if self.coordinator.take().is_none() {
            return;
        }
        let lost: Vec<u64> = self.requests.iter().filter(|(_, r)| r.to_coordinator()).map(|(&c, _)| c).collect();
        for corr in lost {
            self.fail_request(corr, KafkaError::NetworkException);
        }
        self.request_metadata();
    }

    fn coordinator_idx(&self) -> Option<NodeIdx> {
        self.coordinator.map(|b| self.world.broker_idx(b))
    }

    // ------------------------------------------------------------ the group

    /// Kafka's `onJoinPrepare` then JoinGroup: auto-commit what was consumed (only a stable
    /// member can), give up every partition (eager), and ask to join.
    fn start_join(&mut self) {
        let Some(to) = self.coordinator_idx() else {
            self.request_metadata();
            return;
        };
        if self.membership == Membership::Stable && self.cfg().enable_auto_commit {
            let offsets = self.positions();
            self.send_commit(CommitKind::Auto, offsets);
        }
        self.revoke_all();
        self.membership = Membership::Joining;
        self.rejoin_needed = false;
        let corr = self.corr();
        let cfg = self.cfg();
        let (session_timeout_ms, rebalance_timeout_ms) = (cfg.session_timeout_ms, cfg.max_poll_interval_ms);
        let msg =
            Msg::JoinGroup { corr, consumer: self.id, member: self.member, session_timeout_ms, rebalance_timeout_ms };
        // Kafka's client waits max.poll.interval.ms + 5 s for this answer; the simulation waits
        // request.timeout.ms and asks again (the member keeps its place in the rebalance), so
        // that a coordinator dying silently mid-rebalance does not hold the group for minutes.
        self.request(to, corr, Request::Join, msg, REQUEST_TIMEOUT_MS);
        self.publish_progress();
    }

    fn revoke_all(&mut self) {
        let fetches: Vec<u64> = self.assigned.values().filter_map(|a| a.fetch_in_flight).collect();
        for corr in fetches {
            self.requests.remove(&corr);
        }
        self.assigned.clear();
        self.ready.clear();
    }

    fn on_join_response(&mut self, result: Result<JoinResult, KafkaError>) {
        if self.membership != Membership::Joining {
            return;
        }
        match result {
            Ok(JoinResult { member, generation, partitions }) => {
                self.member = Some(member);
                self.generation = Some(generation);
                self.membership = Membership::Stable;
                self.record(EventKind::Assigned { consumer: self.id, generation, partitions: partitions.clone() });
                self.assigned = partitions.iter().map(|&p| (p, Assigned::default())).collect();
                self.heartbeat_in_flight = false;
                self.fetch_committed();
                self.publish_progress();
                self.wake_app();
            }
            Err(e) => {
                self.membership = Membership::Unjoined;
                self.on_group_error(e);
                let at = self.after_us(RETRY_BACKOFF_MS);
                self.wake_app_at(at);
            }
        }
    }

    /// What an error from the coordinator means for membership (Kafka's
    /// `AbstractCoordinator` handlers).
    fn on_group_error(&mut self, e: KafkaError) {
        match e {
            KafkaError::UnknownMemberId => {
                self.member = None;
                self.generation = None;
                self.leave_stable();
            }
            KafkaError::IllegalGeneration => {
                self.generation = None;
                self.leave_stable();
            }
            KafkaError::RebalanceInProgress => self.rejoin_needed = true,
            KafkaError::NotCoordinator
            | KafkaError::CoordinatorNotAvailable
            | KafkaError::NetworkException
            | KafkaError::ClientRequestTimeout
            | KafkaError::RequestTimedOut => self.coordinator_lost(),
            _ => {}
        }
    }

    /// The member's generation is gone: its partitions are lost (no commit before rejoining).
    /// As in Kafka, the client keeps its assignment until the app's next poll rejoins: a
    /// `commitSync()` before that fails with CommitFailedException.
    fn leave_stable(&mut self) {
        if self.membership == Membership::Stable {
            self.membership = Membership::Unjoined;
            self.publish_progress();
        }
        self.rejoin_needed = true;
        self.wake_app();
    }

    fn on_heartbeat_timer(&mut self) {
        let at = self.now_us().saturating_add(self.heartbeat_interval_us());
        self.timers.at(at, Timer::Heartbeat);
        if self.membership != Membership::Stable || self.heartbeat_in_flight {
            return;
        }
        let (Some(member), Some(generation), Some(to)) = (self.member, self.generation, self.coordinator_idx()) else {
            if self.coordinator.is_none() {
                self.request_metadata();
            }
            return;
        };
        let corr = self.corr();
        self.heartbeat_in_flight = true;
        self.request(
            to,
            corr,
            Request::Heartbeat,
            Msg::GroupHeartbeat { corr, member, generation },
            REQUEST_TIMEOUT_MS,
        );
    }

    fn on_heartbeat_response(&mut self, result: Result<(), KafkaError>) {
        self.heartbeat_in_flight = false;
        if let Err(e) = result {
            if self.membership == Membership::Stable {
                self.on_group_error(e);
                self.wake_app();
            }
        }
    }

    /// The heartbeat thread's poll timer: the app has not called `poll()` for
    /// `max.poll.interval.ms`, so the member leaves the group (Kafka's `maybeLeaveGroup`).
    fn on_poll_timeout(&mut self) {
        self.poll_timer_armed = false;
        let deadline = self.last_poll_us.saturating_add(self.cfg().max_poll_interval_ms.saturating_mul(1000));
        if self.now_us() < deadline {
            self.arm_poll_timer();
            return;
        }
        if self.membership != Membership::Stable {
            return;
        }
        let generation = self.generation.unwrap_or(0);
        let ms = self.cfg().max_poll_interval_ms;
        let reason = format!("its app had not called poll() for max.poll.interval.ms ({ms} ms)");
        self.record(EventKind::LeftGroup { consumer: self.id, generation, reason: reason.clone() });
        if let (Some(member), Some(to)) = (self.member, self.coordinator_idx()) {
            self.world.net.send(self.me, to, Msg::LeaveGroup { member, reason });
        }
        self.member = None;
        self.generation = None;
        self.leave_stable();
    }

    // ------------------------------------------------------------ positions

    /// OffsetFetch for the partitions that have no position yet.
    fn fetch_committed(&mut self) {
        let (Some(generation), Some(to)) = (self.generation, self.coordinator_idx()) else {
            if self.coordinator.is_none() {
                self.request_metadata();
            }
            return;
        };
        if self.requests.values().any(|r| matches!(r, Request::OffsetFetch { .. })) {
            return;
        }
        let partitions: Vec<u32> = self
            .assigned
            .iter()
            .filter(|(_, a)| a.position.is_none() && a.resetting.is_none() && !a.no_offset)
            .map(|(&p, _)| p)
            .collect();
        if partitions.is_empty() {
            return;
        }
        let corr = self.corr();
        let msg = Msg::OffsetFetch { corr, partitions };
        self.request(to, corr, Request::OffsetFetch { generation }, msg, REQUEST_TIMEOUT_MS);
    }

    fn on_committed_offsets(&mut self, generation: u32, result: Result<Vec<(u32, Option<u64>)>, KafkaError>) {
        if self.generation != Some(generation) || self.membership != Membership::Stable {
            return;
        }
        match result {
            Ok(offsets) => {
                for (p, committed) in offsets {
                    let Some(a) = self.assigned.get_mut(&p) else { continue };
                    if a.position.is_some() || a.resetting.is_some() {
                        continue;
                    }
                    match committed {
                        Some(offset) => {
                            a.position = Some(offset);
                            self.record(EventKind::Resumed {
                                consumer: self.id,
                                generation,
                                partition: p,
                                offset: Some(offset),
                                committed: Some(offset),
                                reset: None,
                            });
                        }
                        None => self.reset_position(p, None),
                    }
                }
                self.publish_progress();
                self.wake_app();
            }
            Err(e) => {
                self.on_group_error(e);
            }
        }
    }

    /// `auto.offset.reset`, for a partition with no committed offset (`found` is `None`) or
    /// whose offset `found` is out of range.
    fn reset_position(&mut self, partition: u32, found: Option<u64>) {
        let generation = self.generation.unwrap_or(0);
        let policy = self.cfg().auto_offset_reset;
        let Some(a) = self.assigned.get_mut(&partition) else { return };
        a.position = None;
        a.buffer.clear();
        let resumed = |offset: Option<u64>, reset: &str| EventKind::Resumed {
            consumer: self.id,
            generation,
            partition,
            offset,
            committed: found,
            reset: Some(reset.to_string()),
        };
        match policy {
            OffsetReset::Earliest => {
                a.position = Some(0);
                self.record(resumed(Some(0), "earliest"));
            }
            // The log end comes with the answer to a fetch past any offset (ListOffsets).
            OffsetReset::Latest => a.resetting = Some(found),
            OffsetReset::None => {
                a.no_offset = true;
                self.record(resumed(None, "none"));
            }
        }
        self.publish_progress();
    }

    // ------------------------------------------------------------ fetching

    fn send_fetches(&mut self) {
        if self.membership != Membership::Stable {
            return;
        }
        let wanted: Vec<(u32, u64)> = self
            .assigned
            .iter()
            .filter(|(_, a)| a.fetch_in_flight.is_none() && a.buffer.is_empty() && !a.no_offset)
            .filter_map(|(&p, a)| match (a.position, a.resetting) {
                (Some(pos), _) => Some((p, pos)),
                (None, Some(_)) => Some((p, u64::MAX)),
                _ => None,
            })
            .collect();
        let mut need_metadata = false;
        for (partition, fetch_offset) in wanted {
            let Some(leader) = self.metadata.leader(partition) else {
                need_metadata = true;
                continue;
            };
            let corr = self.corr();
            let msg = Msg::Fetch {
                corr,
                partition,
                replica: None,
                fetch_offset,
                last_fetched_epoch: None,
                current_leader_epoch: 0,
                max_wait_ms: FETCH_MAX_WAIT_MS,
            };
            self.assigned.get_mut(&partition).unwrap().fetch_in_flight = Some(corr);
            let to = self.world.broker_idx(leader);
            self.request(to, corr, Request::Fetch { partition, broker: leader }, msg, REQUEST_TIMEOUT_MS);
        }
        if need_metadata {
            self.request_metadata();
        }
    }

    fn on_fetch_response(&mut self, corr: u64, partition: u32, result: Result<FetchData, KafkaError>) {
        let Some(a) = self.assigned.get_mut(&partition).filter(|a| a.fetch_in_flight == Some(corr)) else { return };
        a.fetch_in_flight = None;
        match result {
            Ok(FetchData::Records { batches, .. }) => self.on_records(partition, batches),
            Ok(FetchData::OutOfRange { log_end_offset }) => match a.resetting.take() {
                Some(found) => {
                    a.position = Some(log_end_offset);
                    let generation = self.generation.unwrap_or(0);
                    self.record(EventKind::Resumed {
                        consumer: self.id,
                        generation,
                        partition,
                        offset: Some(log_end_offset),
                        committed: found,
                        reset: Some("latest".into()),
                    });
                    self.publish_progress();
                    self.wake_app();
                }
                None => {
                    // OFFSET_OUT_OF_RANGE: the position is past the leader's log end (records
                    // were truncated away, or a committed offset points past them).
                    let found = a.position;
                    self.reset_position(partition, found);
                    self.wake_app();
                }
            },
            Ok(FetchData::Diverging { .. }) | Err(_) => {
                self.request_metadata();
                let at = self.after_us(RETRY_BACKOFF_MS);
                self.wake_app_at(at);
            }
        }
    }

    fn on_records(&mut self, partition: u32, batches: Vec<Batch>) {
        let Some(a) = self.assigned.get_mut(&partition) else { return };
        let Some(position) = a.position else { return };
        let records = batches
            .iter()
            .flat_map(|b| b.msgs.iter().enumerate().map(move |(i, &m)| (b.base_offset + i as u64, m)))
            .filter(|&(o, _)| o >= position);
        a.buffer.extend(records);
        if !a.buffer.is_empty() && !self.ready.contains(&partition) {
            self.ready.push_back(partition);
        }
        self.wake_app();
    }

    /// What `poll()` returns: up to `max.poll.records` of the fetched records, partition by
    /// partition in the order their fetches came back; positions move past them.
    fn take_records(&mut self) -> Vec<(u32, u64, MsgId)> {
        let mut room = self.cfg().max_poll_records as usize;
        let mut out = Vec::new();
        while room > 0 {
            let Some(&p) = self.ready.front() else { break };
            let Some(a) = self.assigned.get_mut(&p) else {
                self.ready.pop_front();
                continue;
            };
            let n = room.min(a.buffer.len());
            let taken: Vec<(u64, MsgId)> = a.buffer.drain(..n).collect();
            if a.buffer.is_empty() {
                self.ready.pop_front();
            }
            let Some(&(first, _)) = taken.first() else { continue };
            let last = taken[taken.len() - 1].0;
            a.position = Some(last + 1);
            room -= n;
            self.record(EventKind::Polled { consumer: self.id, partition: p, offsets: (first, last + 1) });
            out.extend(taken.into_iter().map(|(o, m)| (p, o, m)));
        }
        out
    }

    /// The positions of every assigned partition that has one: what a no-argument commit
    /// commits.
    fn positions(&self) -> Vec<(u32, u64)> {
        self.assigned.iter().filter_map(|(&p, a)| a.position.map(|o| (p, o))).collect()
    }

    // ------------------------------------------------------------ commits

    fn send_commit(&mut self, kind: CommitKind, offsets: Vec<(u32, u64)>) {
        if offsets.is_empty() {
            if kind == CommitKind::Sync {
                self.on_sync_commit_done(Ok(()));
            }
            return;
        }
        let generation = self.generation;
        let local_error = match (self.membership, self.coordinator_idx()) {
            // Kafka fails the commit in the client when the member is not stable.
            (Membership::Joining, _) => Some("RebalanceInProgressException: the consumer is rebalancing"),
            (Membership::Unjoined, _) => {
                Some("CommitFailedException: the consumer is not part of an active group (it left or was removed)")
            }
            (Membership::Stable, None) => Some("COORDINATOR_NOT_AVAILABLE: no coordinator known"),
            (Membership::Stable, Some(_)) => None,
        };
        if let Some(error) = local_error {
            if self.coordinator.is_none() {
                self.request_metadata();
            }
            if kind == CommitKind::Sync && self.membership == Membership::Stable {
                // commitSync() waits for a coordinator, quietly.
                self.retry_sync_commit();
                return;
            }
            self.record(EventKind::CommitFailed { consumer: self.id, generation, offsets, error: error.to_string() });
            if kind == CommitKind::Sync {
                self.on_sync_commit_done(Err(()));
            }
            return;
        }
        let to = self.coordinator_idx().expect("checked");
        let corr = self.corr();
        let msg = Msg::OffsetCommit { corr, member: self.member, generation, offsets: offsets.clone() };
        self.request(to, corr, Request::Commit { kind, generation, offsets }, msg, REQUEST_TIMEOUT_MS);
    }

    fn on_commit_response(
        &mut self,
        kind: CommitKind,
        generation: Option<u32>,
        offsets: Vec<(u32, u64)>,
        result: Result<(), KafkaError>,
    ) {
        let Err(e) = result else {
            if kind == CommitKind::Sync {
                self.on_sync_commit_done(Ok(()));
            }
            return;
        };
        self.record(EventKind::CommitFailed { consumer: self.id, generation, offsets, error: e.name().to_string() });
        let retriable =
            !matches!(e, KafkaError::UnknownMemberId | KafkaError::IllegalGeneration | KafkaError::RebalanceInProgress);
        // A stale generation's rejection says nothing about the current one.
        if retriable || (generation == self.generation && self.membership == Membership::Stable) {
            self.on_group_error(e);
        }
        if kind == CommitKind::Sync {
            if retriable && self.membership == Membership::Stable {
                self.retry_sync_commit();
            } else {
                self.on_sync_commit_done(Err(()));
            }
        }
    }

    /// `commitSync()` retries a retriable error after `retry.backoff.ms`, until
    /// `default.api.timeout.ms`.
    fn retry_sync_commit(&mut self) {
        let now = self.now_us();
        let App::Committing { deadline_us, attempt, offsets, .. } = &mut self.app else { return };
        if now >= *deadline_us {
            let offsets = offsets.clone();
            let error = format!("TimeoutException: commitSync() did not complete within default.api.timeout.ms ({DEFAULT_API_TIMEOUT_MS} ms)");
            self.record(EventKind::CommitFailed { consumer: self.id, generation: self.generation, offsets, error });
            self.on_sync_commit_done(Err(()));
            return;
        }
        *attempt += 1;
        let attempt = *attempt;
        let at = self.after_us(RETRY_BACKOFF_MS);
        self.timers.at(at, Timer::CommitRetry { attempt });
    }

    fn on_commit_retry(&mut self, attempt: u64) {
        let App::Committing { offsets, attempt: current, .. } = &self.app else { return };
        if *current != attempt {
            return;
        }
        let offsets = offsets.clone();
        self.send_commit(CommitKind::Sync, offsets);
    }

    /// The app's `commitSync()` returned (`Err`: it threw).
    fn on_sync_commit_done(&mut self, result: Result<(), ()>) {
        if !matches!(self.app, App::Committing { .. }) {
            return;
        }
        let App::Committing { then, .. } = std::mem::replace(&mut self.app, App::Polling) else { return };
        match (then, result) {
            (Then::Process(records), Ok(())) => self.process(records),
            (Then::Process(records), Err(())) => {
                // The exception leaves the loop body: the batch is dropped unprocessed.
                for (p, o, _) in records {
                    if let Some(set) = self.pending.get_mut(&p) {
                        set.remove(&o);
                    }
                }
                self.publish_progress();
                self.app_poll();
            }
            (Then::Poll, _) => self.app_poll(),
        }
    }

    /// `commitSync()` of `offsets`, then `then`.
    fn commit_sync(&mut self, offsets: Vec<(u32, u64)>, then: Then) {
        let deadline_us = self.after_us(DEFAULT_API_TIMEOUT_MS);
        self.app = App::Committing { offsets: offsets.clone(), then, deadline_us, attempt: 0 };
        self.send_commit(CommitKind::Sync, offsets);
    }

    fn maybe_auto_commit(&mut self) {
        let cfg = self.cfg();
        let due = self.last_auto_commit_us.saturating_add(cfg.auto_commit_interval_ms.saturating_mul(1000));
        if !cfg.enable_auto_commit || self.now_us() < due {
            return;
        }
        self.last_auto_commit_us = self.now_us();
        // What earlier polls returned, processed or not.
        let offsets = self.positions();
        self.send_commit(CommitKind::Auto, offsets);
    }

    /// The async app's after-process commit: the contiguous processed prefix of each assigned
    /// partition, where it moved since the app last committed it.
    fn commit_processed_prefix(&mut self) {
        let offsets: Vec<(u32, u64)> = self
            .assigned
            .iter()
            .filter_map(|(&p, a)| {
                let position = a.position?;
                let oldest_pending = self.pending.get(&p).and_then(|s| s.first().copied());
                let prefix = oldest_pending.map_or(position, |o| o.min(position));
                (self.app_committed.get(&p) != Some(&prefix)).then_some((p, prefix))
            })
            .collect();
        if offsets.is_empty() || self.membership != Membership::Stable {
            return;
        }
        for &(p, o) in &offsets {
            self.app_committed.insert(p, o);
        }
        self.send_commit(CommitKind::Async, offsets);
    }

    // ------------------------------------------------------------ the app

    fn wake_app(&mut self) {
        let now = self.now_us();
        self.wake_app_at(now);
    }

    fn wake_app_at(&mut self, at: u64) {
        if matches!(self.app, App::Polling) {
            self.timers.at(at, Timer::AppPoll { seq: self.poll_seq });
        }
    }

    /// The app calls `poll()`.
    fn app_poll(&mut self) {
        self.poll_seq += 1;
        self.app = App::Polling;
        self.last_poll_us = self.now_us();
        self.arm_poll_timer();
        let cfg = self.cfg().clone();
        if cfg.app_processing == Processing::Async && cfg.app_commit == CommitStrategy::AfterProcess {
            self.commit_processed_prefix();
        }
        if self.membership == Membership::Unjoined || (self.rejoin_needed && self.membership == Membership::Stable) {
            self.start_join();
        }
        if self.membership == Membership::Stable {
            self.maybe_auto_commit();
            self.fetch_committed();
            self.send_fetches();
            let records = self.take_records();
            if !records.is_empty() {
                // Pipelining: the next fetches go out before the app gets the records.
                self.send_fetches();
                self.on_polled(records);
                return;
            }
        }
        let at = self.after_us(APP_POLL_TIMEOUT_MS);
        self.timers.at(at, Timer::AppPoll { seq: self.poll_seq });
    }

    fn arm_poll_timer(&mut self) {
        if !self.poll_timer_armed {
            self.poll_timer_armed = true;
            let at = self.last_poll_us.saturating_add(self.cfg().max_poll_interval_ms.saturating_mul(1000));
            self.timers.at(at, Timer::PollTimeout);
        }
    }

    fn on_polled(&mut self, records: Vec<(u32, u64, MsgId)>) {
        for &(p, o, _) in &records {
            self.pending.entry(p).or_default().insert(o);
        }
        if self.cfg().app_commit == CommitStrategy::BeforeProcess {
            let offsets = self.positions();
            self.commit_sync(offsets, Then::Process(records));
        } else {
            self.process(records);
        }
    }

    fn process(&mut self, records: Vec<(u32, u64, MsgId)>) {
        let cfg = self.cfg().clone();
        let process_us = cfg.app_process_ms.saturating_mul(1000);
        match cfg.app_processing {
            Processing::Sync => {
                self.app = App::Processing;
                let mut t = self.now_us();
                for (partition, offset, msg) in records {
                    t = t.saturating_add(process_us);
                    self.timers.at(t, Timer::Processed { partition, offset, msg, worker: false });
                }
                self.timers.at(t, Timer::BatchDone);
            }
            Processing::Async => {
                self.queue.extend(records);
                self.start_workers();
                self.app = App::Polling;
                self.wake_app();
            }
        }
    }

    fn start_workers(&mut self) {
        let now = self.now_us();
        let process_us = self.cfg().app_process_ms.saturating_mul(1000);
        while self.busy_workers < self.cfg().app_workers {
            let Some((partition, offset, msg)) = self.queue.pop_front() else { break };
            self.busy_workers += 1;
            self.timers.at(now.saturating_add(process_us), Timer::Processed { partition, offset, msg, worker: true });
        }
    }

    fn on_processed(&mut self, partition: u32, offset: u64, msg: MsgId, worker: bool) {
        self.record(EventKind::Processed { consumer: self.id, partition, offset, msg });
        if let Some(set) = self.pending.get_mut(&partition) {
            set.remove(&offset);
        }
        if worker {
            self.busy_workers = self.busy_workers.saturating_sub(1);
            self.start_workers();
        }
        self.publish_progress();
    }

    fn on_batch_done(&mut self) {
        if !matches!(self.app, App::Processing) {
            return;
        }
        if self.cfg().app_commit == CommitStrategy::AfterProcess {
            let offsets = self.positions();
            self.commit_sync(offsets, Then::Poll);
        } else {
            self.app_poll();
        }
    }

    // ------------------------------------------------------------ answers and failures

    fn on_response(&mut self, corr: u64, answer: Msg) {
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
            _ => {}
        }
    }

    /// A request failed without an answer (timeout, connection refused or reset).
    fn fail_request(&mut self, corr: u64, e: KafkaError) {
        let Some(request) = self.requests.remove(&corr) else { return };
        match request {
            Request::Join => self.on_join_response(Err(e)),
            Request::Heartbeat => self.on_heartbeat_response(Err(e)),
            Request::Commit { kind, generation, offsets } => self.on_commit_response(kind, generation, offsets, Err(e)),
            Request::OffsetFetch { generation } => self.on_committed_offsets(generation, Err(e)),
            Request::Fetch { partition, .. } => self.on_fetch_response(corr, partition, Err(e)),
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

    fn on_msg(&mut self, _from: NodeIdx, msg: Msg) {
        match msg {
            Msg::MetadataResponse { corr, partitions } => self.on_metadata(corr, partitions),
            Msg::FetchResponse { corr, .. }
            | Msg::JoinGroupResponse { corr, .. }
            | Msg::GroupHeartbeatResponse { corr, .. }
            | Msg::OffsetCommitResponse { corr, .. }
            | Msg::OffsetFetchResponse { corr, .. } => self.on_response(corr, msg),
            Msg::Refused { msg, .. } => match *msg {
                Msg::Metadata { corr } if self.metadata.on_timeout(&self.world, corr) => self.request_metadata(),
                Msg::Fetch { corr, .. }
                | Msg::JoinGroup { corr, .. }
                | Msg::GroupHeartbeat { corr, .. }
                | Msg::OffsetCommit { corr, .. }
                | Msg::OffsetFetch { corr, .. } => self.fail_request(corr, KafkaError::NetworkException),
                _ => {}
            },
            Msg::PeerDown { peer } => {
                let lost: Vec<u64> = self
                    .requests
                    .iter()
                    .filter(|(_, r)| match r {
                        Request::Fetch { broker, .. } => self.world.broker_idx(*broker) == peer,
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
        }
    }
}
