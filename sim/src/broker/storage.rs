//! The broker's writes to its disk beyond appends: log recovery when the process starts, the
//! flush policy (`log.flush.interval.messages` at append time, `log.flush.interval.ms` on a
//! timer), and the high-watermark checkpoint every
//! `replica.high.watermark.checkpoint.interval.ms`. The disk itself (page cache, durability)
//! is `disk`; this is what Kafka's `LogManager` and `ReplicaManager` ask of it.

use super::node::{Broker, Timer, FLUSH_CHECK_MS};
use crate::broker::replica::Replica;
use crate::runtime::actor::Actor;
use losslab_model::history::EventKind;

impl Broker {
    pub(super) fn recover_logs(&mut self) {
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

    pub(super) fn record_flush(&self, partition: u32, flushed: Option<u64>, by: &str) {
        if let Some(durable_offset) = flushed {
            self.record(EventKind::Flush { broker: self.id, partition, durable_offset, by: by.to_string() });
        }
    }

    pub(super) fn on_hw_checkpoint(&mut self) {
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

    pub(super) fn on_flush_check(&mut self) {
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
}
