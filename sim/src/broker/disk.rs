//! A broker machine's disk: what Kafka's writes go through before they are safe, and what a power
//! cut leaves. The durability model, in one place (docs/NOTES.md, "The disk and the flush
//! policy", cites the Kafka and Linux sources):
//!
//! - Each partition log is one file, one inode. Kafka appends a batch with one `write()`: the
//!   bytes land in the OS page cache, dirty, and nowhere else.
//! - Kafka's flush (`fsync`) makes the whole log durable at once, up to its end, and moves the
//!   log's recovery point there (`LocalLog.markFlushed`, which also stamps the last flush time).
//!   When Kafka flushes is the broker's flush policy (`storage`); the disk keeps the recovery
//!   point and the time.
//! - Linux writeback (`fs/fs-writeback.c`): an inode's `dirtied_when` is stamped when a clean
//!   inode gets its first dirty page (`__mark_inode_dirty`), not per page. Every
//!   `os.dirty.writeback.ms` (`dirty_writeback_centisecs`) the flusher thread writes back every
//!   inode dirtied at least `os.dirty.expire.ms` ago (`dirty_expire_centisecs`, `wb_writeback`
//!   with `for_kupdate`), oldest first, and writing an inode back writes all its dirty pages
//!   (a chunk that runs out is requeued, `requeue_io`, and kupdate loops while it makes
//!   progress). The inode is then clean; the next append stamps a new `dirtied_when`.
//! - The block layer sends a pass's pages as requests of at most [`REQUEST_BYTES`] of one file;
//!   the device serves them one after the other at [`DEVICE_BYTES_PER_SEC`], so a pass completes
//!   over a window of its bytes over that throughput (`workload.message.bytes` is a record's
//!   size on disk). With `os.writeback.order=any` the requests complete in a random order drawn
//!   from madsim's seeded RNG (the block layer and the drive reorder them), with `offset` in file
//!   order. A request is durable once it completed, all of it (a real drive can tear a request
//!   and keep any subset of its sectors; here a request is atomic).
//! - A batch is durable when every request covering it completed, or when Kafka flushed it.
//! - A process crash keeps everything: the page cache is the OS's. A power cut loses every batch
//!   that is not durable; the file keeps the durable ones, possibly with holes.
//! - Log recovery at restart (`LogLoader.recoverLog`, `LogSegment.recover`) keeps the longest
//!   prefix of intact batches and truncates at the first missing one: durable batches past a
//!   hole fail their checksum and size check and are discarded. With the clean-shutdown marker
//!   (`.kafka_cleanshutdown`, written after a clean shutdown flushed every log) recovery is
//!   skipped.
//! - The high-watermark checkpoint is written as Kafka's `OffsetCheckpointFile` is (temporary
//!   file, fsync, rename): always durable.
//!
//! The simulator's `Log` is dense, so a power cut ends it at once at the first hole and keeps the
//! durable batches past it aside (`StoredLog::orphans`) until recovery discards them: nothing
//! reads a powered-off broker's log in between. The disk lives in the `World`, outside the
//! broker's process, so a crash keeps it.

use super::log::Log;
use crate::protocol::Batch;
use losslab_model::config::WritebackOrder;
use losslab_model::MsgId;
use madsim::rand::seq::SliceRandom;
use madsim::rand::Rng;
use std::collections::{BTreeMap, VecDeque};

/// The device's write throughput: a SATA SSD's order, an HDD's best.
pub const DEVICE_BYTES_PER_SEC: u64 = 100_000_000;
/// The largest request the block layer sends: Linux's default `max_sectors_kb`
/// (`BLK_DEF_MAX_SECTORS`, 2560 sectors of 512 bytes, in `include/linux/blkdev.h`).
pub const REQUEST_BYTES: u64 = 2560 * 512;

/// Where one batch's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// In the page cache only (dirty, not yet handed to the device).
    Cached,
    /// Handed to the device in this many requests not yet completed.
    Writing(u32),
    /// On the platter.
    Durable,
}

/// What the disk knows of one batch of the log: its identity (to notice a log changed behind
/// its back) and where its bytes are.
#[derive(Clone, Copy, Debug)]
struct BatchPlace {
    base_offset: u64,
    end_offset: u64,
    leader_epoch: u32,
    place: Place,
}

impl BatchPlace {
    fn of(batch: &Batch) -> BatchPlace {
        BatchPlace {
            base_offset: batch.base_offset,
            end_offset: batch.end_offset(),
            leader_epoch: batch.leader_epoch,
            place: Place::Cached,
        }
    }

    fn is(&self, batch: &Batch) -> bool {
        self.base_offset == batch.base_offset
            && self.end_offset == batch.end_offset()
            && self.leader_epoch == batch.leader_epoch
    }
}

/// A request handed to the device: it covers batches `lo..hi` (indices into the log) and
/// completes at `done_us`.
#[derive(Clone, Copy, Debug)]
struct Request {
    done_us: u64,
    lo: usize,
    hi: usize,
}

/// One partition's log on disk, with what part of it is durable and what Kafka flushed.
#[derive(Clone, Debug, Default)]
pub struct StoredLog {
    pub log: Log,
    /// Kafka's recovery point: everything below was fsynced by a flush.
    pub recovery_point: u64,
    /// When Kafka last flushed this log forward (moved the recovery point), or loaded or created
    /// it (`LocalLog.lastFlushedTime`). The flusher compares it with `log.flush.interval.ms`.
    pub last_flush_us: u64,
    /// Kafka's `unflushedMessages`: the log end minus the recovery point (the size trigger,
    /// `log.flush.interval.messages`, compares it after every append).
    pub unflushed_messages: u64,
    /// The last high watermark checkpointed (durable).
    pub hw_checkpoint: u64,
    /// After a power cut: the durable records past the first lost batch, which the next log
    /// recovery discards.
    pub orphans: Vec<(u64, MsgId)>,
    /// The inode's `dirtied_when`: when the file went from clean to dirty; `None`: clean.
    dirtied_us: Option<u64>,
    /// Per batch of `log`, in order.
    places: Vec<BatchPlace>,
    /// How many batches from the start are durable (the durable prefix), so that a flush after
    /// every append costs what it flushes, not the whole log.
    durable_len: usize,
    /// The requests the device has not completed, earliest first.
    requests: VecDeque<Request>,
    /// The latest time any call told this log: a size-triggered flush happens at the time of the
    /// append just noted.
    now_us: u64,
}

impl StoredLog {
    /// A log created (or loaded) at `now_us`: Kafka starts its flush clock there.
    pub fn created_at(now_us: u64) -> StoredLog {
        StoredLog { last_flush_us: now_us, now_us, ..StoredLog::default() }
    }

    /// Notes that the log just grew by `messages` records at `now_us`, in the page cache only. A
    /// clean file becomes dirty now.
    pub fn note_append(&mut self, messages: u64, now_us: u64) {
        self.tell(now_us);
        let before = self.places.last().map_or(0, |c| c.end_offset);
        self.sync(Some(now_us));
        debug_assert_eq!(self.log.log_end_offset().saturating_sub(before), messages, "note_append counts the append");
    }

    /// Kafka's `flush()`, the size trigger's (called right after `note_append`, at its time):
    /// everything appended so far becomes durable. Returns the new recovery point if it moved.
    pub fn flush(&mut self) -> Option<u64> {
        self.flush_at(self.now_us)
    }

    /// Kafka's `flush()` at `now_us`: fsync up to the log end; the recovery point and the last
    /// flush time move only if the end is past the recovery point (`LocalLog.markFlushed`).
    pub fn flush_at(&mut self, now_us: u64) -> Option<u64> {
        if crate::fault::mutation::on(crate::fault::mutation::Mutation::FlushIgnored) {
            return None;
        }
        self.tell(now_us);
        self.sync(None);
        let leo = self.log.log_end_offset();
        if leo <= self.recovery_point {
            // Everything below the recovery point was fsynced already: no fsync at all.
            return None;
        }
        for c in &mut self.places[self.durable_len..] {
            c.place = Place::Durable;
        }
        self.durable_len = self.places.len();
        self.requests.clear();
        self.dirtied_us = None;
        self.recovery_point = leo;
        self.last_flush_us = self.now_us;
        self.unflushed_messages = 0;
        Some(leo)
    }

    /// The log was truncated to its current end: nothing past it can become durable, and the
    /// recovery point cannot be past it (`LocalLog.updateLogEndOffset`).
    pub fn note_truncate(&mut self) {
        self.sync(None);
        let leo = self.log.log_end_offset();
        self.recovery_point = self.recovery_point.min(leo);
        self.hw_checkpoint = self.hw_checkpoint.min(leo);
    }

    /// The end of the longest durable prefix of the log: where log recovery would cut it.
    pub fn durable_end(&self) -> u64 {
        self.durable_len.checked_sub(1).map_or(0, |i| self.places[i].end_offset)
    }

    /// The offset ranges of the durable batches, merged: what is on the platter.
    pub fn durable_ranges(&self) -> Vec<(u64, u64)> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for c in self.places.iter().filter(|c| c.place == Place::Durable) {
            match ranges.last_mut() {
                Some(last) if last.1 == c.base_offset => last.1 = c.end_offset,
                _ => ranges.push((c.base_offset, c.end_offset)),
            }
        }
        ranges
    }

    /// When the inode became dirty, if it is.
    pub fn dirtied_us(&self) -> Option<u64> {
        self.dirtied_us
    }

    fn tell(&mut self, now_us: u64) {
        self.now_us = self.now_us.max(now_us);
    }

    /// Brings `places` in line with the log: a tail that no longer matches (a truncation) goes,
    /// with the requests' claims on it; new batches come in cached, and dirty the file at
    /// `now_us` if it was clean.
    fn sync(&mut self, now_us: Option<u64>) {
        let batches = self.log.batches();
        let mut keep = self.places.len().min(batches.len());
        // Normally one comparison: the last batch both know is the same one.
        while keep > 0 && !self.places[keep - 1].is(&batches[keep - 1]) {
            keep -= 1;
        }
        if keep < self.places.len() {
            self.places.truncate(keep);
            self.durable_len = self.durable_len.min(keep);
            self.requests.retain_mut(|r| {
                r.hi = r.hi.min(keep);
                r.lo < r.hi
            });
        }
        if batches.len() > self.places.len() {
            self.places.extend(batches[self.places.len()..].iter().map(BatchPlace::of));
            if let (None, Some(now)) = (self.dirtied_us, now_us) {
                self.dirtied_us = Some(now);
            }
        }
        self.unflushed_messages = self.log.log_end_offset().saturating_sub(self.recovery_point);
    }

    /// Hands every cached batch to the device as requests of at most `REQUEST_BYTES` (records of
    /// `record_bytes`), in file order; the file is clean afterwards. Returns the requests as
    /// (first batch, end batch, bytes).
    fn take_dirty(&mut self, now_us: u64, record_bytes: u64) -> Vec<(usize, usize, u64)> {
        self.tell(now_us);
        self.sync(Some(now_us));
        self.dirtied_us = None;
        // Cached batches are a suffix: every pass and every flush takes all of them.
        let first = self.places.len() - self.places.iter().rev().take_while(|c| c.place == Place::Cached).count();
        if first == self.places.len() {
            return Vec::new();
        }
        debug_assert!(self.places[..first].iter().all(|c| c.place != Place::Cached), "cached batches are a suffix");
        let start_byte = self.places[first].base_offset.saturating_mul(record_bytes);
        let mut requests: Vec<(usize, usize, u64)> = Vec::new();
        for (i, c) in self.places.iter_mut().enumerate().skip(first) {
            let (s, e) = (
                c.base_offset.saturating_mul(record_bytes) - start_byte,
                c.end_offset.saturating_mul(record_bytes) - start_byte,
            );
            let (first_req, last_req) = ((s / REQUEST_BYTES) as usize, (e.saturating_sub(1) / REQUEST_BYTES) as usize);
            for k in first_req..=last_req {
                let k_start = k as u64 * REQUEST_BYTES;
                let bytes = e.min(k_start + REQUEST_BYTES) - s.max(k_start);
                match requests.get_mut(k) {
                    Some(r) => {
                        r.1 = i + 1;
                        r.2 += bytes;
                    }
                    None => requests.push((i, i + 1, bytes)),
                }
            }
            c.place = Place::Writing((last_req - first_req + 1) as u32);
        }
        requests
    }

    /// Applies the requests completed by `now_us`. Returns true when the last one under way just
    /// completed: then every batch handed to the device is durable, and the durable prefix moved
    /// past them (the batches before them were durable or in those requests; later ones are
    /// cached).
    fn complete(&mut self, now_us: u64) -> bool {
        let mut done_any = false;
        while let Some(r) = self.requests.front().copied().filter(|r| r.done_us <= now_us) {
            self.requests.pop_front();
            done_any = true;
            for c in &mut self.places[r.lo..r.hi] {
                c.place = match c.place {
                    Place::Writing(1) => Place::Durable,
                    Place::Writing(n) => Place::Writing(n - 1),
                    other => other,
                };
            }
        }
        while self.places.get(self.durable_len).is_some_and(|c| c.place == Place::Durable) {
            self.durable_len += 1;
        }
        done_any && self.requests.is_empty()
    }

    /// The power is cut: every batch not durable is gone. The log ends at the first one lost;
    /// the durable batches past it stay on the platter as orphans until recovery. Returns the
    /// records lost with the page cache.
    fn lose_page_cache(&mut self) -> Vec<(u64, MsgId)> {
        self.sync(None);
        self.requests.clear();
        self.dirtied_us = None;
        let cut = self.durable_len;
        let mut lost = Vec::new();
        for (c, batch) in self.places[cut..].iter().zip(&self.log.batches()[cut..]) {
            let records = batch.msgs.iter().enumerate().map(|(i, &m)| (batch.base_offset + i as u64, m));
            if c.place == Place::Durable {
                self.orphans.extend(records);
            } else {
                lost.extend(records);
            }
        }
        let end = self.places.get(cut).map_or(self.log.log_end_offset(), |c| c.base_offset);
        self.log.truncate_to(end);
        self.note_truncate();
        lost
    }
}

/// What a power loss took from one partition.
#[derive(Clone, Debug)]
pub struct PowerLoss {
    pub partition: u32,
    /// Where the durable prefix ends: the log ends here now.
    pub durable_offset: u64,
    /// The records that were only in the page cache.
    pub lost: Vec<(u64, MsgId)>,
}

/// What log recovery did to one partition at startup: it cut the log at `to_offset`, the first
/// batch that failed its checksum, and discarded `discarded`, durable records past it.
#[derive(Clone, Debug, PartialEq)]
pub struct Discarded {
    pub partition: u32,
    pub to_offset: u64,
    pub discarded: Vec<(u64, MsgId)>,
}

#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub logs: BTreeMap<u32, StoredLog>,
    /// The machine is off after a power crash: no OS writeback until it restarts.
    pub powered_off: bool,
    /// Kafka's `.kafka_cleanshutdown`, with the broker epoch it was written with (3.7+).
    clean_marker: Option<u64>,
    /// When the device is done with the requests already handed to it (it serves one at a time).
    device_free_us: u64,
    /// When the broker process last started: Kafka's log manager loads every log then, and a log
    /// created later counts from here (the few milliseconds until the controller's push).
    started_us: u64,
}

impl Disk {
    pub fn log_mut(&mut self, partition: u32) -> &mut StoredLog {
        let started_us = self.started_us;
        self.logs.entry(partition).or_insert_with(|| StoredLog::created_at(started_us))
    }

    /// The machine lost power: the page cache is gone, and the writes the device had not
    /// completed with it. Each log ends where its durable prefix ends.
    pub fn power_loss(&mut self) -> Vec<PowerLoss> {
        self.device_free_us = 0;
        let mut losses = Vec::new();
        for (&partition, stored) in self.logs.iter_mut() {
            let lost = stored.lose_page_cache();
            if !lost.is_empty() {
                losses.push(PowerLoss { partition, durable_offset: stored.log.log_end_offset(), lost });
            }
        }
        losses
    }

    /// The disk is replaced by an empty one. Returns (partition, records lost) per partition.
    pub fn wipe(&mut self) -> Vec<(u32, u64)> {
        let lost = self.logs.iter().map(|(&p, s)| (p, s.log.log_end_offset())).collect();
        self.logs.clear();
        self.clean_marker = None;
        lost
    }

    /// Kafka's clean shutdown (`LogManager.shutdown`): every log is flushed, then the marker is
    /// written with the broker's epoch. Returns (partition, new recovery point) of each log the
    /// flush moved, for the broker's `Flush` events.
    pub fn shut_down_cleanly(&mut self, broker_epoch: u64, now_us: u64) -> Vec<(u32, u64)> {
        let flushed = self.logs.iter_mut().filter_map(|(&p, s)| s.flush_at(now_us).map(|d| (p, d))).collect();
        self.clean_marker = Some(broker_epoch);
        flushed
    }

    /// The body of Kafka's `LogManager.flushDirtyLogs` at `now_us`: flushes every log last
    /// flushed (or loaded) at least `flush_us` ago, whatever the age of its records. Returns
    /// (partition, new recovery point) of each log the flush moved.
    pub fn flush_dirty_logs(&mut self, now_us: u64, flush_us: u64) -> Vec<(u32, u64)> {
        self.logs
            .iter_mut()
            .filter(|(_, s)| now_us.saturating_sub(s.last_flush_us) >= flush_us)
            .filter_map(|(&p, s)| s.flush_at(now_us).map(|d| (p, d)))
            .collect()
    }

    /// Reads and deletes the clean-shutdown marker, as Kafka does when it starts (before it
    /// loads the logs, so that a crash while loading counts as unclean): the epoch it was
    /// written with, if there was one.
    pub fn take_clean_marker(&mut self) -> Option<u64> {
        self.clean_marker.take()
    }

    /// Loads every log at broker start (`LogManager.loadLogs`), at `now_us`. Without a clean
    /// shutdown, log recovery runs: durable batches past a hole left by a power cut fail their
    /// checksum and are discarded. Returns what was discarded, per partition.
    pub fn load_logs(&mut self, clean: bool, now_us: u64) -> Vec<Discarded> {
        self.powered_off = false;
        self.started_us = now_us;
        let mut discarded = Vec::new();
        for (&partition, stored) in self.logs.iter_mut() {
            // Only a flush-ignoring mutation can leave orphans behind a clean shutdown; the
            // simulator's log cannot hold a hole, so they go either way.
            let flush_ignored = crate::fault::mutation::on(crate::fault::mutation::Mutation::FlushIgnored);
            debug_assert!(!clean || stored.orphans.is_empty() || flush_ignored);
            let orphans = std::mem::take(&mut stored.orphans);
            if !orphans.is_empty() {
                discarded.push(Discarded { partition, to_offset: stored.log.log_end_offset(), discarded: orphans });
            }
            stored.tell(now_us);
            stored.last_flush_us = now_us;
            if clean {
                // Kafka skips recovery and trusts the whole log: the recovery point is its end.
                stored.recovery_point = stored.log.log_end_offset();
                stored.unflushed_messages = 0;
            }
        }
        discarded
    }

    /// One pass of the OS flusher thread at `now_us`: every file dirtied at least `expire_us`
    /// ago, oldest first, is handed to the device whole; the requests complete one after the
    /// other from when the device is free, in `order`. `record_bytes` is a record's size.
    pub fn start_writeback<R: Rng + ?Sized>(
        &mut self,
        now_us: u64,
        expire_us: u64,
        order: WritebackOrder,
        record_bytes: u64,
        rng: &mut R,
    ) {
        if self.powered_off {
            return;
        }
        let mut expired: Vec<(u64, u32)> = self
            .logs
            .iter()
            .filter_map(|(&p, s)| s.dirtied_us.filter(|&d| d.saturating_add(expire_us) <= now_us).map(|d| (d, p)))
            .collect();
        expired.sort_unstable();
        let mut requests: Vec<(u32, usize, usize, u64)> = Vec::new();
        for (_, p) in expired {
            let Some(stored) = self.logs.get_mut(&p) else { continue };
            requests
                .extend(stored.take_dirty(now_us, record_bytes.max(1)).into_iter().map(|(lo, hi, b)| (p, lo, hi, b)));
        }
        if order == WritebackOrder::Any {
            requests.shuffle(rng);
        }
        let mut at_us = self.device_free_us.max(now_us);
        for (p, lo, hi, bytes) in requests {
            // Rounded up: a request takes at least a microsecond.
            at_us += (bytes.saturating_mul(1_000_000)).div_ceil(DEVICE_BYTES_PER_SEC).max(1);
            if let Some(stored) = self.logs.get_mut(&p) {
                stored.requests.push_back(Request { done_us: at_us, lo, hi });
            }
        }
        self.device_free_us = at_us;
    }

    /// The device completes the requests due by `now_us`. Returns (partition, durable end) of
    /// each log whose writeback just finished.
    pub fn complete_writes(&mut self, now_us: u64) -> Vec<(u32, u64)> {
        self.logs.iter_mut().filter_map(|(&p, s)| s.complete(now_us).then(|| (p, s.durable_end()))).collect()
    }

    /// When the device completes its next request, if it has one.
    pub fn next_completion_us(&self) -> Option<u64> {
        self.logs.values().filter_map(|s| s.requests.front().map(|r| r.done_us)).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use madsim::rand::{Error, RngCore};

    const S: u64 = 1_000_000;
    /// A record as large as a request: every one-record batch is written by a request of its own.
    const BIG: u64 = REQUEST_BYTES;
    /// How long the device takes for one such request.
    const BIG_US: u64 = 13_108;
    const EXPIRE: u64 = 30 * S;

    /// A seeded xorshift64* stream: the disk takes any `Rng`; a run gives it madsim's.
    struct Seeded(u64);

    impl RngCore for Seeded {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn next_u32(&mut self) -> u32 {
            (self.next_u64() >> 32) as u32
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.iter_mut().for_each(|b| *b = self.next_u64() as u8);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    /// Appends one batch of `n` records to partition `p` at `now_us`, in epoch `epoch`.
    fn append_to(disk: &mut Disk, p: u32, n: u64, epoch: u32, now_us: u64) {
        let s = disk.log_mut(p);
        let base = s.log.log_end_offset();
        let msgs = (base..base + n).map(|seq| MsgId { producer: 1, seq }).collect();
        s.log.append(Batch { base_offset: base, leader_epoch: epoch, msgs, stamp: None, txn: None });
        s.note_append(n, now_us);
    }

    fn append(disk: &mut Disk, n: u64, now_us: u64) {
        append_to(disk, 0, n, 1, now_us);
    }

    /// A disk whose partition 0 holds `batches` one-record batches appended at 0, handed to the
    /// device at 30 s.
    fn writing(batches: u64, order: WritebackOrder, seed: u64) -> Disk {
        let mut disk = Disk::default();
        (0..batches).for_each(|_| append(&mut disk, 1, 0));
        disk.start_writeback(EXPIRE, EXPIRE, order, BIG, &mut Seeded(seed));
        disk
    }

    /// Completes the device's next `k` requests.
    fn complete(disk: &mut Disk, k: usize) {
        for _ in 0..k {
            let at = disk.next_completion_us().expect("a request under way");
            disk.complete_writes(at);
        }
    }

    #[test]
    fn a_file_appended_continuously_is_written_back_whole_once_its_first_dirtying_expires() {
        let mut disk = Disk::default();
        (0..30).for_each(|t| append(&mut disk, 1, t * S));
        assert_eq!(disk.logs[&0].dirtied_us(), Some(0), "the first dirty page stamps the inode");
        disk.start_writeback(EXPIRE - 1, EXPIRE, WritebackOrder::Any, 100, &mut Seeded(1));
        assert_eq!(disk.next_completion_us(), None, "not expired yet");
        disk.start_writeback(EXPIRE, EXPIRE, WritebackOrder::Any, 100, &mut Seeded(1));
        assert_eq!(disk.logs[&0].dirtied_us(), None, "clean once handed to the device");
        // 30 records of 100 bytes: one request of 3000 bytes, 30 us at 100 MB/s.
        assert_eq!(disk.next_completion_us(), Some(EXPIRE + 30));
        assert_eq!(disk.complete_writes(EXPIRE + 29), vec![]);
        assert_eq!(disk.complete_writes(EXPIRE + 30), vec![(0, 30)], "the record written at 29 s too");
        append(&mut disk, 1, 31 * S);
        assert_eq!(disk.logs[&0].dirtied_us(), Some(31 * S), "dirty again, stamped anew");
        disk.start_writeback(60 * S, EXPIRE, WritebackOrder::Any, 100, &mut Seeded(1));
        assert_eq!(disk.next_completion_us(), None);
        disk.start_writeback(61 * S, EXPIRE, WritebackOrder::Any, 100, &mut Seeded(1));
        assert_eq!(disk.next_completion_us(), Some(61 * S + 1));
    }

    #[test]
    fn the_device_serves_requests_one_after_the_other_and_a_power_cut_loses_the_rest() {
        let mut disk = writing(3, WritebackOrder::Offset, 1);
        append_to(&mut disk, 1, 1, 1, 0);
        disk.start_writeback(EXPIRE + 1, EXPIRE, WritebackOrder::Offset, BIG, &mut Seeded(1));
        assert_eq!(disk.next_completion_us(), Some(EXPIRE + BIG_US));
        assert_eq!(disk.logs[&1].requests[0].done_us, EXPIRE + 4 * BIG_US, "queued behind the first pass");
        complete(&mut disk, 2);
        let losses = disk.power_loss();
        assert_eq!(losses.len(), 2);
        assert_eq!((losses[0].partition, losses[0].durable_offset, losses[0].lost.len()), (0, 2, 1));
        assert_eq!((losses[1].partition, losses[1].durable_offset, losses[1].lost.len()), (1, 0, 1));
        assert_eq!(disk.next_completion_us(), None, "the device lost its queue");
        assert_eq!(disk.logs[&0].log.log_end_offset(), 2);
    }

    #[test]
    fn any_order_can_leave_a_later_batch_durable_and_recovery_discards_it() {
        let mut holes = 0;
        for seed in 1..40 {
            for k in 1..8 {
                let mut disk = writing(8, WritebackOrder::Any, seed);
                complete(&mut disk, k);
                let ranges = disk.logs[&0].durable_ranges();
                let end = disk.logs[&0].durable_end();
                let on_disk: u64 = ranges.iter().map(|r| r.1 - r.0).sum();
                assert_eq!(on_disk, k as u64, "each request wrote one batch");
                let losses = disk.power_loss();
                assert_eq!(losses[0].durable_offset, end);
                assert_eq!(losses[0].lost.len() as u64, 8 - k as u64, "exactly what was not written");
                let orphans = disk.logs[&0].orphans.clone();
                assert_eq!(orphans.len() as u64, on_disk - end, "the durable records past the hole");
                assert!(orphans.iter().all(|&(o, _)| o > end && ranges.iter().any(|r| (r.0..r.1).contains(&o))));
                holes += usize::from(!orphans.is_empty());
                let discarded = disk.load_logs(false, 40 * S);
                let want: Vec<Discarded> = (!orphans.is_empty())
                    .then_some(Discarded { partition: 0, to_offset: end, discarded: orphans })
                    .into_iter()
                    .collect();
                assert_eq!(discarded, want, "recovery truncates at the first missing batch");
                assert!(disk.logs[&0].orphans.is_empty());
                assert_eq!(disk.logs[&0].log.log_end_offset(), end);
            }
        }
        assert!(holes > 50, "out-of-order completion leaves holes ({holes})");
    }

    #[test]
    fn offset_order_never_leaves_a_hole() {
        for k in 0..=8 {
            let mut disk = writing(8, WritebackOrder::Offset, 1);
            complete(&mut disk, k);
            assert_eq!(disk.logs[&0].durable_ranges(), if k == 0 { vec![] } else { vec![(0, k as u64)] });
            disk.power_loss();
            assert!(disk.logs[&0].orphans.is_empty());
            assert_eq!(disk.logs[&0].log.log_end_offset(), k as u64);
        }
    }

    #[test]
    fn a_batch_spanning_two_requests_is_durable_only_when_both_completed() {
        let mut disk = Disk::default();
        append(&mut disk, 3, 0);
        disk.start_writeback(EXPIRE, EXPIRE, WritebackOrder::Offset, BIG / 2 + 1, &mut Seeded(1));
        complete(&mut disk, 1);
        assert_eq!(disk.logs[&0].durable_end(), 0);
        complete(&mut disk, 1);
        assert_eq!(disk.logs[&0].durable_end(), 3);
    }

    #[test]
    fn a_kafka_flush_makes_everything_durable_at_once_even_during_a_writeback() {
        let mut disk = writing(4, WritebackOrder::Any, 3);
        complete(&mut disk, 1);
        assert_eq!(disk.logs.get_mut(&0).unwrap().flush_at(EXPIRE + BIG_US + 1), Some(4));
        assert_eq!(disk.next_completion_us(), None, "nothing left for the device");
        assert_eq!(disk.complete_writes(u64::MAX), vec![], "the flush is not the OS's writeback");
        assert!(disk.power_loss().is_empty());
        assert!(disk.logs[&0].orphans.is_empty());
    }

    #[test]
    fn the_recovery_point_and_the_flush_time_move_only_when_a_flush_flushes_something() {
        let mut s = StoredLog::created_at(5 * S);
        assert_eq!(s.last_flush_us, 5 * S, "Kafka starts the flush clock at the log's creation");
        let first = vec![MsgId { producer: 0, seq: 0 }];
        s.log.append(Batch { base_offset: 0, leader_epoch: 0, msgs: first.into(), stamp: None, txn: None });
        assert_eq!((s.flush(), s.last_flush_us), (Some(1), 5 * S), "a flush with no append told is at creation");
        assert_eq!((s.last_flush_us, s.flush_at(6 * S)), (5 * S, None));
        assert_eq!(s.last_flush_us, 5 * S);
        let msgs = vec![MsgId { producer: 1, seq: 1 }, MsgId { producer: 1, seq: 2 }];
        s.log.append(Batch { base_offset: 1, leader_epoch: 1, msgs: msgs.into(), stamp: None, txn: None });
        s.note_append(2, 7 * S);
        assert_eq!(s.unflushed_messages, 2, "the size trigger reads log end - recovery point");
        assert_eq!(s.flush(), Some(3), "a size-triggered flush at the append's time");
        assert_eq!((s.recovery_point, s.last_flush_us, s.unflushed_messages), (3, 7 * S, 0));
        s.log.truncate_to(1);
        s.note_truncate();
        assert_eq!((s.recovery_point, s.unflushed_messages), (1, 0), "never past the log end");
    }

    #[test]
    fn the_flusher_flushes_what_was_last_flushed_long_enough_ago_whatever_the_records_age() {
        let mut disk = Disk::default();
        disk.load_logs(false, 0);
        append_to(&mut disk, 0, 1, 1, 29 * S);
        append_to(&mut disk, 1, 1, 1, 29 * S);
        disk.logs.get_mut(&1).unwrap().flush();
        append_to(&mut disk, 1, 1, 1, 29 * S + 500_000);
        let now = 29 * S + 900_000;
        assert_eq!(disk.flush_dirty_logs(now, S), vec![(0, 1)], "1 flushed 0.9 s ago, 0 at its load");
        assert_eq!(disk.flush_dirty_logs(30 * S, S), vec![(1, 2)]);
    }

    #[test]
    fn a_truncation_the_disk_was_not_told_of_is_found_by_the_batches_identity() {
        // The last batch the disk knew is replaced by batches (base, end, epoch) after a
        // truncation to `to`: one that differs only in its epoch, only in its end, only in its base.
        type Case = (u64, &'static [(u64, u64, u32)]);
        let cases: [Case; 3] = [(2, &[(2, 4, 2)]), (2, &[(2, 5, 1)]), (0, &[(0, 1, 1), (1, 4, 1)])];
        for (to, batches) in cases {
            let mut disk = Disk::default();
            append(&mut disk, 2, 0);
            append(&mut disk, 2, 0);
            let s = disk.logs.get_mut(&0).unwrap();
            s.flush_at(S);
            s.log.truncate_to(to);
            for &(base, end, leader_epoch) in batches {
                let msgs = (base..end).map(|seq| MsgId { producer: 2, seq }).collect();
                s.log.append(Batch { base_offset: base, leader_epoch, msgs, stamp: None, txn: None });
            }
            s.sync(Some(2 * S));
            assert_eq!(s.durable_end(), to, "{batches:?}: the new batches are in the page cache only");
            assert_eq!(s.dirtied_us(), Some(2 * S));
            let end = batches.last().unwrap().1;
            assert_eq!(disk.power_loss()[0].lost.len() as u64, end - to);
        }
    }

    #[test]
    fn a_truncated_batch_never_becomes_durable_and_its_offsets_start_over() {
        let mut disk = writing(4, WritebackOrder::Offset, 1);
        let s = disk.logs.get_mut(&0).unwrap();
        s.log.truncate_to(2);
        s.note_truncate();
        append_to(&mut disk, 0, 1, 2, EXPIRE + 1);
        complete(&mut disk, 2);
        assert_eq!(disk.next_completion_us(), None, "the truncated batches' requests are gone");
        assert_eq!(disk.logs[&0].durable_end(), 2);
        assert_eq!(disk.power_loss()[0].lost, vec![(2, MsgId { producer: 1, seq: 2 })]);
    }

    #[test]
    fn a_clean_shutdown_flushes_every_log_and_leaves_a_marker_read_once() {
        let mut disk = Disk::default();
        append_to(&mut disk, 0, 3, 1, S);
        append_to(&mut disk, 1, 2, 1, S);
        assert_eq!(disk.shut_down_cleanly(7, 2 * S), vec![(0, 3), (1, 2)]);
        assert!(disk.power_loss().is_empty(), "everything was flushed");
        assert_eq!(disk.take_clean_marker(), Some(7));
        assert_eq!(disk.take_clean_marker(), None, "Kafka deletes it when it starts");
        assert_eq!(disk.load_logs(true, 3 * S), vec![]);
        assert_eq!((disk.logs[&0].recovery_point, disk.logs[&0].last_flush_us), (3, 3 * S));
        disk.shut_down_cleanly(8, 4 * S);
        disk.wipe();
        assert_eq!(disk.take_clean_marker(), None, "a new disk has no marker");
    }
}
