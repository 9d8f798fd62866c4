//! Kafka's transactional guarantees (issue 16) as rules over a configuration, the kinds of
//! faults a run may see and the release line: for each transaction class, whether it may
//! appear (Kafka's documented or known behaviour) or Kafka promises it cannot (then a finding is
//! a broken guarantee, a bug in what is being tested). `predict` asks here for the transaction
//! classes and passes in its own judgement of whether an elected log can lack acknowledged
//! records (`data_loss`), so that the replication rules live in one place.
//!
//! Sources: the research report /work/research/txn-rules.md (sections 2.8, 3.8, 4.2, 5.2-5.8)
//! and docs/NOTES.md "Transactions: the contract and the checker". The anomalies of late
//! requests (KAFKA-17754 and relatives) are possible exactly where Kafka's protocol allows them:
//! late EndTxn (A, B) before transaction version 2 (4.0), a late produce (C) before partition
//! verification (3.6), a late duplicate marker (D) on every line losslab knows (KIP-1228 closed
//! it after 4.1), late transactional offsets (E) before 4.0. They need a request that is given
//! up on and delivered later: a cut, an isolation or a pause.

use crate::config::{Acks, AppOutput, IsolationLevel};
use crate::explore::FaultKind;
use crate::finding::FindingClass;
use crate::scenario::Scenario;
use std::collections::BTreeSet;

/// (permitted, why) for one of the transaction classes. `data_loss`: why an elected log can lack
/// acknowledged records under these faults (predict's replication rules), or `None`.
pub fn transactional(
    s: &Scenario,
    kinds: &BTreeSet<FaultKind>,
    class: FindingClass,
    data_loss: Option<&str>,
) -> (bool, String) {
    let (permitted, reason) = match class {
        FindingClass::AbortedRead => aborted_read(s, kinds, data_loss),
        FindingClass::TornTransaction => torn_transaction(s, kinds, data_loss),
        FindingClass::PipelineLost => pipeline_lost(s, kinds, data_loss),
        FindingClass::PipelineDuplicated => pipeline_duplicated(s, data_loss),
        _ => (false, "not a transaction class".to_string()),
    };
    (permitted, reason)
}

fn yes(reason: impl Into<String>) -> (bool, String) {
    (true, reason.into())
}

fn no(reason: impl Into<String>) -> (bool, String) {
    (false, reason.into())
}

/// Faults under which a request the sender gave up on can still be delivered and executed later
/// (the contract's `cut` rule; a paused broker reads what waited): what every anomaly of section 5
/// needs.
fn delays_requests(kinds: &BTreeSet<FaultKind>) -> bool {
    kinds.contains(&FaultKind::Cut) || kinds.contains(&FaultKind::Isolate) || kinds.contains(&FaultKind::Pause)
}

/// The late-request anomaly this line allows for a transaction's visibility, if any.
fn late_request_anomaly(s: &Scenario) -> &'static str {
    let v = s.kafka_version;
    if v.transaction_version_2() {
        "a late duplicate WriteTxnMarkers of the previous transaction carries the same epoch as the next one under \
         transaction version 2 and closes it on a partition (ProducerAppendInfo.checkProducerEpoch accepts an equal \
         epoch until KIP-1228, after 4.1)"
    } else if v.verifies_transactional_partitions() {
        "before transaction version 2 (KIP-890 part 2, 4.0) a late EndTxn(COMMIT) of an earlier transaction commits \
         what the next one wrote (KAFKA-17754: EndTxn names a producer id and epoch, not a transaction); partition \
         verification (3.6) then fails the rest, so the app aborts a transaction whose first part is visible"
    } else {
        "before partition verification (KIP-890 part 1, 3.6) a late produce of an aborted transaction opens a \
         transaction on its partition that the next transaction's marker commits, and before transaction version 2 \
         (4.0) a late EndTxn commits or aborts the next transaction early (KAFKA-17754)"
    }
}

fn aborted_read(s: &Scenario, kinds: &BTreeSet<FaultKind>, data_loss: Option<&str>) -> (bool, String) {
    if s.workload.consumers == 0 {
        return no("the workload has no consumer group");
    }
    if s.producer.transactional_id.is_none() {
        return no("without transactional.id no record belongs to a transaction");
    }
    let aborts = s.producer.app_transaction_abort_every > 0 || !kinds.is_empty();
    if s.consumer.isolation_level == IsolationLevel::ReadUncommitted {
        if !aborts {
            return no("every transaction commits: the app never aborts (app.transaction.abort.every=0) and no fault makes a commit fail");
        }
        return yes("isolation.level=read_uncommitted reads up to the high watermark, records of aborted and open transactions included (consumer config `isolation.level`, KIP-98)");
    }
    if let Some(why) = data_loss {
        return yes(format!(
            "read_committed trusts the markers in the log and the coordinator's __transaction_state, but {why}: a lost marker leaves a transaction open that the producer's next marker on that partition decides, and a lost PrepareCommit is aborted by timeout after some partitions got COMMIT"
        ));
    }
    if delays_requests(kinds) {
        return yes(late_request_anomaly(s));
    }
    no("isolation.level=read_committed returns only records below the last stable offset whose transaction's COMMIT marker is in the log, and the coordinator writes COMMIT only after the app's commitTransaction() (KIP-98; Fetcher/CompletedFetch drop aborted transactions)")
}

fn torn_transaction(s: &Scenario, kinds: &BTreeSet<FaultKind>, data_loss: Option<&str>) -> (bool, String) {
    if s.producer.transactional_id.is_none() {
        return no("without transactional.id no record belongs to a transaction");
    }
    if let Some(why) = data_loss {
        return yes(format!(
            "a committed transaction is atomic only while the logs keep its records and markers, but {why}: records or markers lost on some partitions, or a lost PrepareCommit aborted after some partitions got COMMIT (TransactionStateManager loads Ongoing and times it out)"
        ));
    }
    if delays_requests(kinds) {
        return yes(late_request_anomaly(s));
    }
    no("the coordinator writes PrepareCommit to __transaction_state (acks=all) before commitTransaction() returns, retries every marker until each partition has it, and a new coordinator completes a PrepareCommit from its log (TransactionMarkerChannelManager; TransactionStateManager.loadTransactionsForTxnTopicPartition)")
}

fn no_pipeline(s: &Scenario) -> Option<(bool, String)> {
    if s.consumer.app_output == AppOutput::None {
        return Some(no("app.output=none: the consumer app writes no outputs"));
    }
    if s.workload.consumers == 0 {
        return Some(no("the workload has no consumer group"));
    }
    None
}

fn pipeline_lost(s: &Scenario, kinds: &BTreeSet<FaultKind>, data_loss: Option<&str>) -> (bool, String) {
    if let Some(p) = no_pipeline(s) {
        return p;
    }
    if s.consumer.enable_auto_commit {
        return yes("enable.auto.commit=true commits what poll() returned, whether or not its outputs were written or their transaction committed (consumer config `enable.auto.commit`)");
    }
    if let Some(why) = data_loss {
        return yes(format!(
            "an output, or the offsets commit of a transaction, is safe only while the logs keep it, but {why}"
        ));
    }
    let faults = !kinds.is_empty();
    if s.consumer.app_output == AppOutput::Plain
        && faults
        && (s.producer.acks != Acks::All || s.effective_min_insync_replicas() < 2)
    {
        return yes("the plain pipeline commits once its outputs are acknowledged, but with acks other than all or min.insync.replicas=1 an acknowledged output can be lost (producer config `acks`, topic config `min.insync.replicas`)");
    }
    if s.consumer.app_output == AppOutput::Transactional
        && delays_requests(kinds)
        && !s.kafka_version.transaction_version_2()
    {
        return yes("before transaction version 2 (4.0) a late TxnOffsetCommit of an aborted transaction leaves pending offsets that the producer's next marker on the offsets partition commits, so the group skips inputs whose outputs were aborted (GroupMetadata pending offsets are keyed by producer id; verified from 3.7, KAFKA-15449, only against the current epoch)");
    }
    match s.consumer.app_output {
        AppOutput::Plain => no("the plain pipeline commits its offsets only after its outputs are acknowledged with acks=all (at least once: it can duplicate, not lose)"),
        _ => no("outputs and offsets commit in one transaction (KafkaProducer.sendOffsetsToTransaction, KIP-98): an input's offset is committed only with its output"),
    }
}

fn pipeline_duplicated(s: &Scenario, data_loss: Option<&str>) -> (bool, String) {
    if let Some(p) = no_pipeline(s) {
        return p;
    }
    if s.consumer.app_output == AppOutput::Plain {
        return yes("app.output=plain is at least once: a consumer that crashes or leaves the group after its outputs were acknowledged and before its commit hands the inputs to another member, which writes them again (consumer docs, 'Offsets and Consumer Position')");
    }
    if let Some(why) = data_loss {
        return yes(format!("a committed transaction's offsets are safe only while __consumer_offsets keeps them, but {why}: the group then resumes below inputs whose outputs are committed"));
    }
    if !s.kafka_version.fences_txn_offset_commits_by_generation() && s.workload.consumers > 1 {
        return yes("before KIP-447 (2.5) a member that takes over a partition reads the last committed offset while the previous owner's transaction with offsets is still open (no requireStable), and both transactions commit; Kafka's answer then was one transactional.id per input partition");
    }
    no("outputs and offsets commit atomically (sendOffsetsToTransaction, KIP-98); a crashed instance's open transaction is aborted by the coordinator's timeout or fenced by its restart's initTransactions(), and from 2.5 a zombie's TxnOffsetCommit is fenced by generation while offset fetches wait for pending offsets (KIP-447)")
}
