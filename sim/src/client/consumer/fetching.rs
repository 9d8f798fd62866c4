//! The consumer client's fetching: where each assigned partition starts (the group's committed
//! offset from OffsetFetch, or `auto.offset.reset` when there is none or it is out of range),
//! one fetch in flight per partition to its leader (which answers only below the high
//! watermark), the buffer of fetched records, and what `poll()` takes from it (at most
//! `max.poll.records`). Positions live in `position` (Kafka's `SubscriptionState`); from 2.3 a
//! fetch carries its position's leader epoch and `validation` checks positions against leader
//! changes (KIP-320).

use super::isolation::returned_records;
use super::node::{Consumer, Membership, Request, FETCH_MAX_WAIT_MS, REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS};
use super::position::{FetchPosition, ResetPolicy};
use crate::protocol::{AbortedTxn, Batch, CommittedOffsets, FetchData, KafkaError, Msg};
use losslab_model::config::{IsolationLevel, OffsetReset};
use losslab_model::history::{EventKind, MsgId};

impl Consumer {
    /// OffsetFetch for the partitions that have no position yet.
    pub(super) fn fetch_committed(&mut self) {
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
            .filter(|(_, a)| a.position().is_none() && a.resetting.is_none() && !a.no_offset && !a.pos.awaiting_reset())
            .map(|(&p, _)| p)
            .collect();
        if partitions.is_empty() {
            return;
        }
        let corr = self.corr();
        // KIP-447: 2.5+ consumers always ask for stable offsets (`ConsumerCoordinator.fetchCommittedOffsets`).
        let require_stable = self.world.scenario.kafka_version.fences_txn_offset_commits_by_generation();
        let msg = Msg::OffsetFetch { corr, partitions, require_stable };
        self.request(to, corr, Request::OffsetFetch { generation }, msg, REQUEST_TIMEOUT_MS);
    }

    pub(super) fn on_committed_offsets(&mut self, generation: u32, result: Result<CommittedOffsets, KafkaError>) {
        if self.generation != Some(generation) || self.membership == Membership::Unjoined {
            return;
        }
        match result {
            Ok(offsets) => {
                let detects = self.world.scenario.kafka_version.consumers_detect_truncation();
                for (p, committed, epoch) in offsets {
                    let current_leader = self.leader_and_epoch(p);
                    let Some(a) = self.assigned.get_mut(&p) else { continue };
                    if a.position().is_some() || a.resetting.is_some() || a.pos.awaiting_reset() {
                        continue;
                    }
                    match committed {
                        Some(offset) => {
                            // `refreshCommittedOffsets`: 2.3+ seeks unvalidated, so a committed
                            // offset that carries an epoch is checked against the leader's log.
                            let position = FetchPosition { offset, offset_epoch: epoch, current_leader };
                            if detects {
                                a.pos.seek_unvalidated(position);
                            } else {
                                a.pos.seek_validated(FetchPosition { offset_epoch: None, ..position });
                            }
                            self.record(EventKind::Resumed(Box::new(losslab_model::history::Resumed {
                                consumer: self.id,
                                generation,
                                partition: p,
                                offset: Some(offset),
                                committed: Some(offset),
                                reset: None,
                            })));
                        }
                        None => self.reset_position(p, None),
                    }
                }
                self.send_validations();
                self.publish_progress();
                self.wake_app();
            }
            Err(KafkaError::UnstableOffsetCommit) => {
                // `UnstableOffsetCommitException` is retriable: the partitions stay without a
                // position and the next `poll()` asks again, until the transaction's marker
                // (or its abort on timeout) settles the pending offset.
                let partitions: Vec<u32> =
                    self.assigned.iter().filter(|(_, a)| a.position().is_none()).map(|(&p, _)| p).collect();
                self.record(EventKind::OffsetFetchUnstable { consumer: self.id, partitions });
            }
            Err(e) => {
                self.on_group_error(e);
            }
        }
    }

    /// `auto.offset.reset`, for a partition with no committed offset (`found` is `None`) or
    /// whose offset `found` is out of range.
    pub(super) fn reset_position(&mut self, partition: u32, found: Option<u64>) {
        let generation = self.generation.unwrap_or(0);
        let policy = self.cfg().auto_offset_reset;
        let current_leader = self.leader_and_epoch(partition);
        let Some(a) = self.assigned.get_mut(&partition) else { return };
        a.buffer.clear();
        a.pos.request_reset(reset_policy(policy));
        let resumed = |offset: Option<u64>, reset: &str| {
            EventKind::Resumed(Box::new(losslab_model::history::Resumed {
                consumer: self.id,
                generation,
                partition,
                offset,
                committed: found,
                reset: Some(reset.to_string()),
            }))
        };
        match policy {
            OffsetReset::Earliest => {
                a.pos.seek_validated(FetchPosition { offset: 0, offset_epoch: None, current_leader });
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

    /// Whether `poll()` fetches and returns records now: a stable member, or (2.5+) a
    /// cooperative member rejoining, for the partitions it keeps.
    pub(super) fn fetching_allowed(&self) -> bool {
        self.membership == Membership::Stable
            || (self.membership == Membership::Joining && self.keeps_partitions_while_joining())
    }

    pub(super) fn send_fetches(&mut self) {
        if !self.fetching_allowed() || self.fetch_paused_for_join_prepare() {
            return;
        }
        self.maybe_validate_positions();
        let wanted: Vec<(u32, u64, Option<u32>, Option<u32>)> = self
            .assigned
            .iter()
            .filter(|(_, a)| a.fetch_in_flight.is_none() && a.buffer.is_empty() && !a.no_offset)
            .filter_map(|(&p, a)| {
                let leader = a.pos.position().and_then(|pos| pos.current_leader.leader.zip(pos.current_leader.epoch));
                match (a.pos.valid_offset(), a.resetting) {
                    (Some(offset), _) => Some((p, offset, leader.map(|l| l.0), leader.map(|l| l.1))),
                    (None, Some(_)) => Some((p, u64::MAX, None, None)),
                    _ => None,
                }
            })
            .collect();
        let mut need_metadata = false;
        for (partition, fetch_offset, position_leader, epoch) in wanted {
            let known = self.leader_and_epoch(partition);
            let Some(leader) = position_leader.or(known.leader) else {
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
                // 2.3+: the position's leader epoch (the broker reads it only from 2.3).
                current_leader_epoch: epoch.or(known.epoch).unwrap_or(0),
                broker_epoch: 0,
                max_wait_ms: FETCH_MAX_WAIT_MS,
                read_committed: self.world.scenario.consumer.isolation_level == IsolationLevel::ReadCommitted,
            };
            self.assigned.get_mut(&partition).unwrap().fetch_in_flight = Some(corr);
            let to = self.world.broker_idx(leader);
            self.request(to, corr, Request::Fetch { partition, broker: leader }, msg, REQUEST_TIMEOUT_MS);
        }
        if need_metadata {
            self.request_metadata();
        }
    }

    pub(super) fn on_fetch_response(&mut self, corr: u64, partition: u32, result: Result<FetchData, KafkaError>) {
        let current_leader = self.leader_and_epoch(partition);
        let Some(a) = self.assigned.get_mut(&partition).filter(|a| a.fetch_in_flight == Some(corr)) else { return };
        a.fetch_in_flight = None;
        match result {
            Ok(FetchData::Records { batches, .. }) => self.on_records(partition, batches, &[]),
            Ok(FetchData::Committed { batches, aborted, .. }) => self.on_records(partition, batches, &aborted),
            Ok(FetchData::OutOfRange { log_end_offset }) => match a.resetting.take() {
                Some(found) => {
                    a.pos.seek_validated(FetchPosition { offset: log_end_offset, offset_epoch: None, current_leader });
                    let generation = self.generation.unwrap_or(0);
                    self.record(EventKind::Resumed(Box::new(losslab_model::history::Resumed {
                        consumer: self.id,
                        generation,
                        partition,
                        offset: Some(log_end_offset),
                        committed: found,
                        reset: Some("latest".into()),
                    })));
                    self.publish_progress();
                    self.wake_app();
                }
                None => {
                    // OFFSET_OUT_OF_RANGE: the position is past the leader's log end (records
                    // were truncated away, or a committed offset points past them).
                    let found = a.position();
                    self.reset_position(partition, found);
                    self.wake_app();
                }
            },
            // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH (2.3+), NOT_LEADER, a lost connection:
            // the metadata is refreshed and the fetch tried again.
            Ok(FetchData::Diverging { .. } | FetchData::EpochEnd { .. }) | Err(_) => {
                self.request_metadata();
                let at = self.after_us(RETRY_BACKOFF_MS);
                self.wake_app_at(at);
            }
        }
    }

    /// Fetched batches, filtered by `isolation.level` (`isolation`: markers never returned,
    /// aborted transactions skipped under `read_committed`).
    pub(super) fn on_records(&mut self, partition: u32, batches: Vec<Batch>, aborted: &[AbortedTxn]) {
        let read_committed = self.cfg().isolation_level == IsolationLevel::ReadCommitted;
        let Some(a) = self.assigned.get_mut(&partition) else { return };
        // Records for a position that is no longer valid (awaiting validation, or reset) are
        // dropped (`FetchCollector`: "no longer fetchable").
        let Some(position) = a.pos.valid_offset() else { return };
        let (returned, after) = returned_records(&batches, aborted, read_committed);
        let epoch_at = |o: u64| {
            let i = batches.partition_point(|b| b.end_offset() <= o);
            batches.get(i).map_or(0, |b| b.leader_epoch)
        };
        let records: Vec<(u64, MsgId, u32)> =
            returned.into_iter().filter(|&(o, _)| o >= position).map(|(o, m)| (o, m, epoch_at(o))).collect();
        if records.is_empty() && a.buffer.is_empty() && after > position {
            // Only control records or skipped aborted ones: the position moves past them
            // (`CompletedFetch.nextFetchOffset`).
            let epoch = batches.last().map(|b| b.leader_epoch);
            a.pos.advance(after, epoch);
            self.publish_progress();
            self.wake_app();
            return;
        }
        a.buffer.extend(records);
        if !a.buffer.is_empty() && !self.ready.contains(&partition) {
            self.ready.push_back(partition);
        }
        self.wake_app();
    }

    /// What `poll()` returns: up to `max.poll.records` of the fetched records, partition by
    /// partition in the order their fetches came back; positions move past them, taking the
    /// epoch of the last record's batch.
    pub(super) fn take_records(&mut self) -> Vec<(u32, u64, MsgId)> {
        let mut room = self.cfg().max_poll_records as usize;
        let mut out = Vec::new();
        while room > 0 {
            let Some(&p) = self.ready.front() else { break };
            let Some(a) = self.assigned.get_mut(&p).filter(|a| a.pos.has_valid_position()) else {
                self.ready.pop_front();
                continue;
            };
            let n = room.min(a.buffer.len());
            let taken: Vec<(u64, MsgId, u32)> = a.buffer.drain(..n).collect();
            if a.buffer.is_empty() {
                self.ready.pop_front();
            }
            let Some(&(first, _, _)) = taken.first() else { continue };
            let (last, _, epoch) = taken[taken.len() - 1];
            a.pos.advance(last + 1, Some(epoch));
            room -= n;
            let msgs = taken.iter().map(|&(_, m, _)| m).collect();
            self.record(EventKind::Polled { consumer: self.id, partition: p, offsets: (first, last + 1), msgs });
            out.extend(taken.into_iter().map(|(o, m, _)| (p, o, m)));
        }
        out
    }

    /// The positions of every assigned partition that has one: what a no-argument commit
    /// commits.
    pub(super) fn positions(&self) -> Vec<(u32, u64)> {
        self.assigned.iter().filter_map(|(&p, a)| a.position().map(|o| (p, o))).collect()
    }
}

/// `auto.offset.reset` as the position's reset strategy.
pub(super) fn reset_policy(policy: OffsetReset) -> ResetPolicy {
    match policy {
        OffsetReset::Earliest => ResetPolicy::Earliest,
        OffsetReset::Latest => ResetPolicy::Latest,
        OffsetReset::None => ResetPolicy::None,
    }
}
