//! Tests of the summary charts: every chart renders the same bytes twice, with or without data,
//! and the pieces the charts read (flush policies in words, round axes, split labels).

use super::canvas::nice_axis;
use super::flush::split_label;
use super::lineup::render_all;
use super::tally::{flush_policy, Known};
use crate::charts::input::{parse_document, ConfigResult, Record};

fn results(text: &str) -> Vec<ConfigResult> {
    parse_document("t.jsonl", text)
        .unwrap()
        .into_iter()
        .map(|r| match r {
            Record::Explore(c) => c,
            Record::Replay(_) => panic!(),
        })
        .collect()
}

const GRID: &str = r#"{"config": {"producer": {"acks": "1"}, "topic": {"min.insync.replicas": 1}}, "runs": 20, "found": {"lost_acked": {"runs": 9, "first_seed": 2, "permitted": true}}, "latency_ms_p99": 4.5}
{"config": {"producer": {"acks": "all"}, "topic": {"min.insync.replicas": 2}}, "runs": 20, "found": {"lost_acked": {"runs": 0}}, "latency_ms_p99": 11}
{"config": {"producer": {"acks": "all"}, "topic": {"min.insync.replicas": 2}, "broker": {"log.flush.interval.messages": 1}, "faults": ["power"]}, "runs": 10, "found": {"lost_acked": {"runs": 1, "permitted": false}}, "latency_ms_p99": 30}
{"config": {"producer": {"acks": "all"}, "topic": {"min.insync.replicas": 1, "unclean.leader.election.enable": true}, "consumer": {"app.commit": "before-process"}}, "runs": 5, "found": {"consumer_skipped": {"runs": 2}}}
"#;

#[test]
fn every_chart_renders_the_same_bytes_twice() {
    let r = results(GRID);
    let a = render_all(&r).unwrap();
    let b = render_all(&r).unwrap();
    assert_eq!(a, b);
    let names: Vec<&str> = a.iter().map(|c| c.file_name.as_str()).collect();
    assert_eq!(names, ["loss-heatmap.svg", "durability-latency.svg", "flush-power-loss.svg", "consumer-commit.svg"]);
    for chart in &a {
        assert!(chart.svg.starts_with("<svg "), "{}", chart.file_name);
        assert!(chart.svg.contains(&chart.title), "{} lacks its title", chart.file_name);
    }
}

#[test]
fn the_heatmap_shows_shares_panels_and_judgements() {
    let svg = &render_all(&results(GRID)).unwrap()[0].svg;
    for needle in [
        "45%",
        "9 of 20 runs",
        "permitted",
        "guarantee broken",
        "no runs",
        "unclean.leader.election.enable = true",
        "fsync every message",
        "no fsync (OS writeback only)",
        "min.insync.replicas",
        "acks",
    ] {
        assert!(svg.contains(needle), "missing {needle}");
    }
}

#[test]
fn charts_without_data_say_what_would_fill_them() {
    let charts = render_all(&[]).unwrap();
    assert!(charts[0].svg.contains("No configuration to chart."));
    assert!(charts[1].svg.contains("No produce latency in the input."));
    assert!(charts[2].svg.contains("No configuration with a power loss"));
    assert!(charts[3].svg.contains("No configuration with consumers"));
}

#[test]
fn flush_policies_read_as_words() {
    let r = results(GRID);
    let known = Known::of(&r);
    assert_eq!(flush_policy(&known, &r[0]).1, "no fsync (OS writeback only)");
    assert_eq!(flush_policy(&known, &r[2]).1, "fsync every message");
}

#[test]
fn axes_are_round() {
    assert_eq!(nice_axis(7.3), (8.0, 2.0));
    assert_eq!(nice_axis(0.0), (1.0, 0.2));
    assert_eq!(nice_axis(2300.0), (2500.0, 500.0));
    assert_eq!(split_label("no fsync (OS writeback only)"), vec!["no fsync (OS", "writeback only)"]);
}

#[test]
fn a_time_flush_reads_as_the_flusher_runs_it() {
    let r = results(
        r#"{"config": {"broker": {"log.flush.interval.ms": 1000}}, "runs": 1, "found": {}}
{"config": {"broker": {"log.flush.interval.ms": 1000, "log.flush.scheduler.interval.ms": 1000}}, "runs": 1, "found": {}}
{"config": {"broker": {"log.flush.interval.ms": 100, "log.flush.scheduler.interval.ms": 1000}}, "runs": 1, "found": {}}
{"config": {"broker": {"log.flush.interval.messages": 1, "log.flush.interval.ms": 1000}}, "runs": 1, "found": {}}
"#,
    );
    let known = Known::of(&r);
    let labels: Vec<String> = r.iter().map(|c| flush_policy(&known, c).1).collect();
    assert_eq!(
        labels,
        [
            "1000 ms, flusher never runs",
            "fsync every 1000 ms",
            "fsync every 100 ms, checked every 1000 ms",
            "fsync every message (1000 ms never checked)"
        ]
    );
}
