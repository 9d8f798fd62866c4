//! A graceful stop of the consumer (`"action": "stop"`): the app's shutdown, then
//! `KafkaConsumer.close()`. The app is woken out of `poll()` (`wakeup()` from a shutdown hook),
//! finishes what it holds (the batch in hand; with async processing, its workers drain the
//! queue), and makes the commit its strategy makes (`after-process`: `commitSync()` of what it
//! processed; `before-process` committed before processing; `none` leaves it to `close()`).
//! Then `close()` (`ConsumerCoordinator.close`, the same from 0.10.2 to 3.9): with
//! `enable.auto.commit` it commits every consumed position synchronously
//! (`maybeAutoCommitOffsetsSync`), retrying retriable errors until min(30 s, `request.timeout.ms`)
//! and ignoring a failure; a dynamic member then sends LeaveGroup once, so its partitions move
//! at once (`maybeLeaveGroup`; a static member sends none, KIP-345); and the process exits.

use super::node::{App, Closing, CommitKind, Consumer, Membership, Then, Timer, REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS};
use crate::protocol::{KafkaError, Msg};
use crate::runtime::actor::Actor;
use losslab_model::config::{CommitStrategy, Processing};
use losslab_model::history::EventKind;

/// `KafkaConsumer.DEFAULT_CLOSE_TIMEOUT_MS`.
const DEFAULT_CLOSE_TIMEOUT_MS: u64 = 30_000;

impl Consumer {
    /// An operator stops the consumer.
    pub(super) fn on_stop(&mut self) {
        if self.closing.is_some() || self.exited {
            return;
        }
        self.closing = Some(Closing::Draining);
        self.advance_close();
    }

    /// Moves the shutdown on as far as it can go now; called again whenever what it waits for
    /// happens (a batch done, a worker done, a commit answered, a timer).
    pub(super) fn advance_close(&mut self) {
        loop {
            match self.closing {
                None => return,
                Some(Closing::Draining) => {
                    let busy = !matches!(self.app, App::Polling) || !self.queue.is_empty() || self.busy_workers > 0;
                    if busy {
                        return;
                    }
                    self.closing = Some(Closing::AppCommit);
                }
                Some(Closing::AppCommit) => {
                    if matches!(self.app, App::Committing { .. }) {
                        return;
                    }
                    self.closing = Some(Closing::AutoCommit { deadline_us: 0, attempt: 0 });
                    let cfg = self.cfg();
                    // With sync processing the app committed after its last batch already.
                    if cfg.app_commit == CommitStrategy::AfterProcess && cfg.app_processing == Processing::Async {
                        let offsets = self
                            .positions()
                            .into_iter()
                            .filter(|&(p, o)| self.app_committed.get(&p) != Some(&o))
                            .collect();
                        self.commit_sync(offsets, Then::Close);
                        return;
                    }
                }
                Some(Closing::AutoCommit { deadline_us: 0, .. }) => {
                    if !self.cfg().enable_auto_commit || self.positions().is_empty() {
                        self.leave_and_exit();
                        return;
                    }
                    let deadline_us = self.after_us(DEFAULT_CLOSE_TIMEOUT_MS.min(REQUEST_TIMEOUT_MS));
                    self.closing = Some(Closing::AutoCommit { deadline_us, attempt: 1 });
                    self.timers.at(deadline_us, Timer::Close { attempt: u64::MAX });
                    let offsets = self.positions();
                    self.send_commit(CommitKind::Close, offsets);
                    return;
                }
                Some(Closing::AutoCommit { .. }) => return,
            }
        }
    }

    /// `close()`'s commit answered: retriable errors retry until the close timer, anything else
    /// ends it (`maybeAutoCommitOffsetsSync` logs a failure and goes on).
    pub(super) fn on_close_commit_done(&mut self, result: Result<(), KafkaError>) {
        let Some(Closing::AutoCommit { deadline_us, attempt }) = self.closing else { return };
        let retry = matches!(result, Err(e) if super::join_prepare::is_retriable(e)) && self.now_us() < deadline_us;
        if retry && self.membership == Membership::Stable {
            let at = self.after_us(RETRY_BACKOFF_MS);
            self.timers.at(at, Timer::Close { attempt });
            return;
        }
        self.leave_and_exit();
    }

    /// The close timer expired (`u64::MAX`), or a retry of its commit is due.
    pub(super) fn on_close_timer(&mut self, attempt: u64) {
        let Some(Closing::AutoCommit { deadline_us, attempt: current }) = self.closing else { return };
        if attempt == u64::MAX {
            self.leave_and_exit();
        } else if attempt == current && self.now_us() < deadline_us {
            self.closing = Some(Closing::AutoCommit { deadline_us, attempt: current + 1 });
            let offsets = self.positions();
            self.send_commit(CommitKind::Close, offsets);
        }
    }

    /// `AbstractCoordinator.close`: LeaveGroup for a dynamic member (a minimal-effort attempt,
    /// not retried), then the process exits.
    fn leave_and_exit(&mut self) {
        if self.exited {
            return;
        }
        self.closing = None;
        let generation = self.generation.unwrap_or(0);
        if self.instance.is_none() && self.membership != Membership::Unjoined {
            if let (Some(member), Some(to)) = (self.member, self.coordinator_idx()) {
                let reason = "the consumer is being closed".to_string();
                self.record(EventKind::LeftGroup { consumer: self.id, generation, reason: reason.clone() });
                self.world.net.send(self.me, to, Msg::LeaveGroup { member, reason });
            }
        }
        self.exited = true;
    }
}
