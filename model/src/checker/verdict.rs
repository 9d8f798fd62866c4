//! One run's verdict: every finding class judged over one index of the history, the findings
//! in an order that never depends on how they were found, and the counts and tallies a report
//! shows. It is the one place that knows which judges run and when (the consumer classes only
//! with a consumer group), so that `mod.rs` stays a table of contents.

use super::index::Index;
use super::txns::Txns;
use super::{consumed, consumer, loss, order, pipeline, replicas, steps, stuck, txn};
use crate::finding::{FindingClass, Verdict};
use crate::history::{FinalState, History};
use std::collections::BTreeMap;

/// Judges one run.
pub fn check(history: &History, final_state: &FinalState) -> Verdict {
    let ix = Index::build(history, final_state);
    let mut findings = Vec::new();
    findings.extend(loss::lost_acked(&ix));
    findings.extend(loss::lost_unnoticed(&ix));
    findings.extend(loss::lost_failed(&ix));
    findings.extend(order::duplicated(&ix));
    findings.extend(order::reordered(&ix));
    // Without a consumer group there is nothing to have skipped or processed twice.
    if history.meta.consumers > 0 {
        findings.extend(consumer::consumer_skipped(&ix));
        findings.extend(consumer::consumer_duplicated(&ix));
        findings.extend(consumed::consumed_lost(&ix));
    }
    findings.extend(replicas::divergence(&ix));
    findings.extend(stuck::stuck(&ix));
    // Issue 16: transactions and the pipeline; nothing to find in a history without them.
    let tx = Txns::build(&ix);
    findings.extend(txn::aborted_read(&ix, &tx));
    findings.extend(txn::torn_transaction(&ix, &tx));
    findings.extend(pipeline::pipeline_lost(&ix, &tx));
    findings.extend(pipeline::pipeline_duplicated(&ix, &tx));
    // The explanation breaks ties between findings that share class, partition and message
    // (divergences of one partition), so the order never depends on how they were found.
    findings.sort_by(|a, b| {
        (a.class, a.partition, a.message, &a.explanation).cmp(&(b.class, b.partition, b.message, &b.explanation))
    });

    let counts: BTreeMap<String, u64> = FindingClass::ALL
        .iter()
        .map(|&class| {
            let n = findings.iter().filter(|f| f.class == class).count();
            (class.as_str().to_string(), n as u64)
        })
        .collect();
    let (sent, acked, failed) = tallies(&ix, &tx);
    Verdict { findings, counts, sent, acked, failed, idle_steps: steps::idle_steps(history) }
}

/// Messages sent, acknowledged (the client learned success, whether or not the app looked),
/// and failed (gave up, never acknowledged). A transactional record is acknowledged only when
/// its transaction's commit returned (the contract's "Additions"): the produce response to its
/// batch is not an acknowledgement.
fn tallies(ix: &Index, tx: &Txns) -> (u64, u64, u64) {
    let (mut sent, mut acked, mut failed) = (0, 0, 0);
    for (msg, facts) in ix.msgs.iter().filter(|(_, f)| f.produced) {
        sent += 1;
        let success = if tx.of_msg.contains_key(&msg) {
            ix.outcome(facts).is_some_and(|o| o.acked && o.notified)
        } else {
            ix.ever_acked(facts).is_some()
        };
        if success {
            acked += 1;
        } else if ix.outcome(facts).is_some() {
            failed += 1;
        }
    }
    (sent, acked, failed)
}
