//! The charts over many configurations, for `losslab chart`: which settings lose acknowledged
//! messages (a heatmap over acks × min.insync.replicas, a panel per unclean-election and flush
//! setting), durability against p99 produce latency, the flush interval against messages lost
//! to power loss, and the consumer's commit strategy against skipped and duplicated records.
//!
//! Each chart aggregates the [`ConfigResult`]s that share its settings: runs add up, and a
//! share is "runs that showed the class / runs". A setting a result does not name is taken at
//! Kafka's default (the scenario format's `{}`). Results whose configuration is unknown are
//! left out, and the subtitle says how many.

use super::chart::{Chart, ChartError};
use super::input::ConfigResult;
use super::style::{self, Area, Marker, Pattern};
use crate::settings::key_settings;
use losslab_model::Scenario;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;
use std::collections::{BTreeMap, BTreeSet};

const WIDTH: u32 = 1200;

/// Every summary chart, in the order a reader should see them.
pub fn render_all(results: &[ConfigResult]) -> Result<Vec<Chart>, ChartError> {
    let known = Known::of(results);
    Ok(vec![
        Chart {
            file_name: "loss-heatmap.svg".into(),
            title: "Which settings lose acknowledged messages".into(),
            svg: heatmap(&known)?,
        },
        Chart {
            file_name: "durability-latency.svg".into(),
            title: "Durability against produce latency".into(),
            svg: durability_latency(&known)?,
        },
        Chart {
            file_name: "flush-power-loss.svg".into(),
            title: "Flush interval against messages lost to power loss".into(),
            svg: flush_power_loss(&known)?,
        },
        Chart {
            file_name: "consumer-commit.svg".into(),
            title: "Consumer commit strategy against skipped and duplicated records".into(),
            svg: consumer_commit(&known)?,
        },
    ])
}

/// The results with a known configuration, with Kafka's defaults for what they do not name.
struct Known<'a> {
    results: Vec<&'a ConfigResult>,
    unknown: usize,
    defaults: BTreeMap<String, String>,
}

impl<'a> Known<'a> {
    fn of(all: &'a [ConfigResult]) -> Known<'a> {
        let defaults = Scenario::parse("defaults", "defaults", "{}")
            .map(|s| {
                key_settings(&s)
                    .into_iter()
                    .flat_map(|g| g.settings.into_iter().map(|(k, v)| (k.to_string(), v)))
                    .collect()
            })
            .unwrap_or_default();
        let results: Vec<&ConfigResult> = all.iter().filter(|r| r.config.is_some() && r.runs > 0).collect();
        Known { unknown: all.len() - results.len(), results, defaults }
    }

    fn get(&self, r: &ConfigResult, key: &str) -> String {
        r.config
            .as_ref()
            .and_then(|c| c.get(key))
            .or_else(|| self.defaults.get(key))
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    /// What the subtitle says about the input.
    fn note(&self, used: u64, runs: u64) -> String {
        let mut note = format!(
            "{} configuration{}, {} runs",
            style::thousands(used),
            if used == 1 { "" } else { "s" },
            style::thousands(runs)
        );
        if self.unknown > 0 {
            note.push_str(&format!(" ({} result(s) without a known configuration or runs left out)", self.unknown));
        }
        note
    }
}

/// Runs and findings added up over the results that share a chart's settings.
#[derive(Clone, Debug, Default)]
struct Tally {
    configs: u64,
    runs: u64,
    runs_with: BTreeMap<&'static str, u64>,
    messages: BTreeMap<&'static str, u64>,
    /// Whether every result had message counts.
    all_messages: bool,
    /// explore judged some loss here a broken guarantee / every loss here permitted.
    broken: bool,
    permitted: bool,
}

impl Tally {
    fn add(&mut self, r: &ConfigResult, classes: &[&'static str]) {
        if self.configs == 0 {
            self.all_messages = true;
            self.permitted = true;
        }
        self.configs += 1;
        self.runs += r.runs;
        for &class in classes {
            *self.runs_with.entry(class).or_default() += r.runs_with(class);
            match &r.messages {
                Some(m) => *self.messages.entry(class).or_default() += m.get(class).copied().unwrap_or(0),
                None => self.all_messages = false,
            }
            if let Some(f) = r.found.get(class).filter(|f| f.runs > 0) {
                self.broken |= f.permitted == Some(false);
                self.permitted &= f.permitted == Some(true);
            }
        }
    }

    fn share(&self, class: &str) -> f64 {
        match self.runs {
            0 => 0.0,
            runs => self.runs_with.get(class).copied().unwrap_or(0) as f64 / runs as f64,
        }
    }

    fn per_run(&self, class: &str) -> f64 {
        match self.runs {
            0 => 0.0,
            runs => self.messages.get(class).copied().unwrap_or(0) as f64 / runs as f64,
        }
    }
}

// ---- shared helpers ----

fn root_svg(height: u32, draw: impl FnOnce(&Area) -> Result<(), ChartError>) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

fn label(area: &Area, text: impl Into<String>, at: (i32, i32), style: TextStyle<'static>) -> Result<(), ChartError> {
    area.draw(&Text::new(text.into(), at, style))?;
    Ok(())
}

fn acks_order(acks: &str) -> (u8, String) {
    match acks {
        "0" => (0, String::new()),
        "1" => (1, String::new()),
        "all" => (2, String::new()),
        other => (3, other.to_string()),
    }
}

/// Sorts numerically where the values are numbers, then as text.
fn numeric_order(v: &str) -> (u8, u64, String) {
    match v.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, v.to_string()),
    }
}

/// The flush policy in words, with a sort key: fsync every N messages and/or every M ms, or
/// never (Kafka's default: the OS writes back on its own).
fn flush_policy(known: &Known, r: &ConfigResult) -> ((u64, u64), String) {
    let messages = known.get(r, "log.flush.interval.messages").parse::<u64>().unwrap_or(u64::MAX);
    let ms = known.get(r, "log.flush.interval.ms").parse::<u64>().ok();
    let never = messages >= i64::MAX as u64;
    let label = match (never, ms) {
        (true, None) => "no fsync (OS writeback only)".to_string(),
        (true, Some(ms)) => format!("fsync every {ms} ms"),
        (false, ms) => {
            let every = match messages {
                1 => "fsync every message".to_string(),
                n => format!("fsync every {} messages", style::thousands(n)),
            };
            match ms {
                Some(ms) => format!("{every} or {ms} ms"),
                None => every,
            }
        }
    };
    ((messages, ms.unwrap_or(u64::MAX)), label)
}

/// A y axis from 0 with round ticks: the top and the step.
fn nice_axis(max: f64) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let mut magnitude = 1.0;
    while magnitude * 10.0 <= max {
        magnitude *= 10.0;
    }
    while magnitude > max {
        magnitude /= 10.0;
    }
    let step = [0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| (max / s).ceil() <= 6.0)
        .unwrap_or(magnitude * 2.0);
    ((max / step).ceil() * step, step)
}

fn fmt_value(v: f64) -> String {
    if v == v.round() || v >= 10.0 {
        style::thousands(v.round() as u64)
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A plot with a numeric y axis and categories along x, in pixels.
struct Frame {
    left: i32,
    top: i32,
    right: i32,
    bottom: i32,
    y_top: f64,
    y_step: f64,
    categories: usize,
}

impl Frame {
    fn y(&self, v: f64) -> i32 {
        let f = if self.y_top > 0.0 { (v / self.y_top).clamp(0.0, 1.05) } else { 0.0 };
        self.bottom - (f * (self.bottom - self.top) as f64).round() as i32
    }

    fn slot(&self) -> f64 {
        (self.right - self.left) as f64 / self.categories.max(1) as f64
    }

    fn x_center(&self, i: usize) -> i32 {
        self.left + (self.slot() * (i as f64 + 0.5)).round() as i32
    }

    /// Grid, ticks, axis titles and category labels (each a list of lines).
    fn draw(
        &self,
        area: &Area,
        y_title: &str,
        x_title: &str,
        categories: &[Vec<String>],
        percent: bool,
    ) -> Result<(), ChartError> {
        let mut v = 0.0;
        while v <= self.y_top + self.y_step * 0.01 {
            let y = self.y(v);
            area.draw(&PathElement::new(vec![(self.left, y), (self.right, y)], style::GRID.stroke_width(1)))?;
            let text = if percent { format!("{v:.0}%") } else { fmt_value(v) };
            label(
                area,
                text,
                (self.left - 8, y),
                style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Right, VPos::Center),
            )?;
            v += self.y_step;
        }
        let axis = style::BLACK_INK.stroke_width(1);
        area.draw(&PathElement::new(
            vec![(self.left, self.top), (self.left, self.bottom), (self.right, self.bottom)],
            axis,
        ))?;
        for (i, lines) in categories.iter().enumerate() {
            let x = self.x_center(i);
            area.draw(&PathElement::new(vec![(x, self.bottom), (x, self.bottom + 5)], axis))?;
            for (j, line) in lines.iter().enumerate() {
                let style = match j {
                    0 => style::bold(style::SMALL_SIZE, style::BLACK_INK),
                    _ => style::text(style::SMALL_SIZE, style::DARK_GREY),
                };
                label(
                    area,
                    line.clone(),
                    (x, self.bottom + 10 + j as i32 * 17),
                    style::anchored(style, HPos::Center, VPos::Top),
                )?;
            }
        }
        let lines = categories.iter().map(Vec::len).max().unwrap_or(1) as i32;
        label(
            area,
            x_title,
            ((self.left + self.right) / 2, self.bottom + 18 + lines * 17),
            style::anchored(style::text(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Top),
        )?;
        let style = style::anchored(style::text(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Center)
            .transform(FontTransform::Rotate270);
        label(area, y_title, (self.left - 62, (self.top + self.bottom) / 2), style)?;
        Ok(())
    }
}

// ---- 1. the heatmap ----

const LOST_ACKED: &str = "lost_acked";

fn heatmap(known: &Known) -> Result<String, ChartError> {
    type Panel = (String, (u64, u64), String);
    // (unclean, flush) panels; cells by (acks, min ISR).
    let mut cells: BTreeMap<Panel, BTreeMap<(String, String), Tally>> = BTreeMap::new();
    let mut acks_values = BTreeSet::new();
    let mut isr_values = BTreeSet::new();
    let mut total = Tally::default();
    for r in &known.results {
        let (flush_key, flush_label) = flush_policy(known, r);
        let panel = (known.get(r, "unclean.leader.election.enable"), flush_key, flush_label);
        let acks = known.get(r, "acks");
        let isr = known.get(r, "min.insync.replicas");
        acks_values.insert((acks_order(&acks), acks.clone()));
        isr_values.insert((numeric_order(&isr), isr.clone()));
        cells.entry(panel).or_default().entry((acks, isr)).or_default().add(r, &[LOST_ACKED]);
        total.add(r, &[LOST_ACKED]);
    }
    let acks: Vec<String> = acks_values.into_iter().map(|(_, v)| v).collect();
    let isrs: Vec<String> = isr_values.into_iter().map(|(_, v)| v).collect();
    let panels: Vec<_> = cells.keys().cloned().collect();
    let per_row = match panels.len() {
        0 | 1 => 1,
        2 | 4 => 2,
        _ => 3,
    };
    let panel_rows = panels.len().div_ceil(per_row).max(1);
    let plot_w = WIDTH as i32 - 40 - 130;
    let panel_w = plot_w / per_row as i32;
    let cell_w = ((panel_w - 120 - 20) / acks.len().max(1) as i32).min(190);
    let cell_h = (cell_w * 3 / 5).clamp(48, 86);
    let panel_h = 64 + cell_h * isrs.len().max(1) as i32 + 62;
    let header_h = 96;
    let footer_h = 86;
    let height = (header_h + panel_h * panel_rows as i32 + footer_h).max(420) as u32;

    root_svg(height, |root| {
        let subtitle = format!(
            "Share of runs in which the producer was told a message was written and it was lost anyway; {}",
            known.note(total.configs, total.runs)
        );
        style::header(root, "Which settings lose acknowledged messages", &subtitle)?;
        if panels.is_empty() {
            return style::no_data(
                root,
                &["No configuration to chart.", "Give `losslab chart` explore --json output or replay --json objects."],
            );
        }
        for (p, panel) in panels.iter().enumerate() {
            let (px, py) = (20 + (p % per_row) as i32 * panel_w, header_h + (p / per_row) as i32 * panel_h);
            let (unclean, _, flush) = panel;
            label(
                root,
                format!("unclean.leader.election.enable = {unclean}"),
                (px + 120, py + 6),
                style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top),
            )?;
            label(
                root,
                flush.clone(),
                (px + 120, py + 26),
                style::anchored(style::text(style::LABEL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top),
            )?;
            let grid_top = py + 56;
            let grid_left = px + 120;
            let grid_bottom = grid_top + cell_h * isrs.len() as i32;
            for (row, isr) in isrs.iter().enumerate() {
                // The largest min ISR on top, as on a y axis.
                let y0 = grid_top + (isrs.len() - 1 - row) as i32 * cell_h;
                label(
                    root,
                    isr.clone(),
                    (grid_left - 10, y0 + cell_h / 2),
                    style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Right, VPos::Center),
                )?;
                for (col, a) in acks.iter().enumerate() {
                    let x0 = grid_left + col as i32 * cell_w;
                    let tally = cells[panel].get(&(a.clone(), isr.clone()));
                    cell(root, (x0, y0), (x0 + cell_w, y0 + cell_h), tally)?;
                }
            }
            for (col, a) in acks.iter().enumerate() {
                let x = grid_left + col as i32 * cell_w + cell_w / 2;
                label(
                    root,
                    a.clone(),
                    (x, grid_bottom + 8),
                    style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Top),
                )?;
            }
            label(
                root,
                "acks",
                (grid_left + cell_w * acks.len() as i32 / 2, grid_bottom + 30),
                style::anchored(style::text(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Top),
            )?;
            let y_title = style::anchored(style::text(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Center)
                .transform(FontTransform::Rotate270);
            label(root, "min.insync.replicas", (grid_left - 46, (grid_top + grid_bottom) / 2), y_title)?;
        }
        colour_bar(root, (WIDTH as i32 - 120, header_h + 30))?;
        let foot = height as i32 - footer_h + 14;
        let small = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top);
        label(root, "Each cell: the share of runs with at least one lost acknowledged message (lost_acked), over every configuration with those", (20, foot), small.clone())?;
        label(root, "settings; settings not on an axis vary within a cell. \"guarantee broken\": explore judged a loss there against Kafka's documented", (20, foot + 18), small.clone())?;
        label(root, "guarantees; \"permitted\": every loss there is one the configuration allows. Hatched: no runs with those settings.", (20, foot + 36), small)?;
        Ok(())
    })
}

fn cell(root: &Area, p0: (i32, i32), p1: (i32, i32), tally: Option<&Tally>) -> Result<(), ChartError> {
    let border = Some(WHITE.stroke_width(2));
    let (cx, cy) = ((p0.0 + p1.0) / 2, (p0.1 + p1.1) / 2);
    let Some(t) = tally.filter(|t| t.runs > 0) else {
        style::fill_pattern(root, p0, p1, Pattern::Solid, RGBColor(246, 246, 246).mix(1.0), 1, None)?;
        style::fill_pattern(root, p0, p1, Pattern::Diagonal, style::LIGHT_GREY.mix(1.0), 8, border)?;
        let s = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Center, VPos::Center);
        return label(root, "no runs", (cx, cy), s);
    };
    let share = t.share(LOST_ACKED);
    let fill = style::ramp(share);
    style::fill_pattern(root, p0, p1, Pattern::Solid, fill.mix(1.0), 1, border)?;
    let ink = if style::is_dark(fill) { WHITE } else { style::BLACK_INK };
    let lost = t.runs_with.get(LOST_ACKED).copied().unwrap_or(0);
    let verdict = match (lost > 0, t.broken, t.permitted) {
        (true, true, _) => "guarantee broken",
        (true, false, true) => "permitted",
        _ => "",
    };
    let lines = if verdict.is_empty() { 2 } else { 3 };
    let top = cy - lines * 17 / 2;
    label(
        root,
        style::percent(share),
        (cx, top),
        style::anchored(style::bold(style::LABEL_SIZE + 2.0, ink), HPos::Center, VPos::Top),
    )?;
    let runs = format!("{} of {} runs", style::thousands(lost), style::thousands(t.runs));
    label(root, runs, (cx, top + 20), style::anchored(style::text(style::SMALL_SIZE, ink), HPos::Center, VPos::Top))?;
    if !verdict.is_empty() {
        label(
            root,
            verdict,
            (cx, top + 37),
            style::anchored(style::bold(style::SMALL_SIZE, ink), HPos::Center, VPos::Top),
        )?;
    }
    Ok(())
}

fn colour_bar(root: &Area, (x, y): (i32, i32)) -> Result<(), ChartError> {
    let (w, h, steps) = (26, 200, 40);
    label(
        root,
        "share of runs",
        (x, y - 26),
        style::anchored(style::bold(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top),
    )?;
    for i in 0..steps {
        let share = 1.0 - (i as f64 + 0.5) / steps as f64;
        let (y0, y1) = (y + i * h / steps, y + (i + 1) * h / steps);
        root.draw(&Rectangle::new([(x, y0), (x + w, y1)], style::ramp(share).filled()))?;
    }
    root.draw(&Rectangle::new([(x, y), (x + w, y + h)], style::DARK_GREY.stroke_width(1)))?;
    for (i, text) in ["100%", "75%", "50%", "25%", "0%"].iter().enumerate() {
        let ty = y + i as i32 * h / 4;
        root.draw(&PathElement::new(vec![(x + w, ty), (x + w + 5, ty)], style::DARK_GREY.stroke_width(1)))?;
        label(
            root,
            *text,
            (x + w + 8, ty),
            style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}

// ---- 2. durability against latency ----

/// The marker of an `acks` value, and the fill of a min ISR value: shape and lightness.
fn acks_marker(acks: &str) -> Marker {
    match acks {
        "0" => Marker::Triangle,
        "1" => Marker::Square,
        "all" => Marker::Circle,
        _ => Marker::Diamond,
    }
}

fn isr_fill(isr: &str) -> Option<RGBColor> {
    match isr.parse::<u32>() {
        Ok(0 | 1) => None,
        Ok(2) => Some(RGBColor(150, 150, 150)),
        _ => Some(style::BLACK_INK),
    }
}

fn durability_latency(known: &Known) -> Result<String, ChartError> {
    struct Point {
        latency: f64,
        share: f64,
        acks: String,
        isr: String,
        label: String,
    }
    let mut points: Vec<Point> = Vec::new();
    let mut total = Tally::default();
    for r in &known.results {
        let Some(latency) = r.latency_ms_p99 else { continue };
        let mut t = Tally::default();
        t.add(r, &[LOST_ACKED]);
        total.add(r, &[LOST_ACKED]);
        let (acks, isr) = (known.get(r, "acks"), known.get(r, "min.insync.replicas"));
        let label = r.label.clone().unwrap_or_else(|| {
            let mut label = format!("acks={acks} min.insync.replicas={isr}");
            if known.get(r, "unclean.leader.election.enable") == "true" {
                label.push_str(" unclean");
            }
            label
        });
        points.push(Point { latency, share: t.share(LOST_ACKED), acks, isr, label });
    }
    root_svg(660, |root| {
        let subtitle = format!(
            "Each point is one configuration: its simulated p99 produce latency and the share of its runs that lost acknowledged messages; {}",
            known.note(total.configs, total.runs)
        );
        style::header(root, "Durability against produce latency", &subtitle)?;
        let (_, rest) = root.split_vertically(76);
        if points.is_empty() {
            return style::no_data(
                &rest,
                &[
                    "No produce latency in the input.",
                    "explore --json gives latency_ms_p99 per configuration; for replays, chart a",
                    "`losslab replay --out DIR` directory: the latency is measured from each run's history.",
                ],
            );
        }
        let (plot, key) = rest.split_horizontally(WIDTH - 250);
        // Latencies span decades (a fault can stall a producer for seconds): a log scale from
        // the decade below the fastest to the decade above the slowest.
        let fastest = points.iter().map(|p| p.latency).fold(f64::INFINITY, f64::min).max(0.01);
        let slowest = points.iter().map(|p| p.latency).fold(0.0, f64::max).max(fastest);
        let (mut lo, mut hi) = (1.0, 1.0);
        while lo > fastest {
            lo /= 10.0;
        }
        while lo * 10.0 <= fastest {
            lo *= 10.0;
        }
        while hi < slowest * 1.2 {
            hi *= 10.0;
        }
        if hi <= lo {
            hi = lo * 10.0;
        }
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((lo..hi).log_scale(), -4f64..104f64)?;
        let y_fmt = |y: &f64| if *y < 0.0 || *y > 100.0 { String::new() } else { format!("{y:.0}%") };
        let x_fmt = |x: &f64| fmt_value(*x);
        chart
            .configure_mesh()
            .x_desc("p99 produce latency, send() to acknowledgement (ms of simulated time, log scale)")
            .y_desc("runs that lost acknowledged messages (%)")
            .y_label_formatter(&y_fmt)
            .x_label_formatter(&x_fmt)
            .axis_desc_style(style::text(style::LABEL_SIZE, style::BLACK_INK))
            .label_style(style::text(style::SMALL_SIZE, style::DARK_GREY))
            .light_line_style(TRANSPARENT)
            .bold_line_style(style::GRID)
            .draw()?;
        // Labels where they do not overlap a label already placed (in input order).
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        let mut unlabelled = 0;
        for p in &points {
            let at = chart.backend_coord(&(p.latency.max(lo), p.share * 100.0));
            style::draw_marker(
                root,
                acks_marker(&p.acks),
                at,
                6,
                Some(isr_fill(&p.isr).unwrap_or(WHITE)),
                style::BLACK_INK,
            )?;
            let w = (p.label.chars().count() as f64 * (style::SMALL_SIZE - 1.0) * 0.48) as i32;
            let candidates =
                [(at.0 + 9, at.1 - 18), (at.0 + 9, at.1 + 4), (at.0 - 9 - w, at.1 - 18), (at.0 - 9 - w, at.1 + 4)];
            let free = candidates.into_iter().find(|&(x, y)| {
                let b = (x, y, x + w, y + 14);
                b.0 >= 90
                    && b.2 <= (WIDTH - 250) as i32
                    && !placed.iter().any(|o| b.0 < o.2 && o.0 < b.2 && b.1 < o.3 && o.1 < b.3)
            });
            match free {
                Some((x, y)) => {
                    placed.push((x, y, x + w, y + 14));
                    label(
                        root,
                        p.label.clone(),
                        (x, y),
                        style::anchored(style::text(style::SMALL_SIZE - 1.0, style::DARK_GREY), HPos::Left, VPos::Top),
                    )?;
                }
                None => unlabelled += 1,
            }
        }
        marker_key(&key)?;
        if unlabelled > 0 {
            let small = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top);
            label(&key, format!("{unlabelled} point(s) unlabelled:"), (10, 300), small.clone())?;
            label(&key, "their labels would overlap", (10, 318), small)?;
        }
        Ok(())
    })
}

/// The key of [`acks_marker`] and [`isr_fill`].
fn marker_key(area: &Area) -> Result<(), ChartError> {
    let bold = style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center);
    let plain = style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center);
    label(area, "marker: acks", (10, 40), bold.clone())?;
    for (i, acks) in ["0", "1", "all"].iter().enumerate() {
        let y = 70 + i as i32 * 28;
        style::draw_marker(area, acks_marker(acks), (22, y), 6, Some(WHITE), style::BLACK_INK)?;
        label(area, format!("acks={acks}"), (40, y), plain.clone())?;
    }
    label(area, "fill: min.insync.replicas", (10, 170), bold)?;
    for (i, isr) in ["1", "2", "3"].iter().enumerate() {
        let y = 200 + i as i32 * 28;
        style::draw_marker(area, Marker::Circle, (22, y), 6, Some(isr_fill(isr).unwrap_or(WHITE)), style::BLACK_INK)?;
        let text = if *isr == "3" { "3 or more".to_string() } else { isr.to_string() };
        label(area, text, (40, y), plain.clone())?;
    }
    Ok(())
}

// ---- 3. flush interval against power loss ----

fn flush_power_loss(known: &Known) -> Result<String, ChartError> {
    // Configurations whose faults are known to hold no power loss are left out.
    let chosen: Vec<&&ConfigResult> = known.results.iter().filter(|r| r.power_loss != Some(false)).collect();
    let mut policies: BTreeMap<(u64, u64), String> = BTreeMap::new();
    let mut series: BTreeMap<(u8, String), BTreeMap<(u64, u64), Tally>> = BTreeMap::new();
    let mut total = Tally::default();
    for r in &chosen {
        let (key, text) = flush_policy(known, r);
        policies.insert(key, text);
        let acks = known.get(r, "acks");
        series.entry((acks_order(&acks).0, acks)).or_default().entry(key).or_default().add(r, &[LOST_ACKED]);
        total.add(r, &[LOST_ACKED]);
    }
    let by_messages = total.configs > 0 && total.all_messages;
    let value = |t: &Tally| if by_messages { t.per_run(LOST_ACKED) } else { t.share(LOST_ACKED) * 100.0 };
    let y_title = match by_messages {
        true => "acknowledged messages lost per run",
        false => "runs that lost acknowledged messages (%)",
    };
    let left_out = known.results.len() - chosen.len();
    root_svg(600, |root| {
        let mut subtitle = format!(
            "Configurations whose faults include a power loss (or are not known); {}",
            known.note(total.configs, total.runs)
        );
        if left_out > 0 {
            subtitle.push_str(&format!("; {left_out} without a power loss left out"));
        }
        style::header(root, "Flush interval against messages lost to power loss", &subtitle)?;
        if policies.is_empty() {
            let (_, rest) = root.split_vertically(76);
            return style::no_data(
                &rest,
                &[
                    "No configuration with a power loss in the input.",
                    "Explore with --faults power, or replay scenarios that crash a broker with mode power.",
                ],
            );
        }
        let keys: Vec<(u64, u64)> = policies.keys().copied().collect();
        let max = series.values().flat_map(|s| s.values().map(value)).fold(0.0, f64::max);
        let (y_top, y_step) = if by_messages { nice_axis(max * 1.15) } else { (100.0, 20.0) };
        let frame = Frame {
            left: 110,
            top: 100,
            right: WIDTH as i32 - 250,
            bottom: 470,
            y_top,
            y_step,
            categories: keys.len(),
        };
        let labels: Vec<Vec<String>> = policies.values().map(|p| split_label(p)).collect();
        frame.draw(
            root,
            y_title,
            "log.flush.interval.messages / log.flush.interval.ms (broker)",
            &labels,
            !by_messages,
        )?;
        let n = series.len().max(1) as f64;
        for (s, ((_, acks), points)) in series.iter().enumerate() {
            // Series side by side within a category, so that equal values do not hide each other.
            let offset = ((s as f64 - (n - 1.0) / 2.0) * 16.0).round() as i32;
            let at: Vec<(i32, i32, f64)> = keys
                .iter()
                .enumerate()
                .filter_map(|(i, k)| points.get(k).map(|t| (frame.x_center(i) + offset, frame.y(value(t)), value(t))))
                .collect();
            let line = style::DARK_GREY.stroke_width(2);
            let dash = [(10, 0), (8, 5), (3, 4), (12, 4)][s % 4];
            for w in at.windows(2) {
                if dash.1 == 0 {
                    root.draw(&PathElement::new(vec![(w[0].0, w[0].1), (w[1].0, w[1].1)], line))?;
                } else {
                    root.draw(&DashedPathElement::new(vec![(w[0].0, w[0].1), (w[1].0, w[1].1)], dash.0, dash.1, line))?;
                }
            }
            for &(x, y, v) in &at {
                style::draw_marker(root, acks_marker(acks), (x, y), 6, Some(WHITE), style::BLACK_INK)?;
                let text = if by_messages { fmt_value(v) } else { format!("{v:.0}%") };
                label(
                    root,
                    text,
                    (x, y - 10),
                    style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Center, VPos::Bottom),
                )?;
            }
        }
        let key_x = WIDTH as i32 - 220;
        label(
            root,
            "acks",
            (key_x, 110),
            style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center),
        )?;
        for (s, (_, acks)) in series.keys().enumerate() {
            let y = 140 + s as i32 * 28;
            style::draw_marker(root, acks_marker(acks), (key_x + 12, y), 6, Some(WHITE), style::BLACK_INK)?;
            label(
                root,
                format!("acks={acks}"),
                (key_x + 30, y),
                style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center),
            )?;
        }
        let small = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top);
        label(root, "A power loss drops every write not yet on the platter: what the broker fsynced (log.flush.interval.*) or the OS wrote back", (20, 550), small.clone())?;
        label(
            root,
            "(os.dirty.expire.ms). Kafka's default is never to fsync and to rely on replication instead.",
            (20, 568),
            small,
        )?;
        Ok(())
    })
}

/// A category label on two lines, split at its middle space when long.
fn split_label(text: &str) -> Vec<String> {
    if text.chars().count() <= 18 {
        return vec![text.to_string()];
    }
    let mid = text.len() / 2;
    let split =
        text.match_indices(' ').map(|(i, _)| i).min_by_key(|&i| (i as i64 - mid as i64).abs()).unwrap_or(text.len());
    let (a, b) = text.split_at(split);
    [a.trim(), b.trim()].into_iter().filter(|s| !s.is_empty()).map(str::to_string).collect()
}

// ---- 4. consumer commit strategy ----

const SKIPPED: &str = "consumer_skipped";
const DUPLICATED: &str = "consumer_duplicated";

fn consumer_commit(known: &Known) -> Result<String, ChartError> {
    let mut groups: BTreeMap<(u8, String, String, String), Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for r in known.results.iter().filter(|r| r.consumers != Some(0)) {
        let commit = known.get(r, "app.commit");
        let order = match commit.as_str() {
            "none" => 0,
            "before-process" => 1,
            "after-process" => 2,
            _ => 3,
        };
        let key = (order, commit, known.get(r, "enable.auto.commit"), known.get(r, "app.processing"));
        groups.entry(key).or_default().add(r, &[SKIPPED, DUPLICATED]);
        total.add(r, &[SKIPPED, DUPLICATED]);
    }
    let by_messages = total.configs > 0 && total.all_messages;
    let value = |t: &Tally, class: &str| if by_messages { t.per_run(class) } else { t.share(class) * 100.0 };
    root_svg(600, |root| {
        let what = if by_messages { "records per run" } else { "share of runs" };
        let subtitle = format!(
            "Consumer groups, by how the app commits offsets ({what}); {}",
            known.note(total.configs, total.runs)
        );
        style::header(root, "Consumer commit strategy against skipped and duplicated records", &subtitle)?;
        if groups.is_empty() {
            let (_, rest) = root.split_vertically(76);
            return style::no_data(
                &rest,
                &[
                    "No configuration with consumers in the input.",
                    "Explore or replay scenarios whose workload has consumers.",
                ],
            );
        }
        let max = groups.values().flat_map(|t| [value(t, SKIPPED), value(t, DUPLICATED)]).fold(0.0, f64::max);
        let (y_top, y_step) = if by_messages { nice_axis(max * 1.15) } else { (100.0, 20.0) };
        let frame = Frame {
            left: 110,
            top: 100,
            right: WIDTH as i32 - 250,
            bottom: 450,
            y_top,
            y_step,
            categories: groups.len(),
        };
        let labels: Vec<Vec<String>> = groups
            .keys()
            .map(|(_, commit, auto, processing)| {
                let auto = if auto == "true" { "auto-commit on" } else { "auto-commit off" };
                vec![format!("app.commit={commit}"), auto.to_string(), format!("{processing} processing")]
            })
            .collect();
        let y_title = match by_messages {
            true => "records per run",
            false => "runs that showed it (%)",
        };
        frame.draw(root, y_title, "how the consumer application commits its offsets", &labels, !by_messages)?;
        let bar_w = ((frame.slot() * 0.3) as i32).clamp(12, 70);
        for (i, t) in groups.values().enumerate() {
            let x = frame.x_center(i);
            for (j, class) in [SKIPPED, DUPLICATED].into_iter().enumerate() {
                let v = value(t, class);
                let (x0, x1) = if j == 0 { (x - bar_w - 2, x - 2) } else { (x + 2, x + bar_w + 2) };
                let (y0, y1) = (frame.y(v), frame.bottom);
                bar(root, (x0, y0.min(y1 - 1)), (x1, y1), j)?;
                let text = if by_messages { fmt_value(v) } else { format!("{v:.0}%") };
                label(
                    root,
                    text,
                    ((x0 + x1) / 2, y0 - 4),
                    style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Center, VPos::Bottom),
                )?;
            }
        }
        let key_x = WIDTH as i32 - 220;
        for (j, text) in ["skipped: in the log, never processed", "duplicated: processed twice"].iter().enumerate() {
            let y = 110 + j as i32 * 34;
            bar(root, (key_x, y - 10), (key_x + 26, y + 10), j)?;
            label(
                root,
                text.split(':').next().unwrap_or_default(),
                (key_x + 36, y - 7),
                style::anchored(style::bold(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center),
            )?;
            label(
                root,
                text.split(": ").nth(1).unwrap_or_default(),
                (key_x + 36, y + 9),
                style::anchored(style::text(style::SMALL_SIZE - 1.0, style::DARK_GREY), HPos::Left, VPos::Center),
            )?;
        }
        let small = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top);
        label(root, "Committing before processing skips what a crash interrupts (at most once); committing after processing replays it", (20, 540), small.clone())?;
        label(
            root,
            "(at least once). Auto-commit commits whatever earlier polls returned, processed or not.",
            (20, 558),
            small,
        )?;
        Ok(())
    })
}

/// A bar of series `j`: dark solid for the first, light and hatched for the second.
fn bar(root: &Area, p0: (i32, i32), p1: (i32, i32), j: usize) -> Result<(), ChartError> {
    let outline = Some(style::BLACK_INK.stroke_width(1));
    match j {
        0 => style::fill_pattern(root, p0, p1, Pattern::Solid, style::DARK_GREY.mix(1.0), 1, outline),
        _ => {
            style::fill_pattern(root, p0, p1, Pattern::Solid, RGBColor(235, 235, 235).mix(1.0), 1, None)?;
            style::fill_pattern(root, p0, p1, Pattern::Diagonal, style::BLACK_INK.mix(1.0), 6, outline)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::input::{parse_document, Record};

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
        assert_eq!(
            names,
            ["loss-heatmap.svg", "durability-latency.svg", "flush-power-loss.svg", "consumer-commit.svg"]
        );
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
}
