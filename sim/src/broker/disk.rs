//! A broker's disk, modelled the way Linux and Kafka treat it (Kafka does not fsync by
//! default). An append lands in the OS page cache; it becomes durable when Kafka flushes
//! (`log.flush.interval.messages`, `log.flush.interval.ms`) or when the OS writes dirty pages
//! back (older than `os.dirty.expire.ms`, checked every `os.dirty.writeback.ms`). A process
//! crash keeps the page cache: the OS still holds it. A power crash drops every byte not yet
//! durable. The high-watermark checkpoint is written to a temporary file, fsynced and renamed,
//! as Kafka's `OffsetCheckpointFile` does, so it is always durable.
//!
//! The disk lives in the `World`, outside the broker's process, so a crash keeps it.

use super::log::Log;
use losslab_model::MsgId;
use std::collections::{BTreeMap, VecDeque};

/// One partition's log on disk, with what part of it is durable.
#[derive(Clone, Debug, Default)]
pub struct StoredLog {
    pub log: Log,
    /// Everything below this offset is on the platter.
    pub durable_offset: u64,
    /// Dirty data not yet written back: (end offset, when it was written), oldest first.
    dirty: VecDeque<(u64, u64)>,
    /// Messages appended since Kafka last flushed (for `log.flush.interval.messages`).
    pub unflushed_messages: u64,
    /// When the oldest message Kafka has not flushed was appended (for `log.flush.interval.ms`).
    pub oldest_unflushed_us: Option<u64>,
    /// The last high watermark checkpointed (durable).
    pub hw_checkpoint: u64,
}

impl StoredLog {
    /// Notes that the log just grew to its current end at `now_us`, in the page cache only.
    pub fn note_append(&mut self, messages: u64, now_us: u64) {
        self.dirty.push_back((self.log.log_end_offset(), now_us));
        self.unflushed_messages += messages;
        self.oldest_unflushed_us.get_or_insert(now_us);
    }

    /// fsync: everything appended so far becomes durable. Returns the new durable offset if it
    /// moved.
    pub fn flush(&mut self) -> Option<u64> {
        if crate::fault::mutation::on(crate::fault::mutation::Mutation::FlushIgnored) {
            return None;
        }
        self.dirty.clear();
        self.unflushed_messages = 0;
        self.oldest_unflushed_us = None;
        let leo = self.log.log_end_offset();
        (leo > self.durable_offset).then(|| {
            self.durable_offset = leo;
            leo
        })
    }

    /// The OS writes back pages dirty for at least `expire_us`. Kafka's own flush counters are
    /// untouched: the OS writing back is not Kafka flushing.
    pub fn writeback(&mut self, now_us: u64, expire_us: u64) -> Option<u64> {
        let mut moved = None;
        while let Some(&(end, at)) = self.dirty.front() {
            if now_us.saturating_sub(at) < expire_us {
                break;
            }
            self.dirty.pop_front();
            if end > self.durable_offset {
                self.durable_offset = end;
                moved = Some(end);
            }
        }
        moved
    }

    /// The log was truncated to its current end: nothing past it can become durable.
    pub fn note_truncate(&mut self) {
        let leo = self.log.log_end_offset();
        self.durable_offset = self.durable_offset.min(leo);
        for entry in self.dirty.iter_mut() {
            entry.0 = entry.0.min(leo);
        }
        self.unflushed_messages = self.unflushed_messages.min(leo - self.durable_offset);
        self.hw_checkpoint = self.hw_checkpoint.min(leo);
    }
}

/// What a power loss took from one partition.
#[derive(Clone, Debug)]
pub struct PowerLoss {
    pub partition: u32,
    pub durable_offset: u64,
    pub lost: Vec<(u64, MsgId)>,
}

#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub logs: BTreeMap<u32, StoredLog>,
    /// The machine is off after a power crash: no OS writeback until it restarts.
    pub powered_off: bool,
    /// Kafka's `.kafka_cleanshutdown` marker: the broker epoch of the incarnation that shut down
    /// cleanly, if the last shutdown was clean.
    pub clean_shutdown: Option<u64>,
}

impl Disk {
    pub fn log_mut(&mut self, partition: u32) -> &mut StoredLog {
        self.logs.entry(partition).or_default()
    }

    /// The machine lost power: the page cache is gone, each log ends where its durable part
    /// ends.
    pub fn power_loss(&mut self) -> Vec<PowerLoss> {
        let mut losses = Vec::new();
        for (&partition, stored) in self.logs.iter_mut() {
            let durable_offset = stored.durable_offset;
            let lost = stored.log.truncate_to(durable_offset);
            stored.dirty.clear();
            stored.unflushed_messages = 0;
            stored.oldest_unflushed_us = None;
            stored.note_truncate();
            if !lost.is_empty() {
                losses.push(PowerLoss { partition, durable_offset, lost });
            }
        }
        losses
    }

    /// `LogManager.shutdown`: every log flushed and the clean-shutdown marker written with the
    /// broker epoch. Returns (partition, new durable offset) for each log the flush moved.
    pub fn shut_down_cleanly(&mut self, broker_epoch: u64) -> Vec<(u32, u64)> {
        let flushed = self.logs.iter_mut().filter_map(|(&p, s)| s.flush().map(|d| (p, d))).collect();
        self.clean_shutdown = Some(broker_epoch);
        flushed
    }

    /// The clean-shutdown marker, removed as Kafka removes it when it starts.
    pub fn take_clean_marker(&mut self) -> Option<u64> {
        self.clean_shutdown.take()
    }

    /// The disk is replaced by an empty one. Returns (partition, records lost) per partition.
    pub fn wipe(&mut self) -> Vec<(u32, u64)> {
        let lost = self.logs.iter().map(|(&p, s)| (p, s.log.log_end_offset())).collect();
        self.logs.clear();
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Batch;

    fn append(s: &mut StoredLog, n: u64, now_us: u64) {
        let base = s.log.log_end_offset();
        let msgs = (base..base + n).map(|seq| MsgId { producer: 1, seq }).collect();
        s.log.append(Batch { base_offset: base, leader_epoch: 1, msgs, stamp: None });
        s.note_append(n, now_us);
    }

    #[test]
    fn power_loss_drops_what_was_not_written_back() {
        let mut disk = Disk::default();
        let s = disk.log_mut(0);
        append(s, 5, 0);
        append(s, 5, 20_000_000);
        assert_eq!(s.writeback(31_000_000, 30_000_000), Some(5));
        let losses = disk.power_loss();
        assert_eq!(losses.len(), 1);
        assert_eq!(losses[0].durable_offset, 5);
        assert_eq!(losses[0].lost.len(), 5);
        assert_eq!(disk.logs[&0].log.log_end_offset(), 5);
    }

    #[test]
    fn flush_makes_everything_durable() {
        let mut disk = Disk::default();
        let s = disk.log_mut(0);
        append(s, 3, 0);
        assert_eq!(s.flush(), Some(3));
        assert!(disk.power_loss().is_empty());
    }
}
