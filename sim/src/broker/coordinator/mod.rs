//! The coordinators a broker hosts while it leads their internal partition: the group
//! coordinator (`group`, on `__consumer_offsets`; its JoinGroup path in `join`, static members and
//! assignment in `members`). Each is a pure state machine, in the manner of
//! the replica: it gets requests and the outcome of its log writes, and answers with what its
//! broker should do ([`group::Out`]), so its rules can be tested without a simulator.

pub mod assignor;
pub mod group;
mod join;
mod members;

pub use group::{Coordinator, GroupState, Out, ReplyTo, INITIAL_REBALANCE_DELAY_MS, OFFSETS_COMMIT_TIMEOUT_MS};
