//! Tests of the summary charts: every chart renders the same bytes twice, says what to read
//! from it, is not drawn with fewer than two categories, keeps every text clear of every other
//! (checked on the SVG itself, with the same text-extent estimate the layout uses), compares
//! latencies only under one fault schedule, and the pieces the charts read (flush policies in
//! words, round axes, log ticks).

use super::axis::{log_ticks, log_x};
use super::canvas::{fit_categories, fmt_value, nice_axis};
use super::extent::{self, TextBox};
use super::lineup::{caption, render_all};
use super::tally::{flush_policy, Known};
use super::words;
use crate::charts::input::{parse_document, ConfigResult, Record};
use crate::charts::style;

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
    let names: Vec<&str> = a.charts.iter().map(|c| c.file_name.as_str()).collect();
    assert_eq!(names, ["loss-heatmap.svg", "durability-latency.svg", "flush-power-loss.svg", "consumer-commit.svg"]);
    for chart in &a.charts {
        assert!(chart.svg.starts_with("<svg "), "{}", chart.file_name);
        assert!(chart.svg.contains(&chart.title), "{} lacks its title", chart.file_name);
        let caption = caption(&chart.file_name).unwrap();
        assert!(chart.svg.contains(caption), "{} lacks its caption", chart.file_name);
        assert_no_text_overlaps(&chart.file_name, &chart.svg);
    }
}

#[test]
fn the_heatmap_shows_shares_panels_and_judgements() {
    let svg = &render_all(&results(GRID)).unwrap().charts[0].svg;
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
fn charts_without_data_are_not_drawn_and_say_why() {
    let lineup = render_all(&[]).unwrap();
    assert!(lineup.charts.is_empty());
    let reasons: Vec<&str> = lineup.not_drawn.iter().map(|n| n.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "not drawn: no cells in the input",
            "not drawn: no configurations with a latency in the input",
            "not drawn: no configurations with a power loss in the input",
            "not drawn: no configurations with consumers in the input"
        ]
    );
}

#[test]
fn a_chart_with_one_category_is_not_drawn() {
    // One configuration: one cell, one flush policy, one way of committing, one point.
    let one = results(
        r#"{"config": {"producer": {"acks": "1"}}, "faults": ["power"], "runs": 4, "found": {"lost_acked": {"runs": 1}}, "latency_ms_p99": 3}"#,
    );
    let lineup = render_all(&one).unwrap();
    assert!(lineup.charts.is_empty(), "{:?}", lineup.charts.iter().map(|c| &c.file_name).collect::<Vec<_>>());
    let reasons: Vec<(&str, &str)> =
        lineup.not_drawn.iter().map(|n| (n.file_name.as_str(), n.reason.as_str())).collect();
    assert_eq!(reasons[0].0, "loss-heatmap.svg");
    assert!(
        reasons[0].1.starts_with("not drawn: it would show one cell") && reasons[0].1.contains("acks=1"),
        "{reasons:?}"
    );
    assert!(reasons[1].1.contains("1 schedule(s), each with one"), "{reasons:?}");
    assert_eq!(
        reasons[2].1,
        "not drawn: it would show one flush policy (no fsync (OS writeback only)); nothing to compare"
    );
    assert!(reasons[3].1.contains("one way of committing (app.commit=none"), "{reasons:?}");
    // Two flush policies: that chart is drawn, the others still are not.
    let two = results(
        r#"{"config": {"producer": {"acks": "1"}}, "faults": ["power"], "runs": 4, "found": {}}
{"config": {"producer": {"acks": "1"}, "broker": {"log.flush.interval.messages": 1}}, "faults": ["power"], "runs": 4, "found": {}}"#,
    );
    let lineup = render_all(&two).unwrap();
    let drawn: Vec<&str> = lineup.charts.iter().map(|c| c.file_name.as_str()).collect();
    assert_eq!(drawn, ["loss-heatmap.svg", "flush-power-loss.svg"]);
}

/// explore lines under two fault kinds and a scenario-like pair: acks=0 fast under one
/// schedule, acks=all slow under another.
const SCHEDULES: &str = r#"{"config": {"producer": {"acks": "0"}}, "faults": ["crash"], "runs": 10, "found": {"lost_acked": {"runs": 9}}, "latency_ms_p99": 5}
{"config": {"producer": {"acks": "all"}}, "faults": ["crash"], "runs": 10, "found": {}, "latency_ms_p99": 40}
{"config": {"producer": {"acks": "0"}}, "faults": ["power", "cut"], "runs": 10, "found": {"lost_acked": {"runs": 9}}, "latency_ms_p99": 7}
{"config": {"producer": {"acks": "all"}}, "faults": ["power", "cut"], "runs": 10, "found": {}, "latency_ms_p99": 100000}
{"config": {"producer": {"acks": "1"}}, "faults": ["wipe"], "runs": 10, "found": {}, "latency_ms_p99": 90000}
"#;

#[test]
fn latency_is_compared_only_under_one_fault_schedule() {
    let lineup = render_all(&results(SCHEDULES)).unwrap();
    let svg = &lineup.charts.iter().find(|c| c.file_name == "durability-latency.svg").unwrap().svg;
    // A panel per schedule with two configurations, each saying what differs; the lone
    // configuration under `wipe` is left out and counted.
    assert!(
        svg.contains("explore&apos;s random schedules of crash") || svg.contains("explore's random schedules of crash")
    );
    assert!(svg.contains("random schedules of power, cut"), "{svg}");
    assert!(!svg.contains("of wipe"));
    assert_eq!(svg.matches("differs: acks").count(), 2);
    assert!(svg.contains("1 schedule(s) with a single configuration left out"));
    assert_no_text_overlaps("durability-latency.svg", svg);
}

#[test]
fn no_two_texts_overlap_in_the_cases_the_issue_names() {
    // The consumer chart's labels (`app.commit=before-processapp.commit=after-process`), six
    // and then twelve ways of committing.
    let mut lines = String::new();
    for (i, commit) in ["none", "before-process", "after-process"].iter().enumerate() {
        for auto in [false, true] {
            for processing in ["sync", "async"] {
                lines.push_str(&format!(
                    r#"{{"config": {{"consumer": {{"app.commit": "{commit}", "enable.auto.commit": {auto}, "app.processing": "{processing}"}}}}, "runs": 3, "found": {{"consumer_skipped": {{"runs": {i}}}}}, "latency_ms_p99": {}}}"#,
                    10 + i
                ));
                lines.push('\n');
            }
        }
    }
    // Facet titles as wide as they come, beside the colour bar (six panels, three a row).
    for (unclean, flush) in [(false, 1), (true, 1), (false, 1000), (true, 1000), (false, 0), (true, 0)] {
        let flush = match flush {
            0 => String::new(),
            n => format!(r#", "broker": {{"log.flush.interval.messages": {n}, "log.flush.interval.ms": 1000}}"#),
        };
        lines.push_str(&format!(
            r#"{{"config": {{"topic": {{"unclean.leader.election.enable": {unclean}}}{flush}}}, "runs": 1, "found": {{}}, "latency_ms_p99": 95000}}"#
        ));
        lines.push('\n');
    }
    for chart in render_all(&results(&lines)).unwrap().charts {
        assert_no_text_overlaps(&chart.file_name, &chart.svg);
    }
}

#[test]
fn category_labels_fit_their_slots_or_become_letters_with_a_key() {
    let labels = vec![vec!["app.commit=before-process".to_string(), "auto-commit off".to_string()]; 6];
    let fitted = fit_categories(&labels, 140.0);
    assert!(fitted.key.is_empty());
    assert_eq!(fitted.lines[0][0], ("app.commit=".to_string(), true), "{fitted:?}");
    for lines in &fitted.lines {
        assert!(lines.iter().all(|(l, b)| extent::width(l, style::SMALL_SIZE, *b) <= 130.0), "{lines:?}");
    }
    let fitted = fit_categories(&vec![vec!["unbreakable_label_far_too_long".to_string()]; 9], 60.0);
    assert_eq!(fitted.lines[1], [("B".to_string(), true)]);
    assert_eq!(fitted.key[1], "B: unbreakable_label_far_too_long");
}

#[test]
fn log_ticks_never_collide() {
    // The defect: `90,000100,000`.
    let ticks = log_ticks(10_000.0, 100_000.0, 150.0);
    assert!(!(ticks.contains(&90_000.0) && ticks.contains(&100_000.0)), "{ticks:?}");
    for lo_exp in -2..7 {
        for decades in 1..6 {
            for width in [120.0, 200.0, 300.0, 600.0, 900.0] {
                let (lo, hi) = (10f64.powi(lo_exp), 10f64.powi(lo_exp + decades));
                let ticks = log_ticks(lo, hi, width);
                assert!(!ticks.is_empty());
                let boxes: Vec<(f64, f64)> = ticks
                    .iter()
                    .map(|&v| {
                        let w = extent::width(&fmt_value(v), style::SMALL_SIZE, false);
                        let x = log_x(v, lo, hi, width);
                        (x - w / 2.0, x + w / 2.0)
                    })
                    .collect();
                for b in boxes.windows(2) {
                    assert!(b[1].0 - b[0].1 >= 8.0, "{lo}..{hi} at {width}px: {ticks:?}");
                }
            }
        }
    }
    assert_eq!(log_ticks(1.0, 100.0, 900.0), [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]);
}

#[test]
fn every_caption_is_one_sentence() {
    for w in words::ALL {
        assert!(w.caption.ends_with('.') && w.caption.matches(". ").count() == 0, "{}", w.caption);
        assert!(extent::width(w.caption, style::SUBTITLE_SIZE, false) < 1200.0 - 32.0, "{} is too wide", w.file_name);
    }
}

/// Every `<text>` of `svg` that is not rotated, as a box: its anchor and baseline offset as
/// plotters writes them, its width from the font size.
fn text_boxes(svg: &str) -> Vec<(String, TextBox)> {
    let attr = |tag: &str, name: &str| {
        let key = format!(" {name}=\"");
        tag.find(&key).map(|i| {
            let rest = &tag[i + key.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
    };
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text ") {
        let after = &rest[start..];
        let close = after.find('>').unwrap();
        let tag = &after[..close];
        let end = after.find("</text>").unwrap();
        let content = after[close + 1..end].trim().replace("&apos;", "'").replace("&quot;", "\"").replace("&amp;", "&");
        rest = &after[end..];
        if tag.contains("transform") || content.is_empty() {
            continue;
        }
        let num = |name: &str| attr(tag, name).and_then(|v| v.parse::<f64>().ok()).unwrap();
        let (x, y, size) = (num("x"), num("y"), num("font-size"));
        let bold = attr(tag, "font-weight").is_some_and(|w| w == "bold");
        let w = extent::width_px(&content, size, bold);
        let x0 = match attr(tag, "text-anchor").as_deref() {
            Some("middle") => x - w / 2.0,
            Some("end") => x - w,
            _ => x,
        };
        let y0 = match attr(tag, "dy").as_deref() {
            Some("0.76em") => y,
            Some("0.5ex") => y - size / 2.0,
            _ => y - size,
        };
        out.push((content, TextBox { x0, y0, x1: x0 + w, y1: y0 + size }));
    }
    out
}

fn assert_no_text_overlaps(name: &str, svg: &str) {
    let boxes = text_boxes(svg);
    assert!(boxes.len() > 5, "{name}: texts found");
    // Plotters moves a text below the page onto its edge, where it would hide an overlap.
    let height: f64 = svg.split("height=\"").nth(1).and_then(|h| h.split('"').next()).unwrap().parse().unwrap();
    for (i, (a, ba)) in boxes.iter().enumerate() {
        assert!(ba.x0 >= 0.0 && ba.x1 <= 1200.0, "{name}: `{a}` leaves the page: {ba:?}");
        assert!(ba.y1 < height - 1.0, "{name}: `{a}` is at the foot of the page: {ba:?}");
        for (b, bb) in &boxes[i + 1..] {
            assert!(!ba.overlaps(bb), "{name}: `{a}` {ba:?} overlaps `{b}` {bb:?}");
        }
    }
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

#[test]
fn the_readme_gallery_shows_each_caption_under_its_chart() {
    let readme = include_str!("../../../../README.md");
    for w in words::ALL {
        let image = readme.find(&format!("gallery/charts/{})", w.file_name)).expect(w.file_name);
        let caption = readme.find(&format!("*{}*", w.caption)).unwrap_or_else(|| panic!("{} caption", w.file_name));
        assert!(caption > image && caption - image < 200, "{}: the caption follows the image", w.file_name);
    }
}
