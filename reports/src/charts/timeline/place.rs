//! Label placement: labels that would overlap each other (or a tick line rising to another
//! label) move to the next free row, or to the other side of their tick, and those with no room
//! anywhere are dropped and counted, so a chart never prints one label across another. Pure
//! geometry in pixels, unit-tested.

/// Where a label would sit: its horizontal extent, and the x of the tick line that rises from
/// the bottom of the panel to it (`None` for a label without one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Label {
    pub x0: i32,
    pub x1: i32,
    pub tick: Option<i32>,
}

/// Each label's (row, candidate), `None` when dropped, and how many were dropped.
pub type Placement = (Vec<Option<(usize, usize)>>, usize);

/// The gap kept between two labels on one row, in pixels.
const GAP_PX: i32 = 6;
/// How close to a label's end a tick may pass without crossing it (its text starts inset).
const EDGE_PX: i32 = 2;

/// For each label, given as its candidate positions in order of preference (for a ticked label:
/// to the right of its tick, then to the left), the row (0 the top row, the one a tick line
/// reaches last; `rows` rows in all) and the candidate it takes, or `None` when it is dropped;
/// and how many were dropped. A label takes the first row, and on it the first candidate, where
/// it overlaps no placed label, its tick crosses no placed label on a lower row, and no placed
/// label's tick crosses it.
pub fn place(labels: &[Vec<Label>], rows: usize) -> Placement {
    let mut placed: Vec<(Label, usize)> = Vec::new();
    let mut out = Vec::with_capacity(labels.len());
    for candidates in labels {
        let fits = |l: &Label, row: usize| {
            placed.iter().all(|&(p, r)| {
                let overlap = l.x0 < p.x1 + GAP_PX && p.x0 < l.x1 + GAP_PX;
                // A tick along a label's own end (two at one instant) shares its line: no crossing.
                let crosses = |tick: Option<i32>, over: Label| {
                    tick.is_some_and(|t| over.x0 + EDGE_PX < t && t < over.x1 - EDGE_PX)
                };
                // A tick rises from the bottom to its own row: it crosses labels on lower rows.
                let same_row = r == row && overlap;
                let mine_crosses = r > row && crosses(l.tick, p);
                let theirs_cross = row > r && crosses(p.tick, *l);
                !(same_row || mine_crosses || theirs_cross)
            })
        };
        let found = (0..rows).find_map(|row| candidates.iter().position(|l| fits(l, row)).map(|c| (row, c)));
        if let Some((row, c)) = found {
            placed.push((candidates[c], row));
        }
        out.push(found);
    }
    let dropped = out.iter().filter(|r| r.is_none()).count();
    (out, dropped)
}

/// [`place`], tried in time order and in reverse, and with each label's candidates in the
/// given order and reversed: the arrangement that drops fewest labels (the first of equals).
/// Greedy placement cannot move a label once placed; near a panel's right edge, where labels
/// have to sit left of their ticks, only a later label on top of an earlier one fits both.
pub fn place_best(labels: &[Vec<Label>], rows: usize) -> Placement {
    let mut best: Option<Placement> = None;
    for backward in [false, true] {
        for flipped in [false, true] {
            let order: Vec<usize> =
                if backward { (0..labels.len()).rev().collect() } else { (0..labels.len()).collect() };
            let input: Vec<Vec<Label>> = order
                .iter()
                .map(|&i| {
                    let mut c = labels[i].clone();
                    if flipped {
                        c.reverse();
                    }
                    c
                })
                .collect();
            let (rows_of, dropped) = place(&input, rows);
            let mut out = vec![None; labels.len()];
            for (k, &i) in order.iter().enumerate() {
                let n = labels[i].len();
                out[i] = rows_of[k].map(|(row, c)| (row, if flipped { n - 1 - c } else { c }));
            }
            if best.as_ref().is_none_or(|b| dropped < b.1) {
                best = Some((out, dropped));
            }
        }
    }
    best.unwrap_or_default()
}
