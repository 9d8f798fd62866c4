//! `flush-power-loss.svg`: the flush interval against messages lost to power loss. A series per
//! acks value over the flush policies, counting lost acknowledged messages per run where every
//! result has message counts and the share of runs otherwise.

use super::canvas::{
    acks_marker, fit_categories, fmt_value, header, label, nice_axis, root_svg, Drawn, Frame, HEADER_H, LINE, WIDTH,
};
use super::tally::{acks_order, flush_policy, Known, Tally, LOST_ACKED};
use super::words;
use crate::charts::chart::ChartError;
use crate::charts::input::ConfigResult;
use crate::charts::style;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::BTreeMap;

pub(super) fn flush_power_loss(known: &Known) -> Result<Drawn, ChartError> {
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
    if policies.len() < 2 {
        let only = policies.values().next().map(String::as_str);
        return Ok(Drawn::NotDrawn(words::not_drawn(words::FLUSH_UNIT, only)));
    }
    let labels: Vec<Vec<String>> = policies.values().map(|p| vec![p.clone()]).collect();
    let (left, right, bottom) = (110, WIDTH as i32 - 250, 460);
    let fitted = fit_categories(&labels, (right - left) as f64 / labels.len() as f64);
    let notes_y = bottom + fitted.height() + 6;
    let height = (notes_y + 2 * LINE + 16) as u32;
    root_svg(height, |root| {
        let mut subtitle = format!(
            "Configurations whose faults include a power loss (or are not known); {}",
            known.note(total.configs, total.runs)
        );
        if left_out > 0 {
            subtitle.push_str(&format!("; {left_out} without a power loss left out"));
        }
        header(root, words::FLUSH.title, words::FLUSH.caption, &subtitle)?;
        let keys: Vec<(u64, u64)> = policies.keys().copied().collect();
        let max = series.values().flat_map(|s| s.values().map(value)).fold(0.0, f64::max);
        let (y_top, y_step) = if by_messages { nice_axis(max * 1.15) } else { (100.0, 20.0) };
        let frame = Frame {
            left,
            top: HEADER_H + 20,
            right,
            bottom,
            y_top,
            y_step,
            categories: keys.len(),
        };
        frame.draw(
            root,
            y_title,
            "log.flush.interval.messages / log.flush.interval.ms (broker)",
            &fitted,
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
        label(root, "A power loss drops every write not yet on the platter: what the broker fsynced (log.flush.interval.*) or the OS wrote back", (20, notes_y), small.clone())?;
        label(
            root,
            "(os.dirty.expire.ms). Kafka's default is never to fsync and to rely on replication instead.",
            (20, notes_y + LINE),
            small,
        )?;
        Ok(())
    })
    .map(Drawn::Svg)
}
