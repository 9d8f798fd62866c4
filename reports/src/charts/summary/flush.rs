//! `flush-power-loss.svg`: the flush interval against messages lost to power loss. A series per
//! acks value over the flush policies, counting lost acknowledged messages per run where every
//! result has message counts and the share of runs otherwise.

use super::canvas::{acks_marker, fmt_value, label, nice_axis, root_svg, Frame, WIDTH};
use super::tally::{acks_order, flush_policy, Known, Tally, LOST_ACKED};
use crate::charts::chart::ChartError;
use crate::charts::input::ConfigResult;
use crate::charts::style;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::BTreeMap;

pub(super) fn flush_power_loss(known: &Known) -> Result<String, ChartError> {
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
pub(super) fn split_label(text: &str) -> Vec<String> {
    if text.chars().count() <= 18 {
        return vec![text.to_string()];
    }
    let mid = text.len() / 2;
    let split =
        text.match_indices(' ').map(|(i, _)| i).min_by_key(|&i| (i as i64 - mid as i64).abs()).unwrap_or(text.len());
    let (a, b) = text.split_at(split);
    [a.trim(), b.trim()].into_iter().filter(|s| !s.is_empty()).map(str::to_string).collect()
}
