//! Hand-built inputs for the renderers' unit tests: a scenario with the format's defaults and
//! runs with chosen findings, so that each test states only what it is about.

use crate::result::SeedRun;
use losslab_model::{Finding, FindingClass, MsgId, Scenario, Verdict};

/// A scenario with the defaults of the scenario format and no expectations. The parser is the
/// one place that knows the defaults (model/tests/scenario_parse.rs spells them out).
pub fn scenario() -> Scenario {
    let mut s = Scenario::parse("x.json", "test-scenario", "{}").expect("{} is a valid scenario");
    s.description = "A scenario built in code.".into();
    s
}

/// A finding of `class` about producer 1's record `seq` in partition 0.
pub fn finding(class: FindingClass, seq: u64) -> Finding {
    Finding {
        class,
        message: Some(MsgId { producer: 1, seq }),
        partition: Some(0),
        explanation: format!("p1#{seq} was acked by b1 at 1.204 s; b1 crashed at 1.210 s."),
    }
}

/// One seed's run holding `findings`, with counts filled in as the checker does.
pub fn run(seed: u64, findings: &[Finding]) -> SeedRun {
    let mut verdict =
        Verdict { findings: findings.to_vec(), sent: 1_000, acked: 990, failed: 10, ..Verdict::default() };
    for class in FindingClass::ALL {
        let n = findings.iter().filter(|f| f.class == class).count() as u64;
        verdict.counts.insert(class.as_str().into(), n);
    }
    SeedRun::new(seed, "0123456789abcdef".into(), verdict)
}
