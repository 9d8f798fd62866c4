//! The ticks of a log axis, chosen so that their labels never overlap: the richest of 1-9,
//! 1-2-5, 1-3 and 1 per decade whose labels keep a gap at the width given, then every second,
//! third, ... decade. Plotters' own log axis labels every multiple whatever the room, which is
//! how `90,000100,000` came about.

use super::canvas::fmt_value;
use super::extent;
use crate::charts::style;

/// The least gap between two tick labels, in pixels.
pub(super) const TICK_GAP_PX: f64 = 8.0;

/// Where `v` falls on a log axis from `lo` to `hi` drawn `width` pixels wide.
pub(super) fn log_x(v: f64, lo: f64, hi: f64, width: f64) -> f64 {
    let (a, b) = (lo.log10(), hi.log10());
    if b <= a {
        return 0.0;
    }
    ((v.max(lo).log10() - a) / (b - a) * width).clamp(0.0, width)
}

/// The ticks of a log axis from `lo` to `hi` (powers of ten) drawn `width` pixels wide, their
/// labels ([`fmt_value`]) at [`style::SMALL_SIZE`] centred on them and never closer than
/// [`TICK_GAP_PX`].
pub(super) fn log_ticks(lo: f64, hi: f64, width: f64) -> Vec<f64> {
    let decades: Vec<f64> = {
        let mut d = Vec::new();
        let mut v = lo;
        while v <= hi * 1.000_001 && d.len() < 40 {
            d.push(v);
            v *= 10.0;
        }
        d
    };
    let fits = |ticks: &[f64]| {
        let boxes: Vec<(f64, f64)> = ticks
            .iter()
            .map(|&v| {
                let x = log_x(v, lo, hi, width);
                let w = extent::width(&fmt_value(v), style::SMALL_SIZE, false);
                (x - w / 2.0, x + w / 2.0)
            })
            .collect();
        boxes.windows(2).all(|b| b[1].0 - b[0].1 >= TICK_GAP_PX)
    };
    for multiples in [&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..], &[1.0, 2.0, 5.0], &[1.0, 3.0], &[1.0]] {
        let ticks: Vec<f64> = decades
            .iter()
            .flat_map(|d| multiples.iter().map(move |m| d * m))
            .filter(|v| *v <= hi * 1.000_001)
            .collect();
        if fits(&ticks) {
            return ticks;
        }
    }
    for every in 2..decades.len().max(2) {
        let ticks: Vec<f64> = decades.iter().step_by(every).copied().collect();
        if fits(&ticks) {
            return ticks;
        }
    }
    decades.into_iter().take(1).collect()
}
