//! What the controller knows, as KRaft's metadata log records it: each partition's state
//! (replicas, leader, epochs, ISR, ELR), each broker's registration and liveness, and KIP-966's
//! last known ELR. KRaft replicates that log and keeps it durable, so it outlives the
//! controller's process: the run's `World` holds it, and a restarted controller reads it back.

use crate::protocol::PartitionState;
use losslab_model::Scenario;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct BrokerRecord {
    /// The registered incarnation; `None` until the broker first registers.
    pub incarnation: Option<u64>,
    pub fenced: bool,
    pub last_heartbeat_us: u64,
}

#[derive(Clone, Debug)]
pub struct ControllerStore {
    pub partitions: BTreeMap<u32, PartitionState>,
    pub brokers: BTreeMap<u32, BrokerRecord>,
    /// Per partition, brokers that left ISR or ELR after an unclean shutdown (KIP-966's last
    /// known ELR: the fallback when nobody else is eligible).
    pub last_known_elr: BTreeMap<u32, Vec<u32>>,
}

impl ControllerStore {
    /// The topic as created: partition `p`'s replicas start at broker `p % brokers + 1`, the
    /// first replica leads, every replica is in the ISR.
    pub fn new(s: &Scenario) -> ControllerStore {
        let brokers = s.brokers;
        let partitions = (0..s.topic.partitions)
            .map(|p| {
                let replicas: Vec<u32> = (0..s.topic.replication_factor).map(|i| (p + i) % brokers + 1).collect();
                let mut isr = replicas.clone();
                isr.sort_unstable();
                let state = PartitionState {
                    partition: p,
                    leader: Some(replicas[0]),
                    leader_epoch: 0,
                    partition_epoch: 0,
                    isr,
                    replicas,
                    elr: vec![],
                };
                (p, state)
            })
            .collect();
        let brokers = (1..=brokers).map(|b| (b, BrokerRecord::default())).collect();
        ControllerStore { partitions, brokers, last_known_elr: BTreeMap::new() }
    }

    pub fn is_live(&self, broker: u32) -> bool {
        self.brokers.get(&broker).is_some_and(|b| !b.fenced)
    }
}
