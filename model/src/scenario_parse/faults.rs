//! The `faults` array: each step's triggers, its one action and the nodes it names. Concrete
//! names are checked against the cluster the file describes (`b7` in a three-broker cluster is
//! an error, not a step that silently does nothing), and symbolic targets (`leader:P`) against
//! the topic's partitions; what a symbolic target means is decided only when the step fires.

use super::obj::{describe, shown, Obj, Result, INT};
use crate::config::{TopicConfig, Workload};
use crate::error::ScenarioError;
use crate::fault::{Action, CrashMode, FaultStep, NodeRef, Target, Trigger};
use crate::history::NodeName;
use crate::suggest;
use serde_json::Value;

/// What node names and partitions a step may refer to.
pub(super) struct Cluster {
    pub brokers: u32,
    pub producers: u32,
    pub consumers: u32,
    pub partitions: u32,
    pub replication_factor: u32,
}

impl Cluster {
    pub fn new(brokers: u32, topic: &TopicConfig, workload: &Workload) -> Cluster {
        Cluster {
            brokers,
            producers: workload.producers,
            consumers: workload.consumers,
            partitions: topic.partitions,
            replication_factor: topic.replication_factor,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Crash,
    Restart,
    Wipe,
    Pause,
    Resume,
    Cut,
    Isolate,
    Heal,
    Elect,
    Stop,
    Slow,
}

const ACTIONS: [(&str, Kind); 11] = [
    ("crash", Kind::Crash),
    ("restart", Kind::Restart),
    ("wipe", Kind::Wipe),
    ("pause", Kind::Pause),
    ("resume", Kind::Resume),
    ("cut", Kind::Cut),
    ("isolate", Kind::Isolate),
    ("heal", Kind::Heal),
    ("elect", Kind::Elect),
    ("stop", Kind::Stop),
    ("slow", Kind::Slow),
];

impl Kind {
    /// The fields this action takes besides triggers and `action`.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Crash => &["node", "mode"],
            Kind::Restart | Kind::Wipe | Kind::Pause | Kind::Resume | Kind::Isolate | Kind::Stop => &["node"],
            Kind::Cut => &["between", "oneway"],
            Kind::Slow => &["between", "oneway", "latency_ms"],
            Kind::Heal => &["between"],
            Kind::Elect => &["partition", "unclean"],
        }
    }

    fn name(self) -> &'static str {
        ACTIONS.iter().find(|(_, k)| *k == self).map_or("?", |(name, _)| name)
    }
}

const TRIGGERS: [&str; 5] = ["at_ms", "delay_ms", "after_sent", "after_acked", "when_isr_size"];

/// Every key any step may hold: triggers, `action`, and every action's fields.
const STEP_KEYS: [&str; 13] = [
    "at_ms",
    "delay_ms",
    "after_sent",
    "after_acked",
    "when_isr_size",
    "action",
    "node",
    "mode",
    "between",
    "oneway",
    "partition",
    "unclean",
    "latency_ms",
];

/// The most a `slow` step may add to a link: a day. Longer is a cut, and the run must stay
/// bounded in simulated time.
const MAX_SLOW_MS: u64 = 86_400_000;

const CRASH_MODES: [(&str, CrashMode); 2] = [("process", CrashMode::Process), ("power", CrashMode::Power)];

/// The words a node value may use besides concrete names; `leader`, `followers` and `follower`
/// also take `:P`.
const SYMBOLIC: [&str; 7] =
    ["leader", "followers", "follower", "brokers", "controller", "group-coordinator", "txn-coordinator"];

pub(super) fn faults(top: &Obj, cluster: &Cluster) -> Result<Vec<FaultStep>> {
    match top.get("faults") {
        None => Ok(Vec::new()),
        Some(Value::Array(steps)) => {
            steps.iter().enumerate().map(|(i, value)| step(top.file(), i, value, cluster)).collect()
        }
        Some(other) => Err(top.fail("faults", format!("must be an array of steps, got {}", describe(other)))),
    }
}

fn step(file: &str, index: usize, value: &Value, cluster: &Cluster) -> Result<FaultStep> {
    let o = Obj::element(file, format!("faults[{index}]"), value)?.check_keys(&STEP_KEYS, |_| None)?;
    let kind = o.opt_choice("action", &ACTIONS)?.ok_or_else(|| {
        let names: Vec<&str> = ACTIONS.iter().map(|(name, _)| *name).collect();
        o.error(format!("`{}` in {file} has no `action`; add one of {}", o.path(), names.join(", ")))
    })?;
    reject_other_actions_fields(&o, kind)?;
    Ok(FaultStep { trigger: trigger(&o, cluster)?, action: action(&o, kind, cluster)? })
}

/// A field of another action (`mode` on a `pause`) is a mistake the writer should hear about:
/// ignoring it would run a different fault from the one they meant.
fn reject_other_actions_fields(o: &Obj, kind: Kind) -> Result<()> {
    let own = |key: &str| key == "action" || TRIGGERS.contains(&key) || kind.fields().contains(&key);
    let Some(key) = o.keys().find(|k| !own(k)) else {
        return Ok(());
    };
    let takers: Vec<&str> = ACTIONS.iter().filter(|(_, k)| k.fields().contains(&key)).map(|(name, _)| *name).collect();
    Err(o.error(format!(
        "key `{key}` {} does not apply to `{}`; only {} take{} it",
        o.location(),
        kind.name(),
        listed(&takers),
        if takers.len() == 1 { "s" } else { "" },
    )))
}

/// "a", "a and b", "a, b and c".
fn listed(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn trigger(o: &Obj, cluster: &Cluster) -> Result<Trigger> {
    Ok(Trigger {
        at_ms: o.opt_uint("at_ms", 0..=INT)?,
        delay_ms: o.opt_uint("delay_ms", 0..=INT)?,
        after_sent: o.opt_uint("after_sent", 0..=u64::MAX)?,
        after_acked: o.opt_uint("after_acked", 0..=u64::MAX)?,
        when_isr_size: isr_size(o, cluster)?,
    })
}

/// An ISR has 1 to `replication.factor` members (Kafka never empties one), so any other size
/// would hold the step, and every step after it, forever.
fn isr_size(o: &Obj, cluster: &Cluster) -> Result<Option<u32>> {
    let size: Option<u32> = o.opt_uint("when_isr_size", 0..=INT)?;
    match size {
        Some(n) if n == 0 || n > cluster.replication_factor => Err(o.fail(
            "when_isr_size",
            format!(
                "is {n}, but an ISR has 1 to {} members (`replication.factor`; Kafka never empties an ISR), \
                 so the step would never fire",
                cluster.replication_factor
            ),
        )),
        _ => Ok(size),
    }
}

fn action(o: &Obj, kind: Kind, cluster: &Cluster) -> Result<Action> {
    let node = || required_target(o, kind, cluster);
    Ok(match kind {
        Kind::Crash => Action::Crash { node: node()?, mode: o.choice("mode", &CRASH_MODES, CrashMode::Process)? },
        Kind::Restart => Action::Restart { node: node()? },
        Kind::Wipe => Action::Wipe { node: node()? },
        Kind::Pause => Action::Pause { node: node()? },
        Kind::Resume => Action::Resume { node: node()? },
        Kind::Isolate => Action::Isolate { node: node()? },
        Kind::Cut => {
            let (from, to) =
                between(o, cluster)?.ok_or_else(|| missing(o, kind, "between", "[[\"b1\"], [\"b2\", \"b3\"]]"))?;
            Action::Cut { from, to, oneway: o.boolean("oneway", false)? }
        }
        Kind::Slow => {
            let (from, to) =
                between(o, cluster)?.ok_or_else(|| missing(o, kind, "between", "[[\"b1\"], [\"b2\", \"b3\"]]"))?;
            let latency_ms =
                o.opt_uint("latency_ms", 0..=MAX_SLOW_MS)?.ok_or_else(|| missing(o, kind, "latency_ms", "2000"))?;
            Action::Slow { from, to, oneway: o.boolean("oneway", false)?, latency_ms }
        }
        Kind::Stop => Action::Stop { node: node()? },
        Kind::Heal => Action::Heal { between: between(o, cluster)? },
        Kind::Elect => Action::Elect { partition: elect_partition(o, cluster)?, unclean: o.boolean("unclean", false)? },
    })
}

fn required_target(o: &Obj, kind: Kind, cluster: &Cluster) -> Result<Target> {
    let value = o.get("node").ok_or_else(|| missing(o, kind, "node", "\"leader\""))?;
    target(o, "node", value, cluster)
}

fn missing(o: &Obj, kind: Kind, key: &str, example: &str) -> ScenarioError {
    o.error(format!(
        "`{}` in {} is a `{}` step without `{key}`; add one, such as \"{key}\": {example}",
        o.path(),
        o.file(),
        kind.name()
    ))
}

/// `between`: exactly two node sets.
fn between(o: &Obj, cluster: &Cluster) -> Result<Option<(Target, Target)>> {
    let Some(value) = o.get("between") else {
        return Ok(None);
    };
    match value.as_array().map(Vec::as_slice) {
        Some([from, to]) => Ok(Some((target(o, "between[0]", from, cluster)?, target(o, "between[1]", to, cluster)?))),
        _ => Err(o.fail(
            "between",
            format!("must be two node sets, such as [[\"b1\"], [\"b2\", \"b3\"]], got {}", describe(value)),
        )),
    }
}

fn elect_partition(o: &Obj, cluster: &Cluster) -> Result<u32> {
    let partition = o.uint("partition", 0..=INT, 0u32)?;
    check_partition(partition, cluster).map_err(|why| o.fail("partition", format!("is {partition}{why}")))?;
    Ok(partition)
}

/// A node value: one name or target, or a non-empty list of them. `label` is its key path
/// below the step (`node`, `between[1]`).
fn target(o: &Obj, label: &str, value: &Value, cluster: &Cluster) -> Result<Target> {
    let expected = || o.fail(label, format!("must be a node name or a list of node names, got {}", describe(value)));
    let words: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(Value::as_str).collect::<Option<_>>().ok_or_else(expected)?
        }
        Value::Array(_) => return Err(o.fail(label, "is an empty list; name at least one node")),
        _ => return Err(expected()),
    };
    let refs = words.into_iter().map(|w| node_ref(w, cluster).map_err(|why| o.fail(label, why)));
    Ok(Target(refs.collect::<Result<_>>()?))
}

/// One word of a node value; the error is the tail of a sentence about the key.
fn node_ref(word: &str, cluster: &Cluster) -> std::result::Result<NodeRef, String> {
    let (head, partition) = match word.split_once(':') {
        Some((head, p)) => (head, Some(p)),
        None => (word, None),
    };
    let symbolic: Option<fn(u32) -> NodeRef> = match head {
        "leader" => Some(NodeRef::Leader),
        "followers" => Some(NodeRef::Followers),
        "follower" => Some(NodeRef::Follower),
        _ => None,
    };
    if let Some(make) = symbolic {
        return Ok(make(partition.map(|p| target_partition(word, p, cluster)).transpose()?.unwrap_or(0)));
    }
    match word {
        "brokers" => return Ok(NodeRef::Brokers),
        "group-coordinator" => return Ok(NodeRef::GroupCoordinator),
        "txn-coordinator" => return Ok(NodeRef::TxnCoordinator),
        _ => {}
    }
    let name = NodeName::parse(word).ok_or_else(|| not_a_node(word, cluster))?;
    in_cluster(name, cluster).map_err(|why| format!("names `{word}`, {why}"))?;
    Ok(NodeRef::Name(name.to_string()))
}

/// The `P` of `leader:P`: a partition number of the topic.
fn target_partition(word: &str, text: &str, cluster: &Cluster) -> std::result::Result<u32, String> {
    let partition = Some(text)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u32>().ok())
        .ok_or_else(|| format!("names `{}`, but the part after `:` must be a partition number", shown(word)))?;
    check_partition(partition, cluster).map_err(|why| format!("names `{word}`{why}"))?;
    Ok(partition)
}

fn check_partition(partition: u32, cluster: &Cluster) -> std::result::Result<(), String> {
    if partition < cluster.partitions {
        return Ok(());
    }
    let n = cluster.partitions;
    Err(format!(", but the topic has only {n} partition{} (numbered from 0)", if n == 1 { "" } else { "s" }))
}

/// Whether a concrete name exists in this cluster and workload.
fn in_cluster(name: NodeName, c: &Cluster) -> std::result::Result<(), String> {
    let (n, count, what, prefix) = match name {
        NodeName::Controller => return Ok(()),
        NodeName::Broker(n) => (n, c.brokers, "the cluster has brokers", 'b'),
        NodeName::Producer(n) => (n, c.producers, "the workload has producers", 'p'),
        NodeName::Consumer(n) => (n, c.consumers, "the workload has consumers", 'c'),
    };
    if n <= count {
        return Ok(());
    }
    // Only consumers may number zero: brokers and producers are at least one.
    if count == 0 {
        return Err("but the workload has no consumers (`workload.consumers` is 0)".to_string());
    }
    Err(format!("but {what} {}", numbered(prefix, count)))
}

fn not_a_node(word: &str, c: &Cluster) -> String {
    let mut names = vec![numbered('b', c.brokers), "controller".to_string(), numbered('p', c.producers)];
    if c.consumers > 0 {
        names.push(numbered('c', c.consumers));
    }
    let advice = suggest::closest(word, SYMBOLIC).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
    format!(
        "names `{}`, which is not a node: nodes are {}, or leader, followers, follower (each optionally \
         with :P for partition P) and brokers{advice}",
        shown(word),
        names.join(", ")
    )
}

/// "b1 to b3", or "b1" alone.
fn numbered(prefix: char, count: u32) -> String {
    match count {
        1 => format!("{prefix}1"),
        n => format!("{prefix}1 to {prefix}{n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        Cluster { brokers: 3, producers: 2, consumers: 0, partitions: 2, replication_factor: 3 }
    }

    #[test]
    fn step_keys_are_triggers_action_and_every_field() {
        let mut want: Vec<&str> = TRIGGERS.to_vec();
        want.push("action");
        for (_, kind) in ACTIONS {
            want.extend(kind.fields().iter().filter(|f| !want.contains(f)).collect::<Vec<_>>());
        }
        assert_eq!(want, STEP_KEYS.to_vec());
    }

    #[test]
    fn node_words_resolve() {
        let c = cluster();
        assert_eq!(node_ref("leader", &c), Ok(NodeRef::Leader(0)));
        assert_eq!(node_ref("leader:1", &c), Ok(NodeRef::Leader(1)));
        assert_eq!(node_ref("followers:1", &c), Ok(NodeRef::Followers(1)));
        assert_eq!(node_ref("follower", &c), Ok(NodeRef::Follower(0)));
        assert_eq!(node_ref("brokers", &c), Ok(NodeRef::Brokers));
        assert_eq!(node_ref("group-coordinator", &c), Ok(NodeRef::GroupCoordinator));
        assert_eq!(node_ref("txn-coordinator", &c), Ok(NodeRef::TxnCoordinator));
        assert_eq!(node_ref("controller", &c), Ok(NodeRef::Name("controller".into())));
        assert_eq!(node_ref("b3", &c), Ok(NodeRef::Name("b3".into())));
        assert_eq!(node_ref("p2", &c), Ok(NodeRef::Name("p2".into())));
    }

    #[test]
    fn node_words_outside_the_cluster_are_refused() {
        let c = cluster();
        assert_eq!(node_ref("b4", &c).unwrap_err(), "names `b4`, but the cluster has brokers b1 to b3");
        assert_eq!(node_ref("p3", &c).unwrap_err(), "names `p3`, but the workload has producers p1 to p2");
        assert_eq!(
            node_ref("c1", &c).unwrap_err(),
            "names `c1`, but the workload has no consumers (`workload.consumers` is 0)"
        );
        assert_eq!(
            node_ref("leader:2", &c).unwrap_err(),
            "names `leader:2`, but the topic has only 2 partitions (numbered from 0)"
        );
        assert!(node_ref("leader:", &c).unwrap_err().contains("must be a partition number"));
        assert!(node_ref("leader:-1", &c).unwrap_err().contains("must be a partition number"));
        assert!(node_ref("brokers:1", &c).unwrap_err().contains("is not a node"));
        assert!(node_ref("b0", &c).unwrap_err().contains("is not a node"));
        assert!(node_ref("leaders", &c).unwrap_err().ends_with("; did you mean `leader`?"));
    }
}
