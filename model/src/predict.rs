//! Kafka's documented guarantees as rules over a configuration and the kinds of faults a run may
//! see: for each finding class, whether the configuration permits it (a finding is the
//! configuration's documented behaviour) or promises it cannot happen (a finding is a broken
//! guarantee, a bug in what is being tested). Each answer carries the sentence and source it rests
//! on. `losslab explore` marks every class it finds with this.

use crate::config::{Acks, CommitStrategy, Processing, SendMode};
use crate::explore::FaultKind;
use crate::finding::FindingClass;
use crate::scenario::Scenario;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// True when the configuration allows the finding under these faults.
    pub permitted: bool,
    /// Why, citing where Kafka documents it.
    pub reason: String,
}

fn yes(reason: impl Into<String>) -> Prediction {
    Prediction { permitted: true, reason: reason.into() }
}

fn no(reason: impl Into<String>) -> Prediction {
    Prediction { permitted: false, reason: reason.into() }
}

/// The prediction for every finding class.
pub fn predict(s: &Scenario, kinds: &BTreeSet<FaultKind>) -> BTreeMap<FindingClass, Prediction> {
    FindingClass::ALL.into_iter().map(|c| (c, predict_class(s, kinds, c))).collect()
}

fn predict_class(s: &Scenario, kinds: &BTreeSet<FaultKind>, class: FindingClass) -> Prediction {
    match class {
        FindingClass::LostAcked => lost_acked(s, kinds),
        FindingClass::LostUnnoticed => lost_unnoticed(s, kinds),
        FindingClass::LostFailed => yes("a record the client reports failed was never promised (producer callback / Future)"),
        FindingClass::Duplicated => duplicated(s),
        FindingClass::Reordered => reordered(s, kinds),
        FindingClass::ConsumerSkipped => consumer_skipped(s, kinds),
        FindingClass::ConsumerDuplicated => {
            yes("Kafka's consumer delivers at least once unless the app commits before it processes (consumer docs, 'Offsets and Consumer Position')")
        }
        FindingClass::ConsumedLost => consumed_lost(s, kinds),
        FindingClass::Divergence => divergence(s),
        FindingClass::Stuck => {
            yes("availability is not promised: without unclean election a partition waits for an in-sync replica (unclean.leader.election.enable)")
        }
        FindingClass::AbortedRead
        | FindingClass::TornTransaction
        | FindingClass::PipelineLost
        | FindingClass::PipelineDuplicated => {
            let data_loss = an_elected_log_can_lack_records(s, kinds);
            let (permitted, reason) = crate::guarantee::transactional(s, kinds, class, data_loss);
            Prediction { permitted, reason }
        }
    }
}

/// A consumer reads below the high watermark only, what every in-sync replica has, whatever
/// `acks` is: so a consumed record can go only where an elected log can lack committed records.
fn consumed_lost(s: &Scenario, kinds: &BTreeSet<FaultKind>) -> Prediction {
    if s.workload.consumers == 0 {
        return no("the workload has no consumer group");
    }
    match an_elected_log_can_lack_records(s, kinds) {
        Some(why) => yes(format!("a consumer reads committed records only, but {why}")),
        None => no("a consumer reads only below the high watermark, what every in-sync replica has, and only an in-sync (or eligible) replica is elected: a committed record is not lost while one of them keeps its log (design docs, 'Replication')"),
    }
}

fn divergence(s: &Scenario) -> Prediction {
    if !s.kafka_version.truncates_by_leader_epoch() {
        return yes("before KIP-101 (0.11) a follower truncates to its own high watermark, which cannot tell where its log and a new leader's part");
    }
    if !s.kafka_version.truncates_over_several_rounds() {
        return yes("before KIP-279 (2.0) a follower truncates once, to the offset its leader gives for its latest epoch, which after two fast leader changes can leave different records at one offset");
    }
    no("replicas never hold different records below their high watermarks: a follower truncates to the leader's log by leader epoch before it fetches (KIP-101, KIP-279)")
}

fn lost_acked(s: &Scenario, kinds: &BTreeSet<FaultKind>) -> Prediction {
    let t = &s.topic;
    let min_isr = s.effective_min_insync_replicas();
    if s.producer.acks != Acks::All {
        return yes(format!(
            "acks={} acknowledges before the ISR has the record (producer config `acks`)",
            s.producer.acks.as_kafka()
        ));
    }
    if min_isr < 2 {
        return yes("min.insync.replicas=1 lets the ISR shrink to the leader alone, which then acknowledges acks=all writes by itself (topic config `min.insync.replicas`)");
    }
    if t.replication_factor < min_isr {
        return no("every acks=all write fails with NOT_ENOUGH_REPLICAS when replication.factor < min.insync.replicas (before 3.7, which caps it at the replication factor), so nothing is acknowledged (topic config `min.insync.replicas`)");
    }
    if let Some(why) = an_elected_log_can_lack_records(s, kinds) {
        return yes(why);
    }
    no(format!(
        "acks=all with min.insync.replicas={min_isr} and unclean election off: an acknowledged record is on at least {min_isr} in-sync replicas, and only an in-sync (or eligible) replica is elected (docs, 'Guarantees'; topic config `min.insync.replicas`)"
    ))
}

/// Why a leader can be elected whose log lacks records the ISR had, even with acks=all and
/// min.insync.replicas >= 2; None when Kafka promises it cannot.
fn an_elected_log_can_lack_records(s: &Scenario, kinds: &BTreeSet<FaultKind>) -> Option<&'static str> {
    if s.topic.unclean_leader_election_enable {
        return Some("unclean.leader.election.enable lets an out-of-sync replica lead (topic config `unclean.leader.election.enable`)");
    }
    if !s.kafka_version.truncates_by_leader_epoch() {
        return Some("before KIP-101 (0.11) a new follower truncates to its high watermark and may be elected with acknowledged records cut off");
    }
    if !s.kafka_version.truncates_over_several_rounds() {
        return Some("before KIP-279 (2.0) two fast leader changes can leave a follower with other records at offsets its leader committed, and it may lead later");
    }
    if kinds.contains(&FaultKind::Wipe) {
        return Some("Kafka's guarantee assumes a replica keeps its log: a wiped disk can come back as the only eligible replica (design, 'Replicated Logs')");
    }
    if kinds.contains(&FaultKind::Power) && s.broker.log_flush_interval_messages != 1 {
        return Some("Kafka does not fsync by default: a power loss on the replicas holding a record drops it from their page caches (broker config `log.flush.interval.messages`; docs: 'we recommend using replication for durability')");
    }
    None
}

fn lost_unnoticed(s: &Scenario, kinds: &BTreeSet<FaultKind>) -> Prediction {
    if s.producer.app_send == SendMode::FireAndForget {
        return yes("app.send=fire-and-forget never looks at a record's outcome ('fire and forget': producer.send(msg) without a callback)");
    }
    if s.producer.transactional_id.is_some() && s.workload.producers > 0 {
        if let Some(why) = an_elected_log_can_lack_records(s, kinds) {
            return yes(format!("a transactional record's outcome reaches the app when commitTransaction() or abortTransaction() returns; if the transaction coordinator's log loses the transaction, neither may ever return; here {why}"));
        }
    }
    no("the app learns every outcome through its callback, and the explorer does not crash producers (producer API `send(record, callback)`)")
}

fn duplicated(s: &Scenario) -> Prediction {
    if s.producer.enable_idempotence && s.producer.app_on_failure != crate::config::OnFailure::Resend {
        return no("enable.idempotence=true: the leader deduplicates retries by producer id and sequence (KIP-98)");
    }
    if s.producer.enable_idempotence {
        return yes("app.on.failure=resend sends a failed record again as a new record; the first may have been stored (KIP-98 covers retries inside one record only)");
    }
    yes("without idempotence a retried batch whose first attempt was stored is stored again (producer config `retries`, `enable.idempotence`)")
}

fn reordered(s: &Scenario, kinds: &BTreeSet<FaultKind>) -> Prediction {
    if s.producer.enable_idempotence {
        if let Some(why) = an_elected_log_can_lack_records(s, kinds) {
            return yes(format!("a leader whose log lost every record of a producer has no state for its id and accepts any sequence, so a later batch can land before a retried earlier one (ProducerStateManager: no producer epoch, any sequence accepted); here {why}"));
        }
        return no("idempotence keeps order with up to 5 requests in flight (producer config `max.in.flight.requests.per.connection`, KIP-98)");
    }
    if s.producer.max_in_flight_requests_per_connection == 1 {
        return no("max.in.flight.requests.per.connection=1 sends a partition's next batch only after the previous one is answered");
    }
    yes("with more than one request in flight and no idempotence, a retried batch can land after a later one (producer config `max.in.flight.requests.per.connection`)")
}

fn consumer_skipped(s: &Scenario, kinds: &BTreeSet<FaultKind>) -> Prediction {
    let c = &s.consumer;
    if s.workload.consumers == 0 {
        return no("the workload has no consumer group");
    }
    if c.app_commit == CommitStrategy::BeforeProcess {
        return yes(
            "app.commit=before-process moves the bookmark before reading the page (consumer docs, at-most-once)",
        );
    }
    if c.enable_auto_commit && c.app_processing == Processing::Async {
        return yes("auto-commit commits what poll() returned, including records still queued for async workers (consumer config `enable.auto.commit`)");
    }
    if kinds.contains(&FaultKind::Wipe)
        || (kinds.contains(&FaultKind::Power) && s.broker.log_flush_interval_messages != 1)
    {
        return yes("committed offsets live in __consumer_offsets: losing its replicas' data sends the group back to auto.offset.reset");
    }
    if !kinds.is_empty() && s.producer.acks != Acks::All {
        return yes("records read by the consumer can be truncated away when a leader without them is elected; the consumer then resets with auto.offset.reset");
    }
    no("the app commits only what it processed, and consumers read only committed records (below the high watermark)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(json: &str) -> Scenario {
        Scenario::parse("p.json", "p", json).unwrap()
    }

    fn kinds(list: &str) -> BTreeSet<FaultKind> {
        FaultKind::parse_list(list).unwrap()
    }

    #[test]
    fn the_safe_configuration_promises_no_acknowledged_loss_under_crashes_pauses_and_cuts() {
        let safe = scenario(r#"{"topic": {"min.insync.replicas": 2}}"#);
        let p = predict(&safe, &kinds("crash,pause,cut,isolate"));
        assert!(!p[&FindingClass::LostAcked].permitted, "{}", p[&FindingClass::LostAcked].reason);
        assert!(!p[&FindingClass::Divergence].permitted);
        assert!(!p[&FindingClass::Duplicated].permitted);
        // Power loss without fsync is documented to lose.
        assert!(predict(&safe, &kinds("power"))[&FindingClass::LostAcked].permitted);
        let fsync = scenario(r#"{"topic": {"min.insync.replicas": 2}, "broker": {"log.flush.interval.messages": 1}}"#);
        assert!(!predict(&fsync, &kinds("power"))[&FindingClass::LostAcked].permitted);
    }

    #[test]
    fn idempotence_keeps_order_unless_a_leader_can_lose_the_producers_records() {
        let default = scenario("{}");
        let p = &predict(&default, &kinds("crash,pause,cut,isolate"))[&FindingClass::Reordered];
        assert!(!p.permitted, "{}", p.reason);
        for faults in ["power", "wipe"] {
            let p = &predict(&default, &kinds(faults))[&FindingClass::Reordered];
            assert!(p.permitted && p.reason.contains("no state for its id"), "{faults}: {}", p.reason);
        }
        let fsync = scenario(r#"{"broker": {"log.flush.interval.messages": 1}}"#);
        assert!(!predict(&fsync, &kinds("power"))[&FindingClass::Reordered].permitted);
    }

    #[test]
    fn divergence_is_permitted_only_before_kip_279() {
        for (version, permitted) in [("0.10", true), ("1.1", true), ("2.0", false), ("4.1", false)] {
            let p = &predict(&scenario(&format!(r#"{{"kafka.version": "{version}"}}"#)), &kinds("crash"));
            assert_eq!(p[&FindingClass::Divergence].permitted, permitted, "{version}");
        }
        let p = &predict(&scenario(r#"{"kafka.version": "1.1"}"#), &kinds("crash"))[&FindingClass::Divergence];
        assert!(p.reason.contains("KIP-279"), "{}", p.reason);
    }

    #[test]
    fn min_isr_above_the_replication_factor_counts_as_the_replication_factor_from_3_7() {
        let json = |v: &str| format!(r#"{{"kafka.version": "{v}", "topic": {{"min.insync.replicas": 4}}}}"#);
        let before = &predict(&scenario(&json("3.6")), &kinds("crash"))[&FindingClass::LostAcked];
        assert!(!before.permitted && before.reason.contains("nothing is acknowledged"), "{}", before.reason);
        let after = &predict(&scenario(&json("3.7")), &kinds("crash"))[&FindingClass::LostAcked];
        assert!(!after.permitted && after.reason.contains("min.insync.replicas=3"), "{}", after.reason);
    }

    #[test]
    fn each_unsafe_setting_permits_its_loss_and_says_why() {
        for (json, word) in [
            (r#"{"producer": {"acks": "1"}}"#, "acks=1"),
            (r#"{}"#, "min.insync.replicas=1"),
            (r#"{"topic": {"min.insync.replicas": 2, "unclean.leader.election.enable": true}}"#, "unclean"),
            // Before 3.0 producers default to acks=1 (KIP-679): these lines ask for acks=all.
            (
                r#"{"kafka.version": "0.10", "producer": {"acks": "all"}, "topic": {"min.insync.replicas": 2, "unclean.leader.election.enable": false}}"#,
                "KIP-101",
            ),
            // Before 0.11 unclean election is on unless switched off (KIP-106).
            (
                r#"{"kafka.version": "0.10", "producer": {"acks": "all"}, "topic": {"min.insync.replicas": 2}}"#,
                "unclean",
            ),
            (r#"{"kafka.version": "2.8"}"#, "acks=1"),
        ] {
            let p = &predict(&scenario(json), &kinds("crash"))[&FindingClass::LostAcked];
            assert!(p.permitted && p.reason.contains(word), "{json}: {}", p.reason);
        }
    }

    #[test]
    fn a_consumed_record_is_lost_only_where_an_elected_log_can_lack_committed_records() {
        let group = |extra: &str| scenario(&format!(r#"{{"workload": {{"consumers": 1}}{extra}}}"#));
        // acks=1 and min ISR 1 do not matter: a consumer reads below the high watermark.
        let plain = &predict(&group(r#", "producer": {"acks": "1"}"#), &kinds("crash,pause,cut,isolate"));
        let p = &plain[&FindingClass::ConsumedLost];
        assert!(!p.permitted && p.reason.contains("below the high watermark"), "{}", p.reason);
        let unclean = group(r#", "topic": {"unclean.leader.election.enable": true}"#);
        let p = &predict(&unclean, &kinds("crash"))[&FindingClass::ConsumedLost];
        assert!(p.permitted && p.reason.contains("unclean.leader.election.enable"), "{}", p.reason);
        assert!(predict(&group(""), &kinds("power"))[&FindingClass::ConsumedLost].permitted);
        assert!(predict(&group(""), &kinds("wipe"))[&FindingClass::ConsumedLost].permitted);
        let fsync = group(r#", "broker": {"log.flush.interval.messages": 1}"#);
        assert!(!predict(&fsync, &kinds("power"))[&FindingClass::ConsumedLost].permitted);
        let none_json = r#"{"workload": {"consumers": 0}, "topic": {"unclean.leader.election.enable": true}}"#;
        let none = &predict(&scenario(none_json), &kinds("crash"));
        assert!(!none[&FindingClass::ConsumedLost].permitted, "no consumer group, nothing consumed");
    }
}
