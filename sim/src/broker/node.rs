//! A broker process: the thin async shell around its partition replicas. It decodes requests,
//! calls the `replica` state machines, keeps the purgatories (produce requests waiting for
//! `acks=all`, fetches long-polling for data), runs the replica fetchers of the partitions it
//! follows, heartbeats to the controller, checkpoints high watermarks and applies the flush
//! policy. Everything it holds is lost when it crashes, except the disk, which lives in the
//! `World`; on start it recovers its logs from that disk and registers anew.

use super::coordinator::{Coordinator, MarkerRequest, TxnCoordinator};
use super::disk::StoredLog;
use super::replica::{Replica, ReplicaRules};
use super::txn_index::Verifications;
use crate::protocol::{KafkaError, Msg, PartitionState};
use crate::runtime::actor::{Actor, Timers};
use crate::runtime::network::NodeIdx;
use crate::runtime::world::{ReplicaObs, World};
use losslab_model::history::{EventKind, NodeName};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Kafka's `replica.fetch.backoff.ms` default.
pub(super) const FETCH_BACKOFF_MS: u64 = 1000;
/// The broker's `request.timeout.ms` default: how long a follower waits for a fetch answer (the
/// fetcher's `NetworkClient` uses it; `replica.socket.timeout.ms` only bounds the connect).
pub(super) const FETCH_REQUEST_TIMEOUT_MS: u64 = 30_000;
/// How often an unanswered AlterPartition is sent again.
pub(super) const ALTER_PARTITION_RETRY_MS: u64 = 2_000;
/// When every broker has loaded the initial metadata (see `start_fetcher`).
pub(super) const CLUSTER_START_US: u64 = 10_000;

/// How long a supervisor (systemd's `Restart=on-failure`) waits before it starts a broker whose
/// ZooKeeper registration failed and which therefore exited.
pub(super) const SUPERVISOR_RESTART_MS: u64 = 1_000;
/// KRaft `BrokerLifecycleManager`: registration retries back off from 100 ms, doubling, up to
/// `broker.session.timeout.ms`.
pub(super) const REGISTER_BACKOFF_MS: u64 = 100;
/// `controlled.shutdown.max.retries` and `controlled.shutdown.retry.backoff.ms` (ZooKeeper mode).
pub(super) const CONTROLLED_SHUTDOWN_RETRIES: u32 = 3;
pub(super) const CONTROLLED_SHUTDOWN_BACKOFF_MS: u64 = 5_000;

/// Where the broker process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lifecycle {
    /// Not yet registered with the controller; `attempt` counts refusals.
    Registering { attempt: u32 },
    /// Registered (KRaft: fenced until the controller has seen it catch up).
    Running,
    /// A controlled shutdown is under way; ZooKeeper: how many more ControlledShutdown tries.
    ShuttingDown { retries_left: u32 },
    /// Its logs are flushed and marked clean: the process exits.
    Stopped,
}

#[derive(Debug)]
pub enum Timer {
    Heartbeat,
    /// Send the registration (again).
    Register,
    /// ZooKeeper mode: ask the controller again to move the leaderships away.
    ControlledShutdownRetry,
    IsrCheck,
    HwCheckpoint,
    /// The log flusher's run due at `due_us` (it keeps a fixed rate from there).
    FlushCheck {
        due_us: u64,
    },
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
    /// A verification (KIP-890) without an answer after `request.timeout.ms`.
    VerificationTimeout {
        corr: u64,
    },
    /// The hosted transaction coordinator's next timeout scan.
    TxnTick {
        load: u64,
    },
    /// A transaction coordinator write not replicated within the transaction's timeout.
    TxnAppendExpire {
        load: u64,
        op: u64,
    },
    /// Send these markers again (their leader was unknown, or the last try failed).
    TxnMarkerRetry {
        load: u64,
        request: MarkerRequest,
    },
    /// Append this coordinator record again: the last try failed at once (an append retried in
    /// the same instant would fail again, forever).
    TxnAppendRetry {
        load: u64,
        op: u64,
        record: super::coordinator::TxnRecord,
    },
    /// The coordinator's WriteTxnMarkers request got no answer within `request.timeout.ms`.
    TxnMarkerTimeout {
        load: u64,
        corr: u64,
    },
    /// A marker this broker appended as leader is not replicated within the request's timeout.
    MarkerExpire {
        partition: u32,
        corr: u64,
        from: NodeIdx,
    },
}

/// An `acks=all` produce request waiting for the high watermark.
pub(super) struct PendingProduce {
    pub(super) from: NodeIdx,
    pub(super) corr: u64,
    pub(super) base_offset: u64,
    pub(super) end_offset: u64,
}

/// A fetch with nothing to return yet, waiting for data or its `max_wait_ms`.
pub(super) struct PendingFetch {
    pub(super) corr: u64,
    pub(super) replica: Option<u32>,
    pub(super) fetch_offset: u64,
    pub(super) last_fetched_epoch: Option<u32>,
    pub(super) current_leader_epoch: u32,
    /// A consumer's fetch: the leader epoch it sent (2.3+), `None` if none.
    pub(super) consumer_leader_epoch: Option<u32>,
    /// A consumer's `isolation.level=read_committed`.
    pub(super) read_committed: bool,
}

/// A produce request's header fields.
#[derive(Clone, Debug)]
pub(super) struct ProduceRequest {
    pub(super) acks: losslab_model::config::Acks,
    pub(super) timeout_ms: u64,
    pub(super) stamp: Option<crate::protocol::ProducerStamp>,
    pub(super) connection: u64,
    /// A transactional batch's transaction (`RecordBatch.isTransactional`, 0.11+).
    pub(super) transaction: Option<crate::protocol::ProduceTxn>,
}

/// A produce request waiting for the transaction coordinator's answer (`verification`).
pub(super) struct Verifying {
    pub(super) from: NodeIdx,
    pub(super) corr: u64,
    pub(super) partition: u32,
    pub(super) request: ProduceRequest,
    pub(super) msgs: losslab_model::MsgIds,
    pub(super) guard: u64,
    pub(super) coordinator: NodeIdx,
}

/// A marker a leader is asked to write.
#[derive(Clone, Copy, Debug)]
pub(super) struct Marker {
    pub(super) producer_id: u64,
    pub(super) epoch: i32,
    pub(super) coordinator_epoch: u32,
    pub(super) commit: bool,
    pub(super) producer: u32,
    pub(super) txn: Option<u64>,
}

/// The replica fetcher of one followed partition.
#[derive(Default)]
pub(super) struct Fetcher {
    pub(super) leader: Option<u32>,
    /// Bumped whenever the fetcher restarts, so stale timers and answers are ignored.
    pub(super) generation: u64,
    pub(super) in_flight: Option<u64>,
}

/// The coordinator this broker hosts, if any, and its writes waiting for replication.
#[derive(Default)]
pub(super) struct GroupHost {
    pub(super) coordinator: Option<Coordinator>,
    /// Bumped on every load, so that timers of an earlier coordinator are ignored.
    pub(super) load: u64,
    /// The coordinator's appends waiting for the high watermark: op -> end offset.
    pub(super) appends: BTreeMap<u64, u64>,
    /// The earliest coordinator tick scheduled and not yet fired.
    pub(super) tick_at: Option<u64>,
    /// Markers appended to the offsets partition as its leader, by end offset: their producer
    /// id and whether they commit, for the group coordinator once they are replicated.
    pub(super) txn_markers: BTreeMap<u64, (u64, bool)>,
    /// TxnOffsetCommits waiting for the transaction coordinator's verification (3.7+) or add
    /// (TV2): the AddPartitionsToTxn's corr -> the client and its request.
    pub(super) verifying: BTreeMap<u64, (NodeIdx, Msg)>,
}

/// The transaction coordinator this broker hosts while it leads `__transaction_state`, its
/// writes waiting for replication and its markers in flight; and, as any partition leader, the
/// markers it appended waiting for the high watermark and the last stable offsets it reported.
#[derive(Default)]
pub(super) struct TxnHost {
    pub(super) coordinator: Option<TxnCoordinator>,
    /// Bumped on every load, so that timers of an earlier coordinator are ignored.
    pub(super) load: u64,
    /// The coordinator's appends waiting for the high watermark: op -> end offset.
    pub(super) appends: BTreeMap<u64, u64>,
    pub(super) tick_at: Option<u64>,
    /// WriteTxnMarker requests in flight: corr -> (transactional id, partition, leader).
    pub(super) markers: BTreeMap<u64, (String, u32, u32)>,
    /// Markers appended as leader, waiting for the high watermark: partition -> (from, corr, end).
    pub(super) written: BTreeMap<u32, Vec<(NodeIdx, u64, u64)>>,
    /// The last stable offset last recorded per partition led here.
    pub(super) lso: BTreeMap<u32, u64>,
    /// KIP-890 on the partitions led here: each partition's verification entries (broker
    /// memory, gone with the process) and the produce requests waiting for the coordinator.
    pub(super) verifications: BTreeMap<u32, Verifications>,
    pub(super) verifying: BTreeMap<u64, Verifying>,
}

pub struct Broker {
    pub(super) world: Arc<World>,
    pub(super) id: u32,
    pub(super) me: NodeIdx,
    pub(super) incarnation: u64,
    pub(super) rules: ReplicaRules,
    pub(super) replicas: BTreeMap<u32, Replica>,
    /// The metadata cache: leader and leader epoch per partition, from the controller's pushes.
    pub(super) metadata: BTreeMap<u32, (Option<u32>, u32)>,
    pub(super) produce_purgatory: BTreeMap<u32, Vec<PendingProduce>>,
    /// Waiting fetches per partition, keyed by (requester, correlation id).
    pub(super) fetch_purgatory: BTreeMap<u32, BTreeMap<(NodeIdx, u64), PendingFetch>>,
    pub(super) fetchers: BTreeMap<u32, Fetcher>,
    /// The last AlterPartition sent per partition, resent until answered.
    pub(super) alter_in_flight: BTreeMap<u32, Msg>,
    pub(super) lifecycle: Lifecycle,
    /// The broker epoch of the clean-shutdown marker its logs were recovered with, if any.
    pub(super) clean_epoch: Option<u64>,
    /// The broker epoch each follower's fetches carry (the leader names them in AlterPartition).
    pub(super) follower_epochs: BTreeMap<u32, u64>,
    pub(super) next_corr: u64,
    pub(super) timers: Timers<Timer>,
    /// The consumer group's coordinator, while this broker leads `__consumer_offsets`.
    pub(super) group: GroupHost,
    /// The transaction coordinator, while this broker leads `__transaction_state`.
    pub(super) txn: TxnHost,
    /// Client connections this broker closed (after an `acks=0` error), by the client's
    /// connection count: later requests on them are never read.
    pub(super) closed_connections: BTreeMap<NodeIdx, u64>,
}

impl Broker {
    /// Starts a broker process: log recovery from disk, then registration with the controller.
    pub fn start(world: Arc<World>, id: u32) -> Broker {
        let s = &world.scenario;
        let rules = ReplicaRules {
            version: s.kafka_version,
            min_insync_replicas: s.effective_min_insync_replicas(),
            replica_lag_time_max_ms: s.broker.replica_lag_time_max_ms,
            mode: s.broker.metadata_mode,
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
            lifecycle: Lifecycle::Registering { attempt: 0 },
            clean_epoch: None,
            follower_epochs: BTreeMap::new(),
            next_corr: 0,
            timers: Timers::default(),
            group: GroupHost::default(),
            txn: TxnHost::default(),
            closed_connections: BTreeMap::new(),
            world,
        };
        // Kafka deletes the clean-shutdown marker when it starts; its epoch goes with the
        // registration (KIP-966's previous broker epoch).
        broker.clean_epoch = broker.recover_logs();
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
        broker.timers.at(now, Timer::Register);
        broker.timers.at(now.saturating_add(b.replica_lag_time_max_ms.saturating_mul(500)), Timer::IsrCheck);
        broker.timers.at(
            now.saturating_add(b.replica_high_watermark_checkpoint_interval_ms.saturating_mul(1000)),
            Timer::HwCheckpoint,
        );
        broker.schedule_flusher(now);
        broker
    }

    /// A partition's replica rules: `__transaction_state` has its own min ISR
    /// (`transaction.state.log.min.isr`, `TransactionStateManager.transactionTopicConfigs`).
    pub(super) fn rules_for(&self, partition: u32) -> ReplicaRules {
        let mut rules = self.rules.clone();
        if let Some(min_isr) = crate::runtime::world::internal_min_insync_replicas(&self.world.scenario, partition) {
            rules.min_insync_replicas = min_isr;
        }
        rules
    }

    pub(super) fn name(&self) -> NodeName {
        NodeName::Broker(self.id)
    }

    pub(super) fn record(&self, kind: EventKind) {
        self.world.record(self.name(), kind);
    }

    pub(super) fn send(&self, to: NodeIdx, msg: Msg) {
        self.world.net.send(self.me, to, msg);
    }

    /// Runs `f` on a partition's replica and its stored log.
    pub(super) fn with_log<R>(
        &mut self,
        partition: u32,
        f: impl FnOnce(&mut Replica, &mut StoredLog) -> R,
    ) -> Option<R> {
        let replica = self.replicas.get_mut(&partition)?;
        let mut disk = self.world.disks[self.id as usize - 1].lock().unwrap();
        Some(f(replica, disk.log_mut(partition)))
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
            Msg::Produce { corr, partition, acks, timeout_ms, msgs, stamp, connection, transaction, .. } => {
                let request = ProduceRequest { acks, timeout_ms, stamp, connection, transaction };
                self.on_produce(from, corr, partition, request, msgs)
            }
            Msg::Fetch {
                corr,
                partition,
                replica,
                fetch_offset,
                last_fetched_epoch,
                current_leader_epoch,
                broker_epoch,
                max_wait_ms,
                read_committed,
            } => {
                if let Some(follower) = replica {
                    self.follower_epochs.insert(follower, broker_epoch);
                }
                // A 2.3+ consumer sends its position's leader epoch (`Fetcher`, KIP-320); an older
                // one sends none.
                let consumer_leader_epoch = (replica.is_none()
                    && self.world.scenario.kafka_version.consumers_detect_truncation())
                .then_some(current_leader_epoch);
                let fetch = PendingFetch {
                    corr,
                    replica,
                    fetch_offset,
                    last_fetched_epoch,
                    current_leader_epoch,
                    consumer_leader_epoch,
                    read_committed: read_committed && replica.is_none(),
                };
                self.on_fetch(from, fetch, partition, max_wait_ms)
            }
            Msg::FetchResponse { corr, partition, result } => self.on_follower_fetch_response(corr, partition, result),
            Msg::Metadata { corr } => {
                let partitions = self.metadata.iter().map(|(&p, &(l, e))| (p, l, e)).collect();
                self.send(from, Msg::MetadataResponse { corr, partitions });
            }
            Msg::PartitionUpdate { state, broker_epoch, ineligible } => {
                self.on_pushed_state(state, broker_epoch, ineligible)
            }
            Msg::AlterPartitionResponse { partition, requested_isr, requested_partition_epoch, result } => {
                self.on_alter_partition_response(partition, requested_isr, requested_partition_epoch, result)
            }
            Msg::RegisterResponse { result } => self.on_register_response(result),
            Msg::HeartbeatResponse { fenced: _, shut_down_now, ineligible } => {
                self.on_heartbeat_response(shut_down_now, ineligible)
            }
            Msg::ControlledShutdownResponse { remaining } => self.on_controlled_shutdown_response(remaining),
            Msg::Stop => self.on_stop(),
            Msg::OffsetsForLeaderEpoch { corr, partition, current_leader_epoch, leader_epoch } => {
                let result = self
                    .with_log(partition, |r, s| r.offsets_for_leader_epoch(&s.log, current_leader_epoch, leader_epoch))
                    .unwrap_or(Err(KafkaError::NotLeaderOrFollower));
                self.send(from, Msg::OffsetsForLeaderEpochResponse { corr, partition, result });
            }
            msg @ (Msg::JoinGroup { .. }
            | Msg::GroupHeartbeat { .. }
            | Msg::LeaveGroup { .. }
            | Msg::OffsetCommit { .. }
            | Msg::TxnOffsetCommit { .. }
            | Msg::OffsetFetch { .. }) => self.on_group_request(from, msg),
            msg @ (Msg::InitProducerId { .. }
            | Msg::AddPartitionsToTxn { .. }
            | Msg::AddOffsetsToTxn { .. }
            | Msg::EndTxn { .. }) => self.on_txn_request(from, msg),
            Msg::WriteTxnMarker {
                corr,
                transactional_id: _,
                partition,
                producer_id,
                epoch,
                coordinator_epoch,
                commit,
                producer,
                txn,
            } => {
                let marker = Marker { producer_id, epoch, coordinator_epoch, commit, producer, txn };
                self.on_write_txn_marker(from, corr, partition, marker)
            }
            Msg::WriteTxnMarkerResponse { corr, partition, result } => self.on_marker_response(corr, partition, result),
            Msg::AddPartitionsToTxnResponse { corr, result, verified } => self.on_verified(corr, result, verified),
            Msg::Refused { msg, .. } => match *msg {
                Msg::Fetch { corr, partition, .. } => {
                    self.on_follower_fetch_response(corr, partition, Err(KafkaError::NetworkException))
                }
                Msg::Register { .. } => self.retry_registration(),
                Msg::WriteTxnMarker { corr, partition, .. } => {
                    self.on_marker_response(corr, partition, Err(KafkaError::NetworkException))
                }
                Msg::AddPartitionsToTxn { corr, .. } => {
                    self.on_verified(corr, Err(KafkaError::NetworkException), Vec::new())
                }
                _ => {}
            },
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
                self.markers_lost_to(peer);
                self.verifications_lost_to(peer);
            }
            _ => {}
        }
    }

    fn finished(&self) -> bool {
        self.lifecycle == Lifecycle::Stopped
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
            Timer::Register => self.send_registration(),
            Timer::ControlledShutdownRetry => self.on_controlled_shutdown_retry(),
            Timer::IsrCheck => self.on_isr_check(),
            Timer::HwCheckpoint => self.on_hw_checkpoint(),
            Timer::FlushCheck { due_us } => self.on_flush_check(due_us),
            Timer::ProduceExpire { partition, corr, from } => {
                let Some(pending) = self.produce_purgatory.get_mut(&partition) else { return };
                if let Some(i) = pending.iter().position(|p| p.corr == corr && p.from == from) {
                    pending.remove(i);
                    let result = Err(KafkaError::RequestTimedOut);
                    self.send(from, Msg::ProduceResponse { corr, partition, result, current_leader: None });
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
                    // The fetcher closes the connection and backs off replica.fetch.backoff.ms.
                    f.in_flight = None;
                    let generation = f.generation;
                    let now = self.now_us();
                    self.timers.at(now + FETCH_BACKOFF_MS * 1000, Timer::FollowerFetch { partition, generation });
                }
            }
            Timer::GroupTick { load } => self.on_group_tick(load),
            Timer::GroupAppendExpire { load, op } => self.on_group_append_expired(load, op),
            Timer::TxnTick { load } => self.on_txn_tick(load),
            Timer::TxnAppendExpire { load, op } => self.on_txn_append_expired(load, op),
            Timer::TxnMarkerRetry { load, request } => {
                if load == self.txn.load && self.txn.coordinator.is_some() {
                    self.send_markers(request)
                }
            }
            Timer::TxnAppendRetry { load, op, record } => {
                if load == self.txn.load && self.txn.coordinator.is_some() {
                    self.retry_txn_append(op, record)
                }
            }
            Timer::TxnMarkerTimeout { load, corr } => {
                if load == self.txn.load {
                    if let Some(&(_, partition, leader)) = self.txn.markers.get(&corr) {
                        // The inter-broker client closes the connection; a marker still on a cut
                        // link keeps its retransmissions (a late duplicate marker, research 5.5).
                        self.world.net.abandon(self.me, self.world.broker_idx(leader));
                        self.on_marker_response(corr, partition, Err(KafkaError::RequestTimedOut));
                    }
                }
            }
            Timer::MarkerExpire { partition, corr, from } => self.on_marker_expired(partition, corr, from),
            Timer::VerificationTimeout { corr } => {
                if let Some(w) = self.txn.verifying.get(&corr) {
                    self.world.net.abandon(self.me, w.coordinator);
                }
                self.on_verified(corr, Err(KafkaError::NetworkException), Vec::new())
            }
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
