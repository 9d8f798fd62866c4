//! What the summary charts draw with, apart from their data: the page (its width and the root
//! SVG), text labels, round axes and values, the [`Frame`] of a plot with categories along x,
//! and the marker of an `acks` value with the fill of a min ISR value, which two charts and
//! their keys share.

use super::extent;
use crate::charts::chart::ChartError;
use crate::charts::style::{self, Area, Marker};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;

pub(super) const WIDTH: u32 = 1200;

pub(super) fn root_svg(height: u32, draw: impl FnOnce(&Area) -> Result<(), ChartError>) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

pub(super) fn label(
    area: &Area,
    text: impl Into<String>,
    at: (i32, i32),
    style: TextStyle<'static>,
) -> Result<(), ChartError> {
    area.draw(&Text::new(text.into(), at, style))?;
    Ok(())
}

/// A y axis from 0 with round ticks: the top and the step.
pub(super) fn nice_axis(max: f64) -> (f64, f64) {
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

pub(super) fn fmt_value(v: f64) -> String {
    if v == v.round() || v >= 10.0 {
        style::thousands(v.round() as u64)
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A plot with a numeric y axis and categories along x, in pixels.
pub(super) struct Frame {
    pub(super) left: i32,
    pub(super) top: i32,
    pub(super) right: i32,
    pub(super) bottom: i32,
    pub(super) y_top: f64,
    pub(super) y_step: f64,
    pub(super) categories: usize,
}

impl Frame {
    pub(super) fn y(&self, v: f64) -> i32 {
        let f = if self.y_top > 0.0 { (v / self.y_top).clamp(0.0, 1.05) } else { 0.0 };
        self.bottom - (f * (self.bottom - self.top) as f64).round() as i32
    }

    pub(super) fn slot(&self) -> f64 {
        (self.right - self.left) as f64 / self.categories.max(1) as f64
    }

    pub(super) fn x_center(&self, i: usize) -> i32 {
        self.left + (self.slot() * (i as f64 + 0.5)).round() as i32
    }

    /// Grid, ticks, axis titles and the category labels, fitted with [`fit_categories`];
    /// returns the first free y below them.
    pub(super) fn draw(
        &self,
        area: &Area,
        y_title: &str,
        x_title: &str,
        fitted: &Fitted,
        percent: bool,
    ) -> Result<i32, ChartError> {
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
        for (i, lines) in fitted.lines.iter().enumerate() {
            let x = self.x_center(i);
            area.draw(&PathElement::new(vec![(x, self.bottom), (x, self.bottom + 5)], axis))?;
            for (j, (line, bold)) in lines.iter().enumerate() {
                let style = match bold {
                    true => style::bold(style::SMALL_SIZE, style::BLACK_INK),
                    false => style::text(style::SMALL_SIZE, style::DARK_GREY),
                };
                label(
                    area,
                    line.clone(),
                    (x, self.bottom + 10 + j as i32 * LINE),
                    style::anchored(style, HPos::Center, VPos::Top),
                )?;
            }
        }
        let mut y = self.bottom + 18 + fitted.rows() * LINE;
        label(
            area,
            x_title,
            ((self.left + self.right) / 2, y),
            style::anchored(style::text(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Top),
        )?;
        y += 26;
        for line in &fitted.key {
            let small = style::anchored(style::text(style::SMALL_SIZE, style::DARK_GREY), HPos::Left, VPos::Top);
            label(area, line.clone(), (self.left, y), small)?;
            y += LINE;
        }
        let style = style::anchored(style::text(style::LABEL_SIZE, style::BLACK_INK), HPos::Center, VPos::Center)
            .transform(FontTransform::Rotate270);
        label(area, y_title, (self.left - 62, (self.top + self.bottom) / 2), style)?;
        Ok(y)
    }
}

/// The pixels between two lines of small text.
pub(super) const LINE: i32 = 17;

/// Category labels laid out to fit their slots: each line with whether it is bold, and, when
/// some label cannot be broken to fit, letters under the axis and a key of what they stand for.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Fitted {
    pub(super) lines: Vec<Vec<(String, bool)>>,
    pub(super) key: Vec<String>,
}

impl Fitted {
    /// Lines of the tallest label.
    pub(super) fn rows(&self) -> i32 {
        self.lines.iter().map(Vec::len).max().unwrap_or(1) as i32
    }

    /// Pixels the labels, the x title and the key take below the axis.
    pub(super) fn height(&self) -> i32 {
        18 + self.rows() * LINE + 26 + self.key.len() as i32 * LINE
    }
}

/// Fits category labels (each a list of lines, the first bold) into slots `slot_px` wide: each
/// line wrapped at its natural breaks; if a piece is still too wide, every category is shown
/// as a letter and the key below the axis spells the labels out. Either way no two labels
/// overlap (a margin of 10 px between slots).
pub(super) fn fit_categories(categories: &[Vec<String>], slot_px: f64) -> Fitted {
    let max = slot_px - 10.0;
    let mut lines = Vec::new();
    let mut fits_all = true;
    for category in categories {
        let mut out = Vec::new();
        for (j, line) in category.iter().enumerate() {
            let bold = j == 0;
            let wrapped = extent::wrap(line, max, style::SMALL_SIZE, bold);
            fits_all &= extent::fits(&wrapped, max, style::SMALL_SIZE, bold);
            out.extend(wrapped.into_iter().map(|l| (l, bold)));
        }
        lines.push(out);
    }
    if fits_all {
        return Fitted { lines, key: Vec::new() };
    }
    let letter = |i: usize| char::from(b'A' + (i % 26) as u8).to_string();
    Fitted {
        lines: (0..categories.len()).map(|i| vec![(letter(i), true)]).collect(),
        key: categories.iter().enumerate().map(|(i, c)| format!("{}: {}", letter(i), c.join(", "))).collect(),
    }
}

/// The chart's title, its caption (what to read from it) and its subtitle (what it was drawn
/// from); the plot starts at [`HEADER_H`].
pub(super) fn header(area: &Area, title: &str, caption: &str, subtitle: &str) -> Result<(), ChartError> {
    style::header(area, title, "")?;
    let at = |size: f64, ink: RGBColor| style::anchored(style::text(size, ink), HPos::Left, VPos::Top);
    label(area, caption, (16, 42), at(style::SUBTITLE_SIZE, style::BLACK_INK))?;
    label(area, subtitle, (16, 64), at(style::SMALL_SIZE, style::DARK_GREY))?;
    Ok(())
}

/// Where the plot may start below [`header`].
pub(super) const HEADER_H: i32 = 88;

/// The marker of an `acks` value, and the fill of a min ISR value: shape and lightness.
pub(super) fn acks_marker(acks: &str) -> Marker {
    match acks {
        "0" => Marker::Triangle,
        "1" => Marker::Square,
        "all" => Marker::Circle,
        _ => Marker::Diamond,
    }
}

pub(super) fn isr_fill(isr: &str) -> Option<RGBColor> {
    match isr.parse::<u32>() {
        Ok(0 | 1) => None,
        Ok(2) => Some(RGBColor(150, 150, 150)),
        _ => Some(style::BLACK_INK),
    }
}

/// What a chart function gives: an SVG, or why the chart is not drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Drawn {
    Svg(String),
    NotDrawn(String),
}
