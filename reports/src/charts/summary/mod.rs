//! The charts over many configurations, for `losslab chart`: which settings lose acknowledged
//! messages (a heatmap over acks × min.insync.replicas, a panel per unclean-election and flush
//! setting), durability against p99 produce latency, the flush interval against messages lost
//! to power loss, and the consumer's commit strategy against skipped and duplicated records.
//!
//! Each chart aggregates the [`ConfigResult`](super::input::ConfigResult)s that share its
//! settings: runs add up, and a share is "runs that showed the class / runs". A setting a result
//! does not name is taken at Kafka's default (the scenario format's `{}`). Results whose
//! configuration is unknown are left out, and the subtitle says how many.
//!
//! A chart with fewer than two categories to compare is not drawn ([`Lineup::not_drawn`] says
//! why); every chart carries a one-sentence caption under its title ([`caption`]); the latency
//! chart compares only configurations under the same fault schedule.
//!
//! The files, each importing only the ones listed before it: `words` (the English titles,
//! captions and reasons, one table for a translation to replace), `extent` (text widths
//! estimated from the font size, wrapping, boxes), `tally` (the results with a known
//! configuration, runs and findings added up, and the order of setting values), `canvas` (the
//! page, the header with its caption, labels, the numeric-axis frame with labels fitted to
//! their slots, and the markers the charts share), `axis` (log ticks whose labels never
//! collide), one file per chart (`heatmap`, `latency`, `flush`, `commit`), and `lineup`
//! ([`render_all`]: every chart, in the order a reader should see them).

mod axis;
mod canvas;
mod commit;
mod extent;
mod flush;
mod heatmap;
mod latency;
mod lineup;
mod tally;
#[cfg(test)]
mod tests;
pub mod words;

pub use lineup::{caption, render_all, Lineup, NotDrawn};
