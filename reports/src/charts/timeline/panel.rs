//! The plotted panels of the timeline: the controller's (ISR size, min.insync.replicas, ELR,
//! elections) and one broker's lane (leaderships, fault bands, LEO and HW steps, marks of lost
//! messages; the LSO while it leads and its transaction markers), with the helpers both share (time axis, step lines, fault bands, the final phase).

use super::model::{Band, FaultKind, Lane, Mark, MarkKind, Timeline};
use super::palette::{fault_look, ACKED_INK, HW_INK, LEADER_FILL, LEADER_INK, MIN_ISR_INK, REMOVED_INK};
use super::palette::{ABORT_INK, COMMIT_INK, LSO_INK};
use crate::charts::chart::ChartError;
use crate::charts::style::{self, Area, Marker, Pattern};
use losslab_model::history::ElectionKind;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

const Y_LABELS_W: u32 = 84;

fn time_formatter(end_s: f64) -> impl Fn(&f64) -> String {
    move |x: &f64| match end_s {
        e if e < 5.0 => format!("{x:.2}"),
        e if e < 50.0 => format!("{x:.1}"),
        _ => format!("{x:.0}"),
    }
}

pub(super) fn controller_panel(root: &Area, area: &Area, tl: &Timeline, end_s: f64) -> Result<(), ChartError> {
    let most = tl.isr.iter().map(|p| p.1).chain(tl.min_insync_replicas).max().unwrap_or(1).max(1);
    let y_max = most as f64 + 1.6;
    let mut chart = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(24)
        .margin_top(6)
        .x_label_area_size(24)
        .y_label_area_size(Y_LABELS_W)
        .build_cartesian_2d(0f64..end_s, 0f64..y_max)?;
    let fmt = time_formatter(end_s);
    let y_fmt = |y: &f64| if y.fract() == 0.0 && *y <= most as f64 { format!("{y:.0}") } else { String::new() };
    chart
        .configure_mesh()
        .x_labels(12)
        .y_labels((most as usize + 2).min(12))
        .x_label_formatter(&fmt)
        .y_label_formatter(&y_fmt)
        .y_desc("ISR size (replicas)")
        .axis_desc_style(style::text(style::LABEL_SIZE, style::BLACK_INK))
        .label_style(style::text(style::SMALL_SIZE, style::DARK_GREY))
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID)
        .draw()?;
    for band in &tl.controller_faults {
        fault_band(root, &chart, band, tl.end_us, y_max, "controller ")?;
    }
    if let Some(min) = tl.min_insync_replicas {
        chart.draw_series(DashedLineSeries::new(
            [(0.0, min as f64), (end_s, min as f64)],
            8,
            5,
            MIN_ISR_INK.stroke_width(2),
        ))?;
        let label = format!("min.insync.replicas = {min}");
        // At the left, where the final phase's label never is.
        let (x, y) = chart.backend_coord(&(0.0, min as f64));
        root.draw(&Text::new(
            label,
            (x + 6, y - 2),
            style::anchored(style::text(style::SMALL_SIZE, MIN_ISR_INK), HPos::Left, VPos::Bottom),
        ))?;
    }
    if tl.elr.iter().any(|p| p.1 > 0) {
        chart.draw_series(DashedLineSeries::new(steps(&tl.elr, end_s), 2, 4, style::MID_GREY.stroke_width(2)))?;
    }
    chart.draw_series(LineSeries::new(steps(&tl.isr, end_s), style::BLACK_INK.stroke_width(2)))?;
    // Elections: a tick and a label, staggered on three rows so that close ones stay readable.
    let px_per_s = chart.plotting_area().dim_in_pixel().0 as f64 / end_s;
    let mut last_x_on_row = [f64::NEG_INFINITY; 3];
    for (i, e) in tl.elections.iter().enumerate().take(60) {
        let x = e.t_us as f64 / 1e6;
        let label = match e.leader {
            Some(b) => format!("epoch {}: b{b} ({})", e.leader_epoch, election_kind(e.kind)),
            None => format!("epoch {}: no leader", e.leader_epoch),
        };
        let row = (0..3).find(|&r| (x - last_x_on_row[r]) * px_per_s > 170.0).unwrap_or(i % 3);
        last_x_on_row[row] = x;
        let y = y_max - 0.05 - row as f64 * 0.5;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, y)],
            LEADER_INK.mix(0.5).stroke_width(1),
        )))?;
        let anchor = if (end_s - x) * px_per_s < 170.0 { HPos::Right } else { HPos::Left };
        chart.draw_series(std::iter::once(Text::new(
            label,
            (x, y),
            style::anchored(style::text(style::SMALL_SIZE, LEADER_INK), anchor, VPos::Top),
        )))?;
    }
    if let Some(t) = tl.final_phase_us {
        final_phase_line(root, &chart, t, y_max, true)?;
    }
    Ok(())
}

fn election_kind(kind: ElectionKind) -> &'static str {
    match kind {
        ElectionKind::Clean => "from the ISR",
        ElectionKind::Elr => "from the ELR",
        ElectionKind::LastKnownLeader => "last known leader",
        ElectionKind::Unclean => "UNCLEAN",
        ElectionKind::Offline => "offline",
    }
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

fn final_phase_line(root: &Area, chart: &Chart, t_us: u64, y_max: f64, labelled: bool) -> Result<(), ChartError> {
    let x = t_us as f64 / 1e6;
    chart.plotting_area().draw(&DashedPathElement::new(
        vec![(x, 0.0), (x, y_max)],
        3,
        3,
        style::DARK_GREY.stroke_width(1),
    ))?;
    if labelled {
        // Beside the line, on whichever side has room.
        let right_edge = chart.backend_coord(&(chart.x_range().end, 0.0)).0;
        let at = chart.backend_coord(&(x, y_max * 0.38));
        let (dx, anchor) = if right_edge - at.0 < 230 { (-4, HPos::Right) } else { (4, HPos::Left) };
        root.draw(&Text::new(
            "final phase: heal, restart, drain".to_string(),
            (at.0 + dx, at.1),
            style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), anchor, VPos::Top),
        ))?;
    }
    Ok(())
}

/// A step line through `points`, held to `end_s`.
fn steps<V: Copy + ToF64>(points: &[(u64, V)], end_s: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2 + 1);
    for (i, &(t, v)) in points.iter().enumerate() {
        let x = t as f64 / 1e6;
        if i > 0 {
            out.push((x, points[i - 1].1.to_f64()));
        }
        out.push((x, v.to_f64()));
    }
    if let Some(&(_, v)) = points.last() {
        out.push((end_s, v.to_f64()));
    }
    out
}

/// Offsets (`u64`) and replica counts (`u32`) as chart coordinates.
trait ToF64 {
    fn to_f64(self) -> f64;
}

impl ToF64 for u64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl ToF64 for u32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

pub(super) fn lane_panel(
    root: &Area,
    area: &Area,
    tl: &Timeline,
    lane: &Lane,
    end_s: f64,
    last: bool,
) -> Result<(), ChartError> {
    // Headroom above the highest offset for the leadership labels.
    let y_max = tl.max_offset as f64 * 1.3;
    let mut chart = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(24)
        .margin_top(6)
        .x_label_area_size(if last { 44 } else { 24 })
        .y_label_area_size(Y_LABELS_W)
        .build_cartesian_2d(0f64..end_s, 0f64..y_max)?;
    let fmt = time_formatter(end_s);
    let y_fmt = |y: &f64| format!("{y:.0}");
    let desc = format!("b{}: offset", lane.broker);
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(12)
        .y_labels(4)
        .x_label_formatter(&fmt)
        .y_label_formatter(&y_fmt)
        .y_desc(desc)
        .axis_desc_style(style::bold(style::LABEL_SIZE, style::BLACK_INK))
        .label_style(style::text(style::SMALL_SIZE, style::DARK_GREY))
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID);
    if last {
        mesh.x_desc("simulated time (s)");
    }
    mesh.draw()?;

    for period in &lane.leadership {
        let (x0, x1) = (period.start_us as f64 / 1e6, band_end(period.end_us, tl.end_us, end_s));
        chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, y_max)], LEADER_FILL.filled())))?;
        let width_px = chart.backend_coord(&(x1, 0.0)).0 - chart.backend_coord(&(x0, 0.0)).0;
        let label = match width_px {
            w if w >= 110 => format!("leader, epoch {}", period.leader_epoch),
            w if w >= 26 => format!("e{}", period.leader_epoch),
            _ => String::new(),
        };
        if !label.is_empty() {
            let (px, py) = chart.backend_coord(&(x0, y_max));
            root.draw(&Text::new(
                label,
                (px + 4, py + 3),
                style::anchored(style::bold(style::SMALL_SIZE, LEADER_INK), HPos::Left, VPos::Top),
            ))?;
        }
    }
    for band in &lane.faults {
        fault_band(root, &chart, band, tl.end_us, y_max, "")?;
    }
    if let Some(t) = tl.final_phase_us {
        final_phase_line(root, &chart, t, y_max, false)?;
    }
    // Thin the lines to a few points per pixel column: the picture is the same, the file small.
    let px = chart.plotting_area().dim_in_pixel().0.max(1) as u64;
    let bucket = (tl.end_us / px / 2).max(1);
    chart.draw_series(LineSeries::new(
        steps(&style::thin_steps(&lane.leo, bucket), end_s),
        style::BLACK_INK.stroke_width(2),
    ))?;
    for (i, segment) in lane.hw.iter().enumerate() {
        let thin = style::thin_steps(segment, bucket);
        let mut points = steps(&thin, end_s);
        // A segment ends where the next incarnation's begins (or at a crash): not at the end.
        let next_start = lane.hw.get(i + 1).and_then(|s| s.first()).map(|p| p.0);
        let crash_end = lane
            .faults
            .iter()
            .filter(|b| matches!(b.kind, FaultKind::ProcessCrash | FaultKind::PowerCrash))
            .map(|b| b.start_us)
            .filter(|&s| segment.first().is_some_and(|p| p.0 <= s))
            .min();
        if let Some(stop) = crash_end.or(next_start) {
            let stop_s = stop as f64 / 1e6;
            points.retain(|p| p.0 <= stop_s);
            if let Some(&(_, v)) = points.last() {
                points.push((stop_s, v));
            }
        }
        chart.draw_series(DashedLineSeries::new(points, 7, 4, HW_INK.stroke_width(2)))?;
    }
    for group in mark_groups(&chart, &lane.marks) {
        draw_marks(root, &chart, group)?;
    }
    if tl.transactions {
        draw_transactions(root, &chart, lane, bucket, end_s)?;
    }
    Ok(())
}

/// The LSO as a dotted step while the broker leads (a leader's value: followers have none), and
/// a glyph per transaction marker at its offset and time: COMMIT a triangle, ABORT a square.
fn draw_transactions(root: &Area, chart: &Chart, lane: &Lane, bucket: u64, end_s: f64) -> Result<(), ChartError> {
    for period in &lane.leadership {
        // The value in force when the leadership began, then every change inside it.
        let before = lane.lso.iter().take_while(|p| p.0 <= period.start_us).last().map(|p| (period.start_us, p.1));
        let inside = lane.lso.iter().filter(|p| p.0 > period.start_us && p.0 < period.end_us).copied();
        let points: Vec<(u64, u64)> = before.into_iter().chain(inside).collect();
        if points.is_empty() {
            continue;
        }
        let stop_s = (period.end_us as f64 / 1e6).min(end_s);
        let mut line = steps(&style::thin_steps(&points, bucket), stop_s);
        line.retain(|p| p.0 <= stop_s);
        chart.plotting_area().draw(&DashedPathElement::new(line, 2, 3, LSO_INK.stroke_width(2)))?;
    }
    for m in &lane.txn_markers {
        let at = chart.backend_coord(&(m.t_us as f64 / 1e6, m.offset as f64 + 0.5));
        let (marker, ink) = if m.commit { (Marker::Triangle, COMMIT_INK) } else { (Marker::Square, ABORT_INK) };
        style::draw_marker(root, marker, at, 3, Some(ink), ink)?;
    }
    Ok(())
}

/// Marks of one kind a few pixels apart whose offsets follow on from each other (the batches
/// of one acknowledged stretch) are drawn as one path: the same picture, far fewer elements.
fn mark_groups<'m>(chart: &Chart, marks: &'m [Mark]) -> Vec<&'m [Mark]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=marks.len() {
        let joins = marks.get(i).is_some_and(|m| {
            let prev = &marks[i - 1];
            let px = |t: u64| chart.backend_coord(&(t as f64 / 1e6, 0.0)).0;
            m.kind == prev.kind && px(m.t_us) - px(prev.t_us) <= 4 && m.first <= prev.last + 1
        });
        if !joins {
            groups.push(&marks[start..i]);
            start = i;
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

fn draw_marks(root: &Area, chart: &Chart, group: &[Mark]) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (group.first(), group.last()) else { return Ok(()) };
    let (ink, marker, fill) = match first.kind {
        MarkKind::Acked => (ACKED_INK, Marker::Circle, Some(WHITE)),
        MarkKind::Truncated | MarkKind::PageCacheLost => (REMOVED_INK, Marker::Cross, None),
    };
    let at = |t: u64, offset: u64| chart.backend_coord(&(t as f64 / 1e6, offset as f64 + 0.5));
    let mut path: Vec<(i32, i32)> = Vec::with_capacity(group.len() * 2);
    for m in group {
        for p in [at(m.t_us, m.first), at(m.t_us, m.last)] {
            if path.last() != Some(&p) {
                path.push(p);
            }
        }
    }
    let (bottom, top) = (at(first.t_us, first.first), at(last.t_us, last.last));
    if path.len() > 1 {
        root.draw(&PathElement::new(path, ink.stroke_width(3)))?;
    }
    style::draw_marker(root, marker, top, 4, fill, ink)?;
    if (bottom.1 - top.1).abs() > 6 || (bottom.0 - top.0).abs() > 6 {
        style::draw_marker(root, marker, bottom, 4, fill, ink)?;
    }
    Ok(())
}

/// A fault band over the whole height of a panel: a pattern per kind (and a label), so that
/// kinds differ in greyscale too.
fn fault_band(
    root: &Area,
    chart: &Chart,
    band: &Band,
    end_us: u64,
    y_max: f64,
    prefix: &str,
) -> Result<(), ChartError> {
    let (x0, x1) = (band.start_us as f64 / 1e6, band_end(band.end_us, end_us, chart.x_range().end));
    let (p0, p1) = (chart.backend_coord(&(x0, y_max)), chart.backend_coord(&(x1, 0.0)));
    let p1 = (p1.0.max(p0.0 + 2), p1.1);
    match band.kind {
        FaultKind::Wipe => {
            root.draw(&PathElement::new(vec![(p0.0, p0.1), (p0.0, p1.1)], style::BLACK_INK.stroke_width(3)))?;
            style::draw_marker(root, Marker::Diamond, (p0.0, p0.1 + 8), 5, Some(style::BLACK_INK), style::BLACK_INK)?;
        }
        kind => {
            let (fill, pattern, ink, alpha, spacing) = fault_look(kind);
            style::fill_pattern(root, p0, p1, Pattern::Solid, fill.mix(alpha), 1, None)?;
            style::fill_pattern(root, p0, p1, pattern, ink.mix(0.85), spacing, Some(ink.mix(0.9).stroke_width(1)))?;
        }
    }
    let label = format!("{prefix}{}", band.kind.label());
    let width = (label.chars().count() as f64 * style::SMALL_SIZE * 0.5) as i32 + 8;
    let (lx, ly) = (p0.0 + if band.kind == FaultKind::Wipe { 4 } else { 3 }, p1.1 - 20);
    root.draw(&Rectangle::new([(lx, ly), (lx + width, ly + 17)], WHITE.mix(0.92).filled()))?;
    root.draw(&Text::new(
        label,
        (lx + 4, ly + 2),
        style::anchored(style::bold(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top),
    ))?;
    Ok(())
}

/// Where a band ending at `t_us` ends on the x axis: one still open when the chart ends runs
/// to the axis's end.
fn band_end(t_us: u64, end_us: u64, end_s: f64) -> f64 {
    match t_us >= end_us {
        true => end_s,
        false => t_us as f64 / 1e6,
    }
}
