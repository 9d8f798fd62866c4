//! What the pipeline's producer (`consumer.app.output`, issue 16) keeps for its app beyond the
//! client (`pipeline` holds the app's calls). The pipeline's producer is a producer client embedded in a
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

use crate::protocol::{MemberId, Msg};
use crate::runtime::world::World;
use losslab_model::history::TxnOutcome;

/// The embedded producer's metadata requests are numbered from here, apart from its
/// consumer's (which count from `starts << 40`); connection handshakes count from 2^62.
pub const METADATA_CORR_BASE: u64 = 1 << 59;

/// The consumer's group metadata and offsets for the next TxnOffsetCommit.
#[derive(Clone, Debug)]
pub(super) struct OffsetsToSend {
    pub(super) offsets: Vec<(u32, u64)>,
    pub(super) member: Option<MemberId>,
    pub(super) generation: Option<u32>,
    pub(super) instance: Option<String>,
}

/// What the pipeline's app knows of its producer beyond the client.
#[derive(Debug)]
pub struct Embedded {
    pub(super) consumer: u32,
    /// Plain outputs handed to `send()` whose outcome is not known yet.
    pub(super) outstanding: u64,
    /// A plain output failed since the app last asked.
    pub(super) failed: bool,
    /// How the last transaction ended for the app.
    pub(super) last_outcome: Option<TxnOutcome>,
    pub(super) offsets: Option<OffsetsToSend>,
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
