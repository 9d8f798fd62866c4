//! A consumer's lane, below the brokers': on the drawn partition, its position (solid, like a
//! broker's LEO), the highest offset its app processed (green), the group's committed offset
//! as its commits moved it (dashed, like a HW), its faults as bands, the group's rebalances as
//! ticks labelled with the new generation, when it left the group, and the records the checker
//! found skipped (diamonds) or processed again (squares), on the offset axis the brokers use.

use super::consumer::ConsumerLane;
use super::model::Timeline;
use super::palette::{COMMITTED_INK, PROCESSED_INK, REBALANCE_INK};
use super::panel::{
    draw_marks, fault_bands, final_phase_line, mark_groups, offset_chart, segment_line, steps, thin_bucket,
    ticked_labels, time_axis, tx,
};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::style::{self, Area, Marker};
use plotters::prelude::*;

/// Rows for the generation labels at the top of a consumer lane.
const REBALANCE_ROWS: usize = 2;

pub(super) fn consumer_panel(
    root: &Area,
    area: &Area,
    tl: &Timeline,
    lane: &ConsumerLane,
    end_s: f64,
    last: bool,
) -> Result<(), ChartError> {
    let y_max = tl.max_offset as f64 * 1.3;
    let mut chart = offset_chart(area, tl, end_s, last)?;
    let y_fmt = |y: &f64| format!("{y:.0}");
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .x_labels(0)
        .y_labels(4)
        .y_label_formatter(&y_fmt)
        .y_desc(words::consumer_desc(lane.consumer))
        .axis_desc_style(style::bold(style::LABEL_SIZE, style::BLACK_INK))
        .label_style(style::text(style::SMALL_SIZE, style::DARK_GREY))
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID);
    if last {
        mesh.x_desc("simulated time (s)");
    }
    mesh.draw()?;
    time_axis(root, &chart, &tl.axis, y_max, last)?;
    fault_bands(root, &chart, tl, &lane.faults, y_max, "")?;
    if let Some(t) = tl.final_phase_us {
        final_phase_line(root, &chart, &tl.axis, t, y_max, false)?;
    }
    let rebalances: Vec<(f64, String)> =
        tl.consumers.rebalances.iter().map(|r| (tx(&tl.axis, r.t_us), words::generation(r.generation))).collect();
    let row_y = |row: usize| y_max * (0.99 - row as f64 * 0.12);
    ticked_labels(root, &chart, &rebalances, REBALANCE_ROWS, row_y, REBALANCE_INK)?;
    let bucket = thin_bucket(&chart, tl);
    for i in 0..lane.processed.len() {
        let points = segment_line(&tl.axis, &lane.processed, i, &lane.faults, bucket, end_s);
        chart.draw_series(LineSeries::new(points, PROCESSED_INK.stroke_width(2)))?;
    }
    for i in 0..lane.position.len() {
        let points = segment_line(&tl.axis, &lane.position, i, &lane.faults, bucket, end_s);
        chart.draw_series(LineSeries::new(points, style::BLACK_INK.stroke_width(2)))?;
    }
    if !lane.committed.is_empty() {
        let points = steps(&style::thin_steps(&lane.committed, bucket), &tl.axis, end_s);
        chart.draw_series(DashedLineSeries::new(points, 7, 4, COMMITTED_INK.stroke_width(2)))?;
    }
    for &t in &lane.left_group_us {
        let at = chart.backend_coord(&(tx(&tl.axis, t), y_max * 0.6));
        style::draw_marker(root, Marker::Triangle, at, 5, Some(REBALANCE_INK), REBALANCE_INK)?;
        root.draw(&Text::new(
            words::LEFT_GROUP.to_string(),
            (at.0 + 8, at.1 - 7),
            style::text(style::SMALL_SIZE, REBALANCE_INK),
        ))?;
    }
    for group in mark_groups(&chart, &tl.axis, &lane.marks) {
        draw_marks(root, &chart, &tl.axis, group)?;
    }
    Ok(())
}
