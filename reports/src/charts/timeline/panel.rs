//! The plotted panels of the timeline: the controller's (ISR size, min.insync.replicas, ELR,
//! elections) and one broker's lane (leaderships, fault bands, LEO and HW steps, marks of lost
//! messages; the LSO while it leads and its transaction markers), with the helpers every lane
//! shares: the time axis (round ticks, compressed quiet stretches drawn as breaks), step lines,
//! fault bands (a one-way cut as a half band with its direction) with their labels placed so
//! that none overlaps another, the final phase.

use super::axis::Axis;
use super::model::{Band, FaultKind, Lane, Mark, MarkKind, Timeline};
use super::palette::{fault_look, ACKED_INK, HW_INK, LEADER_FILL, LEADER_INK, MIN_ISR_INK, REMOVED_INK};
use super::palette::{ABORT_INK, COMMIT_INK, DUPLICATED_INK, LSO_INK, SKIPPED_INK};
use super::place::{place, place_best, Label};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::style::{self, Area, Marker, Pattern};
use losslab_model::history::ElectionKind;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

pub(super) const Y_LABELS_W: u32 = 84;
/// Rows for election labels in the controller panel, and for fault labels in a lane.
const ELECTION_ROWS: usize = 3;
const FAULT_ROWS: usize = 2;

/// The x of instant `t_us` on the panels' shared x range (`0..end_s`, in axis units).
pub(super) fn tx(axis: &Axis, t_us: u64) -> f64 {
    axis.x(t_us)
}

/// The time axis of one panel: a light grid line and a label at every round tick (the mesh
/// draws none: its ticks would not know about the breaks), and every compressed quiet stretch
/// as a pale band with a zigzag on the axis; with `label_breaks` (the bottom panel) its length
/// is written under the zigzag, in place of the tick labels near it.
pub(super) fn time_axis(
    root: &Area,
    chart: &Chart,
    axis: &Axis,
    y_max: f64,
    label_breaks: bool,
) -> Result<(), ChartError> {
    let (left, bottom) = chart.backend_coord(&(0.0, 0.0));
    let right = chart.backend_coord(&(chart.x_range().end, 0.0)).0;
    let top = chart.backend_coord(&(0.0, y_max)).1;
    let px_per_x = (right - left) as f64 / chart.x_range().end.max(1e-9);
    let break_labels: Vec<(i32, String)> = axis
        .breaks()
        .map(|s| {
            let mid = (chart.backend_coord(&(s.x0, 0.0)).0 + chart.backend_coord(&(s.x1, 0.0)).0) / 2;
            (mid, words::quiet(s.t1_us - s.t0_us).join(" "))
        })
        .filter(|_| label_breaks)
        .collect();
    for (t, label) in axis.ticks(px_per_x, 70.0) {
        let x = chart.backend_coord(&(tx(axis, t), 0.0)).0;
        if break_labels.iter().any(|(mid, text)| (x - mid).abs() < text_width(text) / 2 + 16) {
            continue;
        }
        root.draw(&PathElement::new(vec![(x, top), (x, bottom)], style::GRID.stroke_width(1)))?;
        root.draw(&PathElement::new(vec![(x, bottom), (x, bottom + 4)], style::DARK_GREY.stroke_width(1)))?;
        root.draw(&Text::new(
            label,
            (x, bottom + 6),
            style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Center, VPos::Top),
        ))?;
    }
    for s in axis.breaks() {
        let (x0, x1) = (chart.backend_coord(&(s.x0, 0.0)).0, chart.backend_coord(&(s.x1, 0.0)).0);
        root.draw(&Rectangle::new([(x0, top), (x1, bottom)], style::GRID.mix(0.7).filled()))?;
        // A zigzag across the bottom axis: the usual sign of a broken scale.
        let mid = (x0 + x1) / 2;
        let zig = vec![(mid - 6, bottom + 5), (mid - 2, bottom - 5), (mid + 2, bottom + 5), (mid + 6, bottom - 5)];
        root.draw(&Rectangle::new([(mid - 8, bottom - 6), (mid + 8, bottom + 6)], WHITE.filled()))?;
        root.draw(&PathElement::new(zig, style::DARK_GREY.stroke_width(2)))?;
    }
    for (mid, text) in break_labels {
        root.draw(&Text::new(
            text,
            (mid, bottom + 6),
            style::anchored(style::bold(style::SMALL_SIZE, style::DARK_GREY), HPos::Center, VPos::Top),
        ))?;
    }
    Ok(())
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
    let y_fmt = |y: &f64| if y.fract() == 0.0 && *y <= most as f64 { format!("{y:.0}") } else { String::new() };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels((most as usize + 2).min(12))
        .y_label_formatter(&y_fmt)
        .y_desc("ISR size (replicas)")
        .axis_desc_style(style::text(style::LABEL_SIZE, style::BLACK_INK))
        .label_style(style::text(style::SMALL_SIZE, style::DARK_GREY))
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID)
        .draw()?;
    time_axis(root, &chart, &tl.axis, y_max, false)?;
    fault_bands(root, &chart, tl, &tl.controller_faults, y_max, "controller ")?;
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
        chart.draw_series(DashedLineSeries::new(
            steps(&tl.elr, &tl.axis, end_s),
            2,
            4,
            style::MID_GREY.stroke_width(2),
        ))?;
    }
    chart.draw_series(LineSeries::new(steps(&tl.isr, &tl.axis, end_s), style::BLACK_INK.stroke_width(2)))?;
    // Elections: a tick and a label; the labels are placed on three rows so that none crosses
    // another or another's tick, and those with no room are counted instead.
    let labels: Vec<(f64, String)> = tl
        .elections
        .iter()
        .map(|e| {
            let label = match e.leader {
                Some(b) => format!("epoch {}: b{b} ({})", e.leader_epoch, election_kind(e.kind)),
                None => format!("epoch {}: no leader", e.leader_epoch),
            };
            (tx(&tl.axis, e.t_us), label)
        })
        .collect();
    let rows_y = |row: usize| y_max - 0.05 - row as f64 * 0.5;
    ticked_labels(root, &chart, &labels, ELECTION_ROWS, rows_y, LEADER_INK)?;
    if let Some(t) = tl.final_phase_us {
        final_phase_line(root, &chart, &tl.axis, t, y_max, true)?;
    }
    Ok(())
}

/// Labels at instants, each with a tick line rising to it from the bottom of the panel: placed
/// on `rows` rows (`place`), the ones with no room dropped (their ticks drawn short) and counted
/// at the panel's top right.
pub(super) fn ticked_labels(
    root: &Area,
    chart: &Chart,
    labels: &[(f64, String)],
    rows: usize,
    row_y: impl Fn(usize) -> f64,
    ink: RGBColor,
) -> Result<(), ChartError> {
    let (left, right) = (chart.backend_coord(&(0.0, 0.0)).0, chart.backend_coord(&(chart.x_range().end, 0.0)).0 + 20);
    // Right of the tick, else left of it; never past the panel's edges.
    let candidates: Vec<Vec<Label>> = labels
        .iter()
        .map(|(x, text)| {
            let px = chart.backend_coord(&(*x, 0.0)).0;
            let w = text_width(text);
            [Label { x0: px, x1: px + w, tick: Some(px) }, Label { x0: px - w, x1: px, tick: Some(px) }]
                .into_iter()
                .filter(|l| l.x0 >= left && l.x1 <= right)
                .collect()
        })
        .collect();
    let (rows_of, dropped) = place_best(&candidates, rows);
    for (((x, text), found), options) in labels.iter().zip(rows_of).zip(&candidates) {
        let Some((row, candidate)) = found else {
            chart
                .plotting_area()
                .draw(&PathElement::new(vec![(*x, 0.0), (*x, row_y(rows - 1) * 0.15)], ink.mix(0.5).stroke_width(1)))?;
            continue;
        };
        let y = row_y(row);
        chart.plotting_area().draw(&PathElement::new(vec![(*x, 0.0), (*x, y)], ink.mix(0.5).stroke_width(1)))?;
        // A candidate ending at its tick sits left of it.
        let chosen = options[candidate];
        let leftward = chosen.tick == Some(chosen.x1);
        let anchor = if leftward { HPos::Right } else { HPos::Left };
        // Inset from the tick, so that a tick along the label's end does not touch its text.
        let at = chart.backend_coord(&(*x, y));
        let dx = if leftward { -3 } else { 3 };
        root.draw(&Text::new(
            text.clone(),
            (at.0 + dx, at.1),
            style::anchored(style::text(style::SMALL_SIZE, ink), anchor, VPos::Top),
        ))?;
    }
    hidden_note(root, chart, dropped)
}

/// A label's width in pixels at the small size (an estimate: the SVG's font is the viewer's).
pub(super) fn text_width(text: &str) -> i32 {
    (text.chars().count() as f64 * style::SMALL_SIZE * 0.55) as i32 + 4
}

/// "+N labels hidden" at the bottom right of a panel, on white, when any were dropped.
fn hidden_note(root: &Area, chart: &Chart, dropped: usize) -> Result<(), ChartError> {
    if dropped == 0 {
        return Ok(());
    }
    let (x, y) = chart.backend_coord(&(chart.x_range().end, 0.0));
    let text = words::hidden(dropped);
    let w = text_width(&text);
    root.draw(&Rectangle::new([(x - w - 6, y - 20), (x - 2, y - 3)], WHITE.mix(0.92).filled()))?;
    root.draw(&Text::new(
        text,
        (x - 4, y - 4),
        style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Right, VPos::Bottom),
    ))?;
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

pub(super) type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

pub(super) fn final_phase_line(
    root: &Area,
    chart: &Chart,
    axis: &Axis,
    t_us: u64,
    y_max: f64,
    labelled: bool,
) -> Result<(), ChartError> {
    let x = tx(axis, t_us);
    chart.plotting_area().draw(&DashedPathElement::new(
        vec![(x, 0.0), (x, y_max)],
        3,
        3,
        style::DARK_GREY.stroke_width(1),
    ))?;
    if labelled {
        // Beside the line, on whichever side has room.
        // Up to the axis's end or the next break, whose length is written on it.
        let next_break = axis.breaks().map(|s| s.x0).find(|&bx| bx > x).unwrap_or(chart.x_range().end);
        let right_edge = chart.backend_coord(&(next_break, 0.0)).0;
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
pub(super) fn steps<V: Copy + ToF64>(points: &[(u64, V)], axis: &Axis, end_s: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2 + 1);
    for (i, &(t, v)) in points.iter().enumerate() {
        let x = tx(axis, t);
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
pub(super) trait ToF64 {
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

/// An offset lane's plot, a broker's or a consumer's.
pub(super) type OffsetChart<'c, 'b> = ChartContext<'c, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// An offset lane's plot: simulated seconds across, offsets up to `max_offset` with headroom
/// above for the labels; `last` keeps room for the time axis.
pub(super) fn offset_chart<'c, 'b>(
    area: &'c Area<'b>,
    tl: &Timeline,
    end_s: f64,
    last: bool,
) -> Result<OffsetChart<'c, 'b>, ChartError> {
    let y_max = tl.max_offset as f64 * 1.3;
    Ok(ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(24)
        .margin_top(6)
        .x_label_area_size(if last { 44 } else { 24 })
        .y_label_area_size(Y_LABELS_W)
        .build_cartesian_2d(0f64..end_s, 0f64..y_max)?)
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
    let mut chart = offset_chart(area, tl, end_s, last)?;
    let y_fmt = |y: &f64| format!("{y:.0}");
    let desc = format!("b{}: offset", lane.broker);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .x_labels(0)
        .y_labels(4)
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
    time_axis(root, &chart, &tl.axis, y_max, last)?;

    for period in &lane.leadership {
        let (x0, x1) = (tx(&tl.axis, period.start_us), band_end(&tl.axis, period.end_us, tl.end_us, end_s));
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
    fault_bands(root, &chart, tl, &lane.faults, y_max, "")?;
    if let Some(t) = tl.final_phase_us {
        final_phase_line(root, &chart, &tl.axis, t, y_max, false)?;
    }
    // Thin the lines to a few points per pixel column: the picture is the same, the file small.
    let bucket = thin_bucket(&chart, tl);
    chart.draw_series(LineSeries::new(
        steps(&style::thin_steps(&lane.leo, bucket), &tl.axis, end_s),
        style::BLACK_INK.stroke_width(2),
    ))?;
    for i in 0..lane.hw.len() {
        let points = segment_line(&tl.axis, &lane.hw, i, &lane.faults, bucket, end_s);
        chart.draw_series(DashedLineSeries::new(points, 7, 4, HW_INK.stroke_width(2)))?;
    }
    for group in mark_groups(&chart, &tl.axis, &lane.marks) {
        draw_marks(root, &chart, &tl.axis, group)?;
    }
    if tl.transactions {
        draw_transactions(root, &chart, &tl.axis, lane, bucket, end_s)?;
    }
    Ok(())
}

/// The time bucket that thins a step line to a few points per pixel column.
pub(super) fn thin_bucket(chart: &Chart, tl: &Timeline) -> u64 {
    let px = chart.plotting_area().dim_in_pixel().0.max(1) as u64;
    // Compressed stretches hold few points: thinning by the uncompressed run is enough.
    (tl.end_us / px / 2).max(1)
}

/// Segment `i` of a segmented step line (one per incarnation or resumption), ending where the
/// next one begins or at a crash after its start: not at the end of the run.
pub(super) fn segment_line(
    axis: &Axis,
    segments: &[Vec<(u64, u64)>],
    i: usize,
    faults: &[Band],
    bucket: u64,
    end_s: f64,
) -> Vec<(f64, f64)> {
    let segment = &segments[i];
    let thin = style::thin_steps(segment, bucket);
    let mut points = steps(&thin, axis, end_s);
    let next_start = segments.get(i + 1).and_then(|s| s.first()).map(|p| p.0);
    let crash_end = faults
        .iter()
        .filter(|b| matches!(b.kind, FaultKind::ProcessCrash | FaultKind::PowerCrash))
        .map(|b| b.start_us)
        .filter(|&s| segment.first().is_some_and(|p| p.0 <= s))
        .min();
    let stop = match (crash_end, next_start) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(stop) = stop {
        let stop_s = tx(axis, stop);
        points.retain(|p| p.0 <= stop_s);
        if let Some(&(_, v)) = points.last() {
            points.push((stop_s, v));
        }
    }
    points
}

/// The LSO as a dotted step while the broker leads (a leader's value: followers have none), and
/// a glyph per transaction marker at its offset and time: COMMIT a triangle, ABORT a square.
fn draw_transactions(
    root: &Area,
    chart: &Chart,
    axis: &Axis,
    lane: &Lane,
    bucket: u64,
    end_s: f64,
) -> Result<(), ChartError> {
    for period in &lane.leadership {
        // The value in force when the leadership began, then every change inside it.
        let before = lane.lso.iter().take_while(|p| p.0 <= period.start_us).last().map(|p| (period.start_us, p.1));
        let inside = lane.lso.iter().filter(|p| p.0 > period.start_us && p.0 < period.end_us).copied();
        let points: Vec<(u64, u64)> = before.into_iter().chain(inside).collect();
        if points.is_empty() {
            continue;
        }
        let stop_s = tx(axis, period.end_us).min(end_s);
        let mut line = steps(&style::thin_steps(&points, bucket), axis, stop_s);
        line.retain(|p| p.0 <= stop_s);
        chart.plotting_area().draw(&DashedPathElement::new(line, 2, 3, LSO_INK.stroke_width(2)))?;
    }
    for m in &lane.txn_markers {
        let at = chart.backend_coord(&(tx(axis, m.t_us), m.offset as f64 + 0.5));
        let (marker, ink) = if m.commit { (Marker::Triangle, COMMIT_INK) } else { (Marker::Square, ABORT_INK) };
        style::draw_marker(root, marker, at, 3, Some(ink), ink)?;
    }
    Ok(())
}

/// Marks of one kind a few pixels apart whose offsets follow on from each other (the batches
/// of one acknowledged stretch) are drawn as one path: the same picture, far fewer elements.
pub(super) fn mark_groups<'m>(chart: &Chart, axis: &Axis, marks: &'m [Mark]) -> Vec<&'m [Mark]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=marks.len() {
        let joins = marks.get(i).is_some_and(|m| {
            let prev = &marks[i - 1];
            let px = |t: u64| chart.backend_coord(&(tx(axis, t), 0.0)).0;
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

pub(super) fn draw_marks(root: &Area, chart: &Chart, axis: &Axis, group: &[Mark]) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (group.first(), group.last()) else { return Ok(()) };
    let (ink, marker, fill) = match first.kind {
        MarkKind::Acked => (ACKED_INK, Marker::Circle, Some(WHITE)),
        MarkKind::Truncated | MarkKind::PageCacheLost => (REMOVED_INK, Marker::Cross, None),
        MarkKind::Skipped => (SKIPPED_INK, Marker::Diamond, Some(WHITE)),
        MarkKind::Duplicated => (DUPLICATED_INK, Marker::Square, Some(WHITE)),
    };
    let at = |t: u64, offset: u64| chart.backend_coord(&(tx(axis, t), offset as f64 + 0.5));
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

/// The fault bands of one panel, then their labels, placed on two rows at the bottom so that
/// none is drawn across another (those with no room are counted at the panel's top right).
pub(super) fn fault_bands(
    root: &Area,
    chart: &Chart,
    tl: &Timeline,
    bands: &[Band],
    y_max: f64,
    prefix: &str,
) -> Result<(), ChartError> {
    let mut labels = Vec::with_capacity(bands.len());
    for band in bands {
        let (x0, y1) = fault_band(root, chart, band, tl, y_max)?;
        let text = match &band.oneway {
            Some(way) => format!("{prefix}{}", words::oneway(way.sends, &way.peers)),
            None => format!("{prefix}{}", band.kind.label()),
        };
        let x = x0 + if band.kind == FaultKind::Wipe { 4 } else { 3 };
        labels.push((Label { x0: x, x1: x + text_width(&text) + 8, tick: None }, y1, text));
    }
    let candidates: Vec<Vec<Label>> = labels.iter().map(|l| vec![l.0]).collect();
    let (rows, dropped) = place(&candidates, FAULT_ROWS);
    for ((extent, bottom, text), found) in labels.into_iter().zip(rows) {
        let Some((row, _)) = found else { continue };
        let ly = bottom - 20 - row as i32 * 20;
        root.draw(&Rectangle::new([(extent.x0, ly), (extent.x1, ly + 17)], WHITE.mix(0.92).filled()))?;
        root.draw(&Text::new(
            text,
            (extent.x0 + 4, ly + 2),
            style::anchored(style::bold(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top),
        ))?;
    }
    hidden_note(root, chart, dropped)
}

/// A fault band over the whole height of a panel (a one-way cut: the upper half on the side
/// that cannot send, the lower half on the side that hears nothing): a pattern per kind, so
/// that kinds differ in greyscale too. Returns the band's left x and its drawn bottom y in pixels.
fn fault_band(root: &Area, chart: &Chart, band: &Band, tl: &Timeline, y_max: f64) -> Result<(i32, i32), ChartError> {
    let end_x = chart.x_range().end;
    let (x0, x1) = (tx(&tl.axis, band.start_us), band_end(&tl.axis, band.end_us, tl.end_us, end_x));
    let (y0, y1) = match &band.oneway {
        Some(way) if way.sends => (y_max, y_max / 2.0),
        Some(_) => (y_max / 2.0, 0.0),
        None => (y_max, 0.0),
    };
    let (p0, p1) = (chart.backend_coord(&(x0, y0)), chart.backend_coord(&(x1, y1)));
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
            if let Some(way) = &band.oneway {
                // The direction: an arrow along the half band's edge, pointing the cut way.
                let y = if way.sends { p1.1 } else { p0.1 };
                let (a, b) = (p0.0 + 2, (p1.0 - 2).max(p0.0 + 12));
                let (tail, head, dir) = if way.sends { (a, b, -1) } else { (b, a, 1) };
                root.draw(&PathElement::new(vec![(tail, y), (head, y)], ink.stroke_width(2)))?;
                root.draw(&Polygon::new(
                    vec![(head, y), (head + dir * 8, y - 5), (head + dir * 8, y + 5)],
                    ink.filled(),
                ))?;
            }
        }
    }
    // The label goes at the bottom of what was drawn: a one-way cut's upper half band too.
    Ok((p0.0, p1.1))
}

/// Where a band ending at `t_us` ends on the x axis: one still open when the chart ends runs
/// to the axis's end.
pub(super) fn band_end(axis: &Axis, t_us: u64, end_us: u64, end_x: f64) -> f64 {
    match t_us >= end_us {
        true => end_x,
        false => tx(axis, t_us),
    }
}
