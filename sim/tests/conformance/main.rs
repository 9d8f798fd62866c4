//! Conformance with Kafka's own unit tests. Each test here is one of Kafka's unit tests
//! (`core/src/test/scala`, `metadata/src/test/java`, `clients/src/test/java` in apache/kafka),
//! translated into a test of losslab's pure state machines: the log and its leader-epoch cache
//! (`broker::log`), one broker's replica of a partition (`broker::replica`), the controller's
//! partition-change rules (`controller::election`) and the producer's accumulator, sender and
//! sequencer (`client::producer`, the `producer_*` modules). Conforming means: the same starting state with Kafka's own
//! numbers, the same steps, and the outcome Kafka's test asserts. Where the two differ in form
//! (broker 101 is broker 1 here, logs start at offset 0, Kafka's exceptions are `KafkaError`s or
//! `FetchData` answers, a mocked component is the real losslab one), the test's comments say
//! how it maps; `fixtures` holds the shared setups.
//!
//! To add a case: read the Kafka test at a release tag in the apache/kafka clone
//! (`git show 3.7.0:core/src/test/scala/unit/kafka/cluster/PartitionTest.scala`), put it in the
//! module named after its Kafka test class, open its doc comment with
//! `/// Kafka: Class.method (tag, path)` and one line on what it checks, and keep Kafka's
//! numbers. Where losslab answers otherwise, keep the test, mark it
//! `#[ignore = "departs from Kafka: ..."]` and report the departure; a case that cannot be
//! expressed goes to `NOT_EXPRESSED.md` with the reason.

#[allow(dead_code)]
#[path = "../replica/common.rs"]
mod common;
mod fixtures;
mod producer_fixtures;

mod abstract_fetcher_thread;
mod consumer_assignors;
mod consumer_coordinator;
mod consumer_group_coordinator;
mod consumer_subscription_state;
mod leader_epoch_cache;
mod partition;
mod partition_change_builder;
mod partition_isr;
mod partition_leader_election_algorithms;
mod producer_accumulator;
mod producer_sender;
mod producer_state_manager;
mod producer_transaction_manager;
mod replica_fetcher_thread;
mod replica_manager;
mod replication_control_manager;
mod transaction_coordinator;
mod txn_fetcher;
mod txn_group_coordinator;
mod txn_group_offsets;
mod txn_producer_state;
mod txn_transaction_manager;
mod unified_log;
