//! The JSON object of the `losslab replay` contract, one per file (scenario-format.md, last
//! section): what scripts may rely on. Objects are typed structs, whose fields serialize in
//! declaration order, and `BTreeMap`s, whose keys serialize sorted, so the same run always gives
//! the same bytes. The same object, pretty-printed, is `summary.json` (every seed) and
//! `verdict.json` (one seed, judged alone) under `--out`.
//!
//! A run's `findings` hold at most [`FINDINGS_PER_CLASS`] findings of each class unless
//! `losslab replay --all-findings` asked for every one, and `findings_left_out` says how many
//! of each class were cut (additive to the contract: `counts` still count them all). A lost
//! leader takes thousands of records with it, each with the same story; without the bound one
//! file's line grew by about 2.5 MB per seed.

use crate::counts::Counts;
use crate::result::{FileResult, SeedRun};
use losslab_model::{Finding, IdleStep};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many findings of one class a run's `findings` keep unless all were asked for.
pub const FINDINGS_PER_CLASS: usize = 20;

/// The object on one line, without a trailing newline: `--json` prints one per file.
pub fn line(result: &FileResult) -> String {
    serde_json::to_string(&FileJson::of(result)).expect(INFALLIBLE)
}

/// The object written straight to `out`, newline included: a file's line holds every seed (19 MB
/// for 1,000 seeds of unclean-election), which as a `String` first would be held twice.
pub fn write_line(out: &mut impl std::io::Write, result: &FileResult) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &FileJson::of(result)).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// [`pretty`], written straight to `out`.
pub fn write_pretty(out: &mut dyn std::io::Write, result: &FileResult) -> std::io::Result<()> {
    serde_json::to_writer_pretty(out, &FileJson::of(result)).map_err(std::io::Error::from)
}

/// The same object, indented for people reading the file.
pub fn pretty(result: &FileResult) -> String {
    serde_json::to_string_pretty(&FileJson::of(result)).expect(INFALLIBLE)
}

// serde_json fails only on maps with non-string keys or on a Serialize impl that errors;
// these types have neither.
const INFALLIBLE: &str = "the contract's JSON types always serialize";

#[derive(Serialize)]
struct FileJson<'a> {
    scenario: &'a str,
    file: &'a str,
    seeds: Vec<u64>,
    passed: bool,
    /// Sums over the seeds.
    counts: Counts,
    /// Only the classes the scenario names.
    expect: BTreeMap<&'static str, ExpectJson>,
    runs: Vec<RunJson<'a>>,
}

#[derive(Serialize)]
struct ExpectJson {
    want: &'static str,
    met: bool,
}

#[derive(Serialize)]
struct RunJson<'a> {
    seed: u64,
    trace_hash: &'a str,
    counts: &'a Counts,
    findings: Vec<FindingJson<'a>>,
    /// Fault steps that did nothing in this run (issue 17); absent when there are none.
    #[serde(skip_serializing_if = "<[IdleStep]>::is_empty")]
    idle_steps: &'a [IdleStep],
    /// Per class, how many findings `findings` does not list; empty when it lists them all.
    findings_left_out: BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    class: &'static str,
    /// `"p1#17"`, or null for per-run and per-offset findings.
    message: Option<String>,
    explanation: &'a str,
}

impl<'a> FileJson<'a> {
    fn of(result: &'a FileResult<'a>) -> FileJson<'a> {
        let expect = result
            .judgement
            .expectations()
            .map(|(class, want, met)| (class.as_str(), ExpectJson { want: want.as_str(), met }))
            .collect();
        FileJson {
            scenario: &result.scenario.name,
            file: result.file,
            seeds: result.seeds(),
            passed: result.judgement.passed,
            counts: result.total_counts(),
            expect,
            runs: result.runs.iter().map(RunJson::of).collect(),
        }
    }
}

impl<'a> RunJson<'a> {
    fn of(run: &'a SeedRun) -> RunJson<'a> {
        RunJson {
            seed: run.seed,
            trace_hash: &run.trace_hash,
            counts: &run.counts,
            findings: run.verdict.findings.iter().map(FindingJson::of).collect(),
            idle_steps: &run.verdict.idle_steps,
            findings_left_out: run.findings_left_out.iter().map(|(class, &n)| (class.as_str(), n)).collect(),
        }
    }
}

impl<'a> FindingJson<'a> {
    fn of(finding: &'a Finding) -> FindingJson<'a> {
        FindingJson {
            class: finding.class.as_str(),
            message: finding.message.map(|m| m.to_string()),
            explanation: &finding.explanation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{finding, run, scenario};
    use losslab_model::{Expectation, FindingClass};
    use serde_json::Value;

    fn parsed(result: &FileResult) -> Value {
        let text = line(result);
        assert!(!text.contains('\n'), "{text}");
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn has_the_contract_keys_in_order() {
        let s = scenario();
        let runs = [run(1, &[])];
        let text = line(&FileResult::new(&s, "x.json", &runs));
        let order = ["\"scenario\"", "\"file\"", "\"seeds\"", "\"passed\"", "\"counts\"", "\"expect\"", "\"runs\""];
        let positions: Vec<usize> = order.iter().map(|key| text.find(key).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn the_streamed_objects_are_the_same_bytes() {
        let mut s = scenario();
        s.expect.insert(FindingClass::LostAcked, Expectation::Some);
        let runs = [run(1, &[finding(FindingClass::LostAcked, 17)]), run(2, &[])];
        let result = FileResult::new(&s, "x.json", &runs);
        let mut streamed = Vec::new();
        write_line(&mut streamed, &result).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), format!("{}\n", line(&result)));
        let mut streamed = Vec::new();
        write_pretty(&mut streamed, &result).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), pretty(&result));
    }

    #[test]
    fn a_run_cut_to_its_counts_is_judged_and_counted_as_before() {
        let mut s = scenario();
        s.expect.insert(FindingClass::LostAcked, Expectation::None);
        let full = [run(1, &[finding(FindingClass::LostAcked, 17)]), run(2, &[])];
        let cut: Vec<SeedRun> = full.iter().cloned().map(SeedRun::counts_only).collect();
        assert!(cut.iter().all(|r| r.verdict.findings.is_empty() && r.stories.is_empty()));
        let (before, after) = (FileResult::new(&s, "x.json", &full), FileResult::new(&s, "x.json", &cut));
        assert!(!after.judgement.passed);
        assert_eq!(after.judgement, before.judgement);
        assert_eq!(after.total_counts(), before.total_counts());
    }

    #[test]
    fn sums_counts_and_lists_runs() {
        let mut s = scenario();
        s.expect.insert(FindingClass::LostAcked, Expectation::Some);
        let runs = [run(1, &[finding(FindingClass::LostAcked, 17)]), run(2, &[])];
        let json = parsed(&FileResult::new(&s, "scenarios/x.json", &runs));
        assert_eq!(json["scenario"], "test-scenario");
        assert_eq!(json["file"], "scenarios/x.json");
        assert_eq!(json["seeds"], serde_json::json!([1, 2]));
        assert_eq!(json["passed"], true);
        assert_eq!(json["counts"]["sent"], 2000);
        assert_eq!(json["counts"]["lost_acked"], 1);
        assert_eq!(json["counts"]["stuck"], 0);
        assert_eq!(json["expect"], serde_json::json!({"lost_acked": {"want": "some", "met": true}}));
        assert_eq!(json["runs"][0]["trace_hash"], "0123456789abcdef");
        assert_eq!(json["runs"][0]["counts"]["lost_acked"], 1);
        assert_eq!(json["runs"][0]["findings"][0]["message"], "p1#17");
        assert_eq!(json["runs"][1]["findings"], serde_json::json!([]));
        assert_eq!(json["runs"][1]["findings_left_out"], serde_json::json!({}));
    }

    #[test]
    fn a_bounded_run_lists_the_first_findings_and_counts_the_rest() {
        let s = scenario();
        let mut many: Vec<Finding> = (0..25).map(|i| finding(FindingClass::LostAcked, i)).collect();
        many.push(finding(FindingClass::Duplicated, 99));
        let mut bounded = run(1, &many);
        bounded.bound(FINDINGS_PER_CLASS, 5);
        let json = parsed(&FileResult::new(&s, "x.json", std::slice::from_ref(&bounded)));
        let findings = json["runs"][0]["findings"].as_array().unwrap();
        assert_eq!(findings.len(), FINDINGS_PER_CLASS + 1);
        assert_eq!(findings[FINDINGS_PER_CLASS - 1]["message"], "p1#19");
        assert_eq!(findings[FINDINGS_PER_CLASS]["class"], "duplicated");
        assert_eq!(json["runs"][0]["findings_left_out"], serde_json::json!({"lost_acked": 5}));
        assert_eq!(json["runs"][0]["counts"]["lost_acked"], 25, "counts still count every finding");
    }

    #[test]
    fn a_finding_without_a_message_has_null() {
        let s = scenario();
        let mut stuck = finding(FindingClass::Stuck, 0);
        stuck.message = None;
        let runs = [run(1, &[stuck])];
        let json = parsed(&FileResult::new(&s, "x.json", &runs));
        let f = &json["runs"][0]["findings"][0];
        assert_eq!(f["class"], "stuck");
        assert!(f["message"].is_null());
        assert_eq!(f.as_object().unwrap().len(), 3);
    }

    #[test]
    fn pretty_is_the_same_object() {
        let s = scenario();
        let runs = [run(5, &[finding(FindingClass::Duplicated, 3)])];
        let result = FileResult::new(&s, "x.json", &runs);
        let a: Value = serde_json::from_str(&pretty(&result)).unwrap();
        assert_eq!(a, parsed(&result));
    }
}
