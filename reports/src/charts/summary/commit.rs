//! `consumer-commit.svg`: the consumer's commit strategy against skipped and duplicated
//! records. A pair of bars per way of committing (app.commit, auto-commit, processing), in
//! records per run where every result has message counts and the share of runs otherwise.

use super::canvas::{
    fit_categories, fmt_value, header, label, nice_axis, root_svg, Drawn, Frame, HEADER_H, LINE, WIDTH,
};
use super::tally::{Known, Tally};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::style::{self, Area, Pattern};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::BTreeMap;

const SKIPPED: &str = "consumer_skipped";
const DUPLICATED: &str = "consumer_duplicated";

pub(super) fn consumer_commit(known: &Known) -> Result<Drawn, ChartError> {
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
    let labels: Vec<Vec<String>> = groups
        .keys()
        .map(|(_, commit, auto, processing)| {
            let auto = if auto == "true" { "auto-commit on" } else { "auto-commit off" };
            vec![format!("app.commit={commit}"), auto.to_string(), format!("{processing} processing")]
        })
        .collect();
    if labels.len() < 2 {
        let only = labels.first().map(|l| l.join(", "));
        return Ok(Drawn::NotDrawn(words::not_drawn(words::COMMIT_UNIT, only.as_deref())));
    }
    let (left, right, bottom) = (110, WIDTH as i32 - 250, 440);
    let fitted = fit_categories(&labels, (right - left) as f64 / labels.len() as f64);
    let notes_y = bottom + fitted.height() + 6;
    let height = (notes_y + 2 * LINE + 16) as u32;
    root_svg(height, |root| {
        let what = if by_messages { "records per run" } else { "share of runs" };
        let subtitle = format!(
            "Consumer groups, by how the app commits offsets ({what}); {}",
            known.note(total.configs, total.runs)
        );
        header(root, words::COMMIT.title, words::COMMIT.caption, &subtitle)?;
        let max = groups.values().flat_map(|t| [value(t, SKIPPED), value(t, DUPLICATED)]).fold(0.0, f64::max);
        let (y_top, y_step) = if by_messages { nice_axis(max * 1.15) } else { (100.0, 20.0) };
        let frame = Frame {
            left,
            top: HEADER_H + 20,
            right,
            bottom,
            y_top,
            y_step,
            categories: groups.len(),
        };
        let y_title = match by_messages {
            true => "records per run",
            false => "runs that showed it (%)",
        };
        frame.draw(root, y_title, "how the consumer application commits its offsets", &fitted, !by_messages)?;
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
        label(root, "Committing before processing skips what a crash interrupts (at most once); committing after processing replays it", (20, notes_y), small.clone())?;
        label(
            root,
            "(at least once). Auto-commit commits whatever earlier polls returned, processed or not.",
            (20, notes_y + LINE),
            small,
        )?;
        Ok(())
    })
    .map(Drawn::Svg)
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
