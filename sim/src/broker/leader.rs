//! The broker as a partition's leader: it appends producers' batches, holds `acks=all` requests
//! in the produce purgatory until the high watermark covers them (or the ISR shrinks below
//! `min.insync.replicas`: NOT_ENOUGH_REPLICAS_AFTER_APPEND), answers followers' and consumers'
//! fetches, parking fetches with nothing to return in the fetch purgatory for their
//! `max_wait_ms`, and proposes the ISR changes its replica asks for (Kafka's `ReplicaManager`
//! `appendRecords` / `fetchMessages` with `DelayedProduce` and `DelayedFetch`).

use super::node::{Broker, PendingFetch, PendingProduce, ProduceRequest, Timer};
use super::replica::LeaderAppend;
use crate::protocol::{FetchData, KafkaError, Msg, ProducerStamp, TxnBatch, OFFSETS_PARTITION, TXN_STATE_PARTITION};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use losslab_model::config::Acks;
use losslab_model::history::EventKind;
use losslab_model::MsgId;

impl Broker {
    pub(super) fn on_produce(
        &mut self,
        from: NodeIdx,
        corr: u64,
        partition: u32,
        request: ProduceRequest,
        msgs: losslab_model::MsgIds,
    ) {
        // A connection this broker closed: what was still written on it is never read.
        if self.closed_connections.get(&from).is_some_and(|&closed| request.connection <= closed) {
            return;
        }
        let guard = match &request.transaction {
            Some(txn) if self.verifies(txn) => match self.start_verification(partition, &request) {
                None if request.stamp.is_some() => {
                    let (acks, connection) = (request.acks, request.connection);
                    self.answer_produce_error(from, corr, partition, acks, KafkaError::NotLeaderOrFollower, connection);
                    return;
                }
                Some(Ok(Some(guard))) => return self.send_verification(from, corr, partition, request, msgs, guard),
                Some(Err(e)) => {
                    let (acks, connection, e) = (request.acks, request.connection, self.produce_error_of(e));
                    self.answer_produce_error(from, corr, partition, acks, e, connection);
                    return;
                }
                _ => None,
            },
            _ => None,
        };
        self.append_produce(from, corr, partition, request, msgs, guard)
    }

    /// Appends a produce request's batch as leader. `guard`: the verification it passed
    /// (KIP-890), which a transactional batch needs when its producer has no transaction open
    /// here.
    pub(super) fn append_produce(
        &mut self,
        from: NodeIdx,
        corr: u64,
        partition: u32,
        request: ProduceRequest,
        msgs: losslab_model::MsgIds,
        guard: Option<u64>,
    ) {
        let verify = request.transaction.as_ref().is_some_and(|t| self.verifies(t));
        let ProduceRequest { acks, timeout_ms, stamp, connection, transaction } = request;
        let mut verifications = self.txn.verifications.remove(&partition).unwrap_or_default();
        let flush_every = self.world.scenario.broker.log_flush_interval_messages;
        let now = self.now_us();
        let result = self.with_log(partition, |r, s| {
            let txn = transaction.is_some().then_some(TxnBatch::Data);
            // `analyzeAndValidateProducerState` (3.6+): no open transaction -> the guard decides.
            let checked = match stamp.filter(|_| verify) {
                Some(st) => verifications.check_append(s.log.txns(), st.producer_id, st.base_sequence, guard),
                None => Ok(()),
            };
            let result = checked.and_then(|()| r.append_txn_as_leader(&mut s.log, &msgs, stamp, txn, acks));
            if let (Ok(_), Some(st)) = (&result, stamp.filter(|_| verify)) {
                verifications.clear(st.producer_id);
            }
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
        self.txn.verifications.insert(partition, verifications);
        let Some((result, isr, epoch, flushed)) = result else {
            self.answer_produce_error(from, corr, partition, acks, KafkaError::NotLeaderOrFollower, connection);
            return;
        };
        match result {
            Err(error) => {
                if error == KafkaError::NotEnoughReplicas {
                    self.record(EventKind::NotEnoughReplicas { broker: self.id, partition, isr, after_append: false });
                }
                self.answer_produce_error(from, corr, partition, acks, error, connection);
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
                    Acks::Leader => self.send(
                        from,
                        Msg::ProduceResponse { corr, partition, result: Ok(append.base_offset), current_leader: None },
                    ),
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

    /// Completes the `acks=all` requests the high watermark now covers.
    pub(super) fn after_hw_or_isr_change(&mut self, partition: u32) {
        if partition == OFFSETS_PARTITION {
            self.group_appends_progressed();
        }
        if partition == TXN_STATE_PARTITION {
            self.txn_appends_progressed();
        }
        self.markers_progressed(partition);
        self.note_last_stable_offset(partition);
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
            self.send(from, Msg::ProduceResponse { corr, partition, result, current_leader: None });
        }
    }

    /// An error for a produce request. `acks=0` expects no answer, so the broker closes the
    /// connection instead (`KafkaApis.handleProduceRequest`: "the server will close socket server
    /// so that the producer client will know that some error has happened and will refresh its
    /// metadata"). Otherwise the answer names the current leader from 3.7 (KIP-951).
    pub(super) fn answer_produce_error(
        &mut self,
        from: NodeIdx,
        corr: u64,
        partition: u32,
        acks: Acks,
        error: KafkaError,
        connection: u64,
    ) {
        if acks == Acks::None {
            self.closed_connections.insert(from, connection);
            self.send(from, Msg::ConnectionClosed { connection });
            return;
        }
        let current_leader = self.current_leader_hint(partition, error);
        self.send(from, Msg::ProduceResponse { corr, partition, result: Err(error), current_leader });
    }

    /// KIP-951 (3.7): NOT_LEADER_OR_FOLLOWER and FENCED_LEADER_EPOCH carry the leader and epoch
    /// of the broker's metadata cache (`KafkaApis.getCurrentLeader`).
    pub(super) fn current_leader_hint(&self, partition: u32, error: KafkaError) -> Option<(u32, u32)> {
        let names_leader = matches!(error, KafkaError::NotLeaderOrFollower | KafkaError::FencedLeaderEpoch);
        if !names_leader || !self.world.scenario.kafka_version.produce_errors_name_the_new_leader() {
            return None;
        }
        match self.metadata.get(&partition) {
            Some(&(Some(leader), epoch)) => Some((leader, epoch)),
            _ => None,
        }
    }

    /// A leader that lost leadership answers everything waiting with NOT_LEADER_OR_FOLLOWER.
    pub(super) fn fail_purgatories(&mut self, partition: u32) {
        let current_leader = self.current_leader_hint(partition, KafkaError::NotLeaderOrFollower);
        for p in self.produce_purgatory.remove(&partition).unwrap_or_default() {
            self.send(
                p.from,
                Msg::ProduceResponse {
                    corr: p.corr,
                    partition,
                    result: Err(KafkaError::NotLeaderOrFollower),
                    current_leader,
                },
            );
        }
        for (from, corr, _) in self.txn.written.remove(&partition).unwrap_or_default() {
            let result = Err(KafkaError::NotLeaderOrFollower);
            self.send(from, Msg::WriteTxnMarkerResponse { corr, partition, result });
        }
        for ((from, corr), _) in self.fetch_purgatory.remove(&partition).unwrap_or_default() {
            self.send(from, Msg::FetchResponse { corr, partition, result: Err(KafkaError::NotLeaderOrFollower) });
        }
    }

    pub(super) fn on_fetch(&mut self, from: NodeIdx, fetch: PendingFetch, partition: u32, max_wait_ms: u64) {
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
    pub(super) fn answer_fetch(
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
            None if f.read_committed => r
                .check_consumer_epoch(f.consumer_leader_epoch)
                .and_then(|()| {
                    if f.fetch_offset > s.log.log_end_offset() {
                        return r.fetch_for_consumer(&s.log, f.fetch_offset, max_poll);
                    }
                    let (batches, aborted, lso) = r.fetch_committed_for_consumer(&s.log, f.fetch_offset, max_poll)?;
                    let high_watermark = r.high_watermark;
                    Ok(FetchData::Committed { batches, aborted, high_watermark, last_stable_offset: lso })
                })
                .map(|d| (d, None, None)),
            None => r
                .check_consumer_epoch(f.consumer_leader_epoch)
                .and_then(|()| r.fetch_for_consumer(&s.log, f.fetch_offset, max_poll))
                .map(|d| (d, None, None)),
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
        let empty = matches!(&data, FetchData::Records { batches, .. } | FetchData::Committed { batches, .. }
            if batches.iter().all(|b| b.msgs.is_empty()));
        if empty && !expired {
            return None;
        }
        Some(Ok(data))
    }

    pub(super) fn wake_fetches(&mut self, partition: u32) {
        self.complete_waiting_fetches(partition, |_| true);
    }

    pub(super) fn wake_consumer_fetches(&mut self, partition: u32) {
        self.complete_waiting_fetches(partition, |f| f.replica.is_none());
    }

    pub(super) fn complete_waiting_fetches(&mut self, partition: u32, which: impl Fn(&PendingFetch) -> bool) {
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

    pub(super) fn on_isr_check(&mut self) {
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

    /// A coordinator's write to a partition this broker leads (the group's offsets, the
    /// transaction log, a marker), `acks=all`: `build` makes the records, stamp and batch kind
    /// from the log (a marker's id is its offset, a TxnOffsetCommit takes the next sequence).
    /// Records the `Append` (then `then`'s event, if any), the flush and the high watermark, or
    /// NOT_ENOUGH_REPLICAS. Returns the append and the records, or the error.
    pub(super) fn append_for_coordinator(
        &mut self,
        p: u32,
        build: impl FnOnce(&super::log::Log) -> (Vec<MsgId>, Option<ProducerStamp>, Option<TxnBatch>),
        then: impl FnOnce(&LeaderAppend) -> Option<EventKind>,
    ) -> Result<(LeaderAppend, losslab_model::MsgIds), KafkaError> {
        let flush_every = self.world.scenario.broker.log_flush_interval_messages;
        let now = self.now_us();
        let appended = self.with_log(p, |r, s| {
            let (msgs, stamp, batch) = build(&s.log);
            let msgs: losslab_model::MsgIds = msgs.into();
            let result = r.append_txn_as_leader(&mut s.log, &msgs, stamp, batch, Acks::All);
            if result.is_ok() {
                s.note_append(msgs.len() as u64, now);
            }
            let flushed = if s.unflushed_messages >= flush_every { s.flush() } else { None };
            (result, msgs, r.leader_epoch, r.isr().to_vec(), flushed)
        });
        match appended {
            None => Err(KafkaError::NotLeaderOrFollower),
            Some((Err(e), _, _, isr, _)) => {
                if e == KafkaError::NotEnoughReplicas {
                    self.record(EventKind::NotEnoughReplicas {
                        broker: self.id,
                        partition: p,
                        isr,
                        after_append: false,
                    });
                }
                Err(e)
            }
            Some((Ok(append), msgs, leader_epoch, _, flushed)) => {
                let base_offset = append.base_offset;
                let kind = EventKind::Append {
                    broker: self.id,
                    partition: p,
                    base_offset,
                    leader_epoch,
                    msgs: msgs.clone(),
                    as_leader: true,
                };
                self.record(kind);
                if let Some(event) = then(&append) {
                    self.record(event);
                }
                self.record_flush(p, flushed, "log.flush.interval.messages");
                if let Some(hw) = append.hw_moved {
                    self.record(EventKind::HighWatermark { broker: self.id, partition: p, hw });
                }
                Ok((append, msgs))
            }
        }
    }
}
