//! A consumer process: the Kafka consumer and the application around it. The consumer owns a
//! fixed share of the partitions (partition `p` goes to consumer `p % consumers`; a simplified
//! group without rebalancing), starts from the group's committed offsets or
//! `auto.offset.reset`, and fetches from each partition's leader, which returns only records
//! below the high watermark. `poll()` auto-commits, at `auto.commit.interval.ms`, the positions
//! that earlier polls returned, as Kafka does. The app processes records synchronously or hands
//! them to `app.workers` workers (`app.processing=async`) and commits per `app.commit`.
//! Everything in memory, the worker queue included, dies with the process.

use crate::actor::{Actor, Timers};
use crate::log::Batch;
use crate::metadata::{MetadataCache, METADATA_TIMEOUT_MS};
use crate::network::NodeIdx;
use crate::protocol::{FetchData, KafkaError, Msg};
use crate::world::World;
use losslab_model::config::{CommitStrategy, OffsetReset, Processing};
use losslab_model::history::{EventKind, MsgId, NodeName};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Kafka's `fetch.max.wait.ms` default.
const FETCH_MAX_WAIT_MS: u64 = 500;
/// How long a fetch may go unanswered before the consumer asks again (`request.timeout.ms`).
const FETCH_TIMEOUT_MS: u64 = 30_000;
/// Back-off after an error (`retry.backoff.ms`).
const BACKOFF_MS: u64 = 100;

#[derive(Debug)]
pub enum Timer {
    /// The app calls `poll()` for this partition.
    Poll {
        partition: u32,
    },
    FetchTimeout {
        partition: u32,
        corr: u64,
    },
    /// A worker finished a record.
    Processed {
        partition: u32,
        offset: u64,
        msg: MsgId,
    },
    MetadataTimeout {
        corr: u64,
    },
    /// Asks the coordinator for the committed offsets again.
    OffsetFetch,
}

#[derive(Default)]
struct PartitionState {
    /// The next offset to fetch; `None` until known (committed offset or reset).
    position: Option<u64>,
    in_flight: Option<u64>,
    /// Offsets handed to async workers and not processed yet.
    pending: std::collections::BTreeSet<u64>,
    /// Everything below this is processed (the contiguous prefix).
    processed_to: u64,
}

pub struct Consumer {
    world: Arc<World>,
    id: u32,
    me: NodeIdx,
    partitions: BTreeMap<u32, PartitionState>,
    metadata: MetadataCache,
    queue: VecDeque<(u32, u64, MsgId)>,
    busy_workers: u32,
    last_auto_commit_us: u64,
    offsets_known: bool,
    /// This is the consumer's first incarnation (see `on_committed_offsets`).
    first_start: bool,
    next_corr: u64,
    timers: Timers<Timer>,
}

impl Consumer {
    pub fn start(world: Arc<World>, id: u32) -> Consumer {
        let consumers = world.scenario.workload.consumers;
        let partitions = (0..world.scenario.topic.partitions)
            .filter(|p| p % consumers == id - 1)
            .map(|p| (p, PartitionState::default()))
            .collect();
        let now = world.now_us();
        let mut c = Consumer {
            me: world.consumer_idx(id),
            metadata: MetadataCache::new(id % world.scenario.brokers + 1),
            partitions,
            queue: VecDeque::new(),
            busy_workers: 0,
            last_auto_commit_us: now,
            offsets_known: false,
            first_start: world.first_start(world.consumer_idx(id)),
            next_corr: 0,
            timers: Timers::default(),
            id,
            world,
        };
        c.timers.at(now, Timer::OffsetFetch);
        c.request_metadata();
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

    fn request_metadata(&mut self) {
        let corr = self.corr();
        if self.metadata.request(&self.world, self.me, corr) {
            let now = self.now_us();
            self.timers
                .at(now.saturating_add(METADATA_TIMEOUT_MS.saturating_mul(1000)), Timer::MetadataTimeout { corr });
        }
    }

    fn on_metadata(&mut self, corr: u64, partitions: Vec<(u32, Option<u32>, u32)>) {
        if self.metadata.on_response(&self.world, corr, partitions) {
            // A partition without a known leader: ask again after the back-off.
            let now = self.now_us();
            self.timers.at(now.saturating_add(BACKOFF_MS.saturating_mul(1000)), Timer::OffsetFetch);
        }
    }

    fn publish_progress(&self) {
        let mut progress = self.world.consumers[self.id as usize - 1].lock().unwrap();
        for (&p, st) in &self.partitions {
            progress.processed_to.insert(p, st.processed_to);
        }
    }

    /// `poll()` for one partition: auto-commit what earlier polls returned, then fetch.
    fn poll(&mut self, partition: u32) {
        if !self.offsets_known {
            return;
        }
        self.maybe_auto_commit();
        let Some(leader) = self.metadata.leader(partition) else {
            self.request_metadata();
            let now = self.now_us();
            self.timers.at(now.saturating_add(BACKOFF_MS.saturating_mul(1000)), Timer::Poll { partition });
            return;
        };
        let corr = self.corr();
        let Some(st) = self.partitions.get_mut(&partition) else { return };
        if st.in_flight.is_some() {
            return;
        }
        st.in_flight = Some(corr);
        // An unknown position asks for one past any offset: the leader answers out of range with
        // its high watermark, and auto.offset.reset decides (Kafka's ListOffsets, in one step).
        let fetch_offset = st.position.unwrap_or(u64::MAX);
        let msg = Msg::Fetch {
            corr,
            partition,
            replica: None,
            fetch_offset,
            last_fetched_epoch: None,
            current_leader_epoch: 0,
            max_wait_ms: FETCH_MAX_WAIT_MS,
        };
        self.world.net.send(self.me, self.world.broker_idx(leader), msg);
        let now = self.now_us();
        self.timers
            .at(now.saturating_add(FETCH_TIMEOUT_MS.saturating_mul(1000)), Timer::FetchTimeout { partition, corr });
    }

    fn maybe_auto_commit(&mut self) {
        let now = self.now_us();
        let cfg = self.cfg();
        if !cfg.enable_auto_commit
            || now < self.last_auto_commit_us.saturating_add(cfg.auto_commit_interval_ms.saturating_mul(1000))
        {
            return;
        }
        self.last_auto_commit_us = now;
        // Auto-commit commits the positions earlier polls returned, processed or not.
        let offsets = self.partitions.iter().filter_map(|(&p, st)| st.position.map(|o| (p, o))).collect();
        self.commit(offsets);
    }

    fn commit(&mut self, offsets: Vec<(u32, u64)>) {
        if offsets.is_empty() {
            return;
        }
        for &(partition, offset) in &offsets {
            self.record(EventKind::Committed { consumer: self.id, partition, offset });
        }
        let corr = self.corr();
        let msg = Msg::OffsetCommit { corr, consumer: self.id, offsets };
        self.world.net.send(self.me, self.world.controller_idx(), msg);
    }

    fn on_fetch_response(&mut self, corr: u64, partition: u32, result: Result<FetchData, KafkaError>) {
        let Some(st) = self.partitions.get_mut(&partition) else { return };
        if st.in_flight != Some(corr) {
            return;
        }
        st.in_flight = None;
        let now = self.now_us();
        match result {
            Ok(FetchData::Records { batches, .. }) => self.on_records(partition, batches),
            Ok(FetchData::OutOfRange { log_end_offset }) => {
                let reset = match self.cfg().auto_offset_reset {
                    OffsetReset::Earliest => 0,
                    OffsetReset::Latest | OffsetReset::None => log_end_offset,
                };
                let st = self.partitions.get_mut(&partition).unwrap();
                st.position = Some(reset);
                if st.pending.is_empty() {
                    st.processed_to = reset;
                }
                self.publish_progress();
                self.timers.at(now, Timer::Poll { partition });
            }
            Ok(FetchData::Diverging { .. }) | Err(_) => {
                self.request_metadata();
                self.timers.at(now.saturating_add(BACKOFF_MS.saturating_mul(1000)), Timer::Poll { partition });
            }
        }
    }

    fn on_records(&mut self, partition: u32, batches: Vec<Batch>) {
        let now = self.now_us();
        let Some(st) = self.partitions.get_mut(&partition) else { return };
        let position = st.position.unwrap_or(0);
        let max = self.world.scenario.consumer.max_poll_records as usize;
        let records: Vec<(u64, MsgId)> = batches
            .iter()
            .flat_map(|b| b.msgs.iter().enumerate().map(move |(i, &m)| (b.base_offset + i as u64, m)))
            .filter(|&(o, _)| o >= position)
            .take(max)
            .collect();
        let Some(&(last, _)) = records.last() else {
            self.timers.at(now, Timer::Poll { partition });
            return;
        };
        st.position = Some(last + 1);
        self.record(EventKind::Polled { consumer: self.id, partition, offsets: (records[0].0, last + 1) });
        let cfg = self.cfg().clone();
        if cfg.app_commit == CommitStrategy::BeforeProcess {
            self.commit(vec![(partition, last + 1)]);
        }
        match cfg.app_processing {
            Processing::Sync => {
                // The app processes the whole poll before it polls again.
                let mut t = now;
                for (offset, msg) in records {
                    t += cfg.app_process_ms.saturating_mul(1000);
                    self.timers.at(t, Timer::Processed { partition, offset, msg });
                    self.partitions.get_mut(&partition).unwrap().pending.insert(offset);
                }
                self.timers.at(t, Timer::Poll { partition });
            }
            Processing::Async => {
                for (offset, msg) in records {
                    self.partitions.get_mut(&partition).unwrap().pending.insert(offset);
                    self.queue.push_back((partition, offset, msg));
                }
                self.start_workers();
                self.timers.at(now, Timer::Poll { partition });
            }
        }
    }

    fn start_workers(&mut self) {
        let now = self.now_us();
        let process_us = self.cfg().app_process_ms.saturating_mul(1000);
        while self.busy_workers < self.cfg().app_workers {
            let Some((partition, offset, msg)) = self.queue.pop_front() else { break };
            self.busy_workers += 1;
            self.timers.at(now.saturating_add(process_us), Timer::Processed { partition, offset, msg });
        }
    }

    fn on_processed(&mut self, partition: u32, offset: u64, msg: MsgId) {
        self.record(EventKind::Processed { consumer: self.id, partition, offset, msg });
        let cfg = self.cfg().clone();
        let Some(st) = self.partitions.get_mut(&partition) else { return };
        st.pending.remove(&offset);
        // The contiguous processed prefix: everything below the oldest record still pending.
        let prefix = st.pending.first().copied().unwrap_or_else(|| st.position.unwrap_or(offset + 1));
        let advanced = prefix > st.processed_to;
        st.processed_to = st.processed_to.max(prefix);
        let processed_to = st.processed_to;
        if cfg.app_processing == Processing::Async {
            self.busy_workers -= 1;
            self.start_workers();
        }
        if advanced && cfg.app_commit == CommitStrategy::AfterProcess {
            self.commit(vec![(partition, processed_to)]);
        }
        self.publish_progress();
    }

    fn on_committed_offsets(&mut self, offsets: Vec<(u32, u64)>) {
        if self.offsets_known {
            return;
        }
        self.offsets_known = true;
        let committed: BTreeMap<u32, u64> = offsets.into_iter().collect();
        // The group subscribes before the workload starts: on the first start the topic is
        // empty, so `earliest` and `latest` both mean offset 0.
        let first_start = self.first_start;
        let partitions: Vec<u32> = self.partitions.keys().copied().collect();
        for p in partitions {
            let st = self.partitions.get_mut(&p).unwrap();
            st.position = committed.get(&p).copied().or(first_start.then_some(0));
            st.processed_to = st.position.unwrap_or(0);
            let now = self.now_us();
            self.timers.at(now, Timer::Poll { partition: p });
        }
        self.publish_progress();
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
            Msg::FetchResponse { corr, partition, result } => self.on_fetch_response(corr, partition, result),
            Msg::MetadataResponse { corr, partitions } => self.on_metadata(corr, partitions),
            Msg::OffsetFetchResponse { offsets, .. } => self.on_committed_offsets(offsets),
            Msg::Refused { msg, .. } => match *msg {
                Msg::Fetch { corr, partition, .. } => {
                    self.on_fetch_response(corr, partition, Err(KafkaError::NetworkException))
                }
                Msg::Metadata { corr } if self.metadata.on_timeout(&self.world, corr) => self.request_metadata(),
                _ => {}
            },
            Msg::PeerDown { peer } => {
                let lost: Vec<(u32, u64)> = self
                    .partitions
                    .iter()
                    .filter(|(&p, _)| self.metadata.leader(p).is_some_and(|l| self.world.broker_idx(l) == peer))
                    .filter_map(|(&p, st)| st.in_flight.map(|c| (p, c)))
                    .collect();
                for (partition, corr) in lost {
                    self.on_fetch_response(corr, partition, Err(KafkaError::NetworkException));
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Poll { partition } => self.poll(partition),
            Timer::FetchTimeout { partition, corr } => {
                if let Some(st) = self.partitions.get_mut(&partition).filter(|st| st.in_flight == Some(corr)) {
                    st.in_flight = None;
                    self.request_metadata();
                    self.poll(partition);
                }
            }
            Timer::Processed { partition, offset, msg } => self.on_processed(partition, offset, msg),
            Timer::MetadataTimeout { corr } => {
                if self.metadata.on_timeout(&self.world, corr) {
                    self.request_metadata();
                }
            }
            Timer::OffsetFetch => {
                if !self.offsets_known {
                    let corr = self.corr();
                    self.world.net.send(
                        self.me,
                        self.world.controller_idx(),
                        Msg::OffsetFetch { corr, consumer: self.id },
                    );
                    let now = self.now_us();
                    self.timers.at(now.saturating_add(METADATA_TIMEOUT_MS.saturating_mul(1000)), Timer::OffsetFetch);
                }
                self.request_metadata();
            }
        }
    }
}
