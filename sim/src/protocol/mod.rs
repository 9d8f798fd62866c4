//! The wire: every value that crosses from one simulated process to another, and the record
//! formats that logs store. Kafka's requests and answers (`message`), its error codes
//! (`error`), record batches with their idempotence stamps (`record`), the controller's
//! partition state (`partition`) and the consumer group's types and `__consumer_offsets` records
//! (`group`). Everything else in the simulator depends on these types and none of them depends
//! on anything above: a state machine may speak the protocol, the protocol knows no state
//! machine.

mod error;
mod group;
mod message;
mod partition;
mod record;

pub use error::KafkaError;
pub use group::{
    CommittedOffsets, JoinResult, MemberId, OffsetsRecord, StoredMember, OFFSETS_PARTITION, OFFSETS_PRODUCER,
    OFFSETS_REPLICATION_FACTOR,
};
pub use message::{FetchData, Msg, ProduceTxn};
pub use partition::PartitionState;
pub use record::{
    is_internal_partition, sequence_add, AbortedTxn, Batch, ProducerStamp, TxnBatch, CONTROL_PRODUCER,
    TXN_STATE_PARTITION,
};
