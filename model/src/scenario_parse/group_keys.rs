//! The consumer keys of group membership that depend on the release: `group.instance.id`
//! (KIP-345, 2.3) and `partition.assignment.strategy` (Kafka's class names or protocol names,
//! as a comma-separated string or a JSON list; `cooperative-sticky` from 2.4). Kept apart from
//! `config` so that the section's table stays one line a key.

use super::obj::{describe, Obj, Result};
use crate::config::Assignor;
use crate::version::KafkaVersion;
use serde_json::Value;

/// Every spelling Kafka accepts for the assignors losslab simulates: the protocol name and the
/// class name (`ConsumerConfig` takes classes; the names are what `kafka-consumer-groups` shows).
const ASSIGNORS: [(&str, Assignor); 4] = [
    ("range", Assignor::Range),
    ("org.apache.kafka.clients.consumer.RangeAssignor", Assignor::Range),
    ("cooperative-sticky", Assignor::CooperativeSticky),
    ("org.apache.kafka.clients.consumer.CooperativeStickyAssignor", Assignor::CooperativeSticky),
];

/// Kafka's other built-in assignors: real, but not simulated.
const NOT_SIMULATED: [&str; 4] = [
    "org.apache.kafka.clients.consumer.RoundRobinAssignor",
    "org.apache.kafka.clients.consumer.StickyAssignor",
    "roundrobin",
    "sticky",
];

pub(super) fn group_instance_id(o: &Obj, version: KafkaVersion) -> Result<Option<String>> {
    let Some(id) = o.opt_str("group.instance.id", "a string")? else { return Ok(None) };
    if !version.has_static_membership() {
        return Err(o.fail(
            "group.instance.id",
            format!("is set, but Kafka {version} has no static membership (KIP-345 came in 2.3)"),
        ));
    }
    // `JoinGroupRequest.validateGroupInstanceId`.
    if id.is_empty() {
        return Err(
            o.fail("group.instance.id", "must not be empty (Kafka: \"Group instance id must be non-empty string\")")
        );
    }
    Ok(Some(id.to_string()))
}

pub(super) fn assignment_strategy(o: &Obj, version: KafkaVersion) -> Result<Vec<Assignor>> {
    let key = "partition.assignment.strategy";
    let names: Vec<String> = match o.get(key) {
        None if version.default_assignors_add_cooperative_sticky() => {
            return Ok(vec![Assignor::Range, Assignor::CooperativeSticky])
        }
        None => return Ok(vec![Assignor::Range]),
        // Kafka's LIST type: a comma-separated string, blanks around each item ignored.
        Some(Value::String(s)) => s.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| o.fail(key, format!("must list strings, got {}", describe(v))))
            })
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(o.fail(key, format!("must be a string or a list of strings, got {}", describe(other))))
        }
    };
    if names.is_empty() {
        return Err(o.fail(key, "must name at least one assignor"));
    }
    names
        .iter()
        .map(|name| {
            let assignor = ASSIGNORS.iter().find(|(n, _)| n == name).map(|&(_, a)| a).ok_or_else(|| {
                let why = if NOT_SIMULATED.contains(&name.as_str()) {
                    "is a Kafka assignor losslab does not simulate"
                } else {
                    "is not an assignor Kafka knows"
                };
                o.fail(
                    key,
                    format!(
                        "names \"{name}\", which {why}; use \"range\" or \"cooperative-sticky\" (or their class names)"
                    ),
                )
            })?;
            if assignor == Assignor::CooperativeSticky && !version.has_cooperative_rebalancing() {
                return Err(o.fail(
                    key,
                    format!(
                        "names \"{name}\", but Kafka {version} has no CooperativeStickyAssignor (KIP-429 came in 2.4)"
                    ),
                ));
            }
            Ok(assignor)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value, version: KafkaVersion) -> std::result::Result<(Option<String>, Vec<Assignor>), String> {
        let file = json!({ "consumer": value });
        let top = Obj::top("x.json", &file).unwrap().check_keys(&["consumer"], |_| None).unwrap();
        let keys = ["group.instance.id", "partition.assignment.strategy"];
        let o = top.child("consumer").unwrap().check_keys(&keys, |_| None).unwrap();
        let id = group_instance_id(&o, version).map_err(|e| e.message)?;
        let strategy = assignment_strategy(&o, version).map_err(|e| e.message)?;
        Ok((id, strategy))
    }

    const V2_2: KafkaVersion = KafkaVersion::new(2, 2);
    const V2_3: KafkaVersion = KafkaVersion::new(2, 3);
    const V3_0: KafkaVersion = KafkaVersion::new(3, 0);

    #[test]
    fn strategies_accept_names_classes_strings_and_lists() {
        use Assignor::*;
        assert_eq!(parse(json!({}), V2_3).unwrap().1, [Range]);
        assert_eq!(parse(json!({}), V3_0).unwrap().1, [Range, CooperativeSticky]);
        assert_eq!(
            parse(json!({"partition.assignment.strategy": "cooperative-sticky"}), V3_0).unwrap().1,
            [CooperativeSticky]
        );
        let classes = "org.apache.kafka.clients.consumer.CooperativeStickyAssignor, org.apache.kafka.clients.consumer.RangeAssignor";
        assert_eq!(
            parse(json!({"partition.assignment.strategy": classes}), V3_0).unwrap().1,
            [CooperativeSticky, Range]
        );
        assert_eq!(parse(json!({"partition.assignment.strategy": ["range"]}), V3_0).unwrap().1, [Range]);
    }

    #[test]
    fn unknown_or_early_assignors_are_refused() {
        let err = parse(json!({"partition.assignment.strategy": "roundrobin"}), V3_0).unwrap_err();
        assert_eq!(err, "`consumer.partition.assignment.strategy` in x.json names \"roundrobin\", which is a Kafka assignor losslab does not simulate; use \"range\" or \"cooperative-sticky\" (or their class names)");
        let err = parse(json!({"partition.assignment.strategy": ["range", "fair"]}), V3_0).unwrap_err();
        assert!(err.contains("names \"fair\", which is not an assignor Kafka knows"), "{err}");
        let err = parse(json!({"partition.assignment.strategy": "cooperative-sticky"}), V2_3).unwrap_err();
        assert!(err.contains("Kafka 2.3 has no CooperativeStickyAssignor (KIP-429 came in 2.4)"), "{err}");
        assert!(parse(json!({"partition.assignment.strategy": ""}), V3_0)
            .unwrap_err()
            .contains("must name at least one assignor"));
        assert!(parse(json!({"partition.assignment.strategy": [1]}), V3_0)
            .unwrap_err()
            .contains("must list strings, got 1"));
    }

    #[test]
    fn instance_ids_need_2_3() {
        assert_eq!(parse(json!({"group.instance.id": "app"}), V2_3).unwrap().0.as_deref(), Some("app"));
        let err = parse(json!({"group.instance.id": "app"}), V2_2).unwrap_err();
        assert_eq!(err, "`consumer.group.instance.id` in x.json is set, but Kafka 2.2 has no static membership (KIP-345 came in 2.3)");
        assert!(parse(json!({"group.instance.id": ""}), V2_3).unwrap_err().contains("must not be empty"));
    }
}
