//! `durability-latency.svg`: durability against produce latency. A point per configuration at
//! its simulated p99 produce latency (log scale) and the share of its runs that lost
//! acknowledged messages, its marker saying acks and its fill min.insync.replicas.

use super::canvas::{acks_marker, fmt_value, isr_fill, label, root_svg, WIDTH};
use super::tally::{Known, Tally, LOST_ACKED};
use crate::charts::chart::ChartError;
use crate::charts::input::LATENCY_MS_MAX;
use crate::charts::style::{self, Area, Marker};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

pub(super) fn durability_latency(known: &Known) -> Result<String, ChartError> {
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
        // Clamped to the input's bound too: an infinite decade makes plotters' log axis loop.
        let fastest = points.iter().map(|p| p.latency).fold(f64::INFINITY, f64::min).clamp(0.01, LATENCY_MS_MAX);
        let slowest = points.iter().map(|p| p.latency).fold(0.0, f64::max).clamp(fastest, LATENCY_MS_MAX);
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
