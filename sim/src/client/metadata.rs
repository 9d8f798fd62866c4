//! A client's metadata cache: which broker leads each partition, learned from Metadata
//! requests to one broker at a time (a broker answers from its own cache of the controller's
//! pushes, so a client can be told stale news). Shared by producers and consumers.

use crate::protocol::Msg;
use crate::runtime::network::NodeIdx;
use crate::runtime::world::World;
use std::collections::BTreeMap;

/// How long a metadata request may go unanswered before the client asks another broker.
pub const METADATA_TIMEOUT_MS: u64 = 1_000;

pub struct MetadataCache {
    leaders: BTreeMap<u32, (Option<u32>, u32)>,
    in_flight: Option<u64>,
    broker: u32,
}

impl MetadataCache {
    pub fn new(first_broker: u32) -> Self {
        MetadataCache { leaders: BTreeMap::new(), in_flight: None, broker: first_broker }
    }

    pub fn leader(&self, partition: u32) -> Option<u32> {
        self.leaders.get(&partition).and_then(|l| l.0)
    }

    /// The leader epoch the cache holds for `partition`.
    pub fn leader_epoch(&self, partition: u32) -> Option<u32> {
        self.leaders.get(&partition).map(|l| l.1)
    }

    /// Whether any answer arrived: the topic's partitions are known (a producer's `send()` waits
    /// for this, `KafkaProducer.waitOnMetadata`).
    pub fn knows_topic(&self) -> bool {
        !self.leaders.is_empty()
    }

    /// KIP-951: a produce answer named the partition's leader; taken if its epoch is newer
    /// (`Metadata.updatePartitionLeadership`).
    pub fn update_leader(&mut self, partition: u32, leader: u32, epoch: u32) {
        if self.leaders.get(&partition).is_none_or(|m| epoch > m.1) {
            self.leaders.insert(partition, (Some(leader), epoch));
        }
    }

    /// The partition's leader and its leader epoch, as last learned.
    pub fn leader_and_epoch(&self, partition: u32) -> Option<(Option<u32>, u32)> {
        self.leaders.get(&partition).copied()
    }

    /// Sends a metadata request with `corr` unless one is in flight; true if sent (the caller
    /// arms a `METADATA_TIMEOUT_MS` timer for it).
    pub fn request(&mut self, world: &World, me: NodeIdx, corr: u64) -> bool {
        if self.in_flight.is_some() {
            return false;
        }
        self.in_flight = Some(corr);
        world.net.send(me, world.broker_idx(self.broker), Msg::Metadata { corr });
        true
    }

    /// Takes an answer; returns true when some partition still has no known leader.
    pub fn on_response(&mut self, world: &World, corr: u64, partitions: Vec<(u32, Option<u32>, u32)>) -> bool {
        if self.in_flight != Some(corr) {
            return false;
        }
        self.in_flight = None;
        for (p, leader, epoch) in partitions {
            if epoch >= self.leaders.get(&p).map_or(0, |m| m.1) {
                self.leaders.insert(p, (leader, epoch));
            }
        }
        let partitions = world.scenario.topic.partitions;
        (0..partitions).any(|p| self.leader(p).is_none())
    }

    /// The request timed out: ask the next broker. True if the caller should request again.
    pub fn on_timeout(&mut self, world: &World, corr: u64) -> bool {
        if self.in_flight != Some(corr) {
            return false;
        }
        self.in_flight = None;
        self.broker = self.broker % world.scenario.brokers + 1;
        true
    }
}
