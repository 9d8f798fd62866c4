//! The consume-transform-produce app (`consumer.app.output`, issue 16; Kafka's
//! `examples/.../ExactlyOnceMessageProcessor` and KIP-447's loop): each record the app
//! processes is written to topic `out` (partition = the input's partition) by the producer
//! embedded in this consumer's process (`producer::embedded`). `transactional`: the app calls
//! `initTransactions()` before its first `poll()`; per polled batch `beginTransaction()`, one
//! `send()` per record, `sendOffsetsToTransaction(positions, groupMetadata())` and
//! `commitTransaction()`; when the commit throws (abortable) it aborts and seeks back to the
//! last committed offsets (`resetToLastCommittedPositions`: each partition's position is
//! dropped and fetched again); a fatal error (fenced) ends the app. `plain`: per batch it sends
//! the outputs with an idempotent `acks=all` producer, waits for every acknowledgement, then
//! `commitSync()`s the positions (at least once); a failed output makes it seek back instead.
//! The pipeline's app processes records one after the other (`app.processing` and `app.commit`
//! do not apply; `enable.auto.commit` defaults to false with a pipeline, as Kafka's pattern sets
//! it, and an explicit `true` is honoured: `poll()` then also commits positions on its own).

use super::node::{App, Assigned, Consumer, Then, Timer, APP_POLL_TIMEOUT_MS};
use crate::client::producer::{EmbeddedState, Producer};
use crate::protocol::Msg;
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use losslab_model::history::{EventKind, MsgId, TxnOutcome, OUT_PARTITION_BASE};

impl Consumer {
    /// Whether the app's pipeline is in the middle of a batch (processing or ending it): the
    /// final phase must not count its records as done before their outputs are.
    pub(super) fn pipeline_busy(&self) -> bool {
        self.pipeline.as_ref().is_some_and(|p| p.waiting.is_some() || matches!(self.app, App::Processing))
    }

    /// Before `poll()`: the app has not finished `initTransactions()` yet (true: no poll now).
    pub(super) fn pipeline_holds_poll(&mut self) -> bool {
        let Some(p) = self.pipeline.as_ref() else { return false };
        match p.producer.embedded_state() {
            EmbeddedState::Initializing => {
                let at = self.after_us(APP_POLL_TIMEOUT_MS);
                self.timers.at(at, Timer::AppPoll { seq: self.poll_seq });
                true
            }
            EmbeddedState::Fatal => {
                self.app_died("ProducerFencedException: the pipeline's producer was fenced".into());
                true
            }
            _ => false,
        }
    }

    /// A record was processed: its output goes to the producer.
    pub(super) fn pipeline_output(&mut self, partition: u32, input: MsgId) {
        let id = self.id;
        let Some(p) = self.pipeline.as_mut() else { return };
        let out = partition + OUT_PARTITION_BASE;
        // `Output` first: the producer's `TxnBegun` follows it for the batch's first record.
        let txn = p.producer.embedded_send(input, out);
        self.record(EventKind::Output { consumer: id, input, partition: out, txn });
        self.pipeline_move_timers();
    }

    /// The batch is processed: end it (commit the transaction, or wait for the acks).
    pub(super) fn pipeline_batch_done(&mut self) {
        let offsets = self.positions();
        let member = self.member;
        let fenced_by_generation = self.world.scenario.kafka_version.fences_txn_offset_commits_by_generation();
        let (member, generation) = if fenced_by_generation { (member, self.generation) } else { (None, None) };
        let instance = self.instance.clone().filter(|_| fenced_by_generation);
        let Some(p) = self.pipeline.as_mut() else { return };
        if p.transactional && !p.producer.embedded_commit(offsets.clone(), member, generation, instance) {
            // Nothing was sent: no transaction to end.
            self.app = App::Polling;
            self.publish_progress();
            self.app_poll();
            return;
        }
        p.waiting = Some(offsets);
        self.pipeline_advance();
    }

    /// After anything the producer heard: whether the batch the app waits on has ended.
    pub(super) fn pipeline_advance(&mut self) {
        self.pipeline_move_timers();
        let Some(p) = self.pipeline.as_mut() else { return };
        if p.producer.embedded_state() == EmbeddedState::Fatal {
            self.app_died("ProducerFencedException: the pipeline's producer was fenced".into());
            return;
        }
        if p.waiting.is_none() {
            return;
        }
        if p.transactional {
            let Some(outcome) = p.producer.embedded_take_outcome() else { return };
            p.waiting = None;
            self.app = App::Polling;
            if outcome != TxnOutcome::Committed {
                self.seek_to_committed();
            }
            self.publish_progress();
            self.app_poll();
        } else {
            let Some(ok) = p.producer.embedded_flushed() else { return };
            let offsets = p.waiting.take().expect("checked");
            self.app = App::Polling;
            if ok {
                self.commit_sync(offsets, Then::Poll);
            } else {
                self.seek_to_committed();
                self.publish_progress();
                self.app_poll();
            }
        }
    }

    /// `resetToLastCommittedPositions`: every assigned partition forgets its position and
    /// what it fetched, and takes the group's committed offset again at the next `poll()`.
    fn seek_to_committed(&mut self) {
        for a in self.assigned.values_mut() {
            *a = Assigned::default();
        }
        self.ready.clear();
        self.pending.clear();
    }

    /// A message for the embedded producer. True if it took it.
    pub(super) fn pipeline_msg(&mut self, from: NodeIdx, msg: &Msg) -> bool {
        let Some(p) = self.pipeline.as_mut() else { return false };
        let peer_down = matches!(msg, Msg::PeerDown { .. });
        if !peer_down && !Producer::is_embedded_msg(msg) {
            return false;
        }
        p.producer.on_msg(from, msg.clone());
        self.pipeline_advance();
        !peer_down
    }

    pub(super) fn pipeline_timer(&mut self, timer: crate::client::producer::Timer) {
        if let Some(p) = self.pipeline.as_mut() {
            p.producer.on_timer(timer);
        }
        self.pipeline_advance();
    }

    /// The producer's timers join the process's queue.
    pub(super) fn pipeline_move_timers(&mut self) {
        let Some(p) = self.pipeline.as_mut() else { return };
        for (at, timer) in p.producer.take_timers() {
            self.timers.at(at, Timer::Pipeline(timer));
        }
    }
}
