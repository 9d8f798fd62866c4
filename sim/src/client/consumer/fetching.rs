//! The consumer client's fetching: where each assigned partition starts (the group's committed
//! offset from OffsetFetch, or `auto.offset.reset` when there is none or it is out of range),
//! one fetch in flight per partition to its leader (which answers only below the high
//! watermark), the buffer of fetched records, and what `poll()` takes from it (at most
//! `max.poll.records`).

use super::node::{Consumer, Membership, Request, FETCH_MAX_WAIT_MS, REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS};
use crate::protocol::{Batch, FetchData, KafkaError, Msg};
use losslab_model::config::OffsetReset;
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

    pub(super) fn on_committed_offsets(
        &mut self,
        generation: u32,
        result: Result<Vec<(u32, Option<u64>)>, KafkaError>,
    ) {
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
    pub(super) fn reset_position(&mut self, partition: u32, found: Option<u64>) {
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

    pub(super) fn send_fetches(&mut self) {
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
                broker_epoch: 0,
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

    pub(super) fn on_fetch_response(&mut self, corr: u64, partition: u32, result: Result<FetchData, KafkaError>) {
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
            Ok(FetchData::Diverging { .. } | FetchData::EpochEnd { .. }) | Err(_) => {
                self.request_metadata();
                let at = self.after_us(RETRY_BACKOFF_MS);
                self.wake_app_at(at);
            }
        }
    }

    pub(super) fn on_records(&mut self, partition: u32, batches: Vec<Batch>) {
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
    pub(super) fn take_records(&mut self) -> Vec<(u32, u64, MsgId)> {
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
            let msgs = taken.iter().map(|&(_, m)| m).collect();
            self.record(EventKind::Polled { consumer: self.id, partition: p, offsets: (first, last + 1), msgs });
            out.extend(taken.into_iter().map(|(o, m)| (p, o, m)));
        }
        out
    }

    /// The positions of every assigned partition that has one: what a no-argument commit
    /// commits.
    pub(super) fn positions(&self) -> Vec<(u32, u64)> {
        self.assigned.iter().filter_map(|(&p, a)| a.position.map(|o| (p, o))).collect()
    }
}
