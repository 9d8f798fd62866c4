//! The coordinators a broker hosts while it leads their internal partition: the group
//! coordinator (`group`, on `__consumer_offsets`; its JoinGroup path in `join`, static members and
//! assignment in `members`) and the transaction coordinator (`txn`, with one transactional id's
//! state in `txn_metadata`, on `__transaction_state`); `txn_offsets` holds the group's
//! transactional offsets until their producer id's marker decides them. Each is a pure state
//! machine, in the manner of the replica: it gets requests and the outcome of its log writes, and
//! answers with what its broker should do ([`group::Out`], [`txn::TxnOut`]), so its rules can be
//! tested without a simulator.

pub mod assignor;
pub mod group;
mod join;
mod members;
pub mod txn;
pub mod txn_commit;
pub mod txn_metadata;
pub mod txn_offsets;

pub use group::{
    Coordinator, GroupState, LogEntry, Out, ReplyTo, INITIAL_REBALANCE_DELAY_MS, OFFSETS_COMMIT_TIMEOUT_MS,
};
pub use txn::{EndTxnRequest, MarkerRequest, TransitionNote, TxnCoordinator, TxnOut, TxnRules};
pub use txn_commit::TxnCommitRequest;
pub use txn_metadata::{TxnRecord, TxnState};
