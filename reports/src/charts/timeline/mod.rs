//! `timeline.svg`: how one partition lived through a run, read from its history. One lane per
//! broker over simulated time shows the replica's log end offset (LEO) and high watermark (HW),
//! the periods it led with their leader epochs, and the faults that hit it (process crash, power
//! loss, pause, cut, wiped disk) as shaded or hatched bands. A panel on top shows the
//! controller's ISR size and its elections. Every message the checker found lost is marked
//! twice: where the producer was told it was written, and where a replica took it away
//! (truncation, or the page cache dropped by a power loss).
//!
//! Below the brokers, one lane per consumer: its position, processed progress and commits on
//! the partition, its crashes and cuts, the group's rebalances, and the records the checker
//! found skipped or processed twice. The whole run is on the axis, long quiet stretches
//! compressed to a marked break; one-way cuts are drawn as one-way; labels never collide.
//!
//! [`Timeline::of`] reads the history into plain data (unit-tested); [`render`] draws it. The
//! files, each importing only the ones listed before it: `axis` (time to x, quiet stretches
//! compressed), `parts` (fault bands, marks, step helpers: the data's pieces), `place` (label rows: no label drawn across another), `words` (every English
//! text the chart shows that is not a Kafka name, in one table), `consumer` (the consumer lanes
//! read from a history), `model` (the [`Timeline`] read from a history: lanes, fault bands,
//! leaderships, marks; no drawing), `palette` (the inks and fault patterns the panels and the
//! key share), `panel` (the controller panel and a broker's lane, and the helpers lanes share),
//! `consumer_lane` (a consumer's lane), `key` (the key at the bottom) and `page` (the whole SVG:
//! header, panels, key).

mod axis;
mod consumer;
mod consumer_lane;
mod key;
mod model;
mod page;
mod palette;
mod panel;
mod parts;
mod place;
#[cfg(test)]
mod tests;
mod words;

pub use axis::{Axis, Segment};
pub use consumer::{ConsumerLane, Consumers, Rebalance};
pub use model::{Band, Election, FaultKind, Lane, Leadership, Mark, MarkKind, OneWay, Timeline};
pub use page::{render, render_timeline};
