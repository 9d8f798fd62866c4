//! The time axis: simulated time to an x coordinate. The whole run is on the axis, but a long
//! quiet stretch (no event the chart draws, for more than [`QUIET_SHARE`] of the run) would
//! squeeze the moments that matter into thin strips, so each one is compressed to a fixed
//! short width and drawn as a break. The mapping is monotonic: a later instant is never to the
//! left of an earlier one, and outside the breaks one unit of x is one second.

/// A gap between drawn events longer than this share of the run is compressed.
pub(super) const QUIET_SHARE: f64 = 0.15;
/// The width of a compressed stretch, as a share of the uncompressed time kept on the axis.
const BREAK_SHARE: f64 = 0.07;
/// Room kept on either side of a quiet stretch, as a share of the gap, so that the events
/// bordering it are not drawn on the break.
const MARGIN_SHARE: f64 = 0.04;

/// One piece of the axis: `t0_us..t1_us` drawn over `x0..x1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub t0_us: u64,
    pub t1_us: u64,
    pub x0: f64,
    pub x1: f64,
    /// A compressed quiet stretch, drawn as a break.
    pub quiet: bool,
}

/// The piecewise-linear map from time to x of one timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub segments: Vec<Segment>,
}

impl Axis {
    /// The axis over `0..=end_us`, with every gap between consecutive `busy` instants (sorted or
    /// not) longer than [`QUIET_SHARE`] of the run compressed.
    pub fn new(end_us: u64, busy: &[u64]) -> Axis {
        let end_us = end_us.max(1);
        let mut times: Vec<u64> = busy.iter().copied().filter(|&t| t <= end_us).collect();
        times.push(0);
        times.push(end_us);
        times.sort_unstable();
        times.dedup();
        let threshold = (end_us as f64 * QUIET_SHARE) as u64;
        // The quiet stretches, as time ranges, with a margin left on either side.
        let quiet: Vec<(u64, u64)> = times
            .windows(2)
            .filter(|w| w[1] - w[0] > threshold.max(1))
            .map(|w| {
                let margin = ((w[1] - w[0]) as f64 * MARGIN_SHARE) as u64;
                (w[0] + margin, w[1] - margin)
            })
            .collect();
        let quiet_us: u64 = quiet.iter().map(|q| q.1 - q.0).sum();
        let kept_s = (end_us - quiet_us) as f64 / 1e6;
        let break_w = (kept_s * BREAK_SHARE).max(1e-6);
        let mut segments = Vec::new();
        let (mut t, mut x) = (0u64, 0f64);
        for (q0, q1) in quiet {
            if q0 > t {
                let x1 = x + (q0 - t) as f64 / 1e6;
                segments.push(Segment { t0_us: t, t1_us: q0, x0: x, x1, quiet: false });
                x = x1;
            }
            segments.push(Segment { t0_us: q0, t1_us: q1, x0: x, x1: x + break_w, quiet: true });
            x += break_w;
            t = q1;
        }
        segments.push(Segment { t0_us: t, t1_us: end_us, x0: x, x1: x + (end_us - t) as f64 / 1e6, quiet: false });
        let axis = Axis { segments };
        debug_assert!(axis.segments.windows(2).all(|w| w[0].t1_us == w[1].t0_us && w[0].x1 == w[1].x0));
        axis
    }

    /// The x of instant `t_us` (held at the axis's ends outside it).
    pub fn x(&self, t_us: u64) -> f64 {
        let seg = self.segments.iter().find(|s| t_us <= s.t1_us).or(self.segments.last());
        let Some(s) = seg else { return 0.0 };
        let t = t_us.clamp(s.t0_us, s.t1_us);
        let span = (s.t1_us - s.t0_us).max(1) as f64;
        s.x0 + (s.x1 - s.x0) * (t - s.t0_us) as f64 / span
    }

    /// The x where the run ends.
    pub fn end_x(&self) -> f64 {
        self.segments.last().map_or(1.0, |s| s.x1).max(1e-6)
    }

    pub fn breaks(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(|s| s.quiet)
    }

    /// Tick instants and their labels: round steps inside each uncompressed segment, at least
    /// `min_gap_px` apart at `px_per_x` pixels per unit of x.
    pub fn ticks(&self, px_per_x: f64, min_gap_px: f64) -> Vec<(u64, String)> {
        let kept_s: f64 = self.segments.iter().filter(|s| !s.quiet).map(|s| (s.t1_us - s.t0_us) as f64 / 1e6).sum();
        let step_s = nice_step(min_gap_px / px_per_x.max(1e-9)).max(kept_s / 400.0);
        let step_us = ((step_s * 1e6) as u64).max(1);
        let decimals = match step_s {
            s if s >= 1.0 => 0,
            s if s >= 0.1 => 1,
            s if s >= 0.01 => 2,
            _ => 3,
        };
        let mut out: Vec<(u64, String)> = Vec::new();
        let mut last_x = f64::NEG_INFINITY;
        for s in self.segments.iter().filter(|s| !s.quiet) {
            let mut t = s.t0_us.div_ceil(step_us) * step_us;
            while t <= s.t1_us {
                let x = self.x(t) * px_per_x;
                if x - last_x >= min_gap_px {
                    out.push((t, format!("{:.*}", decimals, t as f64 / 1e6)));
                    last_x = x;
                }
                t += step_us;
            }
        }
        out
    }
}

/// The smallest step of 1, 2 or 5 times a power of ten not below `at_least` (seconds).
fn nice_step(at_least: f64) -> f64 {
    let at_least = at_least.max(1e-6);
    let mut p = 10f64.powf(at_least.log10().floor());
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * p >= at_least {
                return m * p;
            }
        }
        p *= 10.0;
    }
}
