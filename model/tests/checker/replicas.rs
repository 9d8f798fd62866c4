//! The classes about replicas and the run as a whole: replicas that hold different records
//! below their high watermarks (`divergence`), and a final phase that never converges
//! (`stuck`).

use crate::story::{assert_mentions, m, of_class, only, p1, Run, B1};
use losslab_model::history::{ElectionKind, EventKind, FinalReplica, NodeName};
use losslab_model::{CrashMode, FindingClass};

#[test]
fn replicas_that_disagree_below_their_high_watermarks_diverge() {
    let mut run = Run::new(&[("unclean.leader.election.enable", "true")]);
    run.at(0).elect(Some(1), 1, ElectionKind::Clean, &[1, 2]);
    run.at(100).append(1, 0, 1, &p1(0, 1), true).append(2, 0, 1, &p1(0, 0), false);
    run.at(200).crash(B1, CrashMode::Process);
    run.at(300).elect(Some(2), 2, ElectionKind::Unclean, &[1]);
    run.at(400).append(2, 1, 2, &[m(1, 5)], true);
    run.final_log(2, 2, &[m(1, 0), m(1, 5)], &[2]);
    run.final_state.partitions[0].replicas.insert(
        0,
        FinalReplica { broker: 1, log_end_offset: 2, high_watermark: 2, log: vec![m(1, 0), m(1, 1)].into() },
    );

    let verdict = run.check();
    let diverged = of_class(&verdict, FindingClass::Divergence);
    assert_eq!(diverged.len(), 1);
    assert_eq!((diverged[0].message, diverged[0].partition), (None, Some(0)));
    assert_mentions(
        diverged[0],
        &[
            "b1 and b2 hold different records at offset 1 of partition 0, below both their high \
            watermarks (2 and 2)",
            "b1 has p1#1, b2 has p1#5",
            "b1 appended p1#1 at offset 1 in leader epoch 1 at 0.100 s",
            "The controller elected b2 leader of partition 0 in epoch 2 at 0.300 s (unclean, \
            unclean.leader.election.enable=true, ISR [1])",
        ],
    );
}

#[test]
fn a_final_phase_that_does_not_converge_is_stuck() {
    let mut run = Run::new(&[]);
    run.at(50_000).record(NodeName::Controller, EventKind::FinalPhase);
    run.final_state.stuck = true;
    run.final_state.stuck_reason = Some("partition 0 has no leader: its only ISR member b1 is wiped".into());
    run.final_state.end_us = 170_000_000;

    let stuck = only(&run.check(), FindingClass::Stuck);
    assert_eq!(stuck.len(), 1);
    assert_eq!((stuck[0].message, stuck[0].partition), (None, None));
    assert_mentions(
        &stuck[0],
        &["The final phase, started at 50.000 s, did not converge by 170.000 s", "its only ISR member b1 is wiped"],
    );
}
