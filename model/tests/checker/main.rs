//! The checker on small hand-built runs. Each test tells a run the way a reader would: what
//! the app sent, what the replicas did, which faults struck, what the final logs hold; then it
//! checks the verdict and that the explanation names the cause.
//!
//! One test binary, one file per finding class or theme: `story` is the shared run builder
//! and assertions; `loss`, `order`, `resend`, `consumer` and `replicas` judge the finding
//! classes; `recovery` the losses to power and log recovery; `txn` the transaction and pipeline classes; `verdict` the shape of a verdict;
//! `arbitrary` any history, by proptest.

mod arbitrary;
mod consumer;
mod loss;
mod order;
mod recovery;
mod replicas;
mod resend;
mod story;
mod txn;
mod verdict;
