//! Property tests over configurations and fault schedules (proptest): a configuration that
//! `model::predict` says cannot lose acknowledged messages under the faults drawn never does;
//! every loss a configuration is predicted to permit has a witness within a bounded number of
//! seeds; and a failing case reproduces from its seed.

use losslab_model::explore::{self, FaultKind};
use losslab_model::predict::predict;
use losslab_model::{check, FindingClass};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::collections::BTreeSet;

fn config(acks: &str, min_isr: u32, unclean: bool, fsync: bool) -> String {
    let flush = if fsync { r#", "broker": {"log.flush.interval.messages": 1}"# } else { "" };
    format!(
        r#"{{"producer": {{"acks": "{acks}", "linger.ms": 50}}, "topic": {{"min.insync.replicas": {min_isr},
        "unclean.leader.election.enable": {unclean}}}, "workload": {{"messages": 2000, "rate_per_sec": 200}}{flush}}}"#
    )
}

fn lost_acked(config: &str, kinds: &BTreeSet<FaultKind>, seed: u64) -> (u64, String) {
    let point = explore::expand("prop.json", "prop", config).unwrap().remove(0);
    let steps = explore::random_schedule(seed, kinds, &point.scenario);
    let scenario = explore::scenario_with(&point, &steps, "prop", seed).unwrap();
    let run = losslab_sim::run(&scenario, seed);
    (check(&run.history, &run.final_state).counts[FindingClass::LostAcked.as_str()], run.trace_hash)
}

fn kinds_strategy() -> impl Strategy<Value = BTreeSet<FaultKind>> {
    proptest::sample::subsequence(FaultKind::ALL.to_vec(), 1..=4).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, rng_seed: RngSeed::Fixed(32), ..ProptestConfig::default() })]

    #[test]
    fn predicted_safe_configurations_never_lose_acknowledged_messages(
        acks in prop::sample::select(vec!["1", "all"]),
        min_isr in 1u32..=2,
        unclean in any::<bool>(),
        fsync in any::<bool>(),
        kinds in kinds_strategy(),
        seed in 1u64..10_000,
    ) {
        let config = config(acks, min_isr, unclean, fsync);
        let point = explore::expand("prop.json", "prop", &config).unwrap().remove(0);
        let safe = !predict(&point.scenario, &kinds)[&FindingClass::LostAcked].permitted;
        let (lost, _) = lost_acked(&config, &kinds, seed);
        prop_assert!(!safe || lost == 0, "predicted safe but lost {lost}: seed {seed}, kinds {kinds:?}, config {config}");
    }
}

/// Each way to lose that `predict` permits shows up within a bounded number of seeds.
#[test]
fn every_predicted_loss_has_a_witness() {
    let crash: BTreeSet<FaultKind> = [FaultKind::Crash, FaultKind::Pause, FaultKind::Cut].into_iter().collect();
    let power: BTreeSet<FaultKind> = [FaultKind::Power].into_iter().collect();
    for (config, kinds) in [(config("1", 2, false, false), &crash), (config("all", 2, false, false), &power)] {
        let point = explore::expand("prop.json", "prop", &config).unwrap().remove(0);
        assert!(predict(&point.scenario, kinds)[&FindingClass::LostAcked].permitted, "{config}");
        let witness = (1..=40).find(|&seed| lost_acked(&config, kinds, seed).0 > 0);
        assert!(witness.is_some(), "no witness within 40 seeds for {config} under {kinds:?}");
        // And it reproduces from its seed.
        let seed = witness.unwrap();
        assert_eq!(lost_acked(&config, kinds, seed), lost_acked(&config, kinds, seed));
    }
}
