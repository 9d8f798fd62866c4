//! KIP-320 on the consumer (2.3, `Fetcher.validateOffsetsIfNeeded` / `OffsetsForLeaderEpochClient`):
//! the async shell around `position`. After every metadata update each position is compared
//! with the partition's current leader and epoch (`maybeValidatePositionForCurrentLeader`);
//! a position that must be validated stops fetching, its buffered records are dropped, and an
//! OffsetsForLeaderEpoch for the position's epoch goes to the leader. The answer either confirms
//! the position, moves it back to where the leader's log diverges (the truncation detected,
//! `consumer_skipped` avoided), resets it, or, with `auto.offset.reset=none`, makes `poll()`
//! throw LogTruncationException: the app does not catch it and dies (its process exits
//! without `close()`; an operator must move the group's offsets). Before 2.3 positions follow
//! the leader without validation (`updatePositionLeaderNoValidation`): a truncation below the
//! position goes unnoticed, or shows only as OFFSET_OUT_OF_RANGE.

use super::node::{Consumer, Request, REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS};
use super::position::{EpochEndOffset, FetchPosition, LeaderAndEpoch, Validation};
use crate::protocol::{KafkaError, Msg};
use losslab_model::history::EventKind;

impl Consumer {
    /// The partition's leader and epoch as this client's metadata knows them.
    pub(super) fn leader_and_epoch(&self, partition: u32) -> LeaderAndEpoch {
        match self.metadata.leader_and_epoch(partition) {
            Some((leader, epoch)) => LeaderAndEpoch { leader, epoch: Some(epoch) },
            None => LeaderAndEpoch::default(),
        }
    }

    /// `validatePositionsIfNeeded`: every assigned position against the current leader.
    pub(super) fn maybe_validate_positions(&mut self) {
        let detects = self.world.scenario.kafka_version.consumers_detect_truncation();
        let partitions: Vec<u32> = self.assigned.keys().copied().collect();
        let mut invalidated = false;
        for p in partitions {
            let leader = self.leader_and_epoch(p);
            let Some(a) = self.assigned.get_mut(&p) else { continue };
            if !detects {
                a.pos.update_leader_no_validation(leader);
                continue;
            }
            let was_valid = a.pos.has_valid_position();
            if a.pos.maybe_validate_for_leader(leader) && was_valid {
                // No longer fetchable: what was fetched from the old leader is dropped, and the
                // answer to a fetch in flight will be.
                a.buffer.clear();
                a.fetch_in_flight = None;
                self.ready.retain(|&r| r != p);
                invalidated = true;
            }
        }
        if invalidated {
            self.publish_progress();
        }
        self.send_validations();
    }

    /// OffsetsForLeaderEpoch for every position awaiting validation with none in flight.
    pub(super) fn send_validations(&mut self) {
        let due: Vec<(u32, FetchPosition)> = self
            .assigned
            .iter()
            .filter(|(_, a)| a.pos.awaiting_validation() && a.validation_in_flight.is_none())
            .filter_map(|(&p, a)| a.pos.position().map(|pos| (p, pos)))
            .collect();
        for (partition, requested) in due {
            let (Some(leader), Some(epoch)) = (requested.current_leader.leader, requested.offset_epoch) else {
                continue;
            };
            let corr = self.corr();
            let msg = Msg::OffsetsForLeaderEpoch {
                corr,
                partition,
                current_leader_epoch: requested.current_leader.epoch,
                leader_epoch: epoch,
            };
            self.assigned.get_mut(&partition).expect("assigned").validation_in_flight = Some(corr);
            let to = self.world.broker_idx(leader);
            self.request(to, corr, Request::Validate { partition, broker: leader, requested }, msg, REQUEST_TIMEOUT_MS);
        }
    }

    /// The leader's answer (`maybeCompleteValidation`), or the request's failure (the metadata
    /// is refreshed and the validation retried after `retry.backoff.ms`).
    pub(super) fn on_validation(
        &mut self,
        corr: u64,
        partition: u32,
        requested: FetchPosition,
        result: Result<EpochEndOffset, KafkaError>,
    ) {
        let policy = super::fetching::reset_policy(self.cfg().auto_offset_reset);
        let Some(a) = self.assigned.get_mut(&partition).filter(|a| a.validation_in_flight == Some(corr)) else {
            return;
        };
        a.validation_in_flight = None;
        let answer = match result {
            Ok(answer) => answer,
            Err(_) => {
                self.request_metadata();
                let at = self.after_us(RETRY_BACKOFF_MS);
                self.wake_app_at(at);
                return;
            }
        };
        let outcome = a.pos.maybe_complete_validation(requested, answer, policy);
        let detected = |action: String| EventKind::TruncationDetected {
            consumer: self.id,
            partition,
            position: requested.offset,
            end_offset: answer.map(|(_, end)| end),
            action,
        };
        match outcome {
            Validation::Ignored => {}
            Validation::Valid => self.publish_progress(),
            Validation::SeekBack { offset, epoch, .. } => {
                self.record(detected(format!(
                    "sought back to offset {offset} (epoch {epoch}), the first offset known to diverge"
                )));
                self.publish_progress();
            }
            Validation::Reset => {
                let version = self.world.scenario.kafka_version;
                let how = if version.resets_on_undefined_divergence() {
                    "reset per auto.offset.reset (the leader could not place the epoch)"
                } else {
                    "sought to offset -1, then reset per auto.offset.reset when that fetch was out of range"
                };
                self.record(detected(how.to_string()));
                self.reset_position(partition, Some(requested.offset));
            }
            Validation::Truncated(t) => {
                let divergent = t.divergent.map_or("unknown".to_string(), |(o, e)| format!("{o} (epoch {e})"));
                let error = format!(
                    "LogTruncationException: truncation detected on partition {partition} at offset {}, divergent offset {divergent}, and auto.offset.reset=none",
                    requested.offset
                );
                self.record(detected("raised LogTruncationException (auto.offset.reset=none)".into()));
                self.app_died(error);
                return;
            }
        }
        self.wake_app();
    }

    /// The app did not catch an exception: its thread ends, and so does the process, without
    /// `close()` (the member stays in the group until its session times out).
    pub(super) fn app_died(&mut self, error: String) {
        self.record(EventKind::ConsumerFailed { consumer: self.id, error });
        self.exited = true;
    }
}
