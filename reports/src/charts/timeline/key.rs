//! The key at the bottom of the timeline: every line, band and mark the lanes use, drawn as
//! they appear there, with the inks and patterns of `palette`; the transactions' row (LSO,
//! COMMIT and ABORT markers) only in runs with transactions, the consumers' rows only in runs
//! with consumers, the one-way cut's row only when there is one, so other charts stay the same.

use super::model::{FaultKind, Timeline};
use super::palette::{fault_look, ABORT_INK, ACKED_INK, COMMIT_INK, HW_INK, LEADER_FILL, LSO_INK, MIN_ISR_INK};
use super::palette::{COMMITTED_INK, DUPLICATED_INK, PROCESSED_INK, REBALANCE_INK, REMOVED_INK, SKIPPED_INK};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::style::{self, Area, Marker, Pattern};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// The y of the first optional row, below the four rows every key has.
const TXN_ROW: i32 = 158;
/// The height of an optional row.
const ROW_H: u32 = 28;

/// The optional rows of `tl`'s key: transactions, two for consumers, the one-way cut.
fn optional_rows(tl: &Timeline) -> (bool, bool, bool) {
    let consumers = !tl.consumers.lanes.is_empty();
    let oneway = tl
        .lanes
        .iter()
        .flat_map(|l| &l.faults)
        .chain(&tl.controller_faults)
        .chain(tl.consumers.lanes.iter().flat_map(|l| &l.faults))
        .any(|b| b.oneway.is_some());
    (tl.transactions, consumers, oneway)
}

/// The key's extra height for its optional rows.
pub(super) fn extra_height(tl: &Timeline) -> u32 {
    let (txn, consumers, oneway) = optional_rows(tl);
    ROW_H * (txn as u32 + 2 * consumers as u32 + oneway as u32)
}

/// The key: every line, band and mark the lanes use, drawn as they appear there.
pub(super) fn legend(area: &Area, tl: &Timeline) -> Result<(), ChartError> {
    let label = |x: i32, y: i32, text: &str| -> Result<(), ChartError> {
        area.draw(&Text::new(
            text.to_string(),
            (x, y),
            style::anchored(style::text(style::SMALL_SIZE, style::BLACK_INK), HPos::Left, VPos::Center),
        ))?;
        Ok(())
    };
    area.draw(&Text::new(
        "Key".to_string(),
        (16, 8),
        style::anchored(style::bold(style::LABEL_SIZE, style::BLACK_INK), HPos::Left, VPos::Top),
    ))?;
    let cols = [16, 410, 800];
    let rows = [44, 72, 100, 128];
    let swatch = |col: usize, row: usize| (cols[col], rows[row]);

    // Lines.
    let (x, y) = swatch(0, 0);
    area.draw(&PathElement::new(vec![(x, y), (x + 40, y)], style::BLACK_INK.stroke_width(2)))?;
    label(x + 50, y, "log end offset (LEO): where the replica's log ends")?;
    let (x, y) = swatch(0, 1);
    style::dashed(area, (x, y), x + 40, HW_INK.stroke_width(2), 7, 4)?;
    label(x + 50, y, "high watermark (HW): committed below it")?;
    let (x, y) = swatch(0, 2);
    area.draw(&Rectangle::new([(x, y - 9), (x + 40, y + 9)], LEADER_FILL.filled()))?;
    label(x + 50, y, "the broker leads, in that leader epoch")?;
    let (x, y) = swatch(0, 3);
    area.draw(&PathElement::new(vec![(x, y), (x + 40, y)], style::BLACK_INK.stroke_width(2)))?;
    style::dashed(area, (x, y + 7), x + 40, MIN_ISR_INK.stroke_width(2), 8, 5)?;
    label(x + 50, y, "top panel: ISR size, and min.insync.replicas (dashed)")?;

    // Faults.
    for (i, kind) in
        [FaultKind::ProcessCrash, FaultKind::PowerCrash, FaultKind::Pause, FaultKind::Cut].into_iter().enumerate()
    {
        let (x, y) = swatch(1, i);
        let (fill, pattern, ink, alpha, spacing) = fault_look(kind);
        style::fill_pattern(area, (x, y - 10), (x + 40, y + 10), Pattern::Solid, fill.mix(alpha), 1, None)?;
        style::fill_pattern(
            area,
            (x, y - 10),
            (x + 40, y + 10),
            pattern,
            ink.mix(0.85),
            spacing,
            Some(ink.stroke_width(1)),
        )?;
        let text = match kind {
            FaultKind::ProcessCrash => "process crash: the OS keeps the page cache",
            FaultKind::PowerCrash => "power loss: unflushed writes are gone",
            FaultKind::Pause => "paused (a long GC pause, SIGSTOP)",
            _ => "cut off from the rest of the cluster",
        };
        label(x + 50, y, text)?;
    }

    // Marks.
    let (x, y) = swatch(2, 0);
    area.draw(&PathElement::new(vec![(x + 20, y - 9), (x + 20, y + 9)], ACKED_INK.stroke_width(3)))?;
    style::draw_marker(area, Marker::Circle, (x + 20, y - 9), 4, Some(WHITE), ACKED_INK)?;
    style::draw_marker(area, Marker::Circle, (x + 20, y + 9), 4, Some(WHITE), ACKED_INK)?;
    label(x + 50, y, "acknowledged to the producer, later lost")?;
    let (x, y) = swatch(2, 1);
    area.draw(&PathElement::new(vec![(x + 20, y - 9), (x + 20, y + 9)], REMOVED_INK.stroke_width(3)))?;
    style::draw_marker(area, Marker::Cross, (x + 20, y - 9), 4, None, REMOVED_INK)?;
    style::draw_marker(area, Marker::Cross, (x + 20, y + 9), 4, None, REMOVED_INK)?;
    label(x + 50, y, "lost message taken away: truncated,")?;
    label(x + 50, y + 16, "or dropped by a power loss")?;
    let (x, y) = swatch(2, 3);
    area.draw(&PathElement::new(vec![(x + 20, y - 10), (x + 20, y + 10)], style::BLACK_INK.stroke_width(3)))?;
    style::draw_marker(area, Marker::Diamond, (x + 20, y - 4), 5, Some(style::BLACK_INK), style::BLACK_INK)?;
    label(x + 50, y, "disk wiped (replaced by an empty one)")?;
    let (txn, consumers, oneway) = optional_rows(tl);
    let mut next_row = TXN_ROW;
    if txn {
        let y = next_row;
        next_row += ROW_H as i32;
        let x = cols[0];
        style::dashed(area, (x, y), x + 40, LSO_INK.stroke_width(2), 2, 3)?;
        label(x + 50, y, "last stable offset (LSO, leader): read_committed reads below it")?;
        let x = cols[1];
        style::draw_marker(area, Marker::Triangle, (x + 20, y), 3, Some(COMMIT_INK), COMMIT_INK)?;
        label(x + 50, y, "COMMIT marker written (at its offset)")?;
        let x = cols[2];
        style::draw_marker(area, Marker::Square, (x + 20, y), 3, Some(ABORT_INK), ABORT_INK)?;
        label(x + 50, y, "ABORT marker written (at its offset)")?;
    }
    if consumers {
        let y = next_row;
        next_row += 2 * ROW_H as i32;
        let x = cols[0];
        area.draw(&PathElement::new(vec![(x, y), (x + 40, y)], style::BLACK_INK.stroke_width(2)))?;
        label(x + 50, y, words::KEY_POSITION)?;
        let x = cols[1];
        area.draw(&PathElement::new(vec![(x, y), (x + 40, y)], PROCESSED_INK.stroke_width(2)))?;
        label(x + 50, y, words::KEY_PROCESSED)?;
        let x = cols[2];
        style::dashed(area, (x, y), x + 40, COMMITTED_INK.stroke_width(2), 7, 4)?;
        label(x + 50, y, words::KEY_COMMITTED)?;
        let y = y + ROW_H as i32;
        let x = cols[0];
        style::draw_marker(area, Marker::Diamond, (x + 20, y), 4, Some(WHITE), SKIPPED_INK)?;
        label(x + 50, y, words::KEY_SKIPPED)?;
        let x = cols[1];
        style::draw_marker(area, Marker::Square, (x + 20, y), 4, Some(WHITE), DUPLICATED_INK)?;
        label(x + 50, y, words::KEY_DUPLICATED)?;
        let x = cols[2];
        area.draw(&PathElement::new(vec![(x + 20, y - 10), (x + 20, y + 10)], REBALANCE_INK.stroke_width(1)))?;
        label(x + 50, y, words::KEY_REBALANCE)?;
    }
    if oneway {
        let y = next_row;
        let x = cols[0];
        let (fill, pattern, ink, alpha, spacing) = fault_look(FaultKind::Cut);
        style::fill_pattern(area, (x, y - 10), (x + 40, y), Pattern::Solid, fill.mix(alpha), 1, None)?;
        style::fill_pattern(
            area,
            (x, y - 10),
            (x + 40, y),
            pattern,
            ink.mix(0.85),
            spacing,
            Some(ink.stroke_width(1)),
        )?;
        area.draw(&PathElement::new(vec![(x + 2, y), (x + 38, y)], ink.stroke_width(2)))?;
        area.draw(&Polygon::new(vec![(x + 38, y), (x + 30, y - 5), (x + 30, y + 5)], ink.filled()))?;
        label(x + 50, y, words::KEY_ONEWAY)?;
    }
    Ok(())
}
