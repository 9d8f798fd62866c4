//! The clients: Kafka's Java producer and consumer as the simulation runs them, each together
//! with the application around it (what it does with `send()`'s outcome, how it processes and
//! commits), since durability depends on both. They share the `metadata` cache (which broker
//! leads each partition).

pub mod consumer;
pub mod metadata;
pub mod producer;

pub use consumer::Consumer;
pub use producer::Producer;
