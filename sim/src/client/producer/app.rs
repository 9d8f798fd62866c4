//! The application around the producer client: it hands records to `send()` at the workload's
//! rate, learns (or, fire-and-forget, ignores) their outcomes, resends failed ones if asked, and
//! calls `close()` when stopped. `send()` blocks the app (it sends nothing else meanwhile) while
//! the topic's metadata is unknown or `buffer.memory` has no room for a new batch, up to
//! `max.block.ms`; then the record fails, handed to the callback or future and not thrown
//! (`KafkaProducer.doSend` catches the `ApiException`), so a fire-and-forget app never hears.
//! Records go to a sticky partition (KIP-480, KIP-794 from 3.3).

use super::accumulator::Appended;
use super::node::{App, Blocked, BlockedOn, Producer, Timer};
use crate::protocol::KafkaError;
use crate::runtime::actor::Actor;
use losslab_model::config::{OnFailure, SendMode};
use losslab_model::history::{EventKind, MsgId};

impl App {
    pub fn new(producer: u32, partitions: u32, switch_when_sent: bool) -> App {
        App {
            partitions,
            switch_when_sent,
            sticky_partition: (producer - 1) % partitions,
            sticky_records: 0,
            blocked: None,
            next_token: 0,
            awaiting: None,
            closing: false,
            next_send: None,
            send_due_us: 0,
        }
    }

    pub fn closing(&self) -> bool {
        self.closing
    }

    pub fn blocked(&self) -> bool {
        self.blocked.is_some()
    }

    /// A batch of `partition` went out: under KIP-480 the sticky partition moves on when its
    /// batch is sent, so that the next record opens a batch elsewhere.
    pub fn batch_sent(&mut self, partition: u32) {
        if self.switch_when_sent && partition == self.sticky_partition && self.sticky_records > 0 {
            self.sticky_records = usize::MAX;
        }
    }

    fn move_on(&mut self) {
        self.sticky_partition = (self.sticky_partition + 1) % self.partitions;
        self.sticky_records = 0;
    }
}

impl Producer {
    pub(super) fn app_notified(&self) -> bool {
        self.cfg().app_send != SendMode::FireAndForget
    }

    /// The app hands its next record to `send()`.
    pub(super) fn on_app_send(&mut self) {
        self.app.next_send = None;
        if self.app.closing || self.app.blocked.is_some() || self.app.awaiting.is_some() {
            return;
        }
        if self.txn.as_ref().is_some_and(|t| !t.may_send()) {
            // Inside `initTransactions()`, `commitTransaction()` or `abortTransaction()`, or done.
            return;
        }
        let Some((msg, resend_of)) = self.next_record() else {
            // Nothing more to send: the open transaction ends with what it holds.
            self.txn_maybe_end(true);
            return;
        };
        let partition = self.choose_partition();
        let now = self.now_us();
        if self.txn.is_some() {
            let (txn, added) = self.txn_add_record(msg, partition);
            self.record(EventKind::Send { msg, partition, resend_of, txn: Some(txn) });
            if let Err(e) = added {
                // `maybeAddPartition` threw inside `send()`: the record fails to its callback.
                self.fail_unsent(msg, partition, e.name().to_string());
                self.sent(msg, now);
                return;
            }
        } else {
            self.record(EventKind::Send { msg, partition, resend_of, txn: None });
        }
        self.send_record(msg, partition, now);
    }

    /// The app's next `send()` as soon as possible (a blocking transactional call returned).
    pub(super) fn app_send_now(&mut self) {
        self.schedule_app_send(NextSend::AfterWait);
    }

    /// A record failed inside `send()`, before reaching the accumulator: the app's callback hears
    /// it; a transactional record leaves the transaction (its end does not speak for it).
    fn fail_unsent(&mut self, msg: MsgId, partition: u32, error: String) {
        if let Some(open) = self.txn.as_mut().and_then(|t| t.open.as_mut()) {
            open.records.retain(|&(m, _)| m != msg);
        }
        let app_notified = self.app_notified();
        self.record(EventKind::Failed { partition, batch: 0, error, msgs: vec![msg].into(), app_notified });
        self.outcome(&[msg], true);
    }

    /// `KafkaProducer.doSend` for one record: wait for metadata, then append, waiting for memory
    /// if the record needs a new batch and the pool has no room.
    pub(super) fn send_record(&mut self, msg: MsgId, partition: u32, since_us: u64) {
        let now = self.now_us();
        if !self.metadata.knows_topic() {
            self.block(Blocked { msg, partition, since_us, on: BlockedOn::Metadata, token: 0 });
            return;
        }
        match self.sender.accumulator.append(partition, msg, now) {
            Appended::NeedMemory { bytes } => {
                self.sender.accumulator.pool.waiting = true;
                self.block(Blocked { msg, partition, since_us, on: BlockedOn::Memory { bytes }, token: 0 });
            }
            Appended::To { full, .. } => {
                self.app.sticky_records = self.app.sticky_records.saturating_add(1);
                if full && partition == self.app.sticky_partition {
                    self.app.sticky_records = usize::MAX;
                }
                self.sent(msg, since_us);
            }
        }
    }

    /// `send()` returned for `msg` (its record is in the accumulator or failed); it was called
    /// at `since_us`.
    fn sent(&mut self, msg: MsgId, since_us: u64) {
        // A transactional record's outcome is its transaction's: the app waits at the commit.
        if self.cfg().app_send == SendMode::Sync && !self.app.closing && self.txn.is_none() {
            self.app.awaiting = Some(msg);
        }
        if self.app.awaiting.is_none() {
            let blocked = since_us < self.now_us();
            self.schedule_app_send(if blocked { NextSend::AfterWait } else { NextSend::OnSchedule });
        }
        self.txn_maybe_end(false);
        self.pump();
    }

    fn block(&mut self, mut blocked: Blocked) {
        let deadline = blocked.since_us.saturating_add(self.cfg().max_block_ms.saturating_mul(1000));
        if deadline <= self.now_us() {
            // `max.block.ms` is spent (0: no blocking at all): the record fails now.
            self.app.blocked = Some(blocked);
            self.fail_blocked();
            return;
        }
        self.app.next_token += 1;
        blocked.token = self.app.next_token;
        self.app.blocked = Some(blocked);
        self.timers.at(deadline, Timer::AppBlocked { token: blocked.token });
        self.pump();
    }

    /// A blocked `send()` may go on: metadata arrived, or a completed batch gave memory back.
    pub(super) fn app_maybe_unblock(&mut self) {
        let Some(b) = self.app.blocked else { return };
        let go_on = match b.on {
            BlockedOn::Metadata => self.metadata.knows_topic(),
            BlockedOn::Memory { .. } => self.sender.accumulator.has_room_for_a_batch(),
        };
        if go_on {
            self.app.blocked = None;
            self.sender.accumulator.pool.waiting = false;
            self.send_record(b.msg, b.partition, b.since_us);
            if self.app.closing && self.app.blocked.is_none() {
                self.sender.initiate_close();
            }
        }
    }

    pub(super) fn on_app_blocked_timeout(&mut self, token: u64) {
        if self.app.blocked.is_some_and(|b| b.token == token) {
            self.fail_blocked();
        }
    }

    /// `max.block.ms` passed: the `ApiException` goes to the callback or future; `send()` returns.
    fn fail_blocked(&mut self) {
        let b = self.app.blocked.take().expect("a blocked send");
        self.sender.accumulator.pool.waiting = false;
        let max_block_ms = self.cfg().max_block_ms;
        let error = match b.on {
            BlockedOn::Metadata => format!(
                "{}: Topic not present in metadata after {max_block_ms} ms.",
                KafkaError::MetadataWaitTimeout.name()
            ),
            BlockedOn::Memory { bytes } if self.world.scenario.kafka_version.buffer_exhausted_exception() => format!(
                "BufferExhaustedException: Failed to allocate {bytes} bytes within the configured max blocking time \
                 {max_block_ms} ms."
            ),
            BlockedOn::Memory { .. } => format!(
                "TimeoutException: Failed to allocate memory within the configured max blocking time {max_block_ms} ms."
            ),
        };
        self.fail_unsent(b.msg, b.partition, error);
        if self.app.closing {
            self.sender.initiate_close();
        }
        self.sent(b.msg, b.since_us);
    }

    /// `KafkaProducer.close()` (the app was stopped gracefully): no more `send()`; what the
    /// accumulator holds and what is in flight is delivered under the usual rules (retries,
    /// `delivery.timeout.ms`), then the process exits. A `send()` blocked now returns first.
    /// `close()` waits without bound by default; the run's own end bounds it here.
    pub(super) fn app_close(&mut self) {
        if self.app.closing {
            return;
        }
        self.app.closing = true;
        self.app.awaiting = None;
        self.txn_close();
        if let Some(key) = self.app.next_send.take() {
            self.timers.remove(key);
        }
        if self.app.blocked.is_none() {
            self.sender.initiate_close();
        }
        self.pump();
    }

    /// The record the app hands to `send()` next, and the failed record it resends, if any:
    /// first what a crashed `app.send=sync` app had not seen confirmed (the same record again:
    /// its work was not done), then failed records to resend (new records), then the workload.
    fn next_record(&mut self) -> Option<(MsgId, Option<MsgId>)> {
        let messages = self.world.scenario.workload.messages;
        let mut progress = self.world.producers[self.id as usize - 1].lock().unwrap();
        let (msg, resend_of) = if let Some(msg) = progress.replay.pop_front() {
            (msg, None)
        } else if let Some(failed) = progress.to_resend.pop_front() {
            progress.next_resend_seq += 1;
            (MsgId { producer: self.id, seq: progress.next_resend_seq - 1 }, Some(failed))
        } else if progress.next_seq < messages {
            progress.next_seq += 1;
            (MsgId { producer: self.id, seq: progress.next_seq - 1 }, None)
        } else {
            return None;
        };
        progress.outstanding.insert(msg);
        progress.sent += 1;
        Some((msg, resend_of))
    }

    /// The sticky partitioner: 2.4-3.2 (KIP-480) move on when the partition's batch was sent or
    /// filled, so that a record would open a new batch there; from 3.3 (KIP-794) once a batch's
    /// worth of records went to it.
    fn choose_partition(&mut self) -> u32 {
        let by_bytes = self.world.scenario.kafka_version.partitioner_switches_by_bytes();
        let capacity = (self.cfg().batch_size / self.world.scenario.workload.message_bytes.max(1)).max(1) as usize;
        let spent = if by_bytes { self.app.sticky_records >= capacity } else { self.app.sticky_records == usize::MAX };
        if spent {
            self.app.move_on();
        }
        self.app.sticky_partition
    }

    /// Arms the app's next `send()`, `rate_per_sec` after the last one was due or, after the app
    /// waited (a blocked `send()`, a sync app's answer, nothing left to resend), after now.
    fn schedule_app_send(&mut self, next: NextSend) {
        if self.app.closing || self.embedded.is_some() {
            return;
        }
        let interval_us = (1_000_000 / self.world.scenario.workload.rate_per_sec.max(1)).max(1);
        let now = self.now_us();
        if let Some(key) = self.app.next_send.take() {
            self.timers.remove(key);
        }
        let base_us = match next {
            NextSend::OnSchedule => self.app.send_due_us.min(now),
            NextSend::AfterWait => now,
        };
        self.app.send_due_us = base_us.saturating_add(interval_us);
        self.app.next_send = Some(self.timers.at(self.app.send_due_us, Timer::AppSend));
    }

    /// The app learns records' outcomes (or would, if it looked).
    pub(super) fn outcome(&mut self, msgs: &[MsgId], failed: bool) {
        if let Some(e) = self.embedded.as_mut() {
            // The pipeline's app is its consumer's: it reads the outcome from `embedded`.
            e.on_outcome(msgs.len(), failed);
            return;
        }
        let resend = failed && self.cfg().app_on_failure == OnFailure::Resend && self.app_notified();
        {
            let mut progress = self.world.producers[self.id as usize - 1].lock().unwrap();
            for m in msgs {
                progress.outstanding.remove(m);
                if resend {
                    progress.to_resend.push_back(*m);
                }
            }
            if !failed {
                progress.acked += msgs.len() as u64;
            }
        }
        if self.app.awaiting.is_some_and(|a| msgs.contains(&a)) {
            self.app.awaiting = None;
            self.schedule_app_send(NextSend::AfterWait);
        } else if resend && self.app.next_send.is_none() && self.app.blocked.is_none() && self.app.awaiting.is_none() {
            self.schedule_app_send(NextSend::AfterWait);
        }
    }
}

/// Where the app's next `send()` is timed from.
#[derive(Clone, Copy)]
enum NextSend {
    /// The last `send()` returned at once: keep the fixed rate.
    OnSchedule,
    /// The app waited: the rate starts again from now.
    AfterWait,
}
