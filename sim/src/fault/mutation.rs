//! Deliberate protocol bugs, compiled in and never active unless a run asks for one
//! (`losslab explore --mutation NAME`). Each is a mistake a real replication protocol can make;
//! the explorer must catch every one of them on a configuration whose guarantees hold, which is
//! how we know the checker and the fault schedules are sharp enough to find real bugs.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mutation {
    /// The leader counts records as on a follower once it has sent them, before the follower
    /// appended them (a follower acknowledging before it appends).
    FollowerAcksBeforeAppend,
    /// The high watermark follows the leader's own log end, ignoring the ISR.
    HwIgnoresIsr,
    /// An acks=all write is answered as soon as the leader appended it, without waiting for the
    /// high watermark.
    AcksAllAnsweredAtAppend,
    /// Elections pick the first live replica, in or out of the ISR, whatever the configuration
    /// (unclean election regardless of the config).
    ElectionIgnoresIsr,
    /// The leader's epoch cache says an earlier epoch ends where the log ends, not where the next
    /// epoch starts: a follower that diverged in that epoch is never told to truncate.
    EpochEndMisplaced,
    /// The flush policy is ignored: nothing is ever fsynced by Kafka.
    FlushIgnored,
    /// The leader ignores producer ids and sequences: retries are stored again.
    NoDeduplication,
    /// A new leader does not rebuild the idempotent producers' state from its log, so it cannot
    /// recognise retries of batches written under the old leader.
    ProducerStateNotRebuilt,
    /// The transaction coordinator sends its COMMIT/ABORT markers and answers EndTxn as soon as
    /// it appended PrepareCommit/PrepareAbort, before the high watermark of `__transaction_state`
    /// covers it (Kafka's `TransactionStateManager.appendTransactionToLog` waits for acks=-1): a
    /// coordinator failover then loads the transaction as Ongoing and times it out (aborts it)
    /// after some partitions got COMMIT.
    MarkersBeforeCommitDurable,
    /// The last stable offset is the high watermark (`ProducerStateManager.firstUnstableOffset`
    /// ignored): read_committed consumers read records of open transactions, which may abort.
    LsoIgnoresOpenTransactions,
    /// No fencing: the coordinator does not bump the producer epoch on InitProducerId
    /// (`TransactionMetadata.prepareIncrementProducerEpoch`) nor when it fences an Ongoing
    /// transaction for InitProducerId or its timeout (`prepareFenceProducerEpoch`, as 0.11.0.0
    /// did on timeouts, KAFKA-6119), and partition leaders accept a batch stamped with an older
    /// producer epoch (`ProducerAppendInfo.checkProducerEpoch`): a zombie's late writes land.
    FencingOff,
}

impl Mutation {
    pub const ALL: [Mutation; 11] = [
        Mutation::FollowerAcksBeforeAppend,
        Mutation::HwIgnoresIsr,
        Mutation::AcksAllAnsweredAtAppend,
        Mutation::ElectionIgnoresIsr,
        Mutation::EpochEndMisplaced,
        Mutation::FlushIgnored,
        Mutation::NoDeduplication,
        Mutation::ProducerStateNotRebuilt,
        Mutation::MarkersBeforeCommitDurable,
        Mutation::LsoIgnoresOpenTransactions,
        Mutation::FencingOff,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mutation::FollowerAcksBeforeAppend => "follower-acks-before-append",
            Mutation::HwIgnoresIsr => "hw-ignores-isr",
            Mutation::AcksAllAnsweredAtAppend => "acks-all-answered-at-append",
            Mutation::ElectionIgnoresIsr => "election-ignores-isr",
            Mutation::EpochEndMisplaced => "epoch-end-misplaced",
            Mutation::FlushIgnored => "flush-ignored",
            Mutation::NoDeduplication => "no-deduplication",
            Mutation::ProducerStateNotRebuilt => "producer-state-not-rebuilt",
            Mutation::MarkersBeforeCommitDurable => "markers-before-commit-durable",
            Mutation::LsoIgnoresOpenTransactions => "lso-ignores-open-transactions",
            Mutation::FencingOff => "fencing-off",
        }
    }

    /// Whether the mutation breaks a rule of transactions only (it shows on configurations with
    /// `producer.transactional.id` and nowhere else).
    pub fn transactional(self) -> bool {
        matches!(
            self,
            Mutation::MarkersBeforeCommitDurable | Mutation::LsoIgnoresOpenTransactions | Mutation::FencingOff
        )
    }

    pub fn parse(name: &str) -> Option<Mutation> {
        Mutation::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

thread_local! {
    /// The mutation of the run on this thread (each run has its own OS thread; see `run`).
    static ACTIVE: std::cell::Cell<Option<Mutation>> = const { std::cell::Cell::new(None) };
}

/// Turns `mutation` on (or every mutation off) for the runs on this thread.
pub fn set_active(mutation: Option<Mutation>) {
    ACTIVE.with(|a| a.set(mutation));
}

/// Whether `mutation` is on in this run.
pub fn on(mutation: Mutation) -> bool {
    ACTIVE.with(|a| a.get()) == Some(mutation)
}
