//! The whole timeline SVG: its size, the header with title and subtitle, the controller panel,
//! one lane per broker stacked below it, one per consumer below those, and the key at the
//! bottom. The entry points
//! ([`render`], [`render_timeline`]) are here because this is the one module that puts the
//! parts together.

use super::consumer_lane::consumer_panel;
use super::key::{extra_height, legend};
use super::model::Timeline;
use super::panel::{controller_panel, lane_panel};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::style;
use losslab_model::history::fmt_time;
use losslab_model::{Finding, History};
use plotters::prelude::*;

const WIDTH: u32 = 1200;
const HEADER_H: u32 = 78;
const CONTROLLER_H: u32 = 150;
const LANE_H: u32 = 150;
const LEGEND_H: u32 = 168;

/// The timeline of partition `partition` as an SVG document.
pub fn render(history: &History, findings: &[Finding], partition: u32) -> Result<String, ChartError> {
    render_timeline(&Timeline::of(history, findings, partition))
}

pub fn render_timeline(tl: &Timeline) -> Result<String, ChartError> {
    let brokers = tl.lanes.len().max(1);
    let lanes = (brokers + tl.consumers.lanes.len()) as u32;
    let legend_h = LEGEND_H + extra_height(tl);
    let height = HEADER_H + CONTROLLER_H + lanes * LANE_H + legend_h;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut breaks = vec![HEADER_H, HEADER_H + CONTROLLER_H];
        breaks.extend((1..=lanes).map(|i| HEADER_H + CONTROLLER_H + i * LANE_H));
        let areas = root.split_by_breakpoints::<u32, u32, _, _>([], breaks);
        let subtitle = subtitle(tl);
        style::header(&areas[0], &tl.title, &subtitle)?;
        let end_s = tl.axis.end_x() * 1.02;
        controller_panel(&root, &areas[1], tl, end_s)?;
        if tl.lanes.is_empty() {
            style::no_data(&areas[2], &[&format!("No replica of partition {} appears in the history.", tl.partition)])?;
        }
        let consumers = tl.consumers.lanes.len();
        for (i, lane) in tl.lanes.iter().enumerate() {
            let last = i + 1 == tl.lanes.len() && consumers == 0;
            lane_panel(&root, &areas[2 + i], tl, lane, end_s, last)?;
        }
        for (i, lane) in tl.consumers.lanes.iter().enumerate() {
            consumer_panel(&root, &areas[2 + brokers + i], tl, lane, end_s, i + 1 == consumers)?;
        }
        legend(&areas[areas.len() - 1], tl)?;
        root.present()?;
    }
    Ok(svg)
}

fn subtitle(tl: &Timeline) -> String {
    let c = &tl.consumers;
    let lead = words::subtitle_lead(!c.lanes.is_empty());
    let mut parts = vec![format!("{lead}; the run ended at {}", fmt_time(tl.run_end_us))];
    let consumer_findings = words::consumer_findings(c.skipped, c.duplicated, c.unmarked);
    match (tl.lost_acked, tl.lost_other) {
        // Not "no message was lost" when the consumers skipped or repeated records.
        (0, 0) if !consumer_findings.is_empty() => {}
        (0, 0) => parts.push("no message was lost".to_string()),
        (acked, 0) => parts.push(format!("{} acknowledged messages lost", style::thousands(acked as u64))),
        (0, other) => parts.push(format!("{} unacknowledged messages lost", style::thousands(other as u64))),
        (acked, other) => parts.push(format!(
            "{} acknowledged and {} unacknowledged messages lost",
            style::thousands(acked as u64),
            style::thousands(other as u64)
        )),
    }
    parts.extend(consumer_findings);
    if tl.transactions {
        let (commits, aborts) = tl.lanes.iter().flat_map(|l| &l.txn_markers).fold((0u64, 0u64), |(c, a), m| {
            if m.commit {
                (c + 1, a)
            } else {
                (c, a + 1)
            }
        });
        parts.push(format!(
            "{} COMMIT and {} ABORT markers written",
            style::thousands(commits),
            style::thousands(aborts)
        ));
    }
    if tl.never_stored > 0 {
        parts.push(format!(
            "{} of them never reached a broker and are not marked",
            style::thousands(tl.never_stored as u64)
        ));
    }
    parts.join("; ")
}
