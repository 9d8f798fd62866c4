//! One broker's replica of one partition: a synchronous state machine, no async and no
//! simulator, so that the replication protocol can be unit- and property-tested on its own.
//! It owns the process-memory state (role, leader epoch, high watermark, the leader's view of
//! its followers and of the ISR); the log itself lives on the disk and is passed in.
//!
//! The rules follow Kafka's `Partition` and `ReplicaManager`: the leader appends, answers
//! follower fetches (detecting a diverging log by leader epoch, KIP-101/KIP-279/KIP-595),
//! tracks when each follower was last caught up (`replica.lag.time.max.ms`), proposes ISR
//! changes that only take effect once the controller accepts them (AlterPartition, KIP-497),
//! and moves the high watermark to the smallest log end offset of the (maximal) ISR. Every
//! mutation re-checks the invariants: HW <= LEO, epochs never go back, a leader is in its ISR.

use super::log::{Log, SequenceCheck, SequenceRules};
use crate::fault::mutation::{self, Mutation};
use crate::protocol::{AbortedTxn, Batch, FetchData, KafkaError, PartitionState, ProducerStamp, TxnBatch};
use losslab_model::config::{Acks, MetadataMode};
use losslab_model::{KafkaVersion, MsgId, MsgIds};
use std::collections::{BTreeMap, BTreeSet};

/// The most records one fetch returns (stands in for `replica.fetch.max.bytes`).
pub const FETCH_MAX_RECORDS: usize = 10_000;

#[derive(Clone, Debug)]
pub struct ReplicaRules {
    pub version: KafkaVersion,
    /// The effective `min.insync.replicas` (capped at the replication factor from 3.7).
    pub min_insync_replicas: u32,
    pub replica_lag_time_max_ms: u64,
    pub mode: MetadataMode,
}

/// The leader's view of one follower (Kafka's `ReplicaState`).
#[derive(Clone, Debug, PartialEq)]
pub struct FollowerView {
    /// `None` until the follower fetches from this leader.
    pub log_end_offset: Option<u64>,
    pub last_caught_up_us: u64,
    last_fetch_us: u64,
    last_fetch_leader_leo: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    Leader {
        isr: Vec<u32>,
        /// An AlterPartition in flight: the ISR the leader asked for.
        pending_isr: Option<Vec<u32>>,
        followers: BTreeMap<u32, FollowerView>,
    },
    /// Following `leader` (`None`: the partition has no leader, or none known yet).
    Follower { leader: Option<u32> },
}

/// What a leader's append did.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaderAppend {
    pub base_offset: u64,
    pub end_offset: u64,
    /// The batch was already in the log (idempotent retry): nothing was appended.
    pub duplicate: bool,
    pub hw_moved: Option<u64>,
}

/// What a leader's answer to a follower fetch did besides the data.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowerFetch {
    pub data: FetchData,
    pub hw_moved: Option<u64>,
    /// An ISR expansion to ask the controller for.
    pub isr_proposal: Option<Vec<u32>>,
}

/// How a follower should cut its log after a diverging-epoch answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation {
    pub to_offset: u64,
}

#[derive(Clone, Debug)]
pub struct Replica {
    pub broker: u32,
    pub partition: u32,
    pub replicas: Vec<u32>,
    pub high_watermark: u64,
    pub leader_epoch: u32,
    pub partition_epoch: u32,
    pub role: Role,
    /// Whether the controller has told this replica anything yet.
    has_state: bool,
    /// A follower that must still check its log against its new leader's (before 2.8 a follower
    /// truncates only when it starts following, KAFKA-10554; from 2.8 on every fetch).
    pub truncation_pending: bool,
    /// Brokers the controller reports fenced or shutting down: they may not join the ISR, and
    /// from 3.6 the high watermark does not wait for them (KAFKA-15021).
    ineligible: BTreeSet<u32>,
    /// The latest time any call told this replica (the leader's clock for "caught up lately").
    now_us: u64,
    rules: ReplicaRules,
}

impl Replica {
    /// A replica as log recovery leaves it: its log from disk, its high watermark from the
    /// checkpoint, no role until the controller says.
    pub fn recover(broker: u32, partition: u32, log: &Log, hw_checkpoint: u64, rules: ReplicaRules) -> Replica {
        let replica = Replica {
            broker,
            partition,
            replicas: Vec::new(),
            high_watermark: hw_checkpoint.min(log.log_end_offset()),
            leader_epoch: 0,
            partition_epoch: 0,
            role: Role::Follower { leader: None },
            has_state: false,
            truncation_pending: false,
            ineligible: BTreeSet::new(),
            now_us: 0,
            rules,
        };
        replica.check(log);
        replica
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    pub fn leader(&self) -> Option<u32> {
        match &self.role {
            Role::Leader { .. } => Some(self.broker),
            Role::Follower { leader } => *leader,
        }
    }

    /// The ISR as this leader knows it (empty for a follower).
    pub fn isr(&self) -> &[u32] {
        match &self.role {
            Role::Leader { isr, .. } => isr,
            Role::Follower { .. } => &[],
        }
    }

    /// Applies a newer partition state from the controller. Returns what the broker must do:
    /// `Some(truncation)` when this release truncates a new follower to its high watermark
    /// (before KIP-101). Stale states (older epochs) are ignored.
    pub fn apply_state(&mut self, log: &mut Log, state: &PartitionState, now_us: u64) -> StateChange {
        self.now_us = self.now_us.max(now_us);
        let newer_leader = state.leader_epoch > self.leader_epoch;
        let same_leader_newer_isr =
            state.leader_epoch == self.leader_epoch && state.partition_epoch > self.partition_epoch;
        let first = !self.has_state;
        if !(newer_leader || same_leader_newer_isr || first) {
            return StateChange::Ignored;
        }
        self.has_state = true;
        assert!(state.leader_epoch >= self.leader_epoch, "leader epochs never go back");
        self.replicas = state.replicas.clone();
        self.partition_epoch = state.partition_epoch;
        let was_leader_of_this_epoch = self.is_leader() && !newer_leader && !first;
        let change = if state.leader == Some(self.broker) {
            if was_leader_of_this_epoch {
                self.update_isr(log, state.isr.clone());
                StateChange::IsrUpdated
            } else {
                self.become_leader(log, state, now_us);
                StateChange::BecameLeader
            }
        } else if !first
            && !self.is_leader()
            && self.leader() == state.leader
            && (!newer_leader || !self.rules.version.fences_fetches_by_leader_epoch())
        {
            // The same leader: only the ISR changed, or (before 2.1) the controller bumped the
            // epoch, which `makeFollower` then reported as no change, so the follower neither
            // truncated nor started over (0.10 truncated to its HW only on a leader change). From
            // 2.1 (KAFKA-7395) a newer epoch is a change even from the same leader.
            self.leader_epoch = state.leader_epoch;
            StateChange::IsrUpdated
        } else {
            self.leader_epoch = state.leader_epoch;
            self.role = Role::Follower { leader: state.leader };
            self.truncation_pending = state.leader.is_some();
            if !self.rules.version.truncates_by_leader_epoch() && state.leader.is_some() {
                // Before KIP-101 a new follower cuts its log to its own high watermark.
                StateChange::BecameFollower { truncate_to_hw: Some(self.high_watermark) }
            } else {
                StateChange::BecameFollower { truncate_to_hw: None }
            }
        };
        self.check(log);
        change
    }

    fn become_leader(&mut self, log: &mut Log, state: &PartitionState, now_us: u64) {
        self.leader_epoch = state.leader_epoch;
        self.truncation_pending = false;
        if self.rules.version.caches_epoch_when_elected() {
            // KAFKA-7415 (2.1): the epoch enters the cache at election; before, at the first append.
            log.assign_epoch(state.leader_epoch, log.log_end_offset());
        }
        if mutation::on(Mutation::ProducerStateNotRebuilt) {
            log.forget_producers();
        }
        let followers = state
            .replicas
            .iter()
            .filter(|&&r| r != self.broker)
            .map(|&r| {
                // Kafka resets every follower's state on a new leader epoch (`resetReplicaState`):
                // ISR members count as caught up now, so they are not dropped before they had a
                // chance to fetch; the others as never caught up.
                let caught_up = if state.isr.contains(&r) { now_us } else { 0 };
                let view = FollowerView {
                    log_end_offset: None,
                    last_caught_up_us: caught_up,
                    last_fetch_us: now_us,
                    last_fetch_leader_leo: log.log_end_offset(),
                };
                (r, view)
            })
            .collect();
        self.role = Role::Leader { isr: state.isr.clone(), pending_isr: None, followers };
        // `makeLeader` ends with `maybeIncrementLeaderHW`: a leader alone in its ISR moves its
        // high watermark to its log end at once.
        self.maybe_increment_hw(log);
    }

    /// The brokers the controller reports fenced or shutting down.
    pub fn set_ineligible(&mut self, ineligible: BTreeSet<u32>) {
        self.ineligible = ineligible;
    }

    fn update_isr(&mut self, log: &Log, new_isr: Vec<u32>) {
        if let Role::Leader { isr, pending_isr, .. } = &mut self.role {
            *isr = new_isr;
            *pending_isr = None;
        }
        self.maybe_increment_hw(log);
    }

    /// The controller answered the AlterPartition that proposed `requested_isr` at
    /// `requested_partition_epoch`. As in Kafka's `Partition`, an answer to a request that is no
    /// longer the pending one ("this response is out of date") changes nothing: a newer push
    /// or proposal has overtaken it.
    pub fn on_alter_partition(
        &mut self,
        log: &Log,
        requested_isr: &[u32],
        requested_partition_epoch: u32,
        result: Result<&PartitionState, KafkaError>,
    ) -> Option<u64> {
        let Role::Leader { pending_isr, .. } = &mut self.role else { return None };
        if pending_isr.as_deref() != Some(requested_isr) || requested_partition_epoch != self.partition_epoch {
            return None;
        }
        let before = self.high_watermark;
        match result {
            Ok(state) if state.leader_epoch == self.leader_epoch => {
                self.partition_epoch = self.partition_epoch.max(state.partition_epoch);
                self.update_isr(log, state.isr.clone());
            }
            // `Partition.handleAlterPartitionError`: the request surely failed, so the
            // committed ISR stands.
            Err(KafkaError::IneligibleReplica) => *pending_isr = None,
            // Otherwise the leader cannot know whether it was applied: it keeps the pending ISR
            // until the controller's next partition state (a newer epoch) settles it.
            _ => {}
        }
        self.check(log);
        (self.high_watermark > before).then_some(self.high_watermark)
    }

    /// The leader appends a producer's batch.
    pub fn append_as_leader(
        &mut self,
        log: &mut Log,
        msgs: &MsgIds,
        stamp: Option<ProducerStamp>,
        acks: Acks,
    ) -> Result<LeaderAppend, KafkaError> {
        self.append_txn_as_leader(log, msgs, stamp, None, acks)
    }

    /// The leader appends a batch that may be transactional (`txn`): a transactional data batch
    /// is checked as any idempotent one and then by the transaction rules
    /// (`ProducerAppendInfo.appendDataBatch`); a marker (`AppendOrigin.COORDINATOR`) skips the
    /// sequence check and is checked by epochs (`appendEndTxnMarker`).
    pub fn append_txn_as_leader(
        &mut self,
        log: &mut Log,
        msgs: &MsgIds,
        stamp: Option<ProducerStamp>,
        txn: Option<TxnBatch>,
        acks: Acks,
    ) -> Result<LeaderAppend, KafkaError> {
        let Role::Leader { isr, .. } = &self.role else {
            return Err(KafkaError::NotLeaderOrFollower);
        };
        if acks == Acks::All && (isr.len() as u32) < self.rules.min_insync_replicas {
            return Err(KafkaError::NotEnoughReplicas);
        }
        if let (Some(TxnBatch::Marker { coordinator_epoch, .. }), Some(stamp)) = (txn, stamp) {
            log.check_marker(stamp.producer_id, stamp.producer_epoch, coordinator_epoch)?;
        } else if let Some(stamp) = stamp.filter(|_| !mutation::on(Mutation::NoDeduplication)) {
            match log.check_sequence_with(stamp, msgs.len(), SequenceRules::of(self.rules.version)) {
                SequenceCheck::Append => {}
                SequenceCheck::Duplicate(base_offset) => {
                    let end_offset = base_offset + msgs.len() as u64;
                    return Ok(LeaderAppend { base_offset, end_offset, duplicate: true, hw_moved: None });
                }
                SequenceCheck::OutOfOrder => return Err(KafkaError::OutOfOrderSequenceNumber),
                SequenceCheck::FencedEpoch => return Err(KafkaError::InvalidProducerEpoch),
                SequenceCheck::UnknownProducerId => return Err(KafkaError::UnknownProducerId),
            }
            log.check_txn_data(stamp.producer_id, txn == Some(TxnBatch::Data))?;
        }
        let base_offset = log.log_end_offset();
        log.append(Batch { base_offset, leader_epoch: self.leader_epoch, msgs: msgs.clone(), stamp, txn });
        let hw_moved = self.maybe_increment_hw(log);
        self.check(log);
        Ok(LeaderAppend { base_offset, end_offset: log.log_end_offset(), duplicate: false, hw_moved })
    }

    /// Whether an `acks=all` write ending at `end_offset` is complete: `Some(Ok)` once the high
    /// watermark covers it with enough replicas, `Some(Err)` when it is covered but the ISR
    /// shrank below `min.insync.replicas`, `None` while it waits.
    pub fn acks_all_done(&self, end_offset: u64) -> Option<Result<(), KafkaError>> {
        let Role::Leader { isr, pending_isr, .. } = &self.role else {
            return Some(Err(KafkaError::NotLeaderOrFollower));
        };
        if self.high_watermark < end_offset && !mutation::on(Mutation::AcksAllAnsweredAtAppend) {
            return None;
        }
        let maximal = pending_isr.as_ref().map_or(isr.len(), |p| p.len().max(isr.len()));
        if (maximal as u32) < self.rules.min_insync_replicas {
            Some(Err(KafkaError::NotEnoughReplicasAfterAppend))
        } else {
            Some(Ok(()))
        }
    }

    /// The leader answers a follower's fetch.
    pub fn fetch_as_leader(
        &mut self,
        log: &Log,
        follower: u32,
        fetch_offset: u64,
        last_fetched_epoch: Option<u32>,
        current_leader_epoch: u32,
        now_us: u64,
    ) -> Result<FollowerFetch, KafkaError> {
        if !self.is_leader() {
            return Err(KafkaError::NotLeaderOrFollower);
        }
        self.now_us = self.now_us.max(now_us);
        if self.rules.version.fences_fetches_by_leader_epoch() {
            // KIP-320 (2.1, `Partition.checkCurrentLeaderEpoch`).
            if current_leader_epoch < self.leader_epoch {
                return Err(KafkaError::FencedLeaderEpoch);
            }
            if current_leader_epoch > self.leader_epoch {
                return Err(KafkaError::UnknownLeaderEpoch);
            }
        }
        let leo = log.log_end_offset();
        if let (Some(epoch), true) = (last_fetched_epoch, self.rules.version.truncates_by_leader_epoch()) {
            if !self.rules.version.truncates_over_several_rounds() {
                return Ok(FollowerFetch {
                    data: FetchData::EpochEnd { end_offset: log.end_offset_for_epoch_v0(epoch) },
                    hw_moved: None,
                    isr_proposal: None,
                });
            }
            // `Partition.readRecords` (2.8) / OffsetsForLeaderEpoch v1 (2.0): the leader's end of
            // the largest epoch at or below the follower's; an epoch the leader cannot place is
            // out of range.
            let end_for_epoch = log.end_offset_for_epoch(epoch).map(|(floor, end)| {
                // The bug: the epoch cache says an earlier epoch ends where the log ends.
                let misplaced = mutation::on(Mutation::EpochEndMisplaced) && floor < self.leader_epoch;
                (floor, if misplaced { leo } else { end })
            });
            let data = match end_for_epoch {
                // 2.8+ answers OFFSET_OUT_OF_RANGE; 2.0-2.7's OffsetsForLeaderEpoch answered
                // UNDEFINED_EPOCH_OFFSET, and the follower fell back to its high watermark.
                None if self.rules.version.checks_divergence_on_every_fetch() => {
                    Some(FetchData::OutOfRange { log_end_offset: leo })
                }
                None => Some(FetchData::EpochEnd { end_offset: None }),
                Some((floor, end)) if floor < epoch || end < fetch_offset => {
                    Some(FetchData::Diverging { epoch: floor, end_offset: end })
                }
                Some(_) => None,
            };
            if let Some(data) = data {
                return Ok(FollowerFetch { data, hw_moved: None, isr_proposal: None });
            }
        }
        if fetch_offset > leo {
            return Ok(FollowerFetch {
                data: FetchData::OutOfRange { log_end_offset: leo },
                hw_moved: None,
                isr_proposal: None,
            });
        }
        let epoch_start = log.epoch_cache().iter().find(|e| e.0 == self.leader_epoch).map_or(0, |e| e.1);
        // Kafka reads the records and the high watermark before it updates the follower's
        // state, so the answer carries the HW from before this fetch moved it: followers learn
        // the HW one round trip late (KIP-101's first loss window).
        let hw = self.high_watermark;
        let Role::Leader { isr, pending_isr, followers } = &mut self.role else { unreachable!() };
        let Some(view) = followers.get_mut(&follower) else {
            return Err(KafkaError::NotLeaderOrFollower);
        };
        // Kafka's updateFetchState: caught up if it reached our end now, or reached the end we
        // had at its previous fetch.
        if fetch_offset >= leo {
            view.last_caught_up_us = now_us;
        } else if fetch_offset >= view.last_fetch_leader_leo {
            view.last_caught_up_us = view.last_caught_up_us.max(view.last_fetch_us);
        }
        view.last_fetch_us = now_us;
        view.last_fetch_leader_leo = leo;
        view.log_end_offset = Some(fetch_offset);
        // ISR expansion: caught up to the high watermark and into the current epoch.
        // KIP-841 (3.3): a leader does not propose a follower its metadata shows fenced, shutting
        // down (KRaft) or not alive (ZooKeeper).
        let eligible = !(self.rules.version.isr_refuses_fenced_brokers() && self.ineligible.contains(&follower));
        let isr_proposal = if eligible
            && !isr.contains(&follower)
            && pending_isr.is_none()
            && fetch_offset >= hw
            && fetch_offset >= epoch_start
        {
            let mut proposal = isr.clone();
            proposal.push(follower);
            proposal.sort_unstable();
            *pending_isr = Some(proposal.clone());
            Some(proposal)
        } else {
            None
        };
        let batches = log.read(fetch_offset, FETCH_MAX_RECORDS);
        if mutation::on(Mutation::FollowerAcksBeforeAppend) {
            // The bug: what was sent counts as appended.
            if let (Some(last), Some(view)) = (batches.last(), followers.get_mut(&follower)) {
                view.log_end_offset = Some(last.end_offset());
            }
        }
        let hw_moved = self.maybe_increment_hw(log);
        self.check(log);
        Ok(FollowerFetch { data: FetchData::Records { batches, high_watermark: hw }, hw_moved, isr_proposal })
    }

    /// KIP-320 for a consumer's request (`Partition.localLogWithEpochOrException`): a consumer
    /// that sends its leader epoch (2.3+) is refused an older one (FENCED_LEADER_EPOCH) or a
    /// newer one (UNKNOWN_LEADER_EPOCH); one that sends none (`None`, before 2.3) is not checked.
    pub fn check_consumer_epoch(&self, current_leader_epoch: Option<u32>) -> Result<(), KafkaError> {
        if !self.is_leader() {
            return Err(KafkaError::NotLeaderOrFollower);
        }
        match current_leader_epoch {
            Some(e) if self.rules.version.fences_fetches_by_leader_epoch() && e < self.leader_epoch => {
                Err(KafkaError::FencedLeaderEpoch)
            }
            Some(e) if self.rules.version.fences_fetches_by_leader_epoch() && e > self.leader_epoch => {
                Err(KafkaError::UnknownLeaderEpoch)
            }
            _ => Ok(()),
        }
    }

    /// OffsetsForLeaderEpoch from a consumer validating its position (KIP-320, 2.3:
    /// `Partition.lastOffsetForLeaderEpoch` with `fetchOnlyFromLeader`): where `epoch` ends in the
    /// leader's log, the same answer a follower's truncation gets (`Log::end_offset_for_epoch`);
    /// `None` is UNDEFINED.
    pub fn offsets_for_leader_epoch(
        &self,
        log: &Log,
        current_leader_epoch: Option<u32>,
        epoch: u32,
    ) -> Result<Option<(u32, u64)>, KafkaError> {
        self.check_consumer_epoch(current_leader_epoch)?;
        Ok(log.end_offset_for_epoch(epoch))
    }

    /// The leader answers a consumer's fetch: only records below the high watermark.
    pub fn fetch_for_consumer(
        &self,
        log: &Log,
        fetch_offset: u64,
        max_records: usize,
    ) -> Result<FetchData, KafkaError> {
        if !self.is_leader() {
            return Err(KafkaError::NotLeaderOrFollower);
        }
        // Past the log end is out of range (the answer carries the high watermark, where
        // `latest` resets to); between the high watermark and the log end there is simply
        // nothing to read yet, as on a new leader whose high watermark still lags.
        if fetch_offset > log.log_end_offset() {
            return Ok(FetchData::OutOfRange { log_end_offset: self.high_watermark });
        }
        let batches = log.read_below(fetch_offset, max_records, self.high_watermark);
        Ok(FetchData::Records { batches, high_watermark: self.high_watermark })
    }

    /// A `read_committed` consumer's fetch (`FetchIsolation.TXN_COMMITTED`, 0.11+): records below
    /// the last stable offset only, with the aborted transactions that overlap what was read
    /// (`UnifiedLog.read`, `LocalLog.collectAbortedTransactions`). Returns the batches, the
    /// aborted transactions and the last stable offset; `Err` as `fetch_for_consumer`.
    pub fn fetch_committed_for_consumer(
        &self,
        log: &Log,
        fetch_offset: u64,
        max_records: usize,
    ) -> Result<(Vec<Batch>, Vec<AbortedTxn>, u64), KafkaError> {
        if !self.is_leader() {
            return Err(KafkaError::NotLeaderOrFollower);
        }
        let lso = log.txns().last_stable_offset(self.high_watermark);
        let batches = log.read_below(fetch_offset, max_records, lso);
        let upper = batches.last().map_or(fetch_offset, Batch::end_offset);
        let aborted = log.txns().aborted_txns(fetch_offset, upper);
        Ok((batches, aborted, lso))
    }

    /// A follower appends what its leader sent and takes the leader's high watermark.
    /// Returns the batches actually appended and the new high watermark if it moved.
    pub fn append_as_follower(
        &mut self,
        log: &mut Log,
        batches: Vec<Batch>,
        leader_hw: u64,
    ) -> (Vec<Batch>, Option<u64>) {
        let mut appended = Vec::new();
        for batch in batches {
            if batch.base_offset != log.log_end_offset() {
                // Not contiguous with our log (a stale response): take nothing more.
                if batch.end_offset() <= log.log_end_offset() {
                    continue;
                }
                break;
            }
            log.append(batch.clone());
            appended.push(batch);
        }
        // Every fetch sets the follower's high watermark to the leader's, capped at its own log
        // end (`ReplicaFetcherThread.processPartitionData`): it can fall, when a new leader's
        // high watermark is behind what the old leader had told.
        let new_hw = leader_hw.min(log.log_end_offset());
        let moved = (new_hw != self.high_watermark).then(|| {
            self.high_watermark = new_hw;
            new_hw
        });
        self.check(log);
        (appended, moved)
    }

    /// Where a follower cuts its log after the leader said its log diverges at
    /// (`epoch`, `end_offset`) (Kafka's `getOffsetTruncationState`): to the leader's end of that
    /// epoch if the follower has the same epoch, else to the follower's own end of the largest
    /// epoch it has below it (and the next fetch asks again).
    pub fn truncation_for(&self, log: &Log, epoch: u32, end_offset: u64) -> Truncation {
        let to_offset = match log.end_offset_for_epoch(epoch) {
            Some((mine, my_end)) if mine == epoch => my_end.min(end_offset),
            Some((_, my_end)) => my_end.min(end_offset),
            // No epoch of its own at or below the leader's: `getOffsetTruncationState` takes the
            // leader's end offset.
            None => end_offset,
        };
        Truncation { to_offset: to_offset.min(log.log_end_offset()) }
    }

    /// Cuts the log to `to_offset`; the high watermark follows it down.
    pub fn truncate(&mut self, log: &mut Log, to_offset: u64) -> Vec<(u64, MsgId)> {
        let removed = log.truncate_to(to_offset);
        self.high_watermark = self.high_watermark.min(log.log_end_offset());
        self.check(log);
        removed
    }

    /// ISR shrink (Kafka's `maybeShrinkIsr`, run every `replica.lag.time.max.ms / 2`): followers
    /// not caught up for longer than `replica.lag.time.max.ms` leave. Returns the ISR to ask the
    /// controller for; nothing changes until it accepts.
    pub fn maybe_shrink_isr(&mut self, log: &Log, now_us: u64) -> Option<Vec<u32>> {
        self.now_us = self.now_us.max(now_us);
        let lag_us = self.rules.replica_lag_time_max_ms.saturating_mul(1000);
        let leo = log.log_end_offset();
        let me = self.broker;
        let Role::Leader { isr, pending_isr, followers } = &mut self.role else { return None };
        if pending_isr.is_some() {
            return None;
        }
        let out_of_sync = |r: &u32| {
            *r != me
                && followers.get(r).is_some_and(|v| {
                    v.log_end_offset != Some(leo) && now_us.saturating_sub(v.last_caught_up_us) > lag_us
                })
        };
        if !isr.iter().any(out_of_sync) {
            return None;
        }
        let proposal: Vec<u32> = isr.iter().copied().filter(|r| !out_of_sync(r)).collect();
        *pending_isr = Some(proposal.clone());
        Some(proposal)
    }

    /// The leader's high watermark (`Partition.maybeIncrementLeaderHW`): the smallest log end
    /// offset over the maximal ISR (the ISR plus members being added) and over the followers
    /// caught up within `replica.lag.time.max.ms` (KAFKA-4485, 0.10.2; from 3.6 only those that
    /// may join the ISR, KAFKA-15021), never backwards; frozen below the effective
    /// `min.insync.replicas` from 3.7 (KAFKA-15583).
    pub fn maybe_increment_hw(&mut self, log: &Log) -> Option<u64> {
        let Role::Leader { isr, pending_isr, followers } = &self.role else { return None };
        if self.rules.version.freezes_hw_below_min_isr() && (isr.len() as u32) < self.rules.min_insync_replicas {
            return None;
        }
        let leader_leo = log.log_end_offset();
        let lag_us = self.rules.replica_lag_time_max_ms.saturating_mul(1000);
        let only_eligible = self.rules.version.hw_waits_only_for_eligible_replicas();
        let caught_up = |r: &u32, v: &FollowerView| {
            // A follower that has not fetched from this leader yet is not caught up (Kafka resets
            // its caught-up time to 0, which is long ago on a real clock).
            v.log_end_offset.is_some()
                && (v.log_end_offset == Some(leader_leo) || self.now_us.saturating_sub(v.last_caught_up_us) <= lag_us)
                && !(only_eligible && self.ineligible.contains(r))
        };
        let mut new_hw = leader_leo;
        let ignore_isr = mutation::on(Mutation::HwIgnoresIsr);
        for (r, view) in followers.iter().filter(|_| !ignore_isr) {
            let member = isr.contains(r) || pending_isr.as_ref().is_some_and(|p| p.contains(r));
            if member || caught_up(r, view) {
                new_hw = new_hw.min(view.log_end_offset.unwrap_or(0));
            }
        }
        (new_hw > self.high_watermark).then(|| {
            self.high_watermark = new_hw;
            new_hw
        })
    }

    /// The invariants every mutation must keep.
    fn check(&self, log: &Log) {
        assert!(
            self.high_watermark <= log.log_end_offset(),
            "HW {} > LEO {} on b{} p{}",
            self.high_watermark,
            log.log_end_offset(),
            self.broker,
            self.partition
        );
        if let Role::Leader { isr, .. } = &self.role {
            assert!(isr.contains(&self.broker), "leader b{} not in its ISR {isr:?}", self.broker);
        }
        // Before KIP-320 fencing (2.1) a follower fetches from the same leader whatever epoch
        // that leader has reached, so it can hold a newer epoch's batches when a delayed push
        // makes it leader of an older one; its first append then cuts the cache back.
        if let (Some(epoch), true) = (log.latest_epoch(), self.rules.version.fences_fetches_by_leader_epoch()) {
            assert!(
                !self.is_leader() || epoch <= self.leader_epoch,
                "log epoch {epoch} ahead of leader epoch {}",
                self.leader_epoch
            );
        }
    }
}

/// What applying a partition state did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateChange {
    Ignored,
    BecameLeader,
    IsrUpdated,
    /// Before KIP-101, `truncate_to_hw` is where the new follower must cut its log.
    BecameFollower {
        truncate_to_hw: Option<u64>,
    },
}
