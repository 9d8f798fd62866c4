//! The consumer's offset commits: auto-commit inside `poll()` every `auto.commit.interval.ms`
//! of what earlier polls returned, the app's `commitSync()` (retried on retriable errors until
//! `default.api.timeout.ms`) and `commitAsync()`, and what a failed commit means for the
//! member (Kafka's `ConsumerCoordinator` commit paths).

use super::join_prepare::is_retriable;
use super::node::{
    App, CommitKind, Consumer, Membership, Request, Then, Timer, DEFAULT_API_TIMEOUT_MS, REQUEST_TIMEOUT_MS,
    RETRY_BACKOFF_MS,
};
use crate::protocol::{KafkaError, Msg};
use crate::runtime::actor::Actor;
use losslab_model::history::EventKind;
use std::collections::BTreeMap;

impl Consumer {
    pub(super) fn send_commit(&mut self, kind: CommitKind, offsets: Vec<(u32, u64)>) {
        if offsets.is_empty() {
            // `commitOffsetsSync` of nothing succeeds at once.
            match kind {
                CommitKind::Sync => self.on_sync_commit_done(Ok(())),
                CommitKind::JoinPrepare => self.on_join_prepare_result(Ok(())),
                CommitKind::Close => self.on_close_commit_done(Ok(())),
                CommitKind::Auto | CommitKind::Async => {}
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
            if matches!(kind, CommitKind::JoinPrepare | CommitKind::Close) {
                // Both wait for a coordinator within their own timers.
                let e = if self.coordinator.is_none() {
                    KafkaError::CoordinatorNotAvailable
                } else {
                    KafkaError::RebalanceInProgress
                };
                self.on_commit_response(kind, generation, offsets, Err(e));
                return;
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
        let epochs = self.commit_epochs(&offsets);
        let msg = Msg::OffsetCommit {
            corr,
            member: self.member,
            generation,
            offsets: offsets.clone(),
            epochs,
            instance: self.instance.clone(),
        };
        self.request(to, corr, Request::Commit { kind, generation, offsets }, msg, REQUEST_TIMEOUT_MS);
    }

    pub(super) fn on_commit_response(
        &mut self,
        kind: CommitKind,
        generation: Option<u32>,
        offsets: Vec<(u32, u64)>,
        result: Result<(), KafkaError>,
    ) {
        let Err(e) = result else {
            match kind {
                CommitKind::Sync => self.on_sync_commit_done(Ok(())),
                CommitKind::JoinPrepare => self.on_join_prepare_result(Ok(())),
                CommitKind::Close => self.on_close_commit_done(Ok(())),
                CommitKind::Auto | CommitKind::Async => {}
            }
            return;
        };
        self.record(EventKind::CommitFailed { consumer: self.id, generation, offsets, error: e.name().to_string() });
        let retriable = is_retriable(e);
        // A stale generation's rejection says nothing about the current one.
        if retriable || (generation == self.generation && self.membership == Membership::Stable) {
            self.on_group_error(e);
        }
        match kind {
            CommitKind::JoinPrepare => return self.on_join_prepare_result(Err(e)),
            CommitKind::Close => return self.on_close_commit_done(Err(e)),
            _ => {}
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
    pub(super) fn retry_sync_commit(&mut self) {
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

    pub(super) fn on_commit_retry(&mut self, attempt: u64) {
        let App::Committing { offsets, attempt: current, .. } = &self.app else { return };
        if *current != attempt {
            return;
        }
        let offsets = offsets.clone();
        self.send_commit(CommitKind::Sync, offsets);
    }

    /// The app's `commitSync()` returned (`Err`: it threw).
    pub(super) fn on_sync_commit_done(&mut self, result: Result<(), ()>) {
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
            (Then::Close, _) => self.advance_close(),
        }
    }

    /// `commitSync()` of `offsets`, then `then`.
    pub(super) fn commit_sync(&mut self, offsets: Vec<(u32, u64)>, then: Then) {
        let deadline_us = self.after_us(DEFAULT_API_TIMEOUT_MS);
        self.app = App::Committing { offsets: offsets.clone(), then, deadline_us, attempt: 0 };
        self.send_commit(CommitKind::Sync, offsets);
    }

    /// KIP-320 (OffsetCommit v6, 2.1): a committed offset carries the leader epoch of the last
    /// consumed record when it is the partition's position (`allConsumed()`); an offset the app
    /// computed itself (the async processed prefix) is committed without one, as
    /// `new OffsetAndMetadata(offset)` is.
    pub(super) fn commit_epochs(&self, offsets: &[(u32, u64)]) -> BTreeMap<u32, u32> {
        if !self.world.scenario.kafka_version.commits_carry_leader_epoch() {
            return BTreeMap::new();
        }
        offsets
            .iter()
            .filter_map(|&(p, o)| {
                let pos = self.assigned.get(&p)?.pos.position()?;
                (pos.offset == o).then_some(pos.offset_epoch).flatten().map(|e| (p, e))
            })
            .collect()
    }

    pub(super) fn maybe_auto_commit(&mut self) {
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
    pub(super) fn commit_processed_prefix(&mut self) {
        let offsets: Vec<(u32, u64)> = self
            .assigned
            .iter()
            .filter_map(|(&p, a)| {
                let position = a.position()?;
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
}
