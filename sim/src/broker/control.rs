//! The broker's side of the partition state: it applies the states the controller pushes
//! (becoming leader or follower of a new epoch, or taking a new ISR), dropping those meant for an
//! earlier incarnation of itself (KIP-380, KRaft), and sends the AlterPartition requests its
//! leaders propose, resending each until the controller answers it (KIP-497). Registration,
//! heartbeats and controlled shutdown are `lifecycle`.

use super::node::{Broker, Timer, ALTER_PARTITION_RETRY_MS};
use crate::broker::replica::{Replica, StateChange};
use crate::protocol::{KafkaError, Msg, PartitionState, OFFSETS_PARTITION, TXN_STATE_PARTITION};
use crate::runtime::actor::Actor;
use losslab_model::config::MetadataMode;
use losslab_model::history::{EventKind, TruncateReason};

impl Broker {
    /// A pushed partition state. From 2.2 (KIP-380) and under KRaft it counts only when stamped
    /// with this incarnation's broker epoch; before, a ZooKeeper-mode broker applied whatever
    /// reached it, including states the controller meant for its earlier incarnation.
    pub(super) fn on_pushed_state(&mut self, state: PartitionState, broker_epoch: u64, ineligible: Vec<u32>) {
        let s = &self.world.scenario;
        let strict = s.broker.metadata_mode == MetadataMode::KRaft || s.kafka_version.rejects_stale_broker_epochs();
        if strict && broker_epoch != self.incarnation {
            return;
        }
        self.note_ineligible(ineligible);
        self.on_partition_update(state);
    }

    pub(super) fn on_partition_update(&mut self, state: PartitionState) {
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
            let replica = Replica::recover(self.id, p, &stored.log, stored.hw_checkpoint, self.rules_for(p));
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
        if p == TXN_STATE_PARTITION {
            self.txn_role_changed();
        }
    }

    pub(super) fn on_alter_partition_response(
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

    pub(super) fn send_alter_partition(&mut self, partition: u32, new_isr: Vec<u32>) {
        let Some(r) = self.replicas.get(&partition) else { return };
        // KIP-903: each member named with the broker epoch its fetches carried.
        let member_epochs = new_isr
            .iter()
            .map(|&b| {
                (b, if b == self.id { self.incarnation } else { self.follower_epochs.get(&b).copied().unwrap_or(0) })
            })
            .collect();
        let msg = Msg::AlterPartition {
            broker: self.id,
            partition,
            leader_epoch: r.leader_epoch,
            partition_epoch: r.partition_epoch,
            new_isr,
            member_epochs,
        };
        self.send(self.world.controller_idx(), msg.clone());
        self.alter_in_flight.insert(partition, msg);
        let now = self.now_us();
        self.timers.at(
            now.saturating_add(ALTER_PARTITION_RETRY_MS.saturating_mul(1000)),
            Timer::AlterPartitionRetry { partition },
        );
    }
}
