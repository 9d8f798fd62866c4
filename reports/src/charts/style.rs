//! What every chart shares: fonts, the palette and the drawing helpers that make a chart
//! survive greyscale printing. Each mark that carries meaning differs from its neighbours in
//! lightness *and* in shape or pattern (hatching, dashes, marker shape), never in hue alone, so
//! a photocopy or a reader who cannot tell red from green still sees every distinction.

use super::chart::ChartError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The CJK faces common systems have (Linux, macOS, Windows; the last is the one `--png`
/// bundles), named after the Latin family so that Chinese labels have a face wherever the
/// chart or page is opened. A macro so that [`FONT`] and report.html's style sheet (`html`)
/// share the one list.
macro_rules! cjk_fonts {
    () => {
        "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei'"
    };
}
pub(crate) use cjk_fonts;

/// The font families every chart names: the viewer's own sans-serif face for Latin, then the
/// CJK faces of [`cjk_fonts!`]. Names, not font files: the SVG is the same bytes on every
/// machine (`--png` maps every family to its bundled font, see `png`).
pub const FONT: &str = concat!("sans-serif, ", cjk_fonts!());

/// Plotters divides font sizes by 1.24 when writing SVG; these are the sizes passed in.
pub const TITLE_SIZE: f64 = 24.0;
pub const SUBTITLE_SIZE: f64 = 16.0;
pub const LABEL_SIZE: f64 = 15.0;
pub const SMALL_SIZE: f64 = 13.5;

pub const BLACK_INK: RGBColor = RGBColor(0, 0, 0);
pub const DARK_GREY: RGBColor = RGBColor(64, 64, 64);
pub const MID_GREY: RGBColor = RGBColor(128, 128, 128);
pub const LIGHT_GREY: RGBColor = RGBColor(200, 200, 200);
pub const GRID: RGBColor = RGBColor(232, 232, 232);

/// A sequential ramp (ColorBrewer "Oranges"): lightness falls steadily from the first stop to
/// the last, so a greyscale copy still orders the values.
pub const RAMP: [RGBColor; 5] = [
    RGBColor(255, 245, 235),
    RGBColor(253, 208, 162),
    RGBColor(253, 141, 60),
    RGBColor(217, 72, 1),
    RGBColor(127, 39, 4),
];

/// The colour of `share` (0..=1) on [`RAMP`].
pub fn ramp(share: f64) -> RGBColor {
    let share = if share.is_finite() { share.clamp(0.0, 1.0) } else { 0.0 };
    let scaled = share * (RAMP.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(RAMP.len() - 2);
    let f = scaled - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Relative luminance (0 dark ..= 1 light): whether text on `colour` should be black or white.
pub fn is_dark(colour: RGBColor) -> bool {
    let l = 0.2126 * colour.0 as f64 + 0.7152 * colour.1 as f64 + 0.0722 * colour.2 as f64;
    l < 128.0
}

pub fn text(size: f64, colour: RGBColor) -> TextStyle<'static> {
    let mut style = TextStyle::from((FONT, size).into_font());
    style.color = colour.to_backend_color();
    style
}

pub fn bold(size: f64, colour: RGBColor) -> TextStyle<'static> {
    let mut style = TextStyle::from((FONT, size, FontStyle::Bold).into_font());
    style.color = colour.to_backend_color();
    style
}

pub fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// A drawing area in pixels, as every chart's root and panels are.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The chart's title and subtitle, top left of `area`.
pub fn header(area: &Area, title: &str, subtitle: &str) -> Result<(), ChartError> {
    area.draw(&Text::new(title.to_string(), (16, 10), anchored(bold(TITLE_SIZE, BLACK_INK), HPos::Left, VPos::Top)))?;
    if !subtitle.is_empty() {
        let style = anchored(text(SUBTITLE_SIZE, DARK_GREY), HPos::Left, VPos::Top);
        area.draw(&Text::new(subtitle.to_string(), (16, 40), style))?;
    }
    Ok(())
}

/// A pattern filling a rectangle, in pixels: the greyscale-safe way to tell areas apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    Solid,
    /// Lines from bottom left to top right.
    Diagonal,
    /// Vertical lines.
    Vertical,
    /// Horizontal lines.
    Horizontal,
    /// Diagonal lines both ways.
    Cross,
    /// Nothing but the outline.
    Empty,
}

/// Fills the pixel rectangle `(x0, y0)..(x1, y1)` of `area` with `pattern` in `colour`, lines
/// `spacing` pixels apart, and outlines it when `outline` is set.
pub fn fill_pattern(
    area: &Area,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    pattern: Pattern,
    colour: RGBAColor,
    spacing: i32,
    outline: Option<ShapeStyle>,
) -> Result<(), ChartError> {
    let (x0, x1) = (x0.min(x1), x0.max(x1));
    let (y0, y1) = (y0.min(y1), y0.max(y1));
    let line = ShapeStyle::from(colour).stroke_width(1);
    let spacing = spacing.max(2);
    match pattern {
        Pattern::Solid => area.draw(&Rectangle::new([(x0, y0), (x1, y1)], colour.filled()))?,
        Pattern::Vertical => {
            for x in (x0..=x1).step_by(spacing as usize) {
                area.draw(&PathElement::new(vec![(x, y0), (x, y1)], line))?;
            }
        }
        Pattern::Horizontal => {
            for y in (y0..=y1).step_by(spacing as usize) {
                area.draw(&PathElement::new(vec![(x0, y), (x1, y)], line))?;
            }
        }
        Pattern::Diagonal => diagonals(area, (x0, y0), (x1, y1), spacing, line, false)?,
        Pattern::Cross => {
            diagonals(area, (x0, y0), (x1, y1), spacing, line, false)?;
            diagonals(area, (x0, y0), (x1, y1), spacing, line, true)?;
        }
        Pattern::Empty => {}
    }
    if let Some(style) = outline {
        area.draw(&Rectangle::new([(x0, y0), (x1, y1)], style))?;
    }
    Ok(())
}

/// 45° lines clipped to the rectangle, one way or (`falling`) the other.
fn diagonals(
    area: &Area,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    spacing: i32,
    style: ShapeStyle,
    falling: bool,
) -> Result<(), ChartError> {
    let (w, h) = (x1 - x0, y1 - y0);
    // Each line is dx + dy = k, dx from the left edge and dy from the bottom (or, `falling`,
    // the top) edge, for k across the rectangle; both ends are clipped to it.
    let mut k = spacing;
    while k < w + h {
        let (a, b) = ((k.min(w), k - k.min(w)), (k - k.min(h), k.min(h)));
        let to_px = |(dx, dy): (i32, i32)| match falling {
            false => (x0 + dx, y1 - dy),
            true => (x0 + dx, y0 + dy),
        };
        area.draw(&PathElement::new(vec![to_px(a), to_px(b)], style))?;
        k += spacing;
    }
    Ok(())
}

/// A marker shape: the second way, after lightness, that series differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

impl Marker {
    pub const ALL: [Marker; 5] = [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond, Marker::Cross];
}

/// Draws `marker` centred on pixel `(x, y)`: filled with `fill` (or hollow when `None`) and
/// outlined in `ink`.
pub fn draw_marker(
    area: &Area,
    marker: Marker,
    (x, y): (i32, i32),
    size: i32,
    fill: Option<RGBColor>,
    ink: RGBColor,
) -> Result<(), ChartError> {
    let outline = ink.stroke_width(2);
    let polygon = |points: Vec<(i32, i32)>| -> Result<(), ChartError> {
        if let Some(fill) = fill {
            area.draw(&Polygon::new(points.clone(), fill.filled()))?;
        }
        let mut closed = points;
        closed.push(closed[0]);
        area.draw(&PathElement::new(closed, outline))?;
        Ok(())
    };
    match marker {
        Marker::Circle => {
            if let Some(fill) = fill {
                area.draw(&Circle::new((x, y), size, fill.filled()))?;
            }
            area.draw(&Circle::new((x, y), size, outline))?;
        }
        Marker::Square => {
            polygon(vec![(x - size, y - size), (x + size, y - size), (x + size, y + size), (x - size, y + size)])?
        }
        Marker::Triangle => polygon(vec![(x, y - size - 1), (x + size + 1, y + size), (x - size - 1, y + size)])?,
        Marker::Diamond => polygon(vec![(x, y - size - 1), (x + size + 1, y), (x, y + size + 1), (x - size - 1, y)])?,
        Marker::Cross => {
            let style = ink.stroke_width(3);
            area.draw(&PathElement::new(vec![(x - size, y - size), (x + size, y + size)], style))?;
            area.draw(&PathElement::new(vec![(x - size, y + size), (x + size, y - size)], style))?;
        }
    }
    Ok(())
}

/// A dashed horizontal line in pixels, for legends.
pub fn dashed(
    area: &Area,
    (x0, y): (i32, i32),
    x1: i32,
    style: ShapeStyle,
    dash: i32,
    gap: i32,
) -> Result<(), ChartError> {
    let mut x = x0;
    while x < x1 {
        area.draw(&PathElement::new(vec![(x, y), ((x + dash).min(x1), y)], style))?;
        x += dash + gap;
    }
    Ok(())
}

/// A framed note in the middle of `area`, for a chart that has nothing to show: it says why,
/// and what input would fill it.
pub fn no_data(area: &Area, lines: &[&str]) -> Result<(), ChartError> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    area.draw(&Rectangle::new([(40, 20), (w - 40, h - 20)], LIGHT_GREY.stroke_width(1)))?;
    let top = h / 2 - (lines.len() as i32 * 24) / 2;
    for (i, line) in lines.iter().enumerate() {
        let style =
            anchored(text(if i == 0 { LABEL_SIZE + 2.0 } else { LABEL_SIZE }, DARK_GREY), HPos::Center, VPos::Top);
        area.draw(&Text::new(line.to_string(), (w / 2, top + i as i32 * 24), style))?;
    }
    Ok(())
}

/// Thins a step line to at most four points per `bucket` of x (first, lowest, highest, last,
/// in order), so that a chart of a million appends stays a small file and looks the same.
pub fn thin_steps(points: &[(u64, u64)], bucket: u64) -> Vec<(u64, u64)> {
    let bucket = bucket.max(1);
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut i = 0;
    while i < points.len() {
        let key = points[i].0 / bucket;
        let mut j = i;
        while j < points.len() && points[j].0 / bucket == key {
            j += 1;
        }
        let group = &points[i..j];
        if group.len() <= 4 {
            out.extend_from_slice(group);
        } else {
            let lo = group.iter().enumerate().min_by_key(|(k, p)| (p.1, *k)).map_or(0, |(k, _)| k);
            let hi = group.iter().enumerate().max_by_key(|(k, p)| (p.1, std::cmp::Reverse(*k))).map_or(0, |(k, _)| k);
            let mut keep = vec![0, lo, hi, group.len() - 1];
            keep.sort_unstable();
            keep.dedup();
            out.extend(keep.into_iter().map(|k| group[k]));
        }
        i = j;
    }
    out
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage for labels: `0%`, `0.4%`, `37%`, `100%`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ramp_darkens_monotonically() {
        let lum = |c: RGBColor| 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
        let steps: Vec<f64> = (0..=20).map(|i| lum(ramp(i as f64 / 20.0))).collect();
        assert!(steps.windows(2).all(|w| w[0] >= w[1]), "{steps:?}");
        assert_eq!(ramp(-1.0), RAMP[0]);
        assert_eq!(ramp(f64::NAN), RAMP[0]);
        assert_eq!(ramp(2.0), RAMP[4]);
    }

    #[test]
    fn thinning_keeps_extremes_and_order() {
        let points: Vec<(u64, u64)> = (0..100).map(|i| (i, if i == 37 { 1000 } else { i })).collect();
        let thin = thin_steps(&points, 50);
        assert_eq!(thin, vec![(0, 0), (37, 1000), (49, 49), (50, 50), (99, 99)]);
        assert!(thin_steps(&[], 10).is_empty());
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.004), "0.4%");
        assert_eq!(percent(0.372), "37%");
        assert_eq!(percent(1.0), "100%");
    }
}
