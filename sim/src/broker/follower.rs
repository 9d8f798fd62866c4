//! The broker as a partition's follower: its replica fetcher (Kafka's `ReplicaFetcherThread`)
//! keeps one fetch in flight to the leader, appends what comes back and takes the leader's
//! high watermark, truncates when the leader says its log diverges (by leader epoch, or to the
//! leader's log end when the fetch offset is out of range), and backs off after an error.
//!
//! Before 2.8 a follower checks its log against the leader's only when it starts following
//! (KAFKA-10554 moved the check into every fetch): over several rounds from 2.0 (KIP-279), once
//! before (0.11-1.1 `ReplicaFetcherThread.maybeTruncate`, which can leave diverged logs).

use super::node::{Broker, Timer, CLUSTER_START_US, FETCH_BACKOFF_MS, FETCH_REQUEST_TIMEOUT_MS};
use crate::protocol::{Batch, FetchData, KafkaError, Msg};
use crate::runtime::actor::Actor;
use losslab_model::history::{EventKind, TruncateReason};

impl Broker {
    pub(super) fn start_fetcher(&mut self, partition: u32, leader: Option<u32>) {
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

    pub(super) fn stop_fetcher(&mut self, partition: u32) {
        self.start_fetcher(partition, None);
    }

    pub(super) fn send_follower_fetch(&mut self, partition: u32, generation: u64) {
        let Some(fetcher) = self.fetchers.get(&partition) else { return };
        let (Some(leader), true, None) = (fetcher.leader, fetcher.generation == generation, fetcher.in_flight) else {
            return;
        };
        let Some(replica) = self.replicas.get(&partition) else { return };
        let version = self.world.scenario.kafka_version;
        // The epoch goes out while the follower still checks its log (always from 2.8).
        let checks = replica.truncation_pending || version.checks_divergence_on_every_fetch();
        let by_epoch = version.truncates_by_leader_epoch() && checks;
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
            broker_epoch: self.incarnation,
            max_wait_ms: self.world.scenario.broker.replica_fetch_wait_max_ms,
            read_committed: false,
        };
        self.send(self.world.broker_idx(leader), msg);
        self.fetchers.get_mut(&partition).unwrap().in_flight = Some(corr);
        let now = self.now_us();
        self.timers.at(
            now.saturating_add(FETCH_REQUEST_TIMEOUT_MS.saturating_mul(1000)),
            Timer::FollowerFetchTimeout { partition, corr },
        );
    }

    pub(super) fn on_follower_fetch_response(
        &mut self,
        corr: u64,
        partition: u32,
        result: Result<FetchData, KafkaError>,
    ) {
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
                // The leader sent records: the logs agree, the truncation check is over.
                if let Some(r) = self.replicas.get_mut(&partition) {
                    r.truncation_pending = false;
                }
                self.follower_append(partition, batches, high_watermark);
                now
            }
            Ok(FetchData::EpochEnd { end_offset }) => {
                // 0.11-1.1 truncate once: to the leader's offset for its latest epoch, or to its
                // own high watermark when the leader cannot say (UNDEFINED_EPOCH_OFFSET).
                let (to, reason) = {
                    let r = &self.replicas[&partition];
                    match end_offset {
                        None => (r.high_watermark, TruncateReason::HighWatermark),
                        Some(x) => (x, TruncateReason::LeaderEpoch { leader, leader_epoch: r.leader_epoch }),
                    }
                };
                self.truncate(partition, to, reason);
                if let Some(r) = self.replicas.get_mut(&partition) {
                    r.truncation_pending = false;
                }
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
            // Never sent to a follower (its fetches are not read_committed).
            Ok(FetchData::Committed { .. }) | Err(_) => now + FETCH_BACKOFF_MS.saturating_mul(1000),
        };
        self.timers.at(next_fetch_us, Timer::FollowerFetch { partition, generation });
    }

    pub(super) fn follower_append(&mut self, partition: u32, batches: Vec<Batch>, leader_hw: u64) {
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

    pub(super) fn truncate(&mut self, partition: u32, to_offset: u64, reason: TruncateReason) {
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
}
