//! The pipeline app's calls on its embedded producer (`embedded` holds what they keep):
//! `start_embedded`, `send()` of one output, `sendOffsetsToTransaction` + `commitTransaction`,
//! and what the consumer's app reads back (the transaction's end, the plain outputs' acks);
//! with the routing of the consumer process's messages and timers to the producer inside it.

use super::embedded::{Embedded, EmbeddedState, OffsetsToSend, METADATA_CORR_BASE};
use super::node::{Producer, Timer, TxnPhase};
use crate::protocol::{MemberId, Msg};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use losslab_model::config::{Acks, SendMode};
use losslab_model::history::{EventKind, MsgId, NodeName, TxnOutcome, PIPELINE_PRODUCER_BASE};
use std::sync::Arc;

impl Producer {
    /// The producer of consumer `consumer`'s pipeline: producer number
    /// `PIPELINE_PRODUCER_BASE + consumer` in the history, events under the consumer's name.
    /// Its settings are the scenario's producer keys with what the pipeline needs (the lab's
    /// choice, docs/NOTES.md): idempotence on and `acks=all` (Kafka's defaults from 3.0, and
    /// required for transactions), `transactional.id` `"<group.id>-c<N>"` when transactional,
    /// none otherwise; the workload app's `app.*` keys do not apply.
    pub fn start_embedded(world: Arc<World>, consumer: u32, transactional: bool) -> Producer {
        let mut config = world.scenario.producer.clone();
        config.enable_idempotence = true;
        config.acks = Acks::All;
        config.app_send = SendMode::Callback;
        let group = world.scenario.consumer.group_id.clone();
        let tid = transactional.then(|| format!("{group}-c{consumer}"));
        config.transactional_id = tid.clone();
        let me: NodeIdx = world.consumer_idx(consumer);
        let embedded = Embedded { consumer, outstanding: 0, failed: false, last_outcome: None, offsets: None };
        let id = PIPELINE_PRODUCER_BASE + consumer;
        Producer::build(world, id, me, NodeName::Consumer(consumer), config, tid, Some(embedded))
    }

    pub fn embedded_state(&self) -> EmbeddedState {
        let Some(shell) = self.txn.as_ref() else { return EmbeddedState::Ready };
        match shell.phase {
            TxnPhase::Initializing => EmbeddedState::Initializing,
            TxnPhase::Running => EmbeddedState::Ready,
            TxnPhase::Committing | TxnPhase::Aborting { .. } => EmbeddedState::Busy,
            TxnPhase::Done => EmbeddedState::Fatal,
        }
    }

    /// `send()` of the output for `input` to `partition` of `out` (as events number it),
    /// beginning a transaction first if none is open. Returns the transaction's number.
    pub fn embedded_send(&mut self, input: MsgId, partition: u32) -> Option<u64> {
        let now = self.now_us();
        let txn = if self.txn.is_some() {
            let (txn, added) = self.txn_add_record(input, partition);
            self.record(EventKind::Send { msg: input, partition, resend_of: None, txn: None });
            if let Err(e) = added {
                // `maybeAddPartition` threw: the transaction cannot commit; its commit throws.
                self.record(EventKind::Failed {
                    partition,
                    batch: 0,
                    error: e.name().to_string(),
                    msgs: vec![input].into(),
                    app_notified: true,
                });
                return Some(txn);
            }
            Some(txn)
        } else {
            self.record(EventKind::Send { msg: input, partition, resend_of: None, txn: None });
            if let Some(e) = self.embedded.as_mut() {
                e.outstanding += 1;
            }
            None
        };
        self.send_record(input, partition, now);
        txn
    }

    /// Ends the app's batch. Transactional: `sendOffsetsToTransaction(offsets,
    /// consumer.groupMetadata())` then `commitTransaction()` (the TxnOffsetCommit goes before the
    /// EndTxn: `TxnManager`'s request priorities). Returns false when no transaction is open.
    pub fn embedded_commit(
        &mut self,
        offsets: Vec<(u32, u64)>,
        member: Option<MemberId>,
        generation: Option<u32>,
        instance: Option<String>,
    ) -> bool {
        let Some(shell) = self.txn.as_mut() else { return false };
        if shell.open.is_none() {
            return false;
        }
        if let Some(e) = self.embedded.as_mut() {
            e.last_outcome = None;
            e.offsets = Some(OffsetsToSend { offsets, member, generation, instance });
        }
        let shell = self.txn.as_mut().expect("checked");
        let sent = shell.manager.send_offsets();
        shell.phase = TxnPhase::Committing;
        let begun = if sent.is_ok() { shell.manager.begin_commit().map(|_| ()) } else { sent };
        if let Err(e) = begun {
            self.txn_commit_threw(e);
        }
        self.pump();
        true
    }

    /// The transaction's end, once `commitTransaction()` (or the abort after it threw) returned.
    pub fn embedded_take_outcome(&mut self) -> Option<TxnOutcome> {
        if self.embedded_state() != EmbeddedState::Ready {
            return None;
        }
        self.embedded.as_mut().and_then(|e| e.last_outcome.take())
    }

    /// Plain: whether every output handed to `send()` has its outcome, and whether one failed
    /// (which the app then forgets).
    pub fn embedded_flushed(&mut self) -> Option<bool> {
        let e = self.embedded.as_mut()?;
        if e.outstanding > 0 {
            return None;
        }
        Some(!std::mem::take(&mut e.failed))
    }

    /// Whether `msg` is for the embedded producer rather than its consumer.
    pub fn is_embedded_msg(msg: &Msg) -> bool {
        match msg {
            Msg::ProduceResponse { .. }
            | Msg::InitProducerIdResponse { .. }
            | Msg::AddPartitionsToTxnResponse { .. }
            | Msg::AddOffsetsToTxnResponse { .. }
            | Msg::TxnOffsetCommitResponse { .. }
            | Msg::EndTxnResponse { .. }
            | Msg::ConnectionClosed { .. } => true,
            Msg::MetadataResponse { corr, .. } => *corr >= METADATA_CORR_BASE,
            Msg::Refused { msg, .. } => match &**msg {
                Msg::Metadata { corr } => *corr >= METADATA_CORR_BASE,
                Msg::Produce { .. }
                | Msg::InitProducerId { .. }
                | Msg::AddPartitionsToTxn { .. }
                | Msg::AddOffsetsToTxn { .. }
                | Msg::TxnOffsetCommit { .. }
                | Msg::EndTxn { .. } => true,
                _ => false,
            },
            _ => false,
        }
    }

    /// The embedded producer's timers, handed to its consumer's queue (one process, one queue).
    pub fn take_timers(&mut self) -> Vec<(u64, Timer)> {
        self.timers.take_all()
    }
}
