//! `kafka.version`: which release line's replication rules a run follows. Each rule that changed
//! across Kafka's history is a method here, so the simulator asks "does this release truncate
//! by leader epoch?" rather than comparing version numbers all over the code.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Kafka release line, `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KafkaVersion {
    pub major: u32,
    pub minor: u32,
}

impl KafkaVersion {
    pub const DEFAULT: KafkaVersion = KafkaVersion { major: 4, minor: 1 };
    /// The oldest line losslab simulates.
    pub const OLDEST: KafkaVersion = KafkaVersion { major: 0, minor: 10 };

    pub const fn new(major: u32, minor: u32) -> Self {
        KafkaVersion { major, minor }
    }

    /// Parses `"X.Y"`. Any `X.Y` at or above 0.10 is accepted and takes the rules of the
    /// nearest line below it; anything else is `None`.
    pub fn parse(text: &str) -> Option<KafkaVersion> {
        let (major, minor) = text.split_once('.')?;
        if major.is_empty() || minor.is_empty() {
            return None;
        }
        if !major.bytes().all(|b| b.is_ascii_digit()) || !minor.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v = KafkaVersion::new(major.parse().ok()?, minor.parse().ok()?);
        (v >= Self::OLDEST).then_some(v)
    }

    /// KIP-101 (0.11): followers truncate by leader epoch, not to their high watermark.
    pub fn truncates_by_leader_epoch(self) -> bool {
        self >= KafkaVersion::new(0, 11)
    }

    /// KIP-380 (2.2) and KRaft registration: a broker that restarts is fenced and leaves its ISRs
    /// even when it comes back within the session timeout.
    pub fn fences_restarted_broker(self) -> bool {
        self >= KafkaVersion::new(2, 2)
    }

    /// KAFKA-15583 (3.7): the high watermark does not advance while the ISR is smaller than
    /// `min.insync.replicas`.
    pub fn freezes_hw_below_min_isr(self) -> bool {
        self >= KafkaVersion::new(3, 7)
    }

    /// KIP-966 (4.0): `eligible.leader.replicas.enable` may be set.
    pub fn supports_elr(self) -> bool {
        self >= KafkaVersion::new(4, 0)
    }

    /// KAFKA-17927 (4.0): an idempotent producer (the default) with
    /// `max.in.flight.requests.per.connection` above 5 is a configuration error; before 4.0 the
    /// client silently turned idempotence off unless `enable.idempotence` was set explicitly.
    pub fn rejects_in_flight_above_5(self) -> bool {
        self >= KafkaVersion::new(4, 0)
    }

    /// KIP-966 default: on from 4.1.
    pub fn elr_default(self) -> bool {
        self >= KafkaVersion::new(4, 1)
    }
}

impl KafkaVersion {
    /// This release line's replication rules: (the KIP or JIRA that changed the rule, whether
    /// it is in effect, what it means), so that a reader comparing two runs sees which rule made
    /// the difference. `elr` is the resolved `eligible.leader.replicas.enable`.
    pub fn rules(self, elr: bool) -> [(&'static str, bool, &'static str); 4] {
        [
            (
                "KIP-101",
                self.truncates_by_leader_epoch(),
                "followers truncate by leader epoch, not to their high watermark",
            ),
            ("KIP-380", self.fences_restarted_broker(), "a restarted broker is fenced and leaves its ISRs"),
            (
                "KAFKA-15583",
                self.freezes_hw_below_min_isr(),
                "the high watermark stays put while ISR < min.insync.replicas",
            ),
            ("KIP-966", elr, "eligible leader replicas: a replica that left an ISR below min ISR may lead"),
        ]
    }
}

impl Default for KafkaVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for KafkaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_lines() {
        assert_eq!(KafkaVersion::parse("4.1"), Some(KafkaVersion::new(4, 1)));
        assert_eq!(KafkaVersion::parse("0.10"), Some(KafkaVersion::new(0, 10)));
        assert_eq!(KafkaVersion::parse("3.8"), Some(KafkaVersion::new(3, 8)));
        assert_eq!(KafkaVersion::parse("0.9"), None);
        assert_eq!(KafkaVersion::parse("4"), None);
        assert_eq!(KafkaVersion::parse("4.1.0"), None);
        assert_eq!(KafkaVersion::parse("x.1"), None);
    }

    #[test]
    fn rules_follow_the_versions_table() {
        let v010 = KafkaVersion::new(0, 10);
        assert!(!v010.truncates_by_leader_epoch());
        assert!(KafkaVersion::new(2, 1).truncates_by_leader_epoch());
        assert!(!KafkaVersion::new(2, 1).fences_restarted_broker());
        assert!(KafkaVersion::new(2, 2).fences_restarted_broker());
        assert!(!KafkaVersion::new(3, 6).freezes_hw_below_min_isr());
        assert!(KafkaVersion::new(3, 7).freezes_hw_below_min_isr());
        assert!(KafkaVersion::new(4, 0).supports_elr() && !KafkaVersion::new(4, 0).elr_default());
        assert!(KafkaVersion::new(4, 1).elr_default());
    }
}
