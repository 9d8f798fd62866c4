//! What the controller knows, as KRaft's metadata log (or ZooKeeper) records it: each
//! partition's state (replicas, leader, epochs, ISR, ELR, last known leader) and each broker's
//! registration and liveness. That record is replicated and durable, so it outlives the
//! controller's process: the run's `World` holds it, and a restarted controller reads it back.

use crate::protocol::PartitionState;
use losslab_model::history::OUT_PARTITION_BASE;
use losslab_model::Scenario;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct BrokerRecord {
    /// The registered incarnation, which is also the broker epoch (KRaft's broker epoch, the
    /// znode's czxid in ZooKeeper mode); `None` until the broker first registers.
    pub incarnation: Option<u64>,
    /// KRaft: fenced (it may not lead or join an ISR). ZooKeeper: not alive (no znode).
    pub fenced: bool,
    /// In a controlled shutdown: it may not lead or join an ISR.
    pub shutting_down: bool,
    /// The broker's last heartbeat (KRaft) or session ping (ZooKeeper).
    pub last_contact_us: u64,
}

#[derive(Clone, Debug)]
pub struct ControllerStore {
    pub partitions: BTreeMap<u32, PartitionState>,
    pub brokers: BTreeMap<u32, BrokerRecord>,
}

impl ControllerStore {
    /// The topic as created: partition `p`'s replicas start at broker `p % brokers + 1`, the
    /// first replica leads, every replica is in the ISR.
    pub fn new(s: &Scenario) -> ControllerStore {
        let brokers = s.brokers;
        let mut partitions: BTreeMap<u32, PartitionState> = (0..s.topic.partitions)
            .map(|p| {
                let replicas: Vec<u32> = (0..s.topic.replication_factor).map(|i| (p + i) % brokers + 1).collect();
                (p, PartitionState::created(p, replicas))
            })
            .collect();
        // The pipeline's topic `out` (`consumer.app.output`, issue 16): the input topic's
        // partition count and settings, its partition `p` numbered `p + OUT_PARTITION_BASE` and
        // placed as partition `p` is.
        if s.workload.consumers > 0 && s.consumer.app_output != losslab_model::config::AppOutput::None {
            let out: Vec<(u32, PartitionState)> = partitions
                .values()
                .map(|st| {
                    let partition = st.partition + OUT_PARTITION_BASE;
                    (partition, PartitionState { partition, ..st.clone() })
                })
                .collect();
            partitions.extend(out);
        }
        let brokers = (1..=brokers).map(|b| (b, BrokerRecord::default())).collect();
        ControllerStore { partitions, brokers }
    }

    /// Registered, unfenced and not shutting down: it may lead and join an ISR.
    pub fn is_live(&self, broker: u32) -> bool {
        self.brokers.get(&broker).is_some_and(|b| b.incarnation.is_some() && !b.fenced && !b.shutting_down)
    }

    /// Brokers a leader may not add to an ISR, as its metadata shows them: KRaft, fenced,
    /// unregistered or shutting down (`Partition.isReplicaIsrEligible`); ZooKeeper, not alive
    /// (`hasAliveBroker`: no znode), shutting down or not.
    pub fn ineligible(&self, kraft: bool) -> Vec<u32> {
        let out = |b: &BrokerRecord| b.incarnation.is_none() || b.fenced || (kraft && b.shutting_down);
        self.brokers.iter().filter(|(_, r)| out(r)).map(|(&b, _)| b).collect()
    }

    /// The broker epoch registered for `broker` (0 if none).
    pub fn broker_epoch(&self, broker: u32) -> u64 {
        self.brokers.get(&broker).and_then(|b| b.incarnation).unwrap_or(0)
    }
}
