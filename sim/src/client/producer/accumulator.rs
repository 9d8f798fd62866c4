//! The producer's accumulator (Kafka's `RecordAccumulator` with its `BufferPool`): one queue of
//! batches per partition, records appended to the last batch until it is full or drained, and
//! the `buffer.memory` every batch reserves (at least `batch.size`) until it completes. A batch
//! becomes sendable when it is full (or not the last of its queue), has lingered `linger.ms`, the
//! pool has a waiter, or the producer is closing; a retried batch first backs off. Failed batches
//! come back to the front of their queue (in sequence order with idempotence, `addFirst`
//! without). Batches waiting here expire: after `delivery.timeout.ms` from creation (2.1+), or
//! before 2.1 by `ProducerBatch.maybeExpire`'s `request.timeout.ms` rules.
//!
//! It knows nothing of brokers, requests or sequences: the sender decides what to drain.

use crate::protocol::ProducerStamp;
use losslab_model::{MsgId, MsgIds};
use std::collections::{BTreeMap, VecDeque};

/// A batch of records for one partition (Kafka's `ProducerBatch`).
#[derive(Clone, Debug, PartialEq)]
pub struct ProducerBatch {
    pub id: u64,
    pub partition: u32,
    pub msgs: Vec<MsgId>,
    pub created_us: u64,
    pub last_append_us: u64,
    /// Kafka's `attempts()`: how many times the batch came back for a retry.
    pub attempts: u32,
    /// Produce requests that carried it (the history's attempt number).
    pub sends: u32,
    /// When it last came back (Kafka's `lastAttemptMs`) and how long it then backs off.
    pub last_attempt_us: u64,
    pub backoff_us: u64,
    /// Drained at least once: Kafka closes a batch when it drains it, so nothing joins it.
    pub drained: bool,
    pub stamp: Option<ProducerStamp>,
    /// Kafka's `sequenceHasBeenReset()`: renumbered since it was last drained.
    pub reopened: bool,
    /// Bytes it holds of `buffer.memory`.
    pub reserved_bytes: u64,
    /// KIP-951: the partition's leader epoch the batch last saw, and its `attempts` then.
    pub leader_epoch: Option<u32>,
    pub attempts_when_leader_changed: u32,
    /// Failed to the app (expired) while a request carrying it is still out: the answer still
    /// reaches the sequencer, never the app.
    pub done: bool,
    /// The records as its first produce request carried them: one copy shared with the logs
    /// and the history (a drained batch takes no more records).
    pub sent_msgs: Option<MsgIds>,
}

impl ProducerBatch {
    /// Kafka's `inRetry()`.
    pub fn in_retry(&self) -> bool {
        self.attempts > 0
    }

    /// The records, shared (see `sent_msgs`).
    pub fn shared_msgs(&mut self) -> MsgIds {
        self.sent_msgs.get_or_insert_with(|| self.msgs.as_slice().into()).clone()
    }

    pub fn record_count(&self) -> u32 {
        self.msgs.len() as u32
    }

    /// Kafka's `waitedTimeMs`: since creation, or since it last came back for a retry.
    pub fn waited_us(&self, now_us: u64) -> u64 {
        now_us.saturating_sub(if self.in_retry() { self.last_attempt_us } else { self.created_us })
    }

    /// `ProducerBatch.maybeUpdateLeaderEpoch` (KIP-951): remember when the leader changed.
    pub fn maybe_update_leader_epoch(&mut self, latest: Option<u32>) {
        if let Some(epoch) = latest {
            if self.leader_epoch.is_none_or(|e| e < epoch) {
                self.attempts_when_leader_changed = self.attempts;
                self.leader_epoch = Some(epoch);
            }
        }
    }

    /// `hasLeaderChangedForTheOngoingRetry` (KIP-951): this retry goes to a new leader.
    pub fn leader_changed_for_this_retry(&self) -> bool {
        self.attempts >= 1 && self.attempts == self.attempts_when_leader_changed
    }
}

/// `buffer.memory` (Kafka's `BufferPool`): what is free, and whether `send()` waits for some.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferPool {
    pub total_bytes: u64,
    pub free_bytes: u64,
    /// An app thread is blocked in `send()` for memory: every batch is then sendable
    /// (`RecordAccumulator.ready`: `exhausted`).
    pub waiting: bool,
}

/// What `append` did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Into batch `batch`; `full` once it holds `batch.size` worth of records.
    To { batch: u64, new_batch: bool, full: bool },
    /// A new batch is needed and the pool has less than `bytes` free.
    NeedMemory { bytes: u64 },
}

/// How batches waiting in the accumulator expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// 2.1+ (KIP-91): `delivery.timeout.ms` after creation.
    Delivery { timeout_us: u64 },
    /// Before 2.1 (`ProducerBatch.maybeExpire`): a full batch `request.timeout.ms` after its last
    /// append, any batch `request.timeout.ms` after creation plus `linger.ms`, a retried one
    /// `request.timeout.ms` after its last attempt plus `retry.backoff.ms`; never in a muted
    /// partition (max.in.flight=1 with a batch in flight).
    Request { timeout_us: u64, linger_us: u64, retry_backoff_us: u64 },
}

#[derive(Clone, Debug)]
pub struct Accumulator {
    /// Records one batch holds (`batch.size` / `message.bytes`).
    capacity: usize,
    /// Bytes a new batch reserves: max(`batch.size`, one record with its batch header).
    batch_bytes: u64,
    pub linger_us: u64,
    pub pool: BufferPool,
    deques: BTreeMap<u32, VecDeque<ProducerBatch>>,
    next_batch: u64,
    /// `close()` was called: no more appends, every batch sendable.
    pub closed: bool,
}

impl Accumulator {
    pub fn new(capacity: usize, batch_bytes: u64, linger_us: u64, buffer_memory: u64) -> Accumulator {
        assert!(capacity >= 1 && batch_bytes <= buffer_memory, "the parser guarantees room for one batch");
        Accumulator {
            capacity,
            batch_bytes,
            linger_us,
            pool: BufferPool { total_bytes: buffer_memory, free_bytes: buffer_memory, waiting: false },
            deques: BTreeMap::new(),
            next_batch: 0,
            closed: false,
        }
    }

    /// `RecordAccumulator.append`: into the partition's last batch if it is open and has room,
    /// else into a new batch, which reserves its bytes from the pool.
    pub fn append(&mut self, partition: u32, msg: MsgId, now_us: u64) -> Appended {
        debug_assert!(!self.closed, "no appends after close()");
        let capacity = self.capacity;
        let queue = self.deques.entry(partition).or_default();
        if let Some(last) = queue.back_mut().filter(|b| !b.drained && b.msgs.len() < capacity) {
            last.msgs.push(msg);
            last.last_append_us = now_us;
            return Appended::To { batch: last.id, new_batch: false, full: last.msgs.len() >= capacity };
        }
        if self.pool.free_bytes < self.batch_bytes {
            return Appended::NeedMemory { bytes: self.batch_bytes };
        }
        self.pool.free_bytes -= self.batch_bytes;
        self.next_batch += 1;
        let id = self.next_batch;
        queue.push_back(ProducerBatch {
            id,
            partition,
            msgs: vec![msg],
            created_us: now_us,
            last_append_us: now_us,
            attempts: 0,
            sends: 0,
            last_attempt_us: now_us,
            backoff_us: 0,
            drained: false,
            stamp: None,
            reopened: false,
            reserved_bytes: self.batch_bytes,
            leader_epoch: None,
            attempts_when_leader_changed: 0,
            done: false,
            sent_msgs: None,
        });
        Appended::To { batch: id, new_batch: true, full: capacity == 1 }
    }

    /// Whether a new batch would get its bytes now.
    pub fn has_room_for_a_batch(&self) -> bool {
        self.pool.free_bytes >= self.batch_bytes
    }

    /// `BufferPool.deallocate`: a completed batch gives its bytes back.
    pub fn deallocate(&mut self, batch: &ProducerBatch) {
        self.pool.free_bytes += batch.reserved_bytes;
        assert!(self.pool.free_bytes <= self.pool.total_bytes, "the pool never holds more than buffer.memory");
    }

    pub fn partitions(&self) -> impl Iterator<Item = u32> + '_ {
        self.deques.iter().filter(|(_, q)| !q.is_empty()).map(|(&p, _)| p)
    }

    pub fn head(&self, partition: u32) -> Option<&ProducerBatch> {
        self.deques.get(&partition)?.front()
    }

    pub fn head_mut(&mut self, partition: u32) -> Option<&mut ProducerBatch> {
        self.deques.get_mut(&partition)?.front_mut()
    }

    pub fn pop_head(&mut self, partition: u32) -> Option<ProducerBatch> {
        self.deques.get_mut(&partition)?.pop_front()
    }

    /// `drain`'s take of the head: the batch is closed (`batch.close()`), so nothing joins it and,
    /// back for a retry, it counts as full.
    pub fn drain_head(&mut self, partition: u32) -> Option<ProducerBatch> {
        let mut batch = self.pop_head(partition)?;
        batch.drained = true;
        Some(batch)
    }

    /// The partition's queue, head first.
    pub fn queue(&self, partition: u32) -> impl Iterator<Item = &ProducerBatch> {
        self.deques.get(&partition).into_iter().flatten()
    }

    /// `hasUndrained()`.
    pub fn is_empty(&self) -> bool {
        self.deques.values().all(VecDeque::is_empty)
    }

    /// Every batch, for renumbering and aborting.
    pub fn batches_mut(&mut self) -> impl Iterator<Item = &mut ProducerBatch> {
        self.deques.values_mut().flatten()
    }

    /// Takes every batch out (a fatal error aborts them all).
    pub fn take_all(&mut self) -> Vec<ProducerBatch> {
        self.deques.values_mut().flat_map(std::mem::take).collect()
    }

    /// `abortUndrainedBatches` with a transaction manager: the batches never drained (no
    /// sequence yet) leave their queues; those already sent stay for their retries.
    pub fn take_undrained(&mut self) -> Vec<ProducerBatch> {
        let mut out = Vec::new();
        for q in self.deques.values_mut() {
            let (undrained, kept): (VecDeque<_>, VecDeque<_>) =
                std::mem::take(q).into_iter().partition(|b| b.stamp.is_none());
            *q = kept;
            out.extend(undrained);
        }
        out
    }

    /// The head's readiness (`RecordAccumulator.batchReady`): `None` while it backs off, else
    /// whether it is sendable (full, lingered, pool exhausted, closing).
    pub fn head_sendable(&self, partition: u32, now_us: u64) -> Option<bool> {
        let queue = self.deques.get(&partition)?;
        let head = queue.front()?;
        if self.backing_off(head, now_us) {
            return None;
        }
        // A drained batch is closed, and a closed batch counts as full (`MemoryRecordsBuilder.isFull`):
        // a retry does not linger again.
        let full = queue.len() > 1 || head.msgs.len() >= self.capacity || head.drained;
        let lingered = head.waited_us(now_us) >= self.linger_us;
        Some(full || lingered || self.pool.waiting || self.closed)
    }

    /// `RecordAccumulator.shouldBackoff`: a retried batch waits out its backoff, unless (KIP-951)
    /// it goes to a new leader.
    pub fn backing_off(&self, batch: &ProducerBatch, now_us: u64) -> bool {
        batch.in_retry() && batch.waited_us(now_us) < batch.backoff_us && !batch.leader_changed_for_this_retry()
    }

    /// When the head next changes its readiness by itself (backoff over, lingered).
    pub fn head_ready_at(&self, partition: u32, now_us: u64) -> Option<u64> {
        let head = self.head(partition)?;
        let since = if head.in_retry() { head.last_attempt_us } else { head.created_us };
        if self.backing_off(head, now_us) {
            return Some(since.saturating_add(head.backoff_us));
        }
        (self.head_sendable(partition, now_us) == Some(false)).then(|| since.saturating_add(self.linger_us))
    }

    /// `RecordAccumulator.reenqueue`: back to the front for a retry, in sequence order when the
    /// batches carry sequences (`insertInSequenceOrder`), else `addFirst`, so that batches that
    /// fail together go back reversed.
    pub fn reenqueue(&mut self, mut batch: ProducerBatch, now_us: u64, backoff_us: u64) {
        batch.attempts += 1;
        batch.last_attempt_us = now_us.max(batch.last_append_us);
        batch.backoff_us = backoff_us;
        let queue = self.deques.entry(batch.partition).or_default();
        match batch.stamp {
            Some(stamp) => {
                let at = queue
                    .iter()
                    .position(|b| b.stamp.is_none_or(|s| s.base_sequence > stamp.base_sequence))
                    .unwrap_or(queue.len());
                queue.insert(at, batch);
            }
            None => queue.push_front(batch),
        }
    }

    /// A batch that was never sent goes back to the front as it was (a refused connection).
    pub fn put_back(&mut self, batch: ProducerBatch) {
        self.deques.entry(batch.partition).or_default().push_front(batch);
    }

    /// `RecordAccumulator.expiredBatches`: per queue from the head, up to the first batch that
    /// has not expired. `muted` partitions keep theirs before 2.1.
    pub fn expire(&mut self, now_us: u64, rule: Expiry, muted: &dyn Fn(u32) -> bool) -> Vec<ProducerBatch> {
        let capacity = self.capacity;
        let mut expired = Vec::new();
        for (&p, queue) in &mut self.deques {
            if matches!(rule, Expiry::Request { .. }) && muted(p) {
                continue;
            }
            while let Some(head) = queue.front() {
                let full = queue.len() > 1 || head.msgs.len() >= capacity || head.drained;
                if expiry_at(head, rule, full).is_some_and(|at| at <= now_us) {
                    expired.push(queue.pop_front().expect("a head"));
                } else {
                    break;
                }
            }
        }
        expired
    }

    /// When the partition's head expires, under `rule`.
    pub fn head_expires_at(&self, partition: u32, rule: Expiry) -> Option<u64> {
        let queue = self.deques.get(&partition)?;
        let head = queue.front()?;
        expiry_at(head, rule, queue.len() > 1 || head.msgs.len() >= self.capacity || head.drained)
    }
}

/// When `batch` expires under `rule` (`hasReachedDeliveryTimeout`: at or past the deadline;
/// `maybeExpire`: strictly past it, so one microsecond later).
pub fn expiry_at(batch: &ProducerBatch, rule: Expiry, full: bool) -> Option<u64> {
    match rule {
        Expiry::Delivery { timeout_us } => Some(batch.created_us.saturating_add(timeout_us)),
        Expiry::Request { timeout_us, linger_us, retry_backoff_us } => {
            let after = |from: u64| from.saturating_add(timeout_us).saturating_add(1);
            if batch.in_retry() {
                return Some(after(batch.last_attempt_us.saturating_add(retry_backoff_us)));
            }
            let by_creation = after(batch.created_us.saturating_add(linger_us));
            Some(if full { by_creation.min(after(batch.last_append_us)) } else { by_creation })
        }
    }
}
