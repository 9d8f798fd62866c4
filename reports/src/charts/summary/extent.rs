//! How much room a text takes, estimated from its font size alone: the SVG leaves the face to
//! the viewer, so the charts cannot measure glyphs and instead budget for a wide sans-serif
//! (DejaVu Sans, the usual Linux default, is wider than Arial or Helvetica). Every layout
//! decision that must keep labels apart (wrapping category labels, thinning log-axis ticks,
//! fitting a cell's text, wrapping a facet title) reads these estimates, and so do the tests
//! that check no two texts of a chart overlap.

/// Plotters writes `size / 1.24` as the SVG font size; the pixel size of a chart's text size.
pub(super) fn px(size: f64) -> f64 {
    size / 1.24
}

/// The advance width of `c` in ems, rounded up for a wide sans-serif face.
fn char_em(c: char) -> f64 {
    match c {
        ' ' | 'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.34,
        'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '/' => 0.44,
        'm' | 'w' | 'M' | 'W' | '%' | '@' => 0.98,
        '=' | '+' | '<' | '>' | '~' | '×' => 0.86,
        '0'..='9' => 0.64,
        'A'..='Z' => 0.74,
        c if (c as u32) >= 0x2E80 => 1.0,
        _ => 0.62,
    }
}

/// The width in pixels of `text` drawn at SVG font size `font_px`.
pub(super) fn width_px(text: &str, font_px: f64, bold: bool) -> f64 {
    let em: f64 = text.chars().map(char_em).sum();
    em * font_px * if bold { 1.1 } else { 1.0 }
}

/// The width of `text` at the chart text size `size` (as passed to plotters).
pub(super) fn width(text: &str, size: f64, bold: bool) -> f64 {
    width_px(text, px(size), bold)
}

/// `text` in lines no wider than `max_px` at chart text size `size`, broken at spaces, after
/// `=`, `/` and `,` (so `app.commit=before-process` becomes `app.commit=` and
/// `before-process`). A piece that cannot be broken stays whole and may be wider: callers
/// check [`fits`] and fall back to a key.
pub(super) fn wrap(text: &str, max_px: f64, size: f64, bold: bool) -> Vec<String> {
    // Pieces, each ending where a line may end.
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if matches!(c, ' ' | '=' | '/' | ',') {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces {
        let joined = format!("{line}{piece}");
        if line.is_empty() || width(joined.trim_end(), size, bold) <= max_px {
            line = joined;
        } else {
            lines.push(line.trim_end().to_string());
            line = piece;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Whether every line fits in `max_px`.
pub(super) fn fits(lines: &[String], max_px: f64, size: f64, bold: bool) -> bool {
    lines.iter().all(|l| width(l, size, bold) <= max_px)
}

/// A text's box in pixels: left, top, right, bottom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct TextBox {
    pub(super) x0: f64,
    pub(super) y0: f64,
    pub(super) x1: f64,
    pub(super) y1: f64,
}

impl TextBox {
    pub(super) fn overlaps(&self, o: &TextBox) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_wrap_at_their_natural_breaks() {
        let size = 13.5;
        let lines = wrap("app.commit=before-process", width("app.commit=before", size, true), size, true);
        assert_eq!(lines, ["app.commit=", "before-process"]);
        assert_eq!(wrap("no fsync (OS writeback only)", 1000.0, size, false), ["no fsync (OS writeback only)"]);
        assert_eq!(wrap("a b", 1.0, size, false), ["a", "b"]);
        assert!(!fits(&["unbreakable".to_string()], 10.0, size, false));
        // Wider letters take more room; bold more than regular.
        assert!(width("mmm", size, false) > width("iii", size, false));
        assert!(width("abc", size, true) > width("abc", size, false));
    }
}
