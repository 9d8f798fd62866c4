//! The consumer group's wire types and the layout of its partition of `__consumer_offsets`:
//! member ids, what a join returns, and the records the group coordinator writes to that
//! partition (offset commits and the group's metadata). Consumers, the coordinator and the
//! runtime that creates the partition all read them, so they live below all three.

use std::fmt;

/// The partition number of the group's partition of `__consumer_offsets` (Kafka hashes the
/// group id to one of 50 partitions; a run has one group, so one partition). It is far above
/// any topic partition; histories show it as partition 4294967295.
pub const OFFSETS_PARTITION: u32 = u32::MAX;
/// The producer number of records in `__consumer_offsets`: record `p0#N` is the `N`-th record
/// the coordinators wrote (see `world::World::offsets_record`). Real producers count from 1.
pub const OFFSETS_PRODUCER: u32 = 0;
/// `offsets.topic.replication.factor` (Kafka's default; fewer brokers get one each).
pub const OFFSETS_REPLICATION_FACTOR: u32 = 3;

/// OffsetFetch's answer: per partition the committed offset (`None`: none) and the leader epoch
/// committed with it (KIP-320, 2.1+).
pub type CommittedOffsets = Vec<(u32, Option<u64>, Option<u32>)>;

/// A member id, handed out by the coordinator on a member's first JoinGroup (Kafka's
/// `<client.id>-<uuid>`). `serial` is unique over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId {
    pub consumer: u32,
    pub serial: u64,
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}-{}", self.consumer, self.serial)
    }
}

/// What a member learns when its join completes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinResult {
    pub member: MemberId,
    pub generation: u32,
    pub partitions: Vec<u32>,
}

/// A member as the group's metadata record stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMember {
    pub id: MemberId,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    pub partitions: Vec<u32>,
    /// `group.instance.id` (KIP-345): a static member.
    pub instance: Option<String>,
}

/// A record of the group's partition of `__consumer_offsets`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OffsetsRecord {
    /// An offset commit: the group's position on `partition`.
    Commit { consumer: u32, partition: u32, offset: u64, leader_epoch: Option<u32> },
    /// The group's metadata after a rebalance (Kafka's GroupMetadata record).
    Group { generation: u32, members: Vec<StoredMember> },
}
