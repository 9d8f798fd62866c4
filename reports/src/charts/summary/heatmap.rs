//! `loss-heatmap.svg`: which settings lose acknowledged messages. A panel per unclean-election
//! and flush setting, in each a cell per acks × min.insync.replicas with the share of runs that
//! lost an acknowledged message, whether explore judged that loss a broken guarantee or a
//! permitted one, and the colour bar that reads the shares.

use super::canvas::{header, label, root_svg, Drawn, HEADER_H, WIDTH};
use super::extent;
use super::tally::{acks_order, flush_policy, numeric_order, Known, Tally, LOST_ACKED};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::style::{self, Area, Pattern};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn heatmap(known: &Known) -> Result<Drawn, ChartError> {
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
    let filled: Vec<(&Panel, &(String, String))> =
        cells.iter().flat_map(|(p, c)| c.iter().filter(|(_, t)| t.runs > 0).map(move |(k, _)| (p, k))).collect();
    if filled.len() < 2 {
        let only = filled.first().map(|((unclean, _, flush), (acks, isr))| {
            format!("acks={acks}, min.insync.replicas={isr}, unclean.leader.election.enable={unclean}, {flush}")
        });
        return Ok(Drawn::NotDrawn(words::not_drawn(words::HEATMAP_UNIT, only.as_deref())));
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
    // Each panel's title wrapped to the panel's width, so that it never runs into the next
    // panel or the colour bar; every panel keeps room for the most lines any of them needs.
    let title_w = (panel_w - 30) as f64;
    let titles: Vec<Vec<(String, bool)>> = panels
        .iter()
        .map(|(unclean, _, flush)| {
            let unclean = format!("unclean.leader.election.enable = {unclean}");
            let mut lines: Vec<(String, bool)> =
                extent::wrap(&unclean, title_w, style::LABEL_SIZE, true).into_iter().map(|l| (l, true)).collect();
            lines.extend(extent::wrap(flush, title_w, style::LABEL_SIZE, false).into_iter().map(|l| (l, false)));
            lines
        })
        .collect();
    let title_lines = titles.iter().map(Vec::len).max().unwrap_or(2) as i32;
    let grid_offset = 16 + title_lines * 20;
    let panel_h = grid_offset + cell_h * isrs.len().max(1) as i32 + 62;
    let header_h = HEADER_H + 8;
    let footer_h = 86;
    let height = (header_h + panel_h * panel_rows as i32 + footer_h).max(420) as u32;

    root_svg(height, |root| {
        let subtitle = format!(
            "Share of runs in which the producer was told a message was written and it was lost anyway; {}",
            known.note(total.configs, total.runs)
        );
        header(root, words::HEATMAP.title, words::HEATMAP.caption, &subtitle)?;
        for (p, panel) in panels.iter().enumerate() {
            let (px, py) = (20 + (p % per_row) as i32 * panel_w, header_h + (p / per_row) as i32 * panel_h);
            for (i, (line, bold)) in titles[p].iter().enumerate() {
                let style = match bold {
                    true => style::bold(style::LABEL_SIZE, style::BLACK_INK),
                    false => style::text(style::LABEL_SIZE, style::DARK_GREY),
                };
                label(root, line.clone(), (px + 20, py + 6 + i as i32 * 20), style::anchored(style, HPos::Left, VPos::Top))?;
            }
            let grid_top = py + grid_offset;
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
    .map(Drawn::Svg)
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
    // The longest wording that fits the cell.
    let room = (p1.0 - p0.0 - 8) as f64;
    let fit = |options: &[String], bold: bool| {
        options.iter().find(|o| extent::width(o, style::SMALL_SIZE, bold) <= room).or(options.last()).cloned()
    };
    let (lost_t, runs_t) = (style::thousands(lost), style::thousands(t.runs));
    let runs = fit(
        &[format!("{lost_t} of {runs_t} runs"), format!("{lost_t}/{runs_t} runs"), format!("{lost_t}/{runs_t}")],
        false,
    );
    label(
        root,
        runs.unwrap_or_default(),
        (cx, top + 20),
        style::anchored(style::text(style::SMALL_SIZE, ink), HPos::Center, VPos::Top),
    )?;
    if !verdict.is_empty() {
        let short = if verdict == "permitted" { "allowed" } else { "broken" };
        label(
            root,
            fit(&[verdict.to_string(), short.to_string()], true).unwrap_or_default(),
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
