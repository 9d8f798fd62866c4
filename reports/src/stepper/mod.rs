//! The step-through view of `report.html` (issue 18): a run told as its key moments, with the
//! cluster drawn at each. `model` reads the moments and states from the history (pure,
//! unit-tested); `page` writes the section: a list that reads without JavaScript, the states as
//! JSON, and the script that draws and steps through them.

mod model;
mod page;
#[cfg(test)]
mod tests;

pub use model::{steps, Moment, MomentKind, ReplicaView, Segment, Snapshot, Steps, MOMENTS_MAX};
pub use page::section;
