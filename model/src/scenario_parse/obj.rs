//! Reading one JSON object of a scenario file: the only place that knows how a key is looked up,
//! type-checked, bounded and defaulted, and how every error names the file, the key path and
//! what was expected. The sections (`config`, `faults`, `expect`) describe *which* keys exist;
//! this module makes sure they are all read and reported the same way.

use crate::error::ScenarioError;
use crate::suggest;
use serde_json::{Map, Value};
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::sync::OnceLock;

pub(super) type Result<T> = std::result::Result<T, ScenarioError>;

/// Kafka's `INT` type: properties Kafka declares as a Java `int` cannot exceed this.
pub(super) const INT: u64 = i32::MAX as u64;
/// Kafka's `LONG` type.
pub(super) const LONG: u64 = i64::MAX as u64;

/// User text longer than this is cut short in messages: an error must stay one readable line.
const SHOWN_CHARS: usize = 60;

/// One object of the file, at `path` (`"producer"`, `"faults[2]"`, `""` for the top level).
pub(super) struct Obj<'a> {
    file: &'a str,
    path: String,
    map: &'a Map<String, Value>,
    /// The keys this object may hold, once checked; reads of other keys are a bug in losslab.
    known: Vec<&'static str>,
}

impl<'a> Obj<'a> {
    /// The file's top level, which must be an object.
    pub fn top(file: &'a str, value: &'a Value) -> Result<Obj<'a>> {
        let map = value.as_object().ok_or_else(|| {
            ScenarioError::new(file, format!("{file}: the top level must be a JSON object, got {}", describe(value)))
        })?;
        Ok(Obj { file, path: String::new(), map, known: Vec::new() })
    }

    /// An object found at `path`, such as one fault step.
    pub fn element(file: &'a str, path: String, value: &'a Value) -> Result<Obj<'a>> {
        match value.as_object() {
            Some(map) => Ok(Obj { file, path, map, known: Vec::new() }),
            None => {
                Err(ScenarioError::new(file, format!("`{path}` in {file} must be an object, got {}", describe(value))))
            }
        }
    }

    /// The object under `key`; an absent key reads as `{}`, so every default applies.
    pub fn child(&self, key: &str) -> Result<Obj<'a>> {
        match self.get(key) {
            None => Ok(Obj { file: self.file, path: self.key_path(key), map: empty(), known: Vec::new() }),
            Some(value) => Obj::element(self.file, self.key_path(key), value),
        }
    }

    /// Refuses the first key (in key order, so the report is deterministic) that is not in
    /// `known`. `hint` may explain where a misplaced key belongs; otherwise the closest known
    /// key is suggested.
    pub fn check_keys(mut self, known: &[&'static str], hint: impl Fn(&str) -> Option<String>) -> Result<Obj<'a>> {
        if let Some(key) = self.map.keys().find(|k| !known.contains(&k.as_str())) {
            let advice = hint(key)
                .or_else(|| suggest::closest(key, known.iter().copied()).map(|s| format!("; did you mean `{s}`?")))
                .unwrap_or_default();
            return Err(self.error(format!("unknown key `{}` {}{advice}", shown(key), self.location())));
        }
        self.known = known.to_vec();
        Ok(self)
    }

    /// The keys present, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &'a str> {
        self.map.keys().map(String::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        debug_assert!(self.known.contains(&key), "`{key}` is read from `{}` but not declared", self.path);
        self.map.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// `"producer.linger.ms"`; a top-level key is its own path.
    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn file(&self) -> &'a str {
        self.file
    }

    /// "at the top level of x.json" / "in `producer` of x.json".
    pub fn location(&self) -> String {
        if self.path.is_empty() {
            format!("at the top level of {}", self.file)
        } else {
            format!("in `{}` of {}", self.path, self.file)
        }
    }

    /// An error about the file as a whole; `message` already names the file.
    pub fn error(&self, message: impl Into<String>) -> ScenarioError {
        ScenarioError::new(self.file, message)
    }

    /// "`producer.linger.ms` in x.json {rest}": an error about one key.
    pub fn fail(&self, key: &str, rest: impl Display) -> ScenarioError {
        self.error(format!("`{}` in {} {rest}", self.key_path(key), self.file))
    }

    /// A non-negative integer within `range`, or `default` when absent.
    pub fn uint<T: TryFrom<u64>>(&self, key: &str, range: RangeInclusive<u64>, default: T) -> Result<T> {
        Ok(self.opt_uint(key, range)?.unwrap_or(default))
    }

    /// A non-negative integer within `range`, or `None` when absent.
    pub fn opt_uint<T: TryFrom<u64>>(&self, key: &str, range: RangeInclusive<u64>) -> Result<Option<T>> {
        self.get(key).map(|value| self.to_uint(key, value, &range)).transpose()
    }

    /// Like `opt_uint`, but JSON `null` is accepted and means `None` (Kafka's nullable LONGs).
    pub fn nullable_uint(&self, key: &str, range: RangeInclusive<u64>) -> Result<Option<u64>> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => self.to_uint(key, value, &range).map(Some),
        }
    }

    fn to_uint<T: TryFrom<u64>>(&self, key: &str, value: &Value, range: &RangeInclusive<u64>) -> Result<T> {
        let n = value
            .as_u64()
            .ok_or_else(|| self.fail(key, format!("must be {}, got {}", expected_uint(range), describe(value))))?;
        let out_of_range =
            || self.fail(key, format!("must be an integer from {} to {}, got {n}", range.start(), range.end()));
        if !range.contains(&n) {
            return Err(out_of_range());
        }
        T::try_from(n).map_err(|_| out_of_range())
    }

    pub fn boolean(&self, key: &str, default: bool) -> Result<bool> {
        Ok(self.opt_bool(key)?.unwrap_or(default))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(value) => Err(self.fail(key, format!("must be true or false, got {}", describe(value)))),
        }
    }

    pub fn string(&self, key: &str, default: &str) -> Result<String> {
        Ok(self.opt_str(key, "a string")?.unwrap_or(default).to_string())
    }

    /// A string, or `None` when absent; `expected` describes it in the type error.
    pub fn opt_str(&self, key: &str, expected: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(value) => Err(self.fail(key, format!("must be {expected}, got {}", describe(value)))),
        }
    }

    /// One of the named string values, or `default` when absent.
    pub fn choice<T: Copy>(&self, key: &str, choices: &[(&'static str, T)], default: T) -> Result<T> {
        Ok(self.opt_choice(key, choices)?.unwrap_or(default))
    }

    pub fn opt_choice<T: Copy>(&self, key: &str, choices: &[(&'static str, T)]) -> Result<Option<T>> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let found = value.as_str().and_then(|s| choices.iter().find(|(name, _)| *name == s));
        match found {
            Some(&(_, choice)) => Ok(Some(choice)),
            None => Err(self.fail(key, choice_error(value, choices.iter().map(|&(name, _)| name)))),
        }
    }
}

/// "must be one of "log", "resend", got "retry"" plus a suggestion when one is close.
pub(super) fn choice_error<'c>(value: &Value, names: impl Iterator<Item = &'c str> + Clone) -> String {
    let listed: Vec<String> = names.clone().map(|n| format!("\"{n}\"")).collect();
    let advice = value
        .as_str()
        .and_then(|s| suggest::closest(s, names))
        .map(|s| format!("; did you mean \"{s}\"?"))
        .unwrap_or_default();
    format!("must be one of {}, got {}{advice}", listed.join(", "), describe(value))
}

/// What an integer key expects, for type errors.
fn expected_uint(range: &RangeInclusive<u64>) -> String {
    match (*range.start(), *range.end()) {
        (0, end) if end >= INT => "a non-negative integer".to_string(),
        (1, end) if end >= INT => "a positive integer".to_string(),
        (start, end) => format!("an integer from {start} to {end}"),
    }
}

/// A JSON value as an error message shows it: scalars as written, containers by their kind.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => Value::String(shown(s)).to_string(),
        Value::Array(items) if items.len() == 1 => "an array of 1 element".to_string(),
        Value::Array(items) => format!("an array of {} elements", items.len()),
        Value::Object(_) => "an object".to_string(),
        scalar => scalar.to_string(),
    }
}

/// User text made safe for a one-line message: control characters escaped, long text cut.
pub(super) fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(SHOWN_CHARS)
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect();
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The object an absent key stands for.
fn empty() -> &'static Map<String, Value> {
    static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEYS: [&str; 4] = ["linger.ms", "acks", "on", "mode"];

    fn with<T>(value: Value, read: impl FnOnce(&Obj) -> Result<T>) -> std::result::Result<T, String> {
        let top = Obj::top("x.json", &value).unwrap().check_keys(&KEYS, |_| None).map_err(|e| e.message)?;
        read(&top).map_err(|e| e.message)
    }

    #[test]
    fn integers_are_checked_for_type_and_range() {
        assert_eq!(with(json!({}), |o| o.uint("linger.ms", 0..=LONG, 5u64)), Ok(5));
        assert_eq!(with(json!({"linger.ms": 7}), |o| o.uint("linger.ms", 0..=LONG, 5u64)), Ok(7));
        let cases = [
            (json!("5"), "must be a non-negative integer, got \"5\""),
            (json!(-1), "must be a non-negative integer, got -1"),
            (json!(1.5), "must be a non-negative integer, got 1.5"),
            (json!(1e300), "must be a non-negative integer, got 1e+300"),
            (json!(null), "must be a non-negative integer, got null"),
            (json!([1]), "must be a non-negative integer, got an array of 1 element"),
        ];
        for (value, want) in cases {
            let got = with(json!({ "linger.ms": value }), |o| o.uint("linger.ms", 0..=LONG, 5u64));
            assert_eq!(got, Err(format!("`linger.ms` in x.json {want}")));
        }
        let got = with(json!({"linger.ms": 65}), |o| o.uint("linger.ms", 1..=64, 1u32));
        assert_eq!(got, Err("`linger.ms` in x.json must be an integer from 1 to 64, got 65".into()));
    }

    #[test]
    fn null_is_accepted_only_where_nullable() {
        assert_eq!(with(json!({"linger.ms": null}), |o| o.nullable_uint("linger.ms", 0..=LONG)), Ok(None));
        assert_eq!(with(json!({"linger.ms": 3}), |o| o.nullable_uint("linger.ms", 0..=LONG)), Ok(Some(3)));
    }

    #[test]
    fn unknown_keys_name_the_closest_known_key() {
        let got = with(json!({"ack": 1}), |_| Ok(()));
        assert_eq!(got, Err("unknown key `ack` at the top level of x.json; did you mean `acks`?".into()));
        let got = with(json!({"compression.type": "lz4"}), |_| Ok(()));
        assert_eq!(got, Err("unknown key `compression.type` at the top level of x.json".into()));
    }

    #[test]
    fn choices_list_the_allowed_values() {
        let modes = [("process", 1), ("power", 2)];
        assert_eq!(with(json!({"mode": "power"}), |o| o.choice("mode", &modes, 1)), Ok(2));
        let got = with(json!({"mode": "powr"}), |o| o.choice("mode", &modes, 1));
        let want = "`mode` in x.json must be one of \"process\", \"power\", got \"powr\"; did you mean \"power\"?";
        assert_eq!(got, Err(want.into()));
    }

    #[test]
    fn long_and_odd_text_is_shown_safely() {
        assert_eq!(shown("a\nb"), "a\\nb");
        assert_eq!(shown(&"k".repeat(100)).chars().count(), SHOWN_CHARS + 1);
    }
}
