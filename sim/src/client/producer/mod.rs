//! A producer process: Kafka's Java producer and the application around it. The app hands
//! records to `send()` at the workload's rate and does what its `app.*` settings say with their
//! outcomes (`app`); the client batches them per partition in its accumulator (`accumulator`,
//! with the `buffer.memory` pool), its sender drains, sends, retries, expires and breaks
//! connections (`sender`, a pure state machine), and with idempotence the sequencer keeps the
//! producer id, epoch and sequences (`sequencer`, Kafka's `TransactionManager` without
//! transactions) and, for a `transactional.id`, `transactions` keeps the transaction's states
//! and requests (the other half of that class), which `txn_app` drives over the network for
//! the transactional app loop. `backoff` is the retry backoff; `node` is the actor shell that wires them to
//! the network, the timers and the history.

mod accumulator;
mod app;
mod backoff;
mod embedded;
mod node;
mod pipeline;
mod sender;
mod sequencer;
mod transactions;
mod txn_app;

pub use accumulator::{Accumulator, Appended, BufferPool, Expiry, ProducerBatch};
pub use backoff::{Jitter, RetryBackoff};
pub use embedded::{Embedded, EmbeddedState};
pub use node::{Producer, Timer};
pub use sender::{seq_view, Effect, Leaders, Sender, SenderConfig, RECONNECT_BACKOFF_MS};
pub use sequencer::{IdChange, PidEpoch, Rewrite, SeqBatch, Sequencer, SequencerRules, MAX_EPOCH};
pub use transactions::{ClientTxnState, TxnClientRules, TxnManager, TxnReaction, TxnRequest};
