//! `durability-latency.svg`: durability against produce latency, compared only between runs
//! under the same fault schedule. A panel per schedule (a scenario's fault steps, or the kinds
//! explore drew random schedules from), its title naming the schedule and the settings that
//! differ between its points; in it a point per configuration at its simulated p99 produce
//! latency (log scale, ticks that never collide: `axis`) and the share of its runs that lost
//! acknowledged messages, its marker saying acks and its fill min.insync.replicas. A schedule
//! with a single configuration compares nothing and is left out (the subtitle counts them):
//! acks=0's 5 ms under one fault and acks=all's 100 s under another are never side by side.

use super::axis::{log_ticks, log_x};
use super::canvas::{acks_marker, fmt_value, header, isr_fill, label, root_svg, Drawn, HEADER_H, WIDTH};
use super::extent::{self, TextBox};
use super::tally::{Known, Tally, LOST_ACKED};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::input::{ConfigResult, Schedule, LATENCY_MS_MAX};
use crate::charts::style::{self, Area, Marker};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;
use std::collections::{BTreeMap, BTreeSet};

struct Point<'a> {
    latency: f64,
    share: f64,
    acks: String,
    isr: String,
    label: String,
    result: &'a ConfigResult,
}

/// The schedule in words, for a panel's title.
pub(super) fn schedule_text(schedule: Option<&Schedule>) -> String {
    match schedule {
        None => words::SCHEDULE_UNKNOWN.to_string(),
        Some(Schedule::Random(kinds)) => format!("{} {}", words::SCHEDULE_RANDOM, kinds.join(", ")),
        Some(Schedule::Steps { steps, .. }) if steps.is_empty() => words::SCHEDULE_NONE.to_string(),
        Some(Schedule::Steps { steps, .. }) => format!("faults: {}", steps.join(", ")),
    }
}

/// The settings whose values differ between `points`, in key order.
fn differing(known: &Known, points: &[Point]) -> Vec<String> {
    let keys: BTreeSet<&String> =
        points.iter().filter_map(|p| p.result.config.as_ref()).flat_map(|c| c.keys()).collect();
    keys.into_iter()
        .filter(|k| k.as_str() != "faults")
        .filter(|k| points.iter().map(|p| known.get(p.result, k)).collect::<BTreeSet<_>>().len() > 1)
        .cloned()
        .collect()
}

const KEY_W: i32 = 230;
/// A panel's height: taller when one row of panels is all there is.
const PANEL_H: i32 = 262;
const PANEL_H_ONE_ROW: i32 = 420;
const PLOT_LEFT: i32 = 52;
const PLOT_RIGHT: i32 = 18;

pub(super) fn durability_latency(known: &Known) -> Result<Drawn, ChartError> {
    let mut groups: BTreeMap<Option<&Schedule>, Vec<Point>> = BTreeMap::new();
    let mut total = Tally::default();
    for r in &known.results {
        let Some(latency) = r.latency_ms_p99 else { continue };
        let mut t = Tally::default();
        t.add(r, &[LOST_ACKED]);
        let (acks, isr) = (known.get(r, "acks"), known.get(r, "min.insync.replicas"));
        let label = r.label.clone().unwrap_or_else(|| {
            let mut label = format!("acks={acks} min.insync.replicas={isr}");
            if known.get(r, "unclean.leader.election.enable") == "true" {
                label.push_str(" unclean");
            }
            label
        });
        let share = t.share(LOST_ACKED);
        let latency = latency.clamp(0.01, LATENCY_MS_MAX);
        groups.entry(r.schedule.as_ref()).or_default().push(Point { latency, share, acks, isr, label, result: r });
    }
    let singles = groups.values().filter(|g| g.len() < 2).count();
    let panels: Vec<(Option<&Schedule>, Vec<Point>)> = groups.into_iter().filter(|(_, g)| g.len() >= 2).collect();
    if panels.is_empty() {
        let reason = match singles {
            0 => words::not_drawn(words::LATENCY_UNIT, None),
            n => words::not_drawn(words::LATENCY_UNIT, Some(&format!("{n} schedule(s), each with one"))),
        };
        return Ok(Drawn::NotDrawn(reason));
    }
    for p in panels.iter().flat_map(|(_, g)| g) {
        total.add(p.result, &[LOST_ACKED]);
    }
    let per_row: i32 = if panels.len() <= 2 {
        panels.len() as i32
    } else if panels.len() <= 4 {
        2
    } else {
        3
    };
    let rows = (panels.len() as i32 + per_row - 1) / per_row;
    let panel_h = if rows == 1 { PANEL_H_ONE_ROW } else { PANEL_H };
    let panels_w = WIDTH as i32 - KEY_W - 40;
    let panel_w = panels_w / per_row;
    let top = HEADER_H + 12;
    // At least as tall as the key column beside the panels.
    let height = (top + rows * panel_h + 40).max(top + 420) as u32;
    root_svg(height, |root| {
        let mut subtitle = format!(
            "A panel per fault schedule, a point per configuration under it; {}",
            known.note(total.configs, total.runs)
        );
        if singles > 0 {
            subtitle.push_str(&format!("; {singles} {}", words::SCHEDULE_LEFT_OUT));
        }
        header(root, words::LATENCY.title, words::LATENCY.caption, &subtitle)?;
        let mut placed: Vec<TextBox> = Vec::new();
        let mut unlabelled = 0;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (i, (schedule, points)) in panels.iter().enumerate() {
            let (px, py) = (20 + (i as i32 % per_row) * panel_w, top + (i as i32 / per_row) * panel_h);
            let mut title = schedule_text(*schedule);
            // Two different schedules told in the same words get a number.
            let n = seen.entry(title.clone()).or_default();
            *n += 1;
            if *n > 1 {
                title.push_str(&format!(" (#{n})"));
            }
            let differs = differing(known, points);
            let differs = match differs.is_empty() {
                true => format!("{} {}", words::PANEL_DIFFERS, words::PANEL_DIFFERS_NOTHING),
                false => format!("{} {}", words::PANEL_DIFFERS, differs.join(", ")),
            };
            unlabelled += panel(root, (px, py, panel_w - 16, panel_h), &title, &differs, points, &mut placed)?;
        }
        let axis_style = style::anchored(style::text(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Top);
        label(
            root,
            "p99 produce latency, send() to acknowledgement (ms of simulated time, log scale)",
            (20 + panels_w / 2, height as i32 - 30),
            axis_style,
        )?;
        let key_x = WIDTH as i32 - KEY_W;
        marker_key(root, (key_x, top))?;
        let small = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top);
        label(root, "y: runs that lost", (key_x, top + 290), small.clone())?;
        label(root, "acknowledged messages (%)", (key_x, top + 307), small.clone())?;
        if unlabelled > 0 {
            label(root, format!("{unlabelled} point(s) unlabelled:"), (key_x, top + 370), small.clone())?;
            label(root, "their labels would overlap", (key_x, top + 387), small)?;
        }
        Ok(())
    })
    .map(Drawn::Svg)
}

/// One schedule's panel at `(x, y)`, `w` wide and `h` high; returns how many points went unlabelled.
fn panel(
    root: &Area,
    (x, y, w, h): (i32, i32, i32, i32),
    title: &str,
    differs: &str,
    points: &[Point],
    placed: &mut Vec<TextBox>,
) -> Result<usize, ChartError> {
    let room = w as f64;
    let mut lines = extent::wrap(title, room, style::SMALL_SIZE, true);
    if lines.len() > 2 {
        lines.truncate(2);
        lines[1].push_str(" …");
    }
    for (i, line) in lines.iter().enumerate() {
        let s = style::anchored(style::bold(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top);
        label(root, line.clone(), (x, y + i as i32 * 17), s)?;
    }
    let mut differs = differs.to_string();
    while extent::width(&differs, style::SMALL_SIZE, false) > room && differs.chars().count() > 4 {
        let cut: String = differs.chars().take(differs.chars().count() - 4).collect();
        differs = format!("{cut}…");
    }
    let s = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top);
    label(root, differs, (x, y + 36), s)?;

    let (left, right, top, bottom) = (x + PLOT_LEFT, x + w - PLOT_RIGHT, y + 62, y + h - 52);
    // A log scale from the decade below the fastest to the decade above the slowest.
    let fastest = points.iter().map(|p| p.latency).fold(f64::INFINITY, f64::min);
    let slowest = points.iter().map(|p| p.latency).fold(0.0, f64::max);
    let mut lo = 1.0;
    while lo > fastest {
        lo /= 10.0;
    }
    while lo * 10.0 <= fastest {
        lo *= 10.0;
    }
    let mut hi = lo * 10.0;
    while hi < slowest * 1.2 {
        hi *= 10.0;
    }
    let px = |v: f64| left + log_x(v, lo, hi, (right - left) as f64).round() as i32;
    let py = |share: f64| bottom - 6 - (share.clamp(0.0, 1.0) * (bottom - top - 12) as f64).round() as i32;
    let grid = style::GRID.stroke_width(1);
    let tick_style = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Right, VPos::Center);
    for share in [0.0, 0.5, 1.0] {
        let at = py(share);
        root.draw(&PathElement::new(vec![(left, at), (right, at)], grid))?;
        label(root, style::percent(share), (left - 6, at), tick_style.clone())?;
    }
    let below = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Center, VPos::Top);
    for v in log_ticks(lo, hi, (right - left) as f64) {
        let at = px(v);
        root.draw(&PathElement::new(vec![(at, top), (at, bottom)], grid))?;
        root.draw(&PathElement::new(vec![(at, bottom), (at, bottom + 4)], style::BLACK_INK.stroke_width(1)))?;
        label(root, fmt_value(v), (at, bottom + 7), below.clone())?;
    }
    root.draw(&PathElement::new(vec![(left, top), (left, bottom), (right, bottom)], style::BLACK_INK.stroke_width(1)))?;
    let rotated = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Center, VPos::Center)
        .transform(FontTransform::Rotate270);
    label(root, "lost acked", (x + 8, (top + bottom) / 2), rotated)?;

    // Labels where they stay inside the panel and overlap no label already placed.
    let label_px = extent::px(style::SMALL_SIZE - 1.0);
    let mut unlabelled = 0;
    for p in points {
        let at = (px(p.latency), py(p.share));
        style::draw_marker(
            root,
            acks_marker(&p.acks),
            at,
            6,
            Some(isr_fill(&p.isr).unwrap_or(WHITE)),
            style::BLACK_INK,
        )?;
        let lw = extent::width(&p.label, style::SMALL_SIZE - 1.0, false).ceil() as i32;
        let lh = label_px.ceil() as i32 + 2;
        let centred = (at.0 - lw / 2).min(x + w - lw).max(left + 2);
        let candidates = [
            (at.0 + 9, at.1 - lh - 2),
            (at.0 + 9, at.1 + 4),
            (at.0 - 9 - lw, at.1 - lh - 2),
            (at.0 - 9 - lw, at.1 + 4),
            // Above or below, slid sideways to stay in the panel.
            (centred, at.1 - lh - 9),
            (centred, at.1 + 9),
            // Stacked over or under a label already there (twins often share a point).
            (centred, at.1 - 2 * lh - 11),
            (centred, at.1 + lh + 11),
            (centred, at.1 - 3 * lh - 13),
            (centred, at.1 + 2 * lh + 13),
        ];
        let free = candidates.into_iter().find(|&(lx, ly)| {
            let b = TextBox { x0: lx as f64, y0: ly as f64, x1: (lx + lw) as f64, y1: (ly + lh) as f64 };
            lx >= left + 2
                && lx + lw <= x + w
                && ly >= top - 4
                && ly + lh <= bottom
                && !placed.iter().any(|o| b.overlaps(o))
        });
        match free {
            Some((lx, ly)) => {
                placed.push(TextBox { x0: lx as f64, y0: ly as f64, x1: (lx + lw) as f64, y1: (ly + lh) as f64 });
                let s = style::anchored(style::text(style::SMALL_SIZE - 1.0, style::DARK_GREY), HPos::Left, VPos::Top);
                label(root, p.label.clone(), (lx, ly), s)?;
            }
            None => unlabelled += 1,
        }
    }
    Ok(unlabelled)
}

/// The key of [`acks_marker`] and [`isr_fill`], from `(x, y)`.
fn marker_key(area: &Area, (x, y): (i32, i32)) -> Result<(), ChartError> {
    let bold = style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center);
    let plain = style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center);
    label(area, "marker: acks", (x, y + 10), bold.clone())?;
    for (i, acks) in ["0", "1", "all"].iter().enumerate() {
        let at = y + 40 + i as i32 * 28;
        style::draw_marker(area, acks_marker(acks), (x + 12, at), 6, Some(WHITE), style::BLACK_INK)?;
        label(area, format!("acks={acks}"), (x + 30, at), plain.clone())?;
    }
    label(area, "fill: min.insync.replicas", (x, y + 140), bold)?;
    for (i, isr) in ["1", "2", "3"].iter().enumerate() {
        let at = y + 170 + i as i32 * 28;
        style::draw_marker(
            area,
            Marker::Circle,
            (x + 12, at),
            6,
            Some(isr_fill(isr).unwrap_or(WHITE)),
            style::BLACK_INK,
        )?;
        let text = if *isr == "3" { "3 or more".to_string() } else { isr.to_string() };
        label(area, text, (x + 30, at), plain.clone())?;
    }
    Ok(())
}
