//! The broker's writes to its disk beyond appends, as Kafka's `LogManager` and `ReplicaManager`
//! ask them of it: log loading and recovery when the process starts (skipped after a clean
//! shutdown, whose marker it reads and deletes), the flush policy's time trigger (the log flusher,
//! `LogManager.flushDirtyLogs`: first 30 s after start, then every
//! `log.flush.scheduler.interval.ms`, which by default is never) and the high-watermark
//! checkpoint every `replica.high.watermark.checkpoint.interval.ms`. The size trigger
//! (`log.flush.interval.messages`) runs where the appends are (`leader`, `follower`). The disk
//! itself (page cache, writeback, durability) is `disk`.

use super::node::{Broker, Timer};
use crate::broker::replica::Replica;
use crate::runtime::actor::Actor;
use losslab_model::history::{EventKind, TruncateReason};

/// Kafka's `log.initial.task.delay.ms` (internal, 30000): the log flusher's first run after the
/// log manager starts (`LogManager.startupWithConfigOverrides`).
pub(super) const LOG_INITIAL_TASK_DELAY_MS: u64 = 30_000;

impl Broker {
    /// Loads the logs from disk at startup. Kafka reads and deletes the clean-shutdown marker
    /// first; without it, log recovery discards whatever a power cut left past a hole. Returns
    /// the broker epoch the marker was written with, if there was one.
    pub(super) fn recover_logs(&mut self) -> Option<u64> {
        let now = self.now_us();
        let mut disk = self.world.disks[self.id as usize - 1].lock().unwrap();
        let clean_marker = disk.take_clean_marker();
        let discarded = disk.load_logs(clean_marker.is_some(), now);
        let recovered: Vec<(u32, u64, u64)> =
            disk.logs.iter().map(|(&p, s)| (p, s.log.log_end_offset(), s.hw_checkpoint)).collect();
        for (partition, _, hw) in &recovered {
            let stored = disk.log_mut(*partition);
            let replica = Replica::recover(self.id, *partition, &stored.log, *hw, self.rules_for(*partition));
            self.replicas.insert(*partition, replica);
        }
        drop(disk);
        for d in discarded {
            self.record(EventKind::Truncate {
                broker: self.id,
                partition: d.partition,
                to_offset: d.to_offset,
                removed: d.discarded,
                reason: TruncateReason::Recovery,
            });
        }
        for (partition, log_end_offset, hw_checkpoint) in recovered {
            self.record(EventKind::Recovered { broker: self.id, partition, log_end_offset, hw_checkpoint });
        }
        clean_marker
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

    /// Schedules the log flusher's first run, `log.initial.task.delay.ms` after `start_us`.
    pub(super) fn schedule_flusher(&mut self, start_us: u64) {
        let due_us = start_us.saturating_add(LOG_INITIAL_TASK_DELAY_MS * 1000);
        self.timers.at(due_us, Timer::FlushCheck { due_us });
    }

    /// Kafka's `LogManager.flushDirtyLogs`: flushes every log whose last flush is at least
    /// `flush.ms` old, where `flush.ms` is `log.flush.interval.ms`, or when that is not set the
    /// scheduler interval (practically never). It then runs again after
    /// `log.flush.scheduler.interval.ms` (`scheduleAtFixedRate`); the default, `Long.MAX_VALUE`,
    /// never comes. The next run is due a period after this one was due, not after it ran
    /// (`scheduleAtFixedRate`).
    pub(super) fn on_flush_check(&mut self, due_us: u64) {
        let now = self.now_us();
        let b = &self.world.scenario.broker;
        let period_ms = b.log_flush_scheduler_interval_ms;
        let flush_us = b.log_flush_interval_ms.unwrap_or(period_ms).saturating_mul(1000);
        let flushed = self.world.disks[self.id as usize - 1].lock().unwrap().flush_dirty_logs(now, flush_us);
        for (p, durable_offset) in flushed {
            self.record_flush(p, Some(durable_offset), "log.flush.interval.ms");
        }
        if let Some(next_us) = period_ms.checked_mul(1000).and_then(|us| due_us.checked_add(us)) {
            self.timers.at(next_us, Timer::FlushCheck { due_us: next_us });
        }
    }
}
