//! The application around the consumer: it loops on `poll()`; with `app.processing=sync` it
//! processes each polled batch (`app.process.ms` a record) before polling again, with `async`
//! it hands records to an in-memory queue served by `app.workers` workers and polls again at
//! once; `app.commit` decides when it commits (before processing, after, or never).

use super::node::{App, Consumer, Membership, Then, Timer, APP_POLL_TIMEOUT_MS};
use crate::runtime::actor::Actor;
use losslab_model::config::{CommitStrategy, Processing};
use losslab_model::history::{EventKind, MsgId};

impl Consumer {
    pub(super) fn wake_app(&mut self) {
        let now = self.now_us();
        self.wake_app_at(now);
    }

    pub(super) fn wake_app_at(&mut self, at: u64) {
        if matches!(self.app, App::Polling) {
            self.timers.at(at, Timer::AppPoll { seq: self.poll_seq });
        }
    }

    /// The app calls `poll()`.
    pub(super) fn app_poll(&mut self) {
        self.poll_seq += 1;
        self.app = App::Polling;
        if self.closing.is_some() {
            // The app is shutting down: it polls no more.
            self.advance_close();
            return;
        }
        if self.pipeline.is_some() {
            // A batch just ended (or none ran): what it processed is done.
            self.publish_progress();
            if self.pipeline_holds_poll() {
                return;
            }
        }
        self.last_poll_us = self.now_us();
        self.arm_poll_timer();
        let cfg = self.cfg().clone();
        if cfg.app_processing == Processing::Async && cfg.app_commit == CommitStrategy::AfterProcess {
            self.commit_processed_prefix();
        }
        if self.membership == Membership::Unjoined || (self.rejoin_needed && self.membership == Membership::Stable) {
            self.start_join();
        }
        if self.fetching_allowed() && !self.fetch_paused_for_join_prepare() {
            if self.membership == Membership::Stable {
                self.maybe_auto_commit();
                self.fetch_committed();
            }
            self.send_fetches();
            self.send_validations();
            let records = self.take_records();
            if !records.is_empty() {
                // Pipelining: the next fetches go out before the app gets the records.
                self.send_fetches();
                self.on_polled(records);
                return;
            }
        }
        let at = self.after_us(APP_POLL_TIMEOUT_MS);
        self.timers.at(at, Timer::AppPoll { seq: self.poll_seq });
    }

    pub(super) fn arm_poll_timer(&mut self) {
        if !self.poll_timer_armed {
            self.poll_timer_armed = true;
            let at = self.last_poll_us.saturating_add(self.cfg().max_poll_interval_ms.saturating_mul(1000));
            self.timers.at(at, Timer::PollTimeout);
        }
    }

    pub(super) fn on_polled(&mut self, records: Vec<(u32, u64, MsgId)>) {
        for &(p, o, _) in &records {
            self.pending.entry(p).or_default().insert(o);
        }
        if self.cfg().app_commit == CommitStrategy::BeforeProcess && self.pipeline.is_none() {
            let offsets = self.positions();
            self.commit_sync(offsets, Then::Process(records));
        } else {
            self.process(records);
        }
    }

    pub(super) fn process(&mut self, records: Vec<(u32, u64, MsgId)>) {
        let cfg = self.cfg().clone();
        let process_us = cfg.app_process_ms.saturating_mul(1000);
        let processing = if self.pipeline.is_some() { Processing::Sync } else { cfg.app_processing };
        match processing {
            Processing::Sync => {
                self.app = App::Processing;
                let mut t = self.now_us();
                for (partition, offset, msg) in records {
                    t = t.saturating_add(process_us);
                    self.timers.at(t, Timer::Processed { partition, offset, msg, worker: false });
                }
                self.timers.at(t, Timer::BatchDone);
            }
            Processing::Async => {
                self.queue.extend(records);
                self.start_workers();
                self.app = App::Polling;
                self.wake_app();
            }
        }
    }

    pub(super) fn start_workers(&mut self) {
        let now = self.now_us();
        let process_us = self.cfg().app_process_ms.saturating_mul(1000);
        while self.busy_workers < self.cfg().app_workers {
            let Some((partition, offset, msg)) = self.queue.pop_front() else { break };
            self.busy_workers += 1;
            self.timers.at(now.saturating_add(process_us), Timer::Processed { partition, offset, msg, worker: true });
        }
    }

    pub(super) fn on_processed(&mut self, partition: u32, offset: u64, msg: MsgId, worker: bool) {
        self.record(EventKind::Processed { consumer: self.id, partition, offset, msg });
        self.pipeline_output(partition, msg);
        if let Some(set) = self.pending.get_mut(&partition) {
            set.remove(&offset);
        }
        if worker {
            self.busy_workers = self.busy_workers.saturating_sub(1);
            self.start_workers();
        }
        self.publish_progress();
        if self.closing.is_some() {
            self.advance_close();
        }
    }

    pub(super) fn on_batch_done(&mut self) {
        if !matches!(self.app, App::Processing) {
            return;
        }
        if self.pipeline.is_some() {
            return self.pipeline_batch_done();
        }
        if self.cfg().app_commit == CommitStrategy::AfterProcess {
            let offsets = self.positions();
            self.commit_sync(offsets, Then::Poll);
        } else {
            self.app_poll();
        }
    }
}
