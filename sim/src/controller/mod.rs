//! The controller: the cluster's single source of truth for who leads each partition and who is
//! in its ISR, as KRaft's active controller is. `node` is its process (liveness, AlterPartition,
//! elections, pushes to brokers); `election` holds the partition-change rules as pure functions
//! (Kafka's `PartitionChangeBuilder`); `store` is what KRaft's durable metadata log holds.

pub mod election;
pub mod store;

mod node;

pub use node::Controller;
pub use store::{BrokerRecord, ControllerStore};
