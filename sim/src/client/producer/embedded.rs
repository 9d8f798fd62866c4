//! The pipeline's producer (`consumer.app.output`, issue 16): a producer client embedded in a
//! consumer's process, as Kafka's consume-transform-produce app holds a `KafkaProducer` beside
//! its `KafkaConsumer` (KIP-447: one producer per app instance, `transactional.id` fixed per
//! instance). It is the same client (sender, accumulator, sequencer, `TxnManager`) as a
//! workload producer, without the workload app: its consumer's app hands it each output
//! (`embedded_send`) and ends each batch (`embedded_commit`: `sendOffsetsToTransaction` then
//! `commitTransaction`, or, plain, nothing: the consumer waits for the acks and commits itself).
//! Living in the consumer's actor, it shares its inbox, its timers and its fate: a crash, pause
//! or cut of `cN` is one of its producer too, and a restarted `cN`'s `initTransactions` with the
//! same transactional id fences its previous incarnation. Why not a sibling actor: the nemesis,
//! the network and the final phase know one node per process, and a second node would need all
//! three to tie its lifetime to `cN`.

use super::node::{Producer, Timer, TxnPhase};
use crate::protocol::{MemberId, Msg};
use crate::runtime::actor::Actor;
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use losslab_model::config::{Acks, SendMode};
use losslab_model::history::{EventKind, MsgId, NodeName, TxnOutcome, PIPELINE_PRODUCER_BASE};
use std::sync::Arc;

/// The embedded producer's metadata requests are numbered from here, apart from its
/// consumer's (which count from `starts << 40`); connection handshakes count from 2^62.
pub const METADATA_CORR_BASE: u64 = 1 << 59;

/// The consumer's group metadata and offsets for the next TxnOffsetCommit.
#[derive(Clone, Debug)]
struct OffsetsToSend {
    offsets: Vec<(u32, u64)>,
    member: Option<MemberId>,
    generation: Option<u32>,
    instance: Option<String>,
}

/// What the pipeline's app knows of its producer beyond the client.
#[derive(Debug)]
pub struct Embedded {
    consumer: u32,
    /// Plain outputs handed to `send()` whose outcome is not known yet.
    outstanding: u64,
    /// A plain output failed since the app last asked.
    failed: bool,
    /// How the last transaction ended for the app.
    pub(super) last_outcome: Option<TxnOutcome>,
    offsets: Option<OffsetsToSend>,
}

/// Where the embedded producer is, as its app sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddedState {
    /// `initTransactions()` has not returned.
    Initializing,
    /// The app may begin, send and end.
    Ready,
    /// Inside `commitTransaction()` / `abortTransaction()`.
    Busy,
    /// A fatal error (fenced): the app ends.
    Fatal,
}

impl Embedded {
    pub(super) fn on_outcome(&mut self, n: usize, failed: bool) {
        self.outstanding = self.outstanding.saturating_sub(n as u64);
        self.failed |= failed;
    }

    /// The number of the transaction the app begins, over every incarnation of its consumer.
    pub(super) fn next_txn(&self, world: &World) -> u64 {
        let mut progress = world.consumers[self.consumer as usize - 1].lock().unwrap();
        progress.pipeline_txns += 1;
        progress.pipeline_txns
    }

    /// The TxnOffsetCommit for the offsets the app sent to the transaction.
    pub(super) fn txn_offset_commit(
        &self,
        corr: u64,
        transactional_id: String,
        producer_id: u64,
        epoch: i32,
        producer: u32,
        txn: Option<u64>,
    ) -> Msg {
        let o = self.offsets.clone().expect("sendOffsetsToTransaction stored its offsets");
        Msg::TxnOffsetCommit {
            corr,
            transactional_id,
            producer_id,
            epoch,
            member: o.member,
            generation: o.generation,
            instance: o.instance,
            offsets: o.offsets,
            producer,
            txn,
        }
    }
}

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
                    msgs: vec![input],
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
