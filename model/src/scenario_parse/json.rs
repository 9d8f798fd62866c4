//! Turning the file's text into a JSON tree, or into an error that says where the text went
//! wrong. Two things serde_json alone would let through are refused here: an empty file (the
//! writer deserves a better message than "EOF at column 0"), and a key given twice in one object
//! (serde_json keeps the last silently, so `"acks": "1"` earlier in the object would be ignored
//! without a word, and the run would not test what its writer thinks it tests).

use crate::error::ScenarioError;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

/// Parses `text`; errors name `file` and, for bad text, the line and column.
pub(super) fn read(file: &str, text: &str) -> Result<Value, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError::new(
            file,
            format!("{file} is empty; a scenario is a JSON object (`{{}}` runs every default)"),
        ));
    }
    // The duplicate check walks the same text first, so that a malformed file and a duplicate key
    // are both reported at the place serde_json stopped.
    serde_json::from_str::<NoDuplicateKeys>(text).map_err(|e| with_hint(malformed(file, &e), text))?;
    serde_json::from_str::<Value>(text).map_err(|e| with_hint(malformed(file, &e), text))
}

/// Kafka's own configuration is Java properties (`acks=all`, one per line), and a user may hand
/// such a file over as it is: the JSON error at line 1, column 1 alone does not say what to do.
fn with_hint(mut error: ScenarioError, text: &str) -> ScenarioError {
    if looks_like_properties(text) {
        error.message.push_str(
            "; this looks like a Java properties file (`key=value` lines): a scenario is a JSON object \
             with the settings in sections, such as {\"producer\": {\"acks\": \"all\"}, \"topic\": {\"min.insync.replicas\": 2}} \
             (see docs/scenario-format.md)",
        );
    }
    error
}

/// The first line that is neither blank nor a `#`/`!` comment is `key=value` or `key: value`
/// with a dotted, dashed or underscored key, and the text does not open like JSON.
fn looks_like_properties(text: &str) -> bool {
    let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
    else {
        // Only comments: a properties file with everything commented out.
        return text.trim_start().starts_with('#');
    };
    let Some((key, _)) = line.split_once(['=', ':']) else { return false };
    let key = key.trim();
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// "x.json: malformed JSON at line 3, column 7: expected `,` or `}`".
fn malformed(file: &str, error: &serde_json::Error) -> ScenarioError {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the position is reported in front instead.
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full);
    let what = if reason.starts_with("duplicate key") { "invalid JSON" } else { "malformed JSON" };
    ScenarioError::new(file, format!("{file}: {what} at line {}, column {}: {reason}", error.line(), error.column()))
}

/// Accepts any JSON whose objects never repeat a key. serde_json's recursion limit still
/// applies, so deep nesting is an error, not a stack overflow.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{}` (a key may appear only once in an object)",
                    super::obj::shown(&key)
                )));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }

    // Scalars carry no keys.
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::read;

    fn error(text: &str) -> String {
        read("x.json", text).unwrap_err().message
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let message = error("{\n  \"seed\": 1,\n  \"brokers\" 3\n}");
        assert!(message.starts_with("x.json: malformed JSON at line 3, column 13: expected `:`"), "{message}");
    }

    #[test]
    fn empty_file_is_its_own_error() {
        assert_eq!(error(" \n"), "x.json is empty; a scenario is a JSON object (`{}` runs every default)");
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let message = error("{\"producer\": {\"acks\": \"1\", \"acks\": \"all\"}}");
        assert!(message.starts_with("x.json: invalid JSON at line 1, column "), "{message}");
        assert!(message.contains("duplicate key `acks`"), "{message}");
        assert!(read("x.json", "[{\"a\": 1}, {\"a\": 2}]").is_ok());
    }

    #[test]
    fn a_properties_file_gets_a_hint_and_json_does_not() {
        let message = error("# producer\nacks=all\nmin.insync.replicas=2\n");
        assert!(message.starts_with("x.json: malformed JSON at line 1, column 1: "), "{message}");
        assert!(
            message
                .contains("; this looks like a Java properties file (`key=value` lines): a scenario is a JSON object"),
            "{message}"
        );
        assert!(error("bootstrap.servers: localhost:9092").contains("Java properties"));
        assert!(!error("{\"acks\": all}").contains("Java properties"));
        assert!(!error("[1, 2").contains("Java properties"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(error(&text).contains("recursion limit exceeded"));
    }
}
