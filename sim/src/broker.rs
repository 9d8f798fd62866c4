//! A broker process: the thin async shell around its partition replicas. It decodes requests,
//! calls the `replica` state machines, keeps the purgatories (produce requests waiting for
//! `acks=all`, fetches long-polling for data), runs the replica fetchers of the partitions it
//! follows, heartbeats to the controller, checkpoints high watermarks and applies the flush
//! policy. Everything it holds is lost when it crashes, except the disk, which lives in the
//! `World`; on start it recovers its logs from that disk and registers anew.

mod group;

use crate::actor::{Actor, Timers};
use crate::coordinator::OFFSETS_PARTITION;
use crate::disk::StoredLog;
use crate::log::Batch;
use crate::network::NodeIdx;
use crate::protocol::{FetchData, KafkaError, Msg, PartitionState};
use crate::replica::{Replica, ReplicaRules, StateChange};
use crate::world::{ReplicaObs, World};
use losslab_model::config::Acks;
use losslab_model::history::{EventKind, NodeName, TruncateReason};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Kafka's `replica.fetch.backoff.ms` default.
const FETCH_BACKOFF_MS: u64 = 1000;
/// Kafka's `replica.socket.timeout.ms` default: how long a follower waits for a fetch answer.
const FETCH_SOCKET_TIMEOUT_MS: u64 = 30_000;
/// How often an unanswered AlterPartition is sent again.
const ALTER_PARTITION_RETRY_MS: u64 = 2_000;
/// When every broker has loaded the initial metadata (see `start_fetcher`).
const CLUSTER_START_US: u64 = 10_000;
/// How often the `log.flush.interval.ms` policy is checked.
const FLUSH_CHECK_MS: u64 = 100;

#[derive(Debug)]
pub enum Timer {
    Heartbeat,
    IsrCheck,
    HwCheckpoint,
    FlushCheck,
    ProduceExpire {
        partition: u32,
        corr: u64,
        from: NodeIdx,
    },
    FetchExpire {
        partition: u32,
        corr: u64,
        from: NodeIdx,
    },
    FollowerFetch {
        partition: u32,
        generation: u64,
    },
    FollowerFetchTimeout {
        partition: u32,
        corr: u64,
    },
    AlterPartitionRetry {
        partition: u32,
    },
    /// The hosted group coordinator's next deadline (sessions, the join phase).
    GroupTick {
        load: u64,
    },
    /// `offsets.commit.timeout.ms` of a coordinator write.
    GroupAppendExpire {
        load: u64,
        op: u64,
    },
}

/// An `acks=all` produce request waiting for the high watermark.
struct PendingProduce {
    from: NodeIdx,
    corr: u64,
    base_offset: u64,
    end_offset: u64,
}

/// A fetch with nothing to return yet, waiting for data or its `max_wait_ms`.
struct PendingFetch {
    corr: u64,
    replica: Option<u32>,
    fetch_offset: u64,
    last_fetched_epoch: Option<u32>,
    current_leader_epoch: u32,
}

/// The replica fetcher of one followed partition.
#[derive(Default)]
struct Fetcher {
    leader: Option<u32>,
    /// Bumped whenever the fetcher restarts, so stale timers and answers are ignored.
    generation: u64,
    in_flight: Option<u64>,
}

pub struct Broker {
    world: Arc<World>,
    id: u32,
    me: NodeIdx,
    incarnation: u64,
    rules: ReplicaRules,
    replicas: BTreeMap<u32, Replica>,
    /// The metadata cache: leader and leader epoch per partition, from the controller's pushes.
    metadata: BTreeMap<u32, (Option<u32>, u32)>,
    produce_purgatory: BTreeMap<u32, Vec<PendingProduce>>,
    /// Waiting fetches per partition, keyed by (requester, correlation id).
    fetch_purgatory: BTreeMap<u32, BTreeMap<(NodeIdx, u64), PendingFetch>>,
    fetchers: BTreeMap<u32, Fetcher>,
    /// The last AlterPartition sent per partition, resent until answered.
    alter_in_flight: BTreeMap<u32, Msg>,
    registered: bool,
    next_corr: u64,
    timers: Timers<Timer>,
    /// The consumer group's coordinator, while this broker leads `__consumer_offsets`.
    group: group::GroupHost,
}

impl Broker {
    /// Starts a broker process: log recovery from disk, then registration with the controller.
    pub fn start(world: Arc<World>, id: u32) -> Broker {
        let s = &world.scenario;
        let rules = ReplicaRules {
            version: s.kafka_version,
            min_insync_replicas: s.topic.min_insync_replicas,
            replica_lag_time_max_ms: s.broker.replica_lag_time_max_ms,
        };
        let mut broker = Broker {
            me: world.broker_idx(id),
            incarnation: world.new_incarnation(),
            id,
            rules,
            replicas: BTreeMap::new(),
            metadata: BTreeMap::new(),
            produce_purgatory: BTreeMap::new(),
            fetch_purgatory: BTreeMap::new(),
            fetchers: BTreeMap::new(),
            alter_in_flight: BTreeMap::new(),
            registered: false,
            next_corr: 0,
            timers: Timers::default(),
            group: group::GroupHost::default(),
            world,
        };
        broker.recover_logs();
        let now = broker.now_us();
        if broker.world.first_start(broker.me) {
            // The topic exists before the workload starts: at time zero every broker already
            // knows the partitions as created, as if it had replayed the metadata log.
            let states: Vec<PartitionState> =
                broker.world.controller.lock().unwrap().partitions.values().cloned().collect();
            for state in states {
                broker.on_partition_update(state);
            }
        }
        let b = &broker.world.scenario.broker;
        broker.timers.at(now, Timer::Heartbeat);
        broker.timers.at(now.saturating_add(b.replica_lag_time_max_ms.saturating_mul(500)), Timer::IsrCheck);
        broker.timers.at(
            now.saturating_add(b.replica_high_watermark_checkpoint_interval_ms.saturating_mul(1000)),
            Timer::HwCheckpoint,
        );
        if b.log_flush_interval_ms.is_some() {
            broker.timers.at(now.saturating_add(FLUSH_CHECK_MS.saturating_mul(1000)), Timer::FlushCheck);
        }
        broker
    }

    fn name(&self) -> NodeName {
        NodeName::Broker(self.id)
    }

    fn record(&self, kind: EventKind) {
        self.world.record(self.name(), kind);
    }

    fn send(&self, to: NodeIdx, msg: Msg) {
        self.world.net.send(self.me, to, msg);
    }

    /// Runs `f` on a partition's replica and its stored log.
    fn with_log<R>(&mut self, partition: u32, f: impl FnOnce(&mut Replica, &mut StoredLog) -> R) -> Option<R> {
        let replica = self.replicas.get_mut(&partition)?;
        let mut disk = self.world.disks[self.id as usize - 1].lock().unwrap();
        Some(f(replica, disk.log_mut(partition)))
    }

    fn recover_logs(&mut self) {
        let mut disk = self.world.disks[self.id as usize - 1].lock().unwrap();
        disk.powered_off = false;
        let recovered: Vec<(u32, u64, u64)> =
            disk.logs.iter().map(|(&p, s)| (p, s.log.log_end_offset(), s.hw_checkpoint)).collect();
        for (partition, leo, hw) in &recovered {
            let stored = disk.log_mut(*partition);
            let replica = Replica::recover(self.id, *partition, &stored.log, *hw, self.rules.clone());
            self.replicas.insert(*partition, replica);
            let _ = leo;
        }
        drop(disk);
        for (partition, log_end_offset, hw_checkpoint) in recovered {
            self.record(EventKind::Recovered { broker: self.id, partition, log_end_offset, hw_checkpoint });
        }
    }

    // ---------------------------------------------------------------- controller side

    fn on_partition_update(&mut self, state: PartitionState) {
        let p = state.partition;
        let known = self.metadata.get(&p).map_or(0, |m| m.1);
        if state.leader_epoch >= known {
            self.metadata.insert(p, (state.leader, state.leader_epoch));
        }
        if !state.replicas.contains(&self.id) {
            return;
        }
        if !self.replicas.contains_key(&p) {
            let mut disk = self.world.disks[self.id as usize - 1].lock().unwrap();
            let stored = disk.log_mut(p);
            let replica = Replica::recover(self.id, p, &stored.log, stored.hw_checkpoint, self.rules.clone());
            drop(disk);
            self.replicas.insert(p, replica);
        }
        let now = self.now_us();
        let hw_before = self.replicas.get(&p).map(|r| r.high_watermark);
        let Some(change) = self.with_log(p, |r, s| r.apply_state(&mut s.log, &state, now)) else { return };
        match change {
            StateChange::Ignored => {}
            StateChange::BecameLeader => {
                self.record(EventKind::BecameLeader {
                    broker: self.id,
                    partition: p,
                    leader_epoch: state.leader_epoch,
                });
                self.stop_fetcher(p);
                self.alter_in_flight.remove(&p);
                self.after_hw_or_isr_change(p);
            }
            StateChange::IsrUpdated => {
                // A smaller ISR (the controller fenced a follower) can raise the leader's HW.
                let hw = self.replicas.get(&p).map(|r| r.high_watermark);
                if let (Some(before), Some(hw)) = (hw_before, hw) {
                    if hw > before {
                        self.record(EventKind::HighWatermark { broker: self.id, partition: p, hw });
                    }
                }
                self.alter_in_flight.remove(&p);
                self.after_hw_or_isr_change(p);
            }
            StateChange::BecameFollower { truncate_to_hw } => {
                self.record(EventKind::BecameFollower {
                    broker: self.id,
                    partition: p,
                    leader: state.leader,
                    leader_epoch: state.leader_epoch,
                });
                self.alter_in_flight.remove(&p);
                self.fail_purgatories(p);
                if let Some(hw) = truncate_to_hw {
                    self.truncate(p, hw, TruncateReason::HighWatermark);
                }
                self.start_fetcher(p, state.leader);
            }
        }
        if p == OFFSETS_PARTITION {
            self.group_role_changed();
        }
    }

    fn on_alter_partition_response(
        &mut self,
        partition: u32,
        requested_isr: Vec<u32>,
        requested_partition_epoch: u32,
        result: Result<PartitionState, KafkaError>,
    ) {
        // Only the answer to the request in flight ends its retries.
        let answers_in_flight = matches!(self.alter_in_flight.get(&partition),
            Some(Msg::AlterPartition { new_isr, partition_epoch, .. })
                if *new_isr == requested_isr && *partition_epoch == requested_partition_epoch);
        if answers_in_flight {
            self.alter_in_flight.remove(&partition);
        }
        let moved = self.with_log(partition, |r, s| {
            r.on_alter_partition(&s.log, &requested_isr, requested_partition_epoch, result.as_ref().map_err(|e| *e))
        });
        if let Some(Some(hw)) = moved {
            self.record(EventKind::HighWatermark { broker: self.id, partition, hw });
        }
        self.after_hw_or_isr_change(partition);
    }

    fn send_alter_partition(&mut self, partition: u32, new_isr: Vec<u32>) {
        let Some(r) = self.replicas.get(&partition) else { return };
        let msg = Msg::AlterPartition {
            broker: self.id,
            partition,
            leader_epoch: r.leader_epoch,
            partition_epoch: r.partition_epoch,
            new_isr,
        };
        self.send(self.world.controller_idx(), msg.clone());
        self.alter_in_flight.insert(partition, msg);
        let now = self.now_us();
        self.timers.at(
            now.saturating_add(ALTER_PARTITION_RETRY_MS.saturating_mul(1000)),
            Timer::AlterPartitionRetry { partition },
        );
    }

    // ---------------------------------------------------------------- leader side

    #[allow(clippy::too_many_arguments)]
    fn on_produce(
        &mut self,
        from: NodeIdx,
        corr: u64,
        partition: u32,
        acks: Acks,
        timeout_ms: u64,
        msgs: Vec<losslab_model::MsgId>,
        stamp: Option<crate::protocol::ProducerStamp>,
    ) {
        let flush_every = self.world.scenario.broker.log_flush_interval_messages;
        let now = self.now_us();
        let result = self.with_log(partition, |r, s| {
            let result = r.append_as_leader(&mut s.log, &msgs, stamp, acks);
            if let Ok(a) = &result {
                if !a.duplicate {
                    s.note_append(msgs.len() as u64, now);
                }
            }
            let isr = r.isr().to_vec();
            let epoch = r.leader_epoch;
            let flushed = if s.unflushed_messages >= flush_every { s.flush() } else { None };
            (result, isr, epoch, flushed)
        });
        let Some((result, isr, epoch, flushed)) = result else {
            if acks != Acks::None {
                self.send(from, Msg::ProduceResponse { corr, partition, result: Err(KafkaError::NotLeaderOrFollower) });
            }
            return;
        };
        match result {
            Err(error) => {
                if error == KafkaError::NotEnoughReplicas {
                    self.record(EventKind::NotEnoughReplicas { broker: self.id, partition, isr, after_append: false });
                }
                if acks != Acks::None {
                    self.send(from, Msg::ProduceResponse { corr, partition, result: Err(error) });
                }
            }
            Ok(append) => {
                if !append.duplicate {
                    self.record(EventKind::Append {
                        broker: self.id,
                        partition,
                        base_offset: append.base_offset,
                        leader_epoch: epoch,
                        msgs,
                        as_leader: true,
                    });
                }
                self.record_flush(partition, flushed, "log.flush.interval.messages");
                if let Some(hw) = append.hw_moved {
                    self.record(EventKind::HighWatermark { broker: self.id, partition, hw });
                }
                match acks {
                    Acks::None => {}
                    Acks::Leader => {
                        self.send(from, Msg::ProduceResponse { corr, partition, result: Ok(append.base_offset) })
                    }
                    Acks::All => {
                        self.produce_purgatory.entry(partition).or_default().push(PendingProduce {
                            from,
                            corr,
                            base_offset: append.base_offset,
                            end_offset: append.end_offset,
                        });
                        self.timers.at(
                            now.saturating_add(timeout_ms.saturating_mul(1000)),
                            Timer::ProduceExpire { partition, corr, from },
                        );
                    }
                }
                self.after_hw_or_isr_change(partition);
                self.wake_fetches(partition);
            }
        }
    }

    fn record_flush(&self, partition: u32, flushed: Option<u64>, by: &str) {
        if let Some(durable_offset) = flushed {
            self.record(EventKind::Flush { broker: self.id, partition, durable_offset, by: by.to_string() });
        }
    }

    /// Completes the `acks=all` requests the high watermark now covers.
    fn after_hw_or_isr_change(&mut self, partition: u32) {
        if partition == OFFSETS_PARTITION {
            self.group_appends_progressed();
        }
        let Some(pending) = self.produce_purgatory.get_mut(&partition) else { return };
        let Some(replica) = self.replicas.get(&partition) else { return };
        let mut answers = Vec::new();
        pending.retain(|p| match replica.acks_all_done(p.end_offset) {
            None => true,
            Some(result) => {
                answers.push((p.from, p.corr, result.map(|_| p.base_offset)));
                false
            }
        });
        let isr = replica.isr().to_vec();
        for (from, corr, result) in answers {
            if result == Err(KafkaError::NotEnoughReplicasAfterAppend) {
                self.record(EventKind::NotEnoughReplicas {
                    broker: self.id,
                    partition,
                    isr: isr.clone(),
                    after_append: true,
                });
            }
            self.send(from, Msg::ProduceResponse { corr, partition, result });
        }
    }

    /// A leader that lost leadership answers everything waiting with NOT_LEADER_OR_FOLLOWER.
    fn fail_purgatories(&mut self, partition: u32) {
        for p in self.produce_purgatory.remove(&partition).unwrap_or_default() {
            self.send(
                p.from,
                Msg::ProduceResponse { corr: p.corr, partition, result: Err(KafkaError::NotLeaderOrFollower) },
            );
        }
        for ((from, corr), _) in self.fetch_purgatory.remove(&partition).unwrap_or_default() {
            self.send(from, Msg::FetchResponse { corr, partition, result: Err(KafkaError::NotLeaderOrFollower) });
        }
    }

    fn on_fetch(&mut self, from: NodeIdx, fetch: PendingFetch, partition: u32, max_wait_ms: u64) {
        let corr = fetch.corr;
        match self.answer_fetch(partition, &fetch, false) {
            Some(result) => self.send(from, Msg::FetchResponse { corr, partition, result }),
            None => {
                let now = self.now_us();
                self.timers.at(
                    now.saturating_add(max_wait_ms.saturating_mul(1000)),
                    Timer::FetchExpire { partition, corr, from },
                );
                self.fetch_purgatory.entry(partition).or_default().insert((from, corr), fetch);
            }
        }
    }

    /// Answers a fetch, or `None` when it has no data and may wait (unless `expired`).
    fn answer_fetch(
        &mut self,
        partition: u32,
        f: &PendingFetch,
        expired: bool,
    ) -> Option<Result<FetchData, KafkaError>> {
        let now = self.now_us();
        let max_poll = self.world.scenario.consumer.max_poll_records as usize;
        let answer = self.with_log(partition, |r, s| match f.replica {
            Some(follower) => r
                .fetch_as_leader(&s.log, follower, f.fetch_offset, f.last_fetched_epoch, f.current_leader_epoch, now)
                .map(|ff| (ff.data, ff.hw_moved, ff.isr_proposal)),
            None => r.fetch_for_consumer(&s.log, f.fetch_offset, max_poll).map(|d| (d, None, None)),
        });
        let Some(answer) = answer else { return Some(Err(KafkaError::NotLeaderOrFollower)) };
        let (data, hw_moved, isr_proposal) = match answer {
            Ok(a) => a,
            Err(e) => return Some(Err(e)),
        };
        if let Some(hw) = hw_moved {
            self.record(EventKind::HighWatermark { broker: self.id, partition, hw });
            self.after_hw_or_isr_change(partition);
            self.wake_consumer_fetches(partition);
        }
        if let Some(isr) = isr_proposal {
            self.send_alter_partition(partition, isr);
        }
        let empty = matches!(&data, FetchData::Records { batches, .. } if batches.iter().all(|b| b.msgs.is_empty()));
        if empty && !expired {
            return None;
        }
        Some(Ok(data))
    }

    fn wake_fetches(&mut self, partition: u32) {
        self.complete_waiting_fetches(partition, |_| true);
    }

    fn wake_consumer_fetches(&mut self, partition: u32) {
        self.complete_waiting_fetches(partition, |f| f.replica.is_none());
    }

    fn complete_waiting_fetches(&mut self, partition: u32, which: impl Fn(&PendingFetch) -> bool) {
        let Some(waiting) = self.fetch_purgatory.get_mut(&partition) else { return };
        let keys: Vec<(NodeIdx, u64)> = waiting.iter().filter(|(_, f)| which(f)).map(|(&k, _)| k).collect();
        for key in keys {
            let Some(fetch) = self.fetch_purgatory.get_mut(&partition).and_then(|w| w.remove(&key)) else { continue };
            let (from, corr) = key;
            match self.answer_fetch(partition, &fetch, false) {
                Some(result) => self.send(from, Msg::FetchResponse { corr, partition, result }),
                None => {
                    self.fetch_purgatory.entry(partition).or_default().insert(key, fetch);
                }
            }
        }
    }

    // ---------------------------------------------------------------- follower side

    fn start_fetcher(&mut self, partition: u32, leader: Option<u32>) {
        let fetcher = self.fetchers.entry(partition).or_default();
        fetcher.generation += 1;
        fetcher.leader = leader;
        fetcher.in_flight = None;
        let generation = fetcher.generation;
        if leader.is_some() {
            // At cluster start every broker loads the metadata within the first instant; a
            // follower waits for that, so that its first fetch does not find the leader not yet
            // leading and back off for replica.fetch.backoff.ms.
            let at = self.now_us().max(CLUSTER_START_US);
            self.timers.at(at, Timer::FollowerFetch { partition, generation });
        }
    }

    fn stop_fetcher(&mut self, partition: u32) {
        self.start_fetcher(partition, None);
    }

    fn send_follower_fetch(&mut self, partition: u32, generation: u64) {
        let Some(fetcher) = self.fetchers.get(&partition) else { return };
        let (Some(leader), true, None) = (fetcher.leader, fetcher.generation == generation, fetcher.in_flight) else {
            return;
        };
        let Some(replica) = self.replicas.get(&partition) else { return };
        let by_epoch = self.world.scenario.kafka_version.truncates_by_leader_epoch();
        let disk = self.world.disks[self.id as usize - 1].lock().unwrap();
        let log = &disk.logs.get(&partition).map(|s| &s.log);
        let fetch_offset = log.map_or(0, |l| l.log_end_offset());
        // Kafka sends the epoch cache's latest epoch (`lastFetchedEpoch`).
        let last_fetched_epoch = if by_epoch { log.and_then(|l| l.latest_epoch()) } else { None };
        drop(disk);
        self.next_corr += 1;
        let corr = self.next_corr;
        let msg = Msg::Fetch {
            corr,
            partition,
            replica: Some(self.id),
            fetch_offset,
            last_fetched_epoch,
            current_leader_epoch: replica.leader_epoch,
            max_wait_ms: self.world.scenario.broker.replica_fetch_wait_max_ms,
        };
        self.send(self.world.broker_idx(leader), msg);
        self.fetchers.get_mut(&partition).unwrap().in_flight = Some(corr);
        let now = self.now_us();
        self.timers.at(
            now.saturating_add(FETCH_SOCKET_TIMEOUT_MS.saturating_mul(1000)),
            Timer::FollowerFetchTimeout { partition, corr },
        );
    }

    fn on_follower_fetch_response(&mut self, corr: u64, partition: u32, result: Result<FetchData, KafkaError>) {
        let Some(fetcher) = self.fetchers.get_mut(&partition) else { return };
        if fetcher.in_flight != Some(corr) {
            return;
        }
        fetcher.in_flight = None;
        let generation = fetcher.generation;
        let leader = fetcher.leader.unwrap_or(0);
        let now = self.now_us();
        let next_fetch_us = match result {
            Ok(FetchData::Records { batches, high_watermark }) => {
                self.follower_append(partition, batches, high_watermark);
                now
            }
            Ok(FetchData::Diverging { epoch, end_offset }) => {
                let to = self.with_log(partition, |r, s| r.truncation_for(&s.log, epoch, end_offset).to_offset);
                if let Some(to) = to {
                    let leader_epoch = self.replicas[&partition].leader_epoch;
                    self.truncate(partition, to, TruncateReason::LeaderEpoch { leader, leader_epoch });
                }
                now
            }
            Ok(FetchData::OutOfRange { log_end_offset }) => {
                // The leader's log is shorter than ours and epochs cannot tell where we diverge.
                let leader_epoch = self.replicas[&partition].leader_epoch;
                self.truncate(partition, log_end_offset, TruncateReason::LeaderEpoch { leader, leader_epoch });
                now
            }
            Err(_) => now + FETCH_BACKOFF_MS.saturating_mul(1000),
        };
        self.timers.at(next_fetch_us, Timer::FollowerFetch { partition, generation });
    }

    fn follower_append(&mut self, partition: u32, batches: Vec<Batch>, leader_hw: u64) {
        let now = self.now_us();
        let flush_every = self.world.scenario.broker.log_flush_interval_messages;
        let result = self.with_log(partition, |r, s| {
            let (appended, hw_moved) = r.append_as_follower(&mut s.log, batches, leader_hw);
            let n: u64 = appended.iter().map(|b| b.msgs.len() as u64).sum();
            if n > 0 {
                s.note_append(n, now);
            }
            let flushed = if n > 0 && s.unflushed_messages >= flush_every { s.flush() } else { None };
            (appended, hw_moved, flushed)
        });
        let Some((appended, hw_moved, flushed)) = result else { return };
        for b in appended {
            self.record(EventKind::Append {
                broker: self.id,
                partition,
                base_offset: b.base_offset,
                leader_epoch: b.leader_epoch,
                msgs: b.msgs,
                as_leader: false,
            });
        }
        self.record_flush(partition, flushed, "log.flush.interval.messages");
        if let Some(hw) = hw_moved {
            self.record(EventKind::HighWatermark { broker: self.id, partition, hw });
        }
    }

    fn truncate(&mut self, partition: u32, to_offset: u64, reason: TruncateReason) {
        let removed = self.with_log(partition, |r, s| {
            let removed = r.truncate(&mut s.log, to_offset);
            s.note_truncate();
            removed
        });
        if let Some(removed) = removed.filter(|r| !r.is_empty()) {
            let to_offset = removed[0].0;
            self.record(EventKind::Truncate { broker: self.id, partition, to_offset, removed, reason });
        }
    }

    // ---------------------------------------------------------------- periodic work

    fn on_isr_check(&mut self) {
        let now = self.now_us();
        let partitions: Vec<u32> = self.replicas.iter().filter(|(_, r)| r.is_leader()).map(|(&p, _)| p).collect();
        for p in partitions {
            if let Some(Some(proposal)) = self.with_log(p, |r, s| r.maybe_shrink_isr(&s.log, now)) {
                self.send_alter_partition(p, proposal);
            }
        }
        let period = self.world.scenario.broker.replica_lag_time_max_ms.saturating_mul(500);
        self.timers.at(now.saturating_add(period.max(1000)), Timer::IsrCheck);
    }

    fn on_hw_checkpoint(&mut self) {
        let hws: Vec<(u32, u64)> = self.replicas.iter().map(|(&p, r)| (p, r.high_watermark)).collect();
        {
            let mut disk = self.world.disks[self.id as usize - 1].lock().unwrap();
            for (p, hw) in hws {
                disk.log_mut(p).hw_checkpoint = hw;
            }
        }
        let now = self.now_us();
        let period = self.world.scenario.broker.replica_high_watermark_checkpoint_interval_ms;
        self.timers.at(now.saturating_add(period.saturating_mul(1000)), Timer::HwCheckpoint);
    }

    fn on_flush_check(&mut self) {
        let now = self.now_us();
        let Some(interval_ms) = self.world.scenario.broker.log_flush_interval_ms else { return };
        let flushed: Vec<(u32, Option<u64>)> = {
            let mut disk = self.world.disks[self.id as usize - 1].lock().unwrap();
            disk.logs
                .iter_mut()
                .filter(|(_, s)| {
                    s.oldest_unflushed_us.is_some_and(|t| now.saturating_sub(t) >= interval_ms.saturating_mul(1000))
                })
                .map(|(&p, s)| (p, s.flush()))
                .collect()
        };
        for (p, f) in flushed {
            self.record_flush(p, f, "log.flush.interval.ms");
        }
        self.timers.at(now.saturating_add(FLUSH_CHECK_MS.min(interval_ms.max(1)) * 1000), Timer::FlushCheck);
    }

    fn on_heartbeat(&mut self) {
        let msg = if self.registered {
            Msg::Heartbeat { broker: self.id, incarnation: self.incarnation }
        } else {
            Msg::Register { broker: self.id, incarnation: self.incarnation }
        };
        self.send(self.world.controller_idx(), msg);
        let now = self.now_us();
        let period = self.world.scenario.broker.broker_heartbeat_interval_ms;
        self.timers.at(now.saturating_add(period.saturating_mul(1000)), Timer::Heartbeat);
    }
}

impl Actor for Broker {
    type Timer = Timer;

    fn now_us(&self) -> u64 {
        self.world.now_us()
    }

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_msg(&mut self, from: NodeIdx, msg: Msg) {
        match msg {
            Msg::Produce { corr, partition, acks, timeout_ms, msgs, stamp, .. } => {
                self.on_produce(from, corr, partition, acks, timeout_ms, msgs, stamp)
            }
            Msg::Fetch {
                corr,
                partition,
                replica,
                fetch_offset,
                last_fetched_epoch,
                current_leader_epoch,
                max_wait_ms,
            } => {
                let fetch = PendingFetch { corr, replica, fetch_offset, last_fetched_epoch, current_leader_epoch };
                self.on_fetch(from, fetch, partition, max_wait_ms)
            }
            Msg::FetchResponse { corr, partition, result } => self.on_follower_fetch_response(corr, partition, result),
            Msg::Metadata { corr } => {
                let partitions = self.metadata.iter().map(|(&p, &(l, e))| (p, l, e)).collect();
                self.send(from, Msg::MetadataResponse { corr, partitions });
            }
            Msg::PartitionUpdate(state) => self.on_partition_update(state),
            Msg::AlterPartitionResponse { partition, requested_isr, requested_partition_epoch, result } => {
                self.on_alter_partition_response(partition, requested_isr, requested_partition_epoch, result)
            }
            Msg::HeartbeatResponse { .. } => self.registered = true,
            msg @ (Msg::JoinGroup { .. }
            | Msg::GroupHeartbeat { .. }
            | Msg::LeaveGroup { .. }
            | Msg::OffsetCommit { .. }
            | Msg::OffsetFetch { .. }) => self.on_group_request(from, msg),
            Msg::Refused { msg, .. } => {
                if let Msg::Fetch { corr, partition, .. } = *msg {
                    self.on_follower_fetch_response(corr, partition, Err(KafkaError::NetworkException));
                }
            }
            Msg::PeerDown { peer } => {
                // The leader we fetch from died: the fetch in flight is lost.
                let lost: Vec<(u32, u64)> = self
                    .fetchers
                    .iter()
                    .filter(|(_, f)| f.leader.is_some_and(|l| self.world.broker_idx(l) == peer))
                    .filter_map(|(&p, f)| f.in_flight.map(|c| (p, c)))
                    .collect();
                for (partition, corr) in lost {
                    self.on_follower_fetch_response(corr, partition, Err(KafkaError::NetworkException));
                }
            }
            _ => {}
        }
    }

    fn after_event(&mut self) {
        let mut observed = self.world.observed.lock().unwrap();
        for (&p, r) in &self.replicas {
            let obs =
                ReplicaObs { high_watermark: r.high_watermark, leader_epoch: r.leader_epoch, is_leader: r.is_leader() };
            observed.insert((self.id, p), obs);
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Heartbeat => self.on_heartbeat(),
            Timer::IsrCheck => self.on_isr_check(),
            Timer::HwCheckpoint => self.on_hw_checkpoint(),
            Timer::FlushCheck => self.on_flush_check(),
            Timer::ProduceExpire { partition, corr, from } => {
                let Some(pending) = self.produce_purgatory.get_mut(&partition) else { return };
                if let Some(i) = pending.iter().position(|p| p.corr == corr && p.from == from) {
                    pending.remove(i);
                    self.send(from, Msg::ProduceResponse { corr, partition, result: Err(KafkaError::RequestTimedOut) });
                }
            }
            Timer::FetchExpire { partition, corr, from } => {
                let Some(fetch) = self.fetch_purgatory.get_mut(&partition).and_then(|w| w.remove(&(from, corr))) else {
                    return;
                };
                let result = self.answer_fetch(partition, &fetch, true).unwrap_or(Err(KafkaError::NotLeaderOrFollower));
                self.send(from, Msg::FetchResponse { corr, partition, result });
            }
            Timer::FollowerFetch { partition, generation } => self.send_follower_fetch(partition, generation),
            Timer::FollowerFetchTimeout { partition, corr } => {
                let Some(f) = self.fetchers.get_mut(&partition) else { return };
                if f.in_flight == Some(corr) {
                    f.in_flight = None;
                    let generation = f.generation;
                    let now = self.now_us();
                    self.timers.at(now, Timer::FollowerFetch { partition, generation });
                }
            }
            Timer::GroupTick { load } => self.on_group_tick(load),
            Timer::GroupAppendExpire { load, op } => self.on_group_append_expired(load, op),
            Timer::AlterPartitionRetry { partition } => {
                if let Some(msg) = self.alter_in_flight.get(&partition).cloned() {
                    self.send(self.world.controller_idx(), msg);
                    let now = self.now_us();
                    self.timers.at(
                        now.saturating_add(ALTER_PARTITION_RETRY_MS.saturating_mul(1000)),
                        Timer::AlterPartitionRetry { partition },
                    );
                }
            }
        }
    }
}
