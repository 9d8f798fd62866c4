//! Fault steps: the nemesis's schedule, as data. A step is a set of triggers (all must hold) and
//! one action on a target. Targets may be symbolic ("the leader of partition 0") and are
//! resolved only when the step fires, against the controller's view at that moment.

use serde::{Deserialize, Serialize};

/// What must hold before a step fires. Every trigger named must hold, and a step never fires
/// before the step before it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Simulated time since the start is at least this.
    pub at_ms: Option<u64>,
    /// At least this long after the previous step fired.
    pub delay_ms: Option<u64>,
    /// Producers together have handed at least this many records to `send()`.
    pub after_sent: Option<u64>,
    /// Producers together have received at least this many successful acknowledgements.
    pub after_acked: Option<u64>,
    /// The ISR of partition 0, as the controller records it, has exactly this many members.
    pub when_isr_size: Option<u32>,
}

/// How a node crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CrashMode {
    /// The process dies; the machine lives, so the OS page cache survives.
    Process,
    /// The machine loses power: every byte not yet written back to disk is gone.
    Power,
}

/// One node name as written in a scenario, or a symbolic target resolved when the step fires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeRef {
    /// `b1`, `controller`, `p1`, `c2`.
    Name(String),
    /// `leader` / `leader:P`.
    Leader(u32),
    /// `followers` / `followers:P`: the partition's replicas other than its leader.
    Followers(u32),
    /// `follower` / `follower:P`: the first of the followers in replica order.
    Follower(u32),
    /// `brokers`: every broker.
    Brokers,
    /// `group-coordinator`: the broker hosting the consumer group's coordinator (the leader of
    /// its `__consumer_offsets` partition), resolved when the step fires.
    GroupCoordinator,
    /// `txn-coordinator`: the broker hosting the transaction coordinator of the first
    /// transactional producer (the leader of its `__transaction_state` partition).
    TxnCoordinator,
}

/// A node field: one reference or a list of them; the union of what they resolve to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target(pub Vec<NodeRef>);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    Crash {
        node: Target,
        mode: CrashMode,
    },
    Restart {
        node: Target,
    },
    Wipe {
        node: Target,
    },
    Pause {
        node: Target,
    },
    Resume {
        node: Target,
    },
    /// Drops every message from a node of `from` to a node of `to`, and back unless `oneway`.
    Cut {
        from: Target,
        to: Target,
        oneway: bool,
    },
    Isolate {
        node: Target,
    },
    /// Restores the named cut or slow link (`None`: every cut and slow link).
    Heal {
        between: Option<(Target, Target)>,
    },
    /// An operator-requested leader election (`kafka-leader-election`).
    Elect {
        partition: u32,
        unclean: bool,
    },
    /// A graceful shutdown: a broker's controlled shutdown, a client's `close()`.
    Stop {
        node: Target,
    },
    /// Every message from a node of `from` to a node of `to` (and back unless `oneway`) arrives
    /// `latency_ms` later than usual, in order and without loss, until healed.
    Slow {
        from: Target,
        to: Target,
        oneway: bool,
        latency_ms: u64,
    },
}

impl Action {
    /// The action's name as written in a scenario file.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Crash { .. } => "crash",
            Action::Restart { .. } => "restart",
            Action::Wipe { .. } => "wipe",
            Action::Pause { .. } => "pause",
            Action::Resume { .. } => "resume",
            Action::Cut { .. } => "cut",
            Action::Isolate { .. } => "isolate",
            Action::Heal { .. } => "heal",
            Action::Elect { .. } => "elect",
            Action::Stop { .. } => "stop",
            Action::Slow { .. } => "slow",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultStep {
    pub trigger: Trigger,
    pub action: Action,
}
