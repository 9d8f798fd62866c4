//! Scenario files to [`Scenario`](crate::scenario::Scenario)s: the public contract of
//! scenario-format.md, enforced. Every key is read with Kafka's default, every value is checked
//! for type and bounds, every unknown key is refused with the closest known one, and the
//! cross-key rules Kafka itself enforces are applied, so that a file either resolves completely
//! or is refused with a message that names the file, the key and what was expected. Nothing
//! here panics on any input.
//!
//! `json` reads the text, `obj` reads one object; `config`, `producer`, `faults` and `expect`
//! know the sections (`group_keys` the consumer's group-membership keys, `txn_keys` the keys of
//! transactions); `top` knows the top
//! level, the order in which sections depend on each other, and holds the entry points
//! `Scenario::from_file` and `Scenario::parse`. The parser depends on the scenario types and
//! never the other way round.

mod config;
mod expect;
mod faults;
mod group_keys;
mod json;
mod obj;
mod producer;
mod top;
mod txn_keys;
