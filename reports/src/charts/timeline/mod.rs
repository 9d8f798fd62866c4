//! `timeline.svg`: how one partition lived through a run, read from its history. One lane per
//! broker over simulated time shows the replica's log end offset (LEO) and high watermark (HW),
//! the periods it led with their leader epochs, and the faults that hit it (process crash, power
//! loss, pause, cut, wiped disk) as shaded or hatched bands. A panel on top shows the
//! controller's ISR size and its elections. Every message the checker found lost is marked
//! twice: where the producer was told it was written, and where a replica took it away
//! (truncation, or the page cache dropped by a power loss).
//!
//! [`Timeline::of`] reads the history into plain data (unit-tested); [`render`] draws it. The
//! files, each importing only the ones listed before it: `model` (the [`Timeline`] read from a
//! history: lanes, fault bands, leaderships, marks; no drawing), `palette` (the inks and fault
//! patterns the panels and the key share), `panel` (the controller panel and a broker's lane),
//! `key` (the key at the bottom) and `page` (the whole SVG: header, panels, key).

mod key;
mod model;
mod page;
mod palette;
mod panel;
#[cfg(test)]
mod tests;

pub use model::{Band, Election, FaultKind, Lane, Leadership, Mark, MarkKind, Timeline};
pub use page::{render, render_timeline};
