//! What `losslab chart` reads: one result per configuration, from either of two sources.
//!
//! - `losslab explore --json`: one object per configuration, `{"config": {...}, "runs": N,
//!   "found": {"lost_acked": {"runs": K, "first_seed": S, "permitted": true, "scenario":
//!   "path"}, ...}}`, with optional `"latency_ms_p99"` (simulated p99 produce latency) and
//!   optional `"counts"` (messages per finding class, summed over the runs) and optional
//!   `"faults"` (the kinds explore drew each seed's random schedule from, `["crash", "power"]`:
//!   the [`Schedule`] the latency chart groups by, and whether a power loss could happen). `config` holds the
//!   scenario keys with the values used, grouped as in a scenario file (`"producer": {"acks":
//!   "1"}`) or flat (`"acks": "1"`). Keys the object does not know are ignored, so the contract
//!   can grow.
//! - `losslab replay --json`: one object per file (scenario-format.md). Its configuration is
//!   the scenario file it names, read by the caller ([`ConfigResult::from_replay`]).
//!
//! A document is one JSON value (an object, or an array of objects: a pretty-printed
//! `summary.json` is one) or JSON lines, one value a line. Errors name the line.

use crate::settings::key_settings;
use losslab_model::fault::{Action, CrashMode, NodeRef, Target};
use losslab_model::Scenario;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The largest p99 produce latency an input may give, in ms (about 11.6 days): a simulated run
/// is bounded far below it, and the latency chart's log axis needs a finite decade above the
/// slowest point (1e308 used to send plotters' tick generation into an endless loop).
pub const LATENCY_MS_MAX: f64 = 1e9;

/// How often one finding class showed up among a configuration's runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassFound {
    pub runs: u64,
    pub first_seed: Option<u64>,
    /// explore's judgement: `Some(true)` "permitted by this configuration", `Some(false)`
    /// "guarantee broken"; `None` when the input does not say.
    pub permitted: Option<bool>,
}

/// One configuration's results, whatever the input was.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigResult {
    /// Where it came from, for messages: `results.jsonl:3`.
    pub origin: String,
    /// A short name for labels: explore's grid axes (`acks=1 min.insync.replicas=2`), or the
    /// replayed scenario's name.
    pub label: Option<String>,
    /// Scenario keys by their Kafka property name (`acks`, `min.insync.replicas`), values as
    /// strings (`"1"`, `"all"`, `"true"`); `None` when the configuration is unknown.
    pub config: Option<BTreeMap<String, String>>,
    pub runs: u64,
    pub found: BTreeMap<String, ClassFound>,
    /// Messages per finding class over all runs, when the input has them.
    pub messages: Option<BTreeMap<String, u64>>,
    pub latency_ms_p99: Option<f64>,
    /// Whether the fault schedule has a power loss, when known.
    pub power_loss: Option<bool>,
    /// How many consumers the workload ran, when known.
    pub consumers: Option<u64>,
    /// The fault schedule the runs were under, when known: the latency chart compares only
    /// configurations under the same one.
    pub schedule: Option<Schedule>,
}

/// The fault schedule of a configuration's runs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Schedule {
    /// explore's random schedules, drawn per seed from these fault kinds (`--faults`).
    Random(Vec<String>),
    /// A scenario file's fixed steps: their JSON (what makes two schedules the same) and each
    /// step in a few words (`crash leader power`).
    Steps { json: String, steps: Vec<String> },
}

/// A `losslab replay --json` object, before its scenario file is read.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayResult {
    pub origin: String,
    pub scenario: String,
    /// As the replay was given it: relative to where it ran.
    pub file: String,
    /// Per seed, in order: the seed and its counts.
    pub runs: Vec<(u64, BTreeMap<String, u64>)>,
}

/// One result read from a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Explore(ConfigResult),
    Replay(ReplayResult),
}

/// Why a document is not chart input: the line (1-based, when known) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Reads every result of `text`; `name` is how messages and origins name the document.
pub fn parse_document(name: &str, text: &str) -> Result<Vec<Record>, InputError> {
    if text.trim().is_empty() {
        return Err(InputError { line: None, message: "is empty: no result to chart".into() });
    }
    // One JSON value (possibly pretty-printed over many lines), or else JSON lines.
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let first_line = text.lines().position(|l| !l.trim().is_empty()).map_or(1, |i| i + 1);
        return records(&value, &format!("{name}:{first_line}"))
            .map_err(|message| InputError { line: Some(first_line), message });
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| InputError { line: Some(i + 1), message };
        let value: Value = serde_json::from_str(line).map_err(|e| err(format!("not JSON: {e}")))?;
        out.extend(records(&value, &format!("{name}:{}", i + 1)).map_err(err)?);
    }
    Ok(out)
}

/// Whether `value` looks like chart input at all (used to skip other JSON files in a directory).
pub fn looks_like_results(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty() && items.iter().all(looks_like_results),
        Value::Object(o) => {
            o.contains_key("config") && o.contains_key("runs")
                || o.contains_key("scenario") && o.get("runs").is_some_and(Value::is_array)
        }
        _ => false,
    }
}

fn records(value: &Value, origin: &str) -> Result<Vec<Record>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| record(item, &format!("{origin}[{i}]")).map_err(|e| format!("item {i}: {e}")))
            .collect(),
        other => Ok(vec![record(other, origin)?]),
    }
}

const SHAPE: &str = "neither an explore result ({\"config\", \"runs\", \"found\"}) nor a `losslab replay --json` \
                     object ({\"scenario\", \"file\", \"runs\"})";

fn record(value: &Value, origin: &str) -> Result<Record, String> {
    let Value::Object(o) = value else { return Err(format!("{SHAPE}: not an object")) };
    if o.contains_key("config") {
        explore(o, origin).map(Record::Explore)
    } else if o.contains_key("scenario") && o.contains_key("runs") {
        replay(o, origin).map(Record::Replay)
    } else {
        Err(SHAPE.to_string())
    }
}

fn explore(o: &Map<String, Value>, origin: &str) -> Result<ConfigResult, String> {
    let Some(Value::Object(config)) = o.get("config") else { return Err("`config` is not an object".into()) };
    let mut flat = BTreeMap::new();
    flatten(config, &mut flat);
    let runs = count(o, "runs")?.ok_or("`runs` is missing")?;
    let mut found = BTreeMap::new();
    match o.get("found") {
        None | Some(Value::Null) => {}
        Some(Value::Object(classes)) => {
            for (class, v) in classes {
                let f = class_found(v).map_err(|e| format!("`found.{class}`: {e}"))?;
                if f.runs > runs {
                    return Err(format!("`found.{class}.runs` is {}, more than `runs` ({runs})", f.runs));
                }
                found.insert(class.clone(), f);
            }
        }
        Some(_) => return Err("`found` is not an object".into()),
    }
    let messages = match o.get("counts") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) => Some(counts(c).map_err(|e| format!("`counts`: {e}"))?),
        Some(_) => return Err("`counts` is not an object".into()),
    };
    let latency_ms_p99 = match o.get("latency_ms_p99") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(ms) if (0.0..=LATENCY_MS_MAX).contains(&ms) => Some(ms),
            _ => {
                return Err(format!(
                    "`latency_ms_p99` is {v}, not a number of milliseconds from 0 to {LATENCY_MS_MAX:e}"
                ))
            }
        },
    };
    // explore writes the kinds it drew schedules from as `"faults": ["crash", ...]`; older
    // output has none (then neither the schedule nor a power loss is known).
    let kinds = match o.get("faults").or_else(|| config.get("faults")) {
        None | Some(Value::Null) => None,
        Some(Value::Array(kinds)) => Some(kinds.iter().map(scalar).collect::<Vec<_>>()),
        Some(other) => return Err(format!("`faults` is {other}, not a list of fault kinds")),
    };
    let power_loss = kinds.as_ref().map(|k| k.iter().any(|k| k == "power"));
    let schedule = kinds.map(Schedule::Random);
    let consumers = flat.get("consumers").and_then(|c| c.parse().ok());
    let label = match o.get("axes") {
        Some(Value::Object(axes)) if !axes.is_empty() => Some(axes_label(axes)),
        _ => None,
    };
    Ok(ConfigResult {
        origin: origin.to_string(),
        label,
        config: Some(flat),
        runs,
        found,
        messages,
        latency_ms_p99,
        power_loss,
        consumers,
        schedule,
    })
}

/// explore's grid axes, `{"producer.acks": "1", "brokers": 3}`, as `brokers=3 acks=1`: in the
/// order of their paths, whether or not serde_json keeps the input's order.
fn axes_label(axes: &Map<String, Value>) -> String {
    const SECTIONS: [&str; 6] = ["topic.", "broker.", "producer.", "consumer.", "workload.", "network."];
    let sorted: BTreeMap<&String, &Value> = axes.iter().collect();
    sorted
        .into_iter()
        .map(|(path, v)| {
            let key = SECTIONS.iter().find_map(|s| path.strip_prefix(s)).unwrap_or(path);
            format!("{key}={}", scalar(v))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `{"producer": {"acks": "1"}, "brokers": 3}` as `acks=1, brokers=3`; `acks` normalized to
/// `0`, `1` or `all` whichever way it was written.
fn flatten(config: &Map<String, Value>, out: &mut BTreeMap<String, String>) {
    for (key, value) in config {
        match value {
            Value::Object(inner) => flatten(inner, out),
            v => {
                out.insert(key.clone(), scalar(v));
            }
        }
    }
    if let Some(acks) = out.get_mut("acks") {
        if acks == "-1" || acks.eq_ignore_ascii_case("all") {
            *acks = "all".into();
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn class_found(v: &Value) -> Result<ClassFound, String> {
    match v {
        Value::Number(_) => {
            Ok(ClassFound { runs: v.as_u64().ok_or("not a count of runs")?, first_seed: None, permitted: None })
        }
        Value::Object(o) => {
            let runs = count(o, "runs")?.unwrap_or(0);
            let first_seed = count(o, "first_seed")?;
            let permitted = match o.get("permitted") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(other) => return Err(format!("`permitted` is {other}, not true or false")),
            };
            Ok(ClassFound { runs, first_seed, permitted })
        }
        other => Err(format!("{other} is neither an object nor a count of runs")),
    }
}

/// A non-negative integer under `key`, or `None` when absent or null.
fn count(o: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("`{key}` is {v}, not a count")),
    }
}

fn counts(c: &Map<String, Value>) -> Result<BTreeMap<String, u64>, String> {
    c.iter()
        .map(|(k, v)| v.as_u64().map(|n| (k.clone(), n)).ok_or_else(|| format!("`{k}` is {v}, not a count")))
        .collect()
}

fn replay(o: &Map<String, Value>, origin: &str) -> Result<ReplayResult, String> {
    let text = |key: &str| match o.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(format!("`{key}` is missing or not a string")),
    };
    let Some(Value::Array(items)) = o.get("runs") else { return Err("`runs` is not an array".into()) };
    let mut runs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(run) = item else { return Err(format!("`runs[{i}]` is not an object")) };
        let seed = count(run, "seed")
            .map_err(|e| format!("`runs[{i}]`: {e}"))?
            .ok_or(format!("`runs[{i}].seed` is missing"))?;
        let Some(Value::Object(c)) = run.get("counts") else {
            return Err(format!("`runs[{i}].counts` is not an object"));
        };
        runs.push((seed, counts(c).map_err(|e| format!("`runs[{i}].counts`: {e}"))?));
    }
    Ok(ReplayResult { origin: origin.to_string(), scenario: text("scenario")?, file: text("file")?, runs })
}

impl ConfigResult {
    /// A replayed file as one configuration: its scenario's key settings (`None` when the
    /// scenario file could not be read), every seed a run, and the produce latency measured
    /// from its histories when the caller has them.
    pub fn from_replay(
        replay: &ReplayResult,
        scenario: Option<&Scenario>,
        latency_ms_p99: Option<f64>,
    ) -> ConfigResult {
        let config = scenario.map(|s| {
            key_settings(s)
                .into_iter()
                .flat_map(|g| g.settings.into_iter().map(|(k, v)| (k.to_string(), v)))
                .collect::<BTreeMap<String, String>>()
        });
        let mut found: BTreeMap<String, ClassFound> = BTreeMap::new();
        let mut messages: BTreeMap<String, u64> = BTreeMap::new();
        for (seed, counts) in &replay.runs {
            for (class, &n) in counts {
                *messages.entry(class.clone()).or_default() += n;
                if n > 0 && !["sent", "acked", "failed"].contains(&class.as_str()) {
                    let f =
                        found.entry(class.clone()).or_insert(ClassFound { runs: 0, first_seed: None, permitted: None });
                    f.runs += 1;
                    f.first_seed = Some(f.first_seed.map_or(*seed, |s| s.min(*seed)));
                }
            }
        }
        let power_loss = scenario
            .map(|s| s.faults.iter().any(|step| matches!(step.action, Action::Crash { mode: CrashMode::Power, .. })));
        ConfigResult {
            origin: replay.origin.clone(),
            label: Some(replay.scenario.clone()),
            config,
            runs: replay.runs.len() as u64,
            found,
            messages: Some(messages),
            latency_ms_p99,
            power_loss,
            consumers: scenario.map(|s| s.workload.consumers as u64),
            schedule: scenario.map(steps_of),
        }
    }

    /// Runs that showed `class`.
    pub fn runs_with(&self, class: &str) -> u64 {
        self.found.get(class).map_or(0, |f| f.runs.min(self.runs))
    }
}

/// A scenario's fault steps as a [`Schedule`]: each step as its action and the values it
/// names (`crash leader power`, `cut leader followers oneway`), in the file's order.
fn steps_of(s: &Scenario) -> Schedule {
    let json = serde_json::to_string(&s.faults).unwrap_or_default();
    let steps = s.faults.iter().map(|step| step_words(&step.action)).collect();
    Schedule::Steps { json, steps }
}

fn step_words(action: &Action) -> String {
    let target = |t: &Target| {
        t.0.iter()
            .map(|n| match n {
                NodeRef::Name(name) => name.as_str(),
                NodeRef::Leader(_) => "leader",
                NodeRef::Followers(_) => "followers",
                NodeRef::Follower(_) => "follower",
                NodeRef::Brokers => "brokers",
                NodeRef::GroupCoordinator => "group-coordinator",
                NodeRef::TxnCoordinator => "txn-coordinator",
            })
            .collect::<Vec<_>>()
            .join("+")
    };
    let name = action.name();
    match action {
        Action::Crash { node, mode: CrashMode::Power } => format!("{name} {} power", target(node)),
        Action::Crash { node, .. }
        | Action::Restart { node }
        | Action::Wipe { node }
        | Action::Pause { node }
        | Action::Resume { node }
        | Action::Isolate { node }
        | Action::Stop { node } => format!("{name} {}", target(node)),
        Action::Cut { from, to, oneway } | Action::Slow { from, to, oneway, .. } => {
            format!("{name} {}{}{}", target(from), if *oneway { "->" } else { "<->" }, target(to))
        }
        Action::Heal { .. } | Action::Elect { .. } => name.to_string(),
    }
}

/// The time from `send()` to the producer's acknowledgement of every acknowledged record of
/// `events`, in simulated microseconds, in the order of the acknowledgements.
pub fn produce_latencies_us<'a>(events: impl IntoIterator<Item = &'a losslab_model::Event>) -> Vec<u64> {
    use losslab_model::EventKind;
    let mut sent: BTreeMap<losslab_model::MsgId, u64> = BTreeMap::new();
    let mut latencies = Vec::new();
    for event in events {
        match &event.kind {
            EventKind::Send { msg, .. } => {
                sent.insert(*msg, event.t_us);
            }
            EventKind::Acked { msgs, .. } => {
                latencies.extend(msgs.iter().filter_map(|m| sent.remove(m)).map(|t| event.t_us.saturating_sub(t)));
            }
            _ => {}
        }
    }
    latencies
}

/// The p99 of `latencies_us` in milliseconds (nearest rank); `None` for none.
pub fn p99_ms(mut latencies_us: Vec<u64>) -> Option<f64> {
    if latencies_us.is_empty() {
        return None;
    }
    latencies_us.sort_unstable();
    let rank = (latencies_us.len() * 99).div_ceil(100).max(1);
    Some(latencies_us[rank - 1] as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPLORE: &str = r#"{"config": {"producer": {"acks": "-1"}, "topic": {"min.insync.replicas": 2, "unclean.leader.election.enable": false}}, "runs": 10, "found": {"lost_acked": {"runs": 3, "first_seed": 7, "permitted": false, "scenario": "x.json"}}, "latency_ms_p99": 12.5, "future_key": 1}"#;

    fn one(text: &str) -> ConfigResult {
        match parse_document("r.jsonl", text).unwrap().remove(0) {
            Record::Explore(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_an_explore_line() {
        let c = one(EXPLORE);
        let config = c.config.as_ref().unwrap();
        assert_eq!(config["acks"], "all");
        assert_eq!(config["min.insync.replicas"], "2");
        assert_eq!(config["unclean.leader.election.enable"], "false");
        assert_eq!(c.runs, 10);
        assert_eq!(c.runs_with("lost_acked"), 3);
        assert_eq!(c.found["lost_acked"].first_seed, Some(7));
        assert_eq!(c.found["lost_acked"].permitted, Some(false));
        assert_eq!(c.latency_ms_p99, Some(12.5));
        assert_eq!(c.origin, "r.jsonl:1");
        assert_eq!(c.label, None);
        let with_axes = one(r#"{"config": {}, "axes": {"producer.acks": "1", "brokers": 3}, "runs": 1}"#);
        assert_eq!(with_axes.label.as_deref(), Some("brokers=3 acks=1"));
    }

    #[test]
    fn reads_json_lines_arrays_and_pretty_documents() {
        let lines = format!("{EXPLORE}\n\n{EXPLORE}\n");
        let records = parse_document("r.jsonl", &lines).unwrap();
        assert_eq!(records.len(), 2);
        let Record::Explore(second) = &records[1] else { panic!() };
        assert_eq!(second.origin, "r.jsonl:3");
        assert_eq!(parse_document("a.json", &format!("[{EXPLORE}, {EXPLORE}]")).unwrap().len(), 2);
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(EXPLORE).unwrap()).unwrap();
        assert_eq!(parse_document("p.json", &pretty).unwrap().len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let text = format!("{EXPLORE}\n{{\"config\": {{}}, \"runs\": -1}}\n");
        let e = parse_document("r.jsonl", &text).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("`runs` is -1, not a count"), "{e}");
        let e = parse_document("r.jsonl", &format!("{EXPLORE}\nnot json\n")).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.starts_with("not JSON"), "{e}");
        let e = parse_document("r.jsonl", "{\"hello\": 1}").unwrap_err();
        assert!(e.message.contains("neither an explore result"), "{e}");
        let e = parse_document("r.jsonl", r#"{"config": {}, "runs": 2, "found": {"lost_acked": {"runs": 3}}}"#)
            .unwrap_err();
        assert!(e.message.contains("more than `runs`"), "{e}");
        assert!(parse_document("r.jsonl", "  \n").unwrap_err().message.contains("empty"));
        let e = parse_document("r.jsonl", r#"{"config": {}, "runs": 2, "latency_ms_p99": "fast"}"#).unwrap_err();
        assert!(e.message.contains("latency_ms_p99"), "{e}");
    }

    #[test]
    fn a_replay_line_becomes_a_configuration() {
        let text = r#"{"scenario": "s", "file": "scenarios/s.json", "seeds": [1, 2], "passed": true, "counts": {}, "expect": {}, "runs": [{"seed": 1, "trace_hash": "x", "counts": {"sent": 10, "lost_acked": 4}, "findings": []}, {"seed": 2, "trace_hash": "y", "counts": {"sent": 10, "lost_acked": 0}, "findings": []}]}"#;
        let Record::Replay(r) = parse_document("d/s.jsonl", text).unwrap().remove(0) else { panic!() };
        assert_eq!(r.file, "scenarios/s.json");
        let scenario = Scenario::parse(
            "s.json",
            "s",
            r#"{"producer": {"acks": "1"}, "faults": [{"action": "crash", "node": "leader", "mode": "power"}]}"#,
        )
        .unwrap();
        let c = ConfigResult::from_replay(&r, Some(&scenario), Some(3.0));
        assert_eq!(c.runs, 2);
        assert_eq!(c.runs_with("lost_acked"), 1);
        assert_eq!(c.found["lost_acked"].first_seed, Some(1));
        assert_eq!(c.messages.as_ref().unwrap()["lost_acked"], 4);
        assert_eq!(c.config.as_ref().unwrap()["acks"], "1");
        assert_eq!(c.power_loss, Some(true));
        assert!(ConfigResult::from_replay(&r, None, None).config.is_none());
    }

    #[test]
    fn the_fault_schedule_is_read_from_explore_and_from_the_scenario() {
        let c = one(r#"{"config": {}, "faults": ["crash", "power"], "runs": 1}"#);
        assert_eq!(c.schedule, Some(Schedule::Random(vec!["crash".into(), "power".into()])));
        assert_eq!(c.power_loss, Some(true));
        let c = one(r#"{"config": {}, "runs": 1}"#);
        assert_eq!((c.schedule, c.power_loss), (None, None));
        let e = parse_document("r.jsonl", r#"{"config": {}, "faults": "crash", "runs": 1}"#).unwrap_err();
        assert!(e.message.contains("`faults` is \"crash\", not a list of fault kinds"), "{e}");
        let text = r#"{"faults": [{"after_acked": 5, "action": "crash", "node": "leader", "mode": "power"}, {"delay_ms": 9, "action": "cut", "between": [["leader"], ["followers"]], "oneway": true}, {"delay_ms": 9, "action": "restart", "node": "brokers"}]}"#;
        let scenario = Scenario::parse("s.json", "s", text).unwrap();
        let Schedule::Steps { steps, .. } = steps_of(&scenario) else { panic!() };
        assert_eq!(steps, ["crash leader power", "cut leader->followers", "restart brokers"]);
    }

    #[test]
    fn recognises_results_among_other_json() {
        assert!(looks_like_results(&serde_json::from_str(EXPLORE).unwrap()));
        assert!(!looks_like_results(&serde_json::json!({"name": "a scenario", "faults": []})));
        assert!(!looks_like_results(&serde_json::json!([])));
    }

    #[test]
    fn p99_latency_is_the_nearest_rank() {
        use losslab_model::{Event, EventKind, History, MsgId, NodeName};
        let mut events = Vec::new();
        for seq in 0..100u64 {
            let msg = MsgId { producer: 1, seq };
            events.push(Event {
                t_us: seq * 10,
                node: NodeName::Producer(1),
                kind: EventKind::Send { msg, partition: 0, resend_of: None, txn: None },
            });
            let kind = EventKind::Acked {
                partition: 0,
                batch: seq,
                base_offset: Some(seq),
                msgs: vec![msg].into(),
                app_notified: true,
            };
            events.push(Event { t_us: seq * 10 + (seq + 1) * 1000, node: NodeName::Producer(1), kind });
        }
        let history = History { events, ..History::default() };
        assert_eq!(p99_ms(produce_latencies_us(&history.events)), Some(99.0));
        assert_eq!(p99_ms(Vec::new()), None);
    }
}
