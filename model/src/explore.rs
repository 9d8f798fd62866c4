//! What `losslab explore` needs that is not the simulator: expanding a configuration file whose
//! values may be lists into a grid of scenarios, and drawing a random fault schedule from a seed.
//! Schedules are produced as scenario-file JSON, so that a run's faults can be written out as a
//! self-contained scenario that `losslab replay` reproduces, and are validated by the same parser.
//!
//! The schedule generator is a ChaCha8 stream seeded with the run's seed: the same seed gives the
//! same schedule on every machine.

use crate::error::ScenarioError;
use crate::scenario::Scenario;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A kind of fault the explorer may inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// A broker process crash (the page cache survives).
    Crash,
    /// A broker machine losing power (the page cache is gone); sometimes every broker at once.
    Power,
    /// A broker stopped for a while (GC pause, SIGSTOP).
    Pause,
    /// A cut between the leader and its followers, or between one follower and the leader.
    Cut,
    /// A broker cut from every other node.
    Isolate,
    /// A broker losing power and its disk.
    Wipe,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] =
        [FaultKind::Crash, FaultKind::Power, FaultKind::Pause, FaultKind::Cut, FaultKind::Isolate, FaultKind::Wipe];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Power => "power",
            FaultKind::Pause => "pause",
            FaultKind::Cut => "cut",
            FaultKind::Isolate => "isolate",
            FaultKind::Wipe => "wipe",
        }
    }

    /// Parses `crash,power,...`; an error names the unknown kind and the known ones.
    pub fn parse_list(text: &str) -> Result<BTreeSet<FaultKind>, String> {
        let mut kinds = BTreeSet::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let kind = FaultKind::ALL.into_iter().find(|k| k.as_str() == word).ok_or_else(|| {
                let known: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown fault kind `{word}`; the kinds are {}", known.join(", "))
            })?;
            kinds.insert(kind);
        }
        if kinds.is_empty() {
            return Err("--faults names no fault kind".into());
        }
        Ok(kinds)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One point of the grid: the values chosen for the listed keys, and the scenario file it makes.
#[derive(Clone, Debug)]
pub struct GridPoint {
    /// `section.key` (or a top-level key) -> the value used, for every key that was a list.
    pub axes: BTreeMap<String, Value>,
    /// The scenario file's object with every list replaced by one of its values.
    pub file: Value,
    /// The validated scenario (its `faults` are replaced per run).
    pub scenario: Scenario,
}

/// The objects whose values may be lists (one grid axis each), and the top-level keys that may.
const SECTIONS: [&str; 6] = ["topic", "broker", "producer", "consumer", "workload", "network"];
const TOP_LEVEL: [&str; 2] = ["kafka.version", "brokers"];

/// Expands a configuration file into its grid of scenarios, every point built and validated.
/// For small grids and tests; `losslab explore` walks a [`Grid`] point by point instead.
pub fn expand(file: &str, stem: &str, text: &str) -> Result<Vec<GridPoint>, ScenarioError> {
    let grid = Grid::new(file, stem, text)?;
    (0..grid.len()).map(|index| grid.point(index)).collect()
}

/// A configuration file's grid, held as its axes only: a point is built when it is asked for,
/// so a grid of millions of points costs no more memory than its file (issue 17 measured 7.7 GB
/// for a 64-million-point grid built up front). A list value in one of the configuration
/// objects (or `kafka.version`, `brokers`) is an axis; the grid is the product of all axes, in
/// file order, the first axis varying fastest.
#[derive(Clone, Debug)]
pub struct Grid {
    file: String,
    stem: String,
    root: Value,
    axes: Vec<(Vec<String>, Vec<Value>)>,
    len: u64,
}

impl Grid {
    /// Reads the axes and validates the file: malformed JSON and unknown keys are reported by
    /// the scenario parser itself, and every value of every axis is tried (with the other axes
    /// at their first value), so a bad value is refused before anything runs. A combination
    /// that is invalid only together is found when [`Grid::point`] builds it.
    pub fn new(file: &str, stem: &str, text: &str) -> Result<Grid, ScenarioError> {
        let root: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => return Err(Scenario::parse(file, stem, text).expect_err("malformed JSON is rejected")),
        };
        let Value::Object(obj) = &root else {
            return Err(Scenario::parse(file, stem, text)
                .err()
                .unwrap_or_else(|| ScenarioError::new(file, "not an object")));
        };
        let mut axes: Vec<(Vec<String>, Vec<Value>)> = Vec::new();
        for key in TOP_LEVEL {
            if let Some(Value::Array(values)) = obj.get(key) {
                axes.push((vec![key.to_string()], values.clone()));
            }
        }
        for section in SECTIONS {
            if let Some(Value::Object(inner)) = obj.get(section) {
                for (key, value) in inner {
                    if let Value::Array(values) = value {
                        axes.push((vec![section.to_string(), key.clone()], values.clone()));
                    }
                }
            }
        }
        if let Some((path, _)) = axes.iter().find(|(_, values)| values.is_empty()) {
            return Err(ScenarioError::new(file, format!("`{}` in {file} is an empty list", path.join("."))));
        }
        let len = axes
            .iter()
            .try_fold(1u64, |n, (_, values)| n.checked_mul(values.len() as u64))
            .ok_or_else(|| ScenarioError::new(file, format!("the grid of {file} has more than {} points", u64::MAX)))?;
        let grid = Grid { file: file.to_string(), stem: stem.to_string(), root, axes, len };
        grid.point(0)?;
        // The index whose digits are all 0 but one: each value of each axis once.
        let mut stride = 1u64;
        for (_, values) in &grid.axes {
            for i in 1..values.len() as u64 {
                grid.point(i * stride)?;
            }
            stride = stride.saturating_mul(values.len() as u64);
        }
        Ok(grid)
    }

    /// How many points: the product of the axes' lengths (1 without a list).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Never true: a file without lists is a grid of one point.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Point `index` (below [`Grid::len`]), built and validated; errors name the file.
    pub fn point(&self, index: u64) -> Result<GridPoint, ScenarioError> {
        assert!(index < self.len, "grid point {index} of {}", self.len);
        let mut concrete = self.root.clone();
        let mut chosen = BTreeMap::new();
        let mut rest = index;
        for (path, values) in &self.axes {
            let n = values.len() as u64;
            let value = values[(rest % n) as usize].clone();
            rest /= n;
            set_path(&mut concrete, path, value.clone());
            chosen.insert(path.join("."), value);
        }
        let text = serde_json::to_string(&concrete).expect("a JSON value serializes");
        let scenario = Scenario::parse(&self.file, &self.stem, &text)?;
        Ok(GridPoint { axes: chosen, file: concrete, scenario })
    }
}

fn set_path(root: &mut Value, path: &[String], value: Value) {
    let mut at = root;
    for key in &path[..path.len() - 1] {
        at = at.as_object_mut().expect("axes are in objects").entry(key.clone()).or_insert_with(|| json!({}));
    }
    at.as_object_mut().expect("axes are in objects").insert(path[path.len() - 1].clone(), value);
}

/// The scenario file `file` with `faults` replaced by `steps` and the given name and seed.
pub fn with_faults(file: &Value, steps: &[Value], name: &str, seed: u64) -> Value {
    let mut out = file.as_object().cloned().unwrap_or_default();
    out.insert("name".into(), json!(name));
    out.insert("seed".into(), json!(seed));
    out.insert("faults".into(), Value::Array(steps.to_vec()));
    out.remove("expect");
    Value::Object(out)
}

/// Draws a fault schedule for `scenario` from `seed`: one to four faults of the allowed kinds
/// at random moments of the workload, each followed by its recovery (restart, resume, heal) after
/// a random duration, some longer than `broker.session.timeout.ms` so that the controller reacts.
/// Targets: the leader, a follower, all followers (the ISR shrinks to the leader), a named broker.
pub fn random_schedule(seed: u64, kinds: &BTreeSet<FaultKind>, scenario: &Scenario) -> Vec<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x006c_6f73_736c_6162);
    let kinds: Vec<FaultKind> = kinds.iter().copied().collect();
    if kinds.is_empty() {
        return Vec::new();
    }
    let w = &scenario.workload;
    let workload_ms = (w.messages.saturating_mul(1000) / w.rate_per_sec.max(1)).max(200);
    let count = rng.gen_range(1..=4);
    let mut starts: Vec<u64> = (0..count).map(|_| rng.gen_range(workload_ms / 10..=workload_ms * 9 / 10)).collect();
    starts.sort_unstable();
    let brokers = scenario.brokers;
    // Faults may overlap: every fault and its recovery is placed on one timeline by `at_ms`.
    let mut timeline: Vec<(u64, Value)> = Vec::new();
    for at_ms in starts {
        let kind = kinds[rng.gen_range(0..kinds.len())];
        let hold_ms = *[300u64, 1_000, 3_000, 12_000, 20_000].get(rng.gen_range(0..5)).unwrap();
        let end_ms = at_ms + hold_ms;
        let target = match rng.gen_range(0..10) {
            0..=3 => json!("leader"),
            4..=6 => json!("follower"),
            7 => json!("followers"),
            _ => json!(format!("b{}", rng.gen_range(1..=brokers))),
        };
        let mut add = |t: u64, step: Value| timeline.push((t, step));
        match kind {
            FaultKind::Crash => {
                add(at_ms, json!({"action": "crash", "node": target, "mode": "process"}));
                add(end_ms, json!({"action": "restart", "node": "brokers"}));
            }
            FaultKind::Power => {
                // Now and then every broker at once: a correlated power cut.
                let target = if rng.gen_range(0..4) == 0 { json!("brokers") } else { target };
                add(at_ms, json!({"action": "crash", "node": target, "mode": "power"}));
                add(end_ms, json!({"action": "restart", "node": "brokers"}));
            }
            FaultKind::Pause => {
                add(at_ms, json!({"action": "pause", "node": target}));
                add(end_ms, json!({"action": "resume", "node": "brokers"}));
            }
            FaultKind::Cut => {
                let between = if rng.gen_bool(0.5) {
                    json!([["leader"], ["followers"]])
                } else {
                    json!([["follower"], ["leader"]])
                };
                let oneway = rng.gen_range(0..4) == 0;
                add(at_ms, json!({"action": "cut", "between": between, "oneway": oneway}));
                add(end_ms, json!({"action": "heal"}));
            }
            FaultKind::Isolate => {
                add(at_ms, json!({"action": "isolate", "node": target}));
                add(end_ms, json!({"action": "heal"}));
            }
            FaultKind::Wipe => {
                let broker = json!(format!("b{}", rng.gen_range(1..=brokers)));
                add(at_ms, json!({"action": "crash", "node": broker, "mode": "power"}));
                add(at_ms, json!({"action": "wipe", "node": broker}));
                add(end_ms, json!({"action": "restart", "node": broker}));
            }
        }
    }
    // A stable sort keeps a fault's own steps in order (crash before wipe at the same moment).
    timeline.sort_by_key(|(t, _)| *t);
    timeline
        .into_iter()
        .map(|(t, mut step)| {
            step.as_object_mut().expect("steps are objects").insert("at_ms".into(), json!(t));
            step
        })
        .collect()
}

/// The release lines `--transactions` draws from: from 0.11 (KIP-98) to 4.1, one line per
/// change of the transactional rules (`KafkaVersion`'s txn methods: 1.0 timeout bump, 2.0
/// KIP-279, 2.5 KIP-360/KIP-447, 2.6 equal epoch on EndTxn, 2.7 PRODUCER_FENCED, 3.6 and 3.7
/// KIP-890 part 1, 4.0 transaction version 2).
pub const TXN_VERSIONS: [&str; 11] = ["0.11", "1.0", "2.0", "2.5", "2.6", "2.7", "3.6", "3.7", "3.9", "4.0", "4.1"];

/// `losslab explore --transactions`: `file` with a transactional configuration drawn from
/// `seed` for each of these keys the file does not set: `producer.transactional.id` (always
/// `"tx"`), `app.transaction.records`, `app.transaction.abort.every`, `transaction.timeout.ms`,
/// `consumer.isolation.level` and `kafka.version` (0.11 to 4.1). The draws come from a ChaCha8
/// stream of their own, seeded apart from the fault schedule's, and every key is drawn whether
/// or not the file sets it: so a seed's fault schedule is the same with and without
/// `--transactions`, and a seed's transactional draw does not depend on what the file pins.
pub fn with_transactions(file: &Value, seed: u64) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0074_786e_6472_6177);
    let records = [5u64, 20, 40][rng.gen_range(0..3)];
    let abort_every = [0u64, 2, 3, 5][rng.gen_range(0..4)];
    // Short timeouts let a fault outlast a transaction, so that the coordinator aborts it.
    let timeout_ms = [2_000u64, 10_000, 60_000][rng.gen_range(0..3)];
    let isolation = ["read_committed", "read_committed", "read_uncommitted"][rng.gen_range(0..3)];
    let version = TXN_VERSIONS[rng.gen_range(0..TXN_VERSIONS.len())];
    let mut out = file.clone();
    let drawn: [(&[&str], Value); 6] = [
        (&["producer", "transactional.id"], json!("tx")),
        (&["producer", "app.transaction.records"], json!(records)),
        (&["producer", "app.transaction.abort.every"], json!(abort_every)),
        (&["producer", "transaction.timeout.ms"], json!(timeout_ms)),
        (&["consumer", "isolation.level"], json!(isolation)),
        (&["kafka.version"], json!(version)),
    ];
    for (path, value) in drawn {
        let set = match path {
            [key] => out.get(*key).is_some(),
            [section, key] => out.get(*section).and_then(|o| o.get(*key)).is_some(),
            _ => unreachable!("paths have one or two parts"),
        };
        if !set {
            let path: Vec<String> = path.iter().map(|p| p.to_string()).collect();
            set_path(&mut out, &path, value);
        }
    }
    out
}

/// The scenario a run uses: `point`'s file with `steps` as its faults, validated.
pub fn scenario_with(point: &GridPoint, steps: &[Value], name: &str, seed: u64) -> Result<Scenario, ScenarioError> {
    let file = with_faults(&point.file, steps, name, seed);
    Scenario::parse(&point.scenario.file, name, &serde_json::to_string(&file).expect("serializes"))
}

/// A compact label for a grid point: `acks=1 min.insync.replicas=2`, or `default`.
pub fn label(axes: &BTreeMap<String, Value>) -> String {
    if axes.is_empty() {
        return "default".into();
    }
    let parts: Vec<String> = axes
        .iter()
        .map(|(path, v)| {
            // `producer.acks` reads as Kafka's own `acks`; top-level keys keep their name.
            let key = SECTIONS
                .iter()
                .find_map(|s| path.strip_prefix(s).and_then(|rest| rest.strip_prefix('.')))
                .unwrap_or(path);
            format!("{key}={}", v.as_str().map_or_else(|| v.to_string(), str::to_string))
        })
        .collect();
    parts.join(" ")
}

/// The `config` object of explore's JSON: the file's configuration objects (with grid values).
pub fn config_object(file: &Value) -> Value {
    let mut out = Map::new();
    if let Some(obj) = file.as_object() {
        for key in TOP_LEVEL.iter().chain(SECTIONS.iter()) {
            if let Some(v) = obj.get(*key) {
                out.insert((*key).to_string(), v.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_expand_into_the_product() {
        let text = r#"{"producer": {"acks": ["0", "1", "all"]}, "topic": {"min.insync.replicas": [1, 2]}}"#;
        let grid = expand("g.json", "g", text).unwrap();
        assert_eq!(grid.len(), 6);
        let labels: BTreeSet<String> = grid.iter().map(|p| label(&p.axes)).collect();
        assert!(labels.contains("acks=1 min.insync.replicas=2"), "{labels:?}");
    }

    #[test]
    fn a_grid_is_built_point_by_point_and_its_size_may_not_overflow() {
        let file = |values: &str| {
            format!(
                r#"{{"producer": {{"linger.ms": {values}, "batch.size": {values}}}, "consumer": {{"max.poll.records": {values}}}, "workload": {{"messages": {values}}}, "broker": {{"replica.fetch.wait.max.ms": {values}}}}}"#
            )
        };
        let sixteen: Vec<String> = (1..=16).map(|i| (i * 10).to_string()).collect();
        let grid = Grid::new("g.json", "g", &file(&format!("[{}]", sixteen.join(",")))).unwrap();
        assert_eq!(grid.len(), 1 << 20);
        let last = grid.point((1 << 20) - 1).unwrap();
        assert_eq!(last.axes.values().filter(|v| **v == json!(160)).count(), 5, "{:?}", last.axes);
        // 8,000^5 points is more than 2^64: refused, never allocated.
        let many: Vec<String> = (1..=8_000).map(|i| i.to_string()).collect();
        let err = Grid::new("g.json", "g", &file(&format!("[{}]", many.join(",")))).unwrap_err();
        assert!(err.message.contains("g.json") && err.message.contains("points"), "{}", err.message);
    }

    #[test]
    fn a_bad_value_in_a_list_is_an_error_naming_the_file() {
        let err = expand("g.json", "g", r#"{"producer": {"acks": ["1", "two"]}}"#).unwrap_err();
        assert!(err.message.contains("g.json") && err.message.contains("acks"), "{}", err.message);
        assert!(expand("g.json", "g", r#"{"producer": {"acks": []}}"#).is_err());
        assert!(expand("g.json", "g", "{").is_err());
        // A bad value late in a long axis is refused by Grid::new, before any point is run.
        let err =
            Grid::new("g.json", "g", r#"{"producer": {"acks": ["1", "all", "two"]}, "brokers": [3, 5]}"#).unwrap_err();
        assert!(err.message.contains("acks"), "{}", err.message);
    }

    #[test]
    fn schedules_are_deterministic_valid_and_vary_with_the_seed() {
        let grid = expand("g.json", "g", "{}").unwrap();
        let kinds: BTreeSet<FaultKind> = FaultKind::ALL.into_iter().collect();
        let a = random_schedule(7, &kinds, &grid[0].scenario);
        assert_eq!(a, random_schedule(7, &kinds, &grid[0].scenario));
        assert!((1..=50).any(|s| random_schedule(s, &kinds, &grid[0].scenario) != a));
        for seed in 1..200 {
            let steps = random_schedule(seed, &kinds, &grid[0].scenario);
            scenario_with(&grid[0], &steps, "x", seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }

    #[test]
    fn transactional_draws_fill_only_unset_keys_and_leave_the_schedule_alone() {
        let grid = expand("g.json", "g", r#"{"consumer": {"isolation.level": "read_uncommitted"}}"#).unwrap();
        let kinds: BTreeSet<FaultKind> = FaultKind::ALL.into_iter().collect();
        let mut versions = BTreeSet::new();
        for seed in 1..200 {
            let file = with_transactions(&grid[0].file, seed);
            assert_eq!(file, with_transactions(&grid[0].file, seed), "deterministic");
            assert_eq!(file["producer"]["transactional.id"], "tx");
            assert_eq!(file["consumer"]["isolation.level"], "read_uncommitted", "the file's own value wins");
            versions.insert(file["kafka.version"].as_str().unwrap().to_string());
            let point = GridPoint { axes: BTreeMap::new(), file, scenario: grid[0].scenario.clone() };
            let steps = random_schedule(seed, &kinds, &grid[0].scenario);
            let s = scenario_with(&point, &steps, "x", seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert!(s.producer.transactional_id.is_some());
        }
        assert_eq!(versions.len(), TXN_VERSIONS.len(), "{versions:?}");
    }

    #[test]
    fn fault_kinds_parse() {
        assert_eq!(FaultKind::parse_list("crash, cut").unwrap().len(), 2);
        assert!(FaultKind::parse_list("crash,fire").unwrap_err().contains("fire"));
    }
}
