//! A partition's state as the controller records it and pushes it to every broker: leader,
//! epochs, ISR and ELR. It is the one wire type both the controller's rules and the brokers'
//! replicas read, so it lives here, below both.

/// The controller's record of one partition, as pushed to brokers (LeaderAndIsr / KRaft
/// PartitionChangeRecord).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionState {
    pub partition: u32,
    /// Replica assignment, in preference order.
    pub replicas: Vec<u32>,
    pub leader: Option<u32>,
    pub leader_epoch: u32,
    pub partition_epoch: u32,
    pub isr: Vec<u32>,
    pub elr: Vec<u32>,
    /// KIP-966's last known leader: set (ELR on) when the ISR first empties, cleared once a leader
    /// exists; at most one broker.
    pub last_known_elr: Vec<u32>,
}

impl PartitionState {
    /// A partition as created: the first replica leads in epoch 0, every replica is in sync.
    pub fn created(partition: u32, replicas: Vec<u32>) -> PartitionState {
        let mut isr = replicas.clone();
        isr.sort_unstable();
        PartitionState {
            partition,
            leader: replicas.first().copied(),
            leader_epoch: 0,
            partition_epoch: 0,
            isr,
            replicas,
            elr: vec![],
            last_known_elr: vec![],
        }
    }
}
